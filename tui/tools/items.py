"""The wire shapes tools add to a Realtime session, as plain dicts (GA protocol).

- `function_tool`: a `session.tools` entry `{"type": "function", "name", "description",
  "parameters"}`.
- `remote_tool`: a `session.tools` entry `{"type": "mcp", "server_label", "server_url", ...}`
  for a server the API calls itself.
- `function_call_output`: the item that answers a `function_call` (send it with
  `conversation.item.create`, then `response.create`).
- `mcp_approval_response`: the item that answers an `mcp_approval_request`.

The session wraps items in `conversation.item.create`; tests check every shape against the
`openai` SDK's models.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tui.config.tools import RemoteMcpSettings

MAX_DESCRIPTION = 1024
MAX_ITEM_ID = 32  # client-chosen item ids are at most 32 characters


def parameters_schema(schema: Any) -> dict[str, Any]:
    """An MCP `inputSchema` as Realtime `parameters`: an object schema, without `$schema`."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return {"type": "object", "properties": {}}
    out = copy.deepcopy(schema)
    out.pop("$schema", None)
    out.setdefault("type", "object")
    out.setdefault("properties", {})
    return out


def function_tool(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    text = description.strip() or name
    if len(text) > MAX_DESCRIPTION:
        text = f"{text[: MAX_DESCRIPTION - 1]}…"
    return {"type": "function", "name": name, "description": text, "parameters": parameters}


def function_call_output(call_id: str, output: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def new_item_id(prefix: str = "mcpr") -> str:
    return f"{prefix}_{uuid.uuid4().hex}"[:MAX_ITEM_ID]


def mcp_approval_response(
    approval_request_id: str, approve: bool, reason: str | None = None, item_id: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "mcp_approval_response",
        "id": item_id or new_item_id(),
        "approval_request_id": approval_request_id,
        "approve": approve,
    }
    if reason:
        item["reason"] = reason
    return item


def remote_tool(remote: RemoteMcpSettings) -> dict[str, Any]:
    tool: dict[str, Any] = {
        "type": "mcp",
        "server_label": remote.name,
        "server_url": remote.url,
    }
    if remote.description:
        tool["server_description"] = remote.description
    if remote.headers:
        tool["headers"] = dict(remote.headers)
    if remote.allowed_tools is not None:
        tool["allowed_tools"] = list(remote.allowed_tools)
    if remote.require_approval == "never":
        tool["require_approval"] = "never"
    elif remote.never_ask:
        tool["require_approval"] = {"never": {"tool_names": list(remote.never_ask)}}
    else:
        tool["require_approval"] = "always"
    return tool
