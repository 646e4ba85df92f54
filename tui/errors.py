"""The domain errors of rt-tui: one small family, each carrying a message a person can act on.

Every boundary (config file, flags, network, audio devices) turns bad input into one of
these; the CLI prints `str(error)` and exits 2, the app shows it and keeps running.
Messages never contain the API key.
"""

from __future__ import annotations


def with_article(noun: str) -> str:
    """'an int', 'a string': a type name as the messages below say it."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


class RtTuiError(Exception):
    """Base of every error rt-tui reports to a person."""


class ConfigError(RtTuiError):
    """A setting is wrong: names the file, the key, what was given and what is allowed."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = ", ".join(part for part in (file, f"key {key!r}" if key else None) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ConnectError(RtTuiError):
    """The websocket could not be opened. `retryable` says whether trying again can help."""

    retryable = True


class AuthError(ConnectError):
    """401/403: the key is missing, wrong, or lacks Realtime access. Retrying cannot help."""

    retryable = False


class EndpointNotFoundError(ConnectError):
    """404: wrong URL or model name."""

    retryable = False


class ConnectionRefusedError_(ConnectError):
    """Nothing listens at the address (yet)."""


class TLSError(ConnectError):
    """The TLS handshake failed (certificate, proxy)."""


class InsecureKeyError(ConnectError):
    """Refused to send the API key over plain ws:// to a host that is not loopback."""

    retryable = False


class MissingKeyError(ConnectError):
    """No API key was found for an endpoint that needs one."""

    retryable = False


class Disconnected(RtTuiError):
    """An open connection closed. `code`/`reason` are the websocket close frame, if any."""

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(message)


class AudioError(RtTuiError):
    """Sound devices are missing, refuse a format, or failed mid-stream."""


class AudioUnavailableError(AudioError):
    """PortAudio cannot be loaded or there is no device at all: the app runs text-only."""


class DeviceNotFoundError(AudioError):
    """A device spec matched nothing or several devices; lists the candidates."""

    def __init__(self, message: str, *, candidates: list[str] | None = None) -> None:
        self.candidates = candidates or []
        super().__init__(message)
