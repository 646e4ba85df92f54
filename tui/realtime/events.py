"""Server events as typed values, and the client events the app sends.

`parse(frame)` never raises: every frame becomes a `ServerEvent` or a `BadEvent`.
The builders return plain dicts in the GA shape (docs/realtime-protocol.md
section 3); `tests/core/test_events.py` validates each against the official SDK models.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tui.realtime import shapes

# --------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One valid server event. `data` is the whole decoded JSON object.

    For `response.output_audio.delta`, `audio` holds the decoded PCM16 bytes (the
    parser decodes base64 once, so nobody downstream does it again).
    """

    type: str
    data: dict[str, Any]
    audio: bytes | None = field(default=None, repr=False)
    size: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __repr__(self) -> str:
        # Logs and test failures stay readable: an audio delta's base64 is not printed.
        data = self.data
        if self.audio is not None and "delta" in data:
            data = {**data, "delta": f"<{len(self.audio)} bytes audio>"}
        return f"ServerEvent(type={self.type!r}, data={data!r}, size={self.size})"


@dataclass(frozen=True, slots=True)
class BadEvent:
    """A frame that could not be used. `kind` is one of BAD_KINDS; `reason` is for people."""

    kind: str
    reason: str
    preview: str = ""
    type: str | None = None
    size: int = 0


BAD_KINDS = (
    "binary",
    "too_large",
    "not_json",
    "not_object",
    "unknown_type",
    "missing_field",
    "wrong_type",
    "bad_audio",
)

MAX_FRAME = 16 * 1024 * 1024
"""Frames above this are refused undecoded: no legitimate server event is that big."""

PREVIEW_CHARS = 200

AUDIO_DELTA = "response.output_audio.delta"

# The 46 members of the SDK's `RealtimeServerEvent` union (openai 3.5x). Kept as a static
# set because the app must not import `openai`; tests/core/test_events.py checks it
# against the SDK so it cannot drift silently.
SERVER_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "conversation.created",
        "conversation.item.created",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.failed",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "error",
        "input_audio_buffer.cleared",
        "input_audio_buffer.committed",
        "input_audio_buffer.dtmf_event_received",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "rate_limits.updated",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.created",
        "response.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.output_text.delta",
        "response.output_text.done",
        "session.created",
        "session.updated",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "conversation.item.added",
        "conversation.item.done",
        "input_audio_buffer.timeout_triggered",
        "conversation.item.input_audio_transcription.segment",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
    }
)

# What the app reads of each type, at every depth, lives in `shapes.EVENT_SHAPES`: a frame
# that breaks it is a BadEvent, so the conversation model never meets a half-formed event.

# Long runs of base64 characters (audio) are hidden from previews.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{64,}")


# --------------------------------------------------------------------------- parser


def parse(frame: str | bytes) -> ServerEvent | BadEvent:
    """Turn one websocket frame into a ServerEvent or a BadEvent. Never raises."""
    try:
        return _parse(frame)
    except Exception as error:  # the promise is "never raises": report, don't crash the loop
        return BadEvent(
            "not_json",
            f"unexpected parser failure: {type(error).__name__}",
            size=_size(frame),
        )


def _parse(frame: str | bytes) -> ServerEvent | BadEvent:
    size = _size(frame)
    if isinstance(frame, bytes | bytearray | memoryview):
        return BadEvent(
            "binary",
            "binary frame: the Realtime protocol sends JSON text frames only",
            preview=f"<{size} bytes binary>",
            size=size,
        )
    if size > MAX_FRAME:
        return BadEvent(
            "too_large",
            f"frame of {size} characters exceeds the {MAX_FRAME} limit",
            preview=f"<{size} characters>",
            size=size,
        )
    try:
        data = json.loads(frame, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError both derive from it
        return BadEvent("not_json", f"not JSON: {error}", preview=preview(frame), size=size)
    if not isinstance(data, dict):
        return BadEvent(
            "not_object",
            f"JSON {type(data).__name__} instead of an object",
            preview=preview(frame),
            size=size,
        )
    kind = data.get("type")
    if not isinstance(kind, str):
        reason = "no 'type' field" if kind is None else "'type' is not a string"
        return BadEvent("missing_field", reason, preview=preview(frame), size=size)
    if kind not in SERVER_EVENT_TYPES:
        return BadEvent(
            "unknown_type",
            f"unknown server event type {kind!r}",
            preview=preview(frame),
            type=kind,
            size=size,
        )
    problem = shapes.check(kind, data)
    if problem is not None:
        bad_kind, reason = problem
        return BadEvent(bad_kind, f"{kind}: {reason}", preview=preview(frame), type=kind, size=size)
    if kind == AUDIO_DELTA:
        return _audio_event(data, frame, size)
    return ServerEvent(kind, data, size=size)


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259); Python's json would take them as floats
    raise ValueError(f"{name} is not a JSON value")


def _audio_event(data: dict[str, Any], frame: str, size: int) -> ServerEvent | BadEvent:
    delta: str = data["delta"]
    try:
        pcm = base64.b64decode(delta, validate=True)
    except (binascii.Error, ValueError) as error:
        return BadEvent(
            "bad_audio",
            f"audio delta is not valid base64: {error}",
            _safe_preview(data),
            AUDIO_DELTA,
            size,
        )
    if len(pcm) % 2:
        return BadEvent(
            "bad_audio",
            f"audio delta has {len(pcm)} bytes, not whole 16-bit samples",
            _safe_preview(data),
            AUDIO_DELTA,
            size,
        )
    return ServerEvent(AUDIO_DELTA, data, audio=pcm, size=size)


def _safe_preview(data: dict[str, Any]) -> str:
    shown = {key: value for key, value in data.items() if key != "delta"}
    shown["delta"] = f"<{len(str(data.get('delta', '')))} chars>"
    return preview(json.dumps(shown))


def preview(text: str) -> str:
    """A short, audio-free excerpt of a frame for people to read (<= 200 characters)."""
    # Cut first so a huge frame costs nothing; a base64 run cut at the edge is still long.
    head = _BASE64_RUN.sub(_hide_run, text[: PREVIEW_CHARS * 8])
    if len(head) > PREVIEW_CHARS or len(text) > PREVIEW_CHARS * 8:
        return head[: PREVIEW_CHARS - 1] + "…"
    return head


def _hide_run(match: re.Match[str]) -> str:
    return f"<{len(match.group())} chars>"


def _size(frame: object) -> int:
    try:
        return len(frame)  # type: ignore[arg-type]
    except TypeError:
        return 0


# --------------------------------------------------------------------------- builders

# Client event ids: "evt_1", "evt_2", … in this process. The server quotes the id back in
# `error.event_id`, which lets the inspector point at the event that failed.
_event_counter = itertools.count(1)


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"evt_{next(_event_counter)}", **fields}


def session_update(session: dict[str, Any]) -> dict[str, Any]:
    """`session.update` with a GA session object (see payload.session_config)."""
    return _event("session.update", session=session)


def audio_append(pcm: bytes) -> dict[str, Any]:
    """`input_audio_buffer.append` with PCM16 24 kHz mono bytes, base64-encoded."""
    return _event("input_audio_buffer.append", audio=base64.b64encode(pcm).decode("ascii"))


def audio_append_json(pcm: bytes) -> str:
    """The same event as `audio_append(pcm)`, as the JSON text that goes on the wire.

    The microphone sends 50 of these a second, each on a loop just woken from sleep, where
    building a dict and running json.dumps over it cost twice what this does (measured:
    ~130 against ~50 us a block on the project machine). Base64 needs no JSON escaping.
    """
    audio = base64.b64encode(pcm).decode("ascii")
    return (
        '{"type":"input_audio_buffer.append","event_id":"evt_'
        f'{next(_event_counter)}","audio":"{audio}"}}'
    )


def audio_commit() -> dict[str, Any]:
    return _event("input_audio_buffer.commit")


def audio_clear() -> dict[str, Any]:
    return _event("input_audio_buffer.clear")


def user_text(text: str, previous_item_id: str | None = None) -> dict[str, Any]:
    """A typed user message. `previous_item_id="root"` puts it at the conversation start."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    if previous_item_id is None:
        return _event("conversation.item.create", item=item)
    return _event("conversation.item.create", previous_item_id=previous_item_id, item=item)


def assistant_text(text: str) -> dict[str, Any]:
    """An assistant message as text, to replay history into a fresh connection.

    (The API cannot take assistant audio back; the transcript stands in for it.)
    """
    item = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }
    return _event("conversation.item.create", item=item)


def item_create(item: dict[str, Any]) -> dict[str, Any]:
    """`conversation.item.create` of a ready item (a function_call, function_call_output or
    mcp_approval_response from tui.tools.items)."""
    return _event("conversation.item.create", item=dict(item))


def response_create(**fields: Any) -> dict[str, Any]:
    """`response.create`; keyword fields become the `response` overrides for this reply."""
    if fields:
        return _event("response.create", response=dict(fields))
    return _event("response.create")


def response_cancel(response_id: str | None = None) -> dict[str, Any]:
    """Cancel `response_id`, or the in-progress response when None."""
    if response_id is None:
        return _event("response.cancel")
    return _event("response.cancel", response_id=response_id)


def item_truncate(item_id: str, audio_end_ms: int, content_index: int = 0) -> dict[str, Any]:
    """Cut assistant item audio at what the user actually heard."""
    return _event(
        "conversation.item.truncate",
        item_id=item_id,
        content_index=int(content_index),
        audio_end_ms=max(0, int(audio_end_ms)),
    )


def item_delete(item_id: str) -> dict[str, Any]:
    return _event("conversation.item.delete", item_id=item_id)


def item_retrieve(item_id: str) -> dict[str, Any]:
    return _event("conversation.item.retrieve", item_id=item_id)
