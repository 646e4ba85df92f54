"""The values the tool box hands to the session (`await toolbox.next_update()`).

The session never gives the tool box a callback: it tells it what happened (a function call
arrived, the user answered, the user barged in) and reads these back, in order:

- `ServerChanged`: a local MCP server's state, for the log and the status line.
- `ToolsChanged`: the `session.tools` list changed (a server became ready or went away):
  send a `session.update` with it.
- `ApprovalNeeded` / `ApprovalSettled`: show the question; close it (answered, timed out,
  cancelled) when it is settled.
- `CallStarted` / `CallFinished`: a call runs / ended. `CallFinished.item` is the
  `function_call_output` to send with `conversation.item.create`, then `response.create`.
- `McpApprovalAnswered`: `item` is the `mcp_approval_response` for a remote MCP server's
  request, sent the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui.tools.approvals import Ask, Settled
from tui.tools.results import Rendered


class Phase(StrEnum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"  # this attempt failed: `reason` says why
    RETRYING = "retrying"  # waiting `retry_in_s` before the next attempt
    STOPPED = "stopped"


@dataclass(frozen=True)
class ServerState:
    name: str
    phase: Phase
    tools: int = 0
    reason: str = ""
    retry_in_s: float | None = None
    attempt: int = 0
    log_path: str = ""
    tool_names: tuple[str, ...] = ()  # the function names of its tools while ready

    def describe(self, waited_s: float = 0.0) -> str:
        """'notes: ready, 2 tools', 'notes: retrying in 4 s (failed: command not found: x)'.

        waited_s: time since this state was posted, so a retry counts down as it nears.
        """
        if self.phase is Phase.READY:
            return f"{self.name}: ready, {self.tools} tool{'s' if self.tools != 1 else ''}"
        if self.phase is Phase.FAILED:
            return f"{self.name}: failed: {self.reason}"
        if self.phase is Phase.RETRYING:
            left = max(0.0, (self.retry_in_s or 0.0) - waited_s)
            return (
                f"{self.name}: retrying in {math.ceil(left - 0.05):.0f} s (failed: {self.reason})"
            )
        if self.phase is Phase.STARTING and self.attempt > 1:
            return f"{self.name}: starting (attempt {self.attempt})"
        return f"{self.name}: {self.phase}"


@dataclass(frozen=True)
class SeenState:
    """A local server's state and when it arrived (monotonic), for the retry countdown."""

    state: ServerState
    since: float


@dataclass(frozen=True)
class ServerChanged:
    state: ServerState


@dataclass(frozen=True)
class ToolsChanged:
    tools: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ApprovalNeeded:
    ask: Ask


@dataclass(frozen=True)
class ApprovalSettled:
    settled: Settled


@dataclass(frozen=True)
class CallStarted:
    call_id: str
    tool: str
    arguments: str  # one printable line, secrets masked
    reason: str  # why it runs without asking, or "you said yes"


@dataclass(frozen=True)
class CallFinished:
    call_id: str
    tool: str
    rendered: Rendered
    item: dict[str, Any]  # the function_call_output item


@dataclass(frozen=True)
class McpApprovalAnswered:
    approval_request_id: str
    approve: bool
    item: dict[str, Any]  # the mcp_approval_response item


Update = (
    ServerChanged
    | ToolsChanged
    | ApprovalNeeded
    | ApprovalSettled
    | CallStarted
    | CallFinished
    | McpApprovalAnswered
)
