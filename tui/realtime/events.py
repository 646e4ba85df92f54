"""Server events as typed values, and the client events the app sends.

`parse(frame)` never raises: every frame becomes a `ServerEvent` or a `BadEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One valid server event. `data` is the whole decoded JSON object.

    For `response.output_audio.delta`, `audio` holds the decoded PCM16 bytes (the
    parser decodes base64 once, so nobody downstream does it again).
    """

    type: str
    data: dict[str, Any]
    audio: bytes | None = field(default=None, repr=False)
    size: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass(frozen=True, slots=True)
class BadEvent:
    """A frame that could not be used. `kind` is one of BAD_KINDS; `reason` is for people."""

    kind: str
    reason: str
    preview: str = ""
    type: str | None = None
    size: int = 0


BAD_KINDS = (
    "binary",
    "too_large",
    "not_json",
    "not_object",
    "unknown_type",
    "missing_field",
    "wrong_type",
    "bad_audio",
)
