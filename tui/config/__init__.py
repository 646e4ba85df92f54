"""Settings: one declarative schema drives loading, validation, saving and the example file.

Layers, lowest first: built-in defaults < config file < environment (`RT_TUI_<PATH>`) <
overrides (command-line flags). Every bad input becomes a `ConfigError` naming the file,
the key, what was given and what is allowed; nothing is changed by bad input.

The modules, one job each: `fields` (FieldSpec, `setting()`), `choices` (the names offered),
`schema` (the settings dataclasses and SCHEMA read off them), `values` (check, parse,
format one value), `urls` (URL check, `safe_url`), `files` (paths, reading, atomic writes),
`load`, `save`, `apikey`, `example` (config.example.toml). Import from `tui.config`.

This package is core: it must not import textual, websockets or sounddevice.
"""

from tui.config.apikey import api_key_source, resolve_api_key
from tui.config.choices import (
    AUTHS,
    EAGERNESS,
    ECHO_GUARDS,
    MODELS,
    NOISE_REDUCTIONS,
    OUTPUT_MODALITIES,
    REASONING_EFFORTS,
    THEMES,
    TRANSCRIPTION_MODELS,
    TURN_DETECTION_MODES,
    VOICES,
)
from tui.config.example import example_toml
from tui.config.fields import ENV_PREFIX, FieldSpec
from tui.config.files import APP_NAME, default_config_path, default_data_dir
from tui.config.load import LoadedConfig, env_warnings, load_config, load_settings, startup_warnings
from tui.config.problems import detail_of
from tui.config.save import save_changes, save_settings
from tui.config.schema import (
    KEY_ACTIONS,
    MODE_PATH,
    SCHEMA,
    SECTIONS,
    TABLES,
    URL_EXAMPLE,
    AudioSettings,
    ConnectionSettings,
    HistorySettings,
    KeySettings,
    SessionSettings,
    Settings,
    TurnDetectionSettings,
    UISettings,
    field,
    split_keys,
)
from tui.config.urls import safe_url
from tui.config.values import format_value, get_value, parse_value, with_value

__all__ = [
    "APP_NAME",
    "AUTHS",
    "EAGERNESS",
    "ECHO_GUARDS",
    "ENV_PREFIX",
    "KEY_ACTIONS",
    "MODELS",
    "MODE_PATH",
    "NOISE_REDUCTIONS",
    "OUTPUT_MODALITIES",
    "REASONING_EFFORTS",
    "SCHEMA",
    "SECTIONS",
    "TABLES",
    "THEMES",
    "TRANSCRIPTION_MODELS",
    "TURN_DETECTION_MODES",
    "URL_EXAMPLE",
    "VOICES",
    "AudioSettings",
    "ConnectionSettings",
    "FieldSpec",
    "HistorySettings",
    "KeySettings",
    "LoadedConfig",
    "SessionSettings",
    "Settings",
    "TurnDetectionSettings",
    "UISettings",
    "api_key_source",
    "default_config_path",
    "default_data_dir",
    "detail_of",
    "env_warnings",
    "example_toml",
    "field",
    "format_value",
    "get_value",
    "load_config",
    "load_settings",
    "parse_value",
    "resolve_api_key",
    "safe_url",
    "save_changes",
    "save_settings",
    "split_keys",
    "startup_warnings",
    "with_value",
]
