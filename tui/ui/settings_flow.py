"""RtApp's settings and themes: the panel, applying what it saved, and the theme in use.

A theme chosen anywhere (the palette, the panel) is saved at once; the panel previews themes
live without saving, and closing it without saving puts the old theme back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.theme import Theme

from tui.config import Settings, save_changes, with_value
from tui.errors import ConfigError, RtTuiError
from tui.ui import themes as theme_files
from tui.ui.session_port import SessionLike
from tui.ui.tools_presenter import ToolsPresenter
from tui.widgets.status_line import StatusLine

if TYPE_CHECKING:  # see tui.ui.keyboard
    _AppBase = App[int]
else:
    _AppBase = object


class SettingsFlow(_AppBase):
    settings: Settings
    config_path: Path
    session: SessionLike | None
    _list_devices: Callable[[], Sequence[Any]] | None
    _status: StatusLine
    _ui_ready: bool
    _previewing_theme: bool
    _startup_problems: list[str]
    _monotonic: Callable[[], float]
    _demo: bool
    tools_ui: ToolsPresenter

    if TYPE_CHECKING:

        def _sync_keymap(self) -> None: ...

    def _load_themes(self, dirs: Iterable[Path] | None) -> None:
        """Register the packaged and the user's themes; a bad file is a startup problem."""
        loaded = theme_files.load_themes(theme_files.theme_dirs() if dirs is None else dirs)
        for theme in loaded.themes:
            self.register_theme(theme)
        self._startup_problems.extend(f"Theme skipped: {error}" for error in loaded.errors)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_files.variable_defaults(self.current_theme)

    def action_settings(self) -> None:
        # imported when first opened: the panel and its widgets (tabs, selects, the Tools
        # tab) are 2 MiB of memory and a tenth of a second of start-up nobody waits for
        from tui.screens.settings import SettingsScreen
        from tui.screens.settings_parts import default_devices

        if isinstance(self.screen, SettingsScreen):
            return
        self._previewing_theme = True
        screen = SettingsScreen(
            self.settings,
            config_path=self.config_path,
            tool_states=self.tools_ui.seen,  # live: the Tools tab hears servers_changed
            tools_changed=self.tools_ui.servers_changed,
            monotonic=self._monotonic,
            # --demo runs its own tools instead of the file's: saving them would replace them
            save_tools=not self._demo,
            # none given: the panel asks tui.audio.devices itself
            list_devices=self._list_devices or default_devices,
        )
        self.push_screen(screen, self._settings_closed)

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
