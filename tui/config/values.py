"""Values: checking, parsing and formatting one setting, and reading or setting it."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from tui.config.fields import FieldSpec
from tui.config.keynames import normalise_binding
from tui.config.problems import Invalid, config_error
from tui.config.schema import SCHEMA, WHOLE_TABLES, Settings, field, split_keys
from tui.config.urls import check_url
from tui.errors import with_article

_KEY_NAME = re.compile(r"^[^\s,]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def shown(spec: FieldSpec, value: Any) -> str:
    """How a bad value appears in a message: secrets are never quoted."""
    if spec.secret:
        return f"{with_article(type(value).__name__)} (value hidden)"
    return repr(value)


def check(spec: FieldSpec, value: Any) -> Any:
    """Validate an already-typed value against its spec; returns it normalised (int->float)."""
    if spec.optional and (value is None or value == "" or _is_unset_word(spec, value)):
        return None  # absent or "" means "use the server's default"
    if value is None:
        raise Invalid(f"expected {spec.allowed()}, got nothing")
    if spec.type is bool:
        if not isinstance(value, bool):
            raise Invalid(f"expected true or false, got {shown(spec, value)}")
        return value
    if spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected {spec.allowed()}, got {shown(spec, value)}")
        _check_range(spec, value)
        return value
    if spec.type is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"expected {spec.allowed()}, got {shown(spec, value)}")
        if not math.isfinite(value):
            raise Invalid(f"expected {spec.allowed()}, got {value!r}")
        _check_range(spec, value)
        return float(value)
    if not isinstance(value, str):
        raise Invalid(f"expected {spec.allowed()}, got {shown(spec, value)}")
    if spec.choices and value not in spec.choices:
        raise Invalid(f"expected {spec.allowed()}, got {shown(spec, value)}")
    if spec.non_empty and not value.strip():
        raise Invalid(f"expected {spec.allowed()}, got an empty string")
    if spec.kind == "keys":
        names = split_keys(value)
        if not value.strip() or any(not _KEY_NAME.match(name) for name in names):
            raise Invalid(
                f"expected a comma list of key names without spaces inside a name "
                f"(e.g. ctrl+q,f1), got {value!r}"
            )
        value = normalise_binding(value)  # "F2" -> "f2"; a misspelled name is refused
    if spec.kind == "url":
        check_url(value)
    if spec.kind == "language" and value and not _LANGUAGE.match(value):
        raise Invalid(f"expected an ISO-639-1 code such as en (or empty), got {value!r}")
    if spec.kind == "languages" and any(not _LANGUAGE.match(code) for code in split_list(value)):
        raise Invalid(f"expected {spec.allowed()}, got {value!r}")
    return value


def split_list(text: str) -> list[str]:
    """'en, de,,' -> ['en', 'de']: the items of a comma-list setting ("languages", "words"),
    which is kept as written and split when it is used."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _is_unset_word(spec: FieldSpec, value: Any) -> bool:
    """`max_output_tokens = "inf"`: the word that means unset, in a file or a form."""
    return bool(spec.unset_word) and isinstance(value, str) and value.strip() == spec.unset_word


def _check_range(spec: FieldSpec, value: float) -> None:
    too_low = spec.minimum is not None and value < spec.minimum
    too_high = spec.maximum is not None and value > spec.maximum
    if too_low or too_high:
        raise Invalid(f"expected {spec.allowed()}, got {value!r}")


def parse_text(spec: FieldSpec, text: str) -> Any:
    """Turn the text of an env var, a flag or a form field into a typed, validated value."""
    if spec.type is str:
        # Free text keeps its spaces (instructions); names and choices do not need them.
        value = text if spec.kind == "multiline" else text.strip()
        return check(spec, value)
    stripped = text.strip()
    if spec.optional and (stripped == "" or _is_unset_word(spec, stripped)):
        return None
    if spec.type is bool:
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise Invalid(f"expected true or false, got {shown(spec, text)}")
    try:
        number: int | float = int(stripped) if spec.type is int else float(stripped)
    except ValueError:
        raise Invalid(f"expected {spec.allowed()}, got {shown(spec, text)}") from None
    return check(spec, number)


def typed(spec: FieldSpec, value: Any) -> Any:
    """Strings (flags, form fields) are parsed; values that already have a type are checked."""
    return parse_text(spec, value) if isinstance(value, str) else check(spec, value)


def parse_value(path: str, text: str) -> Any:
    """Parse the text of a form field for `path`; ConfigError with a one-line message if bad."""
    spec = field(path)
    try:
        return parse_text(spec, text)
    except Invalid as bad:
        raise config_error(str(bad), key=path) from None


def format_value(path: str, value: Any) -> str:
    """The text a form field shows for a value; parse_value(path, format_value(path, v)) == v."""
    field(path)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # repr-exact for floats: str(0.1) == "0.1"


def get_value(settings: Settings, path: str) -> Any:
    if path in WHOLE_TABLES:
        return getattr(settings, path)
    field(path)  # unknown paths are an error, not an AttributeError
    node: Any = settings
    for part in path.split("."):
        node = getattr(node, part)
    return node


def set_in_place(settings: Settings, path: str, value: Any) -> None:
    """Set a value without any check (loading has checked it already)."""
    *parents, last = path.split(".")
    node: Any = settings
    for part in parents:
        node = getattr(node, part)
    setattr(node, last, value)


def with_value(settings: Settings, path: str, value: Any) -> Settings:
    """A validated copy of `settings` with `path` set; strings are parsed for typed fields.

    `settings` itself is never changed, so a rejected value changes nothing. A whole table
    (`tools`) takes its own settings object, checked by its codec (dump, then load).
    """
    if path in WHOLE_TABLES:
        return _with_table(settings, path, value)
    spec = field(path)
    try:
        value = typed(spec, value)
    except Invalid as bad:
        raise config_error(str(bad), key=path) from None
    result = copy.deepcopy(settings)
    set_in_place(result, path, value)
    check_whole(result)
    return result


def _with_table(settings: Settings, path: str, value: Any) -> Settings:
    table = WHOLE_TABLES[path]
    if not isinstance(value, table.type):
        raise config_error(f"expected {table.type.__name__}, got {type(value).__name__}", key=path)
    checked = table.load(table.dump(value), "<settings>")  # what a save would write, re-read
    result = copy.deepcopy(settings)
    setattr(result, path, checked)
    return result


def check_whole(settings: Settings, *, file: str | None = None) -> None:
    """Checks that span several settings: one key may not be bound to two actions."""
    owner: dict[str, str] = {}
    for spec in SCHEMA:
        if spec.kind != "keys":
            continue
        for name in split_keys(get_value(settings, spec.path)):
            if name in owner:
                raise config_error(
                    f"key {name!r} is bound to both {owner[name]!r} and {spec.path!r}; "
                    "each key may do one thing",
                    file=file,
                    key=spec.path,
                )
            owner[name] = spec.path
