"""May this tool run? The question a tool call waits on: y = yes, n = no, a = always for this
session (when offered), Escape = no.

A modal over the conversation: the session goes on under it (the assistant's audio keeps
playing, the microphone keeps streaming). The answer is the tool box's to judge: one given
after the deadline is a no, and the modal closes when the question is settled
(`ApprovalClosed`), whoever settled it. The tool's name, origin and arguments come from the
model or a server: shown as text (already masked), made printable, never markup.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.printable import one_line, printable

ARGUMENTS_CHARS = 4000  # what fits a few screens of the modal; the log has the rest


class ApprovalScreen(ModalScreen[str]):
    """Dismissed with "yes", "no" or "always"."""

    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > Vertical {
        width: 80%; max-width: 100; height: auto; max-height: 80%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ApprovalScreen #approval-title { text-style: bold; }
    ApprovalScreen #approval-origin { color: $text-muted; }
    ApprovalScreen #approval-arguments { height: auto; max-height: 20; margin: 1 0; }
    ApprovalScreen #approval-keys { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('yes')", "Yes", id="approve_yes"),
        Binding("n", "answer('no')", "No", id="approve_no"),
        Binding("a", "answer('always')", "Always", id="approve_always"),
        Binding("escape", "answer('no')", "No", show=False, id="approve_escape"),
    ]

    def __init__(self, ask: Any) -> None:
        super().__init__()
        self.ask = ask

    @property
    def ask_id(self) -> str:
        return str(self.ask.ask_id)

    def compose(self) -> ComposeResult:
        ask = self.ask
        arguments = printable(str(ask.arguments))
        if len(arguments) > ARGUMENTS_CHARS:
            arguments = arguments[:ARGUMENTS_CHARS] + "\n…"
        keys = "y yes · n no" + (" · a always (this session)" if ask.allow_always else "")
        with Vertical():
            yield Static(f"Run {one_line(str(ask.tool), 80)}?", id="approval-title", markup=False)
            if ask.origin:
                yield Static(one_line(str(ask.origin), 80), id="approval-origin", markup=False)
            with VerticalScroll(id="approval-arguments"):
                yield Static(arguments or "(no arguments)", markup=False)
            yield Static(keys + " · Escape no", id="approval-keys", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == ("always",):
            return bool(self.ask.allow_always)
        return True

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
