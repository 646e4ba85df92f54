"""The API key: the variable named by `connection.api_key_env`, else `.env` in the working
folder, else `connection.api_key` of the config file. Never printed, never in a repr, never
quoted in an error message."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from tui.config.files import read_file
from tui.config.schema import Settings


def resolve_api_key(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str | None:
    """The API key: env var named by api_key_env, else `.env` in cwd, else the config file."""
    found = _find_api_key(settings, env, cwd)
    return found[0] if found else None


def api_key_source(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str | None:
    """Where the key was found, for the UI ("environment variable OPENAI_API_KEY"); no value."""
    found = _find_api_key(settings, env, cwd)
    return found[1] if found else None


def _find_api_key(
    settings: Settings, env: Mapping[str, str] | None, cwd: Path | None
) -> tuple[str, str] | None:
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    name = settings.connection.api_key_env
    value = (env.get(name) or "").strip()
    if value:
        return value, f"environment variable {name}"
    dotenv_file = cwd / ".env"
    if dotenv_file.is_file():
        # read like the config (regular file, size cap); dotenv_values leaves os.environ be
        text = read_file(dotenv_file, what=".env file").text
        value = (dotenv_values(stream=io.StringIO(text)).get(name) or "").strip()
        if value:
            return value, f"{name} in {dotenv_file}"
    value = settings.connection.api_key.strip()
    if value:
        return value, "api_key in the config file"
    return None
