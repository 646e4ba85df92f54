"""Widgets on their own: level meter, status line, conversation log, connection bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Input

from tests.ui.conftest import scripted, wait_until
from tests.ui.terminal import drawn_texts
from tui.app import RtApp
from tui.changes import (
    Applied,
    AudioModeChanged,
    ConnectionChanged,
    ConnectionState,
    Role,
    SessionInfo,
    SpeechChanged,
    Stats,
    StatsChanged,
    Turn,
    TurnFinished,
    TurnStarted,
    TurnStatus,
    TurnText,
    Usage,
)
from tui.config import Settings
from tui.widgets.connection_bar import connection_text
from tui.widgets.conversation import (
    ARCHIVE_BATCH,
    KEEP_TURNS,
    LIVE_TURNS,
    PRUNE_BATCH,
    TurnView,
    render_turn,
)
from tui.widgets.inspector import KEEP_LINES, EventInspector
from tui.widgets.keys import ACTIONS, RECONNECT
from tui.widgets.level_meter import (
    FLOOR_DB,
    MeterState,
    bar_cells,
    line_key,
    line_pieces,
    meter_state,
)
from tui.widgets.message_box import MessageBox
from tui.widgets.status_line import (
    StatusInputs,
    format_duration,
    format_minutes,
    pack_rows,
    status_markup,
    status_pieces,
)

SIZE = (100, 32)


def test_bar_cells_use_eighths() -> None:
    assert bar_cells(FLOOR_DB, 10) == " " * 10
    assert bar_cells(0.0, 10) == "█" * 10
    half = bar_cells(-30.0, 10)
    assert half == "█████     "
    assert bar_cells(-30.0 + 60 / 80, 10)[5] == "▏"  # one eighth of a cell more
    assert all(len(bar_cells(db, 17)) == 17 for db in (-90, -59.9, -12.3, 0, 5))


def test_meter_state_priority() -> None:
    kwargs = {"has_input": True, "user_speaking": True, "assistant_audible": True}
    assert meter_state(muted=True, **kwargs) is MeterState.MUTED
    assert meter_state(muted=False, **kwargs) is MeterState.USER_SPEAKING
    assert (
        meter_state(has_input=True, muted=False, user_speaking=False, assistant_audible=True)
        is MeterState.ASSISTANT_SPEAKING
    )
    assert (
        meter_state(has_input=False, muted=False, user_speaking=False, assistant_audible=False)
        is MeterState.NO_INPUT
    )


async def test_meter_peak_hold_falls_after_a_second(tmp_path: Path) -> None:
    now = [100.0]
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted(level=(-30.0, -10.0)),
        monotonic=lambda: now[0],
    )
    async with app.run_test(size=SIZE) as pilot:
        meter = app.meter
        await wait_until(lambda: meter.level_db == -30.0, pilot, what="a sampled level")
        assert meter.peak_db == -10.0
        assert meter.state is MeterState.LISTENING
        assert "-30 dBFS" in str(meter.render())
        meter.sample((-40.0, -35.0))
        assert meter.peak_db == -10.0  # held
        now[0] += 2.0  # one second past the hold: falls at 20 dB/s
        meter.sample((-40.0, -35.0))
        assert meter.peak_db == -30.0


async def test_a_meter_frame_redraws_the_meter_alone(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The level bar repaints 20 times a second: its frames must not re-render the other
    widgets (each costs 0.1-0.2 ms a frame from its cache when it sits beside the meter)."""
    from collections import Counter

    from textual.widgets import Footer

    from tui.widgets.connection_bar import ConnectionBar
    from tui.widgets.level_meter import LevelMeter
    from tui.widgets.message_box import MessageBox
    from tui.widgets.status_line import StatusLine

    drawn: Counter[str] = Counter()
    for cls in (StatusLine, ConnectionBar, MessageBox, Footer, LevelMeter):

        def counting(self, crop, original=cls.render_lines, name=cls.__name__):  # type: ignore[no-untyped-def]
            drawn[name] += 1
            return original(self, crop)

        monkeypatch.setattr(cls, "render_lines", counting)
    app = RtApp(
        Settings(), config_path=tmp_path / "c.toml", session_factory=scripted(level=(-30.0, -9.0))
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.meter.level_db == -30.0, pilot, what="a sampled level")
        await pilot.pause()
        drawn.clear()
        levels = [-20.0 - i for i in range(10)]
        for level in levels:
            app.session.level = (level, -5.0)  # type: ignore[union-attr]
            await wait_until(
                lambda want=level: app.meter.level_db == want, pilot, what=f"{level} dBFS"
            )
            await pilot.pause()
        meter_frames = drawn.pop("LevelMeter", 0)
        assert meter_frames >= len(levels)
        # Before the panes every meter frame re-rendered all of them; a one-off repaint of
        # its own (bindings refreshed, the status clock) is allowed.
        assert all(count <= 2 for count in drawn.values()), drawn


def test_status_line_text() -> None:
    stats = Stats(last_latency_ms=812, latencies_ms=[700, 812, 900], session_started=10.0)
    stats.turn_usage = Usage(300, 120, 0.0123)
    stats.session_usage = Usage(10_000, 2_034, 4.1)
    stats.rate_limits = {"requests": {"remaining": 48, "limit": 50}}
    stats.handover_in_s = 130
    text = status_markup(StatusInputs(stats, now=10.0 + 3725, spend_cap_usd=5.0)).plain
    assert "812 ms (p50 812)" in text
    assert "session 1 h 02 min" in text  # to the minute: no repaint every second
    assert "turn ≈$0.012 420 tok" in text and "total ≈$4.10 12.0k tok" in text
    assert "rate limit 96% left" in text
    assert "82% of $5 cap" in text
    assert "handover in 02:10" in text
    stats.session_usage.cost_usd = 5.0
    capped = status_markup(StatusInputs(stats, now=0, spend_cap_usd=5.0, mute_reason="")).plain
    assert "spend cap $5 reached: mic muted" in capped
    assert format_duration(59) == "00:59"
    assert [format_minutes(s) for s in (59, 60, 754, 3600)] == [
        "<1 min",
        "1 min",
        "12 min",
        "1 h 00 min",
    ]


def test_status_line_puts_warnings_first() -> None:
    stats = Stats(last_latency_ms=812, latencies_ms=[700, 812], session_started=0.0)
    stats.session_usage = Usage(10_000, 2_034, 4.1)
    stats.handover_in_s = 42
    inputs = StatusInputs(
        stats,
        now=60.0,
        spend_cap_usd=5.0,
        audio_message="Microphone unavailable: no device",
        mute_reason="muted by the echo guard",
    )
    text = status_markup(inputs).plain
    order = [
        text.index("muted by the echo guard"),
        text.index("Microphone unavailable"),
        text.index("82% of $5 cap"),
        text.index("handover in 00:42"),
        text.index("latency"),
    ]
    assert order == sorted(order), text
    # At the cap the cap message says why the mic is muted: the reason is not repeated.
    stats.session_usage.cost_usd = 5.0
    capped = status_markup(StatusInputs(stats, now=0, spend_cap_usd=5.0, mute_reason="cap"))
    assert (
        capped.plain.startswith("spend cap $5 reached: mic muted") and "cap ·" not in capped.plain
    )


def test_status_line_costs_share_one_precision() -> None:
    stats = Stats()
    stats.turn_usage = Usage(100, 50, 0.0042)
    stats.session_usage = Usage(900, 400, 0.0042)
    text = status_markup(StatusInputs(stats, now=0.0)).plain
    assert "turn ≈$0.004 150 tok · total ≈$0.004 1300 tok" in text
    stats.session_usage.cost_usd = 12.345
    assert "total ≈$12.35" in status_markup(StatusInputs(stats, now=0.0)).plain


def test_the_demo_shows_tokens_but_no_cost() -> None:
    """The built-in server costs nothing: an estimate in dollars would be a false claim."""
    stats = Stats()
    stats.turn_usage = Usage(100, 50, 0.0042)
    stats.session_usage = Usage(900, 400, 0.0042)
    text = status_markup(StatusInputs(stats, now=0.0, free=True)).plain
    assert "turn 150 tok · total 1300 tok (demo: free)" in text
    assert "$" not in text


def test_status_line_shows_the_lowest_rate_limit_as_a_share() -> None:
    stats = Stats()
    stats.rate_limits = {
        "requests": {"remaining": 4_990, "limit": 5_000},
        "tokens": {"remaining": 36_000, "limit": 40_000},
        "odd": {"remaining": 3},  # no limit: no share to show
    }
    text = status_markup(StatusInputs(stats, now=0.0)).plain
    assert text.endswith("rate limit 90% left") and "requests" not in text
    assert "tokens" not in text


def test_status_rows_never_split_an_item() -> None:
    pieces = [Content("latency 742 ms"), Content("session 12:34"), Content("left 90%")]
    rows = [line.plain for line in pack_rows(pieces, 32).wrap(32)]
    assert rows == ["latency 742 ms · session 12:34", "left 90%"]
    assert pack_rows(pieces, 80).plain == "latency 742 ms · session 12:34 · left 90%"


async def test_status_warnings_stay_visible_at_80_columns(tmp_path: Path) -> None:
    """A long line is cut after two rows: the audio-mode warning must be in what shows."""
    stats = Stats(last_latency_ms=742, latencies_ms=[690, 742, 810], session_started=0.0)
    stats.turn_usage = Usage(1_250, 310, 0.0214)
    stats.session_usage = Usage(8_420, 2_210, 0.173)
    stats.rate_limits = {"requests": {"remaining": 4_990, "limit": 5_000}}
    stats.handover_in_s = 30
    message = "Microphone unavailable: no device Running output only; retrying every 5 s."
    script = [StatsChanged(stats), AudioModeChanged("output_only", message)]
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted(script),
        monotonic=lambda: 754.0,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.status_line
        await wait_until(lambda: status.audio_message == message, pilot, what="audio message")
        await pilot.pause()
        shown = " ".join(
            "".join(segment.text for segment in strip)
            for strip in status.render_lines(Region(0, 0, *status.size))
        )
        assert status.size.height <= 2
        for part in ("Microphone unavailable", "retrying every 5 s", "handover in 00:30"):
            assert part in " ".join(shown.split()), shown


def test_status_line_without_prices_or_data() -> None:
    text = status_markup(StatusInputs(Stats(priced=False), now=0.0)).plain
    assert "latency —" in text and "(no price)" in text and "≈" not in text


def test_turn_rendering_markers_and_no_markup() -> None:
    stamp = lambda _: "12:00:00"  # noqa: E731
    turn = Turn("a", Role.ASSISTANT, text="[b]not bold[/b]", status=TurnStatus.INTERRUPTED)
    turn.audio_ms, turn.heard_ms = 5100, 2300
    plain = render_turn(turn, stamp).plain
    assert "heard 2.3 s of 5.1 s" in plain and "[b]not bold[/b]" in plain
    failed = Turn("b", Role.USER, status=TurnStatus.FAILED, reason="transcription failed")
    assert "✗ failed: transcription failed" in render_turn(failed, stamp).plain
    cut = Turn("c", Role.ASSISTANT, text="half", status=TurnStatus.CUT_OFF, reason="lost")
    assert "⚡ cut off lost" in render_turn(cut, stamp).plain
    replayed = Turn("d", Role.USER, text="old", status=TurnStatus.DONE, replayed=True)
    assert "↺ replayed" in render_turn(replayed, stamp).plain
    streaming = Turn("e", Role.ASSISTANT, text="partial")
    assert render_turn(streaming, stamp).plain.endswith("partial ▍")


def test_connection_text() -> None:
    info = SessionInfo("wss://api.openai.com/v1/realtime", "gpt-realtime-2", "marin")
    change = ConnectionChanged(ConnectionState.RECONNECTING, "connection lost", 3, 4.0)
    text = connection_text(change, info, 3.4).plain
    assert text.startswith("◌ reconnecting (attempt 3, retry in 3 s)")
    assert "api.openai.com" in text and "gpt-realtime-2" in text and "marin" in text
    assert text.endswith("connection lost")


async def test_deltas_are_batched_and_shown(tmp_path: Path) -> None:
    turn = Turn("a1", Role.ASSISTANT, started_at=1.0)
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        app._on_change(TurnStarted(turn))
        await pilot.pause()
        view = log.view_for("a1")
        assert view is not None
        renders = []
        original = view.refresh_turn
        view.refresh_turn = lambda: (renders.append(1), original())[1]  # type: ignore[method-assign]
        for word in ["one ", "two ", "three ", "four ", "five"]:
            turn.text += word
            app._on_change(TurnText(turn))
        assert renders == []  # nothing repainted per delta
        await wait_until(lambda: "four five" in str(view.render()), pilot, what="flush")
        assert len(renders) == 1
        turn.status = TurnStatus.DONE
        app._on_change(TurnFinished(turn))
        assert "▍" not in str(view.render())


async def test_two_thousand_turns_are_pruned(tmp_path: Path) -> None:
    turns = [
        Turn(f"t{i}", Role.USER if i % 2 else Role.ASSISTANT, text=f"turn {i}", started_at=1.0)
        for i in range(2000)
    ]
    script = [TurnStarted(t) for t in turns]
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted(script))
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        await wait_until(lambda: log.view_for("t1999") is not None, pilot, what="newest turn")
        await pilot.pause()
        # the newest turns are widgets, the ones before them lines of the archive
        assert log.mounted_turns < LIVE_TURNS + ARCHIVE_BATCH
        assert len(log.query("TurnView")) == log.mounted_turns
        assert log.shown_turns < KEEP_TURNS + PRUNE_BATCH
        assert log.view_for("t0") is None and not log.archive.holds("t0")
        assert log.hidden_turns == 2000 - log.shown_turns
        oldest_shown = log.archive.turns()[0].item_id
        assert oldest_shown == f"t{log.hidden_turns}"
        assert "earlier turns not shown" in str(log.query_one("#hidden-turns").render())
        # Anchored: the newest turn is in view.
        assert log.scroll_y == log.max_scroll_y
        # Another turn still lands at the bottom.
        app._on_change(TurnStarted(Turn("new", Role.USER, text="after 2000", started_at=1.0)))
        await wait_until(lambda: log.view_for("new") is not None, pilot)
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y


async def test_speech_changes_drive_the_meter_state(tmp_path: Path) -> None:
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted(level=(-50.0, -45.0)),
    )
    async with app.run_test(size=SIZE) as pilot:
        app._on_change(SpeechChanged(user_speaking=True, assistant_audible=False))
        await wait_until(lambda: app.meter.state is MeterState.USER_SPEAKING, pilot)
        app._on_change(SpeechChanged(user_speaking=False, assistant_audible=True))
        await wait_until(lambda: app.meter.state is MeterState.ASSISTANT_SPEAKING, pilot)
        app._on_change(StatsChanged(Stats(last_latency_ms=640.0)))
        assert "640 ms" in str(app.status_line.render())


async def test_palette_has_a_command_for_every_action(tmp_path: Path) -> None:
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for spec in ACTIONS:
            assert spec.title in titles or spec.name == "quit"
        assert "Quit" in titles and "Reconnect" in titles
        # Every binding has an id and shows in the footer.
        ids = {binding.id for binding in app.BINDINGS}  # type: ignore[union-attr]
        assert ids == {spec.name for spec in ACTIONS} | {RECONNECT.name}
        # Running one through the palette's callback reaches the session.
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Talk")
        command.callback()
        assert ("talk", None) in app.session.calls  # type: ignore[union-attr]


async def test_log_follows_newest_unless_scrolled_up(tmp_path: Path) -> None:
    turns = [Turn(f"t{i}", Role.USER, f"line {i}", TurnStatus.DONE, 1.0) for i in range(40)]
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted([TurnStarted(t) for t in turns]),
    )
    async with app.run_test(size=SIZE) as pilot:
        log = app.conversation_log
        await wait_until(lambda: log.view_for("t39") is not None, pilot)
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y > 0
        assert app.query_one("#message", Input).has_focus
        await pilot.press("pageup")  # from the message box too, the reader scrolls back
        # pageup scrolls with an animation: read the position once it has come to rest
        await pilot.wait_for_animation()
        await pilot.pause()
        reading_at = log.scroll_y
        assert reading_at < log.max_scroll_y
        app._on_change(TurnStarted(Turn("late", Role.ASSISTANT, "new", TurnStatus.DONE, 1.0)))
        await wait_until(lambda: log.view_for("late") is not None, pilot)
        await pilot.pause()
        assert log.scroll_y == reading_at  # not yanked to the bottom
        await pilot.press("escape", "end")  # the log's own keys once the box is left
        await pilot.wait_for_animation()
        await pilot.pause()
        app._on_change(TurnStarted(Turn("later", Role.USER, "newer", TurnStatus.DONE, 1.0)))
        await wait_until(lambda: log.view_for("later") is not None, pilot)
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y  # following again


async def test_settings_device_lists(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Select

    from tui.audio import devices
    from tui.audio.devices import DeviceInfo
    from tui.errors import AudioUnavailableError
    from tui.screens import settings_parts

    def unavailable() -> list[DeviceInfo]:
        raise AudioUnavailableError("PortAudio library not found")

    monkeypatch.setattr(devices, "list_devices", unavailable)
    assert settings_parts.default_devices() == []

    mic = DeviceInfo(1, "USB Mic", "ALSA", 1, 0, 48000.0, True, False)
    speaker = DeviceInfo(2, "Speakers", "ALSA", 0, 2, 48000.0, False, True)
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted(),
        list_devices=lambda: [mic, speaker],
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_until(lambda: app.screen.query("#s-audio-input_device"), pilot)
        inputs = app.screen.query_one("#s-audio-input_device", Select)
        outputs = app.screen.query_one("#s-audio-output_device", Select)
        assert [v for _, v in inputs._options if v != Select.NULL] == ["", "USB Mic"]
        assert [v for _, v in outputs._options if v != Select.NULL] == ["", "Speakers"]
        inputs.value = "USB Mic"
        await pilot.pause()
        assert app.screen.query_one("#f-audio-input_device").value == "USB Mic"


async def test_factory_gets_settings_key_replay_and_history(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def factory(settings: Settings, **kwargs: object) -> object:
        seen.update(kwargs, settings=settings)
        return scripted()(settings, **kwargs)

    replay = [Turn("old", Role.USER, "from last time", TurnStatus.DONE, 1.0, replayed=True)]
    history = object()
    settings = Settings()
    app = RtApp(
        settings,
        config_path=tmp_path / "c.toml",
        api_key="sk-x",
        session_factory=factory,  # type: ignore[arg-type]
        audio_enabled=False,
        replay=replay,
        history=history,
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert seen["settings"] is settings and seen["api_key"] == "sk-x"
        assert seen["audio_enabled"] is False and seen["history"] is history
        assert seen["replay"] == replay and callable(seen["listener"])


def test_status_line_shows_echo_cancellation_when_it_runs() -> None:
    running = status_markup(StatusInputs(Stats(), now=0.0, echo_erle_db=32.4)).plain
    assert "echo cancelled 32 dB" in running
    idle = status_markup(StatusInputs(Stats(), now=0.0)).plain
    assert "echo" not in idle


def footer_keys(app: RtApp) -> dict[str, str]:
    """Footer entries on screen: description -> the key it names (hidden ones left out)."""
    from textual.widgets._footer import FooterKey

    return {
        key.description: key.key_display
        for key in app.screen.query(FooterKey)
        if key.region.width and key.region.right <= app.size.width
    }


async def test_footer_offers_stop_retry_only_while_retrying(tmp_path: Path) -> None:
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted([ConnectionChanged(ConnectionState.LIVE)]),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: "Quit" in footer_keys(app), pilot, what="the footer")
        await wait_until(lambda: "Stop retry" not in footer_keys(app), pilot, what="live")
        await pilot.press("escape")  # the log: ctrl+x is the app's (in the box it is cut)
        await pilot.press("ctrl+x")  # does nothing while live
        assert ("cancel_reconnect", None) not in app.session.calls  # type: ignore[union-attr]
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Stop retry" not in titles
        app._on_change(ConnectionChanged(ConnectionState.RECONNECTING, "lost", 1, 2.0))
        await wait_until(lambda: "Stop retry" in footer_keys(app), pilot, what="reconnecting")
        assert footer_keys(app)["Stop retry"] == "^x"
        await pilot.press("ctrl+x")
        assert ("cancel_reconnect", None) in app.session.calls  # type: ignore[union-attr]


async def test_offline_the_same_keys_offer_the_way_back(tmp_path: Path) -> None:
    """After ctrl+x (Stop retry) the footer offered no way back online: now Reconnect takes
    Stop retry's place on the same keys, and only while offline."""
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted([ConnectionChanged(ConnectionState.RECONNECTING, "lost", 1, 2.0)]),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: "Stop retry" in footer_keys(app), pilot, what="reconnecting")
        assert "Reconnect" not in footer_keys(app)
        app._on_change(ConnectionChanged(ConnectionState.OFFLINE, "you stopped retrying"))
        await wait_until(lambda: "Reconnect" in footer_keys(app), pilot, what="offline")
        assert "Stop retry" not in footer_keys(app)
        assert footer_keys(app)["Reconnect"] == "f8"  # in the box ctrl+x cuts: F8 first
        await pilot.press("f8")
        assert ("reconnect", None) in app.session.calls  # type: ignore[union-attr]
        assert ("cancel_reconnect", None) not in app.session.calls  # type: ignore[union-attr]
        app._on_change(ConnectionChanged(ConnectionState.LIVE))
        await wait_until(lambda: "Reconnect" not in footer_keys(app), pilot, what="live")
        await pilot.press("f8")  # live: the keys do nothing
        assert app.session.calls.count(("reconnect", None)) == 1  # type: ignore[union-attr]


async def test_footer_names_the_keys_that_work_while_typing(tmp_path: Path) -> None:
    from textual.widgets._footer import FooterKey

    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=(120, 24)) as pilot:
        # the message box has focus from the start: the footer names the F-keys at once
        typing = {"Mute": "f2", "Interrupt": "f3", "Talk": "f4", "Help": "f1", "Settings": "f5"}
        await wait_until(
            lambda: all(footer_keys(app).get(k) == v for k, v in typing.items()),
            pilot,
            what=f"F-keys in the footer, not {footer_keys(app)}",
        )
        shown = footer_keys(app)
        assert shown["Events"] == "f6" and shown["Quit"] == "^q"
        assert "Type" not in shown  # '/' would be typed: nothing to offer
        # A click on the footer entry runs it: the key it sends is the F-key, not a letter.
        await pilot.click(next(k for k in app.screen.query(FooterKey) if k.description == "Mute"))
        await wait_until(lambda: app.muted, pilot, what="muted by the footer")
        assert app.query_one("#message", Input).value == ""
        await pilot.press("escape")  # to the log: the single keys work
        await wait_until(lambda: footer_keys(app).get("Mute") == "m", pilot, what="m")
        assert footer_keys(app)["Type"] == "/"
        await pilot.press("slash")  # and back to typing: F-keys again
        await wait_until(lambda: footer_keys(app).get("Mute") == "f2", pilot, what="f2 again")


async def test_footer_keeps_help_and_quit_at_60_columns(tmp_path: Path) -> None:
    from textual.widgets._footer import FooterKey

    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted([ConnectionChanged(ConnectionState.LIVE)]),
    )
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_until(lambda: "Stop retry" not in footer_keys(app), pilot, what="live")
        await pilot.press("escape")  # the log has the keys: every one-key action is offered
        await pilot.pause()
        shown = footer_keys(app)
        for title in ("Mute", "Interrupt", "Talk", "Type", "Help", "Quit"):
            assert title in shown, shown
        assert "palette" not in shown  # its docked entry would cover the last keys
        await pilot.press("slash")
        await wait_until(lambda: footer_keys(app).get("Help") == "f1", pilot, what="typing")
        assert footer_keys(app).get("Quit") == "^q"
        await pilot.press("escape")
        app._on_change(ConnectionChanged(ConnectionState.RECONNECTING, "lost", 1, 2.0))
        await wait_until(
            lambda: any(key.description == "Stop retry" for key in app.screen.query(FooterKey)),
            pilot,
            what="Stop retry in the footer (past its right edge at 60 columns)",
        )
        assert footer_keys(app).get("Help") == "?" and "Quit" in footer_keys(app)


class InspectorApp(App[None]):
    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self._clock = clock

    def compose(self) -> ComposeResult:
        yield EventInspector(id="inspector", monotonic=self._clock)


def inspector_text(inspector: EventInspector) -> list[str]:
    return [strip.text for strip in inspector.lines]


async def test_output_audio_deltas_are_grouped_in_the_inspector() -> None:
    now = [100.0]
    app = InspectorApp(lambda: now[0])
    async with app.run_test(size=(100, 30)) as pilot:
        inspector = app.query_one(EventInspector)
        delta = {"type": "response.output_audio.delta", "item_id": "it1", "delta": "<960 B>"}
        words = {"type": "response.output_audio_transcript.delta", "item_id": "it1", "delta": "hi"}
        inspector.log_event("in", {"type": "response.created", "response": {}})
        for index in range(30):  # half a second of audio, a transcript delta among it
            now[0] += 1 / 60
            inspector.log_event("in", words if index == 10 else delta)
        now[0] += 0.7  # past the second: the next delta writes the held ones
        inspector.log_event("in", delta)
        for _ in range(5):
            inspector.log_event("in", delta)
        inspector.log_event("in", {"type": "response.output_audio.done", "item_id": "it1"})
        await wait_until(lambda: any("done" in line for line in inspector_text(inspector)), pilot)
        lines = inspector_text(inspector)
        audio = [line for line in lines if "response.output_audio.delta" in line]
        assert len(audio) == 3, lines
        assert '"deltas":1,' in audio[0] and '"deltas":29,' in audio[1]
        assert '"deltas":5,' in audio[2] and '"item_id":"it1"' in audio[2]
        # the held deltas show before the event that ended them
        assert lines.index(audio[2]) < next(i for i, x in enumerate(lines) if "audio.done" in x)
        assert inspector.count == 38


async def test_inspector_leaves_the_log_room_and_follows_the_theme(tmp_path: Path) -> None:
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await wait_until(lambda: app.inspector.size.height > 0, pilot, what="the inspector")
        await pilot.pause()
        assert app.inspector.size.height <= 10  # 40% of 24 rows
        assert app.conversation_log.size.height >= 6
        app.inspector.log_event("in", {"type": "session.created"})
        await wait_until(lambda: len(app.inspector.lines) == 1, pilot, what="a line")
        dark = app.inspector.lines[0]
        app.theme = "nord"
        await pilot.pause()
        app.inspector.log_event("in", {"type": "session.updated"})
        await wait_until(lambda: len(app.inspector.lines) == 2, pilot, what="another line")
        light = app.inspector.lines[1]
        colours = lambda strip: [segment.style.color for segment in strip]  # noqa: E731
        # the arrow ($success) and the payload ($text-muted) take the new theme's colours
        assert colours(dark)[0] != colours(light)[0] and colours(dark)[-1] != colours(light)[-1]


async def test_demo_opens_with_a_hint_in_the_log(tmp_path: Path) -> None:
    def hints(app: RtApp) -> list[str]:
        return [
            str(view.render())
            for view in app.conversation_log.query(TurnView)
            if view.turn.role is Role.SYSTEM
        ]

    demo = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted(), demo=True)
    async with demo.run_test(size=SIZE) as pilot:
        await wait_until(lambda: bool(hints(demo)), pilot, what="the demo hint")
        text = " ".join(hints(demo)[0].split())
        assert "plays your own voice back" in text and "type a message" in text
        assert "Escape leaves the message box" in text and "F1 lists every key" in text
        assert "(demo: free)" in demo.status_line.render().plain
    plain = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with plain.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert hints(plain) == []


async def test_stop_retry_has_an_f_key_that_works_while_typing(tmp_path: Path) -> None:
    """In the message box ctrl+x is the Input's "cut": Stop retry needs a key that gets through."""
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: "Quit" in footer_keys(app), pilot, what="the footer")
        app._on_change(ConnectionChanged(ConnectionState.RECONNECTING, "lost", 1, 2.0))
        await pilot.press("h", "i")
        assert app.query_one("#message", Input).has_focus
        await wait_until(
            lambda: footer_keys(app).get("Stop retry") == "f8",
            pilot,
            what=f"f8 for Stop retry while typing, not {footer_keys(app)}",
        )
        await pilot.press("f8")
        await wait_until(
            lambda: ("cancel_reconnect", None) in app.session.calls,  # type: ignore[union-attr]
            pilot,
            what="cancel_reconnect from f8",
        )
        assert app.query_one("#message", Input).value == "hi"  # f8 typed nothing


PASSWORD_URL = "wss://alice:hunter2-pw@realtime.example.com:8443/v1/realtime?api-key=k-S3CRET"


def test_connection_text_never_shows_a_user_or_password_of_the_url() -> None:
    info = SessionInfo(PASSWORD_URL, "gpt-realtime-2", "marin")
    text = connection_text(ConnectionChanged(ConnectionState.LIVE), info, None).plain
    assert "realtime.example.com:8443 · gpt-realtime-2" in text
    assert "alice" not in text and "hunter2" not in text and "S3CRET" not in text


async def test_the_header_drawn_never_shows_a_url_password(tmp_path: Path) -> None:
    """A URL with user:password in it (a proxy's basic auth) reaches the header as set in
    the config; what Textual draws there is the host and port alone."""
    script = [ConnectionChanged(ConnectionState.LIVE), SessionInfo(PASSWORD_URL, "m", "marin")]
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted(script))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.connection_bar.info is not None, pilot, what="the info")
        await pilot.pause()
        screen = "\n".join(drawn_texts(app))
        assert "realtime.example.com:8443" in screen
        assert "alice" not in screen and "hunter2" not in screen and "S3CRET" not in screen


def test_connection_text_shows_what_the_server_applied() -> None:
    live = ConnectionChanged(ConnectionState.LIVE)
    url, pcm = "wss://api.openai.com/v1/realtime", "audio/pcm 24 kHz"
    honest = Applied("cedar", pcm, pcm, "audio", "semantic_vad")
    text = connection_text(live, SessionInfo(url, "m", "marin", applied=honest), None).plain
    assert text.endswith("voice cedar · semantic_vad"), "the server's voice, not the setting's"
    other = Applied(
        "alloy",
        "audio/pcmu",
        "audio/pcmu",
        "text",
        "manual",
        plays=False,
        asked=(("voice", "marin"), ("input", pcm), ("modalities", "audio")),
    )
    text = connection_text(live, SessionInfo(url, "m", "marin", applied=other), None).plain
    assert "voice alloy (asked marin) · manual · text only (asked audio)" in text
    assert "audio/pcmu not played: text only" in text
    assert text.endswith("mic audio/pcmu (asked audio/pcm 24 kHz)")
    silent = SessionInfo(url, "m", "marin", applied=Applied())  # a session.updated naming nothing
    assert connection_text(live, silent, None).plain.endswith("voice marin")


def test_connection_text_names_a_voice_waiting_for_the_next_connection() -> None:
    live = ConnectionChanged(ConnectionState.LIVE)
    info = SessionInfo("wss://api.openai.com/v1/realtime", "gpt-realtime-2", "marin", "cedar")
    text = connection_text(live, info, None).plain
    assert "voice marin (cedar next connection)" in text
    plain = SessionInfo("wss://api.openai.com/v1/realtime", "gpt-realtime-2", "marin")
    assert connection_text(live, plain, None).plain.endswith("voice marin")


def test_status_line_says_when_transcription_is_not_priced() -> None:
    stats = Stats(transcription_priced=False)
    stats.turn_usage = Usage(100, 50, 0.0042)
    stats.session_usage = Usage(900, 400, 0.0042)
    text = status_markup(StatusInputs(stats, now=0.0)).plain
    assert "total ≈$0.004 1300 tok (transcription not priced)" in text
    assert text.count("transcription") == 1  # said once, not for the turn as well
    stats.transcription_priced = True
    assert "transcription" not in status_markup(StatusInputs(stats, now=0.0)).plain
    # with no price for the model at all, "(no price)" already says it
    unpriced = Stats(priced=False, transcription_priced=False)
    text = status_markup(StatusInputs(unpriced, now=0.0)).plain
    assert "(no price)" in text and "transcription" not in text


def bad_frame(number: int) -> dict[str, object]:
    """What the session logs for each bad server frame, whether the inspector shows or not."""
    return {"type": "rt-tui.bad_frame", "kind": "json", "reason": f"bad #{number}", "preview": ""}


async def test_the_inspector_keeps_a_bounded_tail_while_hidden(tmp_path: Path) -> None:
    """50k bad frames while hidden were all deferred by the RichLog (it never had a size);
    opening it then froze the UI for 15 s. Now the last KEEP_LINES are kept, shown or not."""
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        inspector = app.inspector
        assert inspector.display is False
        for number in range(50_000):
            inspector.log_event("in", bad_frame(number))
        assert inspector.count == 50_000
        assert len(inspector.kept) == KEEP_LINES
        assert len(inspector.lines) == 0
        assert len(inspector._deferred_renders) == 0  # Textual's queue: where the 50k piled up
        await pilot.press("f6")
        await wait_until(lambda: len(inspector.lines) > 0, pilot, what="the refilled log")
        shown = inspector_text(inspector)
        assert len(shown) == KEEP_LINES  # one row each at this width
        assert "bad #49999" in shown[-1] and f'bad #{50_000 - KEEP_LINES}"' in shown[0]
        # shown: new lines go straight in, still bounded
        inspector.log_event("in", bad_frame(50_000))
        assert "bad #50000" in inspector_text(inspector)[-1]
        assert len(inspector.kept) == KEEP_LINES
        # hidden again, more frames, shown again: the newest, once each, no gap
        await pilot.press("f6")
        await pilot.pause()
        for number in range(50_001, 50_011):
            inspector.log_event("in", bad_frame(number))
        await pilot.press("f6")
        await wait_until(
            lambda: "bad #50010" in inspector_text(inspector)[-1], pilot, what="the newest line"
        )
        shown = inspector_text(inspector)
        assert len(shown) == KEEP_LINES
        numbers = [int(line.split("bad #")[1].split('"')[0]) for line in shown]
        assert numbers == list(range(50_011 - KEEP_LINES, 50_011))


async def test_history_off_is_said_on_screen_for_the_whole_session(tmp_path: Path) -> None:
    """The reason went to stderr before the screen opened: nobody saw it, and everyone
    believed the conversation was being saved."""
    why = "cannot create a transcript in /srv/ro/history: Read-only file system"
    now = [0.0]
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted(),
        history_off=why,
        monotonic=lambda: now[0],
    )
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        status = app.status_line
        assert str(status.render()).startswith(f"history off: {why}")
        # still there after stats, mute and audio changes and the clock's ticks
        app._on_change(StatsChanged(Stats(last_latency_ms=420.0, session_started=0.0)))
        app._on_change(AudioModeChanged("output_only", message="no microphone"))
        now[0] = 65.0
        status.update_text()
        await pilot.pause()
        line = str(status.render())
        assert f"history off: {why}" in line and "420 ms" in line and "session 1 min" in line
    saved = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with saved.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        assert "history off" not in str(saved.status_line.render())


def test_history_off_comes_first_in_the_status_line() -> None:
    """Urgent items lead: on a narrow terminal the figures are cut, not this."""
    pieces = status_pieces(StatusInputs(stats=Stats(), now=0.0, history_off="disk full"))
    assert pieces[0].plain == "history off: disk full"
    assert not any(
        "history" in piece.plain for piece in status_pieces(StatusInputs(Stats(), now=0.0))
    )


async def test_a_missing_device_is_one_sentence_and_its_raw_error_goes_to_the_inspector(
    tmp_path: Path,
) -> None:
    """No sound card: the status line ran three sentences together with PortAudio's
    "(Error querying device -1)" in them. Now each device has its sentence, set apart, and
    the raw words (outside text: made printable) are kept in the inspector, shown or not."""
    from tui.audio.streams import SENTENCE_GAP

    message = SENTENCE_GAP.join(
        [
            "No microphone found: plug one in or start the sound server.",
            "Running output only; retrying every 5 s.",
        ]
    )
    raw = "Microphone: Error querying device -1\x1b]0;pwned\x07"
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        app._on_change(AudioModeChanged("output_only", message, (raw,)))
        await pilot.pause()
        line = str(app.status_line.render())
        assert "No microphone found: plug one in" in line and " · Running output only" in line
        assert "Error querying" not in line
        kept = [str(text) for text in app.inspector.kept]
        assert len(kept) == 1 and kept[0].startswith("· audio.device")
        assert "Error querying device -1" in kept[0] and "\x1b" not in kept[0]


def running_timers(app: RtApp) -> list[str]:
    """Textual timers that are not paused, on the app and every widget of every screen."""
    nodes = [app, *(node for screen in app.screen_stack for node in screen.walk_children())]
    nodes += list(app.screen_stack)
    return sorted(
        f"{type(node).__name__}.{timer.name}"
        for node in nodes
        for timer in list(node._timers)
        if timer._task is not None and timer._active.is_set()
    )


async def test_a_live_app_runs_no_timer_while_nothing_changes(tmp_path: Path) -> None:
    """Issue 11: idle live, nothing on screen changes, so nothing wakes the UI on a timer:
    no blinking cursor, no meter tick (the mic's own blocks carry the meter), no countdown
    while live, no clock repainting every second."""
    app = RtApp(
        Settings(),
        config_path=tmp_path / "c.toml",
        session_factory=scripted(
            [
                ConnectionChanged(ConnectionState.LIVE),
                StatsChanged(Stats(last_latency_ms=420.0, session_started=0.0)),
            ]
        ),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: "● live" in str(app.connection_bar.render()), pilot)
        await pilot.pause()
        assert app.query_one(MessageBox).has_focus
        assert running_timers(app) == []


async def test_a_level_that_draws_the_same_line_costs_no_repaint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a screen update costs milliseconds, so the meter repaints only when a cell
    of its line changes, not whenever the level moves by half a dB."""
    app = RtApp(Settings(), config_path=tmp_path / "c.toml", session_factory=scripted())
    async with app.run_test(size=(40, 24)) as pilot:  # a 6-cell bar: 1.25 dB an eighth
        meter = app.meter
        meter.state = MeterState.LISTENING
        meter.sample((-30.0, -10.0))
        await pilot.pause()
        repaints: list[object] = []
        monkeypatch.setattr(meter, "refresh", lambda *a, **k: repaints.append(a))
        drawn = meter.pieces()
        meter.sample((-30.5, -10.0))  # moved, but within one eighth and the same whole dB
        assert meter.level_db == -30.5 and meter.pieces() == drawn
        assert repaints == []
        meter.sample((-20.0, -10.0))  # a real move
        assert meter.pieces() != drawn and len(repaints) == 1


HALF_DB = st.floats(FLOOR_DB, 0.0).map(lambda db: round(db * 2) / 2)  # what sample() gives
NUDGE = st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0])


@given(state=st.sampled_from(list(MeterState)), width=st.integers(0, 120), level=HALF_DB,
       peak=HALF_DB, level_nudge=NUDGE, peak_nudge=NUDGE)  # fmt: skip
def test_equal_meter_keys_draw_equal_lines(
    state: MeterState, width: int, level: float, peak: float, level_nudge: float, peak_nudge: float
) -> None:
    """The meter skips a repaint when the key is unchanged: that must never hide a change.
    Nearby readings (half a dB or a dB apart) are the ones whose keys often coincide."""
    other_level = min(0.0, max(FLOOR_DB, level + level_nudge))
    other_peak = min(0.0, max(FLOOR_DB, peak + peak_nudge))
    if line_key(state, width, level, peak) == line_key(state, width, other_level, other_peak):
        assert line_pieces(state, width, level, peak) == line_pieces(
            state, width, other_level, other_peak
        )
