"""RtApp's keyboard control: the actions, which keys the footer offers, and the palette.

One table (`tui.widgets.keys.ACTIONS`) names the actions; this mixin runs them against the
session, feeds the user's `[keys]` to Textual with the keys that work under the current focus
first, and hides what cannot work now so the footer never offers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from tui.changes import ConnectionState
from tui.config import Settings
from tui.screens.help import HelpScreen
from tui.ui.session_port import SessionLike
from tui.widgets.inspector import EventInspector
from tui.widgets.keys import ACTIONS, RECONNECT, key_character, keymap, working_keys_first
from tui.widgets.message_box import MessageBox

# while (re)connecting, "Stop retry" means something: it is shown (and runs) only then
RETRYING = (ConnectionState.CONNECTING, ConnectionState.RECONNECTING)
ACTION_NAMES = frozenset(spec.name for spec in ACTIONS)

# The app this mixes into, for the type checker only (at run time the mixin is a plain class,
# so Textual's App stays the one base that defines the app).
if TYPE_CHECKING:
    _AppBase = App[int]
else:
    _AppBase = object


class KeyboardControl(_AppBase):
    settings: Settings
    session: SessionLike | None
    muted: bool
    _connection_state: ConnectionState
    _keymap_applied: dict[str, str]
    _inspector: EventInspector

    if TYPE_CHECKING:

        def _update_meter_state(self, level: tuple[float, float] | None = None) -> None: ...

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
        if action == RECONNECT.name:  # its keys are Stop retry's: offline, they reconnect
            return self._connection_state is ConnectionState.OFFLINE
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

    # ---- command palette -----------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in ACTIONS:
            if spec.name == "quit":
                continue  # the built-in Quit entry covers it
            if spec.name == "cancel_reconnect" and self._connection_state not in RETRYING:
                continue  # nothing to stop
            yield SystemCommand(spec.title, spec.help, getattr(self, f"action_{spec.name}"))
        yield SystemCommand(RECONNECT.title, RECONNECT.help, self.action_reconnect)
