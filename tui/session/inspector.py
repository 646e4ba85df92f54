"""The inspector's feed: every event in and out, redacted, with the microphone summed up.

The session logs events only while the inspector is open (`Session.inspect`). Fifty appends
a second would drown the inspector, so outgoing `input_audio_buffer.append` events become
one summary line a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.changes import EventLogged
from tui.realtime.redact import redact_event

APPEND = "input_audio_buffer.append"
APPEND_SUMMARY_S = 1.0


class InspectorLog:
    def __init__(self, secrets: tuple[str, ...], clock: Callable[[], float]) -> None:
        self._secrets = secrets
        self._clock = clock
        self._appends_logged_at = 0.0
        self._appends_since_log = 0

    def inbound(self, data: dict[str, Any]) -> EventLogged:
        return EventLogged("in", redact_event(data, self._secrets))

    def outbound(self, event: dict[str, Any]) -> EventLogged | None:
        """A sent event for the inspector, or None while appends are being summed up."""
        if event.get("type") == APPEND:
            self._appends_since_log += 1
            now = self._clock()
            if now - self._appends_logged_at < APPEND_SUMMARY_S:
                return None
            event = {"type": APPEND, "blocks": self._appends_since_log}
            self._appends_logged_at, self._appends_since_log = now, 0
        return EventLogged("out", redact_event(event, self._secrets))
