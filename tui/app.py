"""RtApp: the screen people live in. Composes the widgets, owns the keys, routes session changes.

The session (UI-free) runs in an async worker on Textual's loop and calls `_on_change` with
values from `tui.changes`; this module turns them into widget updates. The level meter is
sampled on the capture path (`LevelSampled`, about 20 a second while the mic streams) and
repaints only when what it draws changes; transcript deltas are flushed by the log itself.
No timer of the app's runs while nothing changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerError, WorkerState

from tui.changes import (
    ApprovalAsked,
    ApprovalClosed,
    AudioModeChanged,
    Change,
    ConnectionChanged,
    ConnectionState,
    EventLogged,
    HistoryFailing,
    LevelSampled,
    MuteChanged,
    Notice,
    SessionInfo,
    SpeechChanged,
    StatsChanged,
    ToolServersChanged,
    Turn,
    TurnFinished,
    TurnStarted,
    TurnText,
)
from tui.config import Settings
from tui.constants import AudioMode, TurnMode
from tui.printable import printable
from tui.ui.first_turns import demo_hint, warning_turns
from tui.ui.keyboard import KeyboardControl
from tui.ui.session_port import SessionFactory, SessionLike, default_session_factory
from tui.ui.settings_flow import SettingsFlow
from tui.ui.tools_presenter import ToolsPresenter
from tui.widgets.connection_bar import ConnectionBar
from tui.widgets.conversation import ConversationLog, TimeFormat, local_clock_time
from tui.widgets.inspector import EventInspector
from tui.widgets.keys import (
    default_bindings,
)
from tui.widgets.level_meter import LevelMeter, meter_state
from tui.widgets.message_box import MESSAGE_PLACEHOLDER, MessageBox
from tui.widgets.pane import MainScreen, Pane
from tui.widgets.status_line import StatusLine

STOP_TIMEOUT_S = 5.0
INPUT_MODES = tuple(mode for mode in AudioMode if mode.captures)  # those with a microphone


class RtApp(KeyboardControl, SettingsFlow, App[int], inherit_bindings=False):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "rt-tui"
    BINDINGS: ClassVar[list[BindingType]] = list(default_bindings())
    # The message box: the first sentence a newcomer types must be sent, not run as keys.
    AUTO_FOCUS = "#message"
    # Below 100 columns the footer needs every cell for the app's own keys, so app.tcss
    # hides the palette's "^p palette" there (ctrl+p still works; Help names it).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (Textual types it)

    muted: var[bool] = var(False)
    user_speaking: var[bool] = var(False)
    assistant_audible: var[bool] = var(False)
    audio_mode: var[str] = var("")

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | str,
        api_key: str | None = None,
        session_factory: SessionFactory | None = None,
        audio_enabled: bool = True,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        time_format: TimeFormat = local_clock_time,
        theme_dirs: Iterable[Path] | None = None,
        replay: Iterable[Turn] = (),
        history: Any = None,
        history_off: str = "",
        list_devices: Callable[[], Sequence[Any]] | None = None,
        demo: bool = False,
        startup_warnings: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.settings = settings
        self.config_path = Path(config_path)
        self._api_key = api_key
        self._session_factory = session_factory or default_session_factory
        self._audio_enabled = audio_enabled
        self._clock = clock
        self._monotonic = monotonic
        self._time_format = time_format
        self._replay = list(replay)
        self._history = history
        self._history_off = history_off  # why no transcript is written (shown all session)
        self._list_devices = list_devices  # None: the settings panel asks tui.audio.devices
        self._demo = demo  # --demo: the log opens with what the built-in server does
        # printed on stderr before the screen opened, which then hid them: kept in the log
        self._startup_warnings = tuple(startup_warnings)
        self.session: SessionLike | None = None
        self._session_worker: Worker[None] | None = None
        self._startup_problems: list[str] = []
        self._previewing_theme = False  # the settings panel previews themes without saving
        self._ui_ready = False
        self._connection_state = ConnectionState.CONNECTING
        self._keymap_applied: dict[str, str] = {}

        self._load_themes(theme_dirs)
        self._set_theme_name(settings.ui.theme)
        self._sync_keymap()

    # ---- composition ---------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        # Each widget but the (BLANK) log sits in a Pane: see tui/widgets/pane.py for why.
        with Pane():
            yield ConnectionBar(id="connection", monotonic=self._monotonic)
        yield ConversationLog(id="log", time_format=self._time_format)
        with Pane():
            yield EventInspector(id="inspector")
        with Pane():
            yield LevelMeter(id="meter", monotonic=self._monotonic)
        with Pane():
            yield MessageBox(
                placeholder=MESSAGE_PLACEHOLDER, id="message", talk_on_space=self._manual_turns
            )
        with Pane():
            yield StatusLine(id="status", monotonic=self._monotonic)
        with Pane(id="footer-pane"):
            yield Footer(compact=True)

    @property
    def conversation_log(self) -> ConversationLog:
        return self.query_one("#log", ConversationLog)

    @property
    def inspector(self) -> EventInspector:
        return self.query_one("#inspector", EventInspector)

    @property
    def meter(self) -> LevelMeter:
        return self.query_one("#meter", LevelMeter)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def connection_bar(self) -> ConnectionBar:
        return self.query_one("#connection", ConnectionBar)

    def on_mount(self) -> None:
        self._log_view, self._meter = self.conversation_log, self.meter
        self._status, self._bar, self._inspector = (
            self.status_line,
            self.connection_bar,
            self.inspector,
        )
        self._inspector.display = self.settings.ui.show_events
        self._status.spend_cap_usd = self.settings.session.spend_cap_usd
        self._status.history_off = self._history_off
        self._status.free = self._demo
        self._status.update_text()
        self._ui_ready = True
        if self._demo:
            self._log_view.add_turn(demo_hint(self.settings.keys, self._clock()))
        for turn in warning_turns(self._startup_warnings, self._clock()):
            self._log_view.add_turn(turn)
        for problem in self._startup_problems:
            self.notify(problem, severity="warning", markup=False, timeout=10)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.session = self._session_factory(
            self.settings,
            api_key=self._api_key,
            listener=self._on_change,
            audio_enabled=self._audio_enabled,
            history=self._history,
            **({"replay": self._replay} if self._replay else {}),
        )
        self.session.inspect = self.settings.ui.show_events
        self._status.erle_source = getattr(self.session, "echo_erle_db", None)
        self.tools_ui = self._tools_presenter(self.session)
        self._status.working_source = self.tools_ui.working
        self._status.server_note_source = self.tools_ui.server_note
        self._session_worker = self.run_worker(
            self._run_session(), name="session", group="session", exit_on_error=False
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast (the session's notices, errors, the screens' own) may hold outside
        text: made printable at this one door, no message can drive the terminal."""
        super().notify(
            printable(message),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def _manual_turns(self) -> bool:
        return self.settings.session.turn_detection.mode == TurnMode.MANUAL

    async def _run_session(self) -> None:
        assert self.session is not None
        await self.session.run()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "session" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"The session stopped: {error}", severity="error", markup=False)

    # ---- session changes -----------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        """The session's listener: runs on Textual's loop, so widgets may be touched directly."""
        if not self._ui_ready:
            return
        match change:
            case LevelSampled(level=level):  # the most frequent change: first
                self._meter.sample(level)
                if not self.audio_mode:  # before the first audio status: the level says
                    self._update_meter_state(level)
            case TurnStarted(turn=turn):
                if not turn.started_at:
                    turn.started_at = self._clock()
                self._log_view.add_turn(turn)
                if turn.tool is not None:  # the "working" cue may start
                    self._status.update_text()
            case TurnText(turn=turn):
                self._log_view.turn_changed(turn)
                if turn.tool is not None:
                    self._status.update_text()
            case TurnFinished(turn=turn):
                self._log_view.turn_finished(turn)
                if turn.tool is not None:  # and stop
                    self._status.update_text()
            case SpeechChanged():
                self.user_speaking = change.user_speaking
                self.assistant_audible = change.assistant_audible
                self._update_meter_state()
                self._status.update_text()  # the "working" cue shows only in silence
            case ConnectionChanged():
                self._bar.set_connection(change)
                self._set_connection_state(change.state)
            case SessionInfo():
                self._bar.set_info(change)
            case StatsChanged(stats=stats):
                self._status.stats = stats
                self._status.update_text()
            case MuteChanged():
                self.muted = change.muted
                self._status.mute_reason = change.reason if change.muted else ""
                self._status.update_text()
                self._update_meter_state()
            case AudioModeChanged():
                self.audio_mode = change.mode
                self._status.audio_message = change.message
                for detail in change.details:  # kept whether the inspector is shown or not
                    self._inspector.log_event("local", {"type": "audio.device", "error": detail})
                self._status.update_text()
                self._update_meter_state()
                if change.mode not in INPUT_MODES:  # no more samples: the bar goes empty
                    self._meter.sample(None)
            case Notice():
                self.notify(change.text, severity=change.level, markup=False)
            case HistoryFailing():
                self._status.unsaved_turns = change.unsaved
                self._status.unsaved_reason = change.reason
                self._status.update_text()
            case EventLogged():
                self._inspector.log_event(change.direction, change.event)
            case ApprovalAsked() | ApprovalClosed():
                self.tools_ui.on_change(change)
            case ToolServersChanged():
                self.tools_ui.on_change(change)
                self._status.update_text()  # the change shows at once, not at the next second

    def _tools_presenter(self, session: Any) -> ToolsPresenter:
        """Approvals, the "working" cue and the servers' states (tui.ui.tools_presenter);
        a stand-in session without tools gets a presenter with nothing to show."""
        return ToolsPresenter(
            self,
            answer=getattr(session, "answer_approval", lambda ask_id, how: False),
            running=getattr(session, "tools_running", list),
            audible=lambda: self.assistant_audible,
            monotonic=self._monotonic,
        )

    def _update_meter_state(self, level: tuple[float, float] | None = None) -> None:
        if self.audio_mode:
            has_input = self.audio_mode in INPUT_MODES
        elif level is not None:
            has_input = True
        else:
            has_input = self.session is not None and self.session.input_level() is not None
        self._meter.state = meter_state(
            has_input=has_input,
            muted=self.muted,
            user_speaking=self.user_speaking,
            assistant_audible=self.assistant_audible,
        )

    async def action_quit(self) -> None:
        await self.stop_session()
        self.exit(0)

    async def on_unmount(self) -> None:
        # Any way out (quit key, palette, ctrl+c in a terminal) closes the connection cleanly.
        await self.stop_session()

    async def stop_session(self) -> None:
        if self.session is None:
            return
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self.session.stop()
                # run() closes the connection and audio in its own finally: let it finish.
                if self._session_worker is not None and not self._session_worker.is_finished:
                    await self._session_worker.wait()
        except WorkerError:
            pass  # already reported by on_worker_state_changed
        except TimeoutError:
            self.log.warning("session did not stop in time")

    @on(Input.Submitted, "#message")
    def _send_message(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.session is None:
            return
        self.session.send_text(text)
        event.input.value = ""
