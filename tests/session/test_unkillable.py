"""The session loop is unkillable (issue 9): an unexpected exception while handling one
server event, in a route step or in an effect, is reported (log, inspector, a notice:
printable, no key) and the next event is handled. If run() stops anyway, the header says
so instead of "live", and what is typed afterwards is still drawn and saved."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.hostile import forbidden_in
from tests.session.helpers import ChangeRecorder
from tests.session.test_session import TEST_KEY, finished, live, running, settings_for
from tests.waiting import apoll_until
from tui.changes import (
    Change,
    ConnectionChanged,
    ConnectionState,
    EventLogged,
    Notice,
    Role,
    Turn,
    TurnStarted,
    TurnStatus,
)
from tui.config import with_value
from tui.localserver import LocalServer
from tui.realtime.connection import RealtimeConnection
from tui.session import Session, dispatch
from tui.session.rooms import Rooms
from tui.session.turns import TurnTaking
from tui.session.typed import TypedTurns

POISON = f"boom {TEST_KEY} \x1b]0;PWNED\x07\x1b[2J"


def raise_once(kind: str) -> Any:
    calls: list[int] = []

    def step(conversation: Any, event: Any) -> list[Change]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(f"{POISON} in {kind}")
        return []

    return step


def assert_reported(recorder: ChangeRecorder, where: str) -> None:
    errors = [n for n in recorder.of(Notice) if n.level == "error" and "Internal" in n.text]
    assert len(errors) == 1, recorder.changes
    [notice] = errors
    assert where in notice.text and "RuntimeError" in notice.text
    assert TEST_KEY not in notice.text and forbidden_in(notice.text) == []


async def test_an_exception_in_a_route_step_skips_that_event_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kind = "response.output_audio_transcript.delta"
    monkeypatch.setitem(dispatch.ROUTES, kind, (raise_once(kind), *dispatch.ROUTES[kind]))
    async with LocalServer() as server, running(server) as (session, rec):
        session.inspect = True
        await rec.wait_for(live(session), what="live")
        session.send_text("still here")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        assert reply.status is TurnStatus.DONE and "still here" in reply.text
        assert_reported(rec, kind)
        logged = [c.event for c in rec.of(EventLogged) if c.event["type"].startswith("rt-tui.")]
        assert logged[0]["type"] == "rt-tui.internal_error" and logged[0]["where"] == kind
        assert TEST_KEY not in str(logged) and forbidden_in(str(logged)) == []
        assert session.state is ConnectionState.LIVE
    assert "internal error" in caplog.text and TEST_KEY not in caplog.text
    assert forbidden_in(caplog.text) == []


async def test_an_exception_in_carrying_out_an_effect_skips_that_event_only() -> None:
    """The listener (the app) raising on a change is an effect failing."""
    async with LocalServer() as server:
        recorder = ChangeRecorder()
        failed: list[Change] = []

        def listener(change: Change) -> None:
            recorder(change)
            started = isinstance(change, TurnStarted) and change.turn.role is Role.ASSISTANT
            if started and not failed:
                failed.append(change)
                raise RuntimeError(POISON)

        session = Session(
            settings_for(server.url), api_key=TEST_KEY, listener=listener, audio_enabled=False
        )
        task = asyncio.create_task(session.run())
        await recorder.wait_for(live(session), what="live")
        session.send_text("first")
        await recorder.wait_for(lambda: failed, what="the failing change")
        session.send_text("second")
        await recorder.wait_for(finished(recorder, Role.ASSISTANT, 2), what="both replies")
        assert_reported(recorder, "response.output_item.added")
        assert not task.done(), "the session goes on"
        await session.stop()
        await asyncio.wait_for(task, 10)


class KeptHistory:
    def __init__(self) -> None:
        self.written: list[Turn] = []
        self.closed = False

    def write_turn(self, turn: Turn) -> None:
        assert not self.closed, "written after close"
        self.written.append(turn)

    def close(self) -> None:
        self.closed = True


async def test_a_session_that_stops_anyway_says_so_and_keeps_what_is_typed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_restore(self: Rooms, settings: Any) -> list[Any]:
        raise RuntimeError(POISON)

    monkeypatch.setattr(Rooms, "restore", broken_restore)
    history = KeptHistory()
    made: list[RealtimeConnection] = []

    def kept_connection(*args: Any, **kwargs: Any) -> RealtimeConnection:
        made.append(RealtimeConnection(*args, **kwargs))
        return made[-1]

    async with LocalServer() as server:
        recorder = ChangeRecorder()
        session = Session(
            settings_for(server.url),
            api_key=TEST_KEY,
            listener=recorder,
            audio_enabled=False,
            history=history,
            connection_factory=kept_connection,
        )
        task = asyncio.create_task(session.run())
        with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError):
            await asyncio.wait_for(task, 10)
        # it failed between connecting and going live: its socket is closed all the same
        [conn] = made
        assert conn.closed
        await apoll_until(lambda: not server._connections, 5, "the server to see the close")
        last = recorder.of(ConnectionChanged)[-1]
        assert last.state is ConnectionState.OFFLINE, "never 'live' once the session stopped"
        assert "RuntimeError" in last.reason and TEST_KEY not in last.reason
        session.send_text("are you there?")
        [typed] = [c.turn for c in recorder.of(TurnStarted) if c.turn.role is Role.USER]
        assert typed.text == "are you there?" and "not sent" in typed.reason
        assert [t.text for t in history.written] == ["are you there?"], "saved at once"
        await session.stop()
        assert history.closed


def poisoned(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(POISON)


@pytest.mark.parametrize(
    ("room", "method", "intent", "where"),
    [
        (TurnTaking, "barge_in", "interrupt", "the interrupt key"),
        (TurnTaking, "talk", "talk", "the talk key"),
        (TurnTaking, "toggle_mute", "toggle_mute", "the mute key"),
    ],
)
async def test_a_bug_in_a_key_intent_is_reported_and_the_session_goes_on(
    monkeypatch: pytest.MonkeyPatch, room: type, method: str, intent: str, where: str
) -> None:
    """The app calls these on a key press: raising there would end the app."""
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        with monkeypatch.context() as patch:
            patch.setattr(room, method, poisoned)
            getattr(session, intent)()  # does not raise
        assert_reported(rec, where)
        session.send_text("still here")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the next reply")
        assert "still here" in reply.text and session.state is ConnectionState.LIVE


async def test_typed_words_that_hit_a_bug_are_drawn_and_saved_not_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TypedTurns, "typed", poisoned)
    history = KeptHistory()
    async with LocalServer() as server, running(server, history=history) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("my words")
        assert_reported(rec, "typed text")
        [drawn] = [c.turn for c in rec.of(TurnStarted) if c.turn.role is Role.USER]
        assert drawn.text == "my words" and drawn.reason == "not sent: an internal error"
    assert [t.text for t in history.written] == ["my words"]


async def test_a_bug_in_applying_settings_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Rooms, "apply_settings", poisoned)
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        changed = with_value(session.settings, "session.voice", "cedar")
        assert session.apply_settings(changed) == []
        assert_reported(rec, "applying the settings")
