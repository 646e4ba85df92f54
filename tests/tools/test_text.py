"""Names made legal and unique, secrets masked, control characters escaped, results cut."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.tools.names import LEGAL_NAME, MAX_NAME, function_name, legal
from tui.tools.results import CallStatus, ToolResult, cut_for_model, render
from tui.tools.text import Redactor, one_line, printable, size_text


def test_mcp_tool_names_are_namespaced_and_made_legal() -> None:
    taken: set[str] = set()
    assert function_name("notes", "add_note", taken) == "notes__add_note"
    assert function_name("notes", "files.read", taken) == "notes__files_read"
    assert function_name("notes", "files read", taken) == "notes__files_read_2"
    assert function_name("notes", "résumé ✓", taken) == "notes__r_sum"
    assert function_name("notes", "***", taken) == "notes__tool"
    assert legal("a-b_c") == "a-b_c"


def test_a_long_name_is_shortened_with_a_stable_hash() -> None:
    long = "x" * 100
    first = function_name("notes", long, set())
    assert len(first) == MAX_NAME
    assert first == function_name("notes", long, set())
    assert first != function_name("notes", long + "y", set())


@given(st.lists(st.text(min_size=0, max_size=80), max_size=12))
def test_every_name_is_legal_and_unique(tools: list[str]) -> None:
    taken: set[str] = set()
    names = [function_name("srv", tool, taken) for tool in tools]
    assert len(set(names)) == len(names)
    assert all(LEGAL_NAME.match(name) and name.startswith("srv__") for name in names)


def test_secret_named_keys_and_configured_values_are_masked() -> None:
    redactor = Redactor(["sk-live-123456"])
    value = {
        "query": "weather",
        "api_key": "abc",
        "headers": {"Authorization": "Bearer x", "Accept": "json"},
        "note": "my key is sk-live-123456!",
        "keyword": "not a secret",
        "items": [{"password": "hunter2"}],
    }
    assert redactor.value(value) == {
        "query": "weather",
        "api_key": "***",
        "headers": {"Authorization": "***", "Accept": "json"},
        "note": "my key is ***!",
        "keyword": "not a secret",
        "items": [{"password": "***"}],
    }
    assert "sk-live" not in redactor.pretty(value)
    assert redactor.value({"token": ""}) == {"token": ""}  # nothing to hide


@pytest.mark.parametrize("placeholder", ["demo", "local", "DEMO", "key1234"])
def test_placeholder_keys_and_short_strings_are_words_not_secrets(placeholder: str) -> None:
    """--demo's bearer token "demo" and the loopback "local" are fed in as secrets: masking
    them rewrote "demo server, local time" into "*** server, *** time" (tui.secrets' rule)."""
    redactor = Redactor([placeholder, "sk-live-123456"])
    said = f"the {placeholder} server, local time, demo notes; key sk-live-123456"
    assert redactor.text(said) == f"the {placeholder} server, local time, demo notes; key ***"
    assert redactor.value({"note": said})["note"].endswith("demo notes; key ***")


def test_control_characters_are_escaped_not_passed_to_the_terminal() -> None:
    shown = printable("red \x1b[31mtext\x1b[0m\r\x07 and \u202e evil\nnext\tline")
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\x1b[31m" in shown and "\\u202e" in shown
    assert "\n" in shown and "\t" in shown
    assert one_line("a\nb\x1b", 10) == "a b\\x1b"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def test_sizes_read_as_people_say_them() -> None:
    assert [size_text(n) for n in (10, 1024, 1536, 5 * 1024 * 1024)] == [
        "10 bytes",
        "1 KiB",
        "1.5 KiB",
        "5 MiB",
    ]


def test_a_short_result_is_not_cut() -> None:
    assert cut_for_model("hello", 16) == "hello"


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=200, max_value=4000))
def test_a_cut_result_fits_the_limit_and_says_how_much_was_cut(text: str, limit: int) -> None:
    out = cut_for_model(text, limit)
    assert len(out.encode("utf-8")) <= max(limit, len(text.encode("utf-8")) if out == text else 0)
    if out != text:
        assert re.search(r"\[cut: the result was .+; only the first .+ are shown\]$", out)
        assert text.startswith(out[: out.rindex("\n[cut:")])


def test_render_masks_cuts_and_summarises() -> None:
    result = ToolResult.ok("line one sk-live-123456\n" + "y" * 40_000)
    rendered = render(result, tool="t", limit_bytes=1024, redactor=Redactor(["sk-live-123456"]))
    assert rendered.status is CallStatus.OK
    assert "sk-live" not in rendered.output + rendered.summary + rendered.full_text
    assert len(rendered.output.encode()) <= 1024
    assert rendered.summary == "t → line one *** (39.1 KiB)"
    assert len(rendered.full_text) > 40_000


def test_every_ending_says_what_happened_to_the_model() -> None:
    assert ToolResult.cancelled().status is CallStatus.CANCELLED
    assert "cancelled" in ToolResult.cancelled().text
    assert "not run" in ToolResult.declined("The user declined this call.").text
    assert "Nothing was run" in ToolResult.invalid("Bad.").text
    assert "60 s" in ToolResult.timed_out(60).text
    error = render(ToolResult.error("boom"), tool="t", limit_bytes=100, redactor=Redactor())
    assert error.summary == "t → error: The tool reported an error: boom"
