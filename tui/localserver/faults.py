"""Fault switches of the local server: the hostile server the tests share (issues 5 and 9).

A `Faults` value is read live by the running connections: change a field on `server.faults`
and the next check point of every connection sees it. Check points are the handshake
(`refuse_status`, `redirect_to`), the cues (`CUES`: session.created, session.updated,
response.created, each output delta of a response, response.done; `inject`, `flood`,
`drop_after_deltas`, `close_after_deltas`, `fail_after_deltas`, `bad_frames`,
`extra_frames`) and a 20 Hz watcher (`close_code` with no delta count, `max_session_s`).

Counts are per response: `drop_after_deltas=3` aborts the TCP connection right after the
third audio (or text) delta of whichever response is running.

Everything the server emits stays a valid GA event (the SDK models say so) except the raw
frames a fault sends on purpose: `bad_frames`, `extra_frames` and `inject`, all listed in
`SessionRecord.raw_sent`. `tui.localserver.hostile` has ready-made frames and strings for them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

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

Cue = Literal["session.created", "session.updated", "response.created", "delta", "response.done"]
CUES: tuple[Cue, ...] = get_args(Cue)
Frame = str | bytes | dict[str, Any]


@dataclass
class Inject:
    """Raw frames sent at a cue, unchecked: text (str), binary (bytes), or a dict sent as its
    JSON (any shape: an event with a wrong nested type, a huge one).

    `at="delta"` sends them right after the `deltas`-th output delta of a response (0: before
    the first, so in the middle of a reply for any count below its length). Once per
    connection, or at every such cue with `every=True`. Recorded as ("inject", frame).
    """

    frames: list[Frame]
    at: Cue = "session.created"
    deltas: int = 1
    every: bool = False


FloodKind = Literal["rate_limits", "deltas"]


@dataclass
class Flood:
    """Valid small events, `count` of them at `rate_hz` from a cue (once per connection).

    `kind="rate_limits"`: rate_limits.updated; `kind="deltas"`: transcript (or text) deltas of
    the response running at the cue (so `at` must be response.created or delta). They are
    valid events, recorded in `record.sent` like any other.
    """

    kind: FloodKind = "rate_limits"
    rate_hz: float = 10_000.0
    count: int = 10_000
    at: Cue = "session.created"


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
      the connection opened, as the real server does at its session limit; set when the
      connection opens, it is also the `expires_at` of its session.created (else an hour).
    - `late_transcription`: hold back the input transcription of committed audio (its delta
      and `completed` with usage) until the next `response.done`, as the real server may
      (transcription runs asynchronously, so it can arrive after the reply).
    - `redirect_to` / `redirect_status`: answer the handshake with this 3xx status and a
      Location header (a URL or a path). Give it with `break_next_connections` to redirect
      only the first handshake, so a redirect the client follows can succeed.
    - `silent`: complete the handshake, then send nothing at all (no session.created); the
      client's frames are read and recorded, never answered.
    - `inject`: raw frames at a cue (see `Inject`). `flood`: valid events as fast as asked
      (see `Flood`). `realtime_factor`: this connection's reply pace instead of the server's
      (`math.inf` for no pause at all: audio deltas far faster than real time).
    - `taint`: a string (control characters, ESC sequences, bidi overrides: see
      `hostile.HOSTILE_TEXT`) put in front of every reply transcript and text, every user
      transcription, every `error.message`, the error message of a failed response and every
      close reason (cut to the 123 bytes a close frame holds). The events stay valid.
    - `session_override`: merged into the session after each session.update is applied (the
      way a session.update is: audio, audio.input and audio.output key by key, anything
      deeper replaced), so session.updated and later replies show a voice or format that
      was not asked for, as a server that applies an update differently would.
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
    redirect_to: str | None = None
    redirect_status: int = 302
    silent: bool = False
    inject: list[Inject] = field(default_factory=list)
    flood: Flood | None = None
    realtime_factor: float | None = None
    taint: str = ""
    session_override: dict[str, Any] | None = None


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
