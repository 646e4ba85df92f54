"""Real MCP servers for the tests, written with the official SDK's MCPServer.

    python tests/tools/mcp_fixture_server.py [--mode normal|hang_initialize|crash_at_start]
                                             [--http [--port N]]  # streamable HTTP

Over HTTP (on a free port, or port N) it prints `PORT <n>` on stdout once it listens. Tools:
- echo(text): read-only, returns text
- add_item(text): writes (no read-only hint)
- fail(): raises, so the result is an error
- crash(): the process exits in the middle of the call
- hang(): never answers
- big(size): returns `size` bytes of text (1 MB by default)
- header(name): the value of an HTTP request header (HTTP only)
- pid(): the server's process id
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

STDERR_MARKER = "fixture-server-stderr-line"


@asynccontextmanager
async def never_ready(server: MCPServer) -> AsyncIterator[None]:
    await anyio.sleep_forever()  # initialize is never answered
    yield


def build(mode: str) -> MCPServer:
    read_only = ToolAnnotations(read_only_hint=True)
    server = MCPServer(
        "fixture",
        log_level="WARNING",
        lifespan=never_ready if mode == "hang_initialize" else None,
    )

    @server.tool(description="Echo the text back.", annotations=read_only)
    def echo(text: str) -> str:
        return text

    @server.tool(description="Add an item (writes).")
    def add_item(text: str, count: int = 1) -> str:
        return f"added {text} x{count}"

    @server.tool(description="Fail on purpose.")
    def fail() -> str:
        raise ToolError("broken on purpose")

    @server.tool(description="Exit in the middle of the call.")
    def crash() -> str:
        os._exit(3)

    @server.tool(description="Never answer.")
    async def hang() -> str:
        await anyio.sleep_forever()
        return "never"

    @server.tool(description="Return size bytes of text.")
    def big(size: int = 1_000_000) -> str:
        return "x" * size

    @server.tool(description="An HTTP request header.")
    def header(name: str, ctx: Context) -> str:
        return str((ctx.headers or {}).get(name.lower(), ""))

    @server.tool(description="The server's process id.", annotations=read_only)
    def pid() -> str:
        return str(os.getpid())

    return server


async def serve_http(server: MCPServer, port: int = 0) -> None:
    import uvicorn

    config = uvicorn.Config(
        server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning"
    )
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    while not web.started:
        if task.done():
            return
        await asyncio.sleep(0.01)
    port = web.servers[0].sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    await task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="normal")
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    print(STDERR_MARKER, file=sys.stderr, flush=True)
    if args.mode == "crash_at_start":
        sys.exit(7)
    server = build(args.mode)
    if args.http:
        asyncio.run(serve_http(server, args.port))
    else:
        server.run()


if __name__ == "__main__":
    main()
