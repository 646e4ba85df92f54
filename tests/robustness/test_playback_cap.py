"""A server streaming audio far faster than real time cannot eat the machine (issue 9):
the playback queue is capped at MAX_QUEUED_S of unplayed audio, the first drop of an
overflow is announced once, and audio under the cap (every real reply) plays whole."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.session.helpers import ScriptedAudio
from tests.session.test_session import finished, live, running
from tui.audio.playback import MAX_QUEUED_S, PlaybackBuffer, PlaybackFullError, decode_pcm16
from tui.changes import Notice, Role
from tui.constants import WIRE_RATE_HZ
from tui.localserver import LocalServer
from tui.localserver.faults import Faults


def chunk(seconds: float) -> np.ndarray:
    return np.ones(int(seconds * WIRE_RATE_HZ), dtype=np.int16)


def test_the_cap_is_minutes_of_audio() -> None:
    assert 5 * 60 <= MAX_QUEUED_S <= 30 * 60
    assert PlaybackBuffer().max_queued_samples == MAX_QUEUED_S * WIRE_RATE_HZ


def test_audio_beyond_the_cap_is_dropped_and_announced_once() -> None:
    buffer = PlaybackBuffer(max_queued_s=2.0)
    assert buffer.push("a", chunk(1.5))
    with pytest.raises(PlaybackFullError, match="dropped"):
        buffer.push("a", chunk(1.0))
    for _ in range(20):
        assert buffer.push("a", chunk(1.0)) is False, "dropped quietly while it overflows"
    assert buffer.queued_samples == chunk(1.5).size
    assert buffer.received_ms("a") == 1500, "dropped audio is not counted as received"
    assert buffer.dropped_samples == 21 * WIRE_RATE_HZ


def test_audio_under_the_cap_is_never_cut() -> None:
    buffer = PlaybackBuffer(max_queued_s=2.0)
    for _ in range(19):
        assert buffer.push("a", chunk(0.1))
    assert buffer.dropped_samples == 0 and buffer.received_ms("a") == 1900


@dataclass
class CappedAudio(ScriptedAudio):
    """ScriptedAudio whose queue is a real PlaybackBuffer with a small cap; nothing plays."""

    buffer: PlaybackBuffer = field(default_factory=lambda: PlaybackBuffer(max_queued_s=0.5))

    def play(self, item_id: str, pcm: bytes) -> None:
        self.buffer.push(item_id, decode_pcm16(pcm))
        super().play(item_id, pcm)


async def test_a_flood_of_audio_is_capped_with_one_notice_and_the_reply_goes_on() -> None:
    audio: list[ScriptedAudio] = []
    async with (
        LocalServer(faults=Faults(realtime_factor=math.inf)) as server,
        running(server, audio=audio, audio_class=CappedAudio) as (session, rec),
    ):
        await rec.wait_for(live(session), what="live")
        [capped] = audio
        assert isinstance(capped, CappedAudio)
        session.send_text("a long answer please, " * 8)
        [reply] = await rec.wait_for(finished(rec, Role.ASSISTANT), what="the reply")
        assert reply.status.value == "done", "the conversation goes on"
        assert capped.buffer.dropped_samples > 0
        drops = [n for n in rec.of(Notice) if "Audio dropped" in n.text]
        assert len(drops) == 1 and drops[0].level == "warning"
        assert capped.buffer.queued_samples <= capped.buffer.max_queued_samples
