"""The ToolBox flows the session relies on: every call ends in exactly one output, approvals
are asked with secrets masked, remote MCP approval requests are answered, closing answers
what is still open. Built-in tools keep these fast (no server process)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.oracle import check_client_event
from tests.tools.conftest import next_of
from tui.config.tools import (
    Approval,
    BuiltinSettings,
    McpServerSettings,
    RemoteMcpSettings,
    ToolsSettings,
)
from tui.tools.approvals import Answer
from tui.tools.results import CallStatus
from tui.tools.updates import (
    ApprovalNeeded,
    ApprovalSettled,
    CallFinished,
    CallStarted,
    McpApprovalAnswered,
)

SHELL = BuiltinSettings(shell=True)


def box_with(make_box, tmp_path, **fields):
    box = make_box(ToolsSettings(**fields), cwd=tmp_path, secrets=["sk-test-0123456789"])
    box.start()
    return box


async def test_an_ask_masks_secret_keys_and_secret_values(make_box, tmp_path) -> None:
    box = box_with(make_box, tmp_path, builtin=SHELL)
    command = "curl -H 'Authorization: sk-test-0123456789' https://example.com"
    box.on_function_call("c1", "run_shell_command", json.dumps({"command": command}))
    ask = (await next_of(box, ApprovalNeeded)).ask
    assert "sk-test" not in ask.arguments
    assert "Authorization: ***" in ask.arguments
    box.answer("c1", Answer.NO)
    finished = await next_of(box, CallFinished)
    assert "sk-test" not in repr(finished)


async def test_demo_placeholder_keys_do_not_mask_a_result(make_box, tmp_path) -> None:
    """--demo hands the tool box its bearer token "demo" (and a loopback one "local") as
    the API key: a tool's words "demo" and "local" reach the log and the model as said."""
    box = make_box(
        ToolsSettings(builtin=BuiltinSettings(clock=True)),
        cwd=tmp_path,
        secrets=["demo", "local", "sk-test-0123456789"],
    )
    box.start()
    zone = "demo/local time sk-test-0123456789"
    box.on_function_call("c1", "get_current_time", json.dumps({"timezone": zone}))
    finished = await next_of(box, CallFinished)
    assert "unknown time zone 'demo/local time ***'" in finished.rendered.output
    assert "demo/local time ***" in finished.rendered.summary
    assert "sk-test" not in repr(finished)


async def test_a_never_setting_declines_without_asking(make_box, tmp_path) -> None:
    box = box_with(
        make_box, tmp_path, builtin=SHELL, approvals={"run_shell_command": Approval.NEVER}
    )
    box.on_function_call("c1", "run_shell_command", '{"command": "touch x"}')
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert not any(isinstance(u, ApprovalNeeded) for u in seen)
    assert finished.rendered.status is CallStatus.DECLINED
    assert finished.item["output"].startswith(
        "The user's settings do not allow run_shell_command (your setting for "
        "'run_shell_command' says never)."
    )
    assert not (tmp_path / "x").exists()


async def test_always_for_this_session_is_remembered_by_the_box(make_box, tmp_path) -> None:
    box = box_with(
        make_box,
        tmp_path,
        builtin=BuiltinSettings(clock=True),
        approvals={"get_current_time": Approval.ASK},
    )
    box.on_function_call("c1", "get_current_time", "{}")
    await next_of(box, ApprovalNeeded)
    box.answer("c1", Answer.ALWAYS)
    await next_of(box, CallFinished)
    box.on_function_call("c2", "get_current_time", "{}")
    seen: list = []
    await next_of(box, CallFinished, seen=seen)
    assert not any(isinstance(u, ApprovalNeeded) for u in seen)
    started = next(u for u in seen if isinstance(u, CallStarted))
    assert started.reason == "you said always for this session"


async def test_the_same_call_id_twice_runs_once(make_box, tmp_path) -> None:
    box = box_with(make_box, tmp_path, builtin=BuiltinSettings(clock=True))
    box.on_function_call("c1", "get_current_time", "{}")
    box.on_function_call("c1", "get_current_time", "{}")
    await next_of(box, CallFinished)
    box.on_function_call("c2", "get_current_time", "{}")
    assert (await next_of(box, CallFinished)).call_id == "c2"  # no second c1 came between


async def test_cancelling_a_call_waiting_for_approval_closes_the_ask(make_box, tmp_path) -> None:
    box = box_with(make_box, tmp_path, builtin=SHELL)
    box.on_function_call("c1", "run_shell_command", '{"command": "true"}')
    await next_of(box, ApprovalNeeded)
    assert box.cancel_running() == []  # barge-in leaves an open question alone
    assert box.cancel("c1")
    settled = await next_of(box, ApprovalSettled)
    assert settled.settled.how == "cancelled"
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.CANCELLED
    assert box.pending_asks == ()
    assert not box.cancel("c1")


async def test_closing_the_box_still_answers_every_open_call(make_box, tmp_path) -> None:
    box = box_with(make_box, tmp_path, builtin=SHELL)
    box.on_function_call("c1", "run_shell_command", '{"command": "true"}')
    await next_of(box, ApprovalNeeded)
    await box.aclose()
    outputs = [u for u in box.pending_updates() if isinstance(u, CallFinished)]
    assert [(u.call_id, u.rendered.status) for u in outputs] == [("c1", CallStatus.CANCELLED)]
    box.on_function_call("c2", "run_shell_command", '{"command": "true"}')  # closed: ignored
    assert box.pending_updates() == []


async def test_a_remote_approval_request_is_asked_and_answered(make_box, tmp_path) -> None:
    remote = RemoteMcpSettings(name="dw", url="https://mcp.deepwiki.com/mcp")
    box = box_with(make_box, tmp_path, remote=[remote])
    assert box.tools()[0]["type"] == "mcp"
    box.on_mcp_approval_request("mcpr_1", "dw", "ask_question", '{"question": "why?"}')
    ask = (await next_of(box, ApprovalNeeded)).ask
    assert (ask.ask_id, ask.tool, ask.origin) == (
        "mcpr_1",
        "dw__ask_question",
        "remote MCP server dw",
    )
    assert json.loads(ask.arguments) == {"question": "why?"}
    box.answer("mcpr_1", Answer.YES)
    answered = await next_of(box, McpApprovalAnswered)
    assert answered.approve is True
    assert answered.item["approval_request_id"] == "mcpr_1" and answered.item["approve"] is True
    check_client_event({"type": "conversation.item.create", "item": answered.item})


async def test_remote_approvals_follow_the_settings_and_fail_closed(make_box, tmp_path) -> None:
    box = box_with(
        make_box,
        tmp_path,
        approvals={"dw__ask_question": Approval.NEVER, "dw__read": Approval.ALWAYS},
        approval_timeout_s=0.2,
    )
    box.on_mcp_approval_request("r1", "dw", "ask_question", "{}")
    never = await next_of(box, McpApprovalAnswered)
    assert never.item["approve"] is False
    assert never.item["reason"] == "not allowed by the user's settings"
    box.on_mcp_approval_request("r2", "dw", "read", "not json {")
    assert (await next_of(box, McpApprovalAnswered)).item["approve"] is True
    box.on_mcp_approval_request("r3", "dw", "write", "{}")
    await next_of(box, ApprovalNeeded)
    late = await next_of(box, McpApprovalAnswered)
    assert (late.item["approve"], late.item["reason"]) == (False, "no answer in time")
    check_client_event({"type": "conversation.item.create", "item": late.item})


async def test_with_tools_disabled_nothing_is_offered_or_started(make_box, tmp_path) -> None:
    box = box_with(
        make_box,
        tmp_path,
        enabled=False,
        builtin=BuiltinSettings(clock=True, shell=True),
        mcp=[McpServerSettings(name="x", command="false")],
        remote=[RemoteMcpSettings(name="dw", url="https://mcp.deepwiki.com/mcp")],
    )
    assert box.tools() == []
    assert box.server_states() == {}


def test_importing_the_settings_and_the_box_loads_neither_the_sdk_nor_jsonschema() -> None:
    code = (
        "import sys, tui.config.tools, tui.tools.toolbox; "
        "print(sorted(m for m in ('mcp', 'jsonschema', 'httpx2', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
