"""Acoustic echo cancellation: remove the assistant's own voice from the microphone signal.

Two parts, one job each:

- `EchoCanceller` is the small interface every backend implements (feed the far-end
  reference, process a near-end frame, reset, a smoothed ERLE estimate). The one built here,
  `WebRtcEchoCanceller`, wraps WebRTC's AEC3 from the `pywebrtc-audio` wheel; livekit's APM
  could replace it behind the same four members.
- `EchoPath` is the glue the audio engine calls from its PortAudio callbacks. The output
  callback hands it exactly the 24 kHz int16 samples given to the device (`on_output`), the
  capture callback hands it the 24 kHz int16 mic samples and sends what it gets back
  (`on_input`). It cuts both into the exact 240-sample (10 ms) frames AEC3 needs.

Threads: `on_output` runs on the output callback thread, `on_input` on the capture callback
thread, `reset()` on any thread (the event loop). The only shared structure is a
`collections.deque` of far frames, whose `append`/`popleft`/`clear` are atomic under the GIL.
The canceller itself is touched only from the capture thread: pywebrtc-audio is not
thread-safe and releases the GIL while it works, so `reset()` does not reset it directly but
raises a flag the next `on_input` call honours. Nothing here takes a lock, so the UI can never
make a callback wait.

Latency: AEC3 itself delays the mic signal by 9.3 ms (measured: 223 samples). When the capture
block is not a multiple of 240 samples, `on_input` holds back the remainder until the next block
completes the frame: the processed stream then trails the captured one by less than 240 samples
(< 10 ms of audio), and the held samples leave with the next capture callback (measured with
441-sample blocks: 4.9 ms on average). With 240- or 480-sample blocks nothing is held.

Known limits of AEC3 (measured, tests/benchmarks/bench_echo.py): a voice talking over the
assistant is attenuated by about 6-8 dB but detected within ~150 ms. With headphones (no echo
path) the filter never converges, and until AEC3 has heard about 10-20 s of assistant audio it
suppresses a voice talking over the assistant (detected 1-4 s late in the first 6 s); answering
after the assistant stops is unaffected. livekit's newer AEC3 behaves the same. Headphone
users lose nothing with echo_guard "off".
"""

from __future__ import annotations

import collections
import importlib
import math
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tui.audio.echo_rest import CancellerRest, Phase
from tui.constants import WIRE_RATE_HZ, EchoGuard

FRAME_SAMPLES = WIRE_RATE_HZ // 100  # 240: 10 ms, the only frame AEC3 takes unpadded
FAR_QUEUE_FRAMES = 40  # 400 ms of reference; AEC3 cannot use a reference older than ~500 ms


_ZERO_FRAME = np.zeros(FRAME_SAMPLES, dtype=np.int16)
_ZERO_FRAME.flags.writeable = False
_EMPTY = np.zeros(0, dtype=np.int16)
_EMPTY.flags.writeable = False


@runtime_checkable
class EchoCanceller(Protocol):
    """One echo-cancelling backend. Frames are exactly 240 int16 samples (10 ms at 24 kHz).

    Calls come in lockstep from one thread: `feed_far(reference)` then `process(mic)`.
    """

    def feed_far(self, frame: np.ndarray) -> None:
        """The far-end (loudspeaker) frame that goes with the next `process` call."""

    def process(self, frame: np.ndarray) -> np.ndarray:
        """The mic frame with the echo of the fed far end removed."""

    def reset(self) -> None:
        """Forget the learned echo path (device change, stream restart, unmute)."""

    @property
    def erle_db(self) -> float | None:
        """Smoothed echo return loss enhancement in dB; None until the far end has played."""


class ErleMeter:
    """Smoothed ERLE: 10·log10(mic energy / output energy) over frames where the far end is active.

    Energies are summed with exponential forgetting (time constant `time_constant_s`) rather
    than averaging per-frame dB values, so quiet frames weigh little and one loud residual
    counts as much as it sounds. The far end counts as active from a frame above
    `far_active_dbfs` until `hold_s` later, because its echo reaches the mic only after the
    loudspeaker and room delay. While the user talks over the assistant the estimate falls,
    because their voice rightly passes through; it recovers within about a second after.
    """

    def __init__(
        self,
        *,
        far_active_dbfs: float = -50.0,
        hold_s: float = 0.3,
        time_constant_s: float = 1.0,
        min_frames: int = 50,
    ) -> None:
        frames_per_s = WIRE_RATE_HZ / FRAME_SAMPLES
        full_scale_energy = float(FRAME_SAMPLES) * 32768.0**2
        self._far_threshold = full_scale_energy * 10.0 ** (far_active_dbfs / 10.0)
        self._hold_frames = max(0, round(hold_s * frames_per_s))
        self._decay = math.exp(-1.0 / (time_constant_s * frames_per_s))
        self._min_frames = min_frames
        self.reset()

    def reset(self) -> None:
        self._mic_energy = 0.0
        self._out_energy = 0.0
        self._frames = 0
        self._hold_left = 0

    def update(self, far: np.ndarray, mic: np.ndarray, out: np.ndarray) -> None:
        if _energy(far) >= self._far_threshold:
            self._hold_left = self._hold_frames
        elif self._hold_left > 0:
            self._hold_left -= 1
        else:
            return
        self._mic_energy = self._decay * self._mic_energy + _energy(mic)
        self._out_energy = self._decay * self._out_energy + _energy(out)
        self._frames += 1

    @property
    def erle_db(self) -> float | None:
        if self._frames < self._min_frames or self._mic_energy <= 0.0:
            return None
        # A residual of one LSB per sample bounds the estimate: a perfectly silent output is
        # not "infinite" cancellation.
        floor = float(FRAME_SAMPLES) / (1.0 - self._decay)
        return 10.0 * math.log10(self._mic_energy / max(self._out_energy, floor))


def _energy(frame: np.ndarray) -> float:
    samples = frame.astype(np.float64)
    return float(np.dot(samples, samples))


class WebRtcEchoCanceller:
    """WebRTC AEC3 from pywebrtc-audio, noise suppression off, delay estimated by AEC3 itself.

    `module` is the imported `pywebrtc_audio` (injectable for tests); by default it is imported
    here, lazily, so the package costs nothing unless echo cancellation is on. Raises
    ImportError/OSError when the wheel cannot load.
    """

    def __init__(self, *, stream_delay_ms: int = 0, module: Any = None) -> None:
        if module is None:
            module = importlib.import_module("pywebrtc_audio")
        # NS stays off: it adds ~6 ms of latency and only lowers the noise floor (measured).
        self._processor = module.AudioProcessor(
            sample_rate=WIRE_RATE_HZ,
            num_channels=1,
            echo_cancellation=True,
            noise_suppression=False,
            auto_gain_control=False,
            stream_delay_ms=stream_delay_ms,
        )
        self._far: np.ndarray = _ZERO_FRAME
        self._meter = ErleMeter()

    def feed_far(self, frame: np.ndarray) -> None:
        _check_frame(frame)
        self._far = frame

    def process(self, frame: np.ndarray) -> np.ndarray:
        _check_frame(frame)
        far, self._far = self._far, _ZERO_FRAME
        out = np.asarray(self._processor.process(frame, far), dtype=np.int16)
        self._meter.update(far, frame, out)
        return out

    def reset(self) -> None:
        self._processor.reset()
        self._far = _ZERO_FRAME
        self._meter.reset()

    @property
    def erle_db(self) -> float | None:
        return self._meter.erle_db


def _check_frame(frame: np.ndarray) -> None:
    if frame.dtype != np.int16 or frame.shape != (FRAME_SAMPLES,):
        raise ValueError(
            f"echo canceller frames are {FRAME_SAMPLES} int16 samples, "
            f"got {frame.dtype} with shape {frame.shape}"
        )


def _as_int16_mono(block: np.ndarray) -> np.ndarray:
    """A 1-D int16 view of a callback block: (n,) or (n, 1), int16 or float in [-1, 1]."""
    samples = np.asarray(block)
    if samples.ndim == 2:
        samples = samples[:, 0]
    if samples.dtype == np.int16:
        return samples
    if np.issubdtype(samples.dtype, np.floating):
        return np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
    return samples.astype(np.int16)


class EchoPath:
    """The echo canceller wired into a pair of PortAudio callbacks (see the module docstring)."""

    def __init__(self, canceller: EchoCanceller, *, max_far_frames: int = FAR_QUEUE_FRAMES) -> None:
        self.canceller = canceller
        # Bounded: if capture stops while playback goes on, the oldest reference falls off.
        self._far_frames: collections.deque[np.ndarray] = collections.deque(maxlen=max_far_frames)
        self._far_rest: np.ndarray = _EMPTY
        self._far_rest_silent = False  # the part frame held back was played silence
        self._near_rest: np.ndarray = _EMPTY
        # Raised by reset(), lowered by the callback thread that owns the state it guards.
        self._far_reset_pending = False
        self._near_reset_pending = False
        self._rest = CancellerRest()  # the canceller rests while nothing plays

    # --- output callback thread -------------------------------------------------------------
    def on_output(self, block: np.ndarray, *, silent: bool = False) -> None:
        """Tap the samples handed to the device (24 kHz int16, silence included, any length).

        `silent`: the block is all zeros (nothing played). It is queued as the shared zero
        frame, without copying, which is also how the capture side knows the far end is
        quiet and lets the canceller rest (tui.audio.echo_rest)."""
        if self._far_reset_pending:
            self._far_reset_pending = False
            self._far_rest = _EMPTY
            self._far_rest_silent = False
        held = self._far_rest.size
        if silent and not held and len(block) % FRAME_SAMPLES == 0:  # the usual 10 ms block
            for _ in range(len(block) // FRAME_SAMPLES):
                self._far_frames.append(_ZERO_FRAME)
            return
        samples = _as_int16_mono(block)
        if held:
            samples = np.concatenate((self._far_rest, samples))
        whole = samples.size - samples.size % FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            if silent and (start >= held or self._far_rest_silent):  # nothing played in it
                self._far_frames.append(_ZERO_FRAME)
            else:  # a copy: the device buffer is reused by PortAudio after the callback
                self._far_frames.append(samples[start : start + FRAME_SAMPLES].copy())
        self._far_rest_silent = silent and (whole >= held or self._far_rest_silent)
        self._far_rest = samples[whole:].copy()

    # --- capture callback thread ------------------------------------------------------------
    def on_input(self, block: np.ndarray) -> np.ndarray:
        """Cancel the echo in a mic block (24 kHz int16, any length); returns the processed samples.

        Returns whole 240-sample frames only: a partial frame waits for the next block, so the
        output can be up to 239 samples shorter or longer than the input of one call, and the
        concatenation of all outputs is the continuous processed signal.
        """
        if self._near_reset_pending:
            self._near_reset_pending = False
            self._near_rest = _EMPTY
            self.canceller.reset()
            self._rest.reset()
        samples = _as_int16_mono(block)
        if self._rest.resting and not self._near_rest.size:
            rested = self._rest_block(samples)
            if rested is not None:
                return rested
        if self._near_rest.size:
            samples = np.concatenate((self._near_rest, samples))
        frames = samples.size // FRAME_SAMPLES
        whole = frames * FRAME_SAMPLES
        self._near_rest = samples[whole:].copy()
        if frames == 0:
            return _EMPTY
        out = np.empty(whole, dtype=np.int16)
        far_frames = self._far_frames
        rest = self._rest
        for index in range(frames):
            start = index * FRAME_SAMPLES
            try:
                far = far_frames.popleft()
            except IndexError:  # playback has not produced this frame yet: silence
                far = _ZERO_FRAME
            near = np.ascontiguousarray(samples[start : start + FRAME_SAMPLES])
            here = out[start : start + FRAME_SAMPLES]
            phase = rest.phase(far is _ZERO_FRAME)  # silent blocks are queued as that one
            if phase is Phase.REST:
                rest.plain(here, near)
                continue
            if phase is Phase.WAKE:  # what it holds inside becomes recent audio again
                self.canceller.feed_far(_ZERO_FRAME)
                self.canceller.process(rest.previous)
            self.canceller.feed_far(far)
            processed = self.canceller.process(near)
            if phase is Phase.PROCESS:
                rest.cancelled(here, processed, near)
            else:
                rest.crossfade(here, processed, near, to_plain=phase is Phase.START_RESTING)
        return out

    def _rest_block(self, samples: np.ndarray) -> np.ndarray | None:
        """Resting, and the far end silent for this whole block: the block goes out delayed
        in one numpy call (per frame, the loop costs several on a thread just woken). None
        when the block is not whole frames or any of its far frames played something."""
        frames = samples.size // FRAME_SAMPLES
        if not frames or samples.size % FRAME_SAMPLES:
            return None
        far_frames = self._far_frames
        waiting = min(frames, len(far_frames))
        for index in range(waiting):
            if far_frames[index] is not _ZERO_FRAME:
                return None  # it plays again: the frame by frame path wakes the canceller
        for _ in range(waiting):
            far_frames.popleft()
        return self._rest.plain_block(samples)

    # --- any thread ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Start over: on device change, stream restart and unmute.

        The reference queue is emptied at once; the remainders and the canceller are reset by
        their own callback threads at their next call, so no thread touches the canceller while
        the capture callback may be inside it.
        """
        self._far_reset_pending = True
        self._near_reset_pending = True
        self._far_frames.clear()

    @property
    def erle_db(self) -> float | None:
        """The canceller's smoothed ERLE in dB (None right after a reset or before any echo)."""
        if self._near_reset_pending:
            return None
        return self.canceller.erle_db

    @property
    def far_backlog(self) -> int:
        """Reference frames waiting for their mic frame (diagnostics)."""
        return len(self._far_frames)


def create_echo_path(mode: str) -> tuple[EchoPath | None, str]:
    """The echo path for `[audio] echo_guard`, and a message to show once (empty when none).

    "aec" builds the WebRTC canceller; if the package cannot load, it returns no path and a
    message saying the app falls back to half-duplex. "off" and "half_duplex" need no path.
    """
    if mode != EchoGuard.AEC:
        return None, ""
    try:
        canceller = WebRtcEchoCanceller()
    except (ImportError, OSError, RuntimeError, AttributeError) as error:
        why = str(error) or type(error).__name__
        return None, f"echo cancellation unavailable ({why}): using half_duplex"
    return EchoPath(canceller), ""
