"""Every fault switch, end to end over loopback (issue 5)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.oracle import check_server_event
from tests.server import RawClient, audio_of, tone, types, user_text
from tui.localserver import BAD_FRAME_KINDS, Faults, LocalServer
from tui.localserver.faults import HUGE_FRAME_BYTES, MAX_DURATION_REASON
from tui.localserver.voice import synthesize

REPLY = "You said: a reply long enough for many deltas"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(realtime_factor=50) as running:
        yield running


async def start_turn(server: LocalServer) -> RawClient:
    client = await RawClient.connect(server.url)
    assert (await client.recv())["type"] == "session.created"
    await client.send(user_text(REPLY.removeprefix("You said: ")))
    await client.send({"type": "response.create"})
    return client


async def closed_by_server(client: RawClient) -> tuple[ConnectionClosed, list[dict]]:
    """Read valid events until the connection ends; return how it ended and what came."""
    before = len(client.events)
    with pytest.raises(ConnectionClosed) as caught:
        while True:
            await client.recv()
    return caught.value, client.events[before:]


def deltas(events: list[dict]) -> int:
    return types(events).count("response.output_audio.delta")


async def test_drop_mid_response_aborts_without_close_frame(server: LocalServer) -> None:
    server.faults.drop_after_deltas = 3
    client = await start_turn(server)
    ended, events = await closed_by_server(client)
    assert ended.rcvd is None  # no close frame: the TCP connection just went away
    assert deltas(events) == 3
    assert "response.done" not in types(events)
    record = server.sessions[0]
    await record.closed.wait()
    assert record.ended_by == "abort"


@pytest.mark.parametrize("code", [1001, 1011, 1012, 1013])
async def test_close_with_code_after_deltas(server: LocalServer, code: int) -> None:
    server.faults.close_code = code
    server.faults.close_reason = f"fault {code}"
    server.faults.close_after_deltas = 2
    client = await start_turn(server)
    ended, events = await closed_by_server(client)
    assert ended.rcvd is not None
    assert (ended.rcvd.code, ended.rcvd.reason) == (code, f"fault {code}")
    assert deltas(events) == 2


async def test_close_immediately_and_break_only_first_connections(server: LocalServer) -> None:
    server.break_next_connections(Faults(close_code=1012, close_reason="restart"), count=2)
    for _ in range(2):
        client = await RawClient.connect(server.url)
        ended, events = await closed_by_server(client)
        assert types(events) == ["session.created"]
        assert (ended.rcvd.code, ended.rcvd.reason) == (1012, "restart")
    client = await start_turn(server)
    assert (await client.until("response.done"))[-1]["response"]["status"] == "completed"
    await client.close()


async def test_faults_are_read_live_by_running_connections(server: LocalServer) -> None:
    client = await RawClient.connect(server.url)
    await client.recv()
    server.faults = Faults(close_code=1011, close_reason="live")  # even a new Faults value
    ended, _ = await closed_by_server(client)
    assert (ended.rcvd.code, ended.rcvd.reason) == (1011, "live")


async def test_session_ends_at_maximum_duration(server: LocalServer) -> None:
    server.faults.max_session_s = 0.3
    client = await RawClient.connect(server.url)
    ended, events = await closed_by_server(client)
    assert types(events) == ["session.created"]
    assert (ended.rcvd.code, ended.rcvd.reason) == (1001, MAX_DURATION_REASON)
    assert server.sessions[0].ended_by == f"close 1001 {MAX_DURATION_REASON}"


def is_injected(server: LocalServer):
    def check(frame: str | bytes) -> bool:
        return any(frame == sent for _, sent in server.sessions[-1].raw_sent)

    return check


@pytest.mark.parametrize("kind", BAD_FRAME_KINDS)
async def test_each_bad_frame_is_interleaved_and_the_response_completes(
    server: LocalServer, kind: str
) -> None:
    server.faults.bad_frames = [kind]
    server.faults.bad_frames_after_deltas = 2
    client = await RawClient.connect(server.url)
    client.injected = is_injected(server)
    await client.recv()
    await client.send(user_text(REPLY.removeprefix("You said: ")))
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    # the valid stream is untouched: every delta, in order, and a completed response
    assert audio_of(events) == synthesize(REPLY)
    assert events[-1]["response"]["status"] == "completed"
    assert len(client.bad_frames) == 1
    frame = client.bad_frames[0]
    record = server.sessions[0]
    assert record.raw_sent == [(kind, frame)]
    # it came between valid deltas: two before it (the switch says 2), more after it
    position = client.bad_frames_at[0]
    assert deltas(client.events[:position]) == 2
    assert deltas(client.events[position:]) > 0
    check_bad_frame(kind, frame, record.sent)
    await client.close()


def check_bad_frame(kind: str, frame: str | bytes, sent: list[dict]) -> None:
    """Each kind is bad the way its name says."""
    if kind == "binary":
        assert isinstance(frame, bytes)
        return
    assert isinstance(frame, str)
    if kind == "not_json":
        with pytest.raises(ValueError):
            json.loads(frame)
        return
    data = json.loads(frame)
    if kind == "json_array":
        assert isinstance(data, list)
    elif kind in ("unknown_type", "missing_fields"):
        with pytest.raises(ValueError):  # pydantic.ValidationError is a ValueError
            check_server_event(data)
    elif kind == "bad_base64":
        with pytest.raises(ValueError):
            base64.b64decode(data["delta"], validate=True)
    elif kind == "odd_length_audio":
        assert len(base64.b64decode(data["delta"])) % 2 == 1
    elif kind in ("unknown_item_delta", "huge"):
        known_items = {e["item"]["id"] for e in sent if "item" in e}
        assert data["item_id"] not in known_items
        if kind == "huge":
            assert len(frame) > HUGE_FRAME_BYTES


async def test_all_bad_frames_and_extra_frames_in_one_response(server: LocalServer) -> None:
    server.faults.bad_frames = list(BAD_FRAME_KINDS)
    server.faults.extra_frames = ["plain text", b"\xff\xfe", '{"type": 42}']
    client = await RawClient.connect(server.url)
    client.injected = is_injected(server)
    await client.recv()
    await client.send(user_text(REPLY.removeprefix("You said: ")))
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    assert audio_of(events) == synthesize(REPLY)
    assert len(client.bad_frames) == len(BAD_FRAME_KINDS) + 3
    assert client.bad_frames[-3:] == ["plain text", b"\xff\xfe", '{"type": 42}']
    # once per response while the switch is on; off, the next response is clean
    await client.send({"type": "response.create"})
    await client.until("response.done")
    assert len(client.bad_frames) == 2 * (len(BAD_FRAME_KINDS) + 3)
    server.faults.bad_frames = []
    server.faults.extra_frames = []
    await client.send({"type": "response.create"})
    await client.until("response.done")
    assert len(client.bad_frames) == 2 * (len(BAD_FRAME_KINDS) + 3)
    await client.close()


async def test_drop_on_first_connection_then_clean_reconnect(server: LocalServer) -> None:
    server.break_next_connections(Faults(drop_after_deltas=1))
    first = await start_turn(server)
    ended, _ = await closed_by_server(first)
    assert ended.rcvd is None
    second = await start_turn(server)
    assert (await second.until("response.done"))[-1]["response"]["status"] == "completed"
    await second.close()
    assert [r.ended_by for r in server.sessions] == ["abort", ""]


async def test_drop_all_and_close_all_end_open_connections(server: LocalServer) -> None:
    clients = [await RawClient.connect(server.url) for _ in range(2)]
    for client in clients:
        await client.recv()
    await server.wait_for_session(2)
    server.drop_all()
    for client in clients:
        ended, _ = await closed_by_server(client)
        assert ended.rcvd is None
    assert [r.ended_by for r in server.sessions] == ["abort", "abort"]
    again = await RawClient.connect(server.url)
    await again.recv()
    await server.wait_for_session(3)
    server.close_all(1012, "restarting")
    ended, _ = await closed_by_server(again)
    assert (ended.rcvd.code, ended.rcvd.reason) == (1012, "restarting")
    assert server.sessions[2].ended_by == "close 1012 restarting"


async def test_fail_response_after_deltas_keeps_the_connection(server: LocalServer) -> None:
    server.faults.fail_after_deltas = 2
    client = await start_turn(server)
    events = await client.until("response.done")
    assert deltas(events) == 2
    done = events[-1]["response"]
    assert done["status"] == "failed"
    error = done["status_details"]["error"]
    assert error["type"] == "server_error" and error["message"]
    server.faults.fail_after_deltas = None
    await client.send({"type": "response.create"})
    assert (await client.until("response.done"))[-1]["response"]["status"] == "completed"
    await client.close()


async def test_late_transcription_comes_after_the_reply(server: LocalServer) -> None:
    """Transcription runs asynchronously on the real server: it may arrive after response.done."""
    server.faults.late_transcription = True
    client = await RawClient.connect(server.url)
    await client.until("session.created")
    session = {
        "type": "realtime",
        "audio": {
            "input": {
                "turn_detection": None,
                "transcription": {"model": "gpt-4o-mini-transcribe"},
            }
        },
    }
    await client.send({"type": "session.update", "session": session})
    await client.until("session.updated")
    await client.append(tone(600, dbfs=-23))
    await client.send({"type": "input_audio_buffer.commit"})
    await client.send({"type": "response.create"})
    events = await client.until("conversation.item.input_audio_transcription.completed")
    order = types(events)
    assert order.index("response.done") < order.index(
        "conversation.item.input_audio_transcription.delta"
    )
    for event in events:
        check_server_event(event)
    assert events[-1]["usage"]["type"] == "tokens"
    await client.close()
