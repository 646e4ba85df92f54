"""The capture path without a device: resampling, block cutting, mute, echo guard, echo hook."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tui.audio.capture import CaptureProcessor

from .speech import peak_hz, tone, wait_for


class RecordingEcho:
    def __init__(self) -> None:
        self.near: list[np.ndarray] = []
        self.resets = 0

    def on_output(self, block: np.ndarray, *, silent: bool = False) -> None:  # pragma: no cover
        pass

    def on_input(self, block: np.ndarray) -> np.ndarray:
        self.near.append(block.copy())
        return np.zeros_like(block)  # "cancelled"

    def reset(self) -> None:
        self.resets += 1


def make(rate: int, **kw: object) -> tuple[CaptureProcessor, list[bytes | None]]:
    got: list[bytes | None] = []
    processor = CaptureProcessor(
        device_rate=rate,
        block_samples=480,
        loop=asyncio.get_running_loop(),
        deliver=got.append,
        **kw,  # type: ignore[arg-type]
    )
    return processor, got


def feed(processor: CaptureProcessor, signal: np.ndarray, block: int) -> None:
    for start in range(0, len(signal) - block + 1, block):
        processor.process(signal[start : start + block])


@pytest.mark.parametrize("rate", [24000, 48000, 44100, 16000])
async def test_blocks_are_24k_pcm16_of_block_size(rate: int) -> None:
    processor, got = make(rate, echo_guard="off")
    feed(processor, tone(440, 1.0, rate=rate), rate // 50)
    await wait_for(lambda: len(got) >= processor.counters.blocks_sent, 1.0)
    assert all(len(block) == 960 for block in got)
    samples = np.frombuffer(b"".join(got), dtype="<i2")
    assert abs(len(samples) - 24000) <= 480 + 40  # the converter's delay is still inside
    assert peak_hz(samples) == pytest.approx(440, abs=2)
    assert processor.level.rms_db == pytest.approx(-9.03, abs=0.1)


async def test_mute_sends_nothing() -> None:
    processor, got = make(24000, echo_guard="off")
    processor.muted = True
    feed(processor, tone(440, 0.5), 480)
    await asyncio.sleep(0)  # let already scheduled deliveries (none expected) run
    assert got == [] and processor.counters.blocks_muted == 25
    assert processor.level.rms_db > -20  # the meter still shows the mic is alive


async def test_half_duplex_drops_while_assistant_audible() -> None:
    audible = {"now": True}
    processor, got = make(24000, assistant_audible=lambda now: audible["now"])
    feed(processor, tone(440, 0.2), 480)
    assert processor.counters.blocks_guarded == 10 and processor.counters.blocks_sent == 0
    audible["now"] = False
    feed(processor, tone(440, 0.2), 480)
    assert await wait_for(lambda: len(got) == 20, 1.0)
    # a held-back block still reaches the loop, without audio: the meter moves on it
    assert got[:10] == [None] * 10 and all(len(block) == 960 for block in got[10:])


async def test_off_is_full_duplex_and_aec_goes_through_the_hook() -> None:
    processor, got = make(24000, echo_guard="off", assistant_audible=lambda now: True)
    feed(processor, tone(440, 0.1), 480)
    assert await wait_for(lambda: len(got) == 5, 1.0)
    echo = RecordingEcho()
    processor, got = make(48000, echo_guard="aec", assistant_audible=lambda now: True, echo=echo)
    feed(processor, tone(440, 0.2, rate=48000), 960)
    assert await wait_for(lambda: len(got) == processor.counters.blocks_sent, 1.0)
    assert len(echo.near) == len(got) >= 8
    assert all(len(block) == 480 for block in echo.near)  # 24 kHz, after input resampling
    assert peak_hz(np.concatenate(echo.near)) == pytest.approx(440, abs=3)
    assert not any(np.frombuffer(block, dtype="<i2").any() for block in got)  # hook's output


async def test_aec_hook_holding_a_partial_frame_sends_nothing_that_time() -> None:
    class Holding(RecordingEcho):
        def on_input(self, block: np.ndarray) -> np.ndarray:
            self.near.append(block.copy())
            return block[:0] if len(self.near) == 1 else block

    echo = Holding()
    processor, got = make(24000, echo_guard="aec", echo=echo)
    feed(processor, tone(440, 0.06), 480)
    assert await wait_for(lambda: len(got) == 2, 1.0)
    assert processor.counters.blocks_sent == 2 and len(echo.near) == 3
    assert b"" not in got


# ---- quiet blocks two at a time (pair_quiet) ---------------------------------------------


def quiet_then_speech() -> np.ndarray:
    """Five blocks of room noise (peak 100, about -50 dBFS), then five of a 440 Hz tone."""
    rng = np.random.default_rng(7)
    noise = rng.integers(-100, 101, 480 * 5).astype(np.int16)
    return np.concatenate([noise, tone(440, 0.1)])


async def test_paired_quiet_blocks_go_two_at_a_time_and_speech_at_once() -> None:
    processor, got = make(24000, echo_guard="off")
    processor.pair_quiet = True
    signal = quiet_then_speech()
    feed(processor, signal, 480)
    assert await wait_for(lambda: len(got) == 7, 1.0)
    # noise blocks 1+2 and 3+4 in pairs; 5 waits and goes with the first tone block; every
    # tone block after that goes alone, at once
    assert [len(pcm or b"") // 960 for pcm in got] == [2, 2, 2, 1, 1, 1, 1]
    assert b"".join(pcm or b"" for pcm in got) == signal.tobytes(), "in order, none lost"
    assert processor.counters.blocks_sent == 10


async def test_without_pairing_every_block_goes_alone() -> None:
    processor, got = make(24000, echo_guard="off")
    feed(processor, quiet_then_speech(), 480)
    assert await wait_for(lambda: len(got) == 10, 1.0)
    assert all(len(pcm or b"") == 960 for pcm in got)


async def test_a_waiting_block_is_dropped_by_mute_and_sent_before_half_duplex_holds() -> None:
    processor, got = make(24000, echo_guard="off")
    processor.pair_quiet = True
    quiet = np.zeros(480, dtype=np.int16)
    processor.process(quiet)  # waits
    processor.muted = True
    processor.process(quiet)
    processor.muted = False
    processor.process(quiet)  # waits again: the one before mute is gone
    processor.process(quiet)
    assert await wait_for(lambda: len(got) == 1, 1.0)
    assert got == [bytes(960 * 2)]

    audible = {"now": False}
    processor, got = make(24000, assistant_audible=lambda now: audible["now"])
    processor.pair_quiet = True
    processor.process(quiet)  # waits
    audible["now"] = True
    processor.process(quiet)  # held back by half duplex: the waiting one goes first
    assert await wait_for(lambda: len(got) == 2, 1.0)
    assert got == [bytes(960), None]
