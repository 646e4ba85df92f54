"""The session's one ticker: fast while something it watches can change, else idle.

It watches audibility, the latency mark and history waiting on playback at 10 Hz while there
is something to watch (latency itself comes from timestamps, so 10 Hz only sets how soon the
UI shows it); otherwise once a second, which the handover check needs. Audio arriving wakes
it at once, so "assistant speaking" shows within a tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

TICK_S = 0.1
IDLE_TICK_S = 1.0


class Ticker:
    def __init__(self, tick: Callable[[], None], watching: Callable[[], bool]) -> None:
        self._tick = tick
        self._watching = watching  # whether anything watched can change within a second
        self._loop: asyncio.AbstractEventLoop | None = None
        self.handle: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._schedule(TICK_S)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def wake(self) -> None:
        """Something to watch has started: tick soon if the next tick is further away."""
        handle, loop = self.handle, self._loop
        if handle is not None and loop is not None and handle.when() - loop.time() > TICK_S:
            self._schedule(TICK_S)

    def _schedule(self, delay: float) -> None:
        assert self._loop is not None
        if self.handle is not None:
            self.handle.cancel()
        self.handle = self._loop.call_later(delay, self._run)

    def _run(self) -> None:
        self.handle = None
        try:
            self._tick()
        finally:  # a failing check must not stop the ticker
            self._schedule(TICK_S if self._watching() else IDLE_TICK_S)
