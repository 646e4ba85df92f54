"""Saving: the settings that differ from the defaults, edited into the file in place."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from tui.config.fields import FieldSpec
from tui.config.files import (
    FileText,
    config_present,
    default_config_path,
    locked,
    parse_toml,
    read_file,
    write_atomic,
    write_target,
)
from tui.config.load import from_toml, load_settings, load_tables, split_tables
from tui.config.problems import Invalid, config_error
from tui.config.schema import SCHEMA, WHOLE_TABLES, Settings
from tui.config.values import check, get_value, with_value

_MISSING = object()


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{dotted path: value} -> nested tables, in SCHEMA order."""
    tree: dict[str, Any] = {}
    for spec in SCHEMA:
        if spec.path not in flat:
            continue
        node = tree
        for part in spec.path.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[spec.key] = flat[spec.path]
    return tree


def save_settings(settings: Settings, path: Path | str | None = None) -> Path:
    """Write `settings` to the config file atomically; returns the path written.

    Writes every value that differs from its default plus every key the file already had
    (None is written as absence). Creates parent folders. Mode 0600 when the file holds an
    api_key, else the existing file's mode (0644 for a new file). An existing file is
    updated in place: its comments, order and formatting stay, only changed keys are
    rewritten (people copy config.example.toml, whose comments are the documentation).
    A symlinked config is written through the link; the lock beside it is held meanwhile.
    """
    requested = Path(path).expanduser() if path is not None else default_config_path()
    target = write_target(requested)
    with locked(target):
        _write(settings, target)
    return requested


def save_changes(path: Path | str, changes: Mapping[str, Any]) -> Path:
    """Write only `changes` ({path: value}) over what the file holds now; returns the path.

    Under the lock the file is read again, so two rt-tui instances saving different
    settings keep each other's: each writes the keys it changed, not its whole view. The
    file's own settings are the base, never the running ones, which also hold the
    environment and command-line overrides (--demo's loopback URL, --voice, RT_TUI_*
    variables) that must not be pinned in the file. Blocking: call it off the UI loop.
    Raises ConfigError for a broken file or a bad value (then nothing is written).
    """
    requested = Path(path).expanduser()
    target = write_target(requested)
    with locked(target):
        stored = load_settings(target, env={}) if config_present(target) else Settings()
        for key, value in changes.items():
            stored = with_value(stored, key, value)
        _write(stored, target)
    return requested


def _tables(settings: Settings) -> dict[str, dict[str, Any]]:
    """The whole tables to write ([tools]): those that differ from their defaults."""
    dumped = {key: spec.dump(getattr(settings, key)) for key, spec in WHOLE_TABLES.items()}
    return {key: table for key, table in dumped.items() if table}


def _file_tables(raw: Mapping[str, Any], target: Path) -> dict[str, Any]:
    """The file's whole tables as values; one that does not load is None (rewritten)."""
    values: dict[str, Any] = {}
    for key, table in raw.items():
        try:
            values.update(load_tables({key: table}, file=str(target)))
        except Exception:
            values[key] = None
    return values


def _write(settings: Settings, target: Path) -> None:
    existing: dict[str, Any] = {}
    existing_tables: dict[str, Any] = {}
    old: FileText | None = None
    if config_present(target):
        old = read_file(target)
        parsed = parse_toml(old.text, target)
        existing = from_toml(parsed, target)
        existing_tables = _file_tables(split_tables(parsed)[1], target)
    flat: dict[str, Any] = {}
    for spec in SCHEMA:
        value = _check_for_save(spec, get_value(settings, spec.path))
        if value is None:
            continue
        if value != spec.default or spec.path in existing:
            flat[spec.path] = value
    if not flat.get("connection.api_key"):
        flat.pop("connection.api_key", None)
    tables = _tables(settings)
    # a server's env or headers may hold a token: private like a file with the API key
    holds_key = "connection.api_key" in flat or bool(settings.tools.secret_values())
    mode = 0o600 if holds_key else (old.mode if old is not None else 0o644)
    changed_tables = {
        key: tables.get(key, {})
        for key in WHOLE_TABLES
        if (key in tables or key in existing_tables)
        and existing_tables.get(key, _MISSING) != getattr(settings, key)
    }
    text = None
    if old is not None:
        wanted = {key: getattr(settings, key) for key in WHOLE_TABLES}
        text = _updated_toml(old.text, existing, flat, changed_tables, wanted)
    if text is None:  # a new file: plain TOML, in schema order, whole tables last
        text = tomli_w.dumps({**_nest(flat), **tables})
    write_atomic(target, text.encode("utf-8"), mode)


def _updated_toml(
    text: str,
    existing: Mapping[str, Any],
    flat: Mapping[str, Any],
    tables: Mapping[str, dict[str, Any]],
    wanted: Mapping[str, Any],
) -> str | None:
    """`text` with the keys of `flat` set and the others of `existing` removed, comments and
    layout kept (tui.tomledit); None if that could not be done faithfully (then the caller
    rewrites). tomllib and tomli-w drop comments by design.
    """
    changed = {
        (spec.table, spec.key): flat[spec.path]
        for spec in SCHEMA
        if spec.path in flat and existing.get(spec.path, _MISSING) != flat[spec.path]
    }
    removed = [
        (spec.table, spec.key) for spec in SCHEMA if spec.path in existing and spec.path not in flat
    ]
    # imported here, not at the top: tomlkit costs several ms that a start-up (which only
    # reads the config) should not pay
    from tui.tomledit import edit_toml, replace_tables

    try:
        updated = replace_tables(edit_toml(text, changed, removed), tables)
        # a layout the edit could not handle exactly must not change what the file means
        parsed = tomllib.loads(updated)
        written = from_toml(parsed, Path("<updated>"))
        written_tables = load_tables(split_tables(parsed)[1], file="<updated>")
    except Exception:  # any failure of the edit: fall back to a plain rewrite
        return None
    tables_kept = all(
        written_tables.get(key, spec.default()) == wanted[key] for key, spec in WHOLE_TABLES.items()
    )
    return updated if written == dict(flat) and tables_kept else None


def _check_for_save(spec: FieldSpec, value: Any) -> Any:
    try:
        return check(spec, value)
    except Invalid as bad:
        raise config_error(f"not saved: {bad}", key=spec.path) from None
