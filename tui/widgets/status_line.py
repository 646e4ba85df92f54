"""The status line: latency, session time, tokens and estimated cost, limits, audio mode.

Everything is derived from `tui.changes.Stats` by pure functions so the text is testable
without a screen; the widget only repaints (no relayout) when the text changes. Messages
from outside (audio problems naming devices, mute reasons, why history is off) are drawn
through tui.printable: data, never terminal control.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from tui.changes import Stats
from tui.printable import one_line

SPEND_WARN_FRACTION = 0.8
SEPARATOR = Content.from_markup("[$text-muted] · [/]")
LOW_LIMIT_PCT = 20  # a rate limit below this share left is shown as a warning


@dataclass(slots=True)
class StatusInputs:
    stats: Stats
    now: float  # monotonic seconds, same clock as Stats.session_started
    spend_cap_usd: float | None = None
    audio_message: str = ""
    mute_reason: str = ""
    echo_erle_db: float | None = None  # echo removed by the canceller, when it runs
    history_off: str = ""  # why this session is not being saved (empty: saved, or not asked)
    unsaved_turns: int = 0  # turns the transcript file did not take yet (a full disk)
    unsaved_reason: str = ""  # why the last write failed
    free: bool = False  # --demo: the built-in server costs nothing, so no estimate is shown
    working: str = ""  # a tool runs and nothing is spoken: "notes__add_note 3 s"
    server_note: tuple[str, bool] = ("", False)  # an MCP server's latest change, bad news?


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_minutes(seconds: float) -> str:
    """A session's age to the minute ("<1 min", "12 min", "1 h 02 min"): a clock to the
    second would change the line, and cost a screen update, every second of a long talk."""
    minutes = max(0, int(seconds)) // 60
    if minutes == 0:
        return "<1 min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def format_tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10_000 else str(count)


def format_cost(usd: float) -> str:
    """One precision for turn and total: a tenth of a cent below $1, cents above."""
    return f"${usd:.3f}" if round(usd, 3) < 1 else f"${usd:.2f}"


def lowest_limit_pct(limits: dict[str, Any]) -> float | None:
    """The scarcest rate limit as a percentage left (the others matter less until it runs out)."""
    shares = []
    for info in limits.values():
        if not isinstance(info, dict):
            continue
        remaining, limit = info.get("remaining"), info.get("limit")
        if remaining is None or not limit:
            continue
        shares.append(100 * max(0.0, float(remaining)) / float(limit))
    return min(shares) if shares else None


def _urgent(inputs: StatusInputs) -> list[Content]:
    """What the user must act on or know now; it goes first so a narrow line never hides it."""
    pieces: list[Content] = []
    if inputs.working:  # silence while a tool works: the assistant has not hung
        pieces.append(Content.from_markup("[$accent b]working:[/] $v", v=one_line(inputs.working)))
    note, bad = inputs.server_note
    if note:  # brief: a server became ready, failed, or waits to retry
        style = "$warning" if bad else "$success"
        pieces.append(Content.from_markup(f"[{style}]$v[/]", v=one_line(note)))
    cap, spent = inputs.spend_cap_usd, inputs.stats.session_usage.cost_usd
    capped = cap is not None and cap > 0 and spent >= cap
    if capped:
        pieces.append(
            Content.from_markup("[$error b]spend cap $cap reached: mic muted[/]", cap=f"${cap:g}")
        )
    elif inputs.mute_reason:  # the cap message above already says why the mic is muted
        pieces.append(Content.from_markup("[$error]$v[/]", v=one_line(inputs.mute_reason)))
    if inputs.history_off:  # for the whole session: the user must not believe it is saved
        pieces.append(
            Content.from_markup("[$warning b]history off:[/] $v", v=one_line(inputs.history_off))
        )
    if inputs.unsaved_turns:  # mid-session: until they are written, the user must know
        turns = f"{inputs.unsaved_turns} turn{'s' if inputs.unsaved_turns != 1 else ''}"
        pieces.append(
            Content.from_markup(
                "[$error b]history: $n not saved[/] $v",
                n=turns,
                v=f"({one_line(inputs.unsaved_reason)})" if inputs.unsaved_reason else "",
            )
        )
    if inputs.audio_message:
        pieces.append(Content.from_markup("[$warning]$v[/]", v=one_line(inputs.audio_message)))
    if cap and not capped and spent >= SPEND_WARN_FRACTION * cap:
        pieces.append(
            Content.from_markup(
                "[$warning]⚠ $pct of $cap cap[/]", pct=f"{100 * spent / cap:.0f}%", cap=f"${cap:g}"
            )
        )
    handover = inputs.stats.handover_in_s
    if handover is not None:
        pieces.append(
            Content.from_markup("[$warning]handover in $v[/]", v=format_duration(handover))
        )
    return pieces


def _latency(stats: Stats) -> Content:
    if stats.last_latency_ms is None:
        return Content.from_markup("[$text-muted]latency —[/]")
    text = f"{stats.last_latency_ms:.0f} ms"
    median = stats.median_latency_ms
    if median is not None and len(stats.latencies_ms) > 1:
        text += f" (p50 {median:.0f})"
    return Content.from_markup("[$text-muted]latency[/] $v", v=text)


def _usage(stats: Stats, *, free: bool = False) -> Content:
    turn, session = stats.turn_usage, stats.session_usage
    turn_tokens = format_tokens(turn.input_tokens + turn.output_tokens)
    total_tokens = format_tokens(session.input_tokens + session.output_tokens)
    if free:
        return Content(f"turn {turn_tokens} tok · total {total_tokens} tok (demo: free)")
    if not stats.priced:
        return Content(f"turn {turn_tokens} tok · total {total_tokens} tok (no price)")
    # transcription billed another way (whisper-1, per minute): its cost is not in the sums
    unpriced = "" if stats.transcription_priced else " (transcription not priced)"
    return Content(
        f"turn ≈{format_cost(turn.cost_usd)} {turn_tokens} tok"
        f" · total ≈{format_cost(session.cost_usd)} {total_tokens} tok{unpriced}"
    )


def status_pieces(inputs: StatusInputs) -> list[Content]:
    """The status line's items as themed Content (values substituted, never parsed).

    Urgent items first (mute reason or spend cap, audio mode, cap warning, handover), then
    the figures: the widget is at most two rows, and what does not fit is cut at the end.
    """
    stats = inputs.stats
    pieces = _urgent(inputs)
    pieces.append(_latency(stats))
    if stats.session_started is not None:
        elapsed = format_minutes(inputs.now - stats.session_started)
        pieces.append(Content.from_markup("[$text-muted]session[/] $v", v=elapsed))
    pieces.append(_usage(stats, free=inputs.free))
    left = lowest_limit_pct(stats.rate_limits)
    if left is not None:
        style = "$warning" if left < LOW_LIMIT_PCT else "$foreground"
        # floor: "100%" would hide that some of the limit is already used
        shown = f"{math.floor(left)}%"
        pieces.append(
            Content.from_markup(f"[$text-muted]rate limit[/] [{style}]$v[/] left", v=shown)
        )
    if inputs.echo_erle_db is not None:
        pieces.append(
            Content.from_markup(
                "[$text-muted]echo cancelled[/] $v", v=f"{inputs.echo_erle_db:.0f} dB"
            )
        )
    return pieces


def seconds_to_next_change(inputs: StatusInputs) -> float | None:
    """When the line would next change with nothing happening but time: a second while a
    tool's seconds, the echo figure or a tool server's note (a countdown, shown for a few
    seconds) run, else the session's next whole minute, else never."""
    if inputs.working or inputs.echo_erle_db is not None or inputs.server_note[0]:
        return 1.0
    started = inputs.stats.session_started
    if started is None:
        return None
    return 60.0 - (inputs.now - started) % 60.0 + 0.05  # just past the minute turns


def status_markup(inputs: StatusInputs) -> Content:
    """The whole status line on one logical line (what a wide terminal shows)."""
    return SEPARATOR.join(status_pieces(inputs))


def pack_rows(pieces: list[Content], width: int) -> Content:
    """Pieces joined by the separator, starting a new row where the next would not fit whole.

    Plain wrapping would split an item over two rows ("left" / "90%"); a piece wider than
    `width` still gets a row of its own and wraps there.
    """
    rows: list[list[Content]] = [[]]
    used = 0
    for piece in pieces:
        need = piece.cell_length + (SEPARATOR.cell_length if rows[-1] else 0)
        if rows[-1] and used + need > width:
            rows.append([])
            used, need = 0, piece.cell_length
        rows[-1].append(piece)
        used += need
    return Content("\n").join(SEPARATOR.join(row) for row in rows)


class StatusLine(Widget):
    """Re-rendered on stats changes, and when time alone changes the text (the session's
    next minute, a tool's seconds): no timer runs between those moments."""

    DEFAULT_CSS = """
    StatusLine { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    """

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._monotonic = monotonic
        self.stats = Stats()
        self.spend_cap_usd: float | None = None
        self.audio_message = ""
        self.mute_reason = ""
        self.history_off = ""  # set once by the app when the transcript cannot be written
        self.unsaved_turns, self.unsaved_reason = 0, ""  # a write failed mid-session
        self.free = False  # --demo: tokens are counted, no cost is estimated
        self.working_source: Callable[[], str] | None = None  # the tool at work, if any
        self.server_note_source: Callable[[], tuple[str, bool]] | None = None
        # read once a second: how much echo the canceller removes (None when not cancelling)
        self.erle_source: Callable[[], float | None] | None = None
        self._pieces: list[Content] = []
        self._rows = 0  # rows at the current width, to relayout only when that changes
        self._next_update: asyncio.TimerHandle | None = None

    def _plan_next_update(self, inputs: StatusInputs) -> None:
        """Wake again when the text can change by time alone, and not before: changes that
        come from events (stats, mute, audio) call update_text() themselves."""
        if self._next_update is not None:
            self._next_update.cancel()
            self._next_update = None
        delay = seconds_to_next_change(inputs)
        if delay is not None and self.is_attached:
            # the loop's own timer: cheaper than a Textual Timer (a task and a message)
            self._next_update = asyncio.get_running_loop().call_later(delay, self.update_text)

    def on_mount(self) -> None:
        self.update_text()

    def on_unmount(self) -> None:
        if self._next_update is not None:
            self._next_update.cancel()
            self._next_update = None

    def update_text(self) -> None:
        inputs = StatusInputs(
            stats=self.stats,
            now=self._monotonic(),
            spend_cap_usd=self.spend_cap_usd,
            audio_message=self.audio_message,
            mute_reason=self.mute_reason,
            history_off=self.history_off,
            unsaved_turns=self.unsaved_turns,
            unsaved_reason=self.unsaved_reason,
            free=self.free,
            echo_erle_db=self.erle_source() if self.erle_source else None,
            working=self.working_source() if self.working_source else "",
            server_note=self.server_note_source() if self.server_note_source else ("", False),
        )
        self._plan_next_update(inputs)
        pieces = status_pieces(inputs)
        changed = [p.plain for p in pieces] != [p.plain for p in self._pieces]
        self._pieces = pieces
        if not changed:
            return
        # A relayout is only needed when the number of rows changes (a repaint of this one
        # widget is cheap).
        rows = self._row_count(self.content_size.width)
        self.refresh(layout=rows != self._rows)
        self._rows = rows

    def _row_count(self, width: int) -> int:
        return len(pack_rows(self._pieces, width).wrap(width)) if width > 0 else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._rows = self._row_count(width)
        return max(1, self._rows)

    def render(self) -> Content:
        return pack_rows(self._pieces, self.content_size.width)
