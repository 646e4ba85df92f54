"""Other Realtime voice clients ("peers"), measured the way bench_app.py measures rt-tui (issue 11).

Each peer is a foreign example program that this repository does not ship: the developer copies
it to a scratch folder, installs its dependencies into a scratch venv and names both with
environment variables (tests/benchmarks/peers/README.md says which files, commits and packages):

    RT_PEER_PYTHON        a python with the peers' dependencies installed
    RT_PEER_AGENTS_DEMO   examples/realtime/cli/demo.py of openai/openai-agents-python
    RT_PEER_PTT_APP       examples/realtime/push_to_talk_app.py of openai/openai-python
                          (with its audio_util.py beside it)

Every peer talks to rt-tui's own local server on loopback, never to a remote service: a small
runner (text below, run with `python -c`) points it there and then runs the example unchanged
with runpy. The measured process is the peer's python, found under the tmux pane's shell.
Its share of one core comes from /proc (utime + stime), per thread from schedstat, with the
voluntary context switches per second of each thread (a busy-waiting loop shows as a thread
with a high share and few switches; a 10 ms sleep poll as ~100 switches a second).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from tests.audio.speech import FifoWriter, MonitorRecorder
from tests.e2e.conftest import TmuxTerminal
from tests.waiting import poll_until

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RATE = 24_000
START_TIMEOUT_S = 90.0  # importing the Agents SDK takes a while on a loaded 2-core machine
LOUD = 300  # |sample| above this on the speaker monitor counts as reply audio

# The Agents SDK's realtime model takes its URL only from the `url` key of the model config the
# demo builds in code (no env var): wrap OpenAIRealtimeWebSocketModel.connect to add it, with
# the model name the demo asked for as the query (the SDK's own default URL does the same).
AGENTS_RUNNER = """
import os, runpy, sys
from agents.realtime import openai_realtime

connect = openai_realtime.OpenAIRealtimeWebSocketModel.connect

async def connect_to_loopback(self, options):
    model = options.get("initial_model_settings", {}).get("model_name") or self.model
    options = {**options, "url": os.environ["RT_PEER_URL"] + "?model=" + model}
    return await connect(self, options)

openai_realtime.OpenAIRealtimeWebSocketModel.connect = connect_to_loopback
script = sys.argv[1]
sys.argv = [script]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""

# The push-to-talk sample reads OPENAI_BASE_URL like every openai client: no URL patch. But at
# the pinned commit it imports `openai.types.realtime.session.Session`, a module that SDK no
# longer has (an annotation only): register it as an alias of the type session.created carries.
PTT_RUNNER = """
import os, runpy, sys, types
from openai.types.realtime.realtime_session_create_request import RealtimeSessionCreateRequest

alias = types.ModuleType("openai.types.realtime.session")
alias.Session = RealtimeSessionCreateRequest
sys.modules.setdefault("openai.types.realtime.session", alias)
script = sys.argv[1]
sys.argv = [script]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""


def agents_env(url: str) -> dict[str, str]:
    # Tracing off: the realtime runner exports none, this only makes sure nothing leaves loopback.
    return {"RT_PEER_URL": url, "OPENAI_AGENTS_DISABLE_TRACING": "1"}


def ptt_env(url: str) -> dict[str, str]:
    # ws://host:port/v1/realtime -> http://host:port/v1; the client derives ws://.../v1/realtime.
    parts = urlsplit(url)
    return {"OPENAI_BASE_URL": f"http://{parts.netloc}{parts.path.rsplit('/realtime', 1)[0]}"}


@dataclass
class Peer:
    name: str
    label: str
    argv: list[str]
    env: dict[str, str]
    needs_keys: list[str]  # tmux keys that start talking (push-to-talk 'k'); [] = always on
    connected_text: str  # on the screen once the peer holds a session
    streaming_text: str  # on the screen once the microphone streams to the server
    quit_keys: list[str]
    url_env: Callable[[str], dict[str, str]] = field(repr=False)  # the server URL -> its env


def find_peers() -> tuple[list[Peer], list[str]]:
    """The peers set up on this machine, and one reason for each that is not."""
    install = "see tests/benchmarks/peers/README.md"
    python = os.environ.get("RT_PEER_PYTHON", "")
    if not python or not os.access(python, os.X_OK):
        reason = (
            "RT_PEER_PYTHON is not set to a python with the peers' dependencies "
            "(openai-agents, openai[realtime], textual, sounddevice, numpy, pyaudio, pydub; "
            f"{install})"
        )
        return [], [reason]
    peers: list[Peer] = []
    skipped: list[str] = []
    demo = os.environ.get("RT_PEER_AGENTS_DEMO", "")
    if not demo or not Path(demo).is_file():
        skipped.append(
            "RT_PEER_AGENTS_DEMO is not set to examples/realtime/cli/demo.py of "
            f"openai-agents-python ({install})"
        )
    elif problem := missing_modules(python, ["agents.realtime", "sounddevice", "numpy"]):
        skipped.append(f"RT_PEER_PYTHON lacks {problem} (pip install openai-agents sounddevice)")
    else:
        peers.append(
            Peer(
                name="agents-cli",
                label="Agents SDK realtime CLI demo (no UI)",
                argv=[python, "-c", AGENTS_RUNNER, str(Path(demo).resolve())],
                env={},
                needs_keys=[],
                connected_text="Connected.",
                streaming_text="Audio recording started",
                quit_keys=["C-c"],
                url_env=agents_env,
            )
        )
    app = os.environ.get("RT_PEER_PTT_APP", "")
    if not app or not Path(app).is_file() or not (Path(app).parent / "audio_util.py").is_file():
        skipped.append(
            "RT_PEER_PTT_APP is not set to examples/realtime/push_to_talk_app.py of "
            f"openai-python with its audio_util.py beside it ({install})"
        )
    elif problem := missing_modules(
        python, ["openai", "textual", "sounddevice", "numpy", "pyaudio", "pydub", "websockets"]
    ):
        skipped.append(
            f"RT_PEER_PYTHON lacks {problem} "
            "(pip install 'openai[realtime]' textual sounddevice numpy pyaudio pydub)"
        )
    else:
        peers.append(
            Peer(
                name="ptt-textual",
                label="openai-python Textual push-to-talk sample",
                argv=[python, "-c", PTT_RUNNER, str(Path(app).resolve())],
                env={},
                needs_keys=["k"],
                connected_text="Session ID:",
                streaming_text="Recording...",
                quit_keys=["q"],
                url_env=ptt_env,
            )
        )
    return peers, skipped


def missing_modules(python: str, modules: list[str]) -> str:
    """'' when `python` imports every module, else the first that fails."""
    check = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)"
    for module in modules:
        result = subprocess.run(
            [python, "-c", check, module], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            return module
    return ""


# ---- /proc: the process, its threads ---------------------------------------------------------


@dataclass
class ThreadSample:
    name: str
    cpu_s: float  # schedstat: nanoseconds on a CPU
    voluntary: int
    involuntary: int


@dataclass
class ProcessSample:
    cpu_s: float  # utime + stime of the whole process
    rss_kb: int
    threads: dict[str, ThreadSample]
    at: float  # monotonic


def sample(pid: int) -> ProcessSample:
    # /proc/PID/stat: the command name (field 2) may hold spaces; split after its ')'.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    rss_kb = status_fields(Path(f"/proc/{pid}/status")).get("VmRSS", 0)
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = status_fields(task / "status")
            threads[task.name] = ThreadSample(
                name="main" if task.name == str(pid) else (task / "comm").read_text().strip(),
                cpu_s=int((task / "schedstat").read_text().split()[0]) / 1e9,
                voluntary=status.get("voluntary_ctxt_switches", 0),
                involuntary=status.get("nonvoluntary_ctxt_switches", 0),
            )
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
    return ProcessSample(cpu_s, rss_kb, threads, time.monotonic())


def status_fields(path: Path) -> dict[str, int]:
    """The integer fields of a /proc status file ('VmRSS:  1234 kB' -> 1234)."""
    fields = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        words = value.split()
        if words and words[0].isdigit():
            fields[key] = int(words[0])
    return fields


def descendants(pid: int) -> list[int]:
    """Every process under `pid`, parents before children."""
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = []
        for parent in frontier:
            path = Path(f"/proc/{parent}/task/{parent}/children")
            if path.exists():
                children += [int(p) for p in path.read_text().split()]
        found += children
        frontier = children
    return found


def measured_pid(pane_pid: int) -> int | None:
    """The deepest python under the pane's shell: the peer itself, not sh or a uv wrapper."""
    pythons = []
    for pid in descendants(pane_pid):
        try:
            if Path(os.readlink(f"/proc/{pid}/exe")).name.startswith("python"):
                pythons.append(pid)
        except OSError:  # gone, or not ours to read
            continue
    return pythons[-1] if pythons else None


@dataclass
class ThreadFigure:
    tid: str
    name: str
    share_pct: float
    voluntary_per_s: float
    involuntary_per_s: float


@dataclass
class WindowFigure:
    seconds: float
    share_pct: float
    threads: list[ThreadFigure]  # busiest first

    def describe(self, top: int = 6) -> str:
        return ", ".join(
            f"{t.name} {t.tid}: {t.share_pct:.2f} % ({t.voluntary_per_s:.0f} vol/s, "
            f"{t.involuntary_per_s:.0f} invol/s)"
            for t in self.threads[:top]
        )


def window(before: ProcessSample, after: ProcessSample) -> WindowFigure:
    wall = after.at - before.at
    threads = []
    for tid, end in after.threads.items():
        start = before.threads.get(tid, ThreadSample(end.name, 0.0, 0, 0))
        threads.append(
            ThreadFigure(
                tid=tid,
                name=end.name,
                share_pct=100 * (end.cpu_s - start.cpu_s) / wall,
                voluntary_per_s=(end.voluntary - start.voluntary) / wall,
                involuntary_per_s=(end.involuntary - start.involuntary) / wall,
            )
        )
    threads.sort(key=lambda t: t.share_pct, reverse=True)
    return WindowFigure(wall, 100 * (after.cpu_s - before.cpu_s) / wall, threads)


# ---- the local server, watched -----------------------------------------------------------------

# rt-tui's local server in its own process, as `python -m tui.localserver` runs it, that also
# writes what it saw (totals over all sessions) to a JSON file four times a second: the bench
# reads whether the peer connected, streamed its microphone and got the parrot's replies.
SERVER_SCRIPT = """
import asyncio, json, os, sys
from tui.localserver import LocalServer

COUNTED_SENT = {
    "input_audio_buffer.speech_started": "speech_started",
    "response.output_audio.delta": "audio_deltas",
    "response.done": "responses_done",
}

async def serve(status):
    names = ["sessions", "appends", "responses_completed", *COUNTED_SENT.values()]
    totals = dict.fromkeys(names, 0)
    seen = {}  # session id -> (events received, events sent) already counted
    async with LocalServer("127.0.0.1", 0, record_audio=False) as server:
        print(server.url, flush=True)
        while True:
            for record in list(server.sessions):
                got, put = seen.get(record.id, (0, 0))
                received, sent = record.received[got:], record.sent[put:]
                seen[record.id] = (got + len(received), put + len(sent))
                totals["appends"] += sum(
                    e.get("type") == "input_audio_buffer.append" for e in received
                )
                for event in sent:
                    key = COUNTED_SENT.get(event.get("type"))
                    if key:
                        totals[key] += 1
                    if key == "responses_done" and event["response"].get("status") == "completed":
                        totals["responses_completed"] += 1
            totals["sessions"] = len(server.sessions)
            with open(status + ".tmp", "w") as out:
                json.dump(totals, out)
            os.replace(status + ".tmp", status)
            await asyncio.sleep(0.25)

asyncio.run(serve(sys.argv[1]))
"""


@dataclass
class ServerCounts:
    sessions: int = 0
    appends: int = 0  # input_audio_buffer.append events received: the peer's mic chunks
    speech_started: int = 0  # the server's VAD heard speech
    audio_deltas: int = 0
    responses_done: int = 0
    responses_completed: int = 0  # not cancelled by a barge-in

    def since(self, before: ServerCounts) -> ServerCounts:
        return ServerCounts(
            **{name: getattr(self, name) - getattr(before, name) for name in vars(self)}
        )


@dataclass
class WatchedServer:
    url: str
    pid: int
    status: Path

    def counts(self) -> ServerCounts:
        if not self.status.exists():
            return ServerCounts()
        return ServerCounts(**json.loads(self.status.read_text()))


@contextmanager
def watched_server(workdir: Path) -> Iterator[WatchedServer]:
    """rt-tui's local server on a free loopback port in its own process, counting events."""
    status = workdir / "server-status.json"
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(status)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        url = process.stdout.readline().strip() if ready else ""
        assert url.startswith("ws://127.0.0.1:"), f"the local server did not start: {url!r}"
        poll_until(status.exists, 10, "the local server's first status")
        yield WatchedServer(url, process.pid, status)
    finally:
        process.terminate()
        process.wait(timeout=10)


# ---- one peer, one conversation ------------------------------------------------------------------


@dataclass
class PeerFigure:
    name: str
    label: str
    pid: int
    idle: WindowFigure  # live, the mic streaming silence
    two_way: WindowFigure  # speech into the mic, the parrot replying on the speaker
    rss_start_kb: int
    rss_end_kb: int
    heard_s: float  # reply audio on the speaker monitor during the two-way window
    server: ServerCounts | None  # what the server saw during the two-way window
    server_share_pct: float | None
    screen: str  # the last screen, to show what happened when nothing was heard

    @property
    def replied(self) -> bool:
        """The parrot's reply was played: loud audio on the speaker monitor, after a response
        the server completed (when the server is watched)."""
        return self.heard_s > 0 and (self.server is None or self.server.responses_completed > 0)

    def describe(self) -> str:
        server = ""
        if self.server is not None:
            s = self.server
            server = (
                f"; server saw {s.appends} mic chunks, {s.speech_started} speech starts, "
                f"{s.responses_completed}/{s.responses_done} responses completed"
            )
            if self.server_share_pct is not None:
                server += f", server process {self.server_share_pct:.1f} %"
        return (
            f"[bench] {self.label} (pid {self.pid}): {self.two_way.share_pct:.1f} % of one core "
            f"over {self.two_way.seconds:.0f} s of two-way audio (idle baseline, live with the "
            f"mic streaming silence: {self.idle.share_pct:.1f} % over {self.idle.seconds:.0f} s); "
            f"RSS {self.rss_start_kb / 1024:.1f} MiB at start, {self.rss_end_kb / 1024:.1f} MiB "
            f"at end; reply heard on the speaker: {self.heard_s:.1f} s{server}\n"
            f"[bench]   idle per thread (schedstat; context switches): {self.idle.describe()}\n"
            f"[bench]   two-way per thread (schedstat; context switches): "
            f"{self.two_way.describe()}"
        )


def idle_seconds(seconds: float) -> float:
    return min(15.0, seconds / 4)  # as bench_app.py: the baseline before the conversation


def peer_env(peer: Peer, url: str) -> dict[str, str]:
    """This environment without any OPENAI_* (no real key, no other base URL) or TMUX, plus a
    placeholder key (the local server wants a bearer token) and the peer's loopback settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_") and k != "TMUX"}
    env.update(TERM="xterm-256color", OPENAI_API_KEY="bench-not-a-real-key")
    return {**env, **peer.env, **peer.url_env(url)}


def run_peer(
    peer: Peer,
    workdir: Path,
    fifo: Path,
    url: str,
    seconds: float,
    signal: np.ndarray,
    watch: WatchedServer | None = None,
) -> PeerFigure:
    """Start `peer` in a tmux terminal against `url`, measure an idle window, then `seconds`
    while `signal` plays into the virtual mic FIFO; quit it. `watch` (the server at `url`)
    adds what the server saw and its own share."""
    term_dir = workdir / f"term-{peer.name}"
    term_dir.mkdir()
    terminal = TmuxTerminal(workdir=term_dir, env=peer_env(peer, url))
    terminal.start(peer.argv)
    try:
        terminal.wait_for_text(peer.connected_text, timeout=START_TIMEOUT_S)
        pane = terminal.pane_pid()
        poll_until(lambda: measured_pid(pane), 10, f"the python process of {peer.name}")
        pid = measured_pid(pane)
        assert pid is not None
        terminal.send_keys(*peer.needs_keys)
        terminal.wait_for_text(peer.streaming_text)
        if watch is not None:  # the mic chunks arrive at the server: the peer is live
            before = watch.counts().appends
            poll_until(lambda: watch.counts().appends >= before + 10, 20, "mic chunks")
        idle_start = sample(pid)
        time.sleep(idle_seconds(seconds))  # the measuring window itself
        idle_end = sample(pid)
        with MonitorRecorder() as speaker:
            counts_start = watch.counts() if watch else None
            server_start = sample(watch.pid) if watch else None
            start = sample(pid)
            writer = FifoWriter(fifo).write(signal)
            time.sleep(seconds)  # the measuring window itself
            end = sample(pid)
            server_end = sample(watch.pid) if watch else None
            counts_end = watch.counts() if watch else None
        writer.done.wait(15)
        assert writer.error is None, f"the mic FIFO write failed: {writer.error}"
        screen = terminal.capture()
        terminal.send_keys(*peer.quit_keys)
        # A peer that hangs on quit is killed below; its figures stand.
        with contextlib.suppress(AssertionError):
            terminal.wait_for_exit(timeout=20)
    finally:
        terminal.kill()
    server_share = None
    if server_start and server_end:
        server_share = 100 * (server_end.cpu_s - server_start.cpu_s) / (end.at - start.at)
    return PeerFigure(
        name=peer.name,
        label=peer.label,
        pid=pid,
        idle=window(idle_start, idle_end),
        two_way=window(start, end),
        rss_start_kb=start.rss_kb,
        rss_end_kb=end.rss_kb,
        heard_s=loud_seconds(speaker.samples()),
        server=counts_end.since(counts_start) if counts_end and counts_start else None,
        server_share_pct=server_share,
        screen=screen,
    )


def loud_seconds(samples: np.ndarray, block: int = RATE // 100) -> float:
    """Seconds of 10 ms blocks whose peak is above LOUD."""
    blocks = len(samples) // block
    if blocks == 0:
        return 0.0
    peaks = np.abs(samples[: blocks * block].astype(np.int32)).reshape(blocks, block).max(axis=1)
    return float(np.count_nonzero(peaks > LOUD)) / 100
