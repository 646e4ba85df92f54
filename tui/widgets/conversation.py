"""The conversation log: the newest turns as widgets, the older ones as lines, anchored.

Transcript deltas arrive far faster than a terminal needs to repaint, so `turn_changed` only
marks a turn dirty, and the first mark schedules one flush a tenth of a second later that
re-renders every dirty turn. No timer runs while nothing changes.

Every mounted widget takes part in each relayout (a new turn, a turn that grows a line), so
only the newest LIVE_TURNS are widgets (TurnView, ToolTurnView: they stream, change status,
expand); older turns move in batches to one TurnArchive that draws them with the line API.
The newest `keep` turns are shown in all; the full history stays in the session.

Transcript text and failure reasons come from the server (or a history file, on --resume):
`render_turn` draws them through tui.printable, so they are data, never terminal control.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.changes import Role, Turn, TurnStatus
from tui.printable import one_line, printable
from tui.widgets.tool_line import ToolTurnView
from tui.widgets.turn_archive import TurnArchive
from tui.widgets.turn_edges import EDGE_OF_STATUS, edge_rules

FLUSH_HZ = 10
KEEP_TURNS = 200  # shown (archive + widgets); older ones are counted, not drawn
PRUNE_BATCH = 50  # prune in batches so a long session does not relayout on every turn
LIVE_TURNS = 30  # the newest turns, as widgets
ARCHIVE_BATCH = 10  # widgets retire to the archive ten at a time


def _batch_due(excess: int, batch: int, small_limit: int) -> bool:
    """Move turns in batches (one relayout for many), smaller batches for small limits."""
    return excess > 0 and excess >= min(batch, max(1, small_limit))


_ROLE_LABEL = {Role.USER: "you", Role.ASSISTANT: "assistant", Role.SYSTEM: "system"}
_ROLE_STYLE = {
    Role.USER: "$role-user",
    Role.ASSISTANT: "$role-assistant",
    Role.SYSTEM: "$text-muted",
}

TimeFormat = Callable[[float], str]


def local_clock_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) if epoch else ""


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s"


def turn_marker(turn: Turn) -> Content:
    """The status note after the role label; empty for an ordinary finished turn."""
    if turn.status is TurnStatus.INTERRUPTED:
        heard = turn.heard_ms or 0.0
        detail = f"heard {_seconds(heard)} of {_seconds(turn.audio_ms)}" if turn.audio_ms else ""
        return Content.from_markup(
            "[$warning]⏸ interrupted[/] [$text-muted]$detail[/]", detail=detail
        )
    if turn.status is TurnStatus.CUT_OFF:
        why = one_line(turn.reason)
        return Content.from_markup("[$warning]⚡ cut off[/] [$text-muted]$why[/]", why=why)
    if turn.status is TurnStatus.FAILED:
        why = f": {one_line(turn.reason)}" if turn.reason else ""
        return Content.from_markup("[$error]✗ failed$why[/]", why=why)
    if turn.status is TurnStatus.CANCELLED:
        return Content.from_markup("[$text-muted]⊘ cancelled[/]")
    if turn.reason:  # a typed turn still pending: "sending", "will send when connected"
        return Content.from_markup("[$text-muted]… $why[/]", why=one_line(turn.reason))
    return Content("")


def render_turn(turn: Turn, time_format: TimeFormat = local_clock_time) -> Content:
    """A turn as Content; transcript text is substituted, never parsed as markup."""
    style = _ROLE_STYLE.get(turn.role, "$text-muted")
    head = Content.from_markup(
        f"[{style} b]$label[/] [$text-muted]$stamp[/]",
        label=_ROLE_LABEL.get(turn.role, str(turn.role)),
        stamp=time_format(turn.started_at),
    )
    parts = [head]
    if turn.replayed:
        parts.append(Content.from_markup(" [$text-muted]↺ replayed[/]"))
    marker = turn_marker(turn)
    if marker:
        parts.extend([Content(" "), marker])
    body = printable(turn.text)  # one C-level scan for clean text, the common case
    if not body and not turn.final:
        body = "…"
    parts.append(Content("\n"))
    if turn.final or not turn.text:
        parts.append(Content(body))
    else:
        parts.append(Content(body) + Content.from_markup("[$text-muted] ▍[/]"))
    return Content("").join(parts)


class TurnView(Static):
    """One turn of the log."""

    DEFAULT_CSS = "TurnView { padding: 0 1; margin: 0 0 1 0; }\n" + edge_rules(
        "TurnView", EDGE_OF_STATUS
    )

    def __init__(self, turn: Turn, time_format: TimeFormat) -> None:
        self.turn = turn
        self._time_format = time_format
        self._lines = -1  # wrapped height at the last update (-1: unknown)
        super().__init__(render_turn(turn, time_format), markup=False)
        self.add_class(f"-{turn.role}")
        self._set_status_class()

    def _set_status_class(self) -> None:
        for status in TurnStatus:
            self.set_class(self.turn.status is status, f"-{status}")

    def refresh_turn(self) -> None:
        self._set_status_class()
        content = render_turn(self.turn, self._time_format)
        # A relayout costs ~0.1 ms per sibling: only ask for one when the height changes.
        width = self.content_region.width
        lines = len(content.wrap(width)) if width > 0 else -1
        self.update(content, layout=lines != self._lines or lines < 0)
        self._lines = lines


class ConversationLog(VerticalScroll):
    """Anchored list of TurnViews; follows the newest turn unless the user scrolled up."""

    BLANK = True
    DEFAULT_CSS = """
    ConversationLog { height: 1fr; padding: 0 1; }
    ConversationLog #hidden-turns { color: $text-muted; text-align: center; height: auto; }
    """

    def __init__(
        self,
        *,
        keep: int = KEEP_TURNS,
        live: int = LIVE_TURNS,
        time_format: TimeFormat = local_clock_time,
        auto_flush: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.auto_flush = auto_flush  # False: the owner calls flush() itself
        self.keep = keep
        self.live = live
        self.time_format = time_format
        self.archive = TurnArchive(render_turn, time_format)
        self._views: dict[str, TurnView] = {}
        self._dirty: set[str] = set()
        self._pending: dict[str, Turn] = {}
        self._mount_scheduled = False
        self._flush_due: asyncio.TimerHandle | None = None
        self.hidden_turns = 0  # pruned from the screen (still in the session's history)

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="hidden-turns", markup=False)
        yield self.archive

    def on_mount(self) -> None:
        self.anchor()
        self._count_hidden(0)

    def on_unmount(self) -> None:
        if self._flush_due is not None:
            self._flush_due.cancel()
            self._flush_due = None

    def _mark_dirty(self, item_id: str) -> None:
        self._dirty.add(item_id)
        if self.auto_flush and self._flush_due is None:
            # the loop's own timer: a Textual Timer would be a task and a message per flush
            self._flush_due = asyncio.get_running_loop().call_later(1 / FLUSH_HZ, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_due = None
        if self.is_attached:
            self.flush()

    @property
    def mounted_turns(self) -> int:
        """Turns drawn by their own widget (the newest ones)."""
        return len(self._views)

    @property
    def shown_turns(self) -> int:
        """Turns on the log: the archive's lines and the widgets."""
        return self.archive.count + len(self._views)

    def view_for(self, item_id: str) -> TurnView | None:
        return self._views.get(item_id)

    def add_turns(self, turns: Iterable[Turn]) -> None:
        """Show many turns at once (replay): only the newest `keep` are shown, and of those
        only the newest `live` become widgets."""
        turns = list(turns)
        skipped = max(0, len(turns) - self.keep)
        self._count_hidden(skipped)
        shown = turns[skipped:]
        if not self._views:  # nothing newer is mounted: the older part goes straight to lines
            as_lines = max(0, len(shown) - self.live)
            self.archive.add(shown[:as_lines])
            shown = shown[as_lines:]
        new_views = [self._make_view(turn) for turn in shown]
        if new_views:
            self.mount_all(new_views)
        self._retire()
        self._prune()

    def add_turn(self, turn: Turn) -> None:
        """Queue a new turn; turns announced in one burst (a replay) are mounted together."""
        view = self._views.get(turn.item_id)
        if view is not None:  # the same item announced again: treat as an update
            view.turn = turn
            self._mark_dirty(turn.item_id)
            return
        self._pending[turn.item_id] = turn
        if not self._mount_scheduled:
            self._mount_scheduled = True
            self.call_later(self._mount_pending)

    def _mount_pending(self) -> None:
        self._mount_scheduled = False
        pending = list(self._pending.values())
        self._pending.clear()
        self.add_turns(pending)

    def turn_changed(self, turn: Turn) -> None:
        """A delta arrived: repaint at the next flush, not now."""
        if turn.item_id in self._pending:
            self._pending[turn.item_id] = turn  # rendered as it is when it mounts
            return
        if self._give(turn) is not None:
            self._mark_dirty(turn.item_id)

    def turn_finished(self, turn: Turn) -> None:
        """Final state shows at once (markers matter more than throughput)."""
        view = self._give(turn)
        if view is not None:
            self._dirty.discard(turn.item_id)
            view.refresh_turn()

    def _give(self, turn: Turn) -> TurnView | None:
        """The widget showing `turn`, now holding it; None when there is none (the archive
        redraws the turn if it holds it, else the turn is added)."""
        view = self._views.get(turn.item_id)
        if view is None:
            if not self.archive.update(turn):
                self.add_turn(turn)
            return None
        view.turn = turn
        return view

    def flush(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        with self.app.batch_update():
            for item_id in dirty:
                view = self._views.get(item_id)
                if view is not None:
                    view.refresh_turn()

    def clear_turns(self) -> None:
        for view in list(self._views.values()):
            view.remove()
        self._views.clear()
        self._dirty.clear()
        self._pending.clear()
        self.archive.clear()
        self.hidden_turns = 0
        self._count_hidden(0)

    def _make_view(self, turn: Turn) -> TurnView:
        view = self._view_class(turn)(turn, self.time_format)
        self._views[turn.item_id] = view
        return view

    @staticmethod
    def _view_class(turn: Turn) -> type[TurnView]:
        """A tool call has its own line (tui.widgets.tool_line); it behaves as a TurnView."""
        return ToolTurnView if turn.tool is not None else TurnView  # type: ignore[return-value]

    def _retire(self) -> None:
        """The oldest widgets beyond `live` become lines of the archive, a batch at a time."""
        excess = len(self._views) - self.live
        if not _batch_due(excess, ARCHIVE_BATCH, self.live // 3):
            return
        retiring = [self._views.pop(item_id) for item_id in list(self._views)[:excess]]
        expanded = [view.turn.item_id for view in retiring if getattr(view, "expanded", False)]
        self.archive.add((view.turn for view in retiring), expanded=expanded)
        for view in retiring:
            self._dirty.discard(view.turn.item_id)
            view.remove()

    def _prune(self) -> None:
        """Beyond `keep` shown turns, the oldest lines go (counted on the label above)."""
        excess = self.shown_turns - self.keep
        if not _batch_due(excess, PRUNE_BATCH, self.keep // 4):
            return
        from_archive = min(excess, self.archive.count)
        self.archive.drop_oldest(from_archive)
        doomed = list(self._views)[: excess - from_archive]
        for item_id in doomed:
            view = self._views.pop(item_id)
            self._dirty.discard(item_id)
            view.remove()
        self._count_hidden(excess)

    def _count_hidden(self, more: int) -> None:
        self.hidden_turns += more
        if not self.is_mounted:
            return
        label = self.query_one("#hidden-turns", Static)
        label.display = self.hidden_turns > 0
        label.update(f"… {self.hidden_turns} earlier turns not shown (saved in history)")
