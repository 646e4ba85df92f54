"""Helpers for the local server tests: a raw websockets client that checks every event.

Every frame the client receives must be a valid GA server event by the SDK oracle, unless it is
one of the bad frames the server was told to inject (listed in `record.raw_sent`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import math
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soxr
import websockets
from websockets.asyncio.client import ClientConnection

from tests.oracle import check_client_event, check_server_event

RATE = 24000
TIMEOUT = 5.0


class RawClient:
    """A bare websockets client of the Realtime protocol, as any third-party client would be."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.bad_frames: list[str | bytes] = []
        self.bad_frames_at: list[int] = []  # how many valid events came before each bad frame
        # says which frames were injected on purpose (they may be invalid)
        self.injected: Callable[[str | bytes], bool] | None = None

    @classmethod
    async def connect(cls, url: str, *, model: str = "gpt-realtime", **kwargs: Any) -> RawClient:
        headers = kwargs.pop("headers", {"Authorization": "Bearer test-key"})
        ws = await websockets.connect(
            f"{url}?model={model}",
            additional_headers=headers,
            max_size=None,
            compression=None,
            **kwargs,
        )
        return cls(ws)

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    async def append(self, pcm: bytes, chunk_ms: int = 20) -> None:
        step = chunk_ms * RATE // 1000 * 2
        for start in range(0, len(pcm), step):
            audio = base64.b64encode(pcm[start : start + step]).decode()
            await self.send({"type": "input_audio_buffer.append", "audio": audio})

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next valid event; injected bad frames are collected in `bad_frames`."""
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            if self.injected is not None and self.injected(frame):
                self.bad_frames.append(frame)
                self.bad_frames_at.append(len(self.events))
                continue
            check_server_event(frame)
            event = json.loads(frame)
            self.events.append(event)
            return event

    async def until(self, event_type: str, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """Events up to and including the first of `event_type`."""
        out = []
        async with asyncio.timeout(timeout):
            while True:
                event = await self.recv(timeout)
                out.append(event)
                if event["type"] == event_type:
                    return out

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def audio_of(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )


def user_text(text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }


def silence(ms: int) -> bytes:
    return bytes(ms * RATE // 1000 * 2)


def tone(ms: int, dbfs: float = -20.0, freq: float = 220.0) -> bytes:
    """A sine at `dbfs` RMS (sine RMS = peak / sqrt 2)."""
    t = np.arange(ms * RATE // 1000) / RATE
    peak = 10 ** (dbfs / 20) * math.sqrt(2) * 32767
    return (peak * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


@functools.cache
def speech(text: str = "hello, this is a test of the voice turn") -> bytes:
    """espeak-ng speech at 24 kHz PCM16 (a tone burst stands in when espeak-ng is missing)."""
    if shutil.which("espeak-ng") is None:
        return tone(1500)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
        with wave.open(str(path)) as wav:
            rate = wav.getframerate()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    resampled = soxr.resample(samples.astype(np.float32) / 32768, rate, RATE)
    return (np.clip(resampled, -1, 1) * 32767).astype("<i2").tobytes()


async def send_checked(client: RawClient, event: dict[str, Any]) -> None:
    """Send `event` after checking it against the SDK's client event models."""
    check_client_event(event)
    await client.send(event)
