"""Barge-in, printed: `input_audio_buffer.speech_started` arriving at the client -> silence on
the virtual speaker's monitor (issue 3 target: 50 ms or less).

    pytest -m benchmark tests/benchmarks/bench_barge_in.py -s

A real Session with the real AudioEngine (rt_mic / rt_speaker, echo_guard "off" so the mic
stays open while the reply plays) talks to the LocalServer. Each round: a long typed message
gets a long spoken reply; once it is audible, espeak-ng speech goes into the mic FIFO; the
server's VAD sends speech_started, the session barges in, the engine goes quiet.
create_response is off so the user's speech is not parroted back over the measurement.

Clocks: every figure is time.monotonic() of this process. The monitor's side is given two
ways: the callback arrival time of the block holding the last loud sample (includes the monitor
stream's input latency), and PortAudio's inputBufferAdcTime mapped onto time.monotonic() via
the callback's currentTime (the capture instant, if the ALSA pulse plugin reports it well).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.audio.speech import FIFO_NAME, FifoWriter, espeak_speech, wait_for
from tui.audio.engine import AudioEngine
from tui.config import Settings, with_value
from tui.realtime.connection import RealtimeConnection
from tui.session import Session

pytestmark = [pytest.mark.benchmark, pytest.mark.audio]

ROUNDS = 20
RATE = 24_000
LOUD = 300  # |sample| above this counts as sound on the monitor
LONG_TEXT = " ".join(["Please tell me a long story about the sea and the ships on it."] * 6)
TAIL_WINDOW_S = 0.5  # the reply's last loud sample is looked for this long after speech_started


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@dataclass
class TimedMonitor:
    """rt_speaker_monitor with, per block, the callback's monotonic time and the ADC time
    of the block's first sample mapped onto time.monotonic()."""

    blocks: list[np.ndarray] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    adc: list[float] = field(default_factory=list)
    total_frames: int = 0
    overflows: int = 0
    stream: Any = None

    def __enter__(self) -> TimedMonitor:
        import sounddevice as sd

        def callback(indata: np.ndarray, frames: int, times: Any, status: Any) -> None:
            now = time.monotonic()
            if status.input_overflow:
                self.overflows += 1
            self.blocks.append(indata[:, 0].copy())
            self.arrived.append(now)
            # PortAudio's stream clock -> monotonic: the callback's currentTime is `now`.
            self.adc.append(now - (times.currentTime - times.inputBufferAdcTime))
            self.total_frames += frames

        self.stream = sd.InputStream(
            device="rt_speaker_monitor",
            samplerate=RATE,
            channels=1,
            dtype="int16",
            latency="low",
            callback=callback,
        )
        self.stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()

    def last_loud(self, start: int, since: float, until: float) -> tuple[float, float] | None:
        """(arrival time, ADC time) of the last loud sample in blocks from `start` whose
        ADC time lies in [since, until]; None if none was loud."""
        found = None
        for i in range(start, len(self.blocks)):
            block, adc_at = self.blocks[i], self.adc[i]
            loud = np.flatnonzero(np.abs(block.astype(np.int32)) > LOUD)
            if not len(loud):
                continue
            sample_adc = adc_at + loud[-1] / RATE
            if since - 1.0 <= sample_adc <= until:
                sample_arrived = self.arrived[i] - (len(block) - 1 - loud[-1]) / RATE
                found = (sample_arrived, sample_adc)
        return found


@dataclass
class Marks:
    speech_started: list[float] = field(default_factory=list)
    interrupts: list[float] = field(default_factory=list)
    zero_blocks: list[float] = field(default_factory=list)  # output blocks rendered all zero
    engines: list[AudioEngine] = field(default_factory=list)


def instrumented(marks: Marks) -> tuple[Any, Any]:
    """A connection factory stamping speech_started on arrival, and an engine factory stamping
    interrupt() calls and all-zero output blocks."""

    def on_receive(event: Any) -> None:
        if getattr(event, "type", "") == "input_audio_buffer.speech_started":
            marks.speech_started.append(time.monotonic())

    def connection_factory(*args: Any, **kwargs: Any) -> RealtimeConnection:
        return RealtimeConnection(*args, on_receive=on_receive, **kwargs)

    def audio_factory(**kwargs: Any) -> AudioEngine:
        engine = AudioEngine(**kwargs)
        original_interrupt = engine.interrupt

        def interrupt() -> Any:
            marks.interrupts.append(time.monotonic())
            return original_interrupt()

        engine.interrupt = interrupt  # type: ignore[method-assign]
        marks.engines.append(engine)
        return engine

    return connection_factory, audio_factory


def wrap_renderer(engine: AudioEngine, marks: Marks) -> None:
    renderer = engine.playback_renderer
    assert renderer is not None
    original = renderer.render

    def render(out: np.ndarray, *, underflow: bool = False) -> None:
        started = time.monotonic()
        original(out, underflow=underflow)
        if not out.any():
            marks.zero_blocks.append(started)

    renderer.render = render  # type: ignore[method-assign]


def settings_for(url: str) -> Settings:
    settings = Settings()
    for path, value in (
        ("connection.url", url),
        ("audio.input_device", "rt_mic"),
        ("audio.output_device", "rt_speaker"),
        ("audio.echo_guard", "off"),
        ("session.turn_detection.create_response", False),
        ("history.enabled", False),
    ):
        settings = with_value(settings, path, value)
    return settings


@pytest.mark.timeout(400)
async def test_bench_speech_started_to_monitor_silence(
    virtual_audio: Path, local_server: Any, tmp_path: Path
) -> None:
    speech = espeak_speech("Wait, stop please.", tmp_path)
    marks = Marks()
    connection_factory, audio_factory = instrumented(marks)
    session = Session(
        settings_for(local_server.url),
        api_key="bench",
        listener=lambda change: None,
        connection_factory=connection_factory,
        audio_factory=audio_factory,
    )
    runner = asyncio.create_task(session.run())
    by_arrival: list[float] = []
    by_adc: list[float] = []
    call_to_zero: list[float] = []
    arrival_to_call: list[float] = []
    already_silent = 0
    try:
        assert await wait_for(
            lambda: session.state == "live" and session.audio_mode == "full", 15.0
        ), f"session not live with full audio: {session.state}, {session.audio_mode}"
        engine = marks.engines[-1]
        wrap_renderer(engine, marks)
        with TimedMonitor() as monitor:
            assert await wait_for(lambda: monitor.total_frames > 4800, 3.0)
            for _ in range(ROUNDS):
                session.send_text(LONG_TEXT)
                # the reply is playing: 0.3 s of loud audio on the monitor, as a person
                # would listen a while before talking over it
                mark = len(monitor.blocks)

                def loud_frames(m: int = mark) -> int:
                    return sum(
                        len(b)
                        for b in monitor.blocks[m:]
                        if np.abs(b.astype(np.int32)).max() > LOUD
                    )

                assert await wait_for(lambda: loud_frames() >= 0.3 * RATE, 10.0), (
                    "the long reply never became audible"
                )
                started_count = len(marks.speech_started)
                interrupt_count = len(marks.interrupts)
                mark = len(monitor.blocks)
                writer = FifoWriter(virtual_audio / FIFO_NAME).write(speech)
                assert await wait_for(lambda c=started_count: len(marks.speech_started) > c, 5.0)
                arrived = marks.speech_started[-1]
                assert await wait_for(lambda c=interrupt_count: len(marks.interrupts) > c, 2.0)
                called = marks.interrupts[-1]
                arrival_to_call.append((called - arrived) * 1000)
                # measure once the monitor has heard well past the end of the window
                assert await wait_for(
                    lambda a=arrived: bool(monitor.adc) and monitor.adc[-1] > a + TAIL_WINDOW_S, 3.0
                )
                zero = next((t for t in marks.zero_blocks if t >= called), None)
                if zero is not None:
                    call_to_zero.append((zero - called) * 1000)
                tail = monitor.last_loud(mark, arrived, arrived + TAIL_WINDOW_S)
                if tail is not None:
                    by_arrival.append((tail[0] - arrived) * 1000)
                    by_adc.append((tail[1] - arrived) * 1000)
                else:  # already silent when speech_started arrived: nothing to measure
                    already_silent += 1
                await asyncio.to_thread(writer.done.wait, 5.0)
                # the speech ends and the server commits it before the next round
                assert await wait_for(lambda: not session._rooms.turns.user_speaking, 5.0)
        overflows = monitor.overflows
    finally:
        await session.stop()
        await asyncio.wait_for(runner, 10)
    print(
        f"\n[bench] speech_started arrival -> silence on rt_speaker_monitor, n={len(by_arrival)} "
        f"(clock: time.monotonic of this process; speech_started stamped in the connection's "
        f"on_receive hook):\n"
        f"  last loud sample, monitor callback arrival (incl. monitor input latency "
        f"{monitor.stream.latency * 1000:.1f} ms): p50 {pct(by_arrival, 50):.1f} ms, "
        f"p99 {pct(by_arrival, 99):.1f} ms\n"
        f"  last loud sample, inputBufferAdcTime mapped to monotonic: "
        f"p50 {pct(by_adc, 50):.1f} ms, p99 {pct(by_adc, 99):.1f} ms\n"
        f"  speech_started arrival -> session calls engine.interrupt(): "
        f"p50 {pct(arrival_to_call, 50):.2f} ms, p99 {pct(arrival_to_call, 99):.2f} ms\n"
        f"  engine.interrupt() call -> first all-zero output block rendered "
        f"({engine.output_block_ms} ms blocks): p50 {pct(call_to_zero, 50):.1f} ms, "
        f"p99 {pct(call_to_zero, 99):.1f} ms (n={len(call_to_zero)}); "
        f"monitor overflows {overflows}; rounds already silent at speech_started: "
        f"{already_silent} of {ROUNDS}"
    )
    assert by_arrival and len(by_arrival) + already_silent == ROUNDS
