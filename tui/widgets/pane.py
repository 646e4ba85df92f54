"""A blank wrapper that keeps one widget's repaints from re-rendering its neighbours.

Textual re-renders every widget whose clip overlaps a dirty region, and a direct child of
the screen is clipped to the whole screen: so each meter frame used to re-render the header,
status line, message box and footer from their caches (about 0.1-0.2 ms each a frame). A
child of a Pane is clipped to the Pane, so it renders only when its own lines are dirty; the
Pane itself is BLANK, which costs next to nothing.
"""

from __future__ import annotations

from textual.containers import Container
from textual.screen import Screen


class Pane(Container):
    BLANK = True
    DEFAULT_CSS = """
    Pane { height: auto; }
    """


class MainScreen(Screen[None]):
    """The app's default screen. Every cell is covered by a widget, so the screen's own
    background lines never show: drawing them blank skips their per-frame styling."""

    BLANK = True
