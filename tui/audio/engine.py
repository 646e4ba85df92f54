"""The audio engine: opens the microphone and speaker streams and keeps them alive.

The session talks only to `AudioEngine`. Microphone blocks arrive on the asyncio loop as
24 kHz PCM16 through `on_capture`; assistant audio goes in with `play()`; `interrupt()`
silences the speaker within one output block and says how much of the item was heard.

Faults never stop the conversation: no PortAudio -> text-only; no usable device of a kind, a
device that refuses every rate, or one that dies mid-stream -> the other side keeps going,
the status says what happened, and a watchdog on the loop retries every `retry_interval_s`
(falling back to the system default device). `reopen()` switches devices at once. Opening,
watching and reopening the two streams is tui.audio.streams; the engine builds what runs on
them (capture, playback) and keeps the watchdog.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tui.audio import backend
from tui.audio.capture import CaptureCounters, CaptureProcessor, EchoPath
from tui.audio.cue import ToolTick
from tui.audio.meter import SILENT, Level
from tui.audio.playback import (
    PlaybackBuffer,
    PlaybackCounters,
    PlaybackRenderer,
    PlayedItem,
    decode_pcm16,
)
from tui.audio.recorder import WavRecorder
from tui.audio.streams import KINDS, AudioStatus, DeviceStreams, Kind
from tui.constants import WIRE_RATE_HZ, AudioMode, EchoGuard

# Mic frames are dropped this long after the assistant's last sample has played out, so
# the speaker's tail (and the room) does not reach the microphone in half-duplex mode.
HALF_DUPLEX_HANG_S = 0.15


class AudioEngine:
    def __init__(
        self,
        *,
        input_device: str = "",
        output_device: str = "",
        block_ms: int = 20,
        echo_guard: EchoGuard = EchoGuard.HALF_DUPLEX,
        on_capture: Callable[[bytes | None], None],
        loop: asyncio.AbstractEventLoop,
        echo_canceller: EchoPath | None = None,
        recorder: WavRecorder | None = None,
        on_status: Callable[[AudioStatus], None] | None = None,
        retry_interval_s: float = 3.0,
        watchdog_interval_s: float = 0.5,
        device_rate: int | None = None,
        latency: str | float = "low",
        enable_input: bool = True,
        enable_output: bool = True,
        output_block_ms: int | None = None,
    ) -> None:
        self.block_ms = block_ms
        # The speaker runs smaller blocks than the wire: PortAudio keeps ~2 blocks queued, so
        # 10 ms blocks make an interrupt audible ~20 ms sooner than 20 ms blocks would.
        self.output_block_ms = output_block_ms or min(block_ms, 10)
        self._echo_guard: EchoGuard = echo_guard
        self.on_capture = on_capture
        self.loop = loop
        self.echo = echo_canceller
        self.recorder = recorder
        self.on_status = on_status
        self.watchdog_interval_s = watchdog_interval_s
        self.devices: dict[Kind, str] = {"input": input_device, "output": output_device}
        self.buffer = PlaybackBuffer()
        self.tick = ToolTick()  # the optional click while a tool works (tui.audio.cue)
        self._streams = DeviceStreams(
            build=self._build,
            block_ms=block_ms,
            output_block_ms=self.output_block_ms,
            latency=latency,
            device_rate=device_rate,
            retry_interval_s=retry_interval_s,
            wanted={"input": enable_input, "output": enable_output},
        )
        self._sides = self._streams.sides
        self._muted = False
        self._status = AudioStatus(AudioMode.TEXT_ONLY, "audio not started")
        self._watchdog: asyncio.TimerHandle | None = None
        self._running = False

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> AudioStatus:
        """Open the streams; returns what works. Never raises for device trouble."""
        self._running = True
        streams = self._streams
        streams.sd = backend.load()
        if streams.sd is None:
            self._status = AudioStatus(AudioMode.TEXT_ONLY, backend.UNAVAILABLE_MESSAGE)
            return self._status
        self._reset_echo()
        streams.open_missing(self.devices)
        self._status = streams.status()
        streams.next_retry = time.monotonic() + streams.retry_interval_s
        self._schedule_watchdog()
        return self._status

    def stop(self) -> None:
        """Close both streams and stop the watchdog. Queued playback stays in the buffer."""
        self._running = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for kind in KINDS:
            self._streams.close(kind)

    def reopen(self, input_device: str, output_device: str) -> AudioStatus:
        """Switch devices now (the user picked one); re-reads the device list first."""
        self.devices = {"input": input_device, "output": output_device}
        streams = self._streams
        if not self._running or streams.sd is None:
            return self.start()
        for kind in KINDS:
            streams.close(kind)
            self._sides[kind].problem = ""
        streams.reinitialize()
        self._reset_echo()
        streams.open_missing(self.devices)
        streams.next_retry = time.monotonic() + streams.retry_interval_s
        return self._set_status(streams.status())

    @property
    def input_device(self) -> str:
        return self.devices["input"]

    @property
    def output_device(self) -> str:
        return self.devices["output"]

    @property
    def status(self) -> AudioStatus:
        return self._status

    # -- playback -----------------------------------------------------------------------------
    def play(self, item_id: str, pcm: bytes) -> None:
        """Queue assistant audio (24 kHz PCM16). Odd byte counts raise MalformedAudioError."""
        samples = decode_pcm16(pcm)
        if self._sides["output"].stream is None:
            self.buffer.count_received(item_id, len(samples))  # nothing to play it on
            return
        self.buffer.push(item_id, samples)

    def interrupt(self) -> PlayedItem | None:
        """Silence the speaker now; the item that was playing with its heard/received ms."""
        side = self._sides["output"]
        renderer: PlaybackRenderer | None = side.processor
        unplayed = 0
        linger = self._output_latency_s() + 0.05
        if renderer is not None:
            unplayed = renderer.lookahead_24k()
            renderer.request_flush()
        return self.buffer.clear(linger_s=linger, unplayed=unplayed)

    def played_ms(self, item_id: str) -> int:
        return self.buffer.played_ms(item_id)

    def received_ms(self, item_id: str) -> int:
        return self.buffer.received_ms(item_id)

    def first_audible_at(self, item_id: str) -> float | None:
        return self.buffer.first_audible_at(item_id)

    @property
    def audible(self) -> bool:
        """Assistant audio is queued or still playing out of the device."""
        return self.buffer.audible(time.monotonic(), self._output_latency_s())

    def set_tick(self, on: bool) -> None:
        """The tool tick on (a click each second into the speaker's silence) or off now."""
        self.tick.arm(on)

    # -- microphone ---------------------------------------------------------------------------
    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        was = self._muted
        self._muted = bool(value)
        capture: CaptureProcessor | None = self._sides["input"].processor
        if capture is not None:
            capture.muted = self._muted
        if was and not self._muted:
            self._reset_echo()

    @property
    def echo_guard(self) -> EchoGuard:
        return self._echo_guard

    @echo_guard.setter
    def echo_guard(self, value: EchoGuard) -> None:
        self._echo_guard = value
        capture: CaptureProcessor | None = self._sides["input"].processor
        if capture is not None:
            capture.echo_guard = value
        renderer: PlaybackRenderer | None = self._sides["output"].processor
        if renderer is not None:
            renderer.echo = self.echo if value == EchoGuard.AEC else None
        self._reset_echo()

    @property
    def input_level(self) -> Level:
        capture = self._sides["input"].processor
        return SILENT if capture is None else capture.level

    @property
    def output_level(self) -> Level:
        renderer = self._sides["output"].processor
        return SILENT if renderer is None else renderer.level

    # -- introspection (tests, benchmarks, the status line) ----------------------------------
    @property
    def capture_counters(self) -> CaptureCounters | None:
        capture = self._sides["input"].processor
        return None if capture is None else capture.counters

    @property
    def playback_counters(self) -> PlaybackCounters | None:
        renderer = self._sides["output"].processor
        return None if renderer is None else renderer.counters

    @property
    def input_rate(self) -> int | None:
        return self._sides["input"].rate or None

    @property
    def output_rate(self) -> int | None:
        return self._sides["output"].rate or None

    @property
    def input_stream(self) -> Any:
        return self._sides["input"].stream

    @property
    def output_stream(self) -> Any:
        return self._sides["output"].stream

    @property
    def capture_processor(self) -> CaptureProcessor | None:
        processor: CaptureProcessor | None = self._sides["input"].processor
        return processor

    @property
    def playback_renderer(self) -> PlaybackRenderer | None:
        renderer: PlaybackRenderer | None = self._sides["output"].processor
        return renderer

    # -- what runs on an opened stream ------------------------------------------------------
    def _build(self, kind: Kind, rate: int) -> tuple[Any, Callable[..., None]]:
        """The processor for a stream of this kind at the device's rate, and its callback."""
        if kind == "input":
            capture = CaptureProcessor(
                device_rate=rate,
                block_samples=round(WIRE_RATE_HZ * self.block_ms / 1000),
                loop=self.loop,
                deliver=self._deliver,
                echo_guard=self._echo_guard,
                assistant_audible=self._assistant_audible,
                echo=self.echo,
            )
            capture.muted = self._muted

            def input_callback(indata: np.ndarray, frames: int, _t: Any, status: Any) -> None:
                capture.process(indata[:, 0], overflow=bool(status.input_overflow))

            return capture, input_callback
        renderer = PlaybackRenderer(
            self.buffer,
            device_rate=rate,
            echo=self.echo if self._echo_guard == EchoGuard.AEC else None,
            recorder=self.recorder,
            tick=self.tick,
        )

        def output_callback(outdata: np.ndarray, frames: int, _t: Any, status: Any) -> None:
            renderer.render(outdata[:, 0], underflow=bool(status.output_underflow))

        return renderer, output_callback

    # -- the watchdog (runs on the loop) ------------------------------------------------------
    def _schedule_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()  # start() twice must not run two watchdogs
            self._watchdog = None
        if self._running:
            self._watchdog = self.loop.call_later(self.watchdog_interval_s, self._check)

    def _check(self) -> None:
        if self._streams.check(time.monotonic(), self.devices):
            self._set_status(self._streams.status())
        self._schedule_watchdog()

    def _set_status(self, status: AudioStatus) -> AudioStatus:
        if status != self._status:
            self._status = status
            if self.on_status is not None:
                self.on_status(status)
        return status

    # -- glue ---------------------------------------------------------------------------------
    def _deliver(self, pcm: bytes | None) -> None:
        """On the loop: record (off-thread) and hand the block to the session (None: a block
        the echo guard held back, for the meter's sake)."""
        if pcm is not None and self.recorder is not None:
            self.recorder.write_mic(pcm)
        self.on_capture(pcm)

    def _assistant_audible(self, now: float) -> bool:
        """Half duplex drops the mic while this holds: the assistant's audio (and the room's
        tail of it), or the tool tick, which the mic must not send either."""
        latency = self._output_latency_s()
        return self.buffer.audible(now, latency + HALF_DUPLEX_HANG_S) or self.tick.sounding(
            now, latency
        )

    def _output_latency_s(self) -> float:
        return self._streams.out_latency_s if self._sides["output"].stream is not None else 0.0

    def _reset_echo(self) -> None:
        if self.echo is not None:
            self.echo.reset()
        capture = self._sides["input"].processor
        if capture is not None:
            capture.reset()
