"""What the server applied: each `session.updated` read, shown, and held against what was asked.

A server may apply a `session.update` otherwise than asked (another voice, another audio
format, text only, other turn detection) and only its `session.updated` says so. This room
keeps what this connection asked for (every `session.update` sent, merged field by field as
the server merges them) and, for each `session.updated`, what was asked as of the update it
answers: the server answers updates in order, and one it refused (an `error` naming the
update's `event_id`) gets no answer. Then:

- the header shows what the server applied (`SessionInfo.applied`), with what was asked
  beside each field that differs;
- a notice says each difference once in the session;
- reply audio in a format the client did not ask for (anything but PCM16 24 kHz, e.g.
  audio/pcmu or audio/pcma) is never fed to the PCM16 playback (`plays`): it would be loud
  noise. The reply is shown as text, and the notice says why. `session.created` (the
  server's own defaults) sets `plays` too, and says nothing: nothing was asked yet. If
  audio is then held back before any `session.updated` explained it (a server that never
  answers the update), `held_back` says why, once.

Every value comes from the server: it is cut short and made printable before it is shown.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from tui.changes import Applied, Change, Notice
from tui.config import Settings
from tui.constants import WIRE_RATE_HZ
from tui.printable import one_line
from tui.realtime.events import ServerEvent
from tui.session.effects import Effect
from tui.session.voice import VoiceLock

VALUE_CHARS = 40  # of one value from the server, in a notice or the header
PCM = "audio/pcm"

# field -> where it sits in a session object (asked or applied)
FIELDS: dict[str, tuple[str, ...]] = {
    "voice": ("audio", "output", "voice"),
    "output": ("audio", "output", "format"),
    "input": ("audio", "input", "format"),
    "modalities": ("output_modalities",),
    "turn_detection": ("audio", "input", "turn_detection"),
}
LABELS = {
    "voice": "voice",
    "output": "reply audio format",
    "input": "microphone audio format",
    "modalities": "output",
    "turn_detection": "turn detection",
}
MISSING = object()


class SessionCheck:
    def __init__(self, voice: VoiceLock) -> None:
        self._voice = voice
        self.plays = True  # reply audio may go to the speaker (PCM16 24 kHz, as asked)
        self._format_seen: Any = None  # the reply audio format the server last named
        self.applied: Applied | None = None
        self._asked: dict[str, Any] = {}  # this connection's updates, merged
        self._answers: deque[tuple[Any, dict[str, Any]]] = deque()  # (event_id, asked then)
        self._told: set[tuple[str, str, str]] = set()  # differences noticed, once each
        self._why_silent = False  # the user was told why reply audio is not played

    def connection_configured(self) -> None:
        """A new connection: nothing asked of it yet, nothing applied that we know of."""
        self._asked, self._answers = {}, deque()
        self.applied, self.plays = None, True

    def sent(self, event: dict[str, Any]) -> None:
        """A client event went out: a `session.update` is merged into what was asked."""
        if event.get("type") != "session.update" or not isinstance(event.get("session"), dict):
            return
        self._asked = {**self._asked, **read(event["session"])}
        self._answers.append((event.get("event_id"), self._asked))

    def refused(self, event: ServerEvent) -> list[Effect]:
        """An `error` naming a `session.update`: that update gets no `session.updated`."""
        error = event.get("error")
        failed = error.get("event_id") if isinstance(error, dict) else None
        if failed is not None:
            self._answers = deque(entry for entry in self._answers if entry[0] != failed)
        return []

    def created(self, event: ServerEvent) -> list[Effect]:
        """The server's defaults before any update: only whether its audio can be played."""
        session = event.get("session")
        if isinstance(session, dict) and "output" in (fields := read(session)):
            self._format_seen = fields["output"]
            self.plays = playable(fields["output"])
        return []

    def updated(self, event: ServerEvent, settings: Settings) -> list[Effect]:
        session = event.get("session")
        if not isinstance(session, dict):
            return []
        asked = self._answers.popleft()[1] if self._answers else self._asked
        fields = read(session)
        if "output" in fields:
            self._format_seen = fields["output"]
            self.plays = playable(fields["output"])
        differences = [
            (name, *contrast(name, asked[name], fields[name]))
            for name in FIELDS
            if name in asked and name in fields and not same(name, asked[name], fields[name])
        ]
        effects: list[Effect] = []
        for difference in differences:
            if difference not in self._told:
                self._told.add(difference)
                effects.append(Notice("warning", self._say(*difference)))
                self._why_silent |= difference[0] == "output" and not self.plays
        shown = {name: describe(name, fields[name]) for name in FIELDS if name in fields}
        self.applied = Applied(
            voice=shown.get("voice", ""),
            output=shown.get("output", ""),
            input=shown.get("input", ""),
            modalities=shown.get("modalities", ""),
            turn_detection=shown.get("turn_detection", ""),
            plays=self.plays,
            asked=tuple((name, wanted) for name, wanted, _ in differences),
        )
        return [*effects, *self.session_info(settings)]

    def held_back(self) -> list[Effect]:
        """Reply audio was not played (`plays` is False): why, if nobody said it yet."""
        if self._why_silent:
            return []
        self._why_silent = True
        shown = describe("output", self._format_seen)
        return [
            Notice(
                "warning",
                f"The server sends reply audio as {shown}; rt-tui plays only PCM16 at 24 kHz: "
                "replies are shown as text only.",
            )
        ]

    def session_info(self, settings: Settings) -> list[Change]:
        """The header's line: the voice lock's, with the server's word when there is one."""
        return self._voice.session_info(settings, self.applied)

    def _say(self, name: str, asked: str, applied: str) -> str:
        text = f"The server applied {LABELS[name]} {applied}, not {asked} as asked."
        if name == "output" and not self.plays:
            text += " rt-tui plays only PCM16 at 24 kHz: replies are shown as text only."
        elif name == "input":
            text += " It may not understand the microphone, which rt-tui sends as PCM16."
        return text


def read(session: dict[str, Any]) -> dict[str, Any]:
    """The watched fields present in a session object (asked or applied)."""
    found: dict[str, Any] = {}
    for name, path in FIELDS.items():
        value: Any = session
        for key in path:
            value = value.get(key, MISSING) if isinstance(value, dict) else MISSING
        if value is not MISSING:
            found[name] = value
    return found


def _format(value: Any) -> tuple[str, Any]:
    """(type, rate) of an audio format; PCM's rate defaults to the one it may have."""
    if not isinstance(value, dict):
        return (str(value), None)
    kind = str(value.get("type"))
    rate = value.get("rate", WIRE_RATE_HZ if kind == PCM else None)
    return (kind, rate)


def playable(value: Any) -> bool:
    return _format(value) == (PCM, WIRE_RATE_HZ)


def same(name: str, asked: Any, applied: Any) -> bool:
    if name in ("output", "input"):
        return _format(asked) == _format(applied)
    if name == "turn_detection":
        if not isinstance(asked, dict) or not isinstance(applied, dict):
            return bool(asked == applied)  # None (manual) on both sides, or one of them
        return all(_equal(value, applied.get(key, MISSING)) for key, value in asked.items())
    return bool(asked == applied)


def _equal(asked: Any, applied: Any) -> bool:
    numbers = (int, float)
    if isinstance(asked, numbers) and isinstance(applied, numbers):
        if isinstance(asked, bool) or isinstance(applied, bool):
            return asked is applied
        return math.isclose(asked, applied, rel_tol=1e-6)
    return bool(asked == applied)


def contrast(name: str, asked: Any, applied: Any) -> tuple[str, str]:
    """(asked, applied) as texts that show the difference: turn detection of one type
    differs in its parameters, so those are named."""
    one_kind = isinstance(asked, dict) and isinstance(applied, dict)
    if name != "turn_detection" or not one_kind or asked.get("type") != applied.get("type"):
        return describe(name, asked), describe(name, applied)
    keys = [key for key, value in asked.items() if not _equal(value, applied.get(key))]
    kind = describe(name, asked)

    def listed(values: dict[str, Any]) -> str:
        pairs = ", ".join(f"{key} {values.get(key, 'unset')}" for key in keys)
        return one_line(f"{kind} {pairs}", 2 * VALUE_CHARS)

    return listed(asked), listed(applied)


def describe(name: str, value: Any) -> str:
    """One short printable text for a field's value."""
    if name in ("output", "input"):
        kind, rate = _format(value)
        text = f"{kind} {rate / 1000:g} kHz" if isinstance(rate, int | float) else kind
    elif name == "modalities":
        text = "+".join(map(str, value)) if isinstance(value, list) else str(value)
    elif name == "turn_detection":
        text = str(value.get("type")) if isinstance(value, dict) else "manual"
    else:
        text = value if isinstance(value, str) else str(value)
    return one_line(text, VALUE_CHARS)
