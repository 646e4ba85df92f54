"""The tool box's life beside the session: started with it, its updates carried into the
session as they come, changed when the user edits [tools], closed at the end.

The tools link (tui.session.tools_link) turns each update into effects; this keeps the task
that reads them. Edited settings reach a running box through `ToolBox.reconfigure` (changed
servers restart, the others keep running; a `ToolsChanged`, hence a `session.update`, follows
when the offered tools differ). A session started without tools gets a box when the user
turns some on, and the live connection hears of its tools at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from tui.config import Settings
from tui.realtime import events
from tui.realtime.payload import tools_update
from tui.session.effects import Effect, Send
from tui.session.tools_link import ToolBoxLike, ToolsLink


class ToolsPump:
    def __init__(
        self,
        link: ToolsLink,
        *,
        act: Callable[[Iterable[Effect]], None],
        factory: Callable[[Settings], ToolBoxLike | None],
    ) -> None:
        self._link = link
        self._act = act
        self._factory = factory
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def start(self) -> None:
        """The session runs: so does its tool box (servers in the background: the first
        frame does not wait)."""
        self._running = True
        if self._link.toolbox is not None:
            self._start(self._link.toolbox)

    def apply(self, old: Settings, new: Settings) -> list[str]:
        """Edited settings: the notes to show (none when [tools] did not change)."""
        if old.tools == new.tools:
            return []
        box = self._link.toolbox
        if box is not None:
            box.reconfigure(new.tools)
            return ["Tool settings applied (a server restarts only if its own settings changed)."]
        box = self._factory(new)
        if box is None:
            return []
        self._link.toolbox = box
        if self._running:
            self._start(box)
            self._act([Send(events.session_update(tools_update(box.tools())))])
        return ["Tools turned on."]

    async def stop(self) -> None:
        """Open calls are cancelled; their outcomes still reach the log and the history."""
        self._running = False
        box, task = self._link.toolbox, self._task
        if box is None or task is None:
            return
        try:
            await box.aclose()
        finally:
            task.cancel()
            for update in box.pending_updates():
                self._act(self._link.on_update(update))

    def _start(self, box: ToolBoxLike) -> None:
        box.start()
        self._task = asyncio.create_task(self._pump(box), name="session-tools")

    async def _pump(self, box: ToolBoxLike) -> None:
        while True:
            self._act(self._link.on_update(await box.next_update()))
