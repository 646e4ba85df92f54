"""What a dropped connection is called, and what a new one is told of the past.

A new connection is restored with the same `session.update`, then the conversation so far
replayed as text items under their old ids (so the server's echo is recognised and not
shown twice). A reply the user cut off is replayed only as far as it was heard.
"""

from __future__ import annotations

from typing import Any

from tui.changes import Role, ToolState, Turn, TurnStatus
from tui.errors import Disconnected
from tui.realtime import events

CLOSE_REASONS = {
    1000: "closed",
    1001: "the server ended the session",
    1006: "connection lost",
    1011: "server error",
    1012: "server restarting",
    1013: "server busy, try again later",
}


def describe_disconnect(error: Disconnected) -> str:
    what = CLOSE_REASONS.get(error.code or 1006, "connection closed")
    detail = f": {error.reason}" if error.reason else ""
    code = f" (code {error.code})" if error.code else ""
    return f"{what}{detail}{code}"


def replay_events(turn: Turn) -> list[dict[str, Any]]:
    """What a new connection is told of a past turn. A tool call is its `function_call` item
    and, once answered, its `function_call_output` (the result it had: never run again);
    a call still running gets its output later, on this new connection. A remote MCP call
    is the `mcp_call` item it was (see `remote_call_event`); its approval is not replayed."""
    tool = turn.tool
    if tool is None:
        return [replay_event(turn)]
    if tool.remote:
        return [] if tool.approval else [remote_call_event(turn)]
    call = {
        "type": "function_call",
        "call_id": tool.call_id,
        "name": tool.name,
        "arguments": tool.arguments or "{}",
    }
    replayed = [events.item_create(call)]
    if tool.final:
        output = tool.output or f"The call ended: {tool.state}."
        answer = {"type": "function_call_output", "call_id": tool.call_id, "output": output}
        replayed.append(events.item_create(answer))
    return replayed


def remote_call_event(turn: Turn) -> dict[str, Any]:
    """A remote MCP call as the `mcp_call` item the API made, with its output or its error.

    The SDK's conversation items (`ConversationItemParam`) include `mcp_call`, so a client may
    create one: the model keeps the result as the same kind of item, and a local
    `function_call` named `label__tool` (no such function in `session.tools`) is never
    invented. Its approval turn is left out: an `mcp_approval_response` that approves could
    let the server run the call again, and a replayed call never runs again.
    """
    tool = turn.tool
    assert tool is not None
    item: dict[str, Any] = {
        "type": "mcp_call",
        "id": tool.call_id,
        "server_label": tool.server_label,
        "name": tool.tool_name,
        "arguments": tool.arguments or "{}",
    }
    if tool.state is ToolState.DONE:
        item["output"] = tool.output
    else:
        why = tool.summary or turn.reason or f"The call ended: {tool.state}."
        item["error"] = {"type": "tool_execution_error", "message": why}
    return events.item_create(item)


def replay_event(turn: Turn) -> dict[str, Any]:
    """A past turn as a text item, under its old id so the echo is recognised and skipped."""
    text = turn.text
    if turn.status is TurnStatus.INTERRUPTED and turn.heard_ms is not None and turn.audio_ms:
        # only the part that was heard belongs in the assistant's memory
        share = max(0.0, min(1.0, turn.heard_ms / turn.audio_ms))
        text = text[: int(len(text) * share)] + "…"
    event = events.user_text(text) if turn.role is Role.USER else events.assistant_text(text)
    event["item"]["id"] = turn.item_id
    return event
