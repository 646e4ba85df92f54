"""When to hand over to a fresh connection before the server's session limit.

The server ends a session after `[connection] max_session_min`. Before that, between turns,
the controller opens a fresh connection, restores it and swaps it in, so a long talk never
breaks mid-sentence. The header counts down in the last minutes. This module only decides;
the controller does the handover.
"""

from __future__ import annotations

from dataclasses import dataclass

HANDOVER_MARGIN_S = 120.0  # hand over this long before the server's session limit
COUNTDOWN_S = 300.0  # show the handover countdown in the last five minutes
LAST_CHANCE_S = 10.0  # this close to the limit, hand over even in the middle of a turn


@dataclass(frozen=True, slots=True)
class HandoverPlan:
    countdown_s: float | None  # for the header; None until the last COUNTDOWN_S
    due: bool  # start the handover now


def plan_handover(left_s: float, *, quiet: bool) -> HandoverPlan:
    """`left_s`: seconds to the server's limit; `quiet`: nobody speaks and no reply runs."""
    countdown = left_s - HANDOVER_MARGIN_S
    shown = round(countdown) if countdown <= COUNTDOWN_S else None
    return HandoverPlan(shown, countdown <= 0 and (quiet or left_s <= LAST_CHANCE_S))
