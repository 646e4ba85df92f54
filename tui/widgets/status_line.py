"""The status line: latency, session time, tokens and estimated cost, limits, audio mode.

Everything is derived from `tui.changes.Stats` by pure functions so the text is testable
without a screen; the widget only repaints (no relayout) when the text changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.content import Content
from textual.widget import Widget

from tui.changes import Stats

SPEND_WARN_FRACTION = 0.8


@dataclass(slots=True)
class StatusInputs:
    stats: Stats
    now: float  # monotonic seconds, same clock as Stats.session_started
    spend_cap_usd: float | None = None
    audio_message: str = ""
    mute_reason: str = ""
    echo_erle_db: float | None = None  # echo removed by the canceller, when it runs


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10_000 else str(count)


def _rate_limits(limits: dict) -> str:
    parts = []
    for name, info in limits.items():
        if not isinstance(info, dict) or info.get("remaining") is None:
            continue
        limit = info.get("limit")
        remaining = format_tokens(int(info["remaining"]))
        total = f"/{format_tokens(int(limit))}" if limit is not None else ""
        parts.append(f"{name} {remaining}{total}")
    return " ".join(parts)


def status_markup(inputs: StatusInputs) -> Content:
    """The whole status line as themed Content (values substituted, never parsed)."""
    stats = inputs.stats
    pieces: list[Content] = []

    if stats.last_latency_ms is not None:
        median = stats.median_latency_ms
        text = f"{stats.last_latency_ms:.0f} ms"
        if median is not None and len(stats.latencies_ms) > 1:
            text += f" (p50 {median:.0f})"
        pieces.append(Content.from_markup("[$text-muted]latency[/] $v", v=text))
    else:
        pieces.append(Content.from_markup("[$text-muted]latency —[/]"))

    if stats.session_started is not None:
        elapsed = format_duration(inputs.now - stats.session_started)
        pieces.append(Content.from_markup("[$text-muted]session[/] $v", v=elapsed))

    turn, session = stats.turn_usage, stats.session_usage
    if stats.priced:
        turn_tokens = format_tokens(turn.input_tokens + turn.output_tokens)
        usage = (
            f"turn ≈${turn.cost_usd:.3f} {turn_tokens} tok · total ≈${session.cost_usd:.2f}"
            f" {format_tokens(session.input_tokens + session.output_tokens)} tok"
        )
    else:
        usage = (
            f"turn {format_tokens(turn.input_tokens + turn.output_tokens)} tok · total "
            f"{format_tokens(session.input_tokens + session.output_tokens)} tok (no price)"
        )
    pieces.append(Content(usage))

    limits = _rate_limits(stats.rate_limits)
    if limits:
        pieces.append(Content.from_markup("[$text-muted]left[/] $v", v=limits))

    cap = inputs.spend_cap_usd
    if cap:
        spent = session.cost_usd
        if spent >= cap:
            pieces.append(
                Content.from_markup(
                    "[$error b]spend cap $cap reached: mic muted[/]", cap=f"${cap:g}"
                )
            )
        elif spent >= SPEND_WARN_FRACTION * cap:
            pieces.append(
                Content.from_markup(
                    "[$warning]⚠ $pct of $cap cap[/]",
                    pct=f"{100 * spent / cap:.0f}%",
                    cap=f"${cap:g}",
                )
            )

    if stats.handover_in_s is not None:
        pieces.append(
            Content.from_markup(
                "[$text-muted]handover in[/] $v", v=format_duration(stats.handover_in_s)
            )
        )

    if inputs.echo_erle_db is not None:
        pieces.append(
            Content.from_markup(
                "[$text-muted]echo cancelled[/] $v", v=f"{inputs.echo_erle_db:.0f} dB"
            )
        )

    if inputs.mute_reason:
        pieces.append(Content.from_markup("[$error]$v[/]", v=inputs.mute_reason))
    if inputs.audio_message:
        pieces.append(Content.from_markup("[$warning]$v[/]", v=inputs.audio_message))

    return Content.from_markup("[$text-muted] · [/]").join(pieces)


class StatusLine(Widget):
    """Re-rendered on stats changes and once a second (for the session clock)."""

    DEFAULT_CSS = """
    StatusLine { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    """

    def __init__(
        self, *, monotonic: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._monotonic = monotonic
        self.stats = Stats()
        self.spend_cap_usd: float | None = None
        self.audio_message = ""
        self.mute_reason = ""
        # read once a second: how much echo the canceller removes (None when not cancelling)
        self.erle_source: Callable[[], float | None] | None = None
        self._content = Content("")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.update_text)
        self.update_text()

    def update_text(self) -> None:
        content = status_markup(
            StatusInputs(
                stats=self.stats,
                now=self._monotonic(),
                spend_cap_usd=self.spend_cap_usd,
                audio_message=self.audio_message,
                mute_reason=self.mute_reason,
                echo_erle_db=self.erle_source() if self.erle_source else None,
            )
        )
        if content.plain != self._content.plain:
            self._content = content
            self.refresh(layout=True)  # the line may wrap to a second row
        else:
            self._content = content

    def render(self) -> Content:
        return self._content
