"""A flood of valid small events keeps the keys answered (issue 9): 10k events/s of
rate_limits.updated or transcript deltas from the local server, and a key press during it
is handled while the flood is still being read, not after it. The session coalesces what
it hands the UI (one status change per UI frame, deltas batched), so the UI's work per
event is O(1) and small. The latency figure itself is printed (benchmark style), not
asserted: the assertion is on order, which only the starving code gets wrong."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import live_settings, wait_until
from tui.app import RtApp
from tui.changes import Change, ConnectionState, StatsChanged, TurnText
from tui.localserver import LocalServer
from tui.localserver.faults import Faults, Flood
from tui.realtime.events import BadEvent, ServerEvent
from tui.session import Session

COUNT = 10_000
FLOOD_STARTED = 200  # the key is pressed when this many flood events were handled
SIZE = (100, 32)


class CountingSession(Session):
    """The real session, counting the flood's events as it handles them."""

    def __init__(self, *args: Any, listener: Callable[[Change], None], **kwargs: Any) -> None:
        self.ui_changes: list[Change] = []  # what reached the app

        def seen(change: Change) -> None:
            self.ui_changes.append(change)
            listener(change)

        super().__init__(*args, listener=seen, **kwargs)
        self.handled: dict[str, int] = {}
        self.at_event: tuple[str, int, Callable[[], None]] | None = None  # call it then

    def _on_server_event(self, event: ServerEvent | BadEvent) -> None:
        kind = event.type or ""
        self.handled[kind] = self.handled.get(kind, 0) + 1
        if self.at_event is not None and self.at_event[:2] == (kind, self.handled[kind]):
            self.at_event[2]()
        super()._on_server_event(event)


@pytest.mark.parametrize(
    ("flood", "kind"),
    [
        (Flood("rate_limits", count=COUNT, at="response.created"), "rate_limits.updated"),
        (
            Flood("deltas", count=COUNT, at="response.created"),
            "response.output_audio_transcript.delta",
        ),
    ],
)
async def test_a_key_press_is_answered_while_a_flood_runs(
    flood: Flood, kind: str, config_path: Path
) -> None:
    async with LocalServer(faults=Faults(flood=flood)) as server:
        app = RtApp(
            live_settings(server.url),
            config_path=config_path,
            api_key="sk-test-flood-0123456789",
            audio_enabled=False,
            session_factory=CountingSession,
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                lambda: app.session is not None and app.session.state is ConnectionState.LIVE,
                pilot,
                what="live",
            )
            session = app.session
            assert isinstance(session, CountingSession)
            typed: list[tuple[float, int]] = []  # when the key was handled, events by then
            app.watch(
                app.query_one("#message"),
                "value",
                lambda value: (
                    value == "x"
                    and typed.append((time.perf_counter(), session.handled.get(kind, 0)))
                ),
                init=False,
            )
            pressed: list[Any] = []

            def press_now() -> None:  # a person pressing a key early in the flood
                started.append(time.perf_counter())
                pressed.append(asyncio.ensure_future(pilot.press("x")))

            started: list[float] = []
            session.at_event = (kind, FLOOD_STARTED, press_now)
            await pilot.press(*"go", "enter")
            await wait_until(lambda: bool(typed), pilot, what="the key handled")
            [(answered, handled_then)] = typed
            print(
                f"\nkey answered in {(answered - started[0]) * 1000:.1f} ms during a {kind} flood"
            )
            assert handled_then < COUNT, "the key waited for the whole flood"
            await pressed[0]
            assert app.query_one("#message").value == "x"
            await wait_until(lambda: session.handled.get(kind, 0) >= COUNT, pilot, what="all")
            seen = session.ui_changes
    coalesced = StatsChanged if kind == "rate_limits.updated" else TurnText
    handed = sum(1 for change in seen if isinstance(change, coalesced))
    print(f"{handed} {coalesced.__name__} reached the UI for {COUNT} events")
    assert 0 < handed < COUNT / 10, "coalesced: at most one per UI frame"
