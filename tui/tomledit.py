"""Edit a TOML text in place: set and remove keys, keep every comment and the layout.

tomlkit (the style-preserving TOML library Poetry edits pyproject.toml with) changes the
values of keys the text already has and removes keys; that part of its API is public and
stable. Where a *new* key goes is decided here, on the text, because tomlkit has no public
way to insert a key at a position: it appends at the end of a table, and it counts the
comment lines that head the next table as the end of this one, so an appended key lands
under the next table's heading comment. (0.13 to 0.15.2 had private insertion helpers that
0.15.3 removed; nothing here touches tomlkit's private names.)

A new key goes where a person would put it: under its commented-out example line
(`# key = ...`, as config.example.toml has for keys without a default), else after the
table's last key line, else right under the table's header. A table the text has no header
for is added by tomlkit at the end. The caller checks that the result means what it asked
for (the edit is on text, so a freak layout, like a header inside a multi-line string,
could put a line in the wrong place); this module only promises valid edits for ordinary
files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import tomli_w
import tomlkit

# `[table]` or `[ a . b ]` with bare names; `[[array]]` and quoted names are boundaries too
_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*\]\s*(?:#.*)?$")
_BOUNDARY = re.compile(r"^\s*\[")

Address = tuple[str, str]  # (dotted table name, "" for the root; key)


def edit_toml(text: str, values: Mapping[Address, Any], remove: Iterable[Address] = ()) -> str:
    """`text` with each (table, key) of `values` set and each of `remove` deleted."""
    doc = tomlkit.parse(text)
    headed = _headed_tables(text)
    pending: dict[str, list[tuple[str, Any]]] = {}
    for table, key in remove:
        node = _table(doc, table, create=False)
        if node is not None and key in node:
            del node[key]
    for (table, key), value in values.items():
        node = _table(doc, table, create=table not in headed)
        if node is not None and key in node:
            node[key] = value  # in place: the comments above and after the value stay
        elif table in headed:
            pending.setdefault(table, []).append((key, value))
        else:
            assert node is not None  # create=True: _table made the missing table
            node[key] = value  # a new table, or a headerless one: tomlkit appends it
    updated = tomlkit.dumps(doc)
    for table, pairs in pending.items():
        for key, value in pairs:
            updated = _insert_line(updated, table, key, value)
    return updated


def _headed_tables(text: str) -> set[str]:
    names = set()
    for line in _lines(text):
        match = _HEADER.match(line)
        if match:
            names.add(_normal(match.group(1)))
    return names


def _normal(name: str) -> str:
    return ".".join(part.strip() for part in name.split("."))


def _table(doc: Any, table: str, *, create: bool) -> Any:
    node = doc
    for part in table.split(".") if table else ():
        if part not in node:
            if not create:
                return None
            node[part] = tomlkit.table(is_super_table=True)
        node = node[part]
    return node


def _insert_line(text: str, table: str, key: str, value: Any) -> str:
    lines = _lines(text)
    header = next(
        index
        for index, line in enumerate(lines)
        if (match := _HEADER.match(line)) and _normal(match.group(1)) == table
    )
    end = next(
        (index for index in range(header + 1, len(lines)) if _BOUNDARY.match(lines[index])),
        len(lines),
    )
    example = re.compile(rf"^\s*#\s*{re.escape(key)}\s*=")
    span = range(header + 1, end)
    after = next((index for index in span if example.match(lines[index])), None)
    if after is None:
        value_lines = [index for index in span if _is_value_line(lines[index])]
        after = value_lines[-1] if value_lines else header
    lines.insert(after + 1, tomli_w.dumps({key: value}).rstrip("\n"))
    return "\n".join(lines)


def _lines(text: str) -> list[str]:
    """The lines of `text` split at "\n" only (join them with "\n"): str.splitlines also
    splits at U+0085, U+2028 and others, which TOML allows raw inside a string value."""
    return text.split("\n")


def _is_value_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def replace_tables(text: str, tables: Mapping[str, Mapping[str, Any]]) -> str:
    """`text` with each whole top-level table of `tables` replaced (an empty one removed).

    Used for tables written whole, such as [tools] with its [[tools.mcp]] arrays: the rest
    of the file keeps its comments and layout; the replaced table is written afresh.
    """
    if not tables:
        return text
    doc = tomlkit.parse(text)
    for key, table in tables.items():
        if key in doc:
            del doc[key]
        if table:
            doc[key] = tomlkit.item(dict(table))
    return tomlkit.dumps(doc)
