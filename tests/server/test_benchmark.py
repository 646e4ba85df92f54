"""Figures for the local server (printed, never asserted on): CPU per reply, VAD throughput.

Run: python -m pytest -m benchmark -s tests/server/test_benchmark.py
"""

from __future__ import annotations

import time

import pytest

from tests.server import RawClient, silence, speech, user_text
from tui.constants import WIRE_BYTES_PER_MS
from tui.localserver import EnergyVad, LocalServer


@pytest.mark.benchmark
async def test_cpu_of_a_streamed_reply_at_default_pace() -> None:
    text = "x" * 200  # capped at 6 s of reply audio
    async with LocalServer() as server, await RawClient.connect(server.url) as client:
        await client.recv()
        await client.send(user_text(text))
        await client.until("conversation.item.done")
        wall = time.perf_counter()
        cpu = time.process_time()
        await client.send({"type": "response.create"})
        events = await client.until("response.done", timeout=30)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
    audio_s = events[-1]["response"]["usage"]["output_token_details"]["audio_tokens"] * 0.05
    print(
        f"\nreply of {audio_s:.1f} s audio streamed in {wall:.2f} s wall "
        f"({audio_s / wall:.1f}x real time); CPU (server and client in this process) "
        f"{cpu * 1000:.0f} ms = {100 * cpu / wall:.1f}% of one core"
    )


@pytest.mark.benchmark
def test_vad_throughput() -> None:
    audio = (silence(500) + speech() + silence(1000)) * 20
    vad = EnergyVad()
    cpu = time.process_time()
    for start in range(0, len(audio), 20 * WIRE_BYTES_PER_MS):
        vad.feed(audio[start : start + 20 * WIRE_BYTES_PER_MS])
    cpu = time.process_time() - cpu
    audio_s = len(audio) / WIRE_BYTES_PER_MS / 1000
    print(
        f"\nVAD: {audio_s:.0f} s of audio in 20 ms chunks took {cpu * 1000:.0f} ms CPU "
        f"({audio_s / cpu:.0f}x real time)"
    )
