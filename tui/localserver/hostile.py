"""Ready-made hostile input for the local server's faults: terminal control sequences, events
with wrong nested types, oversized frames. Data only; `faults.Faults` says when to send it.

    server.faults.taint = HOSTILE_TEXT                  # in transcripts, errors, close reasons
    server.faults.inject = [Inject(list(wrong_nested_frames().values()), at="delta", deltas=2)]
    server.faults.inject = [Inject([oversized_frame(17 * 2**20)])]
"""

from __future__ import annotations

import json
from typing import Any

# What a terminal would obey if the client printed server text as is.
CONTROL_SEQUENCES: dict[str, str] = {
    "osc0_title": "\x1b]0;pwned\x07",  # retitles the terminal window
    "csi_clear": "\x1b[2J\x1b[H",  # clears the screen, cursor home
    "sgr_blink_red": "\x1b[5;31m",  # colours everything after it
    "osc52_clipboard": "\x1b]52;c;cHduZWQ=\x07",  # writes "pwned" to the clipboard
    "osc8_link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # a hidden link
    "bidi_override": "\u202etxt.exe",  # reads backwards: "exe.txt"
    "c1_csi": "\x9b2J",  # the one-byte CSI of C1
}
HOSTILE_TEXT = "".join(CONTROL_SEQUENCES.values())
"""All of them in one string without whitespace (a reply keeps it in one delta)."""


def wrong_nested_frames(
    *, response_id: str = "resp_hostile", item_id: str = "item_hostile"
) -> dict[str, dict[str, Any]]:
    """Well-formed events of known types, each with one nested field of the wrong type (the
    ones issue 9 found raising inside the session), by name. The SDK refuses every one."""
    item = {"id": item_id, "type": "message", "role": "assistant", "content": []}
    response = {"id": response_id, "object": "realtime.response", "status": "completed"}
    return {
        "error_code_list": {
            "type": "error",
            "event_id": "event_hostile_1",
            "error": {"type": "server_error", "message": "boom", "code": ["a", "b"]},
        },
        "status_details_string": {
            "type": "response.done",
            "event_id": "event_hostile_2",
            "response": {**response, "status": "failed", "status_details": "failed"},
        },
        "usage_tokens_text": {
            "type": "response.done",
            "event_id": "event_hostile_3",
            "response": {**response, "usage": {"input_tokens": "abc", "output_tokens": 1}},
        },
        "item_role_list": {
            "type": "conversation.item.added",
            "event_id": "event_hostile_4",
            "item": {**item, "role": ["assistant"]},
        },
        "item_content_number": {
            "type": "conversation.item.added",
            "event_id": "event_hostile_5",
            "item": {**item, "content": 5},
        },
        "item_id_number": {
            "type": "response.output_item.added",
            "event_id": "event_hostile_6",
            "response_id": response_id,
            "output_index": 0,
            "item": {**item, "id": 12345},
        },
        "response_id_object": {
            "type": "response.created",
            "event_id": "event_hostile_7",
            "response": {**response, "status": "in_progress", "id": {"id": response_id}},
        },
        "rate_limit_remaining_text": {
            "type": "rate_limits.updated",
            "event_id": "event_hostile_8",
            "rate_limits": [{"name": "tokens", "limit": 100, "remaining": "many"}],
        },
    }


def oversized_frame(size: int) -> str:
    """A well-formed JSON text frame of exactly `size` bytes (ASCII), about no known item."""
    head = '{"type":"response.output_text.delta","event_id":"event_huge","delta":"'
    tail = '"}'
    padding = size - len(head) - len(tail)
    if padding < 0:
        raise ValueError(f"a frame needs at least {len(head) + len(tail)} bytes")
    frame = head + "A" * padding + tail
    assert json.loads(frame)  # cheap insurance for a test helper: the frame is valid JSON
    return frame
