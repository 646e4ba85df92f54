"""The transcript: turns written to the history file, and a write that fails is not forgotten.

The history gate says when a turn is ready to be written; this room writes it. A write can
fail mid-session (a full disk, a folder gone, an I/O error): the turn is then kept here, in
order with the ones after it, and every later write tries them again first, so when space
comes back nothing is missing and nothing is out of order. While turns wait, the status line
says so for as long as it lasts (`HistoryFailing`: how many turns are not saved, and why),
not a toast that fades; one notice says it when it starts and one when it is over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tui.changes import HistoryFailing, Notice, Turn
from tui.printable import one_line
from tui.session.effects import Effect

REASON_CHARS = 160  # of the error's message, for the status line and the notice


class HistoryLike(Protocol):
    """What the room uses of tui.history.HistoryWriter."""

    def write_turn(self, record: Turn) -> object: ...

    def close(self) -> None: ...


class Transcript:
    def __init__(self, history: HistoryLike | None, enabled: Callable[[], bool]) -> None:
        self._history = history
        self._enabled = enabled  # the [history] enabled setting in force
        self.unsaved: list[Turn] = []  # failed to write, oldest first: retried first
        self.reason = ""  # why the last write failed ("" while writes succeed)

    def write(self, turn: Turn) -> list[Effect]:
        """Write `turn` after the turns still waiting; what to show if that fails."""
        if self._history is None or not self._enabled():
            return []
        self.unsaved.append(turn)
        return self.retry()

    def retry(self) -> list[Effect]:
        """Write the waiting turns in order, stopping at the first that fails."""
        if self._history is None or not self.unsaved:
            return []
        failing = bool(self.reason)
        while self.unsaved:
            try:
                self._history.write_turn(self.unsaved[0])
            except OSError as error:  # tui.history.HistoryError is one too
                return self._failed(error, already=failing)
            self.unsaved.pop(0)
        if not failing:
            return []
        self.reason = ""
        return [
            HistoryFailing(0),
            Notice("information", "The transcript is written again; no turn was lost."),
        ]

    def close(self) -> list[Effect]:
        """The session ends: one last try for what waits, then the file is closed."""
        if self._history is None:
            return []
        effects = self.retry()
        try:
            self._history.close()
        except OSError as error:
            effects.append(Notice("error", f"Could not close the transcript file: {error}"))
        return effects

    def _failed(self, error: OSError, *, already: bool) -> list[Effect]:
        self.reason = one_line(str(error), REASON_CHARS)
        effects: list[Effect] = [HistoryFailing(len(self.unsaved), self.reason)]
        if not already:  # the status line keeps saying it; one notice when it starts
            effects.append(
                Notice(
                    "error",
                    f"Could not write the transcript file: {self.reason}. The turns not "
                    "saved are kept and written when it works again.",
                )
            )
        return effects
