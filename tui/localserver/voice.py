"""Reply audio of the local server: spoken-style tone syllables, and the parrot's description.

`synthesize(text)` turns a reply transcript into PCM16 24 kHz that sounds like speech from a
distance: one vowel-like syllable (a few harmonics under an attack/decay envelope, a gliding
pitch) per group of letters, short gaps between words. About 60 ms per character, capped at
6 s, never silence: the very first samples are already audible so latency can be measured.
The voice name picks the base pitch, so `marin` and `cedar` sound different.
"""

from __future__ import annotations

import zlib

import numpy as np

from tui.constants import WIRE_RATE_HZ
from tui.localserver.vad import level_dbfs

MS_PER_CHAR = 60
MAX_SECONDS = 6.0
MIN_SECONDS = 0.4
PEAK = 0.3 * 32767  # about -10 dBFS peak, -16 dBFS RMS: clearly audible, never clipping
ATTACK_S = 0.004


def _base_pitch(voice: str) -> float:
    """A stable base pitch per voice name, 110-230 Hz."""
    return 110.0 + zlib.crc32(voice.encode()) % 120


def _syllable(duration_s: float, f0_start: float, f0_end: float, seed: int) -> np.ndarray:
    count = max(1, int(duration_s * WIRE_RATE_HZ))
    t = np.arange(count) / WIRE_RATE_HZ
    f0 = np.linspace(f0_start, f0_end, count)
    phase = 2 * np.pi * np.cumsum(f0) / WIRE_RATE_HZ
    # vowel colour: harmonic weights vary per syllable
    weights = (1.0, 0.5 + (seed % 5) / 10, 0.25 + (seed % 3) / 10, 0.12)
    wave = sum(w * np.sin((k + 1) * phase) for k, w in enumerate(weights))
    attack = np.minimum(1.0, t / ATTACK_S)
    decay = np.minimum(1.0, (duration_s - t) / (duration_s * 0.35))
    envelope = attack * np.clip(decay, 0.0, 1.0) ** 1.5
    out = wave * envelope
    return out / (np.max(np.abs(out)) or 1.0)


def synthesize(
    text: str, *, voice: str = "marin", speed: float = 1.0, max_seconds: float = MAX_SECONDS
) -> bytes:
    """PCM16 mono 24 kHz "speech" for `text` (see the module doc)."""
    speed = min(1.5, max(0.25, speed))
    total_s = min(max_seconds, max(MIN_SECONDS, len(text) * MS_PER_CHAR / 1000 / speed))
    words = text.split() or ["..."]
    base = _base_pitch(voice)
    # each word gets time by its length; a syllable per ~3 letters; 50 ms gap between words
    letters = sum(len(w) for w in words)
    gap_s = 0.05 / speed
    speech_s = max(0.1, total_s - gap_s * (len(words) - 1))
    pieces: list[np.ndarray] = []
    elapsed = 0.0
    for index, word in enumerate(words):
        if elapsed >= total_s:
            break
        word_s = speech_s * len(word) / letters
        syllables = max(1, round(len(word) / 3))
        for part in range(syllables):
            seed = zlib.crc32(f"{word}{part}".encode())
            f0 = base * (1.0 + ((seed % 7) - 3) / 20)
            glide = f0 * (0.92 if part == syllables - 1 else 1.04)
            pieces.append(_syllable(word_s / syllables, f0, glide, seed))
        elapsed += word_s
        if index < len(words) - 1:
            pieces.append(np.zeros(int(gap_s * WIRE_RATE_HZ)))
            elapsed += gap_s
    audio = np.concatenate(pieces)[: int(total_s * WIRE_RATE_HZ)]
    return (audio * PEAK).astype("<i2").tobytes()


def describe_heard(pcm: bytes) -> str:
    """The parrot's transcript: what it heard, as duration and RMS level."""
    seconds = len(pcm) / 2 / WIRE_RATE_HZ
    return f"I heard {seconds:.1f} s of audio at {level_dbfs(pcm):.0f} dBFS"


def transcribe_placeholder(pcm: bytes) -> str:
    """The local server's "transcription" of user audio: it only knows how long it was."""
    return f"(speech, {len(pcm) / 2 / WIRE_RATE_HZ:.1f} s)"
