"""The header: connection state (reason, attempt, retry countdown), endpoint, model, voice
(and a voice waiting for the next connection), and once the server has answered a
session.update, what it applied: its voice, the turn detection, text only, reply audio it
sends in a format rt-tui cannot play; each in warning colour with what was asked where the
server applied something else.

The endpoint, model and voice come from the config or the server, the reason from the
server (a close reason, an error message): each is drawn through tui.printable, on one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget

from tui.changes import Applied, ConnectionChanged, ConnectionState, SessionInfo
from tui.config import safe_url
from tui.printable import one_line

_STATE_STYLE = {
    ConnectionState.CONNECTING: ("◌", "$warning"),
    ConnectionState.LIVE: ("●", "$success"),
    ConnectionState.RECONNECTING: ("◌", "$warning"),
    ConnectionState.OFFLINE: ("○", "$error"),
}


def endpoint_host(url: str) -> str:
    """Host and port of the endpoint: never a user:password in it (safe_url drops those)."""
    shown = safe_url(url)
    try:
        return urlsplit(shown).netloc or shown
    except ValueError:  # unparsable even after safe_url: show what safe_url kept
        return shown


def connection_text(
    change: ConnectionChanged, info: SessionInfo | None, retry_left_s: float | None
) -> Content:
    """State first, then where we talk to, then why (the reason can be long: it goes last)."""
    mark, style = _STATE_STYLE[change.state]
    details: list[str] = []
    if change.attempt:
        details.append(f"attempt {change.attempt}")
    if retry_left_s is not None:
        details.append(f"retry in {max(0.0, retry_left_s):.0f} s")
    suffix = f" ({', '.join(details)})" if details else ""
    parts: list[Content | None] = [
        Content.from_markup(
            f"[{style} b]$mark $state[/][$text-muted]$suffix[/]",
            mark=mark,
            state=str(change.state),
            suffix=suffix,
        )
    ]
    if info is not None:
        applied = info.applied
        parts.append(
            Content.from_markup(
                "  [$text-muted]│[/] $host [$text-muted]·[/] $model [$text-muted]· voice[/] ",
                host=one_line(endpoint_host(info.url)),
                model=one_line(info.model),
            )
        )
        # once the server has answered, its word: the voice it applied, not the one asked
        if applied is not None and applied.voice:
            parts.append(_field(applied.voice, applied.asked_for("voice")))
        else:
            parts.append(Content(one_line(info.voice)))
        if info.pending_voice:
            # chosen after the first spoken reply: the server takes it on the next connection
            parts.append(
                Content.from_markup(
                    " [$text-muted]($voice next connection)[/]",
                    voice=one_line(info.pending_voice),
                )
            )
    if info is not None and info.applied is not None:
        parts += _applied(info.applied)
    if change.reason:
        reason = one_line(change.reason)
        parts.append(Content.from_markup("  [$text-muted]│ $reason[/]", reason=reason))
    return Content("").join(part for part in parts if part is not None)


def _field(value: str, asked: str) -> Content:
    """A value the server applied; in warning colour with what was asked when it differs."""
    if not asked:
        return Content(one_line(value))
    return Content.from_markup(
        "[$warning]$value (asked $asked)[/]", value=one_line(value), asked=one_line(asked)
    )


def _applied(applied: Applied) -> list[Content | None]:
    """What else the server applied that the user should see: the turn detection always,
    the output when it is text only or audio rt-tui cannot play, the microphone's format
    only when it is not what was asked."""
    dot = Content.from_markup(" [$text-muted]·[/] ")
    parts: list[Content | None] = []
    if applied.turn_detection:
        parts += [dot, _field(applied.turn_detection, applied.asked_for("turn_detection"))]
    if applied.modalities == "text" or applied.asked_for("modalities"):
        shown = "text only" if applied.modalities == "text" else applied.modalities
        parts += [dot, _field(shown, applied.asked_for("modalities"))]
    if not applied.plays:
        parts += [
            dot,
            Content.from_markup(
                "[$warning]$format not played: text only[/]", format=one_line(applied.output)
            ),
        ]
    if applied.asked_for("input"):
        parts += [dot, _field(f"mic {applied.input}", applied.asked_for("input"))]
    return parts


class ConnectionBar(Widget):
    DEFAULT_CSS = """
    ConnectionBar { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    """

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._monotonic = monotonic
        self.change = ConnectionChanged(ConnectionState.CONNECTING)
        self.info: SessionInfo | None = None
        self._retry_at: float | None = None
        self._countdown: Timer | None = None

    def set_connection(self, change: ConnectionChanged) -> None:
        self.change = change
        self._retry_at = (
            self._monotonic() + change.retry_in_s if change.retry_in_s is not None else None
        )
        # The retry countdown ticks on its own, and only while there is one: a live session
        # runs no timer here.
        if self._retry_at is not None and self._countdown is None:
            self._countdown = self.set_interval(0.5, self._tick)
        elif self._retry_at is None and self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
        self.refresh()

    def set_info(self, info: SessionInfo) -> None:
        self.info = info
        self.refresh()

    @property
    def retry_left_s(self) -> float | None:
        return None if self._retry_at is None else self._retry_at - self._monotonic()

    def _tick(self) -> None:
        if self._retry_at is not None:
            self.refresh()

    def render(self) -> Content:
        return connection_text(self.change, self.info, self.retry_left_s)
