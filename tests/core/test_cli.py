"""The rt-tui command line: one clear line and exit status 2 for every fixable problem."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tui import __version__
from tui.cli import build_parser, main, overrides_from
from tui.config import example_toml

REPO = Path(__file__).resolve().parents[2]

SECRET = "sk-test-cli-SECRET-0123456789"


def test_version_and_help(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"rt-tui {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    for flag in (
        "--config",
        "--demo",
        "--url",
        "--model",
        "--voice",
        "--input-device",
        "--output-device",
        "--resume",
        "--no-audio",
    ):
        assert flag in help_text
    assert SECRET not in help_text


def test_flags_override_matching_settings() -> None:
    args = build_parser().parse_args(
        ["--voice", "cedar", "--model", "gpt-realtime-mini", "--input-device", "2", "--no-audio"]
    )
    assert overrides_from(args) == {
        "session.voice": "cedar",
        "connection.model": "gpt-realtime-mini",
        "audio.input_device": "2",
        "audio.enabled": False,
    }


def test_bad_config_names_file_key_and_fix(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[session]\nvoise = "cedar"\n')
    assert main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "voise" in err and "voice" in err
    assert "Traceback" not in err


def test_invalid_toml_names_line_and_column(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[session\nvoice = "x"\n')
    assert main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "line 1" in err


def test_missing_key_for_a_remote_endpoint_says_what_to_set(capsys) -> None:
    assert main(["--url", "wss://api.example.com/v1/realtime"]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY" in err
    # the one command that works without a key is offered
    assert "rt-tui --demo" in err and err.count("\n") == 1


def test_key_over_plain_ws_is_refused_before_any_socket(monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    opened: list[object] = []

    def no_sockets(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_sockets)
    monkeypatch.setattr(socket.socket, "connect", no_sockets)
    assert main(["--url", "ws://example.invalid/v1/realtime"]) == 2
    err = capsys.readouterr().err
    assert "ws://" in err and "wss://" in err
    assert SECRET not in err
    assert opened == []


@pytest.mark.parametrize(
    "url",
    [
        "wss://api.openai.com:99999/v1/realtime",
        "wss://host:abc/v1",
        "wss://" + "a" * 64 + ".example.com/v1",
        "wss://[::1/x",
    ],
)
def test_malformed_url_exits_2_with_one_line(url: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """From a flag or from the file: one line naming the key, before any history file or
    socket (it was a traceback from the history header, or a dead session)."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    config = tmp_path / "config.toml"
    config.write_text(f'[connection]\nurl = "{url}"\n')
    for argv in (["--no-audio", "--url", url], ["--no-audio", "--config", str(config)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "connection.url" in err and "wss://" in err, err
        assert "Traceback" not in err and SECRET not in err


def test_sub_commands_read_the_config_too(tmp_path: Path, capsys) -> None:
    """`rt-tui --config broken.toml devices` said nothing of the broken file and exited 0."""
    config = tmp_path / "broken.toml"
    config.write_text("[session\n")
    for command in ("devices", "history"):
        assert main(["--config", str(config), command]) == 2
        err = capsys.readouterr().err
        assert str(config) in err and "line 1" in err


def test_a_misspelled_environment_variable_is_warned_about(monkeypatch, capsys) -> None:
    monkeypatch.setenv("RT_TUI_SESION_VOICE", "cedar")
    assert main(["history"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("rt-tui: warning: ") and err.count("\n") == 1
    assert "RT_TUI_SESION_VOICE" in err and "RT_TUI_SESSION_VOICE" in err


def test_unknown_command(capsys) -> None:
    assert main(["frobnicate"]) == 2
    assert "frobnicate" in capsys.readouterr().err


def test_history_with_no_sessions(capsys) -> None:
    assert main(["history"]) == 0
    assert "No sessions yet" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "demo"), [(["--demo"], True), ([], False)])
def test_the_app_is_told_whether_it_runs_the_demo(argv, demo, monkeypatch) -> None:
    """`RtApp(demo=True)` opens the log with the demo hint; only --demo asks for it."""
    import tui.app
    import tui.localserver.background

    made: list[dict] = []
    servers: list[FakeDemoServer] = []

    class FakeDemoServer:
        def __init__(self) -> None:
            self.stopped = False
            servers.append(self)

        def start(self) -> str:
            return "ws://127.0.0.1:9/v1/realtime"

        def stop(self) -> None:
            self.stopped = True

    class FakeApp:
        return_code = 0

        def __init__(self, settings, **kwargs) -> None:
            made.append(kwargs)

        def run(self) -> None:
            pass

    monkeypatch.setattr(tui.localserver.background, "BackgroundServer", FakeDemoServer)
    monkeypatch.setattr(tui.app, "RtApp", FakeApp)
    extra = [] if demo else ["--url", "ws://127.0.0.1:9/v1/realtime"]
    assert main([*argv, *extra, "--no-audio"]) == 0
    assert [kwargs["demo"] for kwargs in made] == [demo]
    assert [server.stopped for server in servers] == ([True] if demo else [])


def test_help_points_to_the_example_that_ships(capsys) -> None:
    """--help named config.example.toml, which is in the repo but not in the wheel."""
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert "rt-tui config example" in help_text and "config.example.toml" not in help_text
    assert main(["config", "example"]) == 0
    printed = capsys.readouterr().out
    assert printed == example_toml() == (REPO / "config.example.toml").read_text("utf-8")


def test_config_commands_work_with_a_broken_config(tmp_path: Path, capsys) -> None:
    """The example is what fixes a broken file, so it does not read the file first."""
    config = tmp_path / "config.toml"
    config.write_text("[session\n")
    assert main(["--config", str(config), "config", "example"]) == 0
    assert capsys.readouterr().out == example_toml()
    assert main(["--config", str(config), "config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(config)
    assert main(["config", "nonsense"]) == 2
    assert "rt-tui config example" in capsys.readouterr().err


def test_an_unknown_theme_lists_the_available_ones(capsys) -> None:
    assert main(["--theme", "nosuch", "--no-audio"]) == 2
    err = capsys.readouterr().err
    assert "'nosuch'" in err and err.count("\n") == 1
    listed = err.split("available: ")[1].strip().split(", ")
    assert {"textual-dark", "nord", "calm", "high-contrast"} <= set(listed)  # built-in, shipped


def test_a_fifo_config_is_one_line(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert main(["--config", str(fifo), "history"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "named pipe" in err and str(fifo) in err


def test_startup_warnings_go_to_stderr_and_to_the_app(tmp_path: Path, monkeypatch, capsys) -> None:
    import tui.app

    made: list[dict] = []

    class FakeApp:
        return_code = 0

        def __init__(self, settings, **kwargs) -> None:
            made.append(kwargs)

        def run(self) -> None:
            pass

    config = tmp_path / "config.toml"
    config.write_text(f'[connection]\napi_key = "{SECRET}"\n')
    config.chmod(0o644)
    monkeypatch.setenv("RT_TUI_SESION_VOICE", "cedar")
    monkeypatch.setattr(tui.app, "RtApp", FakeApp)
    url = "ws://127.0.0.1:9/v1/realtime"
    assert main(["--config", str(config), "--url", url, "--no-audio"]) == 0
    [kwargs] = made
    warnings = list(kwargs["startup_warnings"])
    assert len(warnings) == 2
    assert "RT_TUI_SESION_VOICE" in warnings[0] and "chmod 600" in warnings[1]
    err = capsys.readouterr().err
    assert err.splitlines() == [f"rt-tui: warning: {warning}" for warning in warnings]
    assert SECRET not in err
