"""The `?` help screen: every action with the keys it has right now."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.keys import bound_actions, key_display

NOTES = (
    "Typing goes to the message box (focused at start); Enter sends. F-keys work there too.",
    "Escape leaves the box for one-key control (m, e, s, ?); / goes back to typing.",
    "Manual turn mode: space on an empty message box starts and ends your turn.",
    "Keys are set in the [keys] table of the config file or in Settings → Keys.",
    "ctrl+p opens the command palette: every action, themes and more.",
)
KEY_COLUMN = 17  # where the descriptions start
MIN_HELP_WIDTH = 16  # narrower than this, descriptions are not wrapped by us at all


def _help_lines(text: str, width: int | None) -> list[str]:
    if width is None or width - KEY_COLUMN < MIN_HELP_WIDTH:
        return [text]
    return textwrap.wrap(text, width - KEY_COLUMN) or [""]


def help_text(current_keys: Mapping[str, str], width: int | None = None) -> Content:
    """The key table; given a `width`, descriptions wrap under themselves, not under the keys."""
    rows = [Content.from_markup("[b $primary]Keys[/]\n")]
    indent = " " * KEY_COLUMN
    for spec in bound_actions():
        keys = key_display(current_keys.get(spec.name, ""))
        lines = _help_lines(spec.help, width)
        if len(keys) >= KEY_COLUMN:  # a long custom binding: the description goes below it
            rows.append(Content.from_markup("[$accent b]$keys[/]\n", keys=keys))
            first = indent
        else:
            first = " " * (KEY_COLUMN - len(keys))
            rows.append(Content.from_markup("[$accent b]$keys[/]", keys=keys))
        rows.append(Content(first + lines[0] + "\n"))
        rows.extend(Content(indent + line + "\n") for line in lines[1:])
    rows.append(Content("\n"))
    rows.extend(Content.from_markup("[$text-muted]$n[/]\n", n=note) for note in NOTES)
    return Content("").join(rows)


class HelpText(Static):
    """The key table, re-wrapped when its width changes (a narrow terminal, a resize)."""

    def __init__(self, current_keys: Mapping[str, str], *, id: str | None = None) -> None:
        super().__init__(help_text(current_keys), id=id)
        self.current_keys = current_keys
        self._width: int | None = None

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if width != self._width:  # a height change alone needs no new text
            self._width = width
            self.update(help_text(self.current_keys, width))


class HelpScreen(ModalScreen[None]):
    # The app's AUTO_FOCUS (#log) does not exist here: focus the scroller, so arrows and
    # page keys scroll at once.
    AUTO_FOCUS = "#help-dialog"
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-dialog {
        width: 84; max-width: 100%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 1 2;
        scrollbar-size-vertical: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help_close"),
    ]

    def __init__(self, current_keys: Mapping[str, str]) -> None:
        super().__init__()
        self.current_keys = dict(current_keys)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield HelpText(self.current_keys, id="help-text")
            yield Static(Content.from_markup("[$text-muted]Escape closes[/]"))

    def action_close(self) -> None:
        self.dismiss(None)
