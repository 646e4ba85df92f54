"""The official `openai` SDK models as the schema oracle for every event on the wire.

Recipe from docs/realtime-protocol.md section 7: a real pydantic discriminator for
one precise error, plus a walk for keys the SDK models do not declare.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, Field, TypeAdapter

CLIENT_EVENT = TypeAdapter(Annotated[RealtimeClientEvent, Field(discriminator="type")])
SERVER_EVENT = TypeAdapter(Annotated[RealtimeServerEvent, Field(discriminator="type")])

# fields the real server sends in session.created/updated that the SDK types leave out
SESSION_EXTRAS = {"$.session.id", "$.session.object", "$.session.expires_at"}


def unknown_fields(model: Any, path: str = "$") -> list[str]:
    """Paths of keys the SDK models do not declare (they allow and keep extras)."""
    out: list[str] = []
    if isinstance(model, BaseModel):
        out += [f"{path}.{key}" for key in (model.model_extra or {})]
        for key in type(model).model_fields:
            out += unknown_fields(getattr(model, key), f"{path}.{key}")
    elif isinstance(model, list | tuple):
        for index, item in enumerate(model):
            out += unknown_fields(item, f"{path}[{index}]")
    elif isinstance(model, dict):
        for key, item in model.items():
            out += unknown_fields(item, f"{path}.{key}")
    return out


def check_client_event(event: dict[str, Any] | str) -> None:
    """Raise AssertionError/ValidationError unless `event` is a valid GA client event."""
    data = json.loads(event) if isinstance(event, str) else event
    model = CLIENT_EVENT.validate_python(data)
    extra = unknown_fields(model)
    assert extra == [], f"{data.get('type')}: keys the SDK does not know: {extra}"


def check_server_event(event: dict[str, Any] | str) -> None:
    """Raise AssertionError/ValidationError unless `event` is a valid GA server event."""
    data = json.loads(event) if isinstance(event, str) else event
    model = SERVER_EVENT.validate_python(data)
    extra = [p for p in unknown_fields(model) if p not in SESSION_EXTRAS]
    assert extra == [], f"{data.get('type')}: keys the SDK does not know: {extra}"
