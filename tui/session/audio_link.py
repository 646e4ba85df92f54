"""The audio link: the session's one door to the sound devices.

It builds the engine (with the echo canceller and the WAV recorder the settings ask for),
restarts it, applies edited audio settings in place where it can, and keeps the one
`AudioMode` the rest of the session reads. Everything it has to say comes back as changes
for the controller to emit. The engine is imported only when audio starts: the session
must load without PortAudio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.changes import AudioModeChanged, Change, LevelSampled, Notice
from tui.config import AudioSettings, Settings
from tui.constants import AudioMode, EchoGuard
from tui.errors import RtTuiError

# The meter's rate: the level is sampled on the capture path (which wakes the loop anyway),
# at the first block due on a 20 Hz grid: with 20 ms blocks, every second or third block,
# 20 a second on average (each reading can cost a screen update: not one more than that).
METER_HZ = 20
LEVEL_EVERY_S = 1 / METER_HZ


@dataclass
class AudioApplied:
    """What applying edited audio settings did, or that the engine must be rebuilt."""

    restart: bool = False
    notes: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


class AudioLink:
    def __init__(
        self,
        *,
        enabled: bool,
        on_capture: Callable[[bytes | None], None],
        on_status: Callable[[Any], None],
        factory: Callable[..., Any] | None = None,
    ) -> None:
        self.enabled = enabled
        self.mode = AudioMode.OFF
        self.engine: Any = None  # an AudioEngine (or a test's stand-in) while audio runs
        self._on_capture = on_capture
        self._on_status = on_status
        self._factory = factory
        self._echo_path: Any = None
        self._recorder: Any = None  # the engine writes to it; the link owns and closes it
        self._level_due = float("-inf")  # when the meter's next reading is due

    # ---- what the session reads ----------------------------------------------------

    @property
    def plays(self) -> bool:
        """Assistant audio goes to a speaker (else replies are only read)."""
        return self.engine is not None and self.mode.plays

    @property
    def audible(self) -> bool:
        return bool(self.engine is not None and self.engine.audible)

    def input_level(self) -> tuple[float, float] | None:
        if self.engine is None or not self.mode.captures:
            return None
        level = self.engine.input_level
        return (level.rms_db, level.peak_db)

    def level_sample(self, now: float) -> LevelSampled | None:
        """The meter's reading, if one is due: called for every microphone block, so the
        meter moves exactly while the mic streams and costs no timer of its own."""
        if now < self._level_due:
            return None
        # on the grid (not "now + step", which with 20 ms blocks would be 16.7 Hz), but
        # after a pause (no blocks: muted, no input) the grid starts again from now
        self._level_due += LEVEL_EVERY_S
        if self._level_due <= now:
            self._level_due = now + LEVEL_EVERY_S
        return LevelSampled(self.input_level())

    def output_level(self) -> tuple[float, float] | None:
        if self.engine is None or not self.mode.plays:
            return None
        level = self.engine.output_level
        return (level.rms_db, level.peak_db)

    def echo_erle_db(self) -> float | None:
        if self._echo_path is None or self.engine is None or self.mode is not AudioMode.FULL:
            return None
        erle: float | None = self._echo_path.erle_db
        return erle

    # ---- lifecycle -----------------------------------------------------------------

    def start(
        self,
        settings: Settings,
        *,
        loop: asyncio.AbstractEventLoop,
        history: Any,
        muted: bool,
    ) -> list[Change]:
        if not self.enabled:
            self.mode = AudioMode.OFF
            return [AudioModeChanged(AudioMode.OFF, "audio off: text only")]
        changes: list[Change] = []
        try:
            self.engine = self._build(settings, loop, history, changes)
            status = self.engine.start()
        except RtTuiError as error:
            self.engine = None
            self.mode = AudioMode.TEXT_ONLY
            return [*changes, AudioModeChanged(AudioMode.TEXT_ONLY, str(error))]
        self.mode = AudioMode(status.mode)
        self.engine.muted = muted
        return [
            *changes,
            AudioModeChanged(self.mode, status.message, tuple(getattr(status, "details", ()))),
        ]

    def restart(
        self,
        settings: Settings,
        *,
        loop: asyncio.AbstractEventLoop,
        history: Any,
        muted: bool,
    ) -> list[Change]:
        """A new engine for the new settings (audio on or off as they now say)."""
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        self.enabled = settings.audio.enabled
        return self.start(settings, loop=loop, history=history, muted=muted)

    def close(self) -> None:
        """The session ends: the devices and the recording are closed."""
        if self.engine is not None:
            self.engine.stop()
        if self._recorder is not None:
            self._recorder.close()

    def apply(self, old: AudioSettings, new: AudioSettings) -> AudioApplied:
        """Reopen only what changed: devices in place, a new engine for the rest."""
        if old == new:
            return AudioApplied()
        aec = EchoGuard.AEC
        needs_restart = (
            old.enabled != new.enabled
            or old.block_ms != new.block_ms
            or (aec in (old.echo_guard, new.echo_guard) and old.echo_guard != new.echo_guard)
        )
        if needs_restart or self.engine is None:
            return AudioApplied(restart=True, notes=["Audio restarted."])
        applied = AudioApplied()
        if (old.input_device, old.output_device) != (new.input_device, new.output_device):
            status = self.engine.reopen(new.input_device, new.output_device)
            applied.changes += self.status_changed(status)
            applied.notes.append("Audio devices reopened.")
        if old.echo_guard != new.echo_guard:
            self.engine.echo_guard = new.echo_guard
            applied.notes.append(f"Echo guard: {new.echo_guard}.")
        return applied

    def status_changed(self, status: Any) -> list[Change]:
        """The engine degraded, recovered or switched device."""
        if status.mode != self.mode or status.message:
            self.mode = AudioMode(status.mode)
            return [
                AudioModeChanged(self.mode, status.message, tuple(getattr(status, "details", ())))
            ]
        return []

    # ---- the engine's verbs --------------------------------------------------------

    def set_muted(self, muted: bool) -> None:
        if self.engine is not None:
            self.engine.muted = muted

    def set_pair_quiet(self, on: bool) -> None:
        """Quiet microphone blocks two at a time (tui.audio.capture). Set on every block, so
        a capture processor rebuilt for another device takes it from its first block."""
        capture = getattr(self.engine, "capture_processor", None)
        if capture is not None:
            capture.pair_quiet = on

    def set_tick(self, on: bool) -> None:
        """The tool tick (tui.audio.cue) on or off; an engine without one plays none."""
        if self.engine is not None and hasattr(self.engine, "set_tick"):
            self.engine.set_tick(on)

    def play(self, item_id: str, pcm: bytes) -> None:
        """To the speaker; raises ValueError or RtTuiError for audio it cannot play."""
        self.engine.play(item_id, pcm)

    def interrupt(self) -> Any:
        """Silence the speaker now: the PlayedItem that was playing, or None."""
        return self.engine.interrupt() if self.engine is not None else None

    def first_audible_at(self, item_id: str) -> float | None:
        audible_at: float | None = self.engine.first_audible_at(item_id)
        return audible_at

    # ---- building ------------------------------------------------------------------

    def _build(
        self,
        settings: Settings,
        loop: asyncio.AbstractEventLoop,
        history: Any,
        changes: list[Change],
    ) -> Any:
        audio = settings.audio
        echo_path = None
        echo_guard = audio.echo_guard
        if echo_guard == EchoGuard.AEC:
            from tui.audio.echo import create_echo_path

            echo_path, message = create_echo_path(EchoGuard.AEC)
            self._echo_path = echo_path
            if echo_path is None:
                echo_guard = EchoGuard.HALF_DUPLEX
                changes.append(Notice("warning", message))
        if self._factory is None:
            from tui.audio.engine import AudioEngine

            factory: Callable[..., Any] = AudioEngine
        else:
            factory = self._factory
        return factory(
            input_device=audio.input_device,
            output_device=audio.output_device,
            block_ms=audio.block_ms,
            echo_guard=echo_guard,
            on_capture=self._on_capture,
            loop=loop,
            echo_canceller=echo_path,
            recorder=self._make_recorder(settings, history),
            on_status=self._on_status,
        )

    def _make_recorder(self, settings: Settings, history: Any) -> Any:
        """One pair of WAV files per session, kept across audio restarts."""
        if not (settings.history.record_audio and history is not None):
            return None
        if self._recorder is None:
            from tui.audio.recorder import WavRecorder
            from tui.history import wav_paths

            mic_path, assistant_path = wav_paths(history)
            self._recorder = WavRecorder(mic_path, assistant_path)
        return self._recorder
