"""The settings panel (built from the schema, validated, saved to disk, applied to the
session) and the help screen."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.containers import VerticalScroll
from textual.widgets import Input, Select, Static, Switch, TabbedContent, Tabs, TextArea

from tests.ui.conftest import scripted, wait_until
from tests.ui.test_live import API_KEY, SIZE, make_app, wait_live
from tui.app import RtApp
from tui.config import MODE_PATH as MODE
from tui.config import SCHEMA, KeySettings, Settings, load_settings, with_value
from tui.localserver import LocalServer
from tui.screens.help import KEY_COLUMN, HelpScreen, help_text
from tui.screens.settings import SettingsScreen, field_help, slug, suggest_width
from tui.widgets.keys import keymap


async def open_settings(app: RtApp, pilot) -> SettingsScreen:  # type: ignore[no-untyped-def]
    await pilot.press("f5")  # the F-key works while the message box has focus
    await wait_until(lambda: isinstance(app.screen, SettingsScreen), pilot, what="settings")
    screen = app.screen
    assert isinstance(screen, SettingsScreen)
    return screen


def field(screen: SettingsScreen, path: str):  # type: ignore[no-untyped-def]
    return screen.query_one(f"#f-{slug(path)}")


async def test_every_schema_field_has_an_editor(server: LocalServer, config_path: Path) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        for spec in SCHEMA:
            widget = field(screen, spec.path)
            if spec.type is bool:
                assert isinstance(widget, Switch), spec.path
            elif spec.choices:
                assert isinstance(widget, Select), spec.path
            elif spec.kind == "multiline":
                assert isinstance(widget, TextArea), spec.path
        key_input = field(screen, "connection.api_key")
        assert isinstance(key_input, Input) and key_input.password and key_input.value == ""
        # Suggestions: a Select that fills the free text input.
        suggest = screen.query_one(f"#s-{slug('session.voice')}", Select)
        suggest.value = "verse"
        await pilot.pause()
        assert field(screen, "session.voice").value == "verse"


async def test_change_save_writes_file_and_sends_session_update(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        screen = await open_settings(app, pilot)
        field(screen, "session.voice").value = "cedar"
        field(screen, "session.turn_detection.threshold").value = "0.7"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="close")
        saved = tomllib.loads(config_path.read_text())
        assert saved["session"]["voice"] == "cedar"
        assert saved["session"]["turn_detection"]["threshold"] == 0.7
        # Runtime overrides (the local server's URL, audio off) are not pinned in the file.
        assert "connection" not in saved and "audio" not in saved
        assert app.settings.session.voice == "cedar"
        assert app.settings.connection.url == server.url

        def update_sent() -> bool:
            updates = [e for e in server.sessions[-1].received if e["type"] == "session.update"]
            if len(updates) < 2:  # the first one configured the connection
                return False
            session = updates[-1]["session"]
            turn = session["audio"]["input"]["turn_detection"]
            return session["audio"]["output"]["voice"] == "cedar" and turn["threshold"] == 0.7

        await wait_until(update_sent, pilot, what="session.update with the new values")


async def test_reasoning_limits_and_transcription_hints_are_edited_and_sent(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_live(app, pilot)
        screen = await open_settings(app, pilot)

        def shown(path: str) -> bool:
            return bool(screen.query_one(f"#row-{slug(path)}").display)

        assert not shown("session.noise_reduction_strength"), "noise reduction is off"
        field(screen, "session.noise_reduction").value = "near_field"
        await pilot.pause()
        assert shown("session.noise_reduction_strength")
        field(screen, "session.noise_reduction_strength").value = "0.5"
        field(screen, "session.reasoning_effort").value = "high"
        field(screen, "session.max_output_tokens").value = "300"
        field(screen, "session.transcription_keywords").value = "rt-tui, Textual"
        field(screen, "session.transcription_languages").value = "en,de"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="close")
        saved = tomllib.loads(config_path.read_text())["session"]
        assert saved["reasoning_effort"] == "high" and saved["max_output_tokens"] == 300

        def update_sent() -> dict[str, object] | None:
            updates = [e for e in server.sessions[-1].received if e["type"] == "session.update"]
            return updates[-1]["session"] if len(updates) >= 2 else None

        await wait_until(lambda: update_sent() is not None, pilot, what="session.update")
        session = update_sent()
        assert session is not None
        assert session["reasoning"] == {"effort": "high"}
        assert session["max_output_tokens"] == 300
        audio_in = session["audio"]["input"]  # type: ignore[index]
        assert audio_in["noise_reduction"] == {"type": "near_field", "strength": 0.5}
        assert audio_in["transcription"] == {
            "model": "gpt-transcribe",
            "keywords": ["rt-tui", "Textual"],
            "languages": ["en", "de"],
        }
        assert server.sessions[-1].config["max_output_tokens"] == 300, "the server took it"


async def test_invalid_value_is_refused_and_file_unchanged(
    server: LocalServer, config_path: Path
) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text('[session]\nvoice = "marin"\n')
    before = config_path.read_bytes()
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        field(screen, "session.turn_detection.threshold").value = "1.5"
        await pilot.pause()
        error = screen.query_one(f"#e-{slug('session.turn_detection.threshold')}")
        assert error.has_class("-shown")
        assert "1.5" in str(error.render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # still open
        assert screen.errors == {"session.turn_detection.threshold": str(error.render())}
        assert config_path.read_bytes() == before
        # Fixing it clears the message.
        field(screen, "session.turn_detection.threshold").value = "0.6"
        await pilot.pause()
        assert not error.has_class("-shown")
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert config_path.read_bytes() == before
        assert app.settings.session.turn_detection.threshold == 0.5


async def test_turn_detection_fields_follow_the_mode(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)

        def shown(path: str) -> bool:
            return bool(screen.query_one(f"#row-{slug(path)}").display)

        assert shown("session.turn_detection.threshold")
        assert not shown("session.turn_detection.eagerness")
        field(screen, "session.turn_detection.mode").value = "semantic_vad"
        await pilot.pause()
        assert not shown("session.turn_detection.threshold")
        assert shown("session.turn_detection.eagerness")
        field(screen, "session.turn_detection.mode").value = "manual"
        await pilot.pause()
        assert not shown("session.turn_detection.interrupt_response")
        assert shown("session.voice")  # a field that applies to every mode


async def test_theme_preview_is_undone_by_escape_and_kept_by_save(
    server: LocalServer, config_path: Path
) -> None:
    app = make_app(server, config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        field(screen, "ui.theme").value = "calm"
        await pilot.pause()
        assert app.theme == "calm"  # live preview
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert app.theme == "textual-dark"
        assert not config_path.exists()
        screen = await open_settings(app, pilot)
        field(screen, "ui.theme").value = "high-contrast"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert app.theme == "high-contrast"
        assert tomllib.loads(config_path.read_text())["ui"]["theme"] == "high-contrast"


async def test_stored_api_key_is_kept_or_replaced_but_never_shown(
    server: LocalServer, config_path: Path
) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text('[connection]\napi_key = "sk-stored-secret"\n')
    config_path.chmod(0o600)
    settings = load_settings(config_path, env={})
    settings = with_value(settings, "connection.url", server.url)
    app = RtApp(settings, config_path=config_path, api_key=API_KEY, audio_enabled=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        key_input = field(screen, "connection.api_key")
        assert key_input.value == "" and key_input.password  # not put on screen
        field(screen, "session.voice").value = "sage"
        await pilot.press("ctrl+s")  # an empty key field keeps the stored key
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        saved = tomllib.loads(config_path.read_text())
        assert saved["connection"]["api_key"] == "sk-stored-secret"
        assert saved["session"]["voice"] == "sage"

        screen = await open_settings(app, pilot)
        field(screen, "connection.api_key").value = "sk-replaced-secret"
        await pilot.pause()
        screen_text = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "sk-replaced-secret" not in screen_text  # masked while typed
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert tomllib.loads(config_path.read_text())["connection"]["api_key"] == (
            "sk-replaced-secret"
        )
        assert config_path.stat().st_mode & 0o777 == 0o600


def scripted_app(config_path: Path) -> RtApp:
    return RtApp(Settings(), config_path=config_path, session_factory=scripted())


async def test_settings_open_with_the_tab_strip_focused(config_path: Path) -> None:
    app = scripted_app(config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        await wait_until(lambda: isinstance(app.focused, Tabs), pilot, what="the tabs focused")
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "tab-Connection"
        await pilot.press("right")  # arrows work at once: no click or tab needed first
        await wait_until(lambda: tabs.active == "tab-Session", pilot, what="the next tab")
        await pilot.press("tab")
        assert app.focused is not None and app.focused is not tabs.query_one(Tabs)


async def test_help_fits_a_narrow_terminal_and_scrolls(config_path: Path) -> None:
    app = scripted_app(config_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("f1")
        await wait_until(lambda: isinstance(app.screen, HelpScreen), pilot, what="help")
        dialog = app.screen.query_one("#help-dialog", VerticalScroll)
        await wait_until(lambda: app.focused is dialog, pilot, what="the help focused")
        assert dialog.region.x >= 0 and dialog.region.right <= 60
        assert dialog.region.bottom <= 20
        text = app.screen.query_one("#help-text")
        assert text.region.right <= dialog.region.right  # nothing cut at the right
        assert dialog.max_scroll_y > 0  # taller than the terminal: it scrolls
        await pilot.press("end")
        await wait_until(lambda: dialog.scroll_y == dialog.max_scroll_y, pilot, what="scrolled")
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, HelpScreen), pilot, what="closed")


def test_help_descriptions_wrap_under_themselves() -> None:
    lines = help_text(keymap(KeySettings()), width=44).plain.splitlines()
    table = lines[1 : lines.index("")]  # the key rows, before the notes
    assert all(len(line) <= 44 for line in table)
    continued = [line for line in table if line.startswith(" ")]
    assert continued and all(line.startswith(" " * KEY_COLUMN) for line in continued)
    assert any(line.startswith("m / F2") for line in lines)


def screen_lines(app: RtApp) -> list[str]:
    return ["".join(s.text for s in strip) for strip in app.screen._compositor.render_strips()]


async def test_choices_say_when_to_use_each(config_path: Path) -> None:
    """Issue 6: the echo guard offers its three modes with one line each (turn modes too)."""
    app = scripted_app(config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        guide = screen.query_one(f"#c-{slug('audio.echo_guard')}", Static)
        text = str(guide.render())
        lines = text.splitlines()
        assert len(lines) == 3 and lines[0].startswith("▸ aec")
        assert "laptop speakers" in text and "headphones" in text
        assert "▸ server_vad" in str(screen.query_one(f"#c-{slug(MODE)}", Static).render())
        field(screen, "audio.echo_guard").value = "off"
        await wait_until(lambda: "▸ off" in str(guide.render()), pilot, what="the new choice")
        assert "▸ aec" not in str(guide.render())
        screen.query_one(TabbedContent).active = "tab-Audio"
        # scrolling before the new tab is laid out used stale geometry (a flaky test)
        await wait_until(lambda: guide.region.height > 0, pilot, what="the Audio tab laid out")
        guide.scroll_visible(animate=False)

        def guide_on_screen() -> bool:
            lines = screen_lines(app)
            return any("half_duplex" in line and "assistant is audible" in line for line in lines)

        await wait_until(guide_on_screen, pilot, what="the echo guard's choices on screen")


async def test_suggestions_show_whole_names_and_numbers_their_range(config_path: Path) -> None:
    app = scripted_app(config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        screen.query_one(TabbedContent).active = "tab-Session"
        select = screen.query_one(f"#s-{slug('session.transcription_model')}", Select)
        select.value = "gpt-4o-mini-transcribe-2025-12-15"
        await pilot.pause()
        select.scroll_visible(animate=False)
        await pilot.pause()
        row = next(line for line in screen_lines(app) if "▼" in line and "2025-12-15" in line)
        assert row.split("▼")[0].strip(" │") == "gpt-4o-mini-transcribe-2025-12-15", row
        speed_help = screen.query_one(f"#row-{slug('session.speed')} .field-help", Static)
        assert "0.25–1.5" in str(speed_help.render())


def test_number_help_names_the_range() -> None:
    specs = {spec.path: spec for spec in SCHEMA}
    assert field_help(specs["session.speed"]).endswith("Range 0.25–1.5.")
    assert field_help(specs["session.spend_cap_usd"]).endswith("Range ≥ 0.")
    assert field_help(specs["session.voice"]) == specs["session.voice"].help
    assert suggest_width(["gpt-4o-mini-transcribe"]) >= len("gpt-4o-mini-transcribe") + 3


async def test_saving_untouched_settings_changes_no_value(config_path: Path) -> None:
    """ctrl+s on an untouched form rounded every float to 6 digits (0.1234567 -> 0.123457):
    the form showed f"{value:g}" and read that back as a change."""
    config_path.parent.mkdir(parents=True)
    config_path.write_text(
        "[session]\nspend_cap_usd = 0.1234567\n[session.turn_detection]\nthreshold = 0.1234567\n"
    )
    before = config_path.read_bytes()
    settings = load_settings(config_path, env={})
    app = RtApp(settings, config_path=config_path, session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(app, pilot)
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")
        assert app.settings.session.turn_detection.threshold == 0.1234567
        assert app.settings.session.spend_cap_usd == 0.1234567
    assert config_path.read_bytes() == before


URL_SECRET = "sk-url-SECRET-0123456789"


async def test_url_field_never_shows_a_key_in_the_url(config_path: Path) -> None:
    """Issue 9: `?api_key=...` showed in the settings URL field. It shows masked; saving
    the form unchanged keeps the real URL, typing a new one replaces it."""
    url = f"wss://ada:{URL_SECRET}@relay.example/v1/realtime?api_key={URL_SECRET}&model=m"
    settings = with_value(Settings(), "connection.url", url)
    app = RtApp(settings, config_path=config_path, session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        url_input = field(screen, "connection.url")
        assert url_input.value == "wss://relay.example/v1/realtime?api_key=***&model=m"
        assert URL_SECRET not in "\n".join(screen_lines(app))
        field(screen, "session.voice").value = "cedar"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")
        assert app.settings.connection.url == url  # the real one, not the masked text
        assert "connection" not in tomllib.loads(config_path.read_text())

        screen = await open_settings(app, pilot)
        field(screen, "connection.url").value = "wss://other.example/v1/realtime"
        await pilot.press("ctrl+s")
        await wait_until(lambda: not isinstance(app.screen, SettingsScreen), pilot, what="saved")
        assert app.settings.connection.url == "wss://other.example/v1/realtime"
