"""Transcript history: one JSONL file per session, each final turn on disk as soon as it is final.

File layout (one JSON object per line):
    {"type": "session", "id": ..., "started": ISO-8601 UTC, "model", "voice", "url", "version",
     "demo": true}                                    ("demo" only for a `--demo` session)
    {"type": "turn", "time": ISO-8601 UTC, "role": "user"|"assistant"|"system"|"tool", "text",
     "item_id", "flags": {"interrupted": true, "heard_ms": 1200, ...}}
    (a tool turn's text is the output the model was sent; flags["tool"] holds call_id, name,
     arguments, state, origin and summary: --resume replays the call and its output, and
     never runs it again)
    {"type": "end", "ended": ISO-8601 UTC}            (written by close(); absent after a crash)

Each line is written with one write() and fsync'ed, so a crash or kill loses at most the turn
in progress; a torn last line (killed mid-write) is skipped with a note when read back.
Files are 0600 and the folder 0700 (tightened if it exists): transcripts are private. The
URL in the meta line is tui.config.safe_url's (no user:password, query values masked), and
the API key is masked wherever it appears (tui.secrets says which strings are keys).

Everything shown from a file (`format_session`, `format_summaries`) goes through
tui.printable: a transcript is data, never terminal control. Previews are capped in
characters, so a 30 MiB one-word turn prints as a screenful and a note.

Core module: no textual. Depends on tui.config for the folder and URL rules.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from tui.changes import Role, ToolCall, ToolState, Turn, TurnStatus
from tui.config import Settings, default_data_dir, safe_url
from tui.errors import RtTuiError
from tui.printable import one_line, printable
from tui.secrets import redactable

FORMAT_VERSION = 1
ROLES = ("user", "assistant", "system", "tool")
TOOL_FIELDS = ("call_id", "name", "arguments", "state", "origin", "summary")
# a remote MCP turn also keeps these (absent for a local call; older files lack them)
REMOTE_TOOL_FIELDS = ("remote", "server_label", "approval")
SUFFIX = ".jsonl"
REDACTED = "[redacted]"
_NAME_TIME = "%Y-%m-%dT%H-%M-%S"
FIRST_WORDS_CHARS = 60  # the listing's preview of a session, in characters
SHOW_TURN_CHARS = 20_000  # `history show` prints turns whole up to this (about ten screens)
FLAG_CHARS = 200  # a failure reason or a meta value in `history show`
DEMO_MARK = "demo"
LIST_HEADER = ("SESSION", "STARTED (UTC)", "TURNS", "LENGTH", "FIRST WORDS")


class HistoryError(RtTuiError, OSError):
    """A transcript cannot be written, found or read; the message names the file or id.

    Also an OSError, so a caller guarding transcript I/O with `except OSError` catches it.
    """


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- records


class _TurnLike(Protocol):
    """What `TurnRecord.from_turn` reads: tui.changes.Turn has these attributes."""

    item_id: str
    role: Any
    text: str
    status: Any
    started_at: float
    heard_ms: float | None
    reason: str
    replayed: bool
    audio_ms: float
    tool: Any


@dataclass
class TurnRecord:
    """One final turn as stored: who, what, when, and how it ended (flags)."""

    role: str  # user | assistant | system
    text: str
    item_id: str = ""
    time: str = ""  # ISO 8601 UTC; filled in when written if empty
    flags: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_turn(cls, turn: _TurnLike) -> TurnRecord:
        """A record of a final tui.changes.Turn, its status turned into flags."""
        status = str(getattr(turn.status, "value", turn.status))
        flags: dict[str, Any] = {}
        if status == "interrupted":
            flags["interrupted"] = True
            if turn.heard_ms is not None:
                flags["heard_ms"] = round(turn.heard_ms)
        elif status == "cut_off":
            flags["cut_off"] = True
        elif status == "failed":
            flags["failed"] = turn.reason or "failed"
        elif status == "cancelled":
            flags["cancelled"] = True
        if turn.reason and "failed" not in flags:
            flags["reason"] = turn.reason
        if turn.replayed:
            flags["replayed"] = True
        if turn.audio_ms:
            flags["audio_ms"] = round(turn.audio_ms)
        when = datetime.fromtimestamp(turn.started_at, UTC) if turn.started_at else utc_now()
        role = str(getattr(turn.role, "value", turn.role))
        text = turn.text
        tool = getattr(turn, "tool", None)
        if tool is not None:
            flags["tool"] = {name: str(getattr(tool, name)) for name in TOOL_FIELDS}
            if getattr(tool, "remote", False):
                flags["tool"].update({name: getattr(tool, name) for name in REMOTE_TOOL_FIELDS})
            text = tool.output
        return cls(role=role, text=text, item_id=turn.item_id, time=_iso(when), flags=flags)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "turn",
            "time": self.time,
            "role": self.role,
            "text": self.text,
            "item_id": self.item_id,
            "flags": self.flags,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TurnRecord:
        """Raises ValueError when the object is not a turn this module wrote."""
        role, text = data.get("role"), data.get("text")
        if role not in ROLES or not isinstance(text, str):
            raise ValueError("not a turn record")
        flags = data.get("flags")
        return cls(
            role=role,
            text=text,
            item_id=str(data.get("item_id") or ""),
            time=str(data.get("time") or ""),
            flags=dict(flags) if isinstance(flags, dict) else {},
        )

    @property
    def moment(self) -> datetime | None:
        return _parse_time(self.time)


# --------------------------------------------------------------------------- folders and names


def history_dir(settings: Settings, env: Mapping[str, str] | None = None) -> Path:
    """`[history] dir` if set (~ expanded), else `$XDG_DATA_HOME/rt-tui/history`."""
    if settings.history.dir:
        return Path(os.path.expandvars(settings.history.dir)).expanduser()
    return default_data_dir(env) / "history"


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def private_folder(directory: Path) -> None:
    """Make `directory` (and any missing parent) with mode 0700, and tighten it if it exists.

    A `[history] dir` that already exists (made by hand, or by an older rt-tui with the
    umask's 0755) is tightened to 0700 too: it holds conversations, so no other user may
    list or read it. A folder we do not own cannot be changed; its files are 0600 anyway.
    """
    missing = [folder for folder in (directory, *directory.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is reduced by the umask
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        with contextlib.suppress(PermissionError):  # not ours: its files are still 0600
            os.chmod(directory, 0o700)


def _short(session_id: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]", "", session_id)
    return (cleaned or "session")[:8]


# --------------------------------------------------------------------------- writing


class HistoryWriter:
    """Appends a session's final turns to its own JSONL file, durable line by line."""

    def __init__(
        self,
        directory: Path,
        session_id: str,
        *,
        model: str = "",
        voice: str = "",
        url: str = "",
        secrets: Sequence[str] = (),
        now: Callable[[], datetime] = utc_now,
        keep_empty: bool = False,
        demo: bool = False,
    ) -> None:
        self.session_id = session_id
        self._keep_empty = keep_empty
        self.directory = Path(directory)
        # placeholders ("demo", "local") are no secrets: masking them rewrites the transcript
        self._secrets = redactable(secrets)
        self._now = now
        self._fd: int | None = None
        self._torn = False  # a failed write may have left half a line: start the next fresh
        self.started = now()
        self.turns = 0
        self.path = self._create_file()
        meta = {
            "type": "session",
            "id": session_id,
            "started": _iso(self.started),
            "model": model,
            "voice": voice,
            "url": safe_url(url) if url else "",
            "version": FORMAT_VERSION,
        }
        if demo:  # `rt-tui history` marks it: a talk with the built-in server, not the API
            meta["demo"] = True
        try:
            self._write_line(meta)
        except HistoryError:
            self._discard()
            raise

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        *,
        session_id: str | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        demo: bool = False,
    ) -> HistoryWriter:
        """A writer in the configured folder, its meta line from the settings.

        secrets: candidate keys (the API key in use); placeholders are not masked.
        demo: a `--demo` session, recorded in the meta line.
        """
        return cls(
            history_dir(settings, env),
            session_id or new_session_id(),
            model=settings.connection.model,
            voice=settings.session.voice,
            url=settings.connection.url,
            secrets=secrets,
            demo=demo,
        )

    def _create_file(self) -> Path:
        try:
            private_folder(self.directory)
            stem = f"{self.started.astimezone(UTC).strftime(_NAME_TIME)}_{_short(self.session_id)}"
            for attempt in range(100):
                name = stem + (f"-{attempt}" if attempt else "") + SUFFIX
                path = self.directory / name
                try:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                    self._fd = os.open(path, flags, 0o600)
                except FileExistsError:
                    continue
                os.fchmod(self._fd, 0o600)  # whatever the umask, transcripts are private
                return path
        except OSError as error:
            raise HistoryError(
                f"cannot create a transcript in {self.directory}: {error.strerror}"
            ) from None
        raise HistoryError(f"cannot find a free transcript name in {self.directory}")

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _write_line(self, obj: Mapping[str, Any]) -> None:
        if self._fd is None:
            raise HistoryError(f"transcript {self.path} is closed")
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        data = (("\n" if self._torn else "") + self._redact(line) + "\n").encode("utf-8")
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as error:
            self._torn = True
            raise HistoryError(f"cannot write transcript {self.path}: {error.strerror}") from None
        self._torn = False

    def write_turn(self, record: TurnRecord | _TurnLike) -> TurnRecord:
        """Append one final turn (a TurnRecord or a tui.changes.Turn); durable on return."""
        if not isinstance(record, TurnRecord):
            record = TurnRecord.from_turn(record)
        if record.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {record.role!r}")
        if not record.time:
            record = TurnRecord(
                role=record.role,
                text=record.text,
                item_id=record.item_id,
                time=_iso(self._now()),
                flags=dict(record.flags),
            )
        self._write_line(record.to_json())
        self.turns += 1
        return record

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self) -> None:
        """Write the end line and close; safe to call twice.

        A session in which nothing was said (no turn, no recording beside it) leaves no
        file, so `rt-tui history` lists conversations, not every start of the app.
        """
        if self._fd is None:
            return
        if (
            self.turns == 0
            and not self._keep_empty
            and not any(p.exists() for p in wav_paths(self))
        ):
            self._discard()
            return
        try:
            self._write_line({"type": "end", "ended": _iso(self._now())})
        finally:
            os.close(self._fd)
            self._fd = None

    def _discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wav_paths(writer: HistoryWriter) -> tuple[Path, Path]:
    """(mic_wav, assistant_wav) next to the transcript, for `[history] record_audio`."""
    stem = writer.path.name.removesuffix(SUFFIX)
    return (
        writer.path.with_name(f"{stem}.mic.wav"),
        writer.path.with_name(f"{stem}.assistant.wav"),
    )


# --------------------------------------------------------------------------- reading


class Transcript(list[TurnRecord]):
    """The turns of one session (a plain list), plus its meta line and reading notes."""

    def __init__(
        self,
        turns: Iterable[TurnRecord] = (),
        *,
        session_id: str = "",
        path: Path | None = None,
        meta: Mapping[str, Any] | None = None,
        ended: datetime | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__(turns)
        self.session_id = session_id
        self.path = path
        self.meta: dict[str, Any] = dict(meta or {})
        self.ended = ended
        self.notes: list[str] = list(notes)

    @property
    def started(self) -> datetime | None:
        return _parse_time(self.meta.get("started"))


def read_transcript(path: Path) -> Transcript:
    """Read one transcript file; bad or torn lines are skipped and noted, never fatal."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise HistoryError(f"cannot read transcript {path}: {error.strerror}") from None
    lines = raw.split(b"\n")
    complete = raw.endswith(b"\n")
    if complete:
        lines.pop()  # the empty string after the final newline
    turns: list[TurnRecord] = []
    meta: dict[str, Any] = {}
    ended: datetime | None = None
    notes: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last = number == len(lines)
        try:
            obj = json.loads(line.decode("utf-8"))
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            kind = obj.get("type")
            if kind == "session":
                meta = obj
            elif kind == "end":
                ended = _parse_time(obj.get("ended"))
            else:
                turns.append(TurnRecord.from_json(obj))
        except (ValueError, UnicodeDecodeError):
            if last and not complete:
                notes.append(
                    f"line {number} was cut off mid-write (the session ended abruptly); skipped"
                )
            else:
                notes.append(f"line {number} is not a transcript record; skipped")
    return Transcript(turns, session_id=path.stem, path=path, meta=meta, ended=ended, notes=notes)


@dataclass
class SessionSummary:
    id: str  # the file name without .jsonl; `load_session` accepts any unique prefix
    path: Path
    started: datetime
    turns: int
    duration: timedelta | None  # from the start to the end line, else to the last turn
    first_words: str  # at most FIRST_WORDS_CHARS characters, as stored (not yet printable)
    model: str = ""
    voice: str = ""
    demo: bool = False  # a `--demo` session (talking to the built-in server)


def _first_words(turns: Sequence[TurnRecord], count: int = 8) -> str:
    for wanted in ("user", "assistant", "system"):
        for turn in turns:
            # a prefix is enough for eight words, and a 30 MiB turn is not split whole
            head = turn.text[: FIRST_WORDS_CHARS + 1]
            words = head.split()
            if turn.role == wanted and words:
                more = len(words) > count or len(turn.text) > len(head)
                shown = " ".join(words[:count])
                if len(shown) > FIRST_WORDS_CHARS:
                    shown, more = shown[:FIRST_WORDS_CHARS], True
                return shown + (" …" if more else "")
    return ""


def _started_from_name(path: Path) -> datetime:
    try:
        return datetime.strptime(path.name[:19], _NAME_TIME).replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _summarise(transcript: Transcript) -> SessionSummary:
    assert transcript.path is not None
    started = transcript.started or _started_from_name(transcript.path)
    last = transcript.ended or max(
        (moment for turn in transcript if (moment := turn.moment) is not None), default=None
    )
    return SessionSummary(
        id=transcript.session_id,
        path=transcript.path,
        started=started,
        turns=len(transcript),
        duration=(last - started) if last is not None and last >= started else None,
        first_words=_first_words(transcript),
        model=str(transcript.meta.get("model") or ""),
        voice=str(transcript.meta.get("voice") or ""),
        demo=transcript.meta.get("demo") is True,
    )


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.glob(f"*{SUFFIX}") if path.is_file())


def list_sessions(directory: Path) -> list[SessionSummary]:
    """Every session in `directory` with something in it, oldest first (a missing folder
    means none). A file with no turn and no recording beside it (only the meta line, left
    by a process killed before anything was said) is not listed: there is nothing to show
    or resume; `load_session` still reads it."""
    summaries = []
    for path in _files(directory):
        try:
            transcript = read_transcript(path)
        except HistoryError:
            continue  # unreadable file (permissions): not a session we can show
        if transcript or _has_recording(path):
            summaries.append(_summarise(transcript))
    return sorted(summaries, key=lambda summary: (summary.started, summary.id))


def _has_recording(path: Path) -> bool:
    stem = path.name.removesuffix(SUFFIX)
    return any(path.with_name(f"{stem}.{side}.wav").exists() for side in ("mic", "assistant"))


def resolve_session(directory: Path, session_id: str) -> Path:
    """The file of `session_id`: a file name or any unique prefix of it or of its short id."""
    wanted = session_id.strip().removesuffix(SUFFIX)
    if not wanted:
        raise HistoryError("give a session id (see `rt-tui history`)")
    files = _files(directory)
    exact = [path for path in files if path.stem == wanted]
    if exact:
        return exact[0]
    matches = [
        path
        for path in files
        if path.stem.startswith(wanted) or path.stem.partition("_")[2].startswith(wanted)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise HistoryError(f"no session {wanted!r} in {directory} (see `rt-tui history`)")
    names = ", ".join(path.stem for path in matches[:5])
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    raise HistoryError(
        f"{wanted!r} matches {len(matches)} sessions ({names}{more}); give more characters"
    )


def load_session(directory: Path, session_id: str) -> Transcript:
    """The turns of one session (a list of TurnRecord with `.meta` and `.notes`)."""
    return read_transcript(resolve_session(directory, session_id))


def turn_from_record(record: TurnRecord, item_id: str) -> Turn:
    """A stored record as a replayed tui.changes.Turn (status from its flags)."""
    flags = record.flags
    status = TurnStatus.DONE
    if flags.get("interrupted"):
        status = TurnStatus.INTERRUPTED
    elif flags.get("cut_off"):
        status = TurnStatus.CUT_OFF
    elif flags.get("failed"):
        status = TurnStatus.FAILED
    elif flags.get("cancelled"):
        status = TurnStatus.CANCELLED
    heard = flags.get("heard_ms")
    audio = flags.get("audio_ms")
    failed = flags.get("failed")
    moment = record.moment
    tool = _tool_from_record(record)
    return Turn(
        item_id=item_id,
        role=Role(record.role),
        text=record.text,
        status=status,
        started_at=moment.timestamp() if moment else 0.0,
        audio_ms=float(audio) if isinstance(audio, int | float) else 0.0,
        heard_ms=float(heard) if isinstance(heard, int | float) else None,
        reason=str(failed if isinstance(failed, str) else flags.get("reason") or ""),
        replayed=True,
        tool=tool,
    )


def _tool_from_record(record: TurnRecord) -> ToolCall | None:
    """A stored tool turn's call, final (a call cut short by a crash counts as cancelled)."""
    data = record.flags.get("tool")
    if record.role != "tool" or not isinstance(data, dict):
        return None
    values = {name: str(data.get(name) or "") for name in TOOL_FIELDS}
    if not values["call_id"] or not values["name"]:
        return None
    try:
        state = ToolState(values.pop("state"))
    except ValueError:
        state = ToolState.CANCELLED
    if state not in (ToolState.DONE, ToolState.FAILED, ToolState.DECLINED):
        state = ToolState.CANCELLED
    label = data.get("server_label")
    return ToolCall(
        values["call_id"],
        values["name"],
        arguments=values["arguments"],
        state=state,
        origin=values["origin"],
        summary=values["summary"],
        shown_arguments=one_line(values["arguments"], 200),
        output=record.text,
        full_text=printable(record.text),
        remote=data.get("remote") is True,
        server_label=label if isinstance(label, str) else "",
        approval=data.get("approval") is True,
    )


def load_turns(directory: Path, session_id: str) -> list[Turn]:
    """A past session as replayable turns for `--resume`: user and assistant text, in order.

    System lines and empty turns carry nothing to replay and are left out. Every turn gets a
    unique item id (the stored one, else a made-up one) because the conversation keys by id.
    Raises HistoryError, its message saying why, when nothing at all can be replayed: a
    session resumed from nothing would start as if the flag had worked.
    """
    transcript = load_session(directory, session_id)
    turns: list[Turn] = []
    seen: set[str] = set()
    for number, record in enumerate(transcript, start=1):
        is_tool = record.role == "tool" and _tool_from_record(record) is not None
        if not is_tool and (record.role not in ("user", "assistant") or not record.text.strip()):
            continue
        item_id = record.item_id
        if not item_id or item_id in seen:
            item_id = f"item_hist{number:06d}"
        seen.add(item_id)
        turns.append(turn_from_record(record, item_id))
    if not turns:
        raise HistoryError(_nothing_to_resume(transcript))
    return turns


def _nothing_to_resume(transcript: Transcript) -> str:
    name = one_line(transcript.path.name if transcript.path else transcript.session_id)
    skipped = len(transcript.notes)
    if transcript:
        why = "it holds no words from you or the assistant"
    elif skipped:
        why = f"no turn in it could be read ({skipped} unreadable lines skipped)"
    else:
        why = "it holds no turns"
    return f"nothing to resume in {name}: {why}; start without --resume"


# --------------------------------------------------------------------------- showing

_SPEAKER = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def _describe_flags(flags: Mapping[str, Any]) -> str:
    parts: list[str] = []
    tool = flags.get("tool")
    if isinstance(tool, dict):
        call = f"{tool.get('name')} {tool.get('arguments') or ''}".strip()
        parts.append(f"call {_cap(one_line(call))}: {_cap(one_line(str(tool.get('state'))))}")
    if flags.get("interrupted"):
        heard = flags.get("heard_ms")
        parts.append(
            f"interrupted after {heard / 1000:.1f} s heard"
            if isinstance(heard, int | float)
            else "interrupted"
        )
    if flags.get("cut_off"):
        parts.append("cut off by a dropped connection")
    if flags.get("failed"):
        failed = flags["failed"]
        parts.append(f"failed: {_cap(one_line(failed))}" if isinstance(failed, str) else "failed")
    if flags.get("cancelled"):
        parts.append("cancelled")
    if flags.get("reason") and not flags.get("failed"):
        parts.append(_cap(one_line(str(flags["reason"]))))
    if flags.get("replayed"):
        parts.append("replayed")
    return f"  ({'; '.join(parts)})" if parts else ""


def format_duration(duration: timedelta | None) -> str:
    if duration is None:
        return "?"
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _cap(text: str, limit: int = FLAG_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _shown_text(text: str) -> str:
    """A turn's text for the terminal: controls made visible, and cut past SHOW_TURN_CHARS."""
    if len(text) <= SHOW_TURN_CHARS:
        return printable(text)
    cut = len(text) - SHOW_TURN_CHARS
    return printable(text[:SHOW_TURN_CHARS]) + (
        f" … [{cut:,} more characters not shown; the file holds the whole turn]"
    )


def format_session(records: Sequence[TurnRecord]) -> str:
    """A transcript as readable text; a Transcript also gets a header and its notes.

    Text from the file is made printable (tui.printable); a turn over SHOW_TURN_CHARS
    characters is cut with a note saying how much is left out.
    """
    lines: list[str] = []
    meta = getattr(records, "meta", None) or {}
    started = _parse_time(meta.get("started"))
    if started is not None:
        details = [started.strftime("%Y-%m-%d %H:%M:%S UTC")]
        details += [_cap(one_line(str(meta[key]))) for key in ("model",) if meta.get(key)]
        if meta.get("voice"):
            details.append(f"voice {_cap(one_line(str(meta['voice'])))}")
        if meta.get("demo") is True:
            details.append(DEMO_MARK)
        lines += ["Session " + " · ".join(details), ""]
    for record in records:
        moment = record.moment
        stamp = f"[{moment.strftime('%H:%M:%S')}] " if moment else ""
        speaker = _SPEAKER.get(record.role, record.role)
        text_lines = _shown_text(record.text).split("\n") or [""]
        text_lines[-1] += _describe_flags(record.flags)  # flags close the turn
        indent = " " * (len(stamp) + len(speaker) + 2)
        lines.append(f"{stamp}{speaker}: {text_lines[0]}")
        lines += [indent + more for more in text_lines[1:]]
    for note in getattr(records, "notes", ()):
        lines.append(f"Note: {note}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_summaries(summaries: Sequence[SessionSummary]) -> str:
    """The `rt-tui history` listing under a header row: id, UTC start (the same wherever it
    is read), turns, duration, first words; a demo session's words start with "[demo]"."""
    if not summaries:
        return "No sessions yet.\n"
    ids = [one_line(summary.id) for summary in summaries]
    width = max(len(LIST_HEADER[0]), *(len(shown) for shown in ids))
    rows = [
        f"{LIST_HEADER[0]:<{width}}  {LIST_HEADER[1]:<16}  {LIST_HEADER[2]:>5}  "
        f"{LIST_HEADER[3]:>7}  {LIST_HEADER[4]}"
    ]
    for shown_id, s in zip(ids, summaries, strict=True):
        words = one_line(s.first_words)
        if s.demo:
            words = f"[{DEMO_MARK}] {words}".rstrip()
        rows.append(
            f"{shown_id:<{width}}  {s.started.strftime('%Y-%m-%d %H:%M')}  {s.turns:>5}  "
            f"{format_duration(s.duration):>7}  {words}"
        )
    return "\n".join(rows) + "\n"
