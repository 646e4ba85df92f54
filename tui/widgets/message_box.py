"""The message box: where whatever a newcomer types first lands, and Enter sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Input

MESSAGE_PLACEHOLDER = "Type a message: Enter sends, Escape for one-key control"


class MessageBox(Input):
    """The message input, focused from the start: whatever a newcomer types first lands here
    and Enter sends it. Escape gives the keys back to the conversation (one-key control:
    m, e, s, ?); the F-keys work in both places.

    Space-to-talk: in manual turn mode, space on an *empty* box is the talk key (a message
    never starts with a space), so push-to-talk needs no Escape first. Anywhere else space
    types a space.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave", show=False, id="leave_input"),
        # reading back while typing: the box has no use for page keys, the log does
        Binding("pageup", "scroll_log('page_up')", show=False, id="log_page_up"),
        Binding("pagedown", "scroll_log('page_down')", show=False, id="log_page_down"),
    ]

    def __init__(self, *, talk_on_space: Callable[[], bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._talk_on_space = talk_on_space
        # A blinking cursor repaints the screen twice a second for as long as the app is
        # open, which was two thirds of the UI's work while nobody talked: it stays lit.
        self.cursor_blink = False

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "space" and not self.value and self._talk_on_space():
            event.stop()
            event.prevent_default()
            await self.run_action("app.talk")
            return
        await super()._on_key(event)

    def action_leave(self) -> None:
        self.app.set_focus(self.screen.query_one("#log"))

    def action_scroll_log(self, how: str) -> None:
        getattr(self.screen.query_one("#log"), f"action_{how}")()
