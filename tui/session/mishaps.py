"""Mishaps: an unexpected exception (a bug) while handling one event is reported, not fatal.

The controller catches what a route step, an effect, a tick or a restore raised and hands
it here; the next event is then handled as usual, so one bad moment never ends the
conversation. Each mishap is logged (the `tui.session` logger, with its traceback) and shown
in the inspector; a notice says so at most once per `MISHAP_NOTICE_INTERVAL_S` for the same
kind, so a bug that fires on every delta does not bury the screen. The text is made
printable and the API key is masked in all of them: an exception message can quote
anything it was handed.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Callable

from tui.changes import EventLogged, Notice
from tui.printable import one_line, printable
from tui.realtime.redact import redact_text
from tui.session.effects import Effect

log = logging.getLogger("tui.session")

MISHAP_NOTICE_INTERVAL_S = 5.0
MESSAGE_CHARS = 200  # of the exception's own message in a notice or the inspector


class Mishaps:
    def __init__(self, secrets: tuple[str, ...], clock: Callable[[], float]) -> None:
        self._secrets = secrets
        self._clock = clock
        self.counts: Counter[str] = Counter()  # by "where: ExceptionType"
        self._noticed_at: dict[str, float] = {}

    def describe(self, error: BaseException) -> str:
        """`Type: message`, one printable line, the key masked."""
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return one_line(redact_text(text, self._secrets), MESSAGE_CHARS)

    def caught(self, error: BaseException, where: str) -> list[Effect]:
        """What to do about an exception raised while handling `where` (e.g. an event type)."""
        kind = f"{where}: {type(error).__name__}"
        self.counts[kind] += 1
        count = self.counts[kind]
        described = self.describe(error)
        trace = "".join(traceback.format_exception(error))
        trace = printable(redact_text(trace, self._secrets))
        log.error("internal error in %s (skipped):\n%s", one_line(where, 80), trace)
        logged = {"type": "rt-tui.internal_error", "where": where, "error": described}
        effects: list[Effect] = [EventLogged("in", {**logged, "count": count})]
        now = self._clock()
        last = self._noticed_at.get(kind)
        if last is None or now - last >= MISHAP_NOTICE_INTERVAL_S:
            self._noticed_at[kind] = now
            text = (
                f"Internal error while handling {one_line(where, 80)}: {described}. "
                f"Skipped it; the conversation goes on ({count} so far)."
            )
            effects.append(Notice("error", text))
        return effects
