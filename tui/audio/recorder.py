"""Optional WAV recording of both sides of a conversation ([history] record_audio).

The microphone file gets the 24 kHz blocks exactly as sent; the assistant file gets the
assistant audio as it was handed to the speaker. Callers (the audio thread among them) only
put bytes on a queue; a small writer thread does the file I/O, so no callback ever waits on a
disk.

Recordings are conversation: each file is created 0600 whatever the umask (like the
transcript beside it), and a folder made here is 0700.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import wave
from pathlib import Path
from typing import BinaryIO

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
        self._raw: list[BinaryIO] = []  # wave does not close a file it was handed
        for path in (self.mic_path, self.assistant_path):
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            raw = _private_file(path)
            self._raw.append(raw)
            wav = wave.open(raw, "wb")  # noqa: SIM115 - closed by the writer thread
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
            for wav, raw in zip(self._files, self._raw, strict=True):
                try:
                    wav.close()  # writes the header's sizes and flushes
                except OSError as exc:
                    self.error = self.error or f"audio recording could not be finished: {exc}"
                finally:
                    with contextlib.suppress(OSError):  # nothing left to flush: only the fd
                        raw.close()


def _private_file(path: Path) -> BinaryIO:
    """`path` opened for writing (truncated), mode 0600 even if it existed or the umask is 0."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # os.open's mode is cut by the umask and unused for an old file
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
