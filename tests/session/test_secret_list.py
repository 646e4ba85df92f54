"""The session's secret list: real keys are masked in the inspector, placeholders are not.

`--demo` sends the bearer token "demo" and a loopback server without a key gets "local";
masking those would turn every "demo" a person says into "[redacted]" in the event view.
"""

from __future__ import annotations

from typing import Any

import pytest

from tui.config import Settings
from tui.session.rooms import Rooms


def rooms_with(api_key: str | None) -> Rooms:
    settings = Settings()
    return Rooms.build(
        lambda: settings,
        api_key=api_key,
        audio_enabled=False,
        audio_factory=None,
        on_capture=lambda pcm: None,
        on_audio_status=lambda status: None,
        clock=lambda: 0.0,
    )


def shown(rooms: Rooms, text: str) -> Any:
    event = {"type": "response.output_text.delta", "delta": text}
    return rooms.inspector.inbound(event).event["delta"]


@pytest.mark.parametrize("placeholder", ["demo", "local", "DEMO"])
def test_placeholder_keys_are_no_secrets_in_the_inspector(placeholder: str) -> None:
    rooms = rooms_with(placeholder)
    assert shown(rooms, f"a {placeholder} of the local server") == (
        f"a {placeholder} of the local server"
    )


def test_a_real_key_is_masked_in_the_inspector() -> None:
    key = "sk-test-real-0123456789abcdef"
    assert key not in shown(rooms_with(key), f"the key is {key}!")
