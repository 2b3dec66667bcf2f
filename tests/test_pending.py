"""Pending points (`pending N days`): held through a return window, then spendable.

Every case runs on both evaluators and must give the same records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

import incentive
from incentive.analysis import progress
from incentive.records import LEDGER_KINDS, Record

SHOP = """scheme "Shop" {
  currency coins
  timezone "Asia/Shanghai"
  expire after 2 days

  rule buy {
    on order
    award amount / 10
    cap 100 per day
    pending 7 days
  }

  rule checkin {
    on checkin
    award 5
    limit 1 per day
    pending 1 days
  }

  redeem gifts {
    on redeem
    amount points
  }

  reverse refunds {
    on refund
    by order
    within 30 days
  }
}
"""


def _run(scheme: str, events: list[dict[str, Any]]) -> list[Record]:
    program = incentive.compile(scheme)
    outputs = []
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(events, engine=engine)
        outputs.append(result.records + result.session.balance_records())
    assert [r.to_json() for r in outputs[1]] == [r.to_json() for r in outputs[0]]
    return outputs[0]


def ev(kind: str, n: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "member": "ana", "at": at, "id": n, **fields}


def test_held_points_are_not_spendable_until_their_release() -> None:
    records = _run(
        SHOP,
        [
            ev("order", "o1", "2026-03-02T10:00:00", amount=600),
            ev("redeem", "r1", "2026-03-05T10:00:00", points=60),  # still held
            ev("redeem", "r2", "2026-03-10T10:00:00", points=60),  # released at 03-10 00:00
        ],
    )
    shown = [(r.kind, r.at, r.points, r.balance, r.pending) for r in records]
    assert shown == [
        ("pending", "2026-03-02T10:00:00+08:00", 60, 0, 60),
        ("refused", "2026-03-05T10:00:00+08:00", 60, None, None),
        ("release", "2026-03-10T00:00:00+08:00", 60, 60, 0),
        ("redeem", "2026-03-10T10:00:00+08:00", -60, 0, None),
        ("balance", None, 0, 0, None),
    ]
    assert (
        records[0].reason == "rule `buy`: spendable from 2026-03-10T00:00:00+08:00 (pending 7 days)"
    )
    # the ledger (awards, releases, spending) sums to the balance: held points are not in it
    assert sum(r.points or 0 for r in records if r.kind in LEDGER_KINDS) == 0


def test_a_reversal_before_the_release_cancels_and_after_it_takes_back() -> None:
    records = _run(
        SHOP,
        [
            ev("order", "o1", "2026-03-02T10:00:00", amount=300),
            ev("order", "o2", "2026-03-02T11:00:00", amount=200),
            ev("refund", "f1", "2026-03-04T10:00:00", order="o1"),  # within the window
            ev("refund", "f2", "2026-03-10T10:00:00", order="o2"),  # released already
        ],
    )
    shown = [(r.kind, r.points, r.balance, r.pending) for r in records if r.kind != "balance"]
    assert shown == [
        ("pending", 30, 0, 30),
        ("pending", 20, 0, 50),
        ("cancelled", 30, 0, 20),
        ("release", 20, 20, 0),
        ("reversal", -20, 0, None),
    ]


def test_released_points_expire_counted_from_their_release() -> None:
    events = [ev("checkin", "c1", "2026-03-02T10:00:00"), ev("order", "o1", "2026-03-08T10:00:00")]
    records = _run(SHOP, events)
    dated = [(r.kind, r.at) for r in records if r.rule != "buy" and r.kind != "balance"]
    # held 1 day (to the end of 03-03), then expire 2 days after their release day
    assert dated == [
        ("pending", "2026-03-02T10:00:00+08:00"),
        ("release", "2026-03-04T00:00:00+08:00"),
        ("expiry", "2026-03-07T00:00:00+08:00"),
    ]


def test_the_balance_records_and_explain_show_what_is_held() -> None:
    program = incentive.compile(SHOP)
    events = [
        ev("order", "o1", "2026-03-02T10:00:00", amount=300),
        ev("checkin", "c1", "2026-03-02T11:00:00"),
    ]
    result = program.evaluate(events)
    (balance,) = result.session.balance_records()
    assert (balance.points, balance.pending) == (0, 35)
    steps = [step.text() for step in progress(program, result, "ana")]
    assert steps == [  # in the order they are released
        "pending `checkin`: 5 coins held; next: spendable from 2026-03-04T00:00:00+08:00",
        "pending `buy`: 30 coins held; next: spendable from 2026-03-10T00:00:00+08:00",
    ]


def test_streaming_releases_when_told_the_time() -> None:
    program = incentive.compile(SHOP)
    for engine in ("interpreter", "compiled"):
        session = program.session(engine=engine)
        session.feed(ev("order", "o1", "2026-03-02T10:00:00", amount=300))
        assert (session.balance("ana"), session.pending("ana")) == (0, 30)
        assert session.advance_to(datetime(2026, 3, 9, 23, 59)) == []
        (released,) = session.advance_to(datetime(2026, 3, 10, 0, 0))
        assert (released.kind, released.balance) == ("release", 30)


def test_caps_and_limits_see_the_points_when_earned() -> None:
    records = _run(
        SHOP,
        [
            ev("order", "o1", "2026-03-02T10:00:00", amount=800),
            ev("order", "o2", "2026-03-02T11:00:00", amount=800),  # the cap: 20 of 80
        ],
    )
    assert [(r.kind, r.points) for r in records if r.rule == "buy"][:3] == [
        ("pending", 80),
        ("pending", 20),
        ("cut", 60),
    ]


def test_a_constant_award_held_goes_through_the_ledger_on_both_evaluators() -> None:
    scheme = 'scheme "s" {\n  rule c {\n    on checkin\n    award 5\n    pending 2 days\n  }\n}\n'
    records = _run(scheme, [ev("checkin", f"c{i}", f"2026-03-0{i}T09:00:00") for i in range(1, 6)])
    # the end of input closes the last day (03-05): what is released by then is released
    assert [r.kind for r in records].count("release") == 3
    assert records[-1].to_dict() == {
        "kind": "balance",
        "member": "ana",
        "points": 15,
        "currency": "points",
        "balance": 15,
        "pending": 10,
    }


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("rule r { on checkin award 5 pending 0 days }", "E0213"),
        ("rule r { on checkin award 5 pending 2 days pending 3 days }", "E0212"),
        ('rule r { on checkin inactive 3 days flag "idle" pending 2 days }', "E0244"),
    ],
)
def test_pending_is_checked(rule: str, code: str) -> None:
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(f'scheme "s" {{\n  {rule}\n}}\n')
    assert code in [d.code for d in err.value.diagnostics]
