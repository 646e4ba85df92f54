"""Tools, printed: the cost of a local MCP call, and how servers start beside the first frame.

    pytest -m benchmark tests/benchmarks/bench_tools.py -s

1. Call overhead: 200 calls of a trivial tool (`echo`) of the stdio fixture server, timed as
   an SDK round trip (`ClientSession.call_tool`) and through the ToolBox
   (`on_function_call` -> `CallFinished`: argument check, approval, render, output item).
   Median and p95.
2. Start-up of N = 1, 3, 5 configured stdio servers, each N in a fresh process (the SDK is
   imported cold, as in the app): how long `ToolBox.start()` holds the caller, the time until
   every server is ready, and the event loop's worst lateness meanwhile (a 5 ms ticker: what a
   Textual frame would wait), beside the idle loop's own. The start must return at once: the
   first frame must not wait. Last, what importing the SDK on the loop would cost instead.

Figures only; nothing is asserted about timings.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.tools.conftest import FIXTURE_SERVER, next_of, stdio_server
from tui.config.tools import Approval, ToolsSettings
from tui.tools.toolbox import ToolBox
from tui.tools.updates import CallFinished, Phase, ServerChanged

pytestmark = pytest.mark.benchmark

CALLS = 200


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


async def test_local_mcp_call_overhead(tmp_path: Path) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=[str(FIXTURE_SERVER)])
    with (tmp_path / "sdk.log").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            for _ in range(20):  # warm-up
                await session.call_tool("echo", {"text": "x"})
            sdk: list[float] = []
            for _ in range(CALLS):
                started = time.perf_counter()
                await session.call_tool("echo", {"text": "x"})
                sdk.append(time.perf_counter() - started)

    box = ToolBox(
        ToolsSettings(mcp=[stdio_server()], approvals={"fx__*": Approval.ALWAYS}),
        log_dir=tmp_path / "logs",
    )
    box.start()
    try:
        await next_of(box, ServerChanged, lambda u: u.state.phase is Phase.READY)
        through: list[float] = []
        for number in range(20 + CALLS):
            started = time.perf_counter()
            box.on_function_call(f"c{number}", "fx__echo", '{"text": "x"}')
            await next_of(box, CallFinished)
            if number >= 20:
                through.append(time.perf_counter() - started)
    finally:
        await box.aclose()
    print(f"\nstdio call of a trivial tool, {CALLS} calls:")
    print(f"  SDK round trip (ClientSession.call_tool): {figures(sdk)}")
    print(f"  through the ToolBox (call -> CallFinished): {figures(through)}")


STARTUP = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from tui.config.tools import McpServerSettings, ToolsSettings
    from tui.tools.toolbox import ToolBox
    from tui.tools.updates import Phase, ServerChanged

    async def main(count, fixture, log_dir):
        servers = [McpServerSettings(name=f"s{i}", command=sys.executable, args=[fixture])
                   for i in range(count)]
        lateness = []
        stop = asyncio.Event()

        async def ticker():
            while not stop.is_set():
                planned = time.perf_counter() + 0.005
                await asyncio.sleep(0.005)
                lateness.append(time.perf_counter() - planned)

        tick = asyncio.ensure_future(ticker())
        await asyncio.sleep(1.0)  # the idle loop's own lateness, for comparison
        idle = max(lateness)
        lateness.clear()
        box = ToolBox(ToolsSettings(mcp=servers), log_dir=Path(log_dir))
        began = time.perf_counter()
        box.start()
        returned = time.perf_counter() - began
        ready = set()
        while len(ready) < count:
            update = await box.next_update()
            if isinstance(update, ServerChanged) and update.state.phase is Phase.READY:
                ready.add(update.state.name)
        all_ready = time.perf_counter() - began
        stop.set()
        await tick
        await box.aclose()
        print(json.dumps({"returned_ms": returned * 1000, "ready_s": all_ready,
                          "worst_lateness_ms": max(lateness) * 1000,
                          "idle_lateness_ms": idle * 1000}))

    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
    """
)


@pytest.mark.parametrize("count", [1, 3, 5])
def test_startup_of_configured_servers(count: int, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", STARTUP, str(count), str(FIXTURE_SERVER), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\n{count} stdio server(s), cold process: start() returned in "
        f"{result['returned_ms']:.2f} ms; all ready after {result['ready_s']:.2f} s; "
        f"worst event-loop lateness meanwhile {result['worst_lateness_ms']:.1f} ms "
        f"(idle loop before: {result['idle_lateness_ms']:.1f} ms)"
    )


def test_what_importing_the_sdk_on_the_loop_would_cost() -> None:
    code = (
        "import time; t = time.perf_counter(); import tui.tools.mcp_client; "
        "print((time.perf_counter() - t) * 1000)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    print(
        f"\nimporting the SDK (tui.tools.mcp_client) in a fresh process: median "
        f"{statistics.median(runs):.0f} ms: the frame time the worker-thread import saves"
    )


async def test_tool_round_trip_added_by_the_client() -> None:
    """function_call_arguments.done in -> the function_call_output `conversation.item.create`
    out, through the session's route table, the tools link and a real ToolBox (the clock
    built-in, approval `always`): what the client adds to a call, the tool itself aside."""
    from tests.session.helpers import server_event
    from tui.config import Settings
    from tui.config.tools import BuiltinSettings
    from tui.session.effects import Send
    from tui.session.rooms import Rooms

    settings = Settings()
    settings.tools = ToolsSettings(
        builtin=BuiltinSettings(clock=True), approvals={"get_current_time": Approval.ALWAYS}
    )
    box = ToolBox(settings.tools)
    rooms = Rooms.build(
        lambda: settings,
        api_key=None,
        audio_enabled=False,
        audio_factory=None,
        on_capture=lambda pcm: None,
        on_audio_status=lambda status: None,
        clock=time.monotonic,
        toolbox=box,
    )
    box.start()
    samples: list[float] = []
    for number in range(20 + CALLS):
        call_id = f"call_{number}"
        done = server_event(
            "response.function_call_arguments.done",
            response_id="resp_1",
            item_id=f"item_{number}",
            output_index=0,
            call_id=call_id,
            name="get_current_time",
            arguments="{}",
        )
        started = time.perf_counter()
        for _ in rooms.router.route(done, inspect=False):
            pass
        while True:
            update = await box.next_update()
            effects = rooms.tools.on_update(update)
            if isinstance(update, CallFinished):
                break
        assert any(isinstance(e, Send) for e in effects)
        if number >= 20:  # warm-up left out
            samples.append(time.perf_counter() - started)
    await box.aclose()
    print(
        f"\ntool round trip added by the client (arguments.done -> output sent), "
        f"{CALLS} clock calls: {figures(samples)}"
    )


@pytest.mark.parametrize("servers", [0, 3, 0, 3])
async def test_first_frame_does_not_wait_for_configured_servers(
    servers: int, tmp_path: Path
) -> None:
    """Time from the app's start to its first frame (Pilot ready), with N stdio servers
    configured: they start in the background, so the figure should not grow with N."""
    from tests.ui.conftest import live_settings
    from tui.app import RtApp
    from tui.config.tools import McpServerSettings
    from tui.localserver import LocalServer

    async with LocalServer() as server:
        settings = live_settings(server.url)
        settings.tools = ToolsSettings(
            mcp=[
                McpServerSettings(f"s{n}", command=sys.executable, args=[str(FIXTURE_SERVER)])
                for n in range(servers)
            ]
        )
        app = RtApp(settings, config_path=tmp_path / "c.toml", api_key="local", audio_enabled=False)
        started = time.perf_counter()
        async with app.run_test(size=(100, 30)) as pilot:
            first_frame = time.perf_counter() - started  # mounted, first frame drawn
            await pilot.pause()
            settled = time.perf_counter() - started  # and the loop idle once (spawns done)
            states = dict(app.session.tool_servers()) if app.session else {}
        print(
            f"\n{servers} stdio server(s) configured: first frame after "
            f"{first_frame * 1000:.0f} ms, loop idle after {settled * 1000:.0f} ms; servers: "
            + (", ".join(f"{name} {state.phase}" for name, state in states.items()) or "none")
        )
