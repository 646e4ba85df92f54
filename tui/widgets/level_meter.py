"""The input-level bar: a one-line custom widget, sampled by a timer, never pushed per block.

The app hands `sample()` the level the session samples on the capture path, about 20 times a
second while the microphone streams. sample() repaints only when the line it draws changes (a
cell of the bar, the peak mark, the whole-dB readout), so a steady or silent input costs no
repaint at all.

The line is drawn with the line API from segments whose styles are resolved once per theme:
building it as markup Content and converting that to strips cost about 1.2 ms a frame on the
project machine, the largest single cost of the whole screen while the user talks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content
from textual.reactive import reactive
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from tui.widgets.direct_paint import DirectPaint

FLOOR_DB = -60.0
PEAK_HOLD_S = 1.0
PEAK_FALL_DB_PER_S = 20.0
EIGHTHS = " ▏▎▍▌▋▊▉█"
LABEL_WIDTH = 22  # fits '◆ assistant speaking' plus a gap
NUMBER_WIDTH = 10


class MeterState(StrEnum):
    NO_INPUT = "no microphone"
    MUTED = "muted"
    LISTENING = "listening"
    USER_SPEAKING = "you are speaking"
    ASSISTANT_SPEAKING = "assistant speaking"


_STATE_MARK = {
    MeterState.NO_INPUT: ("○", "$text-muted"),
    MeterState.MUTED: ("✕", "$error"),
    MeterState.LISTENING: ("●", "$meter-fill"),
    MeterState.USER_SPEAKING: ("●", "$meter-speaking"),
    MeterState.ASSISTANT_SPEAKING: ("◆", "$meter-assistant"),
}


def meter_state(
    *, has_input: bool, muted: bool, user_speaking: bool, assistant_audible: bool
) -> MeterState:
    if muted:
        return MeterState.MUTED
    if user_speaking:
        return MeterState.USER_SPEAKING
    if assistant_audible:
        return MeterState.ASSISTANT_SPEAKING
    return MeterState.LISTENING if has_input else MeterState.NO_INPUT


def _eighths(level_db: float, width: int) -> int:
    fraction = min(1.0, max(0.0, (level_db - FLOOR_DB) / -FLOOR_DB))
    return round(fraction * width * 8)


def bar_cells(level_db: float, width: int) -> str:
    """`width` cells filled in eighths for a level between FLOOR_DB and 0 dBFS."""
    if width <= 0:
        return ""
    full, part = divmod(_eighths(level_db, width), 8)
    cells = "█" * full
    if full < width:
        cells += EIGHTHS[part]
        cells += " " * (width - full - 1)
    return cells


def _cell_of(level_db: float, width: int) -> int:
    fraction = min(1.0, max(0.0, (level_db - FLOOR_DB) / -FLOOR_DB))
    return min(width - 1, int(fraction * width))


def line_pieces(
    state: MeterState, width: int, level_db: float, peak_db: float
) -> list[tuple[str, str]]:
    """The meter's line as (text, style) pieces for a bar `width` cells wide."""
    mark, colour = _STATE_MARK[state]
    text = str(state)
    label = [(mark, f"{colour} b"), (" ", ""), (text, colour)]
    label.append((" " * max(0, LABEL_WIDTH - len(mark) - 1 - len(text)), ""))
    if state in (MeterState.MUTED, MeterState.NO_INPUT) or width == 0:
        number = "" if state is MeterState.NO_INPUT else "   muted"
        return [*label, ("·" * width, "$text-disabled"), (number, "")]
    cells = bar_cells(level_db, width)
    fill = "$meter-speaking" if state is MeterState.USER_SPEAKING else "$meter-fill"
    bar = [(cells, fill)]
    if peak_db > FLOOR_DB:
        at = _cell_of(peak_db, width)
        if at >= len(cells.rstrip()):
            bar = [(cells[:at], fill), ("│", "$meter-peak"), (cells[at + 1 :], fill)]
    # whole dB: a tenth-of-a-dB readout changed the line (and cost a repaint) every sample
    number = "   -∞ dBFS" if level_db <= FLOOR_DB else f"{round(level_db):>5d} dBFS"
    return [*label, *bar, (number.rjust(NUMBER_WIDTH), "")]


def line_key(state: MeterState, width: int, level_db: float, peak_db: float) -> tuple[object, ...]:
    """What decides `line_pieces`, without drawing it: equal keys draw equal lines. The meter
    compares keys about 20 times a second; building the pieces to compare them cost more."""
    if state in (MeterState.MUTED, MeterState.NO_INPUT) or width == 0:
        return (state, width)
    return (
        state,
        width,
        _eighths(level_db, width),
        _cell_of(peak_db, width) if peak_db > FLOOR_DB else -1,
        round(level_db) if level_db > FLOOR_DB else None,  # the whole-dB readout
    )


class LevelMeter(Widget):
    """`● listening  ████▋      │   -23.5 dBFS`."""

    DEFAULT_CSS = """
    LevelMeter { height: 1; padding: 0 1; background: $panel; }
    """

    # level_db and peak_db are plain attributes: sample() runs 20 times a second and repaints
    # once when either changed, which costs less than two reactive assignments
    state: reactive[MeterState] = reactive(MeterState.NO_INPUT)

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._monotonic = monotonic
        self.level_db = FLOOR_DB
        self.peak_db = FLOOR_DB
        self._held_db = FLOOR_DB
        self._held_at = 0.0
        self._styles: dict[tuple[RichStyle, str], RichStyle] = {}
        self._drawn: tuple[object, ...] | None = None  # what decided the line last drawn
        self.direct = DirectPaint(self)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._styles.clear())

    def sample(self, level: tuple[float, float] | None) -> None:
        """Take one reading (rms_db, peak_db), or None when there is no input."""
        if level is None:
            self._show(FLOOR_DB, FLOOR_DB)
            return
        rms_db, peak_db = level
        now = self._monotonic()
        peak = max(FLOOR_DB, min(0.0, peak_db))
        if peak >= self._held_db:
            self._held_db, self._held_at = peak, now
        elif now - self._held_at > PEAK_HOLD_S:
            fallen = self._held_db - PEAK_FALL_DB_PER_S * (now - self._held_at - PEAK_HOLD_S)
            self._held_db = max(peak, fallen)
        self._show(round(max(FLOOR_DB, min(0.0, rms_db)) * 2) / 2, round(self._held_db * 2) / 2)

    def _show(self, level_db: float, peak_db: float) -> None:
        if level_db == self.level_db and peak_db == self.peak_db:
            return
        self.level_db, self.peak_db = level_db, peak_db
        # a screen update costs a few milliseconds of the UI thread: none unless a cell of
        # the line changes (a level moving within one eighth of a cell draws the same line)
        drawn = line_key(self.state, self._bar_width(), level_db, peak_db)
        if drawn != self._drawn:
            self._drawn = drawn
            if not self.direct.paint():  # Textual draws it when the line is not plainly in view
                self.refresh()

    def watch_state(self) -> None:
        self._drawn = None  # the state's label changes the line: the next sample repaints

    def pieces(self) -> list[tuple[str, str]]:
        """The line as (text, style) pieces; style is Textual markup style text."""
        return line_pieces(self.state, self._bar_width(), self.level_db, self.peak_db)

    def _bar_width(self) -> int:
        return max(0, self.size.width - LABEL_WIDTH - NUMBER_WIDTH)

    def render(self) -> Content:
        """The same line as Content (for tests and tools; the screen uses render_line)."""
        return Content("").join(
            Content(text).stylize(style) if style else Content(text)
            for text, style in self.pieces()
            if text
        )

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.visual_style.rich_style
        if y:
            return Strip.blank(width, base)
        pieces = self.pieces()
        segments = [Segment(text, self._style(style, base)) for text, style in pieces if text]
        return Strip(segments).simplify()

    def _style(self, style: str, base: RichStyle) -> RichStyle:
        """The rich style Textual gives `style` on this widget, resolved once per theme."""
        key = (base, style)
        cached = self._styles.get(key)
        if cached is None:
            if not style:
                cached = base
            else:
                strips = Visual.to_strips(
                    self, Content("x").stylize(style), 1, 1, self.visual_style
                )
                segments = list(strips[0]) if strips else []
                cached = (segments[0].style if segments else None) or base
            self._styles[key] = cached
        return cached
