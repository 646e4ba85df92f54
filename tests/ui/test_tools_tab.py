"""Issue 10's settings: the Tools tab shows each MCP server's live state, and an approval or a
server's enabled flag changed there is saved (the rest of the file keeps its comments) and
reaches the running session. Real servers: the shipped demo server and the tests' fixture
server over stdio, the session against the local Realtime server."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from textual.widgets import Static, Switch

from tests.oracle import check_client_event
from tests.tools.conftest import FIXTURE_SERVER
from tests.ui.conftest import live_settings, scripted, wait_until
from tests.ui.test_settings import open_settings, screen_lines
from tui.app import RtApp
from tui.changes import Role, ToolServersChanged, ToolState
from tui.config import Settings, get_value, load_settings, with_value
from tui.config.tools import McpServerSettings, ToolsSettings
from tui.localserver import LocalServer
from tui.screens.approval import ApprovalScreen
from tui.screens.settings import SettingsScreen
from tui.screens.tools_tab import ToolsTab
from tui.tools.demo_tools import demo_tools
from tui.tools.updates import Phase, ServerState
from tui.widgets.tool_line import ToolTurnView

SIZE = (110, 50)
CONFIG = f"""# my rt-tui settings
[session]
voice = "cedar"  # the calm one

[tools]
[[tools.mcp]]
name = "notes"
command = {str(sys.executable)!r}
args = ["-m", "tui.tools.demo_server"]

[[tools.mcp]]
name = "fx"
command = {str(sys.executable)!r}
args = [{str(FIXTURE_SERVER)!r}]
"""


def tools_sent(server: LocalServer) -> list[list[str]]:
    """The tool names of each session.update that set the tools, in order."""
    received = server.sessions[-1].received if server.sessions else []
    return [
        [tool["name"] for tool in event["session"]["tools"]]
        for event in received
        if event["type"] == "session.update" and "tools" in event["session"]
    ]


def state_line(app: RtApp, index: int) -> str:
    return str(app.screen.query_one(f"#t-mcp-{index}-state", Static).render())


async def test_tools_tab_shows_live_servers_and_saves_and_applies_edits(
    server: LocalServer, config_path: Path
) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text(CONFIG)
    settings = load_settings(config_path, env={})
    for path in ("connection.url", "audio.enabled", "history.enabled"):  # as live_settings
        settings = with_value(settings, path, get_value(live_settings(server.url), path))
    app = RtApp(settings, config_path=config_path, api_key="demo", audio_enabled=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)  # before the servers are up: they arrive live
        screen.query_one("TabbedContent").active = "tab-Tools"
        tab = screen.query_one(ToolsTab)
        await wait_until(lambda: "ready, 3 tools" in state_line(app, 0), pilot, timeout=30)
        await wait_until(lambda: "ready, 8 tools" in state_line(app, 1), pilot, timeout=30)

        def rows_shown() -> bool:  # the tool rows are mounted as the server lists its tools
            lines = "\n".join(screen_lines(app))
            return "notes__add_note" in lines and "stdio:" in lines

        await wait_until(rows_shown, pilot, what="the notes server's tools on screen")

        approval = tab.approval_select("notes__add_note")
        assert approval is not None and approval.value == "default"
        approval.focus()
        approval.value = "always"
        fx_switch = screen.query_one("#t-mcp-1", Switch)
        fx_switch.focus()
        await pilot.press("enter")  # the fx server off
        await wait_until(lambda: not fx_switch.value, pilot, what="fx switched off")
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")

        text = config_path.read_text()
        assert text.startswith("# my rt-tui settings") and "# the calm one" in text
        saved = tomllib.loads(text)
        assert saved["tools"]["approvals"] == {"notes__add_note": "always"}
        assert [entry.get("enabled", True) for entry in saved["tools"]["mcp"]] == [True, False]
        assert "connection" not in saved  # the runtime URL is not pinned in the file

        def fx_gone() -> bool:
            sent = tools_sent(server)
            return (
                bool(sent)
                and "notes__add_note" in sent[-1]
                and not any(name.startswith("fx__") for name in sent[-1])
            )

        await wait_until(fx_gone, pilot, what="a session.update without the fx tools")
        assert any(name.startswith("fx__") for names in tools_sent(server) for name in names)
        await wait_until(lambda: list(app.tools_ui.servers) == ["notes"], pilot, what="fx gone")

        await pilot.press(*'call notes__add_note {"text": "hi"}', "enter")

        def done() -> ToolTurnView | None:
            views = list(app.conversation_log.query(ToolTurnView))
            return views[-1] if views and views[-1].turn.tool.state is ToolState.DONE else None

        await wait_until(lambda: done() is not None, pilot, what="the call to run")
        assert not isinstance(app.screen, ApprovalScreen)  # "always": it ran without asking
        assert "hi" in done().turn.tool.output  # type: ignore[union-attr]
        assert any(turn.role is Role.TOOL for turn in app.session.conversation.turns)  # type: ignore[union-attr]
    for event in server.sessions[-1].received:
        check_client_event(event)


def scripted_tools_app(config_path: Path, script: list[Any], clock: list[float]) -> RtApp:
    tools = ToolsSettings(mcp=[McpServerSettings("notes", command="python", args=["-m", "x"])])
    return RtApp(
        with_value(Settings(), "tools", tools),
        config_path=config_path,
        session_factory=scripted(script),
        monotonic=lambda: clock[0],
    )


async def test_a_server_change_shows_briefly_on_the_main_screen(config_path: Path) -> None:
    clock = [100.0]
    retrying = ServerState("notes", Phase.RETRYING, reason="exit 1", retry_in_s=4.0)
    app = scripted_tools_app(config_path, [ToolServersChanged({"notes": retrying})], clock)
    async with app.run_test(size=SIZE) as pilot:

        def status() -> str:
            return str(app.status_line.render())

        await wait_until(lambda: "MCP notes: retrying in 4 s" in status(), pilot, what="retry")
        clock[0] += 2.2
        app.status_line.update_text()
        assert "MCP notes: retrying in 2 s (failed: exit 1)" in status()
        ready = ServerState("notes", Phase.READY, tools=3, tool_names=("notes__a",))
        app._on_change(ToolServersChanged({"notes": ready}))
        assert "MCP notes: ready, 3 tools" in status()
        clock[0] += 9  # longer than the note lasts
        app.status_line.update_text()
        assert "MCP" not in status()


async def test_tool_rows_arrive_live_and_a_retry_counts_down(config_path: Path) -> None:
    """Opened before the server is up: its state and its tools' rows arrive while shown."""
    clock = [100.0]
    app = scripted_tools_app(config_path, [], clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        screen.query_one("TabbedContent").active = "tab-Tools"
        tab = screen.query_one(ToolsTab)
        await wait_until(lambda: "waiting for the session" in state_line(app, 0), pilot)
        retrying = ServerState("notes", Phase.RETRYING, reason="exit 1", retry_in_s=4.0)
        app._on_change(ToolServersChanged({"notes": retrying}))
        await wait_until(lambda: "retrying in 4 s" in state_line(app, 0), pilot, what="4 s")
        clock[0] += 2.2
        await wait_until(lambda: "retrying in 2 s" in state_line(app, 0), pilot, what="2 s")
        assert tab.approval_select("notes__add") is None
        ready = ServerState("notes", Phase.READY, tools=2, tool_names=("notes__add", "notes__ls"))
        app._on_change(ToolServersChanged({"notes": ready}))
        await wait_until(lambda: "ready, 2 tools" in state_line(app, 0), pilot, what="ready")
        await wait_until(lambda: tab.approval_select("notes__ls") is not None, pilot)
        row = tab.approval_select("notes__ls")
        await wait_until(lambda: row.region.height > 0, pilot, what="the row laid out")
        row.scroll_visible(animate=False)

        def row_shown() -> bool:
            return any("notes__ls" in line and "default" in line for line in screen_lines(app))

        await wait_until(row_shown, pilot, what="the new row on screen")
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="closed")


async def test_demo_tool_edits_apply_but_never_replace_the_files_tools(config_path: Path) -> None:
    """--demo runs its own tools in place of the file's: saving them would overwrite the
    user's [tools]. An edit applies to the session; the file keeps its own table."""
    config_path.parent.mkdir(parents=True)
    config_path.write_text("[tools.builtin]\nshell = true  # mine\n")
    before = config_path.read_bytes()
    settings = with_value(load_settings(config_path, env={}), "tools", demo_tools())
    app = RtApp(settings, config_path=config_path, session_factory=scripted(), demo=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        screen.query_one("TabbedContent").active = "tab-Tools"
        clock = screen.query_one(ToolsTab).approval_select("get_current_time")
        assert clock is not None
        clock.value = "never"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")
        assert app.settings.tools.approvals == {"get_current_time": "never"}
        assert app.settings.tools.mcp[0].name == "notes"
        applied = [value for call, value in app.session.calls if call == "apply_settings"]  # type: ignore[union-attr]
        assert applied and applied[-1].tools.approvals == {"get_current_time": "never"}
    assert config_path.read_bytes() == before
