"""Saving: the settings that differ from the defaults, edited into the file in place."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from tui.config.fields import FieldSpec
from tui.config.files import default_config_path, parse_toml, read_text, write_atomic
from tui.config.load import from_toml
from tui.config.problems import Invalid, config_error
from tui.config.schema import SCHEMA, Settings
from tui.config.values import check, get_value
from tui.tomledit import edit_toml

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
    """
    target = Path(path).expanduser() if path is not None else default_config_path()
    existing: dict[str, Any] = {}
    old_text: str | None = None
    old_mode: int | None = None
    if target.exists():
        old_text = read_text(target)
        existing = from_toml(parse_toml(old_text, target), target)
        old_mode = target.stat().st_mode & 0o777
    flat: dict[str, Any] = {}
    for spec in SCHEMA:
        value = _check_for_save(spec, get_value(settings, spec.path))
        if value is None:
            continue
        if value != spec.default or spec.path in existing:
            flat[spec.path] = value
    if not flat.get("connection.api_key"):
        flat.pop("connection.api_key", None)
    holds_key = "connection.api_key" in flat
    mode = 0o600 if holds_key else (old_mode if old_mode is not None else 0o644)
    text = None if old_text is None else _updated_toml(old_text, existing, flat)
    if text is None:
        text = tomli_w.dumps(_nest(flat))  # a new file: plain TOML, in schema order
    write_atomic(target, text.encode("utf-8"), mode)
    return target


def _updated_toml(text: str, existing: Mapping[str, Any], flat: Mapping[str, Any]) -> str | None:
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
    try:
        updated = edit_toml(text, changed, removed)
        # a layout the edit could not handle exactly must not change what the file means
        written = from_toml(tomllib.loads(updated), Path("<updated>"))
    except Exception:  # any failure of the edit: fall back to a plain rewrite
        return None
    return updated if written == dict(flat) else None


def _check_for_save(spec: FieldSpec, value: Any) -> Any:
    try:
        return check(spec, value)
    except Invalid as bad:
        raise config_error(f"not saved: {bad}", key=spec.path) from None
