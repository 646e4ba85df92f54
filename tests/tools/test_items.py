"""Every wire shape tools add to a session, checked against the official `openai` SDK models."""

from __future__ import annotations

from openai.types.realtime import (
    RealtimeConversationItemFunctionCallOutput,
    RealtimeFunctionTool,
    RealtimeMcpApprovalResponse,
)
from openai.types.realtime.realtime_tools_config_union import Mcp

from tests.oracle import check_client_event, unknown_fields
from tui.config.tools import BuiltinSettings, RemoteMcpSettings
from tui.tools.builtins import builtin_tools
from tui.tools.items import (
    MAX_ITEM_ID,
    function_call_output,
    function_tool,
    mcp_approval_response,
    parameters_schema,
    remote_tool,
)


def strict(model, data):
    parsed = model.model_validate(data)
    assert unknown_fields(parsed) == [], unknown_fields(parsed)
    return parsed


def session_update(tools: list[dict]) -> dict:
    return {"type": "session.update", "session": {"type": "realtime", "tools": tools}}


def test_a_function_tool_entry_matches_the_sdk() -> None:
    tool = function_tool("notes__add", "Add a note.", {"type": "object", "properties": {}})
    parsed = strict(RealtimeFunctionTool, tool)
    assert (parsed.type, parsed.name, parsed.description) == (
        "function",
        "notes__add",
        "Add a note.",
    )
    check_client_event(session_update([tool]))


def test_the_builtin_tools_are_valid_session_tools() -> None:
    entries = [spec.entry() for spec in builtin_tools(BuiltinSettings(clock=True, shell=True))]
    assert [entry["name"] for entry in entries] == ["get_current_time", "run_shell_command"]
    check_client_event(session_update(entries))


def test_a_long_description_is_cut_and_an_empty_one_gets_the_name() -> None:
    assert len(function_tool("t", "x" * 5000, {})["description"]) == 1024
    assert function_tool("t", "  ", {})["description"] == "t"


def test_an_mcp_input_schema_becomes_object_parameters() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
    assert parameters_schema(schema) == {"type": "object", "properties": {}}
    assert schema["$schema"]  # the server's schema is not changed
    assert parameters_schema({"type": "string"}) == {"type": "object", "properties": {}}
    assert parameters_schema(None) == {"type": "object", "properties": {}}


def test_a_function_call_output_item_matches_the_sdk() -> None:
    item = function_call_output("call_1", "done")
    strict(RealtimeConversationItemFunctionCallOutput, item)
    check_client_event({"type": "conversation.item.create", "item": item})


def test_an_mcp_approval_response_has_its_own_id_and_matches_the_sdk() -> None:
    item = mcp_approval_response("mcpr_req_1", False, "declined by the user")
    parsed = strict(RealtimeMcpApprovalResponse, item)
    assert parsed.approval_request_id == "mcpr_req_1"
    assert parsed.approve is False and parsed.reason == "declined by the user"
    assert item["id"].startswith("mcpr_") and len(item["id"]) <= MAX_ITEM_ID
    assert mcp_approval_response("r", True)["id"] != item["id"]
    assert "reason" not in mcp_approval_response("r", True)
    check_client_event({"type": "conversation.item.create", "item": item})


def test_remote_servers_become_mcp_session_tools() -> None:
    plain = remote_tool(RemoteMcpSettings(name="dw", url="https://mcp.deepwiki.com/mcp"))
    assert plain == {
        "type": "mcp",
        "server_label": "dw",
        "server_url": "https://mcp.deepwiki.com/mcp",
        "require_approval": "always",
    }
    full = remote_tool(
        RemoteMcpSettings(
            name="gh",
            url="https://example.com/mcp",
            headers={"Authorization": "Bearer t0ken"},
            allowed_tools=["search", "read"],
            never_ask=["read"],
            description="Code search",
        )
    )
    assert full["headers"] == {"Authorization": "Bearer t0ken"}
    assert full["allowed_tools"] == ["search", "read"]
    assert full["require_approval"] == {"never": {"tool_names": ["read"]}}
    assert full["server_description"] == "Code search"
    never = remote_tool(
        RemoteMcpSettings(name="n", url="https://e.com/m", require_approval="never")
    )
    assert never["require_approval"] == "never"
    for tool in (plain, full, never):
        strict(Mcp, tool)
    check_client_event(session_update([plain, full, never]))
