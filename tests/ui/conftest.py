"""UI test helpers: a bounded wait, the real session against the local server, a scripted fake.

Pilot tests use the real `tui.session.Session` against `tui.localserver.LocalServer` over
loopback (no sound devices). Snapshot apps use `ScriptedSession`, which replays a fixed list
of changes so the screen is the same on every run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tui.changes import Change, ConnectionState, LevelSampled, MuteChanged, Stats
from tui.config import Settings, with_value
from tui.localserver import LocalServer
from tui.session.audio_link import METER_HZ

WAIT_S = 10.0


async def wait_until(
    condition: Callable[[], bool], pilot: Any, *, timeout: float = WAIT_S, what: str = ""
) -> None:
    """Poll `condition` between Textual idle points; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await pilot.pause(0.02)


class ScriptedSession:
    """A stand-in for tui.session.Session that replays `script` and records intents."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_key: str | None,
        listener: Callable[[Change], None],
        audio_enabled: bool = True,
        history: Any = None,
        script: Iterable[Change] = (),
        level: tuple[float, float] | None = None,
        **_: Any,
    ) -> None:
        self.settings = settings
        self.listener = listener
        self.script = list(script)
        self.level = level
        self.muted = False
        self.inspect = False
        self.state = ConnectionState.CONNECTING
        self.stats = Stats()
        self.audio_mode = "off"
        self.calls: list[tuple[str, Any]] = []
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        for change in self.script:
            if isinstance(change, MuteChanged):
                self.muted = change.muted
            self.listener(change)
        mic = asyncio.create_task(self._stream_levels()) if self.level is not None else None
        await self._stopped.wait()
        if mic is not None:
            mic.cancel()

    async def _stream_levels(self) -> None:
        """What the real session does while the microphone streams: hand on its level
        about 20 times a second (tui.session.audio_link.METER_HZ)."""
        while True:
            self.listener(LevelSampled(self.level))
            await asyncio.sleep(1 / METER_HZ)

    async def stop(self) -> None:
        self.calls.append(("stop", None))
        self._stopped.set()

    def send_text(self, text: str) -> None:
        self.calls.append(("send_text", text))

    def interrupt(self) -> None:
        self.calls.append(("interrupt", None))

    def toggle_mute(self) -> None:
        self.muted = not self.muted
        self.calls.append(("toggle_mute", self.muted))
        self.listener(MuteChanged(self.muted))

    def talk(self) -> None:
        self.calls.append(("talk", None))

    def apply_settings(self, new: Settings) -> list[str]:
        self.calls.append(("apply_settings", new))
        self.settings = new
        return []

    def cancel_reconnect(self) -> None:
        self.calls.append(("cancel_reconnect", None))

    def reconnect(self) -> None:
        self.calls.append(("reconnect", None))

    def input_level(self) -> tuple[float, float] | None:
        return self.level


def scripted(script: Iterable[Change] = (), **extra: Any) -> Callable[..., ScriptedSession]:
    """A session_factory that builds a ScriptedSession replaying `script`."""
    items = list(script)

    def factory(*args: Any, **kwargs: Any) -> ScriptedSession:
        return ScriptedSession(*args, script=items, **extra, **kwargs)

    return factory


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as running:
        yield running


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "rt-tui" / "config.toml"


def live_settings(url: str) -> Settings:
    """Defaults pointed at the local server, without sound or history files."""
    settings = with_value(Settings(), "connection.url", url)
    settings = with_value(settings, "audio.enabled", False)
    return with_value(settings, "history.enabled", False)
