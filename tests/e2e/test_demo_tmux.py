"""End to end: the installed `rt-tui --demo` in a real terminal (tmux), read off the screen.

The first test is text only (`--no-audio`): type a message, see the reply, mute, open and close
settings, quit with exit status 0. The second runs with real audio on the virtual devices:
espeak-ng speech goes into the virtual microphone, the demo server's parrot answers, and the
reply is both on screen and audible on the speaker's monitor.

Both put recognisable fake keys in the environment and in the config file and check that no
screen ever showed them (the demo talks to a loopback server that must never get a real key).
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.audio.speech import FifoWriter, MonitorRecorder, espeak_speech, wait_for
from tests.e2e.conftest import TmuxTerminal, rt_tui_argv

pytestmark = pytest.mark.e2e

ENV_KEY = "sk-e2e-envkey-Q7c2Vw9Zr1"
FILE_KEY = "sk-e2e-filekey-M4x8Hd3Lp6"
LIVE = "● live"
MESSAGE_BOX = "Enter sends"
# The footer names escape as the interrupt key only while the conversation (not the message
# box) has focus: the sign that single-letter keys reach the app's bindings again.
LOG_FOCUSED = "esc Interrupt"
SETTINGS_PANEL = "ctrl+s save and apply"
AUDIO_TIMEOUT_S = 30.0  # speech plays in real time, then the parrot replies in real time


def write_config(config_home: Path, *, extra: str = "") -> Path:
    """A config file holding a (fake) key, private as the app expects a key file to be."""
    path = config_home / "rt-tui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[connection]\napi_key = "{FILE_KEY}"\n{extra}')
    path.chmod(0o600)
    return path


def start_demo(terminal: TmuxTerminal, isolated_env: Path, *args: str) -> None:
    write_config(isolated_env / "config")
    terminal.env["OPENAI_API_KEY"] = ENV_KEY
    terminal.start(rt_tui_argv("--demo", *args))


def assert_no_key_shown(terminal: TmuxTerminal) -> None:
    assert terminal.captures, "no screen was captured"
    for screen in terminal.captures:
        for secret in (ENV_KEY, FILE_KEY, "sk-e2e"):
            assert secret not in screen, f"a key was on screen:\n{screen}"


def meter_line(screen: str) -> str:
    """The level meter's line: the one right above the message box's top border."""
    lines = screen.splitlines()
    for index, line in enumerate(lines):
        if "▔▔▔▔" in line and index > 0:
            return lines[index - 1]
    return ""


def test_demo_text_conversation_mute_settings_quit(
    terminal: TmuxTerminal, isolated_env: Path
) -> None:
    start_demo(terminal, isolated_env, "--no-audio")
    first = terminal.wait_for(lambda s: LIVE in s and MESSAGE_BOX in s, "the live main screen")
    assert "muted" not in meter_line(first)

    # The message box has focus from the start: a newcomer types, Enter sends.
    assert LOG_FOCUSED not in first, "the message box should have focus at start"
    terminal.type_text("hello, is my mic ok")
    terminal.wait_for_text("hello, is my mic ok")
    terminal.send_keys("Enter")
    reply = terminal.wait_for_text("You said: hello, is my mic ok")
    # Both turns are in the log: the user's own line comes before the reply; no letter of
    # the sentence ran an action (m mutes, e opens the inspector, s the settings)
    assert reply.index("hello, is my mic ok") < reply.index("You said: hello, is my mic ok")
    assert "muted" not in meter_line(reply) and SETTINGS_PANEL not in reply

    # Leave the message box, then mute: the meter says so.
    terminal.send_keys("Escape")
    terminal.wait_for_text(LOG_FOCUSED)
    terminal.send_keys("m")
    muted = terminal.wait_for(lambda s: "✕ muted" in meter_line(s), "the muted meter")
    assert "Type a message" in muted, "the key went into the message box, not to the binding"
    terminal.send_keys("m")
    terminal.wait_for(lambda s: "muted" not in meter_line(s), "the meter unmuted again")

    # Settings open over the conversation and close with escape, nothing saved.
    terminal.send_keys("s")
    panel = terminal.wait_for_text(SETTINGS_PANEL)
    assert "Settings" in panel and "Connection" in panel
    assert "hidden; type a new key to replace it" in panel  # the stored key stays masked
    terminal.send_keys("Escape")
    terminal.wait_for(
        lambda s: SETTINGS_PANEL not in s and LIVE in s and "You said: hello, is my mic ok" in s,
        "the main screen again",
    )

    terminal.send_keys("C-q")
    assert terminal.wait_for_exit() == 0
    assert_no_key_shown(terminal)


def test_text_typed_right_after_slash_lands_in_the_message_box(
    terminal: TmuxTerminal, isolated_env: Path
) -> None:
    """'/' and the message arrive in one burst (a fast typist, a paste, tmux send-keys).

    Every key after '/' belongs to the message box. If the focus moves only after the keys
    already queued, they run as bindings instead: 'e' opens the event inspector, 'm' mutes,
    space talks, and the message is lost.
    """
    start_demo(terminal, isolated_env, "--no-audio")
    terminal.wait_for(lambda s: LIVE in s and MESSAGE_BOX in s, "the live main screen")
    terminal.send_keys("Escape")  # one-key control: the log has the keys
    terminal.wait_for_text(LOG_FOCUSED)
    terminal.type_text("/hello from you")  # one write: one read on the app's side
    # Lost keys leave the box empty (and the inspector open, the mic muted): a timeout.
    screen = terminal.wait_for_text("hello from you", timeout=10)
    assert "muted" not in meter_line(screen), f"keys after '/' ran as bindings:\n{screen}"
    terminal.send_keys("Enter")
    terminal.wait_for_text("You said: hello from you")
    terminal.send_keys("C-q")
    assert terminal.wait_for_exit() == 0


def test_standalone_local_server_without_a_key(terminal: TmuxTerminal) -> None:
    """`python -m tui.localserver --port N` + `rt-tui --url ws://127.0.0.1:N/...`, no key set."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.localserver", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        terminal.start(rt_tui_argv("--no-audio", "--url", f"ws://127.0.0.1:{port}/v1/realtime"))
        screen = terminal.wait_for(
            lambda s: LIVE in s or "HTTP 401" in s, "live, or the server's 401"
        )
        assert LIVE in screen, f"a loopback server without a key did not go live:\n{screen}"
        terminal.send_keys("C-q")
        assert terminal.wait_for_exit() == 0
    finally:
        server.terminate()
        server.wait(timeout=10)


def speech_level_dbfs(samples: np.ndarray) -> float:
    x = samples.astype(np.float64) / 32768.0
    return float(10 * np.log10(np.mean(x * x) + 1e-12))


async def test_demo_real_audio_parrot(
    terminal: TmuxTerminal, isolated_env: Path, virtual_audio: Path
) -> None:
    """Speech into the virtual mic -> user turn and parrot reply on screen, heard on the speaker."""
    speech = espeak_speech("Hello there, this is a test of the voice conversation.", isolated_env)
    start_demo(terminal, isolated_env)
    screen = await asyncio.to_thread(
        terminal.wait_for,
        lambda s: LIVE in s and "listening" in meter_line(s),
        "the live screen with a listening microphone",
    )
    assert "audio off" not in screen

    with MonitorRecorder() as monitor:
        # Nothing plays before the user speaks: the speaker's monitor starts silent.
        assert await wait_for(lambda: monitor.total_frames >= 4800, 5.0)
        assert np.abs(monitor.samples().astype(np.int32)).max(initial=0) < 300
        quiet_frames = monitor.total_frames

        writer = FifoWriter(virtual_audio / "rt_mic.fifo").write(speech)
        # The meter moves with the speech in a real terminal (drawn by its direct paint,
        # tui/widgets/direct_paint.py), and the screen around it stays whole.
        moving = await asyncio.to_thread(
            terminal.wait_for,
            lambda s: "█" in meter_line(s) and re.search(r"-\d+ dBFS", meter_line(s)) is not None,
            "the meter showing the speech",
            AUDIO_TIMEOUT_S,
        )
        assert LIVE in moving and "Quit" in moving
        assert await asyncio.to_thread(writer.done.wait, AUDIO_TIMEOUT_S)
        assert writer.error is None

        seconds = len(speech) / 24000
        await asyncio.to_thread(
            terminal.wait_for,
            lambda s: re.search(r"\(speech, \d+\.\d s\)", s) is not None,
            "the user's speech turn",
            AUDIO_TIMEOUT_S,
        )
        heard_screen = await asyncio.to_thread(
            terminal.wait_for,
            lambda s: re.search(r"I heard \d+\.\d s of audio at -\d+ dBFS", s) is not None,
            "the parrot's reply",
            AUDIO_TIMEOUT_S,
        )
        heard = re.search(r"I heard (\d+\.\d) s of audio", heard_screen)
        assert heard is not None
        # The server heard about as much as was spoken (VAD padding and trimming aside).
        assert 0.5 * seconds <= float(heard.group(1)) <= seconds + 1.5

        # The parrot played the speech back: loud audio reached the speaker's monitor.
        def played_loud() -> bool:
            played = np.concatenate(monitor.blocks)[quiet_frames:] if monitor.blocks else []
            return (
                len(played) > 0
                and speech_level_dbfs(np.asarray(played)) > -60.0
                and (np.abs(np.asarray(played, dtype=np.int32)).max() > 1000)
            )

        assert await wait_for(played_loud, AUDIO_TIMEOUT_S, step=0.1), "no parrot audio played"

    terminal.send_keys("C-q")
    assert await asyncio.to_thread(terminal.wait_for_exit) == 0
    assert_no_key_shown(terminal)
