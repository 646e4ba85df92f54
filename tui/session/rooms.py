"""The session's rooms, built and joined once: everything on the conversation's side.

The controller owns the connection; `Rooms` holds the rest (the conversation model, the
audio link, the ledger, turn-taking, the history gate, the latency mark, the voice lock, the
bad-frame throttle, the inspector's feed and the event router that runs the route table
against them). Each room gets the others it reads at construction, never the controller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.changes import Stats, StatsChanged, Turn
from tui.config import Settings
from tui.conversation import Conversation
from tui.realtime import events
from tui.realtime.payload import live_update, session_config
from tui.secrets import redactable
from tui.session.applied import SessionCheck
from tui.session.audio_link import AudioLink
from tui.session.dispatch import EventRouter
from tui.session.effects import Effect, Send, WriteHistory
from tui.session.handover import SessionLimit
from tui.session.history_gate import HistoryGate
from tui.session.inspector import InspectorLog
from tui.session.latency import LatencyMark
from tui.session.ledger import Ledger
from tui.session.mishaps import Mishaps
from tui.session.reconnect import replay_events
from tui.session.throttle import BadFrameThrottle
from tui.session.tool_tick import ToolTickCue
from tui.session.tools_link import ToolBoxLike, ToolsLink
from tui.session.transcript import HistoryLike, Transcript
from tui.session.turns import TurnTaking
from tui.session.typed import TypedTurns
from tui.session.voice import VoiceLock


@dataclass
class SettingsApplied:
    """What edited settings mean for the session (the audio link handles its own)."""

    reconnect: bool = False  # the endpoint or the model changed
    effects: list[Effect] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Rooms:
    conversation: Conversation
    stats: Stats
    link: AudioLink
    ledger: Ledger
    throttle: BadFrameThrottle
    gate: HistoryGate
    latency: LatencyMark
    voice: VoiceLock
    inspector: InspectorLog
    turns: TurnTaking
    router: EventRouter
    mishaps: Mishaps
    typed: TypedTurns
    tools: ToolsLink
    limit: SessionLimit
    transcript: Transcript
    check: SessionCheck
    tool_tick: ToolTickCue

    @classmethod
    def build(
        cls,
        settings: Callable[[], Settings],
        *,
        api_key: str | None,
        audio_enabled: bool,
        audio_factory: Callable[..., Any] | None,
        on_capture: Callable[[bytes | None], None],
        on_audio_status: Callable[[Any], None],
        clock: Callable[[], float],
        toolbox: ToolBoxLike | None = None,
        history: HistoryLike | None = None,
    ) -> Rooms:
        """`settings` returns the settings in force (they change when the user edits them)."""
        first = settings()
        conversation = Conversation()
        conversation.transcribing = bool(first.session.transcription_model)
        stats = Stats()
        link = AudioLink(
            enabled=audio_enabled and first.audio.enabled,
            on_capture=on_capture,
            on_status=on_audio_status,
            factory=audio_factory,
        )
        ledger, throttle, gate = Ledger(stats), BadFrameThrottle(), HistoryGate()
        latency, voice = LatencyMark(stats), VoiceLock(first.session.voice)
        check = SessionCheck(voice)
        # placeholder bearer tokens ("demo", "local") are no secrets: masking them would
        # rewrite every "demo" said in the event view
        secrets = redactable([api_key, *first.tools.secret_values()])
        inspector, mishaps = InspectorLog(secrets, clock), Mishaps(secrets, clock)
        typed = TypedTurns(conversation)
        limit = SessionLimit(lambda: settings().connection.max_session_min * 60.0, clock)
        turns = TurnTaking(
            conversation=conversation,
            link=link,
            gate=gate,
            ledger=ledger,
            latency=latency,
            typed=typed,
            settings=settings,
        )
        tools = ToolsLink(
            toolbox,
            conversation=conversation,
            active_response=lambda: turns.active_response,
            clock=clock,
        )
        router = EventRouter(
            conversation=conversation,
            turns=turns,
            ledger=ledger,
            throttle=throttle,
            link=link,
            latency=latency,
            voice=voice,
            inspector=inspector,
            typed=typed,
            settings=settings,
            clock=clock,
            tools=tools,
            limit=limit,
            check=check,
        )
        return cls(
            conversation,
            stats,
            link,
            ledger,
            throttle,
            gate,
            latency,
            voice,
            inspector,
            turns,
            router,
            mishaps,
            typed,
            tools,
            limit,
            Transcript(history, lambda: settings().history.enabled),
            check,
            ToolTickCue(settings, tools=tools, link=link, turns=turns),
        )

    def apply_settings(self, old: Settings, new: Settings, *, connected: bool) -> SettingsApplied:
        """The endpoint or model changed: reconnect. Session fields changed: a
        `session.update` on the live connection, without a voice the server would refuse."""
        self.conversation.transcribing = bool(new.session.transcription_model)
        applied = SettingsApplied()
        if _endpoint(old) != _endpoint(new):
            applied.reconnect = True
            applied.notes.append("Endpoint or model changed: reconnecting.")
        elif old.session != new.session and connected:
            config, notes = self.voice.session_config(old, new)
            undo, undo_notes = live_update(old.session, new.session)
            applied.effects.append(Send(events.session_update({**config, **undo})))
            notes += undo_notes
            applied.notes += [*notes, "Session settings sent."]
        applied.effects += self.check.session_info(new)
        return applied

    def opening(self, settings: Settings, replay: list[Turn]) -> list[Effect]:
        """The session starts: the header, the live Stats (so the session clock runs from the
        start rather than from the first usage), and the turns restored from history."""
        effects: list[Effect] = [*self.check.session_info(settings), StatsChanged(self.stats)]
        return effects + (self.conversation.add_replayed(replay) if replay else [])

    def connection_opened(self) -> None:
        self.limit.opened()
        self.voice.connection_opened()
        self.turns.active_response = None

    def connection_lost(self, reason: str) -> list[Effect]:
        """The connection dropped: every open turn is cut off, nobody speaks any more."""
        cut = self.conversation.cut_off_open_turns(f"cut off: {reason}")
        self.typed.connection_lost()
        self.tools.connection_lost()
        return [*cut, *self.turns.connection_lost()]

    def closing(self) -> list[Effect]:
        """The session ends: the replies still held back are written, whatever has played,
        and the typed turns still pending (marked not sent, or not confirmed)."""
        return [WriteHistory(turn) for turn in self.gate.flush(None)] + self.typed.closing()

    def restore(self, settings: Settings) -> list[Effect]:
        """What a new connection is sent: the session config, then the conversation so far
        (the latest `replay_turns` turns), then what was typed while offline."""
        tools = self.tools.tools() if self.tools.enabled else None
        effects: list[Effect] = [Send(events.session_update(session_config(settings, tools)))]
        self.voice.connection_configured(settings)  # a new connection takes any voice
        self.check.connection_configured()  # and has applied nothing we know of yet
        effects += self.check.session_info(settings)
        for turn in self.conversation.replayable(settings.connection.replay_turns):
            effects += [Send(event) for event in replay_events(turn)]
        return effects + self.turns.take_outbox()

    def tick(self) -> list[Effect]:
        """What the ticker sees: audibility, the latency figure, replies that have played."""
        effects: list[Effect] = [*self.turns.update_audible(), *self.latency.check(self.link)]
        return effects + [WriteHistory(turn) for turn in self.gate.flush(self.link.engine)]

    def watching(self) -> bool:
        """Whether anything the ticker watches can change within the next second."""
        return bool(
            self.turns.assistant_audible
            or self.link.audible
            or self.latency.pending
            or self.gate.waiting
            or self.turns.talking
        )


def _endpoint(settings: Settings) -> tuple[str, str, str]:
    """What a connection is opened with: a change needs a new one."""
    return settings.connection.url, settings.connection.model, settings.connection.auth
