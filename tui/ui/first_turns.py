"""The lines the log opens with before anyone speaks: in --demo, what to try; and every
warning printed before the screen opened (the screen then hid it), kept in the log."""

from __future__ import annotations

from collections.abc import Sequence

from tui.changes import Role, Turn, TurnStatus
from tui.config import KeySettings
from tui.tools.demo_tools import DEMO_TRY
from tui.widgets.keys import key_display


def demo_hint(keys: KeySettings, now: float) -> Turn:
    """A newcomer's first screen is otherwise an empty log: say what to try."""
    help_key = key_display(keys.keys_for("help")[-1])
    text = (
        "Demo: a built-in local server stands in for the Realtime API (no key; nothing "
        "leaves this machine). Speak and it plays your own voice back; type a message "
        'and Enter, and it answers "You said: ...". Tools: type '
        f"{DEMO_TRY} and Enter to see a tool call, its approval (y / n / a) and the "
        "result. Escape leaves the message box for "
        f"one-key control; {help_key} lists every key."
    )
    return Turn("rt-tui-demo-hint", Role.SYSTEM, text, TurnStatus.DONE, started_at=now)


def warning_turns(warnings: Sequence[str], now: float) -> list[Turn]:
    return [
        Turn(
            f"rt-tui-startup-warning-{number}",
            Role.SYSTEM,
            f"Warning: {warning}",
            TurnStatus.DONE,
            started_at=now,
        )
        for number, warning in enumerate(warnings)
    ]
