"""The GA protocol over a real loopback websocket, every event checked by the SDK oracle."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from tests.oracle import check_server_event
from tests.server import RawClient, audio_of, tone, types, user_text
from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver import LocalServer
from tui.localserver.vad import level_dbfs
from tui.localserver.voice import synthesize

LIFECYCLE_START = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
]
AUDIO_END = [
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(realtime_factor=50) as running:
        yield running


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[RawClient]:
    async with await RawClient.connect(server.url) as connected:
        first = await connected.recv()
        assert first["type"] == "session.created"
        yield connected


async def manual_mode(client: RawClient) -> None:
    session = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
    await client.send({"type": "session.update", "session": session})
    await client.until("session.updated")


async def test_session_created_has_full_config_and_server_fields(server: LocalServer) -> None:
    async with await RawClient.connect(server.url, model="gpt-realtime-2") as client:
        session = (await client.recv())["session"]
    assert session["id"].startswith("sess_") and session["object"] == "realtime.session"
    assert session["model"] == "gpt-realtime-2"
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["audio"]["output"]["voice"] == "marin"
    record = await server.wait_for_session()
    assert "authorization" not in {k.lower() for k in record.headers}


async def test_text_turn_full_lifecycle(server: LocalServer, client: RawClient) -> None:
    await client.send(user_text("hello there"))
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    names = types(events)
    assert names[:2] == ["conversation.item.added", "conversation.item.done"]
    assert names[2:7] == LIFECYCLE_START
    assert names[-6:] == AUDIO_END
    body = names[7:-6]
    assert set(body) == {"response.output_audio.delta", "response.output_audio_transcript.delta"}
    # transcript deltas interleave with the audio instead of coming all at once
    assert body[0] == "response.output_audio.delta"
    assert body.index("response.output_audio_transcript.delta") < len(body) // 2
    transcript = "You said: hello there"
    deltas = [e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"]
    assert "".join(deltas) == transcript
    assert events[-5]["transcript"] == transcript
    assert audio_of(events) == synthesize(transcript)
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["status_details"] is None
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": transcript}]
    part = events[6]["part"]
    assert part == {"type": "audio", "transcript": ""}
    # usage as in protocol doc section 6
    usage = done["usage"]
    audio_ms = len(audio_of(events)) // WIRE_BYTES_PER_MS
    assert usage["output_token_details"] == {
        "audio_tokens": audio_ms // 50,
        "text_tokens": -(-len(transcript) // 4),
    }
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_token_details"]["text_tokens"] > len("hello there") // 4
    # the record holds exactly what went over the wire
    record = server.sessions[0]
    assert record.sent == client.events


async def test_text_modality_streams_text(client: RawClient) -> None:
    session = {"type": "realtime", "output_modalities": ["text"]}
    await client.send({"type": "session.update", "session": session})
    updated = (await client.until("session.updated"))[-1]
    assert updated["session"]["output_modalities"] == ["text"]
    await client.send(user_text("one two three"))
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    names = types(events)
    assert "response.output_audio.delta" not in names
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "You said: one two three"
    assert next(e for e in events if e["type"] == "response.content_part.added")["part"] == {
        "type": "text",
        "text": "",
    }
    assert next(e for e in events if e["type"] == "response.output_text.done")["text"] == text
    assert events[-1]["response"]["usage"]["output_token_details"]["audio_tokens"] == 0


async def test_second_response_sees_cached_context(client: RawClient) -> None:
    await client.send(user_text("first"))
    await client.send({"type": "response.create"})
    first = (await client.until("response.done"))[-1]["response"]["usage"]
    await client.send(user_text("second"))
    await client.send({"type": "response.create"})
    second = (await client.until("response.done"))[-1]["response"]["usage"]
    assert first["input_token_details"]["cached_tokens"] == 0
    assert second["input_tokens"] > first["input_tokens"]
    cached = second["input_token_details"]["cached_tokens"]
    assert 0 < cached < second["input_tokens"]
    # the first reply's audio is now context: 1 token per 50 ms
    assert (
        second["input_token_details"]["audio_tokens"]
        == first["output_token_details"]["audio_tokens"]
    )


async def test_session_update_merges_deeply(client: RawClient) -> None:
    update = {
        "type": "realtime",
        "instructions": "Be brief.",
        "audio": {"output": {"voice": "cedar"}, "input": {"turn_detection": {"threshold": 0.7}}},
    }
    await client.send({"type": "session.update", "session": update})
    session = (await client.until("session.updated"))[-1]["session"]
    assert session["instructions"] == "Be brief."
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "cedar",
        "speed": 1.0,
    }
    detection = session["audio"]["input"]["turn_detection"]
    assert detection["threshold"] == 0.7 and detection["silence_duration_ms"] == 500
    semantic = {
        "type": "realtime",
        "audio": {"input": {"turn_detection": {"type": "semantic_vad"}}},
    }
    await client.send({"type": "session.update", "session": semantic})
    session = (await client.until("session.updated"))[-1]["session"]
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "auto",
        "create_response": True,
        "interrupt_response": True,
    }
    assert session["instructions"] == "Be brief."


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        (
            {"type": "session.update", "session": {"voice": "x"}},
            "missing_required_parameter",
            "session.type",
        ),
        ({"type": "session.update"}, "missing_required_parameter", "session"),
        (
            {
                "type": "session.update",
                "session": {"type": "realtime", "output_modalities": ["video"]},
            },
            "invalid_value",
            "session.output_modalities[0]",
        ),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
                },
            },
            "invalid_value",
            "session.audio.input.format.rate",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "temperature": 0.8}},
            "unknown_parameter",
            "session.temperature",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "instructions": 5}},
            "invalid_type",
            "session.instructions",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "audio": "loud"}},
            "invalid_type",
            "session.audio",
        ),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"turn_detection": {"silence_ms": 200}}},
                },
            },
            "unknown_parameter",
            "session.audio.input.turn_detection.silence_ms",
        ),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"noise_reduction": {"type": "studio"}}},
                },
            },
            "invalid_value",
            "session.audio.input.noise_reduction.type",
        ),
        ({"type": "response.audio.delta"}, "invalid_value", "type"),
        ({"type": "response.cancel"}, "response_cancel_not_active", None),
        ({"type": "input_audio_buffer.commit"}, "input_audio_buffer_commit_empty", None),
        ({"type": "input_audio_buffer.append", "audio": "@@@"}, "invalid_value", "audio"),
        ({"type": "input_audio_buffer.append"}, "missing_required_parameter", "audio"),
        ({"type": "conversation.item.retrieve", "item_id": "nope"}, "item_not_found", "item_id"),
        ({"type": "conversation.item.delete", "item_id": "nope"}, "item_not_found", "item_id"),
        (
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_audio"}],
                },
            },
            "invalid_value",
            "item.content[0].type",
        ),
        (
            {
                "type": "conversation.item.create",
                "previous_item_id": "nope",
                "item": user_text("x")["item"],
            },
            "invalid_value",
            "previous_item_id",
        ),
        ({"type": "output_audio_buffer.clear"}, "invalid_value", "type"),
    ],
)
async def test_bad_client_events_get_an_error_and_the_socket_stays_open(
    client: RawClient, event: dict, code: str, param: str | None
) -> None:
    await client.send({**event, "event_id": "evt_cli_7"})
    error = (await client.until("error"))[-1]["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert error["event_id"] == "evt_cli_7"
    assert error["message"]
    await client.send(user_text("still here"))
    assert types(await client.until("conversation.item.done"))[-2:] == [
        "conversation.item.added",
        "conversation.item.done",
    ]


@pytest.mark.parametrize("frame", ["{not json", "[1, 2]", b"\x00\x01binary"])
async def test_frames_that_are_not_events_get_an_error(client: RawClient, frame) -> None:
    await client.ws.send(frame)
    error = (await client.until("error"))[-1]["error"]
    assert error["code"] in ("invalid_json", "invalid_frame")
    await client.send(user_text("still here"))
    await client.until("conversation.item.done")


async def test_cancel_with_nothing_active_is_benign(client: RawClient) -> None:
    await client.send({"type": "response.cancel"})
    error = (await client.until("error"))[-1]["error"]
    assert error["code"] == "response_cancel_not_active"
    assert error["message"] == "Cancellation failed: no active response found"


async def test_cancel_and_second_response_while_active() -> None:
    # slow pacing, so the response is still active when the client acts
    async with (
        LocalServer(realtime_factor=1) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await client.send(user_text("a sentence long enough to take a while to say"))
        await client.send({"type": "response.create"})
        await client.until("response.output_audio.delta")
        await client.send({"type": "response.create"})
        error = (await client.until("error"))[-1]["error"]
        assert error["code"] == "conversation_already_has_active_response"
        await client.send({"type": "response.cancel"})
        events = await client.until("response.done")
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        assert types(events)[-6:] == AUDIO_END
        assert done["output"][0]["status"] == "incomplete"
        # only what was streamed counts, and it is far less than the whole reply
        streamed = audio_of(client.events)
        full = synthesize("You said: a sentence long enough to take a while to say")
        assert 0 < len(streamed) < len(full) and full.startswith(streamed)
        assert (
            done["usage"]["output_token_details"]["audio_tokens"]
            == len(streamed) // WIRE_BYTES_PER_MS // 50
        )
        # and it stops: a new response works at once
        await client.send({"type": "response.create"})
        await client.until("response.created")


async def test_item_create_retrieve_delete_and_ordering(client: RawClient) -> None:
    await client.send(user_text("second"))
    second = (await client.until("conversation.item.done"))[-1]["item"]
    first_item = {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "be kind"}],
    }
    await client.send(
        {"type": "conversation.item.create", "previous_item_id": "root", "item": first_item}
    )
    added = (await client.until("conversation.item.added"))[-1]
    assert added["previous_item_id"] is None
    first = added["item"]
    third = {
        "type": "message",
        "role": "assistant",
        "id": "item_mine",
        "content": [{"type": "output_text", "text": "ok"}],
    }
    await client.send(
        {"type": "conversation.item.create", "previous_item_id": first["id"], "item": third}
    )
    added = (await client.until("conversation.item.added"))[-1]
    assert added["previous_item_id"] == first["id"] and added["item"]["id"] == "item_mine"
    await client.send({"type": "conversation.item.retrieve", "item_id": second["id"]})
    retrieved = (await client.until("conversation.item.retrieved"))[-1]["item"]
    assert retrieved["content"] == [{"type": "input_text", "text": "second"}]
    await client.send({"type": "conversation.item.delete", "item_id": second["id"]})
    assert (await client.until("conversation.item.deleted"))[-1]["item_id"] == second["id"]
    await client.send({"type": "conversation.item.create", "item": {**third, "id": "item_mine"}})
    assert (await client.until("error"))[-1]["error"]["param"] == "item.id"


async def test_truncate_cuts_audio_and_transcript_and_checks_its_input(client: RawClient) -> None:
    await client.send(user_text("hello"))
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    assistant = events[-1]["response"]["output"][0]["id"]
    audio_ms = len(audio_of(events)) // WIRE_BYTES_PER_MS
    user_item = events[0]["item"]["id"]

    async def truncate(item_id: str, end_ms: int, index: int = 0) -> dict:
        await client.send(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": index,
                "audio_end_ms": end_ms,
            }
        )
        return await client.recv()

    assert (await truncate("item_nope", 10))["error"]["param"] == "item_id"
    assert (await truncate(user_item, 10))["error"]["param"] == "item_id"
    assert (await truncate(assistant, audio_ms + 1))["error"]["param"] == "audio_end_ms"
    assert (await truncate(assistant, 10, index=1))["error"]["param"] == "content_index"
    truncated = await truncate(assistant, 300)
    assert truncated == {**truncated, "type": "conversation.item.truncated", "audio_end_ms": 300}
    await client.send({"type": "conversation.item.retrieve", "item_id": assistant})
    content = (await client.recv())["item"]["content"][0]
    assert content["transcript"] == ""
    assert base64.b64decode(content["audio"]) == audio_of(events)[: 300 * WIRE_BYTES_PER_MS]
    assert (await truncate(assistant, 301))["error"]["param"] == "audio_end_ms"


@pytest.mark.parametrize(
    ("model", "usage"),
    [
        # billed by duration (its model page): the seconds heard
        ("whisper-1", {"type": "duration", "seconds": 1.2}),
        ("gpt-transcribe", {"type": "duration", "seconds": 1.2}),
        # billed by tokens: about one per 100 ms of audio
        ("gpt-4o-transcribe", {"type": "tokens", "input_tokens": 12}),
    ],
)
async def test_manual_commit_parrots_the_audio_with_transcription(
    client: RawClient, model: str, usage: dict[str, object]
) -> None:
    await manual_mode(client)
    transcription = {
        "type": "realtime",
        "audio": {"input": {"transcription": {"model": model}}},
    }
    await client.send({"type": "session.update", "session": transcription})
    await client.until("session.updated")
    pcm = tone(1200, dbfs=-23)
    await client.append(pcm)
    await client.send({"type": "input_audio_buffer.commit"})
    events = await client.until("conversation.item.input_audio_transcription.completed")
    assert types(events) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
    ]
    assert events[-1]["transcript"] == "(speech, 1.2 s)"
    assert {key: events[-1]["usage"][key] for key in usage} == usage
    assert events[1]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    # commit alone does not answer; response.create does, with the user's own audio
    await client.send({"type": "response.create"})
    reply = await client.until("response.done")
    assert audio_of(reply) == pcm
    assert reply[-1]["response"]["output"][0]["content"][0]["transcript"] == (
        f"I heard 1.2 s of audio at {level_dbfs(pcm):.0f} dBFS"
    )
    assert reply[-1]["response"]["usage"]["input_token_details"]["audio_tokens"] == 12
    await client.send({"type": "input_audio_buffer.clear"})
    assert (await client.recv())["type"] == "input_audio_buffer.cleared"
    await client.send({"type": "input_audio_buffer.commit"})
    assert (await client.recv())["error"]["code"] == "input_audio_buffer_commit_empty"


async def test_out_of_band_response_leaves_the_conversation_alone(client: RawClient) -> None:
    await client.send(user_text("hello"))
    await client.until("conversation.item.done")
    params = {"conversation": "none", "output_modalities": ["text"], "metadata": {"k": "v"}}
    await client.send({"type": "response.create", "response": params})
    events = await client.until("response.done")
    assert "conversation.item.added" not in types(events)
    response = events[-1]["response"]
    assert response["conversation_id"] is None and response["metadata"] == {"k": "v"}
    await client.send(
        {"type": "conversation.item.retrieve", "item_id": response["output"][0]["id"]}
    )
    assert (await client.recv())["error"]["code"] == "item_not_found"


async def test_every_event_the_server_recorded_validates(
    server: LocalServer, client: RawClient
) -> None:
    await client.send(user_text("hi"))
    await client.send({"type": "response.create"})
    await client.until("response.done")
    await client.close()
    record = server.sessions[0]
    await record.closed.wait()
    for event in record.sent:
        check_server_event(event)
    assert [e["type"] for e in record.received] == ["conversation.item.create", "response.create"]
    assert json.loads(json.dumps(record.config)) == record.config


async def test_a_server_bug_mid_response_ends_it_as_failed(
    client: RawClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, count: int) -> list[str]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("tui.localserver.responder.split_words", broken)
    await client.send(user_text("hello"))
    await client.send({"type": "response.create"})
    done = (await client.until("response.done"))[-1]["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["type"] == "server_error"
    # the connection carries on
    monkeypatch.undo()
    await client.send({"type": "response.create"})
    assert (await client.until("response.done"))[-1]["response"]["status"] == "completed"


async def test_truncate_while_streaming_then_cancel() -> None:
    """The interrupt key: truncate the playing item first, then cancel the running response."""
    async with (
        LocalServer(realtime_factor=1) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await client.send(user_text("a long enough reply to interrupt in the middle"))
        await client.send({"type": "response.create"})
        events = await client.until("response.output_audio.delta")
        item_id = events[-1]["item_id"]
        truncate = {"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0}
        # beyond what has been streamed so far: an error, as with a finished item
        await client.send({**truncate, "audio_end_ms": 60_000})
        assert (await client.until("error"))[-1]["error"]["param"] == "audio_end_ms"
        await client.send({**truncate, "audio_end_ms": 50})
        truncated = (await client.until("conversation.item.truncated"))[-1]
        assert (truncated["item_id"], truncated["audio_end_ms"]) == (item_id, 50)
        await client.send({"type": "response.cancel"})
        done = (await client.until("response.done"))[-1]["response"]
        assert done["status_details"]["reason"] == "client_cancelled"
        await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
        content = (await client.until("conversation.item.retrieved"))[-1]["item"]["content"][0]
        assert content["transcript"] == ""
        assert len(base64.b64decode(content["audio"])) == 50 * WIRE_BYTES_PER_MS


@pytest.mark.parametrize("modality", ["audio", "text"])
async def test_max_output_tokens_cuts_the_reply_as_incomplete(client: RawClient, modality) -> None:
    await client.send(user_text("a sentence that needs more tokens than the limit allows"))
    params = {"max_output_tokens": 10, "output_modalities": [modality]}
    await client.send({"type": "response.create", "response": params})
    done = (await client.until("response.done"))[-1]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["max_output_tokens"] == 10
    assert 0 < done["usage"]["output_tokens"] <= 10
    assert done["output"][0]["status"] == "incomplete"
    await client.send({"type": "response.create", "response": {"max_output_tokens": 0}})
    assert (await client.until("error"))[-1]["error"]["param"] == "response.max_output_tokens"


async def test_record_audio_off_blanks_audio_in_the_records_only() -> None:
    async with LocalServer(realtime_factor=50, record_audio=False) as server:
        async with await RawClient.connect(server.url) as client:
            await client.recv()
            await client.append(tone(200))
            await client.send(user_text("hi"))
            await client.send({"type": "response.create"})
            events = await client.until("response.done")
            assert audio_of(events) == synthesize("You said: hi")  # the wire is untouched
        record = server.sessions[0]
        await record.closed.wait()
    deltas = [e for e in record.sent if e["type"] == "response.output_audio.delta"]
    appends = [e for e in record.received if e["type"] == "input_audio_buffer.append"]
    assert deltas and all(e["delta"] == "" for e in deltas)
    assert appends and all(e["audio"] == "" for e in appends)
    for event in record.sent:
        check_server_event(event)
