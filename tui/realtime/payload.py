"""The GA `session` object of a `session.update`, built from the user's Settings.

Shape: docs/realtime-protocol.md section 2. Every setting maps to one field;
values that mean "server default" (empty instructions, no truncation ratio, no idle
timeout, reasoning effort "default", no max_output_tokens, no noise reduction strength,
empty transcription hints) are left out so the server keeps its own default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.config.values import split_list
from tui.constants import WIRE_RATE_HZ, TurnMode

if TYPE_CHECKING:
    from tui.config import SessionSettings, Settings, TurnDetectionSettings

PCM_FORMAT: dict[str, Any] = {"type": "audio/pcm", "rate": WIRE_RATE_HZ}
DEFAULT_EFFORT = "default"  # [session] reasoning_effort: nothing sent, the server decides
UNLIMITED = "inf"  # max_output_tokens: the model's maximum (the server's default)

_PROMPT, _KEYWORDS, _LANGUAGES = "prompt", "keywords", "languages"
# What each known transcription model takes besides `model` and `language`, after the SDK's
# AudioTranscription docstrings (keywords and languages: gpt-transcribe and
# gpt-live-transcribe; prompt: not gpt-realtime-whisper nor gpt-4o-transcribe-diarize) and
# the two gpt-*transcribe model pages ("unstructured context" = prompt). A name not listed
# (an Azure deployment) gets every field that is set: its owner knows what it runs.
TRANSCRIPTION_FIELDS: dict[str, frozenset[str]] = {
    "gpt-transcribe": frozenset({_PROMPT, _KEYWORDS, _LANGUAGES}),
    "gpt-live-transcribe": frozenset({_PROMPT, _KEYWORDS, _LANGUAGES}),
    "gpt-realtime-whisper": frozenset(),
    "gpt-4o-mini-transcribe": frozenset({_PROMPT}),
    "gpt-4o-mini-transcribe-2025-12-15": frozenset({_PROMPT}),
    "gpt-4o-transcribe": frozenset({_PROMPT}),
    "gpt-4o-transcribe-diarize": frozenset(),
    "whisper-1": frozenset({_PROMPT}),
}


def session_config(
    settings: Settings, tools: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The `session` object for `events.session_update`, from `settings.session`, with the
    `session.tools` entries if given (the tool box's `tools()`)."""
    session = settings.session
    config: dict[str, Any] = {
        "type": "realtime",
        "output_modalities": [session.output_modalities],
    }
    if session.instructions:
        config["instructions"] = session.instructions
    config["audio"] = {
        "input": {
            "format": dict(PCM_FORMAT),
            "noise_reduction": noise_reduction(
                session.noise_reduction, session.noise_reduction_strength
            ),
            "transcription": transcription_of(session),
            "turn_detection": turn_detection(session.turn_detection),
        },
        "output": {
            "format": dict(PCM_FORMAT),
            "voice": session.voice,
            "speed": float(session.speed),
        },
    }
    if session.reasoning_effort != DEFAULT_EFFORT:
        config["reasoning"] = {"effort": session.reasoning_effort}
    if session.max_output_tokens is not None:
        config["max_output_tokens"] = int(session.max_output_tokens)
    if session.truncation_retention_ratio is not None:
        config["truncation"] = {
            "type": "retention_ratio",
            "retention_ratio": float(session.truncation_retention_ratio),
        }
    if tools is not None:
        config.update(tools_fields(tools))
    return config


def tools_fields(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`tools` and `tool_choice` for a session.update: an empty list clears the tools (a
    server went away), so the field is sent even then."""
    return {"tools": [dict(tool) for tool in tools], "tool_choice": "auto"}


def tools_update(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A `session` object that changes only the tools (GA: absent fields stay as they are)."""
    return {"type": "realtime", **tools_fields(tools)}


def live_update(old: SessionSettings, new: SessionSettings) -> tuple[dict[str, Any], list[str]]:
    """What a `session.update` on a live connection must add to `session_config` when a
    setting went back to its default: the server keeps a field the update leaves out. A token
    limit taken away is sent as "inf"; a reasoning effort has no value meaning "the default",
    so going back to it waits for the next connection (a note says so)."""
    extra: dict[str, Any] = {}
    notes: list[str] = []
    if old.max_output_tokens is not None and new.max_output_tokens is None:
        extra["max_output_tokens"] = UNLIMITED
    if old.reasoning_effort != DEFAULT_EFFORT and new.reasoning_effort == DEFAULT_EFFORT:
        notes.append(
            f"Reasoning effort stays {old.reasoning_effort} until the next connection, which "
            "starts with the server's default."
        )
    return extra, notes


def noise_reduction(mode: str, strength: float | None = None) -> dict[str, Any] | None:
    """`{"type": mode}` (and its `strength` if set), or None ("off"), which clears it."""
    if mode == "off":
        return None
    return {"type": mode} if strength is None else {"type": mode, "strength": float(strength)}


def transcription_of(session: SessionSettings) -> dict[str, Any] | None:
    """Input transcription from the [session] transcription_* settings."""
    return transcription(
        session.transcription_model,
        session.transcription_language,
        prompt=session.transcription_prompt,
        keywords=split_list(session.transcription_keywords),
        languages=split_list(session.transcription_languages),
    )


def transcription(
    model: str,
    language: str = "",
    *,
    prompt: str = "",
    keywords: Sequence[str] = (),
    languages: Sequence[str] = (),
) -> dict[str, Any] | None:
    """Input transcription; None (off) when no model is set. Each optional field is sent
    when set and the model takes it (TRANSCRIPTION_FIELDS)."""
    if not model:
        return None
    config: dict[str, Any] = {"model": model}
    if language:
        config["language"] = language
    takes = TRANSCRIPTION_FIELDS.get(model, frozenset({_PROMPT, _KEYWORDS, _LANGUAGES}))
    wanted = {_PROMPT: prompt, _KEYWORDS: list(keywords), _LANGUAGES: list(languages)}
    config.update({name: value for name, value in wanted.items() if value and name in takes})
    return config


def turn_detection(settings: TurnDetectionSettings) -> dict[str, Any] | None:
    """server_vad / semantic_vad fields; None for manual turns (commit + response.create)."""
    common = {
        "create_response": bool(settings.create_response),
        "interrupt_response": bool(settings.interrupt_response),
    }
    if settings.mode == TurnMode.SERVER_VAD:
        config: dict[str, Any] = {
            "type": TurnMode.SERVER_VAD.value,
            "threshold": float(settings.threshold),
            "prefix_padding_ms": int(settings.prefix_padding_ms),
            "silence_duration_ms": int(settings.silence_duration_ms),
        }
        if settings.idle_timeout_ms is not None:
            config["idle_timeout_ms"] = int(settings.idle_timeout_ms)
        return {**config, **common}
    if settings.mode == TurnMode.SEMANTIC_VAD:
        return {"type": TurnMode.SEMANTIC_VAD.value, "eagerness": settings.eagerness, **common}
    if settings.mode == TurnMode.MANUAL:
        return None
    raise ValueError(f"unknown turn detection mode {settings.mode!r}")
