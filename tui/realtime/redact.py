"""Make events safe and readable for the event inspector.

Audio payloads become a size ("<4800 bytes audio>") and any secret string (the API key)
becomes "sk-…redacted", wherever it appears in the structure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

MASK = "sk-…redacted"
AUDIO_FIELDS = frozenset({"audio"})
AUDIO_DELTA_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta"})
SHORT_AUDIO = 64
"""Base64 audio shorter than this is left alone: it is readable and costs nothing."""


def redact_event(event: dict[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of `event` with audio shortened and every secret masked. `event` is untouched."""
    keys = tuple(secret for secret in secrets if secret)
    redacted: dict[str, Any] = _walk(event, keys)
    return redacted


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each non-empty secret replaced by MASK."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def audio_size(encoded: str) -> int:
    """Decoded byte count of a base64 string, without decoding it."""
    length = len(encoded)
    padding = encoded[-2:].count("=") if length else 0
    return length * 3 // 4 - padding


def _walk(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        audio_delta = value.get("type") in AUDIO_DELTA_TYPES
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and (key in AUDIO_FIELDS or (audio_delta and key == "delta")):
                out[_walk(key, secrets)] = _audio(item)
            else:
                out[_walk(key, secrets)] = _walk(item, secrets)
        return out
    if isinstance(value, list | tuple):
        return [_walk(item, secrets) for item in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def _audio(encoded: str) -> str:
    if len(encoded) < SHORT_AUDIO:
        return encoded
    return f"<{audio_size(encoded)} bytes audio>"


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger for libraries (websockets) that would log request headers at DEBUG.

    Formats each message itself and masks the secrets, so an `Authorization: Bearer`
    line can never reach a handler with the key in it.
    """

    def __init__(self, logger: logging.Logger, secrets: Iterable[str]) -> None:
        super().__init__(logger, {})
        self._secrets = tuple(secret for secret in secrets if secret)

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):  # a malformed log call must not break the wire
            text = f"{msg} {args!r}"
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, redact_text(text, self._secrets), **kwargs)
