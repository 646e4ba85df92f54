"""The energy VAD on its own: thresholds, padding, silence, chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.server import silence, tone
from tui.localserver.vad import EnergyVad, VadEvent, level_dbfs, threshold_to_dbfs


def test_threshold_mapping_is_documented_line() -> None:
    assert threshold_to_dbfs(0.0) == -70.0
    assert threshold_to_dbfs(0.5) == -40.0
    assert threshold_to_dbfs(1.0) == -10.0
    assert threshold_to_dbfs(7.0) == -10.0  # clamped


def test_level_of_a_sine_and_of_silence() -> None:
    assert level_dbfs(tone(200, dbfs=-20)) == pytest.approx(-20, abs=0.1)
    assert level_dbfs(silence(100)) == -120.0
    assert level_dbfs(b"") == -120.0


def test_silence_gives_no_events() -> None:
    assert EnergyVad().feed(silence(3000)) == []


def test_one_utterance_reports_padding_and_trailing_silence() -> None:
    vad = EnergyVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500)
    events = vad.feed(silence(1000) + tone(1000, dbfs=-20) + silence(1000))
    # speech starts at 1000 ms, padding reaches back 300 ms; it ends 500 ms after the tone
    assert events == [VadEvent("started", 700), VadEvent("stopped", 2500)]
    assert not vad.speaking


def test_threshold_decides_what_counts_as_speech() -> None:
    quiet = silence(500) + tone(800, dbfs=-45) + silence(800)
    assert EnergyVad(threshold=0.5).feed(quiet) == []  # -45 dBFS is below -40
    assert [e.kind for e in EnergyVad(threshold=0.3).feed(quiet)] == ["started", "stopped"]


def test_silence_duration_bridges_short_pauses() -> None:
    audio = tone(500) + silence(300) + tone(500) + silence(700)
    assert [e.kind for e in EnergyVad(silence_duration_ms=500).feed(audio)] == [
        "started",
        "stopped",
    ]
    two_turns = EnergyVad(silence_duration_ms=200).feed(audio)
    assert [e.kind for e in two_turns] == ["started", "stopped", "started", "stopped"]
    # the second turn's padding never reaches back into the first turn
    assert two_turns[2].ms >= two_turns[1].ms


def test_a_click_is_not_speech() -> None:
    assert EnergyVad().feed(silence(300) + tone(20, dbfs=-6) + silence(1000)) == []


def test_start_ms_offsets_the_timeline_and_reset_drops_speech() -> None:
    vad = EnergyVad(prefix_padding_ms=0, start_ms=10_000)
    assert vad.feed(tone(200)) == [VadEvent("started", 10_000)]
    vad.reset()
    assert not vad.speaking
    assert vad.position_ms == 10_200


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=40))
def test_chunking_does_not_change_the_events(cuts: list[int]) -> None:
    audio = silence(400) + tone(700) + silence(600) + tone(300) + silence(900)
    whole = EnergyVad().feed(audio)
    vad = EnergyVad()
    chunked: list[VadEvent] = []
    position = 0
    for size in cuts:
        chunked += vad.feed(audio[position : position + size * 2])
        position += size * 2
    chunked += vad.feed(audio[position:])
    assert chunked == whole
