"""What the app reads of each server event, at every depth, and the check that it is there.

A frame that parses as JSON and names a known type can still carry a list where the app
expects a string (`error.code`), a string where it expects an object
(`response.status_details`) or `"abc"` for a token count. Such a value would raise deep in
the conversation model or the session, so the parser refuses the frame instead: it becomes
a BadEvent (shown, counted, skipped) like any other bad frame.

The rules follow the official SDK models (`openai.types.realtime`); they are kept here as
static data because the app must not import `openai`. `tests/core/test_shapes.py` checks
every rule against those models. Only fields the app reads (or the tools work will read:
function calls, MCP approval requests) are listed, and an unknown enum value is accepted: a
newer server may add a status or a voice, and types, not values, are what would crash.

Shapes: a JSON type (`str`, `int`, `float` which takes integers too, `bool`, `dict`, `list`);
`Obj` (an object with required and optional fields; null counts as absent); `Each` (an
array, every element of the shape); `OneOf` (an object whose shape depends on its `type`,
like a conversation item); `AnyOf` (the first shape that fits, like a voice that is a name
or `{"id": ...}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tui.errors import with_article


@dataclass(frozen=True, slots=True)
class Obj:
    """A JSON object. Optional fields are checked when present and not null."""

    required: Mapping[str, Shape] = field(default_factory=dict)
    optional: Mapping[str, Shape] = field(default_factory=dict)

    def extend(
        self,
        required: Mapping[str, Shape] | None = None,
        optional: Mapping[str, Shape] | None = None,
    ) -> Obj:
        """This object with more fields; a field given again replaces the old rule."""
        required = dict(required or {})
        optional = {
            name: shape
            for name, shape in {**self.optional, **(optional or {})}.items()
            if name not in required
        }
        kept = {name: shape for name, shape in self.required.items() if name not in optional}
        return Obj({**kept, **required}, optional)


@dataclass(frozen=True, slots=True)
class Each:
    """A JSON array whose every element has `shape` (null elements are refused)."""

    shape: Shape


@dataclass(frozen=True, slots=True)
class OneOf:
    """An object shaped by the string in its `key` field; `other` for unknown values."""

    key: str
    variants: Mapping[str, Obj]
    other: Obj


@dataclass(frozen=True, slots=True)
class AnyOf:
    """A value that fits one of `options`, tried in order."""

    options: tuple[Shape, ...]


Shape = type | Obj | Each | OneOf | AnyOf

# --------------------------------------------------------------------------- the rules

_IDS: dict[str, Shape] = {
    "response_id": str,
    "item_id": str,
    "output_index": int,
    "content_index": int,
}

# a content part of an item (the conversation reads its type and its text or transcript)
_PART = Obj(optional={"type": str, "text": str, "transcript": str})

# Every item: the conversation reads id, type, role and content of any item, so those are
# typed for all item types, not only for messages. None is required: the model skips an item
# it cannot place (no id, no role), while a tool call cannot be run without its name and
# arguments.
_ITEM_ANY = Obj(
    optional={"id": str, "type": str, "role": str, "content": Each(_PART), "status": str},
)
ITEM = OneOf(
    "type",
    {
        "function_call": _ITEM_ANY.extend(
            required={"name": str, "arguments": str}, optional={"call_id": str}
        ),
        "function_call_output": _ITEM_ANY.extend(required={"call_id": str, "output": str}),
        "mcp_approval_request": _ITEM_ANY.extend(
            required={"id": str, "server_label": str, "name": str, "arguments": str}
        ),
        "mcp_call": _ITEM_ANY.extend(
            required={"id": str, "server_label": str, "name": str, "arguments": str},
            optional={"output": str, "approval_request_id": str},
        ),
    },
    _ITEM_ANY,
)

AUDIO_FORMAT = Obj(optional={"type": str, "rate": int})
VOICE = AnyOf((str, Obj(required={"id": str})))

_TOKEN_COUNTS = {"text_tokens": int, "audio_tokens": int, "image_tokens": int}
USAGE = Obj(
    optional={
        "total_tokens": int,
        "input_tokens": int,
        "output_tokens": int,
        "input_token_details": Obj(
            optional={
                **_TOKEN_COUNTS,
                "cached_tokens": int,
                "cached_tokens_details": Obj(optional=_TOKEN_COUNTS),
            }
        ),
        "output_token_details": Obj(optional={"text_tokens": int, "audio_tokens": int}),
    }
)
TRANSCRIPTION_USAGE = OneOf(
    "type",
    {
        "tokens": Obj(
            optional={
                "type": str,
                "input_tokens": int,
                "output_tokens": int,
                "total_tokens": int,
                "input_token_details": Obj(optional={"text_tokens": int, "audio_tokens": int}),
            },
        ),
        "duration": Obj(optional={"type": str, "seconds": float}),
    },
    Obj(optional={"type": str}),
)

STATUS_DETAILS = Obj(
    optional={
        "type": str,
        "reason": str,
        "error": Obj(optional={"type": str, "code": str, "message": str}),
    }
)
RESPONSE = Obj(
    optional={
        "id": str,
        "status": str,
        "status_details": STATUS_DETAILS,
        "output": Each(ITEM),
        "usage": USAGE,
        "conversation_id": str,
        "output_modalities": Each(str),
        # a response names its voice; only a session may hold a custom voice object
        "audio": Obj(optional={"output": Obj(optional={"voice": str, "format": AUDIO_FORMAT})}),
    }
)

TURN_DETECTION = Obj(
    optional={
        "type": str,
        "threshold": float,
        "prefix_padding_ms": int,
        "silence_duration_ms": int,
        "idle_timeout_ms": int,
        "create_response": bool,
        "interrupt_response": bool,
        "eagerness": str,
    }
)
SESSION = Obj(
    optional={
        "type": str,
        "id": str,
        "model": str,
        "instructions": str,
        "expires_at": int,
        "output_modalities": Each(str),
        "audio": Obj(
            optional={
                "input": Obj(
                    optional={
                        "format": AUDIO_FORMAT,
                        "turn_detection": TURN_DETECTION,
                        "transcription": Obj(
                            optional={"model": str, "language": str, "prompt": str}
                        ),
                        "noise_reduction": Obj(optional={"type": str}),
                    }
                ),
                "output": Obj(optional={"format": AUDIO_FORMAT, "voice": VOICE, "speed": float}),
            }
        ),
    }
)

ERROR = Obj(
    required={"type": str, "message": str},
    optional={"code": str, "param": str, "event_id": str},
)
TRANSCRIPTION_ERROR = Obj(optional={"type": str, "code": str, "message": str, "param": str})
RATE_LIMIT = Obj(optional={"name": str, "limit": int, "remaining": int, "reset_seconds": float})

_ITEM_EVENT = Obj(required={"item": ITEM}, optional={"previous_item_id": str})
_OUTPUT_ITEM_EVENT = Obj(required={"response_id": str, "output_index": int, "item": ITEM})
_IN_RESPONSE = {"item_id": str, "output_index": int, "response_id": str}

EVENT_SHAPES: dict[str, Obj] = {
    "session.created": Obj(required={"session": SESSION}),
    "session.updated": Obj(required={"session": SESSION}),
    "conversation.item.added": _ITEM_EVENT,
    "conversation.item.done": _ITEM_EVENT,
    "conversation.item.created": _ITEM_EVENT,
    "conversation.item.retrieved": Obj(required={"item": ITEM}),
    "conversation.item.truncated": Obj(
        required={"item_id": str, "content_index": int, "audio_end_ms": int}
    ),
    "conversation.item.deleted": Obj(required={"item_id": str}),
    "conversation.item.input_audio_transcription.delta": Obj(
        required={"item_id": str}, optional={"delta": str, "content_index": int}
    ),
    "conversation.item.input_audio_transcription.completed": Obj(
        required={"item_id": str, "content_index": int, "transcript": str},
        optional={"usage": TRANSCRIPTION_USAGE},
    ),
    "conversation.item.input_audio_transcription.failed": Obj(
        required={"item_id": str, "error": TRANSCRIPTION_ERROR}
    ),
    "input_audio_buffer.speech_started": Obj(required={"audio_start_ms": int, "item_id": str}),
    "input_audio_buffer.speech_stopped": Obj(required={"audio_end_ms": int, "item_id": str}),
    "input_audio_buffer.committed": Obj(
        required={"item_id": str}, optional={"previous_item_id": str}
    ),
    "input_audio_buffer.timeout_triggered": Obj(
        required={"audio_start_ms": int, "audio_end_ms": int, "item_id": str}
    ),
    "response.created": Obj(required={"response": RESPONSE}),
    "response.done": Obj(required={"response": RESPONSE}),
    "response.output_item.added": _OUTPUT_ITEM_EVENT,
    "response.output_item.done": _OUTPUT_ITEM_EVENT,
    "response.content_part.added": Obj(required={**_IDS, "part": _PART}),
    "response.content_part.done": Obj(required={**_IDS, "part": _PART}),
    "response.output_audio.delta": Obj(required={**_IDS, "delta": str}),
    "response.output_audio.done": Obj(required=_IDS),
    "response.output_audio_transcript.delta": Obj(required={**_IDS, "delta": str}),
    "response.output_audio_transcript.done": Obj(required={**_IDS, "transcript": str}),
    "response.output_text.delta": Obj(required={**_IDS, "delta": str}),
    "response.output_text.done": Obj(required={**_IDS, "text": str}),
    "rate_limits.updated": Obj(required={"rate_limits": Each(RATE_LIMIT)}),
    "error": Obj(required={"error": ERROR}),
    # for the tools work: function calls and MCP calls stream their arguments
    "response.function_call_arguments.delta": Obj(
        required={**_IN_RESPONSE, "call_id": str, "delta": str}
    ),
    "response.function_call_arguments.done": Obj(
        required={**_IN_RESPONSE, "call_id": str, "arguments": str}, optional={"name": str}
    ),
    "response.mcp_call_arguments.delta": Obj(required={**_IN_RESPONSE, "delta": str}),
    "response.mcp_call_arguments.done": Obj(required={**_IN_RESPONSE, "arguments": str}),
    "response.mcp_call.in_progress": Obj(required={"item_id": str, "output_index": int}),
    "response.mcp_call.completed": Obj(required={"item_id": str, "output_index": int}),
    "response.mcp_call.failed": Obj(required={"item_id": str, "output_index": int}),
    "mcp_list_tools.in_progress": Obj(required={"item_id": str}),
    "mcp_list_tools.completed": Obj(required={"item_id": str}),
    "mcp_list_tools.failed": Obj(required={"item_id": str}),
}

# --------------------------------------------------------------------------- the check

Problem = tuple[str, str]
"""(BadEvent kind, reason): "missing_field" or "wrong_type", and the field's path."""

_JSON_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
}


def check(kind: str, data: dict[str, Any]) -> Problem | None:
    """The first field of `data` that breaks the rules of event type `kind`, or None."""
    shape = EVENT_SHAPES.get(kind)
    return None if shape is None else _check_obj(shape, data, "")


def _check_obj(shape: Obj, value: dict[str, Any], path: str) -> Problem | None:
    for name, rule in shape.required.items():
        child = value.get(name)
        where = f"{path}.{name}" if path else name
        if child is None:
            return "missing_field", f"required field {where!r} is missing"
        problem = _check(rule, child, where)
        if problem is not None:
            return problem
    for name, rule in shape.optional.items():
        child = value.get(name)
        if child is not None:
            problem = _check(rule, child, f"{path}.{name}" if path else name)
            if problem is not None:
                return problem
    return None


def _check(shape: Shape, value: Any, path: str) -> Problem | None:
    if isinstance(shape, type):  # the common case first: a plain JSON type
        return None if is_type(value, shape) else _wrong(path, _JSON_NAMES[shape], value)
    if isinstance(shape, Each):
        if not isinstance(value, list):
            return _wrong(path, "array", value)
        for index, element in enumerate(value):
            problem = _check(shape.shape, element, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, AnyOf):
        if any(_check(option, value, path) is None for option in shape.options):
            return None
        kin = [option for option in shape.options if _same_kind(option, value)]
        if len(kin) == 1:  # an object voice without its id: say what is wrong inside
            return _check(kin[0], value, path)
        wanted = " or ".join(_describe(option) for option in shape.options)
        return "wrong_type", f"field {path!r} should be {wanted}, got {_json_name(value)}"
    if not isinstance(value, dict):
        return _wrong(path, "object", value)
    if isinstance(shape, OneOf):
        tag = value.get(shape.key)
        variant = shape.variants.get(tag) if isinstance(tag, str) else None
        return _check_obj(variant or shape.other, value, path)
    return _check_obj(shape, value, path)


def _same_kind(shape: Shape, value: Any) -> bool:
    if isinstance(shape, type):
        return is_type(value, shape)
    return isinstance(value, list if isinstance(shape, Each) else dict)


# The SDK's integers are int64. A bigger one (Python's JSON has no limit but 4300 digits)
# would overflow float() in the conversation model or the cost estimate, so it is refused.
MAX_INT = 2**63


def is_type(value: Any, expected: type) -> bool:
    """Whether a decoded JSON value is of the JSON type `expected` stands for."""
    # JSON true/false decode to bool, a subclass of int: never accept them as numbers.
    if isinstance(value, bool):
        return expected is bool
    if isinstance(value, int) and expected in (int, float):
        return -MAX_INT <= value < MAX_INT
    if expected is float:
        return isinstance(value, float)  # finite: the parser refuses NaN and Infinity
    return isinstance(value, expected)


def _describe(shape: Shape) -> str:
    if isinstance(shape, type):
        return with_article(_JSON_NAMES[shape])
    return "an array" if isinstance(shape, Each) else "an object"


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT <= value < MAX_INT:
        return "an integer beyond 64 bits"
    return with_article(_JSON_NAMES.get(type(value), "value of another kind"))


def _wrong(path: str, wanted: str, value: Any) -> Problem:
    return "wrong_type", f"field {path!r} should be {with_article(wanted)}, got {_json_name(value)}"
