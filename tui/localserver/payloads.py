"""The GA client payloads as `validation` specs: session.update's session, response.create's
response, the tools (function and remote MCP) and tool_choice.

Protocol doc sections 2 and 3; the `openai` SDK's realtime param types are the reference, and
tests/server check that what these accept the SDK models accept too.
"""

from __future__ import annotations

from tui.constants import WIRE_RATE_HZ, TurnMode
from tui.localserver.validation import NUMBER, Any_, Enum, ListOf, MapOf, Obj, Tagged

PCM = Obj({"type": Enum(("audio/pcm",)), "rate": Enum((WIRE_RATE_HZ,))}, required=("type",))
VOICE = Any_(str, Obj({"id": str}, required=("id",)))
FUNCTION_TOOL = Obj(
    {"type": Enum(("function",)), "name": str, "description": str, "parameters": dict},
    required=("type", "name"),
)
CONNECTORS = (  # the service connectors the SDK's Mcp tool names
    "connector_dropbox",
    "connector_gmail",
    "connector_googlecalendar",
    "connector_googledrive",
    "connector_microsoftteams",
    "connector_outlookcalendar",
    "connector_outlookemail",
    "connector_sharepoint",
)
TOOL_FILTER = Obj({"read_only": bool, "tool_names": ListOf(str)})
MCP_TOOL = Obj(
    {
        "type": Enum(("mcp",)),
        "server_label": str,
        "server_url": str,
        "connector_id": Enum(CONNECTORS),
        "server_description": str,
        "headers": Any_(None, MapOf(str)),
        "authorization": str,
        "allowed_tools": Any_(None, ListOf(str), TOOL_FILTER),
        "require_approval": Any_(
            None,
            Enum(("always", "never")),
            Obj({"always": TOOL_FILTER, "never": TOOL_FILTER}),
        ),
    },
    required=("type", "server_label"),
)
SESSION_TOOL = Tagged("type", {"function": FUNCTION_TOOL, "mcp": MCP_TOOL})
TOOL_CHOICE = Any_(
    Enum(("none", "auto", "required")),
    Tagged(
        "type",
        {
            "function": Obj({"type": Enum(("function",)), "name": str}, required=("type", "name")),
            "mcp": Obj(
                {"type": Enum(("mcp",)), "server_label": str, "name": Any_(str, None)},
                required=("type", "server_label"),
            ),
        },
    ),
)
PROMPT = Any_(
    None,
    Obj({"id": str, "version": Any_(str, None), "variables": Any_(dict, None)}, required=("id",)),
)
REASONING = Obj({"effort": Enum(("minimal", "low", "medium", "high", "xhigh"))})
MAX_OUTPUT_TOKENS = Any_(int, Enum(("inf",)))
SERVER_VAD = Obj(
    {
        "type": Enum((TurnMode.SERVER_VAD.value,)),
        "threshold": NUMBER,
        "prefix_padding_ms": int,
        "silence_duration_ms": int,
        "idle_timeout_ms": Any_(int, None),
        "create_response": bool,
        "interrupt_response": bool,
    }
)
SEMANTIC_VAD = Obj(
    {
        "type": Enum((TurnMode.SEMANTIC_VAD.value,)),
        "eagerness": Enum(("low", "medium", "high", "auto")),
        "create_response": bool,
        "interrupt_response": bool,
    }
)
TRANSCRIPTION = Obj(
    {
        "model": str,
        "language": str,
        "languages": ListOf(str),
        "prompt": str,
        "keywords": ListOf(str),
        "delay": Enum(("minimal", "low", "medium", "high", "xhigh")),
    }
)
NOISE_REDUCTION = Obj(
    {"type": Enum(("near_field", "far_field")), "strength": NUMBER}, required=("type",)
)
SESSION = Obj(
    {
        "type": Enum(("realtime",)),
        "model": str,
        "output_modalities": ListOf(Enum(("audio", "text"))),
        "instructions": str,
        "audio": Obj(
            {
                "input": Obj(
                    {
                        "format": PCM,
                        "transcription": Any_(None, TRANSCRIPTION),
                        "noise_reduction": Any_(None, NOISE_REDUCTION),
                        # the turn_detection variant is picked by its type in server._merge
                        "turn_detection": Any_(None, dict),
                    }
                ),
                "output": Obj({"format": PCM, "voice": VOICE, "speed": NUMBER}),
            }
        ),
        "tools": ListOf(SESSION_TOOL),
        "tool_choice": TOOL_CHOICE,
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "tracing": Any_(
            None,
            Enum(("auto",)),
            Obj({"workflow_name": str, "group_id": str, "metadata": dict}),
        ),
        "truncation": Any_(
            Enum(("auto", "disabled")),
            Obj(
                {
                    "type": Enum(("retention_ratio",)),
                    "retention_ratio": NUMBER,
                    "token_limits": Obj({"post_instructions": int}),
                },
                required=("type", "retention_ratio"),
            ),
        ),
        "prompt": PROMPT,
        "include": Any_(None, ListOf(Enum(("item.input_audio_transcription.logprobs",)))),
        "reasoning": REASONING,
        "parallel_tool_calls": bool,
    },
    required=("type",),
)
RESPONSE = Obj(
    {
        "output_modalities": ListOf(Enum(("audio", "text"))),
        "instructions": str,
        "audio": Obj({"output": Obj({"format": PCM, "voice": VOICE})}),
        # response-level MCP servers are not emulated: they would need a listing per response
        "tools": ListOf(Tagged("type", {"function": FUNCTION_TOOL})),
        "tool_choice": TOOL_CHOICE,
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "metadata": Any_(None, MapOf(str)),
        "prompt": PROMPT,
        "conversation": Enum(("auto", "none")),
        "input": ListOf(dict),  # each item is checked as a conversation item
        "reasoning": REASONING,
        "parallel_tool_calls": bool,
    }
)
TURN_DETECTION = {TurnMode.SERVER_VAD: SERVER_VAD, TurnMode.SEMANTIC_VAD: SEMANTIC_VAD}
