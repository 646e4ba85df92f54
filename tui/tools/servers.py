"""One local MCP server kept running: started in its own task, watched, restarted with backoff.

States (each posted as a `ServerChanged`): starting -> ready (N tools) -> ... and on any
failure (spawn error, no answer to initialize in time, a crash, a hang-up) failed (why) ->
retrying in N s -> starting again. The delays grow (1, 2, 4 ... 60 s by default) and start
over once a server has stayed ready for `STABLE_S`. A server never blocks another or the
conversation: a hung one only holds its own task, and every wait has a bound. Its stderr
goes to `<log_dir>/<name>.log`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TextIO

from tui.config.tools import McpServerSettings
from tui.tools.approvals import ToolFacts
from tui.tools.arguments import ArgumentChecker, BadSchema
from tui.tools.items import parameters_schema
from tui.tools.names import function_name
from tui.tools.registry import ToolSpec
from tui.tools.results import ToolResult
from tui.tools.updates import Phase, ServerChanged, ServerState, Update

STABLE_S = 30.0  # ready this long: the next failure starts the delays over
LOG_ROTATE_BYTES = 1024 * 1024


class Backoff(Protocol):
    """Delays between attempts (tui.realtime.backoff.Backoff fits too)."""

    def next(self) -> float: ...

    def reset(self) -> None: ...


class Delays:
    """first, first*factor, ... capped: predictable, so the log can say 'retrying in 4 s'."""

    def __init__(self, first: float = 1.0, factor: float = 2.0, cap: float = 60.0) -> None:
        self.first, self.factor, self.cap = first, factor, cap
        self._count = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * self.factor**self._count)
        self._count += 1
        return delay

    def reset(self) -> None:
        self._count = 0


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Read a finished task's outcome so that one nobody awaits logs no 'never retrieved'."""
    if not task.cancelled():
        task.exception()


class ServerRunner:
    def __init__(
        self,
        settings: McpServerSettings,
        *,
        start_timeout_s: float,
        log_dir: Path,
        post: Callable[[Update], None],
        on_tools: Callable[[], None],
        backoff: Backoff,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[Any]],
    ) -> None:
        self.settings = settings
        self.start_timeout_s = start_timeout_s
        self.log_path = log_dir / f"{settings.name}.log"
        self._post = post
        self._on_tools = on_tools
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._stop = asyncio.Event()
        self._live: Any = None  # mcp_client.Live while ready
        self.tools: list[ToolSpec] = []
        self.attempts = 0
        self.state = ServerState(settings.name, Phase.STARTING, log_path=str(self.log_path))

    @property
    def name(self) -> str:
        return self.settings.name

    def stop(self) -> None:
        self._stop.set()

    def _set(self, phase: Phase, **fields: Any) -> None:
        self.state = ServerState(
            self.name, phase, attempt=self.attempts, log_path=str(self.log_path), **fields
        )
        self._post(ServerChanged(self.state))

    async def run(self) -> None:
        """Until stop(): attempt, and after a failure wait and attempt again."""
        from tui.tools import mcp_client  # the SDK: imported in a thread by the tool box first

        try:
            while not self._stop.is_set():
                self.attempts += 1
                self._set(Phase.STARTING)
                ready_since, reason = await self._attempt(mcp_client)
                if self._stop.is_set():
                    break
                self._set(Phase.FAILED, reason=reason)
                if ready_since is not None and self._clock() - ready_since >= STABLE_S:
                    self._backoff.reset()
                delay = self._backoff.next()
                self._set(Phase.RETRYING, reason=reason, retry_in_s=delay)
                await self._until_stop_or(self._sleep(delay))
        finally:
            self._set(Phase.STOPPED)

    async def _attempt(self, client: Any) -> tuple[float | None, str]:
        """One start; returns when the server is gone: (when it became ready, why it ended)."""
        ready_since: float | None = None
        log = self._open_log()
        try:
            async with client.open_connection(self.settings, log) as live:
                # a stop (quitting) ends a start that hangs now, not at its timeout
                handshake = asyncio.ensure_future(client.handshake(live, self.start_timeout_s))
                handshake.add_done_callback(_retrieved)  # a stop leaves it unawaited
                await self._until_stop_or(handshake)
                if self._stop.is_set():
                    return ready_since, "stopped"
                listed = handshake.result()
                self.tools, skipped = self._specs(listed)
                self._live = live
                ready_since = self._clock()
                note = f"skipped {len(skipped)}: {'; '.join(skipped)}" if skipped else ""
                names = tuple(spec.name for spec in self.tools)
                self._set(Phase.READY, tools=len(self.tools), reason=note, tool_names=names)
                self._on_tools()
                await self._until_stop_or(live.closed.wait())
                return ready_since, "the server exited or closed the connection"
        except Exception as error:  # ExceptionGroup included: anything ends this attempt only
            why = client.describe_error(
                error, timeout_s=self.start_timeout_s, url=self.settings.url
            )
            return ready_since, why
        finally:
            if self._live is not None or self.tools:
                self._live = None
                self.tools = []
                self._on_tools()
            log.close()

    async def _until_stop_or(self, awaitable: Awaitable[Any]) -> None:
        other = asyncio.ensure_future(awaitable)
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({other, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (other, stopping):
                task.cancel()

    def _open_log(self) -> TextIO:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            if self.log_path.stat().st_size > LOG_ROTATE_BYTES:
                self.log_path.replace(self.log_path.with_name(f"{self.log_path.name}.1"))
        log = self.log_path.open("a", encoding="utf-8", errors="replace", buffering=1)
        stamp = datetime.now().isoformat(timespec="seconds")
        log.write(f"== rt-tui: starting {self.name!r} (attempt {self.attempts}) at {stamp}\n")
        return log

    def _specs(self, listed: list[Any]) -> tuple[list[ToolSpec], list[str]]:
        taken: set[str] = set()
        specs: list[ToolSpec] = []
        skipped: list[str] = []
        for tool in listed:
            try:
                checker = ArgumentChecker(tool.input_schema)
            except BadSchema as error:
                skipped.append(f"{tool.name}: {error}")
                continue
            name = function_name(self.name, tool.name, taken)
            hints = tool.annotations
            spec = ToolSpec(
                name=name,
                origin=f"MCP server {self.name}",
                description=tool.description or tool.title or f"{tool.name} ({self.name})",
                parameters=parameters_schema(tool.input_schema),
                facts=ToolFacts(name, read_only=bool(hints and hints.read_only_hint)),
                run=partial(self.call, tool.name),
            )
            spec._checker = checker
            specs.append(spec)
        return specs, skipped

    async def call(self, tool_name: str, arguments: dict[str, Any]) -> ToolResult:
        live = self._live
        if live is None:
            return ToolResult.failed(
                f"the MCP server {self.name!r} is not running ({self.state.describe()})"
            )
        from tui.tools import mcp_client

        return await mcp_client.call_tool(live, tool_name, arguments)
