"""SVG snapshots of the main screen and the settings panel (regenerate: --snapshot-update)."""

from __future__ import annotations

import pytest

from tests.ui.snapshot_apps import snapshot_app

SIZE = (100, 32)


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    pilot.app.conversation_log.flush()
    await pilot.pause()


@pytest.mark.parametrize("state", ["empty", "conversation", "muted", "reconnecting"])
def test_main_screen(snap_compare, state: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(snapshot_app(state), terminal_size=SIZE, run_before=_settle)


def test_main_screen_calm_theme(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        snapshot_app("conversation", theme="calm"), terminal_size=SIZE, run_before=_settle
    )


def test_main_screen_light_theme_with_inspector(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("f6")
        pilot.app.inspector.log_event("out", {"type": "response.create", "response": {}})
        pilot.app.inspector.log_event(
            "in", {"type": "response.output_audio.delta", "delta": "<3 kB audio>"}
        )
        await pilot.pause()

    assert snap_compare(
        snapshot_app("conversation", theme="light"), terminal_size=SIZE, run_before=run_before
    )


def test_settings_panel(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("f5")
        await pilot.pause(0.1)
        await pilot.pause()

    assert snap_compare(snapshot_app("empty"), terminal_size=SIZE, run_before=run_before)


def test_settings_turn_detection_tab(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("f5")
        await pilot.pause(0.1)
        pilot.app.screen.query_one("TabbedContent").active = "tab-Turn-detection"
        await pilot.pause()

    assert snap_compare(snapshot_app("empty"), terminal_size=SIZE, run_before=run_before)


def test_settings_tools_tab(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Issue 10: servers with their live states and tool approvals, the focus marked ▶."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("f5")
        await pilot.pause(0.1)
        pilot.app.screen.query_one("TabbedContent").active = "tab-Tools"
        await pilot.pause()
        screen = pilot.app.screen
        screen.query_one("#t-mcp-1").focus(scroll_visible=False)
        heading = screen.query_one("#tools-tab .server")
        screen.query_one("#tab-Tools VerticalScroll").scroll_to_widget(
            heading, animate=False, top=True
        )
        await pilot.pause()

    assert snap_compare(snapshot_app("tools"), terminal_size=(100, 40), run_before=run_before)


def test_help_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(snapshot_app("empty"), terminal_size=SIZE, press=["f1", "_"])


NARROW = (60, 20)


def test_main_screen_narrow(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """60 columns: warnings first in the status line, Help and Quit still in the footer."""
    assert snap_compare(snapshot_app("warnings"), terminal_size=NARROW, run_before=_settle)


def test_help_screen_narrow(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(snapshot_app("empty"), terminal_size=NARROW, press=["f1", "_"])


def test_readme_picture(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The picture at the top of the README: a conversation, an interrupted reply, a message
    being typed. Redraw it with `pytest tests/ui/test_snapshots.py -k readme --snapshot-update`."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press(*"and the highest in the Alps?")
        await pilot.pause()

    assert snap_compare(
        snapshot_app("conversation"), terminal_size=(100, 28), run_before=run_before
    )
