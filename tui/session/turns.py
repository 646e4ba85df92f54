"""Turn-taking: who has the floor, and barge-in.

The user speaks (server VAD) or talks (manual mode: the talk key starts and ends a turn);
the assistant is audible while its reply plays; one response runs at a time. When the user
talks over the assistant, the speaker is silenced first (within one block), then the
played item is truncated at what was heard, then the response is cancelled if it still
runs; the late deltas of what was cut off are dropped. Everything is returned as effects
for the controller to carry out, in order.
"""

from __future__ import annotations

from collections.abc import Callable

from tui.changes import Change, Notice, SpeechChanged
from tui.config import Settings
from tui.constants import TurnMode
from tui.conversation import Conversation
from tui.realtime import events
from tui.realtime.events import ServerEvent
from tui.session.audio_link import AudioLink
from tui.session.effects import Effect, Mute, Send, WriteHistory
from tui.session.history_gate import HistoryGate
from tui.session.latency import LatencyMark
from tui.session.ledger import Ledger
from tui.session.typed import TypedTurns

# The server refuses to commit less input audio than this (input_audio_buffer_commit_empty).
MIN_COMMIT_MS = 100.0
TOO_SHORT = "Too short: hold the talk key while you speak (at least 0.1 s); nothing was sent."


class TurnTaking:
    def __init__(
        self,
        *,
        conversation: Conversation,
        link: AudioLink,
        gate: HistoryGate,
        ledger: Ledger,
        latency: LatencyMark,
        typed: TypedTurns,
        settings: Callable[[], Settings],
    ) -> None:
        self._conversation = conversation
        self._typed = typed
        self._link = link
        self._gate = gate
        self._ledger = ledger
        self._latency = latency
        self._settings = settings
        self.user_speaking = False
        self.talking = False  # manual turn mode: between the two presses of the talk key
        self.assistant_audible = False
        self.active_response: str | None = None
        self._discard_items: set[str] = set()
        self._discard_responses: set[str] = set()
        self.talk_ms = 0.0  # microphone audio sent in this manual turn

    @property
    def quiet(self) -> bool:
        """Nobody is speaking and no reply runs: a good moment for a handover."""
        return not (
            self.active_response or self.user_speaking or self.assistant_audible or self.talking
        )

    def discarded(self, event: ServerEvent) -> bool:
        """A delta of a reply the user cut off."""
        return (
            event.get("item_id") in self._discard_items
            or event.get("response_id") in self._discard_responses
        )

    def set_user_speaking(self, speaking: bool) -> list[Change]:
        if speaking == self.user_speaking:
            return []
        self.user_speaking = speaking
        return [SpeechChanged(speaking, self.assistant_audible)]

    def update_audible(self) -> list[Change]:
        audible = self._link.audible
        if audible == self.assistant_audible:
            return []
        self.assistant_audible = audible
        return [SpeechChanged(self.user_speaking or self.talking, audible)]

    def connection_lost(self) -> list[Change]:
        self.talking = False
        return self.set_user_speaking(False)

    def barge_in(self, *, client_initiated: bool) -> list[Effect]:
        """Clear playback first (silence within one block), then truncate, then cancel."""
        effects: list[Effect] = []
        played = self._link.interrupt()
        if played is not None:
            self._discard_items.add(played.item_id)
            heard_ms = min(played.played_ms, played.received_ms)
            if heard_ms < played.received_ms:
                effects.append(Send(events.item_truncate(played.item_id, int(heard_ms))))
            effects += self._conversation.mark_interrupted(played.item_id, heard_ms)
            # a reply held back while it played is written now, marked interrupted; one that
            # just finished above (or was already written, e.g. cut off) is not written again
            effects += [WriteHistory(turn) for turn in self._gate.interrupted(played.item_id)]
        active = self.active_response
        if active is not None:
            self._discard_responses.add(active)
            detection = self._settings().session.turn_detection
            server_cancels = (
                not client_initiated
                and detection.mode != TurnMode.MANUAL
                and detection.interrupt_response
            )
            if not server_cancels:
                effects.append(Send(events.response_cancel()))
        return [*effects, *self.update_audible()]

    def type_text(self, text: str, *, live: bool, stopped: str = "") -> list[Effect]:
        """A typed turn, drawn at once: it talks over the assistant, or waits for the
        connection; after the session stopped (`stopped` says why) it is only kept."""
        text = text.strip()
        if not text:
            return []
        if stopped:
            return self._typed.stranded(text, stopped)
        if self._ledger.capped:
            # the user's words stay on screen and in the history, saying why they went nowhere
            cap = self._settings().session.spend_cap_usd or 0.0
            why = f"spend cap ${cap:g} reached"  # as the status line says it
            return [*self._typed.not_sent(text, why), Notice("warning", self.cap_message())]
        if not live:
            return self._typed.typed(text, live=False)
        self._ledger.start_turn()
        return [*self.barge_in(client_initiated=True), *self._typed.typed(text, live=True)]

    def take_outbox(self) -> list[Effect]:
        """What was typed while offline, for the connection that is now back."""
        effects = self._typed.take_outbox()
        if effects:
            self._ledger.start_turn()
        return effects

    def toggle_mute(self, muted: bool) -> list[Effect]:
        if muted and self._ledger.capped:
            return [Notice("warning", self.cap_message())]
        return [Mute(not muted)]

    def talk(self, *, connected: bool, muted: bool, now: float) -> list[Effect]:
        """Manual mode: start/end a turn. VAD modes: interrupt and listen."""
        if self._settings().session.turn_detection.mode != TurnMode.MANUAL:
            effects = self.barge_in(client_initiated=True)
            return [*effects, *self.toggle_mute(muted)] if muted else effects
        if not connected:
            return [Notice("warning", "Not connected.")]
        if not self.talking:
            effects = [*self.barge_in(client_initiated=True), Send(events.audio_clear())]
            self._ledger.start_turn()
            self.talking, self.talk_ms = True, 0.0
            if muted:
                effects += self.toggle_mute(muted)
        elif self.talk_ms < MIN_COMMIT_MS:
            # the server refuses a commit under 100 ms, and a reply to nothing is no answer
            self.talking = False
            effects = [Send(events.audio_clear()), Notice("warning", TOO_SHORT)]
        else:
            self.talking = False
            effects = [Send(events.audio_commit())]
            if self._ledger.capped:
                effects.append(Notice("warning", self.cap_message()))
            else:
                effects.append(Send(events.response_create()))
                # no VAD, no speech_stopped: the end of the user's turn is this commit
                self._latency.turn_ended(now)
        return [*effects, SpeechChanged(self.talking, self.assistant_audible)]

    def audio_sent(self, ms: float) -> None:
        """A microphone block went out in a manual turn."""
        self.talk_ms += ms

    def cap_message(self) -> str:
        return self._ledger.cap_message(self._settings().session.spend_cap_usd)
