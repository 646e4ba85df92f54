"""Auth failures stop retrying; no key over plain ws://; the server's session limit."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tests.session.test_session import live, running
from tui.changes import ConnectionChanged, ConnectionState, Notice, Role, TurnStatus
from tui.localserver import LocalServer
from tui.localserver.faults import MAX_DURATION_REASON, Faults
from tui.session import Session

FIRST_BACKOFF_MAX_S = 0.5  # Backoff(first=0.5): the first retry would come within this


def _replied(session: Session, said: str) -> bool:
    return any(
        t.role is Role.ASSISTANT and t.status is TurnStatus.DONE and said in t.text
        for t in session.conversation.turns
    )


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failure_is_tried_once_and_names_the_variable(status: int) -> None:
    async with (
        LocalServer(faults=Faults(refuse_status=status)) as refusing,
        LocalServer(faults=Faults(refuse_status=503)) as clock_server,
        running(refusing) as (session, rec),
    ):
        await rec.wait_for(lambda: session.state is ConnectionState.OFFLINE, what="offline")
        offline_at = time.monotonic()
        # the clock: another session retrying a busy server, which does back off and retry;
        # several of its handshakes and twice the first backoff period must pass
        async with running(clock_server) as (_, clock_rec):
            await clock_rec.wait_for(
                lambda: (
                    len(clock_server.handshakes) >= 3
                    and time.monotonic() - offline_at > 2 * FIRST_BACKOFF_MAX_S
                ),
                timeout=20,
                what="the other session's retries",
            )
        assert refusing.handshakes == [status], "an auth failure is not retried"
        assert session.state is ConnectionState.OFFLINE
        errors = [n.text for n in rec.of(Notice) if n.level == "error"]
        assert errors and "OPENAI_API_KEY" in errors[0]
        assert str(status) in errors[0] or "rejected" in errors[0].lower()


async def test_session_never_sends_a_key_over_plain_ws_to_a_remote_host(monkeypatch) -> None:
    opened: list[Any] = []

    def no_sockets(*args: Any, **kwargs: Any) -> None:
        opened.append(args)
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_sockets)
    monkeypatch.setattr(socket.socket, "connect", no_sockets)

    remote: Any = SimpleNamespace(url="ws://example.invalid/v1/realtime")  # running() reads .url
    async with running(remote, api_key="sk-test-plain-ws-0123456789") as (session, rec):
        await rec.wait_for(lambda: session.state is ConnectionState.OFFLINE, what="refused")
    errors = [n.text for n in rec.of(Notice) if n.level == "error"]
    assert errors and "wss://" in errors[0]
    assert "sk-test-plain-ws" not in " ".join(errors)
    assert opened == []


async def test_server_session_limit_reconnects_and_restores() -> None:
    async with LocalServer(realtime_factor=40) as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("remember the word pineapple")
        await rec.wait_for(lambda: _replied(session, "pineapple"), what="reply")
        server.faults.max_session_s = 0.0  # the limit is reached now
        await rec.wait_for(lambda: len(server.sessions) >= 2, what="reconnected")
        server.faults.max_session_s = None
        await rec.wait_for(live(session), what="live again")
        assert server.sessions[0].ended_by == f"close 1001 {MAX_DURATION_REASON}"
        reasons = [c.reason for c in rec.of(ConnectionChanged) if c.state.value == "reconnecting"]
        assert any(MAX_DURATION_REASON in r and "1001" in r for r in reasons)
        restored = [
            e for e in server.sessions[-1].received if e["type"] == "conversation.item.create"
        ]
        texts = [part.get("text") for e in restored for part in e["item"]["content"]]
        assert "remember the word pineapple" in texts
        session.send_text("what was the word")
        await rec.wait_for(lambda: _replied(session, "what was the word"), what="reply after")


async def test_own_handover_comes_before_the_server_limit() -> None:
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    # the server ends each connection 5 s in (standing in for its 60 min); the session's
    # clock is moved to a minute before its own max_session_min, which must win the race
    server_limit = Faults(max_session_s=5.0)
    async with (
        LocalServer(faults=server_limit, realtime_factor=40) as server,
        running(server, clock=clock) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("first words before the handover")
        await rec.wait_for(lambda: _replied(session, "first words"), what="reply")
        offset[0] = session.settings.connection.max_session_min * 60.0 - 60
        await rec.wait_for(lambda: server.sessions[0].closed.is_set(), what="old closed")
        assert server.sessions[0].ended_by == "", "the client closed it, not the server's limit"
        assert len(server.sessions) == 2
        assert ConnectionState.RECONNECTING not in [c.state for c in rec.of(ConnectionChanged)]
        assert not [t for t in session.conversation.turns if t.status is TurnStatus.CUT_OFF]
        restored = server.sessions[1].received
        texts = [
            part.get("text")
            for e in restored
            if e["type"] == "conversation.item.create"
            for part in e["item"]["content"]
        ]
        assert "first words before the handover" in texts
        session.send_text("and after it")
        await rec.wait_for(lambda: _replied(session, "and after it"), what="reply after")


async def test_handover_comes_before_the_expiry_the_server_announces() -> None:
    """session.created's expires_at ends the session long before max_session_min (60): the
    handover comes before it, while the announced moment is still ahead."""
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    lifetime_s = 400  # the server's session, announced as expires_at and enforced
    async with (
        LocalServer(faults=Faults(max_session_s=lifetime_s), realtime_factor=40) as server,
        running(server, clock=clock) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        created = server.sessions[0].sent[0]
        assert created["type"] == "session.created"
        expires_at = created["session"]["expires_at"]
        assert lifetime_s - 2 <= expires_at - time.time() <= lifetime_s
        session.send_text("words before the expiry")
        await rec.wait_for(lambda: _replied(session, "words before"), what="reply")
        # 300 s on: the expiry is 100 s away, inside the handover margin; the 60 min timer
        # alone would wait almost an hour more
        offset[0] = lifetime_s - 100.0
        await rec.wait_for(lambda: server.sessions[0].closed.is_set(), what="old closed")
        assert time.time() < expires_at, "handed over before the announced end"
        assert server.sessions[0].ended_by == "", "the client closed it, not the server"
        assert len(server.sessions) == 2
        assert ConnectionState.RECONNECTING not in [c.state for c in rec.of(ConnectionChanged)]
        # the fresh session counts down from its own expiry, a whole lifetime away
        await rec.wait_for(
            lambda: (left := session.stats.handover_in_s) is not None and left > 200,
            what="the countdown of the fresh session",
        )
        session.send_text("and after it")
        await rec.wait_for(lambda: _replied(session, "and after it"), what="reply after")
        assert len(server.sessions) == 2, "no handover loop on the fresh connection"
