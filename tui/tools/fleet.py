"""The local MCP servers of a tool box: one `ServerRunner` each, started in the background and
changed in place when the user edits the settings.

`plan(settings)` makes the runners match the settings: a server whose settings did not change
keeps running (its process, its tools, whatever it holds in memory), one that changed is
stopped and replaced, one removed or disabled is stopped. `start(runners)` imports the MCP SDK
in a worker thread the first time (it would hold the UI loop back), then runs each runner in
its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tui.config.tools import McpServerSettings, ToolsSettings
from tui.tools.registry import ToolSpec
from tui.tools.servers import Backoff, ServerRunner
from tui.tools.text import one_line
from tui.tools.updates import Phase, ServerChanged, ServerState, Update


def preload(with_sdk: bool) -> None:
    """Run in a worker thread: the imports that would hold the first frame back."""
    import jsonschema  # noqa: F401

    if with_sdk:
        import tui.tools.mcp_client  # noqa: F401


class Fleet:
    def __init__(
        self,
        *,
        log_dir: Path,
        post: Callable[[Update], None],
        on_tools: Callable[[], None],
        backoff: Callable[[], Backoff],
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[Any]],
        spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]],
    ) -> None:
        self.log_dir = log_dir
        self._post = post
        self._on_tools = on_tools
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._spawn = spawn
        self.runners: list[ServerRunner] = []
        self._sdk_loaded = False
        self._log_handler: logging.Handler | None = None

    def states(self) -> dict[str, ServerState]:
        return {runner.name: runner.state for runner in self.runners}

    def tools(self) -> list[ToolSpec]:
        return [spec for runner in self.runners for spec in runner.tools]

    def find(self, name: str) -> ServerRunner | None:
        return next((runner for runner in self.runners if runner.name == name), None)

    def plan(self, settings: ToolsSettings) -> list[ServerRunner]:
        """Make the runners match `settings`; returns the new ones (not started yet)."""
        wanted = [server for server in settings.mcp if server.enabled] if settings.enabled else []
        current = {runner.name: runner for runner in self.runners}
        runners: list[ServerRunner] = []
        fresh: list[ServerRunner] = []
        for server in wanted:
            runner = current.pop(server.name, None)
            same = runner is not None and runner.settings == server
            if runner is not None and same and runner.start_timeout_s == settings.start_timeout_s:
                runners.append(runner)
                continue
            if runner is not None:
                runner.stop()
            fresh.append(self._runner(server, settings.start_timeout_s))
            runners.append(fresh[-1])
        for gone in current.values():
            gone.stop()
        self.runners = runners
        return fresh

    async def start(self, runners: list[ServerRunner], *, with_builtins: bool = False) -> None:
        """Import what the tools need (in a thread), then run each of `runners`."""
        try:
            if runners and not self._sdk_loaded:
                await asyncio.to_thread(preload, True)
                self._sdk_loaded = True
            elif with_builtins:
                await asyncio.to_thread(preload, False)
        except Exception as error:  # a broken install: say so per server, keep the rest
            why = one_line(f"the mcp package cannot be loaded: {type(error).__name__}: {error}")
            for runner in runners:
                runner.state = ServerState(runner.name, Phase.FAILED, reason=why)
                self._post(ServerChanged(runner.state))
            self.runners = [runner for runner in self.runners if runner not in runners]
            return
        if runners:
            self._capture_sdk_log()
        for runner in runners:
            if runner in self.runners:  # not replaced again meanwhile
                self._spawn(runner.run())

    def stop(self) -> None:
        for runner in self.runners:
            runner.stop()

    def close_log(self) -> None:
        if self._log_handler is not None:
            logging.getLogger("mcp").removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None

    def _runner(self, server: McpServerSettings, start_timeout_s: float) -> ServerRunner:
        return ServerRunner(
            server,
            start_timeout_s=start_timeout_s,
            log_dir=self.log_dir,
            post=self._post,
            on_tools=self._on_tools,
            backoff=self._backoff(),
            clock=self._clock,
            sleep=self._sleep,
        )

    def _capture_sdk_log(self) -> None:
        """The SDK's own warnings go to a file: with no handler, Python prints them on stderr."""
        if self._log_handler is not None:
            return
        with contextlib.suppress(OSError):
            self.log_dir.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(self.log_dir / "mcp-client.log", encoding="utf-8")
            handler.setLevel(logging.WARNING)
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
            logging.getLogger("mcp").addHandler(handler)
            self._log_handler = handler
