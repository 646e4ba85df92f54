"""The two device streams: opened with fallbacks, watched, reopened, summed up in a status.

A side (microphone or speaker) is opened at 24 kHz if the device takes it, else at the
device's own default rate, else at a common rate; a chosen device that fails falls back to
the system default. A side that cannot open stays off with the reason, and the other side
keeps going. The engine's watchdog calls `check()`: a stream that died, or whose callbacks
stopped advancing for `STALL_S`, is closed, and a missing side is retried every
`retry_interval_s` (re-reading the device list first when no stream is open). `status()`
says what works, as an `AudioStatus`.

What runs on an open stream (the capture processor or the playback renderer, and the
PortAudio callback feeding it) is the engine's: it hands in `build(kind, rate)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from tui.audio import backend, devices
from tui.constants import WIRE_RATE_HZ, AudioMode
from tui.errors import AudioError, DeviceNotFoundError

Kind = Literal["input", "output"]
KINDS: tuple[Kind, Kind] = ("input", "output")
# Tried in order when the device does not take 24 kHz (after its own default rate).
COMMON_RATES = (48000, 44100, 32000, 16000, 22050, 96000, 8000)
# A stream whose callbacks stop advancing for this long is treated as failed.
STALL_S = 1.5

# the processor that runs on a stream of this kind and rate, and the PortAudio callback
Build = Callable[[Kind, int], tuple[Any, Callable[..., None]]]


@dataclass(frozen=True)
class AudioStatus:
    """What the devices can do: `message` is one clear sentence per device (the status line),
    `details` the sound system's own words for each failure (the inspector)."""

    mode: AudioMode
    message: str = ""
    details: tuple[str, ...] = ()


@dataclass
class Side:
    """One direction: the stream, its processor, and why it is missing if it is."""

    stream: Any = None
    processor: Any = None
    rate: int = 0
    device_name: str = ""
    problem: str = ""  # one sentence a user can act on
    detail: str = ""  # PortAudio's raw words for it, for the inspector
    last_callbacks: int = -1
    stalled_since: float | None = None


SENTENCE_GAP = " · "


def _what(kind: str) -> str:
    return "Microphone" if kind == "input" else "Speaker"


def _raw(exc: BaseException) -> str:
    """The sound system's own words: the PortAudio error under our sentence, if there is one."""
    cause = exc.__cause__
    return str(cause) if cause is not None and str(cause) else str(exc)


def _sentence(kind: str, exc: BaseException) -> str:
    """A sentence a user can act on. Our own errors are one already; PortAudio's are not."""
    if isinstance(exc, AudioError):
        return str(exc)
    return f"{_what(kind)} could not be opened (the inspector has the sound system's words)."


class DeviceStreams:
    def __init__(
        self,
        *,
        build: Build,
        block_ms: int,
        output_block_ms: int,
        latency: str | float,
        device_rate: int | None,
        retry_interval_s: float,
        wanted: dict[Kind, bool],
    ) -> None:
        self._build = build
        self._block_ms = {"input": block_ms, "output": output_block_ms}
        self._latency = latency
        self._device_rate = device_rate  # a test hook: only this rate is tried
        self.retry_interval_s = retry_interval_s
        self.wanted = wanted
        self.sd: ModuleType | None = None
        self.sides: dict[Kind, Side] = {"input": Side(), "output": Side()}
        self.next_retry = 0.0
        self.out_latency_s = 0.0  # cached: read from the audio thread by the echo guard

    def open_missing(self, specs: dict[Kind, str]) -> None:
        for kind in KINDS:
            side = self.sides[kind]
            if self.wanted[kind] and side.stream is None:
                side.problem = self._try_open(kind, specs[kind])

    def close(self, kind: Kind) -> None:
        side = self.sides[kind]
        stream = side.stream
        side.stream = None
        side.processor = None
        side.rate = 0
        if stream is not None:
            with contextlib.suppress(Exception):  # a dead device may complain; it is closed
                stream.close(ignore_errors=True)

    def reinitialize(self) -> None:
        """Re-read the device list, only possible with no stream open (pitfall 6)."""
        if self.sd is None or any(side.stream is not None for side in self.sides.values()):
            return
        with contextlib.suppress(Exception):
            backend.reinitialize(self.sd)

    def check(self, now: float, specs: dict[Kind, str]) -> bool:
        """The watchdog's look: close what died or stalled, retry what is missing. Returns
        whether the status may have changed."""
        changed = False
        for kind in KINDS:
            side = self.sides[kind]
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
                self.close(kind)
                side.problem = f"{_what(kind)} {name!r} stopped working mid-stream."
                changed = True
                self.next_retry = now  # retry at once, then every retry_interval_s
        missing = [k for k in KINDS if self.wanted[k] and not self.sides[k].stream]
        if missing and now >= self.next_retry:
            self.next_retry = now + self.retry_interval_s
            self.reinitialize()
            for kind in missing:
                problem = self._try_open(kind, specs[kind])
                if self.sides[kind].stream is not None:
                    self.sides[kind].problem = problem
                    changed = True
                elif not self.sides[kind].problem:
                    self.sides[kind].problem = problem
        return changed

    def status(self) -> AudioStatus:
        has_in = self.sides["input"].stream is not None
        has_out = self.sides["output"].stream is not None
        if has_in and has_out:
            mode = AudioMode.FULL
        elif has_out:
            mode = AudioMode.OUTPUT_ONLY
        elif has_in:
            mode = AudioMode.INPUT_ONLY
        else:
            mode = AudioMode.TEXT_ONLY
        notes, details = [], []
        for kind in KINDS:
            side = self.sides[kind]
            if not self.wanted[kind]:
                continue
            if side.stream is None:
                notes.append(side.problem or f"No {_what(kind).lower()}.")
            elif side.problem:
                notes.append(side.problem)
            if side.detail:
                details.append(side.detail)
        if mode is not AudioMode.FULL and any(self.wanted.values()):
            secs = f"{self.retry_interval_s:g}"
            notes.append(f"Running {mode.replace('_', ' ')}; retrying every {secs} s.")
        # one sentence per device, set apart: never one run-on line with PortAudio's words in it
        return AudioStatus(mode, SENTENCE_GAP.join(notes), tuple(details))

    # ---- opening -------------------------------------------------------------------

    def _try_open(self, kind: Kind, spec: str) -> str:
        """Open one side; returns "" or a note (fallback used) or the reason it failed."""
        sd = self.sd
        assert sd is not None
        side = self.sides[kind]
        side.detail = ""
        note = ""
        index: int | None = None
        try:
            index = devices.resolve(spec, kind, devices.list_devices(sd))
        except DeviceNotFoundError as exc:
            note = f"{exc} Using the system default instead."
        except Exception as exc:  # PortAudioError while listing: fall back to the default
            note = "Could not list the sound devices; using the system default."
            side.detail = f"{_what(kind)}: listing devices: {exc}"
        try:
            self._open(kind, index)
            return note
        except Exception as exc:  # PortAudioError, ValueError, AudioError: the side is off
            if index is not None:
                # The chosen device failed: the system default may still work.
                try:
                    self._open(kind, None)
                    what = f"{_what(kind)} {spec!r}" if spec else _what(kind)
                    side.detail = f"{what}: {_raw(exc)}"
                    return f"{what} failed; using the system default."
                except Exception as default_exc:
                    exc = default_exc
            side.detail = f"{_what(kind)}: {_raw(exc)}"
            return f"{note} {_sentence(kind, exc)}".strip() if note else _sentence(kind, exc)

    def _pick_rate(self, kind: Kind, index: int | None) -> int:
        sd = self.sd
        assert sd is not None
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        if self._device_rate is not None:
            candidates: list[int] = [self._device_rate]
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
            f"{_what(kind)} ({device}) refuses every sample rate tried "
            f"({', '.join(map(str, candidates))} Hz)."
        ) from RuntimeError("; ".join(errors) or "no rate to try")

    def _open(self, kind: Kind, index: int | None) -> None:
        sd = self.sd
        assert sd is not None
        if index is None:
            try:
                sd.query_devices(kind=kind)
            except Exception as exc:  # PortAudioError "Error querying device -1"
                what = "microphone" if kind == "input" else "speaker"
                raise AudioError(
                    f"No {what} found: plug one in or start the sound server."
                ) from exc
        rate = self._pick_rate(kind, index)
        options = {
            "device": index,
            "samplerate": rate,
            "channels": 1,
            "dtype": "int16",
            "blocksize": max(1, round(rate * self._block_ms[kind] / 1000)),
            "latency": self._latency,
        }
        processor, callback = self._build(kind, rate)
        make = sd.InputStream if kind == "input" else sd.OutputStream
        stream = make(callback=callback, **options)
        try:
            stream.start()
        except Exception:
            stream.close(ignore_errors=True)
            raise
        if kind == "output":
            self.out_latency_s = float(stream.latency)
        side = self.sides[kind]
        side.stream = stream
        side.processor = processor
        side.rate = rate
        side.last_callbacks = -1
        side.stalled_since = None
        try:
            side.device_name = str(sd.query_devices(stream.device)["name"])
        except Exception:
            side.device_name = str(stream.device)
