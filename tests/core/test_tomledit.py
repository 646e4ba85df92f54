"""The comment-keeping TOML editor, on its own: where new keys land, what stays untouched.

These hold for every tomlkit release in the declared range (the floors job runs them on the
lowest); tomlkit 0.15.3 moved an appended key under the next table's heading comment.
"""

from __future__ import annotations

import tomllib

from tui.tomledit import edit_toml

FILE = """\
# my settings
[session]
voice = "ash"  # the calm one
# spend_cap_usd = 1.0

# Turn detection: how the server finds the end of a turn
[session.turn_detection]
mode = "server_vad"

# Audio
[audio]
block_ms = 20
"""


def test_a_new_key_goes_under_its_commented_out_example() -> None:
    text = edit_toml(FILE, {("session", "spend_cap_usd"): 2.5})
    lines = text.split("\n")
    assert lines[lines.index("# spend_cap_usd = 1.0") + 1] == "spend_cap_usd = 2.5"
    assert text.replace("spend_cap_usd = 2.5\n", "") == FILE


def test_a_new_key_without_an_example_goes_after_the_last_key_not_under_the_next_heading() -> None:
    text = edit_toml(FILE, {("session.turn_detection", "threshold"): 0.7})
    part = text[text.index("[session.turn_detection]") : text.index("[audio]")]
    assert part == '[session.turn_detection]\nmode = "server_vad"\nthreshold = 0.7\n\n# Audio\n'


def test_values_change_in_place_and_removed_keys_go() -> None:
    text = edit_toml(FILE, {("session", "voice"): "cedar"}, remove=[("audio", "block_ms")])
    assert 'voice = "cedar"  # the calm one' in text
    assert "block_ms" not in text
    assert "# Audio\n[audio]" in text


def test_a_table_the_file_lacks_is_added_at_the_end() -> None:
    text = edit_toml(FILE, {("history", "enabled"): False})
    assert text.startswith(FILE)
    assert tomllib.loads(text)["history"] == {"enabled": False}


def test_a_header_only_table_gets_the_key_right_under_its_header() -> None:
    text = edit_toml("[ui]\n\n# Keys\n[keys]\nmute = 'm'\n", {("ui", "theme"): "light"})
    assert text == "[ui]\ntheme = \"light\"\n\n# Keys\n[keys]\nmute = 'm'\n"


def test_line_separators_inside_string_values_are_not_line_ends() -> None:
    """TOML allows U+0085 and U+2028 raw in a string; str.splitlines would split there and
    take '[' after it for a table header."""
    text = edit_toml(FILE, {("session", "voice"): "\x85[x]\u2028[y]"})
    text = edit_toml(text, {("session.turn_detection", "threshold"): 0.7})
    data = tomllib.loads(text)
    assert data["session"]["voice"] == "\x85[x]\u2028[y]"
    assert data["session"]["turn_detection"]["threshold"] == 0.7
    assert "# Turn detection: how the server finds the end of a turn" in text


def test_spaced_table_names_and_crlf_files() -> None:
    crlf = FILE.replace("[session.turn_detection]", "[ session . turn_detection ]").replace(
        "\n", "\r\n"
    )
    text = edit_toml(crlf, {("session.turn_detection", "threshold"): 0.7})
    assert tomllib.loads(text)["session"]["turn_detection"] == {
        "mode": "server_vad",
        "threshold": 0.7,
    }
    assert text.index("threshold") < text.index("# Audio")
