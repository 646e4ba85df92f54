"""The demo MCP server that ships with the app: a clock and a notes store, over stdio."""

from __future__ import annotations

import json
import sys

from tests.tools.conftest import next_of
from tui.config.tools import McpServerSettings, ToolsSettings
from tui.tools.approvals import Answer
from tui.tools.updates import ApprovalNeeded, CallFinished, Phase, ServerChanged


def demo(*args: str) -> McpServerSettings:
    return McpServerSettings(
        name="demo", command=sys.executable, args=["-m", "tui.tools.demo_server", *args]
    )


async def test_the_demo_shows_a_call_an_approval_and_a_result(make_box, tmp_path) -> None:
    notes = tmp_path / "notes.json"
    box = make_box(ToolsSettings(mcp=[demo("--notes", str(notes))]))
    box.start()
    ready = await next_of(box, ServerChanged, lambda u: u.state.phase is Phase.READY)
    assert ready.state.tools == 3
    assert sorted(tool["name"] for tool in box.tools()) == [
        "demo__add_note",
        "demo__current_time",
        "demo__list_notes",
    ]
    box.on_function_call("c1", "demo__list_notes", "{}")  # read-only: no question
    assert (await next_of(box, CallFinished)).item["output"] == "There are no notes yet."
    box.on_function_call("c2", "demo__add_note", json.dumps({"text": "buy milk"}))
    ask = (await next_of(box, ApprovalNeeded)).ask  # it writes: asked
    assert ask.tool == "demo__add_note"
    box.answer(ask.ask_id, Answer.YES)
    assert (await next_of(box, CallFinished)).item["output"] == "Saved note 1: buy milk"
    box.on_function_call("c3", "demo__list_notes", "{}")
    assert (await next_of(box, CallFinished)).item["output"] == "1. buy milk"
    assert json.loads(notes.read_text()) == ["buy milk"]
    box.on_function_call("c4", "demo__current_time", "{}")
    clock = await next_of(box, CallFinished)
    assert clock.rendered.status == "ok" and clock.item["output"][:2] == "20"
