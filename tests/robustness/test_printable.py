"""tui.realtime.sanitize.printable: what a hostile server writes is shown, never obeyed."""

from __future__ import annotations

import pytest

from tui.realtime.sanitize import printable

ATTACKS = [
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # OSC 0: retitle the terminal
    ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # CSI 2J: clear the screen
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # SGR colours
    ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),  # OSC 52: write the clipboard
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\\x1b]8;;http://x\\x1b\\link\\x1b]8;;\\x1b\\"),
    ("abc\u202edcba", "abc\\u202edcba"),  # bidi override
    ("\u2066x\u2069", "\\u2066x\\u2069"),  # bidi isolate
    ("\x9b2J", "\\x9b2J"),  # C1 CSI
    ("a\rb\nc\td\x00", "a\\x0db\\x0ac\\x09d\\x00"),
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
]


@pytest.mark.parametrize(("raw", "shown"), ATTACKS)
def test_control_and_reordering_characters_are_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@pytest.mark.parametrize("text", ["héllo wörld", "日本語", "emoji 😀 ✓", "a\\x1b is text", ""])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert printable(text) == text


def test_limit_cuts_before_escaping() -> None:
    assert printable("x" * 300, 10) == "x" * 9 + "…"
    assert printable("\x1b" * 5, 3) == "\\x1b\\x1b…"
