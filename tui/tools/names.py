"""Function names the Realtime API accepts: letters, digits, `_` and `-`, at most 64 characters.

MCP tools are namespaced `server__tool` so that two servers' `search` stay apart; a tool name
with other characters (dots, spaces, unicode) is made legal, a long one is shortened with a
hash of the original (so it stays stable between runs), and a clash gets `_2`, `_3`.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 64
SEPARATOR = "__"
_ILLEGAL = re.compile(r"[^A-Za-z0-9_-]+")
LEGAL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def legal(text: str) -> str:
    """`text` with every run of illegal characters turned into one `_` (never empty)."""
    return _ILLEGAL.sub("_", text).strip("_") or "tool"


def _shortened(name: str, original: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(original.encode("utf-8")).hexdigest()[:8]
    return f"{name[: MAX_NAME - len(digest) - 1]}_{digest}"


def function_name(server: str, tool: str, taken: set[str]) -> str:
    """The public name of MCP tool `tool` of `server`, unique among `taken` (which it joins)."""
    base = _shortened(f"{server}{SEPARATOR}{legal(tool)}", f"{server}{SEPARATOR}{tool}")
    name = base
    number = 2
    while name in taken:
        suffix = f"_{number}"
        name = f"{base[: MAX_NAME - len(suffix)]}{suffix}"
        number += 1
    taken.add(name)
    return name
