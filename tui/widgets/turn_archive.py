"""Older turns of the log, drawn by one widget with the line API.

Every widget mounted in the log takes part in each relayout: with 200 TurnViews, adding one
turn cost ~45 ms of the UI thread (the compositor arranges, resizes and messages every one of
them). The log keeps only its newest turns as widgets; the ones before them move here, where
they are lines: a turn's lines are rendered once per width and theme, and adding turns costs
the rendering of those turns alone.

The lines look like a TurnView's (padding 0 1, a blank line after each turn, the coloured
left edge of an interrupted, cut-off, failed or declined turn). What is lost is only what a
widget does: an archived tool line no longer expands on Enter or a click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.style import Style as RichStyle
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from tui.changes import Turn
from tui.widgets.tool_line import TimeFormat, render_tool_turn
from tui.widgets.turn_edges import edge_colour

TurnRenderer = Callable[[Turn, TimeFormat], Content]


class TurnArchive(Widget):
    """The log's older turns as lines; `add`, `update`, `drop_oldest`, `clear`."""

    DEFAULT_CSS = """
    TurnArchive { height: auto; }
    """

    def __init__(self, render_turn: TurnRenderer, time_format: TimeFormat) -> None:
        super().__init__()
        self._render_turn = render_turn  # (turn, time_format) -> Content, as TurnView draws
        self._time_format = time_format
        self._turns: dict[str, Turn] = {}  # oldest first
        self._expanded: set[str] = set()  # tool lines that were expanded when archived
        self._lines_of: dict[str, list[Strip]] = {}  # rendered at self._width
        self._lines: list[Strip] | None = None  # all turns' lines, flattened
        self._width = -1
        self.display = False  # until it holds a turn

    @property
    def count(self) -> int:
        return len(self._turns)

    def holds(self, item_id: str) -> bool:
        return item_id in self._turns

    def turns(self) -> list[Turn]:
        return list(self._turns.values())

    def add(self, turns: Iterable[Turn], *, expanded: Iterable[str] = ()) -> None:
        """Append turns (newer than every turn held)."""
        added = False
        for turn in turns:
            self._turns[turn.item_id] = turn
            self._lines_of.pop(turn.item_id, None)
            added = True
        self._expanded.update(expanded)
        if added:
            self._changed()

    def update(self, turn: Turn) -> bool:
        """Redraw a held turn (a late transcript, a final status); False if not held."""
        if turn.item_id not in self._turns:
            return False
        self._turns[turn.item_id] = turn
        self._lines_of.pop(turn.item_id, None)
        self._changed()
        return True

    def drop_oldest(self, count: int) -> None:
        for item_id in list(self._turns)[:count]:
            del self._turns[item_id]
            self._lines_of.pop(item_id, None)
            self._expanded.discard(item_id)
        self._changed()

    def clear(self) -> None:
        self._turns.clear()
        self._lines_of.clear()
        self._expanded.clear()
        self._changed()

    def _changed(self) -> None:
        self._lines = None
        self.display = bool(self._turns)
        self.refresh(layout=True)

    def _forget_rendering(self) -> None:
        """Colours or width changed: every turn is drawn again when next shown."""
        self._lines_of.clear()
        self._lines = None

    def notify_style_update(self) -> None:
        super().notify_style_update()  # a theme, a focus tint: the colours baked in are stale
        self._forget_rendering()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._all_lines(width))

    def render_line(self, y: int) -> Strip:
        lines = self._all_lines(self.content_size.width)
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(self.content_size.width, self.visual_style.rich_style)

    def _all_lines(self, width: int) -> list[Strip]:
        if width != self._width:
            self._forget_rendering()
            self._width = width
        if self._lines is None:
            lines: list[Strip] = []
            for item_id, turn in self._turns.items():
                cached = self._lines_of.get(item_id)
                if cached is None:
                    cached = self._lines_of[item_id] = self._draw(turn, width)
                lines.extend(cached)
            self._lines = lines
        return self._lines

    def _draw(self, turn: Turn, width: int) -> list[Strip]:
        """A turn's lines as its TurnView draws them: edge or padding, text, padding, gap."""
        style = self.visual_style
        base = style.rich_style
        edge = edge_colour(turn)
        left = 2 if edge else 1
        text_width = max(1, width - left - 1)
        if turn.tool is not None:
            expanded = turn.item_id in self._expanded
            content = render_tool_turn(turn, self._time_format, expanded=expanded)
        else:
            content = self._render_turn(turn, self._time_format)
        body = Visual.to_strips(self, content, text_width, None, style)
        padding = RichStyle(bgcolor=base.bgcolor)  # as Textual pads: a background, no colour
        if edge:
            (prefix,) = Visual.to_strips(self, Content.from_markup(f"[{edge}]▌[/]"), 1, 1, style)
            prefix = Strip.join([prefix, Strip.blank(1, padding)])
        else:
            prefix = Strip.blank(1, padding)
        suffix = Strip.blank(1, padding)
        lines = [
            Strip.join([prefix, line.extend_cell_length(text_width, padding), suffix])
            for line in body
        ]
        lines.append(Strip.blank(width, base))  # the margin under every turn
        return lines
