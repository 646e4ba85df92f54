"""What `tui.printable.printable` costs: a typical transcript delta, a whole turn, hostile text.

    pytest -m benchmark tests/benchmarks/bench_printable.py -s

The conversation log runs it on a turn's whole text at each repaint (at most 12 Hz per
turn), the inspector on each event line. Figures are printed, never asserted.
"""

from __future__ import annotations

import timeit

import pytest

from tui.printable import printable

pytestmark = pytest.mark.benchmark

DELTA = "Sure, here is how you can do that: "  # 35 chars, about one delta
TURN = "A longer answer with accents (café), CJK (日本語) and 👨‍👩‍👧 in it. " * 30
HOSTILE = "text \x1b[31mred\x1b[0m and \x1b]0;title\x07 and \u202eevil " * 30


def _per_call_ns(text: str, number: int) -> float:
    best = min(timeit.repeat(lambda: printable(text), number=number, repeat=5))
    return best / number * 1e9


def test_printable_cost() -> None:
    figures = {
        f"clean delta ({len(DELTA)} chars)": _per_call_ns(DELTA, 200_000),
        f"clean turn ({len(TURN)} chars)": _per_call_ns(TURN, 20_000),
        f"hostile turn ({len(HOSTILE)} chars)": _per_call_ns(HOSTILE, 2_000),
    }
    print()
    for what, ns in figures.items():
        print(f"printable, {what}: {ns:,.0f} ns per call")
    assert all(ns > 0 for ns in figures.values())
