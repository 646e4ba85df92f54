"""The approvals state machine: always / never / ask, always-for-this-session, fail-closed
timeouts, and a user's `ask` that a server's read-only hint cannot skip."""

from __future__ import annotations

import pytest

from tui.config.tools import Approval
from tui.tools.approvals import Action, Answer, Approvals, ToolFacts

WRITE = ToolFacts("notes__add_note")
READ = ToolFacts("notes__list_notes", read_only=True)
SHELL = ToolFacts("run_shell_command", always_ask=True)


def machine(**policies: str) -> Approvals:
    return Approvals({name: Approval(value) for name, value in policies.items()}, timeout_s=60)


def test_with_no_setting_a_writing_tool_asks_and_a_read_only_one_runs() -> None:
    approvals = machine()
    asked = approvals.decide("c1", WRITE, "{}", now=0)
    assert asked.action is Action.ASK
    assert asked.ask is not None and asked.ask.deadline == 60
    assert approvals.decide("c2", READ, "{}", now=0).action is Action.RUN
    assert approvals.decide("c2", READ, "{}", now=0).reason == "the server marks it read-only"
    assert [ask.ask_id for ask in approvals.pending] == ["c1"]


def test_user_settings_always_and_never_apply_without_asking() -> None:
    approvals = machine(notes__add_note="always", notes__list_notes="never")
    run = approvals.decide("c1", WRITE, "{}", now=0)
    assert run.action is Action.RUN
    assert run.reason == "your setting for 'notes__add_note'"
    declined = approvals.decide("c2", READ, "{}", now=0)
    assert declined.action is Action.DECLINE
    assert approvals.pending == ()


def test_a_user_ask_beats_the_read_only_hint() -> None:
    approvals = machine(notes__list_notes="ask")
    assert approvals.decide("c1", READ, "{}", now=0).action is Action.ASK


def test_the_exact_name_beats_a_pattern_and_the_more_specific_pattern_wins() -> None:
    approvals = machine(**{"notes__*": "never", "notes__add_*": "always", "*": "ask"})
    assert approvals.policy(WRITE)[0] is Approval.ALWAYS
    assert approvals.policy(READ)[0] is Approval.NEVER
    assert approvals.policy(ToolFacts("web__search", read_only=True))[0] is Approval.ASK
    exact = machine(**{"notes__*": "never", "notes__add_note": "ask"})
    assert exact.policy(WRITE) == (Approval.ASK, "your setting for 'notes__add_note'")


def test_yes_and_no_settle_the_ask_once() -> None:
    approvals = machine()
    approvals.decide("c1", WRITE, "{}", now=0)
    approvals.decide("c2", WRITE, "{}", now=0)
    yes = approvals.answer("c1", Answer.YES, now=10)
    assert yes is not None and yes.approved and yes.how == "yes"
    no = approvals.answer("c2", Answer.NO, now=10)
    assert no is not None and not no.approved
    assert approvals.answer("c1", Answer.YES, now=11) is None  # already settled
    assert approvals.decide("c3", WRITE, "{}", now=12).action is Action.ASK  # yes was once


def test_always_for_this_session_stops_asking_for_that_tool_only() -> None:
    approvals = machine(notes__add_note="ask")
    approvals.decide("c1", WRITE, "{}", now=0)
    settled = approvals.answer("c1", Answer.ALWAYS, now=1)
    assert settled is not None and settled.approved and settled.how == "always"
    again = approvals.decide("c2", WRITE, "{}", now=2)
    assert again.action is Action.RUN
    assert again.reason == "you said always for this session"
    assert approvals.decide("c3", ToolFacts("notes__delete"), "{}", now=2).action is Action.ASK


def test_never_in_the_settings_is_not_overridden_by_the_session() -> None:
    approvals = machine(notes__add_note="never")
    assert approvals.decide("c1", WRITE, "{}", now=0).action is Action.DECLINE


def test_no_answer_by_the_deadline_is_a_no() -> None:
    approvals = machine()
    approvals.decide("c1", WRITE, "{}", now=0)
    approvals.decide("c2", WRITE, "{}", now=30)
    assert approvals.next_deadline() == 60
    assert approvals.expire(now=59.9) == []
    expired = approvals.expire(now=60)
    assert [(s.ask.ask_id, s.approved, s.how) for s in expired] == [("c1", False, "timeout")]
    assert approvals.next_deadline() == 90


def test_a_yes_that_arrives_after_the_deadline_is_still_a_no() -> None:
    approvals = machine()
    approvals.decide("c1", WRITE, "{}", now=0)
    late = approvals.answer("c1", Answer.YES, now=61)
    assert late is not None and not late.approved and late.how == "timeout"


def test_a_cancelled_ask_is_a_no() -> None:
    approvals = machine()
    approvals.decide("c1", WRITE, "{}", now=0)
    cancelled = approvals.cancel("c1")
    assert cancelled is not None and not cancelled.approved and cancelled.how == "cancelled"
    assert approvals.pending == ()


@pytest.mark.parametrize("setting", [None, "always", "ask"])
def test_a_tool_that_runs_commands_asks_every_time(setting: str | None) -> None:
    approvals = machine(**({"*": setting} if setting else {}))
    decision = approvals.decide("c1", SHELL, "{}", now=0)
    assert decision.action is Action.ASK
    assert decision.ask is not None and not decision.ask.allow_always
    settled = approvals.answer("c1", Answer.ALWAYS, now=1)  # not offered: a yes for this call
    assert settled is not None and settled.approved and settled.how == "yes"
    assert approvals.decide("c2", SHELL, "{}", now=2).action is Action.ASK
    assert approvals.session_always == frozenset()


def test_a_tool_that_runs_commands_can_still_be_set_to_never() -> None:
    approvals = machine(run_shell_command="never")
    assert approvals.decide("c1", SHELL, "{}", now=0).action is Action.DECLINE
