"""Reply audio: spoken-style tones for text, the parrot's description of what it heard."""

from __future__ import annotations

import numpy as np
import pytest

from tests.server import silence, tone
from tui.constants import WIRE_RATE_HZ
from tui.localserver.vad import level_dbfs
from tui.localserver.voice import describe_heard, synthesize, transcribe_placeholder


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / WIRE_RATE_HZ


def test_reply_audio_is_audible_from_the_first_milliseconds() -> None:
    pcm = synthesize("You said: hello there")
    first_10ms = np.frombuffer(pcm[: WIRE_RATE_HZ // 100 * 2], dtype="<i2")
    assert np.abs(first_10ms).max() > 300  # about -40 dBFS peak within 10 ms
    assert -30 < level_dbfs(pcm) < -6


def test_duration_follows_the_text_and_is_capped() -> None:
    text = "You said: hello there"
    assert seconds(synthesize(text)) == pytest.approx(len(text) * 0.06, abs=0.01)
    assert seconds(synthesize("x" * 1000)) == pytest.approx(6.0, abs=0.01)
    assert seconds(synthesize("hi")) == pytest.approx(0.4, abs=0.01)  # floor
    assert seconds(synthesize(text, speed=1.5)) < seconds(synthesize(text))


def test_reply_sounds_like_syllables_not_a_steady_tone() -> None:
    samples = np.frombuffer(synthesize("You said: one two three four"), dtype="<i2")
    frames = samples[: len(samples) // 240 * 240].reshape(-1, 240).astype(np.float64)
    envelope = np.sqrt(np.mean(frames**2, axis=1))
    # loud syllables and near-silent gaps between words
    assert envelope.max() > 20 * max(1.0, envelope.min())


def test_voices_differ() -> None:
    assert synthesize("hello", voice="marin") != synthesize("hello", voice="cedar")


def test_describe_heard_gives_duration_and_level() -> None:
    assert describe_heard(tone(2300, dbfs=-23)) == "I heard 2.3 s of audio at -23 dBFS"
    assert describe_heard(silence(500)) == "I heard 0.5 s of audio at -120 dBFS"
    assert transcribe_placeholder(tone(1500)) == "(speech, 1.5 s)"
