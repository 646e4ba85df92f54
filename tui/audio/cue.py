"""The tool tick: a soft click once a second while a local tool works and nothing else plays.

The optional audible side of the status line's "working: <tool> N s" (`[tools] tick`). The
click is generated here (a 12 ms 2 kHz blip, decaying, its onset faded in so it never pops),
not read from a file. The session arms it (`arm(True)`) while a local call runs, nothing is
audible and the user is not speaking, and disarms it the moment any of that changes.

Where it plays, and why there: the output callback mixes it into blocks that are silence
(nothing of the assistant's was handed out), never into the playback buffer. So it is not
assistant audio to anyone: not counted as played (a truncate's `audio_end_ms`), not "the
assistant is audible" to the session, not written to the recording. It is what the speaker
plays, though, so it reaches the echo guard like the assistant's voice: the canceller gets it
as its far-end reference (and removes it from the mic), and half duplex drops the mic while
it sounds (`sounding`). With the guard off the user has said no speaker reaches the mic
(headphones), as for the assistant's own voice.

Threads: `arm` runs on the loop and writes one bool; `mix`, `silence_for_sound` and the
position run on the audio thread only; `sounding` reads one float from the capture thread.
"""

from __future__ import annotations

import numpy as np

from tui.constants import WIRE_RATE_HZ

CLICK_MS = 12
CLICK_HZ = 2000.0
CLICK_PEAK_DBFS = -26.0  # soft: well under speech (about -20 dBFS RMS, peaks near -6)
ATTACK_MS = 0.5  # faded in, so the click starts without a step
INTERVAL_S = 1.0
# after the click has played out, the room's tail of so short and quiet a sound is gone in
# well under the assistant's HALF_DUPLEX_HANG_S
TAIL_S = 0.05


def click_samples(rate: int = WIRE_RATE_HZ) -> np.ndarray:
    """The click as int16 samples at `rate`: a decaying sine burst, faded in."""
    count = rate * CLICK_MS // 1000
    t = np.arange(count) / rate
    decay = np.exp(-t / (CLICK_MS / 1000 / 5))  # down about 43 dB by its end
    attack = np.minimum(1.0, t / (ATTACK_MS / 1000))
    fade_in = 0.5 - 0.5 * np.cos(np.pi * attack)
    peak = 10 ** (CLICK_PEAK_DBFS / 20) * 32767
    wave = np.sin(2 * np.pi * CLICK_HZ * t) * decay * fade_in
    return np.round(wave * peak).astype(np.int16)


class ToolTick:
    def __init__(self, *, interval_s: float = INTERVAL_S, click: np.ndarray | None = None) -> None:
        self.click = click_samples() if click is None else click
        self.interval_s = interval_s
        self.armed = False  # set on the loop, read by the audio thread
        self.clicks = 0  # clicks started (for tests and benchmarks)
        self.last_sound_at = 0.0  # monotonic: when click samples were last handed out
        self._pos = -1  # where in the click the speaker is; -1: between clicks
        self._next_at: float | None = None  # when the next click is due (None: not timed)

    def arm(self, on: bool) -> None:
        """Loop side: tick from now on (the first click a second from now), or stop now."""
        self.armed = on

    def mix(self, block: np.ndarray, now: float) -> bool:
        """Audio thread: `block` is silence (nothing else plays); put the click in if it is
        due, or the rest of one under way. True if any of it went in."""
        if not self.armed:
            self._pos, self._next_at = -1, None  # disarmed: silent from this block on
            return False
        if self._pos < 0:
            if self._next_at is None:
                self._next_at = now + self.interval_s  # a quick call never clicks
                return False
            if now < self._next_at:
                return False
            self._pos = 0
            self._next_at = max(now, self._next_at + self.interval_s)
            self.clicks += 1
        take = min(len(block), len(self.click) - self._pos)
        block[:take] = self.click[self._pos : self._pos + take]
        self._pos += take
        if self._pos >= len(self.click):
            self._pos = -1
        self.last_sound_at = now
        return True

    def silence_for_sound(self, now: float) -> None:
        """Audio thread: something else plays in this block: no click in it (one under way
        is cut), and none until a whole interval after."""
        self._pos = -1
        if self._next_at is not None:
            self._next_at = now + self.interval_s

    def sounding(self, now: float, window_s: float) -> bool:
        """A click went to the device within `window_s` (the output latency and its tail)."""
        return self.last_sound_at > 0.0 and now - self.last_sound_at <= window_s + TAIL_S
