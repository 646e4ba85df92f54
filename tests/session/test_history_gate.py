"""The history gate without a server: a reply is written once it has played, exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.changes import Role, Turn, TurnStatus
from tui.session.history_gate import HistoryGate


@dataclass
class Playback:
    played: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)

    def played_ms(self, item_id: str) -> int:
        return self.played.get(item_id, 0)

    def received_ms(self, item_id: str) -> int:
        return self.received.get(item_id, 0)


def reply(item_id: str = "item_A", status: TurnStatus = TurnStatus.DONE) -> Turn:
    return Turn(item_id=item_id, role=Role.ASSISTANT, text="a long answer", status=status)


def test_a_reply_still_playing_is_held_until_it_has_played() -> None:
    gate, playback = HistoryGate(), Playback(played={"item_A": 400}, received={"item_A": 2000})
    turn = reply()
    assert gate.finished(turn, playback) == []
    assert gate.waiting
    assert gate.flush(playback) == [], "not played yet"
    playback.played["item_A"] = 1999  # within a millisecond of the end: played
    assert gate.flush(playback) == [turn]
    assert not gate.waiting
    assert gate.flush(playback) == [], "written once"
    assert gate.interrupted("item_A") == [], "and not again when cut off later"


def test_a_reply_that_has_played_and_every_other_turn_go_through_at_once() -> None:
    gate, playback = HistoryGate(), Playback(played={"item_A": 2000}, received={"item_A": 2000})
    played = reply()
    user = Turn(item_id="item_U", role=Role.USER, text="hello", status=TurnStatus.DONE)
    cut = reply("item_B", TurnStatus.CUT_OFF)
    playback.received["item_B"] = 5000  # cut off while playing: its end is known now
    for turn in (played, user, cut):
        assert gate.finished(turn, playback) == [turn]
    assert not gate.waiting


def test_without_playback_nothing_waits() -> None:
    gate = HistoryGate()
    turn = reply()
    assert gate.finished(turn, None) == [turn]


def test_an_interrupted_reply_is_written_once_marked_as_interrupted() -> None:
    gate, playback = HistoryGate(), Playback(played={"item_A": 700}, received={"item_A": 3000})
    turn = reply()
    gate.finished(turn, playback)
    turn.status, turn.heard_ms = TurnStatus.INTERRUPTED, 700.0  # what the conversation marks
    [written] = gate.interrupted("item_A")
    assert written is turn and written.status is TurnStatus.INTERRUPTED
    assert written.heard_ms == 700.0
    assert gate.flush(playback) == [] and gate.interrupted("item_A") == []


def test_flush_without_playback_lets_every_held_reply_out_in_order() -> None:
    """The session ends (or audio stopped): held replies are written, played or not."""
    gate, playback = HistoryGate(), Playback(received={"item_A": 900, "item_B": 900})
    first, second = reply("item_A"), reply("item_B")
    gate.finished(first, playback)
    gate.finished(second, playback)
    assert gate.flush(None) == [first, second]
    assert not gate.waiting
