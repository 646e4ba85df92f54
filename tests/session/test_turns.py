"""Turn-taking without a server: barge-in, the talk key, typed text, mute and the cap."""

from __future__ import annotations

from tests.session.helpers import Desk, server_event
from tui.changes import MuteChanged, Notice, SpeechChanged, TurnStarted, TurnStatus
from tui.session.effects import Mute, Send, WriteHistory


def test_barge_in_silences_truncates_at_what_was_heard_then_cancels() -> None:
    desk = Desk()
    desk.reply(ms=3000)
    desk.speaker.advance(700)
    assert desk.rooms.tick() == [SpeechChanged(False, True)], "the ticker hears the reply"
    effects = desk.rooms.turns.barge_in(client_initiated=True)
    desk.act(effects)
    sends = [e.event for e in effects if isinstance(e, Send)]
    assert [e["type"] for e in sends] == ["conversation.item.truncate", "response.cancel"]
    assert (sends[0]["item_id"], sends[0]["audio_end_ms"]) == ("item_A", 700)
    assert desk.speaker.interrupts == 1 and not desk.speaker.audible
    turn = desk.rooms.conversation.get("item_A")
    assert turn is not None and turn.status is TurnStatus.INTERRUPTED and turn.heard_ms == 700
    assert effects[-1] == SpeechChanged(False, False)
    # the cut reply's late deltas are dropped
    assert desk.receive(server_event("response.output_text.delta", **late_delta())) == []


def late_delta() -> dict[str, object]:
    return {
        "response_id": "resp_1",
        "item_id": "item_A",
        "output_index": 0,
        "content_index": 0,
        "delta": "more",
    }


def test_a_finished_reply_held_while_playing_is_written_once_marked_interrupted() -> None:
    desk = Desk()
    desk.reply(ms=3000)
    desk.reply_done()
    assert desk.written == [], "still playing: held"
    desk.speaker.advance(1200)
    desk.act(desk.rooms.turns.barge_in(client_initiated=True))
    [written] = desk.written
    assert written.item_id == "item_A" and written.status is TurnStatus.INTERRUPTED
    assert written.heard_ms == 1200
    assert "response.cancel" not in desk.sent(), "the reply had finished"
    desk.act(desk.rooms.tick())
    assert len(desk.written) == 1, "written once"


def test_speech_over_a_running_reply_leaves_the_cancel_to_the_server() -> None:
    """Server VAD with interrupt_response cancels the reply itself; a client cancel would
    only earn an error."""
    desk = Desk()
    desk.reply(ms=2000)
    desk.receive(server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u"))
    assert desk.sent() == ["conversation.item.truncate"]
    desk.log.clear()
    desk.reply(item_id="item_B", response_id="resp_2", ms=1000)
    desk.act(desk.rooms.turns.barge_in(client_initiated=True))
    assert desk.sent() == ["conversation.item.truncate", "response.cancel"], "the key cancels"


def test_manual_mode_talk_key_starts_and_ends_a_turn() -> None:
    desk = Desk(session__turn_detection__mode="manual")
    turns = desk.rooms.turns
    started = turns.talk(connected=True, muted=True, now=100.0)
    assert [e.event["type"] for e in started if isinstance(e, Send)] == ["input_audio_buffer.clear"]
    assert Mute(False) in started, "talking unmutes"
    assert started[-1] == SpeechChanged(True, False) and turns.talking
    turns.audio_sent(240.0)
    ended = turns.talk(connected=True, muted=False, now=101.0)
    assert [e.event["type"] for e in ended if isinstance(e, Send)] == [
        "input_audio_buffer.commit",
        "response.create",
    ]
    assert ended[-1] == SpeechChanged(False, False) and not turns.talking
    assert desk.rooms.latency.pending, "latency is timed from the commit"


def test_talk_needs_a_connection_in_manual_mode_and_barges_in_otherwise() -> None:
    manual = Desk(session__turn_detection__mode="manual").rooms.turns
    assert manual.talk(connected=False, muted=False, now=0.0) == [
        Notice("warning", "Not connected.")
    ]
    desk = Desk()
    desk.reply(ms=500)
    effects = desk.rooms.turns.talk(connected=True, muted=True, now=0.0)
    assert [e.event["type"] for e in effects if isinstance(e, Send)] == [
        "conversation.item.truncate",
        "response.cancel",
    ]
    assert Mute(False) in effects


def test_typed_text_waits_for_the_connection_and_goes_out_when_it_is_back() -> None:
    turns = Desk().rooms.turns
    [started] = turns.type_text("  hello  ", live=False)
    assert isinstance(started, TurnStarted), "drawn at once, pending"
    assert started.turn.text == "hello" and "when connected" in started.turn.reason
    assert turns.type_text("   ", live=False) == []
    sends = [e.event for e in turns.take_outbox() if isinstance(e, Send)]
    assert [e["type"] for e in sends] == ["conversation.item.create", "response.create"]
    assert sends[0]["item"]["content"][0]["text"] == "hello"
    assert sends[0]["item"]["id"] == started.turn.item_id, "the echo is the same turn"
    assert turns.take_outbox() == [], "sent once"


def test_at_the_cap_typed_text_talk_and_unmute_are_refused() -> None:
    desk = Desk(session__turn_detection__mode="manual")
    desk.rooms.ledger.capped = True
    turns = desk.rooms.turns
    started, write, notice = turns.type_text("more", live=True)
    assert isinstance(started, TurnStarted) and started.turn.text == "more"
    assert started.turn.reason.startswith("not sent: spend cap $")
    assert write == WriteHistory(started.turn), "the words are kept, not sent"
    assert isinstance(notice, Notice) and "Spend cap" in notice.text
    [notice] = turns.toggle_mute(True)
    assert notice.level == "warning" and "Spend cap" in notice.text
    turns.talk(connected=True, muted=False, now=0.0)
    turns.audio_sent(500.0)
    ended = turns.talk(connected=True, muted=False, now=1.0)
    assert "response.create" not in [e.event["type"] for e in ended if isinstance(e, Send)]
    assert any(isinstance(e, Notice) and "Spend cap" in e.text for e in ended)
    assert turns.toggle_mute(False) == [Mute(True)], "muting is always allowed"
    assert not [e for e in desk.log if isinstance(e, MuteChanged)]


def test_a_dropped_connection_ends_talking_and_speaking() -> None:
    desk = Desk(session__turn_detection__mode="manual")
    turns = desk.rooms.turns
    turns.talk(connected=True, muted=False, now=0.0)
    turns.set_user_speaking(True)
    assert not turns.quiet
    assert turns.connection_lost() == [SpeechChanged(False, False)]
    assert not turns.talking and turns.quiet
