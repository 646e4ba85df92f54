"""Audio benchmarks: printed figures, not asserts on timing.

    pytest -m benchmark tests/benchmarks/bench_audio.py -s

- interrupt() -> first all-zero output block, p50/p99 over 50 interrupts (24 kHz and 48 kHz)
- interrupt() -> silence on the virtual speaker's monitor, p50/p99
- capture and playback callback cost p50/p99, as % of the 20 ms block (24 kHz and 48 kHz)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.audio.speech import FIFO_NAME, FifoWriter, MonitorRecorder, tone, wait_for
from tui.audio.engine import AudioEngine

pytestmark = [pytest.mark.benchmark, pytest.mark.audio]

BLOCK_MS = 20


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def make_engine(**kw: Any) -> AudioEngine:
    kw.setdefault("input_device", "rt_mic")
    kw.setdefault("output_device", "rt_speaker")
    kw.setdefault("on_capture", lambda pcm: None)
    kw.setdefault("block_ms", BLOCK_MS)
    return AudioEngine(loop=asyncio.get_running_loop(), **kw)


def log_render(engine: AudioEngine) -> list[tuple[float, bool]]:
    """Wrap the live renderer so each output block logs (start time, all zero)."""
    renderer = engine.playback_renderer
    assert renderer is not None
    log: list[tuple[float, bool]] = []
    original = renderer.render

    def render(out: np.ndarray, *, underflow: bool = False) -> None:
        started = time.monotonic()
        original(out, underflow=underflow)
        log.append((started, not out.any()))

    renderer.render = render  # type: ignore[method-assign]
    return log


@pytest.mark.parametrize("device_rate", [None, 48000])
async def test_bench_interrupt_to_zero_block(virtual_audio: Path, device_rate: int | None) -> None:
    engine = make_engine(enable_input=False, device_rate=device_rate)
    engine.start()
    log = log_render(engine)
    delays = []
    rng = random.Random(3)
    try:
        for n in range(50):
            item = f"item{n}"
            engine.play(item, tone(440, 1.0).tobytes())
            target = rng.randint(60, 300)
            assert await wait_for(lambda i=item, t=target: engine.played_ms(i) >= t, 3.0)
            mark = len(log)
            t0 = time.monotonic()
            engine.interrupt()
            assert await wait_for(lambda m=mark: any(z for _, z in log[m:]), 1.0)
            first_zero = next(t for t, z in log[mark:] if z and t >= t0)
            delays.append((first_zero - t0) * 1000)
    finally:
        engine.stop()
    rate = device_rate or 24000
    print(
        f"\n[bench] interrupt -> first all-zero output block @ {rate} Hz, "
        f"{engine.output_block_ms} ms output blocks, "
        f"n={len(delays)}: p50 {pct(delays, 50):.1f} ms, p99 {pct(delays, 99):.1f} ms, "
        f"max {max(delays):.1f} ms"
    )


async def test_bench_interrupt_to_monitor_silence(virtual_audio: Path) -> None:
    engine = make_engine(enable_input=False)
    engine.start()
    delays = []
    rng = random.Random(5)
    threshold = 300
    try:
        with MonitorRecorder(latency="low") as monitor:
            assert await wait_for(lambda: monitor.total_frames > 4800, 2.0)
            for n in range(50):
                item = f"item{n}"
                engine.play(item, tone(440, 1.0).tobytes())
                target = rng.randint(150, 400)
                assert await wait_for(lambda i=item, t=target: engine.played_ms(i) >= t, 3.0)
                mark = len(monitor.blocks)
                t0 = time.monotonic()
                engine.interrupt()
                quiet_after = monitor.total_frames + int(0.25 * monitor.rate)
                assert await wait_for(lambda q=quiet_after: monitor.total_frames >= q, 2.0)
                # The time the last loud sample reached this process, per monitor block.
                last_loud_at = None
                for block, at in zip(monitor.blocks[mark:], monitor.times[mark:], strict=False):
                    loud = np.flatnonzero(np.abs(block.astype(np.int32)) > threshold)
                    if len(loud):
                        last_loud_at = at - (len(block) - 1 - loud[-1]) / monitor.rate
                if last_loud_at is not None:
                    delays.append((last_loud_at - t0) * 1000)
        assert monitor.overflows == 0
    finally:
        engine.stop()
    print(
        f"\n[bench] interrupt -> silence on rt_speaker_monitor (last loud sample received by a "
        f"low-latency monitor stream, {monitor.latency * 1000:.1f} ms input latency included), "
        f"n={len(delays)}: p50 {pct(delays, 50):.1f} ms, p99 {pct(delays, 99):.1f} ms"
    )


def time_calls(obj: Any, name: str) -> list[float]:
    """Wrap obj.name to log its duration in seconds (perf_counter)."""
    costs: list[float] = []
    original: Callable[..., None] = getattr(obj, name)

    def timed(*args: Any, **kw: Any) -> None:
        started = time.perf_counter()
        original(*args, **kw)
        costs.append(time.perf_counter() - started)

    setattr(obj, name, timed)
    return costs


@pytest.mark.parametrize("device_rate", [None, 48000])
async def test_bench_callback_cost(virtual_audio: Path, device_rate: int | None) -> None:
    engine = make_engine(echo_guard="off", device_rate=device_rate)
    assert engine.start().mode == "full"
    capture = engine.capture_processor
    renderer = engine.playback_renderer
    capture_costs = time_calls(capture, "process")
    render_costs = time_calls(renderer, "render")
    try:
        writer = FifoWriter(virtual_audio / FIFO_NAME).write(tone(440, 4.0))
        engine.play("bench", tone(880, 4.0).tobytes())
        assert await wait_for(lambda: not engine.audible, 8.0)
        assert await wait_for(writer.done.is_set, 5.0)
    finally:
        engine.stop()
    rate = device_rate or 24000
    for label, costs, block_ms in (
        ("capture", capture_costs, engine.block_ms),
        ("playback", render_costs, engine.output_block_ms),
    ):
        us = [c * 1e6 for c in costs]
        block_s = block_ms / 1000
        print(
            f"\n[bench] {label} callback @ {rate} Hz (resampling {'on' if device_rate else 'off'})"
            f", n={len(costs)}: p50 {pct(us, 50):.0f} us, p99 {pct(us, 99):.0f} us = "
            f"{pct(costs, 99) / block_s * 100:.2f}% of a {block_ms} ms block"
        )
