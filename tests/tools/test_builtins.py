"""The built-in tools through the ToolBox: the clock, and a shell tool that never runs a
command without a yes and kills everything it started when cancelled or out of time."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.tools.conftest import next_of
from tests.waiting import apoll_until
from tui.config.tools import BuiltinSettings, ToolsSettings
from tui.tools.approvals import Answer
from tui.tools.builtins import run_command
from tui.tools.results import CallStatus
from tui.tools.updates import ApprovalNeeded, ApprovalSettled, CallFinished, CallStarted

FIXED = datetime(2026, 12, 4, 18, 30, 5, tzinfo=UTC)


def shell_box(make_box, tmp_path: Path, **fields):
    settings = ToolsSettings(builtin=BuiltinSettings(shell=True), **fields)
    box = make_box(settings, cwd=tmp_path)
    box.start()
    return box


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_the_clock_tells_the_time_here_and_in_a_named_zone(make_box) -> None:
    box = make_box(ToolsSettings(builtin=BuiltinSettings(clock=True)), now=lambda: FIXED)
    box.start()
    assert [tool["name"] for tool in box.tools()] == ["get_current_time"]
    box.on_function_call("c1", "get_current_time", "{}")
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert not any(isinstance(u, ApprovalNeeded) for u in seen)  # read-only: no ask
    assert (
        finished.item["output"] == "2026-12-04T18:30:05+00:00 (Friday 04 December 2026, 18:30, UTC)"
    )
    box.on_function_call("c2", "get_current_time", '{"timezone": "Asia/Tokyo"}')
    tokyo = await next_of(box, CallFinished)
    assert tokyo.item["output"].startswith("2026-12-05T03:30:05+09:00 (Saturday")
    box.on_function_call("c3", "get_current_time", '{"timezone": "Mars/Olympus"}')
    bad = await next_of(box, CallFinished)
    assert bad.rendered.status is CallStatus.ERROR
    assert "unknown time zone 'Mars/Olympus'" in bad.item["output"]


async def test_builtins_are_off_unless_enabled(make_box) -> None:
    box = make_box(ToolsSettings())
    box.start()
    assert box.tools() == []
    box.on_function_call("c1", "run_shell_command", '{"command": "true"}')
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.INVALID
    assert "There is no tool named 'run_shell_command'" in finished.item["output"]


async def test_a_shell_command_is_shown_in_full_and_not_run_on_no(make_box, tmp_path) -> None:
    box = shell_box(make_box, tmp_path)
    command = f"touch {tmp_path / 'ran'} && echo " + "long " * 40
    box.on_function_call("c1", "run_shell_command", json.dumps({"command": command}))
    ask = (await next_of(box, ApprovalNeeded)).ask
    assert json.loads(ask.arguments) == {"command": command}  # in full
    assert ask.allow_always is False
    box.answer("c1", Answer.NO)
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.DECLINED
    assert finished.item["output"] == (
        "The user declined this call. The call was not run; do not retry it unless the user asks."
    )
    assert not (tmp_path / "ran").exists()


async def test_no_answer_in_time_is_a_no(make_box, tmp_path) -> None:
    box = shell_box(make_box, tmp_path, approval_timeout_s=0.2)
    box.on_function_call("c1", "run_shell_command", json.dumps({"command": "touch ran"}))
    await next_of(box, ApprovalNeeded)
    settled = await next_of(box, ApprovalSettled)
    assert settled.settled.how == "timeout"
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.DECLINED
    assert "No answer to the approval request within 0.2 s" in finished.item["output"]
    assert box.answer("c1", Answer.YES) is False  # too late: nothing waits
    assert not (tmp_path / "ran").exists()


async def test_a_shell_command_runs_after_yes_with_its_output_and_exit_code(
    make_box, tmp_path
) -> None:
    box = shell_box(make_box, tmp_path)
    box.on_function_call(
        "c1", "run_shell_command", json.dumps({"command": "echo out; echo err >&2; exit 3"})
    )
    await next_of(box, ApprovalNeeded)
    box.answer("c1", Answer.ALWAYS)  # not offered for the shell: a yes for this call only
    started = await next_of(box, CallStarted)
    assert started.reason == "you said yes"
    finished = await next_of(box, CallFinished)
    assert finished.item["output"] == "exit code 3\nout\nerr\n"
    assert finished.rendered.summary == "run_shell_command → exit code 3"
    box.on_function_call("c2", "run_shell_command", json.dumps({"command": "pwd"}))
    await next_of(box, ApprovalNeeded)  # asked again
    box.answer("c2", Answer.YES)
    assert (await next_of(box, CallFinished)).item["output"] == f"exit code 0\n{tmp_path}\n"


async def start_sleeper(box, tmp_path: Path, call_id: str) -> int:
    pid_file = tmp_path / f"{call_id}.pid"
    command = f"sleep 60 & echo $! > {pid_file}; wait"
    box.on_function_call(call_id, "run_shell_command", json.dumps({"command": command}))
    await next_of(box, ApprovalNeeded)
    box.answer(call_id, Answer.YES)
    await next_of(box, CallStarted)
    await apoll_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 10, "pid")
    pid = int(pid_file.read_text())
    assert alive(pid)
    return pid


async def test_cancelling_a_shell_command_kills_its_whole_process_group(make_box, tmp_path) -> None:
    box = shell_box(make_box, tmp_path)
    child = await start_sleeper(box, tmp_path, "c1")
    assert box.cancel_running() == ["c1"]
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.CANCELLED
    await apoll_until(lambda: not alive(child), 5, f"the child {child} to be gone")


async def test_a_shell_command_out_of_time_is_killed(make_box, tmp_path) -> None:
    box = shell_box(make_box, tmp_path, call_timeout_s=1.0)
    child = await start_sleeper(box, tmp_path, "c1")
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.TIMED_OUT
    await apoll_until(lambda: not alive(child), 5, f"the child {child} to be gone")


async def test_invalid_shell_arguments_are_an_output_and_nothing_is_asked(
    make_box, tmp_path
) -> None:
    box = shell_box(make_box, tmp_path)
    for call_id, raw in [("c1", "{"), ("c2", "{}"), ("c3", '{"command": ""}')]:
        box.on_function_call(call_id, "run_shell_command", raw)
        seen: list = []
        finished = await next_of(box, CallFinished, seen=seen)
        assert finished.call_id == call_id
        assert finished.rendered.status is CallStatus.INVALID
        assert finished.item["output"].endswith("Nothing was run.")
        assert not any(isinstance(u, ApprovalNeeded) for u in seen)


def processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if token.encode() in argv and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5, 8])
async def test_a_command_cancelled_at_any_point_of_its_start_leaves_nothing_running(
    turns: int,
) -> None:
    token = f"60.{turns}{os.getpid()}"  # a sleep argument no other process has
    task = asyncio.create_task(run_command(f"sleep {token} & sleep {token}; wait"))
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):  # asyncio alone waits for the command to end
            await task
    await apoll_until(lambda: not processes_with(token), 5, f"no 'sleep {token}' left")
