"""Text from tools made safe to show: secrets masked, control characters escaped, cut to fit.

Tool arguments are written by the model and results come from programs: both are data. What
the log or an approval prompt shows never carries terminal control sequences, never a value
under a key named like a secret (token, key, secret, password...) and never a configured
secret value (a server's env or header values, the API key) wherever it appears.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from tui.config.tools_toml import looks_secret
from tui.secrets import redactable

MASK = "***"
# C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that can make
# shown text read differently from what it is
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with control characters written as escapes (ESC becomes the 4 characters \\x1b)."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode(), text)


def one_line(text: str, width: int = 100) -> str:
    """The first `width` characters of `text` on one printable line, '…' when cut."""
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= width else f"{flat[: width - 1]}…"


def size_text(count: int) -> str:
    """1536 -> '1.5 KiB': sizes as the notes to the model and the log say them."""
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB".replace(".0 ", " ")
    return f"{count / 1024 / 1024:.1f} MiB".replace(".0 ", " ")


class Redactor:
    """Masks secrets in text and in JSON values. `secrets` are exact values to hide.

    Which of them are secrets is `tui.secrets.redactable`'s rule, the one the history and
    the inspector follow: `--demo`'s bearer token "demo", the loopback placeholder "local"
    and short strings are words, not credentials, and masking them rewrote a tool's result
    ("demo server, local time" became "*** server, *** time").
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so that a secret containing another is masked whole
        self.secrets = list(redactable(secrets))

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def value(self, value: Any) -> Any:
        """A copy of a JSON value with secret-named keys masked and secret values replaced."""
        if isinstance(value, dict):
            return {
                key: MASK if looks_secret(str(key)) and item not in (None, "") else self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def pretty(self, value: Any) -> str:
        """Arguments as an approval prompt shows them: indented JSON, masked, printable."""
        shown = json.dumps(self.value(value), indent=2, ensure_ascii=False, sort_keys=False)
        return printable(shown)
