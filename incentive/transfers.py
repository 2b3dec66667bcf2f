"""Transfers between members: a tip, a gift, a bounty.

The event's member sends the points in the `amount` attribute to the member
named by the `to` attribute. Every check is made before anything moves, so
both sides move or neither does, and a refusal says which check failed:
no receiver, oneself, an amount that is not a whole number above 0, the
minimum and maximum, the balance the sender must keep, the sender's limits on
transfers and points per period, and the receiver's limit on points received
per period. The sender's points come from their soonest-expiring lots; the
receiver gets a new lot of the transfer's day (it expires as points earned
that day do, and repays a debt first). A transfer is not an award: no rule,
cap, budget, rank or level sees it, and a reversal does not undo it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from incentive.events import Event
from incentive.expressions import condition_holds
from incentive.ledger import Ledger, take
from incentive.program import Program, TransferSpec
from incentive.records import Record, RecordCode
from incentive.state import MemberState, bump, count, limit_reached, local_time, use_limits


def transfer(
    program: Program,
    ledger: Ledger,
    spec: TransferSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Iterator[Record]:
    """Move the points from the sender to the receiver, or refuse with the reason."""
    calendar = program.calendar
    stamp = local_time(calendar, event.at)
    state = ledger.state
    sender = state.members.setdefault(event.member, MemberState())
    receiver_name = attrs.get(spec.to)
    asked = attrs.get(spec.attribute)
    points = int(asked) if isinstance(asked, Decimal) and asked == asked.to_integral_value() else 0

    def refuse(reason: str, code: RecordCode) -> Record:
        return Record(
            kind="refused",
            at=stamp,
            member=event.member,
            rule=spec.name,
            points=points or None,
            currency=spec.currency,
            events=(event.id,),
            code=code,
            reason=reason,
        )

    balance = sender.balances.get(spec.currency, 0)
    problem: str | None = None
    code: RecordCode = "not_allowed"
    if not isinstance(receiver_name, str) or not receiver_name:
        problem = f"the event has no `{spec.to}`: who receives the points"
        code = "missing_attribute"
    elif receiver_name == event.member:
        problem = f"`{event.member}` cannot transfer to themselves"
    elif not condition_holds(spec.condition, attrs):
        problem = f"transfer `{spec.name}`: its `where` condition does not hold"
        code = "condition_false"
    elif points <= 0:
        problem = f"`{spec.attribute}` must be a whole number of points above 0, not {asked}"
    elif spec.minimum is not None and points < spec.minimum:
        problem = f"a transfer is at least {spec.minimum}"
    elif spec.maximum is not None and points > spec.maximum:
        problem = f"a transfer is at most {spec.maximum}"
    elif balance - points < spec.keep:
        problem = (
            f"the balance is {balance}"
            if spec.keep == 0
            else f"a sender keeps {spec.keep}; the balance is {balance}"
        )
        code = "balance_too_low"
    else:
        full = limit_reached(sender, spec.name, spec.limits, calendar, day)
        if full is not None:
            problem, code = f"{full.describe()} reached for the sender", "limit_reached"
    if problem is None:
        for most, period in spec.sent:
            used = count(sender, f"sent:{spec.name}:{period}", calendar.period_key(period, day))
            if used + points > most:
                problem = f"a sender sends at most {most} per {period}; {most - used} left"
                code = "limit_reached"
                break
    if problem is None:
        receiver = state.members.get(str(receiver_name))
        for most, period in spec.received:
            key = f"received:{spec.name}:{period}"
            used = count(receiver, key, calendar.period_key(period, day)) if receiver else 0
            if used + points > most:
                problem = (
                    f"`{receiver_name}` receives at most {most} per {period}; {most - used} left"
                )
                code = "limit_reached"
                break
    if problem is not None:
        yield refuse(problem, code)
        return
    assert isinstance(receiver_name, str)
    use_limits(sender, spec.name, spec.limits, calendar, day)
    for _, period in spec.sent:
        bump(sender, f"sent:{spec.name}:{period}", calendar.period_key(period, day), points)
    receiver = state.members.setdefault(receiver_name, MemberState())
    for _, period in spec.received:
        bump(receiver, f"received:{spec.name}:{period}", calendar.period_key(period, day), points)
    taken = take(sender, spec.currency, points)
    assert taken == points, "the balance was checked"
    yield Record(
        kind="transfer",
        at=stamp,
        member=event.member,
        rule=spec.name,
        points=-points,
        currency=spec.currency,
        balance=sender.balances[spec.currency],
        events=(event.id,),
        code="transfer_sent",
        reason=f"transfer `{spec.name}`: {points} {spec.currency} to `{receiver_name}`",
    )
    yield Record(
        kind="transfer",
        at=stamp,
        member=receiver_name,
        rule=spec.name,
        points=points,
        currency=spec.currency,
        balance=ledger.credit(receiver_name, spec.currency, points, event.at, day),
        events=(event.id,),
        code="transfer_received",
        reason=f"transfer `{spec.name}`: {points} {spec.currency} from `{event.member}`",
    )
