"""The settings panel, generated from tui.config.SCHEMA so no field is wired twice.

One tab per schema section, and a Tools tab for the whole [tools] table (tui.screens.
tools_tab, with the servers' live states). Values are parsed with `tui.config.parse_value` as
they are typed (errors show under the field) and again on ctrl+s; only a fully valid form is
saved and returned to the app, which applies it to the running session. Saving (off the UI
loop) writes only the keys changed here over what the file holds now
(`tui.config.save_changes`). What a field shows and when it applies come from its FieldSpec
(`applies_when`, `device`, `kind`). Values from the file are drawn inert (settings_parts); the
field with focus is marked `▶` (tui.screens.field_label), which a plain capture shows too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.widget import Widget
from textual.widgets import Input, Select, Static, Switch, TabbedContent, TabPane, TextArea

from tui.config import (
    SCHEMA,
    SECTIONS,
    FieldSpec,
    Settings,
    detail_of,
    field,
    get_value,
    parse_value,
    safe_url,
    save_changes,
    with_value,
)
from tui.errors import ConfigError
from tui.printable import one_line, printable
from tui.screens.field_editors import field_editors
from tui.screens.field_label import FieldLabel, mark_focused_row
from tui.screens.settings_parts import (
    CONTROL_NOTE,
    THEME_PATH,
    URL_MASKED_NOTE,
    DeviceLister,
    changed_paths,
    check_typed,
    choice_lines,
    default_devices,
    field_help,
    shown_text,
    slug,
    suggest_width,
)
from tui.screens.tools_tab import ServerStates, ToolsTab

__all__ = ["SettingsScreen", "field_help", "slug", "suggest_width"]
TOOLS = "tools"  # the whole [tools] table, edited in its own tab
TOOLS_NOT_SAVED = (
    "Demo: the tool changes apply to this session only; your config file's [tools] is kept."
)


class SettingsScreen(ModalScreen[Settings | None]):
    CSS_PATH = Path(__file__).with_name("settings.tcss")
    # The app's AUTO_FOCUS (#log) does not exist here: start on the tab strip, so left and
    # right switch sections and tab walks into the fields at once.
    AUTO_FOCUS = "#settings-tabs Tabs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="settings_save", priority=True),
        Binding("escape", "cancel", "Close without saving", id="settings_cancel"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | str,
        list_devices: DeviceLister = default_devices,
        theme_names: Sequence[str] | None = None,
        tool_states: ServerStates = dict,
        tools_changed: Signal[Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        save_tools: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.config_path = Path(config_path)
        self._list_devices = list_devices
        self._theme_names = theme_names
        self._tool_states = tool_states
        self._tools_changed = tools_changed
        self._monotonic = monotonic
        self._save_tools = save_tools  # False: --demo's tools, which are not the file's
        self.errors: dict[str, str] = {}
        self._shown: dict[str, str] = {}  # path -> the text its field showed (see _read)
        self._altered: set[str] = set()  # fields whose file value held control characters
        self._marked: Widget | None = None  # the row marked as holding the focus

    # ---- building the form ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        devices = self._list_devices()
        with Vertical(id="settings-dialog"):
            yield Static(
                Content.from_markup(
                    "[b]Settings[/]  [$text-muted]$path[/]", path=one_line(str(self.config_path))
                ),
                id="settings-title",
            )
            # the scroll containers take no Tab stop: Tab from the strip goes to the first field
            with TabbedContent(id="settings-tabs"):
                for title, specs in SECTIONS:
                    with TabPane(title, id=f"tab-{slug(title)}"), VerticalScroll(can_focus=False):
                        for spec in specs:
                            yield self._row(spec, devices)
                with TabPane("Tools", id="tab-Tools"), VerticalScroll(can_focus=False):
                    yield ToolsTab(
                        self.settings.tools,
                        states=self._tool_states,
                        changed=self._tools_changed,
                        monotonic=self._monotonic,
                        id="tools-tab",
                    )
            yield Static(
                Content.from_markup(
                    "[$accent b]ctrl+s[/] save and apply   [$accent b]escape[/] close without "
                    "saving   [$text-muted]values are checked as you type[/]"
                ),
                id="settings-hint",
            )

    def _row(self, spec: FieldSpec, devices: Sequence[Any]) -> Widget:
        row = Vertical(
            FieldLabel(spec.key.replace("_", " ")),
            *self._editors(spec, devices),
            Static(self._help(spec), classes="field-help", markup=False),
            *self._choice_help(spec),
            Static("", id=f"e-{slug(spec.path)}", classes="field-error", markup=False),
            id=f"row-{slug(spec.path)}",
            classes="field",
        )
        row.display = spec.applies(lambda path: get_value(self.settings, path))
        return row

    def _help(self, spec: FieldSpec) -> str:
        value = get_value(self.settings, spec.path)
        notes = [field_help(spec)]
        if spec.kind == "url" and safe_url(value) != value:
            notes.append(URL_MASKED_NOTE)
        if self._has_controls(spec):
            notes.append(CONTROL_NOTE)
        return "  ".join(notes)

    def _has_controls(self, spec: FieldSpec) -> bool:
        """Whether the field shows the file's value altered to be inert (see _show)."""
        return spec.path in self._altered

    def _show(self, spec: FieldSpec, text: str, *, multiline: bool = False) -> str:
        """The inert text a field shows; remembered, so an untouched field keeps the value.
        (Called while the row is built, before its help line asks _has_controls.)"""
        self._shown[spec.path] = shown = shown_text(text, multiline=multiline)
        if shown != text:
            self._altered.add(spec.path)
        return shown

    def _choice_help(self, spec: FieldSpec) -> Iterator[Widget]:
        if spec.choice_help:
            selected = get_value(self.settings, spec.path)
            yield Static(
                choice_lines(spec, selected), id=f"c-{slug(spec.path)}", classes="choice-help"
            )

    def _editors(self, spec: FieldSpec, devices: Sequence[Any]) -> Iterator[Widget]:
        return field_editors(
            spec,
            get_value(self.settings, spec.path),
            show=lambda spec, text, multiline: self._show(spec, text, multiline=multiline),
            theme_names=self._theme_names or list(self.app.available_themes),
            devices=devices,
        )

    def on_mount(self) -> None:
        self.watch(self, "focused", self._focus_moved)

    def _focus_moved(self, focused: Widget | None) -> None:
        self._marked = mark_focused_row(self._marked, focused)

    # ---- reading the form ----------------------------------------------------------

    def _read(self, spec: FieldSpec) -> Any:
        """The typed value of one field; raises ConfigError when the text is invalid."""
        widget = self.query_one(f"#f-{slug(spec.path)}")
        if isinstance(widget, Switch):
            return widget.value
        if isinstance(widget, Select):
            return widget.value
        current = get_value(self.settings, spec.path)
        if isinstance(widget, TextArea):
            typed = widget.text
        else:
            assert isinstance(widget, Input)
            typed = widget.value
            if spec.secret and not typed:
                return current
        if typed == self._shown.get(spec.path):
            # not edited: the file's own value, even where the field showed it masked (a URL
            # with a key) or inert (control characters)
            return current
        check_typed(spec.path, typed, had_controls=self._has_controls(spec))
        return parse_value(spec.path, typed)

    def collect(self) -> Settings | None:
        """Settings from the whole form, or None after marking every invalid field."""
        result = self.settings
        self.errors.clear()
        for spec in SCHEMA:
            try:
                value = self._read(spec)
                if value != get_value(result, spec.path):
                    result = with_value(result, spec.path, value)
            except ConfigError as error:
                self.errors[spec.path] = detail_of(error)
        tools = self.query_one(ToolsTab).value()
        try:
            if tools != result.tools:
                result = with_value(result, TOOLS, tools)
        except ConfigError as error:
            self.errors[TOOLS] = detail_of(error)
        for path in [*(spec.path for spec in SCHEMA), TOOLS]:
            self._show_error(path, self.errors.get(path, ""))
        return None if self.errors else result

    def _show_error(self, path: str, text: str) -> None:
        label = self.query_one(f"#e-{slug(path)}", Static)
        label.update(printable(text))  # a message may quote what was typed
        label.set_class(bool(text), "-shown")

    # ---- live feedback -------------------------------------------------------------

    @on(Input.Changed)
    def _check_input(self, event: Input.Changed) -> None:
        spec = self._spec_of(event.input.id)
        if spec is None or (spec.secret and not event.value):
            return
        if event.value == self._shown.get(spec.path):
            self._show_error(spec.path, "")  # back to the file's value
            return
        try:
            check_typed(spec.path, event.value, had_controls=self._has_controls(spec))
            parse_value(spec.path, event.value)
        except ConfigError as error:
            self._show_error(spec.path, detail_of(error))
        else:
            self._show_error(spec.path, "")

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        select_id = event.select.id or ""
        if select_id.startswith("s-") and event.value is not Select.NULL:
            free = self.query_one(f"#f-{select_id[2:]}", Input)
            free.value = str(event.value)
            return
        spec = self._spec_of(select_id)
        if spec is None:
            return
        if spec.choice_help:
            self.query_one(f"#c-{slug(spec.path)}", Static).update(choice_lines(spec, event.value))
        for other in SCHEMA:
            if other.applies_when is not None and other.applies_when[0] == spec.path:
                shown = other.applies(lambda _path: event.value)
                self.query_one(f"#row-{slug(other.path)}").display = shown
        # live preview (the app undoes it on escape); a theme the file names that no longer
        # exists stays selected but cannot be previewed
        theme = event.value if spec.path == THEME_PATH else None
        if isinstance(theme, str) and self.app.get_theme(theme) is not None:
            self.app.theme = theme

    def _spec_of(self, widget_id: str | None) -> FieldSpec | None:
        if not widget_id or not widget_id.startswith("f-"):
            return None
        for spec in SCHEMA:
            if f"f-{slug(spec.path)}" == widget_id:
                return spec
        return None

    # ---- actions -------------------------------------------------------------------

    async def action_save(self) -> None:
        new = self.collect()
        if new is None:
            first = next(iter(self.errors))
            self.notify(
                f"Not saved: {len(self.errors)} invalid value(s), first {first}",
                severity="error",
                markup=False,
            )
            self._reveal(first)
            return
        changes = {path: get_value(new, path) for path in changed_paths(self.settings, new)}
        if new.tools != self.settings.tools and self._save_tools:
            changes[TOOLS] = new.tools  # written whole; the rest of the file keeps its comments
        elif new.tools != self.settings.tools:
            self.notify(TOOLS_NOT_SAVED, markup=False, timeout=8)
        try:
            await asyncio.to_thread(save_changes, self.config_path, changes)
        except (ConfigError, OSError) as error:
            self.notify(f"Not saved: {error}", severity="error", markup=False)
            return
        self.notify(f"Saved to {self.config_path}", markup=False)
        await self.query_one(ToolsTab).settled()
        self.dismiss(new)

    def _reveal(self, path: str) -> None:
        if path == TOOLS:
            self.query_one(TabbedContent).active = "tab-Tools"
            self.query_one(ToolsTab).first_field().focus()
            return
        self.query_one(TabbedContent).active = f"tab-{slug(field(path).section)}"
        self.query_one(f"#f-{slug(path)}").focus()

    async def action_cancel(self) -> None:
        await self.query_one(ToolsTab).settled()
        self.dismiss(None)
