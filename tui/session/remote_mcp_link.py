"""Remote MCP in the session: the calls the API makes itself to a `{"type": "mcp"}` tool.

The server runs them; the client shows them (an `mcp_call` item is a tool turn, its
progress follows `response.mcp_call.*`, its arguments `response.mcp_call_arguments.*`),
says when a server's tools could not be listed (`mcp_list_tools.failed`), and asks the
user about an `mcp_approval_request` item like a local call: the tool box's answer
(`McpApprovalAnswered`) goes back as an `mcp_approval_response` item, with the one
follow-up reply once its response is answered. Every method returns effects.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from tui.changes import Notice, ToolCall, ToolState, TurnText
from tui.printable import one_line
from tui.realtime.events import ServerEvent
from tui.session.effects import Effect, WakeTicker
from tui.session.follow_ups import NO_RESPONSE, FollowUps
from tui.session.tool_turns import ToolTurns
from tui.tools.updates import McpApprovalAnswered


class ApprovalDesk(Protocol):
    """What the remote link asks of the tool box."""

    def on_mcp_approval_request(
        self, item_id: str, server_label: str, name: str, arguments: str
    ) -> None: ...


class RemoteMcpLink:
    def __init__(
        self,
        turns: ToolTurns,
        follow_ups: FollowUps,
        toolbox: Callable[[], ApprovalDesk | None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._turns = turns
        self._follow_ups = follow_ups
        self._toolbox = toolbox  # read when asked: None when tools are off
        self._clock = clock
        self._asked: set[str] = set()  # approval requests handed to the tool box
        self._labels: dict[str, str] = {}  # mcp_list_tools item id -> server label

    # ---- items ------------------------------------------------------------------------

    def call_seen(self, item: dict[str, Any]) -> list[Effect]:
        """An `mcp_call` item (output_item.added): its log line."""
        item_id = item.get("id")
        if not isinstance(item_id, str) or self._turns.known(item_id):
            return []
        return self._turns.open(item_id, item_id, self._tool(item_id, item))

    def call_done(self, item: dict[str, Any]) -> list[Effect]:
        """The finished `mcp_call` item: its output, or its error."""
        effects = self.call_seen(item)
        turn = self._turns.get(str(item.get("id")))
        if turn is None or turn.tool is None or turn.tool.final:
            return effects
        error = item.get("error")
        if error:
            why = error.get("message") if isinstance(error, dict) else error
            return effects + self._turns.finish(turn, ToolState.FAILED, one_line(str(why), 200))
        output = str(item.get("output") or "")
        turn.tool.output = turn.tool.full_text = output
        return effects + self._turns.finish(turn, ToolState.DONE, one_line(output, 120) or "done")

    def approval_request(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        """An `mcp_approval_request` item: a turn that waits, and the tool box asks."""
        item_id, name = item.get("id"), item.get("name")
        if not isinstance(item_id, str) or not isinstance(name, str) or item_id in self._asked:
            return []
        self._asked.add(item_id)
        self._follow_ups.expect(item_id, response_id or NO_RESPONSE)
        tool = self._tool(item_id, item)
        tool.approval = True
        effects = self._turns.open(item_id, f"{item_id}-approval", tool)
        toolbox = self._toolbox()
        if toolbox is not None:
            label = str(item.get("server_label") or "")
            toolbox.on_mcp_approval_request(item_id, label, name, tool.arguments)
        return effects

    def tools_listed(self, item: dict[str, Any]) -> None:
        """An `mcp_list_tools` item: its server's label, for a failure notice."""
        if isinstance(item.get("id"), str):
            self._labels[item["id"]] = str(item.get("server_label") or "")

    def approval_answered(self, update: McpApprovalAnswered) -> list[Effect]:
        """The user's (or the policy's) answer: the turn ends, the answer goes out."""
        turn = self._turns.get(update.approval_request_id)
        effects: list[Effect] = []
        if turn is not None and turn.tool is not None and not turn.tool.final:
            state = ToolState.DONE if update.approve else ToolState.DECLINED
            summary = "approved" if update.approve else str(update.item.get("reason") or "no")
            effects = self._turns.finish(turn, state, summary)
        return effects + self._follow_ups.answer(update.approval_request_id, update.item)

    # ---- events -----------------------------------------------------------------------

    def on_call_progress(self, event: ServerEvent) -> list[Effect]:
        """response.mcp_call.in_progress / .completed / .failed of a remote call."""
        turn = self._turns.get(event.get("item_id") or "")
        if turn is None or turn.tool is None or turn.tool.final:
            return []
        kind = event.type.rsplit(".", 1)[-1]
        if kind == "in_progress":
            turn.tool.state = ToolState.RUNNING
            turn.tool.started_at = self._clock()
            return [TurnText(turn), WakeTicker()]
        if kind == "failed":
            return self._turns.finish(turn, ToolState.FAILED, "the remote MCP call failed")
        return []  # completed: the item (with its output) follows in output_item.done

    def on_arguments(self, event: ServerEvent) -> list[Effect]:
        turn = self._turns.get(event.get("item_id") or "")
        if turn is None or turn.tool is None:
            return []
        if event.type.endswith(".done") and isinstance(event.get("arguments"), str):
            turn.tool.arguments = event.get("arguments")
            turn.tool.shown_arguments = one_line(turn.tool.arguments, 200)
            return [TurnText(turn)]
        return []

    def on_list_tools(self, event: ServerEvent) -> list[Effect]:
        if not event.type.endswith(".failed"):
            return []
        label = self._labels.get(event.get("item_id") or "", "") or "a remote MCP server"
        return [Notice("warning", f"{one_line(label, 60)}: could not list its tools")]

    # ---- inside -----------------------------------------------------------------------

    @staticmethod
    def _tool(item_id: str, item: dict[str, Any]) -> ToolCall:
        label = str(item.get("server_label") or "")
        arguments = str(item.get("arguments") or "")
        return ToolCall(
            item_id,
            f"{label}__{item.get('name') or '?'}",
            arguments=arguments,
            origin=f"remote MCP server {label}",
            shown_arguments=one_line(arguments, 200),
            remote=True,
            server_label=label,
        )
