"""Level metering: RMS and peak of a block in dBFS, floored at -90 dBFS.

Full scale is 32768 for int16 and 1.0 for float, so a full-scale sine reads -3.01 dBFS RMS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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


def measure(block: np.ndarray) -> Level:
    """RMS and peak of `block` (int16 or float) in dBFS."""
    if block.size == 0:
        return SILENT
    scale = 32768.0 if block.dtype == np.int16 else 1.0
    as_float = block.astype(np.float32)
    rms = math.sqrt(float(np.dot(as_float, as_float)) / block.size) / scale
    peak = float(np.max(np.abs(as_float))) / scale
    return Level(_to_db(rms), _to_db(peak))
