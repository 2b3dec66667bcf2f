"""Reversals: an event (a refund, a cancelled or fake order) takes back what an
earlier event paid, named by its id.

An event id is kept in `state.seen` only while its day is open, so a reversal
needs its own record of what each event paid: `state.paid`, written after each
event of a scheme with `reverse` blocks and kept for the longest `within N days`
window (then forgotten, so memory grows with the window, not with history).
The record holds:

- the points each ledger entry paid, after caps and budgets (`award` and
  `grant` records citing the event, whoever they paid);
- what the event counted: the limit, cap and milestone counters of the member
  who did it, the budgets and granters' allowances (as differences taken
  around the event's rules).

Reversing takes the points back from whatever lots remain (soonest to expire
first, as a penalty does); what was already spent or expired is owed (`debt`:
the balance goes below zero and later awards repay it first) or written off
(a `cut`). Counters of a period that is still current are given back, so the
limit, cap or budget makes room again; a milestone threshold the event reached
can be reached, and paid, again. Ranks already paid, streaks and the rank
tables of open periods are not re-opened; levels earned are not lowered (a
rolling window forgets the points at the next day's close).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from incentive.events import Event
from incentive.ledger import Ledger, held_points, take
from incentive.program import Program, ReversalSpec
from incentive.records import Record, RecordCode
from incentive.state import EngineState, MemberState, local_time

# The kinds of counter a reversal gives back (streaks count periods, not events).
_COUNTED = ("limit:", "cap:", "milestone:")

Before = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]


def before(state: EngineState, member: MemberState, redeems: frozenset[str]) -> Before:
    """What the event's member, the budgets and the allowances had counted before it."""
    counters = {
        key: tuple(slot[:3])
        for key, slot in member.counters.items()
        if key.startswith(_COUNTED) and key.split(":", 2)[1] not in redeems
    }
    budgets = {key: tuple(slot) for key, slot in state.budgets.items()}
    allowances = {key: tuple(slot) for key, slot in state.allowances.items()}
    return counters, budgets, allowances


def _moved(now: Mapping[str, list[Any]], was: Mapping[str, tuple[Any, ...]]) -> list[list[Any]]:
    """[key, period key, how much it moved] for every [period key, count] slot that moved."""
    moved = []
    for key, slot in now.items():
        old = was.get(key)
        delta = slot[1] - (old[1] if old is not None and old[0] == slot[0] else 0)
        if delta:
            moved.append([key, slot[0], delta])
    return moved


def note_paid(
    program: Program,
    state: EngineState,
    event: Event,
    member: MemberState,
    was: Before,
    records: list[Record],
    day: date,
    redeems: frozenset[str],
) -> None:
    """Keep what `event` paid and counted, for as long as it may be reversed."""
    counters, budgets, allowances = was
    points = [
        [r.member, r.currency, r.points, r.rule]
        for r in records
        if r.kind in ("award", "grant", "pending") and r.points and event.id in r.events
    ]
    now = {
        key: slot
        for key, slot in member.counters.items()
        if key.startswith(("limit:", "cap:")) and key.split(":", 2)[1] not in redeems
    }
    milestones = []
    for key, slot in member.counters.items():
        if not key.startswith("milestone:"):
            continue
        old = counters.get(key)
        if old is not None and old[0] == slot[0]:
            step = Decimal(slot[1]) - Decimal(old[1])
            high = Decimal(old[2])
        else:
            step, high = Decimal(slot[1]), Decimal(0)
        reached = _reached(program, key, high, Decimal(slot[2]))
        if step or reached:
            milestones.append([key, slot[0], str(step), reached])
    entry: dict[str, Any] = {
        "member": event.member,
        "day": day.isoformat(),
        "reversed": False,
        "points": points,
        "counters": _moved(now, counters),
        "milestones": milestones,
        "budgets": _moved(state.budgets, budgets),
        "allowances": _moved(state.allowances, allowances),
    }
    _forget(program, state, day)
    state.paid[event.id] = entry
    state.paid_on.setdefault(entry["day"], []).append(event.id)


def _reached(program: Program, key: str, low: Decimal, high: Decimal) -> list[str]:
    """The thresholds of a milestone rule crossed going from `low` to `high`."""
    name = key.split(":", 1)[1]
    rule = next(r for r in program.rules if r.name == name)
    assert rule.milestone is not None
    return [str(t) for t, _ in rule.milestone.tiers if low < t <= high]


def _forget(program: Program, state: EngineState, day: date) -> None:
    """Drop what events paid on days no reversal can reach any more."""
    window = max(spec.days for spec in program.reversals)
    first = (day - timedelta(days=window)).isoformat()
    for old in [d for d in state.paid_on if d < first]:
        for event_id in state.paid_on.pop(old):
            state.paid.pop(event_id, None)


def reverse(
    program: Program,
    ledger: Ledger,
    state: EngineState,
    spec: ReversalSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Iterator[Record]:
    """Take back what the named event paid and give back what it counted, or say why not."""
    stamp = local_time(program.calendar, event.at)
    target = attrs.get(spec.attribute)

    def refuse(reason: str, code: RecordCode) -> Record:
        return Record(
            kind="refused",
            at=stamp,
            member=event.member,
            rule=spec.name,
            events=(event.id,),
            code=code,
            reason=reason,
        )

    if not isinstance(target, str) or not target:
        yield refuse(
            f"the event has no `{spec.attribute}`: the id of the event to reverse",
            "missing_attribute",
        )
        return
    entry = state.paid.get(target)
    if entry is not None and entry["day"] < (day - timedelta(days=spec.days)).isoformat():
        entry = None  # kept for a longer window of another block, not this one's
    if entry is None:
        yield refuse(
            f"event `{target}` was not paid in the last {spec.days} days: nothing to reverse",
            "nothing_to_reverse",
        )
        return
    if entry["reversed"]:
        yield refuse(f"event `{target}` was already reversed", "nothing_to_reverse")
        return
    if entry["member"] != event.member:
        yield refuse(
            f"event `{target}` was `{entry['member']}`'s, not `{event.member}`'s", "not_allowed"
        )
        return
    entry["reversed"] = True
    _give_back(program, state, entry, target)
    events = (event.id, target)
    if not entry["points"]:
        yield Record(
            kind="reversal",
            at=stamp,
            member=event.member,
            rule=spec.name,
            points=0,
            currency=program.default_currency,
            balance=state.members[event.member].balances.get(program.default_currency, 0),
            events=events,
            code="taken_back",
            reason=f"reverse `{spec.name}`: event `{target}` paid nothing; "
            "what it counted is given back",
        )
        return
    for who, currency, points, source in entry["points"]:
        yield from _take_back(
            program, ledger, state, spec, who, currency, points, source, target, event, day
        )


def _give_back(program: Program, state: EngineState, entry: dict[str, Any], event_id: str) -> None:
    """Counters still in the period they counted in move back; older ones are history.
    A value a `milestone distinct` counted for the event is free again with its count."""
    member = state.members.get(entry["member"])
    if member is not None:
        for key, period_key, delta in entry["counters"]:
            slot = member.counters.get(key)
            if slot is not None and slot[0] == period_key:
                slot[1] -= delta
        for key, period_key, step, reached in entry["milestones"]:
            slot = member.counters.get(key)
            if slot is None or slot[0] != period_key:
                continue
            slot[1] = str(Decimal(slot[1]) - Decimal(step))
            claims = state.invites.get(key.split(":", 1)[1], {})
            for value in [v for v, claim in claims.items() if claim[2] == event_id]:
                del claims[value]
            if reached:  # reached again later, these thresholds pay again
                if len(slot) < 4:
                    slot.append([])
                slot[3].extend(t for t in reached if t not in slot[3])
    for table, moved in (
        (state.budgets, entry["budgets"]),
        (state.allowances, entry["allowances"]),
    ):
        for key, period_key, delta in moved:
            slot = table.get(key)
            if slot is not None and slot[0] == period_key:
                slot[1] -= delta


def _take_back(
    program: Program,
    ledger: Ledger,
    state: EngineState,
    spec: ReversalSpec,
    who: str,
    currency: str,
    points: int,
    source: str,
    target: str,
    event: Event,
    day: date,
) -> Iterator[Record]:
    member = state.members.setdefault(who, MemberState())
    stamp = local_time(program.calendar, event.at)
    events = (event.id, target)
    what = f"reverse `{spec.name}`: event `{target}`"
    if points < 0:  # a penalty reversed: what it took is given back as a new lot
        balance = ledger.credit(who, currency, -points, event.at, day)
        yield Record(
            kind="reversal",
            at=stamp,
            member=who,
            rule=spec.name,
            points=-points,
            currency=currency,
            balance=balance,
            events=events,
            code="given_back",
            reason=f"{what}: the {-points} {currency} `{source}` took are given back",
        )
        return
    member.earned[currency] = member.earned.get(currency, 0) - points
    if program.levels is not None and program.levels.days is not None:
        earned_on = state.paid.get(target, {}).get("day")
        if earned_on in member.window:
            member.window[earned_on] -= points
    held = ledger.cancel(who, currency, source, target)
    if held is not None:  # still pending: cancelled, it never reaches the balance
        yield Record(
            kind="cancelled",
            at=stamp,
            member=who,
            rule=spec.name,
            points=held,
            currency=currency,
            balance=member.balances.get(currency, 0),
            pending=held_points(member, currency),
            events=events,
            code="cancelled",
            reason=f"{what} held {held} {currency} from `{source}`: cancelled before release",
        )
        return
    taken = take(member, currency, points)
    short = points - taken
    what = f"{what} paid {points} {currency} from `{source}`"

    def taken_back(moved: int, reason: str) -> Record:
        return Record(
            kind="reversal",
            at=stamp,
            member=who,
            rule=spec.name,
            points=moved,
            currency=currency,
            balance=member.balances[currency],
            events=events,
            code="taken_back",
            reason=reason,
        )

    if short and spec.debt:
        member.debts[currency] = member.debts.get(currency, 0) + short
        member.balances[currency] -= short
        yield taken_back(-points, f"{what}: taken back; {short} already spent or expired, now owed")
        return
    if taken or not short:
        reason = f"{what}: taken back" if not short else f"{what}: {taken} left, taken back"
        yield taken_back(-taken, reason)
    if short:
        yield Record(
            kind="cut",
            at=stamp,
            member=who,
            rule=spec.name,
            points=short,
            currency=currency,
            balance=member.balances[currency],
            events=events,
            code="written_off",
            reason=f"{what}: {short} already spent or expired, written off",
        )
