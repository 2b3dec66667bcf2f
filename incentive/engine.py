"""The reference interpreter: events in time order -> records.

Evaluation is staged so that it can be partitioned (semantics.md, Budgets):

1. intake     — duplicates, id conflicts, attribute types, late and out-of-season events
2. member     — per-member rules: conditions, limits, amounts, boosts, caps
3. (ranks and budgets arrive with later stages: they see only stage-2 output)
4. ledger     — balances; a balance never goes below zero

All engine state is plain data keyed by member and period (`EngineState`), so
it can be saved, restored, or split by member.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from incentive.ast import PeriodName
from incentive.calendar import Calendar
from incentive.diagnostics import did_you_mean
from incentive.events import BadLine, Event, events_from_dicts
from incentive.expressions import (
    AmountError,
    MissingAttribute,
    condition_holds,
    evaluate,
    to_points,
)
from incentive.program import MilestoneSpec, Payment, Program, RuleSpec, StreakSpec, ValueType
from incentive.records import Record

MAX_ATTRIBUTE_NUMBER = Decimal(10) ** 15


# ---- state: plain data ---------------------------------------------------------------


@dataclass
class MemberState:
    balances: dict[str, int] = field(default_factory=dict)
    # "limit:<rule>:<period>" or "cap:<owner>:<period>" -> [period key, used]
    counters: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class EngineState:
    members: dict[str, MemberState] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # event id -> content fingerprint
    clock: datetime | None = None  # the latest event time processed
    open_day: date | None = None  # the day that is open; earlier days are closed
    # rank rule -> period key -> member -> [measure, reached at (UTC ISO), event id]
    ranks: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    # rank rule -> period key -> member -> [points earned, last earned at]
    rank_points: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    closed_ranks: dict[str, bool] = field(default_factory=dict)  # "rule|period" already paid


# ---- stage 1: intake -------------------------------------------------------------------


def coerce(value: Any, kind: ValueType) -> Any:
    """An attribute value as the scheme's type, or ValueError with the reason."""
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError("true/false")
        if isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("not a finite number")
            number = Decimal(repr(value))
        elif isinstance(value, str) and len(value) <= 40:
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError(repr(value)) from None
            if not number.is_finite():
                raise ValueError(repr(value))
        else:
            raise ValueError(type(value).__name__)
        if abs(number) > MAX_ATTRIBUTE_NUMBER:
            raise ValueError("a number beyond 10^15")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(repr(value))
    if isinstance(value, str):
        return value
    raise ValueError(f"{type(value).__name__} {value!r}")


def read_attributes(program: Program, event: Event) -> dict[str, Any] | str:
    """The attributes the rules read, typed; or the reason the event does not fit."""
    typed: dict[str, Any] = {"member": event.member, "type": event.type}
    for name, kind in program.attribute_types.get(event.type, {}).items():
        if name not in event.attributes:
            continue
        try:
            typed[name] = coerce(event.attributes[name], kind)
        except ValueError as err:
            what = {"number": "a number", "text": "text", "bool": "true or false"}[kind]
            return f"attribute `{name}` should be {what}, got {err}"
    return typed


# ---- stage 2: per-member rules -------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """Points a rule earns for a member, before budgets and the ledger."""

    rule: RuleSpec
    points: int
    member: str
    at: datetime
    events: tuple[str, ...]
    reason: str
    kind: Literal["award", "rank"] = "award"
    rank: int | None = None


def _count(member: MemberState, key: str, period_key: str) -> int:
    slot = member.counters.get(key)
    return slot[1] if slot is not None and slot[0] == period_key else 0


def _bump(member: MemberState, key: str, period_key: str, by: int) -> None:
    slot = member.counters.get(key)
    if slot is None or slot[0] != period_key:
        member.counters[key] = [period_key, by]
    else:
        slot[1] += by


def evaluate_rules(
    program: Program, member: MemberState, event: Event, attrs: Mapping[str, Any], day: date
) -> Iterator[Proposal | Record]:
    """Stage 2 for one event: every rule on its type, in file order."""
    calendar = program.calendar
    stamp = _stamp(calendar, event.at)
    for rule in program.rules_by_event.get(event.type, ()):
        if rule.rank is not None:
            continue  # ranks are tracked by the session and paid at the period's close
        if not condition_holds(rule.condition, attrs):
            continue
        if rule.streak is not None:
            yield from _streak(program, member, event, attrs, day, rule, rule.streak, stamp)
            continue
        if rule.milestone is not None:
            yield from _milestone(program, member, event, attrs, day, rule, rule.milestone, stamp)
            continue

        # Limits: only the first N matching events per period count.
        full = next(
            (
                limit
                for limit in rule.limits
                if _count(
                    member,
                    f"limit:{rule.name}:{limit.period}",
                    calendar.period_key(limit.period, day),
                )
                >= limit.count
            ),
            None,
        )
        if full is not None:
            yield _refused(rule, event, stamp, f"{full.describe()} reached")
            continue
        assert rule.amount is not None
        earned = _points(rule, Payment(rule.amount, rule.rounding), attrs, day, event, stamp)
        if isinstance(earned, Record):
            yield earned
            continue
        if earned is None:
            continue  # an amount of 0 is no award and does not use up a limit
        # Only an event that earns something counts toward the rule's limits.
        for limit in rule.limits:
            _bump(
                member,
                f"limit:{rule.name}:{limit.period}",
                calendar.period_key(limit.period, day),
                1,
            )
        yield from _capped(program, member, event, day, rule, earned, stamp)


def _refused(
    rule: RuleSpec, event: Event, stamp: str, reason: str, points: int | None = None
) -> Record:
    return Record(
        kind="refused",
        at=stamp,
        member=event.member,
        rule=rule.name,
        points=points,
        currency=rule.currency,
        events=(event.id,),
        reason=reason,
    )


def _points(
    rule: RuleSpec,
    payment: Payment,
    attrs: Mapping[str, Any],
    day: date,
    event: Event,
    stamp: str,
    why: str = "",
) -> tuple[int, str] | Record | None:
    """The whole points an amount earns after boosts and rounding, with the reason.

    A refusal record when it cannot be computed; None when it comes to 0.
    """
    try:
        amount = evaluate(payment.amount, attrs)
    except MissingAttribute as err:
        return _refused(
            rule, event, stamp, f"the event has no `{err.name}`, which the amount needs"
        )
    except AmountError as err:
        return _refused(rule, event, stamp, f"the amount cannot be computed: {err}")
    assert isinstance(amount, Decimal)
    factors: list[str] = []
    if amount > 0:
        for boost in rule.boosts:
            if boost.applies_on(day):
                amount *= boost.factor
                factors.append(f"boost `{boost.name}` x{boost.factor}")
    try:
        points = to_points(amount, payment.rounding)
    except AmountError as err:
        return _refused(rule, event, stamp, str(err))
    if points == 0:
        return None
    reason = f"rule `{rule.name}`" + (f": {why}" if why else "")
    if factors:
        reason += " with " + ", ".join(factors)
    return points, reason


def _capped(
    program: Program,
    member: MemberState,
    event: Event,
    day: date,
    rule: RuleSpec,
    earned: tuple[int, str],
    stamp: str,
) -> Iterator[Proposal | Record]:
    """Apply the member's caps: cut to what is left, or refuse when nothing is."""
    calendar = program.calendar
    points, reason = earned
    # Caps count net points per period; negative awards always apply and make room,
    # but only as much room as they really take: the ledger floors a balance at zero,
    # and a penalty that takes nothing must not let the cap be exceeded later.
    granted, binding = points, None
    counted = points  # what the caps' counters move by
    if points < 0:
        counted = -min(-points, member.balances.get(rule.currency, 0))
    if points > 0:
        for cap in rule.caps:
            used = _count(
                member, f"cap:{cap.owner}:{cap.period}", calendar.period_key(cap.period, day)
            )
            room = max(0, cap.points - used)
            if room < granted:
                granted, binding = room, cap
        counted = granted
    for cap in rule.caps:
        key = f"cap:{cap.owner}:{cap.period}"
        _bump(member, key, calendar.period_key(cap.period, day), counted)
    if binding is not None and granted == 0:
        yield _refused(rule, event, stamp, f"{binding.describe()} reached", points)
        return
    # A penalty is proposed in full: the ledger cuts it at zero and records the cut.
    yield Proposal(rule, granted, event.member, event.at, (event.id,), reason)
    if binding is not None:
        yield Record(
            kind="cut",
            at=stamp,
            member=event.member,
            rule=rule.name,
            points=points - granted,
            currency=rule.currency,
            events=(event.id,),
            reason=f"{binding.describe()} reached: {granted} of {points} paid",
        )


def _pay(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    payment: Payment,
    stamp: str,
    why: str = "",
) -> Iterator[Proposal | Record]:
    earned = _points(rule, payment, attrs, day, event, stamp, why)
    if isinstance(earned, Record):
        yield earned
    elif earned is not None:
        yield from _capped(program, member, event, day, rule, earned, stamp)


def period_index(period: PeriodName, key_day: date, calendar: Calendar) -> int:
    """Consecutive periods have consecutive indexes (for streaks)."""
    if period == "day":
        return key_day.toordinal()
    if period == "week":
        return date.fromisoformat(calendar.period_key("week", key_day)).toordinal() // 7
    return key_day.year * 12 + key_day.month


def _streak(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    streak: StreakSpec,
    stamp: str,
) -> Iterator[Proposal | Record]:
    """Count consecutive periods with a matching event; pay on reaching a length."""
    index = period_index(streak.period, day, program.calendar)
    key = f"streak:{rule.name}"
    slot = member.counters.get(key)  # [last period index, length, missed periods forgiven]
    if slot is not None and slot[0] == index:
        return  # this period already counts
    if slot is None:
        slot = member.counters[key] = [index, 1, 0]
        note = "a streak starts"
    else:
        missed = index - slot[0] - 1
        if missed <= streak.grace - slot[2]:
            slot[1] += 1
            slot[2] += missed
            note = "the streak goes on" + (f" ({missed} missed, forgiven)" if missed else "")
        else:
            slot[1], slot[2] = 1, 0
            note = f"the streak was broken ({missed} missed); a new one starts"
        slot[0] = index
    length = slot[1]
    unit = (
        streak.period
        if length == 1
        else {"day": "days", "week": "weeks", "month": "months"}[streak.period]
    )
    yield Record(
        kind="streak",
        at=stamp,
        member=event.member,
        rule=rule.name,
        streak=length,
        events=(event.id,),
        reason=f"{note}: {length} {unit} in a row",
    )
    for threshold, payment in streak.tiers:
        if length == threshold:
            yield from _pay(
                program,
                member,
                event,
                attrs,
                day,
                rule,
                payment,
                stamp,
                f"{length} {unit} in a row",
            )
    if streak.every is not None and length % streak.every[0] == 0:
        yield from _pay(
            program,
            member,
            event,
            attrs,
            day,
            rule,
            streak.every[1],
            stamp,
            f"{length} {unit} in a row (every {streak.every[0]})",
        )


def _milestone(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    milestone: MilestoneSpec,
    stamp: str,
) -> Iterator[Proposal | Record]:
    """Add this event to the member's count or sum; pay each threshold it crosses."""
    if milestone.attribute is None:
        step = Decimal(1)
    elif milestone.attribute in attrs:
        step = attrs[milestone.attribute]
    else:
        yield _refused(
            rule,
            event,
            stamp,
            f"the event has no `{milestone.attribute}`, which the milestone sums",
        )
        return
    key = f"milestone:{rule.name}"
    period_key = program.calendar.period_key(milestone.period, day)
    slot = member.counters.get(key)  # [period key, running total, highest total reached]
    if slot is None or slot[0] != period_key:
        slot = member.counters[key] = [period_key, "0", "0"]
    total = Decimal(slot[1]) + step
    # A threshold pays once: a sum that falls (negative values) and rises again
    # pays only for ground above the highest total already reached.
    before = Decimal(slot[2])
    after = max(before, total)
    slot[1], slot[2] = str(total), str(after)
    what = "matching events" if milestone.attribute is None else f"`{milestone.attribute}`"
    scope = "" if milestone.period is None else f" this {milestone.period}"
    for threshold, payment in milestone.tiers:
        if before < threshold <= after:
            yield from _pay(
                program,
                member,
                event,
                attrs,
                day,
                rule,
                payment,
                stamp,
                f"{threshold} {what} reached{scope}",
            )


# ---- stage 4: the ledger ----------------------------------------------------------------------


def post(program: Program, member: MemberState, proposal: Proposal) -> Iterator[Record]:
    """Move the balance; a penalty larger than the balance is cut at zero."""
    rule = proposal.rule
    balance = member.balances.get(rule.currency, 0)
    points = proposal.points
    stamp = _stamp(program.calendar, proposal.at)
    cut = 0
    if balance + points < 0:
        cut, points = -(balance + points), -balance
    member.balances[rule.currency] = balance + points
    if points != 0 or cut == 0:
        yield Record(
            kind=proposal.kind,
            at=stamp,
            member=proposal.member,
            rule=rule.name,
            points=points,
            currency=rule.currency,
            balance=balance + points,
            rank=proposal.rank,
            events=proposal.events,
            reason=proposal.reason,
        )
    if cut:
        yield Record(
            kind="cut",
            at=stamp,
            member=proposal.member,
            rule=rule.name,
            points=cut,
            currency=rule.currency,
            balance=balance + points,
            events=proposal.events,
            reason=f"a balance cannot go below zero: {-points} of {-proposal.points} taken",
        )


# ---- stage 3: rankings per period -------------------------------------------------------------


def track_rank(
    state: EngineState,
    program: Program,
    rule: RuleSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> None:
    """Record a matching event in the rank table of its period (paid at the close)."""
    rank = rule.rank
    assert rank is not None
    key = program.calendar.period_key(rank.period, day)
    table = state.ranks.setdefault(rule.name, {}).setdefault(key, {})
    at = event.at.isoformat()
    entry = table.get(event.member)
    if entry is None:
        # [measure, when it was reached, the event that reached it]
        entry = table[event.member] = ["0", at, event.id]
        if rank.measure == "earliest":
            return
    if rank.measure == "count":
        entry[0] = str(Decimal(entry[0]) + 1)
    elif rank.measure in ("sum", "max"):
        assert rank.attribute is not None
        value = attrs.get(rank.attribute)
        if value is None:
            return
        current = Decimal(entry[0])
        new = current + value if rank.measure == "sum" else max(current, value)
        if new == current:
            return  # the measure did not move: keep the time it was first reached
        entry[0] = str(new)
    else:
        return  # earliest: the first event decides; points arrive from other rules
    entry[1], entry[2] = at, event.id


def track_points(state: EngineState, program: Program, proposal: Proposal, day: date) -> None:
    """Points earned count toward `by points` ranks (before budgets, semantics.md)."""
    for rule in program.rules:
        rank = rule.rank
        if rank is None or rank.measure != "points" or proposal.rule.rank is not None:
            continue
        if rank.sources and proposal.rule.name not in rank.sources:
            continue
        key = program.calendar.period_key(rank.period, day)
        points = state.rank_points.setdefault(rule.name, {}).setdefault(key, {})
        before = points.get(proposal.member, [0, ""])
        points[proposal.member] = [before[0] + proposal.points, proposal.at.isoformat()]


def close_rank(
    state: EngineState, program: Program, rule: RuleSpec, key: str, closes: datetime
) -> list[Proposal]:
    """Rank one period's members and propose their awards, dated at the close."""
    rank = rule.rank
    assert rank is not None
    table = state.ranks.get(rule.name, {}).pop(key, {})
    points = state.rank_points.get(rule.name, {}).pop(key, {})
    state.closed_ranks[f"{rule.name}|{key}"] = True
    if rank.measure == "points":
        for member, entry in table.items():
            earned = points.get(member)
            entry[0] = str(earned[0]) if earned else "0"
            if earned:
                entry[1] = earned[1]
    sign = 1 if rank.side == "bottom" else -1
    if rank.measure == "earliest":
        # Top by earliest: the first to act; bottom: the last. Ties: member id.
        order = sorted(table.items(), key=lambda kv: (-sign * _epoch(kv[1][1]), kv[0]))
    else:
        # Highest first for top, lowest first for bottom; ties: who reached it first, then id.
        order = sorted(
            table.items(), key=lambda kv: (sign * Decimal(kv[1][0]), _epoch(kv[1][1]), kv[0])
        )
    by = rank.measure + (f" {rank.attribute}" if rank.attribute else "")
    proposals = []
    for position, (member, entry) in enumerate(order[: rank.count], start=1):
        amount = rank.amount_for(position)
        if amount == 0:
            continue
        measure = "" if rank.measure == "earliest" else f" with {entry[0]}"
        proposals.append(
            Proposal(
                rule,
                amount,
                member,
                closes,
                (entry[2],),
                f"rule `{rule.name}`: {_ordinal(position)} of {len(order)} by {by}{measure} "
                f"({rank.period} {key})",
                kind="rank",
                rank=position,
            )
        )
    return proposals


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _stamp(calendar: Calendar, instant: datetime) -> str:
    return calendar.to_local(instant).isoformat()


# ---- the session: streaming evaluation ------------------------------------------------------


class Session:
    """Feed events one at a time and read the records each produces.

    Batch evaluation is this same session fed with the events sorted by time,
    so streaming in time order and batch give identical records.
    """

    def __init__(self, program: Program, state: EngineState | None = None) -> None:
        self.program = program
        self.state = state or EngineState()
        self.fed = 0  # items fed so far: a bad one is reported by its position

    def feed(self, item: Event | BadLine | Mapping[str, Any]) -> list[Record]:
        """Evaluate one event (an Event or a dict as in a JSON line); never raises."""
        self.fed += 1
        if not isinstance(item, Event | BadLine):
            item = next(events_from_dicts([item], self.program.calendar, self.fed))
        if isinstance(item, BadLine):
            return [bad_line_record(item)]
        return list(self._evaluate(item))

    def _evaluate(self, event: Event) -> Iterator[Record]:
        program, state = self.program, self.state
        calendar = program.calendar
        stamp = _stamp(calendar, event.at)
        known = state.seen.get(event.id)
        if known is not None:
            if known == event.fingerprint:
                yield Record(
                    kind="duplicate",
                    at=stamp,
                    member=event.member,
                    events=(event.id,),
                    reason="this event id was already processed: skipped",
                )
            else:
                yield Record(
                    kind="conflict",
                    at=stamp,
                    member=event.member,
                    events=(event.id,),
                    reason="this event id was already used for a different event: refused",
                )
            return
        if program.known_events is not None and event.type not in program.known_events:
            near = did_you_mean(event.type, program.known_events)
            yield _bad_event(
                event,
                f"unknown event type `{event.type}`"
                + (f" (did you mean `{near}`?)" if near else ""),
                calendar,
            )
            return
        attrs = read_attributes(program, event)
        if isinstance(attrs, str):
            yield _bad_event(event, attrs, calendar)
            return
        state.seen[event.id] = event.fingerprint
        day = calendar.day_of(event.at)
        yield from self._close_until(event.at)
        if state.open_day is not None and day < state.open_day:
            yield Record(
                kind="late",
                at=stamp,
                member=event.member,
                events=(event.id,),
                reason=f"day {day} had closed when this event arrived",
            )
            return
        if not calendar.in_season(day):
            assert calendar.season is not None
            first, last = calendar.season
            yield Record(
                kind="outside_season",
                at=stamp,
                member=event.member,
                events=(event.id,),
                reason=f"the season runs from {first} to {last}",
            )
            return
        state.open_day = day
        if state.clock is None or event.at > state.clock:
            state.clock = event.at
        member = state.members.setdefault(event.member, MemberState())
        for outcome in evaluate_rules(program, member, event, attrs, day):
            if isinstance(outcome, Proposal):
                track_points(state, program, outcome, day)
                yield from post(program, member, outcome)
            else:
                yield outcome
        for rule in program.rules_by_event.get(event.type, ()):
            if rule.rank is not None and condition_holds(rule.condition, attrs):
                track_rank(state, program, rule, event, attrs, day)

    def _close_until(self, instant: datetime | None) -> Iterator[Record]:
        """Pay every rank period that has ended by `instant` (all of them when None)."""
        program, state = self.program, self.state
        due: list[tuple[datetime, int, str, RuleSpec]] = []
        for index, rule in enumerate(program.rules):
            if rule.rank is None:
                continue
            keys = set(state.ranks.get(rule.name, {})) | set(state.rank_points.get(rule.name, {}))
            for key in keys:
                end = program.calendar.period_end(rule.rank.period, key)
                if instant is None or end <= instant:
                    due.append((end, index, key, rule))
        for end, _, key, rule in sorted(due, key=lambda d: (d[0], d[1], d[2])):
            if state.closed_ranks.get(f"{rule.name}|{key}"):
                # A period pays once, even if its close is replayed.
                state.ranks.get(rule.name, {}).pop(key, None)
                state.rank_points.get(rule.name, {}).pop(key, None)
                continue
            for proposal in close_rank(state, program, rule, key, end):
                member = state.members.setdefault(proposal.member, MemberState())
                yield from post(program, member, proposal)

    def close_all(self) -> list[Record]:
        """End of input: close every open period and pay what it owes."""
        return list(self._close_until(None))

    def advance_to(self, instant: datetime) -> list[Record]:
        """Tell the session that time has reached `instant`: days before it close.

        A naive `instant` is read in the scheme's time zone, as event times are.
        """
        if instant.tzinfo is None:
            instant = self.program.calendar.to_utc(instant)
        day = self.program.calendar.day_of(instant)
        if self.state.open_day is None or day > self.state.open_day:
            self.state.open_day = day
        return list(self._close_until(instant))

    def balance(self, member: str, currency: str | None = None) -> int:
        state = self.state.members.get(member)
        if state is None:
            return 0
        return state.balances.get(currency or self.program.default_currency, 0)

    def balances(self) -> dict[str, dict[str, int]]:
        """member -> currency -> balance (every currency, 0 included), sorted."""
        currencies = self.program.currencies
        return {
            member: dict(sorted({c: state.balances.get(c, 0) for c in currencies}.items()))
            for member, state in sorted(self.state.members.items())
        }

    def balance_records(self) -> list[Record]:
        return [
            Record(kind="balance", member=member, currency=currency, points=points, balance=points)
            for member, by_currency in self.balances().items()
            for currency, points in by_currency.items()
        ]


def _bad_event(event: Event, reason: str, calendar: Calendar) -> Record:
    return Record(
        kind="bad_event",
        at=_stamp(calendar, event.at),
        member=event.member,
        events=(event.id,),
        reason=reason,
        source=event.source,
        line=event.line,
    )


def bad_line_record(bad: BadLine) -> Record:
    return Record(kind="bad_event", reason=bad.reason, source=bad.source, line=bad.line)


@dataclass
class RunResult:
    records: list[Record]
    balances: dict[str, dict[str, int]]
    session: Session

    @property
    def bad_events(self) -> int:
        return sum(1 for r in self.records if r.kind == "bad_event")


def run_batch(
    program: Program,
    items: Iterable[Event | BadLine | Mapping[str, Any]],
    until: datetime | None = None,
) -> RunResult:
    """Evaluate a whole stream: bad lines are reported first, then events in time order."""
    session = Session(program)
    records: list[Record] = []
    events: list[Event] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, Event | BadLine):
            item = next(events_from_dicts([item], program.calendar, position))
        if isinstance(item, BadLine):
            records.append(bad_line_record(item))
        else:
            events.append(item)
    events.sort(key=lambda e: e.at)  # stable: equal times keep their input order
    for event in events:
        records.extend(session.feed(event))
    records.extend(session.advance_to(until) if until is not None else session.close_all())
    return RunResult(records, session.balances(), session)
