"""The settings panel's Tools tab: the whole [tools] table as a form, with live server states.

It shows the built-in tools (on / off and their approval), each local MCP server (stdio or
streamable HTTP: on / off, how it is reached, its live state from the session: starting,
ready with N tools, failed and why, retrying in N s) with one approval per tool it lists, the
remote `type = "mcp"` servers the Realtime API calls itself (on / off, whether it asks), and
the approval rules that belong to no row above (patterns such as `notes__*`). `value()` is
the edited `ToolsSettings`; the screen checks it and saves it whole
(`save_changes(path, {"tools": value})`). What a server runs and where it listens come from
the config file: drawn inert (tui.printable), URLs through `safe_url`, secrets masked.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.signal import Signal
from textual.widget import AwaitMount, Widget
from textual.widgets import Select, Static, Switch

from tui.config import safe_url
from tui.config.tools import (
    CLOCK_TOOL,
    SHELL_TOOL,
    Approval,
    BuiltinSettings,
    McpServerSettings,
    RemoteMcpSettings,
    ToolsSettings,
)
from tui.config.tools_toml import looks_secret
from tui.printable import one_line
from tui.screens.field_label import FieldLabel
from tui.tools.text import MASK, Redactor
from tui.tools.updates import Phase, SeenState

DEFAULT = "default"  # no setting of the user's: the approvals' own rule decides
BUILTINS = (
    ("clock", CLOCK_TOOL, "The date and time. Read-only: by default it runs without asking."),
    ("shell", SHELL_TOOL, "Runs one shell command. Asks before every command (never 'always')."),
)
APPROVALS_HELP = (
    "Approval of each tool: default = a tool its server marks read-only runs, any other asks; "
    "always / ask / never decide instead."
)
PHASE_STYLE = {
    Phase.READY: "$success",
    Phase.FAILED: "$error",
    Phase.RETRYING: "$warning",
}


ServerStates = Callable[[], Mapping[str, SeenState]]


def approval_options(tool: str) -> list[tuple[str, str]]:
    """The choices for one tool: the shell tool can never be `always` (the config refuses it)."""
    choices = [str(a) for a in Approval if not (tool == SHELL_TOOL and a is Approval.ALWAYS)]
    return [(DEFAULT, DEFAULT), *((choice, choice) for choice in choices)]


def shown_command(server: McpServerSettings) -> str:
    """How a local server is reached, for the screen: the value after a secret-named flag
    (`--token x`, `--api-key=x`) and the server's env and header values masked, inert."""
    if server.url:
        return one_line(f"http: {safe_url(server.url)}")
    words: list[str] = []
    hide_next = False
    for word in [server.command, *server.args]:
        name, equals, _ = word.partition("=")
        if hide_next:
            words.append(MASK)
        elif word.startswith("-") and looks_secret(name):
            words.append(f"{name}={MASK}" if equals else word)
        else:
            words.append(word)
        hide_next = word.startswith("-") and looks_secret(name) and not equals
    redactor = Redactor([*server.env.values(), *server.headers.values()])
    return one_line(f"stdio: {redactor.text(' '.join(words))}")


def state_text(seen: SeenState | None, *, off: str, now: float) -> Content:
    """One line on a local server as the session runs it now (`off`: why it does not run)."""
    if off:
        return Content.from_markup("[$text-muted]○ $off[/]", off=off)
    if seen is None:
        return Content.from_markup("[$text-muted]○ waiting for the session to start it[/]")
    state = seen.state
    said = state.describe(now - seen.since).removeprefix(f"{state.name}: ")
    if state.phase in (Phase.FAILED, Phase.RETRYING) and state.log_path:
        said += f"  (its log: {state.log_path})"
    style = PHASE_STYLE.get(state.phase, "$text-muted")
    return Content.from_markup(f"[{style}]● $said[/]", said=one_line(said))


def remote_text(remote: RemoteMcpSettings) -> str:
    tools = "all its tools" if remote.allowed_tools is None else ", ".join(remote.allowed_tools)
    text = f"remote: {safe_url(remote.url)}: called by the Realtime API itself; offers {tools}"
    if remote.never_ask:
        text += f"; never asks for {', '.join(remote.never_ask)}"
    return one_line(text)


def _is_pattern(name: str) -> bool:
    return "*" in name or "?" in name


class ToolsTab(Vertical):
    def __init__(
        self,
        tools: ToolsSettings,
        *,
        states: ServerStates = dict,
        changed: Signal[Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.tools = tools  # what the session runs now
        self._states = states
        self._changed = changed
        self._monotonic = monotonic
        self._approvals = {name: str(value) for name, value in tools.approvals.items()}
        self._approval_ids: dict[str, str] = {}  # Select id -> tool name or pattern
        self._shown: set[str] = set()  # approval keys that have a row
        self._drawn: dict[str, str] = {}  # state line id -> its text, to skip repaints
        self._mounting: list[AwaitMount] = []  # tool rows a server listed while shown

    # ---- building ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._row(
            "tools on",
            Switch(self.tools.enabled, animate=False, id="t-enabled"),
            help_text="Off: no tool is offered to the model and no server is started.",
        )
        yield Static("", id="e-tools", classes="field-error", markup=False)
        yield Static("Built-in tools", classes="tools-heading")
        for key, tool, what in BUILTINS:
            switch = Switch(getattr(self.tools.builtin, key), animate=False, id=f"t-builtin-{key}")
            yield self._row(
                f"{key} ({tool})",
                Horizontal(switch, self._new_approval(tool), classes="switch-row"),
                help_text=what,
            )
        yield Static("Local MCP servers", classes="tools-heading")
        yield Static(APPROVALS_HELP, classes="field-help", markup=False)
        if not self.tools.mcp:
            yield self._none("[[tools.mcp]]")
        states = self._states()
        for index, server in enumerate(self.tools.mcp):
            yield self._server(index, server, states.get(server.name))
        yield Static("Remote MCP servers", classes="tools-heading")
        if not self.tools.remote:
            yield self._none("[[tools.remote]]")
        for index, remote in enumerate(self.tools.remote):
            yield self._remote(index, remote)
        rules = [name for name in self._approvals if name not in self._shown]
        if rules:
            yield Static("Other approval rules", classes="tools-heading")
            for name in rules:
                yield self._approval_row(name)

    def _none(self, table: str) -> Widget:
        text = f"None configured: add {table} entries to the config file (config.example.toml)."
        return Static(text, classes="field-help", markup=False)

    def _row(self, name: str, *parts: Widget, help_text: str = "", classes: str = "") -> Widget:
        extra = [Static(help_text, classes="field-help", markup=False)] if help_text else []
        return Vertical(FieldLabel(name), *parts, *extra, classes=f"field {classes}".strip())

    def _new_approval(self, tool: str) -> Select[str]:
        self._shown.add(tool)
        select_id = f"t-approval-{len(self._approval_ids)}"
        self._approval_ids[select_id] = tool
        options = approval_options(tool)
        value = self._approvals.get(tool, DEFAULT)
        if value not in [choice for _, choice in options]:
            options.append((value, value))  # never offered, but what the file says is shown
        return Select(options, value=value, allow_blank=False, compact=True, id=select_id)

    def _approval_row(self, tool: str) -> Widget:
        select = self._new_approval(tool)
        return Horizontal(FieldLabel(tool), select, classes="field tool-approval")

    def _server(self, index: int, server: McpServerSettings, seen: SeenState | None) -> Widget:
        prefix = f"{server.name}__"
        configured = [n for n in self._approvals if n.startswith(prefix) and not _is_pattern(n)]
        listed = seen.state.tool_names if seen is not None else ()
        tools = [name for name in dict.fromkeys([*listed, *configured]) if name not in self._shown]
        state = Static(self._state(server, seen), id=f"t-mcp-{index}-state")
        header = self._row(
            server.name,
            Horizontal(
                Switch(server.enabled, animate=False, id=f"t-mcp-{index}"),
                Static(shown_command(server), classes="server-how", markup=False),
                classes="switch-row",
            ),
            state,
        )
        rows = Vertical(
            *[self._approval_row(name) for name in tools],
            id=f"t-mcp-{index}-tools",
            classes="server-tools",
        )
        rows.display = bool(tools)  # shown once the server lists a tool
        return Vertical(header, rows, classes="server")

    def _remote(self, index: int, remote: RemoteMcpSettings) -> Widget:
        asks = Select(
            [("asks before each call", "always"), ("never asks", "never")],
            value=remote.require_approval,
            allow_blank=False,
            compact=True,
            id=f"t-remote-{index}-approval",
        )
        switch = Switch(remote.enabled, animate=False, id=f"t-remote-{index}")
        return self._row(
            remote.name,
            Horizontal(switch, asks, classes="switch-row"),
            help_text=remote_text(remote),
        )

    # ---- live states ---------------------------------------------------------------

    def on_mount(self) -> None:
        if self._changed is not None:
            self._changed.subscribe(self, lambda _: self.refresh_states())
        self.set_interval(1.0, self.refresh_states)  # a retry counts down

    def refresh_states(self) -> None:
        states = self._states()
        for index, server in enumerate(self.tools.mcp):
            seen = states.get(server.name)
            text = self._state(server, seen)
            key = f"t-mcp-{index}-state"
            if self._drawn.get(key) != text.plain:
                self._drawn[key] = text.plain
                self.query_one(f"#{key}", Static).update(text)
            new = [n for n in (seen.state.tool_names if seen else ()) if n not in self._shown]
            if new:
                box = self.query_one(f"#t-mcp-{index}-tools", Vertical)
                box.display = True
                self._mounting.append(box.mount_all([self._approval_row(name) for name in new]))

    async def settled(self) -> None:
        """Rows still being mounted are done: a Select removed in the middle of its mount
        fails (Textual 8.2), so the screen waits for this before it closes."""
        mounting, self._mounting = self._mounting, []
        for rows in mounting:
            await rows

    def _state(self, server: McpServerSettings, seen: SeenState | None) -> Content:
        off = "" if server.enabled else "off"
        if not self.tools.enabled:
            off = "not running: tools are turned off"
        return state_text(seen, off=off, now=self._monotonic())

    # ---- reading -------------------------------------------------------------------

    def value(self) -> ToolsSettings:
        """The form's [tools] (not checked yet: the screen does, through with_value)."""
        tools = copy.deepcopy(self.tools)
        tools.enabled = self._switch("t-enabled")
        tools.builtin = BuiltinSettings(
            clock=self._switch("t-builtin-clock"), shell=self._switch("t-builtin-shell")
        )
        for index, server in enumerate(tools.mcp):
            server.enabled = self._switch(f"t-mcp-{index}")
        for index, remote in enumerate(tools.remote):
            remote.enabled = self._switch(f"t-remote-{index}")
            asks = self.query_one(f"#t-remote-{index}-approval", Select).value
            remote.require_approval = str(asks)
        for select_id, name in self._approval_ids.items():  # read now: no event can lag
            self._approvals[name] = str(self.query_one(f"#{select_id}", Select).value)
        tools.approvals = {
            name: Approval(value) for name, value in self._approvals.items() if value != DEFAULT
        }
        return tools

    def approval_select(self, tool: str) -> Select[str] | None:
        """The approval field of `tool` (a name or a pattern), if the tab shows one."""
        for select_id, name in self._approval_ids.items():
            if name == tool:
                return self.query_one(f"#{select_id}", Select)
        return None

    def _switch(self, widget_id: str) -> bool:
        return self.query_one(f"#{widget_id}", Switch).value

    def first_field(self) -> Widget:
        return self.query_one("#t-enabled")
