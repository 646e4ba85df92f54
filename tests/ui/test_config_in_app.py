"""What the config file says reaches the running app: key names, startup warnings."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import scripted, wait_until
from tests.ui.test_live import SIZE
from tui.app import RtApp
from tui.changes import Role, Turn, TurnStarted, TurnStatus
from tui.config import Settings, load_settings
from tui.widgets.conversation import TurnView


async def test_a_key_written_in_capitals_works(config_path: Path) -> None:
    """Issue 14: `mute = "F2"` was accepted, shown in the footer, and F2 did nothing."""
    config_path.parent.mkdir(parents=True)
    config_path.write_text('[keys]\nmute = "F2"\n')
    app = RtApp(
        load_settings(config_path, env={}), config_path=config_path, session_factory=scripted()
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.session is not None, pilot, what="the session")
        await pilot.press("f2")
        await wait_until(lambda: app.muted, pilot, what="f2 to mute")
        assert ("toggle_mute", True) in app.session.calls  # type: ignore[union-attr]


def system_lines(app: RtApp) -> list[str]:
    return [
        " ".join(str(view.render()).split())
        for view in app.conversation_log.query(TurnView)
        if view.turn.role is Role.SYSTEM
    ]


async def test_startup_warnings_stay_in_the_log(config_path: Path) -> None:
    """Printed on stderr before the screen opened, then hidden by it: now a log line each,
    still there after the session's own turns arrive (a toast would have gone)."""
    warnings = [
        "environment variable RT_TUI_SESION_VOICE is not a setting and is ignored",
        f"{config_path} holds an API key and everyone can read it (mode 0644); fix: chmod 600",
    ]
    app = RtApp(
        Settings(),
        config_path=config_path,
        session_factory=scripted([TurnStarted(Turn("u1", Role.USER, "hello", TurnStatus.DONE))]),
        startup_warnings=warnings,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: len(system_lines(app)) == 2, pilot, what="the warnings")
        await wait_until(
            lambda: len(app.conversation_log.query(TurnView)) == 3, pilot, what="the user turn"
        )
        shown = system_lines(app)
        assert "Warning: environment variable RT_TUI_SESION_VOICE" in shown[0]
        assert "chmod 600" in shown[1]
