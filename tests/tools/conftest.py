"""Fixtures for the tools tests: real MCP servers (tests/tools/mcp_fixture_server.py) over stdio
and streamable HTTP on 127.0.0.1, and a ToolBox that is always closed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tui.config.tools import McpServerSettings, ToolsSettings
from tui.tools.toolbox import ToolBox
from tui.tools.updates import Update

FIXTURE_SERVER = Path(__file__).with_name("mcp_fixture_server.py")
U = TypeVar("U")
NEXT_OF_TIMEOUT_S = 30.0  # the longest a test waits for one update


def stdio_server(name: str = "fx", mode: str = "normal", **extra: Any) -> McpServerSettings:
    return McpServerSettings(
        name=name, command=sys.executable, args=[str(FIXTURE_SERVER), "--mode", mode], **extra
    )


class HttpFixture:
    """The fixture server over streamable HTTP, as a subprocess on a loopback port: `url`;
    `kill()` ends it at once (SIGKILL: no goodbye), `restart()` starts it again on the same
    port."""

    def __init__(self) -> None:
        self.port = 0
        self.process = self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, str(FIXTURE_SERVER), "--http", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the server listens (or dies: "")
        assert line.startswith("PORT "), f"the HTTP fixture server did not start: {line!r}"
        self.port = int(line.split()[1])
        return process

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        self.process = self._start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def http_fixture() -> Iterator[HttpFixture]:
    server = HttpFixture()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_url(http_fixture: HttpFixture) -> str:
    return http_fixture.url


@pytest.fixture
async def make_box(tmp_path: Path) -> AsyncIterator[Callable[..., ToolBox]]:
    boxes: list[ToolBox] = []

    def make(settings: ToolsSettings, **options: Any) -> ToolBox:
        options.setdefault("log_dir", tmp_path / "logs")
        box = ToolBox(settings, **options)
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        await box.aclose()


async def next_of(
    box: ToolBox,
    kind: type[U],
    where: Callable[[U], bool] = lambda _: True,
    *,
    timeout: float = NEXT_OF_TIMEOUT_S,
    seen: list[Update] | None = None,
) -> U:
    """The next update of `kind` matching `where`; others are kept in `seen`."""
    async with asyncio.timeout(timeout):
        while True:
            update = await box.next_update()
            if seen is not None:
                seen.append(update)
            if isinstance(update, kind) and where(update):
                return update
