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
from functools import partial
from typing import Any

from tui.changes import (
    Change,
    ConnectionChanged,
    ConnectionState,
    MuteChanged,
    Notice,
    Turn,
    TurnFinished,
)
from tui.config import Settings
from tui.errors import ConnectError, Disconnected, RtTuiError
from tui.realtime.backoff import Backoff
from tui.realtime.connection import ConnectCancelled, RealtimeConnection
from tui.realtime.events import BadEvent, ServerEvent
from tui.session.coalesce import READ_SLICE_S, Coalescer
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
from tui.session.handing import Handover
from tui.session.mic import MicPath
from tui.session.mishaps import log
from tui.session.outage import Outage
from tui.session.reconnect import describe_disconnect
from tui.session.rooms import Rooms
from tui.session.ticker import Ticker
from tui.session.tools_link import ToolBoxLike, default_toolbox
from tui.session.tools_pump import ToolsPump

Listener = Callable[[Change], None]


class Controller:
    """One live conversation, across as many connections as it takes: the line and the
    wiring. `tui.session.Session` adds the app's door (intents, readings) on top."""

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
        toolbox_factory: Callable[[Settings], ToolBoxLike | None] | None = None,
    ) -> None:
        self.settings = settings
        self._api_key = api_key
        self._listener = listener
        self._history = history
        self._replay = list(replay)
        self._connection_factory = connection_factory
        self._clock = clock
        make_toolbox = toolbox_factory or partial(default_toolbox, api_key=api_key)
        self._rooms = rooms = Rooms.build(
            lambda: self.settings,
            api_key=api_key,
            audio_enabled=audio_enabled,
            audio_factory=audio_factory,
            on_capture=self._on_capture,
            on_audio_status=self._on_audio_status,
            clock=clock,
            toolbox=make_toolbox(settings),
            history=history,
        )
        self._tools = ToolsPump(rooms.tools, act=self._act, factory=make_toolbox)
        self.conversation = rooms.conversation
        self.stats = rooms.stats
        self.bad_frames = rooms.throttle.counts  # by kind
        self.state = ConnectionState.CONNECTING
        self.muted = False
        self.inspect = False  # emit EventLogged for every event in and out
        self._ticker = Ticker(self._tick, rooms.watching)
        self._summaries: dict[str, asyncio.TimerHandle] = {}  # bad-frame summaries due
        self._frame = Coalescer(listener)  # status and text: at most one per UI frame
        self._outage = Outage(backoff if backoff is not None else Backoff())
        self._conn: RealtimeConnection | None = None
        self._handover = Handover(
            make=self._make_connection,
            restore=self._configure,
            live=lambda: self._conn,
            emit=self._emit,
            limit=rooms.limit,
            quiet=lambda: rooms.turns.quiet,
            stats=self.stats,
        )
        self._mic = MicPath(
            link=rooms.link,
            turns=rooms.turns,
            settings=lambda: self.settings,
            clock=clock,
            listener=listener,
        )
        # held from before connect(): stop() closes it, so a pending handshake never holds
        # up quitting (its connect() raises ConnectCancelled, a planned stop)
        self._connecting: RealtimeConnection | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self.stopped_by = ""  # why run() ended on an unexpected error ("" while it runs)
        self._hold_offline = False
        self._planned_close = False
        self._closing: asyncio.Future[None] | None = None

    # ---- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        """Connect, converse, reconnect; returns after stop()."""
        self._loop = asyncio.get_running_loop()
        self.stats.session_started = self._clock()
        self._act(self._rooms.opening(self.settings, self._replay))
        self._start_audio()
        self._ticker.start(self._loop)
        self._tools.start()
        try:
            await self._connection_loop()
        except Exception as error:
            # a bug outside any one event: the header must not go on saying "live", and what
            # the user types from now on is still drawn and saved (stop() closes the file)
            self.stopped_by = self._rooms.mishaps.describe(error)
            self._set_state(ConnectionChanged(ConnectionState.OFFLINE, self.stopped_by))
            raise
        finally:
            await self._tools.stop()
            self._ticker.stop()
            for pending in self._summaries.values():
                pending.cancel()
            await self._close_connection()
            self._act(self._rooms.closing())
            self._frame.flush()  # the last figures and text reach the UI
            self._rooms.link.close()
            if not self.stopped_by:
                self._act(self._rooms.transcript.close())

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await self._close_connection()
        if self.stopped_by:
            self._act(self._rooms.transcript.close())  # kept open after a crash for typing

    # ---- connection loop -----------------------------------------------------------

    def _make_connection(self) -> RealtimeConnection:
        conn_settings = self.settings.connection
        return self._connection_factory(
            conn_settings.url,
            conn_settings.model,
            self._api_key,
            key_env=conn_settings.api_key_env,
            auth=conn_settings.auth,
            on_send=self._on_client_event,
        )

    async def _connection_loop(self) -> None:
        outage = self._outage
        while not self._stopping:
            if self._hold_offline:
                reason = outage.reason or "reconnect cancelled"
                self._set_state(ConnectionChanged(ConnectionState.OFFLINE, reason))
                await self._wait_wake(None)
                outage.resume()  # the user asked to try again: the first retry is quick
                continue
            conn = self._handover.take()
            if conn is None:
                self._set_state(outage.connecting())
                conn = self._connecting = self._make_connection()
                try:
                    await conn.connect()
                except ConnectCancelled:
                    continue  # stop() or reconnect() closed it: nothing went wrong
                except ConnectError as error:
                    if error.retryable:
                        await self._retry_later(outage.failed(str(error)))
                    else:  # a setting to fix (the key, the URL): no retry until asked
                        outage.reason = str(error)
                        self._emit(Notice("error", outage.reason))
                        self._hold_offline = True
                    continue
                finally:
                    self._connecting = None
                self._conn = conn  # held before restoring: if that fails, run() closes it
                self._configure(conn)
            reason = await self._converse(conn)
            outage.ended(reason)
            if reason and not self._stopping:
                await self._retry_later(outage.failed(reason))

    async def _retry_later(self, change: ConnectionChanged) -> None:
        self._set_state(change)
        await self._wait_wake(change.retry_in_s)

    async def _converse(self, conn: RealtimeConnection) -> str:
        """Read events until the connection ends. Returns why, or "" if planned."""
        self._conn = conn
        self._rooms.connection_opened()
        self._outage.opened(opened := self._clock())
        self.stats.connected_since = opened
        self._set_state(ConnectionChanged(ConnectionState.LIVE))
        reason = ""
        slice_started = time.perf_counter()
        try:
            async for event in conn.events():
                self._on_server_event(event)
                if time.perf_counter() - slice_started >= READ_SLICE_S:
                    # buffered frames never make the loop wait: let keys and paints in
                    await asyncio.sleep(0)
                    slice_started = time.perf_counter()
        except Disconnected as error:
            reason = describe_disconnect(error)
        except RtTuiError as error:
            reason = str(error)
        finally:
            if self._conn is conn:
                self._conn = None
            self._outage.closed(self._clock())
        planned = self._planned_close or self._handover.fresh is not None or self._stopping
        self._planned_close = False
        if planned:
            return ""
        self._act(self._rooms.connection_lost(reason))
        return reason or "connection closed"

    def _configure(self, conn: RealtimeConnection) -> None:
        """A new connection gets the session config, then the conversation so far."""
        self._act(self._rooms.restore(self.settings), conn)

    async def _close_connection(self) -> None:
        if self._connecting is not None:
            await self._connecting.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            self._planned_close = True
            await conn.close()
        await self._handover.close()

    async def _wait_wake(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    # ---- wiring --------------------------------------------------------------------

    def _act(self, effects: Iterable[Effect], conn: RealtimeConnection | None = None) -> None:
        """Carry out what a room asked for, in its order; sends go to `conn` if given (a
        connection being restored), else to the live one, if any."""
        for effect in effects:
            match effect:
                case Send(event):
                    if (target := conn or self._conn) is not None:
                        target.send(event)
                case WriteHistory(turn):
                    self._act(self._rooms.transcript.write(turn))
                case Mute(muted, reason):
                    self.muted = muted
                    self._rooms.link.set_muted(muted)
                    self._emit(MuteChanged(muted, reason))
                case WakeTicker():
                    self._ticker.wake()
                case Proven():
                    self._outage.proven = True
                case ScheduleSummary(kind, delay_s):
                    self._summaries[kind] = self._loop.call_later(delay_s, self._summarise, kind)
                case CancelSummary(kind):
                    self._summaries.pop(kind).cancel()
                case _:
                    self._emit(effect)
        self._rooms.tool_tick.follow()  # the tool tick follows what these effects changed

    def _on_server_event(self, event: ServerEvent | BadEvent) -> None:
        try:
            for effects in self._rooms.router.route(event, inspect=self.inspect):
                self._act(effects)
        except Exception as error:  # a bug in one step or effect must not end the session
            self._mishap(error, event.type or "a bad frame")

    def _mishap(self, error: Exception, where: str) -> None:
        try:
            self._act(self._rooms.mishaps.caught(error, where))
        except Exception:  # reporting failed too (the listener): the log line has it
            log.exception("could not report an internal error in %s", where)

    def _on_client_event(self, event: dict[str, Any]) -> None:
        self._rooms.check.sent(event)  # what was asked, to hold session.updated against
        if self.inspect and (logged := self._rooms.inspector.outbound(event)) is not None:
            self._emit(logged)

    def _on_capture(self, pcm: bytes | None) -> None:
        """A microphone block on the loop (tui.session.mic): sent if it can go out now."""
        live = self._conn if self.state is ConnectionState.LIVE else None
        self._mic.block(pcm, live, muted=self.muted, inspect=self.inspect)

    def _on_audio_status(self, status: Any) -> None:
        """The engine degraded, recovered or switched device."""
        self._act(self._rooms.link.status_changed(status))

    def _start_audio(self, restart: bool = False) -> None:
        start = self._rooms.link.restart if restart else self._rooms.link.start
        self._act(start(self.settings, loop=self._loop, history=self._history, muted=self.muted))

    def _tick(self) -> None:
        try:
            self._act(self._rooms.tick())
            if self._conn is not None and self.state is ConnectionState.LIVE:
                self._handover.check()
        except Exception as error:
            self._mishap(error, "the session ticker")

    def _summarise(self, kind: str) -> None:
        del self._summaries[kind]
        self._act(self._rooms.throttle.summarise(kind, self._clock()))

    def _set_state(self, change: ConnectionChanged) -> None:
        self.state = change.state
        if change.state is not ConnectionState.LIVE:
            self.stats.connected_since = None
            self.stats.handover_in_s = None
        self._emit(change)

    def _emit(self, change: Change) -> None:
        if isinstance(change, TurnFinished):  # a reply still playing is written once played
            for turn in self._rooms.gate.finished(change.turn, self._rooms.link.engine):
                self._act(self._rooms.transcript.write(turn))
        if not self._frame.offer(change):  # status and text wait for the frame's end
            self._listener(change)
