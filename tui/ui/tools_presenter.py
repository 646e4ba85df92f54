"""The app's side of the tools: approval questions one at a time, the "working" cue, the
servers' states for the settings panel.

The app hands it the session's tool changes (`ApprovalAsked`, `ApprovalClosed`,
`ToolServersChanged`); it pushes an `ApprovalScreen` per question, in order, passes the
user's answer to the session, and closes a question the session settled on its own (timed
out, cancelled). `working()` is the status line's "notes__add_note 3 s" while a tool runs
and the assistant is silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App

from tui.changes import ApprovalAsked, ApprovalClosed, Change, ToolServersChanged, Turn
from tui.screens.approval import ApprovalScreen


class ToolsPresenter:
    def __init__(
        self,
        app: App[Any],
        *,
        answer: Callable[[str, str], bool],
        running: Callable[[], list[Turn]],
        audible: Callable[[], bool],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._answer = answer
        self._running = running
        self._audible = audible
        self._monotonic = monotonic
        self._queue: list[Any] = []  # asks not shown yet, oldest first
        self.shown: ApprovalScreen | None = None
        self.servers: dict[str, Any] = {}

    def on_change(self, change: Change) -> None:
        match change:
            case ApprovalAsked(ask=ask):
                self._queue.append(ask)
                self._show_next()
            case ApprovalClosed(ask_id=ask_id):
                self._queue = [ask for ask in self._queue if ask.ask_id != ask_id]
                if self.shown is not None and self.shown.ask_id == ask_id:
                    screen, self.shown = self.shown, None
                    screen.dismiss(None)  # settled elsewhere: a timeout is a no, already
            case ToolServersChanged(servers=servers):
                self.servers = dict(servers)

    def working(self) -> str:
        """The tool at work while nothing is spoken ("" otherwise)."""
        running = self._running()
        if not running or self._audible():
            return ""
        tool = running[0].tool
        if tool is None:
            return ""
        elapsed = self._monotonic() - tool.started_at if tool.started_at is not None else 0
        more = f" (+{len(running) - 1})" if len(running) > 1 else ""
        return f"{tool.name} {max(0, elapsed):.0f} s{more}"

    def _show_next(self) -> None:
        if self.shown is not None or not self._queue:
            return
        ask = self._queue.pop(0)
        screen = ApprovalScreen(ask)
        self.shown = screen
        self._app.push_screen(screen, lambda how: self._answered(screen, how))

    def _answered(self, screen: ApprovalScreen, how: str | None) -> None:
        if how is not None:
            self._answer(screen.ask_id, how)  # False: it had timed out; the box says no
        if self.shown is screen:
            self.shown = None
        self._show_next()
