"""The API key appears nowhere but the config file that holds it.

The whole app runs (RtApp under run_test, real Session, real HistoryWriter with WAV
recording) against the local server with a recognisable key; afterwards every file under
the test's XDG dirs and cwd, and the screen captures, are searched for it.
"""

from __future__ import annotations

import os
import stat
import traceback
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.session.helpers import ScriptedAudio
from tests.session.test_session import blocks, silence, speech
from tests.ui.conftest import wait_until
from tui import history
from tui.app import RtApp
from tui.changes import ConnectionState, Role, TurnStatus
from tui.cli import main
from tui.config import load_settings, resolve_api_key
from tui.errors import AuthError
from tui.localserver import LocalServer
from tui.localserver.faults import Faults
from tui.realtime.connection import RealtimeConnection
from tui.screens.settings import SettingsScreen
from tui.session import Session

KEY = "sk-test-SECRETSECRET-7f3a9c2e41b6d8a0"
SIZE = (110, 36)


class RecordingAudio(ScriptedAudio):
    """ScriptedAudio that also feeds the session's WAV recorder, as the real engine does."""

    def play(self, item_id: str, pcm: bytes) -> None:
        super().play(item_id, pcm)
        if self.kwargs.get("recorder") is not None:
            self.kwargs["recorder"].write_assistant(pcm)

    def capture(self, pcm: bytes) -> None:
        if self.kwargs.get("recorder") is not None:
            self.kwargs["recorder"].write_mic(pcm)
        super().capture(pcm)


def screen_text(app: RtApp) -> str:
    """What the terminal shows (plain text) and the SVG screenshot of the same screen."""
    strips = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
    return strips + "\n" + app.export_screenshot()


def files_holding(root: Path, secret: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
            found.append(path)
    return found


def _replied(session: Any, said: str) -> bool:
    return any(
        t.role is Role.ASSISTANT and t.status is TurnStatus.DONE and said in t.text
        for t in session.conversation.turns
    )


async def test_key_is_only_in_its_config_file(tmp_path: Path) -> None:
    audio: list[ScriptedAudio] = []
    captures: dict[str, str] = {}
    async with LocalServer(realtime_factor=40) as server:
        config_path = tmp_path / "config" / "rt-tui" / "config.toml"
        config_path.parent.mkdir(parents=True)
        config = {
            "connection": {"url": server.url, "api_key": KEY},
            "history": {"enabled": True, "record_audio": True},
            "ui": {"show_events": True},
        }
        config_path.write_text(tomli_w.dumps(config))
        config_path.chmod(0o600)
        settings = load_settings(config_path, env=os.environ)
        api_key = resolve_api_key(settings)
        assert api_key == KEY
        writer = history.HistoryWriter.for_settings(settings, secrets=[api_key])

        def session_factory(*args: Any, **kwargs: Any) -> Session:
            return Session(*args, audio_factory=RecordingAudio.factory(audio), **kwargs)

        app = RtApp(
            settings,
            config_path=config_path,
            api_key=api_key,
            audio_enabled=True,
            history=writer,
            session_factory=session_factory,
        )
        async with app.run_test(size=SIZE) as pilot:
            session = app.session
            assert session is not None
            await wait_until(lambda: session.state is ConnectionState.LIVE, pilot, what="live")
            # a typed turn
            await pilot.press("slash", *"tell me a secret", "enter", "escape")
            await wait_until(lambda: _replied(session, "tell me a secret"), pilot, what="reply")
            # a voice turn through the (scripted) microphone, the parrot answers
            for block in blocks(silence(200) + speech(800) + silence(900)):
                audio[0].capture(block)
            await wait_until(
                lambda: (
                    sum(t.role is Role.ASSISTANT and t.final for t in session.conversation.turns)
                    >= 2
                ),
                pilot,
                what="voice reply",
            )
            audio[0].advance(60_000)
            # an error: the next reply fails on the server, then a dropped connection
            server.faults.fail_after_deltas = 1
            await pilot.press("slash", *"this one fails", "enter", "escape")
            await wait_until(
                lambda: any(t.status is TurnStatus.FAILED for t in session.conversation.turns),
                pilot,
                what="failed reply",
            )
            server.faults.fail_after_deltas = None
            server.faults.drop_after_deltas = 1
            await pilot.press("slash", *"and this one is cut", "enter", "escape")
            await wait_until(lambda: len(server.sessions) >= 2, pilot, what="reconnect")
            server.faults.drop_after_deltas = None
            await wait_until(lambda: session.state is ConnectionState.LIVE, pilot, what="back")
            await pilot.press("slash", *"back again", "enter", "escape")
            await wait_until(lambda: _replied(session, "back again"), pilot, what="last reply")
            audio[0].advance(60_000)
            assert app._inspector.display, "the inspector is open"
            captures["main"] = screen_text(app)

            # the settings panel shows the stored key masked; saving keeps it in the file
            await pilot.press("s")
            await wait_until(lambda: isinstance(app.screen, SettingsScreen), pilot)
            await pilot.pause()
            captures["settings"] = screen_text(app)
            await pilot.press("ctrl+s")
            await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)
            captures["after_save"] = screen_text(app)
            await pilot.press("ctrl+q")
        assert writer.closed

    # the search must have something to search: a transcript, WAVs and the inspector's lines
    mic_wav, assistant_wav = history.wav_paths(writer)
    assert writer.path.exists() and mic_wav.stat().st_size > 44 and assistant_wav.exists()
    assert "response.done" in captures["main"], "the inspector shows the events"
    for name, text in captures.items():
        assert KEY not in text, f"the key is on the {name} screen"
        assert KEY[-12:] not in text, f"the end of the key is on the {name} screen"

    holders = files_holding(tmp_path, KEY.encode())
    assert holders == [config_path]
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert load_settings(config_path, env={}).connection.api_key == KEY, "kept by the save"


def test_help_output_has_no_key(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr()
    assert "rt-tui" in out.out
    assert KEY not in out.out + out.err


@pytest.mark.parametrize("status", [401, 403])
async def test_connection_errors_do_not_carry_the_key(status: int) -> None:
    async with LocalServer(faults=Faults(refuse_status=status)) as server:
        conn = RealtimeConnection(server.url, "gpt-realtime-2", KEY)
        with pytest.raises(AuthError) as error_info:
            await conn.connect()
    error = error_info.value
    told = str(error) + repr(error) + "".join(traceback.format_exception(error))
    assert "OPENAI_API_KEY" in str(error)
    assert KEY not in told and KEY[-12:] not in told
