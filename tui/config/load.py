"""Loading: defaults < config file < environment (`RT_TUI_<PATH>`) < overrides (flags).

Every bad input becomes a ConfigError naming the file, the key, what was given and what is
allowed; nothing is changed by bad input.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.config.fields import ENV_PREFIX
from tui.config.files import config_present, default_config_path, parse_toml, read_file
from tui.config.problems import Invalid, config_error, did_you_mean
from tui.config.schema import BY_PATH, SCHEMA, WHOLE_TABLES, Settings, children, field
from tui.config.values import check, check_whole, parse_text, set_in_place
from tui.errors import with_article


def flatten(data: Mapping[str, Any], *, file: str, table: str = "") -> dict[str, Any]:
    """Nested TOML tables -> {dotted path: value}, rejecting unknown keys and misplaced tables."""
    flat: dict[str, Any] = {}
    allowed = children(table)
    for key, value in data.items():
        path = f"{table}.{key}" if table else key
        if key not in allowed:
            where = f"[{table}]" if table else "the top level"
            homes = [f"[{spec.table}]" for spec in SCHEMA if spec.key == key]
            hint = f" (it belongs in {' or '.join(homes)})" if homes else ""
            raise config_error(
                f"unknown key {key!r} in {where}{hint or did_you_mean(key, allowed)}; "
                f"allowed keys: {', '.join(allowed)}",
                file=file,
                key=path,
            )
        is_table = path not in BY_PATH
        if is_table:
            if not isinstance(value, dict):
                raise config_error(
                    f"must be a table [{path}], got {with_article(type(value).__name__)}",
                    file=file,
                    key=path,
                )
            flat.update(flatten(value, file=file, table=path))
        else:
            flat[path] = value
    return flat


def split_tables(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A parsed file as (the key = value settings, the whole tables such as [tools])."""
    rest = {key: value for key, value in data.items() if key not in WHOLE_TABLES}
    return rest, {key: value for key, value in data.items() if key in WHOLE_TABLES}


def load_tables(raw: Mapping[str, Any], *, file: str) -> dict[str, Any]:
    """The whole tables of a file, each validated by its own codec (raises ConfigError)."""
    return {key: WHOLE_TABLES[key].load(table, file) for key, table in raw.items()}


def from_toml(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Flattened, typed values of a parsed file, a bad value kept as it is (for saving).
    Whole tables are left out: `split_tables` gives them."""
    typed: dict[str, Any] = {}
    for key, value in flatten(split_tables(data)[0], file=str(path)).items():
        try:
            typed[key] = check(BY_PATH[key], value)
        except Invalid:
            typed[key] = value  # a bad value is still a key the file has
    return typed


def _apply(settings: Settings, values: Mapping[str, Any]) -> None:
    for path, value in values.items():
        set_in_place(settings, path, value)


def _from_file(path: Path) -> tuple[dict[str, Any], int]:
    """The file's typed values and its permission bits."""
    read = read_file(path)
    data, tables = split_tables(parse_toml(read.text, path))
    flat = flatten(data, file=str(path))
    typed: dict[str, Any] = {}
    for key, value in flat.items():
        try:
            typed[key] = check(BY_PATH[key], value)
        except Invalid as bad:
            raise config_error(str(bad), file=str(path), key=key) from None
    return {**typed, **load_tables(tables, file=str(path))}, read.mode


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for spec in SCHEMA:
        if spec.secret:
            continue  # the key comes from api_key_env / .env / the file, never RT_TUI_*
        text = env.get(spec.env_var)
        if text is None:
            continue
        try:
            typed[spec.path] = parse_text(spec, text)
        except Invalid as bad:
            raise config_error(
                f"environment variable {spec.env_var}: {bad}", key=spec.path
            ) from None
    return typed


def env_warnings(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per RT_TUI_* variable that sets nothing (a typo would otherwise be silently
    ignored), with the nearest real name. Names only: a value is never repeated."""
    env = os.environ if env is None else env
    known = [spec.env_var for spec in SCHEMA if not spec.secret]
    warnings = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        secret = next((spec for spec in SCHEMA if spec.secret and spec.env_var == name), None)
        if secret is not None:
            warnings.append(
                f"environment variable {name} is ignored: the API key is read from the "
                f"variable named by connection.api_key_env ({Settings().connection.api_key_env} "
                "by default), a .env file or api_key in the config file"
            )
            continue
        # compared without the prefix every candidate shares, which would match anything
        rest = [known_name.removeprefix(ENV_PREFIX) for known_name in known]
        wrote = name.removeprefix(ENV_PREFIX)
        close = difflib.get_close_matches(wrote, rest, n=1, cutoff=0.6)
        close = close or [other for other in rest if other.endswith("_" + wrote)][:1]  # no table
        hint = f" (did you mean {ENV_PREFIX + close[0]!r}?)" if close else ""
        warnings.append(f"environment variable {name} is not a setting and is ignored{hint}")
    return warnings


def _from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for path, value in overrides.items():
        spec = field(path)
        try:
            typed[path] = parse_text(spec, value) if isinstance(value, str) else check(spec, value)
        except Invalid as bad:
            raise config_error(str(bad), key=path) from None
    return typed


@dataclass(frozen=True)
class LoadedConfig:
    """The settings, the file they came from (None: defaults) and the file's warnings."""

    settings: Settings
    file: Path | None
    warnings: tuple[str, ...] = ()


def load_config(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Defaults < config file < environment < overrides, and what the file warns of.

    `path` given explicitly must exist; the default path may be missing (defaults apply).
    """
    env = os.environ if env is None else env
    settings = Settings()
    file: Path | None = Path(path).expanduser() if path is not None else None
    if file is None:
        candidate = default_config_path(env)
        file = candidate if config_present(candidate) else None
    warnings: list[str] = []
    if file is not None:
        values, mode = _from_file(file)
        _apply(settings, values)
        check_whole(settings, file=str(file))
        if values.get("connection.api_key") and mode & 0o044:
            warnings.append(key_file_warning(file, mode))
    _apply(settings, _from_env(env))
    _apply(settings, _from_overrides(overrides or {}))
    check_whole(settings)
    return LoadedConfig(settings, file, tuple(warnings))


def key_file_warning(file: Path, mode: int) -> str:
    """The API key in a file other users can read: say so, and how to fix it."""
    who = "everyone" if mode & 0o004 else "your group"
    return f"{file} holds an API key and {who} can read it (mode {mode:04o}); fix: chmod 600 {file}"


def startup_warnings(loaded: LoadedConfig, env: Mapping[str, str] | None = None) -> list[str]:
    """Everything to tell the user before (and as) the app starts: RT_TUI_* variables that
    set nothing, and an API key in a config file others can read. Never a value."""
    return [*env_warnings(env), *loaded.warnings]


def load_settings(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults < config file < environment < overrides (see load_config)."""
    return load_config(path, env=env, overrides=overrides).settings
