"""The output items of a response: opened and closed the same way for a message, a
function_call, an mcp_approval_request or an mcp_call.

Opening emits response.output_item.added and, when the response writes to the conversation,
stores the item and emits conversation.item.added; closing emits response.output_item.done,
updates the stored item and emits conversation.item.done. `reply.output` holds every item
opened so far in its latest form: it becomes response.done's `output`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from tui.localserver.items import Item
from tui.localserver.replies import Reply

if TYPE_CHECKING:
    from tui.localserver.connection import Connection


def open_output(conn: Connection, reply: Reply, item: dict[str, Any]) -> int:
    """Announce `item` as the next output item of `reply`; its output_index."""
    index = len(reply.output)
    reply.output.append(copy.deepcopy(item))
    emit = conn.outlet.emit
    emit("response.output_item.added", response_id=reply.id, output_index=index, item=item)
    if reply.in_conversation:
        previous = conn.store.last_id()
        conn.store.items.append(Item(copy.deepcopy(item)))
        emit("conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item))
    return index


def close_output(
    conn: Connection, reply: Reply, index: int, item: dict[str, Any], audio: bytes = b""
) -> None:
    """Output item `index` of `reply` is done as `item` (`audio`: what the stored item keeps)."""
    reply.output[index] = copy.deepcopy(item)
    emit = conn.outlet.emit
    emit("response.output_item.done", response_id=reply.id, output_index=index, item=item)
    if not reply.in_conversation:
        return
    stored = conn.store.find(item["id"])
    if stored is None:  # the client deleted it meanwhile
        return
    stored.data = copy.deepcopy(item)
    stored.audio = audio
    conn.store.keep_audio(stored)
    position = conn.store.items.index(stored)
    previous = conn.store.items[position - 1].id if position > 0 else None
    emit("conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item))
