"""The session controller against the built-in server over real loopback websockets."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest

from tests.oracle import check_client_event
from tests.session.helpers import ChangeRecorder, ScriptedAudio
from tui.audio.meter import Level
from tui.changes import (
    Applied,
    ConnectionChanged,
    ConnectionState,
    EventLogged,
    LevelSampled,
    MuteChanged,
    Notice,
    Role,
    SessionInfo,
    SpeechChanged,
    TurnFinished,
    TurnStatus,
)
from tui.config import Settings, with_value
from tui.localserver import LocalServer
from tui.localserver.faults import BAD_FRAME_KINDS, Faults
from tui.pricing import estimate_cost, estimate_transcription_cost
from tui.realtime.backoff import Backoff
from tui.realtime.connection import RealtimeConnection
from tui.session import IDLE_TICK_S, STABLE_CONNECTION_S, TICK_S, Session, throttle

TEST_KEY = "sk-test-session-0123456789abcdef"


def settings_for(url: str, **values: Any) -> Settings:
    settings = with_value(Settings(), "connection.url", url)
    for path, value in values.items():
        settings = with_value(settings, path.replace("__", "."), value)
    return settings


def speech(ms: int, rate: int = 24000) -> bytes:
    """A loud voiced sound (200 Hz with harmonics) the energy VAD takes for speech."""
    t = np.arange(rate * ms // 1000) / rate
    wave = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in (1, 2, 3))
    return (0.3 * wave / np.max(np.abs(wave)) * 32767).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(48 * ms)


def blocks(pcm: bytes, ms: int = 20) -> list[bytes]:
    size = 48 * ms
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


@contextlib.asynccontextmanager
async def running(
    server: LocalServer,
    *,
    audio: list[ScriptedAudio] | None = None,
    audio_class: type[ScriptedAudio] = ScriptedAudio,
    clock: Callable[[], float] = time.monotonic,
    api_key: str | None = TEST_KEY,
    backoff: Backoff | None = None,
    history: Any = None,
    connection_factory: Callable[..., RealtimeConnection] = RealtimeConnection,
    **values: Any,
) -> AsyncIterator[tuple[Session, ChangeRecorder]]:
    recorder = ChangeRecorder()
    session = Session(
        settings_for(server.url, **values),
        api_key=api_key,
        listener=recorder,
        audio_enabled=audio is not None,
        audio_factory=audio_class.factory(audio) if audio is not None else None,
        clock=clock,
        backoff=backoff,
        history=history,
        connection_factory=connection_factory,
    )
    task = asyncio.create_task(session.run())
    try:
        yield session, recorder
    finally:
        await session.stop()
        await asyncio.wait_for(task, 10)


def live(session: Session) -> Callable[[], bool]:
    return lambda: session.state is ConnectionState.LIVE


def finished(recorder: ChangeRecorder, role: Role, count: int = 1) -> Callable[[], list[Any]]:
    def check() -> list[Any]:
        done = [c.turn for c in recorder.of(TurnFinished) if c.turn.role is role]
        return done if len(done) >= count else []

    return check


def received(server: LocalServer, kind: str, index: int = -1) -> list[dict[str, Any]]:
    return [e for e in server.sessions[index].received if e["type"] == kind]


async def test_text_turn_and_every_client_event_is_valid() -> None:
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("hello there")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="assistant reply")
        assert reply.status is TurnStatus.DONE
        assert "hello there" in reply.text
        [user] = finished(rec, Role.USER)()
        assert user.text == "hello there"
        assert [t.role for t in session.conversation.turns] == [Role.USER, Role.ASSISTANT]
        for event in server.sessions[0].received:
            check_client_event(event)
        first = server.sessions[0].received[0]
        assert first["type"] == "session.update"
        assert first["session"]["audio"]["output"]["voice"] == "marin"
        assert session.stats.session_usage.output_tokens > 0
        assert session.stats.session_usage.cost_usd > 0


async def test_voice_turn_gets_the_parrot_reply_played() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        for block in blocks(silence(200) + speech(800) + silence(900)):
            audio[0].capture(block)
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="parrot reply")
        sent = server.sessions[0].sent_types()
        assert "input_audio_buffer.speech_started" in sent
        assert "input_audio_buffer.speech_stopped" in sent
        assert "input_audio_buffer.committed" in sent
        assert audio[0].received_ms(reply.item_id) >= 700, "the parrot plays back the speech"
        audio[0].advance(10_000)
        await rec.wait_for(lambda: session.stats.last_latency_ms is not None, what="latency")
        assert session.stats.median_latency_ms is not None


def usage_sent(server: LocalServer) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(response usages, transcription usages) the server has sent, in order."""
    sent = server.sessions[0].sent
    replies = [e["response"]["usage"] for e in sent if e["type"] == "response.done"]
    transcriptions = [e["usage"] for e in sent if e["type"].endswith("transcription.completed")]
    return replies, transcriptions


TOKEN_BILLED = "gpt-4o-mini-transcribe"  # reports its usage in tokens, like the replies


@pytest.mark.parametrize("late", [False, True], ids=["transcription_first", "reply_first"])
async def test_transcription_usage_adds_into_the_turn(late: bool) -> None:
    """The turn's usage is the reply plus the transcription of what the user said, whichever
    comes first (the transcription used to replace the reply's figures, or the reverse); the
    next turn starts from zero; the session total has everything."""
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer(faults=Faults(late_transcription=late)) as server,
        running(server, audio=audio, session__transcription_model=TOKEN_BILLED) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        for block in blocks(silence(200) + speech(800) + silence(900)):
            audio[0].capture(block)

        def both_counted() -> bool:
            replies, transcriptions = usage_sent(server)
            want = sum(u["input_tokens"] for u in replies + transcriptions)
            return (
                bool(replies and transcriptions) and session.stats.turn_usage.input_tokens == want
            )

        await rec.wait_for(both_counted, what="reply and transcription usage in the turn")
        [reply], [heard] = usage_sent(server)
        turn = session.stats.turn_usage
        assert turn.output_tokens == reply["output_tokens"] + heard["output_tokens"]
        cost = estimate_cost("gpt-realtime-2", reply)
        heard_cost = estimate_transcription_cost(TOKEN_BILLED, heard)
        assert cost and heard_cost
        assert turn.cost_usd == pytest.approx(cost + heard_cost)
        assert session.stats.session_usage == turn
        assert session.stats.priced and session.stats.transcription_priced

        session.send_text("and a typed turn")
        await rec.wait_for(lambda: len(usage_sent(server)[0]) == 2, what="second reply")
        await rec.wait_for(
            lambda: session.stats.session_usage.input_tokens > turn.input_tokens, what="counted"
        )
        second = usage_sent(server)[0][1]
        assert session.stats.turn_usage.input_tokens == second["input_tokens"]
        total = reply["input_tokens"] + heard["input_tokens"] + second["input_tokens"]
        assert session.stats.session_usage.input_tokens == total


async def test_the_default_transcription_is_priced_by_the_seconds_it_heard() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        assert session.settings.session.transcription_model == "gpt-transcribe"
        await rec.wait_for(live(session), what="live")
        for block in blocks(silence(200) + speech(800) + silence(900)):
            audio[0].capture(block)
        await rec.wait_for(lambda: all(usage_sent(server)), what="reply and transcription")
        [reply], [heard] = usage_sent(server)
        assert heard["type"] == "duration" and heard["seconds"] > 0.5
        want = estimate_cost("gpt-realtime-2", reply) + heard["seconds"] / 60 * 0.0045
        await rec.wait_for(
            lambda: session.stats.turn_usage.cost_usd == pytest.approx(want), what="both costs"
        )
        assert session.stats.priced and session.stats.transcription_priced


async def test_a_transcription_model_without_a_price_is_marked_not_priced() -> None:
    audio: list[ScriptedAudio] = []
    unpriced = "gpt-4o-transcribe-diarize"
    async with (
        LocalServer() as server,
        running(server, audio=audio, session__transcription_model=unpriced) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        for block in blocks(silence(200) + speech(800) + silence(900)):
            audio[0].capture(block)
        await rec.wait_for(
            lambda: not session.stats.transcription_priced and usage_sent(server)[0],
            what="transcription usage",
        )
        await rec.wait_for(lambda: session.stats.turn_usage.cost_usd > 0, what="reply usage")
        [reply], [heard] = usage_sent(server)
        assert session.stats.priced, "the realtime model itself is priced"
        assert session.stats.turn_usage.cost_usd == pytest.approx(
            estimate_cost("gpt-realtime-2", reply)
        )
        assert session.stats.turn_usage.input_tokens == (
            reply["input_tokens"] + heard["input_tokens"]
        )


async def test_ticker_idles_then_wakes_when_reply_audio_arrives() -> None:
    """Idle, the ticker runs once a second; reply audio brings it back to 10 Hz at once, so
    "assistant speaking" shows within a tick, and it idles again once the reply has played."""
    audio: list[ScriptedAudio] = []
    loop = asyncio.get_running_loop()

    def next_tick_in() -> float:
        handle = session._ticker.handle
        return handle.when() - loop.time() if handle is not None else float("inf")

    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        await rec.wait_for(lambda: next_tick_in() > TICK_S, what="the idle tick")
        assert next_tick_in() <= IDLE_TICK_S
        session.send_text("hello")
        await rec.wait_for(lambda: audio[0].received, what="reply audio")
        assert next_tick_in() <= TICK_S
        await rec.wait_for(
            lambda: any(c.assistant_audible for c in rec.of(SpeechChanged)), what="audible"
        )
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        audio[0].advance(60_000)
        await rec.wait_for(
            lambda: not rec.of(SpeechChanged)[-1].assistant_audible, what="no longer audible"
        )
        await rec.wait_for(lambda: next_tick_in() > TICK_S, what="idle again")


async def test_talking_over_the_reply_truncates_at_what_was_heard() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("tell me something long please, a long long answer")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        assert audio[0].received_ms(reply.item_id) > 1000
        audio[0].advance(700)  # 700 ms reached the speaker
        for block in blocks(speech(600) + silence(700)):
            audio[0].capture(block)
        await rec.wait_for(lambda: received(server, "conversation.item.truncate"), what="trunc")
        [truncate] = received(server, "conversation.item.truncate")
        assert truncate["item_id"] == reply.item_id
        assert truncate["audio_end_ms"] == 700
        assert reply.status is TurnStatus.INTERRUPTED and reply.heard_ms == 700
        assert received(server, "response.cancel") == [], "the reply had already finished"
        await rec.wait_for(
            lambda: "conversation.item.truncated" in server.sessions[0].sent_types(),
            what="truncated",
        )
        assert not [e for e in server.sessions[0].sent if e["type"] == "error"]


async def test_interrupt_key_cancels_a_running_response_and_truncates() -> None:
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer(realtime_factor=0.5) as server,
        running(server, audio=audio) as (
            session,
            rec,
        ),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("a reply that streams slowly")
        item = await rec.wait_for(
            lambda: next((i for i, ms in audio[0].received.items() if ms >= 100), None),
            what="first audio",
        )
        audio[0].advance(60)
        session.interrupt()
        await rec.wait_for(lambda: received(server, "response.cancel"), what="cancel")
        [truncate] = received(server, "conversation.item.truncate")
        assert (truncate["item_id"], truncate["audio_end_ms"]) == (item, 60)
        await rec.wait_for(
            lambda: any(
                e["type"] == "response.done" and e["response"]["status"] == "cancelled"
                for e in server.sessions[0].sent
            ),
            what="cancelled response",
        )
        errors = [e for e in server.sessions[0].sent if e["type"] == "error"]
        assert errors == []
        turn = session.conversation.get(item)
        assert turn is not None and turn.status is TurnStatus.INTERRUPTED


async def test_muted_microphone_sends_nothing() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.toggle_mute()
        assert session.muted and audio[0].muted
        for block in blocks(speech(500)):
            audio[0].capture(block)
        session.toggle_mute()
        audio[0].capture(silence(20))
        await rec.wait_for(
            lambda: received(server, "input_audio_buffer.append"), what="unmuted append"
        )
        assert len(received(server, "input_audio_buffer.append")) == 1
        assert [c.muted for c in rec.of(MuteChanged)] == [True, False]


async def test_manual_mode_talk_key_starts_and_ends_a_turn() -> None:
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer() as server,
        running(server, audio=audio, session__turn_detection__mode="manual") as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        audio[0].capture(speech(100))  # not talking yet: not sent
        session.talk()
        for block in blocks(speech(600)):
            audio[0].capture(block)
        session.talk()
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        types = [e["type"] for e in server.sessions[0].received]
        assert types.count("input_audio_buffer.append") == 30
        assert types.index("input_audio_buffer.clear") < types.index("input_audio_buffer.commit")
        assert types[-1] == "response.create"
        assert audio[0].received_ms(reply.item_id) == pytest.approx(600, abs=1)
        # latency from the commit (there is no speech_stopped in manual mode) to first sound
        assert "input_audio_buffer.speech_stopped" not in server.sessions[0].sent_types()
        audio[0].advance(10_000)
        await rec.wait_for(lambda: session.stats.last_latency_ms is not None, what="latency")
        assert session.stats.latencies_ms == [session.stats.last_latency_ms]


async def test_drop_mid_reply_reconnects_and_restores_the_conversation() -> None:
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("remember the number 42")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="first reply")
        server.break_next_connections(Faults(), 0)
        server.faults.drop_after_deltas = 2
        session.send_text("and now a reply that will be cut")
        await rec.wait_for(
            lambda: [t for t in session.conversation.turns if t.status is TurnStatus.CUT_OFF],
            what="cut off turn",
        )
        server.faults.drop_after_deltas = None
        await rec.wait_for(lambda: len(server.sessions) == 2 and live(session)(), what="back")
        states = [c.state for c in rec.of(ConnectionChanged)]
        assert ConnectionState.RECONNECTING in states
        restored = server.sessions[1].received
        assert restored[0]["type"] == "session.update"
        replayed = [e["item"] for e in restored if e["type"] == "conversation.item.create"]
        texts = [part.get("text") for item in replayed for part in item["content"]]
        assert texts[0] == "remember the number 42"
        assert "and now a reply that will be cut" in texts
        assert len(session.conversation.turns) >= 4, "replayed items are not shown twice"
        session.send_text("still there?")
        await rec.wait_for(finished(rec, Role.ASSISTANT, 2), what="reply after reconnect")


@pytest.mark.parametrize("code", [1001, 1011, 1012, 1013])
async def test_close_codes_reconnect(code: int) -> None:
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        server.faults.close_code = code
        server.faults.close_after_deltas = 1
        session.send_text("hi")
        await rec.wait_for(lambda: len(server.sessions) >= 2, what="second connection")
        server.faults.close_code = None
        await rec.wait_for(live(session), what="live again")
        reasons = [c.reason for c in rec.of(ConnectionChanged) if c.state.value == "reconnecting"]
        assert any(str(code) in reason for reason in reasons)


class LongestDelay(random.Random):
    """Full jitter that always draws the ceiling, so the backoff's growth shows exactly."""

    def uniform(self, a: float, b: float) -> float:
        return b


def retries(recorder: ChangeRecorder) -> list[ConnectionChanged]:
    return [c for c in recorder.of(ConnectionChanged) if c.retry_in_s is not None]


async def test_server_that_closes_at_once_gets_longer_waits_not_a_storm() -> None:
    """A server that accepts the websocket and closes it at once (busy, 1013) has not come
    back: each try counts, each wait is longer; a reply proves the connection and the next
    drop starts over with a quick retry."""
    backoff = Backoff(first=0.05, cap=0.4, rng=LongestDelay())
    busy = Faults(close_code=1013, close_reason="busy")
    async with (
        LocalServer(faults=busy) as server,
        running(server, backoff=backoff) as (session, rec),
    ):
        await rec.wait_for(lambda: len(retries(rec)) >= 5, what="five retries")
        first = retries(rec)[:5]
        assert [c.attempt for c in first] == [1, 2, 3, 4, 5]
        assert [c.retry_in_s for c in first] == [0.05, 0.1, 0.2, 0.4, 0.4]
        assert all("1013" in c.reason for c in first)
        assert len(server.sessions) <= 6, "one connection per announced retry, no more"
        server.faults.close_code = None
        await rec.wait_for(live(session), what="the server is back")
        session.send_text("are you there?")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="a reply")
        seen = len(retries(rec))
        server.close_all(1011)
        await rec.wait_for(lambda: len(retries(rec)) > seen, what="the retry after the drop")
        after = retries(rec)[seen]
        assert (after.attempt, after.retry_in_s) == (1, 0.05)


async def test_a_connection_live_for_a_while_resets_the_backoff() -> None:
    """No reply needed: staying live STABLE_CONNECTION_S proves the connection too."""
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    backoff = Backoff(first=0.05, cap=0.4, rng=LongestDelay())
    busy = Faults(close_code=1013)
    async with (
        LocalServer(faults=busy) as server,
        running(server, backoff=backoff, clock=clock) as (session, rec),
    ):
        await rec.wait_for(lambda: len(retries(rec)) >= 3, what="three retries")
        server.faults.close_code = None
        await rec.wait_for(live(session), what="live")
        seen = len(retries(rec))
        assert retries(rec)[-1].attempt >= 3
        offset[0] = STABLE_CONNECTION_S + 1
        server.close_all(1011)
        await rec.wait_for(lambda: len(retries(rec)) > seen, what="the retry after the drop")
        after = retries(rec)[seen]
        assert (after.attempt, after.retry_in_s) == (1, 0.05)


async def test_auth_failure_stops_with_a_clear_message() -> None:
    async with (
        LocalServer(faults=Faults(refuse_status=401)) as server,
        running(server) as (
            session,
            rec,
        ),
    ):
        await rec.wait_for(lambda: session.state is ConnectionState.OFFLINE, what="offline")
        assert server.handshakes == [401]
        errors = [n.text for n in rec.of(Notice) if n.level == "error"]
        assert errors and "OPENAI_API_KEY" in errors[0]
        server.faults.refuse_status = None
        session.reconnect()
        await rec.wait_for(live(session), what="live after the fix")


@pytest.mark.parametrize(
    "url", ["ws://127.0.0.1:99999/v1/realtime", "ws://" + "a" * 64 + ".localhost/v1", "ws://[::1/x"]
)
async def test_an_unusable_url_stops_retrying_with_a_clear_message(url: str) -> None:
    """A URL that slipped past config validation (settings built in code) is a setting to
    fix: offline with one error notice, the session keeps running (it used to stop)."""
    settings = Settings()
    settings.connection.url = url  # no validation on purpose
    recorder = ChangeRecorder()
    session = Session(settings, api_key=TEST_KEY, listener=recorder, audio_enabled=False)
    task = asyncio.create_task(session.run())
    try:
        await recorder.wait_for(lambda: session.state is ConnectionState.OFFLINE, what="offline")
        errors = [n.text for n in recorder.of(Notice) if n.level == "error"]
        assert len(errors) == 1 and "invalid endpoint URL" in errors[0]
        assert "[connection] url" in errors[0]
        assert not task.done()
    finally:
        await session.stop()
        await asyncio.wait_for(task, 10)


async def test_every_bad_frame_is_skipped_and_the_turn_completes() -> None:
    faults = Faults(bad_frames=list(BAD_FRAME_KINDS))
    async with LocalServer(faults=faults) as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("survive this")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        assert reply.status is TurnStatus.DONE and "survive this" in reply.text
        assert sum(session.bad_frames.values()) == len(BAD_FRAME_KINDS)
        logged = [c for c in rec.of(EventLogged) if c.event["type"] == "rt-tui.bad_frame"]
        assert len(logged) == len(BAD_FRAME_KINDS), "the inspector gets every frame"
        first = [n for n in rec.of(Notice) if n.text.startswith("Skipped a bad server frame")]
        assert len(first) == len(session.bad_frames), "one notice per kind of bad frame"
        session.send_text("and again")
        await rec.wait_for(finished(rec, Role.ASSISTANT, 2), what="second reply")


async def test_a_burst_of_bad_frames_raises_one_notice_then_one_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """50 bad frames of one kind: each is counted and logged for the inspector, but the
    screen gets one notice at once and one with the running count at the interval's end."""
    monkeypatch.setattr(throttle, "BAD_NOTICE_INTERVAL_S", 0.5)
    frozen = time.monotonic()  # the session's clock stands still: the burst is one interval
    faults = Faults(bad_frames=["unknown_type"] * 50)
    async with (
        LocalServer(faults=faults) as server,
        running(server, clock=lambda: frozen) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("survive the burst")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        assert session.bad_frames == {"unknown_type": 50}
        logged = [c for c in rec.of(EventLogged) if c.event["type"] == "rt-tui.bad_frame"]
        assert len(logged) == 50

        def bad_notices() -> list[str]:
            return [n.text for n in rec.of(Notice) if "bad server frame" in n.text]

        await rec.wait_for(lambda: len(bad_notices()) == 2, what="the summary notice")
        first, summary = bad_notices()
        assert first.startswith("Skipped a bad server frame") and "(1 so far)" in first
        assert summary.startswith("Skipped 49 more bad server frames") and "(50 so far)" in summary
        assert "unknown server event type" in summary


async def test_audio_captured_while_disconnected_is_not_sent_later() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        server.faults.close_code = 1011
        await rec.wait_for(lambda: session.state is not ConnectionState.LIVE, what="disconnected")
        for block in blocks(speech(400)):
            audio[0].capture(block)
        server.faults.close_code = None
        await rec.wait_for(lambda: len(server.sessions) >= 2 and live(session)(), what="back")
        audio[0].capture(silence(20))
        await rec.wait_for(lambda: received(server, "input_audio_buffer.append"), what="append")
        assert len(received(server, "input_audio_buffer.append")) == 1


async def test_spend_cap_mutes_and_refuses_new_responses() -> None:
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer() as server,
        running(server, audio=audio, session__spend_cap_usd=0.000001) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("spend")
        await rec.wait_for(lambda: session.capped, what="cap reached")
        assert session.muted and rec.of(MuteChanged)[-1].reason == "spend cap reached"
        session.send_text("more")
        assert len(received(server, "response.create")) == 1
        raised = with_value(session.settings, "session.spend_cap_usd", 100.0)
        session.apply_settings(raised)
        assert not session.capped


async def test_handover_before_the_session_limit_keeps_the_conversation() -> None:
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    async with LocalServer() as server, running(server, clock=clock) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("first words")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        offset[0] = session.settings.connection.max_session_min * 60.0 - 60
        await rec.wait_for(lambda: len(server.sessions) == 2, what="fresh connection")
        await rec.wait_for(lambda: server.sessions[0].closed.is_set(), what="old closed")
        assert not [t for t in session.conversation.turns if t.status is TurnStatus.CUT_OFF]
        restored = server.sessions[1].received
        assert restored[0]["type"] == "session.update"
        assert any(e["type"] == "conversation.item.create" for e in restored)
        assert session.state is ConnectionState.LIVE
        assert ConnectionState.RECONNECTING not in [c.state for c in rec.of(ConnectionChanged)]


async def test_settings_apply_in_place_with_session_update() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("speak first")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        changed = with_value(session.settings, "session.voice", "cedar")
        changed = with_value(changed, "session.turn_detection.threshold", 0.7)
        changed = with_value(changed, "audio.input_device", "rt_mic")
        notes = session.apply_settings(changed)
        assert any("next connection" in note for note in notes)
        await rec.wait_for(lambda: len(received(server, "session.update")) == 2, what="update")
        update = received(server, "session.update")[-1]["session"]
        assert "voice" not in update["audio"].get("output", {}), "voice is locked after audio"
        assert update["audio"]["input"]["turn_detection"]["threshold"] == 0.7
        assert audio[0].kwargs["input_device"] == "rt_mic", "devices reopened in place"
        assert len(server.sessions) == 1, "no reconnect for session fields"


async def test_header_shows_the_voice_in_use_and_the_one_waiting() -> None:
    """After the first spoken reply the voice is fixed: the header keeps the voice that
    speaks and names the chosen one as pending; the next connection takes it."""
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        info = await rec.wait_for(
            lambda: rec.of(SessionInfo)[-1].applied and rec.of(SessionInfo)[-1],
            what="the server's session.updated in the header",
        )
        pcm = "audio/pcm 24 kHz"
        applied = Applied("marin", pcm, pcm, "audio", "server_vad", plays=True, asked=())
        assert info == SessionInfo(server.url, "gpt-realtime-2", "marin", applied=applied)
        session.send_text("speak first")
        await rec.wait_for(finished(rec, Role.ASSISTANT), what="reply")
        session.apply_settings(with_value(session.settings, "session.voice", "cedar"))
        info = rec.of(SessionInfo)[-1]
        assert (info.voice, info.pending_voice) == ("marin", "cedar")
        # another field changed later must not send the waiting voice (the server refuses it)
        session.apply_settings(
            with_value(session.settings, "session.turn_detection.threshold", 0.7)
        )
        await rec.wait_for(lambda: len(received(server, "session.update")) == 3, what="update")
        updates = [e["session"] for e in received(server, "session.update")]
        assert all("voice" not in u["audio"].get("output", {}) for u in updates[1:])
        errors = [e for e in server.sessions[0].sent if e["type"] == "error"]
        assert errors == []
        assert rec.of(SessionInfo)[-1].pending_voice == "cedar"
        server.close_all(1011)
        await rec.wait_for(lambda: len(server.sessions) == 2 and live(session)(), what="back")
        assert received(server, "session.update")[0]["session"]["audio"]["output"]["voice"] == (
            "cedar"
        )
        info = rec.of(SessionInfo)[-1]
        assert (info.voice, info.pending_voice) == ("cedar", "")


async def test_a_voice_change_before_any_audio_applies_at_once() -> None:
    async with LocalServer() as server, running(server) as (session, rec):
        await rec.wait_for(live(session), what="live")
        notes = session.apply_settings(with_value(session.settings, "session.voice", "coral"))
        assert not any("next connection" in note for note in notes)
        info = rec.of(SessionInfo)[-1]
        assert (info.voice, info.pending_voice) == ("coral", "")
        await rec.wait_for(lambda: len(received(server, "session.update")) == 2, what="update")
        assert received(server, "session.update")[-1]["session"]["audio"]["output"]["voice"] == (
            "coral"
        )


async def test_the_meter_is_sampled_on_the_capture_path_at_its_own_rate() -> None:
    """No UI timer samples the meter: the microphone blocks (which wake the loop anyway)
    carry it, at most about 20 a second, and a block the echo guard held back (None) still
    moves the meter though nothing is sent."""
    audio: list[ScriptedAudio] = []
    now = [1000.0]
    async with (
        LocalServer() as server,
        running(server, audio=audio, clock=lambda: now[0]) as (
            session,
            rec,
        ),
    ):
        await rec.wait_for(live(session), what="live")
        audio[0].input_level = Level(-30.0, -12.0)
        for number, block in enumerate(blocks(silence(1000)), 1):  # a second of 20 ms blocks
            now[0] = 1000.0 + number * 0.02
            audio[0].capture(block)
        samples = rec.of(LevelSampled)
        # every second or third block: on a 20 Hz grid (one reading may fall either side
        # of the second's edge)
        assert 19 <= len(samples) <= 21
        assert {sample.level for sample in samples} == {(-30.0, -12.0)}

        def appended() -> int:
            received = server.sessions[0].received
            return [e["type"] for e in received].count("input_audio_buffer.append")

        await rec.wait_for(lambda: appended() == 50, what="fifty blocks sent")
        now[0] += 0.1
        audio[0].capture(None)  # half duplex held this one back while the assistant spoke
        assert len(rec.of(LevelSampled)) == len(samples) + 1
        session.send_text("and a typed line behind it")  # everything sent arrives in order
        await rec.wait_for(
            lambda: any(
                e["type"] == "conversation.item.create" for e in server.sessions[0].received
            ),
            what="the typed line",
        )
        assert appended() == 50
