"""Whole-app figures, printed: start to first frame in a pty; CPU share and RSS of the real
`rt-tui` process in a tmux terminal while a conversation streams audio both ways.

    pytest -m benchmark tests/benchmarks/bench_app.py -s
    RT_BENCH_SECONDS=20 pytest -m benchmark tests/benchmarks/bench_app.py -s   # shorter window

Nothing here is a pass/fail timing; the asserts only check that a measurement happened.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.audio.speech import FifoWriter, espeak_speech
from tests.e2e.conftest import TmuxTerminal, rt_tui_argv
from tests.waiting import poll_until

pytestmark = pytest.mark.benchmark

WINDOW_S = float(os.environ.get("RT_BENCH_SECONDS", "60"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RATE = 24_000
SPEECH = (
    "Could you tell me what the weather will be like tomorrow morning, and whether I need "
    "an umbrella for the walk to the station?"
)
IDLE_S = min(15.0, WINDOW_S / 4)  # baseline: live, mic open and streaming silence, no speech
PAUSE_S = 5.0  # long enough for the parrot to play its whole reply before the next sentence


def test_start_to_first_frame_pty(tmp_path: Path) -> None:
    """exec of `rt-tui --demo --no-audio` to the first frame that shows widget text."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "32"}
    argv = rt_tui_argv("--demo", "--no-audio")
    figures = []
    for _ in range(5):
        pid, fd = pty.fork()
        if pid == 0:  # child: become rt-tui
            os.execvpe(argv[0], argv, env)
        started = time.perf_counter()
        seen = b""
        elapsed = None
        while time.perf_counter() < started + 30:
            if not select.select([fd], [], [], 0.5)[0]:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if b"Enter sends" in seen:  # the message box placeholder: widgets are drawn
                elapsed = (time.perf_counter() - started) * 1000
                break
        os.write(fd, b"\x11")  # ctrl+q
        try:
            while select.select([fd], [], [], 5)[0] and os.read(fd, 65536):
                pass
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        if elapsed is not None and os.waitstatus_to_exitcode(status) == 0:
            figures.append(elapsed)
    print(
        f"\n[bench] start to first frame, `{' '.join(Path(a).name for a in argv)}` in a pty "
        f"(exec, interpreter, imports, demo server, first widget frame): median "
        f"{statistics.median(figures):.0f} ms (min {min(figures):.0f}, max {max(figures):.0f}, "
        f"n={len(figures)}; wall clock, time.perf_counter)"
    )
    assert figures


# ---- CPU share while audio streams both ways ------------------------------------------------


@dataclass
class ProcSample:
    cpu_s: float  # utime + stime
    rss_kb: int
    at: float  # monotonic


def proc_sample(pid: int) -> ProcSample:
    # /proc/PID/stat: the command name (field 2) may hold spaces; split after its ')'.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    return ProcSample((utime + stime) / CLOCK_TICKS, rss_kb, time.monotonic())


def thread_cpu_s(pid: int) -> dict[str, tuple[str, float]]:
    """Per thread: (name, seconds on a CPU) from /proc/PID/task/TID/schedstat (nanoseconds)."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            threads[task.name] = (name, int((task / "schedstat").read_text().split()[0]) / 1e9)
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
    return threads


def thread_shares(
    before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]], wall: float
) -> str:
    """'name tid: x.xx %' for every thread that ran, busiest first."""
    shares = [
        (100 * (cpu - before.get(tid, (name, 0.0))[1]) / wall, name, tid)
        for tid, (name, cpu) in after.items()
    ]
    return ", ".join(f"{n} {t}: {p:.2f} %" for p, n, t in sorted(shares, reverse=True) if p > 0)


def child_pids(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


FLOOR_S = 20.0
FLOOR_SCRIPT = """
import os, sys, time
import sounddevice as sd
def on_input(indata, frames, when, status):
    pass
def on_output(outdata, frames, when, status):
    outdata.fill(0)
streams = [
    sd.InputStream(samplerate=24000, blocksize=480, channels=1, dtype="int16",
                   callback=on_input, latency="low"),
    sd.OutputStream(samplerate=24000, blocksize=240, channels=1, dtype="int16",
                    callback=on_output, latency="low"),
]
for stream in streams:
    stream.start()
time.sleep(2.0)
before, started = os.times(), time.monotonic()
time.sleep(float(sys.argv[1]))
after, ended = os.times(), time.monotonic()
cpu = (after.user + after.system) - (before.user + before.system)
print("FLOOR", 100 * cpu / (ended - started))
"""


def audio_floor_pct(seconds: float = FLOOR_S) -> float:
    """CPU share of a bare sounddevice pair with the app's block sizes and trivial callbacks.

    This machine's speed drifts (the same build measured 6.5 % one day and 9.6 % another,
    with this floor at 1.6 % and 4.1 %): printed beside every figure, it is the yardstick
    that makes figures from different days comparable. No Python app can go below it.
    """
    result = subprocess.run(
        [sys.executable, "-c", FLOOR_SCRIPT, str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    return float(result.stdout.split("FLOOR")[-1])


def conversation_signal(workdir: Path, seconds: float) -> np.ndarray:
    """Speech, pause, speech, ... for `seconds`, as 24 kHz int16 for the mic FIFO."""
    speech = espeak_speech(SPEECH, workdir)
    cycle = np.concatenate([speech, np.zeros(int(PAUSE_S * RATE), dtype=np.int16)])
    repeats = int(np.ceil(seconds * RATE / len(cycle))) + 1
    return np.tile(cycle, repeats)[: int(seconds * RATE)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def standalone_server() -> Iterator[tuple[str, int]]:
    """`python -m tui.localserver` in its own process: (url, pid)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.localserver", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def accepting() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0

        poll_until(accepting, 15, "the standalone local server")
        yield f"ws://127.0.0.1:{port}/v1/realtime", server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass
class CpuFigure:
    label: str
    share_pct: float
    idle_share_pct: float
    server_share_pct: float | None
    idle_threads: str  # per-thread shares over the idle baseline
    window_threads: str  # per-thread shares over the two-way window
    rss_start_kb: int
    rss_end_kb: int
    replied: bool


def run_conversation(
    workdir: Path, fifo: Path, echo_guard: str, label: str, url: str | None, server_pid: int | None
) -> CpuFigure:
    config = workdir / f"config-{echo_guard}.toml"
    config.write_text(f'[audio]\necho_guard = "{echo_guard}"\n')
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    if url:
        # The standalone server answers 401 without a bearer token, though the app lets a
        # loopback URL go without a key; any token will do.
        env["OPENAI_API_KEY"] = "bench-not-a-real-key"
    term_dir = workdir / f"term-{label.replace(' ', '-')}"
    term_dir.mkdir()
    terminal = TmuxTerminal(workdir=term_dir, env=env)
    args = ["--config", str(config)] + (["--url", url] if url else ["--demo"])
    terminal.start(rt_tui_argv(*args))
    try:
        terminal.wait_for(
            lambda s: "● live" in s and "listening" in s, "live and listening", timeout=30
        )
        pids = child_pids(terminal.pane_pid())
        assert len(pids) == 1, f"expected rt-tui as the shell's only child, got {pids}"
        pid = pids[0]
        signal = conversation_signal(workdir, WINDOW_S)
        idle_start, idle_threads_start = proc_sample(pid), thread_cpu_s(pid)
        while time.monotonic() - idle_start.at < IDLE_S:
            terminal.capture()  # the same screen reading as in the window below
            time.sleep(0.5)
        idle_end, idle_threads_end = proc_sample(pid), thread_cpu_s(pid)
        writer = FifoWriter(fifo).write(signal)
        start, threads_start = proc_sample(pid), thread_cpu_s(pid)
        server_start = proc_sample(server_pid) if server_pid else None
        # The measuring window: the FIFO write paces itself in real time (pacat reads it at
        # 24 kHz); meanwhile look at the screen twice a second for the parrot's replies.
        replied = False
        while time.monotonic() - start.at < WINDOW_S:
            replied = replied or "I heard" in terminal.capture()
            time.sleep(0.5)
        end, threads_end = proc_sample(pid), thread_cpu_s(pid)
        server_end = proc_sample(server_pid) if server_pid else None
        writer.done.wait(10)
        terminal.send_keys("C-q")
        assert terminal.wait_for_exit(timeout=30) == 0
    finally:
        terminal.kill()
    wall = end.at - start.at
    server_share = None
    if server_start and server_end:
        server_share = 100 * (server_end.cpu_s - server_start.cpu_s) / wall
    return CpuFigure(
        label=label,
        share_pct=100 * (end.cpu_s - start.cpu_s) / wall,
        idle_share_pct=100 * (idle_end.cpu_s - idle_start.cpu_s) / (idle_end.at - idle_start.at),
        server_share_pct=server_share,
        idle_threads=thread_shares(
            idle_threads_start, idle_threads_end, idle_end.at - idle_start.at
        ),
        window_threads=thread_shares(threads_start, threads_end, wall),
        rss_start_kb=start.rss_kb,
        rss_end_kb=end.rss_kb,
        replied=replied,
    )


def print_figure(figure: CpuFigure) -> None:
    server = (
        f"; the separate server process: {figure.server_share_pct:.1f} %"
        if figure.server_share_pct is not None
        else ""
    )
    print(
        f"[bench] {figure.label}: rt-tui {figure.share_pct:.1f} % of one core over "
        f"{WINDOW_S:.0f} s of two-way audio (idle baseline, live with the mic streaming silence: "
        f"{figure.idle_share_pct:.1f} % over {IDLE_S:.0f} s){server}; "
        f"RSS {figure.rss_start_kb / 1024:.1f} MiB at start, "
        f"{figure.rss_end_kb / 1024:.1f} MiB at end; parrot replied: {figure.replied}\n"
        f"[bench]   idle baseline per thread (schedstat): {figure.idle_threads}\n"
        f"[bench]   two-way window per thread (schedstat): {figure.window_threads}"
    )


@pytest.mark.timeout(int(4 * (WINDOW_S + IDLE_S)) + 180)  # two runs plus start-ups
def test_cpu_share_demo_in_process(virtual_audio: Path, tmp_path: Path) -> None:
    """`rt-tui --demo`: the demo server runs in a thread of the measured process."""
    fifo = virtual_audio / "rt_mic.fifo"
    print()
    figures = [
        run_conversation(tmp_path, fifo, guard, f"--demo, echo_guard {guard}", None, None)
        for guard in ("off", "aec")
    ]
    for figure in figures:
        print_figure(figure)
    print_floor()
    print(
        "[bench] CPU share = (utime+stime from /proc/PID/stat) / wall time (time.monotonic); "
        "targets: <= 3 % without aec (issue 4), <= 4 % with aec (issue 6)"
    )
    assert all(f.replied for f in figures), "the parrot never replied: no two-way audio"


def print_floor() -> None:
    floor = audio_floor_pct()
    print(
        f"[bench] the floor now: a bare sounddevice input+output pair (20/10 ms blocks, "
        f"trivial callbacks) takes {floor:.1f} % of one core over {FLOOR_S:.0f} s"
    )


@pytest.mark.timeout(int(4 * (WINDOW_S + IDLE_S)) + 180)  # two runs plus start-ups
def test_cpu_share_separate_server(
    virtual_audio: Path, tmp_path: Path, standalone_server: tuple[str, int]
) -> None:
    """The same conversation with the server in its own process: the client's share alone."""
    url, server_pid = standalone_server
    fifo = virtual_audio / "rt_mic.fifo"
    print()
    figures = [
        run_conversation(tmp_path, fifo, guard, f"separate server, echo_guard {guard}", url, pid)
        for guard, pid in (("off", server_pid), ("aec", server_pid))
    ]
    for figure in figures:
        print_figure(figure)
    print_floor()
    assert all(f.replied for f in figures), "the parrot never replied: no two-way audio"
