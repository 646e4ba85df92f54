"""The tool line (tui.widgets.tool_line): what each state says, and its 1 s timer, which runs
only while the call runs: a finished line holds no timer (a log of 2,000 finished calls
must not mean 2,000 timers).

Before, each line kept a 1 s timer from mount to removal, whatever its state."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tests.ui.conftest import wait_until
from tui.changes import Role, ToolCall, ToolState, Turn, TurnStatus
from tui.widgets.tool_line import ToolTurnView, render_tool_turn

SIZE = (100, 30)


def stamp(_: float) -> str:
    return "12:00:00"


def call(state: ToolState, **fields: Any) -> Turn:
    tool = ToolCall("call_1", "notes__add_note", arguments='{"text": "hi"}', state=state, **fields)
    return Turn("item_1", Role.TOOL, tool=tool)


def drawn(turn: Turn, now: float = 0.0) -> str:
    return render_tool_turn(turn, stamp, now=now).plain


def running_timers(view: ToolTurnView) -> list[Any]:
    """Textual's own record of the widget's timers (not the view's): those still running."""
    return [timer for timer in view._timers if timer._task is not None]


def test_a_running_call_says_for_how_long() -> None:
    turn = call(ToolState.RUNNING, started_at=100.0)
    assert "⚙ running 7 s" in drawn(turn, now=107.4)
    assert "⚙ running 0 s" in drawn(turn, now=99.0)  # a clock step back never goes negative
    assert "running 7 s" not in drawn(call(ToolState.RUNNING), now=107.4)  # not started yet


def test_a_failed_call_says_so_with_its_reason() -> None:
    turn = call(ToolState.FAILED, summary="timed out after 60 s")
    turn.status = TurnStatus.FAILED
    text = drawn(turn)
    assert "notes__add_note" in text and "✗ failed" in text
    assert text.splitlines()[1].strip() == "timed out after 60 s"


def test_a_cancelled_call_says_so_and_counts_no_time() -> None:
    turn = call(ToolState.CANCELLED, started_at=100.0, summary="cancelled: you interrupted")
    turn.status = TurnStatus.CANCELLED
    text = drawn(turn, now=150.0)
    assert "⊘ cancelled" in text and " s\n" not in text and "50 s" not in text
    assert "cancelled: you interrupted" in text


def test_a_running_remote_call_cut_off_by_a_drop_counts_no_time() -> None:
    turn = call(ToolState.RUNNING, started_at=100.0)
    turn.status = TurnStatus.CUT_OFF
    text = drawn(turn, now=150.0)
    assert "⚡ cut off" in text and "50 s" not in text


class LinesApp(App[None]):
    def __init__(self, turns: list[Turn]) -> None:
        super().__init__()
        self.turns = turns

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            for turn in self.turns:
                yield ToolTurnView(turn, stamp)


async def test_the_timer_runs_while_the_call_runs_and_stops_when_it_ends() -> None:
    turn = call(ToolState.CALLED)
    app = LinesApp([turn])
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ToolTurnView)
        assert running_timers(view) == []  # nothing to count yet
        assert turn.tool is not None
        turn.tool.state, turn.tool.started_at = ToolState.RUNNING, 0.0
        view.refresh_turn()
        assert len(running_timers(view)) == 1
        assert view.has_class("-running")
        await wait_until(lambda: " s" in str(view.render()), pilot, what="elapsed time")
        turn.tool.state, turn.tool.summary = ToolState.FAILED, "broken"
        turn.status = TurnStatus.FAILED
        view.refresh_turn()
        assert running_timers(view) == []
        assert view.has_class("-failed") and not view.has_class("-running")


async def test_finished_lines_hold_no_timer() -> None:
    """Every finished line, whatever its end: none holds a timer, so 2,000 of them (a long
    session, a big --resume) hold none either; 200 keep the test quick."""
    states = [ToolState.DONE, ToolState.FAILED, ToolState.DECLINED, ToolState.CANCELLED]
    turns = [call(states[i % 4], started_at=1.0) for i in range(200)]
    for index, turn in enumerate(turns):
        turn.item_id = f"item_{index}"
    app = LinesApp(turns)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        views = list(app.query(ToolTurnView))
        assert len(views) == 200
        assert sum(len(running_timers(view)) for view in views) == 0
        # a replayed failed call shows its red edge from the start, not only after a refresh
        assert views[1].has_class("-failed")
