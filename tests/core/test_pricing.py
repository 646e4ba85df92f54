"""Cost estimates: realtime responses and input transcription, per model."""

from __future__ import annotations

import pytest

from tui.config import MODELS, TRANSCRIPTION_MODELS
from tui.pricing import (
    PRICES,
    TRANSCRIPTION_PRICES,
    UNPRICED,
    base_model,
    estimate_cost,
    estimate_transcription_cost,
    price_for,
    transcription_price_for,
)

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


@pytest.mark.parametrize("model", ["gpt-4o-transcribe-diarize", "my-azure-deployment"])
def test_transcription_models_without_a_copied_price_are_unpriced(model: str) -> None:
    assert transcription_price_for(model) is None
    assert estimate_transcription_cost(model, TRANSCRIPTION_USAGE) is None
    assert estimate_transcription_cost(model, {"type": "duration", "seconds": 60.0}) is None


@pytest.mark.parametrize(
    ("model", "per_minute"),
    [
        ("gpt-transcribe", 0.0045),
        ("gpt-live-transcribe", 0.017),
        ("gpt-realtime-whisper", 0.017),
        ("whisper-1", 0.006),
    ],
)
def test_models_billed_by_duration_are_priced_per_minute(model: str, per_minute: float) -> None:
    usage = {"type": "duration", "seconds": 90.0}
    assert estimate_transcription_cost(model, usage) == pytest.approx(1.5 * per_minute)
    # the other kind of usage cannot be priced: its tokens are not what the model bills
    assert estimate_transcription_cost(model, TRANSCRIPTION_USAGE) is None


def test_duration_usage_of_a_token_billed_model_is_not_priced() -> None:
    usage = {"type": "duration", "seconds": 12.5}
    assert estimate_transcription_cost("gpt-4o-mini-transcribe", usage) is None


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -1.0, True, "60", None])
def test_a_duration_that_is_not_a_number_of_seconds_is_not_priced(seconds: object) -> None:
    usage = {"type": "duration", "seconds": seconds}
    assert estimate_transcription_cost("gpt-transcribe", usage) is None


def test_a_transcription_model_is_not_a_realtime_price() -> None:
    assert estimate_cost("gpt-4o-transcribe", TRANSCRIPTION_USAGE) is None


REPLY_USAGE = {
    "input_token_details": {"text_tokens": 1_000_000, "audio_tokens": 1_000_000},
    "output_token_details": {"text_tokens": 1_000_000, "audio_tokens": 1_000_000},
}


def test_gpt_realtime_2_1_has_its_own_price_not_gpt_realtimes() -> None:
    # once priced as gpt-realtime by the prefix "gpt-realtime-": text output at 16, not 24
    assert estimate_cost("gpt-realtime-2.1", REPLY_USAGE) == pytest.approx(4 + 32 + 24 + 64)
    assert estimate_cost("gpt-realtime", REPLY_USAGE) == pytest.approx(4 + 32 + 16 + 64)


@pytest.mark.parametrize(
    "model", ["gpt-realtime-3", "gpt-realtime-mini-2", "gpt-realtime-2-turbo", "my-deployment"]
)
def test_a_model_is_never_priced_by_a_shorter_name_it_starts_with(model: str) -> None:
    assert price_for(model) is None
    assert estimate_cost(model, REPLY_USAGE) is None


@pytest.mark.parametrize(
    ("snapshot", "model"),
    [
        ("gpt-realtime-2025-08-28", "gpt-realtime"),
        ("gpt-realtime-mini-2025-12-15", "gpt-realtime-mini"),
        ("gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-mini-transcribe"),
    ],
)
def test_a_dated_snapshot_bills_as_its_model(snapshot: str, model: str) -> None:
    assert base_model(snapshot) == model
    assert price_for(snapshot) == price_for(model)
    assert transcription_price_for(snapshot) == transcription_price_for(model)


@pytest.mark.parametrize("model", MODELS)
def test_every_offered_realtime_model_is_priced_or_says_why_not(model: str) -> None:
    priced = price_for(model) is not None
    unpriced = base_model(model) in UNPRICED
    assert priced != unpriced, f"{model}: priced={priced}, listed as unpriced={unpriced}"
    if unpriced:
        assert estimate_cost(model, REPLY_USAGE) is None


@pytest.mark.parametrize("model", TRANSCRIPTION_MODELS)
def test_every_offered_transcription_model_is_priced_or_says_why_not(model: str) -> None:
    priced = transcription_price_for(model) is not None
    unpriced = base_model(model) in UNPRICED
    assert priced != unpriced, f"{model}: priced={priced}, listed as unpriced={unpriced}"


def test_the_unpriced_list_names_no_priced_model_and_gives_reasons() -> None:
    assert not set(UNPRICED) & (set(PRICES) | set(TRANSCRIPTION_PRICES))
    assert all(reason.strip() for reason in UNPRICED.values())
