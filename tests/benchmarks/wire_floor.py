"""The wire floor: the cheapest client of the Realtime protocol this machine can run, for
bench_app to measure beside rt-tui in the same rounds.

    python -m tests.benchmarks.wire_floor ws://127.0.0.1:PORT/v1/realtime

A bare sounddevice pair with rt-tui's block sizes (input 20 ms, output 10 ms, 24 kHz), each
microphone block sent at once as an `input_audio_buffer.append` (JSON text built by hand),
every `response.output_audio.delta` decoded into a buffer the output callback plays. No UI,
no echo handling, no history, no reconnection: what is left is what any client of this
protocol pays (the audio callbacks, one loop wakeup and one socket write a block, parsing the
replies). It prints what the bench's screen checks look for: "● live" and "listening" once
the session started, and "I heard" when the parrot's transcript says so.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import os
import sys
import termios
import threading
import tty

import numpy as np
import sounddevice as sd
import websockets

RATE = 24_000


class Speaker:
    """Reply audio in, 10 ms blocks out (the output callback), silence when empty: chunks
    in a deque and an offset into the first, so a reply arriving faster than real time
    never costs a copy of what waits behind it."""

    def __init__(self) -> None:
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._offset = 0

    def push(self, pcm: bytes) -> None:
        self._chunks.append(np.frombuffer(pcm, dtype="<i2"))  # append is atomic

    def callback(self, outdata: np.ndarray, frames: int, when: object, status: object) -> None:
        out = outdata[:, 0]
        if not self._chunks:
            out.fill(0)
            return
        filled = 0
        while filled < frames and self._chunks:
            chunk = self._chunks[0]
            take = min(frames - filled, chunk.size - self._offset)
            out[filled : filled + take] = chunk[self._offset : self._offset + take]
            filled += take
            self._offset += take
            if self._offset == chunk.size:
                self._chunks.popleft()
                self._offset = 0
        out[filled:] = 0


async def converse(url: str) -> None:
    loop = asyncio.get_running_loop()
    headers = {"Authorization": "Bearer wire-floor-not-a-key"}
    async with websockets.connect(
        f"{url}?model=gpt-realtime-2", additional_headers=headers, compression=None
    ) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "session.created", first

        def send(pcm: bytes) -> None:
            # rt-tui's own direct write (a task per block would cost more than the floor)
            audio = base64.b64encode(pcm).decode("ascii")
            text = '{"type":"input_audio_buffer.append","audio":"' + audio + '"}'
            ws.protocol.send_text(text.encode())
            ws.send_data()

        def on_input(indata: np.ndarray, frames: int, when: object, status: object) -> None:
            loop.call_soon_threadsafe(send, indata.tobytes())

        speaker = Speaker()
        streams = [
            sd.InputStream(samplerate=RATE, blocksize=480, channels=1, dtype="int16",
                           callback=on_input, latency="low"),
            sd.OutputStream(samplerate=RATE, blocksize=240, channels=1, dtype="int16",
                            callback=speaker.callback, latency="low"),
        ]  # fmt: skip
        for stream in streams:
            stream.start()
        print("● live, listening", flush=True)
        quit_key = asyncio.Event()
        threading.Thread(target=wait_for_a_key, args=(loop, quit_key), daemon=True).start()
        reading = asyncio.ensure_future(read(ws, speaker))
        await quit_key.wait()
        reading.cancel()
        for stream in streams:
            stream.close()


def wait_for_a_key(loop: asyncio.AbstractEventLoop, pressed: asyncio.Event) -> None:
    """Any key quits (the bench sends ctrl+q, as to rt-tui): raw mode, so the terminal
    hands it over rather than taking it for flow control."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        os.read(fd, 1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        loop.call_soon_threadsafe(pressed.set)


async def read(ws: websockets.ClientConnection, speaker: Speaker) -> None:
    async for message in ws:
        event = json.loads(message)
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            speaker.push(base64.b64decode(event["delta"]))
        elif kind == "response.output_audio_transcript.done" and "I heard" in str(
            event.get("transcript")
        ):
            print("I heard", flush=True)


if __name__ == "__main__":
    asyncio.run(converse(sys.argv[1]))
