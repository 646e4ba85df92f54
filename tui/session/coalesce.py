"""What the session hands the UI under a flood: at most one status change and one text
change per turn per UI frame.

A server may send thousands of small valid events a second (rate_limits.updated, transcript
deltas). Each used to reach the UI as its own change (a status line re-render per rate
limit), and the reading loop never let go of the event loop, so a key press waited for the
whole flood. Now `StatsChanged` and `TurnText` are held for one frame (`FRAME_S`) and only
the latest of each is handed on; any other change first hands on what is held, so the UI
sees changes in the order they happened. The UI's work per event is O(1): a dict write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui.changes import Change, StatsChanged, TurnText

FRAME_S = 1 / 30  # one UI frame at the rate Textual repaints
# The reading loop hands the event loop back (to keys, timers, painting) this often.
READ_SLICE_S = 0.005


class Coalescer:
    def __init__(self, hand_on: Callable[[Change], None]) -> None:
        self._hand_on = hand_on
        self._stats: StatsChanged | None = None
        self._texts: dict[str, TurnText] = {}  # item id -> the latest text change
        self._due: asyncio.TimerHandle | None = None  # the flush at the end of this frame

    @property
    def holding(self) -> bool:
        return self._stats is not None or bool(self._texts)

    def offer(self, change: Change) -> bool:
        """Hold `change` for the next frame (True), or hand on what is held first (False:
        the caller hands `change` on itself, now)."""
        if isinstance(change, StatsChanged):
            self._stats = change
        elif isinstance(change, TurnText):
            self._texts[change.turn.item_id] = change
        else:
            self.flush()
            return False
        if self._due is None:  # the first held change of this frame: flush at its end
            self._due = asyncio.get_running_loop().call_later(FRAME_S, self.flush)
        return True

    def flush(self) -> None:
        """Hand on what is held: the text changes in order, then the latest stats."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        texts, self._texts = self._texts, {}
        stats, self._stats = self._stats, None
        for text in texts.values():
            self._hand_on(text)
        if stats is not None:
            self._hand_on(stats)
