"""The one controller: the connection loop, the handover, and the wiring of the rooms.

User intents (keys, typed text, settings) come in through its methods; server events come in
from the connection and go through the one route table (tui.session.dispatch); the UI hears
about everything through one injected `listener(change)` called on the asyncio loop. No
Textual here. The rooms return effects (tui.session.effects); this class carries them out.

Reconnection: any unexpected close reconnects with backoff (auth failures do not), and a new
connection is restored: the same `session.update`, then the conversation so far replayed as
text items. Before the server's session limit, a fresh connection is prepared between turns
and swapped in, so a long talk never breaks mid-sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from tui.changes import (
    Change,
    ConnectionChanged,
    ConnectionState,
    MuteChanged,
    Notice,
    Stats,
    StatsChanged,
    Turn,
    TurnFinished,
)
from tui.config import Settings
from tui.constants import TurnMode
from tui.conversation import Conversation
from tui.errors import ConnectError, Disconnected, RtTuiError
from tui.realtime import events
from tui.realtime.backoff import Backoff
from tui.realtime.connection import RealtimeConnection
from tui.realtime.events import BadEvent, ServerEvent
from tui.realtime.payload import session_config
from tui.session import throttle
from tui.session.audio_link import AudioLink
from tui.session.dispatch import EventRouter
from tui.session.effects import (
    CancelSummary,
    Effect,
    Mute,
    Proven,
    ScheduleSummary,
    Send,
    WakeTicker,
    WriteHistory,
)
from tui.session.handover import plan_handover
from tui.session.history_gate import HistoryGate
from tui.session.inspector import InspectorLog
from tui.session.latency import LatencyMark
from tui.session.ledger import Ledger
from tui.session.reconnect import describe_disconnect, replay_event
from tui.session.ticker import Ticker
from tui.session.turns import TurnTaking
from tui.session.voice import VoiceLock

Listener = Callable[[Change], None]

# A connection that stayed live this long, or on which the server streamed part of a reply
# or completed one, has proved itself: when it drops, the backoff starts over (first retry
# within a second). A handshake alone proves nothing: a server that is overloaded or
# restarting (1013, 1012) accepts the websocket and closes it at once, and resetting then
# would retry four times a second forever with the attempt count stuck at 1. session.updated
# is no proof either: an overloaded server can still echo the config before it gives up.
# What a user expects is "it was working, then it broke" (retry now) versus "it has not
# worked since the outage began" (keep counting, wait longer each time).
STABLE_CONNECTION_S = 10.0


class Session:
    """One live conversation, across as many connections as it takes."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_key: str | None,
        listener: Listener,
        audio_enabled: bool = True,
        history: Any = None,
        replay: Iterable[Turn] = (),
        connection_factory: Callable[..., RealtimeConnection] = RealtimeConnection,
        audio_factory: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self._api_key = api_key
        self._listener = listener
        self._history = history
        self._replay = list(replay)
        self._connection_factory = connection_factory
        self._clock = clock
        self._backoff = backoff if backoff is not None else Backoff()

        self.conversation = Conversation()
        self.conversation.transcribing = bool(settings.session.transcription_model)
        self.stats = Stats()
        self.state = ConnectionState.CONNECTING
        self.muted = False
        self.inspect = False

        def current() -> Settings:
            return self.settings

        self._link = AudioLink(
            enabled=audio_enabled and settings.audio.enabled,
            on_capture=self._on_capture,
            on_status=self._on_audio_status,
            factory=audio_factory,
        )
        self._ledger = Ledger(self.stats)
        self._throttle = throttle.BadFrameThrottle()
        self._gate = HistoryGate()
        self._latency = LatencyMark(self.stats)
        self._voice = VoiceLock(settings.session.voice)
        self._inspector = InspectorLog((api_key,) if api_key else (), clock)
        self._turns = TurnTaking(
            conversation=self.conversation,
            link=self._link,
            gate=self._gate,
            ledger=self._ledger,
            latency=self._latency,
            settings=current,
        )
        self._router = EventRouter(
            conversation=self.conversation,
            turns=self._turns,
            ledger=self._ledger,
            throttle=self._throttle,
            link=self._link,
            latency=self._latency,
            voice=self._voice,
            inspector=self._inspector,
            settings=current,
            clock=clock,
        )
        self._ticker = Ticker(self._tick, self._watching)
        self._summaries: dict[str, asyncio.TimerHandle] = {}  # bad-frame summaries due

        self._conn: RealtimeConnection | None = None
        self._next_conn: RealtimeConnection | None = None  # prepared by a handover
        self._wake = asyncio.Event()
        self._stopping = False
        self._hold_offline = False
        self._planned_close = False
        self._handover_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None
        self._conn_proven = False  # see STABLE_CONNECTION_S
        self._outbox: list[str] = []  # typed while offline, sent when a connection is back

    # ---- the UI's view -------------------------------------------------------------

    def input_level(self) -> tuple[float, float] | None:
        return self._link.input_level()

    def output_level(self) -> tuple[float, float] | None:
        return self._link.output_level()

    def echo_erle_db(self) -> float | None:
        """How much echo the canceller removes now (smoothed ERLE), None when not cancelling."""
        return self._link.echo_erle_db()

    @property
    def audio_mode(self) -> str:
        return self._link.mode

    @property
    def bad_frames(self) -> dict[str, int]:
        return self._throttle.counts

    @property
    def talking(self) -> bool:
        return self._turns.talking

    @property
    def capped(self) -> bool:
        return self._ledger.capped

    # ---- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        """Connect, converse, reconnect; returns after stop()."""
        self._loop = asyncio.get_running_loop()
        self.stats.session_started = self._clock()
        self._emit_all(self._voice.session_info(self.settings))
        # the listener gets the live Stats object now, so the session clock runs from the
        # start rather than from the first response's usage
        self._emit(StatsChanged(self.stats))
        if self._replay:
            self._emit_all(self.conversation.add_replayed(self._replay))
        self._start_audio()
        self._ticker.start(self._loop)
        try:
            await self._connection_loop()
        finally:
            self._ticker.stop()
            if self._handover_task:
                self._handover_task.cancel()
            for pending in self._summaries.values():
                pending.cancel()
            await self._close_connection()
            self._write_all(self._gate.flush(self._link.engine, everything=True))
            self._link.close()
            if self._history is not None:
                self._history.close()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await self._close_connection()

    def reconnect(self) -> None:
        """Connect again now (after an auth fix, or to skip the backoff wait)."""
        self._hold_offline = False
        if self._conn is not None:
            self._planned_close = True
            self._closing = asyncio.ensure_future(self._conn.close())
        self._wake.set()

    def cancel_reconnect(self) -> None:
        """Stop retrying; the header says offline until reconnect() is asked for."""
        if self.state in (ConnectionState.RECONNECTING, ConnectionState.CONNECTING):
            self._hold_offline = True
            self._wake.set()

    # ---- intents -------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self._ledger.capped:
            self._notice("warning", self._turns.cap_message())
            return
        if self._conn is None or self.state is not ConnectionState.LIVE:
            self._outbox.append(text)
            self._notice("information", "Not connected: the message goes out when we are back.")
            return
        self._act(self._turns.barge_in(client_initiated=True))
        self._send_user_text(self._conn, text)

    def interrupt(self) -> None:
        """Stop the assistant now: silence, truncate at what was heard, cancel if running."""
        self._act(self._turns.barge_in(client_initiated=True))

    def toggle_mute(self) -> None:
        self._act(self._turns.toggle_mute(self.muted))

    def talk(self) -> None:
        """Manual mode: start/end a turn. VAD modes: interrupt and listen."""
        connected = self._conn is not None
        self._act(self._turns.talk(connected=connected, muted=self.muted, now=self._clock()))

    def apply_settings(self, new: Settings) -> list[str]:
        """Apply edited settings in place where the protocol allows; returns notes to show."""
        old, self.settings = self.settings, new
        notes: list[str] = []
        self.conversation.transcribing = bool(new.session.transcription_model)
        if (old.connection.url, old.connection.model) != (new.connection.url, new.connection.model):
            notes.append("Endpoint or model changed: reconnecting.")
            self.reconnect()
        elif old.session != new.session and self._conn is not None:
            config, voice_notes = self._voice.session_config(old, new)
            notes += voice_notes
            self._conn.send(events.session_update(config))
            notes.append("Session settings sent.")
        self._emit_all(self._voice.session_info(new))
        audio = self._link.apply(old.audio, new.audio)
        if audio.restart:
            self._start_audio(restart=True)
        self._emit_all(audio.changes)
        return notes + audio.notes + self._ledger.raise_cap(new.session.spend_cap_usd)

    # ---- connection loop -----------------------------------------------------------

    def _make_connection(self) -> RealtimeConnection:
        conn_settings = self.settings.connection
        return self._connection_factory(
            conn_settings.url,
            conn_settings.model,
            self._api_key,
            key_env=conn_settings.api_key_env,
            on_send=self._on_client_event,
        )

    async def _connection_loop(self) -> None:
        # failed tries in this outage: connects that failed and connections that closed
        # before they proved themselves; shown in the header, reset by a proven connection
        attempt = 0
        reason = ""
        while not self._stopping:
            if self._hold_offline:
                self._set_state(ConnectionState.OFFLINE, reason or "reconnect cancelled")
                await self._wait_wake(None)
                attempt = 0
                self._backoff.reset()  # the user asked to try again: the first retry is quick
                continue
            conn = self._next_conn
            self._next_conn = None
            if conn is None:
                state = ConnectionState.RECONNECTING if attempt else ConnectionState.CONNECTING
                self._set_state(state, reason, attempt)
                conn = self._make_connection()
                try:
                    await conn.connect()
                except ConnectError as error:
                    reason = str(error)
                    if not error.retryable:
                        self._notice("error", reason)
                        self._hold_offline = True
                        continue
                    attempt += 1
                    await self._retry_later(reason, attempt)
                    continue
                self._configure(conn)
            reason = await self._converse(conn)
            if self._conn_proven:
                self._backoff.reset()
                attempt = 0
            if reason and not self._stopping:
                attempt += 1
                await self._retry_later(reason, attempt)

    async def _retry_later(self, reason: str, attempt: int) -> None:
        delay = self._backoff.next()
        self._set_state(ConnectionState.RECONNECTING, reason, attempt, delay)
        await self._wait_wake(delay)

    async def _converse(self, conn: RealtimeConnection) -> str:
        """Read events until the connection ends. Returns why, or "" if planned."""
        self._conn = conn
        self._voice.connection_opened()
        self._conn_proven = False
        self._turns.active_response = None
        opened = self.stats.connected_since = self._clock()
        self._set_state(ConnectionState.LIVE)
        reason = ""
        try:
            async for event in conn.events():
                self._on_server_event(event)
        except Disconnected as error:
            reason = describe_disconnect(error)
        except RtTuiError as error:
            reason = str(error)
        finally:
            if self._conn is conn:
                self._conn = None
            if self._clock() - opened >= STABLE_CONNECTION_S:
                self._conn_proven = True
        planned = self._planned_close or self._next_conn is not None or self._stopping
        self._planned_close = False
        if planned:
            return ""
        self._emit_all(self.conversation.cut_off_open_turns(f"cut off: {reason}"))
        self._emit_all(self._turns.connection_lost())
        return reason or "connection closed"

    def _configure(self, conn: RealtimeConnection) -> None:
        """A new connection gets the session config, then the conversation so far."""
        conn.send(events.session_update(session_config(self.settings)))
        self._voice.connection_configured(self.settings)  # a new connection takes any voice
        self._emit_all(self._voice.session_info(self.settings))
        for turn in self.conversation.replayable(self.settings.connection.replay_turns):
            conn.send(replay_event(turn))
        outbox, self._outbox = self._outbox, []
        for text in outbox:
            self._send_user_text(conn, text)

    async def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._planned_close = True
            await conn.close()
        if self._next_conn is not None:
            await self._next_conn.close()
            self._next_conn = None

    async def _wait_wake(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def _handover(self) -> None:
        """Open and restore a fresh connection, then swap it in for the ageing one."""
        fresh = self._make_connection()
        try:
            await fresh.connect()
        except ConnectError as error:
            self._notice("warning", f"Session handover failed, will retry: {error}")
            self.stats.connected_since = self._clock() - self._max_session_s() + 60
            return
        self._configure(fresh)
        old = self._conn
        self._next_conn = fresh
        if old is not None:
            await old.close()
        self._notice("information", "Handed over to a fresh session (time limit).")

    def _max_session_s(self) -> float:
        return self.settings.connection.max_session_min * 60.0

    def _check_handover(self) -> None:
        since = self.stats.connected_since
        if since is None or self._conn is None or self.state is not ConnectionState.LIVE:
            return
        left = self._max_session_s() - (self._clock() - since)
        plan = plan_handover(left, quiet=self._turns.quiet)
        if plan.countdown_s != self.stats.handover_in_s:
            self.stats.handover_in_s = plan.countdown_s
            self._emit(StatsChanged(self.stats))
        busy = self._handover_task is not None and not self._handover_task.done()
        if plan.due and not busy:
            self._handover_task = asyncio.create_task(self._handover(), name="session-handover")

    # ---- wiring --------------------------------------------------------------------

    def _on_server_event(self, event: ServerEvent | BadEvent) -> None:
        for effects in self._router.route(event, inspect=self.inspect):
            self._act(effects)

    def _act(self, effects: Iterable[Effect]) -> None:
        """Carry out what a room asked for, in its order."""
        for effect in effects:
            match effect:
                case Send(event):
                    if self._conn is not None:
                        self._conn.send(event)
                case WriteHistory(turn):
                    self._write_history(turn)
                case Mute(muted, reason):
                    self.muted = muted
                    self._link.set_muted(muted)
                    self._emit(MuteChanged(muted, reason))
                case WakeTicker():
                    self._ticker.wake()
                case Proven():
                    self._conn_proven = True
                case ScheduleSummary(kind, delay_s):
                    self._summaries[kind] = self._loop.call_later(delay_s, self._summarise, kind)
                case CancelSummary(kind):
                    self._summaries.pop(kind).cancel()
                case _:
                    self._emit(effect)

    def _summarise(self, kind: str) -> None:
        del self._summaries[kind]
        self._act(self._throttle.summarise(kind, self._clock()))

    def _start_audio(self, restart: bool = False) -> None:
        start = self._link.restart if restart else self._link.start
        self._emit_all(
            start(self.settings, loop=self._loop, history=self._history, muted=self.muted)
        )

    def _on_audio_status(self, status: Any) -> None:
        """The engine degraded, recovered or switched device."""
        self._emit_all(self._link.status_changed(status))

    def _on_capture(self, pcm: bytes) -> None:
        """Microphone block (24 kHz PCM16) on the loop. Dropped unless it can go out now."""
        conn = self._conn
        if conn is None or self.state is not ConnectionState.LIVE or self.muted:
            return  # audio captured while disconnected is never sent late
        if self.settings.session.turn_detection.mode == TurnMode.MANUAL and not self.talking:
            return
        conn.send(events.audio_append(pcm))

    def _tick(self) -> None:
        self._emit_all(self._turns.update_audible())
        self._emit_all(self._latency.check(self._link))
        self._write_all(self._gate.flush(self._link.engine))
        self._check_handover()

    def _watching(self) -> bool:
        """Whether anything the ticker watches can change within the next second."""
        turns = self._turns
        return bool(
            turns.assistant_audible
            or self._link.audible
            or self._latency.pending
            or self._gate.waiting
            or turns.talking
        )

    def _send_user_text(self, conn: RealtimeConnection, text: str) -> None:
        self._ledger.start_turn()
        conn.send(events.user_text(text))
        conn.send(events.response_create())

    def _on_client_event(self, event: dict[str, Any]) -> None:
        if self.inspect and (logged := self._inspector.outbound(event)) is not None:
            self._emit(logged)

    def _write_all(self, turns: Iterable[Turn]) -> None:
        for turn in turns:
            self._write_history(turn)

    def _write_history(self, turn: Turn) -> None:
        if self._history is None or not self.settings.history.enabled:
            return
        try:
            self._history.write_turn(turn)
        except OSError as error:
            self._notice("error", f"Could not write the transcript file: {error}")

    def _set_state(
        self,
        state: ConnectionState,
        reason: str = "",
        attempt: int = 0,
        retry_in: float | None = None,
    ) -> None:
        self.state = state
        if state is not ConnectionState.LIVE:
            self.stats.connected_since = None
            self.stats.handover_in_s = None
        self._emit(ConnectionChanged(state, reason, attempt, retry_in))

    def _notice(self, level: Any, text: str) -> None:
        self._emit(Notice(level, text))

    def _emit(self, change: Change) -> None:
        if isinstance(change, TurnFinished):  # a reply still playing is written once played
            self._write_all(self._gate.finished(change.turn, self._link.engine))
        self._listener(change)

    def _emit_all(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self._emit(change)
