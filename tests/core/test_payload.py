"""session_config(settings) is a valid GA session for every combination of settings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.oracle import check_client_event
from tui.config import (
    REASONING_EFFORTS,
    TRANSCRIPTION_MODELS,
    VOICES,
    SessionSettings,
    Settings,
    TurnDetectionSettings,
)
from tui.realtime import events
from tui.realtime.payload import live_update, session_config

PCM = {"type": "audio/pcm", "rate": 24000}


def config_for(**session: Any) -> dict[str, Any]:
    turn = session.pop("turn_detection", {})
    built = Settings(
        session=SessionSettings(**session, turn_detection=TurnDetectionSettings(**turn))
    )
    config = session_config(built)
    check_client_event(events.session_update(config))
    return config


def test_defaults() -> None:
    config = config_for()
    assert config == {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": PCM,
                "noise_reduction": None,
                "transcription": {"model": "gpt-transcribe"},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": PCM, "voice": "marin", "speed": 1.0},
        },
    }


def test_instructions_present_only_when_set() -> None:
    assert config_for(instructions="Be brief.")["instructions"] == "Be brief."
    assert "instructions" not in config_for(instructions="")


def test_text_output() -> None:
    assert config_for(output_modalities="text")["output_modalities"] == ["text"]


@pytest.mark.parametrize("mode", ["near_field", "far_field"])
def test_noise_reduction(mode: str) -> None:
    assert config_for(noise_reduction=mode)["audio"]["input"]["noise_reduction"] == {"type": mode}


def test_transcription_language_and_off() -> None:
    config = config_for(transcription_model="whisper-1", transcription_language="de")
    assert config["audio"]["input"]["transcription"] == {"model": "whisper-1", "language": "de"}
    assert config_for(transcription_model="")["audio"]["input"]["transcription"] is None


def test_noise_reduction_strength_only_when_set_and_on() -> None:
    config = config_for(noise_reduction="far_field", noise_reduction_strength=0.4)
    assert config["audio"]["input"]["noise_reduction"] == {"type": "far_field", "strength": 0.4}
    assert (
        config_for(noise_reduction="off", noise_reduction_strength=0.4)["audio"]["input"][
            "noise_reduction"
        ]
        is None
    )


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high", "xhigh"])
def test_reasoning_effort_is_sent_when_chosen(effort: str) -> None:
    assert config_for(reasoning_effort=effort)["reasoning"] == {"effort": effort}


def test_reasoning_effort_default_and_no_token_limit_send_nothing() -> None:
    config = config_for()
    assert "reasoning" not in config
    assert "max_output_tokens" not in config


def test_max_output_tokens_when_set() -> None:
    assert config_for(max_output_tokens=300)["max_output_tokens"] == 300


HINTS = {
    "transcription_prompt": "a talk about rt-tui",
    "transcription_keywords": "rt-tui, Textual,websockets",
    "transcription_languages": "en, de",
}


@pytest.mark.parametrize(
    ("model", "sent"),
    [
        ("gpt-transcribe", {"prompt", "keywords", "languages"}),
        ("gpt-live-transcribe", {"prompt", "keywords", "languages"}),
        ("gpt-4o-mini-transcribe", {"prompt"}),
        ("gpt-4o-transcribe", {"prompt"}),
        ("whisper-1", {"prompt"}),
        ("gpt-realtime-whisper", set()),
        ("gpt-4o-transcribe-diarize", set()),
        ("my-azure-transcriber", {"prompt", "keywords", "languages"}),
    ],
)
def test_transcription_hints_go_only_to_models_that_take_them(model: str, sent: set[str]) -> None:
    transcription = config_for(transcription_model=model, **HINTS)["audio"]["input"][
        "transcription"
    ]
    assert set(transcription) - {"model"} == sent
    assert transcription.get("prompt", HINTS["transcription_prompt"]) == "a talk about rt-tui"
    assert transcription.get("keywords", ["rt-tui", "Textual", "websockets"]) == [
        "rt-tui",
        "Textual",
        "websockets",
    ]
    assert transcription.get("languages", ["en", "de"]) == ["en", "de"]


def test_transcription_hints_left_out_when_empty() -> None:
    transcription = config_for(transcription_prompt="", transcription_keywords=" , ")["audio"][
        "input"
    ]["transcription"]
    assert transcription == {"model": "gpt-transcribe"}


def test_a_live_update_undoes_a_token_limit_taken_away() -> None:
    old = SessionSettings(max_output_tokens=200, reasoning_effort="high")
    extra, notes = live_update(old, SessionSettings())
    assert extra == {"max_output_tokens": "inf"}
    check_client_event(events.session_update({"type": "realtime", **extra}))
    assert len(notes) == 1 and "high" in notes[0] and "next connection" in notes[0]
    assert live_update(SessionSettings(), SessionSettings(max_output_tokens=5)) == ({}, [])


def test_server_vad_idle_timeout() -> None:
    turn = config_for(turn_detection={"idle_timeout_ms": 6000})["audio"]["input"]
    assert turn["turn_detection"]["idle_timeout_ms"] == 6000


def test_semantic_vad() -> None:
    turn = config_for(
        turn_detection={"mode": "semantic_vad", "eagerness": "low", "create_response": False}
    )["audio"]["input"]["turn_detection"]
    assert turn == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": False,
        "interrupt_response": True,
    }


def test_manual_turns_clear_turn_detection() -> None:
    config = config_for(turn_detection={"mode": "manual"})
    assert config["audio"]["input"]["turn_detection"] is None


def test_truncation_retention_ratio() -> None:
    assert config_for(truncation_retention_ratio=0.25)["truncation"] == {
        "type": "retention_ratio",
        "retention_ratio": 0.25,
    }
    assert "truncation" not in config_for()


def test_unknown_mode_is_a_programming_error() -> None:
    broken = Settings(session=SessionSettings(turn_detection=TurnDetectionSettings(mode="x")))
    with pytest.raises(ValueError, match="'x'"):
        session_config(broken)


turn_settings = st.builds(
    TurnDetectionSettings,
    mode=st.sampled_from(["server_vad", "semantic_vad", "manual"]),
    threshold=st.floats(0.0, 1.0),
    prefix_padding_ms=st.integers(0, 5000),
    silence_duration_ms=st.integers(0, 10_000),
    idle_timeout_ms=st.none() | st.integers(1000, 600_000),
    eagerness=st.sampled_from(["auto", "low", "medium", "high"]),
    interrupt_response=st.booleans(),
    create_response=st.booleans(),
)
session_settings = st.builds(
    SessionSettings,
    instructions=st.text(max_size=80),
    voice=st.sampled_from(VOICES) | st.text(min_size=1, max_size=12),
    output_modalities=st.sampled_from(["audio", "text"]),
    speed=st.floats(0.25, 1.5),
    reasoning_effort=st.sampled_from(REASONING_EFFORTS),
    max_output_tokens=st.none() | st.integers(1, 4096),
    noise_reduction=st.sampled_from(["off", "near_field", "far_field"]),
    noise_reduction_strength=st.none() | st.floats(0.0, 10.0),
    transcription_model=st.sampled_from(["", *TRANSCRIPTION_MODELS, "my-deployment"]),
    transcription_language=st.sampled_from(["", "en", "de", "ja"]),
    transcription_languages=st.sampled_from(["", "en", "en,de"]),
    transcription_keywords=st.text(max_size=40),
    transcription_prompt=st.text(max_size=40),
    truncation_retention_ratio=st.none() | st.floats(0.0, 1.0),
    spend_cap_usd=st.none() | st.floats(0.0, 100.0),
    turn_detection=turn_settings,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session_settings)
def test_every_setting_combination_validates(session: SessionSettings) -> None:
    config = session_config(Settings(session=session))
    check_client_event(events.session_update(config))  # raises on any invalid or unknown key
    assert config["audio"]["output"]["voice"] == session.voice
    assert config["output_modalities"] == [session.output_modalities]
    turn = config["audio"]["input"]["turn_detection"]
    mode = session.turn_detection.mode
    assert (turn is None) == (mode == "manual")
    if turn is not None:
        assert turn["type"] == mode
