"""The session: one controller and the small rooms it wires together.

`controller.Controller` holds the connection loop, the handover and the wiring; `Session`
(`intents.py`) is that controller with the app's door on top. Every other module here is a
room that returns what should happen (`effects.py`) and never imports the controller; what
happens on each server event is the one table `dispatch.ROUTES`. Importers name what they
need from here.
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
