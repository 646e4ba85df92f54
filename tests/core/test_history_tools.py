"""Tool turns in the transcript: written with their call and output, shown by `history
show`, and replayed by --resume as the call and its answer, never run again."""

from __future__ import annotations

import json
from pathlib import Path

from tests.oracle import check_client_event
from tui.changes import Role, ToolCall, ToolState, Turn, TurnStatus
from tui.conversation import Conversation
from tui.history import HistoryWriter, format_session, load_session, load_turns
from tui.session.reconnect import replay_events

TOKEN = "tok-SECRET-in-a-result-123456"


def tool_turn(state: ToolState = ToolState.DONE) -> Turn:
    tool = ToolCall(
        "call_1",
        "notes__add_note",
        arguments='{"text": "hi"}',
        state=state,
        origin="MCP server notes",
        summary="added note 1",
        output=f"Added note 1: hi {TOKEN}",
    )
    return Turn("item_call_1", Role.TOOL, status=TurnStatus.DONE, started_at=1.7e9, tool=tool)


def write_session(folder: Path, *turns: Turn) -> str:
    with HistoryWriter(folder, "sess1", secrets=[TOKEN]) as writer:
        user = Turn("item_u", Role.USER, 'call notes__add_note {"text": "hi"}', TurnStatus.DONE)
        writer.write_turn(user)
        for turn in turns:
            writer.write_turn(turn)
        return writer.session_id


def test_a_tool_turn_is_written_with_its_call_and_output_masked(tmp_path: Path) -> None:
    write_session(tmp_path, tool_turn())
    [path] = tmp_path.glob("*.jsonl")
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text
    record = json.loads(text.splitlines()[2])
    assert record["role"] == "tool" and record["text"].startswith("Added note 1: hi")
    assert record["flags"]["tool"]["name"] == "notes__add_note"
    assert record["flags"]["tool"]["state"] == "done"
    shown = format_session(load_session(tmp_path, "sess1"))
    assert "Tool: Added note 1" in shown and "call notes__add_note" in shown


def test_resume_replays_the_call_and_its_answer(tmp_path: Path) -> None:
    write_session(tmp_path, tool_turn())
    turns = load_turns(tmp_path, "sess1")
    assert [turn.role for turn in turns] == [Role.USER, Role.TOOL]
    tool = turns[1].tool
    assert tool is not None and tool.final and tool.state is ToolState.DONE
    assert tool.call_id == "call_1" and tool.arguments == '{"text": "hi"}'
    conversation = Conversation()
    conversation.add_replayed(turns)
    replayable = conversation.replayable(50)
    assert [turn.role for turn in replayable] == [Role.USER, Role.TOOL]
    events = replay_events(replayable[1])
    assert [event["item"]["type"] for event in events] == ["function_call", "function_call_output"]
    assert events[1]["item"]["output"] == turns[1].tool.output
    for event in events:
        check_client_event(event)


def test_a_call_the_crash_left_running_resumes_as_cancelled(tmp_path: Path) -> None:
    write_session(tmp_path, tool_turn(ToolState.RUNNING))
    tool = load_turns(tmp_path, "sess1")[1].tool
    assert tool is not None and tool.state is ToolState.CANCELLED and tool.final


def remote_turns() -> list[Turn]:
    """A remote MCP call (answered by deepwiki) and an approval turn, as the session's tools
    link makes them from the server's events."""
    from tests.session.helpers import Desk, server_event

    desk = Desk()
    call = {
        "id": "mcp_1",
        "type": "mcp_call",
        "server_label": "deepwiki",
        "name": "ask_question",
        "arguments": '{"q": "x"}',
    }
    request = {**call, "id": "mcpr_1", "type": "mcp_approval_request"}
    desk.receive(server_event("response.created", response={"id": "resp_1"}))
    desk.receive(
        server_event(
            "response.output_item.done", response_id="resp_1", output_index=0, item=request
        )
    )
    done = {"response_id": "resp_1", "output_index": 1}
    desk.receive(server_event("response.output_item.added", **done, item=call))
    desk.receive(server_event("response.mcp_call.in_progress", item_id="mcp_1", output_index=1))
    finished = {**call, "output": f"the answer {TOKEN}"}
    desk.receive(server_event("response.output_item.done", **done, item=finished))
    from tui.tools.items import mcp_approval_response
    from tui.tools.updates import McpApprovalAnswered

    desk.act(
        desk.rooms.tools.on_update(
            McpApprovalAnswered("mcpr_1", True, mcp_approval_response("mcpr_1", True))
        )
    )
    turns = [turn for turn in desk.rooms.conversation.turns if turn.role is Role.TOOL]
    assert all(turn.final for turn in turns)
    return turns


def test_a_remote_mcp_call_comes_back_remote_and_replays_as_an_mcp_call(tmp_path: Path) -> None:
    """Written, read back by --resume, replayed: an `mcp_call` item (the SDK lets a client
    create one), never a local function_call named like `deepwiki__ask_question`."""
    approval, call = remote_turns()
    write_session(tmp_path, approval, call)
    turns = load_turns(tmp_path, "sess1")
    [back_approval, back_call] = [turn.tool for turn in turns[1:]]
    assert back_call is not None and back_call.remote and not back_call.approval
    assert back_call.server_label == "deepwiki" and back_call.state is ToolState.DONE
    assert back_approval is not None and back_approval.remote and back_approval.approval

    conversation = Conversation()
    conversation.add_replayed(turns)
    replayed = [event for turn in conversation.replayable(50) for event in replay_events(turn)]
    items = [event["item"] for event in replayed]
    assert [item["type"] for item in items] == ["message", "mcp_call"]  # no approval pair
    assert items[1] == {
        "type": "mcp_call",
        "id": "mcp_1",
        "server_label": "deepwiki",
        "name": "ask_question",
        "arguments": '{"q": "x"}',
        "output": "the answer [redacted]",
    }
    for event in replayed:
        check_client_event(event)


def test_a_failed_remote_call_replays_with_its_error(tmp_path: Path) -> None:
    _, call = remote_turns()
    assert call.tool is not None
    call.tool.state, call.tool.summary = ToolState.FAILED, "the server was down"
    write_session(tmp_path, call)
    [event] = replay_events(load_turns(tmp_path, "sess1")[1])
    assert event["item"]["error"] == {
        "type": "tool_execution_error",
        "message": "the server was down",
    }
    assert "output" not in event["item"]
    check_client_event(event)
