"""RealtimeConnection over real loopback websockets: handshake errors, framing, order, closes."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import Request, Response, ServerConnection, serve
from websockets.datastructures import Headers

from tests.waiting import apoll_until
from tui.errors import (
    AuthError,
    ConnectError,
    ConnectionRefusedError_,
    Disconnected,
    EndpointNotFoundError,
    InsecureKeyError,
    MissingKeyError,
    TLSError,
)
from tui.printable import one_line
from tui.realtime import connection as connection_module
from tui.realtime import events
from tui.realtime.connection import (
    MAX_EARLY_FRAMES,
    MAX_FRAME_BYTES,
    ConnectCancelled,
    ConnectTimeoutError,
    HandshakeError,
    HostNotFoundError,
    InvalidURLError,
    RealtimeConnection,
    RedirectRefusedError,
    SessionNotStartedError,
    build_url,
    is_loopback,
    safe_url,
)
from tui.realtime.events import BadEvent, ServerEvent

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
WAIT = 5.0  # upper bound for anything awaited in these tests

Handler = Callable[[ServerConnection], Awaitable[None]]


@dataclass
class Server:
    """A tiny loopback websocket server that records what the client sent."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    status: int | None = None  # answer the handshake with this HTTP status instead


async def session_created(ws: ServerConnection) -> None:
    await ws.send(json.dumps({"type": "session.created", "event_id": "e0", "session": {}}))


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    servers = []

    async def start(
        handler: Handler | None = None,
        *,
        status: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> Server:
        state = Server(status=status)

        def process_request(ws: ServerConnection, request: Request) -> Response | None:
            state.requests.append(request)
            if state.status is None:
                return None
            body = json.dumps({"error": {"message": f"nope {KEY}"}}).encode()
            return Response(state.status, HTTPStatus(state.status).phrase, Headers(), body)

        async def record_then(ws: ServerConnection) -> None:
            # a Realtime server starts the session first; connect() waits for it
            await (handler or session_created)(ws)
            async for message in ws:
                state.received.append(str(message))

        server = await serve(
            record_then,
            "127.0.0.1",
            0,
            process_request=process_request,
            max_size=None,
            compression=None,
            ssl=tls,
        )
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        state.url = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/v1/realtime"
        return state

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    await apoll_until(condition, timeout, "the condition", step=0.005)


async def next_event(conn: RealtimeConnection) -> ServerEvent | BadEvent:
    async with asyncio.timeout(WAIT):
        return await anext(aiter(conn.events()))


async def disconnect_of(conn: RealtimeConnection) -> Disconnected:
    """Drain events until the connection reports Disconnected."""
    async with asyncio.timeout(WAIT):
        with pytest.raises(Disconnected) as caught:
            async for _ in conn.events():
                pass
    return caught.value


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "model", "expected"),
    [
        (
            "wss://api.openai.com/v1/realtime",
            "gpt-realtime-2",
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-2",
        ),
        ("wss://h/v1/realtime?model=old&x=1", "new", "wss://h/v1/realtime?model=new&x=1"),
        ("ws://127.0.0.1:8765/v1/realtime", "m", "ws://127.0.0.1:8765/v1/realtime?model=m"),
        ("https://h/openai/v1/realtime", "dep 1", "wss://h/openai/v1/realtime?model=dep+1"),
        ("http://localhost:1/v1/realtime?a=b", "", "ws://localhost:1/v1/realtime?a=b"),
    ],
)
def test_build_url(url: str, model: str, expected: str) -> None:
    assert build_url(url, model) == expected


@pytest.mark.parametrize("url", ["ftp://h/v1/realtime", "api.openai.com/v1/realtime", "ws:///x"])
def test_build_url_rejects_bad_urls(url: str) -> None:
    with pytest.raises(InvalidURLError, match=r"wss://|no host"):
        build_url(url, "m")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("ws://127.0.0.1:1/x", True),
        ("ws://127.8.9.10/x", True),
        ("ws://[::1]:80/x", True),
        ("ws://localhost:1/x", True),
        ("ws://LOCALHOST./x", True),
        ("ws://10.0.0.1/x", False),
        ("ws://128.0.0.1/x", False),
        ("wss://api.openai.com/v1/realtime", False),
        ("ws://localhost.evil.com/x", False),
        ("ws://127.0.0.1.nip.io/x", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_safe_url_hides_credentials_and_query_secrets() -> None:
    shown = safe_url("wss://user:pw@h:443/v1/realtime?model=m&api-key=SECRET&token=T2")
    assert shown == "wss://h:443/v1/realtime?model=m&api-key=***&token=***"


# --------------------------------------------------------------------------- handshake


async def test_authorization_header_and_no_beta_header(start_server: Any) -> None:
    server = await start_server(session_created)
    conn = RealtimeConnection(server.url, "gpt-realtime-2", KEY)
    await conn.connect()
    try:
        first = await next_event(conn)
        assert isinstance(first, ServerEvent) and first.type == "session.created"
        request = server.requests[0]
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert "OpenAI-Beta" not in request.headers
        assert "Sec-WebSocket-Extensions" not in request.headers  # compression=None
        assert request.path == "/v1/realtime?model=gpt-realtime-2"
    finally:
        await conn.close()


async def test_the_direct_send_path_is_taken_on_the_websockets_installed(
    start_server: Any,
) -> None:
    """The microphone's blocks go straight to the transport through websockets' internals
    (the public send path costs a task hop a block). CI runs this on the newest websockets
    pyproject allows and on its floor: a release that changed those internals would fall
    back to the queue silently, so the fallback is what this checks is not taken."""
    server = await start_server(session_created)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    try:
        pcm = bytes(960)
        assert conn._write_now(events.audio_append_json(pcm))  # written, not queued
        assert conn.send_audio(pcm) and conn._queue.empty()
        await apoll_until(lambda: len(server.received) == 2, 5, "both blocks at the server")
        assert [json.loads(text)["type"] for text in server.received] == [
            "input_audio_buffer.append"
        ] * 2
    finally:
        await conn.close()


async def test_no_key_sends_no_authorization_on_loopback(start_server: Any) -> None:
    server = await start_server(session_created)
    conn = RealtimeConnection(server.url, "m", None)
    await conn.connect()
    await next_event(conn)
    assert "Authorization" not in server.requests[0].headers
    await conn.close()


async def test_loopback_ignores_proxy_environment(
    start_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    server = await start_server(session_created)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()  # straight to the local server, not via the dead proxy
    assert isinstance(await next_event(conn), ServerEvent)
    await conn.close()


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_error_names_the_env_var_not_the_key(start_server: Any, status: int) -> None:
    server = await start_server(status=status)
    conn = RealtimeConnection(server.url, "m", KEY, key_env="MY_REALTIME_KEY")
    with pytest.raises(AuthError) as caught:
        await conn.connect()
    message = str(caught.value)
    assert f"HTTP {status}" in message and "MY_REALTIME_KEY" in message
    assert "Realtime access" in message
    assert KEY not in message
    assert caught.value.retryable is False
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_404_names_url_and_model_without_query_secrets(start_server: Any) -> None:
    server = await start_server(status=404)
    conn = RealtimeConnection(server.url + "?token=hunter2", "no-such-model", KEY)
    with pytest.raises(EndpointNotFoundError) as caught:
        await conn.connect()
    message = str(caught.value)
    assert "404" in message and "wrong URL or model" in message
    assert "model=no-such-model" in message
    assert "hunter2" not in message and KEY not in message


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (400, False)])
async def test_other_http_status(start_server: Any, status: int, retryable: bool) -> None:
    server = await start_server(status=status)
    conn = RealtimeConnection(server.url, "m", KEY)
    with pytest.raises(HandshakeError) as caught:
        await conn.connect()
    assert caught.value.status == status and caught.value.retryable is retryable
    message = str(caught.value)
    assert f"HTTP {status}" in message
    assert "nope sk-…redacted" in message and KEY not in message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused() -> None:
    conn = RealtimeConnection(f"ws://127.0.0.1:{closed_port()}/v1/realtime", "m", KEY)
    with pytest.raises(ConnectionRefusedError_, match="connection refused") as caught:
        await conn.connect()
    assert caught.value.retryable is True


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 that no system trust store knows."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls_failure_untrusted_certificate(
    start_server: Any, self_signed: tuple[Path, Path]
) -> None:
    cert, key = self_signed
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = await start_server(session_created, tls=tls)
    conn = RealtimeConnection(server.url, "m", KEY)  # the system trust store
    with pytest.raises(TLSError, match="TLS handshake") as caught:
        await conn.connect()
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    # the same server with its certificate trusted: wss works end to end
    trusting = RealtimeConnection(
        server.url, "m", KEY, ssl_context=ssl.create_default_context(cafile=str(cert))
    )
    await trusting.connect()
    assert isinstance(await next_event(trusting), ServerEvent)
    await trusting.close()


async def test_handshake_timeout() -> None:
    accepted = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # never answer; wait for the client to hang up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        conn = RealtimeConnection(f"ws://127.0.0.1:{port}/v1/realtime", "m", KEY, open_timeout=0.3)
        with pytest.raises(ConnectTimeoutError, match="did not answer"):
            await conn.connect()
        assert accepted.is_set()
    finally:
        server.close()
        await server.wait_closed()


async def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    async def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", no_dns)
    conn = RealtimeConnection("wss://no-such-host.invalid/v1/realtime", "m", KEY)
    with pytest.raises(HostNotFoundError, match="cannot resolve"):
        await conn.connect()


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and refuse) every attempt to open a connection."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(connection_module, "_SameOriginConnect", refuse)
    monkeypatch.setattr(asyncio.BaseEventLoop, "create_connection", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(
    "url", ["ws://api.openai.com/v1/realtime", "ws://10.1.2.3:8765/v1/realtime", "http://h/x"]
)
async def test_key_never_sent_over_plain_ws_to_remote_host(no_sockets: list[Any], url: str) -> None:
    conn = RealtimeConnection(url, "m", KEY)
    with pytest.raises(InsecureKeyError, match="wss://") as caught:
        await conn.connect()
    assert KEY not in str(caught.value)
    assert no_sockets == []


async def test_missing_key_for_remote_host(no_sockets: list[Any]) -> None:
    conn = RealtimeConnection("wss://api.openai.com/v1/realtime", "m", None, key_env="RT_KEY")
    with pytest.raises(MissingKeyError, match="set RT_KEY"):
        await conn.connect()
    assert no_sockets == []


async def test_invalid_scheme(no_sockets: list[Any]) -> None:
    conn = RealtimeConnection("ftp://127.0.0.1/v1/realtime", "m", KEY)
    with pytest.raises(InvalidURLError) as caught:
        await conn.connect()
    assert isinstance(caught.value, ConnectError) and caught.value.retryable is False
    assert no_sockets == []


BAD_URLS = [
    ("ws://127.0.0.1:99999/v1/realtime", "port"),
    ("ws://127.0.0.1:abc/v1/realtime", "port"),
    ("ws://" + "a" * 64 + ".localhost/v1/realtime", "63 characters"),
    ("ws://[::1/x", "IPv6"),
]


@pytest.mark.parametrize(("url", "why"), BAD_URLS)
async def test_a_url_that_cannot_be_parsed_is_a_non_retryable_connect_error(
    no_sockets: list[Any], url: str, why: str
) -> None:
    """ValueError/UnicodeError from urllib or the idna codec must not escape connect()."""
    conn = RealtimeConnection(url, "m", KEY)
    with pytest.raises(InvalidURLError) as caught:
        await conn.connect()
    assert caught.value.retryable is False
    message = str(caught.value)
    assert why in message and "[connection] url" in message and KEY not in message
    assert no_sockets == []


async def test_a_value_error_inside_the_websocket_client_is_an_invalid_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The safety net behind build_url's checks: whatever the client cannot encode."""

    async def idna_fails(*args: Any, **kwargs: Any) -> Any:
        raise UnicodeError("encoding with 'idna' codec failed")

    monkeypatch.setattr(connection_module, "_SameOriginConnect", idna_fails)
    conn = RealtimeConnection("ws://127.0.0.1:9/v1/realtime", "m", KEY)
    with pytest.raises(InvalidURLError, match="host name cannot be encoded") as caught:
        await conn.connect()
    assert caught.value.retryable is False


def test_helpers_take_unparseable_urls() -> None:
    assert is_loopback("ws://[::1/x") is False
    assert safe_url("wss://u:pw@[::1/x?api-key=S") == "wss://[::1/x"
    assert safe_url("wss://u:pw@h:99999/v1?api-key=S") == "wss://h:99999/v1?api-key=***"


async def test_debug_logging_never_shows_the_key(
    start_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(session_created)
    conn = RealtimeConnection(server.url, "m", KEY)
    with caplog.at_level(logging.DEBUG):
        await conn.connect()
        await next_event(conn)
        await conn.close()
    # (the test server's own "websockets.server" log shows the key; it is not rt-tui's)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("tui."))
    assert "> Authorization: Bearer sk-…redacted" in ours
    assert KEY not in ours
    assert KEY not in repr(conn)


# --------------------------------------------------------------------------- traffic


async def test_big_frames_both_ways(start_server: Any) -> None:
    pcm = bytes(range(256)) * 8192  # 2 MiB of audio: over websockets' 1 MiB default
    delta = {
        "type": "response.output_audio.delta",
        "event_id": "e1",
        "response_id": "r",
        "item_id": "i",
        "output_index": 0,
        "content_index": 0,
        "delta": base64.b64encode(pcm).decode(),
    }

    async def send_big(ws: ServerConnection) -> None:
        await session_created(ws)
        await ws.send(json.dumps(delta))

    server = await start_server(send_big)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    try:
        stream = aiter(conn.events())
        assert (await anext(stream)).type == "session.created"
        event = await anext(stream)
        assert isinstance(event, ServerEvent) and event.audio == pcm
        assert conn.send(events.audio_append(pcm))
        await wait_for(lambda: len(server.received) == 1)
        assert base64.b64decode(json.loads(server.received[0])["audio"]) == pcm
    finally:
        await conn.close()


async def test_send_from_many_tasks_keeps_order(start_server: Any) -> None:
    server = await start_server()
    sent: list[dict[str, Any]] = []
    conn = RealtimeConnection(server.url, "m", KEY, on_send=sent.append)
    await conn.connect()

    async def producer(task: int) -> None:
        for index in range(50):
            assert conn.send({"type": "input_audio_buffer.append", "audio": f"{task}:{index}"})
            if index % 7 == 0:
                await asyncio.sleep(0)  # interleave the producers

    try:
        await asyncio.gather(*(producer(task) for task in range(20)))
        await wait_for(lambda: len(server.received) == 1000)
        received = [json.loads(text)["audio"] for text in server.received]
        assert received == [event["audio"] for event in sent]  # exactly the send() order
        for task in range(20):
            mine = [int(a.split(":")[1]) for a in received if a.startswith(f"{task}:")]
            assert mine == list(range(50))
    finally:
        await conn.close()


async def test_send_does_not_wait_for_the_socket(start_server: Any) -> None:
    server = await start_server()
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    big = events.audio_append(bytes(1_000_000))
    for _ in range(20):  # 27 MB queued synchronously, no await in between
        assert conn.send(big)
    assert conn.pending >= 19
    await wait_for(lambda: len(server.received) == 20, timeout=20)
    assert conn.pending == 0
    await conn.close()


async def test_hooks_see_events_and_bad_frames(start_server: Any) -> None:
    async def mixed(ws: ServerConnection) -> None:
        await session_created(ws)
        await ws.send(b"\x00binary")
        await ws.send("{oops")

    server = await start_server(mixed)
    seen: list[ServerEvent | BadEvent] = []
    conn = RealtimeConnection(server.url, "m", KEY, on_receive=seen.append)
    await conn.connect()
    got = []
    async with asyncio.timeout(WAIT):
        async for event in conn.events():
            got.append(event)
            if len(got) == 3:
                break
    assert seen == got
    assert [getattr(e, "kind", e.type) for e in got] == ["session.created", "binary", "not_json"]
    await conn.close()


async def test_a_failing_hook_does_not_break_the_wire(
    start_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("inspector bug")

    server = await start_server(session_created)
    conn = RealtimeConnection(server.url, "m", KEY, on_send=broken, on_receive=broken)
    await conn.connect()
    assert conn.send(events.audio_commit())
    assert isinstance(await next_event(conn), ServerEvent)
    await wait_for(lambda: len(server.received) == 1)
    failures = [r for r in caplog.records if r.name == "tui.realtime.connection"]
    assert len(failures) == 2  # one for the send hook, one for the receive hook
    assert all(r.exc_info and "inspector bug" in str(r.exc_info[1]) for r in failures)
    await conn.close()


# --------------------------------------------------------------------------- closing


@pytest.mark.parametrize(("code", "reason"), [(1001, "going away"), (1011, "internal")])
async def test_server_close_raises_disconnected_with_code(
    start_server: Any, code: int, reason: str
) -> None:
    async def close_it(ws: ServerConnection) -> None:
        await session_created(ws)
        await ws.close(code, reason)

    server = await start_server(close_it)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    error = await disconnect_of(conn)
    assert (error.code, error.reason) == (code, reason)
    assert str(code) in str(error) and reason in str(error)
    assert conn.closed
    assert conn.send(events.audio_commit()) is False
    await conn.close()


async def test_abrupt_tcp_drop_raises_disconnected(start_server: Any) -> None:
    async def drop(ws: ServerConnection) -> None:
        await session_created(ws)
        ws.transport.abort()  # no close frame, just a dead TCP connection

    server = await start_server(drop)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    error = await disconnect_of(conn)
    assert error.code == 1006
    assert "connection lost" in str(error)


async def test_close_is_idempotent_and_stops_the_sender(start_server: Any) -> None:
    server = await start_server()
    conn = RealtimeConnection(server.url, "m", KEY)
    assert conn.closed  # not connected yet
    assert conn.send(events.audio_commit()) is False
    await conn.connect()
    assert not conn.closed
    sender = conn._sender
    assert sender is not None
    await conn.close()
    await conn.close()
    assert sender.cancelled() and conn.closed
    assert conn.send(events.audio_commit()) is False
    error = await disconnect_of(conn)
    assert error.code == 1000 and "rt-tui" in str(error)


async def test_a_connection_is_used_once(start_server: Any) -> None:
    server = await start_server()
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    with pytest.raises(RuntimeError, match="used once"):
        await conn.connect()
    await conn.close()


async def test_events_before_connect_raise_disconnected() -> None:
    conn = RealtimeConnection("ws://127.0.0.1:1/v1/realtime", "m", KEY)
    with pytest.raises(Disconnected, match="not connected"):
        async for _ in conn.events():
            pass


# --------------------------------------------------------------------------- hostile servers


async def test_a_frame_over_the_limit_closes_with_1009_and_says_why(start_server: Any) -> None:
    huge = '{"type":"error","x":"' + "a" * MAX_FRAME_BYTES + '"}'

    async def send_huge(ws: ServerConnection) -> None:
        await session_created(ws)
        await ws.send(huge)

    server = await start_server(send_huge)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    stream = aiter(conn.events())
    assert (await anext(stream)).type == "session.created"
    async with asyncio.timeout(WAIT):
        with pytest.raises(Disconnected) as caught:
            await anext(stream)  # refused by the socket: never buffered, never parsed
    error = caught.value
    assert error.code == 1009
    assert error.reason == "the server sent a frame over 16 MiB"
    assert "over 16 MiB" in str(error)
    await conn.close()


async def test_a_frame_over_the_limit_before_the_session_fails_the_connect(
    start_server: Any,
) -> None:
    async def send_huge(ws: ServerConnection) -> None:
        await ws.send("x" * (MAX_FRAME_BYTES + 1))
        await ws.wait_closed()

    server = await start_server(send_huge)
    conn = RealtimeConnection(server.url, "m", KEY)
    with pytest.raises(SessionNotStartedError, match="over 16 MiB") as caught:
        await conn.connect()
    assert caught.value.retryable is True


@dataclass
class RedirectServer:
    """A bare HTTP server that answers every request with one redirect."""

    url: str
    requests: list[bytes]


@pytest.fixture
async def redirect_server() -> AsyncIterator[Callable[[int, str], Awaitable[RedirectServer]]]:
    servers: list[asyncio.Server] = []

    async def start(status: int, location: str) -> RedirectServer:
        requests: list[bytes] = []

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            requests.append(await reader.readuntil(b"\r\n\r\n"))
            phrase = HTTPStatus(status).phrase
            writer.write(
                f"HTTP/1.1 {status} {phrase}\r\nLocation: {location}\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return RedirectServer(f"ws://127.0.0.1:{port}/v1/realtime", requests)

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("status", [301, 302, 307])
async def test_a_redirect_to_another_port_is_refused(
    start_server: Any, redirect_server: Any, status: int
) -> None:
    elsewhere = await start_server()
    redirect = await redirect_server(status, elsewhere.url + "?model=m&token=hunter2")
    conn = RealtimeConnection(redirect.url, "m", KEY)
    with pytest.raises(RedirectRefusedError) as caught:
        await conn.connect()
    error = caught.value
    assert error.retryable is False
    message = str(error)
    assert f"HTTP {status}" in message and elsewhere.url.split("/v1")[0] in message
    assert "[connection] url" in message
    assert KEY not in message and "hunter2" not in message
    assert len(redirect.requests) == 1
    assert elsewhere.requests == []  # refused before the other server was contacted
    assert conn.closed


@pytest.mark.parametrize(
    "location",
    [
        "ws://evil.example/v1/realtime",
        "ws://localhost/v1/realtime",  # another host name, even if it is this machine
        "wss://127.0.0.1/v1/realtime",  # another scheme
        "//evil.example/v1/realtime",  # scheme-relative
        "ws://evil.example/\u202egnp.exe",
    ],
)
async def test_a_redirect_to_another_host_or_scheme_is_refused(
    redirect_server: Any, location: str
) -> None:
    redirect = await redirect_server(302, location)
    conn = RealtimeConnection(redirect.url, "m", KEY)
    with pytest.raises(RedirectRefusedError, match="another server") as caught:
        await conn.connect()
    assert one_line(str(caught.value)) == str(caught.value)  # no control character in it


async def test_a_redirect_within_the_origin_is_followed_with_the_key() -> None:
    requests: list[Request] = []

    def move(ws: ServerConnection, request: Request) -> Response | None:
        requests.append(request)
        if request.path.startswith("/old/"):
            return Response(
                307, "Temporary Redirect", Headers({"Location": "/v1/realtime?model=m"}), b""
            )
        return None

    async with serve(session_created, "127.0.0.1", 0, process_request=move) as server:
        port = server.sockets[0].getsockname()[1]
        conn = RealtimeConnection(f"ws://127.0.0.1:{port}/old/realtime", "m", KEY)
        await conn.connect()
        assert (await next_event(conn)).type == "session.created"
        await conn.close()
    assert [r.path for r in requests] == ["/old/realtime?model=m", "/v1/realtime?model=m"]
    assert requests[1].headers["Authorization"] == f"Bearer {KEY}"


async def silent_after_handshake(ws: ServerConnection) -> None:
    await ws.wait_closed()


async def test_no_session_created_fails_the_connect(start_server: Any) -> None:
    server = await start_server(silent_after_handshake)
    conn = RealtimeConnection(server.url, "m", KEY, created_timeout=0.2)
    with pytest.raises(SessionNotStartedError) as caught:
        await conn.connect()
    error = caught.value
    assert error.retryable is True
    assert "no session.created within 0.2 s" in str(error)
    assert conn.closed
    assert conn.send(events.audio_commit()) is False


async def test_frames_before_session_created_come_first_from_events(start_server: Any) -> None:
    async def chatty(ws: ServerConnection) -> None:
        await ws.send("{oops")
        await ws.send(json.dumps({"type": "rate_limits.updated", "rate_limits": []}))
        await session_created(ws)

    server = await start_server(chatty)
    seen: list[Any] = []
    conn = RealtimeConnection(server.url, "m", KEY, on_receive=seen.append)
    await conn.connect()
    assert seen == []  # the inspector hears them when the session reads them
    got = [await next_event(conn) for _ in range(3)]
    assert [getattr(e, "kind", e.type) for e in got] == [
        "not_json",
        "rate_limits.updated",
        "session.created",
    ]
    assert seen == got
    await conn.close()


async def test_a_flood_before_session_created_fails_the_connect(start_server: Any) -> None:
    async def flood(ws: ServerConnection) -> None:
        while True:
            await ws.send(json.dumps({"type": "rate_limits.updated", "rate_limits": []}))

    server = await start_server(flood)
    conn = RealtimeConnection(server.url, "m", KEY)
    with pytest.raises(SessionNotStartedError, match=f"{MAX_EARLY_FRAMES} frames"):
        await conn.connect()


async def test_a_close_before_session_created_says_what_the_server_said(
    start_server: Any,
) -> None:
    async def refuse(ws: ServerConnection) -> None:
        error = {"type": "invalid_request_error", "message": "Model \x1b[2Jnot found"}
        await ws.send(json.dumps({"type": "error", "event_id": "e", "error": error}))
        await ws.close(1008, "bad \u202emodel")

    server = await start_server(refuse)
    conn = RealtimeConnection(server.url, "m", KEY)
    with pytest.raises(SessionNotStartedError) as caught:
        await conn.connect()
    message = str(caught.value)
    assert "before the session started: 1008 policy violation" in message
    assert "bad model" in message and "Model ␛not found" in message  # tui.printable rules
    assert "\x1b" not in message and "\u202e" not in message


@pytest.mark.parametrize("stage", ["upgrade", "session.created"])
async def test_close_cancels_a_pending_connect_and_closes_its_socket(stage: str) -> None:
    """ctrl+q while connecting: close() ends connect() now, not after the open timeout."""
    accepted = asyncio.Event()
    hung_up = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # b"" once the client has closed its socket
        hung_up.set()
        writer.close()

    async def never_start(ws: ServerConnection) -> None:
        accepted.set()
        await ws.wait_closed()
        hung_up.set()

    if stage == "upgrade":
        server: Any = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    else:
        server = await serve(never_start, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"ws://127.0.0.1:{port}/v1/realtime"
    conn = RealtimeConnection(url, "m", KEY, open_timeout=60, created_timeout=60)
    try:
        connecting = asyncio.create_task(conn.connect())
        async with asyncio.timeout(WAIT):
            await accepted.wait()
            await conn.close()
            with pytest.raises(ConnectCancelled, match="cancelled") as caught:
                await connecting
            await hung_up.wait()  # the socket is closed, not left to the open timeout
        assert caught.value.retryable is False
        assert conn.closed
    finally:
        server.close()
        await server.wait_closed()


async def test_connect_after_close_is_cancelled_without_a_socket(no_sockets: list[Any]) -> None:
    conn = RealtimeConnection("ws://127.0.0.1:9/v1/realtime", "m", KEY)
    await conn.close()
    with pytest.raises(ConnectCancelled):
        await conn.connect()
    assert no_sockets == []


async def test_a_cancelled_caller_still_cancels_the_opening() -> None:
    accepted = asyncio.Event()
    hung_up = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()
        hung_up.set()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = RealtimeConnection(f"ws://127.0.0.1:{port}/v1/realtime", "m", KEY, open_timeout=60)
    try:
        connecting = asyncio.create_task(conn.connect())
        async with asyncio.timeout(WAIT):
            await accepted.wait()
            connecting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await connecting
            await hung_up.wait()
    finally:
        server.close()
        await server.wait_closed()


async def test_close_reason_with_control_characters_is_shown_not_obeyed(
    start_server: Any,
) -> None:
    async def close_it(ws: ServerConnection) -> None:
        await session_created(ws)
        await ws.close(1011, "\x1b]0;owned\x07\x1b[2J\u202eboom")

    server = await start_server(close_it)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    error = await disconnect_of(conn)
    assert error.reason == "␛␛boom"  # sequences shown as one mark each, bidi removed
    assert "\x1b" not in str(error) and "\u202e" not in str(error)


@pytest.mark.benchmark
async def test_benchmark_audio_round_trip(start_server: Any) -> None:
    """Loopback throughput of 20 ms audio events in both directions (printed, not asserted)."""
    count = 2000
    delta = json.dumps(
        {
            "type": "response.output_audio.delta",
            "event_id": "e",
            "response_id": "r",
            "item_id": "i",
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(bytes(960)).decode(),
        }
    )

    async def stream(ws: ServerConnection) -> None:
        await session_created(ws)
        for _ in range(count):
            await ws.send(delta)

    server = await start_server(stream)
    conn = RealtimeConnection(server.url, "m", KEY)
    await conn.connect()
    start = time.perf_counter()
    received = 0
    async for event in conn.events():
        if event.type == "session.created":
            continue
        assert isinstance(event, ServerEvent) and event.audio is not None
        received += 1
        if received == count:
            break
    receive_s = time.perf_counter() - start
    frame = events.audio_append(bytes(960))
    start = time.perf_counter()
    for _ in range(count):
        conn.send(frame)
    enqueue_s = time.perf_counter() - start
    await wait_for(lambda: len(server.received) == count, timeout=30)
    send_s = time.perf_counter() - start
    await conn.close()
    print(
        f"\n{count} x 20 ms audio: receive+parse {receive_s / count * 1e6:.1f} µs/event; "
        f"send() {enqueue_s / count * 1e6:.1f} µs/call; "
        f"delivered to the server {send_s / count * 1e6:.1f} µs/event"
    )


@pytest.mark.benchmark
async def test_benchmark_send_path_cpu() -> None:
    """CPU of the client thread per 20 ms audio_append to the local server, two ways.

    `direct`: send() writes the frame to the transport itself when nothing is queued (it
    drives websockets' protocol and send_data(), internals). `queue`: every event goes
    through the queue and the sender task's `await ws.send()` (public API only). Each send is
    followed by one loop turn, as between two microphone blocks. The server runs on a
    loop of its own in another thread, so time.thread_time() counts the client alone.
    """
    import threading

    from tui.localserver.server import LocalServer

    count = 10_000
    started: asyncio.Future[LocalServer] = asyncio.get_running_loop().create_future()
    stop: list[Callable[[], None]] = []
    main_loop = asyncio.get_running_loop()

    async def run_server() -> None:
        finished = asyncio.Event()
        stop.append(lambda: server_loop.call_soon_threadsafe(finished.set))
        async with LocalServer(record_audio=False) as server:
            main_loop.call_soon_threadsafe(started.set_result, server)
            await finished.wait()

    server_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=server_loop.run_until_complete, args=(run_server(),))
    thread.start()
    try:
        server = await started
        frame = events.audio_append(bytes(960))  # 20 ms of silence: no VAD turn
        figures: dict[str, list[float]] = {"direct": [], "queue": [], "loop turn alone": []}
        for _round in range(3):
            cpu = time.thread_time()
            for _ in range(count):
                await asyncio.sleep(0)
            figures["loop turn alone"].append((time.thread_time() - cpu) / count * 1e6)
            for mode in ("direct", "queue"):
                conn = RealtimeConnection(server.url, "gpt-realtime", KEY)
                if mode == "queue":
                    conn._write_now = lambda text: False  # type: ignore[method-assign]
                await conn.connect()
                session = server.sessions[-1]
                before = len(session.received)
                cpu = time.thread_time()
                for _ in range(count):
                    conn.send(frame)
                    await asyncio.sleep(0)
                figures[mode].append((time.thread_time() - cpu) / count * 1e6)
                await wait_for(lambda s=session, b=before: len(s.received) - b >= count, timeout=60)
                await conn.close()
        print(
            f"\n{count} x 20 ms audio_append, client CPU per send (best of 3, each send + one "
            "loop turn): "
            + "; ".join(f"{mode} {min(values):.1f} µs" for mode, values in figures.items())
            + f"  (all rounds: { {k: [round(v, 1) for v in vs] for k, vs in figures.items()} })"
        )
    finally:
        for call in stop:
            call()
        thread.join(10)
