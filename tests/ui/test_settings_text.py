"""Issue 9 in the settings panel: a config file's strings (model, voice, instructions, theme,
URL) are drawn inert, what Textual writes to the terminal holds no ESC from them, an untouched
form keeps them byte for byte, and an edited field cannot save control characters."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.ui.conftest import scripted, wait_until
from tests.ui.terminal import assert_inert
from tests.ui.test_settings import field, open_settings
from tui.app import RtApp
from tui.config import load_settings
from tui.screens.settings import SettingsScreen, slug

SIZE = (120, 60)
HOSTILE_CONFIG = r"""# my settings
[connection]
model = "gpt\u001b]0;PWNED\u0007x"
url = "wss://relay.example/v1/realtime?m=\u001b[2Jx"

[session]
voice = "ma\u001b[31mrin"
instructions = "be \u001b]52;c;Y3VybA==\u0007brief\nand kind"

[ui]
theme = "gone\u001b[2Jtheme"
"""


def hostile_app(config_path: Path) -> RtApp:
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(HOSTILE_CONFIG)
    settings = load_settings(config_path, env={})
    assert "\x1b" in settings.connection.model  # the file really holds an ESC
    return RtApp(settings, config_path=config_path, session_factory=scripted())


async def show_tab(app: RtApp, pilot, tab: str) -> None:  # type: ignore[no-untyped-def]
    app.screen.query_one("TabbedContent").active = tab
    await wait_until(
        lambda: app.screen.query_one(f"#{tab}").region.height > 0, pilot, what=f"{tab} shown"
    )
    await pilot.pause()


async def test_config_strings_are_drawn_inert_and_kept_when_untouched(config_path: Path) -> None:
    app = hostile_app(config_path)
    before = config_path.read_bytes()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)  # an unknown theme no longer crashes it
        assert field(screen, "connection.model").value == "gpt␛x"
        await show_tab(app, pilot, "tab-Connection")
        assert_inert(app, ("gpt␛x", "holds control characters"))
        await show_tab(app, pilot, "tab-Session")
        assert_inert(app, ("ma␛rin", "be ␛brief"))
        await show_tab(app, pilot, "tab-Interface")
        assert_inert(app, ("gone␛theme",))
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")
        assert app.settings.connection.model == "gpt\x1b]0;PWNED\x07x"
        assert app.settings.session.instructions == "be \x1b]52;c;Y3VybA==\x07brief\nand kind"
    assert config_path.read_bytes() == before  # nothing was rewritten, no value lost


async def test_an_edited_field_cannot_save_control_characters(config_path: Path) -> None:
    app = hostile_app(config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        model = field(screen, "connection.model")
        model.value = "gpt␛x-2"  # edited around the picture of the file's ESC
        error = screen.query_one(f"#e-{slug('connection.model')}")
        await wait_until(lambda: error.has_class("-shown"), pilot, what="the error")
        assert "still holds ␛" in str(error.render())
        field(screen, "session.voice").value = "cedar\x1b[2J"  # pasted with an escape
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert set(screen.errors) == {"connection.model", "session.voice"}
        assert "control characters cannot be saved" in screen.errors["session.voice"]
        assert_inert(app)

        model.value = "gpt␛x"  # back to what it showed: the file's value again
        field(screen, "session.voice").value = "cedar"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")
    saved = tomllib.loads(config_path.read_text())
    assert saved["connection"]["model"] == "gpt\x1b]0;PWNED\x07x"
    assert saved["session"]["voice"] == "cedar"
    assert config_path.read_text().startswith("# my settings")
