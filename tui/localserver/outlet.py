"""The one way out of a local server connection: an ordered queue and its sender task.

Every event a connection emits goes through this queue to one sender task, so the wire order
is the order of `record.sent`, and a cancel can never interleave with a delta. A close or an
abort is queued too, behind everything already emitted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection

from tui.localserver.record import SessionRecord

log = logging.getLogger("tui.localserver")


class Outlet:
    """Emits events (recorded in `record.sent`) and raw frames, then closes or aborts."""

    def __init__(
        self,
        ws: ServerConnection,
        record: SessionRecord,
        *,
        record_audio: bool,
        taint: Callable[[], str] = str,
    ) -> None:
        self.ws = ws
        self.record = record
        self.record_audio = record_audio
        self.taint = taint  # Faults.taint, read live: goes in front of every error message
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.closing = False
        self.event_counter = 0

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        self.event_counter += 1
        event = {"type": event_type, "event_id": f"event_{self.event_counter:05d}", **fields}
        if not self.closing:
            if event_type == "response.output_audio.delta" and not self.record_audio:
                self.record.sent.append({**event, "delta": ""})
            else:
                self.record.sent.append(event)
            self.queue.put_nowait(("event", event))
        return event

    def emit_raw(self, kind: str, frame: str | bytes) -> None:
        if not self.closing:
            self.record.raw_sent.append((kind, frame))
            self.queue.put_nowait(("raw", frame))

    def error(
        self, message: str, *, code: str, param: str | None = None, event_id: Any = None
    ) -> None:
        message = self.taint() + message
        body: dict[str, Any] = {"type": "invalid_request_error", "code": code, "message": message}
        body["param"] = param
        body["event_id"] = event_id if isinstance(event_id, str) else None
        self.emit("error", error=body)

    def end(self, how: tuple[Any, ...], description: str) -> bool:
        """Queue a close or abort after everything emitted; False if one is already queued."""
        if self.closing:
            return False
        self.closing = True
        self.record.ended_by = description
        self.queue.put_nowait(how)
        return True

    async def run(self) -> None:
        """The sender task: frames in queue order until a close, an abort or a dead socket."""
        while True:
            kind, *args = await self.queue.get()
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
