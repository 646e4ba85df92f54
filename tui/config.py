"""Settings: one declarative schema drives loading, validation, saving and the example file.

Layers, lowest first: built-in defaults < config file < environment (`RT_TUI_<PATH>`) <
overrides (command-line flags). Every bad input becomes a `ConfigError` naming the file,
the key, what was given and what is allowed; nothing is changed by bad input.

The API key is special: it is read from the environment variable named by
`connection.api_key_env`, else from a `.env` file in the working directory, else from
`connection.api_key` in the config file. It is never printed, never part of a repr and
never quoted in an error message.

This module is core: it must not import textual, websockets or sounddevice.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import re
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import platformdirs
import tomli_w
from dotenv import dotenv_values

from tui.errors import ConfigError, with_article
from tui.tomledit import edit_toml

APP_NAME = "rt-tui"
ENV_PREFIX = "RT_TUI_"

VOICES: tuple[str, ...] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)

# Realtime model names the SDK's Literal knows (realtime-protocol.md 2.5); any string is accepted.
MODELS: tuple[str, ...] = (
    "gpt-realtime-2",
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-1.5",
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-realtime-mini",
    "gpt-realtime-mini-2025-10-06",
    "gpt-realtime-mini-2025-12-15",
    "gpt-4o-realtime-preview",
    "gpt-4o-realtime-preview-2024-10-01",
    "gpt-4o-realtime-preview-2024-12-17",
    "gpt-4o-realtime-preview-2025-06-03",
    "gpt-4o-mini-realtime-preview",
    "gpt-4o-mini-realtime-preview-2024-12-17",
    "gpt-audio-1.5",
    "gpt-audio-mini",
    "gpt-audio-mini-2025-10-06",
    "gpt-audio-mini-2025-12-15",
)

# Input transcription models (realtime-protocol.md 2.3); any string is accepted (Azure deployments).
TRANSCRIPTION_MODELS: tuple[str, ...] = (
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-realtime-whisper",
    "whisper-1",
)

# Textual's built-in themes; the app may offer more. Any name is accepted here because the
# core cannot import textual to ask; the app reports an unknown theme when it applies it.
THEMES: tuple[str, ...] = (
    "textual-dark",
    "textual-light",
    "nord",
    "gruvbox",
    "catppuccin-mocha",
    "catppuccin-latte",
    "dracula",
    "tokyo-night",
    "monokai",
    "flexoki",
    "solarized-light",
    "textual-ansi",
)

OUTPUT_MODALITIES: tuple[str, ...] = ("audio", "text")
NOISE_REDUCTIONS: tuple[str, ...] = ("off", "near_field", "far_field")
TURN_DETECTION_MODES: tuple[str, ...] = ("server_vad", "semantic_vad", "manual")
EAGERNESS: tuple[str, ...] = ("auto", "low", "medium", "high")
# aec: WebRTC echo cancellation (falls back to half_duplex when it cannot load);
# half_duplex: the mic is not sent while the assistant is audible; off: headphones.
ECHO_GUARDS: tuple[str, ...] = ("aec", "half_duplex", "off")


# --------------------------------------------------------------------------- settings values


@dataclass
class ConnectionSettings:
    url: str = "wss://api.openai.com/v1/realtime"
    model: str = "gpt-realtime-2"
    api_key_env: str = "OPENAI_API_KEY"
    api_key: str = dc_field(default="", repr=False)  # file only; never shown
    max_session_min: int = 60
    replay_turns: int = 50


@dataclass
class TurnDetectionSettings:
    mode: str = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    idle_timeout_ms: int | None = None
    eagerness: str = "auto"
    interrupt_response: bool = True
    create_response: bool = True


@dataclass
class SessionSettings:
    instructions: str = ""
    voice: str = "marin"
    output_modalities: str = "audio"
    speed: float = 1.0
    noise_reduction: str = "off"
    transcription_model: str = "gpt-4o-mini-transcribe"
    transcription_language: str = ""
    truncation_retention_ratio: float | None = None
    spend_cap_usd: float | None = None
    turn_detection: TurnDetectionSettings = dc_field(default_factory=TurnDetectionSettings)


@dataclass
class AudioSettings:
    enabled: bool = True
    input_device: str = ""
    output_device: str = ""
    block_ms: int = 20
    echo_guard: str = "aec"


@dataclass
class UISettings:
    theme: str = "textual-dark"
    show_events: bool = False


@dataclass
class HistorySettings:
    enabled: bool = True
    dir: str = ""
    record_audio: bool = False


@dataclass
class KeySettings:
    """Key bindings: each value is a comma list of Textual key names."""

    mute: str = "m,f2"
    interrupt: str = "escape,f3"
    talk: str = "space,f4"
    focus_input: str = "slash"
    settings: str = "s,f5"
    events: str = "e,f6"
    help: str = "question_mark,f1"
    quit: str = "ctrl+q"
    cancel_reconnect: str = "ctrl+x,f8"

    def keys_for(self, action: str) -> tuple[str, ...]:
        """The key names bound to `action` (an attribute name), split and trimmed."""
        return split_keys(getattr(self, action))


@dataclass
class Settings:
    connection: ConnectionSettings = dc_field(default_factory=ConnectionSettings)
    session: SessionSettings = dc_field(default_factory=SessionSettings)
    audio: AudioSettings = dc_field(default_factory=AudioSettings)
    ui: UISettings = dc_field(default_factory=UISettings)
    history: HistorySettings = dc_field(default_factory=HistorySettings)
    keys: KeySettings = dc_field(default_factory=KeySettings)


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class FieldSpec:
    """One setting, fully described: enough to load, validate, save, document and edit it.

    `kind` tells a form how to edit a string: "text" (one line), "multiline", "url",
    "keys" (comma list of key names), "device" (name substring or index), "path".
    """

    path: str  # dotted: "session.turn_detection.threshold"
    type: type  # str, int, float or bool
    default: Any
    section: str  # human title of the table, e.g. "Turn detection"
    help: str  # one line
    optional: bool = False  # None allowed (absent or "" in TOML/env)
    choices: tuple[str, ...] = ()  # closed set
    suggestions: tuple[str, ...] = ()  # open set: offered, any string accepted
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False
    kind: str = "text"
    non_empty: bool = False  # an empty string is not allowed
    choice_help: tuple[tuple[str, str], ...] = ()  # (choice, one line on when to use it)

    @property
    def table(self) -> str:
        """The TOML table holding the key: "session.turn_detection"."""
        return self.path.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.path.rpartition(".")[2]

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.path.replace(".", "_").upper()

    def allowed(self) -> str:
        """What values are allowed, in words, for messages and the example file."""
        if self.choices:
            text = "one of " + ", ".join(self.choices)
        elif self.type is bool:
            text = "true or false"
        elif self.type in (int, float):
            noun = "a whole number" if self.type is int else "a number"
            if self.minimum is not None and self.maximum is not None:
                text = f"{noun} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
            elif self.minimum is not None:
                text = f"{noun} of at least {_fmt(self.minimum)}"
            elif self.maximum is not None:
                text = f"{noun} of at most {_fmt(self.maximum)}"
            else:
                text = noun
        elif self.kind == "keys":
            text = "a comma list of key names such as ctrl+q,f1"
        elif self.kind == "url":
            text = "a ws:// or wss:// URL"
        elif self.kind == "language":
            text = "an ISO-639-1 code such as en, or empty"
        elif self.suggestions:
            shown = ", ".join(self.suggestions[:10])
            extra = len(self.suggestions) - 10
            more = f" and {extra} more" if extra > 0 else ""
            text = f"any name, e.g. {shown}{more}"
        elif self.non_empty:
            text = "a non-empty string"
        else:
            text = "a string"
        if self.optional:
            text += " (empty for the default)"
        return text


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


_C = "Connection"
_S = "Session"
_T = "Turn detection"
_A = "Audio"
_U = "Interface"
_H = "History"
_K = "Keys"

SCHEMA: tuple[FieldSpec, ...] = (
    FieldSpec("connection.url", str, "wss://api.openai.com/v1/realtime", _C,
              "Realtime endpoint; the model goes in its `model` query parameter.", kind="url"),
    FieldSpec("connection.model", str, "gpt-realtime-2", _C,
              "Realtime model name.", suggestions=MODELS, non_empty=True),
    FieldSpec("connection.api_key_env", str, "OPENAI_API_KEY", _C,
              "Environment variable that holds the API key.", non_empty=True),
    FieldSpec("connection.api_key", str, "", _C,
              "API key stored in this file (prefer the environment variable; file mode 0600).",
              secret=True),
    FieldSpec("connection.max_session_min", int, 60, _C,
              "Hand over to a fresh connection before the server ends the session (minutes).",
              minimum=1, maximum=240),
    FieldSpec("connection.replay_turns", int, 50, _C,
              "Recent turns replayed as context into a new connection.",
              minimum=0, maximum=1000),
    FieldSpec("session.instructions", str, "", _S,
              "System prompt for the assistant (empty = the server's default).",
              kind="multiline"),
    FieldSpec("session.voice", str, "marin", _S,
              "Voice of the assistant (fixed after its first spoken reply).",
              suggestions=VOICES, non_empty=True),
    FieldSpec("session.output_modalities", str, "audio", _S,
              "Assistant replies as speech (with transcript) or as text only.",
              choices=OUTPUT_MODALITIES),
    FieldSpec("session.speed", float, 1.0, _S,
              "Speaking speed of the assistant.", minimum=0.25, maximum=1.5),
    FieldSpec("session.noise_reduction", str, "off", _S,
              "Server-side noise reduction of your microphone.", choices=NOISE_REDUCTIONS),
    FieldSpec("session.transcription_model", str, "gpt-4o-mini-transcribe", _S,
              "Model that transcribes your speech.",
              suggestions=TRANSCRIPTION_MODELS, non_empty=True),
    FieldSpec("session.transcription_language", str, "", _S,
              "ISO-639-1 language of your speech, e.g. en (empty = detect).",
              kind="language"),
    FieldSpec("session.truncation_retention_ratio", float, None, _S,
              "Share of the conversation kept when the context overflows (bounds cost).",
              optional=True, minimum=0.0, maximum=1.0),
    FieldSpec("session.spend_cap_usd", float, None, _S,
              "Stop answering once the estimated session cost reaches this (US dollars).",
              optional=True, minimum=0.0),
    FieldSpec("session.turn_detection.mode", str, "server_vad", _T,
              "Who decides that your turn has ended.",
              choices=TURN_DETECTION_MODES, choice_help=(
                  ("server_vad", "the server, after a pause of silence_duration_ms"),
                  ("semantic_vad", "the server, from what you said (see eagerness)"),
                  ("manual", "press the talk key to start and to end your turn"),
              )),
    FieldSpec("session.turn_detection.threshold", float, 0.5, _T,
              "server_vad: loudness needed to count as speech (higher = louder).",
              minimum=0.0, maximum=1.0),
    FieldSpec("session.turn_detection.prefix_padding_ms", int, 300, _T,
              "server_vad: audio kept before detected speech (ms).", minimum=0, maximum=5000),
    FieldSpec("session.turn_detection.silence_duration_ms", int, 500, _T,
              "server_vad: silence that ends your turn (ms).", minimum=0, maximum=10000),
    FieldSpec("session.turn_detection.idle_timeout_ms", int, None, _T,
              "server_vad: prompt you to continue after this much silence (ms).",
              optional=True, minimum=1000, maximum=600000),
    FieldSpec("session.turn_detection.eagerness", str, "auto", _T,
              "semantic_vad: how soon the assistant answers (auto = medium).", choices=EAGERNESS),
    FieldSpec("session.turn_detection.interrupt_response", bool, True, _T,
              "Your speech interrupts the assistant's reply."),
    FieldSpec("session.turn_detection.create_response", bool, True, _T,
              "The assistant answers automatically at the end of your turn."),
    FieldSpec("audio.enabled", bool, True, _A,
              "Use microphone and speakers (false = text only)."),
    FieldSpec("audio.input_device", str, "", _A,
              "Microphone: name substring or index (empty = system default).", kind="device"),
    FieldSpec("audio.output_device", str, "", _A,
              "Speakers: name substring or index (empty = system default).", kind="device"),
    FieldSpec("audio.block_ms", int, 20, _A,
              "Audio block size (ms): smaller = lower latency, more CPU.",
              minimum=10, maximum=100),
    FieldSpec("audio.echo_guard", str, "aec", _A,
              "Keep the assistant's voice out of the microphone.",
              choices=ECHO_GUARDS, choice_help=(
                  ("aec", "cancel the echo, so you can talk over the assistant on laptop speakers"),
                  ("half_duplex", "mute the mic while the assistant is audible"),
                  ("off", "send the mic unchanged (headphones)"),
              )),
    FieldSpec("ui.theme", str, "textual-dark", _U,
              "Colour theme.", suggestions=THEMES, non_empty=True),
    FieldSpec("ui.show_events", bool, False, _U,
              "Show the event inspector at start."),
    FieldSpec("history.enabled", bool, True, _H,
              "Write a transcript file for each session."),
    FieldSpec("history.dir", str, "", _H,
              "Transcript folder (empty = $XDG_DATA_HOME/rt-tui/history).", kind="path"),
    FieldSpec("history.record_audio", bool, False, _H,
              "Also record both sides as WAV files next to the transcript."),
    FieldSpec("keys.mute", str, "m,f2", _K, "Mute or unmute the microphone.",
              kind="keys"),
    FieldSpec("keys.interrupt", str, "escape,f3", _K, "Interrupt the assistant.",
              kind="keys"),
    FieldSpec("keys.talk", str, "space,f4", _K,
              "Push to talk / end your turn (manual turn detection).", kind="keys"),
    FieldSpec("keys.focus_input", str, "slash", _K, "Focus the text input.", kind="keys"),
    FieldSpec("keys.settings", str, "s,f5", _K, "Open the settings panel.", kind="keys"),
    FieldSpec("keys.events", str, "e,f6", _K, "Show or hide the event inspector.",
              kind="keys"),
    FieldSpec("keys.help", str, "question_mark,f1", _K, "Show the key help.", kind="keys"),
    FieldSpec("keys.quit", str, "ctrl+q", _K, "Quit.", kind="keys"),
    FieldSpec("keys.cancel_reconnect", str, "ctrl+x,f8", _K, "Stop reconnecting.",
              kind="keys"),
)  # fmt: skip

_BY_PATH: dict[str, FieldSpec] = {spec.path: spec for spec in SCHEMA}
# Tables in file order; "session" holds the sub-table "session.turn_detection".
TABLES: tuple[str, ...] = tuple(dict.fromkeys(spec.table for spec in SCHEMA))
# (section title, its fields) in schema order: what a settings form shows as tabs or groups.
SECTIONS: tuple[tuple[str, tuple[FieldSpec, ...]], ...] = tuple(
    (title, tuple(spec for spec in SCHEMA if spec.section == title))
    for title in dict.fromkeys(spec.section for spec in SCHEMA)
)


def field(path: str) -> FieldSpec:
    """The FieldSpec of a dotted path; ConfigError (with a suggestion) for an unknown one."""
    try:
        return _BY_PATH[path]
    except KeyError:
        raise _config_error(
            f"unknown setting{_did_you_mean(path, list(_BY_PATH))}", key=path
        ) from None


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _children(table: str) -> list[str]:
    """Keys allowed directly in `table`: its settings and its sub-tables."""
    prefix = f"{table}." if table else ""
    names: list[str] = []
    for spec in SCHEMA:
        if spec.path.startswith(prefix):
            first = spec.path[len(prefix) :].split(".")[0]
            if first not in names:
                names.append(first)
    return names


# --------------------------------------------------------------------------- validation


def _config_error(message: str, *, file: str | None = None, key: str | None = None) -> ConfigError:
    """A ConfigError that also keeps the bare message as `.detail`.

    str(error) names the file and key (for the CLI); a form that shows the message beside the
    field already names the key, so it shows `error.detail` instead.
    """
    error = ConfigError(message, file=file, key=key)
    error.detail = message  # type: ignore[attr-defined]
    return error


class _Invalid(ValueError):
    """A value failed its FieldSpec; the text is a short phrase, the caller adds context."""


_KEY_NAME = re.compile(r"^[^\s,]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def split_keys(text: str) -> tuple[str, ...]:
    """'m, f2' -> ('m', 'f2'): the key names of one binding value."""
    return tuple(part.strip() for part in text.split(","))


def _shown(spec: FieldSpec, value: Any) -> str:
    """How a bad value appears in a message: secrets are never quoted."""
    if spec.secret:
        return f"{with_article(type(value).__name__)} (value hidden)"
    return repr(value)


def _check(spec: FieldSpec, value: Any) -> Any:
    """Validate an already-typed value against its spec; returns it normalised (int->float)."""
    if spec.optional and (value is None or value == ""):
        return None  # absent or "" means "use the server's default"
    if value is None:
        raise _Invalid(f"expected {spec.allowed()}, got nothing")
    if spec.type is bool:
        if not isinstance(value, bool):
            raise _Invalid(f"expected true or false, got {_shown(spec, value)}")
        return value
    if spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"expected {spec.allowed()}, got {_shown(spec, value)}")
        _check_range(spec, value)
        return value
    if spec.type is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"expected {spec.allowed()}, got {_shown(spec, value)}")
        if not math.isfinite(value):
            raise _Invalid(f"expected {spec.allowed()}, got {value!r}")
        _check_range(spec, value)
        return float(value)
    if not isinstance(value, str):
        raise _Invalid(f"expected {spec.allowed()}, got {_shown(spec, value)}")
    if spec.choices and value not in spec.choices:
        raise _Invalid(f"expected {spec.allowed()}, got {_shown(spec, value)}")
    if spec.non_empty and not value.strip():
        raise _Invalid(f"expected {spec.allowed()}, got an empty string")
    if spec.kind == "keys":
        names = split_keys(value)
        if not value.strip() or any(not _KEY_NAME.match(name) for name in names):
            raise _Invalid(
                f"expected a comma list of key names without spaces inside a name "
                f"(e.g. ctrl+q,f1), got {value!r}"
            )
    if spec.kind == "url":
        _check_url(value)
    if spec.kind == "language" and value and not _LANGUAGE.match(value):
        raise _Invalid(f"expected an ISO-639-1 code such as en (or empty), got {value!r}")
    return value


URL_EXAMPLE = "wss://api.openai.com/v1/realtime"


# query parameters whose values identify the endpoint; any other value may be a secret
_PUBLIC_QUERY = frozenset({"model", "call_id", "intent", "deployment", "api-version"})


def safe_url(url: str) -> str:
    """The URL for messages: no user:password, query values other than the model masked."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed [ of an IPv6 host: show it, minus what may be secret
        return _scrubbed(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port: int | str | None = parts.port
    except ValueError:  # not a number or out of range: shown as written, it is the problem
        port = parts.netloc.rpartition(":")[2]
    netloc = f"{host}:{port}" if port else host
    query = [
        (key, value if key in _PUBLIC_QUERY else "***")
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def _scrubbed(url: str) -> str:
    """A URL that cannot be parsed, without its query, fragment and user:password."""
    cut = re.split(r"[?#]", url.strip(), maxsplit=1)[0]
    return re.sub(r"//[^/@]*@", "//", cut, count=1)


def _url_shown(url: str) -> str:
    return repr(safe_url(url))


def _check_url(url: str) -> None:
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
            raise _Invalid(bad_port) from None
        raise _Invalid(f"expected a ws:// or wss:// URL, got {shown} ({error}); {fix}") from None
    if parts.scheme.lower() not in ("ws", "wss"):
        raise _Invalid(f"expected a ws:// or wss:// URL, got {shown}; {fix}")
    host = parts.hostname
    if not host:
        raise _Invalid(f"expected a URL with a host name, got {shown}; {fix}")
    if port == 0:
        raise _Invalid(bad_port)
    try:
        host.encode("idna")
    except UnicodeError:
        raise _Invalid(
            f"the host name {_url_shown(host)} in the URL is not valid (each dot-separated "
            f"part must be 1 to 63 characters); {fix}"
        ) from None


def _check_range(spec: FieldSpec, value: float) -> None:
    too_low = spec.minimum is not None and value < spec.minimum
    too_high = spec.maximum is not None and value > spec.maximum
    if too_low or too_high:
        raise _Invalid(f"expected {spec.allowed()}, got {value!r}")


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _parse_text(spec: FieldSpec, text: str) -> Any:
    """Turn the text of an env var, a flag or a form field into a typed, validated value."""
    if spec.type is str:
        # Free text keeps its spaces (instructions); names and choices do not need them.
        value = text if spec.kind == "multiline" else text.strip()
        return _check(spec, value)
    stripped = text.strip()
    if stripped == "" and spec.optional:
        return None
    if spec.type is bool:
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _Invalid(f"expected true or false, got {_shown(spec, text)}")
    try:
        number: int | float = int(stripped) if spec.type is int else float(stripped)
    except ValueError:
        raise _Invalid(f"expected {spec.allowed()}, got {_shown(spec, text)}") from None
    return _check(spec, number)


def _typed(spec: FieldSpec, value: Any) -> Any:
    """Strings (flags, form fields) are parsed; values that already have a type are checked."""
    return _parse_text(spec, value) if isinstance(value, str) else _check(spec, value)


def parse_value(path: str, text: str) -> Any:
    """Parse the text of a form field for `path`; ConfigError with a one-line message if bad."""
    spec = field(path)
    try:
        return _parse_text(spec, text)
    except _Invalid as bad:
        raise _config_error(str(bad), key=path) from None


def format_value(path: str, value: Any) -> str:
    """The text a form field shows for a value; parse_value(path, format_value(path, v)) == v."""
    field(path)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)  # repr-exact for floats: str(0.1) == "0.1"


def get_value(settings: Settings, path: str) -> Any:
    field(path)  # unknown paths are an error, not an AttributeError
    node: Any = settings
    for part in path.split("."):
        node = getattr(node, part)
    return node


def _set_in_place(settings: Settings, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = settings
    for part in parents:
        node = getattr(node, part)
    setattr(node, last, value)


def with_value(settings: Settings, path: str, value: Any) -> Settings:
    """A validated copy of `settings` with `path` set; strings are parsed for typed fields.

    `settings` itself is never changed, so a rejected value changes nothing.
    """
    spec = field(path)
    try:
        typed = _typed(spec, value)
    except _Invalid as bad:
        raise _config_error(str(bad), key=path) from None
    result = copy.deepcopy(settings)
    _set_in_place(result, path, typed)
    _check_whole(result)
    return result


def _check_whole(settings: Settings, *, file: str | None = None) -> None:
    """Checks that span several settings: one key may not be bound to two actions."""
    owner: dict[str, str] = {}
    for spec in SCHEMA:
        if spec.kind != "keys":
            continue
        for name in split_keys(get_value(settings, spec.path)):
            if name in owner:
                raise _config_error(
                    f"key {name!r} is bound to both {owner[name]!r} and {spec.path!r}; "
                    "each key may do one thing",
                    file=file,
                    key=spec.path,
                )
            owner[name] = spec.path


# --------------------------------------------------------------------------- paths


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/rt-tui/config.toml`, else the platform's user config folder."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME / "config.toml"
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_DATA_HOME/rt-tui`, else the platform's user data folder."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME
    return platformdirs.user_data_path(APP_NAME)


# --------------------------------------------------------------------------- loading


def _read_file(path: Path) -> dict[str, Any]:
    return _parse_toml(_read_text(path), path)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _config_error("config file not found", file=str(path)) from None
    except IsADirectoryError:
        raise _config_error("is a folder, not a config file", file=str(path)) from None
    except OSError as error:
        raise _config_error(f"cannot read: {error.strerror}", file=str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _config_error(
            f"not UTF-8 text (bad byte at offset {error.start})", file=str(path)
        ) from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _config_error(_describe_toml_error(error, text), file=str(path)) from None


def _describe_toml_error(error: tomllib.TOMLDecodeError, text: str) -> str:
    """'invalid TOML at line 3, column 8: Invalid value' (Python 3.11 only has the message)."""
    message = str(error)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        reason = message[: found.start()]
        return f"invalid TOML at line {found.group(1)}, column {found.group(2)}: {reason}"
    found = re.search(r"\s*\(at end of document\)$", message)
    if found:
        lines = text.splitlines() or [""]
        reason = message[: found.start()]
        return (
            f"invalid TOML at line {len(lines)}, column {len(lines[-1]) + 1} "
            f"(end of document): {reason}"
        )
    return f"invalid TOML: {message}"


def _flatten(data: Mapping[str, Any], *, file: str, table: str = "") -> dict[str, Any]:
    """Nested TOML tables -> {dotted path: value}, rejecting unknown keys and misplaced tables."""
    flat: dict[str, Any] = {}
    allowed = _children(table)
    for key, value in data.items():
        path = f"{table}.{key}" if table else key
        if key not in allowed:
            where = f"[{table}]" if table else "the top level"
            homes = [f"[{spec.table}]" for spec in SCHEMA if spec.key == key]
            hint = f" (it belongs in {' or '.join(homes)})" if homes else ""
            raise _config_error(
                f"unknown key {key!r} in {where}{hint or _did_you_mean(key, allowed)}; "
                f"allowed keys: {', '.join(allowed)}",
                file=file,
                key=path,
            )
        is_table = path not in _BY_PATH
        if is_table:
            if not isinstance(value, dict):
                raise _config_error(
                    f"must be a table [{path}], got {with_article(type(value).__name__)}",
                    file=file,
                    key=path,
                )
            flat.update(_flatten(value, file=file, table=path))
        else:
            flat[path] = value
    return flat


def _apply(settings: Settings, values: Mapping[str, Any]) -> None:
    for path, value in values.items():
        _set_in_place(settings, path, value)


def _from_file(path: Path) -> dict[str, Any]:
    data = _read_file(path)
    flat = _flatten(data, file=str(path))
    typed: dict[str, Any] = {}
    for key, value in flat.items():
        spec = _BY_PATH[key]
        try:
            typed[key] = _check(spec, value)
        except _Invalid as bad:
            raise _config_error(str(bad), file=str(path), key=key) from None
    return typed


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for spec in SCHEMA:
        if spec.secret:
            continue  # the key comes from api_key_env / .env / the file, never RT_TUI_*
        text = env.get(spec.env_var)
        if text is None:
            continue
        try:
            typed[spec.path] = _parse_text(spec, text)
        except _Invalid as bad:
            raise _config_error(
                f"environment variable {spec.env_var}: {bad}", key=spec.path
            ) from None
    return typed


def env_warnings(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per RT_TUI_* variable that sets nothing (a typo would otherwise be silently
    ignored), with the nearest real name. Names only: a value is never repeated."""
    env = os.environ if env is None else env
    known = [spec.env_var for spec in SCHEMA if not spec.secret]
    warnings = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        secret = next((spec for spec in SCHEMA if spec.secret and spec.env_var == name), None)
        if secret is not None:
            warnings.append(
                f"environment variable {name} is ignored: the API key is read from the "
                f"variable named by connection.api_key_env ({Settings().connection.api_key_env} "
                "by default), a .env file or api_key in the config file"
            )
            continue
        # compared without the prefix every candidate shares, which would match anything
        rest = [known_name.removeprefix(ENV_PREFIX) for known_name in known]
        wrote = name.removeprefix(ENV_PREFIX)
        close = difflib.get_close_matches(wrote, rest, n=1, cutoff=0.6)
        close = close or [other for other in rest if other.endswith("_" + wrote)][:1]  # no table
        hint = f" (did you mean {ENV_PREFIX + close[0]!r}?)" if close else ""
        warnings.append(f"environment variable {name} is not a setting and is ignored{hint}")
    return warnings


def _from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for path, value in overrides.items():
        spec = field(path)
        try:
            typed[path] = (
                _parse_text(spec, value) if isinstance(value, str) else _check(spec, value)
            )
        except _Invalid as bad:
            raise _config_error(str(bad), key=path) from None
    return typed


def load_settings(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults < config file < environment < overrides.

    `path` given explicitly must exist; the default path may be missing (defaults apply).
    """
    env = os.environ if env is None else env
    settings = Settings()
    file: Path | None = Path(path).expanduser() if path is not None else None
    if file is None:
        candidate = default_config_path(env)
        file = candidate if candidate.exists() else None
    if file is not None:
        _apply(settings, _from_file(file))
        _check_whole(settings, file=str(file))
    _apply(settings, _from_env(env))
    _apply(settings, _from_overrides(overrides or {}))
    _check_whole(settings)
    return settings


# --------------------------------------------------------------------------- the API key


def resolve_api_key(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str | None:
    """The API key: env var named by api_key_env, else `.env` in cwd, else the config file."""
    found = _find_api_key(settings, env, cwd)
    return found[0] if found else None


def api_key_source(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str | None:
    """Where the key was found, for the UI ("environment variable OPENAI_API_KEY"); no value."""
    found = _find_api_key(settings, env, cwd)
    return found[1] if found else None


def _find_api_key(
    settings: Settings, env: Mapping[str, str] | None, cwd: Path | None
) -> tuple[str, str] | None:
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    name = settings.connection.api_key_env
    value = (env.get(name) or "").strip()
    if value:
        return value, f"environment variable {name}"
    dotenv_file = cwd / ".env"
    if dotenv_file.is_file():
        # dotenv_values reads without touching os.environ.
        value = (dotenv_values(dotenv_file).get(name) or "").strip()
        if value:
            return value, f"{name} in {dotenv_file}"
    value = settings.connection.api_key.strip()
    if value:
        return value, "api_key in the config file"
    return None


# --------------------------------------------------------------------------- saving


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{dotted path: value} -> nested tables, in SCHEMA order."""
    tree: dict[str, Any] = {}
    for spec in SCHEMA:
        if spec.path not in flat:
            continue
        node = tree
        for part in spec.path.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[spec.key] = flat[spec.path]
    return tree


def save_settings(settings: Settings, path: Path | str | None = None) -> Path:
    """Write `settings` to the config file atomically; returns the path written.

    Writes every value that differs from its default plus every key the file already had
    (None is written as absence). Creates parent folders. Mode 0600 when the file holds an
    api_key, else the existing file's mode (0644 for a new file). An existing file is
    updated in place: its comments, order and formatting stay, only changed keys are
    rewritten (people copy config.example.toml, whose comments are the documentation).
    """
    target = Path(path).expanduser() if path is not None else default_config_path()
    existing: dict[str, Any] = {}
    old_text: str | None = None
    old_mode: int | None = None
    if target.exists():
        old_text = _read_text(target)
        existing = _from_toml(_parse_toml(old_text, target), target)
        old_mode = target.stat().st_mode & 0o777
    flat: dict[str, Any] = {}
    for spec in SCHEMA:
        value = _check_for_save(spec, get_value(settings, spec.path))
        if value is None:
            continue
        if value != spec.default or spec.path in existing:
            flat[spec.path] = value
    if not flat.get("connection.api_key"):
        flat.pop("connection.api_key", None)
    holds_key = "connection.api_key" in flat
    mode = 0o600 if holds_key else (old_mode if old_mode is not None else 0o644)
    text = None if old_text is None else _updated_toml(old_text, existing, flat)
    if text is None:
        text = tomli_w.dumps(_nest(flat))  # a new file: plain TOML, in schema order
    _write_atomic(target, text.encode("utf-8"), mode)
    return target


def _updated_toml(text: str, existing: Mapping[str, Any], flat: Mapping[str, Any]) -> str | None:
    """`text` with the keys of `flat` set and the others of `existing` removed, comments and
    layout kept (tui.tomledit); None if that could not be done faithfully (then the caller
    rewrites). tomllib and tomli-w drop comments by design.
    """
    changed = {
        (spec.table, spec.key): flat[spec.path]
        for spec in SCHEMA
        if spec.path in flat and existing.get(spec.path, _MISSING) != flat[spec.path]
    }
    removed = [
        (spec.table, spec.key) for spec in SCHEMA if spec.path in existing and spec.path not in flat
    ]
    try:
        updated = edit_toml(text, changed, removed)
        # a layout the edit could not handle exactly must not change what the file means
        written = _from_toml(tomllib.loads(updated), Path("<updated>"))
    except Exception:  # any failure of the edit: fall back to a plain rewrite
        return None
    return updated if written == dict(flat) else None


_MISSING = object()


def _from_toml(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Flattened, typed values of a parsed file (as loading reads them)."""
    typed: dict[str, Any] = {}
    for key, value in _flatten(data, file=str(path)).items():
        try:
            typed[key] = _check(_BY_PATH[key], value)
        except _Invalid:
            typed[key] = value  # a bad value is still a key the file has
    return typed


def _check_for_save(spec: FieldSpec, value: Any) -> Any:
    try:
        return _check(spec, value)
    except _Invalid as bad:
        raise _config_error(f"not saved: {bad}", key=spec.path) from None


def _write_atomic(target: Path, data: bytes, mode: int) -> None:
    """Temp file in the same folder, fsync, chmod, os.replace: readers see old or new, whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # before any byte of a key is written
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some filesystems do not allow opening a folder; the rename is still atomic
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# --------------------------------------------------------------------------- example file


def _toml_value(value: Any) -> str:
    """One TOML value as text, quoted the way tomli-w quotes it."""
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def example_toml() -> str:
    """config.example.toml: every key with its help, allowed values and default."""
    lines = [
        "# rt-tui configuration: copy to $XDG_CONFIG_HOME/rt-tui/config.toml",
        "# (usually ~/.config/rt-tui/config.toml) and change what you need.",
        "# Every key below is set to its default. Environment variables override the file:",
        "# RT_TUI_<SECTION>_<KEY>, e.g. RT_TUI_SESSION_VOICE=cedar or",
        "# RT_TUI_SESSION_TURN_DETECTION_MODE=manual; command-line flags override both.",
        "# Generated by `python -m tui.config example`.",
    ]
    for table in TABLES:
        specs = [spec for spec in SCHEMA if spec.table == table]
        lines += ["", f"# {specs[0].section}", f"[{table}]"]
        for spec in specs:
            lines.append(f"# {spec.help}")
            lines += [f"#   {choice}: {text}" for choice, text in spec.choice_help]
            default = "empty" if spec.default is None else _toml_value(spec.default)
            lines.append(f"# Allowed: {spec.allowed()}. Default: {default}.")
            if spec.default is None:
                lines.append(f'# {spec.key} = ""')
            elif spec.secret:
                # Kept commented so a copied example never invites a key into a shared file.
                lines.append(f"# {spec.key} = {_toml_value(spec.default)}")
            else:
                lines.append(f"{spec.key} = {_toml_value(spec.default)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["example"]:
        sys.stdout.write(example_toml())
        return 0
    sys.stderr.write("usage: python -m tui.config example\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
