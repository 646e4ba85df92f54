"""The handover itself: a fresh connection opened, restored and swapped in for the ageing one.

`handover.SessionLimit` decides when (the earlier of max_session_min and the server's
expires_at, between turns); this carries it out for the controller, with what it is handed:
how to make and restore a connection, the one live now, and where changes go. The fresh
connection waits in `fresh` until the controller's loop takes it, once the old one closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tui.changes import Change, Notice, Stats, StatsChanged
from tui.errors import ConnectError
from tui.session.handover import SessionLimit


class Handover:
    def __init__(
        self,
        *,
        make: Callable[[], Any],
        restore: Callable[[Any], None],
        live: Callable[[], Any],
        emit: Callable[[Change], None],
        limit: SessionLimit,
        quiet: Callable[[], bool],
        stats: Stats,
    ) -> None:
        self._make = make
        self._restore = restore
        self._live = live  # the live connection, or None between connections
        self._emit = emit
        self._limit = limit
        self._quiet = quiet
        self._stats = stats
        self.fresh: Any = None  # a restored connection waiting to be swapped in
        self._task: asyncio.Task[None] | None = None

    def check(self) -> None:
        """Called on the session's ticks while live: count down in the header, and start
        the handover once it is due and nothing is being said."""
        plan = self._limit.plan(quiet=self._quiet())
        if plan is None:
            return
        if plan.countdown_s != self._stats.handover_in_s:
            self._stats.handover_in_s = plan.countdown_s
            self._emit(StatsChanged(self._stats))
        busy = self._task is not None and not self._task.done()
        if plan.due and not busy:
            self._task = asyncio.create_task(self._hand_over(), name="session-handover")

    def take(self) -> Any:
        """The fresh connection for the loop to converse on (None if there is none)."""
        fresh, self.fresh = self.fresh, None
        return fresh

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        fresh, self.fresh = self.fresh, None
        if fresh is not None:
            await fresh.close()

    async def _hand_over(self) -> None:
        fresh = self._make()
        try:
            await fresh.connect()
        except ConnectError as error:
            self._emit(Notice("warning", f"Session handover failed, will retry: {error}"))
            self._limit.retry_later()
            return
        self._restore(fresh)
        old = self._live()
        self.fresh = fresh  # set before the old one closes: its ending is then planned
        if old is not None:
            await old.close()
        self._emit(Notice("information", "Handed over to a fresh session (time limit)."))
