"""The session as the app sees it: intents in, readings out.

`Session` is the controller (tui.session.controller: the connection loop, the handover and
the wiring) with the app's door on top. Each intent asks a room what should happen and
hands the answer to the controller to carry out; each reading is a room's own figure.

An intent runs on a key press in the app: an exception in it (a bug) would end the app, so
each is guarded the way a server event is: the mishaps room logs it and says it once (key
masked, printable), and the app goes on. Typed words that hit such a bug are still drawn
and saved, marked not sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from tui.changes import ConnectionState, Turn
from tui.config import Settings
from tui.constants import AudioMode
from tui.errors import RtTuiError
from tui.session.controller import Controller
from tui.session.effects import Effect

Intent = Callable[[], Iterable[Effect]]


class Session(Controller):
    """One live conversation, across as many connections as it takes."""

    # ---- readings ------------------------------------------------------------------

    def input_level(self) -> tuple[float, float] | None:
        return self._rooms.link.input_level()

    def output_level(self) -> tuple[float, float] | None:
        return self._rooms.link.output_level()

    def echo_erle_db(self) -> float | None:
        """How much echo the canceller removes now (smoothed ERLE), None when not cancelling."""
        return self._rooms.link.echo_erle_db()

    @property
    def audio_mode(self) -> AudioMode:
        return self._rooms.link.mode

    @property
    def talking(self) -> bool:
        return self._rooms.turns.talking

    @property
    def capped(self) -> bool:
        return self._rooms.ledger.capped

    def tool_servers(self) -> dict[str, Any]:
        """The local MCP servers' states by name (tui.tools.updates.ServerState)."""
        toolbox = self._rooms.tools.toolbox
        return toolbox.server_states() if toolbox is not None else {}

    def tools_running(self) -> list[Turn]:
        """Tool calls running now (the status line's "working: ..." cue)."""
        return self._rooms.tools.running()

    # ---- intents -----------------------------------------------------------------------

    def answer_approval(self, ask_id: str, answer: str) -> bool:
        """y / n / always for a tool call waiting for approval; False if no longer open."""
        try:
            return self._rooms.tools.answer(ask_id, answer)
        except Exception as error:
            self._mishap(error, "an approval answer")
            return False

    def send_text(self, text: str) -> None:
        live = self._conn is not None and self.state is ConnectionState.LIVE

        def typed() -> Iterable[Effect]:
            try:
                return self._rooms.turns.type_text(text, live=live, stopped=self.stopped_by)
            except Exception as error:  # said once by the mishap; the words are kept
                self._mishap(error, "typed text")
                return self._rooms.typed.not_sent(text.strip(), "an internal error")

        self._guarded("typed text", typed)

    def interrupt(self) -> None:
        """Stop the assistant now: silence, truncate at what was heard, cancel if running
        (running tool calls too: each answers the model that it was cancelled)."""
        self._guarded(
            "the interrupt key",
            lambda: self._rooms.turns.barge_in(client_initiated=True),
            self._rooms.tools.barge_in,
        )

    def toggle_mute(self) -> None:
        self._guarded("the mute key", lambda: self._rooms.turns.toggle_mute(self.muted))

    def talk(self) -> None:
        """Manual mode: start/end a turn. VAD modes: interrupt and listen."""
        connected, now = self._conn is not None, self._clock()
        turns = self._rooms.turns
        self._guarded(
            "the talk key", lambda: turns.talk(connected=connected, muted=self.muted, now=now)
        )

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

    def _guarded(self, where: str, *steps: Intent) -> None:
        """Each step's effects are carried out before the next step runs; an exception ends
        the intent as a mishap (reported, not raised into the app)."""
        try:
            for step in steps:
                self._act(step())
        except Exception as error:
            self._mishap(error, where)

    def apply_settings(self, new: Settings) -> list[str]:
        """Apply edited settings in place where the protocol allows; returns notes to show."""
        try:
            return self._apply_settings(new)
        except RtTuiError:
            raise  # a setting that cannot work: the settings panel says which
        except Exception as error:  # saved in the file; the session goes on as it can
            self._mishap(error, "applying the settings")
            return []

    def _apply_settings(self, new: Settings) -> list[str]:
        old, self.settings = self.settings, new
        session = self._rooms.apply_settings(old, new, connected=self._conn is not None)
        if session.reconnect:
            self.reconnect()
        self._act(session.effects)
        audio = self._rooms.link.apply(old.audio, new.audio)
        if audio.restart:
            self._start_audio(restart=True)
        self._act(audio.changes)
        tools = self._tools.apply(old, new)
        notes = session.notes + audio.notes + tools
        return notes + self._rooms.ledger.raise_cap(new.session.spend_cap_usd)
