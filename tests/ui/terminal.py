"""What Textual writes to the terminal, for tests that check outside text is inert.

The headless driver skips only the final write: the Linux driver writes
`compositor.render_update(...).render_segments(console)`, the same string these helpers
make from the screen as it is now (Textual's private compositor, in tests only).
"""

from __future__ import annotations

import re

from textual.app import App

from tests.hostile import forbidden_in

# What Textual itself emits around the text: cursor moves and colours (SGR). Anything else
# with an ESC in the output came from the text.
_TEXTUAL_OWN = re.compile(r"\x1b\[\d+;\d+H|\x1b\[[\d;]*m")


def _update(app: App):  # type: ignore[no-untyped-def]
    return app.screen._compositor.render_full_update()


def terminal_output(app: App) -> str:
    """The bytes (as str) a real terminal would get for the whole screen now."""
    return _update(app).render_segments(app.console)


def drawn_texts(app: App) -> list[str]:
    """Every text segment on screen, row by row: Textual's styling is not part of them, so
    any control character in them came from the content."""
    rows = []
    for line in _update(app).strips:
        rows.append("".join(segment.text for strip in line for segment in strip))
    return rows


def assert_inert(app: App, readable: tuple[str, ...] = ()) -> None:
    """No terminal control from content reaches the terminal; `readable` words are shown."""
    rows = drawn_texts(app)
    found = [char for row in rows for char in forbidden_in(row)]
    assert not found, f"control characters drawn: {found!r}"
    leftover = _TEXTUAL_OWN.sub("", terminal_output(app))
    assert "\x1b" not in leftover and not forbidden_in(leftover.replace("\n", ""))
    screen = "\n".join(rows)
    missing = [words for words in readable if words not in screen]
    assert not missing, f"not readable on screen: {missing}\n{screen}"
