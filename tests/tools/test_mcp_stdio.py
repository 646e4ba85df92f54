"""A local MCP server over stdio, through the ToolBox: start, list, call, results, stderr."""

from __future__ import annotations

import json

import pytest

from tests.tools.conftest import next_of, stdio_server
from tui.config.tools import Approval, ToolsSettings
from tui.tools.approvals import Answer
from tui.tools.results import CallStatus
from tui.tools.updates import (
    ApprovalNeeded,
    CallFinished,
    CallStarted,
    Phase,
    ServerChanged,
    ToolsChanged,
)

from .mcp_fixture_server import STDERR_MARKER


async def ready_box(make_box, **settings_fields):
    settings = ToolsSettings(mcp=[stdio_server()], **settings_fields)
    box = make_box(settings)
    box.start()
    await next_of(box, ServerChanged, lambda u: u.state.phase is Phase.READY)
    return box


async def test_a_stdio_server_starts_and_its_tools_become_function_tools(make_box) -> None:
    box = make_box(ToolsSettings(mcp=[stdio_server()]))
    box.start()
    seen: list = []
    changed = await next_of(box, ToolsChanged, seen=seen)
    states = [u.state for u in seen if isinstance(u, ServerChanged)]
    assert [s.phase for s in states] == [Phase.STARTING, Phase.READY]
    assert states[-1].tools == 8
    assert states[-1].describe() == "fx: ready, 8 tools"
    names = {tool["name"] for tool in changed.tools}
    assert {"fx__echo", "fx__add_item", "fx__crash", "fx__hang", "fx__big"} <= names
    echo = next(tool for tool in changed.tools if tool["name"] == "fx__echo")
    assert echo["type"] == "function"
    assert echo["description"] == "Echo the text back."
    assert echo["parameters"]["required"] == ["text"]
    assert echo["parameters"]["properties"]["text"]["type"] == "string"
    assert box.tools() == list(changed.tools)


async def test_a_read_only_tool_runs_without_asking_and_returns_its_text(make_box) -> None:
    box = await ready_box(make_box)
    box.on_function_call("call_1", "fx__echo", json.dumps({"text": "hello"}))
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert not any(isinstance(u, ApprovalNeeded) for u in seen)
    started = next(u for u in seen if isinstance(u, CallStarted))
    assert started.reason == "the server marks it read-only"
    assert finished.rendered.status is CallStatus.OK
    assert finished.item == {"type": "function_call_output", "call_id": "call_1", "output": "hello"}
    assert finished.rendered.summary == "fx__echo → hello"


async def test_a_writing_tool_asks_and_runs_after_yes(make_box) -> None:
    box = await ready_box(make_box)
    box.on_function_call("call_2", "fx__add_item", '{"text": "milk", "count": 2}')
    ask = (await next_of(box, ApprovalNeeded)).ask
    assert ask.tool == "fx__add_item"
    assert ask.origin == "MCP server fx"
    assert json.loads(ask.arguments) == {"text": "milk", "count": 2}
    assert box.answer(ask.ask_id, Answer.YES)
    finished = await next_of(box, CallFinished)
    assert finished.item["output"] == "added milk x2"


async def test_a_user_ask_setting_beats_the_read_only_hint(make_box) -> None:
    box = await ready_box(make_box, approvals={"fx__echo": Approval.ASK})
    box.on_function_call("call_3", "fx__echo", '{"text": "hi"}')
    ask = (await next_of(box, ApprovalNeeded)).ask
    box.answer(ask.ask_id, Answer.NO)
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.DECLINED
    assert "declined" in finished.item["output"]


async def test_a_tool_error_is_sent_back_as_an_error_output(make_box) -> None:
    box = await ready_box(make_box, approvals={"fx__*": Approval.ALWAYS})
    box.on_function_call("call_4", "fx__fail", "{}")
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.ERROR
    assert finished.item["output"].startswith("The tool reported an error: ")
    assert "broken on purpose" in finished.item["output"]


async def test_an_unknown_tool_of_a_ready_server_gets_an_output_naming_the_tools(
    make_box,
) -> None:
    box = await ready_box(make_box)
    box.on_function_call("call_4", "fx__nope", "{}")
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.INVALID
    assert "There is no tool named 'fx__nope'" in finished.item["output"]
    assert "fx__echo" in finished.item["output"]


async def test_a_1_mb_result_is_cut_for_the_model_with_a_note(make_box) -> None:
    box = await ready_box(make_box, approvals={"fx__big": Approval.ALWAYS})
    box.on_function_call("call_5", "fx__big", '{"size": 1000000}')
    finished = await next_of(box, CallFinished)
    output = finished.item["output"]
    assert len(output.encode()) <= 16 * 1024
    assert output.startswith("xxxx")
    assert output.endswith("[cut: the result was 976.6 KiB; only the first 15.9 KiB are shown]")
    assert len(finished.rendered.full_text) == 1_000_000
    assert finished.rendered.summary.endswith("(976.6 KiB)")


async def test_the_server_stderr_goes_to_its_log_file_not_the_terminal(
    make_box, tmp_path, capfd: pytest.CaptureFixture[str]
) -> None:
    await ready_box(make_box)
    log = (tmp_path / "logs" / "fx.log").read_text()
    assert STDERR_MARKER in log
    assert "== rt-tui: starting 'fx' (attempt 1)" in log
    captured = capfd.readouterr()
    assert STDERR_MARKER not in captured.err + captured.out


async def test_arguments_that_miss_a_field_are_an_output_and_reach_no_server(make_box) -> None:
    box = await ready_box(make_box, approvals={"fx__*": Approval.ALWAYS})
    box.on_function_call("call_6", "fx__add_item", '{"count": "two"}')
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert not any(isinstance(u, CallStarted) for u in seen)
    assert finished.rendered.status is CallStatus.INVALID
    assert finished.item["output"] == (
        "The arguments for fx__add_item do not match its parameters: 'text' is a required "
        "property; at 'count': 'two' is not of type 'integer'. Call it again with arguments "
        "that match its schema. Nothing was run."
    )
