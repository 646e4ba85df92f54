"""A tool the model can call, whatever provides it (a built-in or a local MCP server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tui.tools.approvals import ToolFacts
from tui.tools.arguments import ArgumentChecker
from tui.tools.items import function_tool
from tui.tools.results import ToolResult

Runner = Callable[[dict[str, Any]], Awaitable[ToolResult]]


@dataclass
class ToolSpec:
    name: str  # the public (function) name
    origin: str  # for the approval prompt and the log: "built-in", "MCP server notes"
    description: str
    parameters: dict[str, Any]
    facts: ToolFacts
    run: Runner = field(repr=False)
    _checker: ArgumentChecker | None = field(default=None, repr=False)

    def checker(self) -> ArgumentChecker:
        """The compiled validator of `parameters`, built on first use (raises BadSchema)."""
        if self._checker is None:
            self._checker = ArgumentChecker(self.parameters)
        return self._checker

    def entry(self) -> dict[str, Any]:
        """The `session.tools` entry."""
        return function_tool(self.name, self.description, self.parameters)
