"""Estimated cost of a response from its `usage`, per model. The one place prices live.

Prices are USD per 1M tokens as published on OpenAI's model pages (copied 2026; see
docs/realtime-protocol.md section 6). They are estimates: the UI marks them with "≈".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Price:
    text_in: float
    text_cached: float
    text_out: float
    audio_in: float
    audio_cached: float
    audio_out: float


_FULL = Price(4.00, 0.40, 16.00, 32.00, 0.40, 64.00)
_MINI = Price(0.60, 0.06, 2.40, 10.00, 0.30, 20.00)

PRICES: dict[str, Price] = {
    "gpt-realtime": _FULL,
    "gpt-realtime-1.5": _FULL,
    "gpt-realtime-2": Price(4.00, 0.40, 24.00, 32.00, 0.40, 64.00),
    "gpt-realtime-mini": _MINI,
    "gpt-realtime-2.1-mini": _MINI,
}


@dataclass(frozen=True, slots=True)
class TranscriptionPrice:
    """Input transcription bills its input (the audio) and its output (the transcript text)."""

    input: float
    output: float


# USD per 1M tokens, one input rate for the model, as the model pages list them (copied 2026):
# developers.openai.com/api/docs/models/gpt-4o-transcribe (input 2.50, output 10.00) and
# developers.openai.com/api/docs/models/compare?model=gpt-4o-mini-transcribe (input 1.25,
# output 5.00). Not here, so shown as not priced: whisper-1 and gpt-transcribe (billed per
# minute of audio), gpt-4o-transcribe-diarize and the rest (no price copied).
TRANSCRIPTION_PRICES: dict[str, TranscriptionPrice] = {
    "gpt-4o-transcribe": TranscriptionPrice(2.50, 10.00),
    "gpt-4o-mini-transcribe": TranscriptionPrice(1.25, 5.00),
}
# a dated snapshot (gpt-4o-mini-transcribe-2025-12-15) bills as its model; other suffixes
# (gpt-4o-transcribe-diarize) are other models
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def price_for(model: str) -> Price | None:
    """The price entry for a model id; dated ids (gpt-realtime-mini-2025-12-15) use their family."""
    if model in PRICES:
        return PRICES[model]
    for name in sorted(PRICES, key=len, reverse=True):
        if model.startswith(name + "-"):
            return PRICES[name]
    return None


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


def transcription_price_for(model: str) -> TranscriptionPrice | None:
    return TRANSCRIPTION_PRICES.get(_SNAPSHOT.sub("", model))


def estimate_transcription_cost(model: str, usage: dict[str, Any]) -> float | None:
    """Cost in USD of one `…input_audio_transcription.completed` usage, None if unpriced.

    Only token usage is priced; `{"type": "duration"}` usage (per-minute models) is not.
    """
    price = transcription_price_for(model)
    if price is None or usage.get("type") != "tokens":
        return None
    dollars = (
        _int(usage, "input_tokens") * price.input + _int(usage, "output_tokens") * price.output
    )
    return dollars / 1_000_000
