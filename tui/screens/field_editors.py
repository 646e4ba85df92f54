"""The editing widget of one settings field, chosen from its FieldSpec.

A secret is never put on screen (typing replaces it, empty keeps it); a bool is a switch; a
closed set, and the theme, a Select; free text with suggestions (or a sound device) a Select
beside an Input; numbers, URLs and text an Input. What a text field shows comes through
`show`, which makes it inert and remembers it (the panel keeps an untouched value as the
file has it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Select, Switch, TextArea

from tui.config import FieldSpec, format_value, safe_url
from tui.screens.settings_parts import (
    THEME_PATH,
    device_options,
    slug,
    suggest_select,
    theme_options,
)

Show = Callable[[FieldSpec, str, bool], str]  # (spec, text, multiline) -> the text shown


def field_editors(
    spec: FieldSpec,
    value: Any,
    *,
    show: Show,
    theme_names: Sequence[str],
    devices: Sequence[Any],
) -> Iterator[Widget]:
    wid = f"f-{slug(spec.path)}"
    if spec.secret:
        hidden = "hidden; type a new key to replace it"
        yield Input("", placeholder=hidden, password=True, compact=True, id=wid)
    elif spec.type is bool:
        yield Switch(bool(value), animate=False, id=wid)
    elif spec.choices:
        closed = [(c, c) for c in spec.choices]
        yield Select(closed, value=value, allow_blank=False, compact=True, id=wid)
    elif spec.path == THEME_PATH:
        themes = theme_options(theme_names, value)
        yield Select(themes, value=value, allow_blank=False, compact=True, id=wid)
    elif spec.kind == "multiline":
        text = show(spec, str(value), True)
        yield TextArea(text, id=wid, soft_wrap=True, show_line_numbers=False)
    elif spec.suggestions or spec.device:
        choices: list[tuple[str | Content, str]] = (
            device_options(devices, spec.device)
            if spec.device
            else [(s, s) for s in spec.suggestions]
        )
        shown = show(spec, format_value(spec.path, value), False)
        typed = Input(shown, id=wid, classes="free", compact=True)
        yield Horizontal(suggest_select(spec.path, choices, value), typed, classes="suggest-row")
    elif spec.type in (int, float):
        yield Input(
            show(spec, format_value(spec.path, value), False),
            type="integer" if spec.type is int else "number",
            placeholder="empty = server default" if spec.optional else "",
            compact=True,
            id=wid,
        )
    elif spec.kind == "url":
        # a key in the query or user:password@ is not put on screen (issue 9): the field
        # shows safe_url, and reading it back unchanged keeps the real URL
        yield Input(show(spec, safe_url(value), False), compact=True, id=wid)
    else:
        yield Input(show(spec, format_value(spec.path, value), False), compact=True, id=wid)
