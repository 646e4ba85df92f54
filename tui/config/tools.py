"""The `[tools]` settings: local MCP servers, remote MCP servers, built-in tools, approvals.

`from_toml(table, file)` reads the `[tools]` table of a config file and validates it like the
rest of the config (a ConfigError naming the file, the key such as `tools.mcp[1].command`,
what was given and the fix; unknown keys get a did-you-mean). `to_toml()` gives back the table
to save: only what differs from the defaults, so `from_toml(s.to_toml(), f) == s`.

Cheap to import (no MCP SDK): config loading must not pay for the tools.

```toml
[tools]
call_timeout_s = 60
[tools.builtin]
clock = true
[tools.approvals]
"notes__add_note" = "always"      # a tool name, or a pattern such as "notes__*"
[[tools.mcp]]
name = "notes"
command = "python"
args = ["-m", "tui.tools.demo_server"]
[[tools.remote]]
name = "deepwiki"
url = "https://mcp.deepwiki.com/mcp"
require_approval = "never"
```
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from tui.config.tools_toml import Table, config_error

CLOCK_TOOL = "get_current_time"
SHELL_TOOL = "run_shell_command"
BUILTIN_TOOLS = (CLOCK_TOOL, SHELL_TOOL)

SERVER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_)){0,23}(?<!_)$")
SERVER_NAME_RULE = (
    "1 to 24 letters, digits, '-' or '_' (no '__': it separates the server from the tool), "
    "starting with a letter or digit, not ending with _"
)
APPROVAL_KEY = re.compile(r"^[A-Za-z0-9_*?-]{1,64}$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Approval(StrEnum):
    """What happens when the model calls a tool."""

    ALWAYS = "always"  # run without asking
    NEVER = "never"  # never run; the model is told so
    ASK = "ask"  # ask the user each time


@dataclass
class McpServerSettings:
    """One local MCP server: stdio (`command`) or streamable HTTP (`url`)."""

    name: str
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict, repr=False)  # may hold tokens
    cwd: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # may hold tokens
    enabled: bool = True

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"


@dataclass
class RemoteMcpSettings:
    """An MCP server the Realtime API calls itself (a `{"type": "mcp"}` session tool)."""

    name: str  # server_label
    url: str  # server_url: reachable from OpenAI's servers, not only from this machine
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    allowed_tools: list[str] | None = None  # None: all of the server's tools
    require_approval: str = "always"  # "always" | "never"
    never_ask: list[str] = field(default_factory=list)  # tools exempt from approval
    description: str = ""
    enabled: bool = True


@dataclass
class BuiltinSettings:
    """The tools rt-tui itself provides; each is off unless enabled."""

    clock: bool = False  # get_current_time: read-only
    shell: bool = False  # run_shell_command: every call needs a yes


@dataclass
class ToolsSettings:
    enabled: bool = True
    mcp: list[McpServerSettings] = field(default_factory=list)
    remote: list[RemoteMcpSettings] = field(default_factory=list)
    builtin: BuiltinSettings = field(default_factory=BuiltinSettings)
    approvals: dict[str, Approval] = field(default_factory=dict)
    result_limit_kib: int = 16  # a longer result is cut for the model, with a note
    call_timeout_s: float = 60.0
    start_timeout_s: float = 30.0  # a server's start, initialize and tool list
    approval_timeout_s: float = 120.0  # no answer in time is a no
    tick: bool = False  # a soft click each second while a local tool works in silence

    def secret_values(self) -> list[str]:
        """Values that must never be shown: server env and header values."""
        values = [
            v for server in self.mcp for v in (*server.env.values(), *server.headers.values())
        ]
        values += [v for remote in self.remote for v in remote.headers.values()]
        return [value for value in values if len(value) >= 4]

    def to_toml(self) -> dict[str, Any]:
        """The `[tools]` table to save: values that differ from the defaults."""
        table = _changed(self, ToolsSettings(), skip=("mcp", "remote", "builtin", "approvals"))
        builtin = _changed(self.builtin, BuiltinSettings())
        if builtin:
            table["builtin"] = builtin
        if self.approvals:
            table["approvals"] = {name: str(value) for name, value in self.approvals.items()}
        if self.mcp:
            table["mcp"] = [
                _changed(s, McpServerSettings(s.name), keep=("name",)) for s in self.mcp
            ]
        if self.remote:
            table["remote"] = [
                _changed(r, RemoteMcpSettings(r.name, r.url), keep=("name", "url"))
                for r in self.remote
            ]
        return table


def _changed(
    value: Any, default: Any, *, skip: tuple[str, ...] = (), keep: tuple[str, ...] = ()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields(value):
        item = getattr(value, spec.name)
        if spec.name in skip or (item == getattr(default, spec.name) and spec.name not in keep):
            continue
        if item is not None:
            out[spec.name] = str(item) if isinstance(item, StrEnum) else item
    return out


# --------------------------------------------------------------------------- reading


_TOP_KEYS = (
    "enabled",
    "mcp",
    "remote",
    "builtin",
    "approvals",
    "result_limit_kib",
    "call_timeout_s",
    "start_timeout_s",
    "approval_timeout_s",
    "tick",
)


def from_toml(table: Any, file: str) -> ToolsSettings:
    """Validate the `[tools]` table of `file`; raises ConfigError."""
    top = Table(table, file=file, key="tools", allowed=_TOP_KEYS, title="[tools]")
    settings = ToolsSettings(
        enabled=top.boolean("enabled", True),
        result_limit_kib=top.integer("result_limit_kib", 16, minimum=1, maximum=1024),
        call_timeout_s=top.number("call_timeout_s", 60.0, minimum=1, maximum=3600),
        start_timeout_s=top.number("start_timeout_s", 30.0, minimum=1, maximum=600),
        approval_timeout_s=top.number("approval_timeout_s", 120.0, minimum=5, maximum=3600),
        tick=top.boolean("tick", False),
    )
    if top.has("builtin"):
        builtin = Table(
            top.data["builtin"],
            file=file,
            key="tools.builtin",
            allowed=("clock", "shell"),
            title="[tools.builtin]",
        )
        settings.builtin = BuiltinSettings(
            clock=builtin.boolean("clock", False), shell=builtin.boolean("shell", False)
        )
    settings.approvals = _approvals(top, file)
    settings.mcp = [_mcp_server(entry, file, index) for index, entry in _entries(top, "mcp")]
    settings.remote = [_remote(entry, file, index) for index, entry in _entries(top, "remote")]
    _check_unique(settings, file)
    return settings


def _entries(top: Table, name: str) -> list[tuple[int, Any]]:
    value = top.data.get(name, [])
    if not isinstance(value, list):
        raise top.error(name, f"must be an array of tables: write each entry as [[tools.{name}]]")
    return list(enumerate(value))


def _approvals(top: Table, file: str) -> dict[str, Approval]:
    if not top.has("approvals"):
        return {}
    raw = top.data["approvals"]
    if not isinstance(raw, dict):
        raise top.error("approvals", 'must be a table [tools.approvals] of name = "ask" lines')
    choices = ", ".join(repr(str(a)) for a in Approval)
    approvals: dict[str, Approval] = {}
    for name, value in raw.items():
        key = f"tools.approvals.{name}"
        if not APPROVAL_KEY.match(name):
            raise config_error(
                f"{name!r} is not a tool name or pattern: use letters, digits, '_', '-' and "
                'the wildcards * and ? (e.g. "notes__*")',
                file=file,
                key=key,
            )
        if value not in [str(a) for a in Approval]:
            raise config_error(f"expected one of {choices}, got {value!r}", file=file, key=key)
        if name == SHELL_TOOL and value == Approval.ALWAYS:
            raise config_error(
                f"{SHELL_TOOL} asks before every command; allowed: 'ask' or 'never'",
                file=file,
                key=key,
            )
        approvals[name] = Approval(value)
    return approvals


_MCP_KEYS = ("name", "command", "args", "env", "cwd", "url", "headers", "enabled")


def _mcp_server(entry: Any, file: str, index: int) -> McpServerSettings:
    table = Table(
        entry, file=file, key=f"tools.mcp[{index}]", allowed=_MCP_KEYS, title="[[tools.mcp]]"
    )
    name = _server_name(table)
    server = McpServerSettings(
        name=name,
        command=table.string("command"),
        args=table.strings("args"),
        env=table.string_map("env"),
        cwd=table.string("cwd"),
        url=table.string("url"),
        headers=table.string_map("headers"),
        enabled=table.boolean("enabled", True),
    )
    if bool(server.command.strip()) == bool(server.url.strip()):
        wrote = "both" if server.command.strip() else "neither"
        raise table.error(
            "command",
            f"server {name!r} has {wrote} of 'command' and 'url': give a command (and args) "
            "for a server started over stdio, or a url such as http://127.0.0.1:8000/mcp for "
            "one that already runs",
        )
    if server.url:
        _check_http_url(table, server.url, has_headers=bool(server.headers), remote=False)
        for stdio_only in ("args", "env", "cwd"):
            if table.has(stdio_only):
                raise table.error(stdio_only, f"is for a command; server {name!r} has a url")
    elif server.headers:
        raise table.error("headers", f"are for a url; server {name!r} is started as a command")
    return server


_REMOTE_KEYS = (
    "name",
    "url",
    "headers",
    "allowed_tools",
    "require_approval",
    "never_ask",
    "description",
    "enabled",
)


def _remote(entry: Any, file: str, index: int) -> RemoteMcpSettings:
    table = Table(
        entry,
        file=file,
        key=f"tools.remote[{index}]",
        allowed=_REMOTE_KEYS,
        title="[[tools.remote]]",
    )
    name = _server_name(table)
    url = table.string(
        "url", required=True, fix="give the https:// URL the Realtime API should call"
    )
    _check_http_url(table, url, has_headers=True, remote=True)
    approval = table.string("require_approval", "always")
    if approval not in ("always", "never"):
        raise table.error(
            "require_approval",
            f"expected 'always' or 'never', got {approval!r} (list tools that need no "
            "approval in never_ask)",
        )
    return RemoteMcpSettings(
        name=name,
        url=url,
        headers=table.string_map("headers"),
        allowed_tools=table.strings("allowed_tools") if table.has("allowed_tools") else None,
        require_approval=approval,
        never_ask=table.strings("never_ask"),
        description=table.string("description"),
        enabled=table.boolean("enabled", True),
    )


def _server_name(table: Table) -> str:
    name = table.string("name", required=True, fix='give it a short name such as "notes"')
    if not SERVER_NAME.match(name):
        raise table.error("name", f"expected {SERVER_NAME_RULE}, got {name!r}")
    return name


def _check_http_url(table: Table, url: str, *, has_headers: bool, remote: bool) -> None:
    # imported here: tui.config will import this module to read [tools], so a top-level
    # import would be circular
    from tui.config.urls import safe_url

    shown = repr(safe_url(url))
    example = "https://example.com/mcp" if remote else "http://127.0.0.1:8000/mcp"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise table.error("url", f"expected a URL such as {example}, got {shown}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise table.error("url", f"expected an http(s) URL such as {example}, got {shown}")
    loopback = parts.hostname in LOOPBACK_HOSTS
    if remote and loopback:
        raise table.error(
            "url",
            f"{shown} is on this machine, but a remote server is called by OpenAI's servers: "
            "put a local server in [[tools.mcp]] instead",
        )
    if scheme == "http" and not loopback and (has_headers or remote):
        raise table.error(
            "url",
            f"{shown} would send its headers in clear text; use https:// (http:// only for "
            "127.0.0.1 or localhost)",
        )


def _check_unique(settings: ToolsSettings, file: str) -> None:
    named: tuple[tuple[str, Sequence[McpServerSettings | RemoteMcpSettings]], ...] = (
        ("mcp", settings.mcp),
        ("remote", settings.remote),
    )
    for kind, entries in named:
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            if entry.name in seen:
                raise config_error(
                    f"a second server named {entry.name!r}: each [[tools.{kind}]] needs its "
                    "own name (it prefixes its tools' names)",
                    file=file,
                    key=f"tools.{kind}[{index}].name",
                )
            seen.add(entry.name)
