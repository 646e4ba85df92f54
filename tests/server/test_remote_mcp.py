"""The local server's remote MCP emulation (tui.localserver.remotemcp) over a real loopback
websocket: listing, an approval request, the client's answer, the call.

Every event the server sends is checked by the SDK oracle as it arrives (RawClient.recv), and
every event these tests send is checked by it before it goes out. The client's items are
made by the client's own builders (tui.tools.items, tui.session.reconnect).
"""

from __future__ import annotations

from typing import Any

from tests.server import RawClient, send_checked, types, user_text
from tui.changes import Role, ToolCall, ToolState, Turn
from tui.config.tools import RemoteMcpSettings
from tui.localserver import LocalServer
from tui.session.reconnect import remote_call_event
from tui.tools.items import mcp_approval_response, remote_tool


def wiki(**values: Any) -> dict[str, Any]:
    """The session.tools entry the client makes for a remote server (tui.tools.items)."""
    settings = {"name": "wiki", "url": "https://mcp.example.com/mcp", **values}
    return remote_tool(RemoteMcpSettings(**settings))


async def configure(client: RawClient, *tools: dict[str, Any]) -> list[dict[str, Any]]:
    """session.update with these tools; the events up to session.updated."""
    update = {"type": "session.update", "session": {"type": "realtime", "tools": list(tools)}}
    await send_checked(client, update)
    return await client.until("session.updated")


async def listing(client: RawClient) -> list[dict[str, Any]]:
    """The events of one tool listing, up to its conversation.item.done."""
    events = await client.until("conversation.item.done")
    assert events[0]["type"] == "conversation.item.added"
    return events


async def say(client: RawClient, text: str) -> list[dict[str, Any]]:
    await send_checked(client, user_text(text))
    await send_checked(client, {"type": "response.create"})
    return await client.until("response.done")


def transcript(events: list[dict[str, Any]]) -> str:
    done = events[-1]["response"]["output"]
    parts = [p for item in done if item["type"] == "message" for p in item["content"]]
    return "".join(p.get("transcript") or p.get("text") or "" for p in parts)


async def test_a_remote_server_lists_its_allowed_tools_in_an_item(client: RawClient) -> None:
    await configure(client, wiki(allowed_tools=["echo", "add"]))
    events = await listing(client)
    assert types(events) == [
        "conversation.item.added",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "conversation.item.done",
    ]
    added, done = events[0]["item"], events[-1]["item"]
    assert added["type"] == "mcp_list_tools" and added["server_label"] == "wiki"
    assert added["tools"] == []  # none yet while listing
    assert events[1]["item_id"] == events[2]["item_id"] == added["id"] == done["id"]
    assert [tool["name"] for tool in done["tools"]] == ["echo", "add"]
    assert done["tools"][0]["input_schema"]["required"] == ["text"]


async def test_a_server_that_cannot_be_reached_fails_its_listing(client: RawClient) -> None:
    await configure(client, wiki(url="https://mcp.nowhere.invalid/mcp"))
    events = await listing(client)
    assert types(events)[1:3] == ["mcp_list_tools.in_progress", "mcp_list_tools.failed"]
    assert events[-1]["item"]["tools"] == []
    reply = await say(client, 'mcp wiki echo {"text": "hi"}')
    assert "could not be reached" in transcript(reply)


async def test_an_approval_is_asked_answered_yes_and_then_the_call_runs(
    server: LocalServer, client: RawClient
) -> None:
    await configure(client, wiki())
    await listing(client)
    asked = await say(client, 'mcp wiki echo {"text": "hi"}')
    assert types(asked)[-5:] == [
        "response.output_item.added",
        "conversation.item.added",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    request = asked[-2]["item"]
    assert request["type"] == "mcp_approval_request"
    assert (request["server_label"], request["name"]) == ("wiki", "echo")
    assert request["arguments"] == '{"text": "hi"}'
    assert asked[-1]["response"]["output"] == [request]  # nothing else: it waits
    assert not any(t.startswith("response.mcp_call") for t in types(asked))

    answer = mcp_approval_response(request["id"], True)
    await send_checked(client, {"type": "conversation.item.create", "item": answer})
    stored = await client.until("conversation.item.done")
    assert stored[-1]["item"] == answer
    await send_checked(client, {"type": "response.create"})
    run = await client.until("response.done")
    names = types(run)
    deltas = names.count("response.mcp_call_arguments.delta")
    assert deltas >= 2
    first = names.index("response.mcp_call_arguments.delta")
    assert names[first + deltas : first + deltas + 4] == [
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_item.done",
    ]
    call = next(e["item"] for e in run if e["type"] == "response.output_item.done")
    assert call["type"] == "mcp_call" and call["approval_request_id"] == request["id"]
    assert call["output"] == "hi" and call.get("error") is None
    assert transcript(run) == "The MCP tool said: hi"
    [approval] = server.sessions[0].approvals
    assert approval.approve is True and approval.response_item_id == answer["id"]
    [ran] = server.sessions[0].mcp_calls
    assert (ran.name, ran.output, ran.approval_request_id) == ("echo", "hi", request["id"])


async def test_an_approval_answered_no_runs_nothing_and_says_why(
    server: LocalServer, client: RawClient
) -> None:
    await configure(client, wiki())
    await listing(client)
    asked = await say(client, 'mcp wiki add {"a": 1, "b": 2}')
    request = asked[-2]["item"]
    answer = mcp_approval_response(request["id"], False, "not now")
    await send_checked(client, {"type": "conversation.item.create", "item": answer})
    await client.until("conversation.item.done")
    await send_checked(client, {"type": "response.create"})
    reply = await client.until("response.done")
    assert not any(t.startswith("response.mcp_call") for t in types(reply))
    assert transcript(reply) == "The call of add on wiki was declined: not now"
    assert server.sessions[0].mcp_calls == []
    assert server.sessions[0].approvals[0].approve is False


async def test_an_answer_to_no_request_or_a_second_answer_is_an_error(client: RawClient) -> None:
    await configure(client, wiki())
    await listing(client)
    stray = mcp_approval_response("mcpr_nothing", True)
    await send_checked(client, {"type": "conversation.item.create", "item": stray})
    [error] = (await client.until("error"))[-1:]
    assert error["error"]["param"] == "item.approval_request_id"
    request = (await say(client, 'mcp wiki echo {"text": "x"}'))[-2]["item"]
    await send_checked(
        client,
        {"type": "conversation.item.create", "item": mcp_approval_response(request["id"], True)},
    )
    await client.until("conversation.item.done")
    again = mcp_approval_response(request["id"], False)
    await send_checked(client, {"type": "conversation.item.create", "item": again})
    error = (await client.until("error"))[-1]
    assert "answered already" in error["error"]["message"]


async def test_without_approval_a_failing_tool_reports_its_error(client: RawClient) -> None:
    await configure(client, wiki(require_approval="never"))
    await listing(client)
    run = await say(client, "mcp wiki fail {}")
    assert "mcp_approval_request" not in [
        e["item"]["type"] for e in run if e["type"] == "response.output_item.added"
    ]
    assert "response.mcp_call.failed" in types(run)
    assert "response.mcp_call.completed" not in types(run)
    call = next(e["item"] for e in run if e["type"] == "response.output_item.done")
    assert call["error"]["type"] == "tool_execution_error"
    assert transcript(run).startswith("The MCP tool failed:")


async def test_a_replayed_mcp_call_is_taken_as_the_client_sends_it(client: RawClient) -> None:
    """How the client replays a remote call into a new connection (tui.session.reconnect):
    an `mcp_call` item with its output or its error, stored and echoed as sent."""
    tool = ToolCall(
        "mcp_old1",
        "wiki__echo",
        arguments='{"text": "hi"}',
        state=ToolState.DONE,
        output="hi",
        remote=True,
        server_label="wiki",
    )
    replayed = remote_call_event(Turn("mcp_old1", Role.TOOL, tool=tool))
    await send_checked(client, replayed)
    echo = await client.until("conversation.item.done")
    assert types(echo) == ["conversation.item.added", "conversation.item.done"]
    assert echo[-1]["item"] == replayed["item"]
    tool.call_id, tool.state, tool.summary = "mcp_old2", ToolState.FAILED, "it broke"
    failed = remote_call_event(Turn("mcp_old2", Role.TOOL, tool=tool))
    await send_checked(client, failed)
    assert (await client.until("conversation.item.done"))[-1]["item"]["error"] == {
        "type": "tool_execution_error",
        "message": "it broke",
    }


async def test_an_mcp_call_item_with_a_bad_error_is_refused(client: RawClient) -> None:
    item = {
        "type": "mcp_call",
        "id": "mcp_bad",
        "server_label": "wiki",
        "name": "echo",
        "arguments": "{}",
        "error": {"type": "tool_execution_error"},
    }
    await client.send({"type": "conversation.item.create", "item": item})
    error = (await client.until("error"))[-1]
    assert error["error"]["param"] == "item.error.message"
    await client.send({"type": "conversation.item.create", "item": {**item, "error": None}})
    assert (await client.until("conversation.item.done"))[-1]["item"]["id"] == "mcp_bad"
