"""The names settings offer: closed sets (choices) and open ones (suggestions)."""

from __future__ import annotations

from tui.constants import EchoGuard, TurnMode

VOICES: tuple[str, ...] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)

# Realtime model names the SDK's Literal knows (realtime-protocol.md 2.5); any string is accepted.
MODELS: tuple[str, ...] = (
    "gpt-realtime-2",
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-1.5",
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-realtime-mini",
    "gpt-realtime-mini-2025-10-06",
    "gpt-realtime-mini-2025-12-15",
    "gpt-4o-realtime-preview",
    "gpt-4o-realtime-preview-2024-10-01",
    "gpt-4o-realtime-preview-2024-12-17",
    "gpt-4o-realtime-preview-2025-06-03",
    "gpt-4o-mini-realtime-preview",
    "gpt-4o-mini-realtime-preview-2024-12-17",
    "gpt-audio-1.5",
    "gpt-audio-mini",
    "gpt-audio-mini-2025-10-06",
    "gpt-audio-mini-2025-12-15",
)

# Input transcription models (realtime-protocol.md 2.3); any string is accepted (Azure deployments).
# The current ones first; the SDK announces a shutdown on 2027-02-26 for the gpt-4o ones and
# whisper-1.
TRANSCRIPTION_MODELS: tuple[str, ...] = (
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-realtime-whisper",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "whisper-1",
)

# Textual's built-in themes (textual.theme.BUILTIN_THEMES, 8.2), in its order; the app may
# offer more (theme files). Any name is accepted here because the core cannot import textual
# to ask; `rt-tui --theme` and the app check it. tests/core/test_config.py compares this copy
# with textual's, so it cannot drift.
THEMES: tuple[str, ...] = (
    "textual-dark",
    "textual-light",
    "nord",
    "gruvbox",
    "catppuccin-mocha",
    "dracula",
    "tokyo-night",
    "monokai",
    "flexoki",
    "catppuccin-latte",
    "catppuccin-frappe",
    "catppuccin-macchiato",
    "solarized-light",
    "solarized-dark",
    "rose-pine",
    "rose-pine-moon",
    "rose-pine-dawn",
    "atom-one-dark",
    "atom-one-light",
    "ansi-dark",
    "ansi-light",
)

# [connection] auth: how the key is sent (tui.realtime.auth)
AUTH_AUTO, AUTH_BEARER, AUTH_API_KEY = "auto", "bearer", "api-key"
AUTHS: tuple[str, ...] = (AUTH_AUTO, AUTH_BEARER, AUTH_API_KEY)
OUTPUT_MODALITIES: tuple[str, ...] = ("audio", "text")
NOISE_REDUCTIONS: tuple[str, ...] = ("off", "near_field", "far_field")
# the SDK's RealtimeReasoningEffort, after "default": not sent, the server's default applies
REASONING_EFFORTS: tuple[str, ...] = ("default", "minimal", "low", "medium", "high", "xhigh")
EAGERNESS: tuple[str, ...] = ("auto", "low", "medium", "high")
# plain strings (not the members): TOML, tomlkit and the form's Select see ordinary text
TURN_DETECTION_MODES: tuple[str, ...] = tuple(mode.value for mode in TurnMode)
ECHO_GUARDS: tuple[str, ...] = tuple(guard.value for guard in EchoGuard)
