"""What the config file says reaches the running app: key names, startup warnings."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import scripted, wait_until
from tests.ui.test_live import SIZE
from tui.app import RtApp
from tui.config import load_settings


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
