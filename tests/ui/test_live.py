"""Pilot tests of the main screen with the real session against the local server."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import ConnectionState, Role
from tui.localserver import LocalServer
from tui.widgets.level_meter import MeterState

SIZE = (100, 32)
API_KEY = "sk-test-ui-0123456789"


def make_app(server: LocalServer, config_path: Path, **settings_changes: object) -> RtApp:
    return RtApp(
        live_settings(server.url),
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
        await pilot.press("slash")
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
