"""The dry-run report's totals, checked against the run's own records."""

from __future__ import annotations

from typing import Any

import incentive
from incentive.report import build_report

# Every way points are paid: a per-event award, a rank award and a grant; and
# every way they leave: a redemption and an expiry.
SCHEME = """scheme "paid" {
  currency coins

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

  grants thanks {
    on grant
    allowance 50 per day
  }

  redeem gifts {
    on redeem
    amount points
  }

  expire after 2 days
}
"""
EVENTS: list[dict[str, Any]] = [
    {"id": "c1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"},
    {"id": "c2", "type": "checkin", "member": "bo", "at": "2026-03-02T09:00:00"},
    {"id": "g1", "type": "grant", "member": "bo", "at": "2026-03-02T10:00:00", "by": "li",
     "points": 7},
    {"id": "r1", "type": "redeem", "member": "bo", "at": "2026-03-02T11:00:00", "points": 4},
    {"id": "c3", "type": "checkin", "member": "ana", "at": "2026-03-10T08:00:00"},
]  # fmt: skip


def test_the_paid_total_counts_awards_ranks_and_grants() -> None:
    program = incentive.compile(SCHEME)
    result = program.evaluate(EVENTS)
    report = build_report(program, result)
    paid_records = [
        r for r in result.records if r.kind in ("award", "rank", "grant") and (r.points or 0) > 0
    ]
    # what the run paid, by kind: three check-ins, two early bonuses, one grant
    by_kind = {k: sum(r.points or 0 for r in paid_records if r.kind == k) for k in
               ("award", "rank", "grant")}  # fmt: skip
    assert by_kind == {"award": 15, "rank": 6, "grant": 7}
    coins = report["currencies"]["coins"]
    assert coins["paid"] == 15 + 6 + 7
    assert coins["spent"] == 4
    assert coins["expired"] == 5 + 3 + 5 + 7 - 4  # everything from 2 March, unspent
    # what was paid, less what left, is what members hold
    assert coins["paid"] - coins["spent"] - coins["expired"] == coins["outstanding"]
    assert coins["outstanding"] == sum(b["coins"] for b in result.balances.values()) == 5 + 3
    assert report["rules"] == [
        {"rule": "checkin", "currency": "coins", "paid": 15},
        {"rule": "early", "currency": "coins", "paid": 6},
        {"rule": "thanks", "currency": "coins", "paid": 7},
    ]
    # a rank award is dated at its day's close (midnight) but belongs to that day
    assert report["per_day"] == {"2026-03-02": {"coins": 20}, "2026-03-10": {"coins": 8}}
    top = report["distribution"]["coins"]["top"]
    assert top == [{"member": "ana", "earned": 16}, {"member": "bo", "earned": 12}]
