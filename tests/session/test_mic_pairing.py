"""The microphone path tells the engine when quiet blocks may go two at a time
(`tui.audio.capture`, `pair_quiet`): while the server hears nobody in a VAD turn, and never
while it times the end of a user's turn (speech_started to speech_stopped) nor in
push-to-talk, where a commit ends the turn and a block must not trail it."""

from __future__ import annotations

from tests.session.helpers import Desk, server_event
from tui.changes import Change
from tui.config import with_value
from tui.session.mic import MicPath

BLOCK = bytes(960)


def mic_of(desk: Desk) -> tuple[MicPath, list[Change]]:
    changes: list[Change] = []
    mic = MicPath(
        link=desk.rooms.link,
        turns=desk.rooms.turns,
        settings=lambda: desk.settings,
        clock=lambda: desk.now,
        listener=changes.append,
    )
    return mic, changes


def test_pairing_follows_the_servers_hearing_of_the_user() -> None:
    desk = Desk(session__turn_detection__mode="server_vad")
    mic, _ = mic_of(desk)
    mic.block(BLOCK, None, muted=False, inspect=False)
    assert desk.speaker.capture_processor.pair_quiet, "nobody speaks: quiet blocks may pair"
    desk.receive(server_event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1"))
    mic.block(BLOCK, None, muted=False, inspect=False)
    assert not desk.speaker.capture_processor.pair_quiet, "the server is timing the user's turn"
    desk.receive(server_event("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u1"))
    mic.block(BLOCK, None, muted=False, inspect=False)
    assert desk.speaker.capture_processor.pair_quiet


def test_push_to_talk_never_pairs() -> None:
    desk = Desk(session__turn_detection__mode="semantic_vad")
    mic, _ = mic_of(desk)
    mic.block(BLOCK, None, muted=False, inspect=False)
    assert desk.speaker.capture_processor.pair_quiet
    desk.settings = with_value(desk.settings, "session.turn_detection.mode", "manual")
    mic.block(BLOCK, None, muted=False, inspect=False)
    assert not desk.speaker.capture_processor.pair_quiet
