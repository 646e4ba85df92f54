"""Key names in [keys] are checked against Textual's, like every other setting (issue 14)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from textual.keys import Keys, _character_to_key

from tui.config import load_settings, parse_value
from tui.config.keynames import (
    BASE_NAMES,
    CHARACTER_NAMES,
    MODIFIERS,
    NAMED_KEYS,
    NEVER_SENT,
    normalise_key,
)
from tui.config.problems import Invalid
from tui.errors import ConfigError

# Keys members that are not keys a binding can name: placeholders and an odd alias
_NOT_BINDABLE = {"<any>", "<scroll-up>", "<scroll-down>", "<ignore>", "ctrl-at"}


def textual_key_names() -> set[str]:
    return {key.value for key in Keys} - _NOT_BINDABLE


# ---------------------------------------------------------------- the copy of textual.keys


def test_named_keys_are_textuals() -> None:
    bare = {name for name in textual_key_names() if "+" not in name}
    assert set(NAMED_KEYS) == bare


def test_character_names_are_textuals() -> None:
    punctuation = [c for c in string.punctuation if not c.isalnum()]
    assert {c: _character_to_key(c) for c in punctuation} == CHARACTER_NAMES


def test_every_textual_key_name_is_accepted_as_it_is() -> None:
    for name in sorted(textual_key_names()):
        if name in NEVER_SENT:
            with pytest.raises(Invalid, match=f"did you mean '{NEVER_SENT[name]}'"):
                normalise_key(name)
            continue
        assert normalise_key(name) == name
        *modifiers, base = name.split("+")
        assert set(modifiers) <= set(MODIFIERS) and base in BASE_NAMES, name


# ---------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("F2", "f2"),
        ("Escape", "escape"),
        ("Ctrl+M", "ctrl+m"),
        ("shift+ctrl+up", "ctrl+shift+up"),
        ("?", "question_mark"),
        ("/", "slash"),
        ("+", "plus"),
        ("ctrl+?", "ctrl+question_mark"),
        ("M", "M"),  # shift+m: Textual's key is the capital letter
        ("alt+x", "alt+x"),
    ],
)
def test_names_are_normalised_to_textuals_form(written: str, normal: str) -> None:
    assert normalise_key(written) == normal


@pytest.mark.parametrize(
    ("written", "suggestion"),
    [
        ("contrl+m", "ctrl+m"),
        ("esc", "escape"),
        ("ctrl+escpe", "ctrl+escape"),
        ("pgup", "pageup"),
        ("return", "enter"),
        ("ctrl+return", "ctrl+enter"),
    ],
)
def test_a_misspelled_name_is_refused_with_the_nearest(written: str, suggestion: str) -> None:
    with pytest.raises(Invalid, match=re.escape(f"did you mean '{suggestion}'")):
        normalise_key(written)


@pytest.mark.parametrize("written", ["zzzz", "ctrl+", "ctrl++", "ctrl+ctrl+a", "ctrl+xx"])
def test_names_that_are_no_key_are_refused(written: str) -> None:
    with pytest.raises(Invalid):
        normalise_key(written)


# ---------------------------------------------------------------- through the config


def test_a_config_file_key_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[keys]\nmute = "M, F2"\nhelp = "?"\n')
    keys = load_settings(path, env={}).keys
    assert keys.mute == "M,f2" and keys.help == "question_mark"


def test_a_misspelled_key_names_file_key_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[keys]\nmute = "contrl+m"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert str(path) in message and "keys.mute" in message
    assert "did you mean 'ctrl+m'" in message


def test_a_key_typed_twice_in_two_spellings_is_bound_twice(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[keys]\nmute = "m,F3"\n')  # f3 interrupts by default
    with pytest.raises(ConfigError, match="'f3' is bound to both"):
        load_settings(path, env={})


def test_form_and_environment_check_key_names_too() -> None:
    assert parse_value("keys.quit", "Ctrl+Q") == "ctrl+q"
    with pytest.raises(ConfigError, match="did you mean 'f2'"):
        parse_value("keys.mute", "f2x")
    with pytest.raises(ConfigError, match="RT_TUI_KEYS_MUTE"):
        load_settings(env={"RT_TUI_KEYS_MUTE": "contrl+m"})
