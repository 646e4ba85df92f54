"""The voice lock: the server fixes the voice at the first spoken reply of a connection.

A voice chosen after that waits for the next connection: it is left out of the
`session.update` (the server would refuse it), and the header shows it as pending beside the
voice that speaks. A new connection takes any voice.
"""

from __future__ import annotations

from typing import Any

from tui.changes import Applied, Change, SessionInfo
from tui.config import Settings
from tui.realtime.payload import session_config


class VoiceLock:
    def __init__(self, voice: str) -> None:
        self.in_use = voice
        self.spoke = False  # the server has sent reply audio on this connection
        self._shown: SessionInfo | None = None  # as last told to the listener

    def connection_opened(self) -> None:
        self.spoke = False

    def connection_configured(self, settings: Settings) -> None:
        """A new connection got the settings' voice."""
        self.in_use = settings.session.voice

    def session_config(self, old: Settings, new: Settings) -> tuple[dict[str, Any], list[str]]:
        """The config for a `session.update` of edited settings, and a note to show."""
        config = session_config(new)
        notes: list[str] = []
        if self.spoke and new.session.voice != self.in_use:
            # compared with the voice in use, not the old setting: a voice still waiting
            # for the next connection must not go out with a later change of another field
            config.get("audio", {}).get("output", {}).pop("voice", None)
            if old.session.voice != new.session.voice:
                notes.append(
                    "The voice cannot change after the first spoken reply: "
                    "it applies on the next connection."
                )
        else:
            self.in_use = new.session.voice
        return config, notes

    def session_info(self, settings: Settings, applied: Applied | None = None) -> list[Change]:
        """The header's endpoint, model and voice (the voice in use, not the one asked for)
        and what the server says it applied (tui.session.applied), when it differs from
        what the listener was last told."""
        conn, wanted = settings.connection, settings.session.voice
        pending = wanted if wanted != self.in_use else ""
        info = SessionInfo(conn.url, conn.model, self.in_use, pending, applied)
        if info == self._shown:
            return []
        self._shown = info
        return [info]
