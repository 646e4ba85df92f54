"""Fault switches of the local server, for tests of reconnection and bad input (issue 5).

A `Faults` value is read live by the running connections: change a field on `server.faults`
and the next check point of every connection sees it. Check points are the handshake
(`refuse_status`), each output delta of a response (`drop_after_deltas`, `close_after_deltas`,
`fail_after_deltas`, `bad_frames`, `extra_frames`) and a 20 Hz watcher (`close_code` with no
delta count, `max_session_s`).

Counts are per response: `drop_after_deltas=3` aborts the TCP connection right after the
third audio (or text) delta of whichever response is running.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Literal, get_args

BadFrameKind = Literal[
    "not_json",
    "json_array",
    "unknown_type",
    "missing_fields",
    "bad_base64",
    "odd_length_audio",
    "unknown_item_delta",
    "binary",
    "huge",
]
BAD_FRAME_KINDS: tuple[BadFrameKind, ...] = get_args(BadFrameKind)
HUGE_FRAME_BYTES = 4 * 1024 * 1024
MAX_DURATION_REASON = "maximum duration reached"
FAILED_MESSAGE = "The server had an error while processing your request."


@dataclass
class Faults:
    """Everything the server can do wrong, off by default.

    - `refuse_status`: answer the websocket handshake with this HTTP status (401, 403, 404,
      500, ...) and a JSON error body, instead of upgrading.
    - `drop_after_deltas`: after this many output deltas of a response, abort the TCP
      connection (no close frame, like a cable pulled). 0 = right after response.created.
    - `close_code` / `close_reason`: close the websocket with this code (1001, 1011, 1012,
      1013, ...). With `close_after_deltas` set, after that many deltas of a response;
      without it, at once (right after session.created on a new connection).
    - `bad_frames`: these kinds of bad frame (see BAD_FRAME_KINDS), sent in this order once per
      response after `bad_frames_after_deltas` deltas, between valid events.
    - `extra_frames`: raw frames (str = text frame, bytes = binary frame) sent at the same
      point, for property tests with arbitrary input.
    - `fail_after_deltas`: after this many deltas, end the response with status "failed"
      (`status_details.error` of type server_error); the connection stays open.
    - `max_session_s`: close with 1001 "maximum duration reached" this many seconds after
      the connection opened, as the real server does at its session limit.
    - `late_transcription`: hold back the input transcription of committed audio (its delta
      and `completed` with usage) until the next `response.done`, as the real server may
      (transcription runs asynchronously, so it can arrive after the reply).
    """

    refuse_status: int | None = None
    drop_after_deltas: int | None = None
    close_code: int | None = None
    close_reason: str = ""
    close_after_deltas: int | None = None
    bad_frames: list[BadFrameKind] = field(default_factory=list)
    bad_frames_after_deltas: int = 1
    extra_frames: list[str | bytes] = field(default_factory=list)
    fail_after_deltas: int | None = None
    max_session_s: float | None = None
    late_transcription: bool = False


def bad_frame(kind: BadFrameKind, *, response_id: str, item_id: str, event_id: str) -> str | bytes:
    """One bad frame of `kind`; ids make the valid-looking parts plausible for this response."""
    ids = {
        "event_id": event_id,
        "response_id": response_id,
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
    }
    if kind == "not_json":
        return '{"type": "response.output_audio.delta", "delta": '  # cut off mid-object
    if kind == "json_array":
        return json.dumps([{"type": "response.output_audio.delta", **ids, "delta": ""}])
    if kind == "unknown_type":
        return json.dumps({"type": "response.output_hologram.delta", **ids, "delta": "xyz"})
    if kind == "missing_fields":
        return json.dumps({"type": "response.output_audio.delta", "event_id": event_id})
    if kind == "bad_base64":
        return json.dumps({"type": "response.output_audio.delta", **ids, "delta": "@@not*b64!"})
    if kind == "odd_length_audio":
        odd = base64.b64encode(b"\x01\x02\x03").decode()
        return json.dumps({"type": "response.output_audio.delta", **ids, "delta": odd})
    if kind == "unknown_item_delta":
        silence = base64.b64encode(bytes(480)).decode()
        unknown = {**ids, "item_id": "item_fault_unknown"}
        return json.dumps({"type": "response.output_audio.delta", **unknown, "delta": silence})
    if kind == "binary":
        return b"\x00\x01binary frame\xff"
    if kind == "huge":
        # well-formed JSON of several MB, about an item nobody knows
        padding = "A" * HUGE_FRAME_BYTES
        unknown = {**ids, "item_id": "item_fault_huge"}
        return json.dumps({"type": "response.output_text.delta", **unknown, "delta": padding})
    raise ValueError(f"unknown bad frame kind {kind!r}; known: {', '.join(BAD_FRAME_KINDS)}")
