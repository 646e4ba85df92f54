"""Theme files: TOML in, validated Textual `Theme`s out.

Shipped themes live in the repo's `themes/` folder, which the wheel force-includes as
`tui/_themes`; users add their own in `$XDG_CONFIG_HOME/rt-tui/themes/`. Colours are validated
here because Textual accepts a bad colour at registration and only crashes when it is applied.
"""

from __future__ import annotations

import importlib.resources
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

# App-specific CSS variables every theme may set; themes that don't get these derived colours.
APP_VARIABLES = (
    "role-user",
    "role-assistant",
    "meter-fill",
    "meter-peak",
    "meter-speaking",
    "meter-assistant",
)


def variable_defaults(theme: Theme) -> dict[str, str]:
    """Fallbacks for the app variables, taken from the theme's own palette."""
    primary = theme.primary
    accent = theme.accent or theme.secondary or primary
    success = theme.success or primary
    warning = theme.warning or accent
    return {
        "role-user": primary,
        "role-assistant": accent,
        "meter-fill": success,
        "meter-peak": warning,
        "meter-speaking": primary,
        "meter-assistant": accent,
    }


@dataclass(slots=True)
class LoadedThemes:
    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per skipped file


def user_theme_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "rt-tui" / "themes"


def shipped_theme_dir() -> Path | None:
    """The themes that ship with rt-tui: package data first, then the repo (editable install)."""
    packaged = importlib.resources.files("tui") / "_themes"
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[2] / "themes"  # tui/ui/themes.py -> the checkout
    return repo if repo.is_dir() else None


def theme_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Search order; a later folder wins a name clash (the user's folder comes last)."""
    dirs = [d for d in (shipped_theme_dir(), user_theme_dir(env)) if d is not None]
    return [d for d in dirs if d.is_dir()]


def load_theme_file(path: Path) -> Theme:
    """Read and validate one theme file. Raises ValueError with a one-line reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML: {exc}") from exc
    data.setdefault("name", path.stem)
    if not isinstance(data.get("primary"), str):
        raise ValueError("'primary' colour is required")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("[variables] must be a table of name = colour")
    try:
        theme = Theme(**data)
    except TypeError as exc:
        raise ValueError(f"unknown or wrong key: {exc}") from exc
    try:
        theme.to_color_system().generate()
    except (ColorParseError, ValueError, TypeError) as exc:
        raise ValueError(f"bad colour: {exc}") from exc
    for name, value in variables.items():
        try:
            Color.parse(value)
        except (ColorParseError, ValueError, TypeError) as exc:
            raise ValueError(f"bad colour for variable {name!r}: {value!r}") from exc
    return theme


def load_themes(dirs: Iterable[Path]) -> LoadedThemes:
    """Every valid `*.toml` theme of `dirs`; later dirs replace same-named themes."""
    result = LoadedThemes()
    by_name: dict[str, Theme] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                result.errors.append(f"{path}: {exc}")
                continue
            by_name[theme.name] = theme
    result.themes = list(by_name.values())
    return result


def available_theme_names(dirs: Iterable[Path] | None = None) -> list[str]:
    """Every theme name the app can apply: Textual's built-in ones and the valid files of
    `dirs` (default: theme_dirs()), sorted. For `rt-tui --theme` to name the choices."""
    loaded = load_themes(theme_dirs() if dirs is None else dirs)
    return sorted(set(BUILTIN_THEMES) | {theme.name for theme in loaded.themes})
