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

Tool calls are turns (`Role.TOOL`, `Turn.tool`), so the log, the history and the replay into
a new connection carry them like any other turn; a replayed call is never run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from tui.changes import (
    ApprovalAsked,
    ApprovalClosed,
    Notice,
    Role,
    ToolCall,
    ToolServersChanged,
    ToolState,
    Turn,
    TurnFinished,
    TurnStatus,
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
_TURN_STATUS = {
    ToolState.DONE: TurnStatus.DONE,
    ToolState.DECLINED: TurnStatus.DONE,
    ToolState.FAILED: TurnStatus.FAILED,
    ToolState.CANCELLED: TurnStatus.CANCELLED,
}
NO_RESPONSE = ""  # a call whose response the session never saw: counts as completed


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
        self._conversation = conversation
        self._active_response = active_response  # the reply running now (turn-taking's)
        self._clock = clock
        self._wall_clock = wall_clock
        self._turns: dict[str, Turn] = {}  # open ones, by call id (or approval request id)
        self._known: set[str] = set()  # every call id and request id seen: one turn each
        self._asked: set[str] = set()  # calls and approval requests handed to the tool box
        self._owner: dict[str, str] = {}  # call id -> the response it came in
        self._open: dict[str, set[str]] = {}  # response id -> calls not answered yet
        self._finished: dict[str, str] = {NO_RESPONSE: "completed"}  # response -> status
        self._due: set[str] = set()  # responses with answers sent, follow-up not yet
        self._quiet: set[str] = set()  # responses the user barged in on: no follow-up
        self._labels: dict[str, str] = {}  # mcp_list_tools item id -> server label

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
        return [
            turn
            for turn in self._turns.values()
            if turn.tool is not None and turn.tool.state is ToolState.RUNNING
        ]

    def barge_in(self) -> list[Effect]:
        """The user took the floor: running local calls are cancelled (each still answers
        the model, saying so) and no follow-up reply is asked for what was open."""
        self._quiet |= set(self._open) | self._due
        if self.toolbox is not None:
            self.toolbox.cancel_running()
        return []

    def connection_lost(self) -> None:
        """Answers for the old connection's responses are never followed up there."""
        self._open.clear()
        self._due.clear()
        self._owner.clear()

    # ---- server events (routes in dispatch.ROUTES) -----------------------------------

    def on_output_item_added(self, event: ServerEvent) -> list[Effect]:
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        kind = item.get("type")
        if kind == "function_call":
            return self._call_seen(item, event.get("response_id"))
        if kind == "mcp_call":
            return self._remote_call_seen(item)
        return []

    def on_arguments_delta(self, event: ServerEvent) -> list[Effect]:
        turn = self._turns.get(event.get("call_id") or "")
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
            return self._approval_request(item, None)
        if kind == "mcp_list_tools" and isinstance(item.get("id"), str):
            self._labels[item["id"]] = str(item.get("server_label") or "")
        return []

    def on_response_done(self, event: ServerEvent) -> list[Effect]:
        response = event.get("response") or {}
        response_id = response.get("id")
        effects: list[Effect] = []
        for item in response.get("output") or []:
            if isinstance(item, dict):
                effects += self._item_done(item, response_id)
        if isinstance(response_id, str) and (response_id in self._open or response_id in self._due):
            self._finished[response_id] = str(response.get("status") or "completed")
        return effects + self._follow_ups()

    def on_mcp_call_progress(self, event: ServerEvent) -> list[Effect]:
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
            return self._finish(turn, ToolState.FAILED, "the remote MCP call failed")
        return []  # completed: the item (with its output) follows in output_item.done

    def on_mcp_arguments(self, event: ServerEvent) -> list[Effect]:
        turn = self._turns.get(event.get("item_id") or "")
        if turn is None or turn.tool is None:
            return []
        if event.type.endswith(".done") and isinstance(event.get("arguments"), str):
            turn.tool.arguments = event.get("arguments")
            turn.tool.shown_arguments = one_line(turn.tool.arguments, 200)
            return [TurnText(turn)]
        return []

    def on_mcp_list_tools(self, event: ServerEvent) -> list[Effect]:
        if not event.type.endswith(".failed"):
            return []
        label = self._labels.get(event.get("item_id") or "", "") or "a remote MCP server"
        return [Notice("warning", f"{one_line(label, 60)}: could not list its tools")]

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
                turn = self._turns.get(ask.ask_id)
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
                return self._approval_answered(update)
        return []

    # ---- inside ----------------------------------------------------------------------

    def _server_states(self) -> dict[str, Any]:
        return self.toolbox.server_states() if self.toolbox is not None else {}

    def _new_turn(self, key: str, item_id: str, tool: ToolCall) -> list[Effect]:
        turn = Turn(
            item_id=item_id or key,
            role=Role.TOOL,
            started_at=self._wall_clock(),
            tool=tool,
        )
        if self._conversation.get(turn.item_id) is not None:
            turn.item_id = f"{turn.item_id}-{key}"
        self._turns[key] = turn
        self._known.add(key)
        return list(self._conversation.add_turn(turn))

    def _call_seen(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        call_id, name = item.get("call_id"), item.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str) or call_id in self._known:
            return []
        tool = ToolCall(call_id, name, arguments=str(item.get("arguments") or ""))
        self._owner.setdefault(call_id, response_id or NO_RESPONSE)
        return self._new_turn(call_id, str(item.get("id") or ""), tool)

    def _dispatch(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        """A complete function_call: tell the tool box once."""
        effects = self._call_seen(item, response_id)
        call_id = item["call_id"]
        if call_id in self._asked:
            return effects
        self._asked.add(call_id)
        turn = self._turns.get(call_id)
        if turn is None:
            return effects
        arguments = item.get("arguments")
        if turn.tool is not None and isinstance(arguments, str):
            turn.tool.arguments = arguments
            turn.tool.shown_arguments = one_line(arguments, 200)
        owner = self._owner.setdefault(call_id, response_id or NO_RESPONSE)
        self._open.setdefault(owner, set()).add(call_id)
        if self.toolbox is None:  # tools are off: still answer, or the model waits forever
            return effects + self._answer_without_box(turn)
        self.toolbox.on_function_call(
            call_id, item["name"], turn.tool.arguments if turn.tool else ""
        )
        return effects

    def _answer_without_box(self, turn: Turn) -> list[Effect]:
        assert turn.tool is not None
        output = "Tools are turned off in this client; nothing was run."
        item = {"type": "function_call_output", "call_id": turn.tool.call_id, "output": output}
        finished = self._finish(turn, ToolState.FAILED, "tools are off")
        return finished + self._answered(turn.tool.call_id, item)

    def _item_done(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        kind = item.get("type")
        if kind == "function_call":
            if isinstance(item.get("call_id"), str) and isinstance(item.get("name"), str):
                return self._dispatch(item, response_id)
            return []
        if kind == "mcp_approval_request":
            return self._approval_request(item, response_id)
        if kind == "mcp_call":
            return self._remote_call_done(item)
        return []

    def _remote_call_seen(self, item: dict[str, Any]) -> list[Effect]:
        item_id = item.get("id")
        if not isinstance(item_id, str) or item_id in self._known:
            return []
        label = str(item.get("server_label") or "")
        name = f"{label}__{item.get('name') or '?'}"
        arguments = str(item.get("arguments") or "")
        tool = ToolCall(
            item_id,
            name,
            arguments=arguments,
            origin=f"remote MCP server {label}",
            shown_arguments=one_line(arguments, 200),
            remote=True,
        )
        return self._new_turn(item_id, item_id, tool)

    def _remote_call_done(self, item: dict[str, Any]) -> list[Effect]:
        effects = self._remote_call_seen(item)
        turn = self._turns.get(str(item.get("id")))
        if turn is None or turn.tool is None or turn.tool.final:
            return effects
        error = item.get("error")
        if error:
            why = error.get("message") if isinstance(error, dict) else error
            return effects + self._finish(turn, ToolState.FAILED, one_line(str(why), 200))
        output = str(item.get("output") or "")
        turn.tool.output = turn.tool.full_text = output
        return effects + self._finish(turn, ToolState.DONE, one_line(output, 120) or "done")

    def _approval_request(self, item: dict[str, Any], response_id: str | None) -> list[Effect]:
        item_id, name = item.get("id"), item.get("name")
        if not isinstance(item_id, str) or not isinstance(name, str) or item_id in self._asked:
            return []
        self._asked.add(item_id)
        label = str(item.get("server_label") or "")
        arguments = str(item.get("arguments") or "")
        owner = response_id or NO_RESPONSE
        self._owner[item_id] = owner
        self._open.setdefault(owner, set()).add(item_id)
        tool = ToolCall(
            item_id,
            f"{label}__{name}",
            arguments=arguments,
            origin=f"remote MCP server {label}",
            shown_arguments=one_line(arguments, 200),
            remote=True,
        )
        effects = self._new_turn(item_id, f"{item_id}-approval", tool)
        if self.toolbox is None:
            return effects
        self.toolbox.on_mcp_approval_request(item_id, label, name, arguments)
        return effects

    def _started(self, update: CallStarted) -> list[Effect]:
        turn = self._turns.get(update.call_id)
        if turn is None or turn.tool is None:
            return []
        turn.tool.state = ToolState.RUNNING
        turn.tool.started_at = self._clock()
        turn.tool.shown_arguments = update.arguments
        return [TurnText(turn), WakeTicker()]

    def _call_finished(self, update: CallFinished) -> list[Effect]:
        turn = self._turns.get(update.call_id)
        rendered = update.rendered
        effects: list[Effect] = []
        if turn is not None and turn.tool is not None and not turn.tool.final:
            turn.tool.output = rendered.output
            turn.tool.full_text = rendered.full_text
            state = _FINAL_STATE.get(CallStatus(rendered.status), ToolState.FAILED)
            effects = self._finish(turn, state, rendered.summary)
        return effects + self._answered(update.call_id, update.item)

    def _approval_answered(self, update: McpApprovalAnswered) -> list[Effect]:
        turn = self._turns.get(update.approval_request_id)
        effects: list[Effect] = []
        if turn is not None and turn.tool is not None and not turn.tool.final:
            state = ToolState.DONE if update.approve else ToolState.DECLINED
            summary = "approved" if update.approve else str(update.item.get("reason") or "no")
            effects = self._finish(turn, state, summary)
        return effects + self._answered(update.approval_request_id, update.item)

    def _finish(self, turn: Turn, state: ToolState, summary: str) -> list[Effect]:
        assert turn.tool is not None
        turn.tool.state = state
        turn.tool.summary = summary
        turn.status = _TURN_STATUS.get(state, TurnStatus.DONE)
        turn.reason = summary if state in (ToolState.FAILED, ToolState.DECLINED) else ""
        self._turns.pop(turn.tool.call_id, None)
        return [TurnFinished(turn)]

    def _answered(self, call_id: str, item: dict[str, Any]) -> list[Effect]:
        """Send the answer; the follow-up reply once the whole response is answered."""
        effects: list[Effect] = [Send(events.item_create(item))]
        owner = self._owner.pop(call_id, None)
        if owner is None:
            return effects  # the connection it came on is gone: restore replays it
        self._open.get(owner, set()).discard(call_id)
        self._due.add(owner)
        return effects + self._follow_ups()

    def _follow_ups(self) -> list[Effect]:
        """One response.create for the responses whose calls are all answered."""
        ready = [
            response
            for response in self._due
            if response in self._finished and not self._open.get(response)
        ]
        if not ready or self._active_response() is not None:
            return []  # another reply runs: asked again at its response.done
        wanted = False
        for response in ready:
            self._due.discard(response)
            self._open.pop(response, None)
            status = self._finished.get(response)
            wanted |= status == "completed" and response not in self._quiet
            self._quiet.discard(response)
            if response != NO_RESPONSE:
                self._finished.pop(response, None)
        return [Send(events.response_create())] if wanted else []
