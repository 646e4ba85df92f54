"""`--demo`'s tools: what a newcomer sees a tool do with no key and nothing installed."""

from __future__ import annotations

import sys

from tui.config.tools import BuiltinSettings, McpServerSettings, ToolsSettings

DEMO_NOTES_SERVER = "notes"
DEMO_TRY = 'call notes__add_note {"text": "hi"}'


def demo_tools() -> ToolsSettings:
    """`--demo`'s tools: the shipped demo MCP server (notes in memory: a demo writes nothing)
    and the clock built-in, so a newcomer sees a call, an approval and a result with no key.
    The user's own [tools] are left out: a demo never starts their servers."""
    notes = McpServerSettings(
        DEMO_NOTES_SERVER, command=sys.executable, args=["-m", "tui.tools.demo_server"]
    )
    return ToolsSettings(mcp=[notes], builtin=BuiltinSettings(clock=True))
