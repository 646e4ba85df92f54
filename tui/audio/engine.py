"""The audio engine: opens the microphone and speaker streams and keeps them alive.

The session talks only to `AudioEngine`. Microphone blocks arrive on the asyncio loop as
24 kHz PCM16 through `on_capture`; assistant audio goes in with `play()`; `interrupt()`
silences the speaker within one output block and says how much of the item was heard.

Faults never stop the conversation: no PortAudio -> text-only; no usable device of a kind, a
device that refuses every rate, or one that dies mid-stream -> the other side keeps going,
the status says what happened, and a watchdog on the loop retries every `retry_interval_s`
(falling back to the system default device). `reopen()` switches devices at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

from tui.audio import backend, devices
from tui.audio.capture import CaptureCounters, CaptureProcessor, EchoPath
from tui.audio.meter import SILENT, Level
from tui.audio.playback import (
    PlaybackBuffer,
    PlaybackCounters,
    PlaybackRenderer,
    PlayedItem,
    decode_pcm16,
)
from tui.audio.recorder import WavRecorder
from tui.constants import WIRE_RATE_HZ, AudioMode, EchoGuard
from tui.errors import AudioError, DeviceNotFoundError

# Tried in order when the device does not take 24 kHz (after its own default rate).
COMMON_RATES = (48000, 44100, 32000, 16000, 22050, 96000, 8000)
# Mic frames are dropped this long after the assistant's last sample has played out, so
# the speaker's tail (and the room) does not reach the microphone in half-duplex mode.
HALF_DUPLEX_HANG_S = 0.15
# A stream whose callbacks stop advancing for this long is treated as failed.
STALL_S = 1.5


@dataclass(frozen=True)
class AudioStatus:
    mode: AudioMode
    message: str = ""


@dataclass
class _Side:
    """One direction: the stream, its processor, and why it is missing if it is."""

    stream: Any = None
    processor: Any = None
    rate: int = 0
    device_name: str = ""
    problem: str = ""
    last_callbacks: int = -1
    stalled_since: float | None = None


class AudioEngine:
    def __init__(
        self,
        *,
        input_device: str = "",
        output_device: str = "",
        block_ms: int = 20,
        echo_guard: EchoGuard = EchoGuard.HALF_DUPLEX,
        on_capture: Callable[[bytes], None],
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
        self.input_device = input_device
        self.output_device = output_device
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
        self.retry_interval_s = retry_interval_s
        self.watchdog_interval_s = watchdog_interval_s
        self.device_rate = device_rate
        self.latency = latency
        self._wanted = {"input": enable_input, "output": enable_output}
        self.buffer = PlaybackBuffer()
        self._sides = {"input": _Side(), "output": _Side()}
        self._muted = False
        self._sd: ModuleType | None = None
        self._status = AudioStatus(AudioMode.TEXT_ONLY, "audio not started")
        self._watchdog: asyncio.TimerHandle | None = None
        self._next_retry = 0.0
        self._running = False
        self._out_latency_s = 0.0  # cached: read from the audio thread by the echo guard

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> AudioStatus:
        """Open the streams; returns what works. Never raises for device trouble."""
        self._running = True
        self._sd = backend.load()
        if self._sd is None:
            self._status = AudioStatus(AudioMode.TEXT_ONLY, backend.UNAVAILABLE_MESSAGE)
            return self._status
        self._reset_echo()
        self._open_missing()
        self._status = self._compute_status()
        self._next_retry = time.monotonic() + self.retry_interval_s
        self._schedule_watchdog()
        return self._status

    def stop(self) -> None:
        """Close both streams and stop the watchdog. Queued playback stays in the buffer."""
        self._running = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for kind in ("input", "output"):
            self._close(kind)

    def reopen(self, input_device: str, output_device: str) -> AudioStatus:
        """Switch devices now (the user picked one); re-reads the device list first."""
        self.input_device = input_device
        self.output_device = output_device
        if not self._running or self._sd is None:
            return self.start()
        for kind in ("input", "output"):
            self._close(kind)
            self._sides[kind].problem = ""
        self._reinitialize()
        self._reset_echo()
        self._open_missing()
        self._next_retry = time.monotonic() + self.retry_interval_s
        return self._set_status(self._compute_status())

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
        return self._sides["input"].processor

    @property
    def playback_renderer(self) -> PlaybackRenderer | None:
        return self._sides["output"].processor

    # -- opening ------------------------------------------------------------------------------
    def _open_missing(self) -> None:
        for kind in ("input", "output"):
            side = self._sides[kind]
            if self._wanted[kind] and side.stream is None:
                side.problem = self._try_open(kind)

    def _try_open(self, kind: Literal["input", "output"]) -> str:
        """Open one side; returns "" or a note (fallback used) or the reason it failed."""
        sd = self._sd
        assert sd is not None
        spec = self.input_device if kind == "input" else self.output_device
        note = ""
        index: int | None = None
        try:
            index = devices.resolve(spec, kind, devices.list_devices(sd))
        except DeviceNotFoundError as exc:
            note = f"{exc} Using the system default instead."
        except Exception as exc:  # PortAudioError while listing: fall back to the default
            note = f"could not list devices ({exc})."
        try:
            self._open(kind, index)
            return note
        except Exception as exc:  # PortAudioError, ValueError, AudioError: the side is off
            if index is not None:
                # The chosen device failed: the system default may still work.
                try:
                    self._open(kind, None)
                    return f"{self._describe(kind, spec)} failed ({exc}); using the system default."
                except Exception as default_exc:
                    exc = default_exc
            return f"{note} {exc}".strip() if note else str(exc)

    def _describe(self, kind: str, spec: str) -> str:
        what = "Microphone" if kind == "input" else "Speaker"
        return f"{what} {spec!r}" if spec else what

    def _pick_rate(self, kind: str, index: int | None) -> int:
        sd = self._sd
        assert sd is not None
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        if self.device_rate is not None:
            candidates: list[int] = [self.device_rate]
        else:
            candidates = [WIRE_RATE_HZ]
            try:
                default_rate = int(sd.query_devices(index, kind=kind)["default_samplerate"])
            except Exception:
                default_rate = 0
            if default_rate > 0:
                candidates.append(default_rate)
            candidates.extend(COMMON_RATES)
        errors = []
        for rate in dict.fromkeys(candidates):
            try:
                check(device=index, channels=1, dtype="int16", samplerate=rate)
                return rate
            except Exception as exc:  # PortAudioError / ValueError: try the next rate
                errors.append(f"{rate} Hz: {exc}")
        device = "the default device" if index is None else f"device {index}"
        raise AudioError(
            f"{device} refuses every sample rate tried ({', '.join(map(str, candidates))} Hz); "
            f"last error: {errors[-1] if errors else 'none'}"
        )

    def _open(self, kind: Literal["input", "output"], index: int | None) -> None:
        sd = self._sd
        assert sd is not None
        if index is None:
            try:
                sd.query_devices(kind=kind)
            except Exception as exc:  # PortAudioError "Error querying device -1"
                what = "microphone" if kind == "input" else "speaker"
                raise AudioError(
                    f"no {what} found ({exc}); plug one in or start the sound server"
                ) from exc
        rate = self._pick_rate(kind, index)
        block_ms = self.block_ms if kind == "input" else self.output_block_ms
        blocksize = max(1, round(rate * block_ms / 1000))
        options = {
            "device": index,
            "samplerate": rate,
            "channels": 1,
            "dtype": "int16",
            "blocksize": blocksize,
            "latency": self.latency,
        }
        side = self._sides[kind]
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

            stream = sd.InputStream(callback=input_callback, **options)
            processor: Any = capture
        else:
            renderer = PlaybackRenderer(
                self.buffer,
                device_rate=rate,
                echo=self.echo if self._echo_guard == EchoGuard.AEC else None,
                recorder=self.recorder,
            )

            def output_callback(outdata: np.ndarray, frames: int, _t: Any, status: Any) -> None:
                renderer.render(outdata[:, 0], underflow=bool(status.output_underflow))

            stream = sd.OutputStream(callback=output_callback, **options)
            processor = renderer
        try:
            stream.start()
        except Exception:
            stream.close(ignore_errors=True)
            raise
        if kind == "output":
            self._out_latency_s = float(stream.latency)
        side.stream = stream
        side.processor = processor
        side.rate = rate
        side.last_callbacks = -1
        side.stalled_since = None
        try:
            side.device_name = str(sd.query_devices(stream.device)["name"])
        except Exception:
            side.device_name = str(stream.device)

    def _close(self, kind: str) -> None:
        side = self._sides[kind]
        stream = side.stream
        side.stream = None
        side.processor = None
        side.rate = 0
        if stream is not None:
            with contextlib.suppress(Exception):  # a dead device may complain; it is closed
                stream.close(ignore_errors=True)

    def _reinitialize(self) -> None:
        """Re-read the device list, only possible with no stream open (pitfall 6)."""
        if self._sd is None or any(side.stream is not None for side in self._sides.values()):
            return
        with contextlib.suppress(Exception):
            backend.reinitialize(self._sd)

    # -- the watchdog (runs on the loop) ------------------------------------------------------
    def _schedule_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()  # start() twice must not run two watchdogs
            self._watchdog = None
        if self._running:
            self._watchdog = self.loop.call_later(self.watchdog_interval_s, self._check)

    def _check(self) -> None:
        now = time.monotonic()
        changed = False
        for kind in ("input", "output"):
            side = self._sides[kind]
            if side.stream is None:
                continue
            callbacks = side.processor.counters.callbacks
            if callbacks != side.last_callbacks:
                side.last_callbacks = callbacks
                side.stalled_since = None
            elif side.stalled_since is None:
                side.stalled_since = now
            dead = not side.stream.active
            stalled = side.stalled_since is not None and now - side.stalled_since >= STALL_S
            if dead or stalled:
                name = side.device_name or "device"
                what = "Microphone" if kind == "input" else "Speaker"
                self._close(kind)
                side.problem = f"{what} {name!r} stopped working mid-stream."
                changed = True
                self._next_retry = now  # retry at once, then every retry_interval_s
        missing = [k for k in ("input", "output") if self._wanted[k] and not self._sides[k].stream]
        if missing and now >= self._next_retry:
            self._next_retry = now + self.retry_interval_s
            self._reinitialize()
            for kind in missing:
                problem = self._try_open(kind)
                if self._sides[kind].stream is not None:
                    self._sides[kind].problem = problem
                    changed = True
                elif not self._sides[kind].problem:
                    self._sides[kind].problem = problem
        if changed:
            self._set_status(self._compute_status())
        self._schedule_watchdog()

    def _set_status(self, status: AudioStatus) -> AudioStatus:
        if status != self._status:
            self._status = status
            if self.on_status is not None:
                self.on_status(status)
        return status

    def _compute_status(self) -> AudioStatus:
        has_in = self._sides["input"].stream is not None
        has_out = self._sides["output"].stream is not None
        if has_in and has_out:
            mode = AudioMode.FULL
        elif has_out:
            mode = AudioMode.OUTPUT_ONLY
        elif has_in:
            mode = AudioMode.INPUT_ONLY
        else:
            mode = AudioMode.TEXT_ONLY
        notes = []
        for kind, what in (("input", "Microphone"), ("output", "Speaker")):
            side = self._sides[kind]
            if not self._wanted[kind]:
                continue
            if side.stream is None:
                notes.append(f"{what} unavailable: {side.problem or 'no device'}")
            elif side.problem:
                notes.append(side.problem)
        if mode is not AudioMode.FULL and any(self._wanted.values()):
            secs = f"{self.retry_interval_s:g}"
            notes.append(f"Running {mode.replace('_', ' ')}; retrying every {secs} s.")
        return AudioStatus(mode, " ".join(notes))

    # -- glue ---------------------------------------------------------------------------------
    def _deliver(self, pcm: bytes) -> None:
        """On the loop: record (off-thread) and hand the block to the session."""
        if self.recorder is not None:
            self.recorder.write_mic(pcm)
        self.on_capture(pcm)

    def _assistant_audible(self, now: float) -> bool:
        return self.buffer.audible(now, self._output_latency_s() + HALF_DUPLEX_HANG_S)

    def _output_latency_s(self) -> float:
        return self._out_latency_s if self._sides["output"].stream is not None else 0.0

    def _reset_echo(self) -> None:
        if self.echo is not None:
            self.echo.reset()
        capture = self._sides["input"].processor
        if capture is not None:
            capture.reset()
