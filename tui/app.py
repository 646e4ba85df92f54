"""RtApp: the screen people live in. Composes the widgets, owns the keys, routes session changes.

The session (UI-free) runs in an async worker on Textual's loop and calls `_on_change` with
values from `tui.changes`; this module turns them into widget updates. The level meter is
sampled by a timer from `session.input_level()`, never pushed per audio block.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerError, WorkerState

from tui import themes as theme_files
from tui.changes import (
    ApprovalAsked,
    ApprovalClosed,
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
    StatsChanged,
    ToolServersChanged,
    Turn,
    TurnFinished,
    TurnStarted,
    TurnStatus,
    TurnText,
)
from tui.config import Settings, with_value
from tui.constants import AudioMode, TurnMode
from tui.demo import DEMO_TRY
from tui.errors import ConfigError, RtTuiError
from tui.printable import printable
from tui.screens.help import HelpScreen
from tui.screens.settings import SettingsScreen, save_changes
from tui.widgets.connection_bar import ConnectionBar
from tui.widgets.conversation import ConversationLog, TimeFormat, local_clock_time
from tui.widgets.inspector import EventInspector
from tui.widgets.keys import (
    ACTIONS,
    default_bindings,
    key_character,
    key_display,
    keymap,
    working_keys_first,
)
from tui.widgets.level_meter import LevelMeter, meter_state
from tui.widgets.pane import MainScreen, Pane
from tui.widgets.status_line import StatusLine
from tui.widgets.tools_presenter import ToolsPresenter

# The level bar's sampling rate, the low end of the 20-30 Hz the design asks for: a meter
# frame costs about a millisecond of the UI thread, the largest share of it while you talk.
METER_HZ = 20
FLUSH_EVERY = 2  # transcript flush on every 2nd meter tick (10 Hz): one frame for both
STOP_TIMEOUT_S = 5.0
INPUT_MODES = tuple(mode for mode in AudioMode if mode.captures)  # those with a microphone
# while (re)connecting, "Stop retry" means something: it is shown (and runs) only then
RETRYING = (ConnectionState.CONNECTING, ConnectionState.RECONNECTING)
ACTION_NAMES = frozenset(spec.name for spec in ACTIONS)
MESSAGE_PLACEHOLDER = "Type a message: Enter sends, Escape for one-key control"


class SessionLike(Protocol):
    """What the app needs of tui.session.Session (also what test fakes implement)."""

    state: ConnectionState
    muted: bool
    inspect: bool

    async def run(self) -> None: ...
    async def stop(self) -> None: ...
    def send_text(self, text: str) -> None: ...
    def interrupt(self) -> None: ...
    def toggle_mute(self) -> None: ...
    def talk(self) -> None: ...
    def apply_settings(self, new: Settings) -> list[str]: ...
    def cancel_reconnect(self) -> None: ...
    def reconnect(self) -> None: ...
    def input_level(self) -> tuple[float, float] | None: ...


SessionFactory = Callable[..., SessionLike]


def _default_session_factory(*args: Any, **kwargs: Any) -> SessionLike:
    from tui.session import Session  # imported late: the session pulls in audio and websockets

    return Session(*args, **kwargs)


class MessageBox(Input):
    """The message input, focused from the start: whatever a newcomer types first lands here
    and Enter sends it. Escape gives the keys back to the conversation (one-key control:
    m, e, s, ?); the F-keys work in both places.

    Space-to-talk: in manual turn mode, space on an *empty* box is the talk key (a message
    never starts with a space), so push-to-talk needs no Escape first. Anywhere else space
    types a space.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave", show=False, id="leave_input"),
        # reading back while typing: the box has no use for page keys, the log does
        Binding("pageup", "scroll_log('page_up')", show=False, id="log_page_up"),
        Binding("pagedown", "scroll_log('page_down')", show=False, id="log_page_down"),
    ]

    def __init__(self, *, talk_on_space: Callable[[], bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._talk_on_space = talk_on_space

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "space" and not self.value and self._talk_on_space():
            event.stop()
            event.prevent_default()
            await self.run_action("app.talk")
            return
        await super()._on_key(event)

    def action_leave(self) -> None:
        self.app.set_focus(self.screen.query_one("#log"))

    def action_scroll_log(self, how: str) -> None:
        getattr(self.screen.query_one("#log"), f"action_{how}")()


class RtApp(App[int], inherit_bindings=False):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "rt-tui"
    BINDINGS = default_bindings()
    # The message box: the first sentence a newcomer types must be sent, not run as keys.
    AUTO_FOCUS = "#message"
    # Below 100 columns the footer needs every cell for the app's own keys, so app.tcss
    # hides the palette's "^p palette" there (ctrl+p still works; Help names it).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

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
        self._session_factory = session_factory or _default_session_factory
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

        loaded = theme_files.load_themes(
            theme_files.theme_dirs() if theme_dirs is None else theme_dirs
        )
        for theme in loaded.themes:
            self.register_theme(theme)
        self._startup_problems.extend(f"Theme skipped: {error}" for error in loaded.errors)
        self._set_theme_name(settings.ui.theme)
        self._sync_keymap()

    # ---- composition ---------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_files.variable_defaults(self.current_theme)

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        # Each widget but the (BLANK) log sits in a Pane: see tui/widgets/pane.py for why.
        with Pane():
            yield ConnectionBar(id="connection", monotonic=self._monotonic)
        yield ConversationLog(id="log", time_format=self._time_format, auto_flush=False)
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
            self._log_view.add_turn(self._demo_hint())
        for number, warning in enumerate(self._startup_warnings):
            self._log_view.add_turn(
                Turn(
                    f"rt-tui-startup-warning-{number}",
                    Role.SYSTEM,
                    f"Warning: {warning}",
                    TurnStatus.DONE,
                    started_at=self._clock(),
                )
            )
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
        self._session_worker = self.run_worker(
            self._run_session(), name="session", group="session", exit_on_error=False
        )
        self._ticks = 0
        self.set_interval(1 / METER_HZ, self._tick)

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

    def _demo_hint(self) -> Turn:
        """A newcomer's first screen is otherwise an empty log: say what to try."""
        keys = self.settings.keys
        help_key = key_display(keys.keys_for("help")[-1])
        text = (
            "Demo: a built-in local server stands in for the Realtime API (no key; nothing "
            "leaves this machine). Speak and it plays your own voice back; type a message "
            'and Enter, and it answers "You said: ...". Tools: type '
            f"{DEMO_TRY} and Enter to see a tool call, its approval (y / n / a) and the "
            "result. Escape leaves the message box for "
            f"one-key control; {help_key} lists every key."
        )
        return Turn(
            "rt-tui-demo-hint", Role.SYSTEM, text, TurnStatus.DONE, started_at=self._clock()
        )

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
            case TurnStarted(turn=turn):
                if not turn.started_at:
                    turn.started_at = self._clock()
                self._log_view.add_turn(turn)
            case TurnText(turn=turn):
                self._log_view.turn_changed(turn)
            case TurnFinished(turn=turn):
                self._log_view.turn_finished(turn)
            case SpeechChanged():
                self.user_speaking = change.user_speaking
                self.assistant_audible = change.assistant_audible
                self._update_meter_state()
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
                self._status.update_text()
                self._update_meter_state()
            case Notice():
                self.notify(change.text, severity=change.level, markup=False)
            case EventLogged():
                self._inspector.log_event(change.direction, change.event)
            case ApprovalAsked() | ApprovalClosed() | ToolServersChanged():
                self.tools_ui.on_change(change)

    def _tools_presenter(self, session: Any) -> ToolsPresenter:
        """Approvals, the "working" cue and the servers' states (tui.widgets.tools_presenter);
        a stand-in session without tools gets a presenter with nothing to show."""
        return ToolsPresenter(
            self,
            answer=getattr(session, "answer_approval", lambda ask_id, how: False),
            running=getattr(session, "tools_running", list),
            audible=lambda: self.assistant_audible,
            monotonic=self._monotonic,
        )

    def _tick(self) -> None:
        """Sample the meter and, every FLUSH_EVERY ticks, flush transcript deltas.

        Both happen in one timer callback so they cost one screen update, not two.
        """
        self._ticks += 1
        with self.batch_update():
            if self._ticks % FLUSH_EVERY == 0:
                self._log_view.flush()
            if self.session is not None:
                level = self.session.input_level()
                self._meter.sample(level)
                self._update_meter_state(level)

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

    # ---- keys and footer -----------------------------------------------------------

    def _set_connection_state(self, state: ConnectionState) -> None:
        if state is not self._connection_state:
            self._connection_state = state
            self.refresh_bindings()  # the footer shows "Stop retry" only while retrying

    def _consumes(self, key: str) -> bool:
        """True when the focused widget (the message box, a settings field) types `key`."""
        focused = self.screen.focused if self.screen_stack else None
        return focused is not None and focused.check_consume_key(key, key_character(key))

    def _sync_keymap(self) -> None:
        """Feed `[keys]` to Textual, the keys that work with the current focus first.

        The footer names the first key of each action, so while the message box has focus
        it shows F2 Mute rather than m (which would be typed). Only the order changes.
        """
        if not self.screen_stack:
            return  # shutting down: the focused box blurs after the last screen has gone
        keys = {
            name: working_keys_first(value, self._consumes)
            for name, value in keymap(self.settings.keys).items()
        }
        if keys != self._keymap_applied:
            self._keymap_applied = keys
            self.set_keymap(keys)

    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        self._sync_keymap()

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self._sync_keymap()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide (and skip) what cannot work now, so the footer never offers it."""
        if action == "cancel_reconnect":
            return self._connection_state in RETRYING
        if action in ACTION_NAMES:
            keys = self.settings.keys.keys_for(action)
            # every key of it would be typed into the focused input: no use showing it
            if keys and all(self._consumes(key) for key in keys):
                return False
        return True

    # ---- actions -------------------------------------------------------------------

    def action_mute(self) -> None:
        if self.session is None:
            return
        self.session.toggle_mute()
        # The session also reports MuteChanged; reading it back keeps the bar right at once.
        self.muted = self.session.muted
        self._update_meter_state()

    def action_interrupt(self) -> None:
        if self.session is not None:
            self.session.interrupt()

    def action_talk(self) -> None:
        if self.session is not None:
            self.session.talk()

    def action_focus_input(self) -> None:
        # set_focus now, not focus() (deferred with call_later): keys typed right after '/'
        # are already queued, and must reach the box rather than run as bindings
        if len(self.screen_stack) > 1:
            return  # a priority binding also fires over the settings or help screen
        self.screen.set_focus(self.query_one("#message", MessageBox))

    def action_events(self) -> None:
        shown = not self._inspector.display
        self._inspector.display = shown
        if self.session is not None:
            self.session.inspect = shown

    def action_help(self) -> None:
        self.push_screen(HelpScreen(keymap(self.settings.keys)))

    def action_cancel_reconnect(self) -> None:
        if self.session is not None:
            self.session.cancel_reconnect()

    def action_reconnect(self) -> None:
        if self.session is not None:
            self.session.reconnect()

    def action_settings(self) -> None:
        if isinstance(self.screen, SettingsScreen):
            return
        self._previewing_theme = True
        self.push_screen(
            SettingsScreen(
                self.settings,
                config_path=self.config_path,
                **({"list_devices": self._list_devices} if self._list_devices else {}),
            ),
            self._settings_closed,
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

    # ---- settings and themes -------------------------------------------------------

    def _settings_closed(self, saved: Settings | None) -> None:
        self._previewing_theme = False
        if saved is None:
            self._set_theme_name(self.settings.ui.theme)  # undo the preview
            return
        self.apply_settings(saved)

    def apply_settings(self, new: Settings) -> None:
        """Use settings the panel saved: keys, theme, inspector, cap, then the session."""
        self.settings = new
        self._sync_keymap()
        self._set_theme_name(new.ui.theme)
        self._status.spend_cap_usd = new.session.spend_cap_usd
        self._status.update_text()
        if self.session is None:
            return
        try:
            notes = self.session.apply_settings(new)
        except RtTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        for note in notes:
            self.notify(note, markup=False, timeout=8)

    def _set_theme_name(self, name: str) -> None:
        if name == self.theme:
            return
        if self.get_theme(name) is None:
            self._startup_problems.append(f"Unknown theme {name!r}: using {self.theme}")
            if self._ui_ready:
                self.notify(self._startup_problems[-1], severity="warning", markup=False)
            return
        self.theme = name

    def _theme_changed(self, theme: Theme) -> None:
        """Persist a theme chosen anywhere (palette, panel) except the panel's live preview."""
        if self._previewing_theme or theme.name == self.settings.ui.theme:
            return
        try:
            self.settings = with_value(self.settings, "ui.theme", theme.name)
        except ConfigError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.run_worker(self._save_theme(theme.name), group="save", exit_on_error=False)

    async def _save_theme(self, name: str) -> None:
        try:
            await asyncio.to_thread(save_changes, self.config_path, {"ui.theme": name})
        except (ConfigError, OSError) as exc:
            self.notify(f"Settings not saved: {exc}", severity="error", markup=False)

    # ---- command palette -----------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in ACTIONS:
            if spec.name == "quit":
                continue  # the built-in Quit entry covers it
            if spec.name == "cancel_reconnect" and self._connection_state not in RETRYING:
                continue  # nothing to stop
            yield SystemCommand(spec.title, spec.help, getattr(self, f"action_{spec.name}"))
        yield SystemCommand("Reconnect", "Open a fresh connection now", self.action_reconnect)
