"""Function calling of one local server connection: which response calls a tool, the
function_call items it streams, and the checks on the client's function_call_output.

A room of `connection.Connection`, beside `remotemcp.RemoteMcp` (the emulated remote MCP
servers). Deterministic rules, decided when a response starts, from the item it answers (the
newest item that is not an assistant message or an mcp_list_tools listing):

- A typed user message `call NAME {json}` (the JSON object may be left out: `{}`) makes a
  response whose one output item is a `function_call` of NAME, with no message and no audio:
  response.created, rate_limits.updated, response.output_item.added, conversation.item.added,
  response.function_call_arguments.delta (a few), .done, response.output_item.done,
  conversation.item.done, response.done (the call in `output`).
- `call NAME {json} and say TEXT`: the same call; the reply to its output says TEXT.
- NAME not a `function` tool of the session (or of response.create's `tools`), no tools at
  all, broken JSON, or other text after the JSON: an ordinary reply that says so, no call.
  `call me maybe` (words after the name) is ordinary text. With `tool_choice` "none" the
  reply says it will not call.
- Spoken turns: the local server does not recognise words in audio, so a spoken turn calls a
  tool only when `tool_choice` is "required" (the first function tool) or names a function;
  the same holds for typed text that is not a command. The arguments are placeholders: each
  required property of the tool's schema gets its default, its first enum value, or a plain
  value of its type ("test", 1, true, [], {}).
- The client answers with conversation.item.create of `{"type": "function_call_output",
  "call_id", "output"}`. The call_id must be a call this server issued (or a function_call
  item the client created) that has no output yet, else an `error` (invalid_value, param
  item.call_id) and nothing is stored.
- A call whose response ended before its arguments were complete (response.cancel, barge-in,
  a fault) is `cancelled`: its item stays in the conversation as "incomplete", an output for
  it is refused with an `error`, and later replies do not wait for it.
- The response after a function_call_output says "The tool said: <first QUOTE_CHARS
  characters of the output>" (several outputs of the same turn: "The tools said: A | B",
  at most MAX_QUOTED quoted), or the TEXT of `and say TEXT`. response.create while a call is
  unanswered is allowed, as on the real server: that reply says "I am still waiting for the
  result of NAME." and never calls again.
- `SessionRecord.calls` lists each call issued (`record.CallRecord`), with its output once
  answered.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tui.localserver.items import Item, new_id
from tui.localserver.outputs import close_output, open_output
from tui.localserver.record import CallRecord
from tui.localserver.replies import Plan, Reply, ToolStep
from tui.localserver.toolrules import (
    CallCommand,
    CommandError,
    McpCommand,
    answered_item,
    function_tools,
    parse_command,
    placeholder_arguments,
    quoted,
    split_arguments,
    trailing_calls,
    user_text,
)
from tui.localserver.validation import ClientError

if TYPE_CHECKING:
    from tui.localserver.connection import Connection

MCP_ITEMS = ("mcp_approval_request", "mcp_approval_response", "mcp_call")


class ToolCalls:
    """Plans the tool items of each response; issues function calls; checks their outputs."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.issued: dict[str, CallRecord] = {}  # by call_id

    # --- items the client creates -------------------------------------------------------

    def check_item(self, item: Item) -> None:
        """Refuse (ClientError) a tool answer that answers nothing, before it is stored."""
        kind = item.data.get("type")
        if kind == "function_call_output":
            self._check_output(item.data["call_id"])
        elif kind == "mcp_approval_response":
            self.conn.mcp.check_response(item)

    def item_added(self, item: Item) -> None:
        kind = item.data.get("type")
        if kind == "function_call_output":
            record = self.issued.get(item.data["call_id"])
            if record is not None and record.output is None:
                record.output = item.data["output"]
                record.output_item_id = item.id
        elif kind == "mcp_approval_response":
            self.conn.mcp.response_added(item)

    def _check_output(self, call_id: str) -> None:
        items = self.conn.store.items
        record = self.issued.get(call_id)
        if record is not None and record.cancelled:
            raise ClientError(
                f"Tool call ID {call_id!r} was cancelled before its arguments were complete; "
                "it takes no function_call_output.",
                code="invalid_value",
                param="item.call_id",
            )
        in_conversation = any(
            i.data.get("type") == "function_call" and i.data.get("call_id") == call_id
            for i in items
        )
        if record is None and not in_conversation:
            raise ClientError(
                f"Tool call ID {call_id!r} not found in conversation: a function_call_output "
                "must answer a function_call of this session.",
                code="invalid_value",
                param="item.call_id",
            )
        if (record is not None and record.output is not None) or any(
            i.data.get("type") == "function_call_output" and i.data.get("call_id") == call_id
            for i in items
        ):
            raise ClientError(
                f"Tool call ID {call_id!r} already has a function_call_output; delete that item "
                "first to answer again.",
                code="invalid_value",
                param="item.call_id",
            )

    # --- what a response does -----------------------------------------------------------

    def plan(self, context: list[Item], params: dict[str, Any]) -> Plan:
        """The tool items and the words of a response over `context` (see the module doc)."""
        config = self.conn.config
        tools = params.get("tools", config.get("tools") or [])
        choice = params.get("tool_choice", config.get("tool_choice", "auto"))
        latest = answered_item(context)
        if latest is None:
            return Plan()
        kind = latest.data.get("type")
        if kind in ("function_call", "function_call_output"):
            return Plan(speech=self._results_speech(context))
        if kind in MCP_ITEMS:
            return self.conn.mcp.plan_after(latest)
        if latest.role != "user":
            return Plan()
        try:
            command = parse_command(user_text(latest))
        except CommandError as exc:
            return Plan(speech=str(exc))
        if command is not None and choice == "none":
            return Plan(speech="I will not call a tool: tool_choice is 'none'.")
        if isinstance(command, McpCommand):
            return self.conn.mcp.plan_command(command)
        if isinstance(command, CallCommand):
            return self._plan_call(command.name, command.arguments, tools, say=command.say)
        return self._forced(tools, choice)

    def _forced(self, tools: list[dict[str, Any]], choice: Any) -> Plan:
        """tool_choice "required" or naming a tool: every user turn calls one."""
        functions = function_tools(tools)
        if isinstance(choice, dict) and choice.get("type") == "mcp":
            return self.conn.mcp.plan_forced(choice)
        if isinstance(choice, dict) and choice.get("type") == "function":
            tool = functions.get(choice["name"])
        elif choice == "required" and functions:
            tool = next(iter(functions.values()))
        else:
            return Plan()
        if tool is None:  # checked at session.update; a response's own tools may differ
            return Plan(speech=f"I cannot call {choice['name']!r}: it is not a function tool.")
        arguments = placeholder_arguments(tool.get("parameters"))
        return self._plan_call(tool["name"], arguments, tools, say=None)

    def _plan_call(
        self, name: str, arguments: str, tools: list[dict[str, Any]], *, say: str | None
    ) -> Plan:
        functions = function_tools(tools)
        if name not in functions:
            offered = ", ".join(functions) or "none"
            return Plan(
                speech=f"I cannot call {name}: it is not a function tool of this session "
                f"(function tools: {offered})."
            )
        return Plan(steps=[FunctionCallStep(self, name, arguments, say)], speaks=False)

    def _results_speech(self, context: list[Item]) -> str:
        run = trailing_calls(context)
        answered = {
            i.data["call_id"] for i in context if i.data.get("type") == "function_call_output"
        }
        outputs: list[str] = []
        sayings: list[str] = []
        for item in run:
            if item.data.get("type") != "function_call_output":
                continue
            record = self.issued.get(item.data["call_id"])
            if record is not None and record.say is not None:
                sayings.append(record.say)
            else:
                outputs.append(item.data["output"])
        waiting = list(
            dict.fromkeys(
                i.data["name"]
                for i in run
                if i.data.get("type") == "function_call"
                and i.data.get("status") != "incomplete"
                and i.data.get("call_id") not in answered
            )
        )
        words = list(sayings)
        if outputs:
            lead = "The tool said: " if len(outputs) == 1 else "The tools said: "
            words.append(quoted(outputs, lead))
        if waiting:
            words.append(f"I am still waiting for the result of {', '.join(waiting)}.")
        return " ".join(words) or "I have no tool result to talk about."

    def issue(self, record: CallRecord) -> None:
        self.issued[record.call_id] = record
        self.conn.record.calls.append(record)


class FunctionCallStep(ToolStep):
    """One function_call output item: its arguments stream at the pace of reply deltas."""

    def __init__(self, calls: ToolCalls, name: str, arguments: str, say: str | None) -> None:
        self.calls = calls
        self.name = name
        self.arguments = arguments
        self.say = say
        self.item: dict[str, Any] = {}
        self.index = -1
        self.sent = ""
        self.record: CallRecord | None = None

    async def run(self, reply: Reply) -> None:
        conn = self.calls.conn
        emit = conn.outlet.emit
        call_id = new_id("call")
        self.item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": self.name,
            "arguments": "",
        }
        self.record = CallRecord(
            call_id, self.name, self.arguments, reply.id, self.item["id"], say=self.say
        )
        self.calls.issue(self.record)
        self.index = open_output(conn, reply, self.item)
        ids = {"response_id": reply.id, "item_id": self.item["id"], "output_index": self.index}
        for piece in split_arguments(self.arguments):
            emit("response.function_call_arguments.delta", **ids, call_id=call_id, delta=piece)
            self.sent += piece
            await asyncio.sleep(conn.responder.pause() / 2)
        emit(
            "response.function_call_arguments.done",
            **ids,
            call_id=call_id,
            name=self.name,
            arguments=self.arguments,
        )
        reply.tool_text += self.arguments
        done = {**self.item, "status": "completed", "arguments": self.arguments}
        close_output(conn, reply, self.index, done)

    def abort(self, reply: Reply) -> None:
        if self.record is None:  # ended before the item was announced
            return
        self.record.cancelled = True
        reply.tool_text += self.sent
        cut = {**self.item, "status": "incomplete", "arguments": self.sent}
        close_output(self.calls.conn, reply, self.index, cut)
