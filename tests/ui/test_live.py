"""Pilot tests of the main screen with the real session against the local server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.hostile import HOSTILE
from tests.ui.conftest import live_settings, wait_until
from tests.ui.terminal import assert_inert, drawn_texts
from tui.app import RtApp
from tui.changes import ConnectionState, Role
from tui.config import with_value
from tui.localserver import LocalServer
from tui.screens.help import HelpScreen
from tui.screens.settings import SettingsScreen
from tui.widgets.keys import ACTIONS
from tui.widgets.level_meter import MeterState

SIZE = (100, 32)
API_KEY = "sk-test-ui-0123456789"


def make_app(server: LocalServer, config_path: Path, **settings_changes: object) -> RtApp:
    """`settings_changes`: dotted paths with "__" for "." (session__spend_cap_usd=1.0)."""
    settings = live_settings(server.url)
    for path, value in settings_changes.items():
        settings = with_value(settings, path.replace("__", "."), value)
    return RtApp(
        settings,
        config_path=config_path,
        api_key=API_KEY,
        audio_enabled=False,
    )


async def wait_live(app: RtApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_until(
        lambda: app.session is not None and app.session.state is ConnectionState.LIVE,
        pilot,
        what="the session to go live",
    )


async def test_typed_message_gets_a_reply_turn(server: LocalServer, config_path: Path) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        assert app.focused is not None and app.focused.id == "message"
        await pilot.press(*"hello [there]", "enter")
        assert app.query_one("#message").value == ""

        def reply_shown() -> bool:
            replies = [
                view
                for view in app.conversation_log.query("TurnView")
                if view.turn.role is Role.ASSISTANT and view.turn.final
            ]
            return bool(replies) and "hello [there]" in str(replies[-1].render())

        await wait_until(reply_shown, pilot, what="the assistant's reply on screen")
        received = [event["type"] for event in server.sessions[-1].received]
        assert "conversation.item.create" in received
        assert "response.create" in received
        # Escape leaves the box: keys act on the app again.
        await pilot.press("escape")
        assert app.focused is not None and app.focused.id == "log"


async def test_status_line_shows_the_session_clock_from_the_start(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        # no turn yet, so no usage: the clock must not wait for the first response.done
        await wait_until(
            lambda: "session <1 min" in app.status_line.render().plain,
            pilot,
            what="the session clock in the status line",
        )


async def test_mute_keys_toggle_session_and_meter(server: LocalServer, config_path: Path) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        assert app.session is not None and not app.session.muted
        await pilot.press("escape", "m")  # one-key control once the box is left
        assert app.session.muted
        await wait_until(lambda: app.meter.state is MeterState.MUTED, pilot, what="muted bar")
        await pilot.press("f2")
        assert not app.session.muted
        await wait_until(lambda: app.meter.state is not MeterState.MUTED, pilot, what="unmuted")
        # While typing, "m" is text and F2 still mutes.
        await pilot.press("slash", "m")
        assert app.query_one("#message").value == "m"
        assert not app.session.muted
        await pilot.press("f2")
        assert app.session.muted


async def test_inspector_toggles_and_never_shows_the_key(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        assert app.inspector.display is False
        await pilot.press("escape", "e")
        assert app.inspector.display is True
        assert app.session is not None and app.session.inspect is True
        # Type the key itself: the event that carries it must reach the inspector redacted.
        await pilot.press("slash", *API_KEY, "enter", "escape")
        await wait_until(
            lambda: any("response.done" in strip.text for strip in app.inspector.lines),
            pilot,
            what="response.done in the inspector",
        )
        shown = "\n".join(strip.text for strip in app.inspector.lines)
        assert "conversation.item.create" in shown and "→" in shown and "←" in shown
        assert API_KEY not in shown
        await pilot.press("e")
        assert app.inspector.display is False
        assert app.session.inspect is False


async def test_talk_key_starts_and_ends_a_manual_turn(
    server: LocalServer, config_path: Path
) -> None:
    settings = with_value(live_settings(server.url), "session.turn_detection.mode", "manual")
    app = RtApp(settings, config_path=config_path, api_key=API_KEY, audio_enabled=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        received = server.sessions[-1].received
        await pilot.press("space")
        await wait_until(
            lambda: "input_audio_buffer.clear" in [e["type"] for e in received],
            pilot,
            what="the turn to start",
        )
        await pilot.press("f4")
        # no microphone here, so no audio: the turn ends "too short", nothing committed
        # (the server refuses a commit under 100 ms; tests/session/test_turn_options.py)
        await wait_until(
            lambda: [e["type"] for e in received].count("input_audio_buffer.clear") == 2,
            pilot,
            what="the turn to end",
        )
        types = [e["type"] for e in received]
        assert "input_audio_buffer.commit" not in types and "response.create" not in types
        assert not app.session.talking  # type: ignore[union-attr]


async def test_interrupt_key_cancels_the_running_reply(config_path: Path) -> None:
    # Real-time streaming so the reply is still running when the key arrives.
    async with LocalServer(realtime_factor=1.0) as server:
        app = make_app(server, config_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_live(app, pilot)
            await pilot.press("slash", *"tell me a long story", "enter", "escape")
            await wait_until(
                lambda: any(
                    turn.role is Role.ASSISTANT and not turn.final
                    for turn in app.session.conversation.turns  # type: ignore[union-attr]
                ),
                pilot,
                what="the reply to start",
            )
            await pilot.press("escape")
            received = server.sessions[-1].received
            await wait_until(
                lambda: "response.cancel" in [e["type"] for e in received],
                pilot,
                what="response.cancel",
            )


async def test_help_and_settings_open_and_close(server: LocalServer, config_path: Path) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape", "question_mark")
        await wait_until(lambda: isinstance(app.screen, HelpScreen), pilot, what="help")
        text = str(app.screen.query_one("#help-text").render())
        for spec in ACTIONS:
            assert spec.help in text
        assert "m / F2" in text and "ctrl+q" in text
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, HelpScreen), pilot)
        await pilot.press("s")
        await wait_until(lambda: isinstance(app.screen, SettingsScreen), pilot, what="settings")
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)


async def test_keymap_from_settings_rebinds_actions(server: LocalServer, config_path: Path) -> None:
    settings = with_value(live_settings(server.url), "keys.mute", "u,f9")
    app = RtApp(settings, config_path=config_path, api_key=API_KEY, audio_enabled=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        assert app.session is not None
        await pilot.press("escape", "m")
        assert not app.session.muted
        await pilot.press("u")
        assert app.session.muted
        await pilot.press("f9")
        assert not app.session.muted


async def test_ctrl_q_quits_and_closes_the_connection(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        record = server.sessions[-1]
        await pilot.press("ctrl+q")
        await wait_until(lambda: record.closed.is_set(), pilot, what="the connection to close")
    assert app.return_code == 0


async def test_cancel_reconnect_stays_offline(config_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = live_settings(f"ws://127.0.0.1:{port}/v1/realtime")
    app = RtApp(settings, config_path=config_path, api_key=API_KEY, audio_enabled=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            lambda: app.connection_bar.change.state is ConnectionState.RECONNECTING,
            pilot,
            what="reconnecting",
        )
        assert "reconnecting" in str(app.connection_bar.render())
        await pilot.press("escape", "ctrl+x")  # in the message box ctrl+x is cut (F8 works)
        await wait_until(
            lambda: app.connection_bar.change.state is ConnectionState.OFFLINE,
            pilot,
            what="offline",
        )


async def test_hostile_server_text_reaches_the_screen_inert(
    server: LocalServer, config_path: Path
) -> None:
    """The real session against a server that echoes escape sequences and sends an error
    event full of them: transcript, toast and inspector all draw them inert."""
    message = f"bad thing {HOSTILE}"
    error = {"type": "server_error", "code": "x", "message": message, "param": None}
    server.faults.extra_frames = [json.dumps({"type": "error", "event_id": "e1", "error": error})]
    app = make_app(server, config_path)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await wait_live(app, pilot)
        await pilot.press("e")  # the inspector shows the raw events
        assert app.session is not None
        app.session.send_text(HOSTILE)

        def reply_final() -> bool:
            return any(
                view.turn.role is Role.ASSISTANT and view.turn.final
                for view in app.conversation_log.query("TurnView")
            )

        await wait_until(reply_final, pilot, what="the echoed reply")
        screen = lambda: "\n".join(drawn_texts(app))  # noqa: E731
        await wait_until(lambda: "bad thing" in screen(), pilot, what="the error toast")
        await pilot.pause()
        assert "You said" in screen()
        assert_inert(app, ("hello", "sudo", "bad thing"))


async def test_text_typed_at_the_spend_cap_stays_on_screen_marked_not_sent(
    server: LocalServer, config_path: Path
) -> None:
    """The box is emptied as for any sent message: the words are in the log instead, with
    why they went nowhere, never just a toast that fades."""
    app = make_app(server, config_path, session__spend_cap_usd=0.000001)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        await pilot.press(*"first", "enter")
        await wait_until(lambda: app.session.capped, pilot, what="the cap reached")
        await pilot.press(*"my last words", "enter")

        def kept() -> bool:
            shown = [str(view.render()) for view in app.conversation_log.query("TurnView")]
            return any("my last words" in text and "not sent: spend cap" in text for text in shown)

        await wait_until(kept, pilot, what="the typed words in the log, marked not sent")
        assert app.query_one("#message").value == ""
        said = [e for e in server.sessions[-1].received if e["type"] == "conversation.item.create"]
        assert len(said) == 1, "nothing more is sent at the cap"


async def test_a_full_disk_mid_session_stays_in_the_status_line(
    server: LocalServer, config_path: Path
) -> None:
    """Not a toast that fades: the status line says how many turns are not saved and why
    until the disk takes them, then says nothing more."""
    from tests.session.test_transcript import FullDisk

    disk = FullDisk()
    app = RtApp(
        with_value(live_settings(server.url), "history.enabled", True),
        config_path=config_path,
        api_key=API_KEY,
        audio_enabled=False,
        history=disk,
    )
    status = lambda: app.status_line.render().plain  # noqa: E731
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        disk.full = True
        await pilot.press(*"hello", "enter")
        await wait_until(lambda: "not saved" in status(), pilot, what="the failure shown")
        assert "No space left on device" in status()
        assert status().startswith("history: "), "urgent: first on the line"
        await wait_until(lambda: "2 turns not saved" in status(), pilot, what="both turns")
        disk.full = False
        await pilot.press(*"again", "enter")
        await wait_until(lambda: "not saved" not in status(), pilot, what="saved again")
    assert [t.text for t in disk.written][:2] == ["hello", "You said: hello"]


async def test_a_bug_behind_the_interrupt_key_does_not_end_the_app(
    server: LocalServer, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key press runs an intent on the app's loop: an exception there used to end the
    app. It is one toast now, and the conversation goes on."""
    from tui.session.turns import TurnTaking

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("a bug in barge-in")

    monkeypatch.setattr(TurnTaking, "barge_in", broken)
    app = make_app(server, config_path)
    screen = lambda: "\n".join(drawn_texts(app))  # noqa: E731
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_live(app, pilot)
        await pilot.press("escape", "escape")  # leave the box, then the interrupt key
        await wait_until(lambda: "Internal error" in screen(), pilot, what="the toast")
        monkeypatch.undo()
        await pilot.press("slash", *"still there", "enter")
        await wait_until(
            lambda: any(
                turn.role is Role.ASSISTANT and turn.final and "still there" in turn.text
                for turn in app.session.conversation.turns  # type: ignore[union-attr]
            ),
            pilot,
            what="the next reply",
        )
    assert app.return_code in (0, None)
