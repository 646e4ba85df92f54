"""The app's parser (tui.realtime.events.parse) takes every valid event the server emits, and
turns the server's deliberately bad frames into BadEvent values."""

from __future__ import annotations

import json

from tests.server import RawClient, silence, speech, user_text
from tui.localserver import BAD_FRAME_KINDS, LocalServer
from tui.realtime.events import BadEvent, ServerEvent, parse

# kinds a stateless parser can recognise (an unknown item or a huge but valid frame may pass)
PARSER_DETECTABLE = {
    "not_json",
    "json_array",
    "unknown_type",
    "missing_fields",
    "bad_base64",
    "odd_length_audio",
    "binary",
}


async def test_parser_accepts_every_valid_event_and_rejects_bad_frames() -> None:
    async with LocalServer(realtime_factor=50) as server:
        server.faults.bad_frames = list(BAD_FRAME_KINDS)
        async with await RawClient.connect(server.url) as client:
            client.injected = lambda frame: any(frame == f for _, f in server.sessions[0].raw_sent)
            await client.recv()
            await client.send(user_text("hello"))
            await client.send({"type": "response.create"})
            await client.until("response.done")
            await client.append(silence(300) + speech() + silence(800))
            await client.until("response.done")
        record = server.sessions[0]
        await record.closed.wait()
    for event in record.sent:
        parsed = parse(json.dumps(event))
        assert isinstance(parsed, ServerEvent), (event["type"], parsed)
        if event["type"] == "response.output_audio.delta":
            assert parsed.audio is not None and len(parsed.audio) > 0
    raw = dict(record.raw_sent)  # kind -> frame, from the last response
    for kind in PARSER_DETECTABLE:
        assert isinstance(parse(raw[kind]), BadEvent), kind
