"""The meter's direct paint: the same picture as Textual's update, taken only when it is safe.

`DirectPaint` writes the meter's line to the terminal itself (tui/widgets/direct_paint.py).
These tests pin the three things that make that honest: what it writes is what Textual's
compositor would draw there; it steps aside whenever anything could be drawn over the line;
and on the Textual that pyproject allows, the path is really taken (a moving level paints
without a screen update).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.segment import Segment

from tests.ui.conftest import scripted, wait_until
from tui.app import RtApp
from tui.config import Settings
from tui.widgets.direct_paint import DirectPaint
from tui.widgets.level_meter import LevelMeter

SIZE = (100, 32)


def _app(tmp_path: Path) -> RtApp:
    factory = scripted(level=(-30.0, -20.0))
    return RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=factory)


def _cells(segments: Any) -> list[tuple[str, Any]]:
    """One (character, style) pair per cell, so that differently split lines compare."""
    return [(char, seg.style) for seg in Segment.simplify(segments) for char in seg.text]


async def test_the_direct_line_is_the_line_textual_composes_there(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.meter
        await wait_until(lambda: meter.level_db == -30.0, pilot, what="a sampled level")
        await pilot.pause()  # no layout pending (the direct path waits for one)
        meter.level_db, meter.peak_db = -17.0, -9.5
        sequence = meter.direct.sequence(headless_ok=True)
        assert sequence is not None
        row = meter.region.y
        assert sequence.startswith(f"\x1b[{row + 1};1H")  # the meter's own row, column 1
        assert "-17 dBFS" in sequence

        (direct,) = meter.render_lines(meter.region.reset_offset)
        # now Textual composes the whole screen from the same state, with no await between
        # (the session's level samples would move the meter)
        meter._styles_cache.clear()
        composed = app.screen._compositor.render_strips()[row]
        assert _cells(direct) == _cells(composed)


async def test_it_steps_aside_when_another_screen_is_on_top(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.meter
        await pilot.pause()  # the first layout
        assert meter.direct.sequence(headless_ok=True) is not None
        await pilot.press("f1")  # the help screen covers the main one
        await wait_until(lambda: app.screen is not meter.screen, pilot, what="help open")
        assert meter.direct.sequence(headless_ok=True) is None


async def test_it_steps_aside_when_a_toast_covers_the_meter(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        meter = app.meter
        # toasts stack up from the bottom right: a short one, then a tall one over the meter
        app.notify("short", timeout=60)
        app.notify("a longer notice " * 8, title="Title", timeout=60)
        await wait_until(
            lambda: _toast_over(app, meter), pilot, what="a toast over the meter's line"
        )
        assert meter.direct.sequence(headless_ok=True) is None


def _toast_over(app: RtApp, meter: LevelMeter) -> bool:
    visible = app.screen._compositor.visible_widgets
    return any(
        type(widget).__name__ == "Toast" and clip.intersection(region).overlaps(meter.region)
        for widget, (region, clip) in visible.items()
    )


async def test_headless_and_broken_internals_fall_back_to_refresh(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.meter
        await wait_until(lambda: meter.level_db == -30.0, pilot, what="a sampled level")
        assert meter.direct.paint() is False  # headless: Textual draws every frame
        assert not meter.direct.broken

        class Changed(DirectPaint):
            def sequence(self, *, headless_ok: bool = False) -> str | None:
                raise AttributeError("'Compositor' object has no attribute 'visible_widgets'")

        meter.direct = Changed(meter)
        refreshed = []
        original = meter.refresh
        meter.refresh = lambda *a, **k: refreshed.append(1) or original(*a, **k)  # type: ignore[method-assign]
        meter.sample((-12.0, -6.0))
        assert meter.direct.broken and refreshed  # drawn the ordinary way from now on
        assert "-12 dBFS" in str(meter.render())


async def test_a_moving_level_paints_directly_not_through_refresh(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """On the installed Textual the direct path is taken: writing into the headless driver
    (its writes kept here), 20 level changes make 20 direct lines and no refresh."""
    written: list[str] = []
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.meter
        await wait_until(lambda: meter.level_db == -30.0, pilot, what="a sampled level")
        await pilot.pause()
        refreshed: list[int] = []
        meter.direct.headless_ok = True
        with monkeypatch.context() as patch:
            patch.setattr(app._driver, "write", written.append)
            patch.setattr(meter, "refresh", lambda *a, **k: refreshed.append(1) or meter)
            for step in range(20):
                meter.sample((-50.0 + 2 * step, -6.0))
        meter.direct.headless_ok = False
        assert meter.direct.painted == 20 and refreshed == []
        row = f"\x1b[{meter.region.y + 1};1H"
        lines = [text for text in written if row in text]
        assert len(lines) == len(written) == 20  # one write a line: one writer-thread wake
        assert "-50 dBFS" in lines[0] and "-12 dBFS" in lines[-1]


async def test_a_driver_that_refuses_the_write_costs_a_refresh_not_an_error(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """At shutdown Textual's driver asserts it is in application mode: the meter's sample
    (called from the microphone's path) must not raise."""
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        meter = app.meter
        await wait_until(lambda: meter.level_db == -30.0, pilot, what="a sampled level")
        await pilot.pause()

        def refuse(data: str) -> None:
            raise AssertionError("Driver must be in application mode")

        meter.direct.headless_ok = True
        with monkeypatch.context() as patch:
            patch.setattr(app._driver, "write", refuse)
            meter.sample((-12.0, -6.0))
        meter.direct.headless_ok = False
        assert meter.direct.broken and meter.direct.painted == 0
        assert "-12 dBFS" in str(meter.render())  # refreshed the ordinary way
