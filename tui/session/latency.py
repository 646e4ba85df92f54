"""The latency mark: from the end of the user's turn to the first sound of the reply.

The turn ends at `speech_stopped` (VAD) or at the talk key's commit (manual); the first item
the server adds after that is the one timed. Its first sound is the engine's
`first_audible_at` when there is a speaker, else the first delta that arrived. The ticker
calls `check` until the figure is in.
"""

from __future__ import annotations

from typing import Protocol

from tui.changes import Change, Stats, StatsChanged


class FirstSound(Protocol):
    @property
    def plays(self) -> bool: ...

    def first_audible_at(self, item_id: str) -> float | None: ...


class LatencyMark:
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self._turn_ended_at: float | None = None
        self._item: str | None = None
        self._first_output_at: dict[str, float] = {}

    @property
    def pending(self) -> bool:
        """A figure is being waited for (the ticker watches for it)."""
        return self._item is not None or self._turn_ended_at is not None

    def turn_ended(self, now: float) -> None:
        self._turn_ended_at = now
        self._item = None

    def item_added(self, item_id: str | None) -> None:
        if self._turn_ended_at is not None and self._item is None:
            self._item = item_id

    def output_arrived(self, item_id: str, now: float) -> None:
        self._first_output_at.setdefault(item_id, now)

    def check(self, sound: FirstSound) -> list[Change]:
        item, ended = self._item, self._turn_ended_at
        if item is None or ended is None:
            return []
        first = sound.first_audible_at(item) if sound.plays else self._first_output_at.get(item)
        if first is None:
            return []
        latency_ms = max(0.0, (first - ended) * 1000.0)
        self.stats.last_latency_ms = latency_ms
        self.stats.latencies_ms.append(latency_ms)
        self._item = None
        self._turn_ended_at = None
        return [StatsChanged(self.stats)]
