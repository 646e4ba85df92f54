"""Typed turns are never lost (issue 9): drawn when sent, pending until the server echoes
the item (then the same turn is confirmed, not a second one), saved; typed while offline,
shown at once, sent on reconnect in order and once, and saved marked "not sent" when the
user quits first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.session.test_session import TEST_KEY, finished, live, received, running
from tui import history
from tui.changes import ConnectionState, Notice, Role, TurnStarted, TurnStatus
from tui.localserver import LocalServer
from tui.localserver.faults import Faults
from tui.realtime.connection import RealtimeConnection
from tui.realtime.events import BadEvent, ServerEvent

ECHOES = {"conversation.item.added", "conversation.item.created", "conversation.item.done"}


def writer(tmp_path: Path) -> history.HistoryWriter:
    return history.HistoryWriter(tmp_path, "typed", secrets=[TEST_KEY])


def saved(writer: history.HistoryWriter) -> list[history.TurnRecord]:
    return [t for t in history.read_transcript(writer.path) if t.role == "user"]


def user_turns_started(rec: Any) -> list[Any]:
    return [c.turn for c in rec.of(TurnStarted) if c.turn.role is Role.USER]


async def test_a_typed_turn_is_drawn_when_sent_and_confirmed_as_the_same_turn(
    tmp_path: Path,
) -> None:
    kept = writer(tmp_path)
    async with LocalServer() as server, running(server, history=kept) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("hello there")
        [drawn] = user_turns_started(rec)  # at once: no server event has been handled yet
        assert drawn.text == "hello there" and "sending" in drawn.reason
        assert not drawn.final
        [user] = await rec.wait_for(finished(rec, Role.USER), what="the echo confirms it")
        assert user is drawn and user.status is TurnStatus.DONE and user.reason == ""
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        assert user_turns_started(rec) == [drawn], "the echo is not a second turn"
        [item] = [e["item"] for e in received(server, "conversation.item.create")]
        assert item["id"] == drawn.item_id
    [record] = saved(kept)
    assert record.text == "hello there" and record.flags == {}


class NoEcho(RealtimeConnection):
    """A server that takes the typed item and never echoes it (the reply still comes)."""

    async def events(self) -> AsyncIterator[ServerEvent | BadEvent]:
        async for event in super().events():
            item = event.get("item") if isinstance(event, ServerEvent) else None
            if event.type in ECHOES and isinstance(item, dict) and item.get("role") == "user":
                continue
            yield event


async def test_a_turn_the_server_never_echoes_stays_pending_and_is_saved(tmp_path: Path) -> None:
    kept = writer(tmp_path)
    async with (
        LocalServer() as server,
        running(server, history=kept, connection_factory=NoEcho) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("anyone?")
        await rec.wait_for(lambda: received(server, "response.create"), what="sent")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply all the same")
        [drawn] = user_turns_started(rec)
        assert not drawn.final and "not confirmed" in drawn.reason
        assert not finished(rec, Role.USER)()
    [record] = saved(kept)
    assert record.text == "anyone?" and "never confirmed" in record.flags["reason"]


async def test_typed_while_offline_is_shown_saved_and_sent_once_in_order_on_reconnect(
    tmp_path: Path,
) -> None:
    kept = writer(tmp_path)
    async with (
        LocalServer(faults=Faults(refuse_status=401)) as server,
        running(server, history=kept) as (session, rec),
    ):
        await rec.wait_for(lambda: session.state is ConnectionState.OFFLINE, what="offline")
        session.send_text("first")
        session.send_text("second")
        drawn = user_turns_started(rec)
        assert [t.text for t in drawn] == ["first", "second"]
        assert all("when connected" in t.reason and not t.final for t in drawn)
        server.faults.refuse_status = None
        session.reconnect()
        await rec.wait_for(finished(rec, Role.USER, 2), what="both confirmed")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        assert reply.status is TurnStatus.DONE
        assert len(received(server, "response.create")) == 1, "one reply to both"
        assert not [n for n in rec.of(Notice) if n.text.startswith("Server error")]
        items = [e["item"] for e in received(server, "conversation.item.create")]
        assert [i["content"][0]["text"] for i in items] == ["first", "second"], "once, in order"
        assert [i["id"] for i in items] == [t.item_id for t in drawn]
        assert user_turns_started(rec) == drawn
    assert [(r.text, r.flags) for r in saved(kept)] == [("first", {}), ("second", {})]


async def test_typed_while_offline_and_quit_is_saved_marked_not_sent(tmp_path: Path) -> None:
    kept = writer(tmp_path)
    async with (
        LocalServer(faults=Faults(refuse_status=401)) as server,
        running(server, history=kept) as (session, rec),
    ):
        await rec.wait_for(lambda: session.state is ConnectionState.OFFLINE, what="offline")
        session.send_text("do not lose me")
    [record] = saved(kept)
    assert record.text == "do not lose me" and "not sent" in record.flags["reason"]
    assert "not sent" in history.format_session(history.read_transcript(kept.path))


async def test_typed_at_the_spend_cap_is_drawn_and_saved_marked_not_sent(tmp_path: Path) -> None:
    """At the cap nothing more is sent; the words typed then used to vanish (a warning, an
    emptied box). They are drawn, marked not sent and why, and saved."""
    kept = writer(tmp_path)
    tiny_cap = {"session__spend_cap_usd": 0.000001}  # the first reply reaches it
    async with (
        LocalServer() as server,
        running(server, history=kept, **tiny_cap) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("first")
        await rec.wait_for(lambda: session.capped, what="the cap reached")
        session.send_text("keep my words")
        drawn = user_turns_started(rec)[-1]
        assert drawn.text == "keep my words"
        assert drawn.reason == "not sent: spend cap $1e-06 reached"
        assert any("Spend cap" in n.text for n in rec.of(Notice))
        items = [e["item"] for e in received(server, "conversation.item.create")]
        assert [i["content"][0]["text"] for i in items] == ["first"], "nothing more is sent"
    records = saved(kept)
    assert [r.text for r in records] == ["first", "keep my words"]
    assert records[1].flags["reason"] == "not sent: spend cap $1e-06 reached"
