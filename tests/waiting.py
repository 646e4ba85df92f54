"""Bounded waits for conditions no event announces (a device filling a buffer, a server's
record): poll at a short interval, fail naming what was awaited. Never a timing guess."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def poll_until(
    condition: Callable[[], object], timeout: float, what: str, step: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


async def apoll_until(
    condition: Callable[[], object], timeout: float, what: str, step: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(step)
