"""What a newcomer does first: type. The first sentence lands in the message box and is sent;
no letter of it runs an action (issue 14). And the app's own attributes leave Textual's alone."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import textual
from textual.widgets import Input

from tests.ui.conftest import ScriptedSession, scripted, wait_until
from tui.app import RtApp
from tui.config import Settings, with_value
from tui.screens.settings import SettingsScreen

SIZE = (100, 30)
SENTENCE = "hello, is my mic ok? see /help & settings"


def session_of(app: RtApp) -> ScriptedSession:
    assert isinstance(app.session, ScriptedSession)
    return app.session


async def test_the_first_sentence_typed_is_sent_and_fires_no_action(tmp_path: Path) -> None:
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        box = app.query_one("#message", Input)
        assert box.has_focus
        await pilot.press(*SENTENCE)
        assert box.value == SENTENCE
        await pilot.press("enter")
        await wait_until(lambda: box.value == "", pilot, what="the box emptied by Enter")
        session = session_of(app)
        assert session.calls == [("send_text", SENTENCE)]  # no mute, no interrupt, no talk
        assert not app.muted
        assert app.inspector.display is False
        assert not isinstance(app.screen, SettingsScreen)
        assert app.screen.__class__.__name__ == "MainScreen"


async def test_space_on_an_empty_box_talks_in_manual_mode_only(tmp_path: Path) -> None:
    manual = with_value(Settings(), "session.turn_detection.mode", "manual")
    app = RtApp(manual, config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        assert session_of(app).calls == [("talk", None)]
        box = app.query_one("#message", Input)
        assert box.value == ""
        await pilot.press("h", "space", "i")  # inside a message, space is a space
        assert box.value == "h i" and session_of(app).calls == [("talk", None)]

    vad = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with vad.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        assert session_of(vad).calls == []  # VAD modes: space types (interrupt is F3/F4)
        assert vad.query_one("#message", Input).value == " "


async def test_textual_logging_reaches_the_dev_console(tmp_path: Path, monkeypatch: Any) -> None:
    """RtApp._log shadowed App._log, the callable `textual.log` hands every line to when the
    dev console (`textual run --dev`) is attached: logging called the conversation widget."""
    received: list[Any] = []

    class Devtools:
        is_connected = True
        verbose = False

        def log(self, entry: Any, group: Any, verbosity: Any) -> None:
            received.append(entry)

    client = types.ModuleType("textual_dev.client")
    client.DevtoolsLog = lambda objects, caller: objects  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "textual_dev", types.ModuleType("textual_dev"))
    monkeypatch.setitem(sys.modules, "textual_dev.client", client)

    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        monkeypatch.setattr(app, "devtools", Devtools())
        textual.log("hello from a widget")
        app.log.info("and from the app")
        monkeypatch.setattr(app, "devtools", None)  # nothing to disconnect at exit
    assert received == [("hello from a widget",), ("and from the app",)]
