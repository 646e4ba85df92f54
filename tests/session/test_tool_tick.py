"""When the session plays the tool tick (tui.session.tool_tick): `[tools] tick` on, a local
call running, nothing audible, the user not speaking. It stops in the same step as the call
ends, the assistant's audio arrives or the user speaks, and a remote MCP call gets none."""

from __future__ import annotations

from typing import Any

from tests.session.helpers import Desk, ScriptedAudio, server_event
from tests.session.test_session import running
from tests.session.test_tools_link import FakeBox, finished, model_calls, response_done
from tests.tools.conftest import stdio_server
from tui.config.tools import Approval, ToolsSettings
from tui.localserver import LocalServer
from tui.tools.updates import CallStarted, Phase


def tick_desk(*, tick: bool = True, **values: Any) -> tuple[Desk, FakeBox]:
    desk, box = Desk(tools=ToolsSettings(tick=tick), **values), FakeBox()
    desk.rooms.tools.toolbox = box
    return desk, box


def start_call(desk: Desk, call_id: str = "call_1") -> None:
    model_calls(desk, call_id)
    response_done(desk, call_id)
    desk.act(desk.rooms.tools.on_update(CallStarted(call_id, "get_current_time", "{}", "")))


def test_off_by_default_no_tick() -> None:
    desk, _ = tick_desk(tick=False)
    start_call(desk)
    assert desk.rooms.tools.running() and not desk.speaker.tick_armed


def test_on_it_ticks_while_the_call_runs_and_stops_as_it_ends() -> None:
    desk, _ = tick_desk()
    model_calls(desk, "call_1")
    assert not desk.speaker.tick_armed  # asked for, not running yet
    response_done(desk, "call_1")
    desk.act(desk.rooms.tools.on_update(CallStarted("call_1", "get_current_time", "{}", "")))
    assert desk.speaker.tick_armed
    desk.act(desk.rooms.tools.on_update(finished("call_1")))  # the same step stops it
    assert not desk.speaker.tick_armed


def test_the_assistant_speaking_stops_it_and_silence_brings_it_back() -> None:
    desk, _ = tick_desk()
    start_call(desk)
    assert desk.speaker.tick_armed
    desk.reply("item_B", response_id="resp_2", ms=200)  # audio arrives: stopped at once
    assert not desk.speaker.tick_armed
    desk.speaker.advance(200)  # it has played out; the ticker's pass sees the silence
    desk.act(desk.rooms.tick())
    assert desk.speaker.tick_armed


def test_the_user_speaking_stops_it() -> None:
    desk, _ = tick_desk(session__turn_detection__interrupt_response=False)  # the call runs on
    start_call(desk)
    desk.receive(server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u"))
    assert desk.rooms.tools.running() and not desk.speaker.tick_armed
    desk.receive(server_event("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u"))
    assert desk.speaker.tick_armed


def test_a_remote_mcp_call_gets_no_tick() -> None:
    desk, _ = tick_desk()
    call = {
        "id": "mcp_1",
        "type": "mcp_call",
        "server_label": "wiki",
        "name": "echo",
        "arguments": "{}",
    }
    desk.receive(server_event("response.created", response={"id": "resp_1"}))
    desk.receive(
        server_event("response.output_item.added", response_id="resp_1", output_index=0, item=call)
    )
    desk.receive(server_event("response.mcp_call.in_progress", item_id="mcp_1", output_index=0))
    assert desk.rooms.tools.running()  # the API's own work runs
    assert not desk.speaker.tick_armed


def test_without_a_speaker_no_tick() -> None:
    desk, _ = tick_desk(audio__enabled=False)
    start_call(desk)
    assert desk.rooms.tools.running()
    assert desk.rooms.link.engine is None  # text only: nothing to tick on
    assert not desk.rooms.tool_tick.wanted()


async def test_a_live_session_ticks_while_an_mcp_tool_works_and_stops_when_cancelled() -> None:
    """The controller's wiring: the real session, tool box and MCP fixture server (whose
    `hang` never answers), the local server making the call when `call fx__hang {}` is typed,
    a scripted speaker that records what the session set."""
    audio: list[ScriptedAudio] = []
    tools = ToolsSettings(mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS}, tick=True)
    async with (
        LocalServer() as server,
        running(server, audio=audio, tools=tools) as (session, changes),
    ):
        await changes.wait_for(
            lambda: (
                session.tool_servers().get("fx") is not None
                and session.tool_servers()["fx"].phase is Phase.READY
            ),
            timeout=30,
            what="the MCP server",
        )
        await changes.wait_for(
            lambda: any(
                t.get("name") == "fx__hang"
                for e in server.sessions[-1].received
                if e["type"] == "session.update"
                for t in e["session"]["tools"]
            ),
            what="the tools offered",
        )
        assert not audio[0].tick_armed
        session.send_text("call fx__hang {}")
        await changes.wait_for(lambda: audio[0].tick_armed, what="the tick to start")
        assert [turn.tool.name for turn in session.tools_running() if turn.tool] == ["fx__hang"]
        session.interrupt()  # cancels the call: the tick stops in the same step
        await changes.wait_for(lambda: not session.tools_running(), what="the call to end")
        assert not audio[0].tick_armed
