"""Function calls of the local server over a real loopback websocket.

Every event the server sends is checked by the SDK oracle as it arrives (RawClient.recv), and
every event these tests send is checked by it before it goes out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.oracle import check_client_event, check_server_event
from tests.server import RawClient, audio_of, send_checked, tone, types, user_text
from tui.localserver import LocalServer
from tui.localserver.toolrules import QUOTE_CHARS
from tui.localserver.voice import synthesize

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city", "unit"],
    },
}
CLOCK = {"type": "function", "name": "clock", "description": "The time.", "parameters": {}}
CALL_EVENTS = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
]
CALL_END = [
    "response.function_call_arguments.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


async def configure(client: RawClient, **session: Any) -> dict[str, Any]:
    await send_checked(
        client, {"type": "session.update", "session": {"type": "realtime", **session}}
    )
    return (await client.until("session.updated"))[-1]["session"]


async def say(client: RawClient, text: str) -> list[dict[str, Any]]:
    """Type `text`, ask for a response; the events up to its response.done."""
    await send_checked(client, user_text(text))
    await send_checked(client, {"type": "response.create"})
    return await client.until("response.done")


def output(call_id: str, text: str) -> dict[str, Any]:
    item = {"type": "function_call_output", "call_id": call_id, "output": text}
    return {"type": "conversation.item.create", "item": item}


def transcript(events: list[dict[str, Any]]) -> str:
    done = events[-1]["response"]["output"]
    parts = [p for item in done if item["type"] == "message" for p in item["content"]]
    return "".join(p.get("transcript") or p.get("text") or "" for p in parts)


async def test_a_typed_call_streams_a_function_call_then_the_reply_quotes_its_output(
    server: LocalServer, client: RawClient
) -> None:
    await configure(client, tools=[WEATHER, CLOCK])
    events = await say(client, 'call get_weather {"city": "Paris", "unit": "c"}')
    names = types(events)
    assert names[2:6] == CALL_EVENTS
    assert names[-4:] == CALL_END
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert len(deltas) >= 2 and names[6 : 6 + len(deltas)] == [deltas[0]["type"]] * len(deltas)
    # a call and nothing else: no message, no audio
    assert not any(n.startswith(("response.output_audio", "response.content_part")) for n in names)
    added = events[4]["item"]
    assert added["type"] == "function_call" and added["status"] == "in_progress"
    assert added["name"] == "get_weather" and added["arguments"] == ""
    call_id = added["call_id"]
    arguments = "".join(d["delta"] for d in deltas)
    assert json.loads(arguments) == {"city": "Paris", "unit": "c"}
    for delta in deltas:
        assert (delta["call_id"], delta["item_id"], delta["output_index"]) == (
            call_id,
            added["id"],
            0,
        )
    done = events[-4]
    assert (done["name"], done["arguments"], done["call_id"]) == ("get_weather", arguments, call_id)
    response = events[-1]["response"]
    assert response["status"] == "completed"
    assert response["output"] == [{**added, "status": "completed", "arguments": arguments}]
    assert response["usage"]["output_token_details"]["audio_tokens"] == 0
    assert response["usage"]["output_tokens"] > 0

    await send_checked(client, output(call_id, '{"temp_c": 21}'))
    stored = await client.until("conversation.item.done")
    assert stored[-1]["item"]["call_id"] == call_id
    await send_checked(client, {"type": "response.create"})
    reply = await client.until("response.done")
    assert transcript(reply) == 'The tool said: {"temp_c": 21}'
    assert audio_of(reply) == synthesize('The tool said: {"temp_c": 21}')
    [record] = server.sessions[0].calls
    assert (record.call_id, record.name, record.arguments) == (call_id, "get_weather", arguments)
    assert record.output == '{"temp_c": 21}' and not record.cancelled


async def test_and_say_makes_the_reply_to_the_output_say_it(client: RawClient) -> None:
    await configure(client, tools=[CLOCK], output_modalities=["text"])
    events = await say(client, "call clock and say It is late")
    call = events[-1]["response"]["output"][0]
    assert call["name"] == "clock" and call["arguments"] == "{}"
    await send_checked(client, output(call["call_id"], "23:59"))
    await send_checked(client, {"type": "response.create"})
    assert transcript(await client.until("response.done")) == "It is late"


async def test_the_quote_of_a_long_output_is_capped(client: RawClient) -> None:
    await configure(client, tools=[CLOCK], output_modalities=["text"])
    call = (await say(client, "call clock"))[-1]["response"]["output"][0]
    await send_checked(client, output(call["call_id"], "x" * 5000))
    await send_checked(client, {"type": "response.create"})
    said = transcript(await client.until("response.done"))
    assert said == "The tool said: " + "x" * QUOTE_CHARS


@pytest.mark.parametrize(
    ("tools", "text", "expected"),
    [
        ([CLOCK], "call get_weather {}", "I cannot call get_weather: it is not a function tool"),
        ([], "call clock", "I cannot call clock: it is not a function tool"),
        ([CLOCK], "call clock {broken", "I could not read that tool command"),
        ([CLOCK], "call clock {} and dance", "I could not read that tool command"),
    ],
)
async def test_a_command_that_cannot_call_gets_a_reply_saying_why(
    server: LocalServer, client: RawClient, tools: list[dict[str, Any]], text: str, expected: str
) -> None:
    await configure(client, tools=tools, output_modalities=["text"])
    events = await say(client, text)
    assert "response.function_call_arguments.delta" not in types(events)
    assert [item["type"] for item in events[-1]["response"]["output"]] == ["message"]
    assert transcript(events).startswith(expected)
    assert server.sessions[0].calls == []


async def test_words_after_call_are_ordinary_text(client: RawClient) -> None:
    await configure(client, tools=[CLOCK], output_modalities=["text"])
    assert transcript(await say(client, "call me maybe")) == "You said: call me maybe"


async def test_tool_choice_none_refuses_to_call(client: RawClient) -> None:
    await configure(client, tools=[CLOCK], tool_choice="none", output_modalities=["text"])
    assert transcript(await say(client, "call clock")).startswith("I will not call a tool")


async def test_an_output_must_answer_an_open_call_of_this_session(
    server: LocalServer, client: RawClient
) -> None:
    await configure(client, tools=[CLOCK], output_modalities=["text"])
    await send_checked(client, output("call_nobody_made", "12:00"))
    error = (await client.until("error"))[-1]["error"]
    assert error["param"] == "item.call_id" and error["code"] == "invalid_value"
    assert "call_nobody_made" in error["message"] and "not found" in error["message"]
    call = (await say(client, "call clock"))[-1]["response"]["output"][0]
    await send_checked(client, output(call["call_id"], "12:00"))
    await client.until("conversation.item.done")
    await send_checked(client, output(call["call_id"], "12:01"))
    again = (await client.until("error"))[-1]["error"]
    assert again["param"] == "item.call_id" and "already has" in again["message"]
    # neither refused output reached the conversation
    created = [e for e in client.events if e["type"] == "conversation.item.added"]
    outputs = [e["item"] for e in created if e["item"]["type"] == "function_call_output"]
    assert [o["output"] for o in outputs] == ["12:00"]
    assert server.sessions[0].calls[0].output == "12:00"


async def test_an_output_for_a_function_call_the_client_created_is_taken(
    client: RawClient,
) -> None:
    # a resumed conversation replays its calls as items the client creates
    await configure(client, tools=[CLOCK], output_modalities=["text"])
    item = {"type": "function_call", "call_id": "call_old", "name": "clock", "arguments": "{}"}
    await send_checked(client, {"type": "conversation.item.create", "item": item})
    await client.until("conversation.item.done")
    await send_checked(client, output("call_old", "09:30"))
    await client.until("conversation.item.done")
    await send_checked(client, {"type": "response.create"})
    assert transcript(await client.until("response.done")) == "The tool said: 09:30"


async def test_a_response_before_the_output_says_it_is_waiting(client: RawClient) -> None:
    await configure(client, tools=[CLOCK], output_modalities=["text"])
    await say(client, "call clock")
    await send_checked(client, {"type": "response.create"})
    events = await client.until("response.done")
    assert transcript(events) == "I am still waiting for the result of clock."
    assert "response.function_call_arguments.delta" not in types(events)


async def test_cancel_while_the_arguments_stream_cancels_the_call() -> None:
    # slow pacing: the call is still streaming its arguments when the cancel arrives
    async with (
        LocalServer(realtime_factor=0.01) as server,
        await RawClient.connect(server.url) as client,
    ):
        await client.recv()
        await configure(client, tools=[WEATHER], output_modalities=["text"])
        await send_checked(client, user_text('call get_weather {"city": "Reykjavik", "unit": "c"}'))
        await send_checked(client, {"type": "response.create"})
        first = (await client.until("response.function_call_arguments.delta"))[-1]
        await send_checked(client, {"type": "response.cancel"})
        events = await client.until("response.done")
        assert "response.function_call_arguments.done" not in types(events)
        assert types(events)[-3:] == [
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
        response = events[-1]["response"]
        assert response["status"] == "cancelled"
        [cut] = response["output"]
        assert cut["status"] == "incomplete" and cut["arguments"] == first["delta"]
        [record] = server.sessions[0].calls
        assert record.cancelled and record.output is None
        # the cancelled call takes no output, and no later reply waits for it
        await send_checked(client, output(first["call_id"], "too late"))
        error = (await client.until("error"))[-1]["error"]
        assert error["param"] == "item.call_id" and "cancelled" in error["message"]
        server.realtime_factor = 50
        await send_checked(client, {"type": "response.create"})
        assert "waiting" not in transcript(await client.until("response.done"))


async def test_tool_choice_required_makes_a_spoken_turn_call_with_placeholders(
    server: LocalServer, client: RawClient
) -> None:
    await configure(
        client,
        tools=[WEATHER, CLOCK],
        tool_choice="required",
        audio={"input": {"turn_detection": None}},
    )
    await client.append(tone(600))
    await send_checked(client, {"type": "input_audio_buffer.commit"})
    await client.until("conversation.item.done")
    await send_checked(client, {"type": "response.create"})
    events = await client.until("response.done")
    [call] = events[-1]["response"]["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "test", "unit": "c"}


async def test_tool_choice_naming_a_function_calls_it(client: RawClient) -> None:
    choice = {"type": "function", "name": "clock"}
    await configure(client, tools=[WEATHER, CLOCK], tool_choice=choice)
    [call] = (await say(client, "what time is it?"))[-1]["response"]["output"]
    assert call["name"] == "clock" and call["arguments"] == "{}"


async def test_response_tools_are_offered_for_that_response_only(client: RawClient) -> None:
    await configure(client, output_modalities=["text"])
    await send_checked(client, user_text("call clock"))
    await send_checked(client, {"type": "response.create", "response": {"tools": [CLOCK]}})
    [call] = (await client.until("response.done"))[-1]["response"]["output"]
    assert call["type"] == "function_call" and call["name"] == "clock"
    assert transcript(await say(client, "call clock")).startswith("I cannot call clock")


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"tools": [CLOCK, CLOCK]}, "session.tools[1].name"),
        ({"tools": [{**CLOCK, "name": "no spaces"}]}, "session.tools[0].name"),
        (
            {"tools": [CLOCK], "tool_choice": {"type": "function", "name": "x"}},
            "session.tool_choice",
        ),
        ({"tools": [{"type": "retrieval", "name": "x"}]}, "session.tools[0].type"),
    ],
)
async def test_session_update_refuses_bad_tool_config(
    client: RawClient, session: dict[str, Any], param: str
) -> None:
    await client.send({"type": "session.update", "session": {"type": "realtime", **session}})
    error = (await client.until("error"))[-1]["error"]
    assert error["param"] == param and error["code"] == "invalid_value"


async def test_every_event_of_a_call_flow_validates_both_ways(
    server: LocalServer, client: RawClient
) -> None:
    await configure(client, tools=[WEATHER])
    call = (await say(client, 'call get_weather {"city": "Oslo", "unit": "f"} and say ok'))[-1]
    call_id = call["response"]["output"][0]["call_id"]
    await send_checked(client, output(call_id, "cold"))
    await send_checked(client, {"type": "response.create"})
    await client.until("response.done")
    await client.close()
    record = server.sessions[0]
    await record.closed.wait()
    for event in record.sent:
        check_server_event(event)
    for event in record.received:
        check_client_event(event)
    assert "response.function_call_arguments.done" in record.sent_types()
