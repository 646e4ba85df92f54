"""A server that applies a session.update otherwise than asked (issue 9): what it applied is
shown in the header, each difference said once, and reply audio in a format the client did
not ask for (G.711 here) is never played as PCM16: the reply is text. The local server's
`session_override` fault makes the mismatch: its session.updated and replies carry it."""

from __future__ import annotations

from pathlib import Path

from tests.oracle import check_client_event
from tests.session.helpers import ScriptedAudio
from tests.session.test_session import finished, live, running
from tests.ui.conftest import live_settings, wait_until
from tests.ui.terminal import drawn_texts
from tui.app import RtApp
from tui.changes import Notice, Role, SessionInfo, TurnStatus
from tui.localserver import LocalServer

PCMU = {"audio": {"output": {"voice": "alloy", "format": {"type": "audio/pcmu"}}}}


def differences(notices: list[Notice]) -> list[str]:
    return [n.text for n in notices if n.text.startswith("The server applied")]


async def test_a_session_applied_otherwise_is_shown_said_once_and_never_played() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        server.faults.session_override = PCMU
        await rec.wait_for(live(session), what="live")

        def applied() -> SessionInfo | None:
            infos = [info for info in rec.of(SessionInfo) if info.applied is not None]
            return infos[-1] if infos else None

        info = await rec.wait_for(applied, what="the server's word in the header")
        assert info.applied.voice == "alloy" and info.applied.asked_for("voice") == "marin"
        assert not info.applied.plays and info.applied.output == "audio/pcmu"
        voice, output = differences(rec.of(Notice))
        assert voice == "The server applied voice alloy, not marin as asked."
        assert "audio/pcmu" in output and "shown as text only" in output

        session.send_text("say something")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        assert reply.status is TurnStatus.DONE and "say something" in reply.text
        assert reply.audio_ms > 0, "the server did send audio"
        assert audio[0].received == {}, "none of it reached the PCM16 playback"

        session.send_text("and again")  # a second reply: nothing more is said
        await rec.wait_for(finished(rec, Role.ASSISTANT, 2), what="the second reply")
        assert len(differences(rec.of(Notice))) == 2
        for event in server.sessions[0].received:
            check_client_event(event)


async def test_an_honest_server_plays_and_says_nothing() -> None:
    audio: list[ScriptedAudio] = []
    async with LocalServer() as server, running(server, audio=audio) as (session, rec):
        await rec.wait_for(live(session), what="live")
        session.send_text("hello")
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        assert audio[0].received_ms(reply.item_id) > 0
        assert differences(rec.of(Notice)) == []
        assert rec.of(SessionInfo)[-1].applied.plays


async def test_the_header_shows_what_the_server_applied(tmp_path: Path) -> None:
    async with LocalServer() as server:
        server.faults.session_override = PCMU
        app = RtApp(
            live_settings(server.url),
            config_path=tmp_path / "config.toml",
            api_key="sk-test-ui-0123456789",
            audio_enabled=False,
        )
        async with app.run_test(size=(120, 32)) as pilot:
            header = lambda: drawn_texts(app)[0] + drawn_texts(app)[1]  # noqa: E731
            await wait_until(lambda: "alloy" in header(), pilot, what="the applied voice")
            assert "voice alloy (asked marin)" in header()
            assert "audio/pcmu not played: text only" in header()
            assert "server_vad" in header()
