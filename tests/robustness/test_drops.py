"""Never lose a word: 20 forced drops, and the history on disk still holds every final turn."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from tests.session.helpers import ChangeRecorder, ScriptedAudio
from tests.session.test_session import live, running
from tui.changes import ConnectionChanged, ConnectionState, Role, TurnFinished, TurnStatus
from tui.history import HistoryWriter
from tui.localserver import LocalServer
from tui.localserver.faults import Faults
from tui.session import Session

REPLAY_TURNS = 6
# (drop_after_deltas, close_code): None code = TCP abort (what clients see as 1006)
FAULT_CYCLE: list[tuple[int | None, int | None]] = [
    (2, None),
    (1, 1001),
    (3, None),
    (2, 1011),
    (1, 1012),
    (2, 1013),
]
DROPS = 20


def _apply(faults: Faults, after: int | None, code: int | None) -> None:
    if code is None:
        faults.drop_after_deltas = after
    else:
        faults.close_code = code
        faults.close_reason = f"fault {code}"
        faults.close_after_deltas = after


def _clear(faults: Faults) -> None:
    faults.drop_after_deltas = None
    faults.close_code = None
    faults.close_reason = ""
    faults.close_after_deltas = None


def _history_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _replayed_ids(events: list[dict[str, Any]], known: set[str]) -> list[str]:
    """Ids of the items a new connection was given before anything new was said: replayed
    items keep the ids earlier connections knew; a typed turn comes with a fresh one."""
    ids: list[str] = []
    for event in events[1:]:
        if event["type"] != "conversation.item.create" or event["item"].get("id") not in known:
            break
        ids.append(event["item"]["id"])
    return ids


def _item_ids(events: list[dict[str, Any]]) -> set[str]:
    return {
        e["item"]["id"] for e in events if isinstance(e.get("item"), dict) and "id" in e["item"]
    }


async def test_history_is_complete_after_twenty_forced_drops(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path / "history", "soak-drops", secrets=["sk-test-drops"])
    async with (
        LocalServer(realtime_factor=40) as server,
        running(server, history=writer, connection__replay_turns=REPLAY_TURNS) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        for drop in range(DROPS):
            if drop % 4 == 0:  # a clean turn now and then, between the broken ones
                text = f"clean turn before drop {drop}"
                session.send_text(text)
                await rec.wait_for(lambda text=text: _replied(session, text), what="clean reply")
            connections = len(server.sessions)
            after, code = FAULT_CYCLE[drop % len(FAULT_CYCLE)]
            _apply(server.faults, after, code)
            cut_before = len(_cut_off(session))
            session.send_text(f"message number {drop} that the server will cut")
            await rec.wait_for(lambda n=cut_before: len(_cut_off(session)) > n, what=f"cut {drop}")
            _clear(server.faults)
            await rec.wait_for(
                lambda n=connections: len(server.sessions) == n + 1 and live(session)(),
                what=f"back after drop {drop}",
            )
        session.send_text("are you still there after all that")
        await rec.wait_for(lambda: _replied(session, "still there"), what="final reply")
        sessions = list(server.sessions)
    # the session has stopped: the writer is closed and the file complete
    shown = [c.turn for c in rec.of(TurnFinished)]
    turns = list(session.conversation.turns)

    assert len(sessions) == DROPS + 1
    reconnecting = [c for c in rec.of(ConnectionChanged) if c.state is ConnectionState.RECONNECTING]
    assert len({c.reason for c in reconnecting}) >= 5, "assorted close reasons were seen"
    for code in (1001, 1011, 1012, 1013):
        assert any(f"code {code}" in c.reason for c in reconnecting), code

    lines = _history_lines(writer.path)
    assert lines[0]["type"] == "session" and lines[-1]["type"] == "end"
    written = [line for line in lines if line["type"] == "turn"]
    expected = [(t.role.value, t.text, t.item_id, t.status is TurnStatus.CUT_OFF) for t in shown]
    assert [
        (w["role"], w["text"], w["item_id"], bool(w["flags"].get("cut_off"))) for w in written
    ] == expected
    assert sum(1 for t in shown if t.status is TurnStatus.CUT_OFF) >= DROPS
    assert stat.S_IMODE(writer.path.stat().st_mode) == 0o600
    assert "sk-test-drops" not in writer.path.read_text(encoding="utf-8")

    # each new connection was given the latest turns before it, at most REPLAY_TURNS of them
    order = [t.item_id for t in turns if t.role in (Role.USER, Role.ASSISTANT) and t.text.strip()]
    texts = {t.item_id: t.text for t in turns}
    known: set[str] = set()
    for number, record in enumerate(sessions[1:], start=1):
        known |= _item_ids(sessions[number - 1].received) | _item_ids(sessions[number - 1].sent)
        replayed = _replayed_ids(record.received, known)
        assert 0 < len(replayed) <= REPLAY_TURNS
        end = order.index(replayed[-1]) + 1
        assert replayed == order[max(0, end - REPLAY_TURNS) : end]
        cut_text = f"message number {number - 1} that the server will cut"
        assert cut_text in [texts[i] for i in replayed], "the turn sent before the drop"


def _replied(session: Session, said: str) -> bool:
    """An assistant reply that echoes `said` came in complete."""
    return any(
        t.role is Role.ASSISTANT and t.status is TurnStatus.DONE and said in t.text
        for t in session.conversation.turns
    )


def _cut_off(session: Session) -> list[Any]:
    return [t for t in session.conversation.turns if t.status is TurnStatus.CUT_OFF]


_ = ChangeRecorder  # the recorder type the running() helper hands back


async def test_each_turn_is_written_once_when_cut_off_or_interrupted(tmp_path: Path) -> None:
    """A reply cut by a drop, then silenced by the next message, is one history line; so is
    a reply interrupted while it is still streaming."""
    audio: list[ScriptedAudio] = []
    writer = HistoryWriter(tmp_path / "history", "written-once")
    async with (
        LocalServer() as server,
        running(server, audio=audio, history=writer) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        # 1: dropped mid-reply while its audio is still queued for the speaker
        server.faults.drop_after_deltas = 2
        session.send_text("a reply the network cuts")
        await rec.wait_for(lambda: _cut_off(session), what="cut off")
        server.faults.drop_after_deltas = None
        await rec.wait_for(lambda: len(server.sessions) == 2 and live(session)(), what="back")
        # the next message silences what is left of the cut reply
        session.send_text("tell me a long story now, a long long story please")
        await rec.wait_for(
            lambda: any(
                t.role is Role.ASSISTANT and t.status is TurnStatus.IN_PROGRESS
                for t in session.conversation.turns
            ),
            what="second reply streaming",
        )
        # 2: interrupted while still streaming
        session.interrupt()
        await rec.wait_for(
            lambda: any(t.status is TurnStatus.INTERRUPTED for t in session.conversation.turns),
            what="interrupted",
        )
    ids = [line["item_id"] for line in _history_lines(writer.path) if line["type"] == "turn"]
    assert sorted(ids) == sorted(set(ids)), "a turn was written twice"
    shown = {c.turn.item_id for c in rec.of(TurnFinished)}
    assert set(ids) == shown
