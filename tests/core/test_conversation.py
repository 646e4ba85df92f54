"""The pure conversation model, replayed from hand-made GA event sequences."""

from __future__ import annotations

import base64
import json

from tui.changes import Role, TurnFinished, TurnStarted, TurnStatus, TurnText
from tui.conversation import Conversation
from tui.realtime.events import ServerEvent, parse
from tui.session.dispatch import model_changes


def ev(kind: str, **fields: object) -> ServerEvent:
    event = parse(json.dumps({"type": kind, "event_id": "evt_1", **fields}))
    assert isinstance(event, ServerEvent), event
    return event


def message(item_id: str, role: str, content: list[dict[str, object]]) -> dict[str, object]:
    return {"id": item_id, "type": "message", "role": role, "content": content}


def voice_reply(conv: Conversation, item_id: str = "item_A", response_id: str = "resp_1") -> None:
    item = message(item_id, "assistant", [])
    model_changes(
        conv, ev("response.created", response={"id": response_id, "status": "in_progress"})
    )
    model_changes(
        conv, ev("response.output_item.added", response_id=response_id, output_index=0, item=item)
    )
    model_changes(conv, ev("conversation.item.added", item=item))


def audio_delta(item_id: str, ms: int, response_id: str = "resp_1") -> ServerEvent:
    pcm = b"\x01\x00" * (24 * ms)
    return ev(
        "response.output_audio.delta",
        response_id=response_id,
        item_id=item_id,
        output_index=0,
        content_index=0,
        delta=base64.b64encode(pcm).decode(),
    )


def test_typed_text_turn_is_final_at_item_done() -> None:
    conv = Conversation(clock=lambda: 1000.0)
    item = message("item_U", "user", [{"type": "input_text", "text": "hello [b]there[/b]"}])
    started = model_changes(conv, ev("conversation.item.added", item=item))
    assert [type(c) for c in started] == [TurnStarted]
    turn = started[0].turn
    assert (turn.role, turn.text, turn.started_at) == (Role.USER, "hello [b]there[/b]", 1000.0)
    done = model_changes(conv, ev("conversation.item.done", item=item))
    assert [type(c) for c in done] == [TurnFinished]
    assert turn.status is TurnStatus.DONE


def test_assistant_transcript_streams_and_finishes_on_response_done() -> None:
    conv = Conversation()
    voice_reply(conv)
    assert len(conv.turns) == 1, "output_item.added and item.added describe one turn"
    for piece in ("Hel", "lo", "!"):
        changes = model_changes(
            conv,
            ev(
                "response.output_audio_transcript.delta",
                response_id="resp_1",
                item_id="item_A",
                output_index=0,
                content_index=0,
                delta=piece,
            ),
        )
        assert [type(c) for c in changes] == [TurnText]
    model_changes(conv, audio_delta("item_A", 500))
    turn = conv.get("item_A")
    assert turn is not None and turn.text == "Hello!" and turn.audio_ms == 500
    done = model_changes(
        conv,
        ev(
            "response.done",
            response={"id": "resp_1", "status": "completed", "output": [{"id": "item_A"}]},
        ),
    )
    assert [type(c) for c in done] == [TurnFinished]
    assert turn.status is TurnStatus.DONE


def test_interrupt_after_the_server_finished_marks_what_was_heard() -> None:
    conv = Conversation()
    voice_reply(conv)
    model_changes(conv, audio_delta("item_A", 5100))
    model_changes(conv, ev("response.done", response={"id": "resp_1", "status": "completed"}))
    turn = conv.get("item_A")
    assert turn is not None and turn.status is TurnStatus.DONE
    changes = conv.mark_interrupted("item_A", heard_ms=2300)
    assert [type(c) for c in changes] == [TurnText]
    assert turn.status is TurnStatus.INTERRUPTED and turn.heard_ms == 2300
    assert conv.mark_interrupted("item_A", heard_ms=10) == [], "interrupting twice changes nothing"


def test_interrupt_mid_response_is_final_and_later_deltas_are_ignored() -> None:
    conv = Conversation()
    voice_reply(conv)
    model_changes(conv, audio_delta("item_A", 1000))
    changes = conv.mark_interrupted("item_A", heard_ms=5000)
    assert [type(c) for c in changes] == [TurnFinished]
    turn = conv.get("item_A")
    assert turn is not None and turn.heard_ms == 1000, "heard is clamped to what was received"
    model_changes(conv, audio_delta("item_A", 1000))
    assert turn.audio_ms == 1000
    later = model_changes(
        conv, ev("response.done", response={"id": "resp_1", "status": "cancelled"})
    )
    assert later == [], "an interrupted turn was already final"


def test_user_voice_turn_waits_for_its_transcript() -> None:
    conv = Conversation()
    item = message("item_U", "user", [{"type": "input_audio"}])
    model_changes(conv, ev("conversation.item.added", item=item))
    assert model_changes(conv, ev("conversation.item.done", item=item)) == []
    model_changes(
        conv,
        ev(
            "conversation.item.input_audio_transcription.delta",
            item_id="item_U",
            content_index=0,
            delta="what time",
        ),
    )
    done = model_changes(
        conv,
        ev(
            "conversation.item.input_audio_transcription.completed",
            item_id="item_U",
            content_index=0,
            transcript="What time is it?",
            usage={"type": "duration", "seconds": 1.2},
        ),
    )
    assert [type(c) for c in done] == [TurnFinished]
    assert conv.turns[0].text == "What time is it?"


def test_user_voice_turn_without_transcription_ends_at_item_done() -> None:
    conv = Conversation()
    conv.transcribing = False
    item = message("item_U", "user", [{"type": "input_audio"}])
    model_changes(conv, ev("conversation.item.added", item=item))
    assert [type(c) for c in model_changes(conv, ev("conversation.item.done", item=item))] == [
        TurnFinished
    ]


def test_failed_response_shows_its_reason_in_the_turn() -> None:
    conv = Conversation()
    voice_reply(conv)
    model_changes(
        conv,
        ev(
            "response.done",
            response={
                "id": "resp_1",
                "status": "incomplete",
                "status_details": {"type": "incomplete", "reason": "max_output_tokens"},
            },
        ),
    )
    turn = conv.get("item_A")
    assert turn is not None and turn.status is TurnStatus.FAILED
    assert "max_output_tokens" in turn.reason


def test_failed_response_without_items_becomes_a_system_turn() -> None:
    conv = Conversation()
    changes = model_changes(
        conv,
        ev(
            "response.done",
            response={
                "id": "resp_9",
                "status": "failed",
                "status_details": {"type": "failed", "error": {"message": "quota exceeded"}},
            },
        ),
    )
    assert [type(c) for c in changes] == [TurnStarted, TurnFinished]
    assert conv.turns[0].role is Role.SYSTEM and "quota exceeded" in conv.turns[0].reason


def test_drop_cuts_off_open_turns_and_replay_skips_known_items() -> None:
    conv = Conversation()
    voice_reply(conv)
    model_changes(conv, audio_delta("item_A", 300))
    cut = conv.cut_off_open_turns("cut off: connection lost")
    assert [type(c) for c in cut] == [TurnFinished]
    assert conv.turns[0].status is TurnStatus.CUT_OFF
    # the new connection echoes our replayed item under the same id: not a new turn
    echo = message("item_A", "assistant", [{"type": "output_text", "text": "partial"}])
    assert model_changes(conv, ev("conversation.item.added", item=echo)) == []
    assert len(conv.turns) == 1


def test_replayable_keeps_the_most_recent_text_turns() -> None:
    conv = Conversation()
    for index in range(5):
        item = message(f"item_{index}", "user", [{"type": "input_text", "text": f"t{index}"}])
        model_changes(conv, ev("conversation.item.added", item=item))
    assert [t.text for t in conv.replayable(3)] == ["t2", "t3", "t4"]
    assert conv.replayable(0) == []
