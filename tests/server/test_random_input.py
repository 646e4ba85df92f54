"""Property: whatever a client sends, the server stays up, emits only valid events, and
answers the next good event. Random frames come from hypothesis."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server import RawClient, tone, types
from tui.localserver import LocalServer

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def maybe(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a well-formed value, sometimes (1 in 8) any JSON at all."""
    return st.one_of(*[valid] * 7, JSON)


def fields(required: dict, optional: dict) -> st.SearchStrategy:
    return st.fixed_dictionaries(required, optional=optional)


TEXT = st.text(max_size=30)
IDS = st.sampled_from(["item_a", "item_b", "root", "resp_x"])  # so references sometimes hit
AUDIO = st.one_of(
    st.binary(max_size=4800).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=12),
)
PCM = maybe(
    fields({"type": maybe(st.just("audio/pcm"))}, {"rate": maybe(st.sampled_from([24000, 16000]))})
)
TURN_DETECTION = maybe(
    st.one_of(
        st.none(),
        fields(
            {"type": maybe(st.sampled_from(["server_vad", "semantic_vad"]))},
            {
                "threshold": maybe(st.floats(0, 1)),
                "prefix_padding_ms": maybe(st.integers(0, 1000)),
                "silence_duration_ms": maybe(st.integers(0, 2000)),
                "idle_timeout_ms": maybe(st.one_of(st.none(), st.integers(0, 3000))),
                "create_response": maybe(st.booleans()),
                "interrupt_response": maybe(st.booleans()),
                "eagerness": maybe(st.sampled_from(["low", "medium", "high", "auto"])),
            },
        ),
    )
)
VOICE = maybe(st.one_of(st.sampled_from(["marin", "cedar"]), fields({"id": maybe(TEXT)}, {})))
AUDIO_CONFIG = fields(
    {},
    {
        "input": maybe(
            fields(
                {},
                {
                    "format": PCM,
                    "turn_detection": TURN_DETECTION,
                    "transcription": maybe(
                        st.one_of(st.none(), fields({}, {"model": TEXT, "language": TEXT}))
                    ),
                    "noise_reduction": maybe(
                        st.one_of(
                            st.none(), fields({"type": st.sampled_from(["near_field", "x"])}, {})
                        )
                    ),
                },
            )
        ),
        "output": maybe(
            fields({}, {"format": PCM, "voice": VOICE, "speed": maybe(st.floats(0.25, 1.5))})
        ),
    },
)
TOOLS = maybe(
    st.lists(
        fields(
            {"type": maybe(st.just("function")), "name": maybe(TEXT)},
            {"parameters": maybe(st.just({"type": "object"}))},
        ),
        max_size=2,
    )
)
SESSION = fields(
    {"type": maybe(st.just("realtime"))},
    {
        "instructions": maybe(TEXT),
        "output_modalities": maybe(st.sampled_from([["audio"], ["text"]])),
        "audio": maybe(AUDIO_CONFIG),
        "tools": TOOLS,
        "tool_choice": maybe(st.sampled_from(["auto", "none", "required"])),
        "max_output_tokens": maybe(st.one_of(st.integers(1, 300), st.just("inf"))),
        "truncation": maybe(
            st.one_of(
                st.just("auto"),
                fields(
                    {"type": st.just("retention_ratio"), "retention_ratio": st.floats(0, 1)}, {}
                ),
            )
        ),
        "tracing": maybe(st.one_of(st.none(), st.just("auto"))),
        "include": maybe(st.just(["item.input_audio_transcription.logprobs"])),
    },
)
PART = fields(
    {
        "type": st.sampled_from(
            ["input_text", "input_audio", "output_text", "output_audio", "input_image"]
        )
    },
    {
        "text": maybe(TEXT),
        "audio": maybe(AUDIO),
        "transcript": maybe(st.one_of(st.none(), TEXT)),
        "image_url": maybe(TEXT),
        "detail": maybe(st.sampled_from(["auto", "low", "huge"])),
    },
)
ITEM = fields(
    {
        "type": maybe(st.sampled_from(["message", "function_call", "function_call_output"])),
        "role": maybe(st.sampled_from(["user", "assistant", "system"])),
        "content": maybe(st.lists(PART, max_size=3)),
    },
    {
        "id": maybe(IDS),
        "name": maybe(TEXT),
        "arguments": maybe(TEXT),
        "call_id": maybe(TEXT),
        "output": maybe(TEXT),
    },
)
RESPONSE = fields(
    {},
    {
        "output_modalities": maybe(st.sampled_from([["text"], ["audio"]])),
        "instructions": maybe(TEXT),
        "metadata": maybe(st.dictionaries(TEXT, TEXT, max_size=2)),
        "conversation": maybe(st.sampled_from(["auto", "none"])),
        "max_output_tokens": maybe(st.one_of(st.integers(1, 300), st.just("inf"))),
        "audio": maybe(fields({}, {"output": maybe(fields({}, {"voice": VOICE, "format": PCM}))})),
        "input": maybe(
            st.lists(
                st.one_of(ITEM, fields({"type": st.just("item_reference"), "id": IDS}, {})),
                max_size=2,
            )
        ),
        "tools": TOOLS,
    },
)


def event(kind: str, required: dict, optional: dict | None = None) -> st.SearchStrategy:
    return fields({"type": st.just(kind), **required}, optional or {})


EVENTS = st.one_of(
    event("session.update", {"session": maybe(SESSION)}),
    event("input_audio_buffer.append", {"audio": maybe(AUDIO)}),
    event("input_audio_buffer.commit", {}),
    event("input_audio_buffer.clear", {}),
    event("conversation.item.create", {"item": maybe(ITEM)}, {"previous_item_id": maybe(IDS)}),
    event("conversation.item.retrieve", {"item_id": maybe(IDS)}),
    event("conversation.item.delete", {"item_id": maybe(IDS)}),
    event(
        "conversation.item.truncate",
        {
            "item_id": maybe(IDS),
            "content_index": maybe(st.integers(0, 1)),
            "audio_end_ms": maybe(st.integers(-5, 3000)),
        },
    ),
    event("response.create", {}, {"response": maybe(RESPONSE)}),
    event("response.cancel", {}, {"response_id": maybe(IDS)}),
    event("output_audio_buffer.clear", {}),
    fields({"type": TEXT}, {"event_id": JSON}),
)
FRAMES = st.one_of(
    EVENTS.map(json.dumps),
    EVENTS.map(json.dumps),
    EVENTS.map(json.dumps),
    JSON.map(json.dumps),
    st.text(max_size=40),
    st.binary(max_size=40),
)


async def wait_for_marker(client: RawClient, marker: str) -> None:
    item = {
        "type": "message",
        "id": marker,
        "role": "user",
        "content": [{"type": "input_text", "text": "marker"}],
    }
    await client.send({"type": "conversation.item.create", "item": item})
    while True:
        event: dict[str, Any] = await client.recv()
        if event["type"] == "conversation.item.done" and event["item"]["id"] == marker:
            return


async def exchange(server: LocalServer, frames: list[str | bytes]) -> None:
    """Send the frames, let any response they started run to its end, then check that good
    events still work. Every event on the way is validated by RawClient.recv()."""
    async with await RawClient.connect(server.url) as client:
        await client.recv()
        for frame in frames:
            await client.ws.send(frame)
        await wait_for_marker(client, "item_marker_1")
        while types(client.events).count("response.created") > types(client.events).count(
            "response.done"
        ):
            await client.recv()
        await client.append(tone(150))
        await wait_for_marker(client, "item_marker_2")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAMES, min_size=1, max_size=10))
def test_random_client_frames_never_break_the_server(frames: list[str | bytes]) -> None:
    async def scenario() -> None:
        async with LocalServer(realtime_factor=0) as server:  # no pauses between deltas
            await exchange(server, frames)
            record = server.sessions[0]
            await asyncio.wait_for(record.closed.wait(), 5)
            internal = [
                e
                for e in record.sent
                if e["type"] == "error" and e["error"]["type"] != "invalid_request_error"
            ]
            assert internal == [], internal

    asyncio.run(scenario())
