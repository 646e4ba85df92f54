"""The [tools] table is part of Settings: loaded, validated, saved and documented like the
rest of the config, through tui.config.tools' own reader (one schema per setting)."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from tui.config import example_toml, load_settings, save_changes, save_settings, with_value
from tui.config.example import tools_example
from tui.config.tools import Approval, McpServerSettings, ToolsSettings, from_toml
from tui.errors import ConfigError

TOKEN = "tok-SECRET-value-1234567890"

TOOLS = f"""
[session]
voice = "cedar"

[tools]
call_timeout_s = 5

[tools.builtin]
clock = true

[tools.approvals]
"notes__add_note" = "always"

[[tools.mcp]]
name = "notes"
command = "python"
args = ["-m", "tui.tools.demo_server"]
env = {{ NOTES_TOKEN = "{TOKEN}" }}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_tools_table_loads_into_settings(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path / "c.toml", TOOLS), env={})
    tools = settings.tools
    assert settings.session.voice == "cedar"
    assert tools.call_timeout_s == 5 and tools.builtin.clock and not tools.builtin.shell
    assert tools.approvals == {"notes__add_note": Approval.ALWAYS}
    assert tools.mcp == [
        McpServerSettings(
            "notes",
            command="python",
            args=["-m", "tui.tools.demo_server"],
            env={"NOTES_TOKEN": TOKEN},
        )
    ]


def test_a_file_without_tools_has_none() -> None:
    assert load_settings(env={}).tools == ToolsSettings()


def test_a_bad_tools_entry_names_file_and_key_and_hides_secrets(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", TOOLS.replace('command = "python"', 'url = "x"'))
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.key == "tools.mcp[0].url" and str(path) in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_tools_is_offered_among_the_top_level_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tools"):
        load_settings(write(tmp_path / "c.toml", "[tool]\nenabled = true\n"), env={})


def test_save_and_load_round_trip_the_tools(tmp_path: Path) -> None:
    wanted = load_settings(write(tmp_path / "in.toml", TOOLS), env={})
    out = tmp_path / "out.toml"
    save_settings(wanted, out)
    assert load_settings(out, env={}) == wanted
    # a server env value may be a token: the file is private, like one holding the API key
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_changing_the_tools_keeps_the_rest_of_a_commented_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "# mine\n" + TOOLS.replace("[session]", "# voice\n[session]"))
    settings = load_settings(path, env={})
    settings.tools.builtin.shell = True
    settings.tools.approvals["notes__*"] = Approval.NEVER
    save_settings(settings, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# mine\n") and "# voice\n[session]" in text
    assert load_settings(path, env={}) == settings

    settings.tools = ToolsSettings()  # back to the defaults: the table goes
    save_settings(settings, path)
    assert "[tools" not in path.read_text(encoding="utf-8")
    assert load_settings(path, env={}) == settings


def test_save_changes_writes_the_tools_and_keeps_other_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[session]\nvoice = "ash"\n')
    tools = ToolsSettings()
    tools.builtin.clock = True
    save_changes(path, {"tools": tools})
    loaded = load_settings(path, env={})
    assert loaded.tools == tools and loaded.session.voice == "ash"


def test_with_value_checks_the_tools_through_their_reader() -> None:
    tools = ToolsSettings(approvals={"run_shell_command": Approval.ALWAYS})
    with pytest.raises(ConfigError, match="asks before every command"):
        with_value(load_settings(env={}), "tools", tools)
    with pytest.raises(ConfigError, match="ToolsSettings"):
        with_value(load_settings(env={}), "tools", {"builtin": {}})


def test_the_example_documents_the_tools_table_and_its_lines_load() -> None:
    example = example_toml()
    assert "\n".join(tools_example()) in example
    assert "# [[tools.mcp]]" in example and "# [[tools.remote]]" in example
    # uncommented, the example's tool lines are a valid [tools] table
    lines = [line[2:] for line in tools_example() if line.startswith("# ") and line != "# Tools"]
    parsed = tomllib.loads("\n".join(lines))
    tools = from_toml(parsed["tools"], "example")
    assert [server.name for server in tools.mcp] == ["notes", "search"]
    assert tools.remote[0].name == "deepwiki" and tools.builtin.clock
    assert f"call_timeout_s = {ToolsSettings().call_timeout_s}" in example


def test_the_example_still_loads_to_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", example_toml())
    assert load_settings(path, env={}).tools == ToolsSettings()
