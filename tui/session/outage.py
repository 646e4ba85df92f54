"""The outage: failed tries since the connection last worked, and the wait before the next.

The controller's connection loop asks this room what to show and how long to wait; it only
counts. A try fails when a connect fails or a connection closes before it proved itself.
The count shows in the header and grows the backoff; a proven connection starts it over.
"""

from __future__ import annotations

from tui.changes import ConnectionChanged, ConnectionState
from tui.realtime.backoff import Backoff

# A connection that stayed live this long, or on which the server streamed part of a reply
# or completed one, has proved itself: when it drops, the backoff starts over (first retry
# within a second). A handshake alone proves nothing: a server that is overloaded or
# restarting (1013, 1012) accepts the websocket and closes it at once, and resetting then
# would retry four times a second forever with the attempt count stuck at 1. session.updated
# is no proof either: an overloaded server can still echo the config before it gives up.
# What a user expects is "it was working, then it broke" (retry now) versus "it has not
# worked since the outage began" (keep counting, wait longer each time).
STABLE_CONNECTION_S = 10.0


class Outage:
    def __init__(self, backoff: Backoff) -> None:
        self._backoff = backoff
        self.attempt = 0  # failed tries in this outage
        self.reason = ""  # why the last try failed or the last connection ended
        self.proven = False  # the current (or last) connection has proved itself
        self._opened_at = 0.0

    def connecting(self) -> ConnectionChanged:
        """The header while a connect is under way."""
        state = ConnectionState.RECONNECTING if self.attempt else ConnectionState.CONNECTING
        return ConnectionChanged(state, self.reason, self.attempt)

    def failed(self, reason: str) -> ConnectionChanged:
        """One more failed try: the header, with the wait before the next one."""
        self.reason = reason
        self.attempt += 1
        delay = self._backoff.next()
        return ConnectionChanged(ConnectionState.RECONNECTING, reason, self.attempt, delay)

    def opened(self, now: float) -> None:
        self.proven = False
        self._opened_at = now

    def closed(self, now: float) -> None:
        if now - self._opened_at >= STABLE_CONNECTION_S:
            self.proven = True

    def ended(self, reason: str) -> None:
        """The connection is over ("" when planned): a proven one starts the count over."""
        self.reason = reason
        if self.proven:
            self.resume()

    def resume(self) -> None:
        """Start the count over: the connection worked, or the user asked to try again."""
        self.attempt = 0
        self._backoff.reset()
