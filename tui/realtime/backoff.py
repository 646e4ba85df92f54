"""Reconnect delays: exponential growth with full jitter.

Full jitter (a uniform draw between 0 and the exponential ceiling) spreads clients
that lost the same server apart, instead of having them retry in lock-step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """`next()` gives the delay before the next retry; `reset()` after a success.

    The ceiling starts at `first` seconds (so the first retry comes within `first`)
    and doubles per attempt up to `cap`.
    """

    first: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    attempts: int = 0

    def __post_init__(self) -> None:
        if self.first <= 0 or self.cap < self.first:
            raise ValueError(f"need 0 < first <= cap, got first={self.first}, cap={self.cap}")

    def ceiling(self) -> float:
        """The largest delay the next call to `next()` can return."""
        # min() before the power would overflow for very long outages; cap the exponent.
        return min(self.cap, self.first * 2.0 ** min(self.attempts, 64))

    def next(self) -> float:
        delay = self.rng.uniform(0.0, self.ceiling())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
