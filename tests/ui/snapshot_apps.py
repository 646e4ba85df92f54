"""Deterministic apps for SVG snapshots: scripted session, fixed clocks, no live server.

Each state is a list of changes a ScriptedSession replays at start; times are fixed and
formatted in UTC, the cursor does not blink and no sound device is asked for.
"""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Input

from tests.ui.conftest import scripted
from tui.app import RtApp
from tui.changes import (
    AudioModeChanged,
    Change,
    ConnectionChanged,
    ConnectionState,
    MuteChanged,
    Role,
    SessionInfo,
    SpeechChanged,
    Stats,
    StatsChanged,
    ToolServersChanged,
    Turn,
    TurnStarted,
    TurnStatus,
    Usage,
)
from tui.config import Settings
from tui.config.tools import (
    Approval,
    BuiltinSettings,
    McpServerSettings,
    RemoteMcpSettings,
    ToolsSettings,
)
from tui.tools.updates import Phase, ServerState

CONFIG_PATH = "/home/ada/.config/rt-tui/config.toml"
T0 = 1_760_000_000.0  # a fixed epoch for time stamps
NOW = 754.0  # monotonic "now": the session started at 0, so it shows 12:34


def utc_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(epoch))


class SnapshotApp(RtApp):
    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Input).cursor_blink = False


def _info() -> list[Change]:
    return [
        SessionInfo("wss://api.openai.com/v1/realtime", "gpt-realtime-2", "marin"),
        AudioModeChanged("full"),
    ]


def _conversation() -> list[Change]:
    turns = [
        Turn("u1", Role.USER, "What is the tallest mountain in Europe?", TurnStatus.DONE, T0),
        Turn(
            "a1",
            Role.ASSISTANT,
            "Mount Elbrus, in the Caucasus, at 5,642 metres. If you only count the Alps, "
            "it is Mont Blanc at about 4,806 metres, which [depending on the survey] varies.",
            TurnStatus.INTERRUPTED,
            T0 + 3,
            audio_ms=5100,
            heard_ms=2300,
        ),
        Turn("u2", Role.USER, "Wait, how high is Mont Blanc?", TurnStatus.DONE, T0 + 9),
        Turn(
            "a2",
            Role.ASSISTANT,
            "About 4,806 metres, though its ice",
            TurnStatus.IN_PROGRESS,
            T0 + 11,
        ),
    ]
    stats = Stats(
        last_latency_ms=742,
        latencies_ms=[690, 742, 810],
        turn_usage=Usage(1_250, 310, 0.0214),
        session_usage=Usage(8_420, 2_210, 0.173),
        rate_limits={"requests": {"remaining": 4_990, "limit": 5_000}},
        session_started=0.0,
    )
    return [
        ConnectionChanged(ConnectionState.LIVE),
        *(TurnStarted(turn) for turn in turns),
        StatsChanged(stats),
        SpeechChanged(user_speaking=False, assistant_audible=True),
    ]


def _warnings() -> list[Change]:
    """A conversation with something to warn about: no microphone, a handover coming."""
    *changes, stats, speech = _conversation()
    assert isinstance(stats, StatsChanged)
    stats.stats.handover_in_s = 42
    message = (
        "No microphone found: plug one in or start the sound server."
        " · Running output only; retrying every 5 s."
    )
    return [*changes, stats, speech, AudioModeChanged("output_only", message)]


# The Tools tab's picture: a server ready, one waiting to retry, one off, a remote one.
SNAPSHOT_TOOLS = ToolsSettings(
    mcp=[
        McpServerSettings("notes", command="python", args=["-m", "tui.tools.demo_server"]),
        McpServerSettings("search", url="http://127.0.0.1:8000/mcp"),
        McpServerSettings("files", command="mcp-files", args=["--root", "~/notes"], enabled=False),
    ],
    remote=[
        RemoteMcpSettings("deepwiki", "https://mcp.deepwiki.com/mcp", require_approval="never")
    ],
    builtin=BuiltinSettings(clock=True),
    approvals={"notes__add_note": Approval.ALWAYS, "search__*": Approval.ASK},
)
LOG_DIR = "/home/ada/.local/state/rt-tui/mcp"


def _tools() -> list[Change]:
    names = ("notes__current_time", "notes__list_notes", "notes__add_note")
    servers = {
        "notes": ServerState("notes", Phase.READY, tools=3, tool_names=names),
        "search": ServerState(
            "search",
            Phase.RETRYING,
            reason="connection refused",
            retry_in_s=4.0,
            log_path=f"{LOG_DIR}/search.log",
        ),
    }
    return [ToolServersChanged(servers)]


STATES: dict[str, list[Change]] = {
    "empty": [*_info(), ConnectionChanged(ConnectionState.LIVE)],
    "conversation": [*_info(), *_conversation()],
    "muted": [*_info(), *_conversation()[:-1], MuteChanged(True)],
    "warnings": [*_info(), *_warnings()],
    "tools": [*_info(), ConnectionChanged(ConnectionState.LIVE), *_tools()],
    "reconnecting": [
        *_info(),
        ConnectionChanged(
            ConnectionState.RECONNECTING, "connection lost (code 1006)", attempt=2, retry_in_s=4.0
        ),
    ],
}


def snapshot_app(state: str, *, theme: str = "textual-dark", **kwargs: Any) -> SnapshotApp:
    settings = Settings()
    settings.ui.theme = theme
    if state == "tools":
        settings.tools = SNAPSHOT_TOOLS
    level = None if state in ("reconnecting", "warnings") else (-27.0, -18.0)
    return SnapshotApp(
        settings,
        config_path=CONFIG_PATH,
        session_factory=scripted(STATES[state], level=level),
        clock=lambda: T0,
        monotonic=lambda: NOW,
        time_format=utc_time,
        list_devices=lambda: [],
        **kwargs,
    )
