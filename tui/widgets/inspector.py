"""The event inspector: raw client/server events, already redacted by the session.

A RichLog with max_lines is O(1) per append; payloads are shown compact and cut, never as
markup (an event can contain brackets).
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

MAX_LINES = 2000
MAX_CHARS = 600


def event_line(direction: str, event: dict[str, Any]) -> Text:
    arrow, style = ("→", "bold cyan") if direction == "out" else ("←", "bold green")
    kind = str(event.get("type", "?"))
    rest = {k: v for k, v in event.items() if k != "type"}
    body = json.dumps(rest, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(body) > MAX_CHARS:
        body = body[:MAX_CHARS] + f"… (+{len(body) - MAX_CHARS} chars)"
    line = Text()
    line.append(f"{arrow} ", style=style)
    line.append(kind, style="bold")
    line.append(" ")
    line.append(body, style="dim")
    return line


class EventInspector(RichLog):
    DEFAULT_CSS = """
    EventInspector { height: 12; border-top: solid $primary; background: $surface; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, id=id)
        self.count = 0

    def log_event(self, direction: str, event: dict[str, Any]) -> None:
        self.count += 1
        self.write(event_line(direction, event))
