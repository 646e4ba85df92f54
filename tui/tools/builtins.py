"""The tools rt-tui provides itself, each off unless enabled in `[tools.builtin]`.

- `get_current_time`: the date and time, here or in a named time zone. Read-only.
- `run_shell_command`: one `/bin/sh -c` command. Every call is asked (the prompt shows the
  command in full) and nothing runs without a yes. stdout and stderr are captured together
  (at most `CAPTURE_LIMIT` bytes kept, the rest counted); the command runs in its own process
  group, so a timeout or a cancellation (barge-in) kills it and everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui.config.tools import CLOCK_TOOL, SHELL_TOOL, BuiltinSettings
from tui.tools.approvals import ToolFacts
from tui.tools.registry import ToolSpec
from tui.tools.results import ToolResult
from tui.tools.text import size_text

CAPTURE_LIMIT = 1024 * 1024  # kept of a command's output; the model sees at most the limit
KILL_GRACE_S = 0.5  # between SIGTERM and SIGKILL of a cancelled command's process group


def builtin_tools(
    settings: BuiltinSettings, *, now: Callable[[], datetime] | None = None, cwd: Path | None = None
) -> list[ToolSpec]:
    tools: list[ToolSpec] = []
    if settings.clock:
        tools.append(clock_tool(now or (lambda: datetime.now().astimezone())))
    if settings.shell:
        tools.append(shell_tool(cwd))
    return tools


def clock_tool(now: Callable[[], datetime]) -> ToolSpec:
    async def run(arguments: dict[str, Any]) -> ToolResult:
        zone_name = arguments.get("timezone") or ""
        moment = now()
        if zone_name:
            try:
                moment = moment.astimezone(ZoneInfo(zone_name))
            except (ZoneInfoNotFoundError, ValueError):
                return ToolResult.error(
                    f"unknown time zone {zone_name!r}; use an IANA name such as Europe/Paris"
                )
        zone = zone_name or moment.tzname() or "local time"
        return ToolResult.ok(
            f"{moment.isoformat(timespec='seconds')} ({moment:%A %d %B %Y, %H:%M}, {zone})"
        )

    return ToolSpec(
        name=CLOCK_TOOL,
        origin="built-in",
        description=(
            "Get the current date and time: the user's local time, or the time in an IANA "
            "time zone."
        ),
        parameters={
            "type": "object",
            "properties": {
                "timezone": {
                    "type": "string",
                    "description": "An IANA time zone such as Europe/Paris; omit for local time.",
                }
            },
            "additionalProperties": False,
        },
        facts=ToolFacts(CLOCK_TOOL, read_only=True),
        run=run,
    )


def shell_tool(cwd: Path | None = None) -> ToolSpec:
    async def run(arguments: dict[str, Any]) -> ToolResult:
        return await run_command(arguments["command"], cwd=cwd)

    where = f" in {cwd}" if cwd else " in the folder rt-tui was started from"
    return ToolSpec(
        name=SHELL_TOOL,
        origin="built-in",
        description=(
            f"Run one shell command (/bin/sh -c) on the user's computer{where}. The user sees "
            "the command and must approve every call. Returns the exit code and the combined "
            "stdout and stderr. Prefer short, read-only commands."
        ),
        parameters={
            "type": "object",
            "properties": {
                "command": {"type": "string", "minLength": 1, "description": "The command."}
            },
            "required": ["command"],
            "additionalProperties": False,
        },
        facts=ToolFacts(SHELL_TOOL, always_ask=True),
        run=run,
    )


async def run_command(command: str, *, cwd: Path | None = None) -> ToolResult:
    """Run `command`; cancellation kills its whole process group before it propagates."""
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,  # its own process group: killed as one
        )
    )
    try:
        # shielded: asyncio's own clean-up of a start cancelled half-way waits for the
        # command to exit (it may never), and kills the shell alone, not its children
        process = await asyncio.shield(starting)
    except asyncio.CancelledError:
        await _kill_group(await starting)
        raise
    try:
        kept, total = await _read_capped(process)
        code = await process.wait()
    except BaseException:  # cancelled (barge-in, the call's timeout) or failed: stop it all
        await _kill_group(process)
        raise
    text = kept.decode("utf-8", errors="replace")
    if total > len(kept):
        text += f"\n[output cut: {size_text(total)} in all, the first {size_text(len(kept))} kept]"
    status = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    return ToolResult.ok(f"{status}\n{text}" if text else f"{status} (no output)")


async def _read_capped(process: asyncio.subprocess.Process) -> tuple[bytes, int]:
    assert process.stdout is not None
    kept = bytearray()
    total = 0
    while chunk := await process.stdout.read(65536):
        total += len(chunk)
        if len(kept) < CAPTURE_LIMIT:
            kept += chunk[: CAPTURE_LIMIT - len(kept)]
    return bytes(kept), total


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the group, SIGKILL after a short grace; shielded so that it completes."""

    async def kill() -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), KILL_GRACE_S)
                break
            except TimeoutError:
                continue
        # the leader is reaped; a child it left in the group gets the SIGKILL too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    await asyncio.shield(kill())
