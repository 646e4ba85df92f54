"""tui.config: layers, every bad input, atomic save, the key's secrecy, the example file."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from tui import config, tomledit
from tui.config import (
    SCHEMA,
    VOICES,
    FieldSpec,
    Settings,
    api_key_source,
    default_config_path,
    example_toml,
    field,
    get_value,
    load_settings,
    parse_value,
    resolve_api_key,
    save_settings,
    with_value,
)
from tui.config.example import toml_value
from tui.config.fields import schema_of, setting
from tui.config.values import set_in_place
from tui.constants import EchoGuard, TurnMode
from tui.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-test-SECRET-do-not-show-1234567890"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_config() -> Path:
    """The default config path under the test's private XDG_CONFIG_HOME."""
    return default_config_path()


# --------------------------------------------------------------------------- schema


@dataclasses.dataclass
class _Demo:
    SECTION: ClassVar[str] = "Demo"
    count: int | None = setting(None, "How many.", minimum=1)
    name: str = setting("x", "A name.", secret=True)


@dataclasses.dataclass
class _Root:
    demo: _Demo = dataclasses.field(default_factory=_Demo)


@dataclasses.dataclass
class _Undeclared:
    SECTION: ClassVar[str] = "Bad"
    plain: int = 3


def test_the_schema_is_read_off_the_dataclass_fields() -> None:
    """Type, optional, default and section come from the field: written once."""
    count, name = schema_of(_Root)
    assert (count.path, count.type, count.optional, count.default) == (
        "demo.count",
        int,
        True,
        None,
    )
    assert (count.section, count.minimum, count.help) == ("Demo", 1, "How many.")
    assert (name.type, name.optional, name.secret) == (str, False, True)
    assert "x" not in repr(_Demo())  # a secret stays out of the repr
    with pytest.raises(TypeError, match="setting"):
        schema_of(_Undeclared)
    with pytest.raises(TypeError, match="unknown details"):
        setting(1, "help", minimun=0)


def test_theme_suggestions_are_textuals_built_in_themes() -> None:
    """A static copy (the core does not import textual); it offered a removed textual-ansi."""
    from textual.theme import BUILTIN_THEMES

    assert list(config.THEMES) == list(BUILTIN_THEMES)


def test_closed_sets_are_the_shared_enums() -> None:
    assert field("session.turn_detection.mode").choices == tuple(m.value for m in TurnMode)
    assert field("audio.echo_guard").choices == tuple(g.value for g in EchoGuard)
    assert config.TURN_DETECTION_MODES == ("server_vad", "semantic_vad", "manual")
    assert all(type(choice) is str for spec in SCHEMA for choice in spec.choices)


def test_turn_detection_fields_say_for_which_modes_they_apply() -> None:
    def shown(path: str, mode: str) -> bool:
        return field(path).applies(lambda other: mode if other == config.MODE_PATH else None)

    assert shown("session.turn_detection.threshold", "server_vad")
    assert not shown("session.turn_detection.threshold", "semantic_vad")
    assert shown("session.turn_detection.eagerness", "semantic_vad")
    assert not shown("session.turn_detection.create_response", "manual")
    assert shown("session.voice", "manual")
    assert field("audio.input_device").device == "input"
    assert field("audio.output_device").device == "output"
    assert field("session.voice").device == ""


def test_key_actions_are_the_keys_table_with_label_and_help() -> None:
    assert [spec.key for spec in config.KEY_ACTIONS] == [
        f.name for f in dataclasses.fields(config.KeySettings)
    ]
    assert all(spec.label and spec.help for spec in config.KEY_ACTIONS)


def test_schema_is_self_describing() -> None:
    for spec in SCHEMA:
        assert spec.help and "\n" not in spec.help, spec.path
        assert spec.section, spec.path
        assert spec.type in (str, int, float, bool), spec.path
        if spec.choices:
            assert spec.default in spec.choices, spec.path
        if spec.choice_help:
            assert tuple(choice for choice, _ in spec.choice_help) == spec.choices, spec.path
        if spec.default is None:
            assert spec.optional, spec.path


def test_voices_and_field_lookup() -> None:
    assert VOICES == (
        "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
    )  # fmt: skip
    voice = field("session.voice")
    assert isinstance(voice, FieldSpec)
    assert voice.suggestions == VOICES and not voice.choices
    assert field("connection.model").suggestions[0] == "gpt-realtime-2"
    assert field("connection.api_key").secret
    assert field("session.turn_detection.mode").env_var == "RT_TUI_SESSION_TURN_DETECTION_MODE"
    with pytest.raises(ConfigError, match=r"did you mean 'session\.voice'"):
        field("session.voce")


def test_settings_equality() -> None:
    assert Settings() == Settings()
    changed = Settings()
    changed.session.turn_detection.threshold = 0.7
    assert changed != Settings()


# --------------------------------------------------------------------------- layers


def test_missing_default_file_gives_defaults(user_config: Path) -> None:
    assert not user_config.exists()
    assert load_settings() == Settings()


def test_default_path_honours_xdg(isolated_env: Path) -> None:
    assert default_config_path() == isolated_env / "config" / "rt-tui" / "config.toml"
    assert default_config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/rt-tui/config.toml")


def test_precedence_defaults_file_env_overrides(user_config: Path) -> None:
    write(
        user_config,
        """
[connection]
model = "gpt-realtime-mini"
[session]
voice = "ash"
speed = 1.2
[session.turn_detection]
mode = "semantic_vad"
threshold = 0.6
[audio]
block_ms = 40
""",
    )
    env = {
        "RT_TUI_SESSION_VOICE": "coral",
        "RT_TUI_SESSION_TURN_DETECTION_MODE": "manual",
        "RT_TUI_AUDIO_BLOCK_MS": "30",
        "RT_TUI_UI_SHOW_EVENTS": "yes",
    }
    overrides = {"session.voice": "cedar", "audio.block_ms": 50, "connection.url": "ws://x:1/v1"}
    got = load_settings(env=env, overrides=overrides)
    assert got.connection.model == "gpt-realtime-mini"  # file
    assert got.session.speed == 1.2  # file
    assert got.session.turn_detection.threshold == 0.6  # file
    assert got.session.turn_detection.mode == "manual"  # env over file
    assert got.ui.show_events is True  # env over default
    assert got.session.voice == "cedar"  # override over env over file
    assert got.audio.block_ms == 50  # override over env over file
    assert got.connection.url == "ws://x:1/v1"  # override over default
    assert got.session.noise_reduction == "off"  # default


def test_env_is_read_from_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_TUI_SESSION_SPEED", "0.5")
    assert load_settings().session.speed == 0.5


def test_overrides_as_strings_are_parsed() -> None:
    got = load_settings(
        env={},
        overrides={"audio.enabled": "false", "session.speed": "1.25", "history.dir": "/h"},
    )
    assert got.audio.enabled is False and got.session.speed == 1.25 and got.history.dir == "/h"


def test_explicit_path_beats_default_path(tmp_path: Path, user_config: Path) -> None:
    write(user_config, '[session]\nvoice = "ash"\n')
    other = write(tmp_path / "other.toml", '[session]\nvoice = "sage"\n')
    assert load_settings(other, env={}).session.voice == "sage"


def test_optional_values_absent_or_empty_mean_none(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[session]\nspend_cap_usd = ""\ntruncation_retention_ratio = 0.8\n'
        '[session.turn_detection]\nidle_timeout_ms = ""\n',
    )
    got = load_settings(path, env={})
    assert got.session.spend_cap_usd is None
    assert got.session.truncation_retention_ratio == 0.8
    assert got.session.turn_detection.idle_timeout_ms is None
    env = {"RT_TUI_SESSION_TRUNCATION_RETENTION_RATIO": "", "RT_TUI_SESSION_SPEND_CAP_USD": "2"}
    got = load_settings(path, env=env)
    assert got.session.truncation_retention_ratio is None
    assert got.session.spend_cap_usd == 2.0


def test_max_output_tokens_takes_a_number_or_the_apis_inf(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[session]\nmax_output_tokens = "inf"\n')
    assert load_settings(path, env={}).session.max_output_tokens is None
    env = {"RT_TUI_SESSION_MAX_OUTPUT_TOKENS": "512"}
    assert load_settings(path, env=env).session.max_output_tokens == 512
    assert parse_value("session.max_output_tokens", " inf ") is None
    for bad in ("0", "4097", "lots"):
        with pytest.raises(ConfigError, match=r'1 to 4096 \(empty or "inf" for the default\)'):
            parse_value("session.max_output_tokens", bad)


def test_transcription_languages_is_a_list_of_codes(tmp_path: Path) -> None:
    assert parse_value("session.transcription_languages", "en, pt-BR") == "en, pt-BR"
    assert parse_value("session.transcription_languages", "") == ""
    with pytest.raises(ConfigError, match="comma list of ISO-639-1 codes"):
        parse_value("session.transcription_languages", "en, English")
    path = write(tmp_path / "c.toml", '[session]\ntranscription_languages = "de,xx yy"\n')
    assert "session.transcription_languages" in error_of(path, env={})


def test_reasoning_effort_is_a_closed_set_with_a_default_that_sends_nothing() -> None:
    spec = field("session.reasoning_effort")
    assert spec.default == "default"
    assert spec.choices == ("default", "minimal", "low", "medium", "high", "xhigh")
    assert [choice for choice, _ in spec.choice_help] == list(spec.choices)
    with pytest.raises(ConfigError, match="one of default, minimal"):
        parse_value("session.reasoning_effort", "maximal")


def test_noise_reduction_strength_applies_only_while_noise_reduction_is_on() -> None:
    spec = field("session.noise_reduction_strength")
    assert not spec.applies(lambda _path: "off")
    assert spec.applies(lambda _path: "near_field") and spec.applies(lambda _path: "far_field")
    with pytest.raises(ConfigError):
        parse_value("session.noise_reduction_strength", "-0.5")


def test_int_is_accepted_for_a_float_setting(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[session]\nspeed = 1\n")
    speed = load_settings(path, env={}).session.speed
    assert speed == 1.0 and isinstance(speed, float)


# --------------------------------------------------------------------------- bad input


def error_of(path: Path | None = None, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def test_invalid_toml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", '[session]\nvoice = "ash"\nspeed = = 1\n')
    message = error_of(path, env={})
    assert str(path) in message
    assert "line 3, column 9" in message
    assert "invalid TOML" in message


def test_invalid_toml_at_end_of_document_still_has_a_position(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", '[session]\nvoice = "ash')
    message = error_of(path, env={})
    assert str(path) in message and "line 2" in message and "column" in message


def test_unknown_top_level_key_names_key_file_and_allowed(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[sesion]\nvoice = 'ash'\n")
    message = error_of(path, env={})
    assert str(path) in message
    assert "'sesion'" in message and "did you mean 'session'" in message
    for table in ("connection", "session", "audio", "ui", "history", "keys"):
        assert table in message


def test_unknown_nested_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[session.turn_detection]\nthreshhold = 0.4\n")
    message = error_of(path, env={})
    assert "session.turn_detection.threshhold" in message
    assert "did you mean 'threshold'" in message
    assert "silence_duration_ms" in message and str(path) in message


def test_unknown_key_without_close_match_lists_allowed(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[ui]\nzzz = 1\n")
    message = error_of(path, env={})
    assert "'zzz'" in message and "did you mean" not in message
    assert "theme, show_events" in message


def test_key_in_the_wrong_table_says_where_it_belongs(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'voice = "ash"\n[audio]\nmode = "manual"\n')
    assert "it belongs in [session]" in error_of(path, env={})
    path = write(tmp_path / "c.toml", '[audio]\nmode = "manual"\n')
    assert "'mode' in [audio] (it belongs in [session.turn_detection])" in error_of(path, env={})


def test_scalar_where_a_table_belongs(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "session = 3\n")
    assert "must be a table [session]" in error_of(path, env={})


@pytest.mark.parametrize(
    ("toml", "key", "given", "allowed"),
    [
        ('[session]\nspeed = "fast"\n', "session.speed", "'fast'", "from 0.25 to 1.5"),
        ("[session]\nspeed = 3.0\n", "session.speed", "3.0", "from 0.25 to 1.5"),
        ("[audio]\nblock_ms = 5\n", "audio.block_ms", "5", "from 10 to 100"),
        ("[audio]\nblock_ms = 20.5\n", "audio.block_ms", "20.5", "whole number"),
        ("[audio]\nenabled = 1\n", "audio.enabled", "1", "true or false"),
        ("[connection]\nmax_session_min = true\n", "connection.max_session_min", "True", "1"),
        ('[session]\nnoise_reduction = "loud"\n', "session.noise_reduction", "'loud'",
         "off, near_field, far_field"),
        ('[session.turn_detection]\nmode = "auto"\n', "session.turn_detection.mode", "'auto'",
         "server_vad, semantic_vad, manual"),
        ("[session]\nvoice = 7\n", "session.voice", "7", "any name"),
        ('[session]\nvoice = ""\n', "session.voice", "empty", "any name"),
        ('[keys]\nmute = "ctrl + m"\n', "keys.mute", "'ctrl + m'", "key names"),
        ('[keys]\nmute = ""\n', "keys.mute", "''", "key names"),
        ('[connection]\nurl = "http://x"\n', "connection.url", "'http://x'", "ws://"),
        ('[session]\ntranscription_language = "English"\n', "session.transcription_language",
         "'English'", "ISO-639-1"),
    ],
)  # fmt: skip
def test_wrong_type_or_value_names_key_given_and_allowed(
    tmp_path: Path, toml: str, key: str, given: str, allowed: str
) -> None:
    path = write(tmp_path / "c.toml", toml)
    message = error_of(path, env={})
    assert key in message and given in message and allowed in message and str(path) in message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("wss://api.openai.com:99999/v1/realtime", "port from 1 to 65535"),
        ("wss://host:abc/v1", "port from 1 to 65535"),
        ("wss://host:0/v1", "port from 1 to 65535"),
        ("wss://" + "a" * 64 + ".example.com/v1", "1 to 63 characters"),
        ("wss://[::1/x", "ws:// or wss:// URL"),
        ("wss:///v1/realtime", "host name"),
        ("api.openai.com/v1/realtime", "ws:// or wss:// URL"),
    ],
)
def test_malformed_url_is_a_config_error_naming_key_and_fix(
    tmp_path: Path, url: str, why: str
) -> None:
    """Caught at load time, from the file, the environment or a flag, never at connect time."""
    fix = "wss://api.openai.com/v1/realtime"
    path = write(tmp_path / "c.toml", f"[connection]\nurl = {json.dumps(url)}\n")
    for message in (
        error_of(path, env={}),
        error_of(env={"RT_TUI_CONNECTION_URL": url}),
        error_of(env={}, overrides={"connection.url": url}),
    ):
        assert "connection.url" in message and why in message and fix in message
    with pytest.raises(ConfigError):
        with_value(Settings(), "connection.url", url)


def test_url_in_a_message_hides_credentials_and_query() -> None:
    message = error_of(env={}, overrides={"connection.url": "wss://u:pw@h:0/v1?api-key=SECRET"})
    assert "SECRET" not in message and "pw" not in message and "port" in message


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("wss://u:pw@h/x", "pw"),
        ("wss://u:pw@h:99999/x", "pw"),
        ("wss://h/x?api_key=sk-live-123", "sk-live-123"),
        ("wss://h/x?k=tok3n&model=gpt-realtime", "tok3n"),
        ("wss://h/x?code=SECRET", "SECRET"),
        ("wss://h/x?sk-bare-token", "sk-bare-token"),
        ("wss://h/x#frag-SECRET", "SECRET"),
        ("wss://u:pw@[::1/x?k=SECRET", "SECRET"),
    ],
)
def test_safe_url_hides_userinfo_and_every_non_public_query_value(url: str, secret: str) -> None:
    shown = config.safe_url(url)
    assert secret not in shown and shown.startswith("wss://")


def test_safe_url_keeps_the_public_names() -> None:
    url = (
        "wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview"
        "&deployment=gpt-realtime&model=m&intent=transcription&call_id=c1&key=k2"
    )
    assert config.safe_url(url) == url.replace("key=k2", "key=***")
    assert config.safe_url("wss://api.openai.com/v1/realtime") == (
        "wss://api.openai.com/v1/realtime"
    )


@hyp_settings(max_examples=200, deadline=None)
@given(st.text())
def test_safe_url_never_raises(text: str) -> None:
    assert isinstance(config.safe_url(text), str)


@pytest.mark.parametrize(
    "url", ["wss://[::1]:8080/v1", "ws://127.0.0.1:9/v1", "wss://bücher.example/v1", "WSS://h/x"]
)
def test_good_urls_pass(url: str) -> None:
    assert load_settings(env={}, overrides={"connection.url": url}).connection.url == url


def test_misspelled_environment_variables_are_named_with_a_suggestion() -> None:
    env = {
        "RT_TUI_SESION_VOICE": "cedar",
        "RT_TUI_SESSION_VOICE": "cedar",
        "RT_TUI_CONNECTION_API_KEY": SECRET,
        "RT_TUI_NOTHING_LIKE_IT": "1",
        "HOME": "/root",
    }
    warnings = config.env_warnings(env)
    assert len(warnings) == 3
    key, nothing, typo = warnings  # sorted by name
    assert "RT_TUI_SESION_VOICE" in typo and "did you mean 'RT_TUI_SESSION_VOICE'" in typo
    assert "RT_TUI_NOTHING_LIKE_IT" in nothing and "did you mean" not in nothing
    assert "RT_TUI_CONNECTION_API_KEY" in key and "OPENAI_API_KEY" in key
    assert all(SECRET not in warning for warning in warnings)
    assert config.env_warnings({"RT_TUI_UI_THEME": "nord"}) == []
    [no_table] = config.env_warnings({"RT_TUI_VOICE": "cedar"})
    assert "did you mean 'RT_TUI_SESSION_VOICE'" in no_table


@pytest.mark.parametrize(
    ("toml", "phrase"),
    [
        ("session = 3\n", "got an int"),
        ("[connection]\napi_key = 5\n", "got an int (value hidden)"),
        ("ui = [1]\n", "got a list"),
    ],
)
def test_messages_use_the_right_article(tmp_path: Path, toml: str, phrase: str) -> None:
    message = error_of(write(tmp_path / "c.toml", toml), env={})
    assert phrase in message and "a int" not in message


def test_key_bound_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[keys]\nmute = "m,f3"\n')
    message = error_of(path, env={})
    assert "'f3'" in message and "keys.mute" in message and "keys.interrupt" in message


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("RT_TUI_SESSION_SPEED", "quick", "number"),
        ("RT_TUI_AUDIO_ENABLED", "maybe", "true or false"),
        ("RT_TUI_SESSION_TURN_DETECTION_MODE", "auto", "server_vad"),
        ("RT_TUI_AUDIO_BLOCK_MS", "1000", "from 10 to 100"),
    ],
)
def test_bad_env_var_names_the_variable(name: str, value: str, allowed: str) -> None:
    message = error_of(env={name: value})
    assert name in message and value in message and allowed in message


def test_bad_override_names_the_setting() -> None:
    message = error_of(env={}, overrides={"session.voice": ""})
    assert "session.voice" in message
    assert "did you mean 'session.voice'" in error_of(env={}, overrides={"session.voic": "x"})


def test_explicit_missing_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config.toml"
    message = error_of(missing, env={})
    assert str(missing) in message and "not found" in message


def test_config_path_that_is_a_folder(tmp_path: Path) -> None:
    assert "folder" in error_of(tmp_path, env={})


def test_unreadable_bytes_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'[session]\nvoice = "\xff"\n')
    assert "UTF-8" in error_of(path, env={})


# --------------------------------------------------------------------------- panel helpers


def test_parse_value_for_form_fields() -> None:
    assert parse_value("session.speed", " 1.1 ") == 1.1
    assert parse_value("session.turn_detection.idle_timeout_ms", "") is None
    assert parse_value("session.turn_detection.idle_timeout_ms", "6000") == 6000
    assert parse_value("audio.enabled", "Off") is False
    assert parse_value("session.voice", "my-custom-voice") == "my-custom-voice"
    assert parse_value("session.instructions", "  Be brief.\nBe kind. ") == "  Be brief.\nBe kind. "
    with pytest.raises(ConfigError) as caught:
        parse_value("session.speed", "2")
    message = str(caught.value)
    assert "\n" not in message and "0.25 to 1.5" in message and "'2'" not in message
    with pytest.raises(ConfigError, match="one of audio, text"):
        parse_value("session.output_modalities", "both")


def test_with_value_returns_a_validated_copy() -> None:
    base = Settings()
    changed = with_value(base, "session.turn_detection.threshold", 0.8)
    assert changed.session.turn_detection.threshold == 0.8
    assert base.session.turn_detection.threshold == 0.5  # the original is untouched
    assert with_value(base, "audio.block_ms", "40").audio.block_ms == 40
    with pytest.raises(ConfigError, match=r"audio\.block_ms"):
        with_value(base, "audio.block_ms", 500)
    with pytest.raises(ConfigError, match=r"keys\.settings"):
        with_value(base, "keys.mute", "s")  # already opens the settings
    assert base == Settings()  # bad input changed nothing


def test_get_value_unknown_path() -> None:
    with pytest.raises(ConfigError):
        get_value(Settings(), "session.nope")


def test_keys_for_splits_bindings() -> None:
    assert Settings().keys.keys_for("help") == ("question_mark", "f1")


# --------------------------------------------------------------------------- saving


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "config.toml"
    original = Settings()
    original.session.voice = "cedar"
    original.session.instructions = 'Say "hi".\nThen stop.'
    original.session.spend_cap_usd = 0.5
    original.keys.quit = "ctrl+c"
    assert save_settings(original, path) == path
    assert load_settings(path, env={}) == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    text = path.read_text()
    assert "api_key" not in text and "speed" not in text  # defaults stay out of a new file


def test_save_to_default_path(user_config: Path) -> None:
    wanted = with_value(Settings(), "ui.theme", "nord")
    assert save_settings(wanted) == user_config
    assert load_settings() == wanted


def test_save_keeps_keys_the_file_had(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '# mine\n[session]\nspeed = 1.0\nvoice = "ash"\n[ui]\ntheme = "nord"\n',
    )
    os.chmod(path, 0o640)
    loaded = load_settings(path, env={})
    save_settings(with_value(loaded, "session.voice", "sage"), path)
    text = path.read_text()
    assert "speed = 1.0" in text  # at its default, but the user wrote it: kept
    assert 'theme = "nord"' in text and 'voice = "sage"' in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # existing mode kept


def test_none_is_written_as_absence(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[session]\nspend_cap_usd = 3.0\n")
    cleared = with_value(load_settings(path, env={}), "session.spend_cap_usd", None)
    save_settings(cleared, path)
    assert "spend_cap_usd" not in path.read_text()
    assert load_settings(path, env={}).session.spend_cap_usd is None


def test_file_with_a_key_is_0600_and_keeps_it(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", f'[connection]\napi_key = "{SECRET}"\n')
    os.chmod(path, 0o644)
    loaded = load_settings(path, env={})
    assert loaded.connection.api_key == SECRET
    save_settings(with_value(loaded, "session.voice", "ash"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(path, env={}).connection.api_key == SECRET


def test_save_never_writes_a_key_found_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    loaded = load_settings(None, env={"OPENAI_API_KEY": SECRET})
    assert resolve_api_key(loaded, env={"OPENAI_API_KEY": SECRET}) == SECRET
    save_settings(loaded, path)
    assert SECRET not in path.read_text()


def test_save_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "saved" / "c.toml"
    for voice in ("ash", "sage", "verse"):
        save_settings(with_value(Settings(), "session.voice", voice), path)
    assert sorted(p.name for p in path.parent.iterdir()) == [".c.toml.lock", "c.toml"]


@pytest.mark.parametrize("failing", ["replace", "write"])
def test_failed_save_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "saved" / "c.toml"
    save_settings(with_value(Settings(), "session.voice", "ash"), path)
    before = path.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes half of the data to the temp file, then fails like a full disk."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            self.handle = real_fdopen(*args, **kwargs)  # type: ignore[call-overload]

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def fileno(self) -> int:
            return self.handle.fileno()

        def write(self, data: bytes) -> None:
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            boom()

    if failing == "replace":
        monkeypatch.setattr(os, "replace", boom)
    else:
        monkeypatch.setattr(os, "fdopen", HalfWriter)
    with pytest.raises(OSError, match="No space"):
        save_settings(with_value(Settings(), "session.voice", "sage"), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [".c.toml.lock", "c.toml"]


def test_save_refuses_an_invalid_settings_value(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[session]\nvoice = "ash"\n')
    bad = Settings()
    bad.session.speed = 9.0  # set behind the validator's back
    with pytest.raises(ConfigError, match=r"session\.speed"):
        save_settings(bad, path)
    assert path.read_text() == '[session]\nvoice = "ash"\n'


def _value_strategy(spec: FieldSpec) -> st.SearchStrategy[object]:
    if spec.kind == "keys":
        return st.just(spec.default)  # keys must stay unique across actions
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.type is bool:
        return st.booleans()
    if spec.type is int:
        strategy: st.SearchStrategy[object] = st.integers(
            int(spec.minimum or 0), int(spec.maximum if spec.maximum is not None else 10**6)
        )
    elif spec.type is float:
        strategy = st.floats(
            spec.minimum or 0.0,
            spec.maximum if spec.maximum is not None else 1e6,
            allow_nan=False,
        )
    elif spec.kind == "url":
        strategy = st.sampled_from(["wss://api.openai.com/v1/realtime", "ws://127.0.0.1:9/v1"])
    elif spec.kind == "language":
        strategy = st.sampled_from(["", "en", "de", "pt-BR"])
    elif spec.kind == "languages":
        strategy = st.sampled_from(["", "en", "en,de", "pt-BR, fr"])
    elif spec.non_empty:
        strategy = st.text(min_size=1).filter(str.strip)
    else:
        strategy = st.text() | st.just("  two\nlines ")
    return st.one_of(st.none(), strategy) if spec.optional else strategy


@hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({spec.path: _value_strategy(spec) for spec in SCHEMA}))
def test_round_trip_of_random_settings(values: dict[str, object]) -> None:
    wanted = Settings()
    for path, value in values.items():
        set_in_place(wanted, path, value)  # exact values, no parsing or trimming
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        save_settings(wanted, path)
        assert load_settings(path, env={}) == wanted
        if wanted.connection.api_key:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def comments_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def in_order(wanted: list[str], lines: list[str]) -> bool:
    """Every line of `wanted` appears in `lines`, in the same order."""
    rest = iter(lines)
    return all(any(line == seen for seen in rest) for line in wanted)


def test_saving_over_a_copied_example_keeps_every_comment(tmp_path: Path) -> None:
    """People copy config.example.toml and edit it: the first save from the settings panel
    must not throw its documentation away (it rewrote the file with tomli-w)."""
    example = example_toml()
    path = write(tmp_path / "config.toml", example)
    wanted = load_settings(path, env={})
    wanted.session.voice = "cedar"
    wanted.session.instructions = 'Say "hi".\nThen stop.'
    wanted.session.spend_cap_usd = 2.5  # commented out in the example: a new key
    wanted.session.turn_detection.idle_timeout_ms = 5000
    wanted.connection.api_key = SECRET
    wanted.audio.block_ms = 40
    save_settings(wanted, path)
    text = path.read_text(encoding="utf-8")
    assert in_order(comments_of(example), text.splitlines())
    assert load_settings(path, env={}) == wanted
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the new keys sit in their own tables, before the next table's heading comment
    session_part = text[text.index("[session]") : text.index("[session.turn_detection]")]
    assert "spend_cap_usd = 2.5" in session_part
    assert session_part.rstrip().endswith("# Turn detection")
    unchanged = [line for line in example.splitlines() if line.startswith("theme = ")]
    assert unchanged and unchanged[0] in text.splitlines()

    cleared = with_value(wanted, "session.spend_cap_usd", None)
    cleared = with_value(cleared, "connection.api_key", "")
    save_settings(cleared, path)
    text = path.read_text(encoding="utf-8")
    assert "spend_cap_usd = 2.5" not in text and SECRET not in text
    assert in_order(comments_of(example), text.splitlines())
    assert load_settings(path, env={}) == cleared


def test_saving_rewrites_only_the_changed_values(tmp_path: Path) -> None:
    original = (
        "# my settings\n"
        "[session]\n"
        'voice = "ash"  # the calm one\n'
        "speed = 1.00\n"
        "\n"
        "# keys I like\n"
        "[keys]\n"
        'quit = "ctrl+c"\n'
    )
    path = write(tmp_path / "c.toml", original)
    save_settings(with_value(load_settings(path, env={}), "session.voice", "sage"), path)
    assert path.read_text() == original.replace('"ash"', '"sage"')


def test_a_new_key_goes_under_its_commented_out_example(tmp_path: Path) -> None:
    example = example_toml()
    path = write(tmp_path / "c.toml", example)
    save_settings(with_value(load_settings(path, env={}), "session.spend_cap_usd", 2.5), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[lines.index('# spend_cap_usd = ""') + 1] == "spend_cap_usd = 2.5"
    assert len(lines) == len(example.splitlines()) + 1


def test_a_file_tomlkit_cannot_edit_is_still_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback: a plain rewrite (comments lost) rather than a failed save."""
    path = write(tmp_path / "c.toml", '# mine\n[session]\nvoice = "ash"\n')

    def broken(text: str) -> object:
        raise ValueError("tomlkit could not parse this")

    monkeypatch.setattr(tomledit.tomlkit, "parse", broken)
    wanted = with_value(load_settings(path, env={}), "session.voice", "sage")
    save_settings(wanted, path)
    assert load_settings(path, env={}) == wanted


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({spec.path: _value_strategy(spec) for spec in SCHEMA}))
def test_round_trip_over_the_example_file(values: dict[str, object]) -> None:
    wanted = Settings()
    for path, value in values.items():
        set_in_place(wanted, path, value)
    example = example_toml()
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "c.toml", example)
        save_settings(wanted, path)
        assert load_settings(path, env={}) == wanted
        assert in_order(comments_of(example), path.read_text(encoding="utf-8").splitlines())


# --------------------------------------------------------------------------- the API key


def test_key_sources_in_order(tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir()
    from_file = Settings()
    from_file.connection.api_key = "sk-file"
    assert resolve_api_key(Settings(), env={}, cwd=cwd) is None
    assert resolve_api_key(from_file, env={}, cwd=cwd) == "sk-file"
    (cwd / ".env").write_text("OTHER=1\nOPENAI_API_KEY=sk-dotenv\n")
    assert resolve_api_key(from_file, env={}, cwd=cwd) == "sk-dotenv"
    assert resolve_api_key(from_file, env={"OPENAI_API_KEY": "sk-env"}, cwd=cwd) == "sk-env"
    assert api_key_source(from_file, env={"OPENAI_API_KEY": "sk-env"}, cwd=cwd) == (
        "environment variable OPENAI_API_KEY"
    )
    assert resolve_api_key(from_file, env={"OPENAI_API_KEY": "  "}, cwd=cwd) == "sk-dotenv"


def test_key_env_name_is_configurable(tmp_path: Path) -> None:
    custom = with_value(Settings(), "connection.api_key_env", "AZURE_KEY")
    env = {"OPENAI_API_KEY": "sk-wrong", "AZURE_KEY": "az-right"}
    assert resolve_api_key(custom, env=env, cwd=tmp_path) == "az-right"
    (tmp_path / ".env").write_text("AZURE_KEY=az-dotenv\n")
    assert resolve_api_key(custom, env={}, cwd=tmp_path) == "az-dotenv"


def test_dotenv_is_not_loaded_into_the_environment(isolated_env: Path) -> None:
    Path(".env").write_text("OPENAI_API_KEY=sk-dotenv\n")  # cwd is the test's private folder
    assert resolve_api_key(Settings()) == "sk-dotenv"
    assert "OPENAI_API_KEY" not in os.environ


def test_key_is_never_in_repr_or_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", f'[connection]\napi_key = "{SECRET}"\n')
    loaded = load_settings(path, env={})
    assert SECRET not in repr(loaded) and SECRET not in str(loaded)
    assert SECRET not in repr(loaded.connection)
    bad_cases = [
        f"[connection]\napi_key = {len(SECRET)}\napi_key_env = ''\n",
        f'[connection]\napi_key = "{SECRET}"\nmodel = ""\n',
        f'[connection]\napi_key = "{SECRET}"\napi_kee = "{SECRET}"\n',
        f'[session]\napi_key = "{SECRET}"\n',
        f'connection = "{SECRET}"\n',
        f'[connection]\napi_key = "{SECRET}\n',
        f'[connection]\napi_key = ["{SECRET}"]\n',
    ]
    for text in bad_cases:
        write(path, text)
        with pytest.raises(ConfigError) as caught:
            load_settings(path, env={})
        assert SECRET not in str(caught.value), text
    with pytest.raises(ConfigError) as caught:
        with_value(loaded, "connection.api_key", 12345)
    assert "12345" not in str(caught.value)


def test_key_env_var_is_not_a_setting() -> None:
    got = load_settings(env={"RT_TUI_CONNECTION_API_KEY": SECRET})
    assert got.connection.api_key == ""


# --------------------------------------------------------------------------- example file


def test_example_file_is_the_generated_text() -> None:
    assert (REPO / "config.example.toml").read_text(encoding="utf-8") == example_toml()


def test_python_m_prints_the_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui.config", "example"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert result.stdout == example_toml()


def test_example_documents_every_key_with_its_default() -> None:
    lines = example_toml().splitlines()
    table = ""
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.startswith("["):
            table = line.strip("[]")
            continue
        body = line.removeprefix("# ")
        key = body.split(" = ")[0]
        path = f"{table}.{key}"
        if " = " in body and path in {spec.path for spec in SCHEMA}:
            spec = field(path)
            choice_lines = [f"#   {choice}: {text}" for choice, text in spec.choice_help]
            assert lines[index - 1 - len(choice_lines) : index - 1] == choice_lines
            assert lines[index - 2 - len(choice_lines)] == f"# {spec.help}"
            assert spec.allowed() in lines[index - 1]
            shown = "empty" if spec.default is None else toml_value(spec.default)
            assert f"Default: {shown}." in lines[index - 1]
            commented = line.startswith("# ")
            assert commented == (spec.default is None or spec.secret), path
            seen.add(path)
    assert seen == {spec.path for spec in SCHEMA}


def test_loading_the_example_gives_the_defaults() -> None:
    assert load_settings(REPO / "config.example.toml", env={}) == Settings()


def test_sections_group_every_field_once_in_schema_order() -> None:
    titles = [title for title, _ in config.SECTIONS]
    assert titles == ["Connection", "Session", "Turn detection", "Audio", "Interface",
                      "History", "Keys"]  # fmt: skip
    assert [spec for _, specs in config.SECTIONS for spec in specs] == list(SCHEMA)


def test_error_detail_is_the_bare_message_for_a_form() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_value("audio.block_ms", "7")
    assert caught.value.detail == "expected a whole number from 10 to 100, got 7"  # type: ignore[attr-defined]
    assert str(caught.value) == f"key 'audio.block_ms': {caught.value.detail}"  # type: ignore[attr-defined]
    assert caught.value.key == "audio.block_ms"


@hyp_settings(max_examples=40, deadline=None)
@given(st.fixed_dictionaries({spec.path: _value_strategy(spec) for spec in SCHEMA}))
def test_format_value_then_parse_value_round_trips(values: dict[str, object]) -> None:
    for path, value in values.items():
        spec = field(path)
        if isinstance(value, str) and spec.kind != "multiline" and value.strip() != value:
            continue  # one-line fields trim what is typed, by design
        if spec.optional and value is None:
            assert parse_value(path, config.format_value(path, value)) is None
            continue
        assert parse_value(path, config.format_value(path, value)) == value, path
