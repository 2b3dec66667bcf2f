"""Reason codes: every record with a reason carries a stable `code` from the one list in
incentive/records.py, and docs/embedding.md documents exactly that list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from incentive.records import RECORD_CODES, RECORD_KINDS, record_schema

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = sorted(
    [*ROOT.glob("tests/golden/*/expected.jsonl"), *ROOT.glob("schemes/*.expected.jsonl")]
)


def test_the_docs_list_every_code_once() -> None:
    text = (ROOT / "docs" / "embedding.md").read_text(encoding="utf-8")
    table = text.split("### Reason codes", 1)[1].split("\n\n")[2]
    documented = [
        code for row in table.splitlines()[2:] for code in re.findall(r"`(\w+)`", row.split("|")[1])
    ]
    assert sorted(documented) == sorted(RECORD_CODES)
    assert len(documented) == len(set(documented))


def test_the_schema_lists_the_codes() -> None:
    schema = record_schema()
    code = schema["properties"]["code"]
    choices = [option for option in code["anyOf"] if "enum" in option]
    assert choices and sorted(choices[0]["enum"]) == sorted(RECORD_CODES)


@pytest.mark.parametrize("path", EXPECTED, ids=[str(p.relative_to(ROOT)) for p in EXPECTED])
def test_every_record_with_a_reason_has_a_code(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        record = json.loads(line)
        assert record["kind"] in RECORD_KINDS
        where = f"{path.name}:{number}"
        if "reason" in record:
            assert record.get("code") in RECORD_CODES, f"{where}: {line}"
        else:
            assert "code" not in record, f"{where}: a code without a reason"


def test_the_golden_runs_use_most_codes() -> None:
    """The golden files exercise the codes, so a code written in the wrong place shows
    up as a golden diff: most of the list occurs in them."""
    seen = {
        json.loads(line).get("code")
        for path in EXPECTED
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    assert len(seen & set(RECORD_CODES)) >= len(RECORD_CODES) // 2
