"""Test signals for the audio tests: tones, espeak-ng speech, FIFO feeding, monitor recording."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soxr

RATE = 24000
FIFO_NAME = "rt_mic.fifo"


def tone(freq: float, seconds: float, *, amplitude: float = 0.5, rate: int = RATE) -> np.ndarray:
    """A sine as int16."""
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def peak_hz(samples: np.ndarray, rate: int = RATE, threshold: float = 0.05) -> float:
    """The dominant frequency of the span above `threshold` (fraction of full scale)."""
    x = samples.astype(np.float64) / 32768.0
    loud = np.flatnonzero(np.abs(x) > threshold)
    if len(loud) == 0:
        return 0.0
    x = x[loud[0] : loud[-1] + 1]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


def active_span(samples: np.ndarray, threshold: int = 300) -> tuple[int, int] | None:
    """First and one-past-last index whose |x| exceeds `threshold`."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return None
    return int(loud[0]), int(loud[-1]) + 1


def longest_quiet_run(samples: np.ndarray, threshold: int = 300) -> int:
    """The longest run of samples with |x| <= threshold between the first and last loud one.

    A sine crosses zero every half period, so callers compare against a few samples, not 0.
    """
    span = active_span(samples, threshold)
    if span is None:
        return 0
    quiet = np.abs(samples[span[0] : span[1]].astype(np.int32)) <= threshold
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best


def espeak_speech(text: str, workdir: Path) -> np.ndarray:
    """`text` spoken by espeak-ng (en-us), resampled to 24 kHz int16. An optional system
    tool: without it the calling test skips with the reason (never an error)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = workdir / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        if wav.getnchannels() > 1:
            raw = raw[:: wav.getnchannels()]
    return soxr.resample(raw.astype(np.int16), rate, RATE)


class FifoWriter:
    """Writes PCM16 into the virtual mic FIFO from a thread (the write blocks ~real time)."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.done = threading.Event()
        self.error: BaseException | None = None

    def write(self, samples: np.ndarray) -> FifoWriter:
        def run() -> None:
            try:
                with open(self.fifo, "wb") as out:
                    out.write(samples.astype("<i2").tobytes())
            except BaseException as exc:  # surfaced by the test via .error
                self.error = exc
            finally:
                self.done.set()

        threading.Thread(target=run, daemon=True).start()
        return self


class MonitorRecorder:
    """Records a device (the speaker's monitor) with its own sounddevice InputStream."""

    def __init__(
        self, device: str = "rt_speaker_monitor", rate: int = RATE, latency: str = "high"
    ) -> None:
        import sounddevice as sd

        self.rate = rate
        self.blocks: list[np.ndarray] = []
        self.times: list[float] = []  # monotonic time at each callback
        self.overflows = 0  # blocks PortAudio lost because this process was too slow
        self.total_frames = 0
        self._stream = sd.InputStream(
            device=device,
            samplerate=rate,
            channels=1,
            dtype="int16",
            # "high" (~35 ms) rides out a busy machine without losing input.
            latency=latency,
            callback=self._callback,
        )

    def _callback(self, indata: np.ndarray, frames: int, _t: object, status: Any) -> None:
        if status.input_overflow:
            self.overflows += 1
        self.blocks.append(indata[:, 0].copy())
        self.total_frames += frames
        self.times.append(time.monotonic())

    def __enter__(self) -> MonitorRecorder:
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()

    def samples(self) -> np.ndarray:
        return np.concatenate(self.blocks) if self.blocks else np.zeros(0, dtype=np.int16)

    @property
    def latency(self) -> float:
        return float(self._stream.latency)


async def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Poll `condition` until true or `timeout` seconds pass; returns the last result."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return condition()
        await asyncio.sleep(step)
    return True
