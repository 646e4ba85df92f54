"""`rt-tui`: arguments, sub-commands (`devices`, `history`, `config`), and starting the app.

Errors a person can fix (bad config, unknown device, missing key) print one clear line and
exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tui import __version__
from tui.errors import MissingKeyError, RtTuiError
from tui.printable import printable

EXIT_USAGE = 2
DEMO_KEY = "demo"
LOCAL_PLACEHOLDER_KEY = "local"

# flag -> settings path it overrides
FLAG_SETTINGS = {
    "url": "connection.url",
    "model": "connection.model",
    "voice": "session.voice",
    "input_device": "audio.input_device",
    "output_device": "audio.output_device",
    "theme": "ui.theme",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rt-tui",
        description="Live voice conversations with the OpenAI Realtime API, in your terminal.",
        # raw, so that argparse does not break "rt-tui" at its hyphen
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "commands:\n"
            "  rt-tui devices          list sound devices\n"
            "  rt-tui history          list past sessions ('history show ID' prints one)\n"
            "  rt-tui config path      print where the settings file is\n"
            "  rt-tui config example   print every setting with its help and default,\n"
            "                          a file to copy there (config path) and edit\n"
            "\n"
            "Settings: $XDG_CONFIG_HOME/rt-tui/config.toml; RT_TUI_<SECTION>_<KEY>\n"
            "variables override it, and flags override both. No API key? Try --demo."
        ),
    )
    parser.add_argument("--version", action="version", version=f"rt-tui {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: XDG config dir)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="talk to the built-in local server: no API key, no network needed",
    )
    parser.add_argument("--url", help="Realtime websocket endpoint (overrides connection.url)")
    parser.add_argument("--model", help="model name, sent as the model query parameter")
    parser.add_argument("--voice", help="assistant voice (marin, cedar, alloy, ...)")
    parser.add_argument("--input-device", metavar="DEV", help="microphone: index or name part")
    parser.add_argument("--output-device", metavar="DEV", help="speaker: index or name part")
    parser.add_argument("--theme", help="UI theme name")
    parser.add_argument("--no-audio", action="store_true", help="text only: open no sound device")
    parser.add_argument("--resume", metavar="ID", help="start with a past session as context")
    parser.add_argument(
        "command",
        nargs="*",
        metavar="COMMAND",
        help="devices | history [show ID] | config example | config path",
    )
    return parser


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    overrides = {
        path: getattr(args, flag)
        for flag, path in FLAG_SETTINGS.items()
        if getattr(args, flag) is not None
    }
    if args.no_audio:
        overrides["audio.enabled"] = False
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except RtTuiError as error:
        # an error can quote outside text (a path, a device name, a config value): inert
        print(f"rt-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from tui.config import load_config, startup_warnings

    command = args.command
    if command and command[0] == "config":
        # before the settings are read: the example is what fixes a broken config file
        return _config(args, command[1:])
    # every command reads the settings first, `devices` too (which needs none of them):
    # a broken config file is reported the moment any rt-tui command runs, not later
    loaded = load_config(args.config, overrides=overrides_from(args))
    # on stderr before the UI takes the terminal (and again in the app's log); not fatal
    warnings = startup_warnings(loaded)
    for warning in warnings:
        print(f"rt-tui: warning: {printable(warning)}", file=sys.stderr)
    settings = loaded.settings
    if command and command[0] == "devices":
        return _devices()
    if command and command[0] == "history":
        return _history(settings, command[1:])
    if command:
        raise RtTuiError(
            f"unknown command {' '.join(command)!r}: use 'devices', 'history' or 'config'"
        )
    if args.theme is not None:
        _check_theme(args.theme)
    return _run_app(args, settings, warnings)


def _config(args: argparse.Namespace, rest: list[str]) -> int:
    from tui.config import default_config_path, example_toml

    if rest == ["example"]:
        sys.stdout.write(example_toml())
        return 0
    if rest == ["path"]:
        print(Path(args.config).expanduser() if args.config else default_config_path())
        return 0
    raise RtTuiError("usage: rt-tui config example | rt-tui config path")


def _check_theme(name: str) -> None:
    """`--theme nosuch` stops with the names there are (in the app it was a passing notice)."""
    from tui.ui.themes import available_theme_names

    names = available_theme_names()
    if name not in names:
        raise RtTuiError(f"unknown theme {name!r}; available: {', '.join(names)}")


def _devices() -> int:
    from tui.audio import backend, devices

    if backend.load() is None:
        print(f"rt-tui: {backend.UNAVAILABLE_MESSAGE}", file=sys.stderr)
        return 1
    found = devices.list_devices()
    if not found:
        print("No sound devices found (is a sound server running?).")
        return 1
    print(devices.format_table(found))
    return 0


def _history(settings: Any, rest: list[str]) -> int:
    from tui import history

    directory = history.history_dir(settings)
    if not rest:
        sessions = history.list_sessions(directory)
        if not sessions:
            print(f"No sessions yet in {directory}.")
            return 0
        print(history.format_summaries(sessions))
        return 0
    if rest[0] == "show" and len(rest) == 2:
        print(history.format_session(history.load_session(directory, rest[1])))
        return 0
    raise RtTuiError("usage: rt-tui history [show ID]")


def _run_app(args: argparse.Namespace, settings: Any, warnings: Sequence[str] = ()) -> int:
    from tui import history
    from tui.config import default_config_path, resolve_api_key, with_value
    from tui.realtime.connection import build_url, check_key_use, is_loopback

    demo = None
    if args.demo:
        from tui.localserver.background import BackgroundServer
        from tui.tools.demo_tools import demo_tools

        demo = BackgroundServer()
        settings = with_value(settings, "connection.url", demo.start())
        settings = with_value(settings, "tools", demo_tools())
    # the built-in server takes any bearer token; a real key never goes to it
    api_key = DEMO_KEY if demo is not None else resolve_api_key(settings)
    if api_key is None and is_loopback(settings.connection.url):
        # local servers (ours, or a relay that adds the real key) want some bearer token
        api_key = LOCAL_PLACEHOLDER_KEY
    # a missing key, or a key about to travel over plain ws://, stops here with one line
    try:
        check_key_use(
            build_url(settings.connection.url, settings.connection.model),
            api_key,
            settings.connection.api_key_env,
        )
    except MissingKeyError as error:
        # the one command that works without a key: a newcomer should hear of it here
        raise MissingKeyError(f"{error}; or try 'rt-tui --demo', which needs no key") from None
    replay = []
    if args.resume:
        replay = history.load_turns(history.history_dir(settings), args.resume)
    config_path = Path(args.config) if args.config else default_config_path()
    writer, history_off = None, ""
    if settings.history.enabled:
        # the tool servers' env and header values are secrets too (tokens)
        secrets = [*([api_key] if api_key else []), *settings.tools.secret_values()]
        try:
            writer = history.HistoryWriter.for_settings(settings, secrets=secrets, demo=bool(demo))
        except history.HistoryError as error:
            # a voice conversation is worth having even when it cannot be saved
            print(f"rt-tui: history off for this session: {printable(str(error))}", file=sys.stderr)
            history_off = str(error)  # and the status line says so for the whole session

    from tui.app import RtApp

    app = RtApp(
        settings,
        config_path=config_path,
        api_key=api_key,
        audio_enabled=settings.audio.enabled,
        replay=replay,
        history=writer,
        history_off=history_off,
        demo=demo is not None,
        startup_warnings=warnings,
    )
    try:
        app.run()
    finally:
        if demo is not None:
            demo.stop()
    return app.return_code or 0
