"""Echo cancellation figures, printed: CPU, per-frame cost, memory, added latency, ERLE.

    pytest -m benchmark tests/benchmarks/bench_echo.py -s

Nothing here is a pass/fail timing; the asserts only check that a measurement happened.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.audio import room
from tests.audio.test_echo import RecordingCanceller
from tests.audio.test_echo_live import run_scene
from tui.audio.echo import FRAME_SAMPLES, EchoPath, WebRtcEchoCanceller, create_echo_path

pytestmark = pytest.mark.benchmark

FOOTPRINT_SCRIPT = """
import json, time
import numpy as np

def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

before = rss_kib()
started = time.perf_counter()
from tui.audio.echo import create_echo_path
path, message = create_echo_path("aec")
created = time.perf_counter()
frame = np.zeros(240, dtype=np.int16)
for _ in range(100):
    path.on_output(frame)
    path.on_input(frame)
print(json.dumps({"rss_kib": rss_kib() - before, "create_ms": (created - started) * 1000,
                  "message": message}))
"""


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    cache = tmp_path_factory.getbasetemp() / "speech"
    return {
        "far": room.render_speech(room.FAR_TEXT, room.FAR_VOICE, cache),
        "near": room.render_speech(
            room.NEAR_TEXT, room.NEAR_VOICE, cache, pitch=70, level_dbfs=-26.0
        ),
    }


def percentiles(values: list[float]) -> str:
    p50, p99 = np.percentile(values, [50, 99])
    return f"p50 {p50:.0f} µs, p99 {p99:.0f} µs"


def test_footprint_of_importing_and_creating_the_canceller() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FOOTPRINT_SCRIPT], capture_output=True, text=True, check=True
    )
    figures = json.loads(result.stdout)
    assert figures["message"] == ""
    print(
        f"\nAEC footprint (fresh process, on top of numpy): RSS +{figures['rss_kib'] / 1024:.1f} "
        f"MiB after 100 frames; import + create {figures['create_ms']:.1f} ms"
    )


def test_cost_per_frame_offline(speech: dict[str, np.ndarray]) -> None:
    scene = room.echo_scene(speech["far"][: 10 * room.RATE], delay_ms=50)
    canceller = WebRtcEchoCanceller()
    costs = []
    for start in range(0, scene.mic.size - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        far = scene.far[start : start + FRAME_SAMPLES]
        near = scene.mic[start : start + FRAME_SAMPLES]
        began = time.perf_counter()
        canceller.feed_far(far)
        canceller.process(near)
        costs.append((time.perf_counter() - began) * 1e6)
    print(f"\nAEC per 10 ms frame, hot loop: {percentiles(costs)}")
    assert len(costs) == 1000


def test_latency_added_to_the_mic_path(speech: dict[str, np.ndarray]) -> None:
    """Algorithmic delay (cross-correlation, near end only) plus the wait for a whole frame."""
    near = speech["near"]
    mic = room.to_int16(room.as_float(near) + room.white_noise(near.size, -65.0))
    silence = np.zeros_like(mic)
    path, _ = create_echo_path("aec")
    assert path is not None
    processed = room.through_echo_path(path, silence, mic, (480,))
    delay = room.find_lag(mic[: processed.size], processed)
    print(f"\nAEC algorithmic delay on the mic path: {delay} samples = {delay / 24:.2f} ms")
    for size in (240, 480, 441, 1000):
        mean_ms, max_ms = frame_wait_ms(size)
        print(
            f"  + frame buffering with {size}-sample capture blocks: "
            f"mean {mean_ms:.2f} ms, max {max_ms:.2f} ms"
        )
    assert 0 <= delay < 2400


def frame_wait_ms(block: int, blocks: int = 500) -> tuple[float, float]:
    """How long each mic sample waits in EchoPath for its 240-sample frame to complete.

    A sample that arrives with capture call k and leaves with call m waited for the blocks
    k+1..m, which the device delivers in real time.
    """
    path = EchoPath(RecordingCanceller())
    arrived_at = []  # per sample: samples delivered in total when its block arrived
    left_at = []
    delivered = 0
    for _ in range(blocks):
        delivered += block
        arrived_at.extend([delivered] * block)
        out = path.on_input(np.zeros(block, dtype=np.int16))
        left_at.extend([delivered] * out.size)
    waits = (np.array(left_at) - np.array(arrived_at[: len(left_at)])) / 24.0
    return float(waits.mean()), float(waits.max())


def test_user_voice_while_the_assistant_speaks(speech: dict[str, np.ndarray]) -> None:
    """How much of a voice talking over the assistant gets through, with and without echo."""
    near = speech["near"]
    far = np.concatenate((speech["far"], speech["far"]))
    print("\nUser talking over the assistant (offline room, user at the echo's level):")
    print("  echo path | user starts at | level change | worst 100 ms | speech_started after")
    for echo_gain_db, label in ((-6.0, "-6 dB room"), (-200.0, "headphones")):
        for onset_s in (2.0, 4.0, 6.0, 10.0, 20.0):
            scene = room.echo_scene(
                far[: round((onset_s + 7.0) * room.RATE)],
                echo_gain_db=echo_gain_db,
                near=near,
                near_onset_s=onset_s,
            )
            assert scene.near_onset is not None
            path, _ = create_echo_path("aec")
            assert path is not None
            processed = room.through_echo_path(path, scene.far, scene.mic)
            talk = slice(scene.near_onset, scene.near_onset + near.size)
            delay = 223  # AEC3's own delay (see test_latency_added_to_the_mic_path)
            clean = scene.near[talk]  # what the user said, without echo or noise
            out = room.as_float(processed[talk.start + delay : talk.stop + delay])
            # Least-squares gain of the user's voice in the output: the echo residual and
            # noise are uncorrelated with it.
            gain_db = 20.0 * np.log10(max(float(np.dot(out, clean) / np.dot(clean, clean)), 1e-6))
            clean_e = room.frame_energies(clean, 2400)
            out_e = room.frame_energies(out, 2400)
            loud = clean_e > 10.0 ** (-40.0 / 10.0)
            worst = 10.0 * np.log10(max(float(np.min(out_e[loud] / clean_e[loud])), 1e-12))
            onset_ms = scene.near_onset * 1000 // room.RATE
            later = [
                start - onset_ms
                for start in room.vad_start_times_ms(processed)
                if start >= onset_ms
            ]
            heard = f"{later[0]} ms" if later else "never"
            print(
                f"  {label:>10} | {onset_s:>11.0f} s | {gain_db:>+9.1f} dB | {worst:>+9.1f} dB"
                f" | {heard}"
            )


@pytest.fixture
def sd(virtual_audio: Path) -> Any:
    import sounddevice

    return sounddevice


def test_live_two_way_audio(sd: Any, speech: dict[str, np.ndarray]) -> None:
    far = speech["far"][: 12 * room.RATE]
    run_aec = run_scene(sd, far, near=speech["near"], near_at_s=6.0)
    run_off = run_scene(sd, far, mode="off", near=speech["near"], near_at_s=6.0)
    client = run_aec.client
    assert run_aec.path is not None and client.cancel_frames > 0

    erle = room.erle_db(run_aec.raw, run_aec.processed, run_aec.far_only_mask(from_s=3.0))
    early = room.erle_db(run_aec.raw, run_aec.processed, run_aec.far_only_mask(from_s=0.0))
    print(
        f"\nAEC live, {run_aec.wall_s:.1f} s two-way audio (far end 12 s, user from 6 s), "
        f"blocks of 480:"
    )
    cpu_share = 100 * client.cancel_cpu_seconds / run_aec.wall_s
    wall_share = 100 * client.cancel_seconds / run_aec.wall_s
    print(
        f"  canceller in the capture callback: {cpu_share:.2f} % of one core (CPU time), "
        f"{wall_share:.2f} % (wall time inside on_input)"
    )
    print(f"  per 10 ms frame in the callback: {percentiles(client.frame_costs_us)}")
    process_aec = 100 * run_aec.process_cpu_s / run_aec.wall_s
    process_off = 100 * run_off.process_cpu_s / run_off.wall_s
    print(
        f"  whole test process (client + room + test): aec {process_aec:.1f} %, "
        f"off {process_off:.1f} % of one core"
    )
    print(f"  far frames waiting at most: {client.max_backlog}")
    print(
        f"  ERLE far-only before the user speaks: from 0 s {early:.1f} dB, from 3 s {erle:.1f} dB;"
        f" smoothed estimate {fmt_db(run_aec.erle_estimate_before_near)} just before the user"
        f" speaks, {fmt_db(run_aec.path.erle_db)} at the end (the user's voice passes)"
    )


def fmt_db(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f} dB"


def test_resting_while_nothing_plays(speech: dict[str, np.ndarray]) -> None:
    """CPU of the capture side of the echo path over a conversation's rhythm (a 5 s reply,
    5 s of nothing: the parrot's own duty cycle in bench_app), resting and never resting,
    as a share of one core of the real time it covers (thread CPU time, 20 ms blocks)."""
    reply = speech["far"][: 5 * room.RATE]
    far = np.tile(np.concatenate((reply, np.zeros(5 * room.RATE, np.int16))), 3)
    scene = room.echo_scene(far, delay_ms=50)
    shares = {}
    for label, rests in (("resting", True), ("never resting", False)):
        path = create_echo_path("aec")[0]
        assert path is not None
        spent = 0.0
        for start in range(0, far.size, 480):
            played = scene.far[start : start + 480]
            path.on_output(played, silent=rests and not played.any())
            began = time.thread_time()
            path.on_input(scene.mic[start : start + 480])
            spent += time.thread_time() - began
        shares[label] = 100 * spent / (far.size / room.RATE)
        rest = path._rest
        rested = 100 * rest.rested_frames / max(1, rest.rested_frames + rest.processed_frames)
        print(
            f"\n[bench] echo path capture side, {label}: {shares[label]:.2f} % of one core "
            f"over {far.size / room.RATE:.0f} s ({rested:.0f} % of frames rested)"
        )
    assert shares["resting"] > 0
