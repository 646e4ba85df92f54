"""Turn options honoured end to end against the local server (issue 9):
`interrupt_response = false` lets the reply play on when the user speaks, and in manual
mode two quick presses of the talk key never commit under 100 ms nor ask for a reply."""

from __future__ import annotations

from tests.session.helpers import ScriptedAudio
from tests.session.test_session import blocks, finished, live, received, running, silence, speech
from tui.changes import Notice, Role, SpeechChanged, TurnStatus
from tui.localserver import LocalServer


async def test_without_interrupt_response_speech_does_not_cut_the_reply() -> None:
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer(realtime_factor=1.0) as server,
        running(server, audio=audio, session__turn_detection__interrupt_response=False) as (
            session,
            rec,
        ),
    ):
        await rec.wait_for(live(session), what="live")
        session.send_text("tell me something long please, a long long answer")
        await rec.wait_for(lambda: session._rooms.turns.active_response, what="reply runs")
        await rec.wait_for(lambda: audio[0].received, what="its audio")
        audio[0].advance(100)
        before = audio[0].interrupts  # typing the message barged in (on silence)
        for block in blocks(speech(600) + silence(700)):
            audio[0].capture(block)
        await rec.wait_for(
            lambda: any(c.user_speaking for c in rec.of(SpeechChanged)), what="user speaking"
        )
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply, whole")
        assert reply.status is TurnStatus.DONE
        assert audio[0].interrupts == before, "playback was not cleared"
        assert received(server, "conversation.item.truncate") == []
        assert received(server, "response.cancel") == []


async def test_two_quick_presses_of_the_talk_key_say_too_short_and_send_nothing() -> None:
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer() as server,
        running(server, audio=audio, session__turn_detection__mode="manual") as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        session.talk()
        for block in blocks(speech(40)):  # 40 ms: the server refuses to commit that
            audio[0].capture(block)
        session.talk()
        await rec.wait_for(lambda: rec.of(Notice), what="a notice")
        [notice] = rec.of(Notice)
        assert "Too short" in notice.text
        await rec.wait_for(
            lambda: received(server, "input_audio_buffer.clear")[1:], what="the audio dropped"
        )
        assert received(server, "input_audio_buffer.commit") == []
        assert received(server, "response.create") == []
        assert not [e for e in server.sessions[0].sent if e["type"] == "error"]
        # a real turn still works
        session.talk()
        for block in blocks(speech(600)):
            audio[0].capture(block)
        session.talk()
        await rec.wait_for(lambda: received(server, "response.create"), what="a reply asked")
        assert len(received(server, "input_audio_buffer.commit")) == 1
