"""The tool box: what the session drives. It is told what happened and hands back values.

    box = ToolBox(settings.tools, secrets=[api_key])
    box.start()                       # returns at once; servers start in their own tasks
    session_tools = box.tools()       # the `session.tools` entries right now
    box.on_function_call(call_id, name, arguments)   # response.function_call_arguments.done
    box.on_mcp_approval_request(item_id, label, name, arguments)   # mcp_approval_request
    box.answer(ask_id, Answer.YES)    # the user answered an ApprovalNeeded
    box.cancel_running()              # barge-in: running calls end with a "cancelled" output
    box.reconfigure(new_settings)     # the user edited [tools]: changed servers restart
    update = await box.next_update()  # ServerChanged, ToolsChanged, ApprovalNeeded, CallFinished...
    await box.aclose()

No callback into the session: every outcome is an update, and every call ends in exactly one
`CallFinished` whose `item` answers it (declined, invalid, failed, cancelled and timed-out
calls too). The MCP SDK and jsonschema are imported in a worker thread at `start()`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.config.tools import RemoteMcpSettings, ToolsSettings
from tui.tools.approvals import Action, Answer, Approvals, Ask, Settled, ToolFacts
from tui.tools.arguments import BadSchema
from tui.tools.asking import Questions
from tui.tools.builtins import builtin_tools
from tui.tools.fleet import Fleet
from tui.tools.items import function_call_output, mcp_approval_response, remote_tool
from tui.tools.names import SEPARATOR, legal
from tui.tools.registry import ToolSpec
from tui.tools.results import ToolResult, render
from tui.tools.servers import Backoff, Delays, ServerRunner
from tui.tools.text import Redactor, one_line
from tui.tools.updates import (
    CallFinished,
    CallStarted,
    McpApprovalAnswered,
    Phase,
    ServerState,
    ToolsChanged,
    Update,
)

STOP_BOUND_S = 8.0  # a stdio server gets 2 s to exit after stdin closes, then 2 s after SIGTERM


def default_log_dir() -> Path:
    """`$XDG_STATE_HOME/rt-tui/mcp` (or the platform's state folder): the servers' stderr."""
    import platformdirs

    from tui.config import APP_NAME  # at call time: tui.config will import tui.config.tools

    return platformdirs.user_state_path(APP_NAME) / "mcp"


@dataclass
class _Call:
    task: asyncio.Task[None] | None = None
    running: bool = False  # past approval: the tool itself runs


class ToolBox:
    def __init__(
        self,
        settings: ToolsSettings,
        *,
        log_dir: Path | None = None,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,  # between server attempts
        backoff: Callable[[], Backoff] = Delays,
        now: Callable[[], datetime] | None = None,  # the clock tool's time
        cwd: Path | None = None,  # where shell commands run
    ) -> None:
        self.settings = settings
        self.log_dir = log_dir or default_log_dir()
        self._secrets = list(secrets)
        self._redactor = Redactor([*secrets, *settings.secret_values()])
        self._clock = clock
        self._now, self._cwd = now, cwd
        self._questions = Questions(
            Approvals(settings.approvals, timeout_s=settings.approval_timeout_s),
            post=self._post,
            clock=clock,
        )
        self._builtins, self._remote = self._offered(settings)
        self._fleet = Fleet(
            log_dir=self.log_dir,
            post=self._post,
            on_tools=self._tools_changed,
            backoff=backoff,
            clock=clock,
            sleep=sleep,
            spawn=self._spawn,
        )
        self._fleet.plan(settings)
        self._updates: asyncio.Queue[Update] = asyncio.Queue()
        self._loaded = asyncio.Event()
        self._calls: dict[str, _Call] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._posted_tools: tuple[dict[str, Any], ...] | None = None
        self._started = False
        self._closed = False

    # ------------------------------------------------------------------ what the session reads

    def tools(self) -> list[dict[str, Any]]:
        """The `session.tools` entries now: built-ins, ready local servers' tools, remote."""
        specs = [*self._builtins, *self._fleet.tools()]
        return [spec.entry() for spec in specs] + [remote_tool(r) for r in self._remote]

    def server_states(self) -> dict[str, ServerState]:
        return self._fleet.states()

    @property
    def pending_asks(self) -> tuple[Ask, ...]:
        return self._questions.pending

    async def next_update(self) -> Update:
        return await self._updates.get()

    def pending_updates(self) -> list[Update]:
        """The updates already waiting, without waiting for more."""
        out: list[Update] = []
        while not self._updates.empty():
            out.append(self._updates.get_nowait())
        return out

    # ------------------------------------------------------------------ what the session tells

    def start(self) -> None:
        """Start every configured server in the background; returns at once."""
        self._started = True
        self._spawn(self._boot())

    def reconfigure(self, settings: ToolsSettings) -> None:
        """The user edited [tools]: built-ins, remote servers and approvals change at once, a
        local server whose settings changed is restarted (the others keep running), and a
        `ToolsChanged` follows if the tools offered to the model are not the same."""
        if self._closed:
            return
        before = tuple(self.tools())
        self.settings = settings
        self._redactor = Redactor([*self._secrets, *settings.secret_values()])
        self._questions.approvals.set_policies(
            settings.approvals, timeout_s=settings.approval_timeout_s
        )
        self._builtins, self._remote = self._offered(settings)
        fresh = self._fleet.plan(settings)
        if self._started and fresh:
            self._spawn(self._start_later(fresh))
        if tuple(self.tools()) != before:
            self._tools_changed()

    def on_function_call(self, call_id: str, name: str, arguments: str) -> None:
        """A `function_call` is complete; a `CallFinished` for `call_id` will follow."""
        if self._closed or call_id in self._calls:
            return  # the same call twice (a replayed event) runs once
        call = self._calls[call_id] = _Call()
        call.task = self._spawn(self._handle_call(call_id, call, name, arguments))

    def on_mcp_approval_request(
        self, item_id: str, server_label: str, name: str, arguments: str
    ) -> None:
        """A remote MCP server wants to run `name`: an `McpApprovalAnswered` will follow."""
        if self._closed or item_id in self._calls:
            return
        call = self._calls[item_id] = _Call()
        call.task = self._spawn(self._handle_remote(item_id, server_label, name, arguments))

    def answer(self, ask_id: str, answer: Answer) -> bool:
        """The user's answer to an ask; False if it is no longer waiting (e.g. timed out)."""
        return self._questions.answer(ask_id, answer)

    def cancel(self, call_id: str) -> bool:
        """Cancel one call, waiting for approval or running."""
        call = self._calls.get(call_id)
        if call is None or call.task is None:
            return False
        call.task.cancel()
        return True

    def cancel_running(self) -> list[str]:
        """Barge-in: cancel the calls that run now (not those waiting for an answer)."""
        ids = [call_id for call_id, call in self._calls.items() if call.running]
        for call_id in ids:
            self.cancel(call_id)
        return ids

    async def aclose(self) -> None:
        """Cancel the calls (each still gets its output), stop the servers."""
        self._closed = True
        for call in list(self._calls.values()):
            if call.task is not None:
                call.task.cancel()
        self._fleet.stop()
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=STOP_BOUND_S)
            for task in late:  # e.g. a server still in a hung start
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=STOP_BOUND_S)
        self._fleet.close_log()

    # ------------------------------------------------------------------ inside

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _post(self, update: Update) -> None:
        self._updates.put_nowait(update)

    def _tools_changed(self) -> None:
        tools = tuple(self.tools())
        if tools != self._posted_tools:
            self._posted_tools = tools
            self._post(ToolsChanged(tools))

    def _offered(self, settings: ToolsSettings) -> tuple[list[ToolSpec], list[RemoteMcpSettings]]:
        """The built-in tools and the remote servers these settings turn on."""
        if not settings.enabled:
            return [], []
        builtins = builtin_tools(settings.builtin, now=self._now, cwd=self._cwd)
        return builtins, [remote for remote in settings.remote if remote.enabled]

    async def _boot(self) -> None:
        try:
            await self._fleet.start(list(self._fleet.runners), with_builtins=bool(self._builtins))
        finally:
            self._loaded.set()

    async def _start_later(self, runners: list[ServerRunner]) -> None:
        """Servers added by `reconfigure`: after the first start's imports."""
        await self._loaded.wait()
        await self._fleet.start(runners)

    def _lookup(self, name: str) -> ToolSpec | None:
        specs = [*self._builtins, *self._fleet.tools()]
        return next((spec for spec in specs if spec.name == name), None)

    def _unknown(self, name: str) -> ToolResult:
        server = name.split(SEPARATOR, 1)[0] if SEPARATOR in name else ""
        runner = self._fleet.find(server)
        if runner is not None and runner.state.phase is not Phase.READY:
            return ToolResult.failed(
                f"{name} is not available: MCP server {runner.state.describe()}"
            )
        names = ", ".join(tool["name"] for tool in self.tools() if "name" in tool) or "none"
        return ToolResult.invalid(f"There is no tool named {name!r}. Available: {names}.")

    async def _handle_call(self, call_id: str, call: _Call, name: str, raw: str) -> None:
        try:
            await self._loaded.wait()
            result = await self._decide_and_run(call_id, call, name, raw)
        except asyncio.CancelledError:  # ours (cancel, barge-in, close): answer the model
            self._questions.cancel(call_id)
            result = ToolResult.cancelled()
        except Exception as error:  # a bug must still answer the model, never hang it
            result = ToolResult.failed(one_line(f"{type(error).__name__}: {error}"))
        finally:
            self._calls.pop(call_id, None)
        rendered = render(
            result,
            tool=name,
            limit_bytes=self.settings.result_limit_kib * 1024,
            redactor=self._redactor,
        )
        item = function_call_output(call_id, rendered.output)
        self._post(CallFinished(call_id, name, rendered, item))

    async def _decide_and_run(self, call_id: str, call: _Call, name: str, raw: str) -> ToolResult:
        spec = self._lookup(name)
        if spec is None:
            return self._unknown(name)
        try:
            checked = spec.checker().check(name, raw)
        except BadSchema as error:
            return ToolResult.failed(f"{name} cannot be called: {error}")
        if checked.arguments is None:
            return ToolResult.invalid(checked.problem)
        shown = self._redactor.pretty(checked.arguments)
        decision = self._questions.decide(call_id, spec.facts, shown, spec.origin)
        reason = decision.reason
        if decision.action is Action.DECLINE:
            return ToolResult.declined(f"The user's settings do not allow {name} ({reason}).")
        if decision.ask is not None:
            settled = await self._questions.wait(decision.ask)
            if not settled.approved:
                return ToolResult.declined(self._declined_text(settled))
            reason = (
                "you said always for this session" if settled.how == "always" else "you said yes"
            )
        call.running = True
        arguments = one_line(json.dumps(self._redactor.value(checked.arguments)), 200)
        self._post(CallStarted(call_id, name, arguments, reason))
        timeout = self.settings.call_timeout_s
        try:
            async with asyncio.timeout(timeout):
                return await spec.run(checked.arguments)
        except TimeoutError:
            return ToolResult.timed_out(timeout)
        except OSError as error:  # e.g. a command that cannot start
            return ToolResult.failed(one_line(str(error)))

    def _declined_text(self, settled: Settled) -> str:
        if settled.how == "timeout":
            return (
                f"No answer to the approval request within {self.settings.approval_timeout_s:g} s, "
                "which counts as a no."
            )
        return "The user declined this call."

    async def _handle_remote(self, item_id: str, label: str, name: str, raw: str) -> None:
        approve, reason = False, "cancelled"
        try:
            approve, reason = await self._decide_remote(item_id, label, name, raw)
        except asyncio.CancelledError:
            self._questions.cancel(item_id)
        finally:
            self._calls.pop(item_id, None)
        item = mcp_approval_response(item_id, approve, None if approve else reason)
        self._post(McpApprovalAnswered(item_id, approve, item))

    async def _decide_remote(
        self, item_id: str, label: str, name: str, raw: str
    ) -> tuple[bool, str]:
        tool = f"{legal(label)}{SEPARATOR}{legal(name)}"
        try:
            shown = self._redactor.pretty(json.loads(raw or "{}"))
        except (json.JSONDecodeError, RecursionError):
            shown = one_line(self._redactor.text(raw), 2000)
        origin = f"remote MCP server {label}"
        decision = self._questions.decide(item_id, ToolFacts(tool), shown, origin)
        if decision.action is Action.RUN:
            return True, ""
        if decision.action is Action.DECLINE:
            return False, "not allowed by the user's settings"
        assert decision.ask is not None
        settled = await self._questions.wait(decision.ask)
        if settled.approved:
            return True, ""
        return False, "no answer in time" if settled.how == "timeout" else "declined by the user"
