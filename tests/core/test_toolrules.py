"""The pure rules of the local server's tool calling (tui.localserver.toolrules)."""

from __future__ import annotations

import json

import pytest

from tui.localserver.items import Item
from tui.localserver.toolrules import (
    FAKE_TOOLS,
    MAX_QUOTED,
    QUOTE_CHARS,
    CallCommand,
    CommandError,
    McpCommand,
    answered_item,
    needs_approval,
    parse_command,
    placeholder_arguments,
    quoted,
    run_fake_tool,
    split_arguments,
    tool_allowed,
    trailing_calls,
)

ECHO, ADD, FAIL = FAKE_TOOLS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('call get_weather {"city": "Paris"}', CallCommand("get_weather", '{"city": "Paris"}')),
        ("  CALL clock", CallCommand("clock", "{}")),
        ("call clock{}", CallCommand("clock", "{}")),
        ('call f {"a": [1, {"b": 2}]}', CallCommand("f", '{"a": [1, {"b": 2}]}')),
        ("call clock and say It is late", CallCommand("clock", "{}", "It is late")),
        ('call f {"x": 1}  and say  two words ', CallCommand("f", '{"x": 1}', "two words")),
        ('mcp docs echo {"text": "hi"}', McpCommand("docs", "echo", '{"text": "hi"}')),
        ("mcp my.server add", McpCommand("my.server", "add", "{}")),
        ("call me maybe", None),
        ("please call clock", None),
        ("calling all", None),
        ("call", None),
        ("hello", None),
    ],
)
def test_parse_command(text: str, expected: CallCommand | McpCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("call clock {broken", "not valid JSON"),
        ('call clock {"a": 1} and dance', "unexpected text"),
        ('mcp docs echo {"text": 1} and say hi', "unexpected text"),
        ("mcp docs echo {", "not valid JSON"),
    ],
)
def test_a_broken_command_raises_with_the_reason(text: str, detail: str) -> None:
    with pytest.raises(CommandError, match=detail):
        parse_command(text)


def test_split_arguments_streams_several_pieces_that_join_back() -> None:
    arguments = json.dumps({"city": "Paris", "unit": "c"})
    pieces = split_arguments(arguments)
    assert len(pieces) >= 2 and "".join(pieces) == arguments
    assert split_arguments("{}") == ["{", "}"]
    assert split_arguments("") == [""]


def test_placeholder_arguments_fill_required_properties_only() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "n": {"type": ["null", "integer"]},
            "d": {"type": "number", "default": 2.5},
            "e": {"enum": ["x", "y"]},
            "b": {"type": "boolean"},
            "optional": {"type": "string"},
        },
        "required": ["s", "n", "d", "e", "b", "missing"],
    }
    assert json.loads(placeholder_arguments(schema)) == {
        "s": "test",
        "n": 1,
        "d": 2.5,
        "e": "x",
        "b": True,
        "missing": "test",
    }
    assert placeholder_arguments(None) == "{}"
    assert placeholder_arguments({"required": "not a list of names"}) == "{}"


def test_quoted_caps_each_output_and_counts_the_rest() -> None:
    assert quoted(["sunny"], "The tool said: ") == "The tool said: sunny"
    many = ["a" * 500] + ["b"] * (MAX_QUOTED + 1)
    said = quoted(many, "The tools said: ")
    assert said.startswith("The tools said: " + "a" * QUOTE_CHARS + " | b")
    assert "a" * (QUOTE_CHARS + 1) not in said and said.endswith("(and 2 more)")


def _item(kind: str, role: str | None = None, **data: str) -> Item:
    return Item({"id": f"item_{kind}_{role}_{len(data)}", "type": kind, "role": role, **data})


def test_answered_item_skips_assistant_messages_and_listings() -> None:
    user = _item("message", "user")
    output = _item("function_call_output", call_id="c", output="x")
    context = [user, output, _item("message", "assistant"), _item("mcp_list_tools")]
    assert answered_item(context) is output
    assert answered_item([_item("message", "assistant")]) is None


def test_trailing_calls_are_the_calls_and_outputs_since_the_last_turn() -> None:
    call = _item("function_call", call_id="c", name="n", arguments="{}")
    output = _item("function_call_output", call_id="c", output="x")
    old = _item("function_call", call_id="old", name="n", arguments="{}")
    context = [old, _item("message", "user"), call, _item("message", "assistant"), output]
    assert trailing_calls(context) == [call, output]


def test_run_fake_tool() -> None:
    assert run_fake_tool("echo", '{"text": "hi"}') == ("hi", None)
    assert run_fake_tool("add", '{"a": 2, "b": 0.5}') == ("2.5", None)
    assert run_fake_tool("add", '{"a": true, "b": 1}')[1] == "add needs two numbers 'a' and 'b'."
    assert run_fake_tool("echo", "[1]")[1] == "The arguments are not a JSON object."
    assert run_fake_tool("echo", "{")[0] is None
    assert "failed on purpose" in (run_fake_tool("fail", "{}")[1] or "")


def test_allowed_tools_as_names_or_a_filter() -> None:
    assert all(tool_allowed({}, tool) for tool in FAKE_TOOLS)
    assert [t.name for t in FAKE_TOOLS if tool_allowed({"allowed_tools": ["add"]}, t)] == ["add"]
    read_only = {"allowed_tools": {"read_only": True}}
    assert [t.name for t in FAKE_TOOLS if tool_allowed(read_only, t)] == ["echo", "add"]
    both = {"allowed_tools": {"read_only": True, "tool_names": ["echo", "fail"]}}
    assert [t.name for t in FAKE_TOOLS if tool_allowed(both, t)] == ["echo"]


def test_require_approval_defaults_to_always_and_always_beats_never() -> None:
    assert needs_approval({}, ECHO)
    assert needs_approval({"require_approval": "always"}, ECHO)
    assert not needs_approval({"require_approval": "never"}, ECHO)
    never_echo = {"require_approval": {"never": {"tool_names": ["echo"]}}}
    assert not needs_approval(never_echo, ECHO) and needs_approval(never_echo, ADD)
    both = {"require_approval": {"always": {"read_only": True}, "never": {"tool_names": ["echo"]}}}
    assert needs_approval(both, ECHO) and needs_approval(both, FAIL)
