"""When the tool tick plays (`[tools] tick`): the audible side of "working: <tool> N s".

A soft click each second (tui.audio.cue) while a local tool runs and nothing else is heard:
no assistant audio queued or playing, the user not speaking (nor holding the talk key). A
remote MCP call is the API's own work and no tool of ours: it gets no tick. The controller
asks `follow()` after every batch of effects, so the tick stops at once when the call ends,
the assistant's audio arrives or the user speaks, and starts again when the silence is back
(the ticker's pass notices the assistant falling silent).
"""

from __future__ import annotations

from collections.abc import Callable

from tui.config import Settings
from tui.session.audio_link import AudioLink
from tui.session.tools_link import ToolsLink
from tui.session.turns import TurnTaking


class ToolTickCue:
    def __init__(
        self,
        settings: Callable[[], Settings],
        *,
        tools: ToolsLink,
        link: AudioLink,
        turns: TurnTaking,
    ) -> None:
        self._settings = settings
        self._tools = tools
        self._link = link
        self._turns = turns

    def wanted(self) -> bool:
        tools = self._settings().tools
        return bool(
            tools.enabled
            and tools.tick
            and self._link.plays
            and not self._link.audible
            and not (self._turns.user_speaking or self._turns.talking)
            and any(turn.tool and not turn.tool.remote for turn in self._tools.running())
        )

    def follow(self) -> None:
        """Arm or disarm the engine's tick as things stand (a bool set: cheap every time;
        a restarted engine starts disarmed and is told again here)."""
        self._link.set_tick(self.wanted())
