"""Spending and grants: `redeem` events that ask for points, and `grant` events
that give them from a granter's allowance. Both are checked in full before
anything moves; a refusal says which check failed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from incentive.events import Event
from incentive.expressions import condition_holds
from incentive.ledger import Ledger
from incentive.program import GrantsSpec, Program, RedeemSpec
from incentive.records import Record, RecordCode
from incentive.rules import Proposal
from incentive.state import EngineState, MemberState, limit_reached, local_time, use_limits


def _refusal(
    name: str,
    currency: str,
    event: Event,
    stamp: str,
    reason: str,
    points: int | None = None,
    code: RecordCode = "not_allowed",
) -> Record:
    return Record(
        kind="refused",
        at=stamp,
        member=event.member,
        rule=name,
        points=points,
        currency=currency,
        events=(event.id,),
        code=code,
        reason=reason,
    )


def redeem(
    program: Program,
    ledger: Ledger,
    member: MemberState,
    spec: RedeemSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Iterator[Record]:
    """Spend the points a redemption asks for, or refuse it with the reason."""
    if not condition_holds(spec.condition, attrs):
        return
    stamp = local_time(program.calendar, event.at)
    asked = attrs.get(spec.attribute)
    refuse = partial(_refusal, spec.name, spec.currency, event, stamp)

    if not isinstance(asked, Decimal):
        yield refuse(
            f"the event has no `{spec.attribute}`: how many points to redeem",
            code="missing_attribute",
        )
        return
    if asked <= 0 or asked != asked.to_integral_value():
        yield refuse(f"`{spec.attribute}` must be a whole number of points above 0, not {asked}")
        return
    points = int(asked)
    balance = member.balances.get(spec.currency, 0)
    calendar = program.calendar
    problem: str | None = None
    code: RecordCode = "not_allowed"
    if spec.minimum is not None and points < spec.minimum:
        problem = f"a redemption is at least {spec.minimum}"
    elif spec.maximum is not None and points > spec.maximum:
        problem = f"a redemption is at most {spec.maximum}"
    elif spec.multiple is not None and points % spec.multiple:
        problem = f"a redemption is a multiple of {spec.multiple}"
    elif spec.threshold is not None and balance < spec.threshold:
        problem = f"redeeming needs a balance of {spec.threshold}; the balance is {balance}"
        code = "balance_too_low"
    elif points > balance:
        problem, code = f"the balance is {balance}", "balance_too_low"
    else:
        full = limit_reached(member, spec.name, spec.limits, calendar, day)
        if full is not None:
            problem, code = f"{full.describe()} reached", "limit_reached"
    if problem is not None:
        yield refuse(problem, points, code)
        return
    use_limits(member, spec.name, spec.limits, calendar, day)
    yield Record(
        kind="redeem",
        at=stamp,
        member=event.member,
        rule=spec.name,
        points=-points,
        currency=spec.currency,
        balance=ledger.spend(event.member, spec.currency, points),
        events=(event.id,),
        code="redeemed",
        reason=f"redeem `{spec.name}`: {points} {spec.currency} spent",
    )


def grant(
    program: Program,
    state: EngineState,
    spec: GrantsSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Proposal | Record:
    """A grant from its granter's allowance, or the reason it is refused."""
    stamp = local_time(program.calendar, event.at)
    granter = attrs.get("by")
    asked = attrs.get("points")
    refuse = partial(_refusal, spec.name, spec.currency, event, stamp)

    if not isinstance(granter, str) or not granter:
        return refuse("a grant says who gives it: `by`", code="missing_attribute")
    if not isinstance(asked, Decimal) or asked <= 0 or asked != asked.to_integral_value():
        return refuse("a grant gives a whole number of `points` above 0")
    points = int(asked)
    if granter == event.member:
        return refuse(f"`{granter}` cannot grant to themselves", points)
    allowance = spec.allowance_of(granter)
    if allowance is None:
        return refuse(f"`{granter}` has no allowance in grants `{spec.name}`", points)
    key = program.calendar.period_key(allowance.period, day)
    slot = state.allowances.setdefault(f"{spec.name}:{granter}:{allowance.period}", [key, 0])
    if slot[0] != key:
        slot[0], slot[1] = key, 0
    left = allowance.points - slot[1]
    if points > left:
        return refuse(
            f"beyond `{granter}`'s allowance: {left} of {allowance.points} per "
            f"{allowance.period} left",
            points,
        )
    slot[1] += points
    why = attrs.get("reason")
    return Proposal(
        spec.name,
        spec.currency,
        points,
        event.member,
        event.at,
        day,
        (event.id,),
        f"grant by `{granter}`" + (f": {why}" if isinstance(why, str) and why else ""),
        kind="grant",
        code="grant",
        budgets=spec.budgets,
    )
