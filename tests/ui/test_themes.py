"""Theme files: the shipped ones load, bad files are reported and skipped, choices persist."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from textual.theme import Theme

from tests.ui.conftest import scripted, wait_until
from tui.app import RtApp
from tui.config import Settings, with_value
from tui.ui import themes

SHIPPED = ("calm", "high-contrast", "light")


def test_shipped_themes_load_and_validate() -> None:
    folder = themes.shipped_theme_dir()
    assert folder is not None
    loaded = themes.load_themes([folder])
    assert loaded.errors == []
    names = {theme.name for theme in loaded.themes}
    assert set(SHIPPED) <= names
    for theme in loaded.themes:
        assert set(themes.APP_VARIABLES) <= set(theme.variables), theme.name
    assert {t.name: t.dark for t in loaded.themes}["light"] is False


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('primary = "notacolour"\n', "bad colour"),
        ('primary = "#112233"\n[variables]\nrole-user = "nope"\n', "role-user"),
        ('primary = "#112233"\nshiny = true\n', "unknown or wrong key"),
        ("primary = [\n", "invalid TOML"),
        ('name = "x"\n', "'primary' colour is required"),
    ],
)
def test_bad_theme_file_is_reported_and_skipped(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "bad.toml").write_text(text)
    (tmp_path / "good.toml").write_text('primary = "#336699"\n')
    loaded = themes.load_themes([tmp_path])
    assert [t.name for t in loaded.themes] == ["good"]
    assert len(loaded.errors) == 1
    assert "bad.toml" in loaded.errors[0] and reason in loaded.errors[0]


def test_user_dir_wins_a_name_clash(tmp_path: Path) -> None:
    shipped, user = tmp_path / "shipped", tmp_path / "user"
    shipped.mkdir()
    user.mkdir()
    (shipped / "calm.toml").write_text('name = "calm"\nprimary = "#111111"\n')
    (user / "mine.toml").write_text('name = "calm"\nprimary = "#222222"\n')
    loaded = themes.load_themes([shipped, user])
    assert [t.primary for t in loaded.themes] == ["#222222"]


def test_user_theme_dir_follows_xdg() -> None:
    assert themes.user_theme_dir({"XDG_CONFIG_HOME": "/x"}) == Path("/x/rt-tui/themes")
    assert themes.user_theme_dir() == Path(os.environ["XDG_CONFIG_HOME"]) / "rt-tui" / "themes"


def test_variable_defaults_come_from_the_palette() -> None:
    theme = Theme(name="t", primary="#010203", accent="#040506")
    defaults = themes.variable_defaults(theme)
    assert defaults["role-user"] == "#010203"
    assert defaults["role-assistant"] == "#040506"
    assert set(defaults) == set(themes.APP_VARIABLES)


async def test_bad_user_theme_is_notified_once_and_app_runs(tmp_path: Path) -> None:
    user_dir = themes.user_theme_dir()
    user_dir.mkdir(parents=True)
    (user_dir / "broken.toml").write_text('name = "broken"\nprimary = "#zzzzzz"\n')
    (user_dir / "mine.toml").write_text('name = "mine"\nprimary = "#884400"\ndark = true\n')
    app = RtApp(Settings(), config_path=tmp_path / "config.toml", session_factory=scripted())
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        broken = [m for m in messages if "broken.toml" in m]
        assert len(broken) == 1 and "bad colour" in broken[0]
        assert "broken" not in app.available_themes
        assert "mine" in app.available_themes and "calm" in app.available_themes
        app.theme = "mine"  # a user theme applies without crashing
        await pilot.pause()
        assert app.current_theme.name == "mine"


@pytest.mark.parametrize("name", ["nord", "calm"])
async def test_theme_switch_persists_to_settings(tmp_path: Path, name: str) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text('[session]\nvoice = "cedar"\n')
    running = with_value(Settings(), "connection.url", "ws://127.0.0.1:9/v1/realtime")
    app = RtApp(running, config_path=config_path, session_factory=scripted())
    async with app.run_test(size=(100, 32)) as pilot:
        app.theme = name  # as the palette's theme picker does
        await wait_until(
            lambda: "theme" in config_path.read_text(), pilot, what="the theme in the file"
        )
        saved = tomllib.loads(config_path.read_text())
        assert saved["ui"]["theme"] == name
        assert saved["session"]["voice"] == "cedar"  # the file's other keys are kept
        assert "connection" not in saved  # the running override is not pinned
        assert app.settings.ui.theme == name
        # Role colours follow the theme (app variables resolve for every theme).
        assert app.get_css_variables()["role-user"]


async def test_unknown_theme_in_settings_falls_back_with_a_notice(tmp_path: Path) -> None:
    settings = with_value(Settings(), "ui.theme", "no-such-theme")
    app = RtApp(settings, config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        assert any("no-such-theme" in n.message for n in app._notifications)
