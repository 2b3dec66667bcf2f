"""A gift catalogue: a `redeem` event asks for a gift by name, and the catalogue
checks it (a price, a stock, limits per member, stock and budgets per period)
and spends its price, or refuses it and says why. Never silence: an event of
the catalogue's type that its `where` does not let through, an unknown gift or
a gift out of stock is a `refused` record with the reason.

Stock and budgets are shared by every member (like budgets, first come, first
served in processing order) and kept in `state.stock`, apart from the budgets
of awards: a reversal never gives stock back (a redemption is not reversed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from incentive.diagnostics import did_you_mean
from incentive.events import Event
from incentive.expressions import condition_holds
from incentive.ledger import Ledger
from incentive.program import CatalogueSpec, Program, RedeemSpec
from incentive.records import Record, RecordCode
from incentive.state import EngineState, MemberState, limit_reached, local_time, use_limits


def _used(state: EngineState, key: str, period_key: str) -> int:
    slot = state.stock.get(key)
    return slot[1] if slot is not None and slot[0] == period_key else 0


def _use(state: EngineState, key: str, period_key: str, by: int) -> None:
    slot = state.stock.get(key)
    if slot is None or slot[0] != period_key:
        state.stock[key] = [period_key, by]
    else:
        slot[1] += by


def shop(
    program: Program,
    ledger: Ledger,
    member: MemberState,
    spec: CatalogueSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Iterator[Record]:
    """Spend a gift's price and take it from the stock, or refuse with the reason."""
    calendar = program.calendar
    state = ledger.state
    stamp = local_time(calendar, event.at)
    asked = attrs.get(spec.attribute)
    gift = spec.gift(asked) if isinstance(asked, str) else None

    def refuse(reason: str, code: RecordCode) -> Record:
        return Record(
            kind="refused",
            at=stamp,
            member=event.member,
            rule=spec.name,
            points=gift.price if gift is not None else None,
            currency=spec.currency,
            item=gift.name if gift is not None else None,
            events=(event.id,),
            code=code,
            reason=reason,
        )

    if not condition_holds(spec.condition, attrs):
        yield refuse(
            f"catalogue `{spec.name}`: its `where` condition does not hold", "condition_false"
        )
        return
    if not isinstance(asked, str) or not asked:
        yield refuse(
            f"the event has no `{spec.attribute}`: which gift to redeem", "missing_attribute"
        )
        return
    if gift is None:
        near = did_you_mean(asked, [g.name for g in spec.gifts])
        yield refuse(
            f"no gift `{asked}` in catalogue `{spec.name}`"
            + (f" (did you mean `{near}`?)" if near else ""),
            "no_such_gift",
        )
        return
    balance = member.balances.get(spec.currency, 0)
    stock_key = f"{spec.name}:{gift.name}"
    stock_period = calendar.period_key(gift.stock_period, day) if gift.stock_period else ""
    problem: str | None = None
    code: RecordCode = "out_of_stock"
    if gift.price > balance:
        problem = f"`{gift.name}` costs {gift.price}; the balance is {balance}"
        code = "balance_too_low"
    elif (full := limit_reached(member, spec.name, spec.limits, calendar, day)) is not None:
        problem, code = f"{full.describe()} reached", "limit_reached"
    elif (full := limit_reached(member, stock_key, gift.limits, calendar, day)) is not None:
        problem, code = f"{full.describe()} reached for `{gift.name}`", "limit_reached"
    elif gift.stock is not None and _used(state, stock_key, stock_period) >= gift.stock:
        per = f" per {gift.stock_period}" if gift.stock_period else ""
        problem = f"`{gift.name}` is out of stock ({gift.stock}{per})"
    if problem is None:
        for count, period in spec.stock:
            if (
                _used(state, f"{spec.name}:items:{period}", calendar.period_key(period, day))
                >= count
            ):
                problem = f"catalogue `{spec.name}` is out of stock: {count} gifts per {period}"
                break
    if problem is None:
        for points, period in spec.budgets:
            used = _used(state, f"{spec.name}:points:{period}", calendar.period_key(period, day))
            if used + gift.price > points:
                problem = (
                    f"budget {points} {spec.currency} per {period} for catalogue "
                    f"`{spec.name}` reached: {points - used} left"
                )
                code = "budget_reached"
                break
    if problem is not None:
        yield refuse(problem, code)
        return
    use_limits(member, spec.name, spec.limits, calendar, day)
    use_limits(member, stock_key, gift.limits, calendar, day)
    if gift.stock is not None:
        _use(state, stock_key, stock_period, 1)
    for _, period in spec.stock:
        _use(state, f"{spec.name}:items:{period}", calendar.period_key(period, day), 1)
    for _, period in spec.budgets:
        _use(state, f"{spec.name}:points:{period}", calendar.period_key(period, day), gift.price)
    left = ""
    if gift.stock is not None:
        remaining = gift.stock - _used(state, stock_key, stock_period)
        left = f"; {remaining} left" + (f" this {gift.stock_period}" if gift.stock_period else "")
    yield Record(
        kind="redeem",
        at=stamp,
        member=event.member,
        rule=spec.name,
        points=-gift.price,
        currency=spec.currency,
        balance=ledger.spend(event.member, spec.currency, gift.price),
        item=gift.name,
        events=(event.id,),
        code="redeemed",
        reason=f"catalogue `{spec.name}`: `{gift.name}` for {gift.price} {spec.currency}{left}",
    )


def unmatched(
    program: Program, specs: list[RedeemSpec], event: Event, attrs: Mapping[str, Any]
) -> Record | None:
    """A redemption that no `redeem` block of its type lets through is refused, not
    silent: the reason names the blocks whose `where` did not hold."""
    if not specs or any(condition_holds(spec.condition, attrs) for spec in specs):
        return None
    names = ", ".join(f"`{spec.name}`" for spec in specs)
    return Record(
        kind="refused",
        at=local_time(program.calendar, event.at),
        member=event.member,
        rule=specs[0].name,
        currency=specs[0].currency,
        events=(event.id,),
        code="condition_false",
        reason=f"no redeem block takes this event: the `where` of {names} does not hold",
    )
