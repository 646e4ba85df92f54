"""Servers that crash, hang or never start: shown per server, retried with growing delays,
and never in the way of the conversation or of other servers. The backoff's sleep and the
clock are injected, so no test waits out a delay."""

from __future__ import annotations

import asyncio
import os

from tests.tools.conftest import NEXT_OF_TIMEOUT_S, next_of, stdio_server
from tui.config.tools import Approval, BuiltinSettings, McpServerSettings, ToolsSettings
from tui.tools.results import CallStatus
from tui.tools.updates import CallFinished, CallStarted, Phase, ServerChanged, ToolsChanged


class FakeTime:
    """A clock the test moves, and a sleep that records the delay and returns at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        await asyncio.sleep(0)


def phase(name: str, wanted: Phase):
    return lambda u: u.state.name == name and u.state.phase is wanted


async def test_a_server_that_crashes_at_start_is_retried_with_growing_delays(make_box) -> None:
    time = FakeTime()
    box = make_box(
        ToolsSettings(mcp=[stdio_server("bad", mode="crash_at_start")]),
        clock=time.clock,
        sleep=time.sleep,
    )
    box.start()
    seen: list = []
    for _ in range(4):
        await next_of(box, ServerChanged, phase("bad", Phase.RETRYING), seen=seen)
    states = [u.state for u in seen if isinstance(u, ServerChanged)]
    retrying = [s for s in states if s.phase is Phase.RETRYING]
    assert [s.retry_in_s for s in retrying] == [1.0, 2.0, 4.0, 8.0]
    assert [s.attempt for s in retrying] == [1, 2, 3, 4]
    assert [s.phase for s in states[:3]] == [Phase.STARTING, Phase.FAILED, Phase.RETRYING]
    failed = states[1]
    assert "closed the connection" in failed.reason
    assert failed.describe().startswith("bad: failed: ")
    assert retrying[1].describe().startswith("bad: retrying in 2 s (failed: ")
    assert time.slept[:3] == [1.0, 2.0, 4.0]  # the 4th sleep starts after its update
    assert box.tools() == []


async def test_a_crash_mid_call_answers_the_call_and_the_server_comes_back(make_box) -> None:
    time = FakeTime()
    box = make_box(
        ToolsSettings(mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS}),
        clock=time.clock,
        sleep=time.sleep,
    )
    box.start()
    await next_of(box, ServerChanged, phase("fx", Phase.READY))
    time.now += 5  # up for less than STABLE_S: the delays keep growing
    box.on_function_call("call_c", "fx__crash", "{}")
    seen: list = []
    finished = await next_of(box, CallFinished, seen=seen)
    assert finished.rendered.status is CallStatus.FAILED
    assert finished.item["output"] == (
        "The call failed: the MCP server closed the connection during the call. "
        "Its result is unknown."
    )
    gone = await next_of(box, ToolsChanged, lambda u: u.tools == (), seen=seen)
    assert gone.tools == ()
    retrying = await next_of(box, ServerChanged, phase("fx", Phase.RETRYING), seen=seen)
    assert retrying.state.retry_in_s == 1.0
    assert retrying.state.reason == "the server exited or closed the connection"
    await next_of(box, ServerChanged, phase("fx", Phase.READY), seen=seen)
    assert box.server_states()["fx"].attempt == 2
    # crashing again soon: the next delay is longer; after a long stable run it starts over
    box.on_function_call("call_d", "fx__crash", "{}")
    again = await next_of(box, ServerChanged, phase("fx", Phase.RETRYING))
    assert again.state.retry_in_s == 2.0
    await next_of(box, ServerChanged, phase("fx", Phase.READY))
    time.now += 3600
    box.on_function_call("call_e", "fx__crash", "{}")
    stable = await next_of(box, ServerChanged, phase("fx", Phase.RETRYING))
    assert stable.state.retry_in_s == 1.0


async def test_a_server_that_never_answers_initialize_times_out(make_box) -> None:
    time = FakeTime()
    settings = ToolsSettings(mcp=[stdio_server("stuck", mode="hang_initialize")], start_timeout_s=1)
    box = make_box(settings, sleep=time.sleep)
    box.start()
    seen: list = []
    failed = await next_of(box, ServerChanged, phase("stuck", Phase.FAILED), seen=seen)
    assert failed.state.reason == "no answer to initialize or tools/list within 1 s"
    assert [u.state.phase for u in seen] == [Phase.STARTING, Phase.FAILED]
    retrying = await next_of(box, ServerChanged, phase("stuck", Phase.RETRYING))
    assert retrying.state.retry_in_s == 1.0  # and it is tried again, like a crash


async def test_a_server_that_never_answers_initialize_blocks_nothing(make_box) -> None:
    """While one server hangs in its start, another starts and a call runs: proved by the
    events, not by a race against the hung one's timeout. That timeout is longer than this
    test may wait for anything (`next_of`'s bound), so the hung server is still starting
    throughout: were starts or calls serialised behind it, `next_of` would time out first.
    (That the timeout fires is the test above.)"""
    settings = ToolsSettings(
        mcp=[stdio_server("stuck", mode="hang_initialize"), stdio_server("good")],
        builtin=BuiltinSettings(clock=True),
        start_timeout_s=2 * NEXT_OF_TIMEOUT_S,
    )
    box = make_box(settings)
    box.start()
    box.on_function_call("call_t", "get_current_time", "{}")
    seen: list = []
    await next_of(box, ServerChanged, phase("good", Phase.READY), seen=seen)
    if not any(isinstance(u, CallFinished) for u in seen):
        await next_of(box, CallFinished, lambda u: u.call_id == "call_t", seen=seen)
    stuck = [
        u.state.phase for u in seen if isinstance(u, ServerChanged) and u.state.name == "stuck"
    ]
    assert stuck == [Phase.STARTING]  # it never got further, and nothing waited for it
    assert box.server_states()["stuck"].phase is Phase.STARTING
    names = {tool["name"] for tool in box.tools()}
    assert {"get_current_time", "good__echo"} <= names and not any("stuck" in n for n in names)


async def test_closing_ends_a_hung_start_at_once(make_box, monkeypatch) -> None:
    """Quitting while a server hangs in its start: the start is ended then, not waited out
    to its timeout nor cut by aclose's last-resort bound (made endless here, so only the
    runner's own stop can let aclose return within next_of's bound)."""
    from tui.tools import toolbox

    monkeypatch.setattr(toolbox, "STOP_BOUND_S", 3600.0)
    settings = ToolsSettings(
        mcp=[stdio_server("stuck", mode="hang_initialize")],
        start_timeout_s=2 * NEXT_OF_TIMEOUT_S,
    )
    box = make_box(settings)
    box.start()
    await next_of(box, ServerChanged, phase("stuck", Phase.STARTING))
    async with asyncio.timeout(NEXT_OF_TIMEOUT_S):
        await box.aclose()
    assert box.server_states()["stuck"].phase is Phase.STOPPED


async def test_a_call_that_never_answers_times_out_and_the_server_still_works(
    make_box,
) -> None:
    box = make_box(
        ToolsSettings(
            mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS}, call_timeout_s=1.0
        )
    )
    box.start()
    await next_of(box, ServerChanged, phase("fx", Phase.READY))
    box.on_function_call("call_h", "fx__hang", "{}")
    finished = await next_of(box, CallFinished)
    assert finished.rendered.status is CallStatus.TIMED_OUT
    assert finished.item["output"] == (
        "The call did not finish within 1 s and was abandoned; its result is unknown."
    )
    box.on_function_call("call_e", "fx__echo", '{"text": "still here"}')
    assert (await next_of(box, CallFinished)).item["output"] == "still here"


async def test_barge_in_cancels_a_running_mcp_call_with_a_cancelled_output(make_box) -> None:
    box = make_box(ToolsSettings(mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS}))
    box.start()
    await next_of(box, ServerChanged, phase("fx", Phase.READY))
    box.on_function_call("call_h", "fx__hang", "{}")
    await next_of(box, CallStarted)
    assert box.cancel_running() == ["call_h"]
    finished = await next_of(box, CallFinished)
    assert finished.call_id == "call_h"
    assert finished.rendered.status is CallStatus.CANCELLED
    assert "cancelled because the user interrupted" in finished.item["output"]
    box.on_function_call("call_e", "fx__echo", '{"text": "next"}')
    assert (await next_of(box, CallFinished)).item["output"] == "next"


async def test_a_command_that_does_not_exist_fails_with_its_name(make_box, tmp_path) -> None:
    time = FakeTime()
    missing = McpServerSettings(name="nope", command=str(tmp_path / "no-such-server"))
    box = make_box(ToolsSettings(mcp=[missing]), sleep=time.sleep)
    box.start()
    failed = await next_of(box, ServerChanged, phase("nope", Phase.FAILED))
    assert failed.state.reason == f"command not found: {tmp_path / 'no-such-server'}"


async def test_closing_the_box_stops_its_servers(make_box) -> None:
    box = make_box(ToolsSettings(mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS}))
    box.start()
    await next_of(box, ServerChanged, phase("fx", Phase.READY))
    box.on_function_call("call_p", "fx__pid", "{}")
    pid = int((await next_of(box, CallFinished)).item["output"])
    await box.aclose()
    assert box.server_states()["fx"].phase is Phase.STOPPED
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"the server process {pid} still runs after aclose()")
