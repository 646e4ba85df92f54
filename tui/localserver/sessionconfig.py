"""Session configuration of the local server: the defaults, the merge of session.update,
and the checks on a merged config and on response.create parameters.

Merging: `audio`, `audio.input` and `audio.output` merge key by key; turn_detection merges
within the same type and starts from that type's defaults when the type changes; every other
value is replaced whole (as the real server does: fields left out keep their values).
"""

from __future__ import annotations

import copy
from typing import Any

from tui.constants import WIRE_RATE_HZ, TurnMode
from tui.localserver.payloads import RESPONSE, SESSION, TURN_DETECTION
from tui.localserver.toolrules import check_tool_config
from tui.localserver.validation import ClientError, check

SEMANTIC_SILENCE_MS = {"low": 1000, "medium": 500, "auto": 500, "high": 250}
DEFAULT_INSTRUCTIONS = (
    "You are the rt-tui local test server. You echo typed text and play spoken audio back."
)
PCM_FORMAT = {"type": "audio/pcm", "rate": WIRE_RATE_HZ}
SERVER_VAD_DEFAULTS: dict[str, Any] = {
    "type": TurnMode.SERVER_VAD.value,
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS: dict[str, Any] = {
    "type": TurnMode.SEMANTIC_VAD.value,
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}
# session keys whose dict values merge key by key; every other value is replaced whole
MERGED_PATHS = {("audio",), ("audio", "input"), ("audio", "output")}


def default_session(model: str) -> dict[str, Any]:
    """The full effective config of a new session, as session.created reports it."""
    return {
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "audio": {
            "input": {
                "format": dict(PCM_FORMAT),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(SERVER_VAD_DEFAULTS),
            },
            "output": {"format": dict(PCM_FORMAT), "voice": "marin", "speed": 1.0},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
    }


_VAD_DEFAULTS: dict[str, dict[str, Any]] = {
    TurnMode.SERVER_VAD: SERVER_VAD_DEFAULTS,
    TurnMode.SEMANTIC_VAD: SEMANTIC_VAD_DEFAULTS,
}


def merge_session(
    current: dict[str, Any], update: dict[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    out = copy.deepcopy(current)
    for key, value in update.items():
        here = (*path, key)
        if here in MERGED_PATHS and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_session(out[key], value, here)
        elif here == ("audio", "input", "turn_detection") and isinstance(value, dict):
            out[key] = merge_turn_detection(out.get(key), value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_turn_detection(current: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    kind = update.get("type") or (current or {}).get("type")
    defaults = _VAD_DEFAULTS.get(kind) if isinstance(kind, str) else None
    if defaults is None or not isinstance(kind, str):
        raise ClientError(
            f"Invalid value: {kind!r}. Supported values are: 'server_vad' and 'semantic_vad'.",
            code="invalid_value",
            param="session.audio.input.turn_detection.type",
        )
    base = current if current and current.get("type") == kind else defaults
    merged = {**base, **update, "type": kind}
    path = "session.audio.input.turn_detection"
    check(merged, TURN_DETECTION[TurnMode(kind)], path)
    if kind == TurnMode.SERVER_VAD:
        if not 0.0 <= merged["threshold"] <= 1.0:
            raise ClientError(
                f"Invalid threshold {merged['threshold']!r}: expected a number from 0 to 1.",
                code="invalid_value",
                param=f"{path}.threshold",
            )
        for key in ("prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
            if merged[key] is not None and merged[key] < 0:
                raise ClientError(
                    f"Invalid {key} {merged[key]!r}: expected a whole number of ms >= 0.",
                    code="invalid_value",
                    param=f"{path}.{key}",
                )
    return merged


def check_max_output_tokens(value: Any, param: str) -> None:
    if value == "inf" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return
    raise ClientError(
        f"Invalid max_output_tokens {value!r}: expected a whole number from 1 to 4096 or 'inf'.",
        code="invalid_value",
        param=param,
    )


def check_session(merged: dict[str, Any], current: dict[str, Any], audio_produced: bool) -> None:
    check(merged, SESSION, "session")
    check_tool_config(merged.get("tools") or [], merged.get("tool_choice", "auto"), "session")
    check_max_output_tokens(merged.get("max_output_tokens", "inf"), "session.max_output_tokens")
    if merged.get("output_modalities") not in (["audio"], ["text"]):
        raise ClientError(
            f"Invalid output_modalities {merged.get('output_modalities')!r}: "
            "use ['audio'] or ['text'].",
            code="invalid_value",
            param="session.output_modalities",
        )
    for side in ("input", "output"):
        fmt = merged["audio"][side].get("format")
        if fmt != PCM_FORMAT:
            raise ClientError(
                f"Unsupported audio.{side}.format {fmt!r}: the local server speaks only "
                f"{PCM_FORMAT}.",
                code="invalid_value",
                param=f"session.audio.{side}.format",
            )
    speed = merged["audio"]["output"].get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= speed <= 1.5:
        raise ClientError(
            f"Invalid speed {speed!r}: expected 0.25 to 1.5.",
            code="invalid_value",
            param="session.audio.output.speed",
        )
    if audio_produced and merged["audio"]["output"]["voice"] != current["audio"]["output"]["voice"]:
        raise ClientError(
            "Cannot update a conversation's voice if assistant audio is present.",
            code="cannot_update_voice",
            param="session.audio.output.voice",
        )
    if merged.get("model") != current.get("model"):
        raise ClientError(
            "The session model cannot be changed.", code="invalid_value", param="session.model"
        )


def check_response_params(params: dict[str, Any], session: dict[str, Any]) -> None:
    """response.create's `response` object, as strictly as session.update (its tool_choice
    may name a tool of its own `tools` or, without them, of the session's)."""
    check(params, RESPONSE, "response")
    if "tools" in params or "tool_choice" in params:
        tools = params.get("tools", session.get("tools") or [])
        check_tool_config(tools, params.get("tool_choice", "auto"), "response")
    check_max_output_tokens(params.get("max_output_tokens", "inf"), "response.max_output_tokens")
