"""Transfers between members (`transfer` blocks): both sides move or neither does.

Every case runs on both evaluators and must give the same records.
"""

from __future__ import annotations

from typing import Any

import pytest

import incentive
from incentive.records import LEDGER_KINDS, Record

GROUP = """scheme "Group" {
  currency coins
  expire after 3 days

  rule checkin {
    on checkin
    award 50
    limit 1 per day
  }

  redeem gifts {
    on redeem
    amount points
  }

  transfer tips {
    on tip
    to receiver
    amount points
    minimum 5
    maximum 40
    limit 2 per day
    cap 60 per day
    receive 45 per day
    keep 10
    where not (receiver in ["bot"])
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


def checkin(member: str, at: str) -> dict[str, Any]:
    return {"type": "checkin", "member": member, "at": at, "id": f"c-{member}-{at}"}


def tip(n: int, sender: str, receiver: Any, points: Any, at: str) -> dict[str, Any]:
    event = {"type": "tip", "member": sender, "at": at, "id": f"t{n}", "points": points}
    if receiver is not None:
        event["receiver"] = receiver
    return event


def _balances(records: list[Record]) -> dict[str, int]:
    return {r.member or "": r.points or 0 for r in records if r.kind == "balance"}


def test_a_tip_moves_points_from_the_sender_to_the_receiver() -> None:
    records = _run(
        GROUP,
        [checkin("ana", "2026-03-02T09:00:00"), tip(1, "ana", "bo", 30, "2026-03-02T10:00:00")],
    )
    moved = [(r.kind, r.member, r.points, r.balance) for r in records if r.kind == "transfer"]
    assert moved == [("transfer", "ana", -30, 20), ("transfer", "bo", 30, 30)]
    assert [r.reason for r in records if r.kind == "transfer"] == [
        "transfer `tips`: 30 coins to `bo`",
        "transfer `tips`: 30 coins from `ana`",
    ]
    assert _balances(records) == {"ana": 20, "bo": 30}
    for member, balance in _balances(records).items():  # the ledger adds up on both sides
        assert (
            sum(r.points or 0 for r in records if r.kind in LEDGER_KINDS and r.member == member)
            == balance
        )


def test_refused_transfers_say_why_and_move_nothing() -> None:
    events = [checkin("ana", "2026-03-02T09:00:00"), checkin("bo", "2026-03-02T09:00:00")]
    tips = [
        ("ana", None, 10, "the event has no `receiver`: who receives the points"),
        ("ana", "ana", 10, "`ana` cannot transfer to themselves"),
        ("ana", "bo", 7.5, "`points` must be a whole number of points above 0, not 7.5"),
        ("ana", "bo", 3, "a transfer is at least 5"),
        ("ana", "bo", 45, "a transfer is at most 40"),
        ("ana", "bot", 10, "transfer `tips`: its `where` condition does not hold"),
        ("cy", "bo", 10, "a sender keeps 10; the balance is 0"),
        ("ana", "cy", 30, None),  # passes: ana 20, cy 30
        ("bo", "cy", 20, "`cy` receives at most 45 per day; 15 left"),
        ("ana", "cy", 5, None),  # ana's second transfer today: ana 15
        ("ana", "bo", 6, "a sender keeps 10; the balance is 15"),
        ("ana", "bo", 5, "limit 2 per day reached for the sender"),
    ]
    for n, (sender, receiver, points, _) in enumerate(tips):
        events.append(tip(n, sender, receiver, points, f"2026-03-02T10:{n:02d}:00"))
    records = _run(GROUP, events)
    said = [r.reason for r in records if r.rule == "tips" and r.kind == "refused"]
    assert said == [why for *_, why in tips if why is not None]
    assert _balances(records) == {"ana": 15, "bo": 50, "cy": 35}


def test_a_sender_cap_counts_points_per_period() -> None:
    scheme = GROUP.replace("limit 2 per day", "limit 5 per day").replace("keep 10", "keep 0")
    records = _run(
        scheme,
        [
            checkin("ana", "2026-03-02T09:00:00"),
            tip(1, "ana", "bo", 30, "2026-03-02T10:00:00"),
            tip(2, "ana", "cy", 5, "2026-03-02T10:01:00"),
            checkin("ana", "2026-03-03T09:00:00"),  # 65
            tip(3, "ana", "cy", 30, "2026-03-03T10:00:00"),
            tip(4, "ana", "bo", 25, "2026-03-03T10:01:00"),
            tip(5, "ana", "dee", 6, "2026-03-03T10:02:00"),  # 61 of 60 today
        ],
    )
    assert [r.reason for r in records if r.kind == "refused"] == [
        "a sender sends at most 60 per day; 5 left"
    ]


def test_a_transfer_racing_a_redemption_is_refused_when_the_balance_is_gone() -> None:
    scheme = GROUP.replace("keep 10", "keep 0")
    at = "2026-03-02T10:00:00"
    records = _run(
        scheme,
        [
            checkin("ana", "2026-03-02T09:00:00"),
            {"type": "redeem", "member": "ana", "at": at, "id": "r1", "points": 40},
            tip(1, "ana", "bo", 20, at),  # the same instant: input order decides
        ],
    )
    assert [(r.kind, r.reason) for r in records if r.member == "ana"][1:-1] == [
        ("redeem", "redeem `gifts`: 40 coins spent"),
        ("refused", "the balance is 10"),
    ]
    assert _balances(records) == {"ana": 10}  # bo received nothing


def test_the_receiver_gets_a_lot_of_the_transfer_day_and_the_sender_spends_oldest_first() -> None:
    program = incentive.compile(GROUP)
    session = program.session(engine="interpreter")
    for item in [
        checkin("ana", "2026-03-02T09:00:00"),
        checkin("ana", "2026-03-03T09:00:00"),
        tip(1, "ana", "bo", 40, "2026-03-03T10:00:00"),
    ]:
        session.feed(item)
    ana, bo = session.state.members["ana"], session.state.members["bo"]
    assert [lot[0] for lot in ana.lots["coins"]] == [10, 50]  # the 2nd's first
    assert [(lot[0], lot[1]) for lot in bo.lots["coins"]] == [(40, "2026-03-07T00:00:00+00:00")]


@pytest.mark.parametrize(
    ("block", "code"),
    [
        ("transfer t { to receiver amount points }", "E0210"),
        ("transfer t { on tip amount points }", "E0245"),
        ("transfer t { on tip to receiver }", "E0245"),
        ("transfer t { on tip to receiver amount points keep 1 keep 2 }", "E0212"),
        ("transfer t { on tip to r amount p cap 5 per day cap 6 per day }", "E0214"),
        ("transfer t { on tip to r amount p minimum 9 maximum 3 }", "E0214"),
        ("transfer t { on tip to r amount p receive 0 per day }", "E0213"),
        ("transfer t { on tip to r amount p nope }", "E0207"),
    ],
)
def test_transfer_blocks_are_checked(block: str, code: str) -> None:
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(f'scheme "s" {{\n  {block}\n}}\n')
    assert code in [d.code for d in err.value.diagnostics]


def test_a_transfer_block_formats_and_parses_back() -> None:
    text = incentive.fmt(GROUP)
    assert "  transfer tips {\n    on tip\n    to receiver\n    amount points\n" in text
    assert incentive.fmt(text) == text
