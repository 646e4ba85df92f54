"""The bad-frame throttle without a server: every frame logged, few announced."""

from __future__ import annotations

import pytest

from tui.changes import EventLogged, Notice
from tui.realtime.events import BadEvent
from tui.session import throttle
from tui.session.effects import CancelSummary, ScheduleSummary
from tui.session.throttle import BadFrameThrottle

INTERVAL = throttle.BAD_NOTICE_INTERVAL_S


def bad(kind: str = "not_json", reason: str = "not JSON") -> BadEvent:
    return BadEvent(kind, reason, preview="{oops")


def notices(effects: list) -> list[str]:
    return [e.text for e in effects if isinstance(e, Notice)]


def test_every_frame_is_logged_for_the_inspector_and_counted() -> None:
    gate = BadFrameThrottle()
    for now in (0.0, 0.1, 0.2):
        effects = gate.admit(bad(), now)
        assert effects[0] == EventLogged(
            "in",
            {
                "type": "rt-tui.bad_frame",
                "kind": "not_json",
                "reason": "not JSON",
                "preview": "{oops",
            },
        )
    assert gate.counts == {"not_json": 3}


def test_one_notice_per_kind_per_interval_then_one_summary() -> None:
    gate = BadFrameThrottle()
    first = gate.admit(bad(), 100.0)
    assert notices(first) == ["Skipped a bad server frame: not JSON (1 so far)"]
    second = gate.admit(bad(reason="still not JSON"), 101.0)
    assert second[1:] == [ScheduleSummary("not_json", INTERVAL - 1.0)]
    third = gate.admit(bad(reason="the latest reason"), 102.0)
    assert third[1:] == [], "one summary is already due"
    assert gate.summarise("not_json", 105.0) == [
        Notice("warning", "Skipped 2 more bad server frames: the latest reason (3 so far)")
    ]
    # the summary opened a new interval: the next frame waits for the next summary
    assert gate.admit(bad(), 106.0)[1:] == [ScheduleSummary("not_json", INTERVAL - 1.0)]
    assert notices(gate.summarise("not_json", 110.0)) == [
        "Skipped 1 more bad server frame: not JSON (4 so far)"
    ]


def test_a_summary_with_nothing_new_says_nothing() -> None:
    gate = BadFrameThrottle()
    gate.admit(bad(), 0.0)
    gate.admit(bad(), 1.0)
    gate.summarise("not_json", 5.0)
    assert gate.summarise("not_json", 10.0) == []


def test_kinds_are_throttled_apart() -> None:
    gate = BadFrameThrottle()
    gate.admit(bad(), 0.0)
    other = gate.admit(bad("too_large", "frame too large"), 0.5)
    assert notices(other) == ["Skipped a bad server frame: frame too large (1 so far)"]


def test_a_quiet_interval_later_a_frame_is_announced_at_once() -> None:
    gate = BadFrameThrottle()
    gate.admit(bad(), 0.0)
    assert notices(gate.admit(bad(), INTERVAL)) == [
        "Skipped a bad server frame: not JSON (2 so far)"
    ]


def test_a_fresh_notice_cancels_the_summary_it_supersedes() -> None:
    """A summary was scheduled, but the next frame comes after the interval (a slow loop):
    its notice counts every frame, so the pending summary is cancelled."""
    gate = BadFrameThrottle()
    gate.admit(bad(), 0.0)
    gate.admit(bad(), 1.0)
    late = gate.admit(bad(), INTERVAL + 2)
    assert late[1] == CancelSummary("not_json")
    assert notices(late) == ["Skipped a bad server frame: not JSON (3 so far)"]


def test_the_interval_is_read_at_each_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = BadFrameThrottle()
    monkeypatch.setattr(throttle, "BAD_NOTICE_INTERVAL_S", 0.5)
    gate.admit(bad(), 0.0)
    assert gate.admit(bad(), 0.1)[1:] == [ScheduleSummary("not_json", 0.4)]
