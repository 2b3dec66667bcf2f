"""The reference interpreter's documented edges, each pinned by a test that a
plausible slip in the engine would fail (issue 14: mutants the suite missed).

| section | mutants it kills |
|---|---|
| limits used by earning events only | `use_limits` before the amount is known; refusals counted |
| rounding | `round nearest` half-even or half-down; `up`/`down` toward zero on negatives |
| season-end ranks | a closed rank period reopened by a later close at the same instant |
| budgets | mutmut survivors in budgets.py (1-point awards, penalties, the cut record) |

A known bug is pinned with `xfail(strict=True)` until its fix makes it pass.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

import incentive
from incentive.expressions import to_points
from incentive.records import Record


def _at(day: int, minute: int) -> str:
    return f"2026-03-{day:02d}T10:{minute:02d}:00"


def _ev(event_id: str, kind: str, member: str, at: str, **attrs: Any) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "member": member, "at": at, **attrs}


def _by_event(records: list[Record]) -> dict[str, list[tuple[str, int | None, str]]]:
    """event id -> (kind, points, reason) of every record it caused, in order."""
    found: dict[str, list[tuple[str, int | None, str]]] = {}
    for record in records:
        for event_id in record.events:
            found.setdefault(event_id, []).append((record.kind, record.points, record.reason))
    return found


# ---- limits are used up only by events that earn (reference.md, limit and once) ---------------

LIMITS = """scheme "limits" {
  rule essay {
    on essay
    award words / 100
    limit 2 per day
    limit 3 per week
  }

  rule ratio {
    on ratio
    award 100 / words
    limit 1 per day
  }

  rule chat {
    on message
    award 5
    limit 2 per day
    cap 5 per day
  }

  rule fine {
    on ad
    award -10
    limit 2 per day
  }

  rule answer {
    on answer
    award 50
    limit 2 per day
    budget 50 per day
  }

  redeem gifts {
    on redeem
    amount points
    minimum 10
    limit 1 per day
  }
}
"""


def test_an_event_that_earns_nothing_does_not_use_up_a_limit() -> None:
    """A 0 amount, a missing attribute and a division by zero leave the limit alone:
    the first two paying essays of the day still pay."""
    events = [
        _ev("zero", "essay", "ana", _at(2, 0), words=40),  # 0.4 -> 0: no record at all
        _ev("missing", "essay", "ana", _at(2, 1)),  # no `words`: refused, counts nothing
        _ev("e1", "essay", "ana", _at(2, 2), words=300),
        _ev("e2", "essay", "ana", _at(2, 3), words=500),
        _ev("e3", "essay", "ana", _at(2, 4), words=700),  # the third paying one: refused
        _ev("div", "ratio", "bo", _at(2, 0), words=0),  # division by zero: refused
        _ev("r1", "ratio", "bo", _at(2, 1), words=20),
    ]
    found = _by_event(incentive.compile(LIMITS).evaluate(events).records)
    assert "zero" not in found
    assert found["missing"] == [
        ("refused", None, "the event has no `words`, which the amount needs")
    ]
    assert found["e1"] == [("award", 3, "rule `essay`")]
    assert found["e2"] == [("award", 5, "rule `essay`")]
    assert found["e3"] == [("refused", None, "limit 2 per day reached")]
    assert found["div"] == [
        ("refused", None, "the amount cannot be computed: division by zero (`words` is 0)")
    ]
    assert found["r1"] == [("award", 5, "rule `ratio`")]


def test_an_event_the_day_limit_refuses_does_not_use_up_the_week_limit() -> None:
    """`limit 2 per day` with `limit 3 per week`: two refused on Monday leave the
    week with one place, which Tuesday's first essay takes."""
    events = [
        *(_ev(f"mon{i}", "essay", "ana", _at(2, i), words=100) for i in range(4)),
        _ev("tue0", "essay", "ana", _at(3, 0), words=100),
        _ev("tue1", "essay", "ana", _at(3, 1), words=100),
    ]
    found = _by_event(incentive.compile(LIMITS).evaluate(events).records)
    assert [found[f"mon{i}"][0][0] for i in range(4)] == ["award", "award", "refused", "refused"]
    assert found["mon3"] == [("refused", None, "limit 2 per day reached")]
    assert found["tue0"] == [("award", 1, "rule `essay`")]
    assert found["tue1"] == [("refused", None, "limit 3 per week reached")]


def test_an_event_that_earns_uses_up_the_limit_even_when_cut_or_refused_later() -> None:
    """Documented: the place is used when the event earns, even if a cap, the zero
    floor or a budget then takes the points."""
    events = [
        # cap 5 per day: the second message is refused by the cap, yet uses the limit
        _ev("m1", "message", "ana", _at(2, 0)),
        _ev("m2", "message", "ana", _at(2, 1)),
        _ev("m3", "message", "ana", _at(2, 2)),
        # a penalty on an empty balance is all cut, and still counts
        _ev("f1", "ad", "bo", _at(2, 0)),
        _ev("f2", "ad", "bo", _at(2, 1)),
        _ev("f3", "ad", "bo", _at(2, 2)),
        # budget 50 a day for everyone: cy takes it; dee's answers are refused by the
        # budget but use dee's limit (a budget never feeds back)
        _ev("a1", "answer", "cy", _at(2, 0)),
        _ev("a2", "answer", "dee", _at(2, 1)),
        _ev("a3", "answer", "dee", _at(2, 2)),
        _ev("a4", "answer", "dee", _at(2, 3)),
    ]
    found = _by_event(incentive.compile(LIMITS).evaluate(events).records)
    assert found["m1"] == [("award", 5, "rule `chat`")]
    assert found["m2"] == [("refused", 5, "cap 5 per day on rule `chat` reached")]
    assert found["m3"] == [("refused", None, "limit 2 per day reached")]
    assert [k for k, _, _ in found["f1"]] == [k for k, _, _ in found["f2"]] == ["cut"]
    assert found["f3"] == [("refused", None, "limit 2 per day reached")]
    assert found["a1"] == [("award", 50, "rule `answer`")]
    budget = "budget 50 points per day on rule `answer` reached"
    assert found["a2"] == found["a3"] == [("refused", 50, budget)]
    assert found["a4"] == [("refused", None, "limit 2 per day reached")]


def test_a_refused_redemption_does_not_use_up_the_redeem_limit() -> None:
    events = [
        _ev("a1", "answer", "ana", _at(2, 0)),
        _ev("r1", "redeem", "ana", _at(2, 1), points=2),  # below the minimum
        _ev("r2", "redeem", "ana", _at(2, 2), points=60),  # beyond the balance
        _ev("r3", "redeem", "ana", _at(2, 3), points=20),  # the day's first that passes
        _ev("r4", "redeem", "ana", _at(2, 4), points=10),
    ]
    result = incentive.compile(LIMITS).evaluate(events)
    found = _by_event(result.records)
    assert found["r1"] == [("refused", 2, "a redemption is at least 10")]
    assert found["r2"] == [("refused", 60, "the balance is 50")]
    assert found["r3"] == [("redeem", -20, "redeem `gifts`: 20 points spent")]
    assert found["r4"] == [("refused", 10, "limit 1 per day reached")]
    assert result.balances == {"ana": {"points": 30}}


# ---- rounding (reference.md, rounding) ---------------------------------------------------------


@pytest.mark.parametrize(
    "amount,down,up,nearest",
    [
        ("2.5", 2, 3, 3),
        ("3.5", 3, 4, 4),  # half-even would give 4 here but 2 above: both are checked
        ("0.5", 0, 1, 1),
        ("2.4", 2, 3, 2),
        ("2.6", 2, 3, 3),
        ("2.49999", 2, 3, 2),
        ("-2.5", -3, -2, -3),  # halves go away from zero
        ("-3.5", -4, -3, -4),
        ("-0.5", -1, 0, -1),
        ("-2.4", -3, -2, -2),
        ("-2.6", -3, -2, -3),
        ("7", 7, 7, 7),
        ("-7", -7, -7, -7),
    ],
)
def test_to_points_rounds_as_the_table_says(amount: str, down: int, up: int, nearest: int) -> None:
    """down = floor, up = ceiling, nearest = halves away from zero (ROUND_HALF_UP)."""
    value = Decimal(amount)
    assert (to_points(value, "down"), to_points(value, "up"), to_points(value, "nearest")) == (
        down,
        up,
        nearest,
    )


ROUNDING = """scheme "rounding" {
  rule bonus {
    on essay
    award half / 2 round nearest
    limit 1 per day
  }

  rule fine_nearest {
    on ad
    award -half / 2 round nearest
    limit 1 per day
  }

  rule fine_up {
    on ad_up
    award -half / 2 round up
    limit 1 per day
  }

  rule fine_down {
    on ad_down
    award -half / 2 round down
    limit 1 per day
  }
}
"""


@pytest.mark.parametrize(
    "kind,half,paid",
    [
        ("essay", 5, 3),  # 2.5
        ("essay", 7, 4),  # 3.5
        ("essay", 1, 1),  # 0.5
        ("essay", 9, 5),  # 4.5
        ("ad", 5, -3),  # -2.5
        ("ad", 7, -4),  # -3.5
        ("ad", 1, -1),  # -0.5
        ("ad_up", 5, -2),  # -2.5 toward plus infinity
        ("ad_up", 1, None),  # -0.5 up is 0: no award, no record
        ("ad_down", 5, -3),  # -2.5 toward minus infinity: a larger penalty
        ("ad_down", 7, -4),
    ],
)
def test_an_award_is_rounded_the_way_it_says(kind: str, half: int, paid: int | None) -> None:
    """Through the engine: the points a rule proposes, after rounding. A penalty is
    taken from a balance of 100 so the zero floor does not hide what it asked."""
    program = incentive.compile(
        ROUNDING.replace(
            'scheme "rounding" {',
            'scheme "rounding" {\n  grants gift { on grant allowance 100 per day }',
        )
    )
    events = [
        _ev("g", "grant", "ana", _at(2, 0), by="li", points=100),
        _ev("e", kind, "ana", _at(2, 1), half=half),
    ]
    found = _by_event(program.evaluate(events).records)
    assert [points for _, points, _ in found.get("e", [])] == ([] if paid is None else [paid])


# ---- season-end ranks pay once (reference.md, periods and ranks without `on`) -----------------

# A rank by points comes before `early` in the file: at the season's end both close at
# one instant, in file order, and `early`'s award then counts toward the period that
# has just closed. That period must not open and pay again. (One rank by points per
# scheme: two would count each other's awards, and a period paid twice would feed the
# other's forever.)
SEASON_END = """scheme "season end" {
  season 2026-03-02 to 2026-03-10

  rule checkin {
    on checkin
    award 5
    limit 1 per day
  }

  rule star {
    top 1 per PERIOD by points
    award 10
  }

  rule early {
    on checkin
    top 1 per day by earliest
    award 3
  }
}
"""
SEASON_EVENTS = [
    _ev("c1", "checkin", "ana", "2026-03-02T08:00:00"),
    _ev("c2", "checkin", "bo", "2026-03-02T09:00:00"),
    _ev("c3", "checkin", "ana", "2026-03-09T08:00:00"),
    _ev("c4", "checkin", "bo", "2026-03-10T07:00:00"),  # bo is first on the last day
    _ev("c5", "checkin", "ana", "2026-03-10T08:00:00"),
]
END = "2026-03-11T00:00:00+00:00"  # the end of the season's last day
# Per period: (rule, member, points, at) of every rank award, each period paid once.
SEASON_RANKS = {
    "week": [
        ("early", "ana", 3, "2026-03-03T00:00:00+00:00"),
        ("star", "ana", 10, "2026-03-09T00:00:00+00:00"),  # week of 03-02: ana 8, bo 5
        ("early", "ana", 3, "2026-03-10T00:00:00+00:00"),
        ("star", "ana", 10, END),  # the week of 03-09, cut short: ana 13, bo 5
        ("early", "bo", 3, END),  # too late for the week
    ],
    "season": [
        ("early", "ana", 3, "2026-03-03T00:00:00+00:00"),
        ("early", "ana", 3, "2026-03-10T00:00:00+00:00"),
        ("star", "ana", 10, END),  # ana 21, bo 10
        ("early", "bo", 3, END),  # too late for the season
    ],
}
SEASON_BALANCES = {
    "week": {"ana": {"points": 41}, "bo": {"points": 13}},
    "season": {"ana": {"points": 31}, "bo": {"points": 13}},
}


def _ranks(records: list[Record]) -> list[tuple[str | None, str | None, int | None, str | None]]:
    return [(r.rule, r.member, r.points, r.at) for r in records if r.kind == "rank"]


@pytest.mark.parametrize("period", ["week", "season"])
def test_a_period_the_season_end_closes_is_paid_once(period: str) -> None:
    program = incentive.compile(SEASON_END.replace("PERIOD", period))
    result = program.evaluate(SEASON_EVENTS)
    assert _ranks(result.records) == SEASON_RANKS[period]
    assert result.balances == SEASON_BALANCES[period]


@pytest.mark.parametrize("period", ["week", "season"])
def test_nothing_after_the_season_end_pays_its_periods_again(period: str) -> None:
    """Streaming: advancing past the end, a later event and the end of input pay
    nothing more for the periods the season's end closed."""
    session = incentive.compile(SEASON_END.replace("PERIOD", period)).session()
    records = [r for event in SEASON_EVENTS for r in session.feed(event)]
    records += session.advance_to(datetime(2026, 3, 11, 0, 0))
    assert _ranks(records) == SEASON_RANKS[period]
    assert session.advance_to(datetime(2026, 3, 11, 0, 0)) == []  # the close replayed
    assert session.advance_to(datetime(2026, 3, 20, 0, 0)) == []
    after = session.feed(_ev("c6", "checkin", "bo", "2026-03-21T08:00:00"))
    assert [r.kind for r in after] == ["outside_season"]
    assert session.close_all() == []
    assert session.balances() == SEASON_BALANCES[period]


# ---- budgets (reference.md, budgets) -------------------------------------------------------------

BUDGET = """scheme "budget" {
  group chat {
    budget 3 per day
  }

  rule message {
    on message
    award 1
    group chat
    uncapped
  }

  rule post {
    on post
    award 2
    group chat
    uncapped
  }

  rule deleted {
    on deleted
    award -1
    group chat
  }
}
"""


def test_a_budget_counts_one_point_awards_and_a_penalty_gives_nothing_back() -> None:
    """Found by mutmut: a 1-point award skipping the budget, a penalty giving budget
    back, and a budget's `cut` record with its fields left out all survived."""
    events = [
        _ev("m1", "message", "ana", _at(2, 0)),
        _ev("m2", "message", "ana", _at(2, 1)),
        _ev("d1", "deleted", "ana", _at(2, 2)),  # takes 1 from ana, not from the budget
        _ev("p1", "post", "bo", _at(2, 3)),  # 1 of 2 left in the budget
        _ev("m3", "message", "bo", _at(2, 4)),
    ]
    result = incentive.compile(BUDGET).evaluate(events)
    reason = "budget 3 points per day on group `chat` reached"
    assert [r.to_json() for r in result.records if r.events[0] in ("p1", "m3")] == [
        Record(kind="award", at="2026-03-02T10:03:00+00:00", member="bo", rule="post",
               points=1, currency="points", balance=1, events=("p1",), code="rule",
               reason="rule `post`").to_json(),
        Record(kind="cut", at="2026-03-02T10:03:00+00:00", member="bo", rule="post",
               points=1, currency="points", events=("p1",), code="budget_reached",
               reason=f"{reason}: 1 of 2 paid").to_json(),
        Record(kind="refused", at="2026-03-02T10:04:00+00:00", member="bo", rule="message",
               points=1, currency="points", events=("m3",), code="budget_reached",
               reason=reason).to_json(),
    ]  # fmt: skip
    assert result.balances == {"ana": {"points": 1}, "bo": {"points": 1}}


# ---- rank awards and expiry ----------------------------------------------------------------

RANK_EXPIRY = """scheme "rank expiry" {
  expire after 2 days

  rule checkin {
    on checkin
    award 5
    limit 1 per day
  }

  rule early {
    on checkin
    top 1 per day by earliest
    award 3
  }
}
"""


def test_a_rank_award_expires_with_the_points_of_the_day_it_pays_for() -> None:
    """semantics.md: rank awards belong to the period they pay for, for expiry too
    ("points for day D expire like any other points earned on D"). Day 2 March's
    check-in and its early bonus (paid at midnight) both expire at the end of 4 March."""
    session = incentive.compile(RANK_EXPIRY).session()
    records = session.feed(_ev("c1", "checkin", "ana", "2026-03-02T08:00:00"))
    records += session.advance_to(datetime(2026, 3, 7, 0, 0))
    expiries = [(r.at, r.points) for r in records if r.kind == "expiry"]
    # (before the fix: -5 at 03-05 and the bonus's -3 a day later, at 03-06)
    assert expiries == [("2026-03-05T00:00:00+00:00", -8)]
