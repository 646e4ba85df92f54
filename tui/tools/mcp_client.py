"""One connection to a local MCP server through the official `mcp` SDK (stdio or streamable HTTP).

Importing this module imports the SDK (about 0.6 s), so the tool box imports it in a worker
thread, never on the way to the first frame. The server's stderr goes to `errlog` (a log
file): the SDK's default is the terminal, which a full-screen app cannot have written over.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TextIO

import anyio
import httpx2
import mcp_types
from mcp import ClientSession, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tui import __version__
from tui.config import safe_url
from tui.config.tools import McpServerSettings
from tui.tools.results import ToolResult
from tui.tools.text import one_line, size_text

MAX_PAGES = 20  # of tools/list: a server that pages forever cannot hang the start
# one message over HTTP (the SDK's default, 1 MiB, fails a 1 MB result: the JSON-RPC answer
# holds the text twice, as content and as structured content); a result is cut for the model
# to `result_limit_kib` anyway, this only bounds what a server can make the client hold
MAX_HTTP_MESSAGE_BYTES = 16 * 1024 * 1024
PROBE_TIMEOUT_S = 5.0  # a ping after a call's connection broke: no answer = the server is gone
CLIENT_INFO = mcp_types.Implementation(name="rt-tui", version=__version__)


class _WatchedStream:
    """The transport's read stream, noting when it ends (the server exited or hung up).

    The SDK's dispatcher reads it until end of stream; the runner waits on `closed` to learn
    that an idle server died, without polling it.
    """

    def __init__(self, inner: Any, closed: asyncio.Event) -> None:
        self._inner = inner
        self._closed = closed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> _WatchedStream:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> Any:
        self._closed.set()
        return await self._inner.__aexit__(*exc)

    def __aiter__(self) -> _WatchedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._inner.__anext__()
        except (StopAsyncIteration, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._closed.set()
            raise

    async def receive(self) -> Any:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._closed.set()
            raise


@dataclass
class Live:
    """An open connection: the SDK session and an event set when the server goes away."""

    session: ClientSession
    closed: asyncio.Event


@asynccontextmanager
async def open_connection(server: McpServerSettings, errlog: TextIO) -> AsyncIterator[Live]:
    """Start (stdio) or reach (HTTP) `server`; no MCP message is sent yet."""
    closed = asyncio.Event()
    async with AsyncExitStack() as stack:
        if server.url:
            http = httpx2.AsyncClient(
                headers=dict(server.headers), timeout=httpx2.Timeout(30.0, read=300.0)
            )
            await stack.enter_async_context(http)
            transport = streamable_http_client(
                server.url, http_client=http, max_sse_event_size=MAX_HTTP_MESSAGE_BYTES
            )
        else:
            params = StdioServerParameters(
                command=server.command,
                args=list(server.args),
                env=dict(server.env) or None,
                cwd=server.cwd or None,
                encoding_error_handler="replace",  # a stray byte is data, not a crash
            )
            transport = stdio_client(params, errlog=errlog)
        read, write = await stack.enter_async_context(transport)
        session = ClientSession(_WatchedStream(read, closed), write, client_info=CLIENT_INFO)
        await stack.enter_async_context(session)
        yield Live(session, closed)


async def handshake(live: Live, timeout_s: float) -> list[mcp_types.Tool]:
    """initialize, then every page of tools/list, within `timeout_s` (TimeoutError)."""
    with anyio.fail_after(timeout_s):
        await live.session.initialize()
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await live.session.list_tools(params=params)
            tools += page.tools
            cursor = page.next_cursor
            if not cursor:
                break
    return tools


async def call_tool(live: Live, name: str, arguments: dict[str, Any]) -> ToolResult:
    """Call tool `name`; the caller bounds the time. Connection loss becomes a failed result."""
    try:
        result = await live.session.call_tool(name, arguments)
    except MCPError as error:
        if error.code == mcp_types.CONNECTION_CLOSED:
            await probe(live)
            if error.message.startswith(UNREADABLE):
                why = one_line(error.message.removeprefix(UNREADABLE), 120)
                return ToolResult.failed(f"the MCP server's answer could not be read ({why})")
            return ToolResult.failed("the MCP server closed the connection during the call")
        return ToolResult.failed(
            f"the MCP server answered with error {error.code}: {error.message}"
        )
    if not isinstance(result, mcp_types.CallToolResult):
        return ToolResult.failed("the MCP server asked for more input, which rt-tui cannot give")
    text = result_text(result)
    return ToolResult.error(text) if result.is_error else ToolResult.ok(text)


UNREADABLE = "SSE stream failed: "  # the SDK's words for an HTTP answer it could not parse


async def probe(live: Live) -> None:
    """A call's connection broke: is the server still there? Over stdio a server that exits
    closes the stream and `closed` is set already; over HTTP nothing closes (each request is
    its own connection), so a dead server would be shown ready until the next call fails. A
    ping settles it: no answer within PROBE_TIMEOUT_S and the server counts as gone (its
    runner then shows it failed and starts over)."""
    if live.closed.is_set():
        return
    try:
        with anyio.fail_after(PROBE_TIMEOUT_S):
            await live.session.send_ping()
    except Exception:  # any failure to answer: timeout, MCPError, a transport error
        live.closed.set()


def result_text(result: mcp_types.CallToolResult) -> str:
    """The content blocks as text: text as is, binary content described, not pasted."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
            kind = "image" if isinstance(block, mcp_types.ImageContent) else "audio"
            size = size_text(len(block.data) * 3 // 4)
            parts.append(f"[{kind} {block.mime_type}, {size}, not shown]")
        elif isinstance(block, mcp_types.ResourceLink):
            parts.append(f"[resource {block.name}: {block.uri}]")
        elif isinstance(block, mcp_types.EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(text if text is not None else f"[resource {resource.uri}, not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts) if parts else "(the tool returned nothing)"


def describe_error(error: BaseException, *, timeout_s: float | None = None, url: str = "") -> str:
    """One line saying why a server could not start or stopped: no traceback, no secret."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, TimeoutError):
        limit = f" within {timeout_s:g} s" if timeout_s else ""
        return f"no answer to initialize or tools/list{limit}"
    if isinstance(error, FileNotFoundError):
        return f"command not found: {one_line(str(error.filename or error), 80)}"
    if isinstance(error, PermissionError):
        return f"permission denied: {one_line(str(error.filename or error), 80)}"
    if isinstance(error, MCPError):
        if error.code == mcp_types.CONNECTION_CLOSED:
            return "the server closed the connection (it may have exited: see its log)"
        return f"MCP error {error.code}: {one_line(error.message, 120)}"
    if isinstance(error, httpx2.HTTPError):
        why = one_line(str(error) or type(error).__name__, 120)
        if isinstance(error, httpx2.ConnectError) and url:
            return f"cannot connect to {safe_url(url)} ({why})"
        return f"HTTP: {why}"
    return one_line(f"{type(error).__name__}: {error}", 160)
