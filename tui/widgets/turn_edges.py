"""Which turns show a coloured left edge in the log, and in which colour: one table read by
the turn widgets' CSS and by the archive, which draws the same edge as lines."""

from __future__ import annotations

from collections.abc import Mapping

from tui.changes import ToolState, Turn, TurnStatus

EDGE_OF_STATUS: Mapping[TurnStatus, str] = {
    TurnStatus.INTERRUPTED: "$warning",
    TurnStatus.CUT_OFF: "$warning",
    TurnStatus.FAILED: "$error",
}
EDGE_OF_TOOL: Mapping[ToolState, str] = {
    ToolState.FAILED: "$error",
    ToolState.DECLINED: "$warning",
}


def edge_rules(widget: str, edges: Mapping[TurnStatus, str] | Mapping[ToolState, str]) -> str:
    """CSS giving `widget` with the class `-<state>` its edge, e.g. TurnView.-failed."""
    return "\n".join(
        f"{widget}.-{state} {{ border-left: outer {colour}; }}" for state, colour in edges.items()
    )


def edge_colour(turn: Turn) -> str | None:
    """The colour of the left edge a TurnView (or ToolTurnView) shows for this turn."""
    if turn.tool is not None:
        return EDGE_OF_TOOL.get(turn.tool.state)
    return EDGE_OF_STATUS.get(turn.status)
