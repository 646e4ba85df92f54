"""The GA `session` object of a `session.update`, built from the user's Settings.

Shape: docs/realtime-protocol.md section 2. Every setting maps to one field;
values that mean "server default" (empty instructions, no truncation ratio, no idle
timeout) are left out so the server keeps its own default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.constants import WIRE_RATE_HZ, TurnMode

if TYPE_CHECKING:  # typing only: the wire does not need config at runtime
    from tui.config import Settings, TurnDetectionSettings

PCM_FORMAT: dict[str, Any] = {"type": "audio/pcm", "rate": WIRE_RATE_HZ}


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
            "noise_reduction": noise_reduction(session.noise_reduction),
            "transcription": transcription(
                session.transcription_model, session.transcription_language
            ),
            "turn_detection": turn_detection(session.turn_detection),
        },
        "output": {
            "format": dict(PCM_FORMAT),
            "voice": session.voice,
            "speed": float(session.speed),
        },
    }
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


def noise_reduction(mode: str) -> dict[str, Any] | None:
    """`{"type": mode}`, or None ("off") which clears it on the server."""
    return None if mode == "off" else {"type": mode}


def transcription(model: str, language: str = "") -> dict[str, Any] | None:
    """Input transcription; None (off) when no model is set."""
    if not model:
        return None
    config: dict[str, Any] = {"model": model}
    if language:
        config["language"] = language
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
