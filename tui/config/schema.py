"""The settings: one dataclass per TOML table, each field declared once with `setting()`.

`SCHEMA` is read off these classes (tui.config.fields.schema_of): a field's type, default,
help, allowed values and form hints live on the field and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import ClassVar

from tui.config.choices import (
    AUTH_API_KEY,
    AUTH_AUTO,
    AUTH_BEARER,
    AUTHS,
    EAGERNESS,
    ECHO_GUARDS,
    MODELS,
    NOISE_REDUCTIONS,
    OUTPUT_MODALITIES,
    REASONING_EFFORTS,
    THEMES,
    TRANSCRIPTION_MODELS,
    TURN_DETECTION_MODES,
    VOICES,
)
from tui.config.fields import FieldSpec, TableSpec, schema_of, setting, table_setting, tables_of
from tui.config.problems import config_error, did_you_mean
from tui.config.tools import ToolsSettings
from tui.config.tools import from_toml as tools_from_toml
from tui.constants import EchoGuard, TurnMode

URL_EXAMPLE = "wss://api.openai.com/v1/realtime"
MODE_PATH = "session.turn_detection.mode"
_VAD = (TurnMode.SERVER_VAD.value,)
_SEMANTIC = (TurnMode.SEMANTIC_VAD.value,)
_EITHER_VAD = (TurnMode.SERVER_VAD.value, TurnMode.SEMANTIC_VAD.value)


@dataclass
class ConnectionSettings:
    SECTION: ClassVar[str] = "Connection"

    url: str = setting(
        URL_EXAMPLE,
        "Realtime endpoint; the model goes in its `model` query parameter.",
        kind="url",
    )
    model: str = setting(
        "gpt-realtime-2", "Realtime model name.", suggestions=MODELS, non_empty=True
    )
    auth: str = setting(
        AUTH_AUTO,
        "How the API key is sent to the endpoint.",
        choices=AUTHS,
        choice_help=(
            (AUTH_AUTO, "api-key for Azure OpenAI hosts (*.openai.azure.com), else bearer"),
            (AUTH_BEARER, "Authorization: Bearer (OpenAI; an Entra ID token on Azure)"),
            (AUTH_API_KEY, "an api-key header (an Azure OpenAI key, e.g. behind a proxy)"),
        ),
    )
    api_key_env: str = setting(
        "OPENAI_API_KEY", "Environment variable that holds the API key.", non_empty=True
    )
    api_key: str = setting(
        "",
        "API key stored in this file (prefer the environment variable; file mode 0600).",
        secret=True,
    )
    max_session_min: int = setting(
        60,
        "Hand over to a fresh connection before this (minutes), or the server's end if sooner.",
        minimum=1,
        maximum=240,
    )
    replay_turns: int = setting(
        50, "Recent turns replayed as context into a new connection.", minimum=0, maximum=1000
    )


@dataclass
class TurnDetectionSettings:
    SECTION: ClassVar[str] = "Turn detection"

    mode: str = setting(
        TurnMode.SERVER_VAD.value,
        "Who decides that your turn has ended.",
        choices=TURN_DETECTION_MODES,
        choice_help=(
            (TurnMode.SERVER_VAD.value, "the server, after a pause of silence_duration_ms"),
            (TurnMode.SEMANTIC_VAD.value, "the server, from what you said (see eagerness)"),
            (TurnMode.MANUAL.value, "press the talk key to start and to end your turn"),
        ),
    )
    threshold: float = setting(
        0.5,
        "server_vad: loudness needed to count as speech (higher = louder).",
        minimum=0.0,
        maximum=1.0,
        applies_when=(MODE_PATH, _VAD),
    )
    prefix_padding_ms: int = setting(
        300,
        "server_vad: audio kept before detected speech (ms).",
        minimum=0,
        maximum=5000,
        applies_when=(MODE_PATH, _VAD),
    )
    silence_duration_ms: int = setting(
        500,
        "server_vad: silence that ends your turn (ms).",
        minimum=0,
        maximum=10000,
        applies_when=(MODE_PATH, _VAD),
    )
    idle_timeout_ms: int | None = setting(
        None,
        "server_vad: prompt you to continue after this much silence (ms).",
        minimum=1000,
        maximum=600000,
        applies_when=(MODE_PATH, _VAD),
    )
    eagerness: str = setting(
        "auto",
        "semantic_vad: how soon the assistant answers (auto = medium).",
        choices=EAGERNESS,
        applies_when=(MODE_PATH, _SEMANTIC),
    )
    interrupt_response: bool = setting(
        True,
        "Your speech interrupts the assistant's reply.",
        applies_when=(MODE_PATH, _EITHER_VAD),
    )
    create_response: bool = setting(
        True,
        "The assistant answers automatically at the end of your turn.",
        applies_when=(MODE_PATH, _EITHER_VAD),
    )


@dataclass
class SessionSettings:
    SECTION: ClassVar[str] = "Session"

    instructions: str = setting(
        "", "System prompt for the assistant (empty = the server's default).", kind="multiline"
    )
    voice: str = setting(
        "marin",
        "Voice of the assistant (fixed after its first spoken reply).",
        suggestions=VOICES,
        non_empty=True,
    )
    output_modalities: str = setting(
        "audio",
        "Assistant replies as speech (with transcript) or as text only.",
        choices=OUTPUT_MODALITIES,
    )
    speed: float = setting(1.0, "Speaking speed of the assistant.", minimum=0.25, maximum=1.5)
    reasoning_effort: str = setting(
        "default",
        "How hard a reasoning model (gpt-realtime-2 and later) thinks before it answers.",
        choices=REASONING_EFFORTS,
        choice_help=(
            ("default", "the server's default for the model (nothing is sent)"),
            ("minimal", "answer at once: the lowest latency"),
            ("low", "a little thought, still quick"),
            ("medium", "more thought for harder questions"),
            ("high", "careful answers, noticeably slower, more output tokens"),
            ("xhigh", "the most thought: slowest and most output tokens"),
        ),
    )
    max_output_tokens: int | None = setting(
        None,
        "Most tokens one reply may use, tool calls included (empty = no limit).",
        minimum=1,
        maximum=4096,
        unset_word="inf",
    )
    noise_reduction: str = setting(
        "off", "Server-side noise reduction of your microphone.", choices=NOISE_REDUCTIONS
    )
    noise_reduction_strength: float | None = setting(
        None,
        "How strongly noise is suppressed: higher = more (empty = the server's; 1 at first).",
        minimum=0.0,
        applies_when=("session.noise_reduction", ("near_field", "far_field")),
    )
    # gpt-transcribe by default: its model page (developers.openai.com) is written for
    # "committed turns in Realtime sessions over WebSocket", which is what input transcription
    # transcribes here; it takes prompt, keywords and languages, and the SDK does not list it
    # among the deprecated models (gpt-4o-mini-transcribe, the old default, shuts down on
    # 2027-02-26). gpt-live-transcribe and gpt-realtime-whisper stream deltas from live audio
    # (captions) at almost 4x the price per minute: nothing gained for a turn the server has
    # already committed.
    transcription_model: str = setting(
        "gpt-transcribe",
        "Model that transcribes your speech.",
        suggestions=TRANSCRIPTION_MODELS,
        non_empty=True,
    )
    transcription_language: str = setting(
        "", "ISO-639-1 language of your speech, e.g. en (empty = detect).", kind="language"
    )
    transcription_languages: str = setting(
        "",
        "Languages you may speak, e.g. en,de (gpt-transcribe, gpt-live-transcribe only).",
        kind="languages",
    )
    transcription_keywords: str = setting(
        "",
        "Names and terms to expect, comma list (gpt-transcribe, gpt-live-transcribe only).",
        kind="words",
    )
    transcription_prompt: str = setting(
        "",
        "Text that guides the transcription, e.g. its topic (not gpt-realtime-whisper).",
    )
    truncation_retention_ratio: float | None = setting(
        None,
        "Share of the conversation kept when the context overflows (bounds cost).",
        minimum=0.0,
        maximum=1.0,
    )
    spend_cap_usd: float | None = setting(
        None,
        "Stop answering once the estimated session cost reaches this (US dollars).",
        minimum=0.0,
    )
    turn_detection: TurnDetectionSettings = dc_field(default_factory=TurnDetectionSettings)


@dataclass
class AudioSettings:
    SECTION: ClassVar[str] = "Audio"

    enabled: bool = setting(True, "Use microphone and speakers (false = text only).")
    input_device: str = setting(
        "", "Microphone: name substring or index (empty = system default).", kind="input_device"
    )
    output_device: str = setting(
        "", "Speakers: name substring or index (empty = system default).", kind="output_device"
    )
    block_ms: int = setting(
        20, "Audio block size (ms): smaller = lower latency, more CPU.", minimum=10, maximum=100
    )
    echo_guard: str = setting(
        EchoGuard.AEC.value,
        "Keep the assistant's voice out of the microphone.",
        choices=ECHO_GUARDS,
        choice_help=(
            (
                EchoGuard.AEC.value,
                "cancel the echo, so you can talk over the assistant on laptop speakers",
            ),
            (EchoGuard.HALF_DUPLEX.value, "mute the mic while the assistant is audible"),
            (EchoGuard.OFF.value, "send the mic unchanged (headphones)"),
        ),
    )


@dataclass
class UISettings:
    SECTION: ClassVar[str] = "Interface"

    theme: str = setting("textual-dark", "Colour theme.", suggestions=THEMES, non_empty=True)
    show_events: bool = setting(False, "Show the event inspector at start.")


@dataclass
class HistorySettings:
    SECTION: ClassVar[str] = "History"

    enabled: bool = setting(True, "Write a transcript file for each session.")
    dir: str = setting(
        "", "Transcript folder (empty = $XDG_DATA_HOME/rt-tui/history).", kind="path"
    )
    record_audio: bool = setting(
        False, "Also record both sides as WAV files next to the transcript."
    )


def _action(default: str, label: str, help: str) -> str:
    """A key action: its default keys, the footer's label and the help screen's line."""
    return setting(default, help, kind="keys", label=label)  # type: ignore[no-any-return]


@dataclass
class KeySettings:
    """Key bindings: each value is a comma list of Textual key names.

    Each field is one user action (binding id, action name and [keys] entry); the app's
    bindings, footer, help screen and command palette are built from these fields.
    The order is the footer's, left to right, and a narrow terminal cuts it on the right:
    the voice keys and Help and Quit come first (at 60 columns they still show, in every
    state); Stop retry, shown only while (re)connecting, fits from 68 columns; Settings and
    Events are also listed by Help and the command palette.
    """

    SECTION: ClassVar[str] = "Keys"

    mute: str = _action("m,f2", "Mute", "Mute or unmute the microphone")
    interrupt: str = _action(
        "escape,f3", "Interrupt", "Stop the assistant now (truncate what was not heard)"
    )
    talk: str = _action(
        "space,f4", "Talk", "Manual turns: start or end your turn; VAD: interrupt, listen"
    )
    focus_input: str = _action(
        "slash", "Type", "Focus the message box (Enter sends, Escape leaves)"
    )
    help: str = _action("question_mark,f1", "Help", "Show every key")
    quit: str = _action("ctrl+q", "Quit", "Quit rt-tui")
    cancel_reconnect: str = _action("ctrl+x,f8", "Stop retry", "Stop reconnecting (stay offline)")
    settings: str = _action("s,f5", "Settings", "Open the settings panel")
    events: str = _action("e,f6", "Events", "Show or hide the event inspector")

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
    # [tools] is arrays of tables and maps, not key = value settings: tui.config.tools
    # reads and writes it whole (one value here, one schema there)
    tools: ToolsSettings = table_setting(  # noqa: RUF009 - a dataclasses.field()
        ToolsSettings,
        "What the assistant may call: local MCP servers, remote MCP servers, built-ins.",
        load=tools_from_toml,
        dump=ToolsSettings.to_toml,
    )


def split_keys(text: str) -> tuple[str, ...]:
    """'m, f2' -> ('m', 'f2'): the key names of one binding value."""
    return tuple(part.strip() for part in text.split(","))


SCHEMA: tuple[FieldSpec, ...] = schema_of(Settings)
BY_PATH: dict[str, FieldSpec] = {spec.path: spec for spec in SCHEMA}
# Whole tables with their own codec ([tools]), by their top-level key.
WHOLE_TABLES: dict[str, TableSpec] = {spec.key: spec for spec in tables_of(Settings)}
# Tables in file order; "session" holds the sub-table "session.turn_detection".
TABLES: tuple[str, ...] = tuple(dict.fromkeys(spec.table for spec in SCHEMA))
# (section title, its fields) in schema order: what a settings form shows as tabs or groups.
SECTIONS: tuple[tuple[str, tuple[FieldSpec, ...]], ...] = tuple(
    (title, tuple(spec for spec in SCHEMA if spec.section == title))
    for title in dict.fromkeys(spec.section for spec in SCHEMA)
)
# The user actions, in footer order: one per [keys] entry.
KEY_ACTIONS: tuple[FieldSpec, ...] = tuple(spec for spec in SCHEMA if spec.table == "keys")


def field(path: str) -> FieldSpec:
    """The FieldSpec of a dotted path; ConfigError (with a suggestion) for an unknown one."""
    try:
        return BY_PATH[path]
    except KeyError:
        raise config_error(
            f"unknown setting{did_you_mean(path, list(BY_PATH))}", key=path
        ) from None


def children(table: str) -> list[str]:
    """Keys allowed directly in `table`: its settings and its sub-tables."""
    prefix = f"{table}." if table else ""
    names: list[str] = []
    for spec in SCHEMA:
        if spec.path.startswith(prefix):
            first = spec.path[len(prefix) :].split(".")[0]
            if first not in names:
                names.append(first)
    return names if table else names + list(WHOLE_TABLES)
