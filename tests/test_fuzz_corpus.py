"""The fuzz corpus of event input (tests/fuzz), replayed in CI without atheris: each
input, longer runs' finds included, reads and runs without an exception and with the
same records on both evaluators (reliability.md #16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz.event_lines import check, corpus


@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
def test_a_corpus_input_runs_without_an_exception(path: Path) -> None:
    check(path.read_bytes())


def test_the_corpus_holds_the_cases_of_issue_16() -> None:
    names = {path.name for path in corpus()}
    assert {"year-0001.jsonl", "deep.jsonl", "surrogate.jsonl", "long-number.jsonl"} <= names
    assert {"gbk.jsonl", "csv.jsonl", "array.json"} <= names
