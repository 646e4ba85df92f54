"""Test helpers for the session: a change recorder to await on, a scripted audio engine,
and the rooms on a desk (no server, no devices)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from tui.audio.engine import AudioStatus
from tui.audio.meter import Level
from tui.audio.playback import PlayedItem
from tui.changes import Change, Turn, TurnFinished
from tui.config import Settings, with_value
from tui.realtime.events import BadEvent, ServerEvent, parse
from tui.session.effects import Effect, Send, WriteHistory
from tui.session.rooms import Rooms

SERVER_POLL_S = 0.02


class ChangeRecorder:
    """The session's listener: keeps every change and lets a test await a condition."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._arrived = asyncio.Condition()
        self._pending = False

    def __call__(self, change: Change) -> None:
        self.changes.append(change)
        if not self._pending:
            self._pending = True
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._arrived:
            self._pending = False
            self._arrived.notify_all()

    def of(self, kind: type) -> list[Any]:
        return [c for c in self.changes if isinstance(c, kind)]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = ""
    ) -> Any:
        """Resolve when predicate() is truthy: checked after every change, and every 20 ms
        for conditions on the server side, which no session change announces."""

        async def waiter() -> Any:
            async with self._arrived:
                while not (result := predicate()):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._arrived.wait(), SERVER_POLL_S)
                return result

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what or predicate}; last changes: {self.changes[-8:]}"
            ) from None


@dataclass
class ScriptedAudio:
    """Stands in for AudioEngine where a test must control exactly what 'reached the speaker'.

    `play()` queues audio; `advance(ms)` plays that much of the queue, as the output callback
    would. Real PortAudio behaviour is covered by tests/audio and the audio e2e test.
    """

    on_capture: Callable[[bytes], None]
    kwargs: dict[str, Any] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)
    played: dict[str, float] = field(default_factory=dict)
    first_audible: dict[str, float] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    muted: bool = False
    echo_guard: str = "off"
    interrupts: int = 0
    stopped: bool = False
    tick_armed: bool = False  # the tool tick (tui.audio.cue), as the session last set it
    # the engine's capture processor, as far as the session touches it (pair_quiet)
    capture_processor: Any = field(default_factory=lambda: SimpleNamespace(pair_quiet=False))
    input_level: Level = field(default_factory=Level)
    output_level: Level = field(default_factory=Level)

    @classmethod
    def factory(cls, holder: list[ScriptedAudio]) -> Callable[..., ScriptedAudio]:
        def make(**kwargs: Any) -> ScriptedAudio:
            audio = cls(on_capture=kwargs["on_capture"], kwargs=kwargs)
            holder.append(audio)
            return audio

        return make

    def start(self) -> AudioStatus:
        return AudioStatus("full", "")

    def stop(self) -> None:
        self.stopped = True

    def reopen(self, input_device: str, output_device: str) -> AudioStatus:
        self.kwargs.update(input_device=input_device, output_device=output_device)
        return AudioStatus("full", "")

    def play(self, item_id: str, pcm: bytes) -> None:
        if len(pcm) % 2:
            raise ValueError("odd byte count")
        self.received[item_id] = self.received.get(item_id, 0.0) + len(pcm) / 48
        self.played.setdefault(item_id, 0.0)
        if item_id not in self.queue:
            self.queue.append(item_id)

    def set_tick(self, on: bool) -> None:
        self.tick_armed = on

    def advance(self, ms: float) -> None:
        while ms > 0 and self.queue:
            item = self.queue[0]
            room = self.received[item] - self.played[item]
            step = min(room, ms)
            if step > 0:
                self.first_audible.setdefault(item, time.monotonic())
            self.played[item] += step
            ms -= step
            if self.played[item] >= self.received[item]:
                self.queue.pop(0)

    def interrupt(self) -> PlayedItem | None:
        self.interrupts += 1
        if not self.queue:
            return None
        item = self.queue[0]
        self.queue.clear()
        return PlayedItem(item, int(self.played[item]), int(self.received[item]))

    def played_ms(self, item_id: str) -> int:
        return int(self.played.get(item_id, 0))

    def received_ms(self, item_id: str) -> int:
        return int(self.received.get(item_id, 0))

    def first_audible_at(self, item_id: str) -> float | None:
        return self.first_audible.get(item_id)

    @property
    def audible(self) -> bool:
        return bool(self.queue)

    def capture(self, pcm: bytes) -> None:
        """A microphone block, as the engine hands it to the session on the loop."""
        self.on_capture(pcm)


def server_event(kind: str, **fields: Any) -> ServerEvent:
    """A server event as the parser makes it from a frame (audio deltas decoded)."""
    event = parse(json.dumps({"type": kind, "event_id": "evt_1", **fields}))
    assert isinstance(event, ServerEvent), event
    return event


def audio_delta(item_id: str, ms: int, response_id: str = "resp_1") -> ServerEvent:
    pcm = b"\x01\x00" * (24 * ms)
    return server_event(
        "response.output_audio.delta",
        response_id=response_id,
        item_id=item_id,
        output_index=0,
        content_index=0,
        delta=base64.b64encode(pcm).decode(),
    )


class Desk:
    """The session's rooms with no connection and no devices, and a stand-in for what the
    controller does with their effects: sends, changes and history writes are kept in
    order, and a finished turn passes the history gate as it does in the controller."""

    def __init__(self, **values: Any) -> None:
        self.settings = with_value(Settings(), "audio.echo_guard", "half_duplex")
        for path, value in values.items():
            self.settings = with_value(self.settings, path.replace("__", "."), value)
        self.now = 100.0
        self.audio: list[ScriptedAudio] = []
        self.rooms = Rooms.build(
            lambda: self.settings,
            api_key="sk-test-desk-0123456789",
            audio_enabled=True,
            audio_factory=ScriptedAudio.factory(self.audio),
            on_capture=lambda pcm: None,
            on_audio_status=lambda status: None,
            clock=lambda: self.now,
        )
        self.rooms.link.start(self.settings, loop=cast(Any, None), history=None, muted=False)
        self.log: list[Any] = []  # every effect, in order
        self.written: list[Turn] = []

    @property
    def speaker(self) -> ScriptedAudio:
        return self.audio[0]

    def act(self, effects: list[Effect]) -> None:
        for effect in effects:
            self.log.append(effect)
            if isinstance(effect, WriteHistory):
                self.written.append(effect.turn)
            elif isinstance(effect, TurnFinished):
                self.written += self.rooms.gate.finished(effect.turn, self.rooms.link.engine)
        self.rooms.tool_tick.follow()  # as the controller does after each batch

    def receive(self, event: ServerEvent | BadEvent, *, inspect: bool = False) -> list[Any]:
        """Route one event; returns the effects it had."""
        start = len(self.log)
        for effects in self.rooms.router.route(event, inspect=inspect):
            self.act(effects)
        return self.log[start:]

    def of(self, kind: type) -> list[Any]:
        return [effect for effect in self.log if isinstance(effect, kind)]

    def sent(self) -> list[str]:
        return [effect.event["type"] for effect in self.of(Send)]

    def reply(self, item_id: str = "item_A", response_id: str = "resp_1", ms: int = 0) -> None:
        """The server starts a spoken reply (and streams `ms` of its audio)."""
        item = {"id": item_id, "type": "message", "role": "assistant", "content": []}
        self.receive(server_event("response.created", response={"id": response_id}))
        self.receive(
            server_event(
                "response.output_item.added", response_id=response_id, output_index=0, item=item
            )
        )
        if ms:
            self.receive(audio_delta(item_id, ms, response_id))

    def reply_done(self, response_id: str = "resp_1", status: str = "completed") -> None:
        self.receive(server_event("response.done", response={"id": response_id, "status": status}))
