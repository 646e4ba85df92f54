"""What the session's rooms ask the controller to do: the one vocabulary they return.

A room (the event router, turn-taking, the ledger, the bad-frame throttle) never touches the
connection, the listener or the loop itself: it returns a list of effects, in order, and the
controller carries them out in that order. The order matters: with the inspector open a sent
event shows up as a change too, so sends and changes interleave exactly as listed.
A `Change` (tui.changes) is an effect too: it goes to the listener.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.changes import Change, Turn


@dataclass(frozen=True, slots=True)
class Send:
    """A client event for the live connection (dropped when there is none)."""

    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WriteHistory:
    """Write this turn to the transcript file now."""

    turn: Turn


@dataclass(frozen=True, slots=True)
class Mute:
    """Mute or unmute the microphone, saying why (e.g. "spend cap reached")."""

    muted: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WakeTicker:
    """Something the ticker watches has started: tick soon."""


@dataclass(frozen=True, slots=True)
class Proven:
    """The server answers on this connection: when it drops, the backoff starts over."""


@dataclass(frozen=True, slots=True)
class ScheduleSummary:
    """Ask the bad-frame throttle for a summary of `kind` after `delay_s`."""

    kind: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelSummary:
    """A summary of `kind` is no longer wanted (a fresh notice counts its frames)."""

    kind: str


Effect = Change | Send | WriteHistory | Mute | WakeTicker | Proven | ScheduleSummary | CancelSummary
