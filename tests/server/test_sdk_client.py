"""The official openai SDK's own realtime client completes a text turn against the server."""

from __future__ import annotations

from openai import AsyncOpenAI

from tests.oracle import check_server_event
from tui.localserver import LocalServer


async def test_sdk_client_text_turn(local_server: LocalServer) -> None:
    client = AsyncOpenAI(
        api_key="test", websocket_base_url=f"ws://127.0.0.1:{local_server.port}/v1"
    )
    seen: list[str] = []
    text = ""
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hello from the SDK"}],
            }
        )
        await conn.response.create()
        async for event in conn:
            seen.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.done":
                final = event.response
                break
    assert seen[0] == "session.created"
    assert "session.updated" in seen
    assert text == "You said: hello from the SDK"
    assert final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens > 0
    record = local_server.sessions[0]
    assert record.model == "gpt-realtime"
    assert record.headers.get("User-Agent", "").startswith("AsyncOpenAI")
    for event in record.sent:
        check_server_event(event)
