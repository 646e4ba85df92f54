"""The smaller rooms without a server: outage, handover plan, voice lock, inspector feed."""

from __future__ import annotations

import random

import pytest

from tui.changes import ConnectionChanged, ConnectionState, SessionInfo
from tui.config import Settings, with_value
from tui.realtime.backoff import Backoff
from tui.session.handover import (
    COUNTDOWN_S,
    HANDOVER_MARGIN_S,
    MIN_LIFETIME_S,
    RETRY_S,
    SessionLimit,
    plan_handover,
)
from tui.session.inspector import InspectorLog
from tui.session.outage import STABLE_CONNECTION_S, Outage
from tui.session.voice import VoiceLock


class Ceiling(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_the_outage_counts_failed_tries_and_waits_longer_each_time() -> None:
    outage = Outage(Backoff(first=0.1, cap=0.4, rng=Ceiling()))
    assert outage.connecting() == ConnectionChanged(ConnectionState.CONNECTING)
    waits = [outage.failed("busy (code 1013)") for _ in range(4)]
    assert [(w.attempt, w.retry_in_s) for w in waits] == [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.4)]
    assert outage.connecting() == ConnectionChanged(
        ConnectionState.RECONNECTING, "busy (code 1013)", 4
    )


def test_a_connection_that_closes_at_once_proves_nothing() -> None:
    outage = Outage(Backoff(first=0.1, cap=0.4, rng=Ceiling()))
    outage.failed("x")
    outage.opened(10.0)
    outage.closed(10.5)
    outage.ended("server busy")
    assert outage.failed("server busy").attempt == 2


def test_a_connection_that_lived_or_answered_starts_the_count_over() -> None:
    for proof in ("lived", "answered"):
        outage = Outage(Backoff(first=0.1, cap=0.4, rng=Ceiling()))
        outage.failed("x")
        outage.failed("x")
        outage.opened(10.0)
        if proof == "answered":
            outage.proven = True  # what the controller does on a Proven effect
            outage.closed(11.0)
        else:
            outage.closed(10.0 + STABLE_CONNECTION_S)
        outage.ended("connection lost")
        after = outage.failed("connection lost")
        assert (after.attempt, after.retry_in_s) == (1, 0.1), proof


def test_the_handover_counts_down_then_waits_for_a_quiet_moment() -> None:
    limit = 30 * 60.0
    assert plan_handover(limit, quiet=True).countdown_s is None
    shown = plan_handover(HANDOVER_MARGIN_S + COUNTDOWN_S, quiet=True)
    assert shown.countdown_s == COUNTDOWN_S and not shown.due
    busy = plan_handover(HANDOVER_MARGIN_S - 1, quiet=False)
    assert busy.countdown_s == -1 and not busy.due
    assert plan_handover(HANDOVER_MARGIN_S - 1, quiet=True).due
    assert plan_handover(9.0, quiet=False).due, "at the last moment even mid-turn"


class Clocks:
    """The session's monotonic clock and the wall clock expires_at is counted on, by hand."""

    def __init__(self) -> None:
        self.now = 1000.0  # monotonic
        self.wall = 1_900_000_000.0  # unix seconds

    def limit(self, max_session_s: float = 3600.0) -> SessionLimit:
        return SessionLimit(lambda: max_session_s, lambda: self.now, lambda: self.wall)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall += seconds


def test_the_session_ends_at_the_earlier_of_the_timer_and_the_servers_expiry() -> None:
    clocks = Clocks()
    limit = clocks.limit(max_session_s=3600.0)
    assert limit.left_s() is None and limit.plan(quiet=True) is None, "no connection yet"
    limit.opened()
    assert limit.left_s() == 3600.0
    limit.announced(int(clocks.wall) + 1800)  # the server ends it after 30 minutes
    assert limit.left_s() == 1800.0
    clocks.advance(1800 - HANDOVER_MARGIN_S - 1)
    plan = limit.plan(quiet=True)
    assert plan is not None and not plan.due
    clocks.advance(1)
    plan = limit.plan(quiet=True)
    assert plan is not None and plan.due, "due by the expiry, long before max_session_min"
    limit.opened()  # the fresh connection: its own session, no expiry announced yet
    assert limit.left_s() == 3600.0


def test_a_later_expiry_leaves_the_timer_in_charge() -> None:
    clocks = Clocks()
    limit = clocks.limit(max_session_s=600.0)
    limit.opened()
    limit.announced(clocks.wall + 3600)
    assert limit.left_s() == 600.0


@pytest.mark.parametrize(
    "expires_in",
    [MIN_LIFETIME_S - 1, 0, -3600, float("nan"), float("-inf"), None, "soon", True],
)
def test_an_expiry_not_to_believe_is_ignored(expires_in: object) -> None:
    """A clock far off the server's (or a broken server) would make every fresh connection
    due at once: an expiry under MIN_LIFETIME_S away, or not a number, changes nothing."""
    clocks = Clocks()
    limit = clocks.limit(max_session_s=3600.0)
    limit.opened()
    number = isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
    limit.announced(clocks.wall + expires_in if number else expires_in)  # type: ignore[operator]
    assert limit.left_s() == 3600.0


def test_a_failed_handover_is_tried_again_a_minute_later() -> None:
    clocks = Clocks()
    limit = clocks.limit(max_session_s=3600.0)
    limit.opened()
    clocks.advance(3600 - HANDOVER_MARGIN_S)
    assert (plan := limit.plan(quiet=True)) is not None and plan.due
    limit.retry_later()
    clocks.advance(RETRY_S - 1)
    assert (plan := limit.plan(quiet=True)) is not None and not plan.due
    assert plan.countdown_s is not None, "the header still counts down"
    clocks.advance(1)
    assert (plan := limit.plan(quiet=True)) is not None and plan.due


def test_the_voice_is_fixed_after_the_first_spoken_reply() -> None:
    settings = Settings()
    voice = VoiceLock(settings.session.voice)
    assert voice.session_info(settings) == [
        SessionInfo(settings.connection.url, settings.connection.model, "marin")
    ]
    assert voice.session_info(settings) == [], "told once"
    voice.spoke = True
    cedar = with_value(settings, "session.voice", "cedar")
    config, [note] = voice.session_config(settings, cedar)
    assert "voice" not in config["audio"]["output"] and "next connection" in note
    [info] = voice.session_info(cedar)
    assert (info.voice, info.pending_voice) == ("marin", "cedar")
    later = with_value(cedar, "session.turn_detection.threshold", 0.7)
    config, notes = voice.session_config(cedar, later)
    assert "voice" not in config["audio"]["output"] and notes == []
    voice.connection_configured(later)
    voice.connection_opened()
    assert not voice.spoke and voice.session_info(later)[0].pending_voice == ""


def test_the_inspector_sums_up_microphone_appends_once_a_second() -> None:
    now = [0.0]
    log = InspectorLog(("sk-secret-0123456789",), lambda: now[0])
    append = {"type": "input_audio_buffer.append", "audio": "AAAA"}
    assert log.outbound(append) is None  # within the first second
    now[0] = 1.0
    logged = log.outbound(append)
    assert logged is not None and logged.event == {
        "type": "input_audio_buffer.append",
        "blocks": 2,
    }
    assert log.outbound(append) is None
    other = log.outbound({"type": "session.update", "session": {"note": "sk-secret-0123456789"}})
    assert other is not None and "sk-secret" not in str(other.event)
