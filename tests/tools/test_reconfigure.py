"""Editing [tools] while the box runs (the settings panel's Tools tab): approvals and built-ins
change at once, an unchanged server keeps its process, a changed one restarts, a disabled one
stops and its tools leave the list the session sends."""

from __future__ import annotations

import dataclasses
import os

from tests.tools.conftest import next_of, stdio_server
from tui.config.tools import Approval, BuiltinSettings, ToolsSettings
from tui.tools.approvals import Answer, Approvals, ToolFacts
from tui.tools.results import CallStatus
from tui.tools.updates import (
    ApprovalNeeded,
    CallFinished,
    Phase,
    ServerChanged,
    ServerState,
    ToolsChanged,
)


def ready(name: str):  # type: ignore[no-untyped-def]
    return lambda update: update.state.name == name and update.state.phase is Phase.READY


async def pid_of(box, server: str, call_id: str) -> int:  # type: ignore[no-untyped-def]
    box.on_function_call(call_id, f"{server}__pid", "{}")
    finished = await next_of(box, CallFinished, lambda u: u.call_id == call_id)
    assert finished.rendered.status is CallStatus.OK, finished.rendered
    return int(finished.item["output"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_built_ins_and_approvals_change_without_a_restart(make_box, tmp_path) -> None:
    box = make_box(ToolsSettings(builtin=BuiltinSettings(clock=True)), cwd=tmp_path)
    box.start()
    box.on_function_call("c1", "get_current_time", "{}")
    assert (await next_of(box, CallFinished)).rendered.status is CallStatus.OK

    box.reconfigure(
        ToolsSettings(
            builtin=BuiltinSettings(clock=True, shell=True),
            approvals={"get_current_time": Approval.NEVER},
        )
    )
    changed = await next_of(box, ToolsChanged)
    assert [tool["name"] for tool in changed.tools] == ["get_current_time", "run_shell_command"]
    box.on_function_call("c2", "get_current_time", "{}")
    seen: list = []
    declined = await next_of(box, CallFinished, seen=seen)
    assert declined.rendered.status is CallStatus.DECLINED
    assert not any(isinstance(update, ApprovalNeeded) for update in seen)

    box.reconfigure(ToolsSettings(enabled=False, builtin=BuiltinSettings(clock=True)))
    assert (await next_of(box, ToolsChanged)).tools == ()
    assert box.tools() == []


async def test_an_unchanged_server_keeps_running_a_changed_one_restarts(make_box) -> None:
    first, second = stdio_server("one"), stdio_server("two")
    settings = ToolsSettings(mcp=[first, second], approvals={"*__pid": Approval.ALWAYS})
    box = make_box(settings)
    box.start()
    await next_of(
        box, ServerChanged, lambda u: u.state.phase is Phase.READY and u.state.name == "one"
    )
    if box.server_states()["two"].phase is not Phase.READY:
        await next_of(box, ServerChanged, ready("two"))
    one_pid, two_pid = await pid_of(box, "one", "p1"), await pid_of(box, "two", "p2")

    changed_two = dataclasses.replace(second, args=[*second.args, "--mode", "normal"])
    box.reconfigure(dataclasses.replace(settings, mcp=[first, changed_two]))
    await next_of(box, ServerChanged, ready("two"))
    assert await pid_of(box, "one", "p3") == one_pid  # the same process, still serving
    assert await pid_of(box, "two", "p4") != two_pid
    assert not alive(two_pid)

    disabled = dataclasses.replace(first, enabled=False)
    box.reconfigure(dataclasses.replace(settings, mcp=[disabled, changed_two]))
    changed = await next_of(
        box, ToolsChanged, lambda u: not any("one__" in t["name"] for t in u.tools)
    )
    assert any(tool["name"] == "two__echo" for tool in changed.tools)
    assert list(box.server_states()) == ["two"]
    box.on_function_call("p5", "one__pid", "{}")
    gone = await next_of(box, CallFinished, lambda u: u.call_id == "p5")
    assert gone.rendered.status is CallStatus.INVALID  # never reaches a stopped server


async def test_a_server_added_to_a_box_without_servers_starts(make_box, tmp_path) -> None:
    box = make_box(ToolsSettings(builtin=BuiltinSettings(clock=True)), cwd=tmp_path)
    box.start()
    box.reconfigure(ToolsSettings(builtin=BuiltinSettings(clock=True), mcp=[stdio_server()]))
    state = (await next_of(box, ServerChanged, ready("fx"))).state
    assert state.tools == 8 and "fx__echo" in state.tool_names
    changed = await next_of(box, ToolsChanged)
    assert {"get_current_time", "fx__echo"} <= {tool["name"] for tool in changed.tools}


def test_a_changed_setting_ends_an_always_for_this_session() -> None:
    approvals = Approvals({}, timeout_s=60)
    notes, clock = ToolFacts("notes__add_note"), ToolFacts("get_current_time")
    for ask_id, tool in (("a", notes), ("b", clock)):
        approvals.decide(ask_id, tool, "{}", now=0)
        approvals.answer(ask_id, Answer.ALWAYS, now=1)
    approvals.set_policies({"notes__add_note": Approval.ASK}, timeout_s=60)
    assert approvals.policy(notes)[0] is Approval.ASK  # the newer word wins
    assert approvals.policy(clock) == (Approval.ALWAYS, "you said always for this session")


def test_a_retry_counts_down() -> None:
    state = ServerState("fx", Phase.RETRYING, reason="exit 1", retry_in_s=4.0)
    assert state.describe().startswith("fx: retrying in 4 s")
    assert state.describe(waited_s=2.5).startswith("fx: retrying in 2 s")
    assert state.describe(waited_s=9).startswith("fx: retrying in 0 s")
