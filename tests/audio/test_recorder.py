"""WAV recording of both sides, written off the audio thread."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np

from tui.audio.recorder import WavRecorder

from .speech import tone


def read(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return wav.getframerate(), np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


def test_both_files_hold_what_was_written(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "rec" / "mic.wav", tmp_path / "rec" / "assistant.wav")
    mic = tone(300, 0.5)
    assistant = tone(700, 0.7)
    writer_thread = threading.Thread(
        target=lambda: [
            recorder.write_assistant(assistant[i : i + 480].tobytes())
            for i in range(0, len(assistant), 480)
        ]
    )
    writer_thread.start()
    for i in range(0, len(mic), 480):
        recorder.write_mic(mic[i : i + 480].tobytes())
    writer_thread.join()
    recorder.close()
    assert recorder.error is None
    rate, got_mic = read(tmp_path / "rec" / "mic.wav")
    assert rate == 24000 and np.array_equal(got_mic, mic)
    rate, got_assistant = read(tmp_path / "rec" / "assistant.wav")
    assert np.array_equal(got_assistant, assistant)
    recorder.write_mic(b"\x00\x00")  # after close: ignored, no error
    recorder.close()
