"""The capture path: what runs in the PortAudio input callback.

Per device block: measure the level (a plain attribute the UI samples), resample to 24 kHz,
cut into blocks of exactly `block_samples`, then per block apply mute, the echo guard
(half duplex drops the mic while the assistant is audible, plus a hang time for the speaker
tail) or the echo canceller, and hand PCM16 bytes to the asyncio loop with
`call_soon_threadsafe` (None for a block half duplex held back: the loop still samples the
meter on it). No locks, no logging, no Textual: only numbers are copied.

With `pair_quiet` on (the session sets it while the server hears nobody in a VAD turn), a quiet
block waits for the next one and both go in one handoff: idle, the loop wakes and writes to
the socket 25 times a second instead of 50. A block that is not quiet never waits: it goes
at once, with the one that waited before it, so speech reaches the server as soon as ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tui.audio.meter import Level, LevelTap, peak_of
from tui.audio.resample import StreamResampler
from tui.constants import WIRE_RATE_HZ, EchoGuard


class EchoPath(Protocol):
    """The echo canceller's taps: far end in the output callback, near end in the input one."""

    def on_output(self, block: np.ndarray, *, silent: bool = False) -> None: ...

    def on_input(self, block: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None: ...


@dataclass
class CaptureCounters:
    callbacks: int = 0
    device_frames: int = 0
    samples_24k: int = 0  # samples produced at 24 kHz (before mute/guard)
    blocks_sent: int = 0
    blocks_muted: int = 0
    blocks_guarded: int = 0
    overflows: int = 0


QUIET_PEAK = 328  # about -40 dBFS: a block whose samples all stay under it may wait (pair_quiet)


class CaptureProcessor:
    """Turns device input blocks into 24 kHz PCM16 blocks delivered on the loop."""

    def __init__(
        self,
        *,
        device_rate: int,
        block_samples: int,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[bytes | None], None],
        echo_guard: EchoGuard = EchoGuard.HALF_DUPLEX,
        assistant_audible: Callable[[float], bool] | None = None,
        echo: EchoPath | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device_rate = device_rate
        self.block_samples = block_samples
        self.loop = loop
        self.deliver = deliver
        self.echo_guard: EchoGuard = echo_guard
        self.assistant_audible = assistant_audible
        self.echo = echo
        self.clock = clock
        self.muted = False
        self.pair_quiet = False  # quiet blocks go two at a time (see the module's docstring)
        self._held: bytes | None = None  # a quiet block waiting for the next one
        self._level = LevelTap()
        self.counters = CaptureCounters()
        self._resampler = StreamResampler(device_rate, WIRE_RATE_HZ)
        # Room for a few device blocks of resampler output before they are cut into blocks.
        self._pending = np.zeros(block_samples * 4 + 8192, dtype=np.int16)
        self._pending_len = 0

    def process(self, samples: np.ndarray, *, overflow: bool = False) -> None:
        """One device block (1-D int16 at the device rate). Runs on the audio thread."""
        counters = self.counters
        counters.callbacks += 1
        counters.device_frames += len(samples)
        if overflow:
            counters.overflows += 1
        block = self.block_samples
        if self._resampler.identity and self._pending_len == 0 and len(samples) == block:
            # the usual case (24 kHz device, blocks of block_ms): no cutting needed, and the
            # one copy (PortAudio reuses `samples`) serves both the wire and the meter
            own = samples.copy()
            self._level.keep(own)
            counters.samples_24k += block
            self._emit(own)
            return
        self._level.hold(samples)
        converted = self._resampler.process(samples)
        counters.samples_24k += len(converted)
        self._append(converted)
        while self._pending_len >= block:
            self._emit(self._pending[:block].copy())
            rest = self._pending_len - block
            self._pending[:rest] = self._pending[block : self._pending_len]
            self._pending_len = rest

    @property
    def level(self) -> Level:
        """RMS and peak of the latest device block (measured when read, not per block)."""
        return self._level.level

    def reset(self) -> None:
        """Forget partial blocks and resampler state (a new stream, unmute)."""
        self._resampler.reset()
        self._pending_len = 0
        self._held = None

    def _append(self, converted: np.ndarray) -> None:
        end = self._pending_len + len(converted)
        if end > len(self._pending):
            # A burst bigger than planned: grow once rather than drop audio.
            grown = np.zeros(end * 2, dtype=np.int16)
            grown[: self._pending_len] = self._pending[: self._pending_len]
            self._pending = grown
        self._pending[self._pending_len : end] = converted
        self._pending_len = end

    def _emit(self, block: np.ndarray) -> None:
        counters = self.counters
        if self.muted:
            counters.blocks_muted += 1
            self._held = None  # muted is muted at once: what waited is not sent either
            return
        if self.echo_guard == EchoGuard.HALF_DUPLEX and self.assistant_audible is not None:
            if self.assistant_audible(self.clock()):
                counters.blocks_guarded += 1
                if self._held is not None:  # heard before the assistant was: it goes
                    self._hand_over(self._held)
                    self._held = None
                # no audio goes out, but the loop still hears of the block: the meter moves
                self._hand_over(None)
                return
        elif self.echo_guard == EchoGuard.AEC and self.echo is not None:
            block = np.asarray(self.echo.on_input(block), dtype=np.int16)
            if block.size == 0:  # the canceller holds a partial 10 ms frame for next time
                return
        counters.blocks_sent += 1
        pcm = block.tobytes()
        held, self._held = self._held, None
        if held is not None:
            self._hand_over(held + pcm)  # in order, one handoff; this block does not wait
        elif self.pair_quiet and peak_of(pcm) < QUIET_PEAK:
            self._held = pcm  # the next block takes it along
        else:
            self._hand_over(pcm)

    def _hand_over(self, pcm: bytes | None) -> None:
        # A closed loop (the app is shutting down) raises RuntimeError: drop the block.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.deliver, pcm)
