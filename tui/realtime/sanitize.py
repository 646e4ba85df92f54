"""Server text made safe to print: control characters shown, never obeyed.

A close reason, an HTTP error body or a redirect target comes from whoever runs the
server. Printed as is, an ESC sequence in it could clear the screen, retitle the
terminal (OSC 0), write the clipboard (OSC 52) or hide a link (OSC 8), and a bidi
override (U+202E) could make a message read backwards. `printable` writes each such
character as a visible escape (`\\x1b`, `\\u202e`) instead, so nothing is lost either.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: one-line messages), DEL, C1 controls, and the
# Unicode format characters that reorder or hide text: bidi embeddings, overrides and
# isolates, the directional marks, zero-width characters, the BOM and line separators.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def printable(text: str, limit: int | None = None) -> str:
    """`text` with every control or reordering character escaped; cut to `limit` characters."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
