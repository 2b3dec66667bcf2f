"""Gift catalogues (`catalogue` blocks) and refused redemptions that are never silent.

Every case runs on both evaluators and must give the same records.
"""

from __future__ import annotations

from collections import Counter
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
  }

  catalogue shop {
    on redeem
    item gift
    where channel != "blocked"
    limit 3 per day
    stock 3 per day
    budget 900 per day
    gift mug { price 200  stock 2  limit 1 per day }
    gift "tote bag" { price 500  stock 1 per day }
    gift pen { price 50 }
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


def order(member: str, at: str, amount: int = 30000) -> dict[str, Any]:
    return {"type": "order", "member": member, "at": at, "id": f"o-{member}-{at}", "amount": amount}


def ask(n: int, member: str, gift: Any, at: str, channel: str = "app") -> dict[str, Any]:
    event = {"type": "redeem", "member": member, "at": at, "id": f"r{n}", "channel": channel}
    if gift is not None:
        event["gift"] = gift
    return event


def test_every_redemption_is_paid_or_refused_with_its_reason() -> None:
    records = _run(
        SHOP,
        [
            order("ana", "2026-03-02T08:00:00"),
            order("bo", "2026-03-02T08:00:00", 400),
            ask(1, "ana", "mug", "2026-03-02T09:00:00"),
            ask(2, "ana", "mug", "2026-03-02T09:01:00"),
            ask(3, "ana", "mgu", "2026-03-02T09:02:00"),
            ask(4, "ana", None, "2026-03-02T09:03:00"),
            ask(5, "ana", "pen", "2026-03-02T09:04:00", channel="blocked"),
            ask(6, "bo", "tote bag", "2026-03-02T09:05:00"),
            ask(7, "ana", "tote bag", "2026-03-02T09:06:00"),
            ask(8, "ana", "tote bag", "2026-03-02T09:07:00"),
        ],
    )
    said = [(r.kind, r.item, r.points, r.reason) for r in records if r.rule == "shop"]
    assert said == [
        ("redeem", "mug", -200, "catalogue `shop`: `mug` for 200 coins; 1 left"),
        ("refused", "mug", 200, "limit 1 per day reached for `mug`"),
        ("refused", None, None, "no gift `mgu` in catalogue `shop` (did you mean `mug`?)"),
        ("refused", None, None, "the event has no `gift`: which gift to redeem"),
        ("refused", "pen", 50, "catalogue `shop`: its `where` condition does not hold"),
        ("refused", "tote bag", 500, "`tote bag` costs 500; the balance is 40"),
        ("redeem", "tote bag", -500, "catalogue `shop`: `tote bag` for 500 coins; 0 left this day"),
        ("refused", "tote bag", 500, "`tote bag` is out of stock (1 per day)"),
    ]


def test_stock_runs_out_mid_day_and_comes_back_the_next() -> None:
    events = [order(m, "2026-03-02T08:00:00") for m in ("ana", "bo", "cy", "dee")]
    events += [
        ask(i, m, "pen", f"2026-03-02T09:0{i}:00") for i, m in enumerate(("ana", "bo", "cy", "dee"))
    ]
    events.append(ask(9, "dee", "pen", "2026-03-03T09:00:00"))
    records = _run(SHOP, events)
    said = [(r.member, r.kind, r.reason) for r in records if r.rule == "shop"]
    assert said[3] == ("dee", "refused", "catalogue `shop` is out of stock: 3 gifts per day")
    assert said[4][:2] == ("dee", "redeem")


def test_the_budget_refuses_what_it_cannot_cover() -> None:
    scheme = SHOP.replace("stock 3 per day", "stock 9 per day").replace(
        "limit 1 per day }", "limit 5 per day }"
    )
    events = [order(m, "2026-03-02T08:00:00") for m in ("ana", "bo")]
    events += [
        ask(1, "ana", "mug", "2026-03-02T09:00:00"),
        ask(2, "bo", "mug", "2026-03-02T09:01:00"),
    ]
    events += [ask(3, "bo", "tote bag", "2026-03-02T09:02:00")]  # 400 + 500 = 900: fits
    events += [ask(4, "ana", "pen", "2026-03-02T09:03:00")]  # 950: over
    records = _run(scheme, events)
    assert [r.reason for r in records if r.kind == "refused"] == [
        "budget 900 coins per day for catalogue `shop` reached: 0 left"
    ]


def test_a_redemption_no_redeem_block_lets_through_is_refused() -> None:
    scheme = """scheme "s" {
  rule buy {
    on order
    award 500
  }

  redeem mugs {
    on redeem
    where gift == "mug"
    amount points
  }

  redeem totes {
    on redeem
    where gift == "tote"
    amount points
  }
}
"""
    records = _run(
        scheme,
        [
            order("ana", "2026-03-02T08:00:00"),
            {
                "type": "redeem",
                "member": "ana",
                "at": "2026-03-02T09:00:00",
                "id": "r1",
                "gift": "mug",
                "points": 100,
            },
            {
                "type": "redeem",
                "member": "ana",
                "at": "2026-03-02T09:01:00",
                "id": "r2",
                "gift": "pen",
                "points": 100,
            },
        ],
    )
    assert [(r.kind, r.reason) for r in records if r.kind in ("redeem", "refused")] == [
        ("redeem", "redeem `mugs`: 100 points spent"),
        (
            "refused",
            "no redeem block takes this event: the `where` of `mugs`, `totes` does not hold",
        ),
    ]


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    moment = datetime(2026, 3, 2, 8)
    for i in range(draw(st.integers(1, 50))):
        moment += timedelta(minutes=draw(st.integers(0, 8 * 60)))
        member = draw(st.sampled_from(("ana", "bo", "cy")))
        if draw(st.integers(0, 3)) == 0:
            events.append(order(member, moment.isoformat(), draw(st.integers(0, 8000))))
        else:
            gift = draw(st.sampled_from(("mug", "tote bag", "pen", "pen", "hat")))
            events.append(ask(i, member, gift, moment.isoformat()))
    return events


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=streams())
def test_stock_and_budgets_are_never_exceeded(events: list[dict[str, Any]]) -> None:
    records = _run(SHOP, events)
    per_day: Counter[tuple[str, str]] = Counter()
    mugs = 0
    for record in records:
        if record.kind == "redeem":
            day = (record.at or "")[:10]
            per_day["items", day] += 1
            per_day["points", day] -= record.points or 0
            per_day[record.item or "", day] += 1
            per_day[f"{record.member}:{record.item}", day] += 1
            mugs += record.item == "mug"
    for (what, _), used in per_day.items():
        limit = {"items": 3, "points": 900, "tote bag": 1}.get(what)
        if what.endswith(":mug"):
            limit = 1
        assert limit is None or used <= limit, (what, used)
    assert mugs <= 2
    balances: Counter[str] = Counter()
    for record in records:
        if record.kind in LEDGER_KINDS:
            balances[record.member or ""] += record.points or 0
            assert record.balance == balances[record.member or ""] >= 0


@pytest.mark.parametrize(
    ("block", "code"),
    [
        ("catalogue c { item gift gift mug { price 5 } }", "E0210"),
        ("catalogue c { on redeem gift mug { price 5 } }", "E0246"),
        ("catalogue c { on redeem item gift }", "E0246"),
        ("catalogue c { on redeem item gift gift mug { stock 5 } }", "E0246"),
        ("catalogue c { on redeem item gift stock 5 gift mug { price 5 } }", "E0246"),
        ("catalogue c { on redeem item gift gift mug { price 5 } gift mug { price 6 } }", "E0209"),
        ("catalogue c { on redeem item gift gift mug { price 5 price 6 } }", "E0212"),
        ("catalogue c { on redeem item gift gift mug { price 0 } }", "E0213"),
        ("catalogue c { on redeem item gift gift mug { price 5 nope } }", "E0207"),
    ],
)
def test_catalogue_blocks_are_checked(block: str, code: str) -> None:
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(f'scheme "s" {{\n  {block}\n}}\n')
    assert code in [d.code for d in err.value.diagnostics]


def test_a_catalogue_formats_and_parses_back() -> None:
    text = incentive.fmt(SHOP)
    assert '    gift "tote bag" { price 500  stock 1 per day }\n' in text
    assert incentive.fmt(text) == text


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ("reverse r { on refund by order within 3 days }", "`reversals`"),
        ("transfer t { on tip to receiver amount points }", "`transfers`"),
        ("catalogue c { on redeem item gift gift mug { price 5 } }", "`catalogues`"),
        ("rule p { on x award 5 pending 2 days }", "rule `p`: `pending`"),
    ],
)
def test_the_columnar_plan_declines_the_shop_constructs(block: str, reason: str) -> None:
    """Batch runs take the compiled evaluator for these (their fields hold a value
    the plan does not read), never a plan that would ignore them."""
    from incentive.columnar import why_not

    program = incentive.compile(f'scheme "s" {{\n  rule a {{ on y award 1 }}\n  {block}\n}}\n')
    assert reason in why_not(program)
