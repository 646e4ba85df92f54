"""Soak: a long simulated conversation with forced drops; prints memory, turns, reconnect times.

    RT_SOAK_SECONDS=1800 pytest -m benchmark tests/benchmarks/bench_soak.py -s

Environment (all optional): RT_SOAK_SECONDS (default 1800) how long to converse;
RT_SOAK_DROP_EVERY_S (default 180) how often the server drops the TCP connection mid-reply;
RT_SOAK_PAUSE_S (default 1.0) the user's pause between turns; RT_SOAK_REALTIME_FACTOR
(default 4) how much faster than real time the server streams its replies.

The conversation alternates typed turns and parrot voice turns (speech fed through
ScriptedAudio into the server's VAD path); every tenth turn carries bad frames. The server,
session and history writer share this process, so the RSS figures cover all three. The server
keeps its records with audio payloads blanked and the audio of its newest 20 conversation
items only (keep_audio_items): it otherwise holds every reply's audio, as the real server
does, about 100 KB a turn, which was most of the growth seen before (measured with a
census of live bytes objects). Only "something was measured" is asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path

import pytest

from tests.session.helpers import ChangeRecorder, ScriptedAudio
from tests.session.test_session import TEST_KEY, blocks, settings_for, silence, speech
from tui.changes import Change, ConnectionState, Role, TurnFinished, TurnStatus
from tui.history import HistoryWriter
from tui.localserver import LocalServer
from tui.localserver.faults import BAD_FRAME_KINDS
from tui.session import Session

SOAK_S = float(os.environ.get("RT_SOAK_SECONDS", "1800"))
DROP_EVERY_S = float(os.environ.get("RT_SOAK_DROP_EVERY_S", "180"))
PAUSE_S = float(os.environ.get("RT_SOAK_PAUSE_S", "1.0"))
REALTIME_FACTOR = float(os.environ.get("RT_SOAK_REALTIME_FACTOR", "4"))
RSS_SAMPLES = 6
SERVER_AUDIO_ITEMS = 20
TURN_TIMEOUT_S = 30.0
# small bad frames only: "huge" is 4 MB a time and would dominate the memory figures
SOAK_BAD_FRAMES = [kind for kind in BAD_FRAME_KINDS if kind != "huge"]

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(SOAK_S + 300)]


class LeanRecorder(ChangeRecorder):
    """Keeps only final turns: a half-hour of every TurnText and StatsChanged would be the
    test's own memory growth, not the app's. Still wakes wait_for() on every change."""

    def __call__(self, change: Change) -> None:
        if isinstance(change, TurnFinished):
            self.changes.append(change)
        if not self._pending:
            self._pending = True
            asyncio.get_running_loop().create_task(self._notify())


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def forget_server_records(server: LocalServer) -> int:
    """Clear the events the in-process server keeps for tests; returns how many there were."""
    count = 0
    for record in server.sessions:
        count += len(record.sent) + len(record.received)
        record.sent.clear()
        record.received.clear()
        record.raw_sent.clear()
    return count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def assistant_finals(session: Session) -> int:
    return sum(1 for t in session.conversation.turns if t.role is Role.ASSISTANT and t.final)


async def test_soak(tmp_path: Path) -> None:
    audio: list[ScriptedAudio] = []
    recorder = LeanRecorder()
    writer = HistoryWriter(tmp_path / "history", "soak", secrets=[TEST_KEY])
    voice = blocks(silence(200) + speech(1200) + silence(900))
    rss: list[tuple[float, float]] = []
    reconnect_s: list[float] = []
    turns_sent = 0
    server_events_seen = 0
    async with LocalServer(
        realtime_factor=REALTIME_FACTOR, record_audio=False, keep_audio_items=SERVER_AUDIO_ITEMS
    ) as server:
        session = Session(
            settings_for(server.url),
            api_key=TEST_KEY,
            listener=recorder,
            history=writer,
            audio_factory=ScriptedAudio.factory(audio),
        )
        task = asyncio.create_task(session.run())

        def live() -> bool:
            return session.state is ConnectionState.LIVE

        await recorder.wait_for(live, what="live")
        started = time.monotonic()
        rss.append((0.0, rss_mib()))
        next_sample = SOAK_S / RSS_SAMPLES
        next_drop = DROP_EVERY_S
        while (elapsed := time.monotonic() - started) < SOAK_S:
            if elapsed >= next_sample:
                rss.append((elapsed, rss_mib()))
                next_sample += SOAK_S / RSS_SAMPLES
            done_before = assistant_finals(session)
            server.faults.bad_frames = SOAK_BAD_FRAMES if turns_sent % 10 == 9 else []
            drop_now = elapsed >= next_drop
            if turns_sent % 2 == 0 or drop_now:
                session.send_text(f"typed turn {turns_sent}, tell me something about it")
            else:
                for block in voice:
                    audio[0].capture(block)
            turns_sent += 1
            if drop_now:
                next_drop += DROP_EVERY_S
                await recorder.wait_for(
                    lambda: session._rooms.turns.active_response is not None,
                    timeout=TURN_TIMEOUT_S,
                    what="a reply under way",
                )
                dropped_at = time.monotonic()
                server.drop_all()
                await recorder.wait_for(lambda: not live(), what="the drop noticed")
                await recorder.wait_for(live, timeout=TURN_TIMEOUT_S, what="live again")
                reconnect_s.append(time.monotonic() - dropped_at)
                continue
            await recorder.wait_for(
                lambda n=done_before: assistant_finals(session) > n,
                timeout=TURN_TIMEOUT_S,
                what=f"reply to turn {turns_sent}",
            )
            audio[0].advance(120_000)  # the reply plays out, so its history line is written
            # the test server's own event log is not the app's memory: drop it as we go
            server_events_seen += forget_server_records(server)
            await asyncio.sleep(PAUSE_S)  # the user's pause before the next turn
        rss.append((time.monotonic() - started, rss_mib()))
        await session.stop()
        await asyncio.wait_for(task, 10)

    finals = recorder.of(TurnFinished)
    lines = writer.path.read_text(encoding="utf-8").splitlines()
    written = [json.loads(line) for line in lines if '"type":"turn"' in line]
    completed = sum(
        1 for c in finals if c.turn.role is Role.ASSISTANT and c.turn.status is TurnStatus.DONE
    )
    print()
    print(
        f"soak: {SOAK_S:.0f} s, drop every {DROP_EVERY_S:.0f} s, pause {PAUSE_S} s, "
        f"server x{REALTIME_FACTOR:g}"
    )
    print("RSS MiB: " + ", ".join(f"{at:.0f}s={mib:.1f}" for at, mib in rss))
    print(f"RSS growth: {rss[-1][1] - rss[0][1]:+.1f} MiB")
    print(
        f"turns sent: {turns_sent}; assistant replies completed: {completed}; "
        f"final turns: {len(finals)}; history lines: {len(written)}"
    )
    if reconnect_s:
        ms = [s * 1000 for s in reconnect_s]
        print(
            f"reconnects: {len(ms)}; drop -> LIVE ms p50 {statistics.median(ms):.0f} "
            f"p99 {percentile(ms, 0.99):.0f} max {max(ms):.0f}"
        )
    else:
        print("reconnects: 0 (the run was shorter than RT_SOAK_DROP_EVERY_S)")
    print(f"server events exchanged (cleared as the soak went): {server_events_seen}")
    print(f"turns in the session's conversation: {len(session.conversation.turns)}")
    print(f"bad frames counted: {sum(session.bad_frames.values())} {dict(session.bad_frames)}")
    assert completed > 0
    written_ids = [w["item_id"] for w in written]
    assert written_ids == [c.turn.item_id for c in finals], "every final turn on disk, once"
