"""The tool turns the session has open: one turn per call id (or approval request id).

A tool call is a turn (`Role.TOOL`, `Turn.tool`) so that the log, the history and the replay
carry it like any other; this keeps the open ones by key, opens each once and finishes it
with a final state (then it is no longer open, and never opened again).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tui.changes import Role, ToolCall, ToolState, Turn, TurnFinished, TurnStatus
from tui.conversation import Conversation
from tui.session.effects import Effect

_TURN_STATUS = {
    ToolState.DONE: TurnStatus.DONE,
    ToolState.DECLINED: TurnStatus.DONE,
    ToolState.FAILED: TurnStatus.FAILED,
    ToolState.CANCELLED: TurnStatus.CANCELLED,
}


class ToolTurns:
    def __init__(
        self, conversation: Conversation, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._conversation = conversation
        self._wall_clock = wall_clock
        self._open: dict[str, Turn] = {}  # by call id (or approval request id)
        self._known: set[str] = set()  # every key ever opened: one turn each

    def get(self, key: str) -> Turn | None:
        """The open turn of this call, None once it finished (or never was)."""
        return self._open.get(key)

    def known(self, key: str) -> bool:
        return key in self._known

    def open(self, key: str, item_id: str, tool: ToolCall) -> list[Effect]:
        """The call's turn, added to the conversation (its log line)."""
        turn = Turn(
            item_id=item_id or key, role=Role.TOOL, started_at=self._wall_clock(), tool=tool
        )
        if self._conversation.get(turn.item_id) is not None:
            turn.item_id = f"{turn.item_id}-{key}"
        self._open[key] = turn
        self._known.add(key)
        return list(self._conversation.add_turn(turn))

    def finish(self, turn: Turn, state: ToolState, summary: str) -> list[Effect]:
        assert turn.tool is not None
        turn.tool.state = state
        turn.tool.summary = summary
        turn.status = _TURN_STATUS.get(state, TurnStatus.DONE)
        turn.reason = summary if state in (ToolState.FAILED, ToolState.DECLINED) else ""
        self._open.pop(turn.tool.call_id, None)
        return [TurnFinished(turn)]

    def running(self) -> list[Turn]:
        """Tool turns running now, oldest first."""
        return [
            turn
            for turn in self._open.values()
            if turn.tool is not None and turn.tool.state is ToolState.RUNNING
        ]
