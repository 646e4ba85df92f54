"""The config's files on disk: where they are, reading them safely, writing them atomically."""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from tui.config.problems import config_error

APP_NAME = "rt-tui"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/rt-tui/config.toml`, else the platform's user config folder."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME / "config.toml"
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_DATA_HOME/rt-tui`, else the platform's user data folder."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME
    return platformdirs.user_data_path(APP_NAME)


def read_toml(path: Path) -> dict[str, Any]:
    return parse_toml(read_text(path), path)


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise config_error("config file not found", file=str(path)) from None
    except IsADirectoryError:
        raise config_error("is a folder, not a config file", file=str(path)) from None
    except OSError as error:
        raise config_error(f"cannot read: {error.strerror}", file=str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise config_error(
            f"not UTF-8 text (bad byte at offset {error.start})", file=str(path)
        ) from None


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise config_error(_describe_toml_error(error, text), file=str(path)) from None


def _describe_toml_error(error: tomllib.TOMLDecodeError, text: str) -> str:
    """'invalid TOML at line 3, column 8: Invalid value' (Python 3.11 only has the message)."""
    message = str(error)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        reason = message[: found.start()]
        return f"invalid TOML at line {found.group(1)}, column {found.group(2)}: {reason}"
    found = re.search(r"\s*\(at end of document\)$", message)
    if found:
        lines = text.splitlines() or [""]
        reason = message[: found.start()]
        return (
            f"invalid TOML at line {len(lines)}, column {len(lines[-1]) + 1} "
            f"(end of document): {reason}"
        )
    return f"invalid TOML: {message}"


def write_atomic(target: Path, data: bytes, mode: int) -> None:
    """Temp file in the same folder, fsync, chmod, os.replace: readers see old or new, whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # before any byte of a key is written
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some filesystems do not allow opening a folder; the rename is still atomic
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
