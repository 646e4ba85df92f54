"""rt-tui: live voice conversations with the OpenAI Realtime API, in a terminal."""

__version__ = "0.1.0"
