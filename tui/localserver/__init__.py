"""The built-in Realtime-protocol server (loopback): the demo mode and the tests talk to it.

Stands alone: websockets, numpy and the stdlib only (no textual, no sounddevice, no session).
"""

from tui.localserver.faults import BAD_FRAME_KINDS, CUES, Faults, Flood, Inject
from tui.localserver.server import LocalServer, SessionRecord
from tui.localserver.vad import EnergyVad, VadEvent

__all__ = [
    "BAD_FRAME_KINDS",
    "CUES",
    "EnergyVad",
    "Faults",
    "Flood",
    "Inject",
    "LocalServer",
    "SessionRecord",
    "VadEvent",
]
