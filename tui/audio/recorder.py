"""Optional WAV recording of both sides of a conversation ([history] record_audio).

The microphone file gets the 24 kHz blocks exactly as sent; the assistant file gets the
assistant audio as it was handed to the speaker. Callers (the audio thread among them) only
put bytes on a queue; a small writer thread does the file I/O, so no callback ever waits on a
disk.
"""

from __future__ import annotations

import queue
import threading
import wave
from pathlib import Path

RATE = 24000

_MIC = 0
_ASSISTANT = 1
_STOP = 2


class WavRecorder:
    """Two mono 24 kHz PCM16 WAV files written by a background thread."""

    def __init__(self, mic_path: str | Path, assistant_path: str | Path) -> None:
        self.mic_path = Path(mic_path)
        self.assistant_path = Path(assistant_path)
        self._queue: queue.SimpleQueue[tuple[int, bytes]] = queue.SimpleQueue()
        self._files: list[wave.Wave_write] = []
        for path in (self.mic_path, self.assistant_path):
            path.parent.mkdir(parents=True, exist_ok=True)
            wav = wave.open(str(path), "wb")  # noqa: SIM115 - closed by the writer thread
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            self._files.append(wav)
        self.error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="rt-tui-wav", daemon=True)
        self._thread.start()

    def write_mic(self, pcm: bytes) -> None:
        """Queue microphone PCM16 (as sent). Never blocks."""
        if not self._closed:
            self._queue.put((_MIC, pcm))

    def write_assistant(self, pcm: bytes) -> None:
        """Queue assistant PCM16 (as played). Never blocks; safe from the audio thread."""
        if not self._closed:
            self._queue.put((_ASSISTANT, pcm))

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, finalise both headers."""
        if self._closed:
            return
        self._closed = True
        self._queue.put((_STOP, b""))
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                kind, data = self._queue.get()
                if kind == _STOP:
                    break
                if self.error is None:
                    try:
                        self._files[kind].writeframesraw(data)
                    except OSError as exc:  # disk full etc.: stop writing, keep the app going
                        self.error = f"audio recording stopped: {exc}"
        finally:
            for wav in self._files:
                try:
                    wav.close()
                except OSError as exc:
                    self.error = self.error or f"audio recording could not be finished: {exc}"
