"""Reading one TOML table of the `[tools]` settings: typed getters that fail with a ConfigError.

Each getter names the file, the dotted key (`tools.mcp[1].command`), what was given and what
is allowed, like the rest of the config. Values under a key named like a secret are never
quoted. Kept apart from `settings` so that the dataclasses stay readable.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from tui.errors import ConfigError, with_article

SECRET_WORDS = frozenset(
    {
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "authorization",
        "auth",
        "cookie",
        "credential",
        "credentials",
        "apikey",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def config_error(message: str, *, file: str, key: str) -> ConfigError:
    """A ConfigError that also keeps the bare message as `.detail` (as tui.config's do)."""
    error = ConfigError(message, file=file, key=key)
    error.detail = message  # type: ignore[attr-defined]
    return error


def did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
    return with_article(names.get(type(value), "table" if isinstance(value, dict) else "value"))


def looks_secret(name: str) -> bool:
    """api_key, apiKey, X-Auth-Token, PASSWORD: a name with a secret word in it (not 'keyword')."""
    return any(word.lower() in SECRET_WORDS for word in _WORD.findall(name))


class Table:
    """One TOML table being read: `data` at dotted `key` in `file`, with its allowed keys."""

    def __init__(self, data: Any, *, file: str, key: str, allowed: tuple[str, ...], title: str):
        self.file = file
        self.key = key
        self.title = title  # how a person writes it: [tools] or [[tools.mcp]]
        if not isinstance(data, Mapping):
            raise config_error(
                f"must be a table {title}, got {type_name(data)}", file=file, key=key
            )
        self.data: Mapping[str, Any] = data
        for name in data:
            if name not in allowed:
                raise config_error(
                    f"unknown key {name!r} in {title}{did_you_mean(name, list(allowed))}; "
                    f"allowed keys: {', '.join(allowed)}",
                    file=file,
                    key=self.child(name),
                )

    def child(self, name: str) -> str:
        return f"{self.key}.{name}"

    def error(self, name: str, message: str) -> ConfigError:
        return config_error(message, file=self.file, key=self.child(name))

    def has(self, name: str) -> bool:
        return name in self.data

    def _shown(self, name: str, value: Any) -> str:
        return f"{type_name(value)} (value hidden)" if looks_secret(name) else repr(value)

    def string(self, name: str, default: str = "", *, required: bool = False, fix: str = "") -> str:
        if name not in self.data:
            if required:
                raise self.error(name, f"is missing from {self.title}; {fix}".rstrip("; "))
            return default
        value = self.data[name]
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {type_name(value)}")
        if required and not value.strip():
            raise self.error(name, f"expected a non-empty string, got ''; {fix}".rstrip("; "))
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {self._shown(name, value)}")
        return value

    def number(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self.data.get(name, default)
        bad = isinstance(value, bool) or not isinstance(value, int | float)
        if bad or not math.isfinite(value) or not minimum <= value <= maximum:
            raise self.error(
                name, f"expected a number from {minimum:g} to {maximum:g}, got {value!r}"
            )
        return float(value)

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.error(
                name, f"expected a whole number from {minimum} to {maximum}, got {value!r}"
            )
        return value

    def strings(self, name: str) -> list[str]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            given = type_name(value) if not isinstance(value, list) else "an array with non-strings"
            raise self.error(name, f'expected an array of strings such as ["a", "b"], got {given}')
        return list(value)

    def string_map(self, name: str) -> dict[str, str]:
        """A table of string values (env, headers): values are secrets and never shown."""
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(
                name, f'expected a table such as {{ NAME = "value" }}, got {type_name(value)}'
            )
        for entry, item in value.items():
            if not isinstance(item, str):
                raise config_error(
                    f"expected a string value, got {type_name(item)}",
                    file=self.file,
                    key=f"{self.child(name)}.{entry}",
                )
        return dict(value)
