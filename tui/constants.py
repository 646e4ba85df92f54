"""Closed sets and fixed numbers the whole app shares, each defined once.

The lowest floor of the house: imports nothing of tui, so config, the wire, audio, the
session and the UI can all name these instead of repeating string literals. StrEnum members
compare equal to their strings, so a TOML value or a wire field can be checked with `in`.
"""

from __future__ import annotations

from enum import StrEnum

WIRE_RATE_HZ = 24_000
"""The Realtime API's PCM16 rate, both directions (mono, little-endian)."""
WIRE_BYTES_PER_MS = WIRE_RATE_HZ * 2 // 1000  # 48: PCM16 mono at 24 kHz


class AudioMode(StrEnum):
    """What the audio engine can do right now."""

    FULL = "full"  # microphone and speaker
    OUTPUT_ONLY = "output_only"  # no microphone: the assistant is heard, the user types
    INPUT_ONLY = "input_only"  # no speaker: replies are read
    TEXT_ONLY = "text_only"  # no device at all (or PortAudio missing)
    OFF = "off"  # audio turned off in the settings or with --no-audio

    @property
    def captures(self) -> bool:
        return self in (AudioMode.FULL, AudioMode.INPUT_ONLY)

    @property
    def plays(self) -> bool:
        return self in (AudioMode.FULL, AudioMode.OUTPUT_ONLY)


class EchoGuard(StrEnum):
    """How the app keeps the assistant's voice out of the microphone."""

    AEC = "aec"  # WebRTC echo cancellation (falls back to half_duplex when it cannot load)
    HALF_DUPLEX = "half_duplex"  # the mic is not sent while the assistant is audible
    OFF = "off"  # headphones


class TurnMode(StrEnum):
    """Who decides that the user's turn is over."""

    SERVER_VAD = "server_vad"
    SEMANTIC_VAD = "semantic_vad"
    MANUAL = "manual"  # the talk key starts and ends a turn
