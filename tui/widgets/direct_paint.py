"""Paint one line of a widget straight to the terminal, skipping Textual's update cycle.

The level meter changes up to 20 times a second while the user talks. Through Textual, each
change is a refresh, an idle message, a screen timer, a compositor pass over every widget
that overlaps the line, and only then the line's rendering: about 1.4 ms of the UI thread
for one line (measured in the real app, 20 updates a second = 2.8 % of a core). When the
widget's line is wholly visible and nothing is drawn over it, the compositor's result for
that line is exactly the widget's own strip, so writing that strip at its place is the same
picture for a fraction of the cost.

Whenever that cannot be known (headless or inline apps, another screen on top, a toast or
tooltip over the line, a layout pending, a batch open, a Textual whose internals moved) the
caller falls back to `refresh()`: correctness never depends on this path. It uses Textual
internals (the driver, the compositor's visible map, the widget's styles cache); the range
it is tested on is the one pyproject allows, and `tests/ui/test_direct_paint.py` fails if
the path is no longer taken there.
"""

from __future__ import annotations

from rich.control import Control
from textual.geometry import Region
from textual.widget import Widget

SYNC_START, SYNC_END = "\x1b[?2026h", "\x1b[?2026l"  # DEC mode 2026: draw as one frame


class DirectPaint:
    """Draws `widget`'s single line in place; `paint()` says whether it did."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self.broken = False  # Textual's internals did not look as expected: never try again
        self.painted = 0  # lines written directly (tests and benchmarks read it)
        self.headless_ok = False  # tests: paint into a headless app's driver too

    def paint(self) -> bool:
        if self.broken:
            return False
        try:
            sequence = self.sequence(headless_ok=self.headless_ok)
            if sequence is None:
                return False
            app = self._widget.app
            if app._sync_available:  # the terminal's synchronized output, as Textual's updates
                sequence = SYNC_START + sequence + SYNC_END
            # one write: each is a queue put that wakes Textual's writer thread
            app._driver.write(sequence)  # type: ignore[union-attr]  # checked in sequence()
        except Exception:  # a Textual this was not written for, a driver
            # shutting down: refresh() from now on, never an error in the mic's path
            self.broken = True
            return False
        self.painted += 1
        return True

    def sequence(self, *, headless_ok: bool = False) -> str | None:
        """The terminal text that draws the line now, or None if Textual must draw it."""
        widget = self._widget
        app = widget.app
        driver = app._driver
        if driver is None or driver.is_inline or (app.is_headless and not headless_ok):
            return None
        screen = widget.screen
        if app._batch_count or screen is not app.screen or not screen.is_current:
            return None
        if screen._layout_required or widget._layout_required:
            return None
        region = self._unobscured_region()
        if region is None or region.size != widget.outer_size or region.height != 1:
            return None
        widget._styles_cache.clear()  # the line is drawn again from what the widget holds now
        (strip,) = widget.render_lines(Region(0, 0, region.width, 1))
        cursor = screen.outer_size.clamp_offset(app.cursor_position)
        return (
            Control.move_to(region.x, region.y).segment.text
            + strip.render(app.console)
            + Control.move_to(*cursor).segment.text
        )

    def _unobscured_region(self) -> Region | None:
        """The widget's screen region if all of it shows and nothing is drawn over it."""
        widget = self._widget
        visible = widget.screen._compositor.visible_widgets
        if (geometry := visible.get(widget)) is None:
            return None
        region, clip = geometry
        if not clip.contains_region(region):
            return None
        for other, (other_region, other_clip) in visible.items():  # topmost first
            if other is widget:
                return region  # everything before it is drawn over it: none overlapped
            if other_clip.intersection(other_region).overlaps(region):
                return None
        return None
