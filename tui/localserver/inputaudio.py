"""The input audio of one local server connection: the buffer, the energy VAD, commits,
the user's transcription and server_vad's idle timeout.

The timeline counts every byte appended this session; `buffer_start` is the timeline offset
of `buffer[0]`. server_vad's idle_timeout_ms is honoured on the wall clock: that long after
the end of the last reply's playback (response.done time + its audio duration) without
speech, the server emits input_audio_buffer.timeout_triggered, commits the buffered (silent)
audio and answers "are you still there?".
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.constants import WIRE_BYTES_PER_MS, WIRE_RATE_HZ, TurnMode
from tui.localserver.items import (
    Item,
    decode_audio,
    new_id,
    require,
    text_tokens,
)
from tui.localserver.sessionconfig import SEMANTIC_SILENCE_MS
from tui.localserver.vad import EnergyVad, VadEvent
from tui.localserver.validation import ClientError
from tui.localserver.voice import transcribe_placeholder

if TYPE_CHECKING:
    from tui.localserver.connection import Connection

MIN_COMMIT_MS = 100  # the real server refuses to commit less
# Transcription models priced by audio duration (their model pages): their usage is reported
# as {"type": "duration", "seconds"}, the others' as tokens.
DURATION_BILLED = frozenset(
    {"whisper-1", "gpt-transcribe", "gpt-live-transcribe", "gpt-realtime-whisper"}
)


class InputAudio:
    """input_audio_buffer.* events in, speech and commit events out."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.input_bytes = 0
        self.buffer = bytearray()
        self.buffer_start = 0  # timeline byte offset of buffer[0]
        self.speech_item_id: str | None = None
        self.idle_deadline: float | None = None  # monotonic time idle_timeout_ms fires
        self.vad = self.make_vad(start_ms=0)

    def make_vad(self, *, start_ms: int) -> EnergyVad:
        detection = self.conn.turn_detection or {}
        if detection.get("type") == TurnMode.SEMANTIC_VAD:
            silence = SEMANTIC_SILENCE_MS.get(detection.get("eagerness") or "auto", 500)
            return EnergyVad(0.5, 300, silence, WIRE_RATE_HZ, start_ms=start_ms)
        return EnergyVad(
            float(detection.get("threshold", 0.5)),
            int(detection.get("prefix_padding_ms", 300)),
            int(detection.get("silence_duration_ms", 500)),
            WIRE_RATE_HZ,
            start_ms=start_ms,
        )

    def restart_vad(self) -> None:
        """Turn detection changed: a new VAD from now on, no speech in progress."""
        self.vad = self.make_vad(start_ms=self.input_bytes // WIRE_BYTES_PER_MS)
        self.speech_item_id = None

    # --- client events ------------------------------------------------------------------

    def on_append(self, data: dict[str, Any]) -> None:
        pcm = decode_audio(require(data, "audio", str), "audio")
        self.buffer.extend(pcm)
        self.input_bytes += len(pcm)
        detection = self.conn.turn_detection
        if detection is None:
            return
        for event in self.vad.feed(pcm):
            self._on_vad(event)
        if self.speech_item_id is None:
            # outside speech only the prefix padding can still become part of a turn
            keep = (int(detection.get("prefix_padding_ms", 300)) + 100) * WIRE_BYTES_PER_MS
            self._drop_buffer_before(self.input_bytes - keep)

    def on_commit(self, data: dict[str, Any]) -> None:
        if len(self.buffer) < MIN_COMMIT_MS * WIRE_BYTES_PER_MS:
            raise ClientError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has "
                f"{len(self.buffer) / WIRE_BYTES_PER_MS:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        item_id = self.speech_item_id or new_id("item")
        pcm = bytes(self.buffer)
        self.buffer_start = self.input_bytes
        self.buffer.clear()
        self.speech_item_id = None
        self.vad.reset()
        self.commit(pcm, item_id)

    def on_clear(self, data: dict[str, Any]) -> None:
        self.buffer_start = self.input_bytes
        self.buffer.clear()
        self.speech_item_id = None
        self.vad.reset()
        self.conn.outlet.emit("input_audio_buffer.cleared")

    # --- VAD, idle timeout, commits -----------------------------------------------------

    def _drop_buffer_before(self, timeline_byte: int) -> None:
        cut = timeline_byte - self.buffer_start
        if cut > 0:
            del self.buffer[:cut]
            self.buffer_start += cut

    def _on_vad(self, event: VadEvent) -> None:
        detection = self.conn.turn_detection or {}
        responder = self.conn.responder
        emit = self.conn.outlet.emit
        if event.kind == "started":
            self.idle_deadline = None
            self.speech_item_id = new_id("item")
            self._drop_buffer_before(event.ms * WIRE_BYTES_PER_MS)
            emit(
                "input_audio_buffer.speech_started",
                audio_start_ms=event.ms,
                item_id=self.speech_item_id,
            )
            if responder.active is not None and detection.get("interrupt_response", True):
                responder.cancel("turn_detected")
            return
        item_id = self.speech_item_id or new_id("item")
        self.speech_item_id = None
        emit("input_audio_buffer.speech_stopped", audio_end_ms=event.ms, item_id=item_id)
        end = event.ms * WIRE_BYTES_PER_MS - self.buffer_start
        pcm = bytes(self.buffer[:end])
        self._drop_buffer_before(event.ms * WIRE_BYTES_PER_MS)
        self.commit(pcm, item_id)
        if detection.get("create_response", True) and responder.active is None:
            responder.start({})

    def idle_timeout(self) -> None:
        """No speech for idle_timeout_ms after the last reply ended: commit the quiet, answer."""
        self.idle_deadline = None
        detection = self.conn.turn_detection or {}
        if (
            detection.get("type") != TurnMode.SERVER_VAD
            or not detection.get("idle_timeout_ms")
            or self.conn.responder.active is not None
            or self.speech_item_id is not None
        ):
            return
        item_id = new_id("item")
        self.conn.outlet.emit(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=self.buffer_start // WIRE_BYTES_PER_MS,
            audio_end_ms=self.input_bytes // WIRE_BYTES_PER_MS,
            item_id=item_id,
        )
        pcm = bytes(self.buffer)
        self.buffer_start = self.input_bytes
        self.buffer.clear()
        self.vad.reset()
        self.commit(pcm, item_id)
        self.conn.responder.start({})

    def arm_idle_timeout(self, reply_audio_bytes: int) -> None:
        detection = self.conn.turn_detection or {}
        idle_ms = (
            detection.get("idle_timeout_ms")
            if detection.get("type") == TurnMode.SERVER_VAD
            else None
        )
        if isinstance(idle_ms, int) and idle_ms > 0:
            playback_s = reply_audio_bytes / WIRE_BYTES_PER_MS / 1000
            self.idle_deadline = time.monotonic() + playback_s + idle_ms / 1000

    def commit(self, pcm: bytes, item_id: str) -> None:
        store, outlet = self.conn.store, self.conn.outlet
        previous = store.last_id()
        outlet.emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
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
        store.items.append(item)
        store.keep_audio(item)
        outlet.emit(
            "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item.data)
        )
        outlet.emit(
            "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item.data)
        )
        if self.conn.config["audio"]["input"].get("transcription"):
            self._transcribe(item, pcm)

    def _transcribe(self, item: Item, pcm: bytes) -> None:
        text = self.conn.faults.taint + transcribe_placeholder(pcm)
        item.data["content"][0]["transcript"] = text
        ids = {"item_id": item.id, "content_index": 0}
        late: list[tuple[str, dict[str, Any]]] = []
        emit: Callable[..., object] = (
            _held(late) if self.conn.faults.late_transcription else self.conn.outlet.emit
        )
        emit("conversation.item.input_audio_transcription.delta", **ids, delta=text)
        model = self.conn.config["audio"]["input"]["transcription"].get("model")
        emit(
            "conversation.item.input_audio_transcription.completed",
            **ids,
            transcript=text,
            usage=transcription_usage(model, pcm, text),
        )
        self.conn.responder.held_events += late


def transcription_usage(model: Any, pcm: bytes, text: str) -> dict[str, Any]:
    """What transcribing `pcm` into `text` used: audio seconds for a model billed by duration,
    else tokens (about one per 100 ms of audio, as the real server counts them)."""
    if model in DURATION_BILLED:
        return {"type": "duration", "seconds": len(pcm) / WIRE_BYTES_PER_MS / 1000}
    audio_tokens = len(pcm) // WIRE_BYTES_PER_MS // 100
    return {
        "type": "tokens",
        "input_tokens": audio_tokens,
        "output_tokens": text_tokens(text),
        "total_tokens": audio_tokens + text_tokens(text),
        "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0},
    }


def _held(into: list[tuple[str, dict[str, Any]]]) -> Callable[..., None]:
    """An emit() that keeps the event for later (the late_transcription fault)."""

    def hold(event_type: str, **fields: Any) -> None:
        into.append((event_type, fields))

    return hold
