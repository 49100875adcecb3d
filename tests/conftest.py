"""Shared fixtures: where the language's acceptance corpus (../shared) lives."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def corpus(folder: str) -> list[Path]:
    """The .stn programs of shared/<folder>, or [] when shared/ is absent."""
    d = SHARED / folder
    return sorted(d.glob("*.stn")) if d.is_dir() else []


@pytest.fixture
def examples_dir() -> Path:
    return ROOT / "symtn" / "examples"
