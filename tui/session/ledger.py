"""The ledger: what the conversation has cost, and the spend cap.

Usage arrives twice per turn (the reply's `response.done` and the transcription of what the
user said), in either order; both add up in `stats.turn_usage` until the next user turn
starts. The session total only grows. Past 80 % of `[session] spend_cap_usd` a warning is
shown once; at the cap the microphone is muted and no new response is asked for until the
cap is raised. Rate limits the server reports are kept here too: they are figures for the
status line like the rest.
"""

from __future__ import annotations

from typing import Any

from tui.changes import Notice, Stats, StatsChanged, Usage
from tui.pricing import estimate_cost, estimate_transcription_cost
from tui.session.effects import Effect, Mute

CAP_WARNING_SHARE = 0.8  # warn once when this share of the spend cap is spent


class Ledger:
    """Usage, cost and the spend cap, kept in the session's `Stats`."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.capped = False
        self._cap_warned = False
        self._turn_over = True  # the next usage starts a new stats.turn_usage

    def start_turn(self) -> None:
        """The user starts a turn: its usage starts from zero. The last turn's figures stay
        on screen until the new turn's first usage arrives."""
        self._turn_over = True

    def add_response(self, usage: dict[str, Any], *, model: str, cap: float | None) -> list[Effect]:
        cost = estimate_cost(model, usage)
        if cost is None:
            self.stats.priced = False
        return self._add(_usage_of(usage, cost), cap)

    def add_transcription(
        self, usage: dict[str, Any], *, model: str, cap: float | None
    ) -> list[Effect]:
        cost = estimate_transcription_cost(model, usage)
        if cost is None:
            self.stats.transcription_priced = False  # counted, but its cost is unknown
        return self._add(_usage_of(usage, cost), cap)

    def rate_limits(self, limits: Any) -> list[Effect]:
        for limit in limits or []:
            if isinstance(limit, dict) and isinstance(limit.get("name"), str):
                self.stats.rate_limits[limit["name"]] = limit
        return [StatsChanged(self.stats)]

    def raise_cap(self, cap: float | None) -> list[str]:
        """The settings changed: a cap now above what was spent allows responses again."""
        if self.capped and (cap is None or self.stats.session_usage.cost_usd < cap):
            self.capped = False
            self._cap_warned = False
            return ["Spend cap raised: responses allowed again (unmute to talk)."]
        return []

    @staticmethod
    def cap_message(cap: float | None) -> str:
        return (
            f"Spend cap of ${cap or 0.0:.2f} reached: microphone muted, no new responses. "
            "Raise [session] spend_cap_usd in settings to go on."
        )

    def _add(self, usage: Usage, cap: float | None) -> list[Effect]:
        """Everything a turn costs adds up in stats.turn_usage, in whatever order the server
        reports it."""
        if self._turn_over:
            self.stats.turn_usage = Usage()
            self._turn_over = False
        self.stats.turn_usage.add(usage)
        self.stats.session_usage.add(usage)
        return [*self._check_cap(cap), StatsChanged(self.stats)]

    def _check_cap(self, cap: float | None) -> list[Effect]:
        if cap is None or cap <= 0:
            return []
        spent = self.stats.session_usage.cost_usd
        if spent >= cap and not self.capped:
            self.capped = True
            return [Mute(True, "spend cap reached"), Notice("error", self.cap_message(cap))]
        if spent >= CAP_WARNING_SHARE * cap and not self._cap_warned:
            self._cap_warned = True
            return [Notice("warning", f"≈${spent:.2f} spent: 80% of the ${cap:.2f} spend cap.")]
        return []


def _usage_of(usage: dict[str, Any], cost: float | None) -> Usage:
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cost_usd=cost or 0.0,
    )
