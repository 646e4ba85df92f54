"""The session: one controller (`Session`) and the small rooms it wires together.

`tui.session.controller` holds the connection loop, the handover and the wiring; every other
module here is a room that returns what should happen (tui.session.effects) and never
imports the controller. Importers name what they need from here.
"""

from tui.session.intents import Session
from tui.session.outage import STABLE_CONNECTION_S
from tui.session.reconnect import describe_disconnect
from tui.session.throttle import BAD_NOTICE_INTERVAL_S
from tui.session.ticker import IDLE_TICK_S, TICK_S

__all__ = [
    "BAD_NOTICE_INTERVAL_S",
    "IDLE_TICK_S",
    "STABLE_CONNECTION_S",
    "TICK_S",
    "Session",
    "describe_disconnect",
]
