"""Echo cancellation offline: the callback glue, the canceller in a synthetic room, the fallback.

The room (tests/audio/room.py) plays real espeak-ng speech through a delayed, reverberant
echo path at -6 dB with a -65 dBFS noise floor; the signals go through `EchoPath` in odd block
sizes, exactly as the audio callbacks would hand them over. The local server's energy VAD
decides whether the assistant would have interrupted itself.
"""

from __future__ import annotations

import importlib
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.audio import room
from tui.audio import echo, echo_rest
from tui.audio.echo import (
    FAR_QUEUE_FRAMES,
    FRAME_SAMPLES,
    EchoCanceller,
    EchoPath,
    ErleMeter,
    WebRtcEchoCanceller,
    create_echo_path,
)

ODD_BLOCKS = room.ODD_BLOCKS


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return tmp_path_factory.getbasetemp() / "speech"


@pytest.fixture(scope="session")
def far_speech(speech_cache: Path) -> np.ndarray:
    """The assistant: about 24 s of continuous en-us speech at -20 dBFS."""
    return room.render_speech(room.FAR_TEXT, room.FAR_VOICE, speech_cache)


@pytest.fixture(scope="session")
def near_speech(speech_cache: Path) -> np.ndarray:
    """The user: en-gb+f3 at -26 dBFS, the echo's level in the default room."""
    return room.render_speech(
        room.NEAR_TEXT, room.NEAR_VOICE, speech_cache, pitch=70, level_dbfs=-26.0
    )


def aec_path() -> EchoPath:
    path, message = create_echo_path("aec")
    assert path is not None, message
    return path


class RecordingCanceller:
    """Identity canceller that records the frames it is given."""

    def __init__(self) -> None:
        self.far: list[np.ndarray] = []
        self.near: list[np.ndarray] = []
        self.resets = 0

    def feed_far(self, frame: np.ndarray) -> None:
        self.far.append(frame.copy())

    def process(self, frame: np.ndarray) -> np.ndarray:
        assert frame.dtype == np.int16 and frame.shape == (FRAME_SAMPLES,)
        self.near.append(frame.copy())
        return frame.copy()

    def reset(self) -> None:
        self.resets += 1

    @property
    def erle_db(self) -> float | None:
        return 12.5


def ramp(samples: int, offset: int = 0) -> np.ndarray:
    """Distinct, recognisable int16 samples: sample i holds (i + offset) mod 30000."""
    return ((np.arange(samples) + offset) % 30000).astype(np.int16)


# --- the callback glue ----------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [ODD_BLOCKS, (240,), (480,), (1,), (239, 241), (5000, 7)])
def test_echo_path_slices_blocks_into_continuous_frames(sizes: tuple[int, ...]) -> None:
    canceller = RecordingCanceller()
    path = EchoPath(canceller)
    far = ramp(12_000)
    mic = ramp(12_000, offset=7)

    processed = room.through_echo_path(path, far, mic, sizes)

    whole = mic.size // FRAME_SAMPLES * FRAME_SAMPLES
    np.testing.assert_array_equal(processed, mic[:whole])
    np.testing.assert_array_equal(np.concatenate(canceller.near), mic[:whole])
    # Every far frame reached the canceller in order, paired with the mic frame of its time.
    np.testing.assert_array_equal(np.concatenate(canceller.far), far[:whole])
    assert path.far_backlog == 0


def test_output_length_differs_from_input_by_less_than_a_frame() -> None:
    path = EchoPath(RecordingCanceller())
    total_in = 0
    total_out = 0
    for size in (441, 1000, 17, 240, 480, 999):
        out = path.on_input(np.zeros(size, dtype=np.int16))
        total_in += size
        total_out += out.size
        assert out.size % FRAME_SAMPLES == 0
        assert abs(out.size - size) < FRAME_SAMPLES
        assert 0 <= total_in - total_out < FRAME_SAMPLES


def test_far_frames_missing_become_silence() -> None:
    canceller = RecordingCanceller()
    path = EchoPath(canceller)
    path.on_output(ramp(240, offset=1))  # one far frame for three near frames
    path.on_input(np.ones(720, dtype=np.int16))
    assert len(canceller.far) == 3
    np.testing.assert_array_equal(canceller.far[0], ramp(240, offset=1))
    assert not canceller.far[1].any() and not canceller.far[2].any()


def test_far_queue_is_capped_and_drops_the_oldest() -> None:
    canceller = RecordingCanceller()
    path = EchoPath(canceller, max_far_frames=40)
    path.on_output(ramp(100 * FRAME_SAMPLES))
    assert path.far_backlog == 40
    path.on_input(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    np.testing.assert_array_equal(canceller.far[0], ramp(100 * FRAME_SAMPLES)[60 * 240 : 61 * 240])


def test_blocks_of_shape_n_by_1_and_float_are_accepted() -> None:
    canceller = RecordingCanceller()
    path = EchoPath(canceller)
    path.on_output(np.full((240, 1), 0.5, dtype=np.float32))
    out = path.on_input(np.full((240, 1), 1000, dtype=np.int16))
    np.testing.assert_array_equal(canceller.far[0], np.full(240, 16384, dtype=np.int16))
    np.testing.assert_array_equal(out, np.full(240, 1000, dtype=np.int16))


def test_reset_clears_queue_remainders_and_canceller_on_its_own_thread() -> None:
    canceller = RecordingCanceller()
    path = EchoPath(canceller)
    path.on_output(np.full(500, 3, dtype=np.int16))  # 2 frames queued + 20 samples kept
    path.on_input(np.full(300, 4, dtype=np.int16))  # 1 frame processed + 60 samples kept
    assert path.erle_db == 12.5

    path.reset()
    assert path.far_backlog == 0
    assert path.erle_db is None  # until the capture thread has reset the canceller
    assert canceller.resets == 0  # never from the calling thread

    path.on_output(np.full(240, 5, dtype=np.int16))
    out = path.on_input(np.full(240, 6, dtype=np.int16))
    assert canceller.resets == 1
    # The old 60 near samples and 20 far samples are gone: frames are purely new data.
    np.testing.assert_array_equal(out, np.full(240, 6, dtype=np.int16))
    np.testing.assert_array_equal(canceller.far[-1], np.full(240, 5, dtype=np.int16))
    assert path.erle_db == 12.5


class ThreadRecordingCanceller(RecordingCanceller):
    """Notes which thread makes each call."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def feed_far(self, frame: np.ndarray) -> None:
        self.threads.add(threading.get_ident())
        super().feed_far(frame)

    def process(self, frame: np.ndarray) -> np.ndarray:
        self.threads.add(threading.get_ident())
        return super().process(frame)

    def reset(self) -> None:
        self.threads.add(threading.get_ident())
        super().reset()


def test_only_the_capture_thread_touches_the_canceller_even_across_resets() -> None:
    canceller = ThreadRecordingCanceller()
    path = EchoPath(canceller)
    errors: list[BaseException] = []
    capture_thread: list[int] = []
    produced: list[int] = []
    go = threading.Barrier(3)
    resets_done = threading.Event()

    def output_side() -> None:
        try:
            go.wait()
            for _ in range(2000):
                path.on_output(ramp(441))
        except BaseException as error:  # reported to the test below
            errors.append(error)

    def capture_side() -> None:
        capture_thread.append(threading.get_ident())
        try:
            go.wait()
            for _ in range(2000):
                produced.append(path.on_input(ramp(480)).size)
            # One more block after the last reset, which must honour it here.
            assert resets_done.wait(10)
            produced.append(path.on_input(ramp(480)).size)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=output_side), threading.Thread(target=capture_side)]
    for thread in threads:
        thread.start()
    go.wait()
    for _ in range(200):
        path.reset()  # from this (the "UI") thread while both callbacks run
    resets_done.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert canceller.threads == set(capture_thread)
    assert canceller.resets >= 1
    # every frame out went through the canceller, or (when the far end had fallen silent)
    # past it while it rested; waking, it is also primed with the frame before
    rest = path._rest
    assert sum(produced) == (rest.processed_frames + rest.rested_frames) * FRAME_SAMPLES
    assert len(canceller.near) >= rest.processed_frames
    assert path.far_backlog <= FAR_QUEUE_FRAMES


def test_webrtc_canceller_meets_the_protocol_and_checks_frames() -> None:
    canceller = WebRtcEchoCanceller()
    assert isinstance(canceller, EchoCanceller)
    assert canceller.erle_db is None
    with pytest.raises(ValueError, match="240 int16"):
        canceller.process(np.zeros(480, dtype=np.int16))
    with pytest.raises(ValueError, match="240 int16"):
        canceller.feed_far(np.zeros(240, dtype=np.float32))
    out = canceller.process(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    assert out.dtype == np.int16 and out.shape == (FRAME_SAMPLES,)


def test_erle_meter_reads_the_energy_ratio_over_far_active_frames() -> None:
    meter = ErleMeter(hold_s=0.0, min_frames=10)
    rng = np.random.default_rng(0)
    quiet = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    for _ in range(200):
        far = (rng.standard_normal(FRAME_SAMPLES) * 3000).astype(np.int16)
        mic = (rng.standard_normal(FRAME_SAMPLES) * 1000).astype(np.int16)
        out = (rng.standard_normal(FRAME_SAMPLES) * 100).astype(np.int16)  # 20 dB quieter
        meter.update(far, mic, out)
        # Far end silent: these frames must not count, or the estimate would read 0 dB.
        meter.update(quiet, mic, mic)
    assert meter.erle_db == pytest.approx(20.0, abs=0.5)
    meter.reset()
    assert meter.erle_db is None


# --- the canceller in a synthetic room ------------------------------------------------------


@pytest.mark.parametrize("delay_ms", [30, 150, 300])
def test_echo_only_is_removed_and_never_triggers_the_vad(
    far_speech: np.ndarray, delay_ms: int
) -> None:
    scene = room.echo_scene(far_speech[: 10 * room.RATE], delay_ms=delay_ms)
    path = aec_path()

    processed = room.through_echo_path(path, scene.far, scene.mic)

    after_3s = scene.far_only_mask(from_s=3.0)
    erle = room.erle_db(scene.mic, processed, after_3s)
    assert erle >= 30.0, f"ERLE after 3 s is {erle:.1f} dB"
    assert room.vad_start_times_ms(scene.mic), "the raw mic must trigger the VAD (the room works)"
    assert room.vad_start_times_ms(processed) == []
    # The canceller's own smoothed estimate tells the UI about the same figure.
    assert path.erle_db is not None
    assert path.erle_db >= 30.0
    assert abs(path.erle_db - erle) < 6.0


@pytest.mark.parametrize("delay_ms", [30, 150])
def test_double_talk_user_is_heard_within_300_ms(
    far_speech: np.ndarray, near_speech: np.ndarray, delay_ms: int
) -> None:
    echo_level = room.active_level_dbfs(room.echo_scene(far_speech, delay_ms=delay_ms).echo)
    gain = 10.0 ** ((echo_level - room.active_level_dbfs(near_speech)) / 20.0)
    near = room.to_int16(room.as_float(near_speech) * gain)  # as loud as the echo
    scene = room.echo_scene(
        far_speech[: 12 * room.RATE], delay_ms=delay_ms, near=near, near_onset_s=6.0
    )
    assert scene.near_onset is not None
    onset_ms = scene.near_onset * 1000 // room.RATE

    processed = room.through_echo_path(aec_path(), scene.far, scene.mic)

    starts = room.vad_start_times_ms(processed)
    assert starts, "the user talking over the assistant was never detected"
    assert onset_ms <= starts[0] <= onset_ms + 300, f"first speech_started at {starts}"


def test_headphones_user_answering_after_the_reply_passes_within_1_db(
    far_speech: np.ndarray, near_speech: np.ndarray
) -> None:
    # The assistant spoke (the reference was active) but nothing of it reached the mic; the
    # user answers 0.3 s after it stopped.
    far = np.concatenate((far_speech[: 6 * room.RATE], np.zeros(8 * room.RATE, np.int16)))
    scene = room.echo_scene(far, echo_gain_db=-200.0, near=near_speech, near_onset_s=6.3)
    assert scene.near_onset is not None

    processed = room.through_echo_path(aec_path(), scene.far, scene.mic)

    room.assert_voice_passes(
        scene.mic, processed, slice(scene.near_onset, scene.near_onset + near_speech.size)
    )


def test_headphones_barge_in_passes_within_1_db_once_aec3_knows_there_is_no_echo(
    far_speech: np.ndarray, near_speech: np.ndarray
) -> None:
    # With no echo path AEC3's filter never converges, and until it has heard about 10-20 s of
    # far end it suppresses a voice talking over the assistant (figures: bench_echo.py).
    far = np.concatenate((far_speech, far_speech))[: 27 * room.RATE]
    scene = room.echo_scene(far, echo_gain_db=-200.0, near=near_speech, near_onset_s=20.0)
    assert scene.near_onset is not None

    processed = room.through_echo_path(aec_path(), scene.far, scene.mic)

    room.assert_voice_passes(
        scene.mic, processed, slice(scene.near_onset, scene.near_onset + near_speech.size)
    )


# --- choosing and falling back --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["off", "half_duplex"])
def test_modes_without_cancellation_need_no_path(mode: str) -> None:
    assert create_echo_path(mode) == (None, "")


def test_aec_mode_builds_a_webrtc_path() -> None:
    path, message = create_echo_path("aec")
    assert message == ""
    assert isinstance(path, EchoPath)
    assert isinstance(path.canceller, WebRtcEchoCanceller)


@pytest.mark.parametrize(
    "failure",
    [
        ImportError("No module named 'pywebrtc_audio'"),
        OSError("libstdc++.so.6: version `GLIBCXX_3.4.32' not found"),
    ],
)
def test_aec_falls_back_to_half_duplex_when_the_package_cannot_load(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    real_import: Callable[..., object] = importlib.import_module

    def failing_import(name: str, *args: object) -> object:
        if name == "pywebrtc_audio":
            raise failure
        return real_import(name, *args)

    monkeypatch.setattr(echo.importlib, "import_module", failing_import)

    path, message = create_echo_path("aec")

    assert path is None
    assert message == f"echo cancellation unavailable ({failure}): using half_duplex"


# --- resting while nothing plays (tui.audio.echo_rest) -------------------------------------


def test_the_rest_delay_is_the_cancellers_own_latency() -> None:
    """Resting, the mic goes out delayed as the canceller delays it: measured here, so a
    pywebrtc-audio whose latency changed fails this rather than clicking at every switch."""
    canceller = WebRtcEchoCanceller()
    rng = np.random.default_rng(5)
    low = np.convolve(rng.standard_normal(FRAME_SAMPLES * 300), np.ones(6) / 6, mode="same")
    near = room.to_int16(low * 0.1)
    out = np.concatenate(
        [
            canceller.process(near[i : i + FRAME_SAMPLES].copy())
            for i in range(0, near.size, FRAME_SAMPLES)
        ]
    )
    assert room.find_lag(near, out) == echo_rest.AEC_DELAY_SAMPLES


def test_the_canceller_rests_while_nothing_plays_and_cancels_the_next_reply_at_once(
    far_speech: np.ndarray,
) -> None:
    """Two replies with three seconds of nothing between: the canceller is not called for
    most of the gap, and the second reply's echo is cancelled from its first words as well
    as if it had never rested (its learned echo path is kept)."""
    reply = far_speech[: 8 * room.RATE]
    gap = np.zeros(3 * room.RATE, np.int16)
    far = np.concatenate((reply, gap, far_speech[8 * room.RATE : 14 * room.RATE]))
    scene = room.echo_scene(far, delay_ms=80)
    resting = aec_path()

    processed = room.through_echo_path(resting, scene.far, scene.mic)

    frames = room.RATE // FRAME_SAMPLES  # a second of frames
    assert resting._rest.rested_frames >= 2 * frames  # of the 3 s gap, all but its first 0.5 s
    # the first second of the second reply, against a canceller that never rested
    second = scene.far_only_mask(from_s=11.0)
    second[round(12.0 * frames) :] = False
    awake = room.through_echo_path(aec_path(), scene.far, scene.mic, rest=False)
    rested_erle = room.erle_db(scene.mic, processed, second)
    awake_erle = room.erle_db(scene.mic, awake, second)
    assert rested_erle >= 30.0, f"{rested_erle:.1f} dB"
    assert rested_erle >= awake_erle - 3.0, f"{rested_erle:.1f} against {awake_erle:.1f} dB"
    assert room.vad_start_times_ms(processed) == []


def test_resting_and_waking_put_no_click_in_a_steady_voice() -> None:
    """A steady tone at the mic while a short burst plays: the changes between resting and
    cancelling are faded, so the output never jumps more than the tone itself does."""
    seconds = 4
    t = np.arange(room.RATE * seconds) / room.RATE
    near = room.to_int16(0.3 * np.sin(2 * np.pi * 440 * t))
    far = np.zeros(near.size, np.int16)
    burst = slice(round(1.5 * room.RATE), round(1.8 * room.RATE))
    noise = np.random.default_rng(1).standard_normal(burst.stop - burst.start)
    far[burst] = room.to_int16(noise * 0.1)
    path = aec_path()

    out = room.through_echo_path(path, far, near, sizes=(480,))

    rest = path._rest
    assert rest.rested_frames > 2 * room.RATE // FRAME_SAMPLES  # rested before and after
    steady = np.abs(np.diff(near.astype(np.int32))).max()
    assert np.abs(np.diff(out.astype(np.int32))).max() <= 1.25 * steady


def test_a_resting_block_in_one_go_is_the_same_stream_frame_by_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Resting, a block of whole frames goes out in one numpy call rather than frame by
    frame: the same continuous stream, waking included."""
    seconds = 3
    near = room.to_int16(room.white_noise(room.RATE * seconds, -30.0, seed=4))
    far = np.zeros(near.size, np.int16)
    burst = slice(round(1.5 * room.RATE), round(1.7 * room.RATE))
    far[burst] = room.to_int16(room.white_noise(burst.stop - burst.start, -20.0, seed=5))
    in_one_go = aec_path()
    whole = room.through_echo_path(in_one_go, far, near, sizes=(480,))
    monkeypatch.setattr(EchoPath, "_rest_block", lambda self, samples: None)
    frame_by_frame = aec_path()
    framed = room.through_echo_path(frame_by_frame, far, near, sizes=(480,))

    np.testing.assert_array_equal(whole, framed)
    rested = in_one_go._rest.rested_frames
    assert rested == frame_by_frame._rest.rested_frames > room.RATE // FRAME_SAMPLES
