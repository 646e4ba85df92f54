"""Key names: a `[keys]` value is checked against Textual's own names, like every setting.

tui.config must not import textual, so the names are a static copy of textual.keys (8.2):
`tests/core/test_keynames.py` checks this copy against textual.keys, so it cannot drift.
A name is `modifier+...+key`; it is normalised to the form Textual's key events carry
(lower case, modifiers in alphabetical order, a lone character by its name: "?" ->
"question_mark"), so "F2" works and "contrl+m" is refused with "did you mean 'ctrl+m'".
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.config.problems import Invalid, nearest

# Textual sorts the modifiers of a key event by name (kitty protocol); its legacy names
# (ctrl+shift+up) are in that order already.
MODIFIERS: tuple[str, ...] = ("alt", "ctrl", "hyper", "meta", "shift", "super")

# textual.keys.Keys values without a modifier (the special <any>, <ignore>, ... left out)
NAMED_KEYS: tuple[str, ...] = (
    "backspace", "delete", "down", "end", "enter", "escape", "home", "insert", "left",
    "pagedown", "pageup", "return", "right", "space", "tab", "up",
    *(f"f{number}" for number in range(1, 25)),
)  # fmt: skip

# What Textual calls a printable ASCII character that is not a letter or digit
# (textual.keys._character_to_key): bindings name "?" as "question_mark".
CHARACTER_NAMES: dict[str, str] = {
    "!": "exclamation_mark", '"': "quotation_mark", "#": "number_sign", "$": "dollar_sign",
    "%": "percent_sign", "&": "ampersand", "'": "apostrophe", "(": "left_parenthesis",
    ")": "right_parenthesis", "*": "asterisk", "+": "plus", ",": "comma", "-": "minus",
    ".": "full_stop", "/": "slash", ":": "colon", ";": "semicolon", "<": "less_than_sign",
    "=": "equals_sign", ">": "greater_than_sign", "?": "question_mark", "@": "at",
    "[": "left_square_bracket", "\\": "backslash", "]": "right_square_bracket",
    "^": "circumflex_accent", "_": "underscore", "`": "grave_accent",
    "{": "left_curly_bracket", "|": "vertical_line", "}": "right_curly_bracket", "~": "tilde",
}  # fmt: skip

# A character textual.keys names raw after a modifier: legacy terminals send ctrl+@.
RAW_IN_COMBINATIONS = ("@",)

# In textual.keys but never the key of an event: Textual reports the Return key as "enter".
NEVER_SENT: dict[str, str] = {"return": "enter"}

_LETTERS_AND_DIGITS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# every key name that may follow the modifiers
BASE_NAMES: frozenset[str] = frozenset(
    {name for name in NAMED_KEYS if name not in NEVER_SENT}
    | set(CHARACTER_NAMES.values())
    | set(RAW_IN_COMBINATIONS)
    | set(_LETTERS_AND_DIGITS)
)
_SUGGESTED = sorted(
    {name for name in BASE_NAMES if len(name) > 1} | set(NEVER_SENT)
)  # a lone letter is never "close" to a misspelled word


def normalise_key(name: str) -> str:
    """'F2' -> 'f2', 'Shift+Ctrl+Up' -> 'ctrl+shift+up', '?' -> 'question_mark'.

    Raises Invalid naming the nearest real name when there is one.
    """
    if name == "+":
        return CHARACTER_NAMES["+"]
    *modifiers, base = name.split("+")
    if not base or not all(modifiers):
        raise Invalid(f"the key name {name!r} has an empty part (the + key is called plus)")
    wanted = [modifier.lower() for modifier in modifiers]
    if len(set(wanted)) != len(wanted):
        raise Invalid(f"the key name {name!r} repeats a modifier")
    fixed_modifiers = [m if m in MODIFIERS else nearest(m, MODIFIERS) for m in wanted]
    fixed_base = _base(base, bare=not modifiers)
    if fixed_base in NEVER_SENT:
        raise Invalid(_unknown(name, _joined(fixed_modifiers, NEVER_SENT[fixed_base])))
    if fixed_base not in BASE_NAMES:
        guess = nearest(fixed_base, _SUGGESTED)
        offered = None if guess is None else NEVER_SENT.get(guess, guess)
        raise Invalid(_unknown(name, _joined(fixed_modifiers, offered)))
    if wanted != fixed_modifiers:
        raise Invalid(_unknown(name, _joined(fixed_modifiers, fixed_base)))
    return _joined(sorted(wanted), fixed_base) or name


def _base(base: str, *, bare: bool) -> str:
    if len(base) > 1:
        return base.lower()
    if not bare and base in RAW_IN_COMBINATIONS:
        return base
    # a lone character by Textual's name for it ("?" -> "question_mark"); with a modifier a
    # letter is lower case (ctrl+M arrives as ctrl+m), alone its case is the key ("M")
    named = CHARACTER_NAMES.get(base, base)
    return named if bare else named.lower()


def _joined(modifiers: Sequence[str | None], base: str | None) -> str | None:
    """'ctrl', 'm' -> 'ctrl+m'; None when a part has no known name to offer."""
    if base is None or any(modifier is None for modifier in modifiers):
        return None
    return "+".join([*(m for m in modifiers if m is not None), base])


def _unknown(name: str, suggestion: str | None) -> str:
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    return (
        f"unknown key name {name!r}{hint}; key names are Textual's, such as ctrl+q, f1, "
        "escape, space, question_mark, with modifiers ctrl, shift, alt, meta, super, hyper"
    )


def normalise_binding(text: str) -> str:
    """A comma list of key names, each normalised: 'M, F2' -> 'M,f2'."""
    return ",".join(normalise_key(name.strip()) for name in text.split(","))
