"""How config problems are worded: one ConfigError per problem, with a nearest-name hint."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from tui.errors import ConfigError


def config_error(message: str, *, file: str | None = None, key: str | None = None) -> ConfigError:
    """A ConfigError that also keeps the bare message as `.detail`.

    str(error) names the file and key (for the CLI); a form that shows the message beside the
    field already names the key, so it shows `error.detail` instead.
    """
    error = ConfigError(message, file=file, key=key)
    error.detail = message  # type: ignore[attr-defined]
    return error


def detail_of(error: ConfigError) -> str:
    """The message without the file and key it names (what a form shows under the field)."""
    return getattr(error, "detail", str(error))


class Invalid(ValueError):
    """A value failed its FieldSpec; the text is a short phrase, the caller adds context."""


def nearest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to `word`, if any is close enough to be what was meant."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """' (did you mean 'voice'?)' or ''."""
    close = nearest(word, candidates)
    return f" (did you mean {close!r}?)" if close else ""
