"""The one route table without a server: every event type goes where it went before."""

from __future__ import annotations

from tests.session.helpers import Desk, audio_delta, server_event
from tui.audio.streams import AudioStatus
from tui.changes import EventLogged, Notice, StatsChanged, TurnStarted, TurnText
from tui.constants import AudioMode
from tui.conversation import Conversation
from tui.realtime.events import SERVER_EVENT_TYPES, BadEvent, ServerEvent
from tui.session.dispatch import ROUTES, Step, model_changes
from tui.session.effects import Proven, WakeTicker

# What the session did per event type before the table: the conversation model's handler
# (its _HANDLERS), the session's handler (its _EVENT_HANDLERS) and the special cases of
# _on_server_event (reply deltas: skipped when cut off, bad when the item is unknown).
# Since then: an item echo first confirms a typed turn drawn when it was sent (typed_echo).
BEFORE: dict[str, list[str]] = {
    "conversation.item.added": ["typed_echo", "on_item_added"],
    "conversation.item.created": ["typed_echo", "on_item_added"],
    "conversation.item.done": ["typed_echo", "on_item_done"],
    "conversation.item.truncated": ["on_truncated"],
    "conversation.item.input_audio_transcription.delta": ["on_transcription_delta"],
    "conversation.item.input_audio_transcription.completed": [
        "on_transcription_completed",
        "transcription_usage",
    ],
    "conversation.item.input_audio_transcription.failed": ["on_transcription_failed"],
    "input_audio_buffer.speech_started": ["speech_started"],
    "input_audio_buffer.speech_stopped": ["speech_stopped"],
    "response.created": ["response_created"],
    "response.output_item.added": ["on_output_item_added", "timed_item"],
    "response.output_text.delta": ["reply_text", "on_text_delta"],
    "response.output_audio_transcript.delta": ["reply_text", "on_text_delta"],
    "response.output_text.done": ["on_text_done"],
    "response.output_audio_transcript.done": ["on_text_done"],
    "response.output_audio.delta": ["reply_audio", "on_audio_delta", "play"],
    "response.done": ["on_response_done", "response_done"],
    "rate_limits.updated": ["rate_limits"],
    "error": ["server_error"],
}


# What issue 10 added: the tools link's steps (tui.session.tools_link).
TOOLS: dict[str, list[str]] = {
    "conversation.item.done": ["typed_echo", "on_item_done", "tool_conversation_item"],
    "input_audio_buffer.speech_started": ["speech_started", "tools_barge_in"],
    "response.output_item.added": ["on_output_item_added", "timed_item", "tool_item_added"],
    "response.output_item.done": ["tool_item_done"],
    "response.function_call_arguments.delta": ["tool_arguments_delta"],
    "response.function_call_arguments.done": ["tool_arguments_done"],
    "response.mcp_call_arguments.delta": ["mcp_arguments"],
    "response.mcp_call_arguments.done": ["mcp_arguments"],
    "response.mcp_call.in_progress": ["mcp_call"],
    "response.mcp_call.completed": ["mcp_call"],
    "response.mcp_call.failed": ["mcp_call"],
    "mcp_list_tools.in_progress": ["mcp_list_tools"],
    "mcp_list_tools.completed": ["mcp_list_tools"],
    "mcp_list_tools.failed": ["mcp_list_tools"],
    "response.done": ["on_response_done", "response_done", "tool_response_done"],
}


# What issue 9 added: what the server applied (tui.session.applied). session.updated is read
# (the header, a notice per difference, the audio gate), session.created only for the audio
# gate, and an error naming a session.update means that update gets no session.updated.
# And issue 10's second pass: session.created's expires_at sets when the handover is due.
SESSION: dict[str, list[str]] = {
    "session.created": ["session_expiry", "session_created"],
    "session.updated": ["session_updated"],
    "error": ["session_refused", "server_error"],
}


def names(route: tuple[object, ...]) -> list[str]:
    return [step.value if isinstance(step, Step) else step.__name__ for step in route]  # type: ignore[attr-defined]


def test_every_type_handled_before_is_routed_to_the_same_handling() -> None:
    assert {kind: names(route) for kind, route in ROUTES.items()} == {**BEFORE, **TOOLS, **SESSION}


def test_routes_name_real_event_types_and_every_step_is_used() -> None:
    assert set(ROUTES) <= SERVER_EVENT_TYPES
    used = {step for route in ROUTES.values() for step in route}
    assert set(Step) <= used
    handlers = {name for name in vars(Conversation) if name.startswith("on_")}
    assert handlers == {step.__name__ for step in used if not isinstance(step, Step)}  # type: ignore[union-attr]


def text_delta(item_id: str, delta: str = "Hi", response_id: str = "resp_1") -> ServerEvent:
    return server_event(
        "response.output_audio_transcript.delta",
        response_id=response_id,
        item_id=item_id,
        output_index=0,
        content_index=0,
        delta=delta,
    )


def test_a_type_without_a_route_is_only_logged() -> None:
    desk = Desk()
    committed = server_event(
        "input_audio_buffer.committed", item_id="item_1", previous_item_id=None
    )
    assert "input_audio_buffer.committed" not in ROUTES
    assert desk.receive(committed) == []
    [logged] = desk.receive(committed, inspect=True)
    assert logged == EventLogged("in", committed.data)


def test_the_inspector_sees_an_event_before_its_steps_and_without_the_key() -> None:
    desk = Desk()
    error = server_event(
        "error",
        error={"type": "invalid_request_error", "message": "sk-test-desk-0123456789 leaked"},
    )
    logged, notice = desk.receive(error, inspect=True)
    assert isinstance(logged, EventLogged) and "sk-test-desk" not in str(logged.event)
    assert isinstance(notice, Notice) and notice.level == "error"


def test_a_reply_delta_for_an_unknown_item_is_a_bad_frame_and_goes_no_further() -> None:
    desk = Desk()
    effects = desk.receive(text_delta("item_nobody"))
    logged, notice = effects
    assert logged.event["kind"] == "unknown_item"
    assert "text for unknown item 'item_nobody'" in notice.text
    audio = desk.receive(audio_delta("item_nobody", 20))
    assert "audio for unknown item 'item_nobody'" in audio[0].event["reason"]
    assert desk.rooms.conversation.turns == [] and desk.speaker.received == {}
    assert desk.rooms.throttle.counts == {"unknown_item": 2}


def test_a_text_delta_proves_the_connection_then_grows_the_turn() -> None:
    desk = Desk()
    desk.reply()
    proven, grown = desk.receive(text_delta("item_A"))
    assert proven == Proven() and isinstance(grown, TurnText) and grown.turn.text == "Hi"


def test_an_audio_delta_plays_wakes_the_ticker_and_fixes_the_voice() -> None:
    desk = Desk()
    desk.reply()
    assert not desk.rooms.voice.spoke
    assert desk.receive(audio_delta("item_A", 40)) == [Proven(), WakeTicker()]
    assert desk.speaker.received_ms("item_A") == 40
    turn = desk.rooms.conversation.get("item_A")
    assert turn is not None and turn.audio_ms == 40
    assert desk.rooms.voice.spoke


def test_audio_the_speaker_cannot_play_is_a_bad_frame_and_the_turn_goes_on() -> None:
    desk = Desk()
    desk.reply()
    odd = ServerEvent("response.output_audio.delta", {"item_id": "item_A"}, audio=b"\x00")
    effects = desk.receive(odd)
    assert effects[:2] == [Proven(), WakeTicker()]
    assert effects[2].event["kind"] == "bad_audio"
    assert desk.rooms.throttle.counts == {"bad_audio": 1}


def test_without_a_speaker_audio_is_counted_but_not_played() -> None:
    desk = Desk()
    desk.rooms.link.status_changed(AudioStatus(AudioMode.INPUT_ONLY))
    desk.reply()
    desk.receive(audio_delta("item_A", 40))
    assert desk.speaker.received == {}
    turn = desk.rooms.conversation.get("item_A")
    assert turn is not None and turn.audio_ms == 40


def test_response_done_ends_the_running_reply_and_counts_its_usage() -> None:
    desk = Desk()
    desk.reply()
    assert desk.rooms.turns.active_response == "resp_1"
    usage = {"input_tokens": 10, "output_tokens": 20}
    done = server_event(
        "response.done", response={"id": "resp_1", "status": "completed", "usage": usage}
    )
    effects = desk.receive(done)
    assert Proven() in effects and isinstance(effects[-1], StatsChanged)
    assert desk.rooms.turns.active_response is None
    assert desk.rooms.stats.session_usage.output_tokens == 20
    cancelled = server_event("response.done", response={"id": "resp_2", "status": "cancelled"})
    assert Proven() not in desk.receive(cancelled), "only a completed reply proves the link"


def test_speech_starts_a_turn_and_stops_the_latency_clock() -> None:
    desk = Desk()
    started = desk.receive(
        server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u")
    )
    assert desk.rooms.turns.user_speaking and started[0].user_speaking
    desk.now = 200.0
    desk.receive(server_event("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u"))
    assert not desk.rooms.turns.user_speaking
    desk.reply(item_id="item_B", ms=20)  # its first item is the one timed
    desk.speaker.advance(20)
    [figure] = desk.rooms.latency.check(desk.rooms.link)
    assert isinstance(figure, StatsChanged) and desk.rooms.stats.latencies_ms


def test_transcription_usage_and_rate_limits_reach_the_figures() -> None:
    desk = Desk()
    item = {"id": "item_U", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
    desk.receive(server_event("conversation.item.added", item=item))
    completed = server_event(
        "conversation.item.input_audio_transcription.completed",
        item_id="item_U",
        content_index=0,
        transcript="hello",
        usage={"type": "tokens", "input_tokens": 7, "output_tokens": 2},
    )
    effects = desk.receive(completed)
    assert effects[0].turn.text == "hello" and isinstance(effects[-1], StatsChanged)
    assert desk.rooms.stats.session_usage.input_tokens == 7
    limits = server_event("rate_limits.updated", rate_limits=[{"name": "tokens", "remaining": 5}])
    assert isinstance(desk.receive(limits)[0], StatsChanged)
    assert desk.rooms.stats.rate_limits["tokens"]["remaining"] == 5


def test_a_benign_server_error_says_nothing() -> None:
    desk = Desk()
    benign = server_event(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "response_cancel_not_active",
            "message": "x",
        },
    )
    assert desk.receive(benign) == []
    [notice] = desk.receive(
        server_event("error", error={"type": "server_error", "code": "boom", "message": "it broke"})
    )
    assert notice.text == "Server error: it broke (boom)"


def test_a_bad_frame_goes_to_the_throttle() -> None:
    desk = Desk()
    effects = desk.receive(BadEvent("not_json", "not JSON", preview="{"))
    assert effects[0].event["type"] == "rt-tui.bad_frame" and isinstance(effects[1], Notice)


def test_model_changes_replays_only_the_models_part() -> None:
    conversation = Conversation()
    item = {"id": "item_A", "type": "message", "role": "assistant", "content": []}
    added = server_event("response.output_item.added", response_id="r", output_index=0, item=item)
    [started] = model_changes(conversation, added)
    assert isinstance(started, TurnStarted)
    assert model_changes(conversation, text_delta("item_A", response_id="r"))[0].turn.text == "Hi"
    assert (
        model_changes(
            conversation,
            server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u"),
        )
        == []
    )
