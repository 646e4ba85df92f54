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
