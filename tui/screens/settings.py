"""The settings panel, generated from tui.config.SCHEMA so no field is wired twice.

One tab per schema section. Values are parsed with `tui.config.parse_value` as they are typed
(errors show under the field) and again on ctrl+s; only a fully valid form is saved and
returned to the app, which applies it to the running session. Saving (off the UI loop) writes
only the keys changed here over what the file holds now (`tui.config.save_changes`). What a
field shows and when it applies come from its FieldSpec (`applies_when`, `device`, `kind`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch, TabbedContent, TabPane, TextArea

from tui.config import (
    SCHEMA,
    SECTIONS,
    FieldSpec,
    Settings,
    detail_of,
    field,
    format_value,
    get_value,
    parse_value,
    safe_url,
    save_changes,
    with_value,
)
from tui.errors import AudioError, ConfigError
from tui.printable import one_line

DeviceLister = Callable[[], Sequence[Any]]

# A compact Select draws its label plus about three cells of arrow and padding.
SELECT_CHROME = 4
SUGGEST_MIN_WIDTH = 14
SUGGEST_MAX_WIDTH = 44  # the free-text input beside it keeps the rest of the row

THEME_PATH = "ui.theme"
URL_MASKED_NOTE = "Parts that may be secret show as ***: editing replaces the whole URL."


def slug(path: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "-", path)


def _default_devices() -> Sequence[Any]:
    try:
        from tui.audio.devices import list_devices

        return list_devices()
    except (AudioError, OSError, ImportError):
        return []  # no PortAudio or no devices: the field stays free text


def _device_options(devices: Sequence[Any], kind: str) -> list[tuple[str | Content, str]]:
    options: list[tuple[str | Content, str]] = [("system default", "")]
    for device in devices:
        channels = getattr(device, f"max_{kind}_channels", 0)
        name = getattr(device, "name", "")
        if channels and name:
            # a device name is outside text: drawn inert (controls shown, no markup)
            options.append((Content(one_line(name)), name))
    return options


def suggest_width(labels: Sequence[str | Content]) -> int:
    """Cells for a suggestion Select: its longest option whole, within limits."""
    longest = max((len(label) for label in labels), default=0)
    return max(SUGGEST_MIN_WIDTH, min(SUGGEST_MAX_WIDTH, longest + SELECT_CHROME))


def field_help(spec: FieldSpec) -> str:
    """The line under a field: its help, and for a number the range it accepts."""
    if spec.type not in (int, float) or spec.choices:
        return spec.help
    allowed = spec.range_text()
    return f"{spec.help}  Range {allowed}." if allowed else spec.help


def choice_lines(spec: FieldSpec, selected: object) -> Content:
    """One line per choice on when to use it, the selected one marked."""
    pad = max(len(choice) for choice, _ in spec.choice_help) + 2
    rows = []
    for choice, text in spec.choice_help:
        if choice == selected:
            markup = "[$accent b]▸ $choice[/]$pad$text"
        else:
            markup = "[$text-muted]  $choice$pad$text[/]"
        rows.append(
            Content.from_markup(markup, choice=choice, pad=" " * (pad - len(choice)), text=text)
        )
    return Content("\n").join(rows)


def changed_paths(old: Settings, new: Settings) -> list[str]:
    return [spec.path for spec in SCHEMA if get_value(old, spec.path) != get_value(new, spec.path)]


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
        list_devices: DeviceLister = _default_devices,
        theme_names: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.config_path = Path(config_path)
        self._list_devices = list_devices
        self._theme_names = theme_names
        self.errors: dict[str, str] = {}

    # ---- building the form ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        devices = self._list_devices()
        with Vertical(id="settings-dialog"):
            yield Static(
                Content.from_markup(
                    "[b]Settings[/]  [$text-muted]$path[/]", path=str(self.config_path)
                ),
                id="settings-title",
            )
            with TabbedContent(id="settings-tabs"):
                for title, specs in SECTIONS:
                    with TabPane(title, id=f"tab-{slug(title)}"), VerticalScroll():
                        for spec in specs:
                            yield self._row(spec, devices)
            yield Static(
                Content.from_markup(
                    "[$accent b]ctrl+s[/] save and apply   [$accent b]escape[/] close without "
                    "saving   [$text-muted]values are checked as you type[/]"
                ),
                id="settings-hint",
            )

    def _row(self, spec: FieldSpec, devices: Sequence[Any]) -> Widget:
        row = Vertical(
            Label(Content.from_markup("[b]$name[/]", name=spec.key.replace("_", " "))),
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
        if spec.kind == "url" and safe_url(value) != value:
            return f"{field_help(spec)}  {URL_MASKED_NOTE}"
        return field_help(spec)

    def _choice_help(self, spec: FieldSpec) -> Iterator[Widget]:
        if spec.choice_help:
            selected = get_value(self.settings, spec.path)
            yield Static(
                choice_lines(spec, selected), id=f"c-{slug(spec.path)}", classes="choice-help"
            )

    def _editors(self, spec: FieldSpec, devices: Sequence[Any]) -> Iterator[Widget]:
        wid = f"f-{slug(spec.path)}"
        value = get_value(self.settings, spec.path)
        if spec.secret:
            # The stored key is never put on screen: typing replaces it, empty keeps it.
            yield Input(
                "",
                placeholder="hidden; type a new key to replace it",
                password=True,
                compact=True,
                id=wid,
            )
        elif spec.type is bool:
            yield Switch(bool(value), animate=False, id=wid)
        elif spec.choices:
            yield Select(
                [(c, c) for c in spec.choices], value=value, allow_blank=False, compact=True, id=wid
            )
        elif spec.path == THEME_PATH:
            names = sorted(self._theme_names or self.app.available_themes)
            if value not in names:
                names.insert(0, value)
            yield Select(
                [(n, n) for n in names], value=value, allow_blank=False, compact=True, id=wid
            )
        elif spec.kind == "multiline":
            yield TextArea(str(value), id=wid, soft_wrap=True, show_line_numbers=False)
        elif spec.suggestions or spec.device:
            if spec.device:
                options = _device_options(devices, spec.device)
            else:
                options = [(s, s) for s in spec.suggestions]
            known = {v for _, v in options}
            select: Select[str] = Select(
                options,
                value=value if value in known else Select.NULL,
                allow_blank=True,
                prompt="choose…",
                compact=True,
                id=f"s-{slug(spec.path)}",
                classes="suggest",
            )
            # wide enough for its longest option (a fixed 24 cut model names mid-word)
            select.styles.width = suggest_width([label for label, _ in options])
            yield Horizontal(
                select,
                Input(format_value(spec.path, value), id=wid, classes="free", compact=True),
                classes="suggest-row",
            )
        elif spec.type in (int, float):
            yield Input(
                format_value(spec.path, value),
                type="integer" if spec.type is int else "number",
                placeholder="empty = server default" if spec.optional else "",
                compact=True,
                id=wid,
            )
        elif spec.kind == "url":
            # a key in the query or user:password@ is not put on screen (issue 9): the field
            # shows safe_url, and reading it back unchanged keeps the real URL
            yield Input(safe_url(value), compact=True, id=wid)
        else:
            yield Input(format_value(spec.path, value), compact=True, id=wid)

    # ---- reading the form ----------------------------------------------------------

    def _read(self, spec: FieldSpec) -> Any:
        """The typed value of one field; raises ConfigError when the text is invalid."""
        widget = self.query_one(f"#f-{slug(spec.path)}")
        if isinstance(widget, Switch):
            return widget.value
        if isinstance(widget, Select):
            return widget.value
        if isinstance(widget, TextArea):
            return parse_value(spec.path, widget.text)
        assert isinstance(widget, Input)
        current = get_value(self.settings, spec.path)
        if spec.secret and not widget.value:
            return current
        if spec.kind == "url" and widget.value == safe_url(current):
            return current  # shown masked and not edited
        return parse_value(spec.path, widget.value)

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
        for spec in SCHEMA:
            self._show_error(spec.path, self.errors.get(spec.path, ""))
        return None if self.errors else result

    def _show_error(self, path: str, text: str) -> None:
        label = self.query_one(f"#e-{slug(path)}", Static)
        label.update(text)
        label.set_class(bool(text), "-shown")

    # ---- live feedback -------------------------------------------------------------

    @on(Input.Changed)
    def _check_input(self, event: Input.Changed) -> None:
        spec = self._spec_of(event.input.id)
        if spec is None or (spec.secret and not event.value):
            return
        try:
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
        if spec.path == THEME_PATH and isinstance(event.value, str):
            self.app.theme = event.value  # live preview; the app undoes it on escape

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
        try:
            await asyncio.to_thread(save_changes, self.config_path, changes)
        except (ConfigError, OSError) as error:
            self.notify(f"Not saved: {error}", severity="error", markup=False)
            return
        self.notify(f"Saved to {self.config_path}", markup=False)
        self.dismiss(new)

    def _reveal(self, path: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{slug(field(path).section)}"
        self.query_one(f"#f-{slug(path)}").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
