"""A synthetic room for echo-cancellation tests: speech, an echo path, noise, and levels.

Offline, `echo_scene` builds a microphone signal from a far end (what the loudspeaker plays)
and an optional near-end talker. Live, `LiveRoom` does the same thing in real time between
the virtual devices: it records what the client played on `rt_speaker` (its monitor), runs it
through the room and writes the result into the virtual microphone (`rt_mic_feed`).

Speech is real synthesized speech from espeak-ng, resampled 22.05 -> 24 kHz with soxr and
cached as .npy files so a test session renders each sentence once.
"""

from __future__ import annotations

import collections
import hashlib
import subprocess
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from tui.audio.echo import FRAME_SAMPLES, EchoPath
from tui.localserver.vad import EnergyVad

RATE = 24_000
FULL_SCALE = 32768.0

FAR_TEXT = (
    "Thanks for asking. The weather this weekend looks mostly dry, with a little wind on "
    "Saturday morning and some sunshine in the afternoon. On Sunday clouds move in from the "
    "west, and there may be a short shower in the evening, so take a light jacket if you go "
    "out late. Temperatures stay mild, around fifteen degrees, which is quite normal for this "
    "time of year. If you are planning a walk, Saturday afternoon is the best time for it."
)
NEAR_TEXT = (
    "Sorry to interrupt, but could you tell me about the trains to the coast instead? "
    "I need to leave early tomorrow."
)
ODD_BLOCKS = (480, 441, 1000)  # capture blocks that do not divide into 10 ms frames
FAR_VOICE = "en-us"
NEAR_VOICE = "en-gb+f3"


# --- speech ---------------------------------------------------------------------------------


def render_speech(
    text: str, voice: str, cache_dir: Path, *, pitch: int | None = None, level_dbfs: float = -20.0
) -> np.ndarray:
    """espeak-ng speech as 24 kHz int16, scaled to `level_dbfs` RMS over its active frames."""
    key = hashlib.sha256(f"{voice}|{pitch}|{level_dbfs}|{text}".encode()).hexdigest()[:16]
    cached = cache_dir / f"speech-{key}.npy"
    if cached.exists():
        return np.load(cached)
    cache_dir.mkdir(parents=True, exist_ok=True)
    wav_path = cache_dir / f"speech-{key}.wav"
    command = ["espeak-ng", "-v", voice, "-w", str(wav_path)]
    if pitch is not None:
        command += ["-p", str(pitch)]
    subprocess.run([*command, text], check=True, capture_output=True)
    with wave.open(str(wav_path), "rb") as wav:
        source_rate = wav.getframerate()
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = soxr.resample(raw.astype(np.float64) / FULL_SCALE, source_rate, RATE, "HQ")
    samples = trim_silence(samples)
    samples *= 10.0 ** ((level_dbfs - active_level_dbfs(samples)) / 20.0)
    speech = to_int16(samples)
    np.save(cached, speech)
    return speech


def trim_silence(samples: np.ndarray, threshold_dbfs: float = -60.0) -> np.ndarray:
    """Drop leading and trailing silence so the speech onset is known to the sample."""
    loud = np.flatnonzero(np.abs(samples) > 10.0 ** (threshold_dbfs / 20.0))
    if loud.size == 0:
        return samples
    return samples[loud[0] : loud[-1] + 1]


# --- levels ---------------------------------------------------------------------------------


def as_float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / FULL_SCALE
    return samples.astype(np.float64)


def to_int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(samples * FULL_SCALE), -32768, 32767).astype(np.int16)


def frame_energies(samples: np.ndarray, frame: int = 240) -> np.ndarray:
    """Mean square per 10 ms frame (float, full scale 1.0)."""
    x = as_float(samples)
    usable = x.size - x.size % frame
    return np.mean(x[:usable].reshape(-1, frame) ** 2, axis=1)


def level_dbfs(samples: np.ndarray) -> float:
    x = as_float(samples)
    return 10.0 * np.log10(max(float(np.mean(x**2)), 1e-20))


def active_level_dbfs(samples: np.ndarray, gate_dbfs: float = -50.0) -> float:
    """RMS level over the 10 ms frames above `gate_dbfs` (speech level without its pauses)."""
    energies = frame_energies(samples)
    active = energies[energies > 10.0 ** (gate_dbfs / 10.0)]
    if active.size == 0:
        return -200.0
    return 10.0 * np.log10(float(np.mean(active)))


def erle_db(mic: np.ndarray, out: np.ndarray, mask: np.ndarray, frame: int = 240) -> float:
    """10·log10(Σmic² / Σout²) over the 10 ms frames selected by `mask`."""
    mic_e = frame_energies(mic, frame)
    out_e = frame_energies(out, frame)
    n = min(mic_e.size, out_e.size, mask.size)
    selected = mask[:n]
    return 10.0 * np.log10(float(np.sum(mic_e[:n][selected])) / float(np.sum(out_e[:n][selected])))


# --- the echo path --------------------------------------------------------------------------


def room_impulse_response(
    delay_ms: float,
    *,
    rt60_s: float = 0.25,
    drr_db: float = 3.0,
    echo_gain_db: float = -6.0,
    seed: int = 1,
) -> np.ndarray:
    """Loudspeaker -> microphone: a bulk delay, the direct path, 4 early reflections and an
    exponentially decaying noise tail (RT60 `rt60_s`), direct-to-reverberant ratio `drr_db`,
    scaled so the echo's energy is `echo_gain_db` relative to what the loudspeaker plays."""
    rng = np.random.default_rng(seed)
    bulk = round(delay_ms * RATE / 1000.0)
    tail_len = round(rt60_s * RATE)
    direct = np.zeros(tail_len)
    direct[0] = 1.0
    for delay_s, gain in ((0.0031, 0.5), (0.0057, -0.4), (0.0093, 0.3), (0.0141, -0.25)):
        direct[round(delay_s * RATE)] += gain
    t = np.arange(tail_len) / RATE
    tail = rng.standard_normal(tail_len) * np.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
    tail[: round(0.002 * RATE)] = 0.0
    direct_energy = float(np.sum(direct**2))
    tail *= np.sqrt(direct_energy / float(np.sum(tail**2)) * 10.0 ** (-drr_db / 10.0))
    response = direct + tail
    response *= np.sqrt(10.0 ** (echo_gain_db / 10.0) / float(np.sum(response**2)))
    return np.concatenate((np.zeros(bulk), response))


def convolve(signal: np.ndarray, response: np.ndarray) -> np.ndarray:
    """`signal` through `response`, same length as `signal` (FFT convolution)."""
    x = as_float(signal)
    size = x.size + response.size - 1
    n_fft = 1 << (size - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, n_fft) * np.fft.rfft(response, n_fft), n_fft)
    return y[: x.size]


def white_noise(samples: int, level_dbfs: float, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(samples) * 10.0 ** (level_dbfs / 20.0)


@dataclass
class EchoScene:
    """One offline recording: what the loudspeaker played and what the microphone heard."""

    far: np.ndarray  # int16, the reference handed to the device
    mic: np.ndarray  # int16, echo + near + noise
    echo: np.ndarray  # float, the echo component alone
    near: np.ndarray  # float, the near-end talker alone (zeros if none)
    near_onset: int | None  # sample where the near talker starts

    def far_only_mask(self, from_s: float = 0.0, frame: int = 240) -> np.ndarray:
        """10 ms frames where the echo is active, the near end silent, after `from_s`."""
        echo_e = frame_energies(self.echo, frame)
        near_e = frame_energies(self.near, frame)
        mask = (echo_e > 10.0 ** (-50.0 / 10.0)) & (near_e < 10.0 ** (-70.0 / 10.0))
        mask[: round(from_s * RATE / frame)] = False
        return mask


def echo_scene(
    far: np.ndarray,
    *,
    delay_ms: float = 50.0,
    echo_gain_db: float = -6.0,
    near: np.ndarray | None = None,
    near_onset_s: float | None = None,
    noise_dbfs: float = -65.0,
    seed: int = 1,
) -> EchoScene:
    """The microphone of a room where `far` plays from a loudspeaker (echo_gain_db None-like
    values below -100 mean no echo path: the headphones case)."""
    length = far.size
    if echo_gain_db > -100.0:
        echo = convolve(far, room_impulse_response(delay_ms, echo_gain_db=echo_gain_db, seed=seed))
    else:
        echo = np.zeros(length)
    near_signal = np.zeros(length)
    onset = None
    if near is not None:
        onset = round((near_onset_s or 0.0) * RATE)
        part = as_float(near)[: max(0, length - onset)]
        near_signal[onset : onset + part.size] = part
    mic = echo + near_signal + white_noise(length, noise_dbfs, seed=seed + 1)
    return EchoScene(far=far, mic=to_int16(mic), echo=echo, near=near_signal, near_onset=onset)


def find_lag(reference: np.ndarray, recording: np.ndarray) -> int:
    """Samples by which `recording` lags `reference` (FFT cross-correlation, >= 0)."""
    a = as_float(reference)
    b = as_float(recording)
    n_fft = 1 << (a.size + b.size - 1).bit_length()
    correlation = np.fft.irfft(np.fft.rfft(b, n_fft) * np.conj(np.fft.rfft(a, n_fft)), n_fft)
    return int(np.argmax(correlation[: b.size]))


# --- running signals through the echo path -------------------------------------------------


def through_echo_path(
    path: EchoPath,
    far: np.ndarray,
    mic: np.ndarray,
    sizes: tuple[int, ...] = ODD_BLOCKS,
    *,
    rest: bool = True,
) -> np.ndarray:
    """Play `far` and capture `mic` block by block, output tap before capture, like the engine."""
    processed = []
    start = 0
    index = 0
    while start < far.size:
        size = sizes[index % len(sizes)]
        played = far[start : start + size]
        # as the playback renderer: a block the empty buffer zero-filled is marked silent
        path.on_output(played, silent=rest and not played.any())
        processed.append(path.on_input(mic[start : start + size]))
        start += size
        index += 1
    return np.concatenate(processed)


def vad_start_times_ms(pcm: np.ndarray) -> list[int]:
    """When (input-timeline ms) the server VAD would emit speech_started, fed 10 ms at a time."""
    vad = EnergyVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500)
    emitted = []
    for start in range(0, pcm.size - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        for event in vad.feed(pcm[start : start + FRAME_SAMPLES].tobytes()):
            if event.kind == "started":
                emitted.append(vad.position_ms)
    return emitted


def assert_voice_passes(raw: np.ndarray, processed: np.ndarray, talk: slice) -> None:
    """The talker's level over the same span within 1 dB, and no 100 ms of it swallowed.

    Levels are plain RMS over one span for both signals: a gate per signal would skip the
    frames the canceller suppressed and hide exactly what this checks.
    """
    raw_part = raw[talk]
    lag = find_lag(raw_part, processed[talk.start : talk.stop + 2400])
    out_part = processed[talk.start + lag : talk.stop + lag]
    raw_level = level_dbfs(raw_part)
    out_level = level_dbfs(out_part)
    assert abs(out_level - raw_level) <= 1.0, f"raw {raw_level:.2f} dBFS, out {out_level:.2f}"
    raw_e = frame_energies(raw_part, 2400)
    out_e = frame_energies(out_part, 2400)
    loud = raw_e > 10.0 ** (-40.0 / 10.0)
    gains = 10.0 * np.log10(out_e[loud] / raw_e[loud])
    assert gains.min() > -6.0, f"100 ms frames of the talker cut by {np.sort(gains)[:5]} dB"


# --- the live room --------------------------------------------------------------------------


class StreamingConvolver:
    """Block-by-block FIR filtering with overlap-add; output equals `convolve` on the whole."""

    def __init__(self, response: np.ndarray) -> None:
        self._response = response
        self._overlap = np.zeros(response.size - 1)

    def process(self, block: np.ndarray) -> np.ndarray:
        n = block.size
        size = n + self._response.size - 1
        n_fft = 1 << (size - 1).bit_length()
        y = np.fft.irfft(np.fft.rfft(block, n_fft) * np.fft.rfft(self._response, n_fft), n_fft)
        y = y[:size]
        y[: self._overlap.size] += self._overlap
        out = y[:n].copy()
        rest = y[n:]
        self._overlap = np.zeros(self._response.size - 1)
        self._overlap[: rest.size] = rest
        return out


class LiveRoom:
    """Monitor of rt_speaker -> echo path (+ near talker + noise) -> rt_mic_feed, in real time.

    One full-duplex PortAudio stream (input `rt_speaker_monitor`, output `rt_mic_feed`) keeps
    both sides on one clock. `near` (int16) starts playing into the mic when `start_near()` is
    called; `near_started_at_frame` then holds the mic-feed sample index where it began and
    `near_started` is set. `echo_gain_db` below -100 removes the echo path (headphones).
    Everything written into the mic is kept (`written()`, and its echo part `echo_written()`)
    so a test can align it with what the client captured and know where the echo was.
    """

    def __init__(
        self,
        sd: Any,
        *,
        delay_ms: float = 30.0,
        echo_gain_db: float = -6.0,
        noise_dbfs: float = -65.0,
        near: np.ndarray | None = None,
        blocksize: int = 240,
    ) -> None:
        self._sd = sd
        self._echo_on = echo_gain_db > -100.0
        self._convolver = StreamingConvolver(
            room_impulse_response(delay_ms, echo_gain_db=echo_gain_db if self._echo_on else -6.0)
        )
        self._noise_amplitude = 10.0 ** (noise_dbfs / 20.0)
        self._rng = np.random.default_rng(7)
        self._near = as_float(near) if near is not None else np.zeros(0)
        self._near_pos = -1  # -1: not started
        self._near_request = threading.Event()
        self.near_started = threading.Event()
        self.near_started_at_frame: int | None = None
        self.frames_written = 0
        self._written: list[np.ndarray] = []
        self._echo_written: list[np.ndarray] = []
        self.status_flags: collections.Counter[str] = collections.Counter()
        self._stream = sd.Stream(
            samplerate=RATE,
            blocksize=blocksize,
            device=("rt_speaker_monitor", "rt_mic_feed"),
            channels=1,
            dtype="float32",
            latency="low",
            callback=self._callback,
        )

    def start_near(self) -> None:
        self._near_request.set()

    def _callback(self, indata: Any, outdata: Any, frames: int, time: Any, status: Any) -> None:
        if status:
            self.status_flags[str(status)] += 1
        played = indata[:, 0].astype(np.float64)
        echo = self._convolver.process(played) if self._echo_on else np.zeros(frames)
        self._echo_written.append(echo)
        mic = echo + self._rng.standard_normal(frames) * self._noise_amplitude
        if self._near_request.is_set() and self._near_pos < 0:
            self._near_pos = 0
            self.near_started_at_frame = self.frames_written
            self.near_started.set()
        if 0 <= self._near_pos < self._near.size:
            part = self._near[self._near_pos : self._near_pos + frames]
            mic[: part.size] += part
            self._near_pos += part.size
        outdata[:, 0] = np.clip(mic, -1.0, 1.0)
        self._written.append(outdata[:, 0].astype(np.float64))
        self.frames_written += frames

    def written(self) -> np.ndarray:
        """Everything written into the mic so far (float, full scale 1.0)."""
        return np.concatenate(self._written) if self._written else np.zeros(0)

    def echo_written(self) -> np.ndarray:
        """The echo component of `written()`."""
        return np.concatenate(self._echo_written) if self._echo_written else np.zeros(0)

    def __enter__(self) -> LiveRoom:
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.stop()
        self._stream.close()
