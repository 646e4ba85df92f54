"""The bad-frame throttle: every bad frame is counted and logged, few are announced.

A burst of bad frames (a broken proxy, a server bug) must not bury the screen in toasts:
one notice per kind of bad frame at most every `BAD_NOTICE_INTERVAL_S`. The inspector still
gets every frame, and frames skipped in between are summed up in one notice at the end of
the interval (the controller schedules it when asked to, with `ScheduleSummary`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tui.changes import EventLogged, Notice
from tui.realtime.events import BadEvent
from tui.session.effects import CancelSummary, Effect, ScheduleSummary

BAD_NOTICE_INTERVAL_S = 5.0  # read at each frame, so a test can shorten it


@dataclass
class _Announced:
    """When frames of one bad kind were last announced, and what came since."""

    at: float
    count: int  # counts[kind] when last announced
    reason: str = ""  # of the latest frame not yet announced
    summary_pending: bool = False


class BadFrameThrottle:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()  # every bad frame, by kind
        self._announced: dict[str, _Announced] = {}

    def admit(self, bad: BadEvent, now: float) -> list[Effect]:
        """One bad frame: logged for the inspector, announced if its kind has been quiet."""
        self.counts[bad.kind] += 1
        logged = EventLogged(
            "in",
            {
                "type": "rt-tui.bad_frame",
                "kind": bad.kind,
                "reason": bad.reason,
                "preview": bad.preview,
            },
        )
        return [logged, *self._announce(bad, now)]

    def summarise(self, kind: str, now: float) -> list[Effect]:
        """The interval after a notice is over: one notice for the frames skipped in it."""
        shown = self._announced[kind]
        shown.summary_pending = False
        count = self.counts[kind]
        more = count - shown.count
        if more <= 0:
            return []
        shown.at, shown.count = now, count
        frames = "frame" if more == 1 else "frames"
        text = f"Skipped {more} more bad server {frames}: {shown.reason} ({count} so far)"
        return [Notice("warning", text)]

    def _announce(self, bad: BadEvent, now: float) -> list[Effect]:
        count = self.counts[bad.kind]
        shown = self._announced.get(bad.kind)
        if shown is None or now - shown.at >= BAD_NOTICE_INTERVAL_S:
            effects: list[Effect] = []
            if shown is not None and shown.summary_pending:
                effects.append(CancelSummary(bad.kind))
            self._announced[bad.kind] = _Announced(now, count)
            text = f"Skipped a bad server frame: {bad.reason} ({count} so far)"
            return [*effects, Notice("warning", text)]
        shown.reason = bad.reason
        if shown.summary_pending:
            return []
        shown.summary_pending = True
        return [ScheduleSummary(bad.kind, BAD_NOTICE_INTERVAL_S - (now - shown.at))]
