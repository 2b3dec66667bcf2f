"""Closing periods: rank awards pay once, streaming with advance_to equals batch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import incentive

GOLDEN = Path(__file__).resolve().parent / "golden" / "rank_awards"


def _events() -> list[dict[str, object]]:
    lines = (GOLDEN / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_streaming_with_advance_equals_batch() -> None:
    program = incentive.load(GOLDEN / "scheme.incentive")
    batch = program.evaluate(_events())
    session = program.session()
    streamed = []
    for event in _events():
        streamed.extend(session.feed(event))
    streamed.extend(session.close_all())
    assert [r.to_json() for r in streamed] == [r.to_json() for r in batch.records]


def test_a_replayed_close_pays_once() -> None:
    program = incentive.load(GOLDEN / "scheme.incentive")
    session = program.session()
    session.feed(
        {"type": "homework", "member": "ana", "at": "2026-03-02T08:00:00", "words": 600, "likes": 2}
    )
    end_of_day = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 21:00 in Shanghai
    first = session.advance_to(end_of_day)
    assert [(r.kind, r.rule, r.rank) for r in first] == [
        ("rank", "early", 1),
        ("rank", "featured", 1),
    ]
    assert session.advance_to(end_of_day) == []
    assert session.advance_to(datetime(2026, 3, 3, 13, 0, tzinfo=UTC)) == []
    late = session.feed(
        {"type": "homework", "member": "bo", "at": "2026-03-02T09:00:00", "words": 600, "likes": 50}
    )
    assert [r.kind for r in late] == ["late"]
    assert session.balance("ana", "coins") == 5 + 5 + 10


def test_a_period_closes_only_when_time_passes_its_end() -> None:
    program = incentive.load(GOLDEN / "scheme.incentive")
    session = program.session()
    session.feed(
        {"type": "homework", "member": "ana", "at": "2026-03-02T08:00:00", "words": 600, "likes": 2}
    )
    assert session.advance_to(datetime(2026, 3, 2, 12, 59, 59, tzinfo=UTC)) == []
    records = session.feed(
        {"type": "homework", "member": "bo", "at": "2026-03-02T21:00:00", "words": 600, "likes": 2}
    )
    assert [r.kind for r in records] == ["rank", "rank", "award"]
    assert records[0].at == "2026-03-02T21:00:00+08:00"


def test_bottom_by_count_ranks_the_least_active() -> None:
    program = incentive.compile(
        'scheme "t" {\n  rule quiet {\n    on message\n    bottom 1 per week by count\n'
        "    award -3\n  }\n}\n"
    )
    events = [
        {"type": "message", "member": m, "at": f"2026-03-0{d}T10:00:00"}
        for m, d in [("ana", 2), ("ana", 3), ("bo", 2), ("cy", 4), ("cy", 5)]
    ]
    result = program.evaluate(events)
    ranks = [r for r in result.records if r.kind in ("rank", "cut")]
    # bo sent one message (the fewest); a penalty on a zero balance is cut to nothing.
    assert [(r.kind, r.member) for r in ranks] == [("cut", "bo")]
