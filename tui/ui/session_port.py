"""The app's door to the session: what RtApp needs of it, and how it makes one.

The app depends on this protocol, not on tui.session, so the UI tests drive it with fakes and
the session (audio, websockets) is imported only when a real one is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tui.changes import ConnectionState
from tui.config import Settings


class SessionLike(Protocol):
    """What the app needs of tui.session.Session (also what test fakes implement)."""

    state: ConnectionState
    muted: bool
    inspect: bool

    async def run(self) -> None: ...
    async def stop(self) -> None: ...
    def send_text(self, text: str) -> None: ...
    def interrupt(self) -> None: ...
    def toggle_mute(self) -> None: ...
    def talk(self) -> None: ...
    def apply_settings(self, new: Settings) -> list[str]: ...
    def cancel_reconnect(self) -> None: ...
    def reconnect(self) -> None: ...
    def input_level(self) -> tuple[float, float] | None: ...


SessionFactory = Callable[..., SessionLike]


def default_session_factory(*args: Any, **kwargs: Any) -> SessionLike:
    from tui.session import Session  # imported late: the session pulls in audio and websockets

    return Session(*args, **kwargs)
