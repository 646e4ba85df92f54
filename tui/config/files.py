"""The config's files on disk: where they are, reading them safely, writing them atomically."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

try:
    import fcntl
except ImportError:  # not POSIX: saving works, unlocked
    fcntl = None  # type: ignore[assignment]

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


MAX_CONFIG_BYTES = 1 << 20  # 1 MiB: a config file is a few KiB; /dev/zero is endless
LOCK_TIMEOUT_S = 5.0  # another rt-tui holds the lock only while it saves


@dataclass(frozen=True)
class FileText:
    """What a config file held when it was read, and its permission bits."""

    text: str
    mode: int


def read_toml(path: Path) -> dict[str, Any]:
    return parse_toml(read_text(path), path)


def read_text(path: Path) -> str:
    return read_file(path).text


def read_file(path: Path, *, what: str = "config file") -> FileText:
    """A regular file of at most MAX_CONFIG_BYTES, as UTF-8 text; else one ConfigError line.

    Opened with O_NONBLOCK, so a named pipe cannot hang the start, and checked with fstat
    on the open file, so a symlink to /dev/zero cannot eat the memory.
    """
    name = str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise config_error(_missing(path, what), file=name) from None
    except PermissionError:
        raise config_error(
            f"cannot read it: permission denied; fix: chmod u+r {path}", file=name
        ) from None
    except OSError as error:
        raise config_error(f"cannot read it: {error.strerror}", file=name) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise config_error(
                f"is a folder, not a {what} (give the path of a TOML file)", file=name
            )
        if not stat.S_ISREG(info.st_mode):
            raise config_error(
                f"is {_kind(info.st_mode)}, not a regular file; a {what} must be a regular file",
                file=name,
            )
        raw = _read_capped(fd, name)
    except OSError as error:
        raise config_error(f"cannot read it: {error.strerror}", file=name) from None
    finally:
        os.close(fd)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise config_error(
            f"not UTF-8 text (bad byte at offset {error.start}); save it as UTF-8", file=name
        ) from None
    return FileText(text, stat.S_IMODE(info.st_mode))


def _read_capped(fd: int, name: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(fd, 64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_CONFIG_BYTES:
            raise config_error(
                f"is larger than {MAX_CONFIG_BYTES >> 20} MiB, too large for a config file "
                "(is it the right file?)",
                file=name,
            )
    return b"".join(chunks)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _missing(path: Path, what: str) -> str:
    if path.is_symlink():
        return (
            f"is a symbolic link to {os.readlink(path)}, which does not exist; "
            "restore that file or remove the link"
        )
    return f"{what} not found; check the path (without --config the default is used)"


def config_present(path: Path) -> bool:
    """Whether a config file is at the default path: False if nothing is there at all.

    A dangling symlink is an error, not "no config": someone linked a config there (a
    dotfile manager) and running on the defaults instead would quietly use another
    endpoint, model or key than the one they set up. A folder that cannot be searched is
    an error naming the folder and the fix, not a traceback.
    """
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        parent = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise config_error(f"{parent} is a file, not a folder", file=str(path)) from None
    except PermissionError:
        folder = _unsearchable_folder(path)
        raise config_error(
            f"cannot look into the folder {folder}: permission denied; fix: chmod u+rx {folder}",
            file=str(path),
        ) from None
    if path.is_symlink() and not path.exists():
        raise config_error(_missing(path, "config file"), file=str(path))
    return True


def _unsearchable_folder(path: Path) -> Path:
    """The first folder above `path` this process may not look into."""
    for folder in reversed(path.parents):
        if not os.access(folder, os.X_OK):
            return folder
    return path.parent


def write_target(path: Path) -> Path:
    """Where saving `path` writes: through a symlink to the file it points to, so a config
    kept by a dotfile manager stays a link (replacing the link would cut it off)."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise config_error(
            f"is a symbolic link to {target}, whose folder does not exist; not saved",
            file=str(path),
        )
    return target


@contextmanager
def locked(target: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock file beside `target` (flock): one rt-tui at a time re-reads and writes.

    The lock file stays in place (removing it would let two savers lock different files).
    ConfigError if another rt-tui holds it for longer than `timeout` seconds.
    """
    timeout = LOCK_TIMEOUT_S if timeout is None else timeout
    target.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    lock_path = target.with_name(f".{target.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise config_error(
                        f"another rt-tui is saving this file (lock {lock_path}); try again",
                        file=str(target),
                    ) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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
