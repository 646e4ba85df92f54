"""The `?` help screen: every action with the keys it has right now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.keys import ACTIONS, key_display

NOTES = (
    "F-keys work while you type in the message box; printable keys go to the text.",
    "Keys are set in the [keys] table of the config file or in Settings → Keys.",
    "ctrl+p opens the command palette: every action, themes and more.",
)


def help_text(current_keys: Mapping[str, str]) -> Content:
    rows = [Content.from_markup("[b $primary]Keys[/]\n")]
    for spec in ACTIONS:
        keys = key_display(current_keys.get(spec.name, ""))
        rows.append(
            Content.from_markup(
                "[$accent b]$keys[/]$pad $help\n",
                keys=keys,
                pad=" " * max(1, 16 - len(keys)),
                help=spec.help,
            )
        )
    rows.append(Content("\n"))
    rows.extend(Content.from_markup("[$text-muted]$n[/]\n", n=note) for note in NOTES)
    return Content("").join(rows)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 84; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 1 2;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help_close"),
    ]

    def __init__(self, current_keys: Mapping[str, str]) -> None:
        super().__init__()
        self.current_keys = dict(current_keys)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(help_text(self.current_keys), id="help-text")
            yield Static(Content.from_markup("[$text-muted]Escape closes[/]"))

    def action_close(self) -> None:
        self.dismiss(None)
