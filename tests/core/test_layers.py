"""The core runs without a terminal UI or a sound card: importing it loads neither.

import-linter proves no module of the core *names* textual or sounddevice; this proves it at
run time, in a fresh interpreter, for every module of the core (a late import inside a function
is fine: it runs only when the device or the screen is really wanted).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = (
    "tui.config",
    "tui.realtime",
    "tui.session",
    "tui.audio",
    "tui.tools",
    "tui.history",
    "tui.localserver",
    "tui.conversation",
    "tui.changes",
    "tui.pricing",
    "tui.printable",
    "tui.secrets",
    "tui.constants",
    "tui.errors",
    "tui.tomledit",
)
UI_AND_DEVICES = ("textual", "rich", "sounddevice")

_PROBE = """
import importlib, json, pkgutil, sys
root = importlib.import_module(sys.argv[1])
names = [sys.argv[1]] + [
    info.name
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), sys.argv[1] + ".")
    if not info.name.endswith("__main__")
]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(
    top for top in {m.split(".")[0] for m in sys.modules} if top in sys.argv[2:]
)}))
"""


@pytest.mark.parametrize("package", CORE)
def test_importing_the_core_loads_no_ui_and_no_sound_device(package: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, package, *UI_AND_DEVICES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"], package
    assert report["loaded"] == [], f"{package} loads {report['loaded']} at import"


def test_the_probe_sees_a_ui_import() -> None:
    """The probe itself is not blind: the app's module does load textual."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "tui.app", *UI_AND_DEVICES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "textual" in json.loads(done.stdout.strip().splitlines()[-1])["loaded"]


def test_the_settings_panel_is_loaded_when_first_opened_not_at_start() -> None:
    """Issue 11: the panel and its widgets are 2 MiB of memory and a tenth of a second of
    start-up; starting the app (and the session) must not import them."""
    probe = (
        "import sys, tui.app, tui.session, tui.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('tui.screens.settings')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
