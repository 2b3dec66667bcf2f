"""Reversals (`reverse` blocks): a refund takes back exactly what an order paid.

Every case runs on both evaluators and must give the same records; the checks
are on the interpreter's (the reference).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive.records import LEDGER_KINDS, Record

SHOP = """scheme "Shop" {
  currency coins
  rule buy {
    on order
    award amount / 10
    cap 100 per day
    limit 3 per day
  }
  rule fifth {
    on order
    milestone count
    at 2 award 7
  }
  rule spam {
    on spam
    award -20
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
    runs = [program.evaluate(events, engine=engine) for engine in ("interpreter", "compiled")]
    reference, compiled = ([r.to_json() for r in run.records] for run in runs)
    assert compiled == reference  # byte-identical records
    return runs[0].records


def order(n: int, at: str, amount: int, member: str = "ana") -> dict[str, Any]:
    return {"type": "order", "member": member, "at": at, "id": f"o{n}", "amount": amount}


def refund(n: int, at: str, of: str, member: str = "ana") -> dict[str, Any]:
    return {"type": "refund", "member": member, "at": at, "id": f"f{n}", "order": of}


def _ledger_sum(records: list[Record], member: str = "ana") -> int:
    return sum(r.points or 0 for r in records if r.kind in LEDGER_KINDS and r.member == member)


def _last_balance(records: list[Record], member: str = "ana") -> int | None:
    paid = [r for r in records if r.kind in LEDGER_KINDS and r.member == member]
    return paid[-1].balance if paid else None


def test_a_capped_order_is_reversed_for_what_it_paid_not_what_it_asked() -> None:
    records = _run(
        SHOP,
        [
            order(1, "2026-03-01T09:00", 200),  # 20
            order(2, "2026-03-01T10:00", 3000),  # asks 300, cut to 80 by the cap
            refund(1, "2026-03-02T10:00", "o2"),
        ],
    )
    reversal = [r for r in records if r.kind == "reversal"]
    # o2 paid 80 (after the cap) and the milestone's 7: both, and only they, come back
    assert [(r.points, r.balance, r.events) for r in reversal] == [
        (-80, 27, ("f1", "o2")),
        (-7, 20, ("f1", "o2")),
    ]
    assert _ledger_sum(records) == 20


def test_a_reversal_gives_back_the_limit_and_the_cap_of_a_period_still_open() -> None:
    records = _run(
        SHOP,
        [
            order(1, "2026-03-01T09:00", 1000),  # 100: the cap is full
            refund(1, "2026-03-01T09:30", "o1"),
            order(2, "2026-03-01T10:00", 500),  # the cap has room again: 50
            order(3, "2026-03-01T11:00", 10),  # 1; limit 3 per day: o1 no longer counts
            order(4, "2026-03-01T12:00", 10),  # the third that counts: 1
            order(5, "2026-03-01T13:00", 10),  # refused: limit 3 per day reached
        ],
    )
    buy = [(r.kind, r.points) for r in records if r.rule == "buy"]
    assert buy == [("award", 100), ("award", 50), ("award", 1), ("award", 1), ("refused", None)]


def test_a_milestone_reached_by_a_reversed_event_pays_again_when_reached_again() -> None:
    records = _run(
        SHOP,
        [
            order(1, "2026-03-01T09:00", 10),
            order(2, "2026-03-01T10:00", 10),  # the second order: milestone 7
            refund(1, "2026-03-01T11:00", "o2"),  # takes back 1 and the 7
            order(3, "2026-03-01T12:00", 10),  # the second order again: 7 again
            order(4, "2026-03-01T13:00", 10),  # the third: nothing more
        ],
    )
    fifth = [(r.kind, r.points, r.events) for r in records if r.rule == "fifth"]
    assert fifth == [("award", 7, ("o2",)), ("award", 7, ("o3",))]
    assert _ledger_sum(records) == 1 + 1 + 7 + 1


def test_spent_points_are_written_off_unless_the_scheme_keeps_a_debt() -> None:
    events = [
        order(1, "2026-03-01T09:00", 1000),  # 100
        {"type": "redeem", "member": "ana", "at": "2026-03-01T10:00", "id": "r1", "points": 90},
        refund(1, "2026-03-02T10:00", "o1"),
        order(2, "2026-03-02T11:00", 500),  # 50
    ]
    written_off = _run(SHOP, events)
    assert [(r.kind, r.points, r.balance) for r in written_off if r.rule == "refunds"] == [
        ("reversal", -10, 0),
        ("cut", 90, 0),
    ]
    assert _last_balance(written_off) == 50
    owed = _run(SHOP.replace("within 30 days", "within 30 days\n    debt"), events)
    assert [(r.kind, r.points, r.balance) for r in owed if r.rule == "refunds"] == [
        ("reversal", -100, -90)
    ]
    # the next award repays the debt first: the balance is the sum of the records
    assert _last_balance(owed) == -40 == _ledger_sum(owed)
    session = incentive.compile(SHOP.replace("within 30 days", "within 30 days\n    debt"))
    live = session.session(engine="interpreter")
    for item in events:
        live.feed(item)
    state = live.state.members["ana"]
    assert state.debts == {"coins": 40} and state.lots.get("coins", []) == []


def test_expired_points_cannot_be_taken_back_twice() -> None:
    scheme = SHOP.replace("currency coins\n", "currency coins\n  expire after 1 days\n")
    records = _run(
        scheme,
        [order(1, "2026-03-01T09:00", 1000), refund(1, "2026-03-05T10:00", "o1")],
    )
    kinds = [(r.kind, r.points) for r in records if r.kind in ("expiry", "reversal", "cut")]
    assert kinds == [("expiry", -100), ("cut", 100)]
    assert _ledger_sum(records) == 0


def test_what_cannot_be_reversed_says_why() -> None:
    records = _run(
        SHOP,
        [
            order(1, "2026-03-01T09:00", 100),
            order(1, "2026-03-01T09:00", 100),  # a duplicate line: skipped, paid once
            refund(1, "2026-03-01T10:00", "o1", member="bo"),  # not bo's order
            refund(2, "2026-03-01T11:00", "o1"),
            refund(3, "2026-03-01T12:00", "o1"),  # twice
            refund(4, "2026-03-01T13:00", "o9"),  # never seen
            {"type": "refund", "member": "ana", "at": "2026-03-01T14:00", "id": "f5"},
            order(2, "2026-03-01T15:00", 0),  # paid nothing
            refund(6, "2026-03-01T16:00", "o2"),
            order(3, "2026-03-01T17:00", 100),
            refund(7, "2026-04-05T10:00", "o3"),  # 35 days later: beyond the window
        ],
    )
    said = [(r.kind, r.points, r.reason) for r in records if r.rule == "refunds"]
    assert said == [
        ("refused", None, "event `o1` was `ana`'s, not `bo`'s"),
        (
            "reversal",
            -10,
            "reverse `refunds`: event `o1` paid 10 coins from `buy`: taken back",
        ),
        ("refused", None, "event `o1` was already reversed"),
        ("refused", None, "event `o9` was not paid in the last 30 days: nothing to reverse"),
        ("refused", None, "the event has no `order`: the id of the event to reverse"),
        (
            "reversal",
            0,
            "reverse `refunds`: event `o2` paid nothing; what it counted is given back",
        ),
        ("refused", None, "event `o3` was not paid in the last 30 days: nothing to reverse"),
    ]
    assert [r.kind for r in records].count("duplicate") == 1


def test_a_reversed_penalty_gives_its_points_back() -> None:
    records = _run(
        SHOP,
        [
            order(1, "2026-03-01T09:00", 150),  # 15
            {"type": "spam", "member": "ana", "at": "2026-03-01T10:00", "id": "s1"},
            refund(1, "2026-03-01T11:00", "s1"),
        ],
    )
    moved = [(r.kind, r.points, r.balance) for r in records if r.kind in LEDGER_KINDS | {"cut"}]
    # the penalty took 15 of 20 (a balance stops at zero); the reversal gives back 15
    assert moved == [("award", 15, 15), ("award", -15, 0), ("cut", 5, 0), ("reversal", 15, 15)]


def test_a_budget_makes_room_again() -> None:
    scheme = SHOP.replace("    limit 3 per day\n", "    limit 3 per day\n    budget 120 per day\n")
    records = _run(
        scheme,
        [
            order(1, "2026-03-01T09:00", 1000, "ana"),  # 100 of the 120
            order(2, "2026-03-01T09:10", 1000, "bo"),  # 20: the budget cuts
            refund(1, "2026-03-01T09:20", "o1", "ana"),
            order(3, "2026-03-01T09:30", 1000, "cy"),  # 100: the budget has room again
        ],
    )
    assert [(r.member, r.points) for r in records if r.rule == "buy" and r.kind == "award"] == [
        ("ana", 100),
        ("bo", 20),
        ("cy", 100),
    ]


def test_what_events_paid_is_forgotten_after_the_window() -> None:
    program = incentive.compile(SHOP.replace("within 30 days", "within 2 days"))
    session = program.session(engine="interpreter")
    for day in range(1, 20):
        session.feed(order(day, f"2026-03-{day:02d}T09:00", 10))
    assert sorted(session.state.paid_on) == ["2026-03-17", "2026-03-18", "2026-03-19"]
    assert len(session.state.paid) == 3


@pytest.mark.parametrize(
    ("block", "code"),
    [
        ("reverse r { by order within 3 days }", "E0210"),
        ("reverse r { on refund within 3 days }", "E0243"),
        ("reverse r { on refund by order }", "E0243"),
        ("reverse r { on refund by order within 3 days within 4 days }", "E0212"),
        ("reverse buy { on refund by order within 3 days }", "E0201"),
        ("reverse r { on refund by order within 0 days }", "E0213"),
        ("reverse r { on refund by order within 3 days part amount part amount }", "E0212"),
        (
            'rule t { on refund where amount == "x" }\n'
            "  reverse s { on refund by order within 3 days part amount }",
            "E0219",
        ),
    ],
)
def test_reverse_blocks_are_checked(block: str, code: str) -> None:
    text = f'scheme "s" {{\n  rule buy {{ on order award 1 }}\n  {block}\n}}\n'
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(text)
    assert code in [d.code for d in err.value.diagnostics]


def test_a_reverse_block_formats_and_parses_back() -> None:
    text = incentive.fmt(SHOP)
    assert "  reverse refunds {\n    on refund\n    by order\n    within 30 days\n  }\n" in text
    assert incentive.fmt(text) == text


# ---- a list of ids, and partial refunds ----------------------------------------------------

RETURNS = """scheme "Returns" {
  currency coins
  rule buy {
    on order
    award total / 10
    cap 100 per day
    limit 2 per day
  }
  redeem gifts {
    on redeem
    amount points
  }
  reverse returns {
    on return
    by order
    within 30 days
    part amount of total
  }
  reverse cancels {
    on cancel
    by orders
    within 30 days
  }
}
"""


def buy(n: int, at: str, total: int, member: str = "ana") -> dict[str, Any]:
    return {"type": "order", "member": member, "at": at, "id": f"o{n}", "total": total}


def give_back(n: int, at: str, of: str, amount: Any, member: str = "ana") -> dict[str, Any]:
    return {"type": "return", "member": member, "at": at, "id": f"r{n}", "order": of,
            "amount": amount}  # fmt: skip


def cancel(n: int, at: str, ids: Any, member: str = "ana") -> dict[str, Any]:
    return {"type": "cancel", "member": member, "at": at, "id": f"c{n}", "orders": ids}


def test_an_event_reverses_a_list_of_ids_each_on_its_own() -> None:
    records = _run(
        RETURNS,
        [
            buy(1, "2026-03-02T09:00", 300),  # 30
            buy(2, "2026-03-02T10:00", 2000),  # 200 cut to 70 by the cap
            cancel(1, "2026-03-03T09:00", ["o2", "o9", "o1", "o2"]),
        ],
    )
    back = [(r.kind, r.points, r.events, r.reason) for r in records if r.rule == "cancels"]
    assert [b[:3] for b in back] == [
        ("reversal", -70, ("c1", "o2")),
        ("refused", None, ("c1",)),
        ("reversal", -30, ("c1", "o1")),
        ("refused", None, ("c1",)),
    ]
    assert "`o9` was not paid" in (back[1][3] or "")
    assert "`o2` was already reversed" in (back[3][3] or "")
    assert _ledger_sum(records) == 0


@pytest.mark.parametrize(
    ("ids", "reason"),
    [
        ([], "the event has no `orders`"),
        (None, "the event has no `orders`"),
        (["o1", 7], "`orders` should hold event ids (text)"),
        ({"id": "o1"}, "the event has no `orders`"),
    ],
)
def test_a_list_of_ids_that_is_not_one_says_why(ids: Any, reason: str) -> None:
    records = _run(RETURNS, [buy(1, "2026-03-02T09:00", 300), cancel(1, "2026-03-03T09:00", ids)])
    refused = [r for r in records if r.rule == "cancels"]
    assert [r.kind for r in refused] == ["refused"]
    assert reason in (refused[0].reason or "")


def test_a_partial_refund_takes_back_the_share_rounded_down_on_the_running_total() -> None:
    records = _run(
        RETURNS,
        [
            buy(1, "2026-03-02T09:00", 333),  # 33
            give_back(1, "2026-03-03T09:00", "o1", 100),  # 100/333 of 33 = 9.9 -> 9
            give_back(2, "2026-03-03T09:05", "o1", 100),  # 200/333 of 33 = 19.8 -> 19: 10 more
            give_back(3, "2026-03-03T09:10", "o1", 500),  # only 133 left: all, 14 more
            give_back(4, "2026-03-03T09:15", "o1", 1),  # nothing left to refund
        ],
    )
    back = [(r.kind, r.points) for r in records if r.rule == "returns"]
    assert back == [("reversal", -9), ("reversal", -10), ("reversal", -14), ("refused", None)]
    assert "all that was left" in (records[-3].reason or "") or any(
        "all that was left" in (r.reason or "") for r in records
    )
    assert _ledger_sum(records) == 0


def test_a_partial_refund_of_a_capped_order_shares_what_it_paid() -> None:
    records = _run(
        RETURNS,
        [
            buy(1, "2026-03-02T09:00", 3000),  # asks 300, the cap pays 100
            give_back(1, "2026-03-03T09:00", "o1", 1500),  # half of the order: 50, not 150
            cancel(1, "2026-03-04T09:00", ["o1"]),  # the rest: 50
        ],
    )
    back = [(r.rule, r.kind, r.points) for r in records if r.kind == "reversal"]
    assert back == [("returns", "reversal", -50), ("cancels", "reversal", -50)]
    assert _ledger_sum(records) == 0


def test_limits_come_back_only_when_the_whole_order_is_refunded() -> None:
    records = _run(
        RETURNS,
        [
            buy(1, "2026-03-02T09:00", 100),
            buy(2, "2026-03-02T09:10", 100),
            give_back(1, "2026-03-02T09:20", "o1", 50),  # part: the limit still counts o1
            buy(3, "2026-03-02T09:30", 100),  # refused: limit 2 per day
            give_back(2, "2026-03-02T09:40", "o1", 50),  # the whole: o1 no longer counts
            buy(4, "2026-03-02T09:50", 100),  # paid
        ],
    )
    assert [(r.kind, r.events) for r in records if r.rule == "buy"] == [
        ("award", ("o1",)),
        ("award", ("o2",)),
        ("refused", ("o3",)),
        ("award", ("o4",)),
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (give_back(1, "2026-03-03T09:00", "o1", 0), "no `amount` above zero"),
        (give_back(1, "2026-03-03T09:00", "o2", 10), "event `o2` has no `total` above zero"),
    ],
)
def test_a_partial_refund_that_cannot_be_shared_says_why(
    event: dict[str, Any], reason: str
) -> None:
    records = _run(
        RETURNS,
        [
            buy(1, "2026-03-02T09:00", 300),
            {"type": "order", "member": "ana", "at": "2026-03-02T10:00", "id": "o2", "total": 0},
            event,
        ],
    )
    refused = [r for r in records if r.rule == "returns"]
    assert [r.kind for r in refused] == ["refused"]
    assert reason in (refused[0].reason or "")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.integers(1, 5000),
    parts=st.lists(st.integers(1, 3000), min_size=1, max_size=8),
    spend=st.integers(0, 200),
)
def test_repeated_partial_refunds_never_take_back_more_than_was_paid(
    total: int, parts: list[int], spend: int
) -> None:
    events = [buy(1, "2026-03-02T09:00", total)]
    events.append({"type": "redeem", "member": "ana", "at": "2026-03-02T09:01", "id": "s",
                   "points": spend})  # fmt: skip
    for i, part in enumerate(parts):
        events.append(give_back(i, f"2026-03-03T09:{i:02d}", "o1", part))
    records = _run(RETURNS, events)
    paid = sum(r.points or 0 for r in records if r.kind == "award")
    back = sum(-(r.points or 0) for r in records if r.kind == "reversal")
    back += sum(r.points or 0 for r in records if r.kind == "cut" and r.rule == "returns")
    assert back <= paid
    refunded = min(total, sum(parts))
    assert back == paid * refunded // total  # the running share, rounded down
    if sum(parts) >= total:
        assert back == paid  # the last part takes the rest


def test_a_reverse_block_with_part_formats_and_parses_back() -> None:
    text = incentive.fmt(RETURNS)
    assert "    part amount of total\n" in text
    assert incentive.fmt(text) == text
    assert "    part amount\n" in incentive.fmt(
        RETURNS.replace("part amount of total", "part amount")
    )


# ---- random streams: both evaluators agree, and the ledger adds up -----------------------------

RICH = SHOP.replace(
    "  redeem gifts {",
    """  rule grantable {
    on post
    award 15
    budget 40 per day
  }

  grants thanks {
    on grant
    allowance 30 per day
  }

  redeem gifts {""",
).replace("currency coins\n", "currency coins\n  expire after 2 days\n")


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    moment = datetime(2026, 3, 1, 8)
    for i in range(draw(st.integers(1, 40))):
        moment += timedelta(minutes=draw(st.integers(0, 36 * 60)))
        kind = draw(
            st.sampled_from(("order", "order", "post", "spam", "grant", "redeem", "refund"))
        )
        event: dict[str, Any] = {
            "id": f"e{i}",
            "type": kind,
            "member": draw(st.sampled_from(("ana", "bo"))),
            "at": moment.isoformat(),
        }
        if kind == "order":
            event["amount"] = draw(st.integers(0, 1500))
        elif kind == "grant":
            event.update(by="li", points=draw(st.integers(1, 20)))
        elif kind == "redeem":
            event["points"] = draw(st.integers(1, 60))
        elif kind == "refund" and events:
            target = draw(st.sampled_from(events))
            event["order"] = target["id"]
            if draw(st.integers(0, 4)):
                event["member"] = target["member"]
        events.append(event)
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=streams(), debt=st.booleans())
def test_random_streams_with_reversals(events: list[dict[str, Any]], debt: bool) -> None:
    scheme = RICH.replace("within 30 days", "within 30 days\n    debt") if debt else RICH
    records = _run(scheme, events)
    program = incentive.compile(scheme)
    session = program.session(engine="interpreter")
    for item in events:
        for record in session.feed(item):
            if record.kind in LEDGER_KINDS:
                # every ledger record's balance is the running sum of the member's ledger
                assert record.balance == _ledger_sum(
                    [r for r in records[: records.index(record) + 1]], record.member or ""
                )
        for who, member in session.state.members.items():
            lots = sum(lot[0] for lot in member.lots.get("coins", []))
            owed = member.debts.get("coins", 0)
            assert member.balances.get("coins", 0) == lots - owed
            assert all(lot[0] > 0 for lot in member.lots.get("coins", []))
            assert owed == 0 or (debt and lots == 0), who  # a debt is owed only with no lots
            assert member.balances.get("coins", 0) >= 0 or debt
    # no event is taken back twice, nor for more than it paid
    paid: dict[str, int] = {}
    for record in records:
        if record.kind in ("award", "grant") and record.events:
            paid[record.events[0]] = paid.get(record.events[0], 0) + (record.points or 0)
    back: dict[str, int] = {}
    for record in records:
        if record.kind in ("reversal", "cut") and record.rule == "refunds":
            sign = -1 if record.kind == "reversal" else 1
            back[record.events[1]] = back.get(record.events[1], 0) + sign * (record.points or 0)
    assert all(back[target] == paid.get(target, 0) for target in back)


# ---- issue 18's constructs: windows, threshold streaks, points earned, challenges -------------

OASIS = """scheme "Undo" {
  rule pair {
    on order
    window 2 within 3 days
    award 10
    limit 2 per week
  }
  rule steady {
    on order
    streak per week
    reaching 3
    at 1 award 5
  }
  rule quiz {
    on answer
    first 1 per week
    award 30
  }
  rule chat {
    on message
    award 10
  }
  rule earner {
    streak per week
    reaching 40 earned
    at 1 badge "earner"
  }
  reverse refunds {
    on refund
    by order
    within 30 days
  }
}
"""


def ev(n: str, kind: str, at: str, member: str = "ana", **more: Any) -> dict[str, Any]:
    return {"id": n, "type": kind, "member": member, "at": at, **more}


def test_a_reversed_event_not_used_yet_leaves_the_sliding_window() -> None:
    records = _run(
        OASIS,
        [
            ev("o1", "order", "2026-03-02T10:00"),
            ev("f1", "refund", "2026-03-02T11:00", order="o1"),
            ev("o2", "order", "2026-03-03T10:00"),  # alone in the window: o1 left it
            ev("o3", "order", "2026-03-04T10:00"),  # with o2: pays
        ],
    )
    pair = [(r.kind, r.events) for r in records if r.rule == "pair"]
    assert pair == [("award", ("o3",))]


def test_the_event_that_made_a_window_pay_gives_back_the_events_it_used_up() -> None:
    records = _run(
        OASIS,
        [
            ev("o1", "order", "2026-03-02T10:00"),
            ev("o2", "order", "2026-03-03T10:00"),  # with o1: pays 10
            ev("f2", "refund", "2026-03-03T11:00", order="o2"),  # 10 back; o1 unused again
            ev("o3", "order", "2026-03-04T10:00"),  # with o1 (within 3 days): pays again
            ev("o4", "order", "2026-03-08T10:00"),  # o1 is too old, o3 used: nothing
        ],
    )
    pair = [(r.kind, r.points, r.events) for r in records if r.rule in ("pair", "refunds")]
    assert pair == [
        ("award", 10, ("o2",)),
        ("reversal", -10, ("f2", "o2")),
        ("award", 10, ("o3",)),
    ]


def test_a_window_refused_by_its_limit_and_reversed_gives_its_events_back() -> None:
    events = [
        ev("o1", "order", "2026-03-02T10:00"),
        ev("o2", "order", "2026-03-02T11:00"),  # pays (1 of 2 this week)
        ev("o3", "order", "2026-03-03T10:00"),
        ev("o4", "order", "2026-03-03T11:00"),  # pays (2 of 2)
        ev("o5", "order", "2026-03-04T10:00"),
        ev("o6", "order", "2026-03-04T11:00"),  # fires: refused by the limit, o5 used
        ev("f6", "refund", "2026-03-04T12:00", order="o6"),  # o5 counts again
        ev("f4", "refund", "2026-03-04T13:00", order="o4"),  # 10 back; the limit has room
        ev("o7", "order", "2026-03-05T10:00"),  # with o5 (and o3, given back by f4): pays
    ]
    records = _run(OASIS, events)
    pair = [(r.kind, r.code, r.events) for r in records if r.rule == "pair"]
    assert pair == [
        ("award", "window", ("o2",)),
        ("award", "window", ("o4",)),
        ("refused", "limit_reached", ("o6",)),
        ("award", "window", ("o7",)),
    ]


def test_a_reversed_event_leaves_the_open_period_of_a_threshold_streak() -> None:
    records = _run(
        OASIS,
        [
            ev("o1", "order", "2026-03-02T10:00"),
            ev("o2", "order", "2026-03-02T11:00"),
            ev("f2", "refund", "2026-03-02T12:00", order="o2"),
            ev("o3", "order", "2026-03-03T10:00"),  # 2 orders count this week, not 3
            ev("o4", "order", "2026-03-04T10:00"),  # the third: the week counts
            ev("f4", "refund", "2026-03-04T11:00", order="o4"),  # the week stays counted
            ev("o5", "order", "2026-03-04T12:00"),
        ],
    )
    steady = [(r.kind, r.events) for r in records if r.rule == "steady"]
    assert steady == [("streak", ("o4",)), ("award", ("o4",))]
    taken = [(r.kind, r.points) for r in records if r.events == ("f4", "o4")]
    assert ("reversal", -5) in taken  # its streak award is taken back, the streak stays


def test_points_taken_back_leave_the_total_of_a_streak_of_points_earned() -> None:
    records = _run(
        OASIS,
        [
            ev("m1", "message", "2026-03-02T10:00"),
            ev("m2", "message", "2026-03-02T11:00"),
            ev("m3", "message", "2026-03-02T12:00"),  # 30 earned
            ev("f3", "refund", "2026-03-02T13:00", order="m3"),  # 20 earned
            ev("m4", "message", "2026-03-03T10:00"),  # 30: not yet 40
            ev("m5", "message", "2026-03-03T11:00"),  # 40: the badge
        ],
    )
    earner = [(r.kind, r.events) for r in records if r.rule == "earner"]
    assert earner == [("streak", ("m5",)), ("badge", ("m5",))]


def test_a_reversed_win_opens_the_challenge_s_place_again() -> None:
    records = _run(
        OASIS,
        [
            ev("q1", "answer", "2026-03-02T10:00", member="bo"),  # bo wins the week
            ev("q2", "answer", "2026-03-02T11:00", member="cy"),  # refused: the place is taken
            ev("f1", "refund", "2026-03-02T12:00", member="bo", order="q1"),
            ev("q3", "answer", "2026-03-02T13:00", member="cy"),  # cy wins it
            ev("q4", "answer", "2026-03-02T14:00", member="bo"),  # taken again
        ],
    )
    quiz = [(r.kind, r.member, r.events) for r in records if r.rule == "quiz"]
    assert quiz == [
        ("award", "bo", ("q1",)),
        ("refused", "cy", ("q2",)),
        ("award", "cy", ("q3",)),
        ("refused", "bo", ("q4",)),
    ]


@st.composite
def refunded_at_once(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Orders and answers, some refunded the moment after they were made: the stream with
    the refunds, and the same stream without the refunded events at all."""
    with_refunds: list[dict[str, Any]] = []
    without: list[dict[str, Any]] = []
    moment = datetime(2026, 3, 2, 8)
    for i in range(draw(st.integers(1, 30))):
        moment += timedelta(minutes=draw(st.integers(1, 30 * 60)))
        kind = draw(st.sampled_from(("order", "answer")))
        member = draw(st.sampled_from(("ana", "bo", "cy")))
        event = ev(f"e{i}", kind, moment.isoformat(), member)
        with_refunds.append(event)
        if draw(st.integers(0, 3)) == 0:
            later = (moment + timedelta(seconds=1)).isoformat()
            with_refunds.append(ev(f"f{i}", "refund", later, member, order=f"e{i}"))
        else:
            without.append(event)
    return with_refunds, without


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams=refunded_at_once())
def test_an_event_refunded_at_once_is_as_if_it_never_was_for_windows_and_challenges(
    streams: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    """A window (with its limit) and a challenge undo completely: what they do after an
    event reversed the moment it was made is what they do without it."""
    with_refunds, without = streams
    refunded = {e["order"] for e in with_refunds if e["type"] == "refund"}

    def outcomes(records: list[Record]) -> list[tuple[Any, ...]]:
        return [
            (r.kind, r.member, r.rule, r.points, r.events)
            for r in records
            if r.rule in ("pair", "quiz") and not set(r.events) & refunded
        ]

    assert outcomes(_run(OASIS, with_refunds)) == outcomes(_run(OASIS, without))
