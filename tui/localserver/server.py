"""The built-in Realtime server: the GA protocol over a loopback websocket, for --demo and tests.

One `LocalServer` accepts any number of connections; each is a `connection.Connection` whose
rooms share its state: `outlet.Outlet` (the ordered way out), `itemstore.ItemStore` (the
conversation), `inputaudio.InputAudio` (buffer, VAD, commits, idle timeout) and
`responder.Responder` (one response at a time; `replies` holds what it says and the event
objects), `toolcalls.ToolCalls` (function calls: typed `call NAME {json}`) and
`remotemcp.RemoteMcp` (emulated remote MCP servers: typed `mcp LABEL TOOL {json}`). The
handshake (auth, model, path, refusal faults) is checked here.

Not simulated: G.711 formats (rejected), out-of-band responses running alongside another,
words in user audio (a spoken turn calls a tool only through tool_choice).

Neighbours: sessionconfig.py (defaults, session.update merge, checks), items.py (conversation
items), validation.py (the client payload schema), vad.py, voice.py (reply audio), faults.py.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from tui.localserver.connection import Connection
from tui.localserver.faults import Faults
from tui.localserver.items import new_id
from tui.localserver.record import SessionRecord
from tui.localserver.sessionconfig import default_session

__all__ = ["AZURE_PATH", "PATH", "LocalServer", "SessionRecord"]

log = logging.getLogger("tui.localserver")

PATH = "/v1/realtime"
# Azure OpenAI's GA path: the deployment is the `model`, the key comes in an `api-key` header
# (an Entra ID token as Bearer)
AZURE_PATH = "/openai/v1/realtime"


SECRET = frozenset({"authorization", "api-key"})  # handshake headers a record leaves out


def credential(headers: Headers, path: str) -> tuple[str, str] | None:
    """(scheme, credential) a handshake authenticates with, as each service takes it:
    `Authorization: Bearer` on both paths, `api-key` on the Azure path only."""
    bearer = headers.get("Authorization", "")
    if bearer.startswith("Bearer ") and bearer[7:].strip():
        return "bearer", bearer[7:].strip()
    key = headers.get("api-key", "")
    if path == AZURE_PATH and key.strip():
        return "api-key", key.strip()
    return None


def _json_response(connection: ServerConnection, status: int, message: str, code: Any) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    response = connection.respond(status, json.dumps(body))
    response.headers = Headers(
        [(k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type"]
    )
    response.headers["Content-Type"] = "application/json"
    return response


class LocalServer:
    """The built-in Realtime server. `async with LocalServer() as server: ... server.url`.

    `realtime_factor` is how much faster than real time reply audio streams (4 = a 100 ms
    delta every 25 ms; read per delta, so it can change mid-reply); `chunk_ms` the audio per
    delta. `faults` is read live by every connection; `next_connection_faults` (a deque)
    gives the next connections their own Faults instead, one entry each, so a test can break
    only the first K connections. With `record_audio=False` the session records keep every
    event but blank the base64 of audio appends and deltas (the wire is unchanged), so a long
    demo or soak run does not hold all its audio in memory. The conversation itself keeps
    every item's audio, as the real server does; `keep_audio_items=N` keeps it for the newest
    N items only, so that a soak's memory figure is the client's rather than this server's.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        realtime_factor: float = 4.0,
        *,
        chunk_ms: int = 100,
        record_audio: bool = True,
        keep_audio_items: int | None = None,
        api_key: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else Faults()
        self.realtime_factor = realtime_factor if realtime_factor > 0 else math.inf
        self.chunk_ms = chunk_ms
        self.record_audio = record_audio
        self.keep_audio_items = keep_audio_items
        self.api_key = api_key  # None: any credential is taken; else only this one
        self.next_connection_faults: collections.deque[Faults] = collections.deque()
        self.sessions: list[SessionRecord] = []
        self.handshakes: list[int] = []  # HTTP status of every handshake on /v1/realtime
        self._server: Server | None = None
        self._faults_by_connection: dict[int, Faults] = {}
        self._connections: set[Connection] = set()
        self._session_added = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{PATH}"

    @property
    def azure_url(self) -> str:
        """The same server on Azure OpenAI's GA path, which also takes an `api-key` header."""
        return f"ws://{self.host}:{self.port}{AZURE_PATH}"

    def break_next_connections(self, faults: Faults, count: int = 1) -> None:
        """Give the next `count` connections `faults` (one shared, live-editable value)."""
        self.next_connection_faults.extend([faults] * count)

    async def start(self) -> LocalServer:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=None,
            compression=None,
            ping_interval=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("local Realtime server listening on %s", self.url)
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close(code=1001, reason="server shutting down")
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> LocalServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_for_session(self, count: int = 1, timeout: float = 5.0) -> SessionRecord:
        """Wait until `count` sessions have opened; return the `count`-th."""
        async with asyncio.timeout(timeout), self._session_added:
            await self._session_added.wait_for(lambda: len(self.sessions) >= count)
        return self.sessions[count - 1]

    def drop_all(self) -> None:
        """Abort every open connection (no close frame), as a network failure would.

        Events already emitted reach the client first; nothing is emitted after."""
        for connection in list(self._connections):
            connection.end(("abort",), "abort")

    def close_all(self, code: int, reason: str = "") -> None:
        """Close every open connection with `code` and `reason`, after what was emitted."""
        for connection in list(self._connections):
            connection.end(("close", code, reason), f"close {code} {reason}".rstrip())

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        path = parts.path.rstrip("/")
        if path not in (PATH, AZURE_PATH):
            return _json_response(
                connection, 404, f"Invalid URL (GET {parts.path}): use {PATH}", "not_found"
            )
        faults = self.next_connection_faults.popleft() if self.next_connection_faults else None
        redirect = (faults or self.faults).redirect_to
        if redirect is not None:
            status = (faults or self.faults).redirect_status
            self.handshakes.append(status)
            response = connection.respond(status, "")
            response.headers["Location"] = redirect
            return response
        refuse = (faults or self.faults).refuse_status
        if refuse is not None:
            self.handshakes.append(refuse)
            reason = HTTPStatus(refuse).phrase if refuse in HTTPStatus._value2member_map_ else ""
            return _json_response(connection, refuse, f"Refused by fault switch: {reason}", None)
        given = credential(request.headers, path)
        if given is None:
            self.handshakes.append(401)
            header = "api-key header" if path == AZURE_PATH else "Authorization header"
            return _json_response(
                connection,
                401,
                f"You didn't provide an API key. Send it in the {header} "
                "(Authorization: Bearer YOUR_KEY).",
                "missing_api_key",
            )
        if self.api_key is not None and given[1] != self.api_key:
            self.handshakes.append(401)  # the key is not repeated, as the real server does not
            return _json_response(connection, 401, "Incorrect API key provided.", "invalid_api_key")
        if not parse_qs(parts.query).get("model") and not parse_qs(parts.query).get("call_id"):
            self.handshakes.append(400)
            return _json_response(
                connection, 400, "Missing required parameter: 'model'.", "missing_model"
            )
        self.handshakes.append(101)
        if faults is not None:
            self._faults_by_connection[id(connection)] = faults
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        model = (query.get("model") or ["gpt-realtime"])[0]
        given = credential(request.headers, parts.path.rstrip("/"))
        faults = self._faults_by_connection.pop(id(ws), None)
        record = SessionRecord(
            id=new_id("sess"),
            model=model,
            headers={k: v for k, v in request.headers.raw_items() if k.lower() not in SECRET},
            faults=faults if faults is not None else self.faults,
            config=default_session(model),
            auth=given[0] if given else "",
        )
        connection = Connection(self, ws, record, own_faults=faults)
        async with self._session_added:
            self.sessions.append(record)
            self._session_added.notify_all()
        self._connections.add(connection)
        log.info("session %s opened (model %s)", record.id, model)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            log.info("session %s ended %s", record.id, record.ended_by or "by the client")
