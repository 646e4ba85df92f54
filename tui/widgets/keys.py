"""The user actions: one table drives the bindings, the keymap, the help screen and the palette."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from textual.binding import Binding
from textual.keys import format_key

from tui.config import KeySettings, split_keys


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # Binding id, action name and [keys] entry
    title: str  # footer / palette label
    help: str
    priority: bool = False  # priority bindings fire even inside modal screens and inputs


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("mute", "Mute", "Mute or unmute the microphone"),
    ActionSpec("interrupt", "Interrupt", "Stop the assistant now (truncate what was not heard)"),
    ActionSpec("talk", "Talk", "Manual turns: start or end your turn; VAD: interrupt, listen"),
    # priority: the App runs it as the key arrives, before it forwards the keys typed right
    # after it to the old focus (a focused Input still types '/' itself)
    ActionSpec(
        "focus_input", "Type", "Focus the message box (Enter sends, Escape leaves)", priority=True
    ),
    ActionSpec("settings", "Settings", "Open the settings panel"),
    ActionSpec("events", "Events", "Show or hide the event inspector"),
    ActionSpec("help", "Help", "Show every key"),
    ActionSpec("quit", "Quit", "Quit rt-tui", priority=True),
    ActionSpec("cancel_reconnect", "Stop retry", "Stop reconnecting (stay offline)"),
)


def default_bindings() -> list[Binding]:
    """Bindings with the default keys; `keymap()` re-keys them from the user's settings."""
    defaults = asdict(KeySettings())
    return [
        Binding(
            defaults[spec.name],
            spec.name,
            spec.title,
            id=spec.name,
            priority=spec.priority,
            tooltip=spec.help,
        )
        for spec in ACTIONS
    ]


def keymap(keys: KeySettings) -> dict[str, str]:
    """`[keys]` as Textual's keymap: binding id -> comma list of keys."""
    return {name: ",".join(split_keys(value)) for name, value in asdict(keys).items()}


def key_display(keys: str) -> str:
    """'question_mark,f1' -> '? / F1' for the help screen."""
    shown = []
    for key in split_keys(keys):
        *modifiers, last = key.split("+")
        name = format_key(last)
        if len(name) > 1:
            name = name.upper() if name[0] in "fF" and name[1:].isdigit() else name
        shown.append("+".join([*modifiers, name]))
    return " / ".join(shown)
