"""`incentive run --state`: runs that carry on where the last one stopped."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import invoke

ROOT = Path(__file__).resolve().parent.parent
CLUB = str(ROOT / "docs" / "examples" / "club.incentive")
EVENTS = (ROOT / "docs" / "examples" / "club.events.jsonl").read_text(encoding="utf-8")


def _kinds(output: str) -> list[str]:
    return [json.loads(line)["kind"] for line in output.splitlines() if line.startswith("{")]


def test_a_rerun_pays_nothing_twice(tmp_path: Path) -> None:
    events = tmp_path / "club.jsonl"
    events.write_text(EVENTS, encoding="utf-8")
    store = str(tmp_path / "club.db")
    code, first = invoke("run", "--state", store, CLUB, str(events))
    assert code == 0 and _kinds(first).count("award") == 6
    assert "state kept in" in first
    code, again = invoke("run", "--state", store, CLUB, str(events))
    assert code == 0 and _kinds(again) == ["balance", "balance"]
    assert [line for line in first.splitlines() if '"balance"' in line and "kind" in line][-2:] == [
        line for line in again.splitlines() if line.startswith("{")
    ]


def test_a_growing_file_is_read_from_where_the_last_run_stopped(tmp_path: Path) -> None:
    lines = EVENTS.splitlines(keepends=True)
    events = tmp_path / "club.jsonl"
    events.write_text("".join(lines[:4]), encoding="utf-8")
    store = str(tmp_path / "club.db")
    code, first = invoke("run", "--quiet", "--state", store, CLUB, str(events))
    events.write_text("".join(lines), encoding="utf-8")
    code, second = invoke("run", "--quiet", "--state", store, CLUB, str(events))
    assert code == 0
    code, whole = invoke("run", "--quiet", "--state", str(tmp_path / "one.db"), CLUB, str(events))
    records = [line for line in first.splitlines() if '"kind":"balance"' not in line]
    records += second.splitlines()
    assert records == whole.splitlines()


def test_an_input_that_does_not_continue_is_refused_unless_new(tmp_path: Path) -> None:
    events = tmp_path / "club.jsonl"
    events.write_text(EVENTS, encoding="utf-8")
    store = str(tmp_path / "club.db")
    invoke("run", "--quiet", "--state", store, CLUB, str(events))
    other = tmp_path / "tuesday.jsonl"
    other.write_text(
        '{"id": "t1", "type": "checkin", "member": "ana", "at": "2026-03-03T09:00:00"}\n',
        encoding="utf-8",
    )
    code, output = invoke("run", "--quiet", "--state", store, CLUB, str(other))
    assert code == 2
    assert (
        f"the input has 1 item(s) but the store has already read {len(EVENTS.splitlines())}"
        in output
    )
    assert "--new-input" in output
    code, output = invoke("run", "--quiet", "--state", store, "--new-input", CLUB, str(other))
    assert code == 0 and _kinds(output) == ["award", "balance", "balance"]
    changed = tmp_path / "changed.jsonl"
    *kept, last = EVENTS.splitlines(keepends=True)
    changed.write_text("".join(kept) + last.replace('"bo"', '"cy"'), encoding="utf-8")
    invoke("run", "--quiet", "--state", str(tmp_path / "c.db"), CLUB, str(events))
    code, output = invoke("run", "--quiet", "--state", str(tmp_path / "c.db"), CLUB, str(changed))
    assert code == 2 and "does not continue the one the store has read" in output


def test_a_changed_scheme_is_named_and_refused_unless_carried_over(tmp_path: Path) -> None:
    events = tmp_path / "club.jsonl"
    events.write_text(EVENTS, encoding="utf-8")
    store = str(tmp_path / "club.db")
    invoke("run", "--quiet", "--state", store, CLUB, str(events))
    edited = tmp_path / "club.incentive"
    edited.write_text(
        Path(CLUB).read_text(encoding="utf-8").replace("cap 3 per day", "cap 5 per day"),
        encoding="utf-8",
    )
    code, output = invoke("run", "--quiet", "--state", store, str(edited), str(events))
    assert code == 2
    assert "the scheme changed since" in output and "rule `chat` changed" in output
    code, output = invoke(
        "run", "--quiet", "--state", store, "--on-change", "carry", str(edited), str(events)
    )
    assert code == 0 and _kinds(output) == ["balance", "balance"]


def test_misused_options_and_files_are_refused_plainly(tmp_path: Path) -> None:
    events = tmp_path / "club.jsonl"
    events.write_text(EVENTS, encoding="utf-8")
    code, output = invoke("run", "--close", CLUB, str(events))
    assert code == 2 and "go with --state" in output
    code, output = invoke("run", "--horizon", "24", CLUB, str(events))
    assert code == 2 and "go with --state" in output
    code, output = invoke(
        "run", "--state", str(tmp_path / "s.db"), "--format", "table", CLUB, str(events)
    )
    assert code == 2 and "JSON Lines" in output
    junk = tmp_path / "junk.db"
    junk.write_text("not a store" * 100, encoding="utf-8")
    code, output = invoke("run", "--state", str(junk), CLUB, str(events))
    assert code == 2 and "is not an incentive store" in output


def test_a_horizon_quarantines_a_mistyped_year(tmp_path: Path) -> None:
    events = tmp_path / "club.jsonl"
    typo = '{"id": "t", "type": "checkin", "member": "cy", "at": "2062-03-03T09:00:00"}\n'
    events.write_text(EVENTS + typo, encoding="utf-8")
    store = str(tmp_path / "club.db")
    code, output = invoke("run", "--quiet", "--state", store, "--horizon", "24", CLUB, str(events))
    assert code == 0 and "quarantined" in _kinds(output)
    assert "is more than 1 day after the latest event" in output


def test_a_torn_last_line_waits_for_the_next_run(tmp_path: Path) -> None:
    """An exporter is writing the file: its last line has no end yet. It is not read as
    a bad line; the next run reads it whole, and nothing is lost or repeated."""
    lines = EVENTS.splitlines(keepends=True)
    events = tmp_path / "club.jsonl"
    events.write_text("".join(lines[:5]) + lines[5][:20], encoding="utf-8")
    store = str(tmp_path / "club.db")
    code, told = invoke("run", "--state", str(tmp_path / "told.db"), CLUB, str(events))
    assert "has no end yet and cannot be read: it is left for the next run" in told
    code, first = invoke("run", "--quiet", "--state", store, CLUB, str(events))
    assert code == 0 and "bad_event" not in _kinds(first)
    events.write_text(EVENTS, encoding="utf-8")
    code, second = invoke("run", "--quiet", "--state", store, CLUB, str(events))
    assert code == 0
    code, whole = invoke("run", "--quiet", "--state", str(tmp_path / "one.db"), CLUB, str(events))
    records = [line for line in first.splitlines() if '"kind":"balance"' not in line]
    assert records + second.splitlines() == whole.splitlines()
