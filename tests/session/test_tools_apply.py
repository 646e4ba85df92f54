"""Edited [tools] reach a running session (the settings panel's Tools tab): a session started
without tools gets them, a changed approval rules the next call, and each change of the tools
offered goes to the server in a `session.update` valid for the SDK."""

from __future__ import annotations

from tests.oracle import check_client_event
from tests.session.test_session import finished, live, received, running
from tui.changes import Role, ToolState
from tui.config import with_value
from tui.config.tools import Approval, BuiltinSettings, ToolsSettings
from tui.localserver import LocalServer


def tool_names(update: dict) -> list[str]:  # type: ignore[type-arg]
    return [tool["name"] for tool in update["session"].get("tools", [])]


async def test_tools_turned_on_changed_and_off_in_a_live_session() -> None:
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        assert "tools" not in received(server, "session.update")[0]["session"]

        clock = ToolsSettings(builtin=BuiltinSettings(clock=True))
        notes = session.apply_settings(with_value(session.settings, "tools", clock))
        assert notes == ["Tools turned on."]
        await rec.wait_for(
            lambda: tool_names(received(server, "session.update")[-1]) == ["get_current_time"],
            what="a session.update with the clock",
        )

        never = ToolsSettings(
            builtin=BuiltinSettings(clock=True, shell=True),
            approvals={"get_current_time": Approval.NEVER},
        )
        session.apply_settings(with_value(session.settings, "tools", never))
        await rec.wait_for(
            lambda: "run_shell_command" in tool_names(received(server, "session.update")[-1]),
            what="a session.update with the shell",
        )
        session.send_text("call get_current_time {}")
        [call] = await rec.wait_for(finished(rec, Role.TOOL), what="the call's end")
        assert call.tool.state is ToolState.DECLINED  # the new approval, with no restart

        session.apply_settings(with_value(session.settings, "tools", ToolsSettings(enabled=False)))
        await rec.wait_for(
            lambda: received(server, "session.update")[-1]["session"].get("tools") == [],
            what="a session.update clearing the tools",
        )
    for event in server.sessions[0].received:
        check_client_event(event)
