"""The ledger without a server: usage in either order, the turn total, the spend cap."""

from __future__ import annotations

from typing import Any

import pytest

from tui.changes import Notice, Stats, StatsChanged, Usage
from tui.pricing import estimate_cost, estimate_transcription_cost
from tui.session.effects import Mute
from tui.session.ledger import Ledger

MODEL = "gpt-realtime-2"
TRANSCRIBER = "gpt-4o-mini-transcribe"
REPLY = {"input_tokens": 120, "output_tokens": 300}
HEARD = {"type": "tokens", "input_tokens": 40, "output_tokens": 12}


def reply_cost() -> float:
    cost = estimate_cost(MODEL, REPLY)
    assert cost
    return cost


def heard_cost() -> float:
    cost = estimate_transcription_cost(TRANSCRIBER, HEARD)
    assert cost
    return cost


def add_reply(ledger: Ledger, cap: float | None = None, usage: dict[str, Any] = REPLY) -> list:
    return ledger.add_response(usage, model=MODEL, cap=cap)


def add_heard(ledger: Ledger, cap: float | None = None) -> list:
    return ledger.add_transcription(HEARD, model=TRANSCRIBER, cap=cap)


@pytest.mark.parametrize("reply_first", [True, False], ids=["reply_first", "heard_first"])
def test_a_turn_adds_the_reply_and_the_transcription_in_either_order(reply_first: bool) -> None:
    stats = Stats()
    ledger = Ledger(stats)
    ledger.start_turn()
    for add in (add_reply, add_heard) if reply_first else (add_heard, add_reply):
        assert add(ledger) == [StatsChanged(stats)]
    expected = Usage(160, 312, reply_cost() + heard_cost())
    assert stats.turn_usage.input_tokens == expected.input_tokens
    assert stats.turn_usage.output_tokens == expected.output_tokens
    assert stats.turn_usage.cost_usd == pytest.approx(expected.cost_usd)
    assert stats.session_usage == stats.turn_usage
    assert stats.priced and stats.transcription_priced


def test_the_next_turn_starts_from_zero_at_its_first_usage() -> None:
    stats = Stats()
    ledger = Ledger(stats)
    add_reply(ledger)
    ledger.start_turn()
    assert stats.turn_usage.input_tokens == 120, "the last turn stays on screen until then"
    add_heard(ledger)
    assert stats.turn_usage.input_tokens == 40
    assert stats.session_usage.input_tokens == 160


def test_usage_without_a_price_counts_its_tokens_and_says_so() -> None:
    stats = Stats()
    ledger = Ledger(stats)
    ledger.add_response(REPLY, model="a-model-without-a-price", cap=None)
    ledger.add_transcription(HEARD, model="whisper-1", cap=None)
    assert not stats.priced and not stats.transcription_priced
    assert stats.session_usage == Usage(160, 312, 0.0)


def test_the_spend_cap_warns_once_at_80_percent_then_mutes_at_the_cap() -> None:
    stats = Stats()
    ledger = Ledger(stats)
    cap = reply_cost() / 0.85  # one reply is 85 % of the cap, two are 170 %
    warned = add_reply(ledger, cap)
    assert warned[-1] == StatsChanged(stats)
    [notice] = warned[:-1]
    assert isinstance(notice, Notice) and notice.level == "warning"
    assert "80% of the $" in notice.text and not ledger.capped
    capped = add_reply(ledger, cap)
    assert capped[0] == Mute(True, "spend cap reached")
    assert isinstance(capped[1], Notice) and capped[1].level == "error"
    assert "Spend cap of $" in capped[1].text and "spend_cap_usd" in capped[1].text
    assert ledger.capped
    assert add_reply(ledger, cap) == [StatsChanged(stats)], "each is said once"


def test_jumping_past_the_cap_caps_first_and_warns_on_the_next_usage() -> None:
    ledger = Ledger(Stats())
    cap = reply_cost() / 2
    first = add_reply(ledger, cap)
    assert first[0] == Mute(True, "spend cap reached")
    assert not any(isinstance(e, Notice) and e.level == "warning" for e in first)
    second = add_reply(ledger, cap)
    assert [e.level for e in second if isinstance(e, Notice)] == ["warning"]


@pytest.mark.parametrize("cap", [None, 0.0])
def test_no_cap_means_no_warning_and_no_mute(cap: float | None) -> None:
    ledger = Ledger(Stats())
    for _ in range(3):
        assert len(add_reply(ledger, cap)) == 1
    assert not ledger.capped


def test_raising_the_cap_allows_responses_again() -> None:
    ledger = Ledger(Stats())
    add_reply(ledger, reply_cost() / 2)
    assert ledger.capped
    assert ledger.raise_cap(reply_cost() / 2) == [], "still at or above the cap"
    assert ledger.capped
    [note] = ledger.raise_cap(reply_cost() * 10)
    assert "raised" in note and not ledger.capped
    warned = add_reply(ledger, reply_cost() * 2.4)  # now 2 of 2.4: past 80 % again
    assert [e.level for e in warned if isinstance(e, Notice)] == ["warning"], "warned anew"


def test_rate_limits_keep_the_latest_per_name_and_skip_malformed_entries() -> None:
    stats = Stats()
    ledger = Ledger(stats)
    limits = [{"name": "tokens", "remaining": 10}, {"remaining": 3}, "junk", {"name": 7}]
    assert ledger.rate_limits(limits) == [StatsChanged(stats)]
    ledger.rate_limits([{"name": "tokens", "remaining": 9}])
    assert stats.rate_limits == {"tokens": {"name": "tokens", "remaining": 9}}
    assert ledger.rate_limits(None) == [StatsChanged(stats)]
