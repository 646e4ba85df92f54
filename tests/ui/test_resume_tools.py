"""--resume with tool calls, through the app: a transcript holding a function call and its
output (and a remote MCP call) is read back as the CLI reads it, the app connects to the
local server, and what the session sends there on connect is read off the server's record
and checked against the SDK models. The log shows the tool lines; nothing is run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.oracle import check_client_event
from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import Role, ToolCall, ToolState, Turn, TurnStatus
from tui.history import HistoryWriter, load_turns
from tui.localserver import LocalServer
from tui.widgets.tool_line import ToolTurnView

SIZE = (100, 32)
OUTPUT = "2030-01-02 12:00 UTC"


def past_session(folder: Path) -> str:
    """A transcript as a session writes it: a question, the clock's call, a remote MCP
    call, the reply."""
    clock = ToolCall(
        "call_past",
        "get_current_time",
        arguments="{}",
        state=ToolState.DONE,
        origin="built-in",
        summary="12:00 UTC",
        output=OUTPUT,
    )
    remote = ToolCall(
        "mcp_past",
        "wiki__echo",
        arguments='{"text": "hi"}',
        state=ToolState.DONE,
        origin="remote MCP server wiki",
        summary="hi",
        output="hi",
        remote=True,
        server_label="wiki",
    )
    with HistoryWriter(folder, "past") as writer:
        writer.write_turn(Turn("item_u", Role.USER, "what time is it?", TurnStatus.DONE, 1.7e9))
        writer.write_turn(Turn("item_call", Role.TOOL, status=TurnStatus.DONE, tool=clock))
        writer.write_turn(Turn("mcp_past", Role.TOOL, status=TurnStatus.DONE, tool=remote))
        writer.write_turn(Turn("item_a", Role.ASSISTANT, "It is noon.", TurnStatus.DONE, 1.7e9))
        return writer.session_id


def created_items(server: LocalServer) -> list[dict[str, Any]]:
    return (
        [
            event["item"]
            for event in server.sessions[-1].received
            if event["type"] == "conversation.item.create"
        ]
        if server.sessions
        else []
    )


async def test_resume_sends_the_past_call_and_its_output_and_shows_the_tool_line(
    server: LocalServer, config_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "history"
    replay = load_turns(folder, past_session(folder))  # as `rt-tui --resume ID` does
    app = RtApp(
        live_settings(server.url),
        config_path=config_path,
        api_key="sk-test-ui-0123456789",
        audio_enabled=False,
        replay=replay,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: len(created_items(server)) == 5, pilot, what="the replay")
        items = created_items(server)
        assert [item["type"] for item in items] == [
            "message",
            "function_call",
            "function_call_output",
            "mcp_call",
            "message",
        ]
        call, answer, remote = items[1:4]
        assert (call["call_id"], call["name"], call["arguments"]) == (
            "call_past",
            "get_current_time",
            "{}",
        )
        assert (answer["call_id"], answer["output"]) == ("call_past", OUTPUT)
        assert (remote["server_label"], remote["name"], remote["output"]) == ("wiki", "echo", "hi")
        record = server.sessions[-1]
        for event in record.received:
            check_client_event(event)
        # the server took every item (an output answering its call), and nothing runs again:
        # no new call, no reply asked for
        await wait_until(
            lambda: record.sent_types().count("conversation.item.done") >= 5, pilot, what="echoes"
        )
        assert "error" not in record.sent_types()
        assert "response.create" not in [event["type"] for event in record.received]
        assert record.calls == [] and record.mcp_calls == []

        views = list(app.conversation_log.query(ToolTurnView))
        assert [view.turn.tool.name for view in views if view.turn.tool] == [
            "get_current_time",
            "wiki__echo",
        ]
        line = str(views[0].render())
        assert "get_current_time" in line and "✓ done" in line and "↺ replayed" in line
        assert "12:00 UTC" in line  # the one-line result
