"""Event readers: JSON Lines, CSV, YAML; ids, bad lines and their line numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clirun import invoke

import incentive
from incentive.calendar import Calendar
from incentive.events import BadLine, Event, load_yaml, read_text

SHANGHAI = Calendar("Asia/Shanghai")


def test_jsonl_naive_times_are_local_and_ids_derive_from_content() -> None:
    items = read_text(
        '{"type":"checkin","member":"ana","at":"2026-03-02T08:00:00"}\n'
        '{"type":"checkin","member":"ana","at":"2026-03-02T00:00:00Z"}\n',
        SHANGHAI,
    )
    first, second = items
    assert isinstance(first, Event) and isinstance(second, Event)
    assert first.at == datetime(2026, 3, 2, 0, 0, tzinfo=UTC) == second.at
    assert first.id == second.id and first.id.startswith("h-")


@pytest.mark.parametrize(
    "line,reason",
    [
        ("not json", "not valid JSON"),
        ('{"type":"checkin","member":"ana"}', "missing `at`"),
        ('{"member":"ana","at":"2026-03-02"}', "missing `type`"),
        ('{"type":"checkin","member":"ana","at":"yesterday"}', "not an ISO 8601 time"),
        ('{"type":"checkin","member":"ana","at":"2026-03-02","at":"2026-03-03"}', "duplicate key"),
        ("[1, 2]", "must be an object"),
        ('{"type":"checkin","member":true,"at":"2026-03-02"}', "`member` must be text"),
    ],
)
def test_jsonl_bad_lines_are_reported_with_line_numbers(line: str, reason: str) -> None:
    good = '{"type":"checkin","member":"bo","at":"2026-03-02T08:00:00"}'
    items = read_text(f"{good}\n{line}\n{good.replace('bo', 'cy')}\n", SHANGHAI, source="e.jsonl")
    assert isinstance(items[1], BadLine)
    assert items[1].line == 2 and items[1].source == "e.jsonl" and reason in items[1].reason
    assert isinstance(items[0], Event) and isinstance(items[2], Event)


def test_csv_with_header_and_empty_cells() -> None:
    text = "type,member,at,words,channel\nhomework,ana,2026-03-02T08:00:00,600,\nhomework,bo\n"
    good, bad = read_text(text, SHANGHAI, "csv", "e.csv")
    assert isinstance(good, Event) and good.attributes == {"words": "600"}
    assert isinstance(bad, BadLine) and bad.line == 3 and "expected 5 columns" in bad.reason


def test_yaml_lists_keep_text_as_text_and_reject_duplicates() -> None:
    text = (
        "- {type: checkin, member: NO, at: '2026-03-02T08:00:00', code: 12:30}\n"
        "- {type: checkin, member: bo, at: 2026-03-02T08:00:00, member: cy}\n"
        "- type: checkin\n  member: dee\n  at: 2026-03-02 08:00:00\n"
    )
    first, second, third = read_text(text, SHANGHAI, "yaml", "e.yaml")
    assert (
        isinstance(first, Event) and first.member == "NO" and first.attributes == {"code": "12:30"}
    )
    assert isinstance(second, BadLine) and second.line == 2 and "duplicate key" in second.reason
    assert isinstance(third, Event) and third.line == 3
    assert third.at == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_yaml_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(ValueError, match="expands"):
        load_yaml(bomb, "bomb")


def test_yaml_not_a_list() -> None:
    (item,) = read_text("type: checkin\n", SHANGHAI, "yaml", "e.yaml")
    assert isinstance(item, BadLine) and "list of events" in item.reason


def test_same_id_different_content_is_a_conflict_and_pays_nothing() -> None:
    program = incentive.compile('scheme "t" { rule a { on checkin award 5 limit 1 per day } }')
    result = program.evaluate(
        [
            {"id": "e1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"},
            {"id": "e1", "type": "checkin", "member": "bo", "at": "2026-03-02T09:00:00"},
            {"id": "e1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"},
        ]
    )
    # Batch evaluation is in time order: the 08:00 re-send comes before the 09:00 conflict.
    assert [r.kind for r in result.records] == ["award", "duplicate", "conflict"]
    assert result.balances == {"ana": {"points": 5}}


def test_wrong_attribute_type_is_a_bad_event_and_leaves_no_trace() -> None:
    program = incentive.compile(
        'scheme "t" { rule a { on hw where words >= 500 award 5 limit 1 per day } }'
    )
    result = program.evaluate(
        [
            {
                "id": "x",
                "type": "hw",
                "member": "ana",
                "at": "2026-03-02T08:00:00",
                "words": "lots",
            },
            {"id": "x", "type": "hw", "member": "ana", "at": "2026-03-02T09:00:00", "words": 600},
        ]
    )
    assert [r.kind for r in result.records] == ["bad_event", "award"]


def test_events_outside_the_season_and_late_events() -> None:
    program = incentive.compile(
        'scheme "t" { season 2026-03-01 to 2026-03-21 '
        "rule a { on checkin award 5 limit 1 per day } }"
    )
    session = program.session()
    assert (
        session.feed({"type": "checkin", "member": "a", "at": "2026-02-28T12:00:00"})[0].kind
        == "outside_season"
    )
    assert (
        session.feed({"type": "checkin", "member": "a", "at": "2026-03-03T12:00:00"})[0].kind
        == "award"
    )
    late = session.feed({"type": "checkin", "member": "a", "at": "2026-03-02T12:00:00"})
    assert [r.kind for r in late] == ["late"]
    assert session.balance("a") == 5


def test_yaml_recursive_alias_is_a_bad_line_not_a_hang() -> None:
    (item,) = read_text("- &a {type: x, member: y, at: '2026-01-01', z: *a}\n", SHANGHAI, "yaml")
    assert isinstance(item, BadLine) and "refers to itself" in item.reason


# A bool attribute read from CSV is text: `true`/`false` in any case, spaces around
# allowed (reference.md, Types). Spreadsheets write TRUE and True.
BOOL_SCHEME = """scheme "bools" {
  events { post(featured: bool) }

  rule featured {
    on post
    where featured
    award 10
    limit 1 per day
  }

  rule plain {
    on post
    where not featured
    award 1
    limit 1 per day
  }
}
"""
BOOL_CSV = (
    "id,type,member,at,featured\n"
    "p1,post,ana,2026-03-02T10:00:00,True\n"
    "p2,post,bo,2026-03-02T10:00:00,TRUE\n"
    "p3,post,cy,2026-03-02T10:00:00, false \n"
    "p4,post,dee,2026-03-02T10:00:00,FALSE\n"
    "p5,post,eve,2026-03-02T10:00:00,tRuE\n"
    "p6,post,fay,2026-03-02T10:00:00,yes\n"
)
# ana, bo and eve are featured (10); cy and dee are not (1); `yes` is no bool.
BOOL_PAID = {"p1": 10, "p2": 10, "p3": 1, "p4": 1, "p5": 10}


def test_csv_bool_text_in_any_case_reads_as_a_bool() -> None:
    program = incentive.compile(BOOL_SCHEME)
    items = read_text(BOOL_CSV, program.calendar, "csv", "e.csv")
    records = program.evaluate(items).records
    paid = {r.events[0]: r.points for r in records if r.kind == "award"}
    assert paid == BOOL_PAID
    [bad] = [r for r in records if r.kind == "bad_event"]
    assert bad.events == ("p6",)
    assert bad.reason == "attribute `featured` should be true or false, got 'yes'"


def test_incentive_run_reads_csv_bools_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "s.incentive").write_text(BOOL_SCHEME, encoding="utf-8")
    (tmp_path / "e.csv").write_text(BOOL_CSV, encoding="utf-8")
    code, out = invoke("run", "--quiet", str(tmp_path / "s.incentive"), str(tmp_path / "e.csv"))
    assert code == 1  # the `yes` line is a bad event
    records = [json.loads(line) for line in out.splitlines()]
    paid = {r["events"][0]: r["points"] for r in records if r["kind"] == "award"}
    assert paid == BOOL_PAID
    balances = {r["member"]: r["balance"] for r in records if r["kind"] == "balance"}
    assert balances == {"ana": 10, "bo": 10, "cy": 1, "dee": 1, "eve": 10}
