"""One websocket to a Realtime endpoint: handshake, a non-blocking sender, a receive loop.

`RealtimeConnection` turns every way a connect can fail into one distinct
`ConnectError` subclass whose message says what to do, and never contains the key.
Reconnecting is the session's job (with `backoff.Backoff`); a connection object is
used once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidProxy,
    InvalidStatus,
    InvalidURI,
    ProxyError,
    WebSocketException,
)
from websockets.protocol import State

from tui.config import safe_url
from tui.config.choices import AUTH_AUTO
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
from tui.realtime import events
from tui.realtime.auth import auth_headers
from tui.realtime.events import MAX_FRAME, BadEvent, ServerEvent
from tui.realtime.redact import RedactingLogger

log = logging.getLogger(__name__)
WEBSOCKETS_LOG = logging.getLogger("tui.realtime.websockets")

OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
# A server that completes the handshake but never starts the session is as good as down:
# connect() waits this long for session.created, then fails (and the session retries).
CREATED_TIMEOUT = 10.0
# Frames a server may send before session.created (the real one sends none): a server that
# floods instead of starting the session is refused rather than buffered without end.
MAX_EARLY_FRAMES = 32
# The largest frame the socket takes. session.created and response.done can exceed
# websockets' 1 MiB default; a bigger frame is refused by the websocket layer before it is
# buffered (close code 1009), so a hostile 1 GiB frame costs no memory and no freeze.
MAX_FRAME_BYTES = MAX_FRAME


# Events up to this size (a 20 ms audio block is ~1.3 kB of JSON) skip the sender queue when
# nothing waits in it; bigger ones (a long text, an image) take the queue and its flow control.
DIRECT_WRITE_MAX_CHARS = 16_384


# Failures tui.errors has no class for. They live here, next to the only code that raises
# them, and stay ConnectError subclasses so callers can catch the family.
class HandshakeError(ConnectError):
    """The server answered the websocket upgrade with an unexpected HTTP status or reply."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        # 5xx and 429 are worth retrying; other 4xx answers will not change by themselves.
        self.retryable = status is None or status >= 500 or status == 429
        super().__init__(message)


class HostNotFoundError(ConnectError):
    """DNS could not resolve the host (typo in the URL, or no network)."""


class ConnectTimeoutError(ConnectError):
    """The server did not complete the handshake in time."""


class InvalidURLError(ConnectError):
    """The endpoint URL cannot be a websocket URL (scheme, host)."""

    retryable = False


class RedirectRefusedError(ConnectError):
    """The server redirected the handshake to another origin (scheme, host or port)."""

    retryable = False


class SessionNotStartedError(ConnectError):
    """The websocket opened, but the server did not start the session (no session.created)."""


class ConnectCancelled(ConnectError):
    """close() was called while connect() was still under way."""

    retryable = False


# --------------------------------------------------------------------------- URLs

# Query parameters that are safe to show; everything else is masked in messages.
_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


def build_url(url: str, model: str) -> str:
    """`url` with its `model` query parameter set to `model` (added or replaced).

    http(s):// is turned into ws(s):// as the official SDK does; an empty model leaves
    the query as given.
    """
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises for a port that is not a number or out of range)
        (parts.hostname or "").encode("idna")  # UnicodeError for a label over 63 characters
    except ValueError as error:
        raise _invalid_url(url, error) from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise InvalidURLError(
            f"the endpoint URL {safe_url(url)!r} must start with wss:// (or ws:// for a "
            "local server), e.g. wss://api.openai.com/v1/realtime; set [connection] url"
        )
    if not parts.hostname:
        raise InvalidURLError(f"the endpoint URL {safe_url(url)!r} has no host name")
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    if model:
        query = [(key, value) for key, value in query if key != "model"]
        query.insert(0, ("model", model))
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def is_loopback(url: str) -> bool:
    """True when the URL's host is this machine: 127.0.0.0/8, ::1 or localhost."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return False  # an unreadable URL is not known to be local
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _invalid_url(url: str, error: ValueError) -> InvalidURLError:
    """A URL the standard library or the websocket client could not take apart or encode."""
    if isinstance(error, UnicodeError):
        why = "its host name cannot be encoded (each dot-separated part must be 1 to 63 characters)"
    elif "port" in str(error).lower():
        why = "its port must be a number from 1 to 65535"
    else:
        why = str(error) or type(error).__name__
    return InvalidURLError(
        f"invalid endpoint URL {safe_url(url)!r}: {why}; set [connection] url, "
        "e.g. wss://api.openai.com/v1/realtime"
    )


# --------------------------------------------------------------------------- connection

SendHook = Callable[[dict[str, Any]], None]
ReceiveHook = Callable[[ServerEvent | BadEvent], None]


def check_key_use(url: str, api_key: str | None, key_env: str = "OPENAI_API_KEY") -> None:
    """Refuse, before any socket opens, a remote endpoint without a key or over plain ws://."""
    shown = safe_url(url)
    loopback = is_loopback(url)
    if api_key is None and not loopback:
        raise MissingKeyError(
            f"no API key for {shown}; set {key_env} (environment or .env file) "
            "or api_key in the config file"
        )
    if api_key is not None and url.startswith("ws:") and not loopback:
        raise InsecureKeyError(
            f"refusing to send the API key over unencrypted ws:// to {shown}; "
            "use wss:// (plain ws:// is only allowed for 127.0.0.1, ::1 and localhost)"
        )


class RealtimeConnection:
    """A websocket to a Realtime endpoint.

    `await connect()`, then `send(event)` from anywhere on the loop (never blocks) and
    `async for ev in conn.events()` in one consumer; `events()` ends by raising
    `Disconnected`. `on_send`/`on_receive` see every event (for the inspector).
    """

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None,
        *,
        on_send: SendHook | None = None,
        on_receive: ReceiveHook | None = None,
        key_env: str = "OPENAI_API_KEY",
        auth: str = AUTH_AUTO,
        open_timeout: float = OPEN_TIMEOUT,
        created_timeout: float = CREATED_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.model = model
        self.on_send = on_send
        self.on_receive = on_receive
        self.key_env, self.auth = key_env, auth
        self.open_timeout = open_timeout
        self.created_timeout = created_timeout
        self._api_key = api_key or None
        self._ssl = ssl_context
        self._ws: ClientConnection | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._opening: asyncio.Future[ClientConnection] | None = None
        self._early: list[ServerEvent | BadEvent] = []  # read by connect(), given by events()
        self._closing = False

    def __repr__(self) -> str:  # never shows the key
        return f"RealtimeConnection({safe_url(self.url)!r}, model={self.model!r})"

    # ----------------------------------------------------------------- connect

    @property
    def full_url(self) -> str:
        return build_url(self.url, self.model)

    @property
    def closed(self) -> bool:
        """True before connect(), after close(), and once the socket has closed."""
        return self._ws is None or self._closing or self._ws.close_code is not None

    async def connect(self) -> None:
        """Open the websocket and wait for `session.created`. Raises a ConnectError subclass
        naming the fix; `ConnectCancelled` when close() is called meanwhile.

        `session.created` (and anything that came before it) is still delivered by
        `events()`: connect() only makes sure the server really started a session.
        """
        if self._ws is not None or self._opening is not None:
            raise RuntimeError("a RealtimeConnection is used once; make a new one to reconnect")
        url = self.full_url
        shown = safe_url(url)
        if self._closing:
            raise ConnectCancelled(f"connecting to {shown} was cancelled")
        check_key_use(url, self._api_key, self.key_env)
        # The opening runs as its own task so that close() can cancel it at once: a pending
        # handshake must not hold up quitting for the open timeout.
        opening = asyncio.ensure_future(self._open(url, shown))
        self._opening = opening
        try:
            ws = await opening
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._closing and not (task is not None and task.cancelling()):
                raise ConnectCancelled(f"connecting to {shown} was cancelled") from None
            raise
        finally:
            self._opening = None
        if self._closing:  # close() came just as the opening finished
            ws.transport.abort()
            raise ConnectCancelled(f"connecting to {shown} was cancelled")
        self._ws = ws
        self._sender = asyncio.create_task(self._send_loop(), name="realtime-sender")

    async def _open(self, url: str, shown: str) -> ClientConnection:
        ws = await self._handshake(url, shown)
        try:
            self._early = await self._await_session(ws, shown)
        except BaseException:  # a failure, a timeout or close(): the socket goes too
            ws.transport.abort()
            raise
        return ws

    async def _handshake(self, url: str, shown: str) -> ClientConnection:
        return await open_websocket(
            url,
            shown,
            api_key=self._api_key,
            auth=self.auth,
            key_env=self.key_env,
            open_timeout=self.open_timeout,
            ssl_context=self._ssl,
        )

    async def _await_session(
        self, ws: ClientConnection, shown: str
    ) -> list[ServerEvent | BadEvent]:
        """Frames up to and including session.created, read within `created_timeout`."""
        early: list[ServerEvent | BadEvent] = []
        try:
            async with asyncio.timeout(self.created_timeout):
                while True:
                    event = events.parse(await ws.recv())
                    early.append(event)
                    if isinstance(event, ServerEvent) and event.type == "session.created":
                        return early
                    if len(early) >= MAX_EARLY_FRAMES:
                        raise SessionNotStartedError(
                            f"{shown} sent {len(early)} frames but no session.created; "
                            "is it a Realtime endpoint? check [connection] url"
                        )
        except TimeoutError:
            raise SessionNotStartedError(
                f"{shown} opened the websocket but did not start a session (no "
                f"session.created within {self.created_timeout:g} s); the server may be "
                "overloaded"
            ) from None
        except ConnectionClosed as closed:
            said = _server_error_message(early)
            raise SessionNotStartedError(
                f"{shown} closed the connection before the session started: "
                f"{_describe_close(closed)}" + (f"; it said: {said}" if said else "")
            ) from None

    # ----------------------------------------------------------------- send

    def send(self, event: dict[str, Any]) -> bool:
        """Queue `event` for the sender task; never blocks. False if the socket is closed."""
        if self.closed:
            log.debug("dropped %s: connection closed", event.get("type"))
            return False
        text = json.dumps(event, separators=(",", ":"))
        if not self._write_now(text):
            self._queue.put_nowait(text)
        if self.on_send is not None:
            _call_hook(self.on_send, event)
        return True

    def send_audio(self, pcm: bytes) -> bool:
        """`input_audio_buffer.append` for one microphone block, written as text directly
        (events.audio_append_json). The on_send hook is not called: the session uses
        send(events.audio_append(pcm)) instead while the inspector watches."""
        if self.closed:
            return False
        text = events.audio_append_json(pcm)
        if not self._write_now(text):
            self._queue.put_nowait(text)
        return True

    def _write_now(self, text: str) -> bool:
        """Write `text` to the socket at once when nothing is queued ahead of it.

        The common case (a 20 ms microphone block, 50 a second) then costs no hop through the
        queue and the sender task, i.e. one loop wakeup fewer per block. It does only what
        websockets' own send() does when the socket is open and not applying back-pressure:
        frame the text and hand the bytes to the transport. Anything else (queued events,
        a paused transport, a closing socket, a fragmented send, a big event that should wait
        its turn behind flow control) goes through the queue.
        """
        ws = self._ws
        if (
            ws is None
            or len(text) > DIRECT_WRITE_MAX_CHARS
            or not self._queue.empty()
            or ws.paused
            or ws.send_in_progress is not None
            or ws.protocol.state is not State.OPEN
            or ws.transport.is_closing()
        ):
            return False
        ws.protocol.send_text(text.encode())
        ws.send_data()
        return True

    async def _send_loop(self) -> None:
        assert self._ws is not None
        ws = self._ws
        while True:
            text = await self._queue.get()
            try:
                await ws.send(text)
            except ConnectionClosed:
                # The receive side reports the close (with its code) through events().
                return

    @property
    def pending(self) -> int:
        """Events queued and not yet handed to the socket."""
        return self._queue.qsize()

    # ----------------------------------------------------------------- receive

    async def events(self) -> AsyncIterator[ServerEvent | BadEvent]:
        """Parsed server events until the socket closes; then raises `Disconnected`."""
        if self._ws is None:
            raise Disconnected("not connected")
        ws = self._ws
        closed: ConnectionClosed | None = None
        try:
            while self._early:  # session.created (and what came before it), read by connect()
                event = self._early.pop(0)
                if self.on_receive is not None:
                    _call_hook(self.on_receive, event)
                yield event
            async for frame in ws:
                event = events.parse(frame)
                if self.on_receive is not None:
                    _call_hook(self.on_receive, event)
                yield event
        except ConnectionClosed as error:
            closed = error  # an abnormal close; a normal one ends the loop above
        if self._sender is not None:
            # Nothing more can go out. Wait for it to end too: a cancelled task that never ran
            # again would be destroyed pending when the loop closes ("Event loop is closed").
            self._sender.cancel()
            await asyncio.wait([self._sender])
        raise self._disconnected(ws, closed)

    def _disconnected(self, ws: ClientConnection, closed: ConnectionClosed | None) -> Disconnected:
        if self._closing:
            return Disconnected(
                "connection closed by rt-tui", code=ws.close_code, reason=ws.close_reason or ""
            )
        if closed is not None and _refused_big_frame(closed):
            # rt-tui closed with 1009; whatever the server answered, the frame was the cause
            reason = f"the server sent a frame over {MAX_FRAME_BYTES // 2**20} MiB"
            return Disconnected(f"{reason} (close code 1009)", code=1009, reason=reason)
        code = ws.close_code
        reason = one_line(ws.close_reason or "", 200)
        meaning = CLOSE_MEANINGS.get(code or 1006, "closed")
        message = f"the server closed the connection: {code} {meaning}"
        if reason:
            message += f" ({reason})"
        return Disconnected(message, code=code, reason=reason)

    # ----------------------------------------------------------------- close

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket and stop the sender. Safe to call more than once.

        A connect() still under way (a handshake the server does not answer, a session that
        does not start) is cancelled at once and raises ConnectCancelled; its socket is
        aborted, so quitting never waits for the open timeout.
        """
        self._closing = True
        opening = self._opening
        if opening is not None:
            opening.cancel()
            await asyncio.wait([opening])  # its socket is closed when this returns
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        if self._ws is not None:
            await self._ws.close(code, reason)


async def open_websocket(
    url: str,
    shown: str,
    *,
    api_key: str | None,
    auth: str,
    key_env: str,
    open_timeout: float,
    ssl_context: ssl.SSLContext | None,
) -> ClientConnection:
    """The websocket handshake, every way it can fail named in one ConnectError a user can
    act on (the key never in it)."""
    headers = auth_headers(url, api_key, auth)  # Bearer, or Azure's api-key
    options: dict[str, Any] = {}
    if is_loopback(url):
        # An http(s)_proxy in the environment must not capture the local server.
        options["proxy"] = None
    if ssl_context is not None and url.startswith("wss:"):
        options["ssl"] = ssl_context
    try:
        return await _SameOriginConnect(
            url,
            additional_headers=headers,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # as the official SDK: base64 audio does not compress
            open_timeout=open_timeout,
            close_timeout=CLOSE_TIMEOUT,
            logger=RedactingLogger(WEBSOCKETS_LOG, [api_key or ""]),
            **options,
        )
    except _CrossOriginRedirect as redirect:
        raise RedirectRefusedError(
            f"{shown} redirected (HTTP {redirect.status}) to another server, "
            f"{one_line(safe_url(redirect.target), 200)!r}; rt-tui follows a redirect "
            "only within the same scheme, host and port, so your key goes nowhere else. "
            "If that address is right, set [connection] url to it"
        ) from None
    except InvalidStatus as error:
        body = bytes(error.response.body or b"")
        status = error.response.status_code
        raise _status_error(status, body, shown, key_env, api_key) from None
    except InvalidURI as error:
        raise InvalidURLError(f"invalid endpoint URL {shown!r}: {error.msg}") from None
    except (ProxyError, InvalidProxy) as error:
        raise ConnectError(
            f"the proxy for {shown} failed ({type(error).__name__}); check the "
            "https_proxy/no_proxy "
            "environment variables"
        ) from None
    except InvalidHandshake as error:
        raise HandshakeError(
            f"{shown} is not a websocket endpoint ({type(error).__name__}); check [connection] url"
        ) from None
    except ssl.SSLError as error:
        raise TLSError(
            f"TLS handshake with {shown} failed ({error.reason or error}); check the "
            "system certificates or a proxy that intercepts TLS, or the url scheme"
        ) from None
    except TimeoutError:
        raise ConnectTimeoutError(
            f"{shown} did not answer within {open_timeout:g} s; check the network or the url"
        ) from None
    except socket.gaierror:
        raise HostNotFoundError(
            f"cannot resolve the host of {shown}; check the url and the network"
        ) from None
    except ConnectionRefusedError:
        raise ConnectionRefusedError_(
            f"nothing is listening at {shown} (connection refused); is the server running?"
        ) from None
    except OSError as error:
        raise ConnectError(
            f"cannot reach {shown}: {error.strerror or type(error).__name__}"
        ) from None
    except WebSocketException as error:
        raise ConnectError(f"cannot open {shown}: {type(error).__name__}") from None
    except ValueError as error:
        # urllib and the idna codec raise these (UnicodeError included) for a port out of
        # range or a host label over 63 characters: a setting to fix, never worth a retry.
        # Last: ssl.SSLCertVerificationError is a ValueError too, handled above as TLS
        raise _invalid_url(url, error) from None


CLOSE_MEANINGS = {
    1000: "normal closure",
    1001: "going away (server restart or session time limit)",
    1002: "protocol error",
    1003: "unsupported data",
    1006: "connection lost (no close frame)",
    1007: "invalid frame data",
    1008: "policy violation",
    1009: "message too big",
    1011: "server error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS failure",
}


class _CrossOriginRedirect(Exception):
    """Raised inside the handshake instead of following a redirect to another origin."""

    def __init__(self, target: str, status: int) -> None:
        super().__init__(target)
        self.target = target
        self.status = status


class _SameOriginConnect(connect):
    """websockets' connect, following a redirect only within the same origin.

    websockets follows a redirect to another host (without the Authorization header, which
    it drops), so the header would go on naming the old host while the talk goes elsewhere,
    and a ws:// target would be taken. A redirect to another scheme, host or port is
    refused instead; one within the origin (a new path) is followed as before.
    """

    def process_redirect(self, exc: Exception) -> Exception | str:
        if isinstance(exc, InvalidStatus) and "Location" in exc.response.headers:
            target = urljoin(self.uri, exc.response.headers["Location"])
            if 300 <= exc.response.status_code < 400 and _origin(target) != _origin(self.uri):
                return _CrossOriginRedirect(target, exc.response.status_code)
        return super().process_redirect(exc)


_DEFAULT_PORTS = {"ws": 80, "wss": 443, "http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # unparseable: an origin of its own, equal to nothing
        return ("?", url, None)


def _status_error(
    status: int, body: bytes, shown: str, key_env: str, api_key: str | None
) -> ConnectError:
    """The error for an HTTP answer to the websocket upgrade, naming what to fix."""
    if status in (401, 403):
        return AuthError(
            f"{shown} answered HTTP {status}: the API key is missing or lacks Realtime "
            f"access; set {key_env} to a key with Realtime access (and [connection] auth "
            "to how the endpoint takes it)"
        )
    if status == 404:
        return EndpointNotFoundError(
            f"{shown} answered HTTP 404: wrong URL or model; check [connection] url and model"
        )
    detail = _error_detail(body, api_key)
    return HandshakeError(
        f"{shown} refused the websocket with HTTP {status}{detail}", status=status
    )


def _refused_big_frame(closed: ConnectionClosed) -> bool:
    """Whether rt-tui closed the socket because a frame was over max_size (code 1009)."""
    sent = closed.sent
    return sent is not None and sent.code == 1009 and not closed.rcvd_then_sent


def _describe_close(closed: ConnectionClosed) -> str:
    if _refused_big_frame(closed):
        return f"it sent a frame over {MAX_FRAME_BYTES // 2**20} MiB (close code 1009)"
    rcvd = closed.rcvd
    if rcvd is None:
        return "connection lost (no close frame)"
    meaning = CLOSE_MEANINGS.get(rcvd.code, "closed")
    reason = f" ({one_line(rcvd.reason, 200)})" if rcvd.reason else ""
    return f"{rcvd.code} {meaning}{reason}"


def _server_error_message(early: list[ServerEvent | BadEvent]) -> str:
    """The message of an `error` event among the frames before the close, for the reason."""
    for event in early:
        if isinstance(event, ServerEvent) and event.type == "error":
            return one_line(str(event.data["error"]["message"]), 200)
    return ""


def _call_hook(hook: Callable[[Any], None], value: Any) -> None:
    # An inspector bug must not take the conversation down with it.
    try:
        hook(value)
    except Exception:
        log.exception("event hook %r failed", hook)


def _error_detail(body: bytes | None, api_key: str | None) -> str:
    """': <message>' from an OpenAI-style JSON error body, short and without the key."""
    if not body:
        return ""
    try:
        data = json.loads(body)
        message = data["error"]["message"] if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        message = None
    if not isinstance(message, str):
        return ""
    if api_key:
        message = message.replace(api_key, "sk-…redacted")
    return f": {one_line(message, 200)}"
