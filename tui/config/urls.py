"""URLs: the check a connection URL must pass, and `safe_url` for showing one."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tui.config.problems import Invalid
from tui.config.schema import URL_EXAMPLE

# query parameters whose values identify the endpoint; any other value may be a secret
PUBLIC_QUERY = frozenset({"model", "deployment", "api-version", "intent", "call_id"})
MASK = "***"
# a query name shown as written: short and name-like, with a value
_QUERY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")


def safe_url(url: str) -> str:
    """The URL for showing anywhere: no user:password, every query value masked but those of
    PUBLIC_QUERY, no fragment. Never raises: an unparsable URL is cut at its query."""
    try:
        return _masked(str(url).strip())
    except Exception:  # e.g. an unclosed [ of an IPv6 host: show it, minus what may be secret
        return _scrubbed(str(url))


def _masked(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port: int | str | None = parts.port
    except ValueError:  # not a number or out of range: shown as written, it is the problem
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
    netloc = f"{host}:{port}" if port else host
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in PUBLIC_QUERY:
            query.append((key, value))
        else:  # a bare "?token" is all datum: its name is masked too
            named = value and _QUERY_NAME.match(key)
            query.append((key if named else MASK, MASK))
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def _scrubbed(url: str) -> str:
    """A URL that cannot be parsed, without its query, fragment and user:password."""
    cut = re.split(r"[?#]", url.strip(), maxsplit=1)[0]
    return re.sub(r"//[^/@]*@", "//", cut, count=1)


def _url_shown(url: str) -> str:
    return repr(safe_url(url))


def check_url(url: str) -> None:
    """What the connection needs to even try: ws(s) scheme, a host it can encode, a real port.

    Checked here so that a bad URL stops at start-up with the key named, instead of failing
    later inside the websocket client (or in the history file's header) with a traceback.
    """
    shown = _url_shown(url)
    fix = f"write it like {URL_EXAMPLE} (ws:// only for a local server)"
    bad_port = f"expected a port from 1 to 65535 in the URL, got {shown}; {fix}"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number or out of range
    except ValueError as error:
        if "port" in str(error).lower():
            raise Invalid(bad_port) from None
        raise Invalid(f"expected a ws:// or wss:// URL, got {shown} ({error}); {fix}") from None
    if parts.scheme.lower() not in ("ws", "wss"):
        raise Invalid(f"expected a ws:// or wss:// URL, got {shown}; {fix}")
    host = parts.hostname
    if not host:
        raise Invalid(f"expected a URL with a host name, got {shown}; {fix}")
    if port == 0:
        raise Invalid(bad_port)
    try:
        host.encode("idna")
    except UnicodeError:
        raise Invalid(
            f"the host name {_url_shown(host)} in the URL is not valid (each dot-separated "
            f"part must be 1 to 63 characters); {fix}"
        ) from None
