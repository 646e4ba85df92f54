"""The app's side of the tools: approval questions one at a time, the "working" cue, the
servers' states for the settings panel and the status line.

The app hands it the session's tool changes (`ApprovalAsked`, `ApprovalClosed`,
`ToolServersChanged`); it pushes an `ApprovalScreen` per question, in order, passes the
user's answer to the session, and closes a question the session settled on its own (timed
out, cancelled). `working()` is the status line's "notes__add_note 3 s" while a tool runs
and the assistant is silent. The servers' states are kept with the time each arrived
(`seen()`, for the settings panel's Tools tab, which `servers_changed` tells at once), and
`server_note()` is the status line's brief word on the latest change that matters (ready with
N tools, failed and why, retrying in N s), for `NOTE_S`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.signal import Signal

from tui.changes import ApprovalAsked, ApprovalClosed, Change, ToolServersChanged, Turn
from tui.screens.approval import ApprovalScreen
from tui.tools.updates import Phase, SeenState, ServerState

NOTE_S = 8.0  # how long a server's change stays in the status line
NOTABLE = (Phase.READY, Phase.FAILED, Phase.RETRYING)


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
        self.servers: dict[str, ServerState] = {}
        self._since: dict[str, float] = {}  # when each server's state arrived (monotonic)
        self._latest = ""  # the server whose notable change came last
        self.servers_changed: Signal[None] = Signal(app, "tool-servers-changed")

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
                self._servers(servers)

    def _servers(self, servers: dict[str, Any]) -> None:
        now = self._monotonic()
        for name, state in servers.items():
            if self.servers.get(name) == state:
                continue
            self._since[name] = now
            if state.phase in NOTABLE:
                self._latest = name
        self.servers = dict(servers)
        self.servers_changed.publish(None)

    def seen(self) -> dict[str, SeenState]:
        """Each local server's state and when it arrived (the settings panel's Tools tab)."""
        return {name: SeenState(state, self._since[name]) for name, state in self.servers.items()}

    def server_note(self) -> tuple[str, bool]:
        """The latest server change worth a glance, for NOTE_S, and whether it is bad news:
        ("notes: ready, 3 tools", False), ("notes: retrying in 4 s (failed: ...)", True)."""
        state = self.servers.get(self._latest)
        if state is None or state.phase not in NOTABLE:
            return "", False
        waited = self._monotonic() - self._since[self._latest]
        if waited >= NOTE_S:
            return "", False
        return f"MCP {state.describe(waited)}", state.phase is not Phase.READY

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
