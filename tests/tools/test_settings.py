"""The [tools] settings: read and validated like the rest of the config, saved back."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from tui.config.tools import (
    Approval,
    BuiltinSettings,
    McpServerSettings,
    RemoteMcpSettings,
    ToolsSettings,
    from_toml,
)
from tui.errors import ConfigError

EXAMPLE = """
[tools]
call_timeout_s = 30
result_limit_kib = 32

[tools.builtin]
clock = true

[tools.approvals]
"notes__add_note" = "always"
"web__*" = "never"

[[tools.mcp]]
name = "notes"
command = "python"
args = ["-m", "tui.tools.demo_server"]
env = { NOTES_TOKEN = "s3cret-token" }

[[tools.mcp]]
name = "web"
url = "http://127.0.0.1:8000/mcp"
headers = { Authorization = "Bearer abc123" }

[[tools.remote]]
name = "deepwiki"
url = "https://mcp.deepwiki.com/mcp"
allowed_tools = ["ask_question"]
never_ask = ["read_wiki_structure"]
"""


def read(text: str) -> ToolsSettings:
    return from_toml(tomllib.loads(text).get("tools", {}), "config.toml")


def error_of(table: dict) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        from_toml(table, "config.toml")
    return caught.value


def test_a_full_tools_table_is_read() -> None:
    settings = read(EXAMPLE)
    assert settings.call_timeout_s == 30.0
    assert settings.result_limit_kib == 32
    assert settings.builtin == BuiltinSettings(clock=True, shell=False)
    assert settings.approvals == {"notes__add_note": Approval.ALWAYS, "web__*": Approval.NEVER}
    notes, web = settings.mcp
    assert notes == McpServerSettings(
        name="notes",
        command="python",
        args=["-m", "tui.tools.demo_server"],
        env={"NOTES_TOKEN": "s3cret-token"},
    )
    assert notes.transport == "stdio" and web.transport == "http"
    assert web.headers == {"Authorization": "Bearer abc123"}
    assert settings.remote == [
        RemoteMcpSettings(
            name="deepwiki",
            url="https://mcp.deepwiki.com/mcp",
            allowed_tools=["ask_question"],
            never_ask=["read_wiki_structure"],
        )
    ]


def test_no_tools_table_gives_the_defaults() -> None:
    assert read("") == ToolsSettings()
    assert ToolsSettings().to_toml() == {}


def test_to_toml_round_trips_through_a_file() -> None:
    settings = read(EXAMPLE)
    saved = tomli_w.dumps({"tools": settings.to_toml()})
    assert read(saved) == settings
    assert "start_timeout_s" not in saved  # defaults are not written


def test_the_tool_tick_is_off_unless_asked_for_and_round_trips() -> None:
    assert read("").tick is False
    settings = read("[tools]\ntick = true\n")
    assert settings.tick is True
    assert settings.to_toml() == {"tick": True}
    assert read(tomli_w.dumps({"tools": settings.to_toml()})) == settings


def test_the_secrets_are_the_env_and_header_values() -> None:
    assert sorted(read(EXAMPLE).secret_values()) == ["Bearer abc123", "s3cret-token"]


def test_secrets_stay_out_of_the_repr() -> None:
    assert "s3cret" not in repr(read(EXAMPLE))


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"call_timout_s": 3}, "tools.call_timout_s", "did you mean 'call_timeout_s'?"),
        ({"mcp": [{"name": "a", "comand": "x"}]}, "tools.mcp[0].comand", "did you mean 'command'"),
        (
            {"mcp": [{"name": "a", "command": "x"}, {"name": "b"}]},
            "tools.mcp[1].command",
            "neither",
        ),
        (
            {"mcp": [{"name": "a", "command": "x", "url": "http://127.0.0.1/m"}]},
            "tools.mcp[0].command",
            "both",
        ),
        ({"mcp": [{"command": "x"}]}, "tools.mcp[0].name", "is missing from [[tools.mcp]]"),
        ({"mcp": [{"name": "a__b", "command": "x"}]}, "tools.mcp[0].name", "no '__'"),
        (
            {"mcp": [{"name": "a", "command": "x", "args": "-v"}]},
            "tools.mcp[0].args",
            "array of strings",
        ),
        ({"mcp": {"name": "a", "command": "x"}}, "tools.mcp", "write each entry as [[tools.mcp]]"),
        (
            {"mcp": [{"name": "a", "command": "x", "headers": {"A": "b"}}]},
            "tools.mcp[0].headers",
            "are for a url",
        ),
        (
            {"mcp": [{"name": "a", "url": "ftp://h/x"}]},
            "tools.mcp[0].url",
            "expected an http(s) URL",
        ),
        (
            {"mcp": [{"name": "a", "url": "http://example.com/mcp", "headers": {"A": "tok"}}]},
            "tools.mcp[0].url",
            "clear text",
        ),
        (
            {"mcp": [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}]},
            "tools.mcp[1].name",
            "a second server named 'a'",
        ),
        ({"remote": [{"name": "r"}]}, "tools.remote[0].url", "is missing"),
        (
            {"remote": [{"name": "r", "url": "https://localhost/mcp"}]},
            "tools.remote[0].url",
            "[[tools.mcp]] instead",
        ),
        (
            {"remote": [{"name": "r", "url": "http://example.com/mcp"}]},
            "tools.remote[0].url",
            "use https://",
        ),
        (
            {"remote": [{"name": "r", "url": "https://e.com/m", "require_approval": "sometimes"}]},
            "tools.remote[0].require_approval",
            "expected 'always' or 'never'",
        ),
        (
            {"approvals": {"notes__add": "yes"}},
            "tools.approvals.notes__add",
            "expected one of 'always', 'never', 'ask'",
        ),
        (
            {"approvals": {"bad name": "ask"}},
            "tools.approvals.bad name",
            "not a tool name or pattern",
        ),
        (
            {"approvals": {"run_shell_command": "always"}},
            "tools.approvals.run_shell_command",
            "asks before every command",
        ),
        ({"builtin": {"clock": "yes"}}, "tools.builtin.clock", "expected true or false, got 'yes'"),
        ({"builtin": {"shel": True}}, "tools.builtin.shel", "did you mean 'shell'"),
        ({"result_limit_kib": 0}, "tools.result_limit_kib", "from 1 to 1024, got 0"),
        ({"approval_timeout_s": float("nan")}, "tools.approval_timeout_s", "from 5 to 3600"),
        ({"enabled": 1}, "tools.enabled", "expected true or false"),
        ({"tick": "on"}, "tools.tick", "expected true or false, got 'on'"),
        ({"tik": True}, "tools.tik", "did you mean 'tick'"),
    ],
)
def test_bad_settings_name_the_file_the_key_and_the_fix(table: dict, key: str, words: str) -> None:
    error = error_of(table)
    assert error.file == "config.toml"
    assert error.key == key
    assert str(error).startswith(f"config.toml, key {key!r}: ")
    assert words in str(error)


def test_a_secret_value_is_never_quoted_in_an_error() -> None:
    error = error_of({"mcp": [{"name": "a", "command": "x", "env": {"API_TOKEN": 12345}}]})
    assert error.key == "tools.mcp[0].env.API_TOKEN"
    assert "12345" not in str(error)
    error = error_of(
        {"mcp": [{"name": "a", "url": "http://u:pw@example.com/m?k=zz", "headers": {"A": "b"}}]}
    )
    assert "pw" not in str(error) and "zz" not in str(error)
