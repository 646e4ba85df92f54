"""Real speech (espeak-ng) through the virtual mic and speaker: levels and round trips."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tui.audio.engine import AudioEngine
from tui.audio.meter import measure

from .speech import FIFO_NAME, FifoWriter, MonitorRecorder, espeak_speech, wait_for

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]

SENTENCE = "Hello, this is a test of the realtime voice terminal. Can you hear me?"


@pytest.fixture
def speech(tmp_path: Path) -> np.ndarray:
    return espeak_speech(SENTENCE, tmp_path)


@pytest.fixture
async def engine(virtual_audio: Path) -> AsyncIterator[tuple[AudioEngine, list[bytes]]]:
    blocks: list[bytes] = []
    engine = AudioEngine(
        input_device="rt_mic",
        output_device="rt_speaker",
        echo_guard="off",
        on_capture=blocks.append,
        loop=asyncio.get_running_loop(),
    )
    assert engine.start().mode == "full"
    yield engine, blocks
    engine.stop()


async def wait_done(writer: FifoWriter) -> None:
    assert await wait_for(writer.done.is_set, 5.0) and writer.error is None


def best_alignment(recorded: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Offset of `reference` inside `recorded` and the correlation there."""
    r = recorded.astype(np.float64)
    ref = reference.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(r) + len(ref))))
    xcorr = np.fft.irfft(np.fft.rfft(r, size) * np.conj(np.fft.rfft(ref, size)), size)
    offset = int(np.argmax(xcorr[: len(r) - len(ref) + 1]))
    segment = r[offset : offset + len(ref)]
    return offset, float(np.corrcoef(segment, ref)[0, 1])


async def sample_levels(read: object, until: object, timeout: float) -> list[float]:
    """Sample a level getter at ~30 Hz, as the UI does, until `until()` is true."""
    levels: list[float] = []

    def poll() -> bool:
        levels.append(read().rms_db)  # type: ignore[operator]
        return bool(until())  # type: ignore[operator]

    assert await wait_for(poll, timeout, step=1 / 30)
    return levels


@pytest.mark.parametrize("paired", [False, True], ids=["every block", "quiet blocks paired"])
async def test_speech_into_the_mic_reads_speech_levels_and_arrives_intact(
    engine: tuple[AudioEngine, list[bytes]], speech: np.ndarray, virtual_audio: Path, paired: bool
) -> None:
    audio, blocks = engine
    capture = audio.capture_processor
    assert capture is not None
    capture.pair_quiet = paired  # as the session sets it while nobody speaks
    writer = FifoWriter(virtual_audio / FIFO_NAME).write(speech)
    started_at: list[int] = []  # 20 ms blocks received when speech was first heard
    speech_blocks = len(speech) // 480

    def received() -> int:
        return sum(len(pcm) for pcm in blocks) // 960

    def finished() -> bool:
        # The FIFO write returns early (the pipe buffers ~1.4 s), so count blocks instead:
        # done when the whole utterance's worth of blocks has arrived after its onset.
        if not started_at and audio.input_level.peak_db > -30:
            started_at.append(received())
        return bool(started_at) and received() >= started_at[0] + speech_blocks + 10

    levels = await sample_levels(lambda: audio.input_level, finished, 15.0)
    await wait_done(writer)
    voiced = [db for db in levels if db > -60]
    # Speech, not a tone and not noise: loud syllables around -15..-30 dBFS with pauses.
    assert len(voiced) >= 20
    assert -35 < float(np.median(voiced)) < -10
    assert max(voiced) < -3
    assert min(levels) == -90.0
    recorded = np.frombuffer(b"".join(blocks), dtype="<i2")
    _, correlation = best_alignment(recorded, speech)
    assert correlation > 0.999  # paired or not: every sample, in order
    assert any(len(pcm) == 1920 for pcm in blocks) is paired  # the silence went two at a time
    assert measure(recorded).rms_db == pytest.approx(measure(speech).rms_db, abs=1.5)


async def test_speech_played_comes_back_from_the_monitor(
    engine: tuple[AudioEngine, list[bytes]], speech: np.ndarray
) -> None:
    audio, _ = engine
    with MonitorRecorder() as monitor:
        assert await wait_for(lambda: monitor.total_frames > 2400, 2.0)
        for start in range(0, len(speech), 4800):
            audio.play("speech_item", speech[start : start + 4800].tobytes())
        levels = await sample_levels(lambda: audio.output_level, lambda: not audio.audible, 10.0)
        settle = monitor.total_frames + int((monitor.latency + 0.1) * monitor.rate)
        assert await wait_for(lambda: monitor.total_frames >= settle, 2.0)
    assert monitor.overflows == 0
    heard = monitor.samples()
    _, correlation = best_alignment(heard, speech)
    assert correlation > 0.999
    voiced = [db for db in levels if db > -60]
    assert len(voiced) >= 20 and -35 < float(np.median(voiced)) < -10
    assert audio.played_ms("speech_item") == len(speech) * 1000 // 24000
