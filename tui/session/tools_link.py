"""The tools link: the session's room between the Realtime events and the tool box.

It owns the `ToolBox` (tui.tools) as the audio link owns the engine, and returns effects:

- server events in (routes in tui.session.dispatch): a function call's arguments stream and
  end (`response.function_call_arguments.done`, or the `function_call` item of
  `response.output_item.done` / `response.done`); the tool box is told once per call. Remote
  MCP work (`mcp_call` items, `response.mcp_call.*`, `mcp_list_tools.*`) is shown, and an
  `mcp_approval_request` item is asked like a local call.
- tool box updates in (`on_update`, the controller's task reads `next_update()`): the tool
  turn's state changes, approvals open and close, `CallFinished.item` goes out with
  `conversation.item.create`, and when every call of a response is answered and that
  response is done, ONE `response.create` follows so the model speaks about the results
  (not while another response runs, and not after the user barged in: the floor is theirs).

Tool calls are turns (`Role.TOOL`, `Turn.tool`, kept open in tui.session.tool_turns), so
the log, the history and the replay into a new connection carry them like any other turn; a
replayed call is never run again. The remote MCP part is tui.session.remote_mcp_link, the
follow-up reply's bookkeeping tui.session.follow_ups.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from tui.changes import (
    ApprovalAsked,
    ApprovalClosed,
    Notice,
    ToolCall,
    ToolServersChanged,
    ToolState,
    Turn,
    TurnText,
)
from tui.config import Settings
from tui.config.tools import ToolsSettings
from tui.conversation import Conversation
from tui.printable import one_line
from tui.realtime import events
from tui.realtime.events import ServerEvent
from tui.realtime.payload import tools_update
from tui.session.effects import Effect, Send, WakeTicker
from tui.session.follow_ups import FollowUps
from tui.session.remote_mcp_link import RemoteMcpLink
from tui.session.tool_turns import ToolTurns
from tui.tools.approvals import Answer
from tui.tools.results import CallStatus
from tui.tools.updates import (
    ApprovalNeeded,
    ApprovalSettled,
    CallFinished,
    CallStarted,
    McpApprovalAnswered,
    Phase,
    ServerChanged,
    ToolsChanged,
    Update,
)

_FINAL_STATE = {
    CallStatus.OK: ToolState.DONE,
    CallStatus.ERROR: ToolState.FAILED,
    CallStatus.FAILED: ToolState.FAILED,
    CallStatus.INVALID: ToolState.FAILED,
    CallStatus.TIMED_OUT: ToolState.FAILED,
    CallStatus.DECLINED: ToolState.DECLINED,
    CallStatus.CANCELLED: ToolState.CANCELLED,
}


class ToolBoxLike(Protocol):
    """What the link uses of tui.tools.toolbox.ToolBox."""

    def start(self) -> None: ...
    def reconfigure(self, settings: ToolsSettings) -> None: ...
    def tools(self) -> list[dict[str, Any]]: ...
    def server_states(self) -> dict[str, Any]: ...
    def on_function_call(self, call_id: str, name: str, arguments: str) -> None: ...
    def on_mcp_approval_request(
        self, item_id: str, server_label: str, name: str, arguments: str
    ) -> None: ...
    def cancel_running(self) -> list[str]: ...
    def answer(self, ask_id: str, answer: Answer) -> bool: ...
    async def next_update(self) -> Update: ...
    def pending_updates(self) -> list[Update]: ...
    async def aclose(self) -> None: ...


def default_toolbox(settings: Settings, *, api_key: str | None) -> ToolBoxLike | None:
    """The tool box for these settings; None when no tool is configured (nothing to pay)."""
    tools = settings.tools
    anything = tools.mcp or tools.remote or tools.builtin.clock or tools.builtin.shell
    if not tools.enabled or not anything:
        return None
    from tui.tools.toolbox import ToolBox  # only a session with tools imports the box

    return ToolBox(tools, secrets=[api_key] if api_key else [])


class ToolsLink:
    """Local function calls and the tool box's updates; the remote MCP part is `remote`
    (tui.session.remote_mcp_link), the open turns `turns`, the one follow-up reply
    `follow_ups`."""

    def __init__(
        self,
        toolbox: ToolBoxLike | None,
        *,
        conversation: Conversation,
        active_response: Callable[[], str | None],
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.toolbox = toolbox
        self._clock = clock
        self.turns = ToolTurns(conversation, wall_clock=wall_clock)
        self.follow_ups = FollowUps(active_response)
        self.remote = RemoteMcpLink(self.turns, self.follow_ups, lambda: self.toolbox, clock=clock)
        self._asked: set[str] = set()  # calls handed to the tool box

    # ---- what the controller asks ----------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.toolbox is not None

    def tools(self) -> list[dict[str, Any]]:
        """The `session.tools` entries now (for the session.update of a new connection)."""
        return self.toolbox.tools() if self.toolbox is not None else []

    def answer(self, ask_id: str, answer: str) -> bool:
        """The user's y / n / a: False if the question is no longer open (timed out)."""
        return self.toolbox is not None and self.toolbox.answer(ask_id, Answer(answer))

    def running(self) -> list[Turn]:
        """Tool turns running now, oldest first (the "working: ..." cue)."""
        return self.turns.running()

    def barge_in(self) -> list[Effect]:
        """The user took the floor: running local calls are cancelled (each still answers
        the model, saying so) and no follow-up reply is asked for what was open."""
        self.follow_ups.barge_in()
        if self.toolbox is not None:
            self.toolbox.cancel_running()
        return []

    def connection_lost(self) -> None:
        """Answers for the old connection's responses are never followed up there."""
        self.follow_ups.connection_lost()

    # ---- server events (routes in dispatch.ROUTES) -----------------------------------

    def on_output_item_added(self, event: ServerEvent) -> list[Effect]:
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        kind = item.get("type")
        if kind == "function_call":
            return self._call_seen(item, event.get("response_id"))
        if kind == "mcp_call":
            return self.remote.call_seen(item)
        return []

    def on_arguments_delta(self, event: ServerEvent) -> list[Effect]:
        turn = self.turns.get(event.get("call_id") or "")
        delta = event.get("delta")
        if turn is not None and turn.tool is not None and isinstance(delta, str):
            turn.tool.arguments += delta  # shown when the call is checked; no repaint each
        return []

    def on_arguments_done(self, event: ServerEvent) -> list[Effect]:
        call_id, name = event.get("call_id"), event.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return []
        item = {
            "id": event.get("item_id") or call_id,
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": event.get("arguments") or "",
        }
        return self._dispatch(item, event.get("response_id"))

    def on_output_item_done(self, event: ServerEvent) -> list[Effect]:
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        return self._item_done(item, event.get("response_id"))

    def on_item_done(self, event: ServerEvent) -> list[Effect]:
        """conversation.item.done: remote approval requests and tool lists (function calls
        are taken from the response's own events: an item echoed back here, e.g. one we
        replayed into a new connection, is never run)."""
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        kind = item.get("type")
        if kind == "mcp_approval_request":
            return self.remote.approval_request(item, None)
        if kind == "mcp_list_tools":
            self.remote.tools_listed(item)
        return []

    def on_response_done(self, event: ServerEvent) -> list[Effect]:
        response = event.get("response") or {}
        response_id = response.get("id")
        effects: list[Effect] = []
        for item in response.get("output") or []:
            if isinstance(item, dict):
                effects += self._item_done(item, response_id)
        status = str(response.get("status") or "completed")
        return effects + self.follow_ups.response_done(response_id, status)

    # ---- tool box updates ------------------------------------------------------------

    def on_update(self, update: Update) -> list[Effect]:
        match update:
            case ServerChanged(state=state):
                effects: list[Effect] = [ToolServersChanged(self._server_states())]
                if state.phase is Phase.FAILED:
                    effects.append(Notice("warning", f"MCP server {state.describe()}"))
                return effects
            case ToolsChanged(tools=tools):
                return [Send(events.session_update(tools_update(tools)))]
            case ApprovalNeeded(ask=ask):
                turn = self.turns.get(ask.ask_id)
                effects = [ApprovalAsked(ask)]
                if turn is not None and turn.tool is not None:
                    turn.tool.state = ToolState.WAITING
                    turn.tool.origin = ask.origin
                    effects.insert(0, TurnText(turn))
                return effects
            case ApprovalSettled(settled=settled):
                return [ApprovalClosed(settled.ask.ask_id, settled.how)]
            case CallStarted():
                return self._started(update)
            case CallFinished():
                return self._call_finished(update)
            case McpApprovalAnswered():
                return self.remote.approval_answered(update)
        return []

    # ---- inside ----------------------------------------------------------------------

    def _server_states(self) -> dict[str, Any]:
        return self.toolbox.server_states() if self.toolbox is not None else {}

    def _call_seen(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        call_id, name = item.get("call_id"), item.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return []
        if self.turns.known(call_id):
            return []
        tool = ToolCall(call_id, name, arguments=str(item.get("arguments") or ""))
        self.follow_ups.seen(call_id, response_id)
        return self.turns.open(call_id, str(item.get("id") or ""), tool)

    def _dispatch(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        """A complete function_call: tell the tool box once."""
        effects = self._call_seen(item, response_id)
        call_id = item["call_id"]
        if call_id in self._asked:
            return effects
        self._asked.add(call_id)
        turn = self.turns.get(call_id)
        if turn is None or turn.tool is None:
            return effects
        arguments = item.get("arguments")
        if isinstance(arguments, str):
            turn.tool.arguments = arguments
            turn.tool.shown_arguments = one_line(arguments, 200)
        self.follow_ups.expect(call_id, response_id)
        if self.toolbox is None:  # tools are off: still answer, or the model waits forever
            return effects + self._answer_without_box(turn)
        self.toolbox.on_function_call(call_id, item["name"], turn.tool.arguments)
        return effects

    def _answer_without_box(self, turn: Turn) -> list[Effect]:
        assert turn.tool is not None
        output = "Tools are turned off in this client; nothing was run."
        item = {"type": "function_call_output", "call_id": turn.tool.call_id, "output": output}
        finished = self.turns.finish(turn, ToolState.FAILED, "tools are off")
        return finished + self.follow_ups.answer(turn.tool.call_id, item)

    def _item_done(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        kind = item.get("type")
        if kind == "function_call":
            if isinstance(item.get("call_id"), str) and isinstance(item.get("name"), str):
                return self._dispatch(item, response_id)
            return []
        if kind == "mcp_approval_request":
            return self.remote.approval_request(item, response_id)
        if kind == "mcp_call":
            return self.remote.call_done(item)
        return []

    def _started(self, update: CallStarted) -> list[Effect]:
        turn = self.turns.get(update.call_id)
        if turn is None or turn.tool is None:
            return []
        turn.tool.state = ToolState.RUNNING
        turn.tool.started_at = self._clock()
        turn.tool.shown_arguments = update.arguments
        return [TurnText(turn), WakeTicker()]

    def _call_finished(self, update: CallFinished) -> list[Effect]:
        turn = self.turns.get(update.call_id)
        rendered = update.rendered
        effects: list[Effect] = []
        if turn is not None and turn.tool is not None and not turn.tool.final:
            turn.tool.output = rendered.output
            turn.tool.full_text = rendered.full_text
            state = _FINAL_STATE.get(CallStatus(rendered.status), ToolState.FAILED)
            effects = self.turns.finish(turn, state, rendered.summary)
        return effects + self.follow_ups.answer(update.call_id, update.item)
