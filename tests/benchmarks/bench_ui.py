"""UI figures, printed: start to first frame, log append cost at 2,000 turns, UI CPU share.

    pytest -m benchmark tests/benchmarks/bench_ui.py -s

Nothing here is a pass/fail timing; the asserts only check that a measurement happened.
"""

from __future__ import annotations

import os
import pty
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ui.conftest import scripted, wait_until
from tui.app import RtApp
from tui.changes import Role, Turn, TurnStarted, TurnText
from tui.config import Settings
from tui.session.audio_link import METER_HZ

pytestmark = pytest.mark.benchmark
SIZE = (100, 32)


async def test_start_to_first_frame_in_process(tmp_path: Path) -> None:
    """Constructor to the first idle frame of the headless driver (imports already warm)."""
    figures = []
    for _ in range(5):
        started = time.perf_counter()
        app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            figures.append((time.perf_counter() - started) * 1000)
    print(
        f"\nstart to first frame (in process, headless): median {statistics.median(figures):.0f} ms"
        f" (min {min(figures):.0f}, max {max(figures):.0f}, n={len(figures)})"
    )
    assert figures


def test_start_to_first_frame_real_terminal(tmp_path: Path) -> None:
    """`rt-tui --demo --no-audio` in a pty: exec to the first frame showing the message box."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "32"}
    (tmp_path / "c.toml").write_text("")  # --config must name an existing file
    figures = []
    for _ in range(3):
        pid, fd = pty.fork()
        if pid == 0:  # child: become rt-tui
            os.execvpe(
                sys.executable,
                [sys.executable, "-m", "tui", "--demo", "--no-audio", "--config",
                 str(tmp_path / "c.toml")],
                env,
            )  # fmt: skip
        started = time.perf_counter()
        seen = b""
        deadline = started + 20
        elapsed = None
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if b"Enter sends" in seen:
                elapsed = (time.perf_counter() - started) * 1000
                break
        os.write(fd, b"\x11")  # ctrl+q
        try:
            while select.select([fd], [], [], 2)[0] and os.read(fd, 65536):
                pass
        except OSError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
        if elapsed is not None:
            figures.append(elapsed)
    print(
        f"\nstart to first frame (rt-tui --demo in a pty, incl. interpreter and imports): "
        f"median {statistics.median(figures):.0f} ms (n={len(figures)})"
    )
    assert figures


async def test_log_append_cost_at_2000_turns(tmp_path: Path) -> None:
    turns = [
        Turn(f"t{i}", Role.USER if i % 2 else Role.ASSISTANT, f"turn {i} " * 12, started_at=1.0)
        for i in range(2000)
    ]
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted([TurnStarted(t) for t in turns]),
    )
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        fill_started = time.perf_counter()
        await wait_until(lambda: log.view_for("t1999") is not None, pilot)
        await pilot.pause()
        fill_ms = (time.perf_counter() - fill_started) * 1000
        costs, cpu_costs = [], []
        for i in range(30):
            turn = Turn(f"n{i}", Role.USER, "one more turn " * 8, started_at=1.0)
            started, cpu_started = time.perf_counter(), time.thread_time()
            app._on_change(TurnStarted(turn))
            await wait_until(lambda turn=turn: log.view_for(turn.item_id) is not None, pilot)
            await pilot.pause()
            costs.append((time.perf_counter() - started) * 1000)
            cpu_costs.append((time.thread_time() - cpu_started) * 1000)
        # Streaming: one flush of a growing turn, without the idle wait.
        streaming = Turn("s", Role.ASSISTANT, "", started_at=1.0)
        app._on_change(TurnStarted(streaming))
        await wait_until(lambda: log.view_for("s") is not None, pilot)
        flushes = []
        for i in range(50):
            streaming.text += f"word{i} "
            app._on_change(TurnText(streaming))
            started = time.perf_counter()
            log.flush()
            flushes.append((time.perf_counter() - started) * 1000)
        print(
            f"\nlog with 2,000 turns: fill {fill_ms:.0f} ms, {log.mounted_turns} mounted, "
            f"{log.shown_turns} shown, {log.hidden_turns} pruned from screen; append one turn "
            f"+ settle: median {statistics.median(costs):.1f} ms (max {max(costs):.1f}; "
            f"includes Textual's ~35-40 ms idle detection), UI thread CPU median "
            f"{statistics.median(cpu_costs):.1f} ms; one streaming flush: median "
            f"{statistics.median(flushes):.2f} ms"
        )
    assert costs and flushes


SCRIPT = """
import asyncio, sys, time, resource
sys.path.insert(0, {root!r})
from tests.ui.conftest import scripted
from tui.app import RtApp
from tui.session.audio_link import METER_HZ
from tui.config import Settings
from tui.changes import Role, SpeechChanged, Turn, TurnStarted, TurnText, TurnFinished, TurnStatus

SECONDS = {seconds}
STREAM = {stream}

async def main():
    app = RtApp(Settings(), config_path={config!r}, session_factory=scripted(level=(-30.0, -20.0)))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        session = app.session
        start_cpu = time.process_time(); start = time.perf_counter(); i = 0
        turn = None
        while time.perf_counter() - start < SECONDS:
            if not STREAM:  # baseline: the same 20 Hz driver loop, nothing changes on screen
                await asyncio.sleep(0.05)
                continue
            # A reply streams 20 deltas a second; the meter moves every sample.
            if turn is None or len(turn.text) > 400:
                if turn is not None:
                    turn.status = TurnStatus.DONE; app._on_change(TurnFinished(turn))
                turn = Turn(f"a{{i}}", Role.ASSISTANT, "", started_at=1.0)
                app._on_change(TurnStarted(turn))
                app._on_change(SpeechChanged(user_speaking=False, assistant_audible=True))
            turn.text += "word "
            app._on_change(TurnText(turn))
            session.level = (-30.0 + (i % 20), -20.0 + (i % 10))
            i += 1
            await asyncio.sleep(0.05)
        cpu = time.process_time() - start_cpu
        wall = time.perf_counter() - start
        print(f"RESULT {{100 * cpu / wall:.1f}}")
asyncio.run(main())
"""


def test_ui_cpu_share_while_streaming(tmp_path: Path) -> None:
    """CPU share of one core for the full UI alone: 20 deltas/s, meter sampled at METER_HZ.

    Headless driver in a child process (no terminal output cost, no audio, no network):
    the UI's own share of the issue's 3 % budget.
    """
    seconds = 10
    root = str(Path(__file__).resolve().parents[2])
    shares = {}
    for stream in (False, True):
        code = SCRIPT.format(
            root=root, seconds=seconds, config=str(tmp_path / "c.toml"), stream=stream
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
        )
        shares[stream] = float(result.stdout.split("RESULT")[-1])
    share = shares[True]
    print(
        f"\nUI CPU share while a reply streams (20 deltas/s, meter {METER_HZ} Hz, {seconds} s, "
        f"headless): {share:.1f} % of one core; the same driver loop with a still screen: "
        f"{shares[False]:.1f} %; so the UI work itself: {share - shares[False]:.1f} %"
    )
    assert share > 0
