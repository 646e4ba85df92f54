"""The pure conversation model: server events in, turn changes out.

Each `on_<what>(event)` handler is a function of (state, event) -> list of changes; none
does I/O. Which handler runs on which server event is said in one place, the session's
route table (`tui.session.dispatch.ROUTES`); `dispatch.model_changes(conversation, event)`
replays a recorded event through it in a unit test. The session adds the facts only it
knows (what was heard when interrupted, a dropped connection) through `mark_interrupted`
and `cut_off_open_turns`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from tui.changes import Change, Role, Turn, TurnFinished, TurnStarted, TurnStatus, TurnText
from tui.constants import WIRE_BYTES_PER_MS
from tui.realtime.events import ServerEvent

_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT, "system": Role.SYSTEM}
_TEXT_PARTS = {"input_text", "output_text", "text"}


def _item_text(item: dict[str, Any]) -> str:
    """Text carried by an item's content parts (typed text, or a transcript if present)."""
    pieces = []
    for part in item.get("content") or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") in _TEXT_PARTS and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif isinstance(part.get("transcript"), str):
            pieces.append(part["transcript"])
    return "".join(pieces)


def _has_audio(item: dict[str, Any]) -> bool:
    return any(
        isinstance(part, dict) and part.get("type") in {"input_audio", "audio", "output_audio"}
        for part in item.get("content") or []
    )


class Conversation:
    """Turns of one conversation, possibly spanning several connections."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.turns: list[Turn] = []
        self._by_id: dict[str, Turn] = {}
        self._clock = clock
        # user audio items whose transcript is still to come (final when it arrives)
        self._awaiting_transcript: set[str] = set()
        self._response_items: dict[str, list[str]] = {}
        self.transcribing = True  # the session sets this from its transcription setting

    # ---- queries -------------------------------------------------------------------

    def get(self, item_id: str) -> Turn | None:
        return self._by_id.get(item_id)

    def open_turns(self) -> list[Turn]:
        return [turn for turn in self.turns if not turn.final]

    def replayable(self, limit: int) -> list[Turn]:
        """The most recent `limit` turns worth replaying into a new connection, oldest first."""
        usable = [
            turn
            for turn in self.turns
            if (turn.role in (Role.USER, Role.ASSISTANT) and turn.text.strip())
            or (turn.tool is not None and not turn.tool.approval)
        ]
        return usable[-limit:] if limit > 0 else []

    # ---- session-side facts ----------------------------------------------------------

    def add_replayed(self, turns: Iterable[Turn]) -> list[Change]:
        """Turns restored from history (--resume), shown in the log and replayed as context."""
        changes: list[Change] = []
        for turn in turns:
            turn.replayed = True
            if turn.status is TurnStatus.IN_PROGRESS:
                turn.status = TurnStatus.DONE
            self._add(turn)
            changes.append(TurnStarted(turn))
            changes.append(TurnFinished(turn))
        return changes

    def add_typed(self, turn: Turn) -> None:
        """A turn the user typed, as it is sent: known by its id when the server echoes it
        (the session draws it; the echo then changes nothing here)."""
        self._add(turn)

    def add_turn(self, turn: Turn) -> list[Change]:
        """A turn the session makes itself (a tool call, tui.session.tools_link)."""
        self._add(turn)
        return [TurnStarted(turn)]

    def mark_interrupted(self, item_id: str, heard_ms: float) -> list[Change]:
        """The user cut the assistant off after `heard_ms` of this item reached the speaker.

        Works on a DONE turn too: the server finishes a reply long before it has played.
        """
        turn = self._by_id.get(item_id)
        if turn is None or turn.status not in (TurnStatus.IN_PROGRESS, TurnStatus.DONE):
            return []
        was_final = turn.final
        turn.heard_ms = min(heard_ms, turn.audio_ms) if turn.audio_ms else heard_ms
        turn.status = TurnStatus.INTERRUPTED
        # final now: later deltas and response.done for this item change nothing heard
        return [TurnText(turn)] if was_final else [TurnFinished(turn)]

    def cut_off_open_turns(self, reason: str) -> list[Change]:
        """The connection dropped: every turn still open ends here, marked as cut off."""
        changes: list[Change] = []
        for turn in self.open_turns():
            if turn.tool is not None and not turn.tool.remote:
                continue  # a local tool call runs on; its answer goes to the next connection
            turn.status = TurnStatus.CUT_OFF
            turn.reason = reason
            changes.append(TurnFinished(turn))
        self._awaiting_transcript.clear()
        self._response_items.clear()
        return changes

    def _add(self, turn: Turn) -> None:
        self.turns.append(turn)
        self._by_id[turn.item_id] = turn

    # ---- event handlers: which runs on which event is tui.session.dispatch.ROUTES ------

    def _turn_for_item(self, item: dict[str, Any], response_id: str | None) -> list[Change]:
        item_id = item.get("id")
        role = _ROLES.get(item.get("role", ""))
        if item.get("type") != "message" or not isinstance(item_id, str) or role is None:
            return []
        existing = self._by_id.get(item_id)
        if existing is not None:
            return []  # already known: replayed by us, or seen via output_item.added
        turn = Turn(
            item_id=item_id,
            role=role,
            text=_item_text(item),
            started_at=self._clock(),
            response_id=response_id,
        )
        self._add(turn)
        if role is Role.USER and _has_audio(item) and self.transcribing:
            self._awaiting_transcript.add(item_id)
        if response_id:
            self._response_items.setdefault(response_id, []).append(item_id)
        return [TurnStarted(turn)]

    def on_item_added(self, event: ServerEvent) -> list[Change]:
        item = event.get("item")
        return self._turn_for_item(item, None) if isinstance(item, dict) else []

    def on_output_item_added(self, event: ServerEvent) -> list[Change]:
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        changes = self._turn_for_item(item, event.get("response_id"))
        turn = self._by_id.get(item.get("id", ""))
        if turn is not None and turn.response_id is None:
            turn.response_id = event.get("response_id")
            self._response_items.setdefault(turn.response_id or "", []).append(turn.item_id)
        return changes

    def on_item_done(self, event: ServerEvent) -> list[Change]:
        """User and system items end here, unless a transcript is still on its way."""
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        turn = self._by_id.get(item.get("id", ""))
        if turn is None or turn.final or turn.role in (Role.ASSISTANT, Role.TOOL):
            return []  # a tool turn ends when its call is answered (tui.session.tools_link)
        if not turn.text:
            turn.text = _item_text(item)
        if turn.item_id in self._awaiting_transcript:
            return []
        turn.status = TurnStatus.DONE
        return [TurnFinished(turn)]

    def on_text_delta(self, event: ServerEvent) -> list[Change]:
        turn = self._by_id.get(event.get("item_id", ""))
        delta = event.get("delta")
        if turn is None or not isinstance(delta, str) or turn.final:
            return []
        turn.text += delta
        return [TurnText(turn)]

    def on_text_done(self, event: ServerEvent) -> list[Change]:
        turn = self._by_id.get(event.get("item_id", ""))
        full = event.get("transcript", event.get("text"))
        if turn is None or not isinstance(full, str) or turn.final or full == turn.text:
            return []
        turn.text = full
        return [TurnText(turn)]

    def on_audio_delta(self, event: ServerEvent) -> list[Change]:
        turn = self._by_id.get(event.get("item_id", ""))
        if turn is not None and event.audio and turn.status is TurnStatus.IN_PROGRESS:
            turn.audio_ms += len(event.audio) / WIRE_BYTES_PER_MS
        return []

    def on_truncated(self, event: ServerEvent) -> list[Change]:
        turn = self._by_id.get(event.get("item_id", ""))
        end_ms = event.get("audio_end_ms")
        if turn is None or not isinstance(end_ms, int | float):
            return []
        turn.heard_ms = float(end_ms)
        return [TurnText(turn)]

    def on_transcription_delta(self, event: ServerEvent) -> list[Change]:
        turn = self._by_id.get(event.get("item_id", ""))
        delta = event.get("delta")
        if turn is None or not isinstance(delta, str) or not delta:
            return []
        turn.text += delta
        return [TurnText(turn)]

    def on_transcription_completed(self, event: ServerEvent) -> list[Change]:
        item_id = event.get("item_id", "")
        turn = self._by_id.get(item_id)
        if turn is None:
            return []
        turn.text = str(event.get("transcript") or "")
        self._awaiting_transcript.discard(item_id)
        if turn.final:
            return [TurnText(turn)]
        turn.status = TurnStatus.DONE
        return [TurnFinished(turn)]

    def on_transcription_failed(self, event: ServerEvent) -> list[Change]:
        item_id = event.get("item_id", "")
        turn = self._by_id.get(item_id)
        if turn is None:
            return []
        self._awaiting_transcript.discard(item_id)
        error = event.get("error") or {}
        turn.reason = f"transcription failed: {error.get('message') or 'unknown error'}"
        if turn.final:
            return [TurnText(turn)]
        turn.status = TurnStatus.FAILED
        return [TurnFinished(turn)]

    def on_response_done(self, event: ServerEvent) -> list[Change]:
        response = event.get("response") or {}
        response_id = response.get("id", "")
        status = response.get("status", "completed")
        details = response.get("status_details") or {}
        changes: list[Change] = []
        item_ids = self._response_items.pop(response_id, [])
        for output in response.get("output") or []:
            output_id = output.get("id") if isinstance(output, dict) else None
            if isinstance(output_id, str) and output_id not in item_ids:
                item_ids.append(output_id)
        for item_id in item_ids:
            turn = self._by_id.get(item_id or "")
            if turn is None or turn.final or turn.role is Role.TOOL:
                continue
            if turn.status is TurnStatus.IN_PROGRESS:
                turn.status = _final_status(status)
            if status in ("failed", "incomplete"):
                turn.reason = _reason(status, details)
            changes.append(TurnFinished(turn))
        if not item_ids and status in ("failed", "incomplete"):
            turn = Turn(
                item_id=response_id or f"response-{len(self.turns)}",
                role=Role.SYSTEM,
                text="",
                status=TurnStatus.FAILED,
                started_at=self._clock(),
                response_id=response_id,
                reason=_reason(status, details),
            )
            self._add(turn)
            changes += [TurnStarted(turn), TurnFinished(turn)]
        return changes


def _final_status(response_status: str) -> TurnStatus:
    return {
        "completed": TurnStatus.DONE,
        "cancelled": TurnStatus.CANCELLED,
        "failed": TurnStatus.FAILED,
        "incomplete": TurnStatus.FAILED,
    }.get(response_status, TurnStatus.DONE)


def _reason(status: str, details: dict[str, Any]) -> str:
    error = details.get("error") or {}
    why = details.get("reason") or error.get("message") or error.get("code") or "no reason given"
    return f"response {status}: {why}"
