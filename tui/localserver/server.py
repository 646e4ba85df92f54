"""The built-in Realtime server: the GA protocol over a loopback websocket, for --demo and tests.

One `LocalServer` accepts any number of connections; each is a `_Connection` with its own
session config, conversation, input audio buffer, energy VAD and at most one active response.
Every event a connection emits goes through one ordered queue to one sender task, so the wire
order is the order of `record.sent`, and a cancel can never interleave with a delta.

Replies: to typed text, tone "speech" with the transcript "You said: ..."; to user audio,
the user's own audio played back (a parrot) with the transcript "I heard 2.3 s of audio at
-23 dBFS". Usage follows the protocol doc section 6: text len/4 tokens, user audio one token
per 100 ms, assistant audio one token per 50 ms; context items that were already part of the
previous response count as cached.

server_vad's idle_timeout_ms is honoured on the wall clock: that long after the end of the last
reply's playback (response.done time + its audio duration) without speech, the server emits
input_audio_buffer.timeout_triggered, commits the buffered (silent) audio and answers "are you
still there?".

Not simulated: tools/function calling (function items are stored, never called), MCP,
G.711 formats (rejected), out-of-band responses running alongside another.

Neighbours: sessionconfig.py (defaults, session.update merge, checks), items.py (conversation
items), validation.py (the client payload schema), vad.py, voice.py (reply audio), faults.py.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import copy
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from tui.localserver.faults import FAILED_MESSAGE, MAX_DURATION_REASON, Faults, bad_frame
from tui.localserver.items import (
    BYTES_PER_MS,
    RATE,
    Item,
    decode_audio,
    new_id,
    normalize_item,
    require,
    text_tokens,
)
from tui.localserver.sessionconfig import (
    SEMANTIC_SILENCE_MS,
    check_max_output_tokens,
    check_response_params,
    check_session,
    default_session,
    merge_session,
)
from tui.localserver.vad import EnergyVad, VadEvent, level_dbfs
from tui.localserver.validation import ClientError
from tui.localserver.voice import describe_heard, synthesize, transcribe_placeholder

log = logging.getLogger("tui.localserver")

PATH = "/v1/realtime"
MIN_COMMIT_MS = 100  # the real server refuses to commit less
QUIET_DBFS = -60.0  # user audio below this level gets "are you still there?", not a parrot
SESSION_SECONDS = 3600
WATCH_INTERVAL_S = 0.05


@dataclass
class SessionRecord:
    """What one connection did: for tests and for people watching the demo.

    `sent` holds every event dict emitted (valid events only, in wire order); `received` every
    client event dict that parsed as a JSON object; `raw_sent` the deliberately bad frames
    (fault injection) as (kind, frame). `headers` are the handshake headers without
    Authorization. `ended_by` says how the server ended it ("close 1001 ...", "abort"), or ""
    when the client closed or the server stopped.
    """

    id: str
    model: str
    headers: dict[str, str]
    faults: Faults
    config: dict[str, Any]
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    raw_sent: list[tuple[str, str | bytes]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str = ""

    def sent_types(self) -> list[str]:
        return [event["type"] for event in self.sent]


@dataclass
class _Response:
    id: str
    item_id: str
    modalities: list[str]
    voice: str
    output_format: dict[str, Any]
    in_conversation: bool
    metadata: dict[str, str] | None
    audio: bytes
    transcript: str
    input_text_tokens: int
    input_audio_tokens: int
    cached_text_tokens: int
    cached_audio_tokens: int
    sent_audio: int = 0  # bytes of audio delivered in deltas
    sent_text: str = ""  # transcript/text delivered in deltas
    deltas: int = 0
    bad_frames_sent: bool = False
    truncate_ms: int | None = None
    max_output_tokens: int | str = "inf"
    limited: bool = False  # cut to max_output_tokens: ends "incomplete"
    task: asyncio.Task[None] | None = None

    @property
    def is_audio(self) -> bool:
        return "audio" in self.modalities


class _Connection:
    """The protocol state machine of one websocket connection."""

    def __init__(
        self,
        server: LocalServer,
        ws: ServerConnection,
        record: SessionRecord,
        *,
        own_faults: Faults | None = None,
    ) -> None:
        self.server = server
        self.own_faults = own_faults
        self.ws = ws
        self.record = record
        self.conversation_id = new_id("conv")
        self.items: list[Item] = []
        self._with_audio: collections.deque[Item] = collections.deque()  # oldest first
        self.response: _Response | None = None
        self.audio_produced = False
        self.cached_ids: set[str] = set()
        self.cached_instructions = ""
        # input audio: the timeline counts every byte appended this session
        self.input_bytes = 0
        self.buffer = bytearray()
        self.buffer_start = 0  # timeline byte offset of buffer[0]
        self.speech_item_id: str | None = None
        self.vad = self._make_vad(start_ms=0)
        self.outbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.closing = False
        self.opened_at = time.monotonic()
        self.idle_deadline: float | None = None  # monotonic time idle_timeout_ms fires
        self.held_events: list[tuple[str, dict[str, Any]]] = []  # sent after response.done
        self._event_counter = 0

    def _keep_audio(self, item: Item) -> None:
        """Honour LocalServer.keep_audio_items: older items lose their audio (not their text)."""
        limit = self.server.keep_audio_items
        if limit is None or not item.audio:
            return
        self._with_audio.append(item)
        while len(self._with_audio) > limit:
            self._with_audio.popleft().audio = b""

    # --- plumbing -----------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        # without its own faults a connection follows server.faults, even when reassigned
        return self.own_faults if self.own_faults is not None else self.server.faults

    @property
    def config(self) -> dict[str, Any]:
        return self.record.config

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        return self.config["audio"]["input"].get("turn_detection")

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        self._event_counter += 1
        event = {"type": event_type, "event_id": f"event_{self._event_counter:05d}", **fields}
        if not self.closing:
            if event_type == "response.output_audio.delta" and not self.server.record_audio:
                self.record.sent.append({**event, "delta": ""})
            else:
                self.record.sent.append(event)
            self.outbox.put_nowait(("event", event))
        return event

    def emit_raw(self, kind: str, frame: str | bytes) -> None:
        if not self.closing:
            self.record.raw_sent.append((kind, frame))
            self.outbox.put_nowait(("raw", frame))

    def error(
        self, message: str, *, code: str, param: str | None = None, event_id: Any = None
    ) -> None:
        body: dict[str, Any] = {"type": "invalid_request_error", "code": code, "message": message}
        body["param"] = param
        body["event_id"] = event_id if isinstance(event_id, str) else None
        self.emit("error", error=body)

    def end(self, how: tuple[Any, ...], description: str) -> None:
        """Queue a close or abort after everything already emitted; emit nothing more."""
        if self.closing:
            return
        self.closing = True
        self.record.ended_by = description
        if self.response is not None and self.response.task is not None:
            self.response.task.cancel()
        self.outbox.put_nowait(how)

    async def _sender(self) -> None:
        while True:
            kind, *args = await self.outbox.get()
            try:
                if kind == "event":
                    await self.ws.send(json.dumps(args[0]))
                elif kind == "raw":
                    await self.ws.send(args[0])
                elif kind == "close":
                    await self.ws.close(args[0], args[1])
                    return
                elif kind == "abort":
                    await self._drain_then_abort()
                    return
            except websockets.ConnectionClosed:
                return
            except Exception:  # a bug must not leave the client waiting on a silent socket
                log.exception("local server failed to send %s", kind)
                self.ws.transport.abort()
                return

    async def _drain_then_abort(self) -> None:
        # abort() throws away unsent bytes: let the deltas before the fault reach the client
        transport = self.ws.transport
        deadline = time.monotonic() + 1.0
        while transport.get_write_buffer_size() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        transport.abort()

    async def _watcher(self) -> None:
        """Faults that are not tied to a response: close now, session length limit."""
        while not self.closing:
            faults = self.faults
            if faults.close_code is not None and faults.close_after_deltas is None:
                self.end(("close", faults.close_code, faults.close_reason), self._close_text())
            elif (
                faults.max_session_s is not None
                and time.monotonic() - self.opened_at >= faults.max_session_s
            ):
                self.end(("close", 1001, MAX_DURATION_REASON), f"close 1001 {MAX_DURATION_REASON}")
            elif self.idle_deadline is not None and time.monotonic() >= self.idle_deadline:
                try:
                    self._idle_timeout()
                except Exception:  # keep watching the session limit even if this failed
                    log.exception("local server failed on the idle timeout")
            await asyncio.sleep(WATCH_INTERVAL_S)

    def _close_text(self) -> str:
        return f"close {self.faults.close_code} {self.faults.close_reason}".rstrip()

    async def run(self) -> None:
        sender = asyncio.create_task(self._sender())
        watcher = asyncio.create_task(self._watcher())
        try:
            session = {
                **copy.deepcopy(self.config),
                "id": self.record.id,
                "object": "realtime.session",
                "expires_at": int(time.time()) + SESSION_SECONDS,
            }
            self.emit("session.created", session=session)
            async for frame in self.ws:
                if self.closing:
                    continue
                self.handle(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            ending = self.closing  # a close/abort is queued: let the sender carry it out
            self.closing = True
            if self.response is not None and self.response.task is not None:
                self.response.task.cancel()
            watcher.cancel()
            if not ending:
                sender.cancel()  # the client left: nothing more to say
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(sender, timeout=2.0)
            self.record.closed.set()

    # --- client events ------------------------------------------------------------------

    def handle(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            self.error("Binary frames are not supported; send JSON text.", code="invalid_frame")
            return
        try:
            data = json.loads(frame)
        except ValueError as exc:
            self.error(f"Invalid JSON: {exc}", code="invalid_json")
            return
        if not isinstance(data, dict):
            self.error("An event must be a JSON object.", code="invalid_json")
            return
        if data.get("type") == "input_audio_buffer.append" and not self.server.record_audio:
            self.record.received.append({**data, "audio": ""})
        else:
            self.record.received.append(data)
        event_type = data.get("type")
        handler = self.handlers.get(event_type) if isinstance(event_type, str) else None
        if handler is None:
            self.error(
                f"Invalid value: {event_type!r}. Supported values are: "
                + ", ".join(f"'{name}'" for name in self.handlers),
                code="invalid_value",
                param="type",
                event_id=data.get("event_id"),
            )
            return
        try:
            handler(self, data)
        except ClientError as exc:
            self.error(str(exc), code=exc.code, param=exc.param, event_id=data.get("event_id"))
        except Exception:  # a bug here must not kill the connection
            log.exception("local server failed on %s", event_type)
            self.emit(
                "error",
                error={
                    "type": "server_error",
                    "code": "internal_error",
                    "message": f"The local server failed while handling {event_type}.",
                    "param": None,
                    "event_id": data.get("event_id")
                    if isinstance(data.get("event_id"), str)
                    else None,
                },
            )

    def on_session_update(self, data: dict[str, Any]) -> None:
        update = require(data, "session", dict)
        kind = update.get("type")
        if kind is None:
            raise ClientError(
                "Missing required parameter: 'session.type'.",
                code="missing_required_parameter",
                param="session.type",
            )
        if kind != "realtime":
            raise ClientError(
                f"Invalid value: {kind!r}. The local server supports only 'realtime' sessions.",
                code="invalid_value",
                param="session.type",
            )
        merged = merge_session(self.config, update, ())
        check_session(merged, self.config, self.audio_produced)
        old_detection = self.turn_detection
        self.record.config = merged
        if self.turn_detection != old_detection:
            self.vad = self._make_vad(start_ms=self.input_bytes // BYTES_PER_MS)
            self.speech_item_id = None
        self.emit("session.updated", session=copy.deepcopy(merged))

    def on_append(self, data: dict[str, Any]) -> None:
        pcm = decode_audio(require(data, "audio", str), "audio")
        self.buffer.extend(pcm)
        self.input_bytes += len(pcm)
        if self.turn_detection is None:
            return
        for event in self.vad.feed(pcm):
            self._on_vad(event)
        if self.speech_item_id is None:
            # outside speech only the prefix padding can still become part of a turn
            keep = (int(self.turn_detection.get("prefix_padding_ms", 300)) + 100) * BYTES_PER_MS
            self._drop_buffer_before(self.input_bytes - keep)

    def on_commit(self, data: dict[str, Any]) -> None:
        if len(self.buffer) < MIN_COMMIT_MS * BYTES_PER_MS:
            raise ClientError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has "
                f"{len(self.buffer) / BYTES_PER_MS:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        item_id = self.speech_item_id or new_id("item")
        pcm = bytes(self.buffer)
        self.buffer_start = self.input_bytes
        self.buffer.clear()
        self.speech_item_id = None
        self.vad.reset()
        self._commit(pcm, item_id)

    def on_clear(self, data: dict[str, Any]) -> None:
        self.buffer_start = self.input_bytes
        self.buffer.clear()
        self.speech_item_id = None
        self.vad.reset()
        self.emit("input_audio_buffer.cleared")

    def on_item_create(self, data: dict[str, Any]) -> None:
        item = normalize_item(require(data, "item", dict), self._exists)
        previous = data.get("previous_item_id")
        if previous is None:
            index = len(self.items)
        elif previous == "root":
            index = 0
        else:
            found = self._find(previous)
            if found is None:
                raise ClientError(
                    f"Previous item with id {previous!r} not found.",
                    code="invalid_value",
                    param="previous_item_id",
                )
            index = self.items.index(found) + 1
        self.items.insert(index, item)
        self._keep_audio(item)
        before = self.items[index - 1].id if index > 0 else None
        self.emit("conversation.item.added", previous_item_id=before, item=copy.deepcopy(item.data))
        self.emit("conversation.item.done", previous_item_id=before, item=copy.deepcopy(item.data))

    def on_item_retrieve(self, data: dict[str, Any]) -> None:
        item = self._require_item(data)
        self.emit("conversation.item.retrieved", item=item.with_audio())

    def on_item_delete(self, data: dict[str, Any]) -> None:
        item = self._require_item(data)
        self.items.remove(item)
        self.emit("conversation.item.deleted", item_id=item.id)

    def on_item_truncate(self, data: dict[str, Any]) -> None:
        item = self._require_item(data)
        content_index = require(data, "content_index", int)
        audio_end_ms = require(data, "audio_end_ms", int)
        parts = item.data.get("content", [])
        response = self.response
        # the item of a streaming response has no content part yet, but audio all the same
        active = response is not None and response.item_id == item.id and response.is_audio
        has_audio = active or any(p.get("type") == "output_audio" for p in parts)
        if item.role != "assistant" or not has_audio:
            raise ClientError(
                f"Item {item.id!r} is not an assistant message with audio; only those can be "
                "truncated.",
                code="invalid_value",
                param="item_id",
            )
        if content_index != 0:
            raise ClientError(
                f"Item {item.id!r} has no audio content at index {content_index}.",
                code="invalid_value",
                param="content_index",
            )
        audio_ms = (response.sent_audio if active else len(item.audio)) // BYTES_PER_MS
        if audio_end_ms < 0 or audio_end_ms > audio_ms:
            raise ClientError(
                f"audio_end_ms ({audio_end_ms}) is out of range: the item has {audio_ms} ms "
                "of audio.",
                code="invalid_value",
                param="audio_end_ms",
            )
        if active:
            response.truncate_ms = audio_end_ms  # applied when the response ends
        item.audio = item.audio[: audio_end_ms * BYTES_PER_MS]
        for part in parts:
            if part.get("type") == "output_audio":
                part["transcript"] = ""  # the server drops the text the user never heard
        self.emit(
            "conversation.item.truncated",
            item_id=item.id,
            content_index=content_index,
            audio_end_ms=audio_end_ms,
        )

    def on_response_create(self, data: dict[str, Any]) -> None:
        params = data.get("response") or {}
        if not isinstance(params, dict):
            raise ClientError(
                "'response' must be an object.", code="invalid_type", param="response"
            )
        check_response_params(params)
        self._start_response(params)

    def on_response_cancel(self, data: dict[str, Any]) -> None:
        wanted = data.get("response_id")
        if self.response is None or (wanted is not None and wanted != self.response.id):
            raise ClientError(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
            )
        self._cancel_response("client_cancelled")

    def on_output_audio_clear(self, data: dict[str, Any]) -> None:
        raise ClientError(
            "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
            code="invalid_value",
            param="type",
        )

    handlers: ClassVar[dict[str, Callable[[_Connection, dict[str, Any]], None]]] = {
        "session.update": on_session_update,
        "input_audio_buffer.append": on_append,
        "input_audio_buffer.commit": on_commit,
        "input_audio_buffer.clear": on_clear,
        "conversation.item.create": on_item_create,
        "conversation.item.retrieve": on_item_retrieve,
        "conversation.item.truncate": on_item_truncate,
        "conversation.item.delete": on_item_delete,
        "response.create": on_response_create,
        "response.cancel": on_response_cancel,
        "output_audio_buffer.clear": on_output_audio_clear,
    }

    # --- input audio, VAD and commits ---------------------------------------------------

    def _make_vad(self, *, start_ms: int) -> EnergyVad:
        detection = self.record.config["audio"]["input"].get("turn_detection") or {}
        if detection.get("type") == "semantic_vad":
            silence = SEMANTIC_SILENCE_MS.get(detection.get("eagerness") or "auto", 500)
            return EnergyVad(0.5, 300, silence, RATE, start_ms=start_ms)
        return EnergyVad(
            float(detection.get("threshold", 0.5)),
            int(detection.get("prefix_padding_ms", 300)),
            int(detection.get("silence_duration_ms", 500)),
            RATE,
            start_ms=start_ms,
        )

    def _drop_buffer_before(self, timeline_byte: int) -> None:
        cut = timeline_byte - self.buffer_start
        if cut > 0:
            del self.buffer[:cut]
            self.buffer_start += cut

    def _on_vad(self, event: VadEvent) -> None:
        detection = self.turn_detection or {}
        if event.kind == "started":
            self.idle_deadline = None
            self.speech_item_id = new_id("item")
            self._drop_buffer_before(event.ms * BYTES_PER_MS)
            self.emit(
                "input_audio_buffer.speech_started",
                audio_start_ms=event.ms,
                item_id=self.speech_item_id,
            )
            if self.response is not None and detection.get("interrupt_response", True):
                self._cancel_response("turn_detected")
            return
        item_id = self.speech_item_id or new_id("item")
        self.speech_item_id = None
        self.emit("input_audio_buffer.speech_stopped", audio_end_ms=event.ms, item_id=item_id)
        end = event.ms * BYTES_PER_MS - self.buffer_start
        pcm = bytes(self.buffer[:end])
        self._drop_buffer_before(event.ms * BYTES_PER_MS)
        self._commit(pcm, item_id)
        if detection.get("create_response", True) and self.response is None:
            self._start_response({})

    def _idle_timeout(self) -> None:
        """No speech for idle_timeout_ms after the last reply ended: commit the quiet, answer."""
        self.idle_deadline = None
        detection = self.turn_detection or {}
        if (
            detection.get("type") != "server_vad"
            or not detection.get("idle_timeout_ms")
            or self.response is not None
            or self.speech_item_id is not None
        ):
            return
        item_id = new_id("item")
        self.emit(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=self.buffer_start // BYTES_PER_MS,
            audio_end_ms=self.input_bytes // BYTES_PER_MS,
            item_id=item_id,
        )
        pcm = bytes(self.buffer)
        self.buffer_start = self.input_bytes
        self.buffer.clear()
        self.vad.reset()
        self._commit(pcm, item_id)
        self._start_response({})

    def _arm_idle_timeout(self, reply_audio_bytes: int) -> None:
        detection = self.turn_detection or {}
        idle_ms = (
            detection.get("idle_timeout_ms") if detection.get("type") == "server_vad" else None
        )
        if isinstance(idle_ms, int) and idle_ms > 0:
            playback_s = reply_audio_bytes / BYTES_PER_MS / 1000
            self.idle_deadline = time.monotonic() + playback_s + idle_ms / 1000

    def _commit(self, pcm: bytes, item_id: str) -> None:
        previous = self.items[-1].id if self.items else None
        self.emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        item = Item(
            {
                "id": item_id,
                "object": "realtime.item",
                "type": "message",
                "status": "completed",
                "role": "user",
                "content": [{"type": "input_audio", "transcript": None}],
            },
            pcm,
        )
        self.items.append(item)
        self._keep_audio(item)
        self.emit(
            "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item.data)
        )
        self.emit(
            "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item.data)
        )
        if self.config["audio"]["input"].get("transcription"):
            text = transcribe_placeholder(pcm)
            item.data["content"][0]["transcript"] = text
            ids = {"item_id": item_id, "content_index": 0}
            late: list[tuple[str, dict[str, Any]]] = []
            emit: Callable[..., object] = (
                self._held(late) if self.faults.late_transcription else self.emit
            )
            emit("conversation.item.input_audio_transcription.delta", **ids, delta=text)
            audio_tokens = len(pcm) // BYTES_PER_MS // 100
            usage = {
                "type": "tokens",
                "input_tokens": audio_tokens,
                "output_tokens": text_tokens(text),
                "total_tokens": audio_tokens + text_tokens(text),
                "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0},
            }
            emit(
                "conversation.item.input_audio_transcription.completed",
                **ids,
                transcript=text,
                usage=usage,
            )
            self.held_events += late

    def _held(self, into: list[tuple[str, dict[str, Any]]]) -> Callable[..., None]:
        """An emit() that keeps the event for later (the late_transcription fault)."""

        def hold(event_type: str, **fields: Any) -> None:
            into.append((event_type, fields))

        return hold

    # --- responses ----------------------------------------------------------------------

    def _start_response(self, params: dict[str, Any]) -> None:
        if self.response is not None:
            raise ClientError(
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        modalities = params.get("output_modalities") or self.config["output_modalities"]
        if modalities not in (["audio"], ["text"]):
            raise ClientError(
                f"Invalid output_modalities {modalities!r}: use ['audio'] or ['text'].",
                code="invalid_value",
                param="response.output_modalities",
            )
        output = self.config["audio"]["output"]
        override = (params.get("audio") or {}).get("output") or {}
        voice = override.get("voice") or output["voice"]
        voice_name = voice if isinstance(voice, str) else str(voice.get("id", "custom"))
        context = self._context(params.get("input"))
        audio, transcript = self._reply(context, modalities, voice_name, output.get("speed", 1.0))
        limit = params.get("max_output_tokens", self.config.get("max_output_tokens", "inf"))
        check_max_output_tokens(limit, "response.max_output_tokens")
        limited = False
        if isinstance(limit, int):
            audio, transcript, limited = _fit_budget(audio, transcript, limit)
        instructions = params.get("instructions") or self.config.get("instructions") or ""
        text_in, audio_in, cached_text, cached_audio = self._input_tokens(context, instructions)
        response = _Response(
            id=new_id("resp"),
            item_id=new_id("item"),
            modalities=list(modalities),
            voice=voice_name,
            output_format=copy.deepcopy(override.get("format") or output["format"]),
            in_conversation=params.get("conversation", "auto") != "none",
            metadata=params.get("metadata"),
            audio=audio,
            transcript=transcript,
            input_text_tokens=text_in,
            input_audio_tokens=audio_in,
            cached_text_tokens=cached_text,
            cached_audio_tokens=cached_audio,
            max_output_tokens=limit,
            limited=limited,
        )
        self.response = response
        self.cached_ids = {item.id for item in context} | {response.item_id}
        self.cached_instructions = instructions
        if response.is_audio:
            self.audio_produced = True
        self.emit("response.created", response=self._response_object(response, "in_progress"))
        self.emit(
            "rate_limits.updated",
            rate_limits=[
                {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
                {"name": "tokens", "limit": 40000, "remaining": 35904, "reset_seconds": 6.144},
            ],
        )
        item = self._assistant_item(response, "in_progress", with_content=False)
        ids = {"response_id": response.id, "output_index": 0}
        self.emit("response.output_item.added", **ids, item=item)
        if response.in_conversation:
            previous = self.items[-1].id if self.items else None
            self.items.append(Item(copy.deepcopy(item)))
            self.emit(
                "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item)
            )
        part = (
            {"type": "audio", "transcript": ""}
            if response.is_audio
            else {"type": "text", "text": ""}
        )
        self.emit(
            "response.content_part.added",
            **ids,
            item_id=response.item_id,
            content_index=0,
            part=part,
        )
        response.task = asyncio.create_task(self._stream_guarded(response))

    def _context(self, given: Any) -> list[Item]:
        """The items a response reads: the conversation, or response.input when given."""
        if not isinstance(given, list):
            return list(self.items)
        context: list[Item] = []
        for entry in given:
            if not isinstance(entry, dict):
                continue
            if entry.get("type") == "item_reference":
                found = self._find(entry.get("id"))
                if found is not None:
                    context.append(found)
            else:
                context.append(normalize_item(entry))
        return context

    def _reply(
        self, context: list[Item], modalities: list[str], voice: str, speed: float
    ) -> tuple[bytes, str]:
        """(audio, transcript) for the latest user message: parrot speech, echo text."""
        for item in reversed(context):
            if item.role != "user":
                continue
            kinds = [part.get("type") for part in item.data.get("content", [])]
            if "input_audio" in kinds and level_dbfs(item.audio) > QUIET_DBFS:
                return (item.audio if "audio" in modalities else b""), describe_heard(item.audio)
            if "input_audio" in kinds:
                transcript = "I heard only silence. Are you still there?"
                break
            texts = [
                p.get("text", "") for p in item.data["content"] if p.get("type") == "input_text"
            ]
            if texts:
                transcript = "You said: " + " ".join(texts)
                break
        else:
            transcript = "Hello from the rt-tui local server."
        audio = synthesize(transcript, voice=voice, speed=speed) if "audio" in modalities else b""
        return audio, transcript

    def _input_tokens(self, context: list[Item], instructions: str) -> tuple[int, int, int, int]:
        text = text_tokens(instructions)
        cached_text = text if instructions and instructions == self.cached_instructions else 0
        audio = 0
        cached_audio = 0
        for item in context:
            item_text, item_audio = item.tokens()
            text += item_text
            audio += item_audio
            if item.id in self.cached_ids:
                cached_text += item_text
                cached_audio += item_audio
        return text, audio, cached_text, cached_audio

    async def _stream_guarded(self, response: _Response) -> None:
        try:
            await self._stream(response)
        except Exception:  # end the response visibly rather than leave it hanging
            log.exception("local server failed while streaming %s", response.id)
            if self.response is response and not self.closing:
                self._finish_response(response, "failed", "The local server had an internal error.")

    async def _stream(self, response: _Response) -> None:
        chunk = self.server.chunk_ms * BYTES_PER_MS
        if self._delta_faults(response):
            return
        ids = {
            "response_id": response.id,
            "item_id": response.item_id,
            "output_index": 0,
            "content_index": 0,
        }
        if response.is_audio:
            count = max(1, math.ceil(len(response.audio) / chunk))
            pieces = _split_words(response.transcript, count)
            for index in range(count):
                data = response.audio[index * chunk : (index + 1) * chunk]
                self.emit(
                    "response.output_audio.delta", **ids, delta=base64.b64encode(data).decode()
                )
                response.sent_audio += len(data)
                if pieces[index]:
                    self.emit("response.output_audio_transcript.delta", **ids, delta=pieces[index])
                    response.sent_text += pieces[index]
                response.deltas += 1
                if self._delta_faults(response):
                    return
                await asyncio.sleep(self._pause())
        else:
            words = re.findall(r"\S+\s*", response.transcript) or [response.transcript]
            for word in words:
                self.emit("response.output_text.delta", **ids, delta=word)
                response.sent_text += word
                response.deltas += 1
                if self._delta_faults(response):
                    return
                await asyncio.sleep(self._pause() / 2)
        if response.limited:
            self._finish_response(response, "incomplete", "max_output_tokens")
        else:
            self._finish_response(response, "completed", None)

    def _pause(self) -> float:
        """Seconds between deltas; read each time so a test can change the pace mid-reply."""
        return self.server.chunk_ms / 1000 / self.server.realtime_factor

    def _delta_faults(self, response: _Response) -> bool:
        """Apply the per-delta fault switches; True when this response stops here."""
        faults = self.faults
        if (
            (faults.bad_frames or faults.extra_frames)
            and not response.bad_frames_sent
            and response.deltas >= faults.bad_frames_after_deltas
        ):
            response.bad_frames_sent = True
            for kind in faults.bad_frames:
                event_id = f"event_bad_{self._event_counter:05d}"
                frame = bad_frame(
                    kind, response_id=response.id, item_id=response.item_id, event_id=event_id
                )
                self.emit_raw(kind, frame)
            for frame in faults.extra_frames:
                self.emit_raw("extra", frame)
        if faults.fail_after_deltas is not None and response.deltas >= faults.fail_after_deltas:
            self._finish_response(response, "failed", FAILED_MESSAGE)
            return True
        if faults.drop_after_deltas is not None and response.deltas >= faults.drop_after_deltas:
            self.end(("abort",), "abort")
            return True
        if (
            faults.close_code is not None
            and faults.close_after_deltas is not None
            and response.deltas >= faults.close_after_deltas
        ):
            self.end(("close", faults.close_code, faults.close_reason), self._close_text())
            return True
        return False

    def _cancel_response(self, reason: str) -> None:
        response = self.response
        if response is None:
            return
        if response.task is not None:
            response.task.cancel()  # it sleeps between deltas: nothing more will come from it
        self._finish_response(response, "cancelled", reason)

    def _finish_response(self, response: _Response, status: str, reason: str | None) -> None:
        ids = {
            "response_id": response.id,
            "item_id": response.item_id,
            "output_index": 0,
            "content_index": 0,
        }
        if response.is_audio:
            self.emit("response.output_audio.done", **ids)
            self.emit("response.output_audio_transcript.done", **ids, transcript=response.sent_text)
            part = {"type": "audio", "transcript": response.sent_text}
        else:
            self.emit("response.output_text.done", **ids, text=response.sent_text)
            part = {"type": "text", "text": response.sent_text}
        self.emit("response.content_part.done", **ids, part=part)
        item_status = "completed" if status == "completed" else "incomplete"
        item = self._assistant_item(response, item_status, with_content=True)
        audio = response.audio[: response.sent_audio]
        if response.truncate_ms is not None:
            audio = audio[: response.truncate_ms * BYTES_PER_MS]
            item["content"][0]["transcript"] = ""
        self.emit("response.output_item.done", response_id=response.id, output_index=0, item=item)
        if response.in_conversation:
            stored = self._find(response.item_id)
            if stored is not None:
                stored.data = copy.deepcopy(item)
                stored.audio = audio
                self._keep_audio(stored)
                index = self.items.index(stored)
                previous = self.items[index - 1].id if index > 0 else None
                self.emit("conversation.item.done", previous_item_id=previous, item=item)
        details: dict[str, Any] | None = None
        if status == "failed":
            # `reason` carries the error message for a failed response
            error = {"type": "server_error", "code": "server_error", "message": reason}
            details = {"type": "failed", "error": error}
        elif status != "completed":
            details = {"type": status, "reason": reason}
        final = self._response_object(response, status, details=details, output=[item])
        self.response = None
        self._arm_idle_timeout(response.sent_audio)
        self.emit("response.done", response=final)
        held, self.held_events = self.held_events, []
        for event_type, fields in held:
            self.emit(event_type, **fields)

    def _assistant_item(self, response: _Response, status: str, *, with_content: bool):
        content: list[dict[str, Any]] = []
        if with_content:
            if response.is_audio:
                content = [{"type": "output_audio", "transcript": response.sent_text}]
            else:
                content = [{"type": "output_text", "text": response.sent_text}]
        return {
            "id": response.item_id,
            "object": "realtime.item",
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def _response_object(
        self,
        response: _Response,
        status: str,
        *,
        details: dict[str, Any] | None = None,
        output: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        usage = None
        if status != "in_progress":
            out_audio = response.sent_audio // BYTES_PER_MS // 50
            out_text = text_tokens(response.sent_text)
            total_in = response.input_text_tokens + response.input_audio_tokens
            usage = {
                "total_tokens": total_in + out_audio + out_text,
                "input_tokens": total_in,
                "output_tokens": out_audio + out_text,
                "input_token_details": {
                    "text_tokens": response.input_text_tokens,
                    "audio_tokens": response.input_audio_tokens,
                    "image_tokens": 0,
                    "cached_tokens": response.cached_text_tokens + response.cached_audio_tokens,
                    "cached_tokens_details": {
                        "text_tokens": response.cached_text_tokens,
                        "audio_tokens": response.cached_audio_tokens,
                        "image_tokens": 0,
                    },
                },
                "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
            }
        return {
            "id": response.id,
            "object": "realtime.response",
            "conversation_id": self.conversation_id if response.in_conversation else None,
            "output_modalities": response.modalities,
            "max_output_tokens": response.max_output_tokens,
            "audio": {"output": {"format": response.output_format, "voice": response.voice}},
            "metadata": response.metadata,
            "output": output or [],
            "status": status,
            "status_details": details,
            "usage": usage,
        }

    # --- helpers ------------------------------------------------------------------------

    def _exists(self, item_id: str) -> bool:
        return self._find(item_id) is not None

    def _find(self, item_id: Any) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def _require_item(self, data: dict[str, Any]) -> Item:
        item_id = require(data, "item_id", str)
        item = self._find(item_id)
        if item is None:
            raise ClientError(
                f"Item with item_id {item_id!r} not found.", code="item_not_found", param="item_id"
            )
        return item


# --- pure helpers -----------------------------------------------------------------------


def _split_words(text: str, count: int) -> list[str]:
    """`text` in `count` consecutive pieces of whole words (some may be empty)."""
    words = re.findall(r"\S+\s*", text) or [text]
    pieces = []
    for index in range(count):
        start = round(index * len(words) / count)
        end = round((index + 1) * len(words) / count)
        pieces.append("".join(words[start:end]))
    return pieces


def _fit_budget(audio: bytes, transcript: str, limit: int) -> tuple[bytes, str, bool]:
    """Cut a reply so its output tokens (audio ms/50 + text len/4) stay within `limit`."""
    tokens = len(audio) / BYTES_PER_MS / 50 + len(transcript) / 4
    if tokens <= limit:
        return audio, transcript, False
    share = limit / tokens
    audio_ms = int(len(audio) / BYTES_PER_MS * share)
    chars = int(len(transcript) * share) // 4 * 4
    return audio[: audio_ms * BYTES_PER_MS], transcript[:chars], True


# --- the server ---------------------------------------------------------------------------


def _json_response(connection: ServerConnection, status: int, message: str, code: Any) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    response = connection.respond(status, json.dumps(body))
    response.headers = Headers(
        [(k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type"]
    )
    response.headers["Content-Type"] = "application/json"
    return response


class LocalServer:
    """The built-in Realtime server. `async with LocalServer() as server: ... server.url`.

    `realtime_factor` is how much faster than real time reply audio streams (4 = a 100 ms
    delta every 25 ms; read per delta, so it can change mid-reply); `chunk_ms` the audio per
    delta. `faults` is read live by every connection; `next_connection_faults` (a deque)
    gives the next connections their own Faults instead, one entry each, so a test can break
    only the first K connections. With `record_audio=False` the session records keep every
    event but blank the base64 of audio appends and deltas (the wire is unchanged), so a long
    demo or soak run does not hold all its audio in memory. The conversation itself keeps
    every item's audio, as the real server does; `keep_audio_items=N` keeps it for the newest
    N items only, so that a soak's memory figure is the client's rather than this server's.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        realtime_factor: float = 4.0,
        *,
        chunk_ms: int = 100,
        record_audio: bool = True,
        keep_audio_items: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else Faults()
        self.realtime_factor = realtime_factor if realtime_factor > 0 else math.inf
        self.chunk_ms = chunk_ms
        self.record_audio = record_audio
        self.keep_audio_items = keep_audio_items
        self.next_connection_faults: collections.deque[Faults] = collections.deque()
        self.sessions: list[SessionRecord] = []
        self.handshakes: list[int] = []  # HTTP status of every handshake on /v1/realtime
        self._server: Server | None = None
        self._faults_by_connection: dict[int, Faults] = {}
        self._connections: set[_Connection] = set()
        self._session_added = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{PATH}"

    def break_next_connections(self, faults: Faults, count: int = 1) -> None:
        """Give the next `count` connections `faults` (one shared, live-editable value)."""
        self.next_connection_faults.extend([faults] * count)

    async def start(self) -> LocalServer:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=None,
            compression=None,
            ping_interval=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("local Realtime server listening on %s", self.url)
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close(code=1001, reason="server shutting down")
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> LocalServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_for_session(self, count: int = 1, timeout: float = 5.0) -> SessionRecord:
        """Wait until `count` sessions have opened; return the `count`-th."""
        async with asyncio.timeout(timeout), self._session_added:
            await self._session_added.wait_for(lambda: len(self.sessions) >= count)
        return self.sessions[count - 1]

    def drop_all(self) -> None:
        """Abort every open connection (no close frame), as a network failure would.

        Events already emitted reach the client first; nothing is emitted after."""
        for connection in list(self._connections):
            connection.end(("abort",), "abort")

    def close_all(self, code: int, reason: str = "") -> None:
        """Close every open connection with `code` and `reason`, after what was emitted."""
        for connection in list(self._connections):
            connection.end(("close", code, reason), f"close {code} {reason}".rstrip())

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != PATH:
            return _json_response(
                connection, 404, f"Invalid URL (GET {parts.path}): use {PATH}", "not_found"
            )
        faults = self.next_connection_faults.popleft() if self.next_connection_faults else None
        status = (faults or self.faults).refuse_status
        if status is not None:
            self.handshakes.append(status)
            reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            return _json_response(connection, status, f"Refused by fault switch: {reason}", None)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            self.handshakes.append(401)
            return _json_response(
                connection,
                401,
                "You didn't provide an API key. Send it in the Authorization header "
                "(Authorization: Bearer YOUR_KEY).",
                "missing_api_key",
            )
        if not parse_qs(parts.query).get("model") and not parse_qs(parts.query).get("call_id"):
            self.handshakes.append(400)
            return _json_response(
                connection, 400, "Missing required parameter: 'model'.", "missing_model"
            )
        self.handshakes.append(101)
        if faults is not None:
            self._faults_by_connection[id(connection)] = faults
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        query = parse_qs(urlsplit(request.path).query)
        model = (query.get("model") or ["gpt-realtime"])[0]
        faults = self._faults_by_connection.pop(id(ws), None)
        record = SessionRecord(
            id=new_id("sess"),
            model=model,
            headers={k: v for k, v in request.headers.raw_items() if k.lower() != "authorization"},
            faults=faults if faults is not None else self.faults,
            config=default_session(model),
        )
        connection = _Connection(self, ws, record, own_faults=faults)
        async with self._session_added:
            self.sessions.append(record)
            self._session_added.notify_all()
        self._connections.add(connection)
        log.info("session %s opened (model %s)", record.id, model)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            log.info("session %s ended %s", record.id, record.ended_by or "by the client")
