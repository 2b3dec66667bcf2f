"""Expiry rounded up to a period's end, and penalties that carry their reason.

Every case runs on both evaluators and must give the same records.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import incentive
from incentive.ledger import later
from incentive.records import Record


def _run(scheme: str, events: list[dict[str, Any]]) -> list[Record]:
    program = incentive.compile(scheme)
    outputs = [program.evaluate(events, engine=e).records for e in ("interpreter", "compiled")]
    assert [r.to_json() for r in outputs[1]] == [r.to_json() for r in outputs[0]]
    return outputs[0]


def _scheme(expire: str) -> str:
    return (
        'scheme "s" {\n  currency coins\n  timezone "Asia/Shanghai"\n'
        f"  {expire}\n  rule buy {{ on order award 10 }}\n}}\n"
    )


@pytest.mark.parametrize(
    ("expire", "earned", "expires"),
    [
        # valid through the end of next year
        ("expire after 1 years at end of year", "2026-03-02T10:00:00", "2028-01-01T00:00:00+08:00"),
        ("expire after 1 years at end of year", "2026-12-31T23:00:00", "2028-01-01T00:00:00+08:00"),
        # until the end of the month after next
        (
            "expire after 2 months at end of month",
            "2026-03-31T10:00:00",
            "2026-06-01T00:00:00+08:00",
        ),
        (
            "expire after 2 months at end of month",
            "2026-12-15T10:00:00",
            "2027-03-01T00:00:00+08:00",
        ),
        # a span without rounding ends with its last local day
        ("expire after 3 weeks", "2026-03-02T10:00:00", "2026-03-24T00:00:00+08:00"),
        ("expire after 1 months", "2026-01-31T10:00:00", "2026-03-01T00:00:00+08:00"),
        ("expire after 10 days at end of week", "2026-03-02T10:00:00", "2026-03-16T00:00:00+08:00"),
    ],
)
def test_expiry_is_rounded_up_to_a_period_end(expire: str, earned: str, expires: str) -> None:
    events = [
        {"type": "order", "member": "ana", "at": earned, "id": "o1"},
        {"type": "order", "member": "ana", "at": "2028-06-01T10:00:00", "id": "o2"},  # time moves
    ]
    records = _run(_scheme(expire), events)
    (expiry,) = [r for r in records if r.kind == "expiry"]
    assert (expiry.at, expiry.points) == (expires, -10)
    assert expiry.reason == f"10 coins expired ({expire})"


def test_months_and_years_are_calendar_months_and_years() -> None:
    assert later(date(2026, 1, 31), 1, "month") == date(2026, 2, 28)
    assert later(date(2024, 2, 29), 1, "year") == date(2025, 2, 28)
    assert later(date(2026, 11, 30), 3, "month") == date(2027, 2, 28)
    assert later(date(2026, 3, 2), 2, "week") == date(2026, 3, 16)


def test_the_unit_is_plural_and_a_singular_gets_a_hint() -> None:
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(_scheme("expire after 1 year at end of year"))
    assert "did you mean `years`?" in err.value.render()
    text = incentive.fmt(_scheme("expire after 1 years at end of year"))
    assert "  expire after 1 years at end of year\n" in text
    assert incentive.fmt(text) == text


MODERATION = """scheme "Group" {
  currency coins

  rule chat {
    on message
    award 5
    limit 3 per day
  }

  rule moderation {
    on penalty
    award -points
    reason note
  }
}
"""


def test_a_penalty_carries_the_moderators_reason_into_its_record() -> None:
    records = _run(
        MODERATION,
        [
            {"type": "message", "member": "ana", "at": "2026-03-02T09:00:00", "id": "m1"},
            {"type": "penalty", "member": "ana", "at": "2026-03-02T10:00:00", "id": "p1",
             "points": 3, "note": "an ad without a red packet", "by": "li"},
            {"type": "penalty", "member": "ana", "at": "2026-03-02T11:00:00", "id": "p2",
             "points": 5, "note": "spam"},
            {"type": "penalty", "member": "ana", "at": "2026-03-02T12:00:00", "id": "p3",
             "points": 1},
        ],
    )  # fmt: skip
    said = [(r.kind, r.points, r.reason) for r in records if r.rule == "moderation"]
    assert said == [
        ("award", -3, "rule `moderation`: an ad without a red packet"),
        ("award", -2, "rule `moderation`: spam"),
        ("cut", 3, "a balance cannot go below zero: 2 of 5 taken"),
        ("cut", 1, "a balance cannot go below zero: 0 of 1 taken"),
    ]


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("rule r { on x award 5 reason a reason b }", "E0212"),
        ("rule r { on x top 3 per day by count award 5 reason note }", "E0247"),
        ("rule r { on x milestone count at 3 award 5 reason note }", "E0247"),
    ],
)
def test_reason_is_checked(rule: str, code: str) -> None:
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(f'scheme "s" {{\n  {rule}\n}}\n')
    assert code in [d.code for d in err.value.diagnostics]
