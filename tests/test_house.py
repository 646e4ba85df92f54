"""The house rules a newcomer relies on, checked rather than hoped for."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_CLASS_LINES = 300  # issue 12: small rooms; a class past this is split, not stretched


def class_sizes() -> dict[str, int]:
    sizes = {}
    for path in sorted((ROOT / "tui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                where = f"{path.relative_to(ROOT)}:{node.name}"
                sizes[where] = node.end_lineno - node.lineno + 1
    return sizes


def test_no_class_is_over_three_hundred_lines() -> None:
    sizes = class_sizes()
    assert len(sizes) > 100  # the walk found the package
    assert {where: lines for where, lines in sizes.items() if lines > MAX_CLASS_LINES} == {}
