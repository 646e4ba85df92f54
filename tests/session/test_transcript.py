"""A history write that fails mid-session (a full disk) is said for as long as it lasts,
and loses nothing: the turns wait, in order, and are written when the disk takes them."""

from __future__ import annotations

import errno

from tests.session.test_session import finished, live, running
from tui.changes import HistoryFailing, Notice, Role, Turn, TurnStatus
from tui.localserver import LocalServer
from tui.session.transcript import Transcript


class FullDisk:
    """A history whose writes raise ENOSPC while `full` is set."""

    def __init__(self) -> None:
        self.full = False
        self.written: list[Turn] = []
        self.closed = False

    def write_turn(self, turn: Turn) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written.append(turn)

    def close(self) -> None:
        self.closed = True


def turn(number: int) -> Turn:
    return Turn(f"item_{number}", Role.USER, f"words {number}", TurnStatus.DONE)


def test_failed_writes_wait_in_order_and_go_out_when_the_disk_takes_them() -> None:
    disk = FullDisk()
    transcript = Transcript(disk, lambda: True)
    assert transcript.write(turn(1)) == []
    disk.full = True
    failing, notice = transcript.write(turn(2))
    assert failing == HistoryFailing(1, "[Errno 28] No space left on device")
    assert isinstance(notice, Notice) and notice.level == "error"
    assert transcript.write(turn(3)) == [HistoryFailing(2, "[Errno 28] No space left on device")]
    disk.full = False
    back, said = transcript.write(turn(4))
    assert back == HistoryFailing(0) and "no turn was lost" in said.text
    assert [t.item_id for t in disk.written] == ["item_1", "item_2", "item_3", "item_4"]
    assert transcript.write(turn(5)) == [], "all is well: nothing to say"


def test_closing_tries_once_more_and_says_what_could_not_be_saved() -> None:
    disk = FullDisk()
    transcript = Transcript(disk, lambda: True)
    disk.full = True
    transcript.write(turn(1))
    assert transcript.close() == [HistoryFailing(1, "[Errno 28] No space left on device")]
    assert disk.closed


def test_history_turned_off_or_absent_writes_nothing() -> None:
    disk = FullDisk()
    assert Transcript(disk, lambda: False).write(turn(1)) == []
    assert Transcript(None, lambda: True).write(turn(1)) == []
    assert disk.written == []


async def test_a_full_disk_mid_session_is_shown_until_the_turns_are_written() -> None:
    disk = FullDisk()
    async with LocalServer() as server, running(server, history=disk) as (session, rec):
        await rec.wait_for(live(session), what="live")
        disk.full = True
        session.send_text("first")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="the first reply")
        failing = await rec.wait_for(lambda: rec.of(HistoryFailing), what="the failure said")
        assert failing[-1].unsaved >= 1 and "No space left" in failing[-1].reason
        errors = [n for n in rec.of(Notice) if "transcript" in n.text]
        assert len(errors) == 1, "one notice; the status line keeps saying it"
        disk.full = False
        session.send_text("second")
        await rec.wait_for(finished(rec, Role.ASSISTANT, 2), what="the second reply")
        await rec.wait_for(lambda: rec.of(HistoryFailing)[-1].unsaved == 0, what="saved again")
    texts = [t.text for t in disk.written]
    assert texts[0] == "first" and "second" in texts, "nothing lost, in order"
    assert len(texts) == 4 and disk.closed
