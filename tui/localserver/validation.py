"""Checks on what clients send, so the local server refuses what the real one refuses.

A small declarative schema language for the GA client payloads (the schemas themselves are
in `payloads`): unknown keys, wrong JSON types and values outside an enumeration become a
`ClientError`, which the server turns into an `error` event (the socket stays open). The
payoff: the server never echoes a malformed value back inside session.updated or an item, so
every event it emits stays valid.

Spec forms: a Python type (`str`, `int`, `bool`, `dict`, `list`), `NUMBER`, `None` (JSON
null), `Enum(values)`, `Obj(fields, required)`, `ListOf(spec)`, `MapOf(spec)`,
`Any_(spec, ...)` (the first that fits), `Tagged(key, variants)` (an object whose `key` picks
its spec, as `type` picks a tool's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ClientError(Exception):
    """A client event the server refuses: becomes an `error` event, the socket stays open."""

    def __init__(self, message: str, *, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


@dataclass(frozen=True)
class Enum:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Obj:
    fields: dict[str, Any]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


@dataclass(frozen=True)
class Tagged:
    """An object whose `key` (a string) names which spec of `variants` the whole object has."""

    key: str
    variants: dict[str, Any]


@dataclass(frozen=True)
class Any_:
    options: tuple[Any, ...] = field(default_factory=tuple)

    def __init__(self, *options: Any) -> None:
        object.__setattr__(self, "options", options)


NUMBER = (int, float)
_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", dict: "object", list: "array"}


def _describe(spec: Any) -> str:
    if spec is None:
        return "null"
    if spec == NUMBER:
        return "number"
    if isinstance(spec, type):
        return _TYPE_NAMES.get(spec, spec.__name__)
    if isinstance(spec, Enum):
        return " or ".join(repr(v) for v in spec.values)
    if isinstance(spec, Obj | MapOf | Tagged):
        return "object"
    if isinstance(spec, ListOf):
        return "array"
    if isinstance(spec, Any_):
        return " or ".join(_describe(option) for option in spec.options)
    return str(spec)


def _type_error(value: Any, spec: Any, path: str) -> ClientError:
    return ClientError(
        f"Invalid type for '{path}': expected {_describe(spec)}, got {type(value).__name__}.",
        code="invalid_type",
        param=path,
    )


def check(value: Any, spec: Any, path: str) -> None:
    """Raise ClientError unless `value` fits `spec`; `path` names it in the message."""
    if spec is None:
        if value is not None:
            raise _type_error(value, spec, path)
    elif spec == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(value, spec, path)
    elif isinstance(spec, type):
        # JSON true/false are not numbers, and a number is not a string
        if not isinstance(value, spec) or (isinstance(value, bool) and spec is not bool):
            raise _type_error(value, spec, path)
    elif isinstance(spec, Enum):
        if value not in spec.values or isinstance(value, bool) != isinstance(spec.values[0], bool):
            raise ClientError(
                f"Invalid value for '{path}': {value!r}. Supported values are: {_describe(spec)}.",
                code="invalid_value",
                param=path,
            )
    elif isinstance(spec, Obj):
        _check_object(value, spec, path)
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise _type_error(value, spec, path)
        for index, item in enumerate(value):
            check(item, spec.item, f"{path}[{index}]")
    elif isinstance(spec, MapOf):
        if not isinstance(value, dict):
            raise _type_error(value, spec, path)
        for key, item in value.items():
            check(item, spec.value, f"{path}.{key}")
    elif isinstance(spec, Any_):
        _check_union(value, spec, path)
    elif isinstance(spec, Tagged):
        _check_tagged(value, spec, path)
    else:  # a bug in a schema below, not in the client's input
        raise TypeError(f"unknown spec {spec!r}")


def _check_object(value: Any, spec: Obj, path: str) -> None:
    if not isinstance(value, dict):
        raise _type_error(value, spec, path)
    for key, item in value.items():
        if key not in spec.fields:
            raise ClientError(
                f"Unknown parameter: '{path}.{key}'.",
                code="unknown_parameter",
                param=f"{path}.{key}",
            )
        check(item, spec.fields[key], f"{path}.{key}")
    for key in spec.required:
        if key not in value:
            raise ClientError(
                f"Missing required parameter: '{path}.{key}'.",
                code="missing_required_parameter",
                param=f"{path}.{key}",
            )


def _check_tagged(value: Any, spec: Tagged, path: str) -> None:
    if not isinstance(value, dict):
        raise _type_error(value, spec, path)
    if spec.key not in value:
        raise ClientError(
            f"Missing required parameter: '{path}.{spec.key}'.",
            code="missing_required_parameter",
            param=f"{path}.{spec.key}",
        )
    tag = value[spec.key]
    if not isinstance(tag, str) or tag not in spec.variants:
        names = ", ".join(repr(name) for name in spec.variants)
        raise ClientError(
            f"Invalid value for '{path}.{spec.key}': {tag!r}. Supported values are: {names}.",
            code="invalid_value",
            param=f"{path}.{spec.key}",
        )
    check(value, spec.variants[tag], path)


def _shape_fits(value: Any, spec: Any) -> bool:
    """Whether `value` has the outer JSON shape of `spec` (to pick a union member)."""
    if spec is None:
        return value is None
    if isinstance(spec, Enum):
        return value in spec.values
    if isinstance(spec, Obj | MapOf | Tagged):
        return isinstance(value, dict)
    if isinstance(spec, ListOf):
        return isinstance(value, list)
    if isinstance(spec, Any_):
        return any(_shape_fits(value, option) for option in spec.options)
    try:
        check(value, spec, "$")
    except ClientError:
        return False
    return True


def _check_union(value: Any, spec: Any_, path: str) -> None:
    # the first option of the right outer shape decides, so its error is the precise one
    for option in spec.options:
        if _shape_fits(value, option):
            check(value, option, path)
            return
    raise _type_error(value, spec, path)
