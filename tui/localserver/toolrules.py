"""The pure parts of the local server's tool calling: the typed commands, the item a response
answers, arguments, the checks on a session's tools, and the emulated remote MCP tools.

No events and no state here: `toolcalls.ToolCalls` and `remotemcp.RemoteMcp` (the rooms) use
these. The rules are documented in `toolcalls`' module docstring.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from tui.localserver.items import Item
from tui.localserver.validation import ClientError

QUOTE_CHARS = 200  # how much of a tool's output a spoken reply quotes
MAX_QUOTED = 3  # outputs quoted in one reply; the rest are counted
NAME = r"[A-Za-z0-9_-]{1,64}"
_CALL = re.compile(rf"\s*(?i:call)\s+({NAME})(?=\s|\{{|$)(.*)", re.S)
_MCP = re.compile(rf"\s*(?i:mcp)\s+(\S+)\s+({NAME})(?=\s|\{{|$)(.*)", re.S)
_SAY = re.compile(r"\s*(?i:and\s+say)\s+(\S.*)", re.S)
_LEGAL_NAME = re.compile(rf"^{NAME}$")


@dataclass(frozen=True)
class CallCommand:
    """Typed `call NAME {json}` (optionally `... and say X`)."""

    name: str
    arguments: str
    say: str | None = None


@dataclass(frozen=True)
class McpCommand:
    """Typed `mcp LABEL TOOL {json}`."""

    server_label: str
    name: str
    arguments: str


class CommandError(ValueError):
    """A typed tool command the server cannot read: its reply says why."""


def parse_command(text: str) -> CallCommand | McpCommand | None:
    """The tool command a typed user message holds, or None for ordinary text.

    `call NAME` and `mcp LABEL TOOL` are commands when followed by nothing, by a JSON object,
    or (for `call`) by `and say X`; a command whose JSON is broken, or with other text after
    its JSON, raises CommandError."""
    call = _CALL.fullmatch(text)
    if call is not None:
        split = _arguments_and_rest(call.group(2), f"call {call.group(1)}")
        if split is None:
            return None
        arguments, rest = split
        if not rest.strip():
            return CallCommand(call.group(1), arguments)
        say = _SAY.fullmatch(rest)
        if say is None:
            raise _command_error(f"unexpected text after the arguments: {rest.strip()[:40]!r}")
        return CallCommand(call.group(1), arguments, say.group(1).strip())
    mcp = _MCP.fullmatch(text)
    if mcp is not None:
        split = _arguments_and_rest(mcp.group(3), f"mcp {mcp.group(1)} {mcp.group(2)}")
        if split is None:
            return None
        arguments, rest = split
        if rest.strip():
            raise _command_error(f"unexpected text after the arguments: {rest.strip()[:40]!r}")
        return McpCommand(mcp.group(1), mcp.group(2), arguments)
    return None


def _arguments_and_rest(text: str, command: str) -> tuple[str, str] | None:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        if not stripped or _SAY.fullmatch(text):
            return "{}", text
        return None  # "call me maybe": words, not a command
    try:
        value, end = json.JSONDecoder().raw_decode(stripped)
    except ValueError as exc:
        raise _command_error(f"the arguments of {command!r} are not valid JSON ({exc})") from exc
    return json.dumps(value), stripped[end:]


def _command_error(detail: str) -> CommandError:
    return CommandError(
        f"I could not read that tool command: {detail}. Type 'call NAME "
        "{json}', 'call NAME {json} and say TEXT' or 'mcp LABEL TOOL {json}'."
    )


def user_text(item: Item) -> str:
    parts = item.data.get("content") or []
    return " ".join(p.get("text") or "" for p in parts if p.get("type") == "input_text")


def answered_item(context: list[Item]) -> Item | None:
    """The item a response answers: the newest one that is not an assistant message or a
    tool listing (those are not turns)."""
    for item in reversed(context):
        kind = item.data.get("type")
        if kind == "mcp_list_tools" or (kind == "message" and item.role == "assistant"):
            continue
        return item
    return None


def trailing_calls(context: list[Item]) -> list[Item]:
    """The function_call and function_call_output items the newest turn ends with."""
    run: list[Item] = []
    for item in reversed(context):
        kind = item.data.get("type")
        if kind in ("function_call", "function_call_output"):
            run.append(item)
        elif not (kind == "mcp_list_tools" or (kind == "message" and item.role == "assistant")):
            break
    return run[::-1]


def quoted(outputs: list[str], lead: str) -> str:
    """`lead` and the first QUOTE_CHARS of each output (at most MAX_QUOTED of them)."""
    shown = [output[:QUOTE_CHARS] for output in outputs[:MAX_QUOTED]]
    more = len(outputs) - len(shown)
    return lead + " | ".join(shown) + (f" (and {more} more)" if more else "")


def split_arguments(arguments: str) -> list[str]:
    """The arguments string as a few streamed deltas (at least two when it has two chars)."""
    size = max(1, math.ceil(len(arguments) / 4))
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


_PLACEHOLDERS: dict[str, Any] = {
    "string": "test",
    "integer": 1,
    "number": 1,
    "boolean": True,
    "array": [],
    "object": {},
    "null": None,
}


def placeholder_arguments(schema: Any) -> str:
    """JSON arguments that fill each required property of a JSON Schema with a plain value
    of its type (its default, or its first enum value, when it has one)."""
    if not isinstance(schema, dict):
        return "{}"
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required")
    out: dict[str, Any] = {}
    for name in required if isinstance(required, list) else []:
        if isinstance(name, str):
            out[name] = _placeholder(properties.get(name))
    return json.dumps(out)


def _placeholder(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return "test"
    if "default" in prop:
        return prop["default"]
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _PLACEHOLDERS.get(kind, "test") if isinstance(kind, str) else "test"


def function_tools(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in tools if tool.get("type") == "function"}


def mcp_tools(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {tool["server_label"]: tool for tool in tools if tool.get("type") == "mcp"}


def check_tool_config(tools: list[dict[str, Any]], choice: Any, path: str) -> None:
    """What the schema cannot say: names legal and unique, a server to reach, and a
    tool_choice that names a tool the list has."""
    names: set[str] = set()
    labels: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"{path}.tools[{index}]"
        if tool.get("type") == "function":
            name = tool["name"]
            if not _LEGAL_NAME.match(name):
                raise ClientError(
                    f"Invalid '{where}.name': {name!r}. Use 1 to 64 letters, digits, '_' or '-'.",
                    code="invalid_value",
                    param=f"{where}.name",
                )
            _unique(name, names, f"{where}.name", "function name")
        else:
            _unique(tool["server_label"], labels, f"{where}.server_label", "server_label")
            if "server_url" not in tool and "connector_id" not in tool:
                raise ClientError(
                    f"Missing required parameter: '{where}.server_url' (or connector_id).",
                    code="missing_required_parameter",
                    param=f"{where}.server_url",
                )
    if isinstance(choice, dict):
        wanted, known = (
            (choice["name"], names)
            if choice["type"] == "function"
            else (choice["server_label"], labels)
        )
        if wanted not in known:
            raise ClientError(
                f"Invalid '{path}.tool_choice': {wanted!r} is not among the {choice['type']} "
                "tools.",
                code="invalid_value",
                param=f"{path}.tool_choice",
            )


def _unique(value: str, seen: set[str], param: str, what: str) -> None:
    if value in seen:
        raise ClientError(
            f"Duplicate {what} {value!r} in '{param.rsplit('[', 1)[0]}'.",
            code="invalid_value",
            param=param,
        )
    seen.add(value)


# --- the emulated remote MCP servers ------------------------------------------------------


@dataclass(frozen=True)
class FakeTool:
    """A tool every emulated remote MCP server offers."""

    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool

    def listed(self) -> dict[str, Any]:
        """As an mcp_list_tools item lists it."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
            "annotations": {"read_only": self.read_only},
        }


FAKE_TOOLS = (
    FakeTool(
        "echo",
        "Returns its text unchanged.",
        {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        read_only=True,
    ),
    FakeTool(
        "add",
        "Adds two numbers.",
        {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
        read_only=True,
    ),
    FakeTool(
        "fail",
        "Always fails (to test the failed path).",
        {"type": "object", "properties": {}},
        read_only=False,
    ),
)


def run_fake_tool(name: str, arguments: str) -> tuple[str | None, str | None]:
    """(output, None) or (None, error message) of a fake tool called with `arguments`."""
    try:
        args = json.loads(arguments)
    except ValueError:
        args = None
    if not isinstance(args, dict):
        return None, "The arguments are not a JSON object."
    if name == "echo":
        text = args.get("text")
        return (text, None) if isinstance(text, str) else (None, "echo needs a string 'text'.")
    if name == "add":
        a, b = args.get("a"), args.get("b")
        if not (_is_number(a) and _is_number(b)):
            return None, "add needs two numbers 'a' and 'b'."
        return json.dumps(a + b), None
    return None, f"The tool {name!r} failed on purpose (the local server's emulated MCP server)."


def filter_matches(rule: Any, tool: FakeTool) -> bool:
    """A {tool_names?, read_only?} filter: every key given must hold; an empty one matches
    nothing."""
    if not isinstance(rule, dict) or not rule:
        return False
    names = rule.get("tool_names")
    read_only = rule.get("read_only")
    return (names is None or tool.name in names) and (
        read_only is None or tool.read_only == read_only
    )


def tool_allowed(config: dict[str, Any], tool: FakeTool) -> bool:
    allowed = config.get("allowed_tools")
    if allowed is None:
        return True
    if isinstance(allowed, list):
        return tool.name in allowed
    return filter_matches(allowed, tool)


def needs_approval(config: dict[str, Any], tool: FakeTool) -> bool:
    """require_approval: "always" when not given; a `never` filter exempts, `always` wins."""
    rule = config.get("require_approval")
    if rule == "never":
        return False
    if isinstance(rule, dict):
        if filter_matches(rule.get("always"), tool):
            return True
        return not filter_matches(rule.get("never"), tool)
    return True


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
