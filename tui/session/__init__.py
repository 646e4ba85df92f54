"""The session: one controller (`Session`) and the small rooms it wires together.

`tui.session.controller` holds the connection loop, the handover and the wiring; every other
module here is a collaborator that returns what should happen and never imports the
controller. Importers name what they need from here, not from the modules.
"""

from tui.session.controller import (
    BAD_NOTICE_INTERVAL_S,
    IDLE_TICK_S,
    STABLE_CONNECTION_S,
    TICK_S,
    Session,
    describe_disconnect,
)

__all__ = [
    "BAD_NOTICE_INTERVAL_S",
    "IDLE_TICK_S",
    "STABLE_CONNECTION_S",
    "TICK_S",
    "Session",
    "describe_disconnect",
]
