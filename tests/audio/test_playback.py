"""Playback buffer accounting and the output renderer, without a device."""

from __future__ import annotations

import numpy as np
import pytest

from tui.audio.playback import (
    MalformedAudioError,
    PlaybackBuffer,
    PlaybackRenderer,
    PlayedItem,
    decode_pcm16,
)
from tui.errors import AudioError

from .speech import peak_hz, tone


def pull(buffer: PlaybackBuffer, frames: int, now: float = 1.0) -> tuple[np.ndarray, int]:
    out = np.full(frames, 7, dtype=np.int16)  # garbage, must be overwritten
    real = buffer.read_into(out, now)
    return out, real


def test_pulls_exact_frames_zero_filled_and_in_order() -> None:
    buffer = PlaybackBuffer()
    buffer.push("a", np.arange(1, 301, dtype=np.int16))
    buffer.push("b", np.arange(301, 401, dtype=np.int16))
    first, real1 = pull(buffer, 240)
    second, real2 = pull(buffer, 240)
    assert real1 == 240 and real2 == 160
    assert np.array_equal(first, np.arange(1, 241))
    assert np.array_equal(second[:160], np.arange(241, 401))
    assert not second[160:].any()
    silence, real3 = pull(buffer, 240)
    assert real3 == 0 and not silence.any()


def test_played_ms_per_item_across_clears() -> None:
    buffer = PlaybackBuffer()
    buffer.push("a", np.ones(24000, dtype=np.int16))  # 1000 ms
    pull(buffer, 4800)  # 200 ms handed out
    assert buffer.played_ms("a") == 200
    assert buffer.received_ms("a") == 1000
    played = buffer.clear(now=1.0)
    assert played == PlayedItem("a", 200, 1000)
    out, real = pull(buffer, 480)
    assert real == 0 and not out.any()  # silence at once
    # Late deltas of the interrupted item are dropped, never played.
    assert buffer.push("a", np.ones(2400, dtype=np.int16)) is False
    assert buffer.played_ms("a") == 200
    # The next item counts from zero and is unaffected by the earlier clear.
    buffer.push("b", np.ones(12000, dtype=np.int16))
    pull(buffer, 2400)
    pull(buffer, 2400)
    assert buffer.clear(now=2.0) == PlayedItem("b", 200, 500)
    assert buffer.played_ms("a") == 200


def test_clear_names_the_playing_item_not_a_queued_one() -> None:
    buffer = PlaybackBuffer()
    buffer.push("a", np.ones(480, dtype=np.int16))
    buffer.push("b", np.ones(4800, dtype=np.int16))
    pull(buffer, 240)
    assert buffer.clear(now=1.0) == PlayedItem("a", 10, 20)
    assert buffer.played_ms("b") == 0 and buffer.received_ms("b") == 200


def test_clear_with_nothing_playing_returns_none_and_linger_keeps_the_tail() -> None:
    buffer = PlaybackBuffer()
    assert buffer.clear(now=1.0) is None
    buffer.push("a", np.ones(240, dtype=np.int16))
    pull(buffer, 480, now=5.0)  # a fully played, short item
    assert buffer.clear(now=5.02, linger_s=0.05) == PlayedItem("a", 10, 10)
    buffer.push("b", np.ones(240, dtype=np.int16))
    pull(buffer, 480, now=6.0)
    assert buffer.clear(now=9.0, linger_s=0.05) is None  # long over: nothing to truncate


def test_unplayed_lookahead_is_not_counted() -> None:
    buffer = PlaybackBuffer()
    buffer.push("a", np.ones(24000, dtype=np.int16))
    pull(buffer, 4800)
    assert buffer.clear(now=1.0, unplayed=240) == PlayedItem("a", 190, 1000)


def test_audible_while_queued_and_for_the_latency_window() -> None:
    buffer = PlaybackBuffer()
    assert not buffer.audible(10.0, 0.05)
    buffer.push("a", np.ones(480, dtype=np.int16))
    assert buffer.audible(10.0, 0.05)
    pull(buffer, 480, now=10.0)
    assert buffer.audible(10.04, 0.05)
    assert not buffer.audible(10.2, 0.05)


def test_first_audible_at_skips_leading_silence() -> None:
    buffer = PlaybackBuffer()
    samples = np.zeros(960, dtype=np.int16)
    samples[600:] = 5000
    buffer.push("a", samples)
    pull(buffer, 480, now=100.0)
    assert buffer.first_audible_at("a") is None
    pull(buffer, 480, now=100.02)
    assert buffer.first_audible_at("a") == pytest.approx(100.02 + 120 / 24000)


def test_ten_minute_answer_plays_whole() -> None:
    buffer = PlaybackBuffer()
    minutes = tone(440, 600.0, amplitude=0.3)
    for start in range(0, len(minutes), 24000):  # one-second deltas, queued at once
        buffer.push("long", minutes[start : start + 24000])
    assert buffer.received_ms("long") == 600_000
    out = np.zeros(480, dtype=np.int16)
    total = 0
    checksum = 0
    while buffer.queued_samples:
        total += buffer.read_into(out, 1.0)
        checksum += int(out.astype(np.int64).sum())
    assert total == len(minutes)
    assert checksum == int(minutes.astype(np.int64).sum())
    assert buffer.played_ms("long") == 600_000


def test_odd_byte_count_is_rejected_as_domain_error() -> None:
    with pytest.raises(MalformedAudioError) as info:
        decode_pcm16(b"\x01\x02\x03")
    assert isinstance(info.value, AudioError) and isinstance(info.value, ValueError)
    assert "odd byte count" in str(info.value)
    assert np.array_equal(decode_pcm16(b"\x01\x00\xff\xff"), [1, -1])


class RecordingEcho:
    def __init__(self) -> None:
        self.far: list[np.ndarray] = []
        self.near: list[np.ndarray] = []
        self.resets = 0

    def on_output(self, block: np.ndarray, *, silent: bool = False) -> None:
        self.far.append(block.copy())  # a silent block is the renderer's own buffer

    def on_input(self, block: np.ndarray) -> np.ndarray:
        self.near.append(block.copy())
        return block // 2

    def reset(self) -> None:
        self.resets += 1


@pytest.mark.parametrize("rate", [24000, 48000, 44100])
def test_renderer_delivers_exact_frames_and_taps_24k(rate: int) -> None:
    buffer = PlaybackBuffer()
    echo = RecordingEcho()
    renderer = PlaybackRenderer(buffer, device_rate=rate, echo=echo, clock=lambda: 1.0)
    signal = tone(1000, 1.0, amplitude=0.5)
    buffer.push("a", signal)
    frames = rate // 50
    device_out = []
    for _ in range(75):  # 1.5 s
        out = np.zeros(frames, dtype=np.int16)
        renderer.render(out)
        device_out.append(out)
    played = np.concatenate(device_out)
    # The echo tap sees exactly the 24 kHz signal handed out, then silence.
    far = np.concatenate(echo.far)
    assert np.array_equal(far[: len(signal)], signal)
    assert not far[len(signal) :].any()
    assert peak_hz(played, rate) == pytest.approx(1000, abs=2)
    loud = np.flatnonzero(np.abs(played.astype(np.int32)) > 1000)
    assert (loud[-1] - loud[0]) / rate == pytest.approx(1.0, abs=0.002)
    assert renderer.counters.samples_played == len(signal)


def test_renderer_flush_drops_the_resampler_tail() -> None:
    buffer = PlaybackBuffer()
    renderer = PlaybackRenderer(buffer, device_rate=48000, clock=lambda: 1.0)
    buffer.push("a", tone(500, 1.0))
    out = np.zeros(960, dtype=np.int16)
    for _ in range(5):
        renderer.render(out)
    assert 0 < renderer.lookahead_24k() <= 480  # converter delay + remainder: <= 20 ms
    buffer.clear(now=1.0)
    renderer.request_flush()
    renderer.render(out)
    assert not out.any()
    assert renderer.counters.zero_blocks == 1
