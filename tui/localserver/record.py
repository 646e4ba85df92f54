"""What one connection of the local server did, kept for tests and for people watching."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tui.localserver.faults import Faults


@dataclass
class CallRecord:
    """A function call the server issued, and the client's answer once it came.

    `cancelled`: its response ended (response.cancel, barge-in, a fault) before its arguments
    were complete; such a call takes no output. `say`: what the reply to its output says
    (typed `... and say X`), instead of quoting the output."""

    call_id: str
    name: str
    arguments: str
    response_id: str
    item_id: str
    say: str | None = None
    cancelled: bool = False
    output: str | None = None
    output_item_id: str | None = None

    @property
    def answered(self) -> bool:
        return self.output is not None


@dataclass
class ApprovalRecord:
    """An mcp_approval_request the server issued; `approve` is None until the client answers."""

    id: str
    server_label: str
    name: str
    arguments: str
    response_id: str
    approve: bool | None = None
    reason: str | None = None
    response_item_id: str | None = None


@dataclass
class McpCallRecord:
    """A call the emulated remote MCP server ran: `output` or `error`, never both."""

    id: str
    server_label: str
    name: str
    arguments: str
    response_id: str
    approval_request_id: str | None
    output: str | None
    error: str | None


@dataclass
class SessionRecord:
    """What one connection did: for tests and for people watching the demo.

    `sent` holds every event dict emitted (valid events only, in wire order); `received` every
    client event dict that parsed as a JSON object; `raw_sent` the deliberately bad frames
    (fault injection) as (kind, frame). `headers` are the handshake headers without
    Authorization and api-key; `auth` says which of the two carried the credential ("bearer",
    "api-key"). `ended_by` says how the server ended it ("close 1001 ...", "abort"), or ""
    when the client closed or the server stopped. `calls` are the function calls issued (with
    the client's output once answered), `approvals` the MCP approval requests (with the
    client's answer), `mcp_calls` the calls the emulated remote MCP servers ran, in order.
    """

    id: str
    model: str
    headers: dict[str, str]
    faults: Faults
    config: dict[str, Any]
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    raw_sent: list[tuple[str, str | bytes]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str = ""
    calls: list[CallRecord] = field(default_factory=list)
    approvals: list[ApprovalRecord] = field(default_factory=list)
    mcp_calls: list[McpCallRecord] = field(default_factory=list)
    auth: str = ""

    def sent_types(self) -> list[str]:
        return [event["type"] for event in self.sent]
