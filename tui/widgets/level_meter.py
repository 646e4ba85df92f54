"""The input-level bar: a one-line custom widget, sampled by a timer, never pushed per block.

The app copies `session.input_level()` into `sample()` 25 times a second. Levels are rounded to
half a dB so that a steady signal costs no repaint at all (equal reactive values are no-ops).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

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


def bar_cells(level_db: float, width: int) -> str:
    """`width` cells filled in eighths for a level between FLOOR_DB and 0 dBFS."""
    if width <= 0:
        return ""
    fraction = min(1.0, max(0.0, (level_db - FLOOR_DB) / -FLOOR_DB))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    cells = "█" * full
    if full < width:
        cells += EIGHTHS[part]
        cells += " " * (width - full - 1)
    return cells


def _cell_of(level_db: float, width: int) -> int:
    fraction = min(1.0, max(0.0, (level_db - FLOOR_DB) / -FLOOR_DB))
    return min(width - 1, int(fraction * width))


class LevelMeter(Widget):
    """`● listening  ████▋      │   -23.5 dBFS`."""

    DEFAULT_CSS = """
    LevelMeter { height: 1; padding: 0 1; background: $panel; }
    """

    level_db: reactive[float] = reactive(FLOOR_DB)
    peak_db: reactive[float] = reactive(FLOOR_DB)
    state: reactive[MeterState] = reactive(MeterState.NO_INPUT)

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._monotonic = monotonic
        self._held_db = FLOOR_DB
        self._held_at = 0.0

    def sample(self, level: tuple[float, float] | None) -> None:
        """Take one reading (rms_db, peak_db), or None when there is no input."""
        if level is None:
            self.level_db = FLOOR_DB
            self.peak_db = FLOOR_DB
            return
        rms_db, peak_db = level
        now = self._monotonic()
        peak = max(FLOOR_DB, min(0.0, peak_db))
        if peak >= self._held_db:
            self._held_db, self._held_at = peak, now
        elif now - self._held_at > PEAK_HOLD_S:
            fallen = self._held_db - PEAK_FALL_DB_PER_S * (now - self._held_at - PEAK_HOLD_S)
            self._held_db = max(peak, fallen)
        self.level_db = round(max(FLOOR_DB, min(0.0, rms_db)) * 2) / 2
        self.peak_db = round(self._held_db * 2) / 2

    def render(self) -> Content:
        mark, colour = _STATE_MARK[self.state]
        label = Content.from_markup(
            f"[{colour} b]$mark[/] [{colour}]$text[/]", mark=mark, text=str(self.state)
        )
        label = label.pad_right(max(0, LABEL_WIDTH - len(label.plain)))
        width = max(0, self.size.width - LABEL_WIDTH - NUMBER_WIDTH)
        if self.state in (MeterState.MUTED, MeterState.NO_INPUT) or width == 0:
            number = "" if self.state is MeterState.NO_INPUT else "   muted"
            return Content("").join(
                [label, Content("·" * width).stylize("$text-disabled"), Content(number)]
            )
        cells = bar_cells(self.level_db, width)
        fill = "$meter-speaking" if self.state is MeterState.USER_SPEAKING else "$meter-fill"
        bar = Content(cells).stylize(fill)
        if self.peak_db > FLOOR_DB:
            at = _cell_of(self.peak_db, width)
            if at >= len(cells.rstrip()):
                bar = bar[:at] + Content("│").stylize("$meter-peak") + bar[at + 1 :]
        number = "   -∞ dBFS" if self.level_db <= FLOOR_DB else f"{self.level_db:>5.1f} dBFS"
        return Content("").join([label, bar, Content(number.rjust(NUMBER_WIDTH))])
