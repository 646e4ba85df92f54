"""The conversation of one local server connection: its items, and the client events on them
(conversation.item.create, .retrieve, .delete, .truncate)."""

from __future__ import annotations

import collections
import copy
from typing import TYPE_CHECKING, Any

from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver.items import Item, normalize_item, require
from tui.localserver.validation import ClientError

if TYPE_CHECKING:
    from tui.localserver.connection import Connection


class ItemStore:
    """Items in conversation order; `keep_audio_items` drops the audio of older ones."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.items: list[Item] = []
        self._with_audio: collections.deque[Item] = collections.deque()  # oldest first

    def keep_audio(self, item: Item) -> None:
        """Honour LocalServer.keep_audio_items: older items lose their audio (not their text)."""
        limit = self.conn.server.keep_audio_items
        if limit is None or not item.audio:
            return
        self._with_audio.append(item)
        while len(self._with_audio) > limit:
            self._with_audio.popleft().audio = b""

    def last_id(self) -> str | None:
        return self.items[-1].id if self.items else None

    def exists(self, item_id: str) -> bool:
        return self.find(item_id) is not None

    def find(self, item_id: Any) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def require_item(self, data: dict[str, Any]) -> Item:
        item_id = require(data, "item_id", str)
        item = self.find(item_id)
        if item is None:
            raise ClientError(
                f"Item with item_id {item_id!r} not found.", code="item_not_found", param="item_id"
            )
        return item

    # --- client events ------------------------------------------------------------------

    def on_item_create(self, data: dict[str, Any]) -> None:
        item = normalize_item(require(data, "item", dict), self.exists)
        self.conn.tools.check_item(item)
        previous = data.get("previous_item_id")
        if previous is None:
            index = len(self.items)
        elif previous == "root":
            index = 0
        else:
            found = self.find(previous)
            if found is None:
                raise ClientError(
                    f"Previous item with id {previous!r} not found.",
                    code="invalid_value",
                    param="previous_item_id",
                )
            index = self.items.index(found) + 1
        self.items.insert(index, item)
        self.keep_audio(item)
        before = self.items[index - 1].id if index > 0 else None
        emit = self.conn.outlet.emit
        emit("conversation.item.added", previous_item_id=before, item=copy.deepcopy(item.data))
        emit("conversation.item.done", previous_item_id=before, item=copy.deepcopy(item.data))
        self.conn.tools.item_added(item)

    def on_item_retrieve(self, data: dict[str, Any]) -> None:
        item = self.require_item(data)
        self.conn.outlet.emit("conversation.item.retrieved", item=item.with_audio())

    def on_item_delete(self, data: dict[str, Any]) -> None:
        item = self.require_item(data)
        self.items.remove(item)
        self.conn.outlet.emit("conversation.item.deleted", item_id=item.id)

    def on_item_truncate(self, data: dict[str, Any]) -> None:
        item = self.require_item(data)
        content_index = require(data, "content_index", int)
        audio_end_ms = require(data, "audio_end_ms", int)
        parts = item.data.get("content", [])
        response = self.conn.responder.active
        # the item of a streaming response has no content part yet, but audio all the same
        active = response is not None and response.item_id == item.id and response.is_audio
        has_audio = active or any(p.get("type") == "output_audio" for p in parts)
        if item.role != "assistant" or not has_audio:
            raise ClientError(
                f"Item {item.id!r} is not an assistant message with audio; only those can be "
                "truncated.",
                code="invalid_value",
                param="item_id",
            )
        if content_index != 0:
            raise ClientError(
                f"Item {item.id!r} has no audio content at index {content_index}.",
                code="invalid_value",
                param="content_index",
            )
        playing = response if active else None  # the reply still streaming this item
        audio_ms = (playing.sent_audio if playing else len(item.audio)) // WIRE_BYTES_PER_MS
        if audio_end_ms < 0 or audio_end_ms > audio_ms:
            raise ClientError(
                f"audio_end_ms ({audio_end_ms}) is out of range: the item has {audio_ms} ms "
                "of audio.",
                code="invalid_value",
                param="audio_end_ms",
            )
        if playing is not None:
            playing.truncate_ms = audio_end_ms  # applied when the response ends
        item.audio = item.audio[: audio_end_ms * WIRE_BYTES_PER_MS]
        for part in parts:
            if part.get("type") == "output_audio":
                part["transcript"] = ""  # the server drops the text the user never heard
        self.conn.outlet.emit(
            "conversation.item.truncated",
            item_id=item.id,
            content_index=content_index,
            audio_end_ms=audio_end_ms,
        )
