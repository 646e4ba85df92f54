"""redact_event: audio shortened, secrets masked anywhere, the original untouched."""

from __future__ import annotations

import base64
import copy
import logging

import pytest

from tui.realtime import events
from tui.realtime.redact import MASK, RedactingLogger, audio_size, redact_event, redact_text

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
PCM = bytes(4800)


def test_append_audio_becomes_its_size() -> None:
    event = events.audio_append(PCM)
    out = redact_event(event)
    assert out["audio"] == "<4800 bytes audio>"
    assert out["type"] == "input_audio_buffer.append"
    assert event["audio"] == base64.b64encode(PCM).decode()  # the original is untouched


def test_audio_delta_becomes_its_size() -> None:
    event = {
        "type": "response.output_audio.delta",
        "item_id": "item_A",
        "delta": base64.b64encode(bytes(961 * 2)).decode(),
    }
    assert redact_event(event)["delta"] == "<1922 bytes audio>"


def test_text_deltas_are_kept() -> None:
    text = "A long transcript delta " * 10
    event = {"type": "response.output_audio_transcript.delta", "delta": text}
    assert redact_event(event) == event


def test_nested_item_audio_is_shortened() -> None:
    encoded = base64.b64encode(bytes(1001)).decode()
    event = {
        "type": "conversation.item.retrieved",
        "item": {"content": [{"type": "output_audio", "audio": encoded, "transcript": "hi"}]},
    }
    part = redact_event(event)["item"]["content"][0]
    assert part == {"type": "output_audio", "audio": "<1001 bytes audio>", "transcript": "hi"}


def test_short_audio_is_left_readable() -> None:
    event = events.audio_append(b"\x00\x01")
    assert redact_event(event) == event


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 100, 4801])
def test_audio_size_matches_decoding(size: int) -> None:
    assert audio_size(base64.b64encode(bytes(size)).decode()) == size


def test_secret_masked_everywhere() -> None:
    event = {
        "type": "error",
        "error": {"message": f"Incorrect API key provided: {KEY}.", "param": [KEY, 1, None]},
        KEY: "as a key",
    }
    snapshot = copy.deepcopy(event)
    out = redact_event(event, secrets=[KEY])
    assert KEY not in repr(out)
    assert out["error"]["message"] == f"Incorrect API key provided: {MASK}."
    assert out["error"]["param"] == [MASK, 1, None]
    assert out[MASK] == "as a key"
    assert event == snapshot


def test_empty_secret_masks_nothing() -> None:
    event = {"type": "x", "text": "hello"}
    assert redact_event(event, secrets=["", None or ""]) == event
    assert redact_text("hello", [""]) == "hello"


def test_redacting_logger_masks_the_key(caplog: pytest.LogCaptureFixture) -> None:
    logger = RedactingLogger(logging.getLogger("test.redact"), [KEY])
    with caplog.at_level(logging.DEBUG, logger="test.redact"):
        logger.debug("> %s: %s", "Authorization", f"Bearer {KEY}")
        logger.info("bad format %s %s", "only one")  # malformed call still logs, masked
    assert "> Authorization: Bearer sk-…redacted" in caplog.messages
    assert len(caplog.messages) == 2
    assert KEY not in caplog.text
