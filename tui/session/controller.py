"""The one controller: owns the connection, the audio engine and the conversation.

User intents (keys, typed text, settings) come in through its methods; server events come in
from the connection; the UI hears about everything through one injected `listener(change)`
called on the asyncio loop. No Textual here.

Reconnection: any unexpected close reconnects with backoff (auth failures do not), and a new
connection is restored: the same `session.update`, then the conversation so far replayed as
text items. Before the server's session limit, a fresh connection is prepared between turns
and swapped in, so a long talk never breaks mid-sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tui.changes import (
    AudioModeChanged,
    Change,
    ConnectionChanged,
    ConnectionState,
    EventLogged,
    MuteChanged,
    Notice,
    Role,
    SessionInfo,
    SpeechChanged,
    Stats,
    StatsChanged,
    Turn,
    TurnFinished,
    TurnStatus,
    Usage,
)
from tui.config import Settings
from tui.conversation import Conversation
from tui.errors import ConnectError, Disconnected, RtTuiError
from tui.pricing import estimate_cost, estimate_transcription_cost
from tui.realtime import events
from tui.realtime.backoff import Backoff
from tui.realtime.connection import RealtimeConnection
from tui.realtime.events import BadEvent, ServerEvent
from tui.realtime.payload import session_config
from tui.realtime.redact import redact_event

Listener = Callable[[Change], None]

# The ticker watches audibility, the latency mark and history waiting on playback at 10 Hz
# while there is something to watch (latency itself comes from timestamps, so 10 Hz only sets
# how soon the UI shows it); otherwise once a second, which the handover check needs. Audio
# arriving wakes it at once, so "assistant speaking" shows within a tick.
TICK_S = 0.1
IDLE_TICK_S = 1.0
HANDOVER_MARGIN_S = 120.0  # hand over this long before the server's session limit
COUNTDOWN_S = 300.0  # show the handover countdown in the last five minutes
# A connection that stayed live this long, or on which the server streamed part of a reply
# or completed one, has proved itself: when it drops, the backoff starts over (first retry
# within a second). A handshake alone proves nothing: a server that is overloaded or
# restarting (1013, 1012) accepts the websocket and closes it at once, and resetting then
# would retry four times a second forever with the attempt count stuck at 1. session.updated
# is no proof either: an overloaded server can still echo the config before it gives up.
# What a user expects is "it was working, then it broke" (retry now) versus "it has not
# worked since the outage began" (keep counting, wait longer each time).
STABLE_CONNECTION_S = 10.0
# A burst of bad frames (a broken proxy, a server bug) must not bury the screen in toasts:
# one notice per kind of bad frame at most this often. The inspector still gets every frame,
# and frames skipped in between are summed up in one notice at the end of the interval.
BAD_NOTICE_INTERVAL_S = 5.0
BENIGN_ERROR_CODES = {"response_cancel_not_active"}
TEXT_DELTAS = ("response.output_text.delta", "response.output_audio_transcript.delta")
CLOSE_REASONS = {
    1000: "closed",
    1001: "the server ended the session",
    1006: "connection lost",
    1011: "server error",
    1012: "server restarting",
    1013: "server busy, try again later",
}


def describe_disconnect(error: Disconnected) -> str:
    what = CLOSE_REASONS.get(error.code or 1006, "connection closed")
    detail = f": {error.reason}" if error.reason else ""
    code = f" (code {error.code})" if error.code else ""
    return f"{what}{detail}{code}"


@dataclass
class _BadFrameNotice:
    """When frames of one bad kind were last announced, and what came since."""

    shown_at: float
    shown_count: int  # bad_frames[kind] when last announced
    reason: str = ""  # of the latest frame not yet announced
    pending: asyncio.TimerHandle | None = None  # the summary at the end of the interval


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
        self._audio_enabled = audio_enabled and settings.audio.enabled
        self._history = history
        self._replay = list(replay)
        self._connection_factory = connection_factory
        self._audio_factory = audio_factory
        self._clock = clock
        self._backoff = backoff if backoff is not None else Backoff()

        self.conversation = Conversation()
        self.conversation.transcribing = bool(settings.session.transcription_model)
        self.stats = Stats()
        self.state = ConnectionState.CONNECTING
        self.muted = False
        self.inspect = False
        self.audio_mode = "off"
        self.bad_frames: Counter[str] = Counter()
        self._bad_notices: dict[str, _BadFrameNotice] = {}

        self._conn: RealtimeConnection | None = None
        self._next_conn: RealtimeConnection | None = None  # prepared by a handover
        self._audio: Any = None
        self._echo_path: Any = None
        self._recorder: Any = None  # the engine writes to it; the session owns and closes it
        self._wake = asyncio.Event()
        self._stopping = False
        self._hold_offline = False
        self._planned_close = False
        self._handover_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None

        self._active_response: str | None = None
        self._discard_items: set[str] = set()
        self._discard_responses: set[str] = set()
        self._audio_out_this_conn = False
        self._conn_proven = False  # see STABLE_CONNECTION_S
        # the server fixes the voice at the first spoken reply of a connection
        self._voice_in_use = settings.session.voice
        self._session_info: SessionInfo | None = None  # as last told to the listener
        self._talking = False  # manual turn mode: space starts and ends a turn
        self._capped = False
        self._cap_warned = False
        self._usage_turn_over = True  # the next usage starts a new stats.turn_usage
        self._user_speaking = False
        self._assistant_audible = False
        self._speech_stopped_at: float | None = None
        self._latency_item: str | None = None
        self._first_output_at: dict[str, float] = {}
        self._deferred_history: dict[str, Turn] = {}
        self._tick_handle: asyncio.TimerHandle | None = None
        self._outbox: list[str] = []
        self._appends_logged_at = 0.0
        self._appends_since_log = 0

    # ---- the UI's view -------------------------------------------------------------

    def input_level(self) -> tuple[float, float] | None:
        if self._audio is None or self.audio_mode in ("off", "text_only", "output_only"):
            return None
        level = self._audio.input_level
        return (level.rms_db, level.peak_db)

    def output_level(self) -> tuple[float, float] | None:
        if self._audio is None or self.audio_mode in ("off", "text_only", "input_only"):
            return None
        level = self._audio.output_level
        return (level.rms_db, level.peak_db)

    def echo_erle_db(self) -> float | None:
        """How much echo the canceller removes now (smoothed ERLE), None when not cancelling."""
        if self._echo_path is None or self._audio is None or self.audio_mode != "full":
            return None
        return self._echo_path.erle_db

    @property
    def talking(self) -> bool:
        return self._talking

    @property
    def capped(self) -> bool:
        return self._capped

    # ---- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        """Connect, converse, reconnect; returns after stop()."""
        self._loop = asyncio.get_running_loop()
        self.stats.session_started = self._clock()
        self._emit_session_info()
        # the listener gets the live Stats object now, so the session clock runs from the
        # start rather than from the first response's usage
        self._emit(StatsChanged(self.stats))
        if self._replay:
            self._emit_all(self.conversation.add_replayed(self._replay))
        self._start_audio()
        self._schedule_tick(TICK_S)
        try:
            await self._connection_loop()
        finally:
            if self._tick_handle is not None:
                self._tick_handle.cancel()
                self._tick_handle = None
            if self._handover_task:
                self._handover_task.cancel()
            for notice in self._bad_notices.values():
                if notice.pending is not None:
                    notice.pending.cancel()
            await self._close_connection()
            self._flush_history(everything=True)
            if self._audio is not None:
                self._audio.stop()
            if self._recorder is not None:
                self._recorder.close()
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
        if self._capped:
            self._notice("warning", self._cap_message())
            return
        if self._conn is None or self.state is not ConnectionState.LIVE:
            self._outbox.append(text)
            self._notice("information", "Not connected: the message goes out when we are back.")
            return
        self._barge_in(client_initiated=True)
        self._send_user_text(self._conn, text)

    def interrupt(self) -> None:
        """Stop the assistant now: silence, truncate at what was heard, cancel if running."""
        self._barge_in(client_initiated=True)

    def toggle_mute(self) -> None:
        if self.muted and self._capped:
            self._notice("warning", self._cap_message())
            return
        self._set_muted(not self.muted)

    def talk(self) -> None:
        """Manual mode: start/end a turn. VAD modes: interrupt and listen."""
        if self.settings.session.turn_detection.mode != "manual":
            self._barge_in(client_initiated=True)
            if self.muted:
                self.toggle_mute()
            return
        conn = self._conn
        if conn is None:
            self._notice("warning", "Not connected.")
            return
        if not self._talking:
            self._barge_in(client_initiated=True)
            conn.send(events.audio_clear())
            self._start_usage_turn()
            self._talking = True
            if self.muted:
                self.toggle_mute()
        else:
            self._talking = False
            conn.send(events.audio_commit())
            if self._capped:
                self._notice("warning", self._cap_message())
            else:
                conn.send(events.response_create())
                # no VAD, no speech_stopped: the end of the user's turn is this commit
                self._speech_stopped_at = self._clock()
                self._latency_item = None
        self._emit(SpeechChanged(self._talking, self._assistant_audible))

    def apply_settings(self, new: Settings) -> list[str]:
        """Apply edited settings in place where the protocol allows; returns notes to show."""
        old, self.settings = self.settings, new
        notes: list[str] = []
        self.conversation.transcribing = bool(new.session.transcription_model)
        if (old.connection.url, old.connection.model) != (new.connection.url, new.connection.model):
            notes.append("Endpoint or model changed: reconnecting.")
            self.reconnect()
        elif old.session != new.session and self._conn is not None:
            config = session_config(new)
            if self._audio_out_this_conn and new.session.voice != self._voice_in_use:
                # compared with the voice in use, not the old setting: a voice still waiting
                # for the next connection must not go out with a later change of another field
                config.get("audio", {}).get("output", {}).pop("voice", None)
                if old.session.voice != new.session.voice:
                    notes.append(
                        "The voice cannot change after the first spoken reply: "
                        "it applies on the next connection."
                    )
            else:
                self._voice_in_use = new.session.voice
            self._conn.send(events.session_update(config))
            notes.append("Session settings sent.")
        self._emit_session_info()
        notes += self._apply_audio_settings(old.audio, new.audio)
        cap = new.session.spend_cap_usd
        if self._capped and (cap is None or self.stats.session_usage.cost_usd < cap):
            self._capped = False
            self._cap_warned = False
            notes.append("Spend cap raised: responses allowed again (unmute to talk).")
        return notes

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
        self._audio_out_this_conn = False
        self._conn_proven = False
        self._active_response = None
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
        cut = self.conversation.cut_off_open_turns(f"cut off: {reason}")
        self._emit_all(cut)
        self._talking = False
        self._set_user_speaking(False)
        return reason or "connection closed"

    def _configure(self, conn: RealtimeConnection) -> None:
        """A new connection gets the session config, then the conversation so far."""
        conn.send(events.session_update(session_config(self.settings)))
        self._voice_in_use = self.settings.session.voice  # a new connection takes any voice
        self._emit_session_info()
        for turn in self.conversation.replayable(self.settings.connection.replay_turns):
            conn.send(_replay_event(turn))
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

    # ---- server events -------------------------------------------------------------

    def _on_server_event(self, event: ServerEvent | BadEvent) -> None:
        if isinstance(event, BadEvent):
            self._on_bad_event(event)
            return
        kind = event.type
        if kind == "response.output_audio.delta":
            self._on_audio_delta(event)
            return
        if self.inspect:
            self._emit(EventLogged("in", redact_event(event.data, self._secrets())))
        if kind in TEXT_DELTAS:
            if self._discarded(event):
                return
            item_id = event.get("item_id", "")
            if self.conversation.get(item_id) is None:
                self._on_bad_event(
                    BadEvent("unknown_item", f"text for unknown item {item_id!r}", type=kind)
                )
                return
            self._first_output_at.setdefault(item_id, self._clock())
            self._conn_proven = True  # the server is answering on this connection
        self._emit_all(self.conversation.apply(event))
        handler = _EVENT_HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)

    def _discarded(self, event: ServerEvent) -> bool:
        return (
            event.get("item_id") in self._discard_items
            or event.get("response_id") in self._discard_responses
        )

    def _on_audio_delta(self, event: ServerEvent) -> None:
        item_id = event.get("item_id", "")
        if self.inspect:
            self._emit(EventLogged("in", redact_event(event.data, self._secrets())))
        if self._discarded(event):
            return
        if self.conversation.get(item_id) is None:
            self._on_bad_event(
                BadEvent("unknown_item", f"audio for unknown item {item_id!r}", type=event.type)
            )
            return
        self.conversation.apply(event)
        self._first_output_at.setdefault(item_id, self._clock())
        self._audio_out_this_conn = True
        self._conn_proven = True  # the server is answering on this connection
        self._wake_ticker()
        if self._audio is not None and self.audio_mode in ("full", "output_only"):
            try:
                self._audio.play(item_id, event.audio or b"")
            except (ValueError, RtTuiError) as error:
                self._on_bad_event(BadEvent("bad_audio", str(error), type=event.type))

    def _on_bad_event(self, bad: BadEvent) -> None:
        self.bad_frames[bad.kind] += 1
        self._emit(
            EventLogged(
                "in",
                {
                    "type": "rt-tui.bad_frame",
                    "kind": bad.kind,
                    "reason": bad.reason,
                    "preview": bad.preview,
                },
            )
        )
        self._announce_bad_frame(bad)

    def _announce_bad_frame(self, bad: BadEvent) -> None:
        """A notice for the first frame of a kind, then at most one per interval."""
        count, now = self.bad_frames[bad.kind], self._clock()
        shown = self._bad_notices.get(bad.kind)
        if shown is None or now - shown.shown_at >= BAD_NOTICE_INTERVAL_S:
            if shown is not None and shown.pending is not None:
                shown.pending.cancel()
            self._bad_notices[bad.kind] = _BadFrameNotice(now, count)
            self._notice("warning", f"Skipped a bad server frame: {bad.reason} ({count} so far)")
            return
        shown.reason = bad.reason
        if shown.pending is None:
            wait = BAD_NOTICE_INTERVAL_S - (now - shown.shown_at)
            shown.pending = self._loop.call_later(wait, self._summarise_bad_frames, bad.kind)

    def _summarise_bad_frames(self, kind: str) -> None:
        shown = self._bad_notices[kind]
        shown.pending = None
        count = self.bad_frames[kind]
        more = count - shown.shown_count
        if more <= 0:
            return
        shown.shown_at, shown.shown_count = self._clock(), count
        frames = "frame" if more == 1 else "frames"
        self._notice(
            "warning", f"Skipped {more} more bad server {frames}: {shown.reason} ({count} so far)"
        )

    def _on_speech_started(self, event: ServerEvent) -> None:
        self._start_usage_turn()
        self._set_user_speaking(True)
        self._barge_in(client_initiated=False)

    def _on_speech_stopped(self, event: ServerEvent) -> None:
        self._set_user_speaking(False)
        self._speech_stopped_at = self._clock()
        self._latency_item = None

    def _on_response_created(self, event: ServerEvent) -> None:
        response = event.get("response") or {}
        self._active_response = response.get("id")

    def _on_output_item_added(self, event: ServerEvent) -> None:
        item = event.get("item") or {}
        if self._speech_stopped_at is not None and self._latency_item is None:
            self._latency_item = item.get("id")

    def _on_response_done(self, event: ServerEvent) -> None:
        response = event.get("response") or {}
        if response.get("id") == self._active_response:
            self._active_response = None
        if response.get("status") == "completed":
            self._conn_proven = True
        usage = response.get("usage")
        if isinstance(usage, dict):
            self._add_response_usage(usage)

    def _on_rate_limits(self, event: ServerEvent) -> None:
        for limit in event.get("rate_limits") or []:
            if isinstance(limit, dict) and isinstance(limit.get("name"), str):
                self.stats.rate_limits[limit["name"]] = limit
        self._emit(StatsChanged(self.stats))

    def _on_error(self, event: ServerEvent) -> None:
        error = event.get("error") or {}
        code = error.get("code")
        if code in BENIGN_ERROR_CODES:
            return
        message = error.get("message") or "unknown error"
        self._notice("error", f"Server error: {message}" + (f" ({code})" if code else ""))

    def _on_transcription_usage(self, event: ServerEvent) -> None:
        usage = event.get("usage")
        if isinstance(usage, dict):
            self._add_transcription_usage(usage)

    # ---- barge-in ------------------------------------------------------------------

    def _barge_in(self, *, client_initiated: bool) -> None:
        """Clear playback first (silence within one block), then truncate, then cancel."""
        conn = self._conn
        played = self._audio.interrupt() if self._audio is not None else None
        if played is not None:
            self._discard_items.add(played.item_id)
            heard_ms = min(played.played_ms, played.received_ms)
            if conn is not None and heard_ms < played.received_ms:
                conn.send(events.item_truncate(played.item_id, int(heard_ms)))
            changes = self.conversation.mark_interrupted(played.item_id, heard_ms)
            self._emit_all(changes)
            # a reply held back while it played is written now, marked interrupted; one that
            # just finished above (or was already written, e.g. cut off) is not written again
            turn = self._deferred_history.pop(played.item_id, None)
            if turn is not None:
                self._write_history(turn)
        active = self._active_response
        if active is not None:
            self._discard_responses.add(active)
            server_cancels = (
                not client_initiated
                and self.settings.session.turn_detection.mode != "manual"
                and self.settings.session.turn_detection.interrupt_response
            )
            if conn is not None and not server_cancels:
                conn.send(events.response_cancel())
        self._update_audible()

    # ---- audio ---------------------------------------------------------------------

    def _start_audio(self) -> None:
        if not self._audio_enabled:
            self.audio_mode = "off"
            self._emit(AudioModeChanged("off", "audio off: text only"))
            return
        try:
            self._audio = self._build_audio()
            status = self._audio.start()
        except RtTuiError as error:
            self._audio = None
            self.audio_mode = "text_only"
            self._emit(AudioModeChanged("text_only", str(error)))
            return
        self.audio_mode = status.mode
        self._audio.muted = self.muted
        self._emit(AudioModeChanged(status.mode, status.message))

    def _build_audio(self) -> Any:
        audio = self.settings.audio
        echo_path = None
        echo_guard = audio.echo_guard
        if echo_guard == "aec":
            from tui.audio.echo import create_echo_path

            echo_path, message = create_echo_path("aec")
            self._echo_path = echo_path
            if echo_path is None:
                echo_guard = "half_duplex"
                self._notice("warning", message)
        if self._audio_factory is None:
            from tui.audio.engine import AudioEngine

            factory: Callable[..., Any] = AudioEngine
        else:
            factory = self._audio_factory
        return factory(
            input_device=audio.input_device,
            output_device=audio.output_device,
            block_ms=audio.block_ms,
            echo_guard=echo_guard,
            on_capture=self._on_capture,
            loop=self._loop,
            echo_canceller=echo_path,
            recorder=self._make_recorder(),
            on_status=self._on_audio_status,
        )

    def _make_recorder(self) -> Any:
        """One pair of WAV files per session, kept across audio restarts."""
        if not (self.settings.history.record_audio and self._history is not None):
            return None
        if self._recorder is None:
            from tui.audio.recorder import WavRecorder
            from tui.history import wav_paths

            mic_path, assistant_path = wav_paths(self._history)
            self._recorder = WavRecorder(mic_path, assistant_path)
        return self._recorder

    def _apply_audio_settings(self, old: Any, new: Any) -> list[str]:
        """Reopen only what changed: devices in place, a new engine for the rest."""
        if old == new:
            return []
        needs_restart = (
            old.enabled != new.enabled
            or old.block_ms != new.block_ms
            or ("aec" in (old.echo_guard, new.echo_guard) and old.echo_guard != new.echo_guard)
        )
        if needs_restart or self._audio is None:
            self._restart_audio()
            return ["Audio restarted."]
        notes = []
        if (old.input_device, old.output_device) != (new.input_device, new.output_device):
            self._on_audio_status(self._audio.reopen(new.input_device, new.output_device))
            notes.append("Audio devices reopened.")
        if old.echo_guard != new.echo_guard:
            self._audio.echo_guard = new.echo_guard
            notes.append(f"Echo guard: {new.echo_guard}.")
        return notes

    def _on_audio_status(self, status: Any) -> None:
        """The engine degraded, recovered or switched device."""
        if status.mode != self.audio_mode or status.message:
            self.audio_mode = status.mode
            self._emit(AudioModeChanged(status.mode, status.message))

    def _restart_audio(self) -> None:
        if self._audio is not None:
            self._audio.stop()
            self._audio = None
        self._audio_enabled = self.settings.audio.enabled
        self._start_audio()

    def _on_capture(self, pcm: bytes) -> None:
        """Microphone block (24 kHz PCM16) on the loop. Dropped unless it can go out now."""
        conn = self._conn
        if conn is None or self.state is not ConnectionState.LIVE or self.muted:
            return  # audio captured while disconnected is never sent late
        if self.settings.session.turn_detection.mode == "manual" and not self._talking:
            return
        conn.send(events.audio_append(pcm))

    def _set_muted(self, muted: bool, reason: str = "") -> None:
        self.muted = muted
        if self._audio is not None:
            self._audio.muted = muted
        self._emit(MuteChanged(muted, reason))

    # ---- ticker: audibility, latency, deferred history, handover ---------------------

    def _schedule_tick(self, delay: float) -> None:
        if self._tick_handle is not None:
            self._tick_handle.cancel()
        self._tick_handle = self._loop.call_later(delay, self._tick)

    def _wake_ticker(self) -> None:
        """Something to watch has started: tick soon if the next tick is further away."""
        handle = self._tick_handle
        if handle is not None and handle.when() - self._loop.time() > TICK_S:
            self._schedule_tick(TICK_S)

    def _tick(self) -> None:
        self._tick_handle = None
        try:
            self._update_audible()
            self._check_latency()
            self._flush_history()
            self._check_handover()
        finally:  # a failing check must not stop the ticker
            self._schedule_tick(TICK_S if self._watching() else IDLE_TICK_S)

    def _watching(self) -> bool:
        """Whether anything the ticker watches can change within the next second."""
        return bool(
            self._assistant_audible
            or (self._audio is not None and self._audio.audible)
            or self._latency_item is not None
            or self._speech_stopped_at is not None
            or self._deferred_history
            or self._talking
        )

    def _update_audible(self) -> None:
        audible = bool(self._audio is not None and self._audio.audible)
        if audible != self._assistant_audible:
            self._assistant_audible = audible
            self._emit(SpeechChanged(self._user_speaking or self._talking, audible))

    def _set_user_speaking(self, speaking: bool) -> None:
        if speaking != self._user_speaking:
            self._user_speaking = speaking
            self._emit(SpeechChanged(speaking, self._assistant_audible))

    def _check_latency(self) -> None:
        item, stopped = self._latency_item, self._speech_stopped_at
        if item is None or stopped is None:
            return
        if self._audio is not None and self.audio_mode in ("full", "output_only"):
            first = self._audio.first_audible_at(item)
        else:
            first = self._first_output_at.get(item)
        if first is None:
            return
        latency_ms = max(0.0, (first - stopped) * 1000.0)
        self.stats.last_latency_ms = latency_ms
        self.stats.latencies_ms.append(latency_ms)
        self._latency_item = None
        self._speech_stopped_at = None
        self._emit(StatsChanged(self.stats))

    def _check_handover(self) -> None:
        since = self.stats.connected_since
        if since is None or self._conn is None or self.state is not ConnectionState.LIVE:
            return
        left = self._max_session_s() - (self._clock() - since)
        countdown = left - HANDOVER_MARGIN_S
        shown = round(countdown) if countdown <= COUNTDOWN_S else None
        if shown != self.stats.handover_in_s:
            self.stats.handover_in_s = shown
            self._emit(StatsChanged(self.stats))
        quiet = not (
            self._active_response or self._user_speaking or self._assistant_audible or self._talking
        )
        busy = self._handover_task is not None and not self._handover_task.done()
        if countdown <= 0 and (quiet or left <= 10) and not busy:
            self._handover_task = asyncio.create_task(self._handover(), name="session-handover")

    # ---- usage, cost, spend cap ----------------------------------------------------

    def _add_response_usage(self, usage: dict[str, Any]) -> None:
        cost = estimate_cost(self.settings.connection.model, usage)
        if cost is None:
            self.stats.priced = False
        self._add_turn_usage(_usage_of(usage, cost))

    def _add_transcription_usage(self, usage: dict[str, Any]) -> None:
        cost = estimate_transcription_cost(self.settings.session.transcription_model, usage)
        if cost is None:
            self.stats.transcription_priced = False  # counted, but its cost is unknown
        self._add_turn_usage(_usage_of(usage, cost))

    def _add_turn_usage(self, usage: Usage) -> None:
        """Everything a turn costs (the reply and the transcription of what the user said) adds
        up in stats.turn_usage, in whatever order the server reports it."""
        if self._usage_turn_over:
            self.stats.turn_usage = Usage()
            self._usage_turn_over = False
        self.stats.turn_usage.add(usage)
        self.stats.session_usage.add(usage)
        self._check_spend_cap()
        self._emit(StatsChanged(self.stats))

    def _start_usage_turn(self) -> None:
        """The user starts a turn: its usage starts from zero. The last turn's figures stay
        on screen until the new turn's first usage arrives."""
        self._usage_turn_over = True

    def _check_spend_cap(self) -> None:
        cap = self.settings.session.spend_cap_usd
        if cap is None or cap <= 0:
            return
        spent = self.stats.session_usage.cost_usd
        if spent >= cap and not self._capped:
            self._capped = True
            self._set_muted(True, "spend cap reached")
            self._notice("error", self._cap_message())
        elif spent >= 0.8 * cap and not self._cap_warned:
            self._cap_warned = True
            self._notice("warning", f"≈${spent:.2f} spent: 80% of the ${cap:.2f} spend cap.")

    def _cap_message(self) -> str:
        cap = self.settings.session.spend_cap_usd or 0.0
        return (
            f"Spend cap of ${cap:.2f} reached: microphone muted, no new responses. "
            "Raise [session] spend_cap_usd in settings to go on."
        )

    # ---- history -------------------------------------------------------------------

    def _on_turn_final(self, turn: Turn) -> None:
        """An assistant reply still playing is written when it has played (or is cut)."""
        playing = (
            turn.role is Role.ASSISTANT
            and turn.status is TurnStatus.DONE
            and self._audio is not None
            and self._audio.played_ms(turn.item_id) + 1 < self._audio.received_ms(turn.item_id)
        )
        if playing:
            self._deferred_history[turn.item_id] = turn
        else:
            self._write_history(turn)

    def _flush_history(self, everything: bool = False) -> None:
        for item_id, turn in list(self._deferred_history.items()):
            done = (
                everything
                or self._audio is None
                or (self._audio.played_ms(item_id) + 1 >= self._audio.received_ms(item_id))
            )
            if done:
                del self._deferred_history[item_id]
                self._write_history(turn)

    def _write_history(self, turn: Turn) -> None:
        if self._history is None or not self.settings.history.enabled:
            return
        try:
            self._history.write_turn(turn)
        except OSError as error:
            self._notice("error", f"Could not write the transcript file: {error}")

    # ---- sending -------------------------------------------------------------------

    def _send_user_text(self, conn: RealtimeConnection, text: str) -> None:
        self._start_usage_turn()
        conn.send(events.user_text(text))
        conn.send(events.response_create())

    def _on_client_event(self, event: dict[str, Any]) -> None:
        if not self.inspect:
            return
        if event.get("type") == "input_audio_buffer.append":
            # 50 appends a second would drown the inspector: one summary line a second
            self._appends_since_log += 1
            now = self._clock()
            if now - self._appends_logged_at < 1.0:
                return
            event = {"type": "input_audio_buffer.append", "blocks": self._appends_since_log}
            self._appends_logged_at, self._appends_since_log = now, 0
        self._emit(EventLogged("out", redact_event(event, self._secrets())))

    # ---- plumbing ------------------------------------------------------------------

    def _secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def _emit_session_info(self) -> None:
        """The header's endpoint, model and voice: the voice in use, not the one asked for."""
        conn, wanted = self.settings.connection, self.settings.session.voice
        pending = wanted if wanted != self._voice_in_use else ""
        info = SessionInfo(conn.url, conn.model, self._voice_in_use, pending)
        if info != self._session_info:
            self._session_info = info
            self._emit(info)

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
        if isinstance(change, TurnFinished):
            self._on_turn_final(change.turn)
        self._listener(change)

    def _emit_all(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self._emit(change)


def _usage_of(usage: dict[str, Any], cost: float | None) -> Usage:
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cost_usd=cost or 0.0,
    )


def _replay_event(turn: Turn) -> dict[str, Any]:
    """A past turn as a text item, under its old id so the echo is recognised and skipped."""
    text = turn.text
    if turn.status is TurnStatus.INTERRUPTED and turn.heard_ms is not None and turn.audio_ms:
        # only the part that was heard belongs in the assistant's memory
        share = max(0.0, min(1.0, turn.heard_ms / turn.audio_ms))
        text = text[: int(len(text) * share)] + "…"
    event = events.user_text(text) if turn.role is Role.USER else events.assistant_text(text)
    event["item"]["id"] = turn.item_id
    return event


_EVENT_HANDLERS: dict[str, Callable[[Session, ServerEvent], None]] = {
    "input_audio_buffer.speech_started": Session._on_speech_started,
    "input_audio_buffer.speech_stopped": Session._on_speech_stopped,
    "response.created": Session._on_response_created,
    "response.output_item.added": Session._on_output_item_added,
    "response.done": Session._on_response_done,
    "rate_limits.updated": Session._on_rate_limits,
    "error": Session._on_error,
    "conversation.item.input_audio_transcription.completed": Session._on_transcription_usage,
}
