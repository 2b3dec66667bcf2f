"""Golden cases: each folder under tests/golden holds a scheme, events and the expected records
(and a roster.csv when the scheme has teams); so does every worked scheme in schemes/.

Regenerate on purpose only: INCENTIVE_UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import incentive
from incentive.events import guess_format, read_events
from incentive.runner import run_batch

GOLDEN = Path(__file__).resolve().parent / "golden"
SCHEMES = Path(__file__).resolve().parent.parent / "schemes"


def _cases() -> list[tuple[str, Path, Path, Path]]:
    cases = []
    for folder in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        events = next(iter(sorted(folder.glob("events.*"))))
        cases.append((folder.name, folder / "scheme.incentive", events, folder / "expected.jsonl"))
    # Every worked scheme with an events file and expected records is a golden case too;
    # a scheme in Chinese keywords (<stem>_zh) runs on its English twin's events and
    # must give the very same records.
    for scheme in sorted(SCHEMES.glob("*.incentive")):
        stem = scheme.name.removesuffix(".incentive")
        data = _twin(stem)
        expected = SCHEMES / f"{data}.expected.jsonl"
        for events in sorted(SCHEMES.glob(f"{data}.events.*")):
            cases.append((f"schemes/{stem}", scheme, events, expected))
    return cases


def _twin(stem: str) -> str:
    """The scheme whose events, roster and records a Chinese-spelled scheme shares."""
    twin = stem.removesuffix("_zh")
    return twin if twin != stem and (SCHEMES / f"{twin}.incentive").exists() else stem


def _roster(scheme: Path) -> incentive.Roster | None:
    """A case's roster: roster.csv beside a golden scheme, or <stem>.roster.csv."""
    stem = _twin(scheme.name.removesuffix(".incentive"))
    name = "roster.csv" if stem == "scheme" else f"{stem}.roster.csv"
    path = scheme.parent / name
    return incentive.load_roster(path) if path.exists() else None


def render(scheme: Path, events: Path) -> str:
    program = incentive.load(scheme)
    with events.open(encoding="utf-8", newline="") as stream:
        items = list(read_events(stream, program.calendar, guess_format(events.name), events.name))
    result = run_batch(program, items, roster=_roster(scheme))
    records = [*result.records, *result.session.balance_records()]
    return "".join(r.to_json() + "\n" for r in records)


@pytest.mark.parametrize("name,scheme,events,expected", _cases(), ids=[c[0] for c in _cases()])
def test_golden(name: str, scheme: Path, events: Path, expected: Path) -> None:
    actual = render(scheme, events)
    if os.environ.get("INCENTIVE_UPDATE_GOLDEN"):
        expected.write_text(actual, encoding="utf-8")
    assert expected.exists(), f"no expected records for {name}: run with INCENTIVE_UPDATE_GOLDEN=1"
    assert actual == expected.read_text(encoding="utf-8")
