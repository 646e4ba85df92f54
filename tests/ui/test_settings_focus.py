"""Issue 14: where the focus is in the settings form shows in a plain-text capture (a `▶` before
the field's name, not only a colour), and Tab from the tab strip goes to the first field (the
scroll container is no Tab stop)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Switch, Tabs

from tests.ui.conftest import wait_until
from tests.ui.test_settings import field, open_settings, screen_lines, scripted_app
from tui.screens.field_label import FOCUS_MARK

SIZE = (100, 40)


def marked(lines: list[str]) -> list[str]:
    """The field names marked on screen, from the plain text alone."""
    return [line.split(FOCUS_MARK, 1)[1].strip(" │") for line in lines if FOCUS_MARK in line]


async def test_tab_from_the_strip_goes_to_the_first_field_which_is_marked(
    config_path: Path,
) -> None:
    app = scripted_app(config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        await wait_until(lambda: isinstance(app.focused, Tabs), pilot, what="the tabs focused")
        assert marked(screen_lines(app)) == []  # the strip holds the focus: no field marked
        await pilot.press("tab")
        url = field(screen, "connection.url")
        await wait_until(lambda: app.focused is url, pilot, what="the url field focused")
        await wait_until(lambda: marked(screen_lines(app)) == ["url"], pilot, what="▶ url")

        await pilot.press("tab")  # the marker follows the focus (the model's suggestions)
        await wait_until(lambda: marked(screen_lines(app)) == ["model"], pilot, what="▶ model")
        await pilot.press("shift+tab", "shift+tab")
        await wait_until(lambda: isinstance(app.focused, Tabs), pilot, what="back on the strip")
        await wait_until(lambda: marked(screen_lines(app)) == [], pilot, what="no marker")


async def test_a_switch_row_is_marked_too(config_path: Path) -> None:
    app = scripted_app(config_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(app, pilot)
        switch = field(screen, "ui.show_events")
        assert isinstance(switch, Switch)
        screen.query_one("TabbedContent").active = "tab-Interface"
        await wait_until(lambda: switch.region.height > 0, pilot, what="the Interface tab")
        switch.focus()
        await wait_until(
            lambda: marked(screen_lines(app)) == ["show events"], pilot, what="▶ show events"
        )
