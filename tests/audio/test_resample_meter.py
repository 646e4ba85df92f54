"""Resampler continuity and level meter values for known signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soxr

from tui.audio.meter import FLOOR_DB, SILENT, Level, LevelTap, measure
from tui.audio.resample import StreamResampler

from .speech import tone


@pytest.mark.parametrize(("in_rate", "out_rate"), [(48000, 24000), (24000, 44100), (44100, 24000)])
@pytest.mark.parametrize("block", [441, 960, 1000])
def test_block_by_block_equals_one_shot(in_rate: int, out_rate: int, block: int) -> None:
    signal = tone(997, 1.0, amplitude=0.6, rate=in_rate)
    resampler = StreamResampler(in_rate, out_rate)
    pieces = [resampler.process(signal[i : i + block]) for i in range(0, len(signal), block)]
    pieces.append(resampler.process(np.zeros(0, dtype=np.int16), last=True))
    streamed = np.concatenate(pieces)
    one_shot = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="LQ")
    reference = one_shot.resample_chunk(signal.astype(np.float32) / 32768, True) * 32768
    assert len(streamed) == len(reference)
    assert np.max(np.abs(streamed - reference)) <= 1.0
    # No seam: away from the edges the sample-to-sample step never exceeds a sine's slope.
    body = streamed[200:-200].astype(np.float64)
    max_step = 0.6 * 32767 * 2 * math.pi * 997 / out_rate
    assert np.max(np.abs(np.diff(body))) <= max_step * 1.05


def test_identity_and_reset() -> None:
    same = StreamResampler(24000, 24000)
    block = tone(440, 0.02)
    assert same.identity and same.process(block) is block and same.delay_s == 0.0
    resampler = StreamResampler(24000, 48000)
    for _ in range(5):
        resampler.process(tone(440, 0.02))
    resampler.reset()
    out = [resampler.process(np.zeros(480, dtype=np.int16)) for _ in range(5)]
    assert not np.concatenate(out).any()  # nothing of the old tone comes out after reset


def test_float32_supported_other_dtypes_refused() -> None:
    resampler = StreamResampler(48000, 24000, dtype=np.float32)
    out = [resampler.process(np.ones(960, dtype=np.float32) * 0.5) for _ in range(4)]
    assert np.concatenate(out).dtype == np.float32
    with pytest.raises(ValueError):
        StreamResampler(48000, 24000, dtype=np.int32)


def test_full_scale_sine_reads_minus_3_dbfs() -> None:
    level = measure(tone(1000, 0.1, amplitude=1.0))
    assert level.rms_db == pytest.approx(-3.01, abs=0.01)
    assert level.peak_db == pytest.approx(0.0, abs=0.01)
    assert measure(np.float32(0.5) * np.ones(480, dtype=np.float32)).rms_db == pytest.approx(
        -6.02, abs=0.01
    )


def test_silence_and_empty_read_the_floor() -> None:
    assert measure(np.zeros(480, dtype=np.int16)) == Level(FLOOR_DB, FLOOR_DB)
    assert measure(np.zeros(0, dtype=np.int16)) == Level(FLOOR_DB, FLOOR_DB)
    quiet = measure(np.ones(480, dtype=np.int16))  # one LSB: -90.3 dBFS, clamped
    assert quiet.rms_db == FLOOR_DB


def test_half_scale_tone_and_most_negative_sample() -> None:
    level = measure(tone(440, 0.1, amplitude=0.5))
    assert level.rms_db == pytest.approx(-9.03, abs=0.02)
    assert measure(np.array([-32768, 0], dtype=np.int16)).peak_db == pytest.approx(0.0)


def test_level_tap_measures_the_latest_block_when_read() -> None:
    tap = LevelTap(capacity=8)
    assert tap.level == SILENT
    loud, quiet = tone(440, 0.02, amplitude=0.5), tone(440, 0.02, amplitude=0.05)
    tap.hold(loud)  # longer than the capacity: the tap grows rather than cut the block
    tap.hold(quiet)
    assert tap.level == measure(quiet)
    loud[:] = 0  # the caller's buffer is reused by PortAudio: the tap kept its own copy
    tap.hold(tone(440, 0.02, amplitude=0.5))
    assert tap.level.rms_db == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.1)
    owned = tone(440, 0.02, amplitude=0.05)
    tap.keep(owned)  # a block its owner no longer writes to: kept without a copy
    assert tap.level == measure(quiet)
    tap.hold_silence()
    assert tap.level == SILENT


@pytest.mark.parametrize("amplitude", [1.0, 0.5, 0.01, 0.001])
def test_the_fast_level_agrees_with_numpy(amplitude: float) -> None:
    """measure() takes audioop's C functions for int16 where Python has them: the same
    figures as the numpy way, within what an integer RMS rounds away."""
    from tui.audio import meter

    rng = np.random.default_rng(7)
    block = np.clip(rng.standard_normal(480) * amplitude * 12000, -32768, 32767).astype(np.int16)
    fast = meter.measure(block)
    as_float = block.astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(as_float**2)))
    peak = float(np.max(np.abs(as_float)))
    # audioop's RMS is an integer of LSBs: it can fall short by up to one LSB
    rms_lsb = rms * 32768
    one_lsb_db = 20 * np.log10(rms_lsb / (rms_lsb - 1))
    assert fast.rms_db == pytest.approx(20 * np.log10(rms), abs=one_lsb_db)
    assert fast.peak_db == pytest.approx(20 * np.log10(peak), abs=0.01)
    assert meter.measure(np.full(480, -32768, dtype=np.int16)).peak_db == pytest.approx(0.0)
    assert meter.measure(np.zeros(480, dtype=np.int16)) == meter.SILENT
