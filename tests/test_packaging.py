"""Packaging tells the truth: the floors CI installs are the floors pyproject declares."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
FLOORS_FILE = ROOT / "tests" / "constraints-floors.txt"


def declared() -> list[Requirement]:
    project = PYPROJECT["project"]
    return [
        Requirement(text)
        for text in project["dependencies"] + project["optional-dependencies"]["test"]
    ]


def pinned_floors() -> dict[str, Version]:
    floors = {}
    for line in FLOORS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            floors[_normal(name)] = Version(version)
    return floors


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lowest_allowed(requirement: Requirement) -> Version:
    for spec in requirement.specifier:
        if spec.operator in (">=", "=="):
            return Version(spec.version)
    raise AssertionError(f"{requirement} declares no floor")


def test_every_direct_dependency_has_a_floor_pinned_in_the_floors_file() -> None:
    floors = pinned_floors()
    for requirement in declared():
        name = _normal(requirement.name)
        assert name in floors, f"{name} is not in {FLOORS_FILE.name}"
        assert floors[name] == lowest_allowed(requirement), name
        assert floors[name] in requirement.specifier, name
    assert set(floors) == {_normal(r.name) for r in declared()}


def test_the_licence_and_the_changelog_ship() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").startswith("# Changelog")
