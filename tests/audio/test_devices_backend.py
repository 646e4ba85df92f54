"""Device resolution, the devices table, and the no-PortAudio path (simulated)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import ModuleType

import pytest

from tui.audio import backend, devices
from tui.audio.devices import DeviceInfo
from tui.audio.engine import AudioEngine
from tui.errors import AudioUnavailableError, DeviceNotFoundError


def dev(index: int, name: str, ins: int, outs: int, **kw: bool) -> DeviceInfo:
    return DeviceInfo(
        index=index,
        name=name,
        hostapi="ALSA",
        max_input_channels=ins,
        max_output_channels=outs,
        default_samplerate=44100.0,
        is_default_input=kw.get("din", False),
        is_default_output=kw.get("dout", False),
    )


DEVICES = [
    dev(0, "pulse", 32, 32),
    dev(1, "rt_speaker", 0, 32),
    dev(2, "rt_speaker_monitor", 32, 0),
    dev(3, "rt_mic", 32, 0),
    dev(4, "rt_mic_feed", 0, 32),
    dev(5, "default", 32, 32, din=True, dout=True),
    dev(6, "USB Headset Mic", 1, 0),
    dev(7, "USB Headset Speaker", 0, 2),
]


def test_empty_spec_is_the_system_default() -> None:
    assert devices.resolve("", "input", DEVICES) is None
    assert devices.resolve("  ", "output", DEVICES) is None
    assert devices.resolve(None, "output", DEVICES) is None


def test_index_must_exist_and_have_channels_of_the_kind() -> None:
    assert devices.resolve("3", "input", DEVICES) == 3
    assert devices.resolve(7, "output", DEVICES) == 7
    with pytest.raises(DeviceNotFoundError) as info:
        devices.resolve("1", "input", DEVICES)
    assert "no input channels" in str(info.value)
    assert "3: rt_mic" in info.value.candidates
    with pytest.raises(DeviceNotFoundError) as info:
        devices.resolve("42", "output", DEVICES)
    assert "index 42" in str(info.value) and "1: rt_speaker" in str(info.value)


def test_name_substring_case_insensitive_and_by_kind() -> None:
    assert devices.resolve("HEADSET", "input", DEVICES) == 6
    assert devices.resolve("headset", "output", DEVICES) == 7
    # Pitfall 7: the speaker name for input finds its monitor, the only input matching.
    assert devices.resolve("rt_speaker", "input", DEVICES) == 2


def test_exact_name_wins_over_substrings() -> None:
    assert devices.resolve("rt_mic", "input", DEVICES) == 3
    assert devices.resolve("rt_speaker", "output", DEVICES) == 1
    assert devices.resolve("RT_MIC", "input", DEVICES) == 3


def test_no_match_lists_the_candidates() -> None:
    with pytest.raises(DeviceNotFoundError) as info:
        devices.resolve("bluetooth", "output", DEVICES)
    message = str(info.value)
    assert "No output device matches 'bluetooth'" in message
    for name in ("rt_speaker", "rt_mic_feed", "USB Headset Speaker", "default"):
        assert name in message
    assert "rt_mic;" not in message  # input-only devices are not offered for output
    assert info.value.candidates == [
        "0: pulse",
        "1: rt_speaker",
        "4: rt_mic_feed",
        "5: default",
        "7: USB Headset Speaker",
    ]


def test_several_matches_are_ambiguous_and_listed() -> None:
    with pytest.raises(DeviceNotFoundError) as info:
        devices.resolve("rt_", "output", DEVICES)
    assert "matches several output devices" in str(info.value)
    assert info.value.candidates == ["1: rt_speaker", "4: rt_mic_feed"]


def test_format_table_lists_every_column_and_marks_defaults() -> None:
    table = devices.format_table(DEVICES)
    lines = table.splitlines()
    assert lines[0].split() == ["index", "name", "host", "API", "in", "out", "default", "rate"]
    default_line = next(line for line in lines[1:] if line.split()[2] == "default")
    assert default_line.startswith("<>")
    headset = next(line for line in lines if "USB Headset Mic" in line)
    assert headset.split()[-2:] == ["44100", "Hz"]
    assert len(lines) == len(DEVICES) + 2
    assert "No sound devices" in devices.format_table([])


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make `import sounddevice` fail the way it does without libportaudio2."""

    def fake_import() -> ModuleType:
        raise OSError("PortAudio library not found")  # what sounddevice raises at import

    monkeypatch.setattr(backend, "_import_sounddevice", fake_import)
    backend.forget()
    yield
    backend.forget()


def test_missing_portaudio_is_none_with_a_message(no_portaudio: None) -> None:
    assert backend.load() is None
    assert backend.load_error() == "PortAudio library not found"
    assert backend.unavailable_message() == backend.UNAVAILABLE_MESSAGE
    assert "libportaudio2" in backend.UNAVAILABLE_MESSAGE
    with pytest.raises(AudioUnavailableError) as info:
        devices.list_devices()
    assert "libportaudio2" in str(info.value)


async def test_engine_runs_text_only_without_portaudio(no_portaudio: None) -> None:
    engine = AudioEngine(on_capture=lambda pcm: None, loop=asyncio.get_running_loop())
    status = engine.start()
    assert status.mode == "text_only"
    assert status.message == backend.UNAVAILABLE_MESSAGE
    # The conversation goes on: audio that arrives is counted, nothing breaks.
    engine.play("item1", b"\x00\x01" * 2400)
    assert engine.received_ms("item1") == 100 and engine.played_ms("item1") == 0
    assert engine.interrupt() is None
    assert engine.input_level.rms_db == -90.0
    engine.stop()


def test_backend_loads_when_portaudio_is_present() -> None:
    backend.forget()
    module = backend.load()
    assert module is not None and module.__name__ == "sounddevice"
    assert backend.unavailable_message() is None


ALSA_ERROR_PROBE = """
import ctypes, sys
{setup}
alsa = ctypes.CDLL("libasound.so.2")
pcm = ctypes.c_void_p()
alsa.snd_pcm_open(ctypes.byref(pcm), b"rt_tui_no_such_pcm", 0, 0)  # fails, and says so
"""


@pytest.mark.parametrize("silenced", [False, True])
def test_alsa_errors_never_reach_the_terminal(silenced: bool) -> None:
    """libasound writes its errors to fd 2, where Textual draws; after backend.load() it
    must not (the unsilenced run proves the probe makes libasound complain)."""
    import ctypes.util
    import subprocess
    import sys

    if ctypes.util.find_library("asound") is None:
        pytest.skip("libasound is not installed (it comes with libportaudio2)")
    setup = "from tui.audio import backend; backend.load()" if silenced else ""
    result = subprocess.run(
        [sys.executable, "-c", ALSA_ERROR_PROBE.format(setup=setup)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    if silenced:
        assert "ALSA lib" not in result.stderr
    else:
        assert "rt_tui_no_such_pcm" in result.stderr
