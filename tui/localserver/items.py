"""Conversation items of the local server: how client items are checked and stored, and
what each costs as context of a later response (protocol doc section 6)."""

from __future__ import annotations

import base64
import binascii
import copy
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver.validation import Any_, ClientError, Enum, Obj, Tagged, check


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


@dataclass
class Item:
    """A conversation item: `data` is its event form (no audio bytes), `audio` the PCM."""

    data: dict[str, Any]
    audio: bytes = b""

    @property
    def id(self) -> str:
        item_id: str = self.data["id"]  # the item store gives every item a string id
        return item_id

    @property
    def role(self) -> str | None:
        return self.data.get("role")

    def with_audio(self) -> dict[str, Any]:
        out = copy.deepcopy(self.data)
        for part in out.get("content", []):
            if part.get("type") in ("input_audio", "output_audio"):
                part["audio"] = base64.b64encode(self.audio).decode()
                break
        return out

    def tokens(self) -> tuple[int, int]:
        """(text, audio) tokens of this item as context of a later response."""
        text = 0
        audio = 0
        for part in self.data.get("content", []):
            kind = part.get("type")
            if kind in ("input_text", "output_text"):
                text += text_tokens(part.get("text") or "")
            elif kind == "input_audio":
                audio += len(self.audio) // WIRE_BYTES_PER_MS // 100
            elif kind == "output_audio":
                audio += len(self.audio) // WIRE_BYTES_PER_MS // 50
        for key in ("arguments", "output"):
            text += text_tokens(self.data.get(key) or "")
        return text, audio


def require(data: dict[str, Any], key: str, kind: type) -> Any:
    if key not in data:
        raise ClientError(
            f"Missing required parameter: '{key}'.", code="missing_required_parameter", param=key
        )
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ClientError(
            f"Invalid type for '{key}': expected {kind.__name__}, got {type(value).__name__}.",
            code="invalid_type",
            param=key,
        )
    return value


def decode_audio(text: str, param: str) -> bytes:
    try:
        pcm = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ClientError(
            f"Invalid '{param}': expected base64-encoded audio ({exc}).",
            code="invalid_value",
            param=param,
        ) from exc
    if len(pcm) % 2:
        raise ClientError(
            f"Invalid '{param}': PCM16 audio must be whole 2-byte samples, got {len(pcm)} bytes.",
            code="invalid_value",
            param=param,
        )
    return pcm


USER_PARTS = {"input_text", "input_audio", "input_image"}
ROLE_PARTS = {"user": USER_PARTS, "system": {"input_text"}, "assistant": {"output_text"}}


def field_of(data: dict[str, Any], key: str, spec: Any, path: str, *, default: Any = ...) -> Any:
    """`data[key]` checked against `spec`; missing is an error unless a default is given."""
    if key not in data:
        if default is not ...:
            return default
        raise ClientError(
            f"Missing required parameter: '{path}.{key}'.",
            code="missing_required_parameter",
            param=f"{path}.{key}",
        )
    check(data[key], spec, f"{path}.{key}")
    return data[key]


def _approval_response(raw: dict[str, Any], item_id: str) -> dict[str, Any]:
    """An mcp_approval_response as stored: the SDK's model has no object or status field."""
    if "id" not in raw:
        raise ClientError(
            "Missing required parameter: 'item.id'.",
            code="missing_required_parameter",
            param="item.id",
        )
    data = {
        "id": item_id,
        "type": "mcp_approval_response",
        "approval_request_id": field_of(raw, "approval_request_id", str, "item"),
        "approve": field_of(raw, "approve", bool, "item"),
    }
    reason = field_of(raw, "reason", Any_(str, None), "item", default=None)
    if reason is not None:
        data["reason"] = reason
    return data


MCP_CALL_ERROR = Tagged(
    "type",
    {
        "protocol_error": Obj(
            {"type": str, "code": int, "message": str}, ("type", "code", "message")
        ),
        "tool_execution_error": Obj({"type": str, "message": str}, ("type", "message")),
        "http_error": Obj({"type": str, "code": int, "message": str}, ("type", "code", "message")),
    },
)


def _mcp_call(raw: dict[str, Any], item_id: str) -> dict[str, Any]:
    """An mcp_call a client replays (a remote MCP call of an earlier connection), as stored:
    the SDK's model has no object or status field and requires the item's own id."""
    if "id" not in raw:
        raise ClientError(
            "Missing required parameter: 'item.id'.",
            code="missing_required_parameter",
            param="item.id",
        )
    data: dict[str, Any] = {"id": item_id, "type": "mcp_call"}
    for key in ("server_label", "name", "arguments"):
        data[key] = field_of(raw, key, str, "item")
    for key, spec in (
        ("approval_request_id", str),
        ("output", str),
        ("error", MCP_CALL_ERROR),
    ):
        value = field_of(raw, key, Any_(spec, None), "item", default=None)
        if value is not None:
            data[key] = copy.deepcopy(value)
    return data


def normalize_item(raw: dict[str, Any], exists: Callable[[str], bool] | None = None) -> Item:
    """A client item as the server stores and reports it: known fields only, audio split off.

    `exists` tells whether an item id is taken already (None: no duplicate check)."""
    kind = raw.get("type")
    # an approval answer and an MCP call name themselves: the SDK's models require their id
    id_spec = str if kind in ("mcp_approval_response", "mcp_call") else Any_(str, None)
    item_id = field_of(raw, "id", id_spec, "item", default=None) or new_id("item")
    if exists is not None and exists(item_id):
        raise ClientError(
            f"Item with id {item_id!r} already exists.", code="invalid_value", param="item.id"
        )
    head = {"id": item_id, "object": "realtime.item", "type": kind, "status": "completed"}
    if kind == "function_call":
        call_id = field_of(raw, "call_id", Any_(str, None), "item", default=None) or new_id("call")
        name = field_of(raw, "name", str, "item")
        arguments = field_of(raw, "arguments", str, "item")
        return Item({**head, "call_id": call_id, "name": name, "arguments": arguments})
    if kind == "function_call_output":
        call_id = field_of(raw, "call_id", str, "item")
        return Item({**head, "call_id": call_id, "output": field_of(raw, "output", str, "item")})
    if kind == "mcp_approval_response":
        return Item(_approval_response(raw, item_id))
    if kind == "mcp_call":
        return Item(_mcp_call(raw, item_id))
    if kind != "message":
        raise ClientError(
            f"Invalid item type {kind!r}: the local server takes 'message', 'function_call', "
            "'function_call_output', 'mcp_approval_response' and 'mcp_call'.",
            code="invalid_value",
            param="item.type",
        )
    role = raw.get("role")
    if not isinstance(role, str) or role not in ROLE_PARTS:
        raise ClientError(
            f"Invalid role {role!r}: expected 'user', 'assistant' or 'system'.",
            code="invalid_value",
            param="item.role",
        )
    content = field_of(raw, "content", list, "item")
    parts: list[dict[str, Any]] = []
    audio = b""
    for index, part in enumerate(content):
        where = f"item.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(kind, str) or kind not in ROLE_PARTS[role]:
            raise ClientError(
                f"Invalid content type {kind!r} for a {role} message"
                + (": assistant audio cannot be added." if kind == "output_audio" else "."),
                code="invalid_value",
                param=f"{where}.type",
            )
        if kind in ("input_text", "output_text"):
            parts.append({"type": kind, "text": field_of(part, "text", str, where)})
        elif kind == "input_audio":
            encoded = field_of(part, "audio", Any_(str, None), where, default=None)
            if encoded and not audio:
                audio = decode_audio(encoded, f"{where}.audio")
            transcript = field_of(part, "transcript", Any_(str, None), where, default=None)
            parts.append({"type": kind, "transcript": transcript})
        else:
            image_url = field_of(part, "image_url", str, where)
            detail = field_of(part, "detail", Enum(("auto", "low", "high")), where, default="auto")
            parts.append({"type": kind, "image_url": image_url, "detail": detail})
    return Item({**head, "role": role, "content": parts}, audio)
