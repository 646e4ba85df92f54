"""A remote MCP approval as Pilot tests: the real app, session and tool box against the
local server's emulated remote MCP server (tui.localserver.remotemcp).

The user types `mcp wiki echo {...}`; the server's response holds an `mcp_approval_request`
item; the app asks (the approval modal) and the user answers y or n. What the client sends
back (an `mcp_approval_response` and one `response.create`) is read off the server's
record and checked against the SDK models; what the server did with it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.oracle import check_client_event
from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import ToolState
from tui.config.tools import RemoteMcpSettings, ToolsSettings
from tui.localserver import LocalServer
from tui.screens.approval import ApprovalScreen
from tui.widgets.tool_line import ToolTurnView

SIZE = (100, 32)
ASK = 'mcp wiki echo {"text": "hi"}'


def remote_app(server: LocalServer, config_path: Path) -> RtApp:
    settings = live_settings(server.url)
    settings.tools = ToolsSettings(
        remote=[RemoteMcpSettings(name="wiki", url="https://mcp.example.com/mcp")]
    )
    return RtApp(
        settings, config_path=config_path, api_key="sk-test-ui-0123456789", audio_enabled=False
    )


def answers(server: LocalServer) -> list[dict[str, Any]]:
    """What the client sent after the request: its approval answers and follow-up replies."""
    received = server.sessions[-1].received
    start = next(
        (i for i, e in enumerate(received) if e.get("item", {}).get("type") == "message"), 0
    )
    return [
        event
        for event in received[start + 2 :]  # after the typed message and its response.create
        if event["type"] == "response.create"
        or event.get("item", {}).get("type") == "mcp_approval_response"
    ]


def views(app: RtApp) -> list[ToolTurnView]:
    return list(app.conversation_log.query(ToolTurnView))


async def ask_in_app(app: RtApp, server: LocalServer, pilot: Any) -> ApprovalScreen:
    await wait_until(lambda: app.session is not None and app.session.state == "live", pilot)
    await wait_until(lambda: server.sessions[-1].config.get("tools"), pilot, what="the tools")
    await pilot.press(*ASK, "enter")
    await wait_until(lambda: isinstance(app.screen, ApprovalScreen), pilot, what="the question")
    assert isinstance(app.screen, ApprovalScreen)
    return app.screen


async def test_yes_approves_and_the_remote_call_runs_then_its_reply(
    server: LocalServer, config_path: Path
) -> None:
    app = remote_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ask_in_app(app, server, pilot)
        [request] = server.sessions[-1].approvals
        assert screen.ask.ask_id == request.id and "wiki" in screen.ask.origin
        [waiting] = views(app)
        assert waiting.turn.tool is not None and waiting.turn.tool.state is ToolState.WAITING
        await pilot.press("y")
        await wait_until(lambda: len(answers(server)) == 2, pilot, what="answer and reply")
        answer, reply = answers(server)
        assert answer["item"]["approval_request_id"] == request.id
        assert answer["item"]["approve"] is True and reply["type"] == "response.create"
        await wait_until(lambda: server.sessions[-1].mcp_calls, pilot, what="the call to run")
        [ran] = server.sessions[-1].mcp_calls
        assert (ran.name, ran.output, ran.approval_request_id) == ("echo", "hi", request.id)
        # the approval line says done; the call the server ran gets its own line, done
        await wait_until(lambda: len(views(app)) == 2, pilot, what="the call's line")
        await wait_until(
            lambda: all(v.turn.tool and v.turn.tool.state is ToolState.DONE for v in views(app)),
            pilot,
            what="both lines done",
        )
        assert views(app)[1].turn.tool.name == "wiki__echo"
        assert "hi" in str(views(app)[1].render())
        assert not isinstance(app.screen, ApprovalScreen)
    for event in server.sessions[-1].received:
        check_client_event(event)


async def test_no_declines_nothing_runs_and_the_model_says_so(
    server: LocalServer, config_path: Path
) -> None:
    app = remote_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await ask_in_app(app, server, pilot)
        await pilot.press("n")
        await wait_until(lambda: len(answers(server)) == 2, pilot, what="answer and reply")
        answer, reply = answers(server)
        assert answer["item"]["approve"] is False and reply["type"] == "response.create"
        [view] = views(app)
        await wait_until(
            lambda: view.turn.tool.state is ToolState.DECLINED, pilot, what="declined line"
        )
        await wait_until(
            lambda: any("was declined" in turn.text for turn in app.session.conversation.turns),
            pilot,
            what="the declined reply",
        )
        assert server.sessions[-1].mcp_calls == []
        assert server.sessions[-1].approvals[0].approve is False
    for event in server.sessions[-1].received:
        check_client_event(event)
