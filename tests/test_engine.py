"""Engine behaviour found by reviews and property tests: each case pins one fix."""

from __future__ import annotations

from datetime import datetime

import incentive

CAMP = """scheme "camp" {
  timezone "Asia/Shanghai"
  rule first { on homework top 1 per day by earliest award 5 }
}
"""


def _kinds(records: list[incentive.Record]) -> list[str]:
    return [r.kind for r in records]


def test_a_naive_advance_to_is_read_in_the_schemes_zone() -> None:
    session = incentive.compile(CAMP).session()
    session.feed({"type": "homework", "member": "ana", "at": "2026-03-02T10:00:00"})
    # 23:59 Shanghai is still 2 March there (15:59 UTC): nothing closes yet.
    assert session.advance_to(datetime(2026, 3, 2, 23, 59)) == []
    closed = session.advance_to(datetime(2026, 3, 3, 0, 0))
    assert _kinds(closed) == ["rank"]
    assert closed[0].at == "2026-03-03T00:00:00+08:00"


def test_feeding_something_that_is_not_an_event_is_a_bad_event_with_its_position() -> None:
    session = incentive.compile(CAMP).session()
    session.feed({"type": "homework", "member": "ana", "at": "2026-03-02T10:00:00"})
    records = session.feed(["not", "an", "event"])  # type: ignore[arg-type]
    assert _kinds(records) == ["bad_event"]
    assert records[0].line == 2
    assert session.feed(None)[0].line == 3  # type: ignore[arg-type]


def test_balances_name_every_currency_even_for_a_member_who_earned_nothing() -> None:
    program = incentive.compile(
        'scheme "x" { currency coins, xp  rule r { on a where n > 1 award 1 limit 1 per day } }'
    )
    result = program.evaluate([{"type": "a", "member": "ana", "at": "2026-03-02T10:00", "n": 0}])
    assert result.balances == {"ana": {"coins": 0, "xp": 0}}


def test_a_milestone_sum_pays_each_threshold_once_even_if_the_sum_falls_and_rises() -> None:
    program = incentive.compile(
        'scheme "x" { rule m { on score milestone sum delta  at 10 award 5 } }'
    )
    deltas = [8, 4, -6, 5, 3]  # 8, 12 (pays), 6, 11, 14
    result = program.evaluate(
        [
            {"type": "score", "member": "ana", "at": f"2026-03-02T10:0{i}", "delta": d}
            for i, d in enumerate(deltas)
        ]
    )
    assert [r.points for r in result.records if r.kind == "award"] == [5]


def test_conditions_on_a_missing_attribute_are_unknown_and_not_makes_no_difference() -> None:
    program = incentive.compile(
        """scheme "x" {
          events { essay(topic: text, words: number) }
          rule a { on essay where not topic == "ads" award 1 limit 1 per day }
          rule b { on essay where topic != "ads" award 1 limit 1 per day }
          rule c { on essay where words > 5 or topic == "x" award 1 limit 1 per day }
          rule d { on essay where not (words > 5 and topic == "x") award 1 limit 1 per day }
        }"""
    )
    paid = lambda event: sorted(  # noqa: E731
        r.rule or "" for r in program.evaluate([event]).records if r.kind == "award"
    )
    base = {"type": "essay", "member": "m", "at": "2026-03-02T10:00"}
    assert paid(base) == []
    assert paid({**base, "topic": "x"}) == ["a", "b", "c"]  # `or` with one side true
    assert paid({**base, "words": 3}) == ["d"]  # `and` with one side false
