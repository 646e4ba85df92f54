"""A form field's name, marked `▶` while the field has focus.

Colour alone does not survive a plain-text capture (a screen reader, a log of the screen, a
monochrome terminal): the marker does. The settings screen finds the `.field` row holding the
focused widget and marks that row's label (`mark_focused_row`).
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from tui.printable import one_line

FOCUS_MARK = "▶ "
NO_MARK = "  "  # the same width: the name does not move when focus arrives


class FieldLabel(Static):
    DEFAULT_CSS = """
    FieldLabel { width: 1fr; height: auto; }
    FieldLabel.-focused { color: $accent; }
    """

    def __init__(self, name: str, *, id: str | None = None) -> None:
        # schema keys, and server and tool names the config and the servers checked: still
        # drawn inert, so no name can ever drive the terminal
        self.field_name = one_line(name)
        super().__init__(self._text(False), id=id, markup=False)

    def set_focused(self, focused: bool) -> None:
        self.update(self._text(focused))
        self.set_class(focused, "-focused")

    def _text(self, focused: bool) -> Content:
        mark = FOCUS_MARK if focused else NO_MARK
        return Content.from_markup("[b]$mark$name[/]", mark=mark, name=self.field_name)


def field_row_of(widget: Widget | None) -> Widget | None:
    """The `.field` row that holds `widget`, if any."""
    node = widget
    while node is not None and isinstance(node, Widget):
        if node.has_class("field"):
            return node
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return None


def mark_focused_row(previous: Widget | None, focused: Widget | None) -> Widget | None:
    """Move the marker from the row marked before to the focused one's; returns that row."""
    row = field_row_of(focused)
    if row is previous:
        return row
    for marked, on in ((previous, False), (row, True)):
        if marked is not None:
            for label in marked.query_children(FieldLabel):
                label.set_focused(on)
    return row
