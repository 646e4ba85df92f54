"""Typed turns: drawn the moment they are typed, sent once, confirmed by the server's echo.

A typed message used to appear only when the server echoed its item, and one typed while
offline lived in memory alone: a server that never answered, or a quit before the
reconnect, lost the user's words without a trace. Now each typed turn is drawn at once,
under an id the client gives it (so the echo is the same turn, never a second one), with a
note while it is pending: "sending" until the server's `conversation.item.added` (or
`.done`) confirms it, "will send when connected" while offline. What was typed offline goes
out on the next connection, in order, once, with one request for a reply to them all.

History: a turn is written once, when its fate is known: confirmed (through the history
gate, as any finished turn), cut off by a dropped connection (the conversation marks it),
or still pending when the session ends (written then, marked "not sent" or "not
confirmed"). After the session has stopped on an error, a typed turn is written at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from tui.changes import Role, Turn, TurnFinished, TurnStarted, TurnStatus, TurnText
from tui.conversation import Conversation
from tui.realtime import events
from tui.realtime.events import ServerEvent
from tui.session.effects import Effect, Send, WriteHistory

SENDING = "sending: not confirmed by the server yet"
OFFLINE = "not sent yet: will send when connected"
NOT_SENT = "not sent: typed while offline"
UNCONFIRMED = "sent, never confirmed by the server"


def new_item_id() -> str:
    """A client-chosen item id: the API takes up to 32 characters."""
    return f"item_rt{uuid.uuid4().hex[:24]}"


class TypedTurns:
    def __init__(self, conversation: Conversation, clock: Callable[[], float] = time.time):
        self._conversation = conversation
        self._clock = clock  # wall clock, for the turn's time stamp
        self._outbox: list[Turn] = []  # typed while offline, in order
        self._sent: dict[str, Turn] = {}  # sent, the server's echo still to come

    @property
    def unsent(self) -> int:
        return len(self._outbox)

    def typed(self, text: str, *, live: bool) -> list[Effect]:
        """A new typed turn: sent now when live, else kept for the next connection."""
        turn = Turn(
            new_item_id(),
            Role.USER,
            text,
            TurnStatus.IN_PROGRESS,
            started_at=self._clock(),
            reason=SENDING if live else OFFLINE,
        )
        effects: list[Effect] = [TurnStarted(turn)]
        if not live:
            self._outbox.append(turn)
            return effects
        return [*effects, self._send(turn), Send(events.response_create())]

    def take_outbox(self) -> list[Effect]:
        """What was typed offline, for the connection that is now back: each turn in order,
        then one request for a reply to all of them (a second response.create while the
        first reply runs is refused by the server)."""
        turns, self._outbox = self._outbox, []
        effects: list[Effect] = []
        for turn in turns:
            turn.reason = SENDING
            effects += [TurnText(turn), self._send(turn)]
        return [*effects, Send(events.response_create())] if turns else []

    def stranded(self, text: str, why: str) -> list[Effect]:
        """Typed after the session stopped: drawn and saved at once, marked not sent."""
        return self.not_sent(text, f"the session had stopped ({why})")

    def not_sent(self, text: str, why: str) -> list[Effect]:
        """Typed and not to be sent (`why`: the session stopped, the spend cap): the words
        are drawn and saved at once, marked "not sent: <why>", never sent later."""
        turn = Turn(
            new_item_id(),
            Role.USER,
            text,
            TurnStatus.IN_PROGRESS,
            started_at=self._clock(),
            reason=f"not sent: {why}",
        )
        return [TurnStarted(turn), WriteHistory(turn)]

    def confirmed(self, event: ServerEvent) -> list[Effect]:
        """The server echoed an item: if it is a typed turn, it is no longer pending."""
        item = event.get("item")
        item_id = item.get("id") if isinstance(item, dict) else None
        turn = self._sent.pop(item_id, None) if isinstance(item_id, str) else None
        if turn is None or turn.final:
            return []
        turn.reason, turn.status = "", TurnStatus.DONE
        return [TurnFinished(turn)]

    def connection_lost(self) -> None:
        """The conversation cuts off (and saves) what was sent and not yet confirmed."""
        self._sent.clear()

    def closing(self) -> list[Effect]:
        """The session ends: every turn still pending is saved, marked for what it is."""
        effects: list[Effect] = []
        for turn in self._outbox:
            turn.reason = NOT_SENT
            effects += [TurnText(turn), WriteHistory(turn)]
        for turn in self._sent.values():
            if not turn.final:
                turn.reason = UNCONFIRMED
                effects += [TurnText(turn), WriteHistory(turn)]
        self._outbox, self._sent = [], {}
        return effects

    def _send(self, turn: Turn) -> Send:
        self._conversation.add_typed(turn)  # known by its id when the echo comes
        self._sent[turn.item_id] = turn
        event = events.user_text(turn.text)
        event["item"]["id"] = turn.item_id
        return Send(event)
