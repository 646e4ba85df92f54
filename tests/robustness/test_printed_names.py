"""Device names, file paths and config values that rt-tui prints are data: the `devices`
table, the one-line errors on stderr and the settings panel's device dropdowns draw them
inert (issue 9: every string from outside, device names too)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.content import Content

from tests.hostile import HOSTILE, READABLE, forbidden_in
from tui.audio import devices
from tui.audio.devices import DeviceInfo
from tui.cli import main
from tui.screens.settings_parts import device_options

HOSTILE_MIC = DeviceInfo(
    3, f"Mic {HOSTILE} [b]bold[/b]", f"ALSA{HOSTILE}", 2, 0, 48000.0, True, False
)


def test_devices_table_draws_a_hostile_device_name_inert() -> None:
    table = devices.format_table([HOSTILE_MIC])
    assert forbidden_in(table) == []
    assert all(word in table for word in READABLE)


def test_cli_error_quoting_a_hostile_path_is_one_inert_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cfg\x1b]0;PWNED\x07\x1b[2J"
    folder.mkdir()
    (folder / "config.toml").write_text("[ui]\ntheme = 5\n", encoding="utf-8")
    assert main(["--config", str(folder / "config.toml"), "devices"]) == 2
    err = capsys.readouterr().err
    assert "ui.theme" in err, "the error still names what is wrong"
    assert forbidden_in(err.rstrip("\n")) == [] and err.count("\n") == 1


def test_settings_device_dropdown_labels_are_inert_and_take_no_markup() -> None:
    [_default, (label, value)] = device_options([HOSTILE_MIC], "input")
    assert value == HOSTILE_MIC.name, "the setting keeps the real name"
    assert isinstance(label, Content), "a plain str prompt would be parsed as markup"
    assert forbidden_in(label.plain) == []
    assert "[b]bold[/b]" in label.plain
