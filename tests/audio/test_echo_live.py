"""Echo cancellation through the real PortAudio path, with a room between speaker and mic.

The client plays the assistant's speech to `rt_speaker` and captures `rt_mic`, with the
`EchoPath` taps in its callbacks exactly where the audio engine has them (the output tap after
the block is filled, the capture tap on the mic block). A `LiveRoom` records the virtual
speaker's monitor, runs it through a delayed, reverberant echo path at -6 dB (plus a near-end
talker when asked) and writes it into the virtual microphone.

To know where the echo and the talker are in what the client captured, the room keeps what it
wrote; one cross-correlation aligns it with the raw capture (the rt_mic_feed -> rt_mic path is
a plain copy at 24 kHz).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.audio import room
from tests.waiting import apoll_until, poll_until
from tui.audio.echo import FRAME_SAMPLES, EchoPath, WebRtcEchoCanceller, create_echo_path

pytestmark = pytest.mark.audio

CLIENT_BLOCK = 480  # 20 ms, the engine's default block
ROOM_DELAY_MS = 30.0


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    cache = tmp_path_factory.getbasetemp() / "speech"
    return {
        "far": room.render_speech(room.FAR_TEXT, room.FAR_VOICE, cache),
        "near": room.render_speech(
            room.NEAR_TEXT, room.NEAR_VOICE, cache, pitch=70, level_dbfs=-26.0
        ),
    }


@pytest.fixture
def sd(virtual_audio: Path) -> Any:
    import sounddevice

    return sounddevice


class LiveClient:
    """A minimal client: plays `far` (then silence) and captures the mic, taps as the engine."""

    def __init__(self, sd: Any, path: EchoPath | None, far: np.ndarray) -> None:
        self._path = path
        self._far = far
        self.played = 0  # samples handed to the speaker
        self.raw: list[np.ndarray] = []
        self.xruns = 0  # under/overflows: the echo path jumped, a room no real room is
        self.processed: list[np.ndarray] = []
        self.captured = 0
        self.cancel_seconds = 0.0  # wall time spent inside on_input, for the benchmark
        self.cancel_cpu_seconds = 0.0  # CPU time of the capture thread inside on_input
        self.cancel_frames = 0
        self.frame_costs_us: list[float] = []
        self.max_backlog = 0
        self._marks: list[tuple[int, threading.Event]] = []
        self._output = sd.OutputStream(
            samplerate=room.RATE,
            blocksize=CLIENT_BLOCK,
            device="rt_speaker",
            channels=1,
            dtype="int16",
            latency="low",
            callback=self._on_output,
        )
        self._input = sd.InputStream(
            samplerate=room.RATE,
            blocksize=CLIENT_BLOCK,
            device="rt_mic",
            channels=1,
            dtype="int16",
            latency="low",
            callback=self._on_input,
        )

    def when_played(self, seconds: float) -> threading.Event:
        """An event set once `seconds` of the far end have been handed to the device."""
        event = threading.Event()
        self._marks.append((round(seconds * room.RATE), event))
        return event

    def _on_output(self, outdata: Any, frames: int, _time: Any, status: Any) -> None:
        if status:
            self.xruns += 1
        chunk = self._far[self.played : self.played + frames]
        outdata[: chunk.size, 0] = chunk
        outdata[chunk.size :, 0] = 0
        self.played += frames
        for position, event in self._marks:
            if self.played >= position:
                event.set()
        if self._path is not None:
            self._path.on_output(outdata[:, 0])

    def _on_input(self, indata: Any, frames: int, _time: Any, status: Any) -> None:
        if status:
            self.xruns += 1
        block = indata[:, 0].copy()
        self.raw.append(block)
        if self._path is not None:
            self.max_backlog = max(self.max_backlog, self._path.far_backlog)
            started = time.perf_counter()
            started_cpu = time.thread_time()
            out = self._path.on_input(block)
            self.cancel_cpu_seconds += time.thread_time() - started_cpu
            spent = time.perf_counter() - started
            self.cancel_seconds += spent
            if out.size:
                self.cancel_frames += out.size // FRAME_SAMPLES
                self.frame_costs_us.append(spent * 1e6 / (out.size // FRAME_SAMPLES))
            self.processed.append(out)
        else:
            self.processed.append(block)
        self.captured += frames

    def __enter__(self) -> LiveClient:
        self._input.start()
        self._output.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._output.stop()
        self._input.stop()
        self._output.close()
        self._input.close()


@dataclass
class LiveRun:
    """What one live scene produced, in the client's capture timeline (sample indices)."""

    raw: np.ndarray  # int16 mic as captured
    processed: np.ndarray  # int16 after the echo path (index i matches raw index i)
    echo: np.ndarray  # float, the echo component the room wrote, aligned with raw
    near_onset: int | None  # capture index where the near talker starts
    far_start: int  # capture index where the far end's echo could first arrive
    path: EchoPath | None
    client: LiveClient | None  # None when the real AudioEngine ran the streams
    wall_s: float  # how long the client streams ran
    process_cpu_s: float  # CPU time of this whole process (client, room, test) meanwhile
    erle_estimate_before_near: float | None  # the canceller's smoothed ERLE as the user starts
    glitches: int = 0  # xruns in the room or the client during the scene

    def far_only_mask(self, from_s: float) -> np.ndarray:
        echo_e = room.frame_energies(self.echo)
        mask = echo_e > 10.0 ** (-50.0 / 10.0)
        mask[: (self.far_start + round(from_s * room.RATE)) // FRAME_SAMPLES] = False
        if self.near_onset is not None:
            mask[self.near_onset // FRAME_SAMPLES :] = False
        return mask


def align_with_room(
    raw: np.ndarray,
    written: np.ndarray,
    echo_written: np.ndarray,
    near_started: int | None,
    *,
    echo_on: bool,
) -> tuple[np.ndarray, int | None, int]:
    """The room's echo in the capture timeline, the talker's onset there, and the first echo."""
    lag = room.find_lag(written, raw)
    aligned_echo = np.zeros(raw.size)
    part = echo_written[: max(0, raw.size - lag)]
    aligned_echo[lag : lag + part.size] = part
    onset = None if near_started is None else near_started + lag
    if not echo_on:
        return aligned_echo, onset, lag
    first_echo = np.flatnonzero(np.abs(aligned_echo) > 10.0 ** (-50.0 / 20.0))
    assert first_echo.size, "no echo arrived at the microphone"
    return aligned_echo, onset, int(first_echo[0])


def run_scene(
    sd: Any,
    far: np.ndarray,
    *,
    mode: str = "aec",
    echo_gain_db: float = -6.0,
    near: np.ndarray | None = None,
    near_at_s: float | None = None,
) -> LiveRun:
    path, message = create_echo_path(mode)
    if mode == "aec":
        assert path is not None, message
    tail_s = 0.6
    with room.LiveRoom(sd, delay_ms=ROOM_DELAY_MS, echo_gain_db=echo_gain_db, near=near) as live:
        client = LiveClient(sd, path, far)
        near_mark = client.when_played(near_at_s) if near_at_s is not None else None
        # Until the far end and the talker have both finished, plus the room's tail.
        until_s = far.size / room.RATE
        if near is not None and near_at_s is not None:
            until_s = max(until_s, near_at_s + near.size / room.RATE)
        done = client.when_played(until_s + tail_s)
        erle_estimate_before_near: float | None = None
        wall_started = time.monotonic()
        cpu_started = time.process_time()
        with client:
            if near_mark is not None:
                assert near_mark.wait(far.size / room.RATE + 5.0), "playback stalled"
                if path is not None:
                    erle_estimate_before_near = path.erle_db
                live.start_near()
                assert live.near_started.wait(2.0), "the room never started the talker"
            assert done.wait(until_s + 10.0), "playback stalled"
            end = client.captured + round(tail_s * room.RATE)
            poll_until(lambda: client.captured >= end, 5.0, "the echo tail to be captured")
            wall_s = time.monotonic() - wall_started
            process_cpu_s = time.process_time() - cpu_started
        written = live.written()
        echo_written = live.echo_written()
        near_started = live.near_started_at_frame
    raw = np.concatenate(client.raw)
    processed = np.concatenate(client.processed)
    aligned_echo, onset, far_start = align_with_room(
        raw, written, echo_written, near_started, echo_on=echo_gain_db > -100.0
    )
    return LiveRun(
        raw,
        processed,
        aligned_echo,
        onset,
        far_start,
        path,
        client,
        wall_s,
        process_cpu_s,
        erle_estimate_before_near,
        glitches=client.xruns + sum(live.status_flags.values()),
    )


@pytest.fixture
def far_10s(speech: dict[str, np.ndarray]) -> np.ndarray:
    return speech["far"][: 10 * room.RATE]


def test_live_echo_only_is_cancelled_and_never_triggers_the_vad(
    sd: Any, far_10s: np.ndarray
) -> None:
    run = run_scene(sd, far_10s)
    for _ in range(2):
        # An xrun moves the echo path by a whole block at once (on a loaded 2-core machine),
        # which no real room does; such a run measures the machine, so it is done again.
        # Also seen without reported xruns, only late in the full suite (after the 48 kHz
        # tests switched the null sinks' rates): one residual trigger in ~1 of 3 suite runs.
        # A canceller that leaks leaks every time; a second scene tells the two apart.
        if not room.vad_start_times_ms(run.processed):
            break
        print(f"\nscene had {run.glitches} xruns and a residual trigger: run again")
        run = run_scene(sd, far_10s)

    raw_starts = room.vad_start_times_ms(run.raw)
    assert raw_starts, "without cancellation the echo must trigger the VAD (the room works)"
    assert room.vad_start_times_ms(run.processed) == []
    erle = room.erle_db(run.raw, run.processed, run.far_only_mask(from_s=3.0))
    assert erle >= 30.0, f"live ERLE after 3 s is {erle:.1f} dB"
    assert run.path is not None and run.path.erle_db is not None
    assert run.path.erle_db >= 30.0
    print(f"\nlive echo only: ERLE {erle:.1f} dB (estimate {run.path.erle_db:.1f} dB)")


def test_live_off_mode_lets_the_echo_trigger_the_vad(sd: Any, far_10s: np.ndarray) -> None:
    run = run_scene(sd, far_10s[: 5 * room.RATE], mode="off")
    assert run.path is None
    np.testing.assert_array_equal(run.processed, run.raw)
    assert len(room.vad_start_times_ms(run.processed)) > 0


def test_live_double_talk_user_is_heard_within_300_ms(
    sd: Any, speech: dict[str, np.ndarray]
) -> None:
    run = run_scene(sd, speech["far"][: 11 * room.RATE], near=speech["near"], near_at_s=6.0)
    assert run.near_onset is not None
    onset_ms = run.near_onset * 1000 // room.RATE

    starts = room.vad_start_times_ms(run.processed)

    assert starts, "the user talking over the assistant was never detected"
    assert starts[0] >= onset_ms, f"the echo triggered the VAD before the user spoke: {starts}"
    assert starts[0] - onset_ms <= 300, f"speech_started {starts[0] - onset_ms} ms after onset"
    print(f"\nlive double talk: speech_started {starts[0] - onset_ms} ms after the user's onset")


def test_live_headphones_user_answering_after_the_reply_passes_within_1_db(
    sd: Any, speech: dict[str, np.ndarray]
) -> None:
    near = speech["near"]
    far = speech["far"][: 5 * room.RATE]
    run = run_scene(sd, far, echo_gain_db=-200.0, near=near, near_at_s=5.3)
    assert run.near_onset is not None
    talk = slice(run.near_onset, min(run.near_onset + near.size, run.raw.size - 2400))

    assert room.level_dbfs(run.raw[talk]) > -30.0, "the talker did not reach the microphone"
    room.assert_voice_passes(run.raw, run.processed, talk)


# --- through the real audio engine ----------------------------------------------------------


class RawTappingEchoPath(EchoPath):
    """The real EchoPath, also keeping the mic blocks it is given (the signal `off` would send)."""

    def __init__(self, canceller: Any) -> None:
        super().__init__(canceller)
        self.raw: list[np.ndarray] = []

    def on_input(self, block: np.ndarray) -> np.ndarray:
        self.raw.append(np.array(block, dtype=np.int16).reshape(-1))
        return super().on_input(block)


@dataclass
class EngineRun:
    raw: np.ndarray
    processed: np.ndarray
    written: np.ndarray
    echo_written: np.ndarray
    near_started: int | None
    glitches: int  # xruns in the engine's streams or the room during the scene


async def engine_scene(sd: Any, speech: dict[str, np.ndarray]) -> EngineRun:
    """10 s of echo only, then the user talks over the assistant: all through AudioEngine."""
    from tui.audio.engine import AudioEngine

    far = speech["far"][: 13 * room.RATE]
    echo_only_s = 10.0
    path = RawTappingEchoPath(WebRtcEchoCanceller())
    sent: list[bytes] = []
    engine = AudioEngine(
        input_device="rt_mic",
        output_device="rt_speaker",
        echo_guard="aec",
        on_capture=sent.append,
        loop=asyncio.get_running_loop(),
        echo_canceller=path,
    )
    with room.LiveRoom(sd, delay_ms=ROOM_DELAY_MS, near=speech["near"]) as live:
        status = engine.start()
        try:
            assert status.mode == "full", status.message
            engine.play("reply", far.tobytes())
            await apoll_until(
                lambda: engine.played_ms("reply") >= echo_only_s * 1000, 20.0, "10 s of reply"
            )
            live.start_near()
            await apoll_until(
                lambda: engine.played_ms("reply") >= far.size * 1000 // room.RATE,
                10.0,
                "the whole reply",
            )
            played_samples = sum(block.size for block in path.raw)
            await apoll_until(
                lambda: sum(block.size for block in path.raw) >= played_samples + 0.6 * room.RATE,
                5.0,
                "the echo tail",
            )
        finally:
            engine.stop()
        written = live.written()
        echo_written = live.echo_written()
        near_started = live.near_started_at_frame
        capture, playback = engine.capture_counters, engine.playback_counters
        glitches = sum(live.status_flags.values())
        glitches += (capture.overflows if capture else 0) + (playback.underflows if playback else 0)
    await asyncio.sleep(0)  # let blocks already scheduled on the loop arrive
    raw = np.concatenate(path.raw)
    processed = np.frombuffer(b"".join(sent), dtype="<i2")
    return EngineRun(raw, processed, written, echo_written, near_started, glitches)


async def test_live_through_the_audio_engine(sd: Any, speech: dict[str, np.ndarray]) -> None:
    run = await engine_scene(sd, speech)
    for _ in range(2):
        # as in the echo-only scene: a run with xruns and an early trigger is run again
        usable = min(run.raw.size, run.processed.size)
        _, onset, _ = align_with_room(
            run.raw[:usable], run.written, run.echo_written, run.near_started, echo_on=True
        )
        early = room.vad_start_times_ms(run.processed[: onset or usable])
        if not early:
            break
        print(f"\nscene had {run.glitches} xruns and an early trigger: run again")
        run = await engine_scene(sd, speech)
    raw, processed = run.raw, run.processed
    written, echo_written, near_started = run.written, run.echo_written, run.near_started
    usable = min(raw.size, processed.size)
    raw, processed = raw[:usable], processed[:usable]
    echo, onset, far_start = align_with_room(raw, written, echo_written, near_started, echo_on=True)
    assert onset is not None
    onset_ms = onset * 1000 // room.RATE

    starts = room.vad_start_times_ms(processed)
    assert room.vad_start_times_ms(raw[:onset]), "the raw mic must trigger the VAD (the room works)"
    assert starts, "the user talking over the assistant was never detected"
    assert starts[0] >= onset_ms, f"the echo triggered the VAD before the user spoke: {starts}"
    assert starts[0] - onset_ms <= 300, f"speech_started {starts[0] - onset_ms} ms after onset"
    echo_e = room.frame_energies(echo)
    mask = echo_e > 10.0 ** (-50.0 / 10.0)
    mask[: (far_start + 3 * room.RATE) // FRAME_SAMPLES] = False
    mask[onset // FRAME_SAMPLES :] = False
    erle = room.erle_db(raw, processed, mask)
    assert erle >= 30.0, f"ERLE after 3 s through the engine is {erle:.1f} dB"
    print(f"\nengine: ERLE {erle:.1f} dB, speech_started {starts[0] - onset_ms} ms after onset")
