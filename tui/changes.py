"""What the session tells the UI: the conversation's turns and a small set of change values.

The session calls one injected `listener(change)` on the asyncio loop; the app turns each
change into Textual messages / reactive attributes. These types are the whole contract
between the core and the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from tui.constants import AudioMode


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"  # a tool call the model made and its result (Turn.tool)


class TurnStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    DONE = "done"
    INTERRUPTED = "interrupted"  # the user talked over it; heard_ms says how much was heard
    CUT_OFF = "cut_off"  # the connection dropped mid-turn
    FAILED = "failed"  # response.done failed/incomplete, or transcription failed
    CANCELLED = "cancelled"


class ToolState(StrEnum):
    CALLED = "called"  # the model is writing the arguments / the call is being checked
    WAITING = "waiting"  # for the user's approval
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # failed, timed out, invalid arguments, or the tool reported an error
    DECLINED = "declined"  # by the user, a `never` setting, or no answer in time
    CANCELLED = "cancelled"  # barge-in or quitting


@dataclass(slots=True)
class ToolCall:
    """What a tool turn shows and keeps: the call, where it stands, and its result."""

    call_id: str
    name: str
    arguments: str = ""  # the model's JSON text (a function_call's `arguments`)
    state: ToolState = ToolState.CALLED
    origin: str = ""  # "MCP server notes", "built-in", "remote MCP server deepwiki"
    shown_arguments: str = ""  # one line, secrets masked (for the call line)
    summary: str = ""  # the one-line result
    output: str = ""  # what the model was sent (cut to the limit); replayed on resume
    full_text: str = ""  # the whole result, masked and printable (expanded in the log)
    started_at: float | None = None  # monotonic: when it started running (elapsed time)
    remote: bool = False  # an MCP call the API made itself (replayed as an mcp_call item)
    server_label: str = ""  # remote: the MCP server's label (`name` is `label__tool`)
    approval: bool = False  # remote: the approval request, not the call (never replayed)

    @property
    def tool_name(self) -> str:
        """The tool's own name: a remote call's without its `label__` prefix."""
        prefix = f"{self.server_label}__"
        return self.name.removeprefix(prefix) if self.server_label else self.name

    @property
    def final(self) -> bool:
        return self.state in (
            ToolState.DONE,
            ToolState.FAILED,
            ToolState.DECLINED,
            ToolState.CANCELLED,
        )


@dataclass(slots=True)
class Turn:
    """One entry of the conversation log (a user or assistant message item)."""

    item_id: str
    role: Role
    text: str = ""
    status: TurnStatus = TurnStatus.IN_PROGRESS
    started_at: float = 0.0  # wall-clock epoch seconds, for the time stamp
    response_id: str | None = None
    audio_ms: float = 0.0  # assistant audio received for this item
    heard_ms: float | None = None  # set when interrupted: what reached the speaker
    reason: str = ""  # why failed/incomplete/cut off, shown in the turn
    replayed: bool = False  # restored from history/reconnect, not said in this connection
    tool: ToolCall | None = None  # Role.TOOL turns: the call (status follows tool.state)

    @property
    def final(self) -> bool:
        return self.status is not TurnStatus.IN_PROGRESS


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd


@dataclass(slots=True)
class Stats:
    """Figures for the status line. Costs are estimates from tui.pricing."""

    last_latency_ms: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    turn_usage: Usage = field(default_factory=Usage)
    session_usage: Usage = field(default_factory=Usage)
    priced: bool = True  # False when the model has no price entry
    # False once input transcription had no price entry (e.g. whisper-1, billed per minute):
    # its tokens are in the figures, its cost is not, and the UI should say so
    transcription_priced: bool = True
    rate_limits: dict[str, Any] = field(default_factory=dict)  # name -> {remaining, limit, ...}
    connected_since: float | None = None  # monotonic seconds
    session_started: float | None = None  # monotonic seconds of the first connection
    handover_in_s: float | None = None  # countdown to the planned session handover

    @property
    def median_latency_ms(self) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        mid = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[mid]
        return (ordered[mid - 1] + ordered[mid]) / 2


# ---- changes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurnStarted:
    turn: Turn


@dataclass(frozen=True, slots=True)
class TurnText:
    """The turn's text grew (a delta arrived) or was replaced; read `turn.text`."""

    turn: Turn


@dataclass(frozen=True, slots=True)
class TurnFinished:
    turn: Turn


@dataclass(frozen=True, slots=True)
class SpeechChanged:
    """Who is speaking now: from VAD events (user) and local playback (assistant)."""

    user_speaking: bool
    assistant_audible: bool


@dataclass(frozen=True, slots=True)
class LevelSampled:
    """The microphone's level for the meter, sampled on the capture path about 20 times a
    second while the mic streams (no timer: with no microphone there is nothing to sample).
    `level` is (rms_db, peak_db), or None when there is no input."""

    level: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    state: ConnectionState
    reason: str = ""
    attempt: int = 0
    retry_in_s: float | None = None


@dataclass(frozen=True, slots=True)
class StatsChanged:
    stats: Stats


@dataclass(frozen=True, slots=True)
class MuteChanged:
    muted: bool
    reason: str = ""  # e.g. "spend cap reached"


@dataclass(frozen=True, slots=True)
class AudioModeChanged:
    """What the audio can do now (tui.constants.AudioMode), and why if it is less than asked."""

    mode: AudioMode
    message: str = ""  # one sentence per device, for the status line
    details: tuple[str, ...] = ()  # the sound system's raw words, for the inspector


@dataclass(frozen=True, slots=True)
class Notice:
    level: Literal["information", "warning", "error"]
    text: str


@dataclass(frozen=True, slots=True)
class EventLogged:
    """A raw event for the inspector: `direction` is "in" or "out"; payload already redacted."""

    direction: Literal["in", "out"]
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryFailing:
    """Turns the transcript file did not take (a full disk): kept and written with the next
    turn, in order. `unsaved` 0 (and no reason) once every one is written."""

    unsaved: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Applied:
    """What the server says it applied (its last `session.updated`), each as one short
    printable text, and what it was asked for where that differs."""

    voice: str = ""
    output: str = ""  # the reply audio's format: "audio/pcm 24 kHz", "audio/pcmu"
    input: str = ""  # the microphone audio's format, as the server reads it
    modalities: str = ""  # "audio" or "text"
    turn_detection: str = ""  # "server_vad", "semantic_vad", "manual"
    plays: bool = True  # the reply audio is PCM16 24 kHz, the one format rt-tui plays
    # (field, what was asked) for each of the fields above the server applied otherwise
    asked: tuple[tuple[str, str], ...] = ()

    def asked_for(self, field: str) -> str:
        """What was asked for `field` when the server applied something else, else ""."""
        return dict(self.asked).get(field, "")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    url: str
    model: str
    voice: str  # the voice the assistant speaks with now
    # another voice chosen in the settings after the first spoken reply, which the server
    # only takes on the next connection ("" when none is waiting)
    pending_voice: str = ""
    applied: Applied | None = None  # the server's word on this connection (None: not yet)


@dataclass(frozen=True, slots=True)
class ApprovalAsked:
    """A tool wants to run: ask the user (y / n / always). `ask` is tui.tools' Ask."""

    ask: Any


@dataclass(frozen=True, slots=True)
class ApprovalClosed:
    """The question is settled (answered, timed out, cancelled): close it if shown."""

    ask_id: str
    how: str  # yes | no | always | timeout | cancelled


@dataclass(frozen=True, slots=True)
class ToolServersChanged:
    """The local MCP servers' states (tui.tools.updates.ServerState by name)."""

    servers: dict[str, Any]


Change = (
    TurnStarted
    | TurnText
    | TurnFinished
    | SpeechChanged
    | LevelSampled
    | ConnectionChanged
    | StatsChanged
    | MuteChanged
    | AudioModeChanged
    | Notice
    | HistoryFailing
    | EventLogged
    | SessionInfo
    | ApprovalAsked
    | ApprovalClosed
    | ToolServersChanged
)
