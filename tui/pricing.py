"""Estimated cost of a response from its `usage`, per model. The one place prices live.

Prices are USD as published on OpenAI's model pages (developers.openai.com/api/docs/models/
<model>; copied 2026, see docs/realtime-protocol.md section 6). They are estimates: the UI
marks them with "≈". A model is priced by its exact id, or a dated snapshot of it
(gpt-realtime-2025-08-28 bills as gpt-realtime); never by a shorter name it starts with, so a
new model (gpt-realtime-2.1 once was) is shown as not priced rather than at another's price.
Every model the settings offer is either priced here or listed in UNPRICED with the reason
(tests/core/test_pricing.py checks that).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1M tokens of a realtime model."""

    text_in: float
    text_cached: float
    text_out: float
    audio_in: float
    audio_cached: float
    audio_out: float


_FULL = Price(4.00, 0.40, 16.00, 32.00, 0.40, 64.00)
_REASONING = Price(4.00, 0.40, 24.00, 32.00, 0.40, 64.00)  # gpt-realtime-2's text output
_MINI = Price(0.60, 0.06, 2.40, 10.00, 0.30, 20.00)

PRICES: dict[str, Price] = {
    "gpt-realtime": _FULL,
    "gpt-realtime-1.5": _FULL,
    "gpt-realtime-2": _REASONING,
    "gpt-realtime-2.1": _REASONING,  # …/models/gpt-realtime-2.1: the same figures as 2
    "gpt-realtime-mini": _MINI,
    "gpt-realtime-2.1-mini": _MINI,
}


@dataclass(frozen=True, slots=True)
class TranscriptionPrice:
    """A token-billed transcription model: USD per 1M tokens of input (the audio) and output
    (the transcript text), as a `{"type": "tokens"}` usage reports them."""

    input: float
    output: float


@dataclass(frozen=True, slots=True)
class MinutePrice:
    """A model billed by audio duration: USD per minute, as a `{"type": "duration"}` usage
    reports it (its `seconds`)."""

    per_minute: float


# Token-billed: …/models/gpt-4o-transcribe (input 2.50, output 10.00) and
# …/models/compare?model=gpt-4o-mini-transcribe (input 1.25, output 5.00). Billed per minute:
# …/models/gpt-transcribe (0.0045), …/models/gpt-live-transcribe and
# …/models/gpt-realtime-whisper (0.017 each, "realtime audio duration"), …/models/whisper-1
# (0.006).
TRANSCRIPTION_PRICES: dict[str, TranscriptionPrice | MinutePrice] = {
    "gpt-4o-transcribe": TranscriptionPrice(2.50, 10.00),
    "gpt-4o-mini-transcribe": TranscriptionPrice(1.25, 5.00),
    "gpt-transcribe": MinutePrice(0.0045),
    "gpt-live-transcribe": MinutePrice(0.017),
    "gpt-realtime-whisper": MinutePrice(0.017),
    "whisper-1": MinutePrice(0.006),
}

# Models the settings offer that have no price here, and why: their cost is not estimated
# (None; the status line says "not priced") instead of borrowing a neighbour's price.
UNPRICED: dict[str, str] = {
    "gpt-4o-realtime-preview": "preview model; no price copied",
    "gpt-4o-mini-realtime-preview": "preview model; no price copied",
    "gpt-audio-1.5": "its page lists no cached-input price, which Realtime sessions bill",
    "gpt-audio-mini": "its page lists text prices only, no audio prices",
    "gpt-4o-transcribe-diarize": "no price copied",
}

# a dated snapshot (gpt-4o-mini-transcribe-2025-12-15) bills as its model; any other suffix
# (gpt-4o-transcribe-diarize, gpt-realtime-2.1) is another model
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def base_model(model: str) -> str:
    """The model a dated snapshot id belongs to: 'gpt-realtime-2025-08-28' -> 'gpt-realtime'."""
    return _SNAPSHOT.sub("", model)


def price_for(model: str) -> Price | None:
    """The price of a realtime model id (or of the model a dated snapshot belongs to)."""
    return PRICES.get(model) or PRICES.get(base_model(model))


def _int(mapping: Any, key: str) -> int:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, int) else 0


def estimate_cost(model: str, usage: dict[str, Any]) -> float | None:
    """Cost in USD of one response's usage (response.done.response.usage), None if unpriced."""
    price = price_for(model)
    if price is None:
        return None
    inp = usage.get("input_token_details") or {}
    out = usage.get("output_token_details") or {}
    cached = inp.get("cached_tokens_details") or {}
    text_in, audio_in = _int(inp, "text_tokens"), _int(inp, "audio_tokens")
    cached_text, cached_audio = _int(cached, "text_tokens"), _int(cached, "audio_tokens")
    text_out, audio_out = _int(out, "text_tokens"), _int(out, "audio_tokens")
    if not (text_in or audio_in or text_out or audio_out):
        # no breakdown: treat everything as text, the cheaper assumption is still an estimate
        text_in, text_out = _int(usage, "input_tokens"), _int(usage, "output_tokens")
    dollars = (
        max(text_in - cached_text, 0) * price.text_in
        + cached_text * price.text_cached
        + max(audio_in - cached_audio, 0) * price.audio_in
        + cached_audio * price.audio_cached
        + text_out * price.text_out
        + audio_out * price.audio_out
    )
    return dollars / 1_000_000


def transcription_price_for(model: str) -> TranscriptionPrice | MinutePrice | None:
    return TRANSCRIPTION_PRICES.get(model) or TRANSCRIPTION_PRICES.get(base_model(model))


def estimate_transcription_cost(model: str, usage: dict[str, Any]) -> float | None:
    """Cost in USD of one `…input_audio_transcription.completed` usage, None if unpriced.

    A token-billed model is priced from `{"type": "tokens"}` usage, a model billed per minute
    from `{"type": "duration"}` usage; usage of the other kind cannot be priced.
    """
    price = transcription_price_for(model)
    kind = usage.get("type")
    if isinstance(price, TranscriptionPrice) and kind == "tokens":
        dollars = (
            _int(usage, "input_tokens") * price.input + _int(usage, "output_tokens") * price.output
        )
        return dollars / 1_000_000
    if isinstance(price, MinutePrice) and kind == "duration":
        seconds = _seconds(usage.get("seconds"))
        if seconds is not None:
            return price.per_minute * seconds / 60
    return None


def _seconds(value: Any) -> float | None:
    """A duration a cost can be computed from (finite, not negative), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None
