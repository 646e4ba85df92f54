"""`--demo` shows tools with no key: the demo tools (the shipped demo MCP server over stdio
and the clock) against the local server, which makes the call when `call NAME {json}` is
typed. A newcomer sees the call, the approval, the result and the assistant's reply; every
event both ways is valid for the SDK."""

from __future__ import annotations

from pathlib import Path

from tests.oracle import check_client_event, check_server_event
from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import Role, ToolState
from tui.localserver import LocalServer
from tui.screens.approval import ApprovalScreen
from tui.tools.demo_tools import DEMO_TRY, demo_tools
from tui.widgets.tool_line import ToolTurnView

SIZE = (110, 34)


async def test_the_demo_hint_call_shows_an_approval_a_result_and_a_reply(
    server: LocalServer, config_path: Path
) -> None:
    settings = live_settings(server.url)
    settings.tools = demo_tools()
    app = RtApp(settings, config_path=config_path, api_key="demo", audio_enabled=False, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        await wait_until(lambda: log.view_for("rt-tui-demo-hint") is not None, pilot)
        assert DEMO_TRY in app.conversation_log.view_for("rt-tui-demo-hint").turn.text

        def notes_ready() -> bool:
            received = server.sessions[-1].received if server.sessions else []
            sent = [event for event in received if event["type"] == "session.update"]
            return any(
                tool.get("name") == "notes__add_note"
                for event in sent
                for tool in event["session"].get("tools", [])
            )

        await wait_until(notes_ready, pilot, timeout=30, what="the demo server's tools")
        await pilot.press(*DEMO_TRY, "enter")
        await wait_until(lambda: isinstance(app.screen, ApprovalScreen), pilot, what="approval")
        assert app.screen.ask.tool == "notes__add_note"
        await pilot.press("y")

        def tool_done() -> bool:
            views = list(app.conversation_log.query(ToolTurnView))
            return bool(views) and views[-1].turn.tool.state is ToolState.DONE

        await wait_until(tool_done, pilot, what="the call to finish")
        tool = list(app.conversation_log.query(ToolTurnView))[-1].turn.tool
        assert "hi" in tool.output

        def replied() -> bool:
            turns = [v.turn for v in app.conversation_log.query("TurnView")]
            return any(t.role is Role.ASSISTANT and t.final and "hi" in t.text for t in turns)

        await wait_until(replied, pilot, what="the assistant to speak about the result")
    record = server.sessions[-1]
    for event in record.received:
        check_client_event(event)
    for event in record.sent:
        check_server_event(event)
