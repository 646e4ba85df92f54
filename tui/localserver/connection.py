"""One websocket connection of the local server: the hub its rooms share.

Each connection has its own session config, conversation (`ItemStore`), input audio buffer
and energy VAD (`InputAudio`), at most one active response (`Responder`), function calls
(`ToolCalls`) and emulated remote MCP servers (`RemoteMcp`); everything it says goes out
through one `Outlet`. This module reads the client's frames, hands each event
to its room, applies session.update and runs the watcher for the faults that are not tied to
a response.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import websockets
from websockets.asyncio.server import ServerConnection

from tui.localserver.faults import MAX_DURATION_REASON, Faults
from tui.localserver.inputaudio import InputAudio
from tui.localserver.items import Item, new_id, require
from tui.localserver.itemstore import ItemStore
from tui.localserver.outlet import Outlet
from tui.localserver.record import SessionRecord
from tui.localserver.remotemcp import RemoteMcp
from tui.localserver.responder import Responder
from tui.localserver.sabotage import Saboteur
from tui.localserver.sessionconfig import check_session, merge_session
from tui.localserver.toolcalls import ToolCalls
from tui.localserver.validation import ClientError

if TYPE_CHECKING:
    from tui.localserver.server import LocalServer

log = logging.getLogger("tui.localserver")

SESSION_SECONDS = 3600
WATCH_INTERVAL_S = 0.05

Handler = Callable[[dict[str, Any]], None]


class Connection:
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
        self.opened_at = time.monotonic()
        self.outlet = Outlet(
            ws, record, record_audio=server.record_audio, taint=lambda: self.faults.taint
        )
        self.store = ItemStore(self)
        self.responder = Responder(self)
        self.audio = InputAudio(self)
        self.saboteur = Saboteur(self)
        self.tools = ToolCalls(self)
        self.mcp = RemoteMcp(self)
        self.handlers: dict[str, Handler] = {
            "session.update": self.on_session_update,
            "input_audio_buffer.append": self.audio.on_append,
            "input_audio_buffer.commit": self.audio.on_commit,
            "input_audio_buffer.clear": self.audio.on_clear,
            "conversation.item.create": self.store.on_item_create,
            "conversation.item.retrieve": self.store.on_item_retrieve,
            "conversation.item.truncate": self.store.on_item_truncate,
            "conversation.item.delete": self.store.on_item_delete,
            "response.create": self.responder.on_response_create,
            "response.cancel": self.responder.on_response_cancel,
            "output_audio_buffer.clear": self.on_output_audio_clear,
        }

    # --- shared state -------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        # without its own faults a connection follows server.faults, even when reassigned
        return self.own_faults if self.own_faults is not None else self.server.faults

    @property
    def config(self) -> dict[str, Any]:
        return self.record.config

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        detection: dict[str, Any] | None = self.config["audio"]["input"].get("turn_detection")
        return detection

    @property
    def items(self) -> list[Item]:
        return self.store.items

    def end(self, how: tuple[Any, ...], description: str) -> None:
        """Queue a close or abort after everything already emitted; emit nothing more."""
        if how[0] == "close" and self.faults.taint:
            how = ("close", how[1], _close_reason(self.faults.taint + how[2]))
        if self.outlet.end(how, description):
            reply = self.responder.active
            if reply is not None and reply.task is not None:
                reply.task.cancel()

    def close_text(self) -> str:
        return f"close {self.faults.close_code} {self.faults.close_reason}".rstrip()

    # --- the connection's life ----------------------------------------------------------

    async def run(self) -> None:
        sender = asyncio.create_task(self.outlet.run())
        watcher = asyncio.create_task(self._watcher())
        try:
            session = {
                **copy.deepcopy(self.config),
                "id": self.record.id,
                "object": "realtime.session",
                "expires_at": self._expires_at(),
            }
            if not self.faults.silent:
                self.outlet.emit("session.created", session=session)
                self.saboteur.cue("session.created")
            async for frame in self.ws:
                if self.outlet.closing:
                    continue
                self.handle(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            ending = self.outlet.closing  # a close/abort is queued: let the sender carry it out
            self.outlet.closing = True
            reply = self.responder.active
            if reply is not None and reply.task is not None:
                reply.task.cancel()
            watcher.cancel()
            self.saboteur.stop()
            if not ending:
                sender.cancel()  # the client left: nothing more to say
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(sender, timeout=2.0)
            self.record.closed.set()

    def _expires_at(self) -> int:
        """When the session ends, in unix seconds, as the real server announces it: the
        `max_session_s` fault's end when it is set as the session starts, else an hour."""
        limit = self.faults.max_session_s
        lifetime = SESSION_SECONDS if limit is None else math.floor(limit)
        return int(time.time()) + lifetime

    async def _watcher(self) -> None:
        """Faults that are not tied to a response: close now, session length limit."""
        while not self.outlet.closing:
            faults = self.faults
            if faults.close_code is not None and faults.close_after_deltas is None:
                self.end(("close", faults.close_code, faults.close_reason), self.close_text())
            elif (
                faults.max_session_s is not None
                and time.monotonic() - self.opened_at >= faults.max_session_s
            ):
                self.end(("close", 1001, MAX_DURATION_REASON), f"close 1001 {MAX_DURATION_REASON}")
            elif (
                self.audio.idle_deadline is not None
                and time.monotonic() >= self.audio.idle_deadline
            ):
                try:
                    self.audio.idle_timeout()
                except Exception:  # keep watching the session limit even if this failed
                    log.exception("local server failed on the idle timeout")
            await asyncio.sleep(WATCH_INTERVAL_S)

    # --- client events ------------------------------------------------------------------

    def handle(self, frame: str | bytes) -> None:
        error = self.outlet.error
        if isinstance(frame, bytes):
            error("Binary frames are not supported; send JSON text.", code="invalid_frame")
            return
        try:
            data = json.loads(frame)
        except ValueError as exc:
            error(f"Invalid JSON: {exc}", code="invalid_json")
            return
        if not isinstance(data, dict):
            error("An event must be a JSON object.", code="invalid_json")
            return
        if self.faults.silent:  # heard, never answered
            self.record.received.append(data)
            return
        if data.get("type") == "input_audio_buffer.append" and not self.server.record_audio:
            self.record.received.append({**data, "audio": ""})
        else:
            self.record.received.append(data)
        event_type = data.get("type")
        handler = self.handlers.get(event_type) if isinstance(event_type, str) else None
        if handler is None:
            error(
                f"Invalid value: {event_type!r}. Supported values are: "
                + ", ".join(f"'{name}'" for name in self.handlers),
                code="invalid_value",
                param="type",
                event_id=data.get("event_id"),
            )
            return
        try:
            handler(data)
        except ClientError as exc:
            error(str(exc), code=exc.code, param=exc.param, event_id=data.get("event_id"))
        except Exception:  # a bug here must not kill the connection
            log.exception("local server failed on %s", event_type)
            event_id = data.get("event_id")
            self.outlet.emit(
                "error",
                error={
                    "type": "server_error",
                    "code": "internal_error",
                    "message": f"The local server failed while handling {event_type}.",
                    "param": None,
                    "event_id": event_id if isinstance(event_id, str) else None,
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
        check_session(merged, self.config, self.responder.audio_produced)
        override = self.faults.session_override
        if override:  # applied otherwise than asked, after the checks
            merged = merge_session(merged, override, ())
        old_detection = self.turn_detection
        self.record.config = merged
        if self.turn_detection != old_detection:
            self.audio.restart_vad()
        self.outlet.emit("session.updated", session=copy.deepcopy(merged))
        self.saboteur.cue("session.updated")
        self.mcp.session_updated()

    def on_output_audio_clear(self, data: dict[str, Any]) -> None:
        raise ClientError(
            "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
            code="invalid_value",
            param="type",
        )


def _close_reason(reason: str) -> str:
    """At most the 123 bytes of UTF-8 a close frame can carry, cut on a character boundary."""
    return reason.encode()[:123].decode(errors="ignore")
