"""Shared test set-up: every test runs with private config/data dirs and no API key."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

VIRTUAL_AUDIO_DIR = Path(os.environ.get("RT_AUDIO_DIR", "/run/rt-virtual-audio"))
AUDIO_LOCK = Path("/tmp/rt-tui-virtual-audio.lock")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG dirs inside tmp_path, no key in the environment, cwd without a .env file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in list(os.environ):
        if name == "OPENAI_API_KEY" or name.startswith("RT_TUI_"):
            monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return tmp_path


def virtual_audio_running() -> bool:
    return (VIRTUAL_AUDIO_DIR / "pulse.sock").exists() and (
        VIRTUAL_AUDIO_DIR / "rt_mic.fifo"
    ).exists()


@pytest.fixture
def virtual_audio() -> Iterator[Path]:
    """The virtual mic/speaker of tests/tools/virtual-audio.sh, held exclusively.

    The devices are shared by every process on the machine (the null sink sums writers),
    so tests that play or record take a file lock for their whole duration.
    Yields the directory holding rt_mic.fifo.
    """
    if not virtual_audio_running():
        pytest.skip("virtual audio is not running: start tests/tools/virtual-audio.sh")
    with AUDIO_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield VIRTUAL_AUDIO_DIR
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
async def local_server():
    """The built-in Realtime server on a free loopback port (default pacing: 4x real time)."""
    from tui.localserver import LocalServer

    async with LocalServer() as server:
        yield server
