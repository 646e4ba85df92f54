"""The hostile-server fixture (issue 9): every new fault switch, over loopback.

A RawClient checks every frame it gets against the SDK models, except the frames the fault
injects on purpose (listed in record.raw_sent). Where the point is what rt-tui's client makes
of it, the RealtimeConnection talks to the server instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.oracle import check_server_event
from tests.server import RawClient, tone, types, user_text
from tests.waiting import apoll_until
from tui.errors import Disconnected
from tui.localserver import Faults, LocalServer
from tui.localserver.faults import FAILED_MESSAGE, Flood, Inject
from tui.localserver.hostile import (
    CONTROL_SEQUENCES,
    HOSTILE_TEXT,
    oversized_frame,
    wrong_nested_frames,
)
from tui.realtime.connection import (
    MAX_FRAME_BYTES,
    RealtimeConnection,
    RedirectRefusedError,
    SessionNotStartedError,
)
from tui.realtime.events import BadEvent, ServerEvent

WAIT = 5.0


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(realtime_factor=50) as running:
        yield running


def injected_by(server: LocalServer) -> Any:
    def check(frame: str | bytes) -> bool:
        return any(frame == sent for _, sent in server.sessions[-1].raw_sent)

    return check


async def client_for(server: LocalServer) -> RawClient:
    client = await RawClient.connect(server.url)
    client.injected = injected_by(server)
    return client


async def ask_for_reply(client: RawClient, text: str = "a reply long enough for deltas") -> None:
    await client.send(user_text(text))
    await client.send({"type": "response.create"})


def deltas_before(client: RawClient, position: int) -> int:
    """Audio deltas of the reply running at `position` that came before it."""
    before = types(client.events[:position])
    started = len(before) - before[::-1].index("response.created")
    return before[started:].count("response.output_audio.delta")


# --------------------------------------------------------------------------- inject at cues


async def test_inject_after_session_created(server: LocalServer) -> None:
    frames: list[Any] = ["not json", b"\x00binary", {"type": "error", "error": {"code": [1]}}]
    server.faults.inject = [Inject(frames)]
    client = await client_for(server)
    assert (await client.recv())["type"] == "session.created"
    await ask_for_reply(client)
    await client.until("response.done")
    sent = ["not json", b"\x00binary", json.dumps(frames[2])]
    assert client.bad_frames == sent
    assert client.bad_frames_at == [1, 1, 1]  # right after session.created
    assert server.sessions[0].raw_sent == [("inject", frame) for frame in sent]
    await client.close()


async def test_inject_in_the_middle_of_each_reply(server: LocalServer) -> None:
    server.faults.inject = [Inject(["mid-reply"], at="delta", deltas=2, every=True)]
    client = await client_for(server)
    await client.recv()
    for turn in range(2):
        await ask_for_reply(client)
        await client.until("response.done")
        assert len(client.bad_frames) == turn + 1
    assert [deltas_before(client, at) for at in client.bad_frames_at] == [2, 2]
    # the reply goes on after the injected frame: more deltas follow within the same reply
    done = types(client.events).index("response.done")
    assert deltas_before(client, done) > 2
    await client.close()


async def test_inject_once_fires_in_the_first_reply_only(server: LocalServer) -> None:
    server.faults.inject = [Inject(["once"], at="delta", deltas=0)]
    client = await client_for(server)
    await client.recv()
    for _ in range(2):
        await ask_for_reply(client)
        await client.until("response.done")
    assert client.bad_frames == ["once"]
    await client.close()


@pytest.mark.parametrize("cue", ["response.created", "response.done", "session.updated"])
async def test_inject_at_the_other_cues(server: LocalServer, cue: Any) -> None:
    server.faults.inject = [Inject([f"after {cue}"], at=cue)]
    client = await client_for(server)
    await client.recv()
    await client.send({"type": "session.update", "session": {"type": "realtime"}})
    await client.until("session.updated")
    await ask_for_reply(client)
    await client.until("response.done")
    await client.send({"type": "input_audio_buffer.clear"})
    await client.until("input_audio_buffer.cleared")  # whatever came after done has come
    assert client.bad_frames == [f"after {cue}"]
    before = client.events[client.bad_frames_at[0] - 1]
    assert before["type"] == cue
    await client.close()


# --------------------------------------------------------------------------- wrong nested types


def test_wrong_nested_frames_are_refused_by_the_sdk() -> None:
    frames = wrong_nested_frames()
    assert len(frames) >= 8
    for name, frame in frames.items():
        with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
            check_server_event(frame)
        assert isinstance(frame["type"], str), name


async def test_the_client_skips_each_wrong_nested_frame_as_a_bad_one(server: LocalServer) -> None:
    frames = wrong_nested_frames()
    server.faults.inject = [Inject(list(frames.values()))]
    conn = RealtimeConnection(server.url, "gpt-realtime", "test-key")
    await conn.connect()
    got: list[ServerEvent | BadEvent] = []
    async with conn_timeout():
        async for event in conn.events():
            got.append(event)
            if len(got) == 1 + len(frames):
                break
    await conn.close()
    assert isinstance(got[0], ServerEvent) and got[0].type == "session.created"
    bad = got[1:]
    assert all(isinstance(e, BadEvent) and e.kind == "wrong_type" for e in bad), bad
    assert [e.type for e in bad] == [frame["type"] for frame in frames.values()]


def conn_timeout() -> Any:
    import asyncio

    return asyncio.timeout(WAIT)


# --------------------------------------------------------------------------- silence, redirects


async def test_silent_server_sends_nothing_after_the_handshake(server: LocalServer) -> None:
    server.faults.silent = True
    conn = RealtimeConnection(server.url, "gpt-realtime", "test-key", created_timeout=0.2)
    with pytest.raises(SessionNotStartedError, match=r"no session\.created"):
        await conn.connect()
    record = server.sessions[0]
    assert record.sent == [] and record.raw_sent == []


async def test_silent_server_reads_but_never_answers(server: LocalServer) -> None:
    server.faults.silent = True
    client = await RawClient.connect(server.url)
    await client.send({"type": "response.create"})
    await client.send({"type": "bogus"})
    record = await server.wait_for_session()
    await apoll_until(lambda: len(record.received) == 2, WAIT, "both events recorded")
    server.faults.silent = False  # read live: the next event is answered again
    await client.send({"type": "input_audio_buffer.clear"})
    assert (await client.recv())["type"] == "input_audio_buffer.cleared"
    assert types(client.events) == ["input_audio_buffer.cleared"]  # no session.created
    await client.close()


async def test_redirect_to_another_server_is_refused_by_the_client(server: LocalServer) -> None:
    async with LocalServer() as other:
        server.faults.redirect_to = other.url + "?model=gpt-realtime"
        server.faults.redirect_status = 307
        conn = RealtimeConnection(server.url, "gpt-realtime", "test-key")
        with pytest.raises(RedirectRefusedError, match="HTTP 307"):
            await conn.connect()
        assert other.sessions == [] and other.handshakes == []
    assert server.handshakes == [307]


async def test_a_redirect_within_the_server_is_followed(server: LocalServer) -> None:
    server.break_next_connections(Faults(redirect_to="/v1/realtime?model=gpt-realtime&moved=1"))
    conn = RealtimeConnection(server.url, "gpt-realtime", "test-key")
    await conn.connect()
    await conn.close()
    assert server.handshakes == [302, 101]
    assert len(server.sessions) == 1


# --------------------------------------------------------------------------- sizes and floods


async def test_an_oversized_frame_mid_reply_closes_the_client_with_1009(
    server: LocalServer,
) -> None:
    huge = oversized_frame(MAX_FRAME_BYTES + 1)
    assert len(huge) == MAX_FRAME_BYTES + 1 and json.loads(huge)["type"]
    server.faults.inject = [Inject([huge], at="delta", deltas=1)]
    conn = RealtimeConnection(server.url, "gpt-realtime", "test-key")
    await conn.connect()
    conn.send(user_text("a reply long enough for deltas"))
    conn.send({"type": "response.create"})
    async with conn_timeout():
        with pytest.raises(Disconnected) as caught:
            async for _ in conn.events():
                pass
    assert caught.value.code == 1009
    assert caught.value.reason == "the server sent a frame over 16 MiB"
    await conn.close()


async def test_a_flood_of_rate_limits_is_valid_and_complete(server: LocalServer) -> None:
    server.faults.flood = Flood("rate_limits", rate_hz=10_000, count=3000)
    client = await client_for(server)
    await client.recv()
    async with conn_timeout():
        while types(client.events).count("rate_limits.updated") < 3000:
            await client.recv()
    await client.close()


async def test_a_flood_of_deltas_during_a_reply(server: LocalServer) -> None:
    server.faults.flood = Flood("deltas", rate_hz=10_000, count=2000, at="response.created")
    client = await client_for(server)
    await client.recv()
    await ask_for_reply(client)

    def flood() -> list[dict[str, Any]]:
        return [e for e in client.events if e.get("delta") == "·"]

    async with conn_timeout():
        while len(flood()) < 2000:
            await client.recv()
    created = next(e for e in client.events if e["type"] == "response.created")
    assert {e["type"] for e in flood()} == {"response.output_audio_transcript.delta"}
    assert {e["response_id"] for e in flood()} == {created["response"]["id"]}
    await client.close()


async def test_audio_faster_than_real_time_per_connection() -> None:
    # the server's own pace would take 100 s per delta: the fault's pace is no pause at all
    async with LocalServer(realtime_factor=0.001) as slow:
        slow.faults.realtime_factor = math.inf
        client = await client_for(slow)
        await client.recv()
        await ask_for_reply(client)
        events = await client.until("response.done", timeout=WAIT)
        assert events[-1]["response"]["status"] == "completed"
        assert types(events).count("response.output_audio.delta") > 3
        await client.close()


# --------------------------------------------------------------------------- hostile text


def test_the_hostile_text_holds_every_sequence_and_no_whitespace() -> None:
    assert all(sequence in HOSTILE_TEXT for sequence in CONTROL_SEQUENCES.values())
    assert not any(ch.isspace() for ch in HOSTILE_TEXT)
    for name in ("osc0_title", "csi_clear", "osc52_clipboard", "osc8_link", "bidi_override"):
        assert name in CONTROL_SEQUENCES


async def test_taint_reaches_transcripts_errors_and_failures(server: LocalServer) -> None:
    server.faults.taint = HOSTILE_TEXT
    client = await client_for(server)
    await client.recv()
    transcription = {"model": "gpt-4o-mini-transcribe"}
    session = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
    session["audio"]["input"]["transcription"] = transcription
    await client.send({"type": "session.update", "session": session})
    await client.until("session.updated")
    await client.append(tone(600, dbfs=-23))
    await client.send({"type": "input_audio_buffer.commit"})
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    heard = next(e for e in events if e["type"].endswith("transcription.completed"))
    assert heard["transcript"].startswith(HOSTILE_TEXT)
    said = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert said["transcript"].startswith(HOSTILE_TEXT)
    deltas = [e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"]
    assert deltas[0].startswith(HOSTILE_TEXT)  # one piece: the taint has no whitespace
    await client.send({"type": "bogus"})
    error = await client.recv()
    assert error["type"] == "error" and error["error"]["message"].startswith(HOSTILE_TEXT)
    server.faults.fail_after_deltas = 1
    await client.send({"type": "response.create"})
    failed = (await client.until("response.done"))[-1]["response"]
    assert failed["status_details"]["error"]["message"] == HOSTILE_TEXT + FAILED_MESSAGE
    await client.close()


@pytest.mark.parametrize("how", ["close_code", "max_session_s"])
async def test_taint_reaches_close_reasons_within_the_frame_limit(
    server: LocalServer, how: str
) -> None:
    server.faults.taint = HOSTILE_TEXT * 10  # far over the 123 bytes a close reason holds
    if how == "close_code":
        server.faults.close_code, server.faults.close_reason = 1011, "oops"
    else:
        server.faults.max_session_s = 0
    client = await client_for(server)
    with pytest.raises(ConnectionClosed) as caught:
        while True:
            await client.recv()
    assert caught.value.rcvd is not None
    reason = caught.value.rcvd.reason
    assert reason.startswith(HOSTILE_TEXT) and 100 < len(reason.encode()) <= 123


# --------------------------------------------------------------------------- session.update


async def test_session_update_applied_otherwise_than_asked(server: LocalServer) -> None:
    server.faults.session_override = {
        "audio": {"output": {"voice": "alloy", "format": {"type": "audio/pcmu"}}}
    }
    client = await client_for(server)
    await client.recv()
    asked = {"type": "realtime", "audio": {"output": {"voice": "cedar"}}}
    await client.send({"type": "session.update", "session": asked})
    updated = (await client.until("session.updated"))[-1]["session"]
    assert updated["audio"]["output"]["voice"] == "alloy"
    assert updated["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert updated["audio"]["input"]["format"]["type"] == "audio/pcm"  # merged, not replaced
    await ask_for_reply(client)
    done = (await client.until("response.done"))[-1]["response"]
    assert done["audio"]["output"]["voice"] == "alloy"
    await client.close()
