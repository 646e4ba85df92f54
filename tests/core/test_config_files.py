"""Config files can never hurt the user (issue 9, "Files"): odd files, links, two savers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from tui.config import (
    Settings,
    default_config_path,
    load_config,
    load_settings,
    save_changes,
    save_settings,
    startup_warnings,
    with_value,
)
from tui.config import files as config_files
from tui.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-test-files-SECRET-0123456789"


def error_of(path: Path | None, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={}, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- reading odd files


def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path: Path) -> None:
    """It read /dev/zero until the memory ran out. Run in a child with a memory limit, so a
    regression fails the test instead of the machine."""
    link = tmp_path / "config.toml"
    link.symlink_to("/dev/zero")
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from tui.cli import main\n"
        f"sys.exit(main(['--config', {str(link)!r}, 'history']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(link) in result.stderr and "character device" in result.stderr


@pytest.mark.timeout(20)
def test_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    """Reading a FIFO waited for a writer forever: the start hung."""
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    message = error_of(fifo)
    assert str(fifo) in message and "named pipe" in message and "regular file" in message


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"# " + b"x" * config_files.MAX_CONFIG_BYTES + b"\n")
    message = error_of(path)
    assert str(path) in message and "larger than 1 MiB" in message


def test_a_dangling_link_at_the_default_path_is_an_error(tmp_path: Path) -> None:
    """Chosen: an error, not "no config". The link says a config was set up (a dotfile
    manager); running on the defaults would quietly talk to another endpoint or model."""
    link = default_config_path()
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "dotfiles" / "rt-tui.toml")
    message = error_of(None)
    assert str(link) in message and "dotfiles/rt-tui.toml" in message
    assert "does not exist" in message and "remove the link" in message


def test_a_config_folder_that_cannot_be_searched_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It was a PermissionError traceback from Path.exists()."""
    folder = default_config_path().parent
    real_lstat = os.lstat

    def refuse_in_folder(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if Path(str(path)).parent == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "lstat", refuse_in_folder)
    message = error_of(None)
    assert "permission denied" in message and "chmod u+rx" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_a_real_unsearchable_folder_is_one_line() -> None:
    folder = default_config_path().parent
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text("")
    folder.chmod(0)
    try:
        message = error_of(None)
    finally:
        folder.chmod(0o755)
    assert str(folder) in message and "chmod u+rx" in message


def test_an_unreadable_file_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    real_open = os.open

    def refuse(file: object, *args: object, **kwargs: object) -> int:
        if Path(str(file)) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    message = error_of(path)
    assert str(path) in message and f"chmod u+r {path}" in message


# ---------------------------------------------------------------- saving through links


def test_saving_writes_through_a_symlink_and_keeps_the_link(tmp_path: Path) -> None:
    """Saving replaced a dotfile manager's link with a regular file, cutting it off."""
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "rt-tui.toml"
    target.write_text('# mine\n[session]\nvoice = "ash"\n')
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(target)
    save_changes(link, {"session.voice": "cedar"})
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text() == '# mine\n[session]\nvoice = "cedar"\n'
    save_settings(with_value(load_settings(link, env={}), "session.speed", 1.2), link)
    assert link.is_symlink()
    assert load_settings(target, env={}).session.speed == 1.2
    leftovers = {p.name for p in [*dotfiles.iterdir(), *link.parent.iterdir()]}
    assert leftovers == {"rt-tui.toml", ".rt-tui.toml.lock", "config.toml"}


# ---------------------------------------------------------------- two instances


def test_two_instances_saving_different_settings_keep_both(tmp_path: Path) -> None:
    """Instance B saves while instance A is in the middle of its save (holding the lock):
    B waits, then re-reads, so A's change survives and B writes only its own key."""
    path = tmp_path / "config.toml"
    path.write_text('[session]\nvoice = "ash"\n')
    instance_a = load_settings(path, env={})
    instance_b = load_settings(path, env={})
    assert instance_a == instance_b
    b_done = threading.Event()
    failures: list[BaseException] = []

    def save_b() -> None:
        try:
            save_changes(path, {"session.speed": 1.2})
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)
        b_done.set()

    with config_files.locked(path):
        saver = threading.Thread(target=save_b)
        saver.start()
        assert not b_done.wait(0.3)  # B waits for the lock
        # A, holding the lock, writes its change as a save does
        save_a = with_value(instance_a, "session.voice", "cedar")
        config_files.write_atomic(path, b'[session]\nvoice = "cedar"\n', 0o644)
    saver.join(timeout=10)
    assert b_done.is_set() and not failures
    saved = tomllib.loads(path.read_text())
    assert saved["session"] == {"voice": save_a.session.voice, "speed": 1.2}


def test_two_instances_one_after_the_other_keep_both(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    first, second = Settings(), Settings()  # both started before either saved
    save_changes(path, {"session.voice": "cedar"})
    save_changes(path, {"session.speed": 1.2})
    got = load_settings(path, env={})
    assert (got.session.voice, got.session.speed) == ("cedar", 1.2)
    assert first == second == Settings()


def test_a_lock_held_too_long_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setattr(config_files, "LOCK_TIMEOUT_S", 0.0)
    with config_files.locked(path), pytest.raises(ConfigError, match="another rt-tui"):
        save_changes(path, {"session.voice": "cedar"})
    assert not path.exists()


# ---------------------------------------------------------------- a key others can read


@pytest.mark.parametrize(("mode", "who"), [(0o644, "everyone"), (0o640, "your group")])
def test_a_key_in_a_file_others_can_read_is_warned_about(
    tmp_path: Path, mode: int, who: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[connection]\napi_key = "{SECRET}"\n')
    path.chmod(mode)
    loaded = load_config(path, env={})
    assert loaded.settings.connection.api_key == SECRET and loaded.file == path
    [warning] = startup_warnings(loaded, env={})
    assert str(path) in warning and who in warning and f"chmod 600 {path}" in warning
    assert SECRET not in warning


def test_no_warning_for_a_private_file_or_a_file_without_a_key(tmp_path: Path) -> None:
    private = tmp_path / "private.toml"
    private.write_text(f'[connection]\napi_key = "{SECRET}"\n')
    private.chmod(0o600)
    public = tmp_path / "public.toml"
    public.write_text('[session]\nvoice = "ash"\n')
    public.chmod(0o644)
    assert startup_warnings(load_config(private, env={}), env={}) == []
    assert startup_warnings(load_config(public, env={}), env={}) == []


def test_startup_warnings_include_the_environments() -> None:
    loaded = load_config(env={})
    [warning] = startup_warnings(loaded, env={"RT_TUI_SESION_VOICE": "x"})
    assert "RT_TUI_SESSION_VOICE" in warning
