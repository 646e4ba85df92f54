"""An energy voice-activity detector on 24 kHz PCM16, standing in for the server's VAD.

Both `server_vad` and `semantic_vad` sessions of the local server use it. It works on 10 ms
frames: a frame is "loud" when its RMS level is above the threshold in dBFS.

Threshold mapping (the API's 0..1 `threshold`, higher = needs louder speech):

    threshold_dbfs = -70 + 60 * threshold      0.0 -> -70 dBFS, 0.5 -> -40 dBFS, 1.0 -> -10 dBFS

Speech starts after `min_speech_ms` of consecutive loud frames; the reported start goes back
`prefix_padding_ms` before the first loud frame (as the real server's `audio_start_ms` does).
Speech stops once `silence_duration_ms` of consecutive quiet frames have passed; the reported
end is the end of that silence (the real server's `audio_end_ms` includes it too).
All times are milliseconds on the input timeline: the audio fed since the detector was made,
plus `start_ms`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tui.constants import WIRE_RATE_HZ

FRAME_MS = 10
SILENCE_DBFS = -120.0


def threshold_to_dbfs(threshold: float) -> float:
    """The API's 0..1 threshold as an RMS level in dBFS (see the module doc)."""
    return -70.0 + 60.0 * min(1.0, max(0.0, threshold))


def level_dbfs(pcm: bytes | np.ndarray) -> float:
    """RMS level of PCM16 samples in dBFS (full-scale sine = -3 dBFS); -120 for silence."""
    samples = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, bytes | bytearray) else pcm
    if samples.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(np.square(samples.astype(np.float64))))) / 32768.0
    return 20.0 * math.log10(rms) if rms > 1e-6 else SILENCE_DBFS


@dataclass(frozen=True, slots=True)
class VadEvent:
    """Speech `started` or `stopped` at `ms` on the input timeline."""

    kind: Literal["started", "stopped"]
    ms: int


class EnergyVad:
    """Feed PCM16 mono bytes in any chunk size; get back the speech start/stop events."""

    def __init__(
        self,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
        rate: int = WIRE_RATE_HZ,
        *,
        min_speech_ms: int = 40,
        start_ms: int = 0,
    ) -> None:
        self.threshold = threshold
        self.threshold_dbfs = threshold_to_dbfs(threshold)
        self.prefix_padding_ms = max(0, int(prefix_padding_ms))
        self.silence_duration_ms = max(FRAME_MS, int(silence_duration_ms))
        self.min_speech_ms = max(FRAME_MS, int(min_speech_ms))
        self.rate = rate
        self._frame_bytes = rate * FRAME_MS // 1000 * 2
        self._pending = b""
        self._frames_done = 0  # whole frames consumed since start_ms
        self._start_ms = start_ms
        self._floor_ms = start_ms  # a new turn never reaches back before the last one ended
        self.speaking = False
        self._loud_run = 0  # consecutive loud frames while not speaking
        self._quiet_run = 0  # consecutive quiet frames while speaking
        # the comparison is done on mean squares, so no log per frame
        self._threshold_ms = (10 ** (self.threshold_dbfs / 20.0) * 32768.0) ** 2

    @property
    def position_ms(self) -> int:
        """Input timeline position of the end of the last whole frame consumed."""
        return self._start_ms + self._frames_done * FRAME_MS

    def reset(self) -> None:
        """Forget any speech in progress (buffer cleared or committed); the clock keeps going."""
        self.speaking = False
        self._loud_run = 0
        self._quiet_run = 0
        self._floor_ms = self.position_ms

    def feed(self, pcm: bytes) -> list[VadEvent]:
        data = self._pending + pcm
        whole = len(data) // self._frame_bytes * self._frame_bytes
        self._pending = data[whole:]
        if whole == 0:
            return []
        frames = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32)
        frames = frames.reshape(-1, self._frame_bytes // 2)
        loud = np.mean(np.square(frames), axis=1) > self._threshold_ms
        events: list[VadEvent] = []
        min_loud = self.min_speech_ms // FRAME_MS
        min_quiet = math.ceil(self.silence_duration_ms / FRAME_MS)
        for is_loud in loud.tolist():
            self._frames_done += 1
            end_ms = self.position_ms
            if not self.speaking:
                self._loud_run = self._loud_run + 1 if is_loud else 0
                if self._loud_run >= min_loud:
                    first_loud_ms = end_ms - self._loud_run * FRAME_MS
                    start = max(self._floor_ms, first_loud_ms - self.prefix_padding_ms)
                    events.append(VadEvent("started", start))
                    self.speaking = True
                    self._loud_run = 0
                    self._quiet_run = 0
            else:
                self._quiet_run = 0 if is_loud else self._quiet_run + 1
                if self._quiet_run >= min_quiet:
                    events.append(VadEvent("stopped", end_ms))
                    self._floor_ms = end_ms
                    self.speaking = False
                    self._quiet_run = 0
        return events
