"""FieldSpec and `setting()`: a settings dataclass field carries everything about its setting.

Each settings field is declared once, as `name: type = setting(default, help, ...)`; the
schema (`tui.config.schema.SCHEMA`) is read off the dataclasses by `schema_of`, so the type
and default written on the field are the only ones there are.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

ENV_PREFIX = "RT_TUI_"
_DETAILS = "rt_tui_setting"  # the key of a field's metadata that holds its description
_TABLE = "rt_tui_table"  # the key of a whole-table field's metadata (its codec)

# FieldSpec.kind values a form treats specially; any other string field is one line of text
KINDS = (
    "text",
    "multiline",
    "url",
    "keys",
    "input_device",
    "output_device",
    "path",
    "language",
    "languages",
    "words",
)


@dataclass(frozen=True)
class FieldSpec:
    """One setting, fully described: enough to load, validate, save, document and edit it.

    `kind` tells a form how to edit a string: "text" (one line), "multiline", "url",
    "keys" (comma list of key names), "input_device" / "output_device" (name substring or
    index), "path", "language", "languages" (comma list of language codes), "words" (comma
    list of words or phrases).
    """

    path: str  # dotted: "session.turn_detection.threshold"
    type: type  # str, int, float or bool
    default: Any
    section: str  # human title of the table, e.g. "Turn detection"
    help: str  # one line
    optional: bool = False  # None allowed (absent or "" in TOML/env)
    choices: tuple[str, ...] = ()  # closed set
    suggestions: tuple[str, ...] = ()  # open set: offered, any string accepted
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False
    kind: str = "text"
    non_empty: bool = False  # an empty string is not allowed
    choice_help: tuple[tuple[str, str], ...] = ()  # (choice, one line on when to use it)
    # (path of another setting, its values for which this one means something); None: always.
    # The form hides the field otherwise, e.g. threshold only matters for server_vad.
    applies_when: tuple[str, tuple[str, ...]] | None = None
    label: str = ""  # a short title (key actions: the footer's and the palette's label)
    # an optional setting: a word that means unset as well as empty does (the API's "inf")
    unset_word: str = ""

    @property
    def table(self) -> str:
        """The TOML table holding the key: "session.turn_detection"."""
        return self.path.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.path.rpartition(".")[2]

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.path.replace(".", "_").upper()

    @property
    def device(self) -> str:
        """ "input" or "output" for a sound-device field, else ""."""
        return self.kind.removesuffix("_device") if self.kind.endswith("_device") else ""

    def applies(self, value_of: typing.Callable[[str], Any]) -> bool:
        """Whether the setting means anything, given the other settings (`value_of(path)`)."""
        if self.applies_when is None:
            return True
        path, values = self.applies_when
        return value_of(path) in values

    def range_text(self) -> str:
        """A number's allowed range, short: "0.25–1.5", "≥ 0", "" (none)."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{number_text(low)}–{number_text(high)}"
        if low is not None:
            return f"≥ {number_text(low)}"
        if high is not None:
            return f"≤ {number_text(high)}"
        return ""

    def allowed(self) -> str:
        """What values are allowed, in words, for messages and the example file."""
        if self.choices:
            text = "one of " + ", ".join(self.choices)
        elif self.type is bool:
            text = "true or false"
        elif self.type in (int, float):
            noun = "a whole number" if self.type is int else "a number"
            if self.minimum is not None and self.maximum is not None:
                text = f"{noun} from {number_text(self.minimum)} to {number_text(self.maximum)}"
            elif self.minimum is not None:
                text = f"{noun} of at least {number_text(self.minimum)}"
            elif self.maximum is not None:
                text = f"{noun} of at most {number_text(self.maximum)}"
            else:
                text = noun
        elif self.kind == "keys":
            text = "a comma list of key names such as ctrl+q,f1"
        elif self.kind == "url":
            text = "a ws:// or wss:// URL"
        elif self.kind == "language":
            text = "an ISO-639-1 code such as en, or empty"
        elif self.kind == "languages":
            text = "a comma list of ISO-639-1 codes such as en,de, or empty"
        elif self.kind == "words":
            text = "a comma list of words or phrases, or empty"
        elif self.suggestions:
            shown = ", ".join(self.suggestions[:10])
            extra = len(self.suggestions) - 10
            more = f" and {extra} more" if extra > 0 else ""
            text = f"any name, e.g. {shown}{more}"
        elif self.non_empty:
            text = "a non-empty string"
        else:
            text = "a string"
        if self.optional and self.unset_word:
            text += f' (empty or "{self.unset_word}" for the default)'
        elif self.optional:
            text += " (empty for the default)"
        return text


def number_text(number: float) -> str:
    """1.0 -> '1', 0.25 -> '0.25': a bound as people write it."""
    return str(int(number)) if float(number).is_integer() else str(number)


def setting(default: Any, help: str, **details: Any) -> Any:
    """A settings dataclass field: its default, its one-line help and the rest of its
    FieldSpec (choices, minimum, kind, ...). A secret is left out of the dataclass repr."""
    unknown = set(details) - {f.name for f in dataclasses.fields(FieldSpec)}
    if unknown:
        raise TypeError(f"setting() got unknown details {sorted(unknown)}")
    if details.get("kind", "text") not in KINDS:
        raise TypeError(f"setting() got an unknown kind {details['kind']!r}")
    return dataclasses.field(
        default=default,
        repr=not details.get("secret", False),
        metadata={_DETAILS: {"help": help, **details}},
    )


@dataclass(frozen=True)
class TableSpec:
    """A whole top-level table with a shape of its own (arrays of tables, maps), such as
    `[tools]`: one value, read and written by its own codec rather than key by key.

    `load(table, file)` validates the parsed table (ConfigError naming file and key);
    `dump(value)` gives the table to save (what differs from the defaults, {} = nothing).
    """

    key: str  # the top-level TOML key and the Settings attribute: "tools"
    type: type
    section: str
    help: str
    load: typing.Callable[[Any, str], Any]
    dump: typing.Callable[[Any], dict[str, Any]]

    def default(self) -> Any:
        return self.type()


def table_setting(
    factory: type,
    help: str,
    *,
    load: typing.Callable[[Any, str], Any],
    dump: typing.Callable[[Any], dict[str, Any]],
) -> Any:
    """A Settings field that is one whole table with its own codec (see TableSpec)."""
    return dataclasses.field(
        default_factory=factory,
        metadata={_TABLE: {"help": help, "load": load, "dump": dump}},
    )


def tables_of(root: type) -> tuple[TableSpec, ...]:
    """The whole-table fields of the root settings class, in declaration order."""
    hints = typing.get_type_hints(root)
    specs: list[TableSpec] = []
    for item in dataclasses.fields(root):
        codec = item.metadata.get(_TABLE)
        if codec is not None:
            section = getattr(hints[item.name], "SECTION", item.name.title())
            specs.append(TableSpec(item.name, hints[item.name], section, **codec))
    return tuple(specs)


def schema_of(root: type, table: str = "") -> tuple[FieldSpec, ...]:
    """Every setting of a settings dataclass, in declaration order, sub-tables in place.

    A field whose type is itself a dataclass is a TOML sub-table; each other field must be
    declared with `setting()`. Its type is the annotation (`int | None` = an optional int),
    its section the `SECTION` of the class that declares it.
    """
    hints = typing.get_type_hints(root)
    specs: list[FieldSpec] = []
    for item in dataclasses.fields(root):
        path = f"{table}.{item.name}" if table else item.name
        hint = hints[item.name]
        if _TABLE in item.metadata:
            continue  # a whole table with its own codec: tables_of
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            specs += schema_of(hint, path)
            continue
        details = item.metadata.get(_DETAILS)
        if details is None:
            raise TypeError(f"{root.__name__}.{item.name} is not declared with setting()")
        base, optional = _unwrap(hint, path)
        specs.append(
            FieldSpec(
                path=path,
                type=base,
                default=item.default,
                section=root.SECTION,  # type: ignore[attr-defined]
                optional=optional,
                **details,
            )
        )
    return tuple(specs)


def _unwrap(hint: Any, path: str) -> tuple[type, bool]:
    """`float | None` -> (float, True); `str` -> (str, False)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) != 1 or len(typing.get_args(hint)) != 2:
            raise TypeError(f"{path}: a setting is one type, optionally `| None`")
        return _unwrap(args[0], path)[0], True
    if hint not in (str, int, float, bool):
        raise TypeError(f"{path}: a setting is a str, int, float or bool, not {hint!r}")
    return hint, False
