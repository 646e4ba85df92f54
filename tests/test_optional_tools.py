"""Optional system tools (espeak-ng, tmux) are a skip with a reason when missing, never an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.audio import speech


def test_missing_espeak_skips_the_test_that_needs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        speech.shutil, "which", lambda name: None if name == "espeak-ng" else real_which(name)
    )
    with pytest.raises(pytest.skip.Exception, match="espeak-ng is not installed"):
        speech.espeak_speech("hello", tmp_path)
