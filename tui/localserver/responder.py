"""The responses of one local server connection: at most one at a time, streamed as deltas
at `realtime_factor` times real time, with the per-delta fault switches applied.

A response is planned when it starts (`toolcalls.ToolCalls.plan`): its tool items first (a
function_call, an mcp_approval_request or an mcp_call, each a `replies.ToolStep` that streams
itself), then its message, unless it has none. Not simulated: out-of-band responses running
alongside another.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import math
import re
from typing import TYPE_CHECKING, Any

from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver.faults import FAILED_MESSAGE, bad_frame
from tui.localserver.items import Item, new_id, normalize_item
from tui.localserver.outputs import close_output, open_output
from tui.localserver.replies import (
    RATE_LIMITS,
    Reply,
    assistant_item,
    fit_budget,
    input_tokens,
    reply_for,
    response_object,
    split_words,
    spoken,
)
from tui.localserver.sessionconfig import check_max_output_tokens, check_response_params
from tui.localserver.validation import ClientError

if TYPE_CHECKING:
    from tui.localserver.connection import Connection

log = logging.getLogger("tui.localserver")


class Responder:
    """response.create / response.cancel in; response.* events out."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.active: Reply | None = None
        self.audio_produced = False  # the voice is fixed once a reply has spoken
        self.cached_ids: set[str] = set()
        self.cached_instructions = ""
        self.held_events: list[tuple[str, dict[str, Any]]] = []  # sent after response.done

    # --- client events ------------------------------------------------------------------

    def on_response_create(self, data: dict[str, Any]) -> None:
        params = data.get("response") or {}
        if not isinstance(params, dict):
            raise ClientError(
                "'response' must be an object.", code="invalid_type", param="response"
            )
        check_response_params(params, self.conn.config)
        self.start(params)

    def on_response_cancel(self, data: dict[str, Any]) -> None:
        wanted = data.get("response_id")
        if self.active is None or (wanted is not None and wanted != self.active.id):
            raise ClientError(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
            )
        self.cancel("client_cancelled")

    # --- a response's life --------------------------------------------------------------

    def start(self, params: dict[str, Any]) -> None:
        if self.active is not None:
            raise ClientError(
                f"Conversation already has an active response in progress: {self.active.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        config = self.conn.config
        modalities = params.get("output_modalities") or config["output_modalities"]
        if modalities not in (["audio"], ["text"]):
            raise ClientError(
                f"Invalid output_modalities {modalities!r}: use ['audio'] or ['text'].",
                code="invalid_value",
                param="response.output_modalities",
            )
        output = config["audio"]["output"]
        override = (params.get("audio") or {}).get("output") or {}
        voice = override.get("voice") or output["voice"]
        voice_name = voice if isinstance(voice, str) else str(voice.get("id", "custom"))
        context = self._context(params.get("input"))
        plan = self.conn.tools.plan(context, params)
        speed = output.get("speed", 1.0)
        if plan.speech is not None:
            audio, transcript = spoken(plan.speech, modalities, voice_name, speed)
        elif plan.speaks:
            audio, transcript = reply_for(context, modalities, voice_name, speed)
        else:
            audio, transcript = b"", ""
        if self.conn.faults.taint and plan.speaks:  # in the words, not in the audio
            transcript = f"{self.conn.faults.taint} {transcript}"
        limit = params.get("max_output_tokens", config.get("max_output_tokens", "inf"))
        check_max_output_tokens(limit, "response.max_output_tokens")
        limited = False
        if isinstance(limit, int):
            audio, transcript, limited = fit_budget(audio, transcript, limit)
        instructions = params.get("instructions") or config.get("instructions") or ""
        tokens = input_tokens(context, instructions, self.cached_ids, self.cached_instructions)
        reply = Reply(
            id=new_id("resp"),
            item_id=new_id("item"),
            modalities=list(modalities),
            voice=voice_name,
            output_format=copy.deepcopy(override.get("format") or output["format"]),
            in_conversation=params.get("conversation", "auto") != "none",
            metadata=params.get("metadata"),
            audio=audio,
            transcript=transcript,
            input_text_tokens=tokens[0],
            input_audio_tokens=tokens[1],
            cached_text_tokens=tokens[2],
            cached_audio_tokens=tokens[3],
            max_output_tokens=limit,
            limited=limited,
            steps=plan.steps,
            speaks=plan.speaks,
        )
        self.active = reply
        self.cached_ids = {item.id for item in context} | {reply.item_id}
        self.cached_instructions = instructions
        if reply.is_audio and reply.speaks:
            self.audio_produced = True
        self._announce(reply)
        reply.task = asyncio.create_task(self._stream_guarded(reply))

    def _announce(self, reply: Reply) -> None:
        """response.created, and the message's opening when the message comes first."""
        conn, emit = self.conn, self.conn.outlet.emit
        in_progress = response_object(reply, "in_progress", conversation_id=conn.conversation_id)
        emit("response.created", response=in_progress)
        conn.saboteur.cue("response.created", reply)
        emit("rate_limits.updated", rate_limits=copy.deepcopy(RATE_LIMITS))
        if reply.speaks and not reply.steps:
            self._open_message(reply)

    def _open_message(self, reply: Reply) -> None:
        """The message's output item up to its empty content part: what precedes its deltas."""
        reply.output_index = len(reply.output)
        open_output(self.conn, reply, assistant_item(reply, "in_progress", with_content=False))
        reply.message_open = True
        part = (
            {"type": "audio", "transcript": ""} if reply.is_audio else {"type": "text", "text": ""}
        )
        self.conn.outlet.emit("response.content_part.added", **reply.ids(), part=part)

    def _context(self, given: Any) -> list[Item]:
        """The items a response reads: the conversation, or response.input when given."""
        if not isinstance(given, list):
            return list(self.conn.store.items)
        context: list[Item] = []
        for entry in given:
            if not isinstance(entry, dict):
                continue
            if entry.get("type") == "item_reference":
                found = self.conn.store.find(entry.get("id"))
                if found is not None:
                    context.append(found)
            else:
                context.append(normalize_item(entry))
        return context

    async def _stream_guarded(self, reply: Reply) -> None:
        try:
            await self._stream(reply)
        except Exception:  # end the response visibly rather than leave it hanging
            log.exception("local server failed while streaming %s", reply.id)
            if self.active is reply and not self.conn.outlet.closing:
                self.finish(reply, "failed", "The local server had an internal error.")

    async def _stream(self, reply: Reply) -> None:
        if self._delta_faults(reply):
            return
        for step in reply.steps:
            reply.current = step
            await step.run(reply)
            reply.current = None
        if reply.speaks:
            if not reply.message_open:
                self._open_message(reply)
            if not await self._stream_message(reply):
                return
        if reply.limited:
            self.finish(reply, "incomplete", "max_output_tokens")
        else:
            self.finish(reply, "completed", None)

    async def _stream_message(self, reply: Reply) -> bool:
        """The message's deltas; False when a fault ended the response meanwhile."""
        chunk = self.conn.server.chunk_ms * WIRE_BYTES_PER_MS
        emit = self.conn.outlet.emit
        ids = reply.ids()
        if reply.is_audio:
            count = max(1, math.ceil(len(reply.audio) / chunk))
            pieces = split_words(reply.transcript, count)
            for index in range(count):
                data = reply.audio[index * chunk : (index + 1) * chunk]
                emit("response.output_audio.delta", **ids, delta=base64.b64encode(data).decode())
                reply.sent_audio += len(data)
                if pieces[index]:
                    emit("response.output_audio_transcript.delta", **ids, delta=pieces[index])
                    reply.sent_text += pieces[index]
                reply.deltas += 1
                if self._delta_faults(reply):
                    return False
                await asyncio.sleep(self.pause())
        else:
            words = re.findall(r"\S+\s*", reply.transcript) or [reply.transcript]
            for word in words:
                emit("response.output_text.delta", **ids, delta=word)
                reply.sent_text += word
                reply.deltas += 1
                if self._delta_faults(reply):
                    return False
                await asyncio.sleep(self.pause() / 2)
        return True

    def pause(self) -> float:
        """Seconds between deltas; read each time so a test can change the pace mid-reply."""
        server = self.conn.server
        factor = self.conn.faults.realtime_factor or server.realtime_factor
        return server.chunk_ms / 1000 / factor if factor > 0 else 0.0

    def _delta_faults(self, reply: Reply) -> bool:
        """Apply the per-delta fault switches; True when this response stops here."""
        faults, outlet = self.conn.faults, self.conn.outlet
        self.conn.saboteur.cue("delta", reply)
        if (
            (faults.bad_frames or faults.extra_frames)
            and not reply.bad_frames_sent
            and reply.deltas >= faults.bad_frames_after_deltas
        ):
            reply.bad_frames_sent = True
            for kind in faults.bad_frames:
                event_id = f"event_bad_{outlet.event_counter:05d}"
                frame = bad_frame(
                    kind, response_id=reply.id, item_id=reply.item_id, event_id=event_id
                )
                outlet.emit_raw(kind, frame)
            for frame in faults.extra_frames:
                outlet.emit_raw("extra", frame)
        if faults.fail_after_deltas is not None and reply.deltas >= faults.fail_after_deltas:
            self.finish(reply, "failed", faults.taint + FAILED_MESSAGE)
            return True
        if faults.drop_after_deltas is not None and reply.deltas >= faults.drop_after_deltas:
            self.conn.end(("abort",), "abort")
            return True
        if (
            faults.close_code is not None
            and faults.close_after_deltas is not None
            and reply.deltas >= faults.close_after_deltas
        ):
            self.conn.end(("close", faults.close_code, faults.close_reason), self.conn.close_text())
            return True
        return False

    def cancel(self, reason: str) -> None:
        reply = self.active
        if reply is None:
            return
        if reply.task is not None:
            reply.task.cancel()  # it sleeps between deltas: nothing more will come from it
        self.finish(reply, "cancelled", reason)

    def finish(self, reply: Reply, status: str, reason: str | None) -> None:
        conn, emit = self.conn, self.conn.outlet.emit
        if reply.current is not None:  # cancelled or failed in the middle of a tool item
            reply.current.abort(reply)
            reply.current = None
        if reply.message_open and not reply.message_closed:
            self._close_message(reply, "completed" if status == "completed" else "incomplete")
        details: dict[str, Any] | None = None
        if status == "failed":
            # `reason` carries the error message for a failed response
            error = {"type": "server_error", "code": "server_error", "message": reason}
            details = {"type": "failed", "error": error}
        elif status != "completed":
            details = {"type": status, "reason": reason}
        final = response_object(
            reply,
            status,
            conversation_id=conn.conversation_id,
            details=details,
            output=copy.deepcopy(reply.output),
        )
        self.active = None
        conn.audio.arm_idle_timeout(reply.sent_audio)
        emit("response.done", response=final)
        held, self.held_events = self.held_events, []
        for event_type, fields in held:
            emit(event_type, **fields)
        conn.saboteur.cue("response.done", reply)

    def _close_message(self, reply: Reply, item_status: str) -> None:
        emit = self.conn.outlet.emit
        reply.message_closed = True
        ids = reply.ids()
        if reply.is_audio:
            emit("response.output_audio.done", **ids)
            emit("response.output_audio_transcript.done", **ids, transcript=reply.sent_text)
            part = {"type": "audio", "transcript": reply.sent_text}
        else:
            emit("response.output_text.done", **ids, text=reply.sent_text)
            part = {"type": "text", "text": reply.sent_text}
        emit("response.content_part.done", **ids, part=part)
        item = assistant_item(reply, item_status, with_content=True)
        audio = reply.audio[: reply.sent_audio]
        if reply.truncate_ms is not None:
            audio = audio[: reply.truncate_ms * WIRE_BYTES_PER_MS]
            item["content"][0]["transcript"] = ""
        close_output(self.conn, reply, reply.output_index, item, audio)
