"""Voice turns through the server VAD: speech events on the input timeline, parrot, barge-in."""

from __future__ import annotations

import base64

from tests.server import RawClient, audio_of, silence, speech, tone, types, user_text
from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver import LocalServer
from tui.localserver.vad import level_dbfs

LEAD_MS = 600
TAIL_MS = 1000


def loud_span_ms(pcm: bytes, dbfs: float = -40.0) -> tuple[int, int]:
    """(start of the first, end of the last) 10 ms frame louder than `dbfs`."""
    frame = 10 * WIRE_BYTES_PER_MS
    loud = [
        index
        for index in range(len(pcm) // frame)
        if level_dbfs(pcm[index * frame : (index + 1) * frame]) > dbfs
    ]
    return loud[0] * 10, (loud[-1] + 1) * 10


async def vad_settings(client: RawClient, **detection: object) -> None:
    session = {"type": "realtime", "audio": {"input": {"turn_detection": detection}}}
    await client.send({"type": "session.update", "session": session})
    await client.until("session.updated")


async def test_voice_turn_vad_commit_and_parrot_reply() -> None:
    spoken = speech()
    timeline = silence(LEAD_MS) + spoken + silence(TAIL_MS)
    async with (
        LocalServer(realtime_factor=50) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await client.append(timeline)
        events = await client.until("response.done")
        names = types(events)
        assert names[:5] == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
        ]
        assert names[5] == "response.created" and names[-1] == "response.done"
        started, stopped, committed, added = events[:4]
        item_id = started["item_id"]
        assert stopped["item_id"] == committed["item_id"] == added["item"]["id"] == item_id
        assert committed["previous_item_id"] is None
        first_loud, last_loud = loud_span_ms(timeline)
        # the start includes the 300 ms prefix padding before the first loud frames
        assert abs(started["audio_start_ms"] - (first_loud - 300)) <= 100
        # the end includes the 500 ms of silence that ended the turn
        end = stopped["audio_end_ms"]
        assert abs(end - (last_loud + 500)) <= 100
        # the committed audio is exactly that span of the input timeline
        await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
        user_item = (await client.until("conversation.item.retrieved"))[-1]["item"]
        committed_pcm = base64.b64decode(user_item["content"][0]["audio"])
        start_byte = started["audio_start_ms"] * WIRE_BYTES_PER_MS
        assert committed_pcm == timeline[start_byte : end * WIRE_BYTES_PER_MS]
        # the parrot plays the committed audio back and says what it heard
        assert audio_of(events) == committed_pcm
        seconds = len(committed_pcm) / WIRE_BYTES_PER_MS / 1000
        transcript = f"I heard {seconds:.1f} s of audio at {level_dbfs(committed_pcm):.0f} dBFS"
        assert events[-1]["response"]["output"][0]["content"][0]["transcript"] == transcript
        usage = events[-1]["response"]["usage"]
        assert (
            usage["input_token_details"]["audio_tokens"]
            == len(committed_pcm) // WIRE_BYTES_PER_MS // 100
        )
        assert (
            usage["output_token_details"]["audio_tokens"]
            == len(committed_pcm) // WIRE_BYTES_PER_MS // 50
        )


async def test_two_turns_keep_one_input_timeline() -> None:
    turn = silence(LEAD_MS) + speech() + silence(TAIL_MS)
    async with (
        LocalServer(realtime_factor=50) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await vad_settings(client, type="server_vad", create_response=False)
        await client.append(turn + turn)
        first = await client.until("input_audio_buffer.committed")
        second = await client.until("input_audio_buffer.committed")
        turn_ms = len(turn) // WIRE_BYTES_PER_MS
        starts = [
            e["audio_start_ms"]
            for e in first + second
            if e["type"] == "input_audio_buffer.speech_started"
        ]
        # the same speech one turn later on the timeline (VAD frames are 10 ms)
        assert len(starts) == 2 and abs(starts[1] - starts[0] - turn_ms) <= 10
        assert second[-1]["previous_item_id"] == first[-1]["item_id"]
        # create_response false: VAD events, no answer
        await client.send(user_text("marker"))
        assert "response.created" not in types(await client.until("conversation.item.done"))


async def test_barge_in_cancels_with_turn_detected() -> None:
    # real-time pacing, so the reply is still streaming when the user talks over it
    async with (
        LocalServer(realtime_factor=1) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await client.send(user_text("tell me a long story about the sea and the wind"))
        await client.send({"type": "response.create"})
        created = (await client.until("response.output_audio.delta"))[0]
        assert created["type"] == "conversation.item.added"
        await client.append(speech() + silence(TAIL_MS))
        events = await client.until("response.done")
        names = types(events)
        cut = names.index("input_audio_buffer.speech_started")
        assert "response.output_audio.delta" not in names[cut:]
        assert names[cut + 1 :] == [
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        server.realtime_factor = 50  # the rest need not take real time
        # the turn goes on: stopped, committed, and a parrot reply that completes
        rest = await client.until("response.done", timeout=10)
        assert "input_audio_buffer.committed" in types(rest)
        assert rest[-1]["response"]["status"] == "completed"


async def test_without_interrupt_response_the_reply_runs_on() -> None:
    async with (
        LocalServer(realtime_factor=1) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await vad_settings(client, type="server_vad", interrupt_response=False)
        await client.send(user_text("a reply that keeps going"))
        await client.send({"type": "response.create"})
        await client.until("response.output_audio.delta")
        await client.append(speech("hey") + silence(200))
        await client.until("input_audio_buffer.speech_started")
        server.realtime_factor = 50
        events = await client.until("response.done", timeout=10)
        assert events[-1]["response"]["status"] == "completed"


async def test_manual_mode_ignores_speech_until_commit() -> None:
    async with (
        LocalServer(realtime_factor=50) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await client.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        updated = (await client.until("session.updated"))[-1]
        assert updated["session"]["audio"]["input"]["turn_detection"] is None
        pcm = speech("manual") + silence(TAIL_MS)
        await client.append(pcm)
        await client.send({"type": "input_audio_buffer.commit"})
        events = await client.until("conversation.item.done")
        assert types(events) == [
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
        ]
        await client.send({"type": "response.create"})
        assert audio_of(await client.until("response.done")) == pcm


async def test_idle_timeout_commits_the_quiet_and_asks() -> None:
    async with (
        LocalServer(realtime_factor=50) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await vad_settings(client, type="server_vad", idle_timeout_ms=200)
        await client.send(user_text("hi"))
        await client.send({"type": "response.create"})
        await client.until("response.done")
        # well before the deadline (reply playback 0.7 s + 200 ms) the client sends quiet audio
        await client.append(silence(300))  # the quiet the server will commit
        events = await client.until("response.done")
        names = types(events)
        assert names[:4] == [
            "input_audio_buffer.timeout_triggered",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
        ]
        timeout = events[0]
        assert timeout["audio_end_ms"] == 300 and 0 <= timeout["audio_start_ms"] < 300
        assert timeout["item_id"] == events[1]["item_id"]
        transcript = events[-1]["response"]["output"][0]["content"][0]["transcript"]
        assert transcript == "I heard only silence. Are you still there?"


async def test_semantic_vad_eagerness_sets_the_pause_that_ends_a_turn() -> None:
    # two bursts 400 ms apart: one turn at eagerness low (1000 ms), two at high (250 ms)
    audio = silence(300) + tone(500) + silence(400) + tone(500) + silence(1200)
    for eagerness, turns in (("low", 1), ("high", 2)):
        async with (
            LocalServer(realtime_factor=50) as server,
            await RawClient.connect(server.url) as client,
        ):
            await client.recv()
            await vad_settings(
                client, type="semantic_vad", eagerness=eagerness, create_response=False
            )
            await client.append(audio)
            await client.send(user_text("marker"))
            names = types(await client.until("conversation.item.done", timeout=5))
            while names.count("conversation.item.done") < turns + 1:
                names += types(await client.until("conversation.item.done"))
            assert names.count("input_audio_buffer.committed") == turns, eagerness


async def test_keep_audio_items_bounds_the_audio_the_conversation_holds() -> None:
    """For soaks: older items lose their audio (their text stays), the newest N keep it."""
    async with (
        LocalServer(realtime_factor=50, keep_audio_items=2) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        for _ in range(3):
            await client.append(silence(LEAD_MS) + speech() + silence(TAIL_MS))
            await client.until("response.done")
        [connection] = server._connections
        assert [item.data["role"] for item in connection.items] == ["user", "assistant"] * 3
        assert [bool(item.audio) for item in connection.items] == [False] * 4 + [True] * 2
        assert all(item.data["content"] for item in connection.items)
