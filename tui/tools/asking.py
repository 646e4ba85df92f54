"""The approvals machine with its waiting: an ask is posted, then settled by the user's
answer, by its deadline (a no) or by a cancellation, whichever comes first.

The machine itself (tui.tools.approvals) is pure; this adds the loop's timers and the
futures the calls wait on, and posts `ApprovalNeeded` / `ApprovalSettled`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui.tools.approvals import Answer, Approvals, Ask, Decision, Settled, ToolFacts
from tui.tools.updates import ApprovalNeeded, ApprovalSettled, Update


class Questions:
    def __init__(
        self, approvals: Approvals, *, post: Callable[[Update], None], clock: Callable[[], float]
    ) -> None:
        self.approvals = approvals
        self._post = post
        self._clock = clock
        self._answers: dict[str, asyncio.Future[Settled]] = {}

    @property
    def pending(self) -> tuple[Ask, ...]:
        return self.approvals.pending

    def decide(self, ask_id: str, tool: ToolFacts, arguments: str, origin: str) -> Decision:
        return self.approvals.decide(ask_id, tool, arguments, self._clock(), origin=origin)

    async def wait(self, ask: Ask) -> Settled:
        """Post the question and wait for it to be settled (never longer than its deadline)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Settled] = loop.create_future()
        self._answers[ask.ask_id] = future
        self._post(ApprovalNeeded(ask))
        timer = loop.call_later(max(0.0, ask.deadline - self._clock()), self._expire)
        try:
            return await future
        finally:
            timer.cancel()
            self._answers.pop(ask.ask_id, None)

    def answer(self, ask_id: str, answer: Answer) -> bool:
        settled = self.approvals.answer(ask_id, answer, self._clock())
        if settled is not None:
            self._settle(settled)
        return settled is not None

    def cancel(self, ask_id: str) -> None:
        settled = self.approvals.cancel(ask_id)
        if settled is not None:
            self._post(ApprovalSettled(settled))

    def _expire(self) -> None:
        for settled in self.approvals.expire(self._clock()):
            self._settle(settled)

    def _settle(self, settled: Settled) -> None:
        self._post(ApprovalSettled(settled))
        future = self._answers.get(settled.ask.ask_id)
        if future is not None and not future.done():
            future.set_result(settled)
