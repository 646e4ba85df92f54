"""The audio link without devices: one AudioMode through start, degrade, settings, restart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tui.audio.streams import AudioStatus
from tui.changes import AudioModeChanged, Notice
from tui.config import Settings, with_value
from tui.constants import AudioMode, EchoGuard
from tui.errors import AudioError
from tui.session.audio_link import AudioLink

LOOP: Any = object()  # the link only hands the loop to the engine


@dataclass
class FakeEngine:
    kwargs: dict[str, Any]
    status: AudioStatus = field(default_factory=lambda: AudioStatus(AudioMode.FULL))
    fail: str = ""
    muted: bool = False
    stopped: int = 0
    reopened: list[tuple[str, str]] = field(default_factory=list)
    echo_guard: str = ""

    def start(self) -> AudioStatus:
        if self.fail:
            raise AudioError(self.fail)
        return self.status

    def stop(self) -> None:
        self.stopped += 1

    def reopen(self, input_device: str, output_device: str) -> AudioStatus:
        self.reopened.append((input_device, output_device))
        return self.status


@dataclass
class Factory:
    engines: list[FakeEngine] = field(default_factory=list)
    status: AudioStatus = field(default_factory=lambda: AudioStatus(AudioMode.FULL))
    fail: str = ""

    def __call__(self, **kwargs: Any) -> FakeEngine:
        engine = FakeEngine(kwargs, self.status, self.fail)
        self.engines.append(engine)
        return engine


def settings(**audio: Any) -> Settings:
    result = with_value(Settings(), "audio.echo_guard", "half_duplex")
    for name, value in audio.items():
        result = with_value(result, f"audio.{name}", value)
    return result


def link_with(factory: Factory, *, enabled: bool = True) -> tuple[AudioLink, list[Any]]:
    statuses: list[Any] = []
    link = AudioLink(
        enabled=enabled, on_capture=lambda pcm: None, on_status=statuses.append, factory=factory
    )
    return link, statuses


def start(link: AudioLink, config: Settings | None = None, muted: bool = False) -> list[Any]:
    return link.start(config or settings(), loop=LOOP, history=None, muted=muted)


def test_audio_off_is_text_only_without_building_an_engine() -> None:
    factory = Factory()
    link, _ = link_with(factory, enabled=False)
    assert start(link) == [AudioModeChanged(AudioMode.OFF, "audio off: text only")]
    assert link.mode is AudioMode.OFF and link.engine is None and factory.engines == []
    assert (link.plays, link.audible, link.input_level(), link.output_level()) == (
        False,
        False,
        None,
        None,
    )


def test_a_started_engine_sets_the_mode_and_gets_the_mute_state() -> None:
    factory = Factory(status=AudioStatus(AudioMode.OUTPUT_ONLY, "Microphone unavailable"))
    link, _ = link_with(factory)
    changes = start(link, settings(input_device="rt_mic", block_ms=40), muted=True)
    assert changes == [AudioModeChanged(AudioMode.OUTPUT_ONLY, "Microphone unavailable")]
    [engine] = factory.engines
    assert engine.muted and link.plays
    assert engine.kwargs["input_device"] == "rt_mic" and engine.kwargs["block_ms"] == 40
    assert engine.kwargs["echo_guard"] == "half_duplex" and engine.kwargs["loop"] is LOOP


def test_an_engine_that_cannot_start_leaves_text_only_with_the_reason() -> None:
    link, _ = link_with(Factory(fail="no PortAudio here"))
    assert start(link) == [AudioModeChanged(AudioMode.TEXT_ONLY, "no PortAudio here")]
    assert link.engine is None and link.mode is AudioMode.TEXT_ONLY and not link.plays


def test_engine_status_changes_move_the_mode() -> None:
    link, _ = link_with(Factory())
    start(link)
    degraded = AudioStatus(AudioMode.INPUT_ONLY, "Speaker 'x' stopped working mid-stream.")
    assert link.status_changed(degraded) == [
        AudioModeChanged(AudioMode.INPUT_ONLY, degraded.message)
    ]
    assert link.mode is AudioMode.INPUT_ONLY and not link.plays
    assert link.status_changed(AudioStatus(AudioMode.INPUT_ONLY)) == [], "nothing new"
    note = AudioStatus(AudioMode.INPUT_ONLY, "still retrying")
    assert link.status_changed(note) == [AudioModeChanged(AudioMode.INPUT_ONLY, "still retrying")]
    assert link.status_changed(AudioStatus("full")) == [AudioModeChanged(AudioMode.FULL, "")]
    assert link.mode is AudioMode.FULL, "a plain string from an engine becomes the enum"


def test_devices_and_a_plain_echo_guard_change_in_place() -> None:
    factory = Factory()
    link, _ = link_with(factory)
    start(link)
    old = settings()
    new = settings(input_device="rt_mic", echo_guard="off")
    applied = link.apply(old.audio, new.audio)
    assert not applied.restart
    assert applied.notes == ["Audio devices reopened.", "Echo guard: off."]
    [engine] = factory.engines
    assert engine.reopened == [("rt_mic", "")] and engine.echo_guard == "off"
    assert link.apply(new.audio, new.audio).notes == [], "nothing changed"


@pytest.mark.parametrize(
    "change",
    [{"block_ms": 40}, {"enabled": False}, {"echo_guard": "aec"}],
    ids=["block", "enabled", "aec"],
)
def test_what_cannot_change_in_place_asks_for_a_restart(change: dict[str, Any]) -> None:
    link, _ = link_with(Factory())
    start(link)
    applied = link.apply(settings().audio, settings(**change).audio)
    assert (applied.restart, applied.notes, applied.changes) == (True, ["Audio restarted."], [])


def test_restart_stops_the_old_engine_and_follows_the_new_settings() -> None:
    factory = Factory()
    link, _ = link_with(factory)
    start(link)
    off = settings(enabled=False)
    assert link.restart(off, loop=LOOP, history=None, muted=False) == [
        AudioModeChanged(AudioMode.OFF, "audio off: text only")
    ]
    assert factory.engines[0].stopped == 1 and link.engine is None
    assert link.apply(off.audio, settings().audio).restart, "no engine: any change restarts"
    link.restart(settings(), loop=LOOP, history=None, muted=True)
    assert link.mode is AudioMode.FULL and factory.engines[1].muted


def test_aec_that_cannot_load_falls_back_to_half_duplex_with_a_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.audio import echo

    monkeypatch.setattr(echo, "create_echo_path", lambda mode: (None, "no AEC: half duplex"))
    factory = Factory()
    link, _ = link_with(factory)
    changes = start(link, settings(echo_guard="aec"))
    assert changes == [Notice("warning", "no AEC: half duplex"), AudioModeChanged(AudioMode.FULL)]
    assert factory.engines[0].kwargs["echo_guard"] == EchoGuard.HALF_DUPLEX
    assert link.echo_erle_db() is None


def test_levels_follow_what_the_mode_can_do() -> None:
    @dataclass
    class Level:
        rms_db: float
        peak_db: float

    factory = Factory(status=AudioStatus(AudioMode.OUTPUT_ONLY))
    link, _ = link_with(factory)
    start(link)
    engine = factory.engines[0]
    engine.input_level = Level(-20.0, -6.0)  # type: ignore[attr-defined]
    engine.output_level = Level(-30.0, -10.0)  # type: ignore[attr-defined]
    assert link.input_level() is None and link.output_level() == (-30.0, -10.0)
    link.status_changed(AudioStatus(AudioMode.INPUT_ONLY))
    assert link.input_level() == (-20.0, -6.0) and link.output_level() is None


def test_close_stops_the_engine_and_a_session_without_audio_is_fine() -> None:
    factory = Factory()
    link, _ = link_with(factory)
    link.close()  # never started
    start(link)
    link.close()
    assert factory.engines[0].stopped == 1
