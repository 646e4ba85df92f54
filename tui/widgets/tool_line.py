"""A tool call in the conversation log: the call line, where it stands, a one-line result.

    tool  12:03:04  notes__add_note {"text": "hi"}  ⏳ waiting for approval
    tool  12:03:05  notes__add_note {"text": "hi"}  ✓ done
      Added note 1: hi

Enter or a click on the line shows the whole result (and the arguments in full); again hides
it. A running call shows its elapsed seconds, refreshed by a 1 s timer that runs only while
the call does (a log of 2,000 finished calls holds no timer). Every string here came from
the model or a tool server: substituted as text, made printable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import events
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from tui.changes import ToolState, Turn, TurnStatus
from tui.printable import one_line, printable
from tui.widgets.turn_edges import EDGE_OF_TOOL, edge_rules

TimeFormat = Callable[[float], str]
ARGUMENTS_CHARS = 60  # the call line's arguments; the full ones when expanded
EXPANDED_CHARS = 20_000  # a 1 MB result expanded is a few screens and a note, not 1 MB

_STATE = {
    ToolState.CALLED: ("$text-muted", "… called"),
    ToolState.WAITING: ("$warning", "⏳ waiting for approval"),
    ToolState.RUNNING: ("$accent", "⚙ running"),
    ToolState.DONE: ("$success", "✓ done"),
    ToolState.FAILED: ("$error", "✗ failed"),
    ToolState.DECLINED: ("$warning", "⊘ declined"),
    ToolState.CANCELLED: ("$text-muted", "⊘ cancelled"),
}


def shows_elapsed(turn: Turn) -> bool:
    """Whether the line counts seconds (and so needs refreshing every second)."""
    tool = turn.tool
    return (
        tool is not None
        and tool.state is ToolState.RUNNING
        and tool.started_at is not None
        and turn.status is not TurnStatus.CUT_OFF
    )


def state_text(turn: Turn, now: float) -> tuple[str, str]:
    """(style, words) for the call's state; a running call says for how long."""
    tool = turn.tool
    assert tool is not None
    if turn.status is TurnStatus.CUT_OFF:
        return "$warning", "⚡ cut off"
    style, words = _STATE.get(tool.state, ("$text-muted", str(tool.state)))
    if shows_elapsed(turn) and tool.started_at is not None:
        words += f" {max(0, now - tool.started_at):.0f} s"
    return style, words


def render_tool_turn(
    turn: Turn,
    time_format: TimeFormat,
    *,
    expanded: bool = False,
    now: float | None = None,
) -> Content:
    tool = turn.tool
    assert tool is not None
    now = time.monotonic() if now is None else now
    arguments = tool.shown_arguments or one_line(tool.arguments)
    if not expanded and len(arguments) > ARGUMENTS_CHARS:
        arguments = arguments[: ARGUMENTS_CHARS - 1] + "…"
    style, words = state_text(turn, now)
    line = Content.from_markup(
        f"[$text-muted b]tool[/] [$text-muted]$stamp[/] [b]$name[/] [$text-muted]$args[/]"
        f"  [{style}]$state[/]",
        stamp=time_format(turn.started_at),
        name=one_line(tool.name, 80),
        args=arguments,
        state=words,
    )
    parts = [line]
    if turn.replayed:
        parts.append(Content.from_markup(" [$text-muted]↺ replayed[/]"))
    if tool.origin:
        parts.append(Content.from_markup(" [$text-muted]($v)[/]", v=one_line(tool.origin, 60)))
    if expanded:
        full = tool.full_text or tool.output or tool.summary
        if len(full) > EXPANDED_CHARS:
            full = full[:EXPANDED_CHARS] + f"\n… {len(full) - EXPANDED_CHARS:,} more characters"
        parts += [Content("\n"), Content(printable(full) or "(no result yet)")]
    elif tool.summary:
        parts += [Content("\n  "), Content(one_line(tool.summary, 160))]
    return Content("").join(parts)


class ToolTurnView(Static):
    """One tool call in the log; the log treats it like its TurnView (`turn`,
    `refresh_turn()`). Focusable: Enter (or a click) shows the whole result."""

    can_focus = True
    DEFAULT_CSS = (
        "ToolTurnView { padding: 0 1; margin: 0 0 1 0; }\n"
        "ToolTurnView:focus { background: $boost; }\n" + edge_rules("ToolTurnView", EDGE_OF_TOOL)
    )

    def __init__(self, turn: Turn, time_format: TimeFormat) -> None:
        self.turn = turn
        self.expanded = False
        self._time_format = time_format
        self._ticker: Timer | None = None  # only while the line counts seconds
        self._live = False  # between mount and unmount: a timer may run
        super().__init__(render_tool_turn(turn, time_format), markup=False)
        self.add_class("-tool")

    def on_mount(self) -> None:
        self._live = True
        self._follow_state()

    def on_unmount(self) -> None:
        self._live = False
        self._keep_ticking(False)

    def refresh_turn(self) -> None:
        self.update(render_tool_turn(self.turn, self._time_format, expanded=self.expanded))
        self._follow_state()

    def _follow_state(self) -> None:
        """The state's class (a failed call's red edge, from the start for a replayed one),
        and the elapsed-time timer while it runs."""
        tool = self.turn.tool
        for state in ToolState:
            self.set_class(tool is not None and tool.state is state, f"-{state}")
        self._keep_ticking(shows_elapsed(self.turn))

    def _keep_ticking(self, wanted: bool) -> None:
        """A 1 s timer while the call runs; stopped (and dropped) once it has finished."""
        if wanted and self._ticker is None and self._live:
            self._ticker = self.set_interval(1.0, self.refresh_turn, name="tool-line-elapsed")
        elif not wanted and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.refresh_turn()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.toggle()

    def key_enter(self, event: events.Key) -> None:
        event.stop()
        self.toggle()
