"""When to hand over to a fresh connection before the server ends the session.

A session ends at the earlier of two moments: `[connection] max_session_min` after the
connection opened, and the `expires_at` the server announces in `session.created` (unix
seconds; the real server sends it though the SDK's model does not declare it). Before that,
between turns, the controller opens a fresh connection, restores it and swaps it in, so a long
talk never breaks mid-sentence. The header counts down in the last minutes. This module only
decides; the controller does the handover.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HANDOVER_MARGIN_S = 120.0  # hand over this long before the session ends
COUNTDOWN_S = 300.0  # show the handover countdown in the last five minutes
LAST_CHANCE_S = 10.0  # this close to the end, hand over even in the middle of a turn
RETRY_S = 60.0  # a handover that failed is tried again this much later
# An expires_at closer than this when the session starts is not believed (a clock far off
# the server's, or a broken server): every fresh connection would be handed over at once.
# The max_session_min timer still counts.
MIN_LIFETIME_S = 300.0


@dataclass(frozen=True, slots=True)
class HandoverPlan:
    countdown_s: float | None  # for the header; None until the last COUNTDOWN_S
    due: bool  # start the handover now


def plan_handover(left_s: float, *, quiet: bool) -> HandoverPlan:
    """`left_s`: seconds until the session ends; `quiet`: nobody speaks and no reply runs."""
    countdown = left_s - HANDOVER_MARGIN_S
    shown = round(countdown) if countdown <= COUNTDOWN_S else None
    return HandoverPlan(shown, countdown <= 0 and (quiet or left_s <= LAST_CHANCE_S))


class SessionLimit:
    """The end of the current connection's session, on the session's clock (monotonic).

    `max_session_s()` is read at every check (the settings can change); `wall` is the clock
    `expires_at` is counted on (unix time), taken once when it arrives.
    """

    def __init__(
        self,
        max_session_s: Callable[[], float],
        clock: Callable[[], float],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._max_session_s = max_session_s
        self._clock = clock
        self._wall = wall
        self._opened_at: float | None = None
        self._expires_at: float | None = None  # the server's end, on the session clock
        self._retry_at: float | None = None

    def opened(self) -> None:
        """A connection became the live one: its own session starts now."""
        self._opened_at = self._clock()
        self._expires_at = self._retry_at = None

    def closed(self) -> None:
        self._opened_at = self._expires_at = self._retry_at = None

    def announced(self, expires_at: Any) -> None:
        """session.created's `expires_at` (unix seconds), if it is one to believe."""
        if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
            return
        remaining = expires_at - self._wall()
        if math.isfinite(remaining) and remaining >= MIN_LIFETIME_S:
            self._expires_at = self._clock() + remaining

    def retry_later(self) -> None:
        """The handover failed: the next try waits RETRY_S (the ageing connection still
        works, and a new one is opened anyway if the server closes it)."""
        self._retry_at = self._clock() + RETRY_S

    def left_s(self) -> float | None:
        """Seconds until the session ends; None without a live connection."""
        if self._opened_at is None:
            return None
        now = self._clock()
        left = self._max_session_s() - (now - self._opened_at)
        if self._expires_at is not None:
            left = min(left, self._expires_at - now)
        return left

    def plan(self, *, quiet: bool) -> HandoverPlan | None:
        """The countdown and whether to hand over now; None without a live connection."""
        left = self.left_s()
        if left is None:
            return None
        plan = plan_handover(left, quiet=quiet)
        if plan.due and self._retry_at is not None and self._clock() < self._retry_at:
            return HandoverPlan(plan.countdown_s, due=False)
        return plan
