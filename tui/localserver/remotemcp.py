"""Remote MCP servers, emulated: the tools of type "mcp" the real API calls by itself.

A room of `connection.Connection`, beside `toolcalls.ToolCalls`. No network: every server
label offers the same fake tools (`toolrules.FAKE_TOOLS`: `echo` {text}, `add` {a, b} and
`fail`, which always fails), filtered by the tool's `allowed_tools`.

- Listing: when session.update adds a `{"type": "mcp", "server_label", "server_url", ...}`
  tool, or changes one, the server lists its tools in a new conversation item:
  conversation.item.added (an `mcp_list_tools` item, no tools yet), mcp_list_tools.in_progress,
  mcp_list_tools.completed, conversation.item.done (the item with its tools). A server_url
  whose host ends in ".invalid" (a name that can never resolve) fails instead:
  mcp_list_tools.failed, and the item keeps no tools.
- Typed `mcp LABEL TOOL {json}` (or, with tool_choice `{"type": "mcp", "server_label",
  "name"?}`, any user turn: that tool, or the first allowed one, with placeholder arguments):
  - when `require_approval` asks for one ("always", the default, or an `always` filter that
    matches; "never" or a matching `never` filter skips it), the response holds only an
    `mcp_approval_request` item (response.output_item.added, conversation.item.added,
    response.output_item.done, conversation.item.done, response.done). The client answers
    with conversation.item.create of `{"type": "mcp_approval_response", "id",
    "approval_request_id", "approve", "reason"?}` (an unknown or already answered request is
    an `error`), then response.create: approved, that response runs the call; declined, it
    says "The call of TOOL on LABEL was declined" (and the reason).
  - the call: an `mcp_call` item (response.output_item.added, response.mcp_call_arguments.delta
    (a few), .done, response.mcp_call.in_progress, response.mcp_call.completed or .failed,
    response.output_item.done with `output` or `error`), then a message in the same response:
    "The MCP tool said: <output>" or "The MCP tool failed: <error>".
  - an unknown label or tool, or a server whose listing failed: an ordinary reply that says so.
- `SessionRecord.approvals` and `.mcp_calls` record the requests (with the answers) and calls.
"""

from __future__ import annotations

import asyncio
import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui.localserver.items import Item, new_id
from tui.localserver.outputs import close_output, open_output
from tui.localserver.record import ApprovalRecord, McpCallRecord
from tui.localserver.replies import Plan, Reply, ToolStep
from tui.localserver.toolrules import (
    FAKE_TOOLS,
    QUOTE_CHARS,
    FakeTool,
    McpCommand,
    mcp_tools,
    needs_approval,
    placeholder_arguments,
    run_fake_tool,
    split_arguments,
    tool_allowed,
)
from tui.localserver.validation import ClientError

if TYPE_CHECKING:
    from tui.localserver.connection import Connection

UNREACHABLE_SUFFIX = ".invalid"


class RemoteMcp:
    """Lists the emulated servers' tools; plans approvals and calls; checks the answers."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.listed: dict[str, dict[str, Any]] = {}  # label -> the config it was listed for
        self.failed: set[str] = set()  # labels whose listing failed
        self.requests: dict[str, ApprovalRecord] = {}  # by approval request id

    # --- listing ------------------------------------------------------------------------

    def session_updated(self) -> None:
        """List the tools of each remote MCP server the session added or changed."""
        servers = mcp_tools(self.conn.config.get("tools") or [])
        for label in list(self.listed):
            if label not in servers:
                del self.listed[label]
                self.failed.discard(label)
        for label, config in servers.items():
            if self.listed.get(label) != config:
                self.listed[label] = copy.deepcopy(config)
                self._list(label, config)

    def _list(self, label: str, config: dict[str, Any]) -> None:
        store, emit = self.conn.store, self.conn.outlet.emit
        item: dict[str, Any] = {
            "id": new_id("mcpl"),
            "type": "mcp_list_tools",
            "server_label": label,
            "tools": [],
        }
        previous = store.last_id()
        stored = Item(copy.deepcopy(item))
        store.items.append(stored)
        emit("conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item))
        emit("mcp_list_tools.in_progress", item_id=item["id"])
        host = urlsplit(str(config.get("server_url") or "")).hostname or ""
        if host.endswith(UNREACHABLE_SUFFIX):
            self.failed.add(label)
            emit("mcp_list_tools.failed", item_id=item["id"])
        else:
            self.failed.discard(label)
            item["tools"] = [tool.listed() for tool in FAKE_TOOLS if tool_allowed(config, tool)]
            stored.data = copy.deepcopy(item)
            emit("mcp_list_tools.completed", item_id=item["id"])
        emit("conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item))

    # --- approvals the client sends -----------------------------------------------------

    def check_response(self, item: Item) -> None:
        wanted = item.data["approval_request_id"]
        record = self.requests.get(wanted)
        if record is None:
            raise ClientError(
                f"Approval request {wanted!r} not found: an mcp_approval_response must answer "
                "an mcp_approval_request of this session.",
                code="invalid_value",
                param="item.approval_request_id",
            )
        if record.approve is not None:
            raise ClientError(
                f"Approval request {wanted!r} has been answered already.",
                code="invalid_value",
                param="item.approval_request_id",
            )

    def response_added(self, item: Item) -> None:
        record = self.requests[item.data["approval_request_id"]]
        record.approve = item.data["approve"]
        record.reason = item.data.get("reason")
        record.response_item_id = item.id

    # --- what a response does -----------------------------------------------------------

    def plan_command(self, command: McpCommand) -> Plan:
        servers = mcp_tools(self.conn.config.get("tools") or [])
        label, config = command.server_label, servers.get(command.server_label)
        if config is None:
            offered = ", ".join(servers) or "none"
            return Plan(
                speech=f"There is no remote MCP server labelled {label} in this session "
                f"(servers: {offered})."
            )
        if label in self.failed:
            return Plan(speech=f"The MCP server {label} could not be reached to list its tools.")
        tool = self._allowed_tool(config, command.name)
        if tool is None:
            offered = ", ".join(t.name for t in FAKE_TOOLS if tool_allowed(config, t)) or "none"
            return Plan(
                speech=f"The MCP server {label} has no tool {command.name} (tools: {offered})."
            )
        if needs_approval(config, tool):
            step = ApprovalStep(self, label, tool.name, command.arguments)
            return Plan(steps=[step], speaks=False)
        return self._plan_run(label, tool.name, command.arguments, None)

    def plan_forced(self, choice: dict[str, Any]) -> Plan:
        """tool_choice {"type": "mcp", "server_label", "name"?}: call it, placeholder args."""
        config = mcp_tools(self.conn.config.get("tools") or []).get(choice["server_label"])
        allowed = [t for t in FAKE_TOOLS if config is not None and tool_allowed(config, t)]
        name = choice.get("name") or (allowed[0].name if allowed else "")
        tool = next((t for t in FAKE_TOOLS if t.name == name), None)
        arguments = placeholder_arguments(tool.input_schema if tool else None)
        return self.plan_command(McpCommand(choice["server_label"], name, arguments))

    def plan_after(self, latest: Item) -> Plan:
        """A response whose newest item is an MCP item: run an approved call, or say why not."""
        kind = latest.data["type"]
        if kind == "mcp_approval_request":
            data = latest.data
            return Plan(
                speech=f"I am waiting for your approval to call {data['name']} on "
                f"{data['server_label']}."
            )
        if kind != "mcp_approval_response":
            return Plan()
        record = self.requests.get(latest.data["approval_request_id"])
        if record is None:
            return Plan()
        if not record.approve:
            because = f": {record.reason}" if record.reason else "."
            return Plan(
                speech=f"The call of {record.name} on {record.server_label} was declined" + because
            )
        return self._plan_run(record.server_label, record.name, record.arguments, record.id)

    def _allowed_tool(self, config: dict[str, Any], name: str) -> FakeTool | None:
        tool = next((t for t in FAKE_TOOLS if t.name == name), None)
        return tool if tool is not None and tool_allowed(config, tool) else None

    def _plan_run(self, label: str, name: str, arguments: str, approval: str | None) -> Plan:
        output, error = run_fake_tool(name, arguments)
        step = McpCallStep(self, label, name, arguments, approval, (output, error))
        if error is not None:
            speech = f"The MCP tool failed: {error[:QUOTE_CHARS]}"
        else:
            speech = f"The MCP tool said: {(output or '')[:QUOTE_CHARS]}"
        return Plan(steps=[step], speech=speech)


class ApprovalStep(ToolStep):
    """An mcp_approval_request output item: sent whole, then the response ends."""

    def __init__(self, mcp: RemoteMcp, label: str, name: str, arguments: str) -> None:
        self.mcp = mcp
        self.label = label
        self.name = name
        self.arguments = arguments

    async def run(self, reply: Reply) -> None:
        conn = self.mcp.conn
        item = {
            "id": new_id("mcpr"),
            "type": "mcp_approval_request",
            "server_label": self.label,
            "name": self.name,
            "arguments": self.arguments,
        }
        record = ApprovalRecord(item["id"], self.label, self.name, self.arguments, reply.id)
        self.mcp.requests[record.id] = record
        conn.record.approvals.append(record)
        reply.tool_text += self.arguments
        index = open_output(conn, reply, item)
        close_output(conn, reply, index, item)

    def abort(self, reply: Reply) -> None:
        """Nothing to close: `run` never pauses between opening and closing its item."""


class McpCallStep(ToolStep):
    """An mcp_call output item: its arguments stream, then the fake tool's result."""

    def __init__(
        self,
        mcp: RemoteMcp,
        label: str,
        name: str,
        arguments: str,
        approval: str | None,
        result: tuple[str | None, str | None],
    ) -> None:
        self.mcp = mcp
        self.label = label
        self.name = name
        self.arguments = arguments
        self.approval = approval
        self.result = result
        self.item: dict[str, Any] = {}
        self.index = -1
        self.sent = ""

    async def run(self, reply: Reply) -> None:
        conn = self.mcp.conn
        emit = conn.outlet.emit
        self.item = {
            "id": new_id("mcp"),
            "type": "mcp_call",
            "server_label": self.label,
            "name": self.name,
            "arguments": "",
            "approval_request_id": self.approval,
        }
        self.index = open_output(conn, reply, self.item)
        ids = {"response_id": reply.id, "item_id": self.item["id"], "output_index": self.index}
        for piece in split_arguments(self.arguments):
            emit("response.mcp_call_arguments.delta", **ids, delta=piece)
            self.sent += piece
            await asyncio.sleep(conn.responder.pause() / 2)
        emit("response.mcp_call_arguments.done", **ids, arguments=self.arguments)
        state = {"item_id": self.item["id"], "output_index": self.index}
        emit("response.mcp_call.in_progress", **state)
        output, error = self.result
        done: dict[str, Any] = {**self.item, "arguments": self.arguments}
        if error is None:
            done["output"] = output
            emit("response.mcp_call.completed", **state)
        else:
            done["error"] = {"type": "tool_execution_error", "message": error}
            emit("response.mcp_call.failed", **state)
        reply.tool_text += self.arguments + (output or error or "")
        self._record(reply, output, error)
        close_output(conn, reply, self.index, done)

    def abort(self, reply: Reply) -> None:
        if self.index < 0:
            return
        conn = self.mcp.conn
        message = "The call was cancelled before it ran."
        conn.outlet.emit(
            "response.mcp_call.failed", item_id=self.item["id"], output_index=self.index
        )
        cut = {
            **self.item,
            "arguments": self.sent,
            "error": {"type": "tool_execution_error", "message": message},
        }
        reply.tool_text += self.sent
        self._record(reply, None, message)
        close_output(conn, reply, self.index, cut)

    def _record(self, reply: Reply, output: str | None, error: str | None) -> None:
        record = McpCallRecord(
            self.item["id"],
            self.label,
            self.name,
            self.arguments,
            reply.id,
            self.approval,
            output,
            error,
        )
        self.mcp.conn.record.mcp_calls.append(record)
