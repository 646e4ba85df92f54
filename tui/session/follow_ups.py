"""The one follow-up reply after tool calls: which response each call came in, which calls
are still unanswered, and ONE `response.create` once every call of a completed response is
answered, so that the model speaks about the results.

Not while another response runs (asked again at that one's `response.done`), not for a
cancelled or failed response, and not after the user barged in: the floor is theirs.
Answers for a connection that dropped are never followed up there (the restore replays
them into the new one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.realtime import events
from tui.session.effects import Effect, Send

NO_RESPONSE = ""  # a call whose response the session never saw: counts as completed


class FollowUps:
    def __init__(self, active_response: Callable[[], str | None]) -> None:
        self._active_response = active_response  # the reply running now (turn-taking's)
        self._owner: dict[str, str] = {}  # call id -> the response it came in
        self._open: dict[str, set[str]] = {}  # response id -> calls not answered yet
        self._finished: dict[str, str] = {NO_RESPONSE: "completed"}  # response -> status
        self._due: set[str] = set()  # responses with answers sent, follow-up not yet
        self._quiet: set[str] = set()  # responses the user barged in on: no follow-up

    def seen(self, call_id: str, response_id: str | None) -> None:
        """A call's item arrived in this response (its first sign wins)."""
        self._owner.setdefault(call_id, response_id or NO_RESPONSE)

    def expect(self, call_id: str, response_id: str | None) -> None:
        """The call is complete and asked: its response waits for its answer."""
        owner = self._owner.setdefault(call_id, response_id or NO_RESPONSE)
        self._open.setdefault(owner, set()).add(call_id)

    def answer(self, call_id: str, item: dict[str, Any]) -> list[Effect]:
        """Send the call's answer item; the follow-up if that was the last one open."""
        return [Send(events.item_create(item)), *self.answered(call_id)]

    def answered(self, call_id: str) -> list[Effect]:
        """The call's answer is sent: the follow-up, if that was the last one open."""
        owner = self._owner.pop(call_id, None)
        if owner is None:
            return []  # the connection it came on is gone: restore replays it
        self._open.get(owner, set()).discard(call_id)
        self._due.add(owner)
        return self.due()

    def response_done(self, response_id: object, status: str) -> list[Effect]:
        if isinstance(response_id, str) and (response_id in self._open or response_id in self._due):
            self._finished[response_id] = status
        return self.due()

    def barge_in(self) -> None:
        """No follow-up for anything open now."""
        self._quiet |= set(self._open) | self._due

    def connection_lost(self) -> None:
        self._open.clear()
        self._due.clear()
        self._owner.clear()

    def due(self) -> list[Effect]:
        """One response.create for the responses whose calls are all answered."""
        ready = [
            response
            for response in self._due
            if response in self._finished and not self._open.get(response)
        ]
        if not ready or self._active_response() is not None:
            return []  # another reply runs: asked again at its response.done
        wanted = False
        for response in ready:
            self._due.discard(response)
            self._open.pop(response, None)
            status = self._finished.get(response)
            wanted |= status == "completed" and response not in self._quiet
            self._quiet.discard(response)
            if response != NO_RESPONSE:
                self._finished.pop(response, None)
        return [Send(events.response_create())] if wanted else []
