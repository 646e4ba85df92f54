"""The history gate: a reply is written to the transcript once it has played.

The server finishes a reply long before the speaker has played it, and a reply the user
talks over ends up interrupted, with only what was heard. So a finished assistant reply that
is still playing is held here; it is let through when its last sample has played, when the
user cuts it off (then marked interrupted), or when the session ends. Every turn is let
through exactly once. The gate returns turns; the controller writes them.
"""

from __future__ import annotations

from typing import Protocol

from tui.changes import Role, Turn, TurnStatus


class Playback(Protocol):
    """How much of an assistant item reached the speaker, and how much arrived."""

    def played_ms(self, item_id: str) -> int: ...

    def received_ms(self, item_id: str) -> int: ...


class HistoryGate:
    def __init__(self) -> None:
        self._held: dict[str, Turn] = {}

    @property
    def waiting(self) -> bool:
        """A reply is held until it has played (the ticker watches for that)."""
        return bool(self._held)

    def finished(self, turn: Turn, playback: Playback | None) -> list[Turn]:
        """A turn became final: the turns to write now (none if it still plays)."""
        if (
            turn.role is Role.ASSISTANT
            and turn.status is TurnStatus.DONE
            and playback is not None
            and not _played(playback, turn.item_id)
        ):
            self._held[turn.item_id] = turn
            return []
        return [turn]

    def interrupted(self, item_id: str) -> list[Turn]:
        """The user cut this reply off: if it was held, it goes out now, marked interrupted;
        one that was never held (already written, or still open) is not written again."""
        turn = self._held.pop(item_id, None)
        return [turn] if turn is not None else []

    def flush(self, playback: Playback | None) -> list[Turn]:
        """The held replies that have played; all of them when there is no playback (audio
        stopped, or the session ends)."""
        done = [item_id for item_id in self._held if playback is None or _played(playback, item_id)]
        return [self._held.pop(item_id) for item_id in done]


def _played(playback: Playback, item_id: str) -> bool:
    # 1 ms of slack: played and received are both rounded down to whole milliseconds
    return playback.played_ms(item_id) + 1 >= playback.received_ms(item_id)
