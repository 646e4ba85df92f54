"""Resting the echo canceller while nothing plays: it costs as much as the rest of the audio
path together, and with a silent far end it has nothing to cancel.

`EchoPath` asks `phase(far_silent)` for every 10 ms mic frame: after `REST_AFTER_FRAMES` of
silent far end (the room's echo has died away) the canceller rests, and the mic frame goes
out delayed by exactly the canceller's own latency (`AEC_DELAY_SAMPLES`), so the stream
keeps its timing. The frame where it starts resting, and the first one where the far end
plays again, are cross-faded between the two, so neither change is a click; before that
first one the canceller is primed with the previous mic frame, so what it holds inside is
recent audio, not what it held when it began resting. Its learned echo path is kept: the
first words of the next reply are cancelled as well as the last ones of this one were.
Runs on the capture thread only, like the rest of `EchoPath.on_input`.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

FRAME_SAMPLES = 240  # 10 ms at 24 kHz (tui.audio.echo)
# WebRTC's APM at 24 kHz delays the mic by this many samples (measured; a test holds it).
AEC_DELAY_SAMPLES = 223
REST_AFTER_FRAMES = 50  # 0.5 s of silent far end: longer than a room's echo and the device
_FADE_IN = np.linspace(0.0, 1.0, FRAME_SAMPLES, dtype=np.float32)
_FADE_OUT = _FADE_IN[::-1].copy()


class Phase(Enum):
    PROCESS = "process"  # the far end plays (or just did): cancel
    START_RESTING = "start_resting"  # this frame is cancelled, faded into the plain one
    REST = "rest"  # plain mic, delayed like the canceller would
    WAKE = "wake"  # prime, cancel, and fade from plain into cancelled


class CancellerRest:
    def __init__(self) -> None:
        self.rested_frames = 0  # mic frames out plain / through the canceller (diagnostics)
        self.processed_frames = 0
        self.reset()

    def reset(self) -> None:
        """Start over awake (a device change, a restart, unmute), counting quiet anew."""
        self.quiet_frames = 0
        self.resting = False
        self._previous = np.zeros(FRAME_SAMPLES, dtype=np.int16)  # the last mic frame seen

    def phase(self, far_silent: bool) -> Phase:
        if not far_silent:
            self.quiet_frames = 0
            if self.resting:
                self.resting = False
                return Phase.WAKE
            return Phase.PROCESS
        self.quiet_frames += 1
        if self.resting:
            return Phase.REST
        if self.quiet_frames > REST_AFTER_FRAMES:
            self.resting = True
            return Phase.START_RESTING
        return Phase.PROCESS

    @property
    def previous(self) -> np.ndarray:
        return self._previous

    def plain(self, out: np.ndarray, near: np.ndarray) -> None:
        """`out` gets the mic as the canceller would have delayed it; `near` is remembered."""
        out[:AEC_DELAY_SAMPLES] = self._previous[FRAME_SAMPLES - AEC_DELAY_SAMPLES :]
        out[AEC_DELAY_SAMPLES:] = near[: FRAME_SAMPLES - AEC_DELAY_SAMPLES]
        self._previous = near
        self.rested_frames += 1

    def plain_block(self, samples: np.ndarray) -> np.ndarray:
        """Whole frames at once, as `plain` gives them one by one (still resting)."""
        frames = samples.size // FRAME_SAMPLES
        out = np.concatenate(
            (self._previous[FRAME_SAMPLES - AEC_DELAY_SAMPLES :], samples[:-AEC_DELAY_SAMPLES])
        )
        self._previous = samples[-FRAME_SAMPLES:]
        self.quiet_frames += frames
        self.rested_frames += frames
        return out

    def cancelled(self, out: np.ndarray, processed: np.ndarray, near: np.ndarray) -> None:
        out[:] = processed
        self._previous = near
        self.processed_frames += 1

    def crossfade(
        self, out: np.ndarray, processed: np.ndarray, near: np.ndarray, *, to_plain: bool
    ) -> None:
        """One frame that is both: the canceller's output faded into the plain mic (it
        starts resting), or the other way round (it wakes)."""
        plain = np.empty(FRAME_SAMPLES, dtype=np.int16)
        self.plain(plain, near)
        self.rested_frames -= 1
        self.processed_frames += 1
        fade_plain = _FADE_IN if to_plain else _FADE_OUT
        mixed = processed * (1.0 - fade_plain) + plain * fade_plain
        out[:] = np.clip(np.rint(mixed), -32768, 32767)
