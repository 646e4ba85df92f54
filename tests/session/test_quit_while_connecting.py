"""Quitting while a handshake is pending is instant (issue 9): the session holds the
connection before connect() and closes it on stop; the cancelled connect is a planned
stop, never an error shown to the user."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.session.helpers import ChangeRecorder
from tests.session.test_session import TEST_KEY, settings_for
from tui.changes import ConnectionChanged, ConnectionState, Notice
from tui.localserver import LocalServer
from tui.localserver.faults import Faults
from tui.realtime.connection import RealtimeConnection
from tui.session import Session

# Far longer than the bound the test waits: only a stop that waits for it can fail.
SLOW_CREATED_S = 60.0


def slow_to_give_up(*args: Any, **kwargs: Any) -> RealtimeConnection:
    return RealtimeConnection(*args, created_timeout=SLOW_CREATED_S, **kwargs)


async def test_stop_during_a_pending_handshake_ends_the_session_at_once() -> None:
    async with LocalServer(faults=Faults(silent=True)) as server:
        recorder = ChangeRecorder()
        session = Session(
            settings_for(server.url),
            api_key=TEST_KEY,
            listener=recorder,
            audio_enabled=False,
            connection_factory=slow_to_give_up,
        )
        task = asyncio.create_task(session.run())
        await server.wait_for_session()  # the socket is open; session.created never comes
        assert session.state is ConnectionState.CONNECTING
        await asyncio.wait_for(session.stop(), SLOW_CREATED_S / 4)
        await asyncio.wait_for(task, SLOW_CREATED_S / 4)
        assert not [n for n in recorder.of(Notice) if n.level == "error"], recorder.changes
        states = [c.state for c in recorder.of(ConnectionChanged)]
        assert ConnectionState.RECONNECTING not in states, "a planned stop is not retried"
