"""The settings form's pure parts: ids, option lists, help lines, and how outside text is
shown in a field (tui.screens.settings builds the form from them).

A config file's string (a model name, a voice, the instructions) is outside text: a field
shows it inert (`shown_text`), so an escape sequence in the file cannot drive the terminal.
The screen keeps what each field showed; a field left as shown keeps the file's exact value
(control characters and all: nothing is lost by saving an untouched form), and an edited one
may not hold control characters, nor the pictures (␛, ␇) that stood in for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from textual.content import Content
from textual.widgets import Select

from tui.config import SCHEMA, FieldSpec, Settings, get_value
from tui.config.problems import config_error
from tui.errors import AudioError
from tui.printable import one_line, printable

DeviceLister = Callable[[], Sequence[Any]]

# A compact Select draws its label plus about three cells of arrow and padding.
SELECT_CHROME = 4
SUGGEST_MIN_WIDTH = 14
SUGGEST_MAX_WIDTH = 44  # the free-text input beside it keeps the rest of the row

THEME_PATH = "ui.theme"
URL_MASKED_NOTE = "Parts that may be secret show as ***: editing replaces the whole URL."


def slug(path: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "-", path)


def default_devices() -> Sequence[Any]:
    try:
        from tui.audio.devices import list_devices

        return list_devices()
    except (AudioError, OSError, ImportError):
        return []  # no PortAudio or no devices: the field stays free text


def device_options(devices: Sequence[Any], kind: str) -> list[tuple[str | Content, str]]:
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


def suggest_select(path: str, options: list[tuple[str | Content, str]], value: Any) -> Select[str]:
    """The suggestions beside a free-text field; choosing one fills the field."""
    known = {choice for _, choice in options}
    select: Select[str] = Select(
        options,
        value=value if value in known else Select.NULL,
        allow_blank=True,
        prompt="choose…",
        compact=True,
        id=f"s-{slug(path)}",
        classes="suggest",
    )
    # wide enough for its longest option (a fixed 24 cut model names mid-word)
    select.styles.width = suggest_width([label for label, _ in options])
    return select


def theme_options(names: Sequence[str], value: str) -> list[tuple[str | Content, str]]:
    """The themes to choose from; a theme the file names that nothing provides is kept
    first, drawn inert (it came from the file)."""
    options: list[tuple[str | Content, str]] = [(name, name) for name in sorted(names)]
    if value not in names:
        options.insert(0, (Content(one_line(value)), value))
    return options


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


# ␀ to ␡: how tui.printable shows a control character (␛ for ESC, ␇ for BEL)
CONTROL_PICTURES = re.compile("[\u2400-\u2421\u21b5]")  # and ↵ for a line break
CONTROL_NOTE = (
    "This value holds control characters, shown as ␛, ␇ or ↵ (they never reach the terminal): "
    "it is kept as it is unless you edit this field."
)


def shown_text(text: str, *, multiline: bool = False) -> str:
    """What a field shows for a value from outside: inert, one line unless multiline."""
    return printable(text) if multiline else one_line(text)


def check_typed(path: str, typed: str, *, had_controls: bool) -> None:
    """Raise ConfigError for an edited value that holds control characters (pasted), or
    still holds the pictures of the file's own (saving them would replace the real ones)."""
    if printable(typed) != typed:
        raise config_error(
            "control characters cannot be saved: type the value without them", key=path
        )
    if had_controls and CONTROL_PICTURES.search(typed):
        raise config_error(
            "still holds ␛, ␇ or ↵, which stand for the file's control characters: delete them, "
            "or undo your edit to keep the file's value",
            key=path,
        )
