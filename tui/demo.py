"""`--demo`: the built-in local server on a free loopback port, in its own thread.

The server gets its own event loop so its audio synthesis never competes with the UI loop
for time slices of the same coroutine scheduler.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from concurrent.futures import Future

from tui.tools.settings import BuiltinSettings, McpServerSettings, ToolsSettings

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


class DemoServer:
    """Runs tui.localserver.LocalServer on 127.0.0.1 in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, timeout: float = 10.0) -> str:
        ready: Future[str] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="rt-tui-demo-server", daemon=True
        )
        self._thread.start()
        self.url = ready.result(timeout)
        return self.url

    def _run(self, ready: Future[str]) -> None:
        asyncio.run(self._serve(ready))

    async def _serve(self, ready: Future[str]) -> None:
        from tui.localserver import LocalServer

        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            # record_audio=False: a long demo keeps events but not every audio payload
            async with LocalServer(host=self._host, port=self._port, record_audio=False) as server:
                ready.set_result(server.url)
                await self._stopped.wait()
        except Exception as error:  # reported to the caller of start(), not swallowed
            if not ready.done():
                ready.set_exception(error)
            raise

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
