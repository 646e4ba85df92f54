"""The microphone's path on the loop: each block (50 a second) either goes out at once as an
`input_audio_buffer.append`, or is dropped; and every block may carry the meter's reading.

This is the session's hottest path, run on a loop just woken from sleep where everything it
touches is cold, so it sends directly rather than through effects, and it skips the dict
and json.dumps of an append (`RealtimeConnection.send_audio`) unless the inspector is
watching the events that go out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.changes import Change
from tui.config import Settings
from tui.constants import WIRE_BYTES_PER_MS, TurnMode
from tui.realtime import events
from tui.session.audio_link import AudioLink
from tui.session.turns import TurnTaking


class MicPath:
    def __init__(
        self,
        *,
        link: AudioLink,
        turns: TurnTaking,
        settings: Callable[[], Settings],
        clock: Callable[[], float],
        listener: Callable[[Change], None],
    ) -> None:
        self._link = link
        self._turns = turns
        self._settings = settings
        self._clock = clock
        self._listener = listener

    def block(self, pcm: bytes | None, conn: Any, *, muted: bool, inspect: bool) -> None:
        """One block (24 kHz PCM16; None when the echo guard held it back). `conn` is the
        live connection, or None: audio captured while disconnected is never sent late."""
        if (sample := self._link.level_sample(self._clock())) is not None:
            self._listener(sample)  # not coalesced: it is already at the meter's rate
        manual = self._settings().session.turn_detection.mode == TurnMode.MANUAL
        # Quiet blocks may go two at a time while the server hears nobody: a block waits
        # at most one block, and never while the server times the end of a user's turn
        # (speech_started to speech_stopped) nor in push-to-talk (a commit ends the turn).
        self._link.set_pair_quiet(not manual and not self._turns.user_speaking)
        if pcm is None or conn is None or muted:
            return
        if manual:
            if not self._turns.talking:
                return
            self._turns.audio_sent(len(pcm) / WIRE_BYTES_PER_MS)
        if inspect:  # the inspector shows every event sent: the dict goes through
            conn.send(events.audio_append(pcm))
        else:
            conn.send_audio(pcm)
