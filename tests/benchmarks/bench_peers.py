"""Issue 11: rt-tui's CPU share beside other Realtime voice clients, same server, same mic feed.

    RT_PEER_PYTHON=... RT_PEER_AGENTS_DEMO=... RT_PEER_PTT_APP=... \\
        pytest -m benchmark tests/benchmarks/bench_peers.py -s
    RT_BENCH_SECONDS=60 ...   # a longer two-way window (default 30 s)

One local server process (rt-tui's, watched: tests/benchmarks/peers.py) serves every client
in turn; each gets the same espeak conversation into the virtual microphone. rt-tui runs first
(`--url` to that server, echo_guard off: like the peers, no echo canceller), then each peer that
is set up (tests/benchmarks/peers/README.md); the floor of the same run is printed last.
Nothing here is a pass/fail timing; the asserts only check that a conversation happened.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.benchmarks import bench_app
from tests.benchmarks.peers import (
    Peer,
    agents_env,
    find_peers,
    idle_seconds,
    peer_env,
    ptt_env,
    run_peer,
    watched_server,
)

pytestmark = pytest.mark.benchmark

SECONDS = float(os.environ.get("RT_BENCH_SECONDS", "30"))
START_S = 120  # a peer's start-up, quit and the floor's share of the time budget


@pytest.mark.timeout(int(3 * (SECONDS + idle_seconds(SECONDS) + START_S) + bench_app.FLOOR_S))
def test_cpu_share_beside_peers(
    virtual_audio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peers, skipped = find_peers()
    if not peers:
        pytest.skip("no peer is set up: " + "; ".join(skipped))
    fifo = virtual_audio / "rt_mic.fifo"
    signal = bench_app.conversation_signal(tmp_path, SECONDS)
    print()
    with watched_server(tmp_path) as server:
        rt_tui = bench_app.run_conversation(
            tmp_path,
            fifo,
            bench_app.Variant("rt-tui, echo_guard off", "off"),
            server.url,
            server.pid,
            idle_s=idle_seconds(SECONDS),  # the same windows as the peers'
            window_s=SECONDS,
        )
        figures = [
            run_peer(peer, tmp_path, fifo, server.url, SECONDS, signal, watch=server)
            for peer in peers
        ]
    floor = bench_app.audio_floor_pct()
    bench_app.print_figure(rt_tui, floor)
    for figure in figures:
        print(figure.describe())
        print(
            f"[bench]   {figure.label}: two-way {figure.two_way.share_pct / floor:.2f}x floor, "
            f"idle {figure.idle.share_pct / floor:.2f}x floor"
        )
    for reason in skipped:
        print(f"[bench] not run: {reason}")
    bench_app.print_floor(floor)
    print(
        "[bench] CPU share = (utime+stime from /proc/PID/stat) / wall time (time.monotonic), "
        "of the client's python process; per thread from /proc/PID/task/TID/schedstat and "
        "voluntary/involuntary context switches per second from .../status"
    )
    assert rt_tui.replied, "rt-tui never showed the parrot's reply"
    for figure in figures:
        assert figure.replied, f"{figure.label}: no reply heard; last screen:\n{figure.screen}"


def test_find_peers_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the variables, no peer runs and the reason names the variable to set."""
    for name in ("RT_PEER_PYTHON", "RT_PEER_AGENTS_DEMO", "RT_PEER_PTT_APP"):
        monkeypatch.delenv(name, raising=False)
    peers, skipped = find_peers()
    assert peers == []
    assert len(skipped) == 1 and "RT_PEER_PYTHON" in skipped[0]


def test_find_peers_names_each_missing_example(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RT_PEER_PYTHON", sys.executable)
    monkeypatch.setenv("RT_PEER_AGENTS_DEMO", str(tmp_path / "absent-demo.py"))
    monkeypatch.delenv("RT_PEER_PTT_APP", raising=False)
    peers, skipped = find_peers()
    assert peers == []
    assert [reason.split()[0] for reason in skipped] == ["RT_PEER_AGENTS_DEMO", "RT_PEER_PTT_APP"]


def test_peer_env_reaches_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real key or base URL in the caller's environment never reaches a peer."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-key-must-not-leak")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://elsewhere.invalid/v1")
    url = "ws://127.0.0.1:4321/v1/realtime"
    ptt = Peer("ptt", "ptt", [], {}, ["k"], "", "", ["q"], url_env=ptt_env)
    agents = Peer("agents", "agents", [], {}, [], "", "", ["C-c"], url_env=agents_env)
    assert peer_env(ptt, url)["OPENAI_BASE_URL"] == "http://127.0.0.1:4321/v1"
    assert peer_env(agents, url)["RT_PEER_URL"] == url
    assert "OPENAI_BASE_URL" not in peer_env(agents, url)
    for peer in (ptt, agents):
        assert peer_env(peer, url)["OPENAI_API_KEY"] == "bench-not-a-real-key"
