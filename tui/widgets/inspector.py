"""The event inspector: raw client/server events, already redacted by the session.

Payloads are shown compact and cut, never as markup (an event can contain brackets), and
through tui.printable: a server's strings (an event type, a transcript, an error message)
are data, never terminal control. Output audio arrives as dozens of deltas a second: like
the session does for the microphone's appends, they are summed into one line a second.

What is kept is bounded whether the inspector is shown or not: the last KEEP_LINES lines
in a deque. A RichLog that never had a size defers every write without a bound (50k bad
frames while hidden froze the UI for 15 s when it opened), so lines go into the RichLog
only while it is shown, and it is refilled from the deque when it is shown again.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import RichLog

from tui.printable import one_line

KEEP_LINES = 1000  # events kept (shown or not); a wrapped one may take more rows
MAX_LINES = 2000  # rows in the RichLog
MAX_CHARS = 600
AUDIO_DELTA = "response.output_audio.delta"
GROUP_S = 1.0  # at most one summary line of audio deltas per this many seconds

# Component classes, so the colours come from the theme (resolved once per theme).
_PARTS = ("out", "in", "kind", "body")


def event_line(
    direction: str, event: dict[str, Any], styles: dict[str, Style] | None = None
) -> Text:
    styles = styles or {}
    # out: sent, in: received, anything else: the app's own note (a device's raw error)
    arrow = {"out": "→", "in": "←"}.get(direction, "·")
    arrow_style = styles.get(direction, Style(bold=True))
    kind = one_line(str(event.get("type", "?"))[:MAX_CHARS])
    rest = {k: v for k, v in event.items() if k != "type"}
    # json escapes C0 controls, not DEL, C1 or bidi controls: printable takes care of those
    body = json.dumps(rest, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(body) > MAX_CHARS:
        body = one_line(body[:MAX_CHARS]) + f"… (+{len(body) - MAX_CHARS} chars)"
    else:
        body = one_line(body)
    line = Text()
    line.append(f"{arrow} ", style=arrow_style)
    line.append(kind, style=styles.get("kind", Style(bold=True)))
    line.append(" ")
    line.append(body, style=styles.get("body", Style(dim=True)))
    return line


class EventInspector(RichLog):
    # 40% of the terminal, at most 12 rows: at 80x24 the log keeps most of its room.
    DEFAULT_CSS = """
    EventInspector {
        height: 40vh; max-height: 12; border-top: solid $primary; background: $surface;
    }
    EventInspector > .inspector--out { color: $accent; text-style: bold; }
    EventInspector > .inspector--in { color: $success; text-style: bold; }
    EventInspector > .inspector--kind { text-style: bold; }
    EventInspector > .inspector--body { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"inspector--{part}" for part in _PARTS}

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, id=id)
        self._monotonic = monotonic
        self.count = 0
        self.kept: deque[Text] = deque(maxlen=KEEP_LINES)  # the newest lines, shown or not
        self._live = False  # shown with a size: lines go into the RichLog as they come
        self._styles: dict[str, Style] = {}  # empty: resolve at the next write
        self._pending_deltas = 0  # audio deltas not yet written
        self._pending_item = ""
        self._deltas_written_at = float("-inf")

    def on_mount(self) -> None:
        # published after the new theme's CSS is applied: styles resolved then are its own
        self.app.theme_changed_signal.subscribe(self, self._forget_styles)

    def _forget_styles(self, _theme: object) -> None:
        self._styles = {}

    def on_show(self, _event: events.Show) -> None:
        """Shown again: the RichLog gets the kept lines, then new ones as they come."""
        self.clear()
        for line in self.kept:
            self.write(line, scroll_end=False)  # one scroll at the end, not one per line
        self.scroll_end(animate=False, immediate=False, x_axis=False)
        self._live = True

    def on_hide(self, _event: events.Hide) -> None:
        self._live = False

    def _add(self, line: Text) -> None:
        self.kept.append(line)
        if self._live and self.display:
            self.write(line)

    def log_event(self, direction: str, event: dict[str, Any]) -> None:
        self.count += 1
        kind = str(event.get("type", ""))
        if direction == "in" and kind == AUDIO_DELTA:
            self._add_delta(event)
            return
        # Transcript deltas interleave with the audio and do not end its group; anything
        # else (output_audio.done, response.done, an error) shows after the audio before it.
        if not kind.endswith(".delta"):
            self._write_deltas()
        self._add(event_line(direction, event, self._theme_styles()))

    def _add_delta(self, event: dict[str, Any]) -> None:
        self._pending_deltas += 1
        self._pending_item = str(event.get("item_id", ""))
        if self._monotonic() - self._deltas_written_at >= GROUP_S:
            self._write_deltas()

    def _write_deltas(self) -> None:
        if not self._pending_deltas:
            return
        summary = {"type": AUDIO_DELTA, "deltas": self._pending_deltas}
        if self._pending_item:
            summary["item_id"] = self._pending_item
        self._add(event_line("in", summary, self._theme_styles()))
        self._pending_deltas = 0
        self._deltas_written_at = self._monotonic()

    def _theme_styles(self) -> dict[str, Style]:
        """Rich styles of the component classes, once per theme (RichLog fixes a line's
        styles when it is written, so earlier lines keep the theme they were written in)."""
        if not self._styles:
            self._styles = {part: self._resolved(f"inspector--{part}") for part in _PARTS}
        return self._styles

    def _resolved(self, component: str) -> Style:
        # The full style blends translucent colours ($text-muted) with the background; its
        # background is left out so the log's own shows through after a theme switch.
        style = self.get_component_rich_style(component)
        return Style(color=style.color, bold=style.bold)
