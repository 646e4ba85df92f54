"""Model-written arguments checked before anything runs: JSON, an object, matching the schema.

The validator is `jsonschema`, which the `mcp` SDK itself depends on and uses to check tool
results: a well-kept implementation of every draft MCP servers write (their schemas come
from pydantic, zod and hand-written JSON), so no second validator is installed. It is
imported when the first checker is built (about 90 ms), not when this module is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_PROBLEMS = 5


class BadSchema(ValueError):
    """A tool declared a parameters schema that is not valid JSON Schema."""


@dataclass(frozen=True)
class Checked:
    """Either the parsed arguments or why they cannot be used (a sentence for the model)."""

    arguments: dict[str, Any] | None
    problem: str = ""


class ArgumentChecker:
    """A compiled validator for one tool's parameters."""

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import SchemaError
        from jsonschema.validators import Draft202012Validator, validator_for

        cls = validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except SchemaError as error:
            raise BadSchema(f"its parameters are not valid JSON Schema: {error.message}") from None
        self._validator = cls(schema)

    def check(self, tool: str, raw: str) -> Checked:
        """Parse `raw` (the `arguments` string of a function_call) and validate it."""
        if not raw.strip():
            raw = "{}"  # a call of a tool without parameters may come with no arguments
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as error:
            where = f" at character {error.pos}" if isinstance(error, json.JSONDecodeError) else ""
            return Checked(
                None,
                f"The arguments for {tool} are not valid JSON{where}. Call it again with a "
                "JSON object of its parameters.",
            )
        if not isinstance(value, dict):
            return Checked(
                None,
                f"The arguments for {tool} must be a JSON object of its parameters, not "
                f"{_kind(value)}.",
            )
        problems = sorted(
            self._validator.iter_errors(value), key=lambda error: list(map(str, error.path))
        )
        if problems:
            listed = "; ".join(_describe(error) for error in problems[:MAX_PROBLEMS])
            more = len(problems) - MAX_PROBLEMS
            if more > 0:
                listed += f"; and {more} more"
            return Checked(
                None,
                f"The arguments for {tool} do not match its parameters: {listed}. Call it "
                "again with arguments that match its schema.",
            )
        return Checked(value)


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _describe(error: Any) -> str:
    message = error.message if len(error.message) <= 200 else f"{error.message[:199]}…"
    path = ".".join(str(part) for part in error.path)
    return f"at {path!r}: {message}" if path else message
