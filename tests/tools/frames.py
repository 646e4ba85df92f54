"""GA server events of one function call, as the Realtime API sends them (tools-notes: output
item added, arguments delta and done, output item done, response done), every one valid
against the SDK models. Sent by the local server's `Faults.inject` until it makes calls
itself."""

from __future__ import annotations

import json
from typing import Any

from tests.oracle import check_server_event


def function_call_frames(
    call_id: str, name: str, arguments: dict[str, Any] | str, *, response_id: str = ""
) -> list[dict[str, Any]]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    response_id = response_id or f"resp_{call_id}"
    item_id = f"item_{call_id}"[:32]
    base = {"response_id": response_id, "output_index": 0}
    done_item = {
        "id": item_id,
        "object": "realtime.item",
        "type": "function_call",
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "arguments": args,
    }
    frames: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "event_id": f"evt_{call_id}_1",
            "response": {"id": response_id, "object": "realtime.response", "status": "in_progress"},
        },
        {
            "type": "response.output_item.added",
            "event_id": f"evt_{call_id}_2",
            **base,
            "item": {**done_item, "status": "in_progress", "arguments": ""},
        },
        {
            "type": "response.function_call_arguments.delta",
            "event_id": f"evt_{call_id}_3",
            **base,
            "item_id": item_id,
            "call_id": call_id,
            "delta": args,
        },
        {
            "type": "response.function_call_arguments.done",
            "event_id": f"evt_{call_id}_4",
            **base,
            "item_id": item_id,
            "call_id": call_id,
            "name": name,
            "arguments": args,
        },
        {
            "type": "response.output_item.done",
            "event_id": f"evt_{call_id}_5",
            **base,
            "item": done_item,
        },
        {
            "type": "response.done",
            "event_id": f"evt_{call_id}_6",
            "response": {
                "id": response_id,
                "object": "realtime.response",
                "status": "completed",
                "output": [done_item],
            },
        },
    ]
    for frame in frames:
        check_server_event(frame)
    return frames
