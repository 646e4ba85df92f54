"""The parser's nested field rules against the official SDK models, and a hostile mutator.

tui.realtime.shapes keeps the rules static (the app must not import `openai`). Here each
rule meets the SDK: a field given the wrong type is refused by both, a required field
removed is refused by both, every rule's JSON type is one the SDK allows at that path, and
every valid SDK event is accepted. Then hypothesis breaks one nested field of a real
conversation at a time: whatever the parser accepts has the types the SDK declares at every
field the app reads, and the conversation model takes it without raising.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.oracle import SERVER_EVENT, check_server_event
from tests.robustness.sdk_types import json_type, resolve
from tui.conversation import Conversation
from tui.pricing import estimate_cost, estimate_transcription_cost
from tui.realtime.events import BadEvent, ServerEvent, parse
from tui.realtime.shapes import EVENT_SHAPES, AnyOf, Each, Obj, OneOf, Shape
from tui.session.dispatch import model_changes

Path = tuple[str | int, ...]

# --------------------------------------------------------------------------- full examples
# Valid GA events with every field the rules name filled in, so each rule has a value to break.

FORMAT = {"type": "audio/pcm", "rate": 24000}
PARTS = [
    {"type": "output_audio", "transcript": "Hi."},
    {"type": "output_text", "text": "Hi.", "transcript": "Hi."},
]
ITEMS: list[dict[str, Any]] = [
    {
        "id": "item_A",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "object": "realtime.item",
        "content": PARTS,
    },
    {
        "id": "item_U",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": "hello"}],
    },
    {
        "id": "item_F",
        "type": "function_call",
        "status": "completed",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    },
    {"id": "item_O", "type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    {
        "id": "item_R",
        "type": "mcp_approval_request",
        "server_label": "docs",
        "name": "search",
        "arguments": "{}",
    },
    {
        "id": "item_M",
        "type": "mcp_call",
        "server_label": "docs",
        "name": "search",
        "arguments": "{}",
        "output": "found",
        "approval_request_id": "item_R",
    },
]
USAGE = {
    "total_tokens": 30,
    "input_tokens": 20,
    "output_tokens": 10,
    "input_token_details": {
        "cached_tokens": 4,
        "text_tokens": 8,
        "audio_tokens": 12,
        "image_tokens": 0,
        "cached_tokens_details": {"text_tokens": 4, "audio_tokens": 0, "image_tokens": 0},
    },
    "output_token_details": {"text_tokens": 2, "audio_tokens": 8},
}
RESPONSE = {
    "id": "resp_1",
    "object": "realtime.response",
    "status": "failed",
    "status_details": {
        "type": "failed",
        "reason": "turn_detected",
        "error": {"type": "server_error", "code": "overloaded", "message": "busy"},
    },
    "conversation_id": "conv_1",
    "output_modalities": ["audio"],
    "audio": {"output": {"voice": "marin", "format": FORMAT}},
    "output": ITEMS,
    "usage": USAGE,
}
SESSION = {
    "type": "realtime",
    "id": "sess_1",
    "object": "realtime.session",
    "expires_at": 1_900_000_000,
    "model": "gpt-realtime",
    "instructions": "Be brief.",
    "output_modalities": ["audio"],
    "audio": {
        "input": {
            "format": FORMAT,
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 500,
                "idle_timeout_ms": 6000,
                "create_response": True,
                "interrupt_response": True,
            },
            "transcription": {"model": "gpt-4o-mini-transcribe", "language": "en", "prompt": ""},
            "noise_reduction": {"type": "near_field"},
        },
        "output": {"format": FORMAT, "voice": "marin", "speed": 1.0},
    },
}
SEMANTIC_SESSION = {
    "type": "realtime",
    "audio": {
        "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "auto"}},
        "output": {"voice": {"id": "voice_1234"}},
    },
}
IDS = {"response_id": "resp_1", "item_id": "item_A", "output_index": 0, "content_index": 0}
IN_RESPONSE = {"response_id": "resp_1", "item_id": "item_F", "output_index": 0}
AUDIO = base64.b64encode(bytes(960)).decode()


def ev(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"event_{kind}", **fields}


def full_examples() -> list[dict[str, Any]]:
    out = [
        ev("session.created", session=SESSION),
        ev("session.updated", session=SESSION),
        ev("session.created", session=SEMANTIC_SESSION),
        ev("session.updated", session=SEMANTIC_SESSION),
        ev("response.created", response={**RESPONSE, "status": "in_progress"}),
        ev("response.done", response=RESPONSE),
        ev("conversation.item.truncated", item_id="item_A", content_index=0, audio_end_ms=9),
        ev("conversation.item.deleted", item_id="item_A"),
        ev(
            "conversation.item.input_audio_transcription.delta",
            item_id="item_U",
            content_index=0,
            delta="hel",
        ),
        ev(
            "conversation.item.input_audio_transcription.completed",
            item_id="item_U",
            content_index=0,
            transcript="hello",
            usage={
                "type": "tokens",
                "input_tokens": 5,
                "output_tokens": 2,
                "total_tokens": 7,
                "input_token_details": {"text_tokens": 0, "audio_tokens": 5},
            },
        ),
        ev(
            "conversation.item.input_audio_transcription.completed",
            item_id="item_U",
            content_index=0,
            transcript="hello",
            usage={"type": "duration", "seconds": 1.5},
        ),
        ev(
            "conversation.item.input_audio_transcription.failed",
            item_id="item_U",
            content_index=0,
            error={"type": "server_error", "code": "x", "message": "boom", "param": "p"},
        ),
        ev("input_audio_buffer.speech_started", audio_start_ms=10, item_id="item_U"),
        ev("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="item_U"),
        ev("input_audio_buffer.committed", item_id="item_U", previous_item_id="item_A"),
        ev(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=1,
            audio_end_ms=6001,
            item_id="item_U",
        ),
        ev("response.content_part.added", **IDS, part={"type": "audio", "transcript": ""}),
        ev("response.content_part.added", **IDS, part={"type": "text", "text": ""}),
        ev("response.content_part.done", **IDS, part={"type": "audio", "transcript": "Hi."}),
        ev("response.content_part.done", **IDS, part={"type": "text", "text": "Hi."}),
        ev("response.output_audio.delta", **IDS, delta=AUDIO),
        ev("response.output_audio.done", **IDS),
        ev("response.output_audio_transcript.delta", **IDS, delta="Hi"),
        ev("response.output_audio_transcript.done", **IDS, transcript="Hi."),
        ev("response.output_text.delta", **IDS, delta="Hi"),
        ev("response.output_text.done", **IDS, text="Hi."),
        ev(
            "rate_limits.updated",
            rate_limits=[
                {"name": "requests", "limit": 100, "remaining": 99, "reset_seconds": 0.5},
                {"name": "tokens", "limit": 9000, "remaining": 10, "reset_seconds": 2},
            ],
        ),
        ev(
            "error",
            error={
                "type": "invalid_request_error",
                "code": "bad",
                "message": "bad",
                "param": "session.voice",
                "event_id": "evt_3",
            },
        ),
        ev(
            "response.function_call_arguments.delta",
            **IN_RESPONSE,
            call_id="call_1",
            delta='{"ci',
        ),
        ev(
            "response.function_call_arguments.done",
            **IN_RESPONSE,
            call_id="call_1",
            name="get_weather",
            arguments='{"city": "Paris"}',
        ),
        ev("response.mcp_call_arguments.delta", **IN_RESPONSE, delta='{"q'),
        ev("response.mcp_call_arguments.done", **IN_RESPONSE, arguments="{}"),
    ]
    for kind in ("in_progress", "completed", "failed"):
        out.append(ev(f"response.mcp_call.{kind}", item_id="item_M", output_index=0))
        out.append(ev(f"mcp_list_tools.{kind}", item_id="item_L"))
    for item in ITEMS:
        for kind in ("added", "done", "created"):
            out.append(ev(f"conversation.item.{kind}", item=item, previous_item_id="item_0"))
        out.append(ev("conversation.item.retrieved", item=item))
        for kind in ("added", "done"):
            out.append(
                ev(f"response.output_item.{kind}", response_id="resp_1", output_index=0, item=item)
            )
    return out


FULL = full_examples()


def first(kind: str) -> dict[str, Any]:
    return next(example for example in FULL if example["type"] == kind)


# --------------------------------------------------------------------------- rule walker


@dataclass(frozen=True)
class RuleAt:
    """One rule of the table met at a concrete place in an example."""

    kind: str
    example: int  # which of FULL
    path: Path  # where in the example
    pattern: str  # the rule, without indices and item variants: "response.output[].id"
    shape: Shape
    required: bool  # False for optional fields and for array elements


def rules_in(
    shape: Shape, value: Any, path: Path, pattern: str, kind: tuple[str, int]
) -> Iterator[RuleAt]:
    if isinstance(shape, Each):
        for index, element in enumerate(value):
            where = (*path, index)
            yield RuleAt(*kind, where, pattern + "[]", shape.shape, False)
            yield from rules_in(shape.shape, element, where, pattern + "[]", kind)
    elif isinstance(shape, AnyOf):
        fitting = [option for option in shape.options if _fits(option, value)]
        yield from rules_in(fitting[0], value, path, pattern, kind)
    elif isinstance(shape, OneOf):
        variant = shape.variants.get(value.get(shape.key), shape.other)
        yield from rules_in(variant, value, path, pattern, kind)
    elif isinstance(shape, Obj):
        fields = [(n, r, True) for n, r in shape.required.items()]
        fields += [(n, r, False) for n, r in shape.optional.items()]
        for name, rule, required in fields:
            if value.get(name) is None:
                assert not required, f"{kind}: example lacks required {name}"
                continue
            where, named = (*path, name), f"{pattern}.{name}" if pattern else name
            yield RuleAt(*kind, where, named, rule, required)
            yield from rules_in(rule, value[name], where, named, kind)


def _fits(shape: Shape, value: Any) -> bool:
    if isinstance(shape, type):
        return isinstance(value, shape)
    return isinstance(value, list if isinstance(shape, Each) else dict)


def all_patterns(shape: Shape, pattern: str = "") -> Iterator[str]:
    """Every rule of the table, as rules_in names them."""
    if isinstance(shape, Each):
        yield pattern + "[]"
        yield from all_patterns(shape.shape, pattern + "[]")
    elif isinstance(shape, AnyOf):
        for option in shape.options:
            yield from all_patterns(option, pattern)
    elif isinstance(shape, OneOf):
        for variant in [*shape.variants.values(), shape.other]:
            yield from all_patterns(variant, pattern)
    elif isinstance(shape, Obj):
        for name, rule in [*shape.required.items(), *shape.optional.items()]:
            named = f"{pattern}.{name}" if pattern else name
            yield named
            yield from all_patterns(rule, named)


def rules_of(index: int) -> list[RuleAt]:
    kind = FULL[index]["type"]
    return list(rules_in(EVENT_SHAPES[kind], FULL[index], (), "", (kind, index)))


def our_json_types(shape: Shape) -> set[str]:
    if isinstance(shape, AnyOf):
        return set().union(*(our_json_types(option) for option in shape.options))
    if isinstance(shape, Each):
        return {"array"}
    if isinstance(shape, Obj | OneOf):
        return {"object"}
    names = {str: "string", int: "integer", bool: "boolean", float: "number"}
    return {"number", "integer"} if shape is float else {names[shape]}


WRONG: dict[str, list[Any]] = {
    "string": [7, ["x"]],
    "integer": ["abc", 1.5, [1]],
    "number": ["abc", [1]],
    "boolean": ["abc", [1]],
    "object": ["text", [1]],
    "array": ["text", 5],
}


def wrong_values(shape: Shape) -> list[Any]:
    allowed = our_json_types(shape)
    candidates = [v for name in sorted(allowed) for v in WRONG[name]]
    return [v for v in candidates if json_type(v) not in allowed]


def replaced(example: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    frame = json.loads(json.dumps(example))  # not deepcopy: it keeps shared dicts shared
    node: Any = frame
    for part in path[:-1]:
        node = node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return frame


DELETE = object()
# fields the real server sends that the SDK types leave out (tests/oracle.SESSION_EXTRAS)
NOT_IN_SDK = {"session.id", "session.expires_at"}


def sdk_rejects(frame: dict[str, Any]) -> bool:
    try:
        SERVER_EVENT.validate_json(json.dumps(frame))
    except ValidationError:
        return True
    return False


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


ALL_RULES = [rule for index in range(len(FULL)) for rule in rules_of(index)]

# --------------------------------------------------------------------------- the rules vs the SDK


@pytest.mark.parametrize("example", FULL, ids=lambda e: e["type"])
def test_sdk_valid_examples_are_accepted(example: dict[str, Any]) -> None:
    check_server_event(example)  # valid for the SDK, no key it does not know
    event = parse(json.dumps(example))
    assert isinstance(event, ServerEvent), event


def test_every_rule_meets_a_value_in_the_examples() -> None:
    exercised = {(rule.kind, rule.pattern) for rule in ALL_RULES}
    declared = {(kind, p) for kind, shape in EVENT_SHAPES.items() for p in all_patterns(shape)}
    assert declared - exercised == set()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: f"{r.kind}:{r.example}:{dotted(r.path)}")
def test_rule_types_are_the_sdk_types(rule: RuleAt) -> None:
    example = FULL[rule.example]
    where = dotted(rule.path)
    found = [allowed for path, _, allowed in resolve(example, rule.pattern) if path == where]
    assert len(found) == 1, (where, rule.pattern)
    if not found[0]:
        assert rule.pattern in NOT_IN_SDK, f"{where}: the SDK does not declare it"
        return
    assert our_json_types(rule.shape) <= found[0], (where, found[0])


def _rule_cases() -> Iterator[Any]:
    seen: set[tuple[str, str]] = set()
    for index, example in enumerate(FULL):
        for rule in rules_of(index):
            key = (rule.kind, dotted(rule.path))
            if key in seen:
                continue
            seen.add(key)
            for value in wrong_values(rule.shape):
                yield pytest.param(example, rule, value, id=f"{key[0]}:{key[1]}={value!r}")


@pytest.mark.parametrize(("example", "rule", "value"), list(_rule_cases()))
def test_wrong_type_is_refused_by_the_parser_and_the_sdk(
    example: dict[str, Any], rule: RuleAt, value: Any
) -> None:
    frame = replaced(example, rule.path, value)
    event = parse(json.dumps(frame))
    assert isinstance(event, BadEvent), event
    assert event.kind == "wrong_type"
    assert repr(dotted(rule.path)) in event.reason
    if rule.pattern not in NOT_IN_SDK:
        assert sdk_rejects(frame), f"the SDK accepts {dotted(rule.path)} = {value!r}"


@pytest.mark.parametrize(
    "rule",
    [r for r in ALL_RULES if r.required],
    ids=lambda r: f"{r.kind}:{r.example}:{dotted(r.path)}",
)
def test_required_field_is_required_by_the_sdk_too(rule: RuleAt) -> None:
    frame = replaced(FULL[rule.example], rule.path, DELETE)
    event = parse(json.dumps(frame))
    assert isinstance(event, BadEvent) and event.kind == "missing_field", event
    assert repr(dotted(rule.path)) in event.reason
    assert sdk_rejects(frame)


# --------------------------------------------------------------------------- hostile mutations

# What the app reads of each event (tui/conversation.py, tui/session.py, tui/pricing.py,
# the status line), written down from the code, independently of tui.realtime.shapes.
_ITEM = ["", ".id", ".type", ".role", ".content", ".content[]", ".content[].type"]
_ITEM += [".content[].text", ".content[].transcript"]
_DELTA = ["item_id", "response_id", "delta"]
_USAGE = ["", ".input_tokens", ".output_tokens", ".input_token_details"]
_USAGE += [".input_token_details.text_tokens", ".input_token_details.audio_tokens"]
_USAGE += [".input_token_details.cached_tokens_details"]
_USAGE += [".input_token_details.cached_tokens_details.text_tokens"]
_USAGE += [".input_token_details.cached_tokens_details.audio_tokens"]
_USAGE += [".output_token_details", ".output_token_details.text_tokens"]
_USAGE += [".output_token_details.audio_tokens"]
READS: dict[str, list[str]] = {
    "conversation.item.added": [f"item{p}" for p in _ITEM],
    "conversation.item.created": [f"item{p}" for p in _ITEM],
    "conversation.item.done": [f"item{p}" for p in _ITEM],
    "response.output_item.added": ["response_id", *(f"item{p}" for p in _ITEM)],
    "response.output_audio_transcript.delta": _DELTA,
    "response.output_text.delta": _DELTA,
    "response.output_audio.delta": _DELTA,
    "response.output_audio_transcript.done": ["item_id", "transcript"],
    "response.output_text.done": ["item_id", "text"],
    "conversation.item.truncated": ["item_id", "audio_end_ms"],
    "conversation.item.input_audio_transcription.delta": ["item_id", "delta"],
    "conversation.item.input_audio_transcription.completed": [
        "item_id",
        "transcript",
        "usage",
        "usage.type",
        "usage.input_tokens",
        "usage.output_tokens",
    ],
    "conversation.item.input_audio_transcription.failed": ["item_id", "error", "error.message"],
    "response.created": ["response", "response.id"],
    "response.done": [
        "response",
        "response.id",
        "response.status",
        "response.status_details",
        "response.status_details.reason",
        "response.status_details.error",
        "response.status_details.error.message",
        "response.status_details.error.code",
        "response.output",
        *(f"response.output[]{p}" for p in _ITEM),
        *(f"response.usage{p}" for p in _USAGE),
    ],
    "rate_limits.updated": [
        "rate_limits",
        "rate_limits[]",
        "rate_limits[].name",
        "rate_limits[].remaining",
        "rate_limits[].limit",
    ],
    "error": ["error", "error.code", "error.message"],
}

USER_AUDIO = {"id": "item_U", "type": "message", "role": "user", "content": []}
USER_AUDIO["content"] = [{"type": "input_audio"}]
ASSISTANT = {"id": "item_A", "type": "message", "role": "assistant", "content": []}
# One conversation as the server sends it: the mutator breaks a field of one of its events.
SCRIPT: list[dict[str, Any]] = [
    ev("conversation.item.added", item=USER_AUDIO),
    ev("input_audio_buffer.committed", item_id="item_U"),
    ev("conversation.item.created", item={**ITEMS[1], "id": "item_T"}),
    ev("conversation.item.input_audio_transcription.delta", item_id="item_U", delta="hel"),
    first("conversation.item.input_audio_transcription.completed"),  # token usage
    ev("conversation.item.added", item={**USER_AUDIO, "id": "item_V"}),
    ev(
        "conversation.item.input_audio_transcription.failed",
        item_id="item_V",
        content_index=0,
        error={"type": "server_error", "message": "boom"},
    ),
    ev("response.created", response={"id": "resp_1", "status": "in_progress", "output": []}),
    ev("response.output_item.added", response_id="resp_1", output_index=0, item=ASSISTANT),
    ev("response.output_audio_transcript.delta", **IDS, delta="Hi"),
    ev("response.output_audio.delta", **IDS, delta=AUDIO),
    ev("response.output_text.delta", **IDS, delta="!"),
    ev("response.output_audio_transcript.done", **IDS, transcript="Hi!"),
    ev("response.output_text.done", **IDS, text="Hi!"),
    ev("conversation.item.truncated", item_id="item_A", content_index=0, audio_end_ms=9),
    ev("conversation.item.done", item={**ASSISTANT, "content": PARTS}),
    ev("response.done", response={**RESPONSE, "output": [ASSISTANT, ITEMS[2]]}),
    ev("response.done", response={**RESPONSE, "id": "resp_2", "output": []}),
    first("rate_limits.updated"),
    first("error"),
]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def nodes(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every place in a decoded JSON value (but the event type, which has its own tests)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if path or key != "type":
                yield (*path, key)
                yield from nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*path, index)
            yield from nodes(child, (*path, index))


def assert_reads_are_typed(event: ServerEvent) -> None:
    for pattern in READS.get(event.type, []):
        for where, value, allowed in resolve(event.data, pattern):
            assert allowed, f"{event.type}: {pattern} is not an SDK field"
            assert json_type(value) in allowed, f"{event.type}: {where} = {value!r}"


def test_the_script_is_a_valid_conversation() -> None:
    for example in SCRIPT:
        check_server_event(example)
    kinds = {example["type"] for example in SCRIPT}
    assert set(READS) <= kinds  # every event whose reads are listed is in the script


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_a_broken_nested_field_never_reaches_the_model_with_the_wrong_type(
    data: st.DataObject,
) -> None:
    index = data.draw(st.integers(0, len(SCRIPT) - 1), label="event")
    place = data.draw(st.sampled_from(list(nodes(SCRIPT[index]))), label="field")
    value = data.draw(st.just(DELETE) | JSON_VALUES, label="value")
    script = [*SCRIPT[:index], replaced(SCRIPT[index], place, value), *SCRIPT[index + 1 :]]

    conversation = Conversation(clock=lambda: 0.0)
    for frame in script:
        event = parse(json.dumps(frame))
        if isinstance(event, BadEvent):
            # not_json: an infinite float, which Python's json writes as Infinity
            assert event.kind in ("missing_field", "wrong_type", "bad_audio", "not_json"), event
            continue
        assert_reads_are_typed(event)
        model_changes(conversation, event)  # never raises
        usage = event.get("usage") or (event.get("response") or {}).get("usage")
        if event.type == "response.done" and usage is not None:
            estimate_cost("gpt-realtime", usage)
        elif usage is not None:
            estimate_transcription_cost("gpt-4o-mini-transcribe", usage)
