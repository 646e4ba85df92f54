"""History shown inert and private on disk: hostile transcripts, caps, modes, placeholder keys,
resuming nothing, demo sessions marked, and the CLI's part in each."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import HOSTILE, READABLE, forbidden_in
from tui import cli
from tui.audio.recorder import WavRecorder
from tui.config import Settings, with_value
from tui.history import (
    FIRST_WORDS_CHARS,
    SHOW_TURN_CHARS,
    HistoryError,
    HistoryWriter,
    TurnRecord,
    format_session,
    format_summaries,
    list_sessions,
    load_session,
    load_turns,
    wav_paths,
)
from tui.secrets import PLACEHOLDER_KEYS, redactable

START = datetime(2026, 11, 24, 7, 5, 12, tzinfo=UTC)
REAL_KEY = "sk-proj-REALKEY-0123456789abcdef"


def _clock(start: datetime = START) -> Any:
    moments = iter(start + timedelta(seconds=second) for second in range(10_000))
    return lambda: next(moments)


def _session(folder: Path, session_id: str, texts: list[tuple[str, str]], **kwargs: Any) -> Path:
    with HistoryWriter(folder, session_id, now=_clock(), **kwargs) as writer:
        for role, text in texts:
            writer.write_turn(TurnRecord(role=role, text=text))
    return writer.path


def _meta(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8").splitlines()[0])


# --------------------------------------------------------------------------- shown inert


def test_history_show_and_list_print_hostile_transcripts_inert(tmp_path: Path) -> None:
    _session(
        tmp_path,
        "hostile1",
        [("user", HOSTILE), ("assistant", f"line one\n{HOSTILE}\u2028last")],
        model="gpt\x1b]0;t\x07-realtime",
        voice="mar\x9b2Jin",
    )
    with HistoryWriter(tmp_path, "hostile2", now=_clock()) as writer:
        writer.write_turn(TurnRecord(role="assistant", text="x", flags={"failed": HOSTILE}))
    shown = format_session(load_session(tmp_path, "hostile1"))
    failed = format_session(load_session(tmp_path, "hostile2"))
    listing = format_summaries(list_sessions(tmp_path))
    for text in (shown, failed, listing):
        assert "\x1b" not in text and not forbidden_in(text), text
    assert all(words in shown for words in READABLE)
    assert "gpt␛-realtime" in shown and "voice mar␛in" in shown
    assert "failed: hello" in failed
    assert "line one" in shown and "last" in shown  # the separator still breaks the line
    assert "hello" in listing and "sudo" in listing


def test_a_hostile_file_name_is_listed_inert(tmp_path: Path) -> None:
    path = _session(tmp_path, "plain123", [("user", "hello")])
    path.rename(tmp_path / "evil\x1b]0;t\x07\u202e.jsonl")
    listing = format_summaries(list_sessions(tmp_path))
    assert "\x1b" not in listing and not forbidden_in(listing)
    assert "evil␛" in listing


def _rt_tui(*args: str, data_home: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "XDG_DATA_HOME": str(data_home), "XDG_CONFIG_HOME": str(data_home)}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, env=env, timeout=60, check=False
    )


def test_rt_tui_history_writes_no_control_bytes_to_the_terminal(tmp_path: Path) -> None:
    """The real command's stdout, byte for byte: what the terminal would obey."""
    folder = tmp_path / "rt-tui" / "history"
    _session(folder, "hostile1", [("user", HOSTILE), ("assistant", "fine")])
    for args in (("history",), ("history", "show", "hostile1")):
        done = _rt_tui(*args, data_home=tmp_path)
        assert done.returncode == 0, done.stderr
        assert b"\x1b" not in done.stdout
        text = done.stdout.decode("utf-8")
        assert not forbidden_in(text.replace("\n", ""))
        assert "hello" in text and "sudo" in text


# --------------------------------------------------------------------------- capped previews


def test_a_huge_one_word_turn_is_capped_in_list_and_show(tmp_path: Path) -> None:
    word = "a" * (30 * 1024 * 1024)  # 30 MiB, one word: printed whole before
    _session(tmp_path, "huge1234", [("user", word), ("assistant", "short reply")])
    listing = format_summaries(list_sessions(tmp_path))
    assert max(len(line) for line in listing.splitlines()) < 80 + FIRST_WORDS_CHARS
    shown = format_session(load_session(tmp_path, "huge1234"))
    assert len(shown) < SHOW_TURN_CHARS + 1000
    assert f"{len(word) - SHOW_TURN_CHARS:,} more characters not shown" in shown
    assert "Assistant: short reply" in shown  # the turns after it are still printed


def test_turns_under_the_cap_are_printed_whole(tmp_path: Path) -> None:
    text = "word " * (SHOW_TURN_CHARS // 5)
    _session(tmp_path, "long1234", [("assistant", text.strip())])
    shown = format_session(load_session(tmp_path, "long1234"))
    assert text.strip() in shown and "not shown" not in shown


# --------------------------------------------------------------------------- private on disk


def test_an_existing_history_folder_is_tightened_to_0700(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    _session(folder, "s1234567", [("user", "hello")])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_missing_parents_are_made_0700_too(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = _session(tmp_path / "a" / "b", "s1234567", [("user", "hello")])
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_recordings_are_0600_like_the_transcript(tmp_path: Path) -> None:
    """The WAV files were 0644 beside a 0600 transcript."""
    writer = HistoryWriter(tmp_path / "h", "rec12345")
    mic, assistant = wav_paths(writer)
    assistant.write_bytes(b"left by an older run")
    os.chmod(assistant, 0o644)  # an existing file is tightened, not only a new one
    old = os.umask(0)
    try:
        recorder = WavRecorder(mic, assistant)
    finally:
        os.umask(old)
    recorder.write_mic(b"\x01\x00" * 480)
    recorder.write_assistant(b"\x02\x00" * 480)
    recorder.close()
    writer.close()
    assert recorder.error is None
    for path in (mic, assistant, writer.path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    with wave.open(str(assistant), "rb") as wav:
        assert wav.getnframes() == 480  # the old content is gone, the header is right


# --------------------------------------------------------------------------- placeholder keys


@pytest.mark.parametrize("placeholder", [cli.DEMO_KEY, cli.LOCAL_PLACEHOLDER_KEY])
def test_placeholder_keys_are_not_redacted_and_resume_intact(
    tmp_path: Path, placeholder: str
) -> None:
    """Every "demo" and "local" in a demo transcript became "[redacted]", and --resume
    replayed the damage."""
    words = "This demo runs on a local server: demo, local, Demo, LOCAL."
    settings = with_value(Settings(), "history.dir", str(tmp_path))
    writer = HistoryWriter.for_settings(settings, secrets=[placeholder])
    writer.write_turn(TurnRecord(role="user", text=words))
    writer.write_turn(TurnRecord(role="assistant", text=f"You said: {words}"))
    writer.close()
    assert "[redacted]" not in writer.path.read_text()
    resumed = load_turns(tmp_path, writer.path.stem)
    assert [turn.text for turn in resumed] == [words, f"You said: {words}"]


def test_a_real_key_is_still_redacted(tmp_path: Path) -> None:
    settings = with_value(Settings(), "history.dir", str(tmp_path))
    writer = HistoryWriter.for_settings(settings, secrets=[REAL_KEY])
    writer.write_turn(TurnRecord(role="user", text=f"my key is {REAL_KEY} in a demo"))
    writer.close()
    content = writer.path.read_text()
    assert REAL_KEY not in content and "my key is [redacted] in a demo" in content


def test_the_cli_placeholders_are_the_ones_left_alone() -> None:
    assert {cli.DEMO_KEY, cli.LOCAL_PLACEHOLDER_KEY} <= PLACEHOLDER_KEYS
    assert redactable([cli.DEMO_KEY, cli.LOCAL_PLACEHOLDER_KEY, None, "", "short"]) == ()
    longer = REAL_KEY + "-extended"
    assert redactable([REAL_KEY, longer, REAL_KEY]) == (longer, REAL_KEY)  # longest first


# --------------------------------------------------------------------------- resuming nothing


def test_resuming_a_file_with_nothing_readable_says_so(tmp_path: Path) -> None:
    (tmp_path / "2026-11-24T07-05-12_garbage1.jsonl").write_bytes(b"\x00\xff not json\n{]\n")
    with pytest.raises(HistoryError, match=r"nothing to resume in .*garbage1.*2 unreadable lines"):
        load_turns(tmp_path, "garbage1")
    _session(tmp_path, "system12", [("system", "Reconnected"), ("user", "   ")])
    with pytest.raises(HistoryError, match="no words from you or the assistant"):
        load_turns(tmp_path, "system12")


def test_the_cli_prints_why_nothing_was_resumed(isolated_env: Path, capsys, monkeypatch) -> None:
    folder = isolated_env / "data" / "rt-tui" / "history"
    folder.mkdir(parents=True)
    (folder / "2026-11-24T07-05-12_garbage1.jsonl").write_text("not json\n")
    started: list[dict[str, Any]] = []
    monkeypatch.setattr("tui.app.RtApp", lambda settings, **kwargs: started.append(kwargs))
    url = "ws://127.0.0.1:9/v1/realtime"
    assert cli.main(["--url", url, "--no-audio", "--resume", "garbage1"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("rt-tui: nothing to resume in ") and "garbage1" in err
    assert started == []  # the app never started as if the flag had worked


# --------------------------------------------------------------------------- demo sessions


def test_demo_sessions_are_recorded_and_marked_in_the_listing(tmp_path: Path) -> None:
    demo = _session(tmp_path, "demo1234", [("user", "parrot this")], demo=True)
    real = _session(tmp_path, "real1234", [("user", "hello api")])
    assert _meta(demo)["demo"] is True and "demo" not in _meta(real)
    header, *rows = format_summaries(list_sessions(tmp_path)).splitlines()
    assert "SESSION" in header and "TURNS" in header and "FIRST WORDS" in header
    (demo_row,) = [row for row in rows if "demo1234" in row]
    (real_row,) = [row for row in rows if "real1234" in row]
    assert demo_row.endswith("[demo] parrot this") and "[demo]" not in real_row
    assert "· demo" in format_session(load_session(tmp_path, "demo1234")).splitlines()[0]


class _FakeApp:
    made: list[dict[str, Any]]

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        type(self).made.append(kwargs)

    return_code = 0

    def run(self) -> None:
        pass


class _FakeDemo:
    def start(self) -> str:
        return "ws://127.0.0.1:9/v1/realtime"

    def stop(self) -> None:
        pass


def _run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    _FakeApp.made = []
    monkeypatch.setattr("tui.app.RtApp", _FakeApp)
    monkeypatch.setattr("tui.localserver.background.BackgroundServer", _FakeDemo)
    assert cli.main([*argv, "--no-audio"]) == 0
    (kwargs,) = _FakeApp.made
    return kwargs


def test_the_cli_records_a_demo_session_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = _run_cli(["--demo"], monkeypatch)["history"]
    assert _meta(writer.path)["demo"] is True
    writer.close()
    url = "ws://127.0.0.1:9/v1/realtime"
    writer = _run_cli(["--url", url], monkeypatch)["history"]
    assert "demo" not in _meta(writer.path)
    writer.close()


def test_the_cli_tells_the_app_why_history_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = tmp_path / "config.toml"
    config.write_text(f'[history]\ndir = "{blocker / "history"}"\n')
    kwargs = _run_cli(["--demo", "--config", str(config)], monkeypatch)
    assert kwargs["history"] is None
    assert str(blocker) in kwargs["history_off"] and "cannot create" in kwargs["history_off"]
    ok = _run_cli(["--demo"], monkeypatch)
    assert ok["history_off"] == "" and ok["history"] is not None
    ok["history"].close()
    capsys.readouterr()


def test_history_off_is_only_for_a_failure_not_a_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_TUI_HISTORY_ENABLED", "false")
    kwargs = _run_cli(["--demo"], monkeypatch)
    assert kwargs["history"] is None and kwargs["history_off"] == ""
