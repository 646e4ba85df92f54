"""The log's archive: older turns drawn as lines look like their widgets and stay in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.segment import Segment

from tests.ui.conftest import scripted, wait_until
from tui.app import RtApp
from tui.changes import Role, ToolCall, ToolState, Turn, TurnFinished, TurnStarted, TurnStatus
from tui.config import Settings
from tui.widgets.conversation import ARCHIVE_BATCH, LIVE_TURNS

SIZE = (90, 40)


def _cells(strips: Any) -> list[list[tuple[str, Any]]]:
    """Per line, one (character, colour, background, bold) per cell."""
    return [
        [
            (char, seg.style.color, seg.style.bgcolor, seg.style.bold)
            for seg in Segment.simplify(strip)
            for char in seg.text
        ]
        for strip in strips
    ]


def _turns() -> list[Turn]:
    done = TurnStatus.DONE
    said = Turn("u1", Role.USER, "hello, is this thing on? " * 5, status=done, started_at=1.0)
    cut = Turn("a1", Role.ASSISTANT, "it is, and I was saying", started_at=2.0)
    cut.status, cut.heard_ms, cut.audio_ms = TurnStatus.INTERRUPTED, 1200.0, 3400.0
    failed = Turn("a2", Role.ASSISTANT, "", status=TurnStatus.FAILED, started_at=3.0)
    failed.reason = "rate limited"
    streaming = Turn("a3", Role.ASSISTANT, "still talking", started_at=3.5)
    tool = Turn("c1", Role.TOOL, "", status=done, started_at=4.0)
    tool.tool = ToolCall(call_id="call_1", name="clock", arguments="{}", state=ToolState.FAILED)
    tool.tool.summary = "boom"
    return [said, cut, failed, streaming, tool]


async def test_archived_lines_look_like_the_turns_widgets(tmp_path: Path) -> None:
    """The same turns drawn as widgets, then as the archive's lines: the screen is the same,
    cell for cell (text, colours, bold), edges and markers included."""
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        turns = _turns()
        log.add_turns(turns)
        await wait_until(lambda: log.mounted_turns == len(turns), pilot, what="widgets")
        await pilot.pause()
        as_widgets = _log_cells(app)
        assert any("interrupted" in "".join(c[0] for c in row) for row in as_widgets)

        log.live = 0  # every turn retires to the archive
        log._retire()
        await wait_until(lambda: log.mounted_turns == 0, pilot, what="all retired")
        await pilot.pause()
        assert log.archive.count == len(turns)
        assert _log_cells(app) == as_widgets


def _log_cells(app: RtApp) -> list[list[tuple[str, Any, Any, Any]]]:
    log = app.conversation_log
    strips = app.screen._compositor.render_strips()
    region = log.content_region
    rows = [strips[y].crop(region.x, region.right) for y in range(region.y, region.bottom)]
    return _cells(rows)


async def test_older_turns_retire_in_order_and_still_take_updates(tmp_path: Path) -> None:
    count = LIVE_TURNS + ARCHIVE_BATCH + 5
    turns = [
        Turn(f"t{i}", Role.USER if i % 2 else Role.ASSISTANT, f"turn {i}", started_at=1.0)
        for i in range(count)
    ]
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        for turn in turns:  # one at a time, as a conversation adds them
            app._on_change(TurnStarted(turn))
            await wait_until(lambda t=turn: log.view_for(t.item_id) is not None, pilot)
        await pilot.pause()
        archived = [t.item_id for t in log.archive.turns()]
        live = list(log._views)
        assert log.mounted_turns <= LIVE_TURNS + ARCHIVE_BATCH and archived
        assert archived + live == [t.item_id for t in turns]  # the order of the conversation
        assert log.hidden_turns == 0

        # A late transcript for a turn that is now a line redraws that line.
        late = turns[0]
        late.text, late.status = "the late transcript", TurnStatus.DONE
        app._on_change(TurnFinished(late))
        await pilot.pause()
        lines = log.archive._all_lines(log.archive.content_size.width)
        assert any("the late transcript" in line.text for line in lines)
        assert not any(line.text.strip() == "turn 0" for line in lines)
        # ... and the screen shows it when scrolled to the top.
        log.scroll_home(animate=False)
        await pilot.pause()
        assert "the late transcript" in _screen_text(app)


def _screen_text(app: RtApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_a_new_theme_redraws_the_archived_lines(tmp_path: Path) -> None:
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        log.live = 0
        log.add_turns(_turns())
        await wait_until(lambda: log.archive.count == len(_turns()), pilot, what="archived")
        await pilot.pause()
        before = _log_cells(app)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        await pilot.pause()
        after = _log_cells(app)
        assert [[c[0] for c in row] for row in after] == [[c[0] for c in row] for row in before]
        assert after != before  # the same text in the new theme's colours
        # and drawn as the new theme draws them: as widgets again, the same cells
        log.live = len(_turns())
        log.clear_turns()
        log.add_turns(_turns())
        await wait_until(lambda: log.mounted_turns == len(_turns()), pilot, what="widgets")
        await pilot.pause()
        assert _log_cells(app) == after
