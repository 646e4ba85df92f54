"""The engine through PortAudio for real, on the PulseAudio virtual devices.

The mic is fed through the FIFO (s16le 24 kHz); the speaker is recorded from its monitor
with a separate sounddevice stream.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tui.audio.engine import AudioEngine, AudioStatus
from tui.audio.recorder import WavRecorder

from .speech import (
    FIFO_NAME,
    FifoWriter,
    MonitorRecorder,
    active_span,
    longest_quiet_run,
    peak_hz,
    tone,
    wait_for,
)

pytestmark = pytest.mark.audio

RATE = 24000


class Captured:
    """on_capture sink: the blocks and when they arrived on the loop."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def __call__(self, pcm: bytes) -> None:
        self.blocks.append(pcm)

    def samples(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.blocks), dtype="<i2")


EngineFactory = Callable[..., AudioEngine]


@pytest.fixture
async def make_engine(virtual_audio: Path) -> AsyncIterator[EngineFactory]:
    engines: list[AudioEngine] = []

    def factory(**kw: Any) -> AudioEngine:
        kw.setdefault("input_device", "rt_mic")
        kw.setdefault("output_device", "rt_speaker")
        kw.setdefault("on_capture", Captured())
        engine = AudioEngine(loop=asyncio.get_running_loop(), **kw)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.stop()


def fifo(virtual_audio: Path) -> Path:
    return virtual_audio / FIFO_NAME


async def wait_done(writer: FifoWriter, timeout: float) -> None:
    assert await wait_for(writer.done.is_set, timeout), "FIFO write did not finish"
    assert writer.error is None


async def record_until_quiet(
    monitor: MonitorRecorder, engine: AudioEngine, timeout: float
) -> np.ndarray:
    """Wait for the engine to finish playing, then for its latency to drain into the monitor."""
    assert await wait_for(lambda: not engine.audible, timeout)
    settle = monitor.total_frames + int((monitor.latency + 0.1) * monitor.rate)
    assert await wait_for(lambda: monitor.total_frames >= settle, 2.0)
    assert monitor.overflows == 0, "the monitor recording lost input; cannot measure"
    return monitor.samples()


@pytest.mark.parametrize(("device_rate", "seconds"), [(None, 10.0), (48000, 3.0), (44100, 3.0)])
async def test_mic_tone_arrives_as_24k_pcm16_without_lost_blocks(
    make_engine: EngineFactory, virtual_audio: Path, device_rate: int | None, seconds: float
) -> None:
    captured = Captured()
    engine = make_engine(on_capture=captured, enable_output=False, device_rate=device_rate)
    status = engine.start()
    assert status.mode == "input_only" and engine.input_rate == (device_rate or RATE)
    started = time.monotonic()
    signal = tone(440, seconds, amplitude=0.5)
    writer = FifoWriter(fifo(virtual_audio)).write(signal)
    await wait_done(writer, seconds + 5)
    # The pipe runs up to ~1.4 s ahead of the mic (pitfall 5): wait until the tone has ended.
    assert await wait_for(lambda: engine.input_level.peak_db < -60, 5.0)
    before = len(captured.blocks)
    assert await wait_for(lambda: len(captured.blocks) >= before + 3, 1.0)
    elapsed = time.monotonic() - started
    counters = engine.capture_counters
    assert counters is not None
    # Every block produced was delivered, every block is 20 ms at 24 kHz, and the blocks
    # cover the elapsed time: nothing was lost on the way.
    assert await wait_for(lambda: len(captured.blocks) == counters.blocks_sent, 1.0)
    assert {len(block) for block in captured.blocks} == {960}
    assert counters.overflows == 0 and counters.blocks_muted == counters.blocks_guarded == 0
    delivered_s = len(captured.blocks) * 0.02
    assert elapsed - 0.3 <= delivered_s <= elapsed + 0.1
    samples = captured.samples()
    span = active_span(samples)
    assert span is not None
    assert (span[1] - span[0]) / RATE == pytest.approx(seconds, abs=0.002)
    assert longest_quiet_run(samples) <= 3  # a sine's zero crossings, no gap
    assert peak_hz(samples) == pytest.approx(440, abs=1)
    if device_rate is None:  # 24 kHz end to end: bit-exact
        start = span[0] - 1
        assert np.array_equal(samples[start : start + len(signal)], signal)


@pytest.mark.parametrize("device_rate", [None, 48000, 44100])
async def test_played_audio_comes_back_from_the_speaker_monitor(
    make_engine: EngineFactory, device_rate: int | None
) -> None:
    engine = make_engine(enable_input=False, device_rate=device_rate)
    assert engine.start().mode == "output_only"
    assert engine.output_rate == (device_rate or RATE)
    signal = tone(1000, 1.0, amplitude=0.5)
    with MonitorRecorder() as monitor:
        assert await wait_for(lambda: len(monitor.blocks) > 5, 2.0)
        for start in range(0, len(signal), 2400):  # 100 ms deltas, as from the wire
            engine.play("item_a", signal[start : start + 2400].tobytes())
        assert engine.audible
        heard = await record_until_quiet(monitor, engine, 5.0)
    span = active_span(heard)
    assert span is not None
    assert (span[1] - span[0]) / RATE == pytest.approx(1.0, abs=0.002)
    assert longest_quiet_run(heard) <= 3
    assert peak_hz(heard) == pytest.approx(1000, abs=1)
    assert engine.played_ms("item_a") == engine.received_ms("item_a") == 1000
    first = engine.first_audible_at("item_a")
    assert first is not None and monitor.times[0] < first < time.monotonic()
    assert engine.output_level.rms_db == -90.0  # silent again
    counters = engine.playback_counters
    assert counters is not None and counters.underflows == 0


@pytest.mark.parametrize("device_rate", [None, 48000])
async def test_interrupt_silences_and_reports_what_was_heard(
    make_engine: EngineFactory, device_rate: int | None
) -> None:
    engine = make_engine(enable_input=False, device_rate=device_rate)
    engine.start()
    with MonitorRecorder() as monitor:
        assert await wait_for(lambda: len(monitor.blocks) > 5, 2.0)
        engine.play("item_b", tone(600, 4.0, amplitude=0.5).tobytes())
        assert await wait_for(lambda: engine.played_ms("item_b") >= 1250, 5.0)
        counters = engine.playback_counters
        assert counters is not None
        zero_blocks = counters.zero_blocks
        played = engine.interrupt()
        assert played is not None and played.item_id == "item_b"
        assert played.received_ms == 4000 and 1200 <= played.played_ms < 2000
        # The next output block is all zeros.
        assert await wait_for(lambda: counters.zero_blocks > zero_blocks, 0.2)
        heard = await record_until_quiet(monitor, engine, 2.0)
    span = active_span(heard)
    assert span is not None
    heard_ms = (span[1] - span[0]) * 1000 / RATE
    print(
        f"\ninterrupt at {device_rate or RATE} Hz: played_ms={played.played_ms} "
        f"monitor heard {heard_ms:.1f} ms, difference {played.played_ms - heard_ms:+.1f} ms"
    )
    assert abs(played.played_ms - heard_ms) <= 20  # within one 20 ms block
    # Late deltas of the interrupted item are dropped, not played.
    engine.play("item_b", tone(600, 0.5).tobytes())
    assert not engine.audible


async def test_the_tool_tick_clicks_once_a_second_and_stops_at_once(
    make_engine: EngineFactory,
) -> None:
    """The optional tool tick (tui.audio.cue) through PortAudio: a soft 2 kHz click a second
    into the speaker's silence, none once disarmed, and never assistant audio."""
    engine = make_engine(enable_input=False)
    engine.start()
    with MonitorRecorder() as monitor:
        assert await wait_for(lambda: len(monitor.blocks) > 5, 2.0)
        armed_at = monitor.total_frames
        engine.set_tick(True)
        assert await wait_for(lambda: engine.tick.clicks == 3, 5.0)
        assert not engine.audible  # it is no assistant audio for the session
        engine.set_tick(False)
        disarmed_at = monitor.total_frames
        settle = disarmed_at + int((monitor.latency + 1.5) * monitor.rate)
        assert await wait_for(lambda: monitor.total_frames >= settle, 4.0)
        assert monitor.overflows == 0, "the monitor recording lost input; cannot measure"
        heard = monitor.samples()
    clicks = heard[armed_at:disarmed_at]
    loud = np.flatnonzero(np.abs(clicks.astype(np.int32)) > 100)
    starts = [loud[0], *(b for a, b in itertools.pairwise(loud) if b - a > RATE // 2)]
    gaps = np.diff(starts) / RATE
    print(f"\ntool tick onsets apart: {[f'{gap:.3f}' for gap in gaps]} s")
    assert len(starts) >= 2 and all(abs(gap - 1.0) < 0.05 for gap in gaps)
    assert peak_hz(clicks, threshold=0.005) == pytest.approx(2000, abs=60)
    late = heard[disarmed_at + int((monitor.latency + 0.05) * monitor.rate) :]
    assert np.abs(late.astype(np.int32)).max() <= 100  # silent once disarmed
    assert engine.playback_counters is not None
    assert engine.playback_counters.samples_played == 0


async def test_mute_sends_no_blocks(make_engine: EngineFactory, virtual_audio: Path) -> None:
    captured = Captured()
    engine = make_engine(on_capture=captured, enable_output=False)
    engine.start()
    engine.muted = True
    counters = engine.capture_counters
    assert counters is not None
    writer = FifoWriter(fifo(virtual_audio)).write(tone(440, 1.0))
    await wait_done(writer, 5.0)
    assert await wait_for(lambda: engine.input_level.peak_db > -10, 2.0)  # tone is arriving
    assert await wait_for(lambda: engine.input_level.peak_db < -60, 5.0)  # and is over
    assert captured.blocks == [] and counters.blocks_sent == 0
    assert counters.blocks_muted >= 50
    engine.muted = False
    assert await wait_for(lambda: len(captured.blocks) >= 5, 1.0)


@pytest.mark.parametrize("guard", ["half_duplex", "off"])
async def test_echo_guard(make_engine: EngineFactory, guard: str) -> None:
    engine = make_engine(echo_guard=guard)
    assert engine.start().mode == "full"
    counters = engine.capture_counters
    assert counters is not None
    assert await wait_for(lambda: counters.blocks_sent >= 5, 2.0)
    engine.play("item_c", tone(800, 1.0).tobytes())
    sent_before = counters.blocks_sent
    assert engine.audible
    assert await wait_for(lambda: not engine.audible, 5.0)
    sent_during = counters.blocks_sent - sent_before
    if guard == "half_duplex":
        assert sent_during == 0 and counters.blocks_guarded >= 50
        # After the hang time the microphone flows again.
        assert await wait_for(lambda: counters.blocks_sent > sent_before + 3, 2.0)
    else:
        assert sent_during >= 45 and counters.blocks_guarded == 0


async def test_aec_mode_taps_both_callbacks(make_engine: EngineFactory) -> None:
    class FakeEcho:
        def __init__(self) -> None:
            self.far: list[np.ndarray] = []
            self.near = 0
            self.resets = 0

        def on_output(self, block: np.ndarray, *, silent: bool = False) -> None:
            self.far.append(block.copy())  # a silent block is the renderer's own buffer

        def on_input(self, block: np.ndarray) -> np.ndarray:
            self.near += 1
            return np.zeros_like(block)

        def reset(self) -> None:
            self.resets += 1

    echo = FakeEcho()
    captured = Captured()
    engine = make_engine(
        echo_guard="aec", echo_canceller=echo, on_capture=captured, device_rate=48000
    )
    engine.start()
    assert echo.resets >= 1
    signal = tone(700, 0.5)
    engine.play("item_d", signal.tobytes())
    assert await wait_for(lambda: not engine.audible, 5.0)
    far = np.concatenate(echo.far)
    start = int(np.flatnonzero(far)[0]) - 1
    assert np.array_equal(far[start : start + len(signal)], signal)  # 24 kHz, as handed out
    assert {len(block) for block in echo.far} == {240}
    assert echo.near == len(captured.blocks) > 0
    assert not captured.samples().any()  # what was sent is the hook's output
    engine.muted = True
    resets = echo.resets
    engine.muted = False
    assert echo.resets == resets + 1


async def test_unknown_or_ambiguous_device_falls_back_with_candidates(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(input_device="no-such-mic", output_device="rt_")
    status = engine.start()
    assert status.mode == "full"  # the system default devices took over
    assert "No input device matches 'no-such-mic'" in status.message
    assert "3: rt_mic" in status.message and "2: rt_speaker_monitor" in status.message
    assert "'rt_' matches several output devices" in status.message
    assert "rt_speaker" in status.message and "rt_mic_feed" in status.message
    assert "system default" in status.message


async def test_device_refusing_every_rate_degrades_to_input_only(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sounddevice as sd

    def refuse(**kw: object) -> None:
        raise sd.PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    monkeypatch.setattr(sd, "check_output_settings", refuse)
    engine = make_engine(output_device="")
    status = engine.start()
    assert status.mode == "input_only"
    assert "Speaker (the default device) refuses every sample rate tried" in status.message
    assert "retrying every 3 s" in status.message
    # PortAudio's own words go to the inspector, not into the status sentence
    assert "PaErrorCode" not in status.message
    assert any("Invalid sample rate [PaErrorCode -9997]" in d for d in status.details)
    engine.play("item_e", tone(440, 0.2).tobytes())  # the conversation goes on
    assert engine.received_ms("item_e") == 200 and not engine.audible


async def test_no_device_at_all_runs_text_only_and_says_why(make_engine: EngineFactory) -> None:
    import sounddevice as sd

    sd.default.device = (-1, -1)  # what PortAudio reports with no sound server or card
    try:
        engine = make_engine(input_device="", output_device="")
        status = engine.start()
    finally:
        sd.default.reset()
    assert status.mode == "text_only"
    # one clear sentence per device, set apart, and none of PortAudio's raw words
    assert status.message.split(" · ") == [
        "No microphone found: plug one in or start the sound server.",
        "No speaker found: plug one in or start the sound server.",
        "Running text only; retrying every 3 s.",
    ]
    assert "Error querying device" not in status.message
    assert [d.split(":")[0] for d in status.details] == ["Microphone", "Speaker"]
    assert all("Error querying device -1" in d for d in status.details), status.details
    engine.play("item_j", tone(440, 0.1).tobytes())
    assert engine.received_ms("item_j") == 100 and not engine.audible


async def test_stream_dying_midway_is_detected_and_reopened(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sounddevice as sd

    statuses: list[AudioStatus] = []
    engine = make_engine(on_status=statuses.append, retry_interval_s=0.5, watchdog_interval_s=0.1)
    assert engine.start().mode == "full"
    real_output_stream = sd.OutputStream

    def unplugged(*args: object, **kw: object) -> object:
        raise sd.PortAudioError("Error opening OutputStream: Device unavailable")

    monkeypatch.setattr(sd, "OutputStream", unplugged)
    dead = engine.output_stream
    dead.abort()  # what a vanished device looks like: callbacks stop, active is False
    assert await wait_for(lambda: engine.status.mode == "input_only", 2.0)
    assert "stopped working mid-stream" in engine.status.message
    monkeypatch.setattr(sd, "OutputStream", real_output_stream)  # the device is back
    assert await wait_for(lambda: engine.status.mode == "full", 3.0)
    assert [s.mode for s in statuses] == ["input_only", "full"]
    assert engine.output_stream is not dead and engine.output_stream.active
    with MonitorRecorder() as monitor:
        assert await wait_for(lambda: len(monitor.blocks) > 5, 2.0)
        engine.play("item_f", tone(900, 0.5).tobytes())
        heard = await record_until_quiet(monitor, engine, 3.0)
    assert peak_hz(heard) == pytest.approx(900, abs=2)


async def test_both_streams_dying_reinitialises_portaudio_and_recovers(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.audio import backend

    reinits: list[int] = []
    real_reinitialize = backend.reinitialize

    def counting_reinitialize(sd: object) -> None:
        # PortAudio may only be re-initialised with no stream open (it closes them all).
        assert engine.input_stream is None and engine.output_stream is None
        reinits.append(1)
        real_reinitialize(sd)  # type: ignore[arg-type]

    monkeypatch.setattr(backend, "reinitialize", counting_reinitialize)
    engine = make_engine(retry_interval_s=0.5, watchdog_interval_s=0.1)
    assert engine.start().mode == "full"
    engine.play("item_i", tone(440, 3.0).tobytes())
    assert await wait_for(lambda: engine.played_ms("item_i") >= 200, 2.0)
    engine.input_stream.abort()  # the sound server went away: both sides stop at once
    engine.output_stream.abort()
    assert await wait_for(lambda: bool(reinits) and engine.status.mode == "full", 3.0)
    # The answer goes on from where it was on the new streams.
    played = engine.played_ms("item_i")
    assert await wait_for(lambda: engine.played_ms("item_i") > played + 200, 2.0)
    counters = engine.capture_counters
    assert counters is not None
    assert await wait_for(lambda: counters.callbacks > 5, 2.0)


async def test_reopen_switches_devices_and_keeps_playing(make_engine: EngineFactory) -> None:
    engine = make_engine(input_device="", output_device="rt_mic_feed")
    assert engine.start().mode == "full"
    engine.play("item_g", tone(500, 2.0).tobytes())
    assert await wait_for(lambda: engine.played_ms("item_g") >= 300, 3.0)
    # reopen() re-initialises PortAudio (to see newly plugged devices), which would close any
    # other stream of this process, so the monitor starts after it.
    status = engine.reopen("rt_mic", "rt_speaker")
    assert status == AudioStatus("full", "")
    with MonitorRecorder() as monitor:
        heard = await record_until_quiet(monitor, engine, 5.0)
    span = active_span(heard)
    assert span is not None and (span[1] - span[0]) / RATE > 1.0  # the rest played here
    assert engine.played_ms("item_g") == 2000


async def test_recording_writes_both_sides(
    make_engine: EngineFactory, virtual_audio: Path, tmp_path: Path
) -> None:
    import wave

    recorder = WavRecorder(tmp_path / "mic.wav", tmp_path / "assistant.wav")
    captured = Captured()
    engine = make_engine(on_capture=captured, echo_guard="off", recorder=recorder)
    engine.start()
    answer = tone(650, 0.6)
    engine.play("item_h", answer.tobytes())
    writer = FifoWriter(fifo(virtual_audio)).write(tone(350, 0.5))
    await wait_done(writer, 5.0)
    assert await wait_for(lambda: engine.input_level.peak_db < -60 and not engine.audible, 5.0)
    engine.stop()
    recorder.close()
    with wave.open(str(tmp_path / "assistant.wav")) as wav:
        assistant = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    with wave.open(str(tmp_path / "mic.wav")) as wav:
        mic = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    assert np.array_equal(assistant, answer)
    assert np.array_equal(mic, captured.samples())
    assert peak_hz(mic) == pytest.approx(350, abs=2)
