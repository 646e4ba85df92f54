"""Loading PortAudio (through sounddevice) lazily, so a machine without it still runs text-only.

`import sounddevice` raises a plain OSError ("PortAudio library not found") when the shared
library is missing: the Linux wheel does not bundle it. That must never stop the app, so the
import happens here, once, on first use, and a failure becomes `None` plus one message that
says what to install.
"""

from __future__ import annotations

import ctypes
import importlib
import sys
from types import ModuleType

UNAVAILABLE_MESSAGE = (
    "Audio is off: the PortAudio library was not found. Install it "
    "(libportaudio2 on Debian/Ubuntu, portaudio on Fedora/Homebrew) and restart; "
    "until then rt-tui runs text-only."
)

_loaded = False
_module: ModuleType | None = None
_error: str | None = None

# libasound's error callback: void (*)(file, line, function, err, fmt, ...). The variadic
# tail is not declared; a handler that ignores its arguments may be called with more.
_AlsaErrorHandler = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)
_alsa_handler: object | None = None  # kept alive: libasound holds only the C pointer
alsa_errors = 0  # what libasound would have printed (underruns while recovering, mostly)


def _count_alsa_error(*_args: object) -> None:
    global alsa_errors
    alsa_errors += 1


def silence_alsa() -> bool:
    """Route libasound's error messages away from the terminal.

    libasound prints them ("ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred", and a
    screenful of unknown PCMs while PortAudio lists devices) straight to file descriptor 2,
    which is where Textual draws the screen. They are counted instead. Must run before
    PortAudio initialises; returns whether libasound was found.
    """
    global _alsa_handler
    if _alsa_handler is not None:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        library = ctypes.CDLL("libasound.so.2")
    except OSError:
        return False
    _alsa_handler = _AlsaErrorHandler(_count_alsa_error)
    library.snd_lib_error_set_handler(_alsa_handler)
    return True


def _import_sounddevice() -> ModuleType:
    """The one place the import happens (tests replace it to simulate a missing PortAudio)."""
    return importlib.import_module("sounddevice")


def load() -> ModuleType | None:
    """The sounddevice module, or None when PortAudio cannot be loaded (text-only mode)."""
    global _loaded, _module, _error
    if not _loaded:
        _loaded = True
        silence_alsa()
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
