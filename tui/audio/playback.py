"""The playback buffer: assistant audio waiting for the speaker, and what of it was played.

The asyncio loop pushes decoded chunks; the PortAudio output callback pulls exactly the
frames it needs. Both sides take one short lock, and the callback never allocates more than a
slice view. Per item it counts samples received and samples handed to the device ("played":
once handed over they all reach the speaker), which is the `audio_end_ms` of a truncate on
barge-in. The queue holds real replies whole: a ten-minute answer queued at once plays whole.
Only a broken server that streams audio far faster than real time, for ever, could grow it
without end (~166 MiB an hour of audio), so it is capped at `MAX_QUEUED_S` of audio not yet
played (15 minutes, ~41 MiB at 24 kHz): beyond that, arriving audio is dropped and the first
drop of each overflow raises `PlaybackFullError` once, so the session can say so. No real
reply comes near it: the longest a response can be (4096 output tokens) is under 7 minutes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tui.audio.cue import ToolTick
from tui.audio.meter import Level, LevelTap
from tui.audio.resample import StreamResampler
from tui.constants import WIRE_RATE_HZ
from tui.errors import AudioError

# Samples above ~-50 dBFS count as sound for `first_audible_at`.
AUDIBLE_THRESHOLD = 104
# Accounting of old items is forgotten after this many, so a long session stays small.
MAX_TRACKED_ITEMS = 512


# Audio queued but not yet played, at most (see the module docstring for why this much).
MAX_QUEUED_S = 15 * 60
# An overflow ends (and a later one is announced again) once the queue is below this share
# of the cap, so a queue hovering at the cap does not announce every other chunk.
RESUME_SHARE = 0.9


class MalformedAudioError(AudioError, ValueError):
    """Assistant audio that is not whole PCM16 samples: reported, never played."""


class PlaybackFullError(AudioError):
    """Audio arrives far faster than it plays and the queue is at its cap: the first chunk
    dropped in an overflow raises this (later ones are dropped quietly until it drains)."""


@dataclass(frozen=True)
class PlayedItem:
    item_id: str
    played_ms: int
    received_ms: int


@dataclass
class _ItemCount:
    received: int = 0
    played: int = 0
    first_audible_at: float | None = None
    cleared: bool = False


def samples_to_ms(samples: int) -> int:
    return samples * 1000 // WIRE_RATE_HZ


def decode_pcm16(pcm: bytes) -> np.ndarray:
    """PCM16 little-endian bytes -> int16 samples; odd byte counts are rejected."""
    if len(pcm) % 2:
        raise MalformedAudioError(
            f"assistant audio has an odd byte count ({len(pcm)}): not PCM16, skipped"
        )
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16, copy=False)


class PlaybackBuffer:
    """An unbounded FIFO of (item_id, int16 samples at 24 kHz) with played-sample accounting."""

    def __init__(self, max_queued_s: float = MAX_QUEUED_S) -> None:
        self.max_queued_samples = int(max_queued_s * WIRE_RATE_HZ)
        self.dropped_samples = 0  # over the cap, never queued nor counted as received
        self._overflowing = False
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, np.ndarray]] = deque()
        self._head_offset = 0  # samples of the head chunk already handed out
        self._queued = 0
        self._items: OrderedDict[str, _ItemCount] = OrderedDict()
        self._current: str | None = None  # item of the last sample handed to the device
        self._current_before_clear: str | None = None
        self.last_sound_at = 0.0  # monotonic time real samples were last handed out

    # -- loop side -------------------------------------------------------------------------
    def push(self, item_id: str, samples: np.ndarray) -> bool:
        """Queue samples of an item. Returns False (and drops them) if the item was cleared."""
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise MalformedAudioError("playback samples must be 1-D int16")
        with self._lock:
            count = self._count(item_id)
            if count.cleared:
                return False
            full = self._queued + len(samples) > self.max_queued_samples
            if not full:
                if self._queued < self.max_queued_samples * RESUME_SHARE:
                    self._overflowing = False  # drained well below the cap: a new overflow
                count.received += len(samples)
                if len(samples):
                    self._queue.append((item_id, samples))
                    self._queued += len(samples)
                return True
            self.dropped_samples += len(samples)
            first_drop, self._overflowing = not self._overflowing, True
        if first_drop:
            minutes = self.max_queued_samples / WIRE_RATE_HZ / 60
            raise PlaybackFullError(
                f"the assistant's audio arrives far faster than it can play: {minutes:g} min "
                "are queued, so audio beyond that is dropped until it catches up"
            )
        return False

    def count_received(self, item_id: str, samples: int) -> None:
        """Account audio that arrived but cannot be played (no output device)."""
        with self._lock:
            self._count(item_id).received += samples

    def clear(
        self, now: float | None = None, *, linger_s: float = 0.0, unplayed: int = 0
    ) -> PlayedItem | None:
        """Drop everything queued at once; returns the item that was playing, if any.

        "Playing" is the item whose samples were handed out last, if the queue still holds it
        or it was handed out within `linger_s`; else the first queued item (played 0).
        `unplayed` samples of the playing item were pulled but will be dropped downstream (a
        resampler's look-ahead flushed with this clear), so they do not count as played.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            target: str | None = None
            head = self._queue[0][0] if self._queue else None
            if self._current is not None and (
                head == self._current or now - self.last_sound_at <= linger_s
            ):
                target = self._current
            elif head is not None:
                target = head
            for item_id, _ in self._queue:
                self._items[item_id].cleared = True
            self._queue.clear()
            self._queued = 0
            self._head_offset = 0
            self._current_before_clear = self._current
            self._current = None
            if target is None:
                return None
            count = self._items[target]
            count.cleared = True
            if target == self._current_before_clear:
                count.played = max(0, count.played - unplayed)
            return PlayedItem(
                target,
                samples_to_ms(min(count.played, count.received)),
                samples_to_ms(count.received),
            )

    def played_ms(self, item_id: str) -> int:
        with self._lock:
            count = self._items.get(item_id)
            return 0 if count is None else samples_to_ms(min(count.played, count.received))

    def received_ms(self, item_id: str) -> int:
        with self._lock:
            count = self._items.get(item_id)
            return 0 if count is None else samples_to_ms(count.received)

    def first_audible_at(self, item_id: str) -> float | None:
        with self._lock:
            count = self._items.get(item_id)
            return None if count is None else count.first_audible_at

    @property
    def queued_samples(self) -> int:
        return self._queued

    def audible(self, now: float, window_s: float) -> bool:
        """Sound is queued, or real samples went to the device within `window_s`."""
        return self._queued > 0 or (
            self.last_sound_at > 0.0 and now - self.last_sound_at <= window_s
        )

    # -- audio-thread side -------------------------------------------------------------------
    def read_into(self, out: np.ndarray, now: float) -> int:
        """Fill `out` (1-D int16) from the queue, zero-filling the rest; returns real samples."""
        if not self._queue:
            # Nothing queued (most callbacks of a session): no lock. A push racing this
            # check is simply played by the next callback.
            out.fill(0)
            return 0
        frames = len(out)
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                item_id, chunk = self._queue[0]
                take = min(frames - filled, len(chunk) - self._head_offset)
                part = chunk[self._head_offset : self._head_offset + take]
                out[filled : filled + take] = part
                count = self._items.get(item_id)
                if count is not None:
                    count.played += take
                    if count.first_audible_at is None:
                        # two comparisons, not abs(): abs(-32768) overflows int16
                        loud = np.flatnonzero(
                            (part > AUDIBLE_THRESHOLD) | (part < -AUDIBLE_THRESHOLD)
                        )
                        if len(loud):
                            count.first_audible_at = now + (filled + int(loud[0])) / WIRE_RATE_HZ
                self._current = item_id
                filled += take
                self._queued -= take
                self._head_offset += take
                if self._head_offset >= len(chunk):
                    self._queue.popleft()
                    self._head_offset = 0
            if filled:
                self.last_sound_at = now
        if filled < frames:
            out[filled:] = 0
        return filled

    # -- helpers ----------------------------------------------------------------------------
    def _count(self, item_id: str) -> _ItemCount:
        count = self._items.get(item_id)
        if count is None:
            count = self._items[item_id] = _ItemCount()
            while len(self._items) > MAX_TRACKED_ITEMS:
                oldest = next(iter(self._items))
                if any(queued_id == oldest for queued_id, _ in self._queue):
                    break
                self._items.popitem(last=False)
        return count


@dataclass
class PlaybackCounters:
    callbacks: int = 0
    device_frames: int = 0
    samples_played: int = 0  # real (non-fill) 24 kHz samples handed to the device
    underflows: int = 0
    zero_blocks: int = 0  # callbacks that handed out nothing but silence


class PlaybackRenderer:
    """What runs in the output callback: buffer -> tool tick -> echo tap -> resample -> device.

    The tool tick (tui.audio.cue), when armed, is mixed into 24 kHz steps that hold no
    assistant audio; it is never recorded nor counted as played. The echo tap sees exactly
    what is handed to the device, in the 24 kHz domain before output resampling, silence
    (and the tick) included. At other device rates the buffer is pulled in 10 ms
    steps until the resampler has produced enough, and the remainder waits for the next
    callback, so exact `frames` are delivered while the look-ahead stays under ~10 ms.
    """

    STEP = 240  # 10 ms at 24 kHz

    def __init__(
        self,
        buffer: PlaybackBuffer,
        *,
        device_rate: int,
        echo: object | None = None,
        recorder: object | None = None,
        clock: Callable[[], float] = time.monotonic,
        tick: ToolTick | None = None,
    ) -> None:
        self.buffer = buffer
        self.device_rate = device_rate
        self.echo = echo
        self.recorder = recorder
        self.tick = tick
        self.clock = clock
        self._level = LevelTap()
        self.counters = PlaybackCounters()
        self.last_zero_block_at = 0.0
        self._resampler = StreamResampler(WIRE_RATE_HZ, device_rate)
        self._step = np.zeros(self.STEP, dtype=np.int16)
        self._rest = np.zeros(8192, dtype=np.int16)
        self._rest_len = 0
        self._flush = False

    def lookahead_24k(self) -> int:
        """24 kHz samples pulled from the buffer but not yet given to the device.

        Read from the loop without a lock: an estimate good to a few samples, used to keep
        them out of "played" when an interrupt flushes them.
        """
        if self._resampler.identity:
            return 0
        pending = self._rest_len + self._resampler.delay_s * self.device_rate
        return int(pending * WIRE_RATE_HZ / self.device_rate)

    def request_flush(self) -> None:
        """Drop resampler state and remainder at the next callback (after a clear)."""
        self._flush = True

    def render(self, out: np.ndarray, *, underflow: bool = False) -> None:
        """Fill `out` (1-D int16 at the device rate). Runs on the audio thread."""
        now = self.clock()
        counters = self.counters
        counters.callbacks += 1
        counters.device_frames += len(out)
        if underflow:
            counters.underflows += 1
        if self._flush:
            self._flush = False
            self._resampler.reset()
            self._rest_len = 0
        if self._resampler.identity:
            real = self.buffer.read_into(out, now)
            ticked = self._mix_tick(out, real, now)
            self._tap(out, real, ticked)
            silent = real == 0  # read_into zero-filled the block (the tick is no assistant)
        else:
            real, ticked = self._render_resampled(out, now)
            # the converter may still drain a tail; a tick is no assistant audio
            silent = real == 0 and (ticked or not out.any())
        counters.samples_played += real
        if silent:
            self._level.hold_silence()
            counters.zero_blocks += 1
            self.last_zero_block_at = now
        else:
            self._level.hold(out)

    @property
    def level(self) -> Level:
        """RMS and peak of the latest block handed to the device (measured when read)."""
        return self._level.level

    def _mix_tick(self, block: np.ndarray, real: int, now: float) -> bool:
        """The tool tick into a step of silence; a step with assistant audio has none."""
        if self.tick is None:
            return False
        if real:
            self.tick.silence_for_sound(now)
            return False
        return self.tick.mix(block, now)

    def _tap(self, block: np.ndarray, real: int, ticked: bool) -> None:
        if self.echo is not None:
            if real or ticked:
                self.echo.on_output(block.copy())  # type: ignore[attr-defined]
            else:  # zero-filled: nothing to copy, and the canceller may rest
                self.echo.on_output(block, silent=True)  # type: ignore[attr-defined]
        if self.recorder is not None and real:
            self.recorder.write_assistant(block[:real].tobytes())  # type: ignore[attr-defined]

    def _render_resampled(self, out: np.ndarray, now: float) -> tuple[int, bool]:
        frames = len(out)
        real_total = 0
        ticked = False
        # Enough 10 ms steps for this block plus the converter's warm-up after a reset.
        max_steps = frames * WIRE_RATE_HZ // (self.device_rate * self.STEP) + 12
        steps = 0
        while self._rest_len < frames and steps < max_steps:
            steps += 1
            real = self.buffer.read_into(self._step, now)
            real_total += real
            step_ticked = self._mix_tick(self._step, real, now)
            ticked |= step_ticked
            self._tap(self._step, real, step_ticked)
            converted = self._resampler.process(self._step)
            end = self._rest_len + len(converted)
            if end > len(self._rest):
                grown = np.zeros(end * 2, dtype=np.int16)
                grown[: self._rest_len] = self._rest[: self._rest_len]
                self._rest = grown
            self._rest[self._rest_len : end] = converted
            self._rest_len = end
        give = min(frames, self._rest_len)
        out[:give] = self._rest[:give]
        out[give:] = 0
        remaining = self._rest_len - give
        self._rest[:remaining] = self._rest[give : self._rest_len]
        self._rest_len = remaining
        return real_total, ticked
