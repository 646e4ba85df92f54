"""The header: connection state (reason, attempt, retry countdown), endpoint, model, voice
(and a voice waiting for the next connection).

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

from tui.changes import ConnectionChanged, ConnectionState, SessionInfo
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
    parts = [
        Content.from_markup(
            f"[{style} b]$mark $state[/][$text-muted]$suffix[/]",
            mark=mark,
            state=str(change.state),
            suffix=suffix,
        )
    ]
    if info is not None:
        parts.append(
            Content.from_markup(
                "  [$text-muted]│[/] $host [$text-muted]·[/] $model [$text-muted]· voice[/] $voice",
                host=one_line(endpoint_host(info.url)),
                model=one_line(info.model),
                voice=one_line(info.voice),
            )
        )
        if info.pending_voice:
            # chosen after the first spoken reply: the server takes it on the next connection
            parts.append(
                Content.from_markup(
                    " [$text-muted]($voice next connection)[/]",
                    voice=one_line(info.pending_voice),
                )
            )
    if change.reason:
        reason = one_line(change.reason)
        parts.append(Content.from_markup("  [$text-muted]│ $reason[/]", reason=reason))
    return Content("").join(parts)


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
