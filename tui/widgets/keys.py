"""The user actions: one table drives the bindings, the keymap, the help screen and the palette."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from textual.binding import Binding
from textual.keys import format_key, key_to_character

from tui.config import KEY_ACTIONS, KeySettings, split_keys


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # Binding id, action name and [keys] entry
    title: str  # footer / palette label
    help: str
    priority: bool = False  # priority bindings fire even inside modal screens and inputs


# Focus and Quit are priority bindings: the App runs them as the key arrives, before it
# forwards the keys typed right after it to the old focus (a focused Input still types '/'
# itself), and Quit works inside every screen.
PRIORITY_ACTIONS = frozenset({"focus_input", "quit"})

# One per [keys] entry, in tui.config's order (the footer's, left to right; see KeySettings).
ACTIONS: tuple[ActionSpec, ...] = tuple(
    ActionSpec(spec.key, spec.label, spec.help, priority=spec.key in PRIORITY_ACTIONS)
    for spec in KEY_ACTIONS
)


# Offline after "Stop retry", the same keys bring the connection back: the footer shows
# "Reconnect" where "Stop retry" was, so the way back online is where the way out was. One
# binding per state (the app's check_action enables one), on the keys of cancel_reconnect.
RECONNECT = ActionSpec(
    "reconnect", "Reconnect", "Offline: open a fresh connection now (Stop retry's keys)"
)
SHARES_KEYS_WITH = {RECONNECT.name: "cancel_reconnect"}


def bound_actions() -> list[ActionSpec]:
    """Every action with a binding, in footer and help order: Reconnect beside Stop retry."""
    specs = []
    for spec in ACTIONS:
        specs.append(spec)
        if spec.name == SHARES_KEYS_WITH[RECONNECT.name]:
            specs.append(RECONNECT)
    return specs


def default_bindings() -> list[Binding]:
    """Bindings with the default keys; `keymap()` re-keys them from the user's settings."""
    defaults = asdict(KeySettings())
    defaults.update({name: defaults[source] for name, source in SHARES_KEYS_WITH.items()})
    return [_binding(spec, defaults[spec.name]) for spec in bound_actions()]


def _binding(spec: ActionSpec, keys: str) -> Binding:
    return Binding(
        keys, spec.name, spec.title, id=spec.name, priority=spec.priority, tooltip=spec.help
    )


def keymap(keys: KeySettings) -> dict[str, str]:
    """`[keys]` as Textual's keymap: binding id -> comma list of keys (a binding that shares
    another's keys follows them)."""
    mapped = {name: ",".join(split_keys(value)) for name, value in asdict(keys).items()}
    mapped.update({name: mapped[source] for name, source in SHARES_KEYS_WITH.items()})
    return mapped


# Key names whose character textual.keys.key_to_character misses (8.2.8): an Input types
# them all the same, so the footer must not offer them while it has focus.
_MISSED_CHARACTERS = {
    "plus": "+",
    "minus": "-",
    "slash": "/",
    "at": "@",
    "backslash": "\\",
    "underscore": "_",
}


def key_character(key: str) -> str | None:
    """The character a key name types ('slash' -> '/'), or None (ctrl+x, f2, escape)."""
    return key_to_character(key) or _MISSED_CHARACTERS.get(key)


def working_keys_first(keys: str, consumes: Callable[[str], bool]) -> str:
    """`keys` (a comma list) with those a focused widget would swallow moved to the end.

    Textual's footer shows the first key bound to an action: while the message box has
    focus, that must be the F-key that still works, not the letter that gets typed.
    """
    split = split_keys(keys)
    return ",".join([k for k in split if not consumes(k)] + [k for k in split if consumes(k)])


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
