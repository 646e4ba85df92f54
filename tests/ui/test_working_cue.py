"""The visible cue while a tool works: the status line says "working: <tool> N s" while a
local tool runs and nothing is spoken, and stops saying it when the call ends.

The real app, session and tool box against the local server (which makes the call when
`call NAME {json}` is typed) and the real MCP fixture server over stdio, whose `hang` tool
never answers; the user's interrupt (Escape) cancels it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.tools.conftest import stdio_server
from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import ToolState
from tui.config.tools import Approval, ToolsSettings
from tui.localserver import LocalServer
from tui.tools.updates import Phase
from tui.widgets.tool_line import ToolTurnView

SIZE = (110, 30)


async def test_the_status_line_says_which_tool_works_and_for_how_long(
    server: LocalServer, config_path: Path
) -> None:
    settings = live_settings(server.url)
    settings.tools = ToolsSettings(mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS})
    app = RtApp(settings, config_path=config_path, api_key="sk-test-ui-0123456789")

    def status() -> str:
        return app.status_line.render().plain

    def offered() -> bool:
        updates = [e for e in server.sessions[-1].received if e["type"] == "session.update"]
        return any(t.get("name") == "fx__hang" for e in updates for t in e["session"]["tools"])

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            lambda: (
                app.session.tool_servers().get("fx") is not None
                and app.session.tool_servers()["fx"].phase is Phase.READY
            ),
            pilot,
            timeout=30,
            what="the MCP server",
        )
        await wait_until(offered, pilot, what="the tools in the session")
        assert "working:" not in status()
        await pilot.press(*"call fx__hang {}", "enter")
        await wait_until(lambda: "working:" in status(), pilot, what="the cue")
        assert re.search(r"working: fx__hang \d+ s", status()), status()
        # it counts: the status line is redrawn each second while the tool works
        await wait_until(
            lambda: re.search(r"working: fx__hang [1-9]\d* s", status()), pilot, what="1 s"
        )
        await pilot.press("f3")  # interrupt (Escape would first leave the input box)
        await wait_until(
            lambda: any(
                v.turn.tool is not None and v.turn.tool.state is ToolState.CANCELLED
                for v in app.conversation_log.query(ToolTurnView)
            ),
            pilot,
            what="the call cancelled",
        )
        await wait_until(lambda: "working:" not in status(), pilot, what="the cue to go")
