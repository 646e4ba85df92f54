"""Textual messages the UI passes between its screens and the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.config import Settings


@dataclass
class SettingsSaved(Message):
    """The settings panel wrote the config file; the app applies `settings` everywhere."""

    settings: Settings
    notes: list[str]

    def __post_init__(self) -> None:
        super().__init__()
