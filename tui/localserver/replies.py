"""A response of the local server as data, what it says, and the event objects built from it.

Replies: to typed text, tone "speech" with the transcript "You said: ..."; to user audio,
the user's own audio played back (a parrot) with the transcript "I heard 2.3 s of audio at
-23 dBFS". Usage follows the protocol doc section 6: text len/4 tokens, user audio one token
per 100 ms, assistant audio one token per 50 ms; context items that were already part of the
previous response count as cached.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver.items import Item, text_tokens
from tui.localserver.vad import level_dbfs
from tui.localserver.voice import describe_heard, synthesize

QUIET_DBFS = -60.0  # user audio below this level gets "are you still there?", not a parrot
RATE_LIMITS = [  # what rate_limits.updated says at each response.created
    {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
    {"name": "tokens", "limit": 40000, "remaining": 35904, "reset_seconds": 6.144},
]


class ToolStep:
    """One tool item of a response (a function_call, an mcp_approval_request, an mcp_call).

    `run` streams its events and may pause between them (so a cancel can land in the
    middle of its arguments); `abort` closes it as incomplete when the response ends before
    `run` did. Each opens its item with `outputs.open_output` and closes it with
    `outputs.close_output`."""

    async def run(self, reply: Reply) -> None:
        raise NotImplementedError

    def abort(self, reply: Reply) -> None:
        raise NotImplementedError


@dataclass
class Plan:
    """What a response holds: its tool items (`steps`, in order), then its message.

    `speech` None means the usual reply (`reply_for`); `speaks=False` means no message at all
    (a response that only calls a tool or asks for an approval)."""

    steps: list[ToolStep] = field(default_factory=list)
    speech: str | None = None
    speaks: bool = True


@dataclass
class Reply:
    """One response: what it will say, and how much of it has gone out.

    Its message (when `speaks`) is output item `output_index`; `output` holds every output
    item opened so far, in order, each in its latest form."""

    id: str
    item_id: str
    modalities: list[str]
    voice: str
    output_format: dict[str, Any]
    in_conversation: bool
    metadata: dict[str, str] | None
    audio: bytes
    transcript: str
    input_text_tokens: int
    input_audio_tokens: int
    cached_text_tokens: int
    cached_audio_tokens: int
    sent_audio: int = 0  # bytes of audio delivered in deltas
    sent_text: str = ""  # transcript/text delivered in deltas
    deltas: int = 0
    bad_frames_sent: bool = False
    truncate_ms: int | None = None
    max_output_tokens: int | str = "inf"
    limited: bool = False  # cut to max_output_tokens: ends "incomplete"
    task: asyncio.Task[None] | None = None
    steps: list[ToolStep] = field(default_factory=list)
    speaks: bool = True
    output_index: int = 0  # of its message, once open
    output: list[dict[str, Any]] = field(default_factory=list)
    message_open: bool = False
    message_closed: bool = False
    current: ToolStep | None = None  # the tool step streaming now
    tool_text: str = ""  # arguments and outputs of its tool items: output tokens too

    @property
    def is_audio(self) -> bool:
        return "audio" in self.modalities

    def ids(self) -> dict[str, Any]:
        """The four ids every delta and done event of the reply's one content part carries."""
        return {
            "response_id": self.id,
            "item_id": self.item_id,
            "output_index": self.output_index,
            "content_index": 0,
        }


def reply_for(
    context: list[Item], modalities: list[str], voice: str, speed: float
) -> tuple[bytes, str]:
    """(audio, transcript) for the latest user message: parrot speech, echo text."""
    for item in reversed(context):
        if item.role != "user":
            continue
        kinds = [part.get("type") for part in item.data.get("content", [])]
        if "input_audio" in kinds and level_dbfs(item.audio) > QUIET_DBFS:
            return (item.audio if "audio" in modalities else b""), describe_heard(item.audio)
        if "input_audio" in kinds:
            transcript = "I heard only silence. Are you still there?"
            break
        texts = [p.get("text", "") for p in item.data["content"] if p.get("type") == "input_text"]
        if texts:
            transcript = "You said: " + " ".join(texts)
            break
    else:
        transcript = "Hello from the rt-tui local server."
    audio = synthesize(transcript, voice=voice, speed=speed) if "audio" in modalities else b""
    return audio, transcript


def spoken(text: str, modalities: list[str], voice: str, speed: float) -> tuple[bytes, str]:
    """(audio, transcript) for a reply that says `text`."""
    audio = synthesize(text, voice=voice, speed=speed) if "audio" in modalities and text else b""
    return audio, text


def input_tokens(
    context: list[Item], instructions: str, cached_ids: set[str], cached_instructions: str
) -> tuple[int, int, int, int]:
    """(text, audio, cached text, cached audio) input tokens of a response over `context`."""
    text = text_tokens(instructions)
    cached_text = text if instructions and instructions == cached_instructions else 0
    audio = 0
    cached_audio = 0
    for item in context:
        item_text, item_audio = item.tokens()
        text += item_text
        audio += item_audio
        if item.id in cached_ids:
            cached_text += item_text
            cached_audio += item_audio
    return text, audio, cached_text, cached_audio


def assistant_item(reply: Reply, status: str, *, with_content: bool) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if with_content:
        if reply.is_audio:
            content = [{"type": "output_audio", "transcript": reply.sent_text}]
        else:
            content = [{"type": "output_text", "text": reply.sent_text}]
    return {
        "id": reply.item_id,
        "object": "realtime.item",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def usage_of(reply: Reply) -> dict[str, Any]:
    out_audio = reply.sent_audio // WIRE_BYTES_PER_MS // 50
    out_text = text_tokens(reply.sent_text) + text_tokens(reply.tool_text)
    total_in = reply.input_text_tokens + reply.input_audio_tokens
    return {
        "total_tokens": total_in + out_audio + out_text,
        "input_tokens": total_in,
        "output_tokens": out_audio + out_text,
        "input_token_details": {
            "text_tokens": reply.input_text_tokens,
            "audio_tokens": reply.input_audio_tokens,
            "image_tokens": 0,
            "cached_tokens": reply.cached_text_tokens + reply.cached_audio_tokens,
            "cached_tokens_details": {
                "text_tokens": reply.cached_text_tokens,
                "audio_tokens": reply.cached_audio_tokens,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
    }


def response_object(
    reply: Reply,
    status: str,
    *,
    conversation_id: str,
    details: dict[str, Any] | None = None,
    output: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": reply.id,
        "object": "realtime.response",
        "conversation_id": conversation_id if reply.in_conversation else None,
        "output_modalities": reply.modalities,
        "max_output_tokens": reply.max_output_tokens,
        "audio": {"output": {"format": reply.output_format, "voice": reply.voice}},
        "metadata": reply.metadata,
        "output": output or [],
        "status": status,
        "status_details": details,
        "usage": usage_of(reply) if status != "in_progress" else None,
    }


def split_words(text: str, count: int) -> list[str]:
    """`text` in `count` consecutive pieces of whole words (some may be empty)."""
    words = re.findall(r"\S+\s*", text) or [text]
    pieces = []
    for index in range(count):
        start = round(index * len(words) / count)
        end = round((index + 1) * len(words) / count)
        pieces.append("".join(words[start:end]))
    return pieces


def fit_budget(audio: bytes, transcript: str, limit: int) -> tuple[bytes, str, bool]:
    """Cut a reply so its output tokens (audio ms/50 + text len/4) stay within `limit`."""
    tokens = len(audio) / WIRE_BYTES_PER_MS / 50 + len(transcript) / 4
    if tokens <= limit:
        return audio, transcript, False
    share = limit / tokens
    audio_ms = int(len(audio) / WIRE_BYTES_PER_MS * share)
    chars = int(len(transcript) * share) // 4 * 4
    return audio[: audio_ms * WIRE_BYTES_PER_MS], transcript[:chars], True
