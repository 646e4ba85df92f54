"""The faults that fire at cues: raw frames injected and floods of valid events.

A room of `connection.Connection`: the other rooms call `cue(...)` where something happens
(session.created sent, session.updated sent, response.created, each output delta,
response.done) and this room does what `Faults.inject` and `Faults.flood` ask for there.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import TYPE_CHECKING

from tui.localserver.faults import Cue, Flood, Frame
from tui.localserver.replies import RATE_LIMITS, Reply

if TYPE_CHECKING:
    from tui.localserver.connection import Connection

log = logging.getLogger("tui.localserver")

FLOOD_TICK_S = 0.001  # a flood sends what is due, then yields to the loop this long


class Saboteur:
    """Fires Faults.inject and Faults.flood at their cues."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._fired: set[int] = set()  # one-shot injections already sent (by id)
        self._flood: asyncio.Task[None] | None = None

    def cue(self, at: Cue, reply: Reply | None = None) -> None:
        faults = self.conn.faults
        for inject in faults.inject:
            if inject.at != at:
                continue
            if at == "delta" and (reply is None or reply.deltas != inject.deltas):
                continue
            if not inject.every:
                if id(inject) in self._fired:
                    continue
                self._fired.add(id(inject))
            for frame in inject.frames:
                self.conn.outlet.emit_raw("inject", _wire(frame))
        flood = faults.flood
        if flood is not None and flood.at == at and self._flood is None:
            self._flood = asyncio.create_task(self._run_flood(flood, reply))

    def stop(self) -> None:
        if self._flood is not None:
            self._flood.cancel()

    async def _run_flood(self, flood: Flood, reply: Reply | None) -> None:
        emit, loop = self.conn.outlet.emit, asyncio.get_running_loop()
        if flood.kind == "deltas" and reply is None:
            log.warning("a flood of deltas needs a response: cue it at response.created")
            return
        start, sent = loop.time(), 0
        while sent < flood.count and not self.conn.outlet.closing:
            due = min(flood.count, int((loop.time() - start) * flood.rate_hz) + 1)
            for _ in range(due - sent):
                if flood.kind == "rate_limits" or reply is None:
                    emit("rate_limits.updated", rate_limits=copy.deepcopy(RATE_LIMITS))
                elif reply.is_audio:
                    emit("response.output_audio_transcript.delta", **reply.ids(), delta="·")
                else:
                    emit("response.output_text.delta", **reply.ids(), delta="·")
            sent = due
            await asyncio.sleep(FLOOD_TICK_S)


def _wire(frame: Frame) -> str | bytes:
    return frame if isinstance(frame, str | bytes) else json.dumps(frame)
