"""Engine behaviour found by reviews and property tests: each case pins one fix."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

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


def _paid(program: incentive.Program, events: list[dict[str, object]]) -> list[incentive.Record]:
    return program.evaluate(events).records


def test_a_yearly_streak_counts_years() -> None:
    program = incentive.compile('scheme "x" { rule s { on a streak per year at 2 award 5 } }')
    records = _paid(
        program,
        [
            {"type": "a", "member": "m", "at": "2026-03-02T10:00"},
            {"type": "a", "member": "m", "at": "2027-03-02T10:00"},
        ],
    )
    assert [r.reason for r in records if r.kind == "award"] == ["rule `s`: 2 years in a row"]


def test_two_draws_in_one_amount_are_two_draws() -> None:
    program = incentive.compile(
        'scheme "x" { seed 1  rule r { on a award random(1, 6) * 10 + random(1, 6) uncapped } }'
    )
    events = [{"type": "a", "member": "m", "at": f"2026-03-02T10:{i:02d}"} for i in range(40)]
    points = [r.points or 0 for r in _paid(program, events) if r.kind == "award"]
    assert any(p // 10 != p % 10 for p in points)
    assert all(1 <= p // 10 <= 6 and 1 <= p % 10 <= 6 for p in points)


@pytest.mark.parametrize(
    "body,code",
    [
        ("rule r { on a top 3 per day by count award random(1, 5) }", "E0231"),
        ("rule r { on a where random(1, 2) > 1 award 1 limit 1 per day }", "E0241"),
        ("team member", "E0209"),
        ("levels { low 0 } team level", "E0209"),
    ],
)
def test_refused_at_check_time(body: str, code: str) -> None:
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.compile(f'scheme "x" {{ {body} }}')
    assert code in [d.code for d in caught.value.diagnostics]


def test_a_boost_condition_reads_a_declared_attribute_no_rule_reads() -> None:
    program = incentive.compile(
        'scheme "x" { events { a(vip: bool) }  boost vip { times 2  where vip } '
        "rule r { on a award 5 limit 1 per day } }"
    )
    records = _paid(program, [{"type": "a", "member": "m", "at": "2026-03-02T10:00", "vip": True}])
    assert [r.points for r in records if r.kind == "award"] == [10]


def test_a_points_board_counts_its_currency_and_what_a_penalty_takes() -> None:
    program = incentive.compile(
        'scheme "x" { currency coins, xp  rule c { on a award 10 uncapped } '
        "rule x { on a award 100 xp uncapped } rule p { on b award -25 uncapped } "
        "board b { per day by points } }"
    )
    records = _paid(
        program,
        [
            {"type": "a", "member": "m", "at": "2026-03-02T10:00"},
            {"type": "b", "member": "m", "at": "2026-03-02T11:00"},
        ],
    )
    (line,) = [r for r in records if r.kind == "board"]
    assert line.value == "0"  # 10 coins earned, 10 taken by the penalty (not 25); no xp


def test_levels_count_points_before_budgets() -> None:
    program = incentive.compile(
        'scheme "x" { levels { low 0  high 20 }  budget 10 per day '
        "rule r { on a award 20 limit 1 per day } }"
    )
    records = _paid(program, [{"type": "a", "member": "m", "at": "2026-03-02T10:00"}])
    assert [r.kind for r in records] == ["award", "cut", "level"]
    assert records[-1].level == "high"


def test_nobody_grants_to_themselves() -> None:
    program = incentive.compile('scheme "x" { grants g { on grant  allowance 100 per day } }')
    records = _paid(
        program,
        [{"type": "grant", "member": "li", "at": "2026-03-02T10:00", "by": "li", "points": 5}],
    )
    assert [(r.kind, r.reason) for r in records] == [("refused", "`li` cannot grant to themselves")]


def test_a_top_team_place_needs_someone_who_acted() -> None:
    program = incentive.compile(
        'scheme "x" { team class  rule t { on a top 2 class per day by count award 1 } }'
    )
    roster = incentive.read_roster(io.StringIO("member,class\nana,red\nbo,blue\n"))
    records = program.evaluate(
        [{"type": "a", "member": "ana", "at": "2026-03-02T10:00"}], roster=roster
    ).records
    assert [(r.member, r.team) for r in records if r.kind == "rank"] == [("ana", "red")]
