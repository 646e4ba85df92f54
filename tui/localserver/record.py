"""What one connection of the local server did, kept for tests and for people watching."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tui.localserver.faults import Faults


@dataclass
class SessionRecord:
    """What one connection did: for tests and for people watching the demo.

    `sent` holds every event dict emitted (valid events only, in wire order); `received` every
    client event dict that parsed as a JSON object; `raw_sent` the deliberately bad frames
    (fault injection) as (kind, frame). `headers` are the handshake headers without
    Authorization. `ended_by` says how the server ended it ("close 1001 ...", "abort"), or ""
    when the client closed or the server stopped.
    """

    id: str
    model: str
    headers: dict[str, str]
    faults: Faults
    config: dict[str, Any]
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    raw_sent: list[tuple[str, str | bytes]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str = ""

    def sent_types(self) -> list[str]:
        return [event["type"] for event in self.sent]
