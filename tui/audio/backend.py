"""Loading PortAudio (through sounddevice) lazily, so a machine without it still runs text-only.

`import sounddevice` raises a plain OSError ("PortAudio library not found") when the shared
library is missing: the Linux wheel does not bundle it. That must never stop the app, so the
import happens here, once, on first use, and a failure becomes `None` plus one message that
says what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

UNAVAILABLE_MESSAGE = (
    "Audio is off: the PortAudio library was not found. Install it "
    "(libportaudio2 on Debian/Ubuntu, portaudio on Fedora/Homebrew) and restart; "
    "until then rt-tui runs text-only."
)

_loaded = False
_module: ModuleType | None = None
_error: str | None = None


def _import_sounddevice() -> ModuleType:
    """The one place the import happens (tests replace it to simulate a missing PortAudio)."""
    return importlib.import_module("sounddevice")


def load() -> ModuleType | None:
    """The sounddevice module, or None when PortAudio cannot be loaded (text-only mode)."""
    global _loaded, _module, _error
    if not _loaded:
        _loaded = True
        try:
            _module = _import_sounddevice()
            _error = None
        except OSError as exc:
            _module = None
            _error = str(exc)
    return _module


def unavailable_message() -> str | None:
    """The message to show when audio cannot work at all, or None when PortAudio loaded."""
    return UNAVAILABLE_MESSAGE if load() is None else None


def load_error() -> str | None:
    """The raw import error text (for logs), if the import failed."""
    load()
    return _error


def forget() -> None:
    """Drop the cached result so the next load() imports again (tests; a retry after install)."""
    global _loaded, _module, _error
    _loaded = False
    _module = None
    _error = None


def reinitialize(sd: ModuleType) -> None:
    """Re-enumerate devices: PortAudio reads the device list once, at initialisation.

    A sound server that (re)appears after import stays invisible until PortAudio is
    terminated and initialised again. sounddevice has no public call for this, so the private
    pair is used. Only call it when no stream is open: terminating closes them all.
    """
    sd._terminate()
    sd._initialize()
