"""The rt-tui command line: one clear line and exit status 2 for every fixable problem."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tui import __version__
from tui.cli import build_parser, main, overrides_from

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
    import tui.demo

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

    monkeypatch.setattr(tui.demo, "DemoServer", FakeDemoServer)
    monkeypatch.setattr(tui.app, "RtApp", FakeApp)
    extra = [] if demo else ["--url", "ws://127.0.0.1:9/v1/realtime"]
    assert main([*argv, *extra, "--no-audio"]) == 0
    assert [kwargs["demo"] for kwargs in made] == [demo]
    assert [server.stopped for server in servers] == ([True] if demo else [])
