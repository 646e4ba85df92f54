"""Which strings are secrets worth redacting: `redactable(candidates)`.

Transcripts, the event inspector and logs replace each secret with a mask. Replacing a
string that is no secret does damage instead: `--demo` sends the bearer token "demo" and a
loopback server without a key gets "local", and redacting those turned every "demo" and
"local" a person said into "[redacted]" in the saved transcript (and `--resume` replayed
the damage). So placeholders, and strings too short to be a credential, are left alone.

Core module: stdlib only. Used by tui.history, the session's inspector and mishaps
(`redactable([api_key])`) and the tools' masker (tui.tools.text.Redactor).
"""

from __future__ import annotations

from collections.abc import Iterable

# The bearer tokens rt-tui itself sends when there is no real key; tui.cli's DEMO_KEY and
# LOCAL_PLACEHOLDER_KEY (tests/core/test_secrets.py checks that they are listed here).
PLACEHOLDER_KEYS = frozenset({"demo", "local"})
# No real API key is this short (OpenAI keys run to 100+ characters, Azure's are 32), while
# short strings are ordinary words: masking them would rewrite what people said.
MIN_SECRET_LENGTH = 8


def is_secret(candidate: str | None) -> bool:
    """True when `candidate` is a real credential whose every occurrence must be masked."""
    if not candidate:
        return False
    text = candidate.strip()
    return len(text) >= MIN_SECRET_LENGTH and text.lower() not in PLACEHOLDER_KEYS


def redactable(candidates: Iterable[str | None]) -> tuple[str, ...]:
    """The secrets among `candidates`, longest first, each once.

    Longest first: a key that contains another is masked whole, not around the shorter one.
    """
    found = {candidate for candidate in candidates if candidate and is_secret(candidate)}
    return tuple(sorted(found, key=lambda secret: (-len(secret), secret)))
