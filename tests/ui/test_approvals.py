"""Approvals as Pilot tests: the real app, session and tool box against the local server.

The model's function call is sent by the local server (`Faults.inject`, frames valid GA
events); the clock built-in is set to `ask`, so every call waits for the modal's y / n / a,
or for the timeout, which is a no. What the client answers is read off the server's record
and checked against the SDK models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.oracle import check_client_event
from tests.tools.frames import function_call_frames
from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import ToolState
from tui.config.tools import Approval, BuiltinSettings, ToolsSettings
from tui.localserver import Inject, LocalServer
from tui.screens.approval import ApprovalScreen
from tui.widgets.tool_line import ToolTurnView

SIZE = (100, 32)
CLOCK = "get_current_time"


def tool_app(server: LocalServer, config_path: Path, *, timeout_s: float = 60.0) -> RtApp:
    settings = live_settings(server.url)
    settings.tools = ToolsSettings(
        builtin=BuiltinSettings(clock=True),
        approvals={CLOCK: Approval.ASK},
        approval_timeout_s=timeout_s,
    )
    return RtApp(
        settings, config_path=config_path, api_key="sk-test-ui-0123456789", audio_enabled=False
    )


def call_at_start(server: LocalServer, *call_ids: str) -> None:
    """The model calls the clock once the session is configured (one call per cue)."""
    frames = [frame for call_id in call_ids for frame in function_call_frames(call_id, CLOCK, {})]
    server.faults.inject = [Inject(frames, at="session.updated")]


def answers(server: LocalServer) -> list[dict[str, Any]]:
    """What the client sent after the call: its outputs and its follow-up replies."""
    return [
        event
        for event in server.sessions[-1].received
        if event["type"] == "response.create"
        or event.get("item", {}).get("type") == "function_call_output"
    ]


async def ask_shown(app: RtApp, pilot: Any) -> ApprovalScreen:
    await wait_until(lambda: isinstance(app.screen, ApprovalScreen), pilot, what="the question")
    assert isinstance(app.screen, ApprovalScreen)
    return app.screen


def tool_view(app: RtApp) -> ToolTurnView:
    [view] = list(app.conversation_log.query(ToolTurnView))
    return view


async def test_yes_runs_the_call_and_the_model_gets_its_output_then_one_reply(
    server: LocalServer, config_path: Path
) -> None:
    call_at_start(server, "call_yes")
    app = tool_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ask_shown(app, pilot)
        assert screen.ask.tool == CLOCK and screen.ask.origin
        assert tool_view(app).turn.tool.state is ToolState.WAITING
        await pilot.press("y")
        await wait_until(lambda: len(answers(server)) == 2, pilot, what="output and reply")
        output, reply = answers(server)
        assert output["item"]["call_id"] == "call_yes" and reply["type"] == "response.create"
        assert "UTC" in output["item"]["output"]  # the clock's answer, not a refusal
        await wait_until(
            lambda: tool_view(app).turn.tool.state is ToolState.DONE, pilot, what="done line"
        )
        assert not isinstance(app.screen, ApprovalScreen)
        view = tool_view(app)
        assert "done" in str(view.render())
        view.focus()
        await pilot.press("enter")  # expands to the whole result
        assert view.expanded
    for event in server.sessions[-1].received:
        check_client_event(event)


async def test_no_declines_and_the_model_is_told_so(server: LocalServer, config_path: Path) -> None:
    call_at_start(server, "call_no")
    app = tool_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await ask_shown(app, pilot)
        await pilot.press("n")
        await wait_until(lambda: len(answers(server)) == 2, pilot, what="the declined output")
        assert "declined" in answers(server)[0]["item"]["output"]
        await wait_until(
            lambda: tool_view(app).turn.tool.state is ToolState.DECLINED, pilot, what="declined"
        )


async def test_escape_is_a_no(server: LocalServer, config_path: Path) -> None:
    call_at_start(server, "call_esc")
    app = tool_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await ask_shown(app, pilot)
        await pilot.press("escape")
        await wait_until(lambda: answers(server), pilot, what="the declined output")
        assert "declined" in answers(server)[0]["item"]["output"]


async def test_always_answers_this_call_and_the_next_without_asking(
    server: LocalServer, config_path: Path
) -> None:
    first = function_call_frames("call_a1", CLOCK, {})
    second = function_call_frames("call_a2", CLOCK, {})
    # the second call comes with the reply to the first call's output
    server.faults.inject = [Inject(first, at="session.updated"), Inject(second, at="response.done")]
    app = tool_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await ask_shown(app, pilot)
        await pilot.press("a")
        await wait_until(
            lambda: len([e for e in answers(server) if "item" in e]) == 2,
            pilot,
            what="both outputs",
        )
        outputs = [e["item"] for e in answers(server) if "item" in e]
        assert [o["call_id"] for o in outputs] == ["call_a1", "call_a2"]
        assert all("declined" not in o["output"] for o in outputs)
        assert not isinstance(app.screen, ApprovalScreen)  # the second was never asked


async def test_no_answer_in_time_is_a_no_and_the_question_closes(
    server: LocalServer, config_path: Path
) -> None:
    call_at_start(server, "call_late")
    app = tool_app(server, config_path, timeout_s=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await ask_shown(app, pilot)
        await wait_until(
            lambda: not isinstance(app.screen, ApprovalScreen), pilot, what="the question to close"
        )
        await wait_until(lambda: answers(server), pilot, what="the timed-out output")
        assert "No answer" in answers(server)[0]["item"]["output"]
        await pilot.press("y")  # too late: nothing happens, nothing runs
        assert tool_view(app).turn.tool.state is ToolState.DECLINED


async def test_the_question_is_answered_while_the_assistant_speaks(config_path: Path) -> None:
    """The reply to a typed message is still arriving (audio deltas on a slow server) when the
    call comes; the modal takes the key, the session keeps receiving the reply."""
    async with LocalServer(realtime_factor=1.0) as server:
        frames = function_call_frames("call_spk", CLOCK, {})
        server.faults.inject = [Inject(frames, at="delta", deltas=2)]
        app = tool_app(server, config_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(lambda: app.session is not None and app.session.state == "live", pilot)
            await pilot.press(*"hello there, tell me something long", "enter")
            await ask_shown(app, pilot)
            session = server.sessions[-1]
            before = sum(1 for e in session.sent if e["type"] == "response.output_audio.delta")
            await pilot.press("y")
            outputs = lambda: [e["item"] for e in answers(server) if "item" in e]  # noqa: E731
            await wait_until(outputs, pilot, what="the output")
            await wait_until(
                lambda: (
                    sum(1 for e in session.sent if e["type"] == "response.output_audio.delta")
                    > before
                ),
                pilot,
                what="the reply to go on streaming",
            )
            assert outputs()[0]["call_id"] == "call_spk"
            assert "UTC" in outputs()[0]["output"]
