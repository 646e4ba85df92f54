"""Approvals: a pure state machine deciding whether a call runs, is declined or waits for a yes.

Per tool the user sets `always`, `never` or `ask` (by exact name or a pattern such as
`notes__*`; the exact name wins, then the most specific pattern). With no setting, a tool the
server marks read-only (`read_only_hint`, a hint) runs without asking, anything else asks.
A hint can only pick that default: an `ask` the user set is always asked. Answers are yes, no,
or always-for-this-session (the user's own choice, so it also covers a tool set to `ask`).
Tools that run commands (`always_ask`) ask every time and never take "always".

Approvals fail closed: an ask not answered by its deadline is a no, and so is an answer that
arrives after it. Time is given by the caller (`now`), so the machine is tested without clocks.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tui.config.tools import Approval


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    ALWAYS = "always"  # yes, and do not ask again for this tool in this session


class Action(StrEnum):
    RUN = "run"
    DECLINE = "decline"
    ASK = "ask"


@dataclass(frozen=True)
class ToolFacts:
    """What approvals need to know of a tool."""

    name: str  # the public name: server__tool, a built-in, or label__tool for remote MCP
    read_only: bool = False  # the server's read_only_hint: chooses a default, never skips an ask
    always_ask: bool = False  # runs commands: asks every time


@dataclass(frozen=True)
class Ask:
    """A question for the user: may `tool` run with these arguments?"""

    ask_id: str  # the call_id of a function call, the item id of a remote approval request
    tool: str
    arguments: str  # pretty-printed, secrets masked, printable
    allow_always: bool  # offer "always for this session"
    deadline: float  # in the caller's clock; no answer by then is a no
    origin: str = ""  # who asks: "MCP server notes", "built-in", "remote MCP server deepwiki"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str  # for the log: "your setting 'notes__*' says always"
    ask: Ask | None = None


@dataclass(frozen=True)
class Settled:
    """An ask that has its answer. `how`: yes, no, always, timeout or cancelled."""

    ask: Ask
    approved: bool
    how: str


class Approvals:
    def __init__(self, policies: Mapping[str, Approval], *, timeout_s: float) -> None:
        self._session_always: set[str] = set()
        self._pending: dict[str, Ask] = {}
        self._exact: dict[str, Approval] = {}
        self._patterns: list[tuple[str, Approval]] = []
        self.set_policies(policies, timeout_s=timeout_s)

    def set_policies(self, policies: Mapping[str, Approval], *, timeout_s: float) -> None:
        """The user edited the settings: new calls follow these; open asks keep their
        deadline. An "always for this session" stays unless the setting for that tool
        changed (the newer word wins)."""
        before = {name: self._user_setting(name) for name in self._session_always}
        self._exact = {name: value for name, value in policies.items() if not _is_pattern(name)}
        # most specific first: the pattern with the most literal characters
        self._patterns = sorted(
            ((name, value) for name, value in policies.items() if _is_pattern(name)),
            key=lambda pair: -len(pair[0].replace("*", "").replace("?", "")),
        )
        self.timeout_s = timeout_s
        self._session_always -= {
            name for name, setting in before.items() if self._user_setting(name) != setting
        }

    @property
    def pending(self) -> tuple[Ask, ...]:
        return tuple(self._pending.values())

    @property
    def session_always(self) -> frozenset[str]:
        return frozenset(self._session_always)

    def _user_setting(self, name: str) -> tuple[Approval, str] | None:
        if name in self._exact:
            return self._exact[name], f"your setting for {name!r}"
        for pattern, value in self._patterns:
            if fnmatch.fnmatchcase(name, pattern):
                return value, f"your setting {pattern!r}"
        return None

    def policy(self, tool: ToolFacts) -> tuple[Approval, str]:
        """What applies to `tool` now, and why (for the log)."""
        user = self._user_setting(tool.name)
        if tool.always_ask:
            if user and user[0] is Approval.NEVER:
                return user
            return Approval.ASK, "it runs commands, so every call is asked"
        if user and user[0] is Approval.NEVER:
            return user
        if tool.name in self._session_always:
            return Approval.ALWAYS, "you said always for this session"
        if user:
            return user
        if tool.read_only:
            return Approval.ALWAYS, "the server marks it read-only"
        return Approval.ASK, "it may change something"

    def decide(
        self, ask_id: str, tool: ToolFacts, arguments: str, now: float, origin: str = ""
    ) -> Decision:
        """Run it, decline it, or ask (the Ask is pending until answered, expired or cancelled)."""
        policy, reason = self.policy(tool)
        if policy is Approval.ALWAYS:
            return Decision(Action.RUN, reason)
        if policy is Approval.NEVER:
            return Decision(Action.DECLINE, f"{reason} says never")
        ask = Ask(
            ask_id=ask_id,
            tool=tool.name,
            arguments=arguments,
            allow_always=not tool.always_ask,
            deadline=now + self.timeout_s,
            origin=origin,
        )
        self._pending[ask_id] = ask
        return Decision(Action.ASK, reason, ask)

    def answer(self, ask_id: str, answer: Answer, now: float) -> Settled | None:
        """The user's answer; None when nothing waits under `ask_id` (answered, expired)."""
        ask = self._pending.pop(ask_id, None)
        if ask is None:
            return None
        if now >= ask.deadline:
            return Settled(ask, approved=False, how="timeout")
        if answer is Answer.ALWAYS and ask.allow_always:
            self._session_always.add(ask.tool)
            return Settled(ask, approved=True, how="always")
        if answer is Answer.ALWAYS:  # not offered for this tool: a yes for this call only
            return Settled(ask, approved=True, how="yes")
        return Settled(ask, approved=answer is Answer.YES, how=str(answer))

    def expire(self, now: float) -> list[Settled]:
        """Asks past their deadline, settled as no."""
        late = [ask for ask in self._pending.values() if now >= ask.deadline]
        for ask in late:
            del self._pending[ask.ask_id]
        return [Settled(ask, approved=False, how="timeout") for ask in late]

    def cancel(self, ask_id: str) -> Settled | None:
        ask = self._pending.pop(ask_id, None)
        return None if ask is None else Settled(ask, approved=False, how="cancelled")

    def next_deadline(self) -> float | None:
        return min((ask.deadline for ask in self._pending.values()), default=None)


def _is_pattern(name: str) -> bool:
    return "*" in name or "?" in name
