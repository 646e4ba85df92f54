"""Outside text on every surface of the app is drawn inert: no title, no clear, no clipboard.

Each test feeds the hostile string of tests/hostile.py through the path it takes in real
use (a change from the session, a notice, an event) and checks what Textual would write to
the terminal (tests/ui/terminal.py): no ESC from the text, no C1, no bidi control, and the
words around them still on screen.
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile import HOSTILE, READABLE
from tests.ui.conftest import scripted, wait_until
from tests.ui.terminal import assert_inert, drawn_texts
from tui.app import RtApp
from tui.changes import (
    Applied,
    AudioModeChanged,
    Change,
    ConnectionChanged,
    ConnectionState,
    EventLogged,
    MuteChanged,
    Notice,
    Role,
    SessionInfo,
    Turn,
    TurnFinished,
    TurnStarted,
    TurnStatus,
)
from tui.config import Settings, with_value

SIZE = (160, 40)


def _app(tmp_path: Path, script: list[Change], **kwargs: object) -> RtApp:
    return RtApp(
        Settings(), config_path=tmp_path / "c.toml", session_factory=scripted(script), **kwargs
    )


def _screen(app: RtApp) -> str:
    return "\n".join(drawn_texts(app))


async def test_transcript_text_and_failure_reason_are_inert(tmp_path: Path) -> None:
    said = Turn("u1", Role.USER, HOSTILE, TurnStatus.DONE, started_at=1.0)
    failed = Turn("a1", Role.ASSISTANT, "partial", TurnStatus.FAILED, 2.0, reason=HOSTILE)
    cut = Turn("a2", Role.ASSISTANT, "half", TurnStatus.CUT_OFF, 3.0, reason=HOSTILE)
    script: list[Change] = [TurnStarted(said), TurnFinished(said)]
    script += [TurnStarted(failed), TurnFinished(failed), TurnStarted(cut), TurnFinished(cut)]
    app = _app(tmp_path, script)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.conversation_log.mounted_turns == 3, pilot, what="turns")
        await pilot.pause()
        assert_inert(app, READABLE)
        assert "failed" in _screen(app) and "cut off" in _screen(app)


async def test_a_replayed_turn_from_a_history_file_is_inert(tmp_path: Path) -> None:
    """--resume draws turns read from disk: the same bytes `history show` prints."""
    old = Turn("h1", Role.ASSISTANT, HOSTILE, TurnStatus.DONE, started_at=1.0, replayed=True)
    app = _app(tmp_path, [TurnStarted(old), TurnFinished(old)])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.conversation_log.mounted_turns == 1, pilot, what="a turn")
        await pilot.pause()
        assert_inert(app, READABLE)


async def test_toasts_are_inert(tmp_path: Path) -> None:
    app = _app(tmp_path, [Notice("error", f"server error: {HOSTILE}")])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(lambda: "server error" in _screen(app), pilot, what="the toast")
        app.notify(HOSTILE, title="from \x1b]0;x\x07afar", severity="warning", markup=False)
        await wait_until(lambda: "from ␛afar" in _screen(app), pilot, what="a second toast")
        assert_inert(app, ("hello", "sudo", "red"))


async def test_the_header_is_inert(tmp_path: Path) -> None:
    script: list[Change] = [
        ConnectionChanged(ConnectionState.OFFLINE, reason=f"closed: {HOSTILE}"),
        SessionInfo(
            "wss://api.example.com/v1/realtime",
            model="gpt\x1b]0;title\x07-realtime",
            voice="mar\x1b[2Jin",
            pending_voice="ced\u202ear",
            applied=Applied(
                voice="mar\x1b[2Jin",
                output="audio/\x1b]0;x\x07pcmu",
                turn_detection="server\x9b2J_vad",
                plays=False,
                asked=(("voice", "co\x1b[31mral"),),
            ),
        ),
    ]
    app = _app(tmp_path, script)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.connection_bar.info is not None, pilot, what="the info")
        await pilot.pause()
        header = drawn_texts(app)[0] + drawn_texts(app)[1]
        assert "closed:" in header and "api.example.com" in header
        assert_inert(app, ("gpt␛-realtime", "mar␛in", "cedar", "hello", "sudo"))
        assert_inert(app, ("(asked co␛ral)", "server␛_vad", "audio/␛pcmu not played"))


async def test_the_status_line_is_inert(tmp_path: Path) -> None:
    """Device names reach it in audio messages; reasons come from the session."""
    device = "USB\x1b]0;x\x07 Audio\u202eoidua"
    script: list[Change] = [
        AudioModeChanged("input_only", message=f"speaker {device} failed\n\x1b[2Jfake"),
        MuteChanged(True, reason="muted by \x1b[31mserver\x1b[0m"),
    ]
    app = _app(tmp_path, script)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.status_line.mute_reason != "", pilot, what="the mute")
        await pilot.pause()
        assert_inert(app, ("USB␛ Audiooidua", "failed↵␛fake", "muted by ␛server"))


async def test_why_history_is_off_is_inert(tmp_path: Path) -> None:
    app = _app(tmp_path, [], history_off="cannot create \x1b[2J\x9b1;1H/x\u202e: denied")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert_inert(app, ("history off: cannot create ␛␛/x: denied",))


async def test_the_inspector_is_inert(tmp_path: Path) -> None:
    settings = with_value(Settings(), "ui.show_events", True)
    event = {"type": f"error{HOSTILE}", "error": {"message": HOSTILE + "\x7f\x85\u2066"}}
    app = RtApp(
        settings,
        config_path=tmp_path / "c.toml",
        session_factory=scripted([EventLogged("in", event)]),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: len(app.inspector.lines) > 0, pilot, what="the event line")
        await pilot.pause()
        assert_inert(app, ("error", "hello", "sudo"))
