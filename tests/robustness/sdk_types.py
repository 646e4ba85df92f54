"""What JSON type the official SDK models allow at a path of a server event.

The parser's rules (tui.realtime.shapes) are static; this walks the SDK's pydantic models
instead, so a test can compare the two without the app importing `openai`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, Literal, Union

from openai.types.realtime import RealtimeServerEvent
from pydantic import BaseModel

ANY_JSON = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


def event_models() -> dict[str, type[BaseModel]]:
    members = typing.get_args(typing.get_args(RealtimeServerEvent)[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in members}


EVENT_MODELS = event_models()


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a (possibly Optional, Annotated, nested) union."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def json_types(annotation: Any) -> frozenset[str]:
    """The JSON types a value of this annotation may have."""
    found: set[str] = set()
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if member is Any or member is object:
            return ANY_JSON
        if member is type(None):
            found.add("null")
        elif origin is Literal:
            found |= {json_type(value) for value in typing.get_args(member)}
        elif origin in (list, tuple, typing.List):  # noqa: UP006 - the SDK spells it so
            found.add("array")
        elif (
            origin is dict
            or member is dict
            or (isinstance(member, type) and issubclass(member, BaseModel))
        ):
            found.add("object")
        elif member is bool:
            found.add("boolean")
        elif member is int:
            found.add("integer")
        elif member is float:
            found |= {"number", "integer"}
        elif member is str:
            found.add("string")
        else:
            raise AssertionError(f"no JSON type known for {member!r}")
    return frozenset(found)


def _field(annotation: Any, value: dict[str, Any], key: str) -> list[Any]:
    """Annotations of field `key` in the model(s) `annotation` may be for this object.

    A union of models is narrowed by the object's `type`, as pydantic's discriminator does;
    when that model does not declare the field, every member that does is taken (the app
    reads some fields, like an item's role, whatever the item's type).
    """
    models = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    declaring = [m for m in models if key in m.model_fields]
    tag = value.get("type")
    matching = [m for m in declaring if tag in _type_literals(m)]
    return [m.model_fields[key].annotation for m in (matching or declaring)]


def _type_literals(model: type[BaseModel]) -> tuple[Any, ...]:
    field = model.model_fields.get("type")
    if field is None:
        return ()
    return tuple(v for m in _members(field.annotation) for v in typing.get_args(m))


def _elements(annotation: Any) -> list[Any]:
    return [
        typing.get_args(m)[0]
        for m in _members(annotation)
        if typing.get_origin(m) in (list, typing.List)  # noqa: UP006
    ]


def resolve(event: dict[str, Any], dotted: str) -> Iterator[tuple[str, Any, frozenset[str]]]:
    """Each value at `dotted` ("response.output[].id") in `event`, with its concrete path
    and the JSON types the SDK allows there (empty: the SDK does not declare the field)."""
    parts = dotted.replace("[]", ".[]").split(".")
    start = [EVENT_MODELS[event["type"]]]
    yield from _resolve(event, parts, start, "")


def _resolve(
    value: Any, parts: list[str], annotations: list[Any], path: str
) -> Iterator[tuple[str, Any, frozenset[str]]]:
    if not parts:
        allowed = frozenset().union(*(json_types(a) for a in annotations))
        yield path, value, allowed
        return
    part, rest = parts[0], parts[1:]
    if part == "[]":
        if not isinstance(value, list):
            return
        inner = [e for a in annotations for e in _elements(a)]
        for index, element in enumerate(value):
            yield from _resolve(element, rest, inner, f"{path}[{index}]")
        return
    if not isinstance(value, dict) or value.get(part) is None:
        return  # absent: nothing is read
    inner = [f for a in annotations for f in _field(a, value, part)]
    yield from _resolve(value[part], rest, inner, f"{path}.{part}" if path else part)
