"""Payments from a measure (`pay MEMBER per PERIOD by MEASURE [so far]`, issue 17): a
member the scheme names is paid, at each period's close, an amount computed from a
measure of other members' activity. A moderator paid from the week's answerers, a fund
paying out a 52nd of the fees so far.

Every case runs on both evaluators and event by event through a session, and must give
the same records; the numbers are checked against a brute-force oracle.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive import codec, columnar
from incentive.records import Record

GOLDEN = Path(__file__).resolve().parent / "golden" / "pay_from_measure"

MODERATORS = """scheme "Moderators" {
  currency coins
  week starts monday

  rule moderator_pay {
    on answer
    pay moderator per week by active
    award min(active * 20, 70)
  }

  rule answers {
    on answer
    pay "board" per week by count
    award count * 3
  }

  rule fund_share {
    on fee
    pay "fund" per week by sum amount so far
    award sum / 52
  }
}
"""


def _run(scheme: str, events: list[dict[str, Any]]) -> list[Record]:
    """The records of a batch run by both evaluators and of a session fed one by one."""
    program = incentive.compile(scheme)
    runs = [program.evaluate(events, engine=e).records for e in ("interpreter", "compiled")]
    reference, compiled = ([r.to_json() for r in run] for run in runs)
    assert compiled == reference
    session = program.session()
    fed = [r.to_json() for event in events for r in session.feed(event)]
    fed += [r.to_json() for r in session.close_all()]
    assert fed == reference
    return runs[0]


def answer(n: int, at: datetime, member: str, moderator: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {"id": f"a{n}", "type": "answer", "member": member}
    event["at"] = at.isoformat()
    if moderator is not None:
        event["moderator"] = moderator
    return event


def fee(n: int, at: datetime, amount: int) -> dict[str, Any]:
    return {"id": f"f{n}", "type": "fee", "member": "m", "at": at.isoformat(), "amount": amount}


MONDAY = datetime(2026, 3, 2, 9)


def test_the_moderator_named_is_paid_from_the_members_who_answered_in_the_week() -> None:
    records = _run(
        MODERATORS,
        [
            answer(1, MONDAY, "ana", "li"),
            answer(2, MONDAY + timedelta(hours=1), "ana", "li"),  # Ana once, however often
            answer(3, MONDAY + timedelta(days=1), "bo", "li"),
            answer(4, MONDAY + timedelta(days=2), "cy", "wu"),
            answer(5, MONDAY + timedelta(days=8), "cy", "li"),  # the next week
        ],
    )
    paid = [(r.member, r.rule, r.points, r.value, r.at) for r in records if r.kind == "rank"]
    assert paid == [
        ("li", "moderator_pay", 40, "2", "2026-03-09T00:00:00+00:00"),
        ("wu", "moderator_pay", 20, "1", "2026-03-09T00:00:00+00:00"),
        ("board", "answers", 12, "4", "2026-03-09T00:00:00+00:00"),
        ("li", "moderator_pay", 20, "1", "2026-03-16T00:00:00+00:00"),
        ("board", "answers", 3, "1", "2026-03-16T00:00:00+00:00"),
    ]


def test_an_answer_without_a_moderator_is_refused_with_the_reason() -> None:
    records = _run(MODERATORS, [answer(1, MONDAY, "ana", None), answer(2, MONDAY, "bo", "")])
    refused = [r for r in records if r.kind == "refused"]
    assert [r.events for r in refused] == [("a1",), ("a2",)]
    assert all("has no `moderator`" in (r.reason or "") for r in refused)
    # the count of answers still counts them: the payment to "board" reads no moderator
    assert [(r.member, r.points) for r in records if r.kind == "rank"] == [("board", 6)]


def test_a_fund_so_far_pays_every_week_even_with_no_fee() -> None:
    records = _run(
        MODERATORS,
        [
            fee(1, MONDAY, 260),
            fee(2, MONDAY + timedelta(days=1), 260),  # 520 / 52 = 10
            fee(3, MONDAY + timedelta(days=14), 520),  # 1040 / 52 = 20
        ],
    )
    fund = [(r.at[:10], r.points, r.value) for r in records if r.rule == "fund_share"]
    assert fund == [
        ("2026-03-09", 10, "520"),
        ("2026-03-16", 10, "520"),  # no fee this week: still a 52nd of those so far
        ("2026-03-23", 20, "1040"),
    ]


def test_a_so_far_measure_survives_a_saved_state() -> None:
    program = incentive.compile(MODERATORS)
    events = [fee(1, MONDAY, 520), answer(1, MONDAY, "ana", "li"), fee(2, MONDAY, 520)]
    events.append(fee(3, MONDAY + timedelta(days=7), 520))
    whole = [r.to_json() for r in program.evaluate(events).records]
    first = program.session()
    out = [r.to_json() for e in events[:2] for r in first.feed(e)]
    state = codec.decode_state(codec.encode_state(first.state))
    second = program.session(state=state)
    out += [r.to_json() for e in events[2:] for r in second.feed(e)]
    out += [r.to_json() for r in second.close_all()]
    assert out == whole


def test_an_amount_that_cannot_be_computed_is_refused_at_the_close() -> None:
    scheme = MODERATORS.replace("award count * 3", "award 30 / (count - 2)")
    records = _run(scheme, [answer(1, MONDAY, "ana", "li"), answer(2, MONDAY, "bo", "li")])
    refused = [r for r in records if r.rule == "answers"]
    assert [(r.kind, r.member, r.value) for r in refused] == [("refused", "board", "2")]
    assert "division by zero" in (refused[0].reason or "")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("rule p { on a pay x per week by active award active * n }", "not `n`"),
        ("rule p { on a pay x per week by points award points }", "`by points`"),
        ("rule p { on a pay x per week by count award 5, 3 }", "one amount"),
        ("rule p { on a pay x per week by count award random(1, count) }", "`random"),
        ('rule p { on a pay x per week by count perk "p" }', "not a perk"),
        ('rule p { on a pay "x" per season by count so far award 1 }', "`so far`"),
        ("rule p { on a pay x per week by count award count limit 1 per day }", "E0230"),
        ("rule p { on a pay x per week by count award count > 1 }", "a number"),
    ],
)
def test_payments_from_a_measure_are_checked(rule: str, message: str) -> None:
    with pytest.raises(incentive.SchemeError) as err:
        incentive.compile(f'scheme "s" {{\n  {rule}\n}}\n')
    shown = " ".join(f"{d.code} {d.message}" for d in err.value.diagnostics)
    assert message in shown


def test_a_pay_rule_formats_and_parses_back() -> None:
    text = incentive.fmt(MODERATORS)
    assert '    pay "fund" per week by sum amount so far\n' in text
    assert "    pay moderator per week by active\n" in text
    assert incentive.fmt(text) == text


def test_the_columnar_plan_declines_a_payment_from_a_measure() -> None:
    program = incentive.compile(MODERATORS)
    assert "rule `moderator_pay`: `pay`" in columnar.why_not(program)


def test_the_golden_case_is_the_same_event_by_event() -> None:
    program = incentive.load(GOLDEN / "scheme.incentive")
    lines = (GOLDEN / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    records = _run(program.source, events)
    assert {"rank", "pending", "release", "refused"} <= {r.kind for r in records}


# ---- random weeks of answers against an oracle ------------------------------------------------


@st.composite
def weeks(draw: st.DrawFn) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    moment = MONDAY
    for i in range(draw(st.integers(0, 40))):
        moment += timedelta(hours=draw(st.integers(0, 60)))
        if draw(st.integers(0, 5)) == 0:
            events.append(fee(i, moment, draw(st.integers(0, 900))))
        else:
            member = draw(st.sampled_from(("ana", "bo", "cy", "dee", "eve")))
            moderator = draw(st.sampled_from(("li", "wu", None)))
            events.append(answer(i, moment, member, moderator))
    return events


def _week(at: str) -> str:
    day = datetime.fromisoformat(at).date()
    return (day - timedelta(days=day.weekday())).isoformat()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=weeks())
def test_random_weeks_pay_what_the_oracle_says(events: list[dict[str, Any]]) -> None:
    records = _run(MODERATORS, events)
    # the moderator's pay: min(20 x members who answered naming them that week, 70)
    answered: dict[tuple[str, str], set[str]] = {}
    counted: dict[str, int] = {}
    for e in events:
        if e["type"] == "answer":
            counted[_week(e["at"])] = counted.get(_week(e["at"]), 0) + 1
            if "moderator" in e:
                answered.setdefault((e["moderator"], _week(e["at"])), set()).add(e["member"])
    expected = {(who, week): min(20 * len(m), 70) for (who, week), m in answered.items()}
    paid = {
        (r.member, (r.reason or "").rsplit("week ", 1)[1].rstrip(")")): r.points
        for r in records
        if r.rule == "moderator_pay" and r.kind == "rank"
    }
    assert paid == expected
    board = {_week(r.at or ""): r.points for r in records if r.rule == "answers"}
    # paid at Monday 00:00, the close of the week before
    closes = {
        (datetime.fromisoformat(week) + timedelta(days=7)).date().isoformat(): 3 * n
        for week, n in counted.items()
    }
    assert board == closes
    # the fund: every week from the first, a 52nd (rounded down) of the fees so far
    fees = [(e["at"], e["amount"]) for e in events if e["type"] == "fee"]
    fund = [(r.at, r.points) for r in records if r.rule == "fund_share"]
    for at, points in fund:
        so_far = sum(amount for when, amount in fees if when < (at or "")[:19])
        assert points == int((Decimal(so_far) / 52).to_integral_value(rounding=ROUND_DOWN))
        assert points > 0
