"""A real terminal for end-to-end tests: rt-tui running in a detached tmux session.

Each `TmuxTerminal` has its own tmux server (its own socket), so tests never see each other's
sessions or a developer's tmux. The screen is read with `capture-pane -p`; waits poll it with a
bounded timeout. The command's exit status is written to a file by the shell that runs it,
because the tmux session (and with it the pane) is gone once rt-tui exits.

Textual draws on stderr: the command never redirects stderr, or the screen stays empty.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

COLUMNS, LINES = 100, 32
SCREEN_TIMEOUT_S = 20.0
POLL_S = 0.05


class ScreenTimeout(AssertionError):
    """The screen did not reach the expected state in time; carries the last capture."""


@dataclass
class TmuxTerminal:
    """One detached tmux session of fixed size running one command."""

    workdir: Path
    env: dict[str, str]
    columns: int = COLUMNS
    lines: int = LINES
    socket: str = field(default_factory=lambda: f"rt-e2e-{uuid.uuid4().hex[:12]}")
    session: str = "rt"
    captures: list[str] = field(default_factory=list)  # every screen seen, for key-leak checks

    @property
    def status_file(self) -> Path:
        return self.workdir / "exit-status"

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=check,
            env=self.env,
            timeout=10,
        )

    def start(self, argv: Sequence[str]) -> None:
        """Run `argv` in the pane; the shell then writes its exit status to `status_file`."""
        command = f"{shlex.join(argv)}; echo $? > {shlex.quote(str(self.status_file))}"
        self.tmux(
            "new-session", "-d", "-s", self.session,
            "-x", str(self.columns), "-y", str(self.lines),
            "-c", str(self.workdir),
            "sh", "-c", command,
        )  # fmt: skip

    def capture(self) -> str:
        result = self.tmux("capture-pane", "-p", "-t", self.session, check=False)
        screen = result.stdout if result.returncode == 0 else ""
        self.captures.append(screen)
        return screen

    def wait_for(
        self, condition: Callable[[str], bool], what: str, timeout: float = SCREEN_TIMEOUT_S
    ) -> str:
        """Poll the screen until `condition(screen)` holds; returns that screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if condition(screen):
                return screen
            time.sleep(POLL_S)  # a poll interval inside a bounded wait, not a timing guess
        raise ScreenTimeout(f"screen never showed {what} within {timeout:.0f} s:\n{screen}")

    def wait_for_text(self, text: str, timeout: float = SCREEN_TIMEOUT_S) -> str:
        return self.wait_for(lambda screen: text in screen, repr(text), timeout)

    def send_keys(self, *keys: str) -> None:
        """tmux key names (Enter, Escape, C-q, m...), each sent on its own.

        Separate calls matter: Escape followed at once by a letter reaches the app as one
        alt+letter sequence.
        """
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)

    def type_text(self, text: str) -> None:
        """Literal text (no key-name lookup)."""
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", self.session, check=False).returncode == 0

    def wait_for_exit(self, timeout: float = SCREEN_TIMEOUT_S) -> int:
        """The command's exit status, once the shell has written it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.status_file.read_text() if self.status_file.exists() else ""
            if text.endswith("\n"):
                return int(text)
            time.sleep(POLL_S)
        raise ScreenTimeout(f"the command did not exit within {timeout:.0f} s:\n{self.capture()}")

    def pane_pid(self) -> int:
        """PID of the pane's shell (rt-tui is its child)."""
        out = self.tmux("display-message", "-p", "-t", self.session, "#{pane_pid}").stdout
        return int(out.strip())

    def kill(self) -> None:
        self.tmux("kill-server", check=False)


def rt_tui_argv(*args: str) -> list[str]:
    """The installed console script, or the module through this interpreter."""
    script = shutil.which("rt-tui")
    return [script, *args] if script else [sys.executable, "-m", "tui", *args]


@pytest.fixture
def terminal(isolated_env: Path) -> Iterator[TmuxTerminal]:
    """A tmux terminal whose environment has the test's private XDG dirs."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    workdir = isolated_env / "term"
    workdir.mkdir()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": str(COLUMNS),
        "LINES": str(LINES),
    }
    env.pop("TMUX", None)  # never attach to a tmux the tests themselves may run in
    term = TmuxTerminal(workdir=workdir, env=env)
    try:
        yield term
    finally:
        term.kill()
