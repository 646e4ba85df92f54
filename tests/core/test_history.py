"""tui.history: private durable transcripts, torn lines tolerated, listing and lookup."""

from __future__ import annotations

import json
import os
import stat
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui import history
from tui.changes import Role, Turn, TurnStatus
from tui.config import Settings, safe_url, with_value
from tui.history import (
    HistoryError,
    HistoryWriter,
    SessionSummary,
    TurnRecord,
    format_session,
    format_summaries,
    history_dir,
    list_sessions,
    load_session,
    load_turns,
    read_transcript,
    wav_paths,
)

START = datetime(2026, 11, 24, 7, 5, 12, tzinfo=UTC)


class Clock:
    """A controllable `now` for the writer: each call returns the current fake time."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def lines_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def make_session(
    folder: Path, session_id: str, start: datetime, texts: list[tuple[str, str]]
) -> Path:
    clock = Clock(start)
    with HistoryWriter(folder, session_id, model="gpt-realtime-2", voice="marin", now=clock) as w:
        for role, text in texts:
            clock.advance(5)
            w.write_turn(TurnRecord(role=role, text=text))
        clock.advance(5)
    return w.path


# --------------------------------------------------------------------------- writing


def test_files_are_private_and_named_to_sort_by_time(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "history"
    writer = HistoryWriter(folder, "abcdef123456789", now=Clock())
    assert writer.path.name == "2026-11-24T07-05-12_abcdef12.jsonl"
    assert stat.S_IMODE(writer.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    writer.close()


def test_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        writer = HistoryWriter(tmp_path / "h", "s1")
    finally:
        os.umask(old)
    assert stat.S_IMODE(writer.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(writer.path.parent.stat().st_mode) == 0o700
    writer.close()


def test_meta_line_then_one_line_per_turn_then_end(tmp_path: Path) -> None:
    clock = Clock()
    writer = HistoryWriter(
        tmp_path,
        "sess1",
        model="gpt-realtime-2",
        voice="cedar",
        url="wss://user:PASSWORD@api.example.com:8443/v1/realtime?model=m&api_key=KEY&token=TOK",
        now=clock,
    )
    clock.advance(2)
    writer.write_turn(TurnRecord(role="user", text="Hi there", item_id="item_u1"))
    # Readable by someone else before close: each line is on disk when write_turn returns.
    assert len(lines_of(writer.path)) == 2
    clock.advance(3)
    writer.write_turn(
        TurnRecord(role="assistant", text="Hello!\nHow can I help?", item_id="item_a1",
                   flags={"interrupted": True, "heard_ms": 900})
    )  # fmt: skip
    clock.advance(1)
    writer.close()
    meta, user, assistant, end = lines_of(writer.path)
    url = str(meta.pop("url"))
    assert meta == {
        "type": "session",
        "id": "sess1",
        "started": "2026-11-24T07:05:12.000+00:00",
        "model": "gpt-realtime-2",
        "voice": "cedar",
        "version": 1,
    }
    assert url.startswith("wss://api.example.com:8443/v1/realtime?model=m")
    assert not any(secret in url for secret in ("user", "PASSWORD", "KEY", "TOK"))
    assert user == {
        "type": "turn",
        "time": "2026-11-24T07:05:14.000+00:00",
        "role": "user",
        "text": "Hi there",
        "item_id": "item_u1",
        "flags": {},
    }
    assert assistant["text"] == "Hello!\nHow can I help?"
    assert assistant["flags"] == {"interrupted": True, "heard_ms": 900}
    assert end == {"type": "end", "ended": "2026-11-24T07:05:18.000+00:00"}
    assert writer.turns == 2


def test_turns_from_the_session_become_flags(tmp_path: Path) -> None:
    at = START.timestamp()
    turns = [
        Turn("i1", Role.USER, "question", TurnStatus.DONE, started_at=at),
        Turn("i2", Role.ASSISTANT, "answ", TurnStatus.INTERRUPTED, started_at=at, heard_ms=812.4,
             audio_ms=2400.0),
        Turn("i3", Role.ASSISTANT, "half", TurnStatus.CUT_OFF, started_at=at,
             reason="connection lost"),
        Turn("i4", Role.ASSISTANT, "", TurnStatus.FAILED, started_at=at, reason="rate limited"),
        Turn("i5", Role.USER, "old words", TurnStatus.DONE, started_at=at, replayed=True),
    ]  # fmt: skip
    with HistoryWriter(tmp_path, "s") as writer:
        for turn in turns:
            writer.write_turn(turn)
    records = load_session(tmp_path, "s")
    assert [r.flags for r in records] == [
        {},
        {"interrupted": True, "heard_ms": 812, "audio_ms": 2400},
        {"cut_off": True, "reason": "connection lost"},
        {"failed": "rate limited"},
        {"replayed": True},
    ]
    assert [r.role for r in records] == ["user", "assistant", "assistant", "assistant", "user"]
    assert records[0].time == "2026-11-24T07:05:12.000+00:00"
    assert records[1].item_id == "i2"


def test_bad_role_is_refused(tmp_path: Path) -> None:
    with HistoryWriter(tmp_path, "s") as writer, pytest.raises(ValueError, match="role"):
        writer.write_turn(TurnRecord(role="robot", text="beep"))


def test_write_after_close_is_an_error_and_close_is_idempotent(tmp_path: Path) -> None:
    writer = HistoryWriter(tmp_path, "s")
    writer.close()
    writer.close()
    assert writer.closed
    with pytest.raises(HistoryError, match="closed"):
        writer.write_turn(TurnRecord(role="user", text="late"))


def test_secrets_are_redacted_from_the_file(tmp_path: Path) -> None:
    secret = "sk-live-ABCDEF0123456789"
    with HistoryWriter(tmp_path, "s", secrets=[secret, ""]) as writer:
        writer.write_turn(TurnRecord(role="user", text=f"my key is {secret}, ok?"))
    content = writer.path.read_text()
    assert secret not in content and "my key is [redacted], ok?" in content


def test_the_meta_url_keeps_what_identifies_the_endpoint(tmp_path: Path) -> None:
    url = "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime-2"
    with HistoryWriter(tmp_path, "s", url=url) as writer:
        writer.write_turn(TurnRecord(role="user", text="hello"))
    assert lines_of(writer.path)[0]["url"] == url


@pytest.mark.parametrize(
    "url",
    [
        "wss://h/v1/realtime?model=m&k=SECRET1",  # kept as ?k=<secret> by history's own copy
        "wss://h/v1/realtime?code=SECRET1&model=m",  # kept whole by it
        "wss://h/v1/realtime?client_secret=SECRET1&password=SECRET1&sig=SECRET1",
        "wss://someone:SECRET1@h/v1/realtime?model=m",
        "wss://someone:SECRET1@h:99999/v1/realtime?api-key=SECRET1",  # a bad port
        "wss://someone:SECRET1@[::1/x?api-key=SECRET1",  # an unclosed IPv6 bracket
    ],
)
def test_no_secret_from_the_url_reaches_the_history_file(tmp_path: Path, url: str) -> None:
    """The meta line's URL comes from tui.config.safe_url, the one strict copy."""
    with HistoryWriter(tmp_path, "s", url=url, keep_empty=True) as writer:
        writer.write_turn(TurnRecord(role="user", text="hello"))
    content = writer.path.read_text()
    assert "SECRET1" not in content and "someone" not in content
    assert lines_of(writer.path)[0]["url"] == safe_url(url)


def test_safe_url_of_a_malformed_url_does_not_stop_the_writer(tmp_path: Path) -> None:
    """The header line of a transcript must never stop a session (it raised ValueError)."""
    for url in ("wss://api.openai.com:99999/v1/realtime", "wss://[::1/x"):
        with HistoryWriter(tmp_path, "s", url=url) as writer:
            writer.write_turn(TurnRecord(role="user", text="hello"))
        assert [line["type"] for line in lines_of(writer.path)] == ["session", "turn", "end"]


def test_a_failed_write_does_not_corrupt_the_next_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = HistoryWriter(tmp_path, "s")
    writer.write_turn(TurnRecord(role="user", text="first"))
    real_write = os.write

    def half_then_full_disk(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(history.os, "write", half_then_full_disk)
    with pytest.raises(HistoryError, match="No space left"):
        writer.write_turn(TurnRecord(role="assistant", text="second, lost"))
    monkeypatch.setattr(history.os, "write", real_write)
    writer.write_turn(TurnRecord(role="user", text="third"))
    writer.close()
    transcript = read_transcript(writer.path)
    assert [r.text for r in transcript] == ["first", "third"]
    assert transcript.ended is not None
    assert len(transcript.notes) == 1 and "line 3" in transcript.notes[0]


def test_a_killed_process_keeps_every_written_turn(tmp_path: Path) -> None:
    """A SIGKILL right after write_turn returns: every finished turn is in the file."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from tui.history import HistoryWriter, TurnRecord
        writer = HistoryWriter(Path({str(tmp_path)!r}), "killed")
        for n in range(3):
            writer.write_turn(TurnRecord(role="user", text=f"turn {{n}}"))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr
    transcript = load_session(tmp_path, "killed")
    assert [r.text for r in transcript] == ["turn 0", "turn 1", "turn 2"]
    assert transcript.ended is None and transcript.notes == []


# --------------------------------------------------------------------------- reading


def test_torn_last_line_is_skipped_with_a_note(tmp_path: Path) -> None:
    path = make_session(tmp_path, "torn", START, [("user", "one"), ("assistant", "two")])
    with path.open("ab") as handle:
        handle.write(b'{"type":"turn","time":"2026-11-24T07:06:00+00:00","role":"us')
    transcript = load_session(tmp_path, "torn")
    assert [r.text for r in transcript] == ["one", "two"]
    assert len(transcript.notes) == 1 and "cut off mid-write" in transcript.notes[0]
    assert "Note: line 5 was cut off mid-write" in format_session(transcript)
    assert list_sessions(tmp_path)[0].turns == 2


def test_garbage_lines_in_the_middle_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "2026-11-24T07-05-12_manual.jsonl"
    path.write_bytes(
        b'{"type":"session","id":"m","started":"2026-11-24T07:05:12+00:00"}\n'
        b"not json\n"
        b"[1, 2]\n"
        b'{"type":"turn","role":"user","text":"kept"}\n'
        b'{"type":"turn","role":"nobody","text":"dropped"}\n'
        b"\xff\xfe\n"
    )
    transcript = read_transcript(path)
    assert [r.text for r in transcript] == ["kept"]
    assert [note.split()[1] for note in transcript.notes] == ["2", "3", "5", "6"]


def test_list_sessions_summarises_each_file(tmp_path: Path) -> None:
    assert list_sessions(tmp_path / "absent") == []
    later = make_session(tmp_path, "bbbb2222", START + timedelta(days=1), [("user", "later")])
    first = make_session(
        tmp_path,
        "aaaa1111",
        START,
        [("assistant", "Welcome."), ("user", "one two three four five six seven eight nine")],
    )
    (tmp_path / "notes.txt").write_text("not a session")
    summaries = list_sessions(tmp_path)
    assert [s.path for s in summaries] == [first, later]
    summary = summaries[0]
    assert isinstance(summary, SessionSummary)
    assert summary.id == "2026-11-24T07-05-12_aaaa1111"
    assert summary.started == START
    assert summary.turns == 2
    assert summary.duration == timedelta(seconds=15)
    assert summary.first_words == "one two three four five six seven eight …"
    assert (summary.model, summary.voice) == ("gpt-realtime-2", "marin")
    listing = format_summaries(summaries).splitlines()
    assert listing[0].startswith("SESSION  ") and listing[0].endswith("  FIRST WORDS")
    assert listing[1].startswith("2026-11-24T07-05-12_aaaa1111  2026-11-24 07:05      2     0:15")
    assert listing[1].endswith("one two three four five six seven eight …")
    # columns line up under the header
    assert listing[0].index("TURNS") + len("TURNS") == listing[1].index("2 ") + 1
    assert format_summaries([]) == "No sessions yet.\n"


def test_duration_of_a_crashed_session_runs_to_its_last_turn(tmp_path: Path) -> None:
    clock = Clock()
    writer = HistoryWriter(tmp_path, "crash", now=clock)
    clock.advance(70)
    writer.write_turn(TurnRecord(role="user", text="still here"))
    os.close(writer._fd)  # no end line, as after a kill
    writer._fd = None
    (summary,) = list_sessions(tmp_path)
    assert summary.duration == timedelta(seconds=70)


def test_load_session_by_full_id_or_unique_prefix(tmp_path: Path) -> None:
    a = make_session(tmp_path, "aaaa1111", START, [("user", "from a")])
    make_session(tmp_path, "abcd2222", START + timedelta(hours=1), [("user", "from b")])
    make_session(tmp_path, "ffff3333", START + timedelta(days=40), [("user", "from c")])
    assert [r.text for r in load_session(tmp_path, a.stem)] == ["from a"]
    assert [r.text for r in load_session(tmp_path, a.name)] == ["from a"]
    assert [r.text for r in load_session(tmp_path, "2026-11-24T07")] == ["from a"]
    assert [r.text for r in load_session(tmp_path, "2027")] == ["from c"]
    assert [r.text for r in load_session(tmp_path, "abc")] == ["from b"]  # short id prefix
    assert load_session(tmp_path, "ff").session_id.endswith("_ffff3333")
    with pytest.raises(HistoryError, match="matches 2 sessions") as caught:
        load_session(tmp_path, "a")
    assert "aaaa1111" in str(caught.value) and "abcd2222" in str(caught.value)
    with pytest.raises(HistoryError, match="no session 'zzz'"):
        load_session(tmp_path, "zzz")
    with pytest.raises(HistoryError, match="give a session id"):
        load_session(tmp_path, " ")


def test_format_session_is_readable(tmp_path: Path) -> None:
    clock = Clock()
    with HistoryWriter(tmp_path, "fmt", model="gpt-realtime-2", voice="marin", now=clock) as w:
        clock.advance(1)
        w.write_turn(TurnRecord(role="user", text="Tell me a joke"))
        clock.advance(2)
        w.write_turn(
            TurnRecord(
                role="assistant",
                text="Why did\nthe chicken",
                flags={"interrupted": True, "heard_ms": 1500},
            )
        )
        w.write_turn(TurnRecord(role="assistant", text="Sorry", flags={"cut_off": True}))
        w.write_turn(TurnRecord(role="system", text="Reconnected", flags={"replayed": True}))
        w.write_turn(TurnRecord(role="assistant", text="", flags={"failed": "rate limited"}))
    assert format_session(load_session(tmp_path, "fmt")) == (
        "Session 2026-11-24 07:05:12 UTC · gpt-realtime-2 · voice marin\n"
        "\n"
        "[07:05:13] You: Tell me a joke\n"
        "[07:05:15] Assistant: Why did\n"
        "                      the chicken  (interrupted after 1.5 s heard)\n"
        "[07:05:15] Assistant: Sorry  (cut off by a dropped connection)\n"
        "[07:05:15] System: Reconnected  (replayed)\n"
        "[07:05:15] Assistant:   (failed: rate limited)\n"
    )
    plain = [TurnRecord(role="user", text="no time")]
    assert format_session(plain) == "You: no time\n"


def test_load_turns_gives_replayable_turns(tmp_path: Path) -> None:
    at = START.timestamp()
    with HistoryWriter(tmp_path, "resume") as writer:
        writer.write_turn(Turn("item_u", Role.USER, "What is TOML?", TurnStatus.DONE, at))
        writer.write_turn(TurnRecord(role="system", text="Reconnected"))
        writer.write_turn(
            Turn("item_a", Role.ASSISTANT, "A config format that", TurnStatus.INTERRUPTED, at,
                 audio_ms=3000.0, heard_ms=1000.0)
        )  # fmt: skip
        writer.write_turn(TurnRecord(role="assistant", text="   ", item_id="item_empty"))
        writer.write_turn(TurnRecord(role="user", text="no id"))
        writer.write_turn(TurnRecord(role="user", text="same id", item_id="item_u"))
    turns = load_turns(tmp_path, "resume")
    assert [(t.role, t.text) for t in turns] == [
        (Role.USER, "What is TOML?"),
        (Role.ASSISTANT, "A config format that"),
        (Role.USER, "no id"),
        (Role.USER, "same id"),
    ]
    assert all(t.replayed and t.final for t in turns)
    assert len({t.item_id for t in turns}) == 4 and all(t.item_id for t in turns)
    assert turns[0].item_id == "item_u" and turns[0].started_at == at
    interrupted = turns[1]
    assert interrupted.status is TurnStatus.INTERRUPTED
    assert (interrupted.heard_ms, interrupted.audio_ms) == (1000.0, 3000.0)


def test_history_errors_are_os_errors_for_io_guards(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_session(tmp_path, "nothing-here")


# --------------------------------------------------------------------------- folders


def test_history_dir_default_and_configured(isolated_env: Path) -> None:
    assert history_dir(Settings()) == isolated_env / "data" / "rt-tui" / "history"
    assert history_dir(Settings(), {"XDG_DATA_HOME": "/d"}) == Path("/d/rt-tui/history")
    custom = with_value(Settings(), "history.dir", "~/transcripts")
    assert history_dir(custom) == Path.home() / "transcripts"


def test_for_settings_uses_the_configured_folder_and_meta(isolated_env: Path) -> None:
    settings = with_value(Settings(), "session.voice", "cedar")
    with HistoryWriter.for_settings(settings) as writer:
        writer.write_turn(TurnRecord(role="user", text="hello"))
    assert writer.path.parent == isolated_env / "data" / "rt-tui" / "history"
    meta = lines_of(writer.path)[0]
    assert meta["voice"] == "cedar" and meta["url"] == settings.connection.url


def test_wav_paths_sit_next_to_the_transcript(tmp_path: Path) -> None:
    with HistoryWriter(tmp_path, "wav12345", now=Clock()) as writer:
        mic, assistant = wav_paths(writer)
        mic.write_bytes(b"RIFF")  # what the recorder would leave, even if nothing was said
    assert mic == tmp_path / "2026-11-24T07-05-12_wav12345.mic.wav"
    assert assistant == tmp_path / "2026-11-24T07-05-12_wav12345.assistant.wav"
    assert writer.path.exists()  # a recording keeps its transcript, turns or not
    assert list_sessions(tmp_path)[0].id == "2026-11-24T07-05-12_wav12345"


def test_a_session_without_turns_leaves_no_file(tmp_path: Path) -> None:
    with HistoryWriter(tmp_path, "quiet") as quiet:
        assert quiet.path.exists()  # created at once: a crash still leaves its meta line
    assert not quiet.path.exists()
    with HistoryWriter(tmp_path, "kept", keep_empty=True) as kept:
        pass
    assert kept.path.exists()
    assert list_sessions(tmp_path) == [], "nothing said, nothing recorded: not listed"
    assert load_session(tmp_path, "kept") == []


def test_history_skips_a_session_killed_before_its_first_turn(tmp_path: Path) -> None:
    """A killed process leaves only the meta line: `rt-tui history` listed it as
    "0 turns ?"."""
    said = make_session(tmp_path, "said1234", START, [("user", "hello")])
    killed = HistoryWriter(tmp_path, "killed12", now=Clock(START + timedelta(hours=1)))
    assert killed.path.exists()  # the process dies here: no turn, no end line
    assert [s.path for s in list_sessions(tmp_path)] == [said]
    assert len(format_summaries(list_sessions(tmp_path)).splitlines()) == 2  # header + one


def test_a_failed_meta_line_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(history.os, "fsync", full_disk)
    with pytest.raises(HistoryError, match="No space left"):
        HistoryWriter(tmp_path / "h", "s")
    assert list((tmp_path / "h").iterdir()) == []


def test_same_second_same_id_gets_a_distinct_file(tmp_path: Path) -> None:
    with (
        HistoryWriter(tmp_path, "dup", now=Clock()) as one,
        HistoryWriter(tmp_path, "dup", now=Clock()) as two,
    ):
        assert one.path != two.path
        one.write_turn(TurnRecord(role="user", text="one"))
        two.write_turn(TurnRecord(role="user", text="two"))
    assert [s.first_words for s in list_sessions(tmp_path)] == ["one", "two"]


# --------------------------------------------------------------------------- benchmark


@pytest.mark.benchmark
def test_benchmark_write_turn_latency(tmp_path: Path) -> None:
    """Prints how long one durable (fsync'ed) turn write blocks the caller."""
    samples = []
    with HistoryWriter(tmp_path, "bench") as writer:
        for n in range(200):
            record = TurnRecord(role="assistant", text=f"sentence {n} " * 20)
            began = time.perf_counter()
            writer.write_turn(record)
            samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"\nhistory write_turn (fsync per line): p50 {p50:.3f} ms, p99 {p99:.3f} ms, n=200")
    assert len(read_transcript(writer.path)) == 200
