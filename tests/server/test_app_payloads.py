"""The session the app builds from its settings is accepted by the local server as is."""

from __future__ import annotations

import pytest

from tests.server import RawClient
from tui.config import Settings, with_value
from tui.localserver import LocalServer
from tui.realtime.payload import session_config

VARIANTS = [
    {},
    {"session.output_modalities": "text", "session.instructions": "Be brief."},
    {"session.noise_reduction": "far_field", "session.transcription_language": "de"},
    {"session.turn_detection.mode": "semantic_vad", "session.turn_detection.eagerness": "high"},
    {"session.turn_detection.mode": "manual"},
    {"session.turn_detection.idle_timeout_ms": 5000, "session.speed": 1.5},
    {"session.truncation_retention_ratio": 0.5, "session.voice": "cedar"},
]


@pytest.mark.parametrize("changes", VARIANTS, ids=lambda c: ",".join(c) or "defaults")
async def test_app_session_update_is_accepted(local_server: LocalServer, changes: dict) -> None:
    settings = Settings()
    for path, value in changes.items():
        settings = with_value(settings, path, value)
    sent = session_config(settings)
    async with await RawClient.connect(local_server.url) as client:
        await client.recv()
        await client.send({"type": "session.update", "session": sent})
        reply = await client.recv()
        assert reply["type"] == "session.updated", reply
        session = reply["session"]
    assert session["output_modalities"] == sent["output_modalities"]
    sent_detection = sent["audio"]["input"]["turn_detection"]
    detection = session["audio"]["input"]["turn_detection"]
    if sent_detection is None:
        assert detection is None
    else:  # what the app sent, plus the server's defaults for what it left out
        assert detection == {**detection, **sent_detection}
    assert session["audio"]["output"] == sent["audio"]["output"]
    assert session["audio"]["input"]["transcription"] == sent["audio"]["input"]["transcription"]
