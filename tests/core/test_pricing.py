"""Cost estimates: realtime responses and input transcription, per model."""

from __future__ import annotations

import pytest

from tui.pricing import estimate_cost, estimate_transcription_cost, transcription_price_for

TRANSCRIPTION_USAGE = {
    "type": "tokens",
    "input_tokens": 1_000_000,
    "output_tokens": 100_000,
    "total_tokens": 1_100_000,
    "input_token_details": {"audio_tokens": 1_000_000, "text_tokens": 0},
}


@pytest.mark.parametrize(
    ("model", "dollars"),
    [
        ("gpt-4o-transcribe", 2.50 + 1.00),
        ("gpt-4o-mini-transcribe", 1.25 + 0.50),
        ("gpt-4o-mini-transcribe-2025-12-15", 1.25 + 0.50),  # a snapshot bills as its model
    ],
)
def test_transcription_priced_per_token(model: str, dollars: float) -> None:
    assert estimate_transcription_cost(model, TRANSCRIPTION_USAGE) == pytest.approx(dollars)


@pytest.mark.parametrize(
    "model", ["whisper-1", "gpt-transcribe", "gpt-4o-transcribe-diarize", "my-azure-deployment"]
)
def test_transcription_models_without_a_copied_price_are_unpriced(model: str) -> None:
    assert transcription_price_for(model) is None
    assert estimate_transcription_cost(model, TRANSCRIPTION_USAGE) is None


def test_duration_usage_is_not_priced() -> None:
    usage = {"type": "duration", "seconds": 12.5}
    assert estimate_transcription_cost("gpt-4o-mini-transcribe", usage) is None


def test_a_transcription_model_is_not_a_realtime_price() -> None:
    assert estimate_cost("gpt-4o-transcribe", TRANSCRIPTION_USAGE) is None
