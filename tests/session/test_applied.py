"""What the server applied (tui.session.applied) without a server: session.updated read,
held against the session.update it answers, each difference said once, and reply audio in
a format the client did not ask for never reaches the PCM16 playback."""

from __future__ import annotations

from typing import Any

from tests.hostile import forbidden_in
from tests.session.helpers import Desk, audio_delta, server_event
from tui.changes import Applied, Notice, SessionInfo
from tui.config import Settings
from tui.realtime import events
from tui.realtime.events import ServerEvent
from tui.realtime.payload import session_config


def changed(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`config` with each `a__b__c=value` set at config["a"]["b"]["c"]."""
    for path, value in changes.items():
        where = config
        *parents, last = path.split("__")
        for key in parents:
            where = where[key]
        where[last] = value
    return config


def asked(desk: Desk, **changes: Any) -> dict[str, Any]:
    """The settings' session.update, sent (as the connection's on_send hook reports it)."""
    event = events.session_update(changed(session_config(desk.settings), **changes))
    desk.rooms.check.sent(event)
    return event


def applied_session(desk: Desk, **changes: Any) -> dict[str, Any]:
    """The session object the server sends back: what was asked, with `changes`."""
    return changed(session_config(desk.settings), **changes)


def updated(desk: Desk, session: dict[str, Any]) -> list[Any]:
    return desk.receive(server_event("session.updated", session=session))


def notices(effects: list[Any]) -> list[str]:
    return [effect.text for effect in effects if isinstance(effect, Notice)]


def header(effects: list[Any]) -> Applied:
    [info] = [effect for effect in effects if isinstance(effect, SessionInfo)]
    assert info.applied is not None
    return info.applied


def test_applied_as_asked_is_shown_and_nothing_is_said() -> None:
    desk = Desk()
    asked(desk)
    effects = updated(desk, applied_session(desk))
    assert notices(effects) == []
    pcm = "audio/pcm 24 kHz"
    assert header(effects) == Applied("marin", pcm, pcm, "audio", "server_vad")


def test_a_voice_and_a_format_applied_otherwise_are_said_once_and_shown() -> None:
    desk = Desk()
    asked(desk)
    other = applied_session(desk, audio__output__voice="alloy")
    other["audio"]["output"]["format"] = {"type": "audio/pcmu"}
    effects = updated(desk, other)
    voice, output = notices(effects)
    assert voice == "The server applied voice alloy, not marin as asked."
    assert output.startswith("The server applied reply audio format audio/pcmu, not audio/pcm")
    assert "replies are shown as text only" in output
    shown = header(effects)
    assert (shown.voice, shown.asked_for("voice")) == ("alloy", "marin")
    assert not shown.plays and shown.asked_for("output") == "audio/pcm 24 kHz"
    asked(desk)  # asked again (a settings change): the same answer is not said again
    again = updated(desk, other)
    assert again == [], "told once: nothing new to say or show"
    assert desk.rooms.check.applied == shown


def test_audio_in_a_format_not_asked_for_is_never_played() -> None:
    desk = Desk()
    asked(desk)
    pcmu = applied_session(desk)
    pcmu["audio"]["output"]["format"] = {"type": "audio/pcmu"}
    updated(desk, pcmu)
    desk.reply(ms=500)
    assert desk.speaker.received == {}, "G.711 bytes are noise to the PCM16 playback"
    [turn] = desk.rooms.conversation.turns
    assert turn.audio_ms == 500, "the reply's audio is counted, its text still shown"
    asked(desk)
    updated(desk, applied_session(desk))  # back to PCM16 24 kHz: played again
    desk.receive(audio_delta("item_A", 200))
    assert desk.speaker.received_ms("item_A") == 200


def test_a_pcm_rate_other_than_24_khz_is_not_played_either() -> None:
    desk = Desk()
    asked(desk)
    fast = applied_session(desk)
    fast["audio"]["output"]["format"] = {"type": "audio/pcm", "rate": 48000}
    [notice] = notices(updated(desk, fast))
    assert "audio/pcm 48 kHz, not audio/pcm 24 kHz" in notice
    desk.reply(ms=100)
    assert desk.speaker.received == {}


def test_session_created_sets_the_audio_gate_and_says_nothing() -> None:
    desk = Desk()
    created = applied_session(desk, audio__output__voice="alloy")
    created["audio"]["output"]["format"] = {"type": "audio/pcma"}
    assert desk.receive(server_event("session.created", session=created)) == []
    assert not desk.rooms.check.plays and desk.rooms.check.applied is None
    desk.reply(ms=200)  # the server never answers the update: its audio comes as G.711
    [why] = notices(desk.log)
    assert why.startswith("The server sends reply audio as audio/pcma;")
    desk.receive(audio_delta("item_A", 200))
    assert notices(desk.log) == [why], "said once"
    assert desk.speaker.received == {}


def test_audio_held_back_after_the_difference_was_said_says_nothing_more() -> None:
    desk = Desk()
    asked(desk)
    pcmu = applied_session(desk)
    pcmu["audio"]["output"]["format"] = {"type": "audio/pcmu"}
    [said] = notices(updated(desk, pcmu))
    desk.reply(ms=200)
    assert notices(desk.log) == [said]


def test_each_answer_is_held_against_the_update_it_answers() -> None:
    """Two updates in flight: the first answer shows the first voice, which is no
    difference; a refused update (its error names it) gets no answer to wait for."""
    desk = Desk()
    asked(desk)
    asked(desk, audio__output__voice="cedar")
    assert notices(updated(desk, applied_session(desk))) == [], "marin answers the first"
    cedar = applied_session(desk, audio__output__voice="cedar")
    assert notices(updated(desk, cedar)) == []
    refused = asked(desk, audio__output__voice="coral")
    error = {"type": "invalid_request_error", "message": "no", "event_id": refused["event_id"]}
    desk.receive(server_event("error", error=error))
    asked(desk, audio__output__voice="cedar", output_modalities=["text"])
    texts = notices(updated(desk, cedar))
    assert texts == ["The server applied output audio, not text as asked."]


def test_turn_detection_differences_name_the_parameters() -> None:
    desk = Desk()
    asked(desk)
    quick = applied_session(desk)
    quick["audio"]["input"]["turn_detection"]["silence_duration_ms"] = 200
    [notice] = notices(updated(desk, quick))
    assert notice == (
        "The server applied turn detection server_vad silence_duration_ms 200, "
        "not server_vad silence_duration_ms 500 as asked."
    )
    manual = applied_session(desk)
    manual["audio"]["input"]["turn_detection"] = None
    asked(desk)
    effects = updated(desk, manual)
    assert notices(effects) == [
        "The server applied turn detection manual, not server_vad as asked."
    ]
    assert header(effects).turn_detection == "manual"


def test_hostile_values_are_cut_and_made_printable() -> None:
    desk = Desk()
    asked(desk)
    evil = applied_session(desk, audio__output__voice="al\x1b]0;PWNED\x07loy" + "x" * 500)
    effects = updated(desk, evil)
    [notice] = notices(effects)
    assert forbidden_in(notice) == [] and len(notice) < 200
    assert forbidden_in(header(effects).voice) == []


def test_a_malformed_session_is_ignored() -> None:
    """The parser turns most misshapen sessions into bad frames; the room copes alone too."""
    desk = Desk()
    asked(desk)
    check = desk.rooms.check
    for session in ("loud", {"audio": "loud"}, {"audio": {"output": ["x"]}}, {}):
        event = ServerEvent("session.updated", {"type": "session.updated", "session": session})
        assert notices(check.updated(event, desk.settings)) == []
        assert check.plays


def test_a_new_connection_starts_over() -> None:
    desk = Desk()
    asked(desk)
    pcmu = applied_session(desk)
    pcmu["audio"]["output"]["format"] = {"type": "audio/pcmu"}
    updated(desk, pcmu)
    effects = desk.rooms.restore(Settings())
    assert desk.rooms.check.plays and desk.rooms.check.applied is None
    [info] = [effect for effect in effects if isinstance(effect, SessionInfo)]
    assert info.applied is None, "the header no longer claims the old connection's word"
