from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

# Before incentive imports lark (incentive/leanlark.py): with interegular imported, the
# parser the tests build is built in lark's strict mode, which proves that the grammar
# has no conflicts and no two terminals overlap.
with contextlib.suppress(ImportError):
    import interegular  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository's top folder, as the docs' commands are written."""
    monkeypatch.chdir(ROOT)
