"""Level metering: RMS and peak of a block in dBFS, floored at -90 dBFS.

Full scale is 32768 for int16 and 1.0 for float, so a full-scale sine reads -3.01 dBFS RMS.

`LevelTap` keeps the measuring out of the audio callbacks: the callback copies its block
(one numpy call) and the UI, which reads the level 20 times a second rather than 50 or 100,
measures it when it asks.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from types import ModuleType

import numpy as np

# audioop is in the standard library up to Python 3.12 (deprecated, so its import warns) and
# in the audioop-lts package from 3.13; without it the meter measures with numpy.
_audioop: ModuleType | None
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop as _audioop
except ImportError:  # Python 3.13+ without audioop-lts
    _audioop = None

FLOOR_DB = -90.0


@dataclass(frozen=True)
class Level:
    rms_db: float = FLOOR_DB
    peak_db: float = FLOOR_DB


SILENT = Level()


def _to_db(ratio: float) -> float:
    if ratio <= 0.0:
        return FLOOR_DB
    return max(FLOOR_DB, 20.0 * math.log10(ratio))


def peak_of(pcm: bytes) -> int:
    """The largest absolute sample of PCM16 bytes (audioop's one C call where it exists)."""
    if _audioop is not None:
        return int(_audioop.max(pcm, 2))
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    return int(np.max(np.abs(samples))) if samples.size else 0


def measure(block: np.ndarray) -> Level:
    """RMS and peak of `block` (int16 or float) in dBFS."""
    if block.size == 0:
        return SILENT
    if _audioop is not None and block.dtype == np.int16 and block.flags.c_contiguous:
        # The meter reads a level about 20 times a second, each time on a thread just
        # woken from sleep, where numpy's dispatch is cold: four numpy calls cost ~150-220
        # us there on the project machine, audioop's two C calls ~23 us.
        pcm = block.data
        return Level(_to_db(_audioop.rms(pcm, 2) / 32768.0), _to_db(_audioop.max(pcm, 2) / 32768.0))
    scale = 32768.0 if block.dtype == np.int16 else 1.0
    as_float = block.astype(np.float32)
    rms = math.sqrt(float(np.dot(as_float, as_float)) / block.size) / scale
    peak = float(np.max(np.abs(as_float))) / scale
    return Level(_to_db(rms), _to_db(peak))


class LevelTap:
    """The level of the latest int16 block, measured on demand.

    The audio thread calls `hold(block)` (a copy into the spare of two buffers, then one
    reference swap) or `hold_silence()`; any thread reads `level`. A reader never sees a
    buffer being written unless it is slower than two whole audio blocks, which for a meter
    costs at most one slightly wrong reading.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._buffers = [np.zeros(capacity, dtype=np.int16), np.zeros(capacity, dtype=np.int16)]
        self._latest: np.ndarray | None = None  # a view of the last filled buffer
        self._spare = 0
        self._sequence = 0
        self._measured_sequence = -1
        self._measured = SILENT

    def hold(self, block: np.ndarray) -> None:
        """Audio thread: keep a copy of `block` (1-D int16) as the latest."""
        index = self._spare
        buffer = self._buffers[index]
        count = len(block)
        if count > len(buffer):  # a bigger device block than planned: grow once
            buffer = self._buffers[index] = np.zeros(count * 2, dtype=np.int16)
        buffer[:count] = block
        self._latest = buffer[:count]
        self._spare = 1 - index
        self._sequence += 1

    def keep(self, block: np.ndarray) -> None:
        """Audio thread: `block` is the latest, and its owner never writes to it again (a copy
        the caller made anyway), so it is kept as it is rather than copied once more."""
        self._latest = block
        self._sequence += 1

    def hold_silence(self) -> None:
        """Audio thread: the latest block was all zeros (no copy needed)."""
        if self._latest is not None:
            self._latest = None
            self._sequence += 1

    @property
    def level(self) -> Level:
        sequence = self._sequence
        if sequence != self._measured_sequence:
            latest = self._latest
            self._measured = SILENT if latest is None else measure(latest)
            self._measured_sequence = sequence
        return self._measured
