"""The tool tick (tui.audio.cue) without a device: the click, its once-a-second timing, where
the output callback mixes it (silence only; to the echo canceller's reference, never to the
recording nor counted as played), how it stops at once, and that the half-duplex guard keeps
it out of the microphone audio sent to the server."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import numpy as np
import pytest

from tui.audio.capture import CaptureProcessor
from tui.audio.cue import CLICK_HZ, CLICK_MS, ToolTick, click_samples
from tui.audio.engine import AudioEngine
from tui.audio.playback import PlaybackBuffer, PlaybackRenderer
from tui.constants import WIRE_RATE_HZ, EchoGuard

from .speech import peak_hz, tone

STEP = 240  # 10 ms at 24 kHz


class Clock:
    def __init__(self, now: float = 10.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingEcho:
    def __init__(self) -> None:
        self.far: list[np.ndarray] = []

    def on_output(self, block: np.ndarray, *, silent: bool = False) -> None:
        self.far.append(block.copy())  # a silent block is the renderer's own buffer


class RecordingWav:
    def __init__(self) -> None:
        self.assistant: list[bytes] = []

    def write_assistant(self, pcm: bytes) -> None:
        self.assistant.append(pcm)


def run(renderer: PlaybackRenderer, clock: Clock, seconds: float, frames: int = STEP) -> np.ndarray:
    """What the device is handed over `seconds`, block by block, the clock moving with it."""
    out = []
    for _ in range(round(seconds * renderer.device_rate / frames)):
        block = np.full(frames, 7, dtype=np.int16)  # garbage: every sample must be written
        renderer.render(block)
        out.append(block)
        clock.now += frames / renderer.device_rate
    return np.concatenate(out)


def onsets(samples: np.ndarray, rate: int = WIRE_RATE_HZ) -> list[float]:
    """Seconds at which a click starts (a sound after at least 0.5 s of silence)."""
    loud = np.flatnonzero(samples)
    starts = [int(loud[0])] if len(loud) else []
    starts += [int(b) for a, b in itertools.pairwise(loud) if b - a > rate // 2]
    return [start / rate for start in starts]


def test_the_click_is_short_soft_and_starts_without_a_step() -> None:
    click = click_samples()
    assert click.dtype == np.int16 and len(click) == WIRE_RATE_HZ * CLICK_MS // 1000
    peak_dbfs = 20 * np.log10(np.abs(click.astype(np.int32)).max() / 32768)
    assert -30 < peak_dbfs < -20  # soft: far below speech peaks
    assert abs(int(click[0])) <= 1 and abs(int(click[1])) < 200  # faded in: no pop
    assert np.abs(click[-24:].astype(np.int32)).max() < 20  # decayed by its end
    assert peak_hz(click, threshold=0.001) == pytest.approx(CLICK_HZ, abs=100)


def test_armed_it_clicks_once_a_second_the_first_a_second_in() -> None:
    clock, tick = Clock(), ToolTick()
    renderer = PlaybackRenderer(PlaybackBuffer(), device_rate=WIRE_RATE_HZ, clock=clock, tick=tick)
    assert not run(renderer, clock, 1.0).any()  # not armed: silence
    tick.arm(True)
    played = run(renderer, clock, 3.5)
    assert onsets(played) == pytest.approx([1.0, 2.0, 3.0], abs=0.011)
    assert tick.clicks == 3
    first = round(onsets(played)[0] * WIRE_RATE_HZ) - 1  # its first sample is 0
    assert np.array_equal(played[first : first + len(tick.click)], tick.click)


def test_disarmed_mid_click_it_is_silent_from_the_next_block() -> None:
    clock, tick = Clock(), ToolTick()
    renderer = PlaybackRenderer(PlaybackBuffer(), device_rate=WIRE_RATE_HZ, clock=clock, tick=tick)
    tick.arm(True)
    blocks = 0
    while not run(renderer, clock, 0.01).any():  # up to the click's first 10 ms (of 12)
        blocks += 1
        assert blocks <= 102, "no click within a second"
    tick.arm(False)
    assert not run(renderer, clock, 3.0).any()
    assert tick.clicks == 1


def test_assistant_audio_cuts_the_click_and_is_never_mixed_with_it() -> None:
    clock, tick, buffer = Clock(), ToolTick(), PlaybackBuffer()
    renderer = PlaybackRenderer(buffer, device_rate=WIRE_RATE_HZ, clock=clock, tick=tick)
    tick.arm(True)
    while not tick.clicks:  # up to a click under way
        run(renderer, clock, 0.01)
    voice = tone(440, 0.5, amplitude=0.3)
    buffer.push("item_a", voice)
    played = run(renderer, clock, 0.5)
    assert np.array_equal(played, voice)  # the reply alone: no rest of the click in it
    # still armed (the session disarms a moment later): nothing for a whole second after
    after = run(renderer, clock, 1.5)
    assert onsets(after) == pytest.approx([1.0], abs=0.011)


def test_the_click_reaches_the_echo_reference_not_the_recording_nor_the_played_count() -> None:
    clock, tick, buffer = Clock(), ToolTick(), PlaybackBuffer()
    echo, wav = RecordingEcho(), RecordingWav()
    renderer = PlaybackRenderer(
        buffer, device_rate=WIRE_RATE_HZ, echo=echo, recorder=wav, clock=clock, tick=tick
    )
    tick.arm(True)
    played = run(renderer, clock, 2.5)
    assert tick.clicks == 2
    far = np.concatenate(echo.far)
    assert np.array_equal(far, played)  # the canceller knows it: it is removed from the mic
    assert wav.assistant == []  # the recording is the conversation: no click in it
    assert renderer.counters.samples_played == 0
    assert not buffer.audible(clock.now, 0.5)  # nor does it make the assistant "audible"
    assert renderer.level.rms_db < -80  # the output meter shows the assistant, not the tick


@pytest.mark.parametrize("rate", [48000, 44100])
def test_at_other_device_rates_it_is_resampled_like_the_rest(rate: int) -> None:
    clock, tick = Clock(), ToolTick()
    wav = RecordingWav()
    renderer = PlaybackRenderer(
        PlaybackBuffer(), device_rate=rate, recorder=wav, clock=clock, tick=tick
    )
    tick.arm(True)
    played = run(renderer, clock, 2.5, frames=rate // 100)
    # later by the converter's delay, about 20 ms
    assert onsets(played, rate) == pytest.approx([1.02, 2.02], abs=0.01)
    assert peak_hz(played, rate, threshold=0.001) == pytest.approx(CLICK_HZ, abs=150)
    assert wav.assistant == []
    assert renderer.level.rms_db < -80


def test_half_duplex_drops_the_mic_while_the_click_sounds() -> None:
    """A click the speaker plays into the room must not be sent as the user's audio: the
    capture path's guard holds the mic while it sounds and just after, then lets it through."""
    clock = Clock()
    sent: list[bytes | None] = []
    engine = AudioEngine(loop=asyncio.new_event_loop(), on_capture=sent.append)
    renderer = PlaybackRenderer(
        engine.buffer, device_rate=WIRE_RATE_HZ, clock=clock, tick=engine.tick
    )
    capture = CaptureProcessor(
        device_rate=WIRE_RATE_HZ,
        block_samples=480,
        loop=_NoLoop(sent),  # delivers at once
        deliver=sent.append,
        echo_guard=EchoGuard.HALF_DUPLEX,
        assistant_audible=engine._assistant_audible,
        clock=clock,
    )
    engine.set_tick(True)
    room = np.zeros(480, dtype=np.int16)
    for _ in range(100):  # 1 s of silence: no click yet, the mic flows
        renderer.render(np.zeros(STEP, dtype=np.int16))
        capture.process(room[:STEP])
        clock.now += 0.01

    def audio_sent() -> int:  # a held-back block reaches the loop as None (for the meter)
        return sum(block is not None for block in sent)

    flowing = audio_sent()
    assert flowing > 0 and capture.counters.blocks_guarded == 0
    for _ in range(4):  # the click plays and is heard in the room (and the block after)
        block = np.zeros(STEP, dtype=np.int16)
        renderer.render(block)
        capture.process(block)  # the speaker's click, as the mic would hear it
        clock.now += 0.01
    assert engine.tick.clicks == 1
    assert audio_sent() == flowing  # nothing of it was sent
    assert capture.counters.blocks_guarded >= 1
    for _ in range(30):  # 300 ms later the guard has let go
        renderer.render(np.zeros(STEP, dtype=np.int16))
        capture.process(room[:STEP])
        clock.now += 0.01
    assert audio_sent() > flowing
    assert all(not np.frombuffer(pcm, dtype="<i2").any() for pcm in sent if pcm is not None)
    engine.loop.close()


class _NoLoop:
    """The capture's loop stand-in: runs the handed-over delivery at once."""

    def __init__(self, sink: list[bytes | None]) -> None:
        self.sink = sink

    def call_soon_threadsafe(self, function: Any, *args: Any) -> None:
        function(*args)
