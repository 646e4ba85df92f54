"""The demo MCP server that ships with rt-tui: a clock and a small notes store, over stdio.

    python -m tui.tools.demo_server [--notes FILE]

Written with the official SDK's MCPServer. `add_note` writes, so by default it asks for
approval; `list_notes` and `current_time` are marked read-only, so they run without asking.
With no `--notes` file the notes live in memory for the life of the process. `--demo` uses
it to show a tool call, an approval and a result without an API key.

    [[tools.mcp]]
    name = "demo"
    command = "python"
    args = ["-m", "tui.tools.demo_server"]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

MAX_NOTE = 2000
MAX_NOTES = 200


class Notes:
    """Notes kept in memory, and in a JSON file when one is given."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.items: list[str] = []
        if path is not None and path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8") or "[]")
            self.items = [str(item) for item in loaded][-MAX_NOTES:]

    def add(self, text: str) -> int:
        self.items = [*self.items, text[:MAX_NOTE]][-MAX_NOTES:]
        if self.path is not None:
            temporary = self.path.with_name(f"{self.path.name}.tmp")
            temporary.write_text(json.dumps(self.items, ensure_ascii=False), encoding="utf-8")
            temporary.replace(self.path)
        return len(self.items)


def build_server(notes: Notes) -> MCPServer:
    server = MCPServer("rt-tui demo", log_level="WARNING")

    @server.tool(
        description="The current local date and time of the user's computer.",
        annotations=ToolAnnotations(title="Current time", read_only_hint=True),
    )
    def current_time() -> str:
        now = datetime.now().astimezone()
        return f"{now.isoformat(timespec='seconds')} ({now:%A %d %B %Y, %H:%M})"

    @server.tool(
        description="Save a short note for the user (it is kept for later).",
        annotations=ToolAnnotations(
            title="Add a note", read_only_hint=False, destructive_hint=False
        ),
    )
    def add_note(text: str) -> str:
        if not text.strip():
            raise ToolError("the note is empty")
        count = notes.add(text.strip())
        return f"Saved note {count}: {text.strip()[:80]}"

    @server.tool(
        description="List the notes saved so far, oldest first.",
        annotations=ToolAnnotations(title="List notes", read_only_hint=True),
    )
    def list_notes() -> str:
        if not notes.items:
            return "There are no notes yet."
        return "\n".join(f"{number}. {text}" for number, text in enumerate(notes.items, 1))

    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tui.tools.demo_server")
    parser.add_argument("--notes", type=Path, help="a JSON file to keep the notes in")
    args = parser.parse_args(argv)
    build_server(Notes(args.notes)).run()


if __name__ == "__main__":
    main()
