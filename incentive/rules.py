"""Stage 2, per-member rules: conditions, limits, amounts, boosts, caps, streaks
and milestones. Each function reads and writes one member's state only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from incentive.ast import PeriodName
from incentive.calendar import Calendar, OwnCalendar, own_index
from incentive.events import Event
from incentive.expressions import (
    RANDOM_DRAW,
    AmountError,
    MissingAttribute,
    attributes_read,
    condition_holds,
    evaluate,
    to_points,
    truth,
    uses_random,
)
from incentive.program import BudgetSpec, MilestoneSpec, Payment, Program, RuleSpec, StreakSpec
from incentive.records import Record, RecordCode, perk_record
from incentive.start_windows import own_calendar, start_window_open
from incentive.state import MemberState, bump, count, limit_reached, local_time, use_limits


@dataclass(frozen=True)
class Proposal:
    """Points a rule (or a grant) earns for a member, before budgets and the ledger."""

    source: str  # the rule's or grants block's name
    currency: str
    points: int
    member: str
    at: datetime
    day: date  # the day the points belong to (a rank award: its period's last day)
    events: tuple[str, ...]
    reason: str
    kind: Literal["award", "rank", "grant"] = "award"
    code: RecordCode = "rule"  # the record's code (records.RecordCode)
    rank: int | None = None
    team: str | None = None  # a team rank award: the team it was paid to
    value: str | None = None  # a rank award: the measure it ranked by
    budgets: tuple[BudgetSpec, ...] = ()
    rule: RuleSpec | None = None  # None for a grant

    @classmethod
    def of(cls, rule: RuleSpec, **fields: Any) -> Proposal:
        return cls(rule.name, rule.currency, budgets=rule.budgets, rule=rule, **fields)


def evaluate_rules(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    members: dict[str, MemberState] | None = None,
    claims: dict[str, dict[str, list[Any]]] | None = None,
    dates: dict[str, dict[str, str]] | None = None,
) -> Iterator[Proposal | Record]:
    """Stage 2 for one event: every rule on its type, in file order.

    `claims`: state.invites, which `milestone distinct` counts values against; `dates`:
    state.dates, the dates a window counts from (`within 3 days of joined`)."""
    calendar = program.calendar
    stamp = local_time(calendar, event.at)
    for rule in program.rules_by_event.get(event.type, ()):
        if (
            rule.rank is not None
            or rule.inactive is not None
            or rule.inviter is not None
            or rule.goal is not None
        ):
            continue  # ranks, flags, referrals, goals are the session's: they span members or time
        if rule.condition is not None:
            known = truth(rule.condition, attrs)
            if known is not True:
                if known is None:
                    yield from unread(program, rule, event, attrs, stamp)
                continue
        if rule.since is not None:
            opened = start_window_open(program, rule, member, event, day, stamp, dates or {})
            if opened is not True:
                if opened is not False:
                    yield opened  # no date to count from
                continue
        if rule.periods_from is not None:
            yield from own_periods(
                program, member, event, attrs, day, rule, stamp, members, claims, dates
            )
            continue
        yield from evaluate_rule(program, member, event, attrs, day, rule, stamp, members, claims)


def own_periods(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
    members: dict[str, MemberState] | None = None,
    claims: dict[str, dict[str, list[Any]]] | None = None,
    dates: dict[str, dict[str, str]] | None = None,
) -> Iterator[Proposal | Record]:
    """`periods from first signup`: the rule counts its weeks, months, quarters and years
    from the member's start (calendar.OwnCalendar); before the start it does not count
    the event; a member with no date to count from is refused."""
    calendar = own_calendar(program, rule, member, event, day, stamp, dates or {})
    if calendar is None:
        return
    if isinstance(calendar, Record):
        yield calendar
        return
    yield from evaluate_rule(
        program, member, event, attrs, day, rule, stamp, members, claims, calendar
    )


def evaluate_rule(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
    members: dict[str, MemberState] | None = None,
    claims: dict[str, dict[str, list[Any]]] | None = None,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """One per-member rule on an event whose `where` holds and that its window counts;
    `calendar`: the periods its limits, caps, streak and milestone count in (the member's
    own, `periods from`), else the scheme's."""
    if rule.streak is not None and rule.streak.need is not None:
        yield from reaching(program, member, event, attrs, day, rule, rule.streak, stamp, calendar)
        return
    if rule.streak is not None:
        yield from _streak(program, member, event, attrs, day, rule, rule.streak, stamp, calendar)
        return
    if rule.milestone is not None:
        yield from _milestone(
            program, member, event, attrs, day, rule, rule.milestone, stamp, claims, calendar
        )
        return
    if rule.first is not None:
        assert claims is not None, "a challenge needs the claims of every member"
        yield from first_winners(program, member, event, attrs, day, rule, stamp, claims)
        return
    if rule.window is not None:
        yield from window(program, member, event, attrs, day, rule, stamp, calendar)
        return
    if rule.every_time:
        yield from each_time(program, member, event, attrs, day, rule, stamp, calendar)
        return
    if rule.credit is not None:
        assert members is not None, "a rule that credits another member needs them all"
        yield from credited(program, members, member, event, attrs, day, rule, stamp)
        return
    yield from _award(
        program, member, event.member, event, attrs, day, rule, stamp, calendar=calendar
    )


def credited(
    program: Program,
    members: dict[str, MemberState],
    sender: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
) -> Iterator[Proposal | Record]:
    """`credit candidate`: pay the member the event names. The sender's limits count
    (one vote per candidate is the voter's), the payee's caps bound what it earns."""
    assert rule.credit is not None
    payee = attrs.get(rule.credit)
    if not isinstance(payee, str) or not payee.strip():
        reason = f"the event has no `{rule.credit}`, which the rule's `credit` reads"
        yield _refused(rule, event, stamp, reason, code="missing_attribute")
        return
    if payee == event.member:
        reason = f"`{rule.credit}` names the sender: no member is credited for their own event"
        yield _refused(rule, event, stamp, reason, code="self_credit")
        return
    account = members.get(payee)
    if account is None:
        account = members[payee] = MemberState()  # a candidate who never acted is paid too
    why = f"from `{event.member}`"
    yield from _award(program, sender, payee, event, attrs, day, rule, stamp, why, account)


def each_time(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """`badge "helper" every time`: the rule's perk on this event, within its limits
    (`limit 1 per day`: at most one a day); each one counts toward them."""
    assert rule.perk is not None
    calendar = calendar or program.calendar
    for limit in rule.limits:
        if limit.key is not None and limit.key not in attrs:
            reason = f"the event has no `{limit.key}`, which the rule's limit counts by"
            yield _refused(rule, event, stamp, reason, code="missing_attribute")
            return
    full = limit_reached(member, rule.name, rule.limits, calendar, day, attrs)
    if full is not None:
        yield _refused(rule, event, stamp, f"{full.describe()} reached", code="limit_reached")
        return
    use_limits(member, rule.name, rule.limits, calendar, day, attrs)
    yield from _pay(
        program,
        member,
        event,
        attrs,
        day,
        rule,
        Payment(None, "down", rule.perk),
        stamp,
        "this event",
    )


def first_winners(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
    claims: dict[str, dict[str, list[Any]]],
) -> Iterator[Proposal | Record]:
    """`first 3 per week  award prize`: the event's member wins if fewer than K members
    have won this period and they have not; the award (read from this event) or perk is
    paid at once. An event that pays nothing (a limit, a missing prize, 0) does not win.

    `claims` (state.invites): RULE -> {period key: [the winners, in order]}; only the
    current period's list is kept (a rule is either a challenge or a distinct milestone,
    so their tables never meet)."""
    assert rule.first is not None
    places, period = rule.first
    period_key = program.calendar.period_key(period, day)
    table = claims.setdefault(rule.name, {})  # by the rule's name: renames carry it
    winners = table.get(period_key)
    if winners is None:
        table.clear()  # events come in time order: an earlier period is over
        winners = table[period_key] = []
    scope = "" if period is None else f" this {period}"
    if event.member in winners:
        reason = f"already one of the first {places}{scope}"
        yield _refused(rule, event, stamp, reason, code="limit_reached")
        return
    if len(winners) >= places:
        reason = f"the first {places}{scope} have won"
        yield _refused(rule, event, stamp, reason, code="limit_reached")
        return
    place = len(winners) + 1
    why = f"{_ordinal(place)} of the first {places}{scope}"
    if rule.perk is not None:
        paid: list[Proposal | Record] = list(
            _pay(
                program,
                member,
                event,
                attrs,
                day,
                rule,
                Payment(None, "down", rule.perk),
                stamp,
                why,
            )
        )
    else:
        paid = [
            replace(p, code="first") if isinstance(p, Proposal) else p
            for p in _award(program, member, event.member, event, attrs, day, rule, stamp, why)
        ]
    if any(isinstance(p, Proposal) or p.kind in ("perk", "badge", "flag") for p in paid):
        winners.append(event.member)
    yield from paid


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def window(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """`window 3 within 7 days`: when this event makes N matching events not yet used
    within the last D days of the calendar (today one of them), pay the rule's award or
    perk; those events are used up. The member's counter holds the unused events' days
    (ordinals), at most N - 1 of them."""
    assert rule.window is not None
    needed, days = rule.window
    key = f"window:{rule.name}"
    first = day.toordinal() - days + 1
    kept = [d for d in member.counters.get(key, ()) if d >= first]
    kept.append(day.toordinal())
    if len(kept) < needed:
        member.counters[key] = kept
        return
    member.counters.pop(key, None)  # the events that pay are used up
    why = f"{needed} matching events within {days} days"
    calendar = calendar or program.calendar
    full = limit_reached(member, rule.name, rule.limits, calendar, day, attrs)
    if full is not None:
        yield _refused(
            rule, event, stamp, f"{full.describe()} reached: {why}", code="limit_reached"
        )
        return
    payment = (
        Payment(None, "down", rule.perk)
        if rule.perk is not None
        else Payment(rule.amount, rule.rounding)
    )
    paid = list(
        _pay(program, member, event, attrs, day, rule, payment, stamp, why, "window", calendar)
    )
    if any(isinstance(p, Proposal) or p.kind in ("perk", "badge", "flag") for p in paid):
        use_limits(member, rule.name, rule.limits, calendar, day, attrs)
    yield from paid


def unread(
    program: Program, rule: RuleSpec, event: Event, attrs: Mapping[str, Any], stamp: str
) -> Iterator[Record]:
    """A rule's `where` could not be decided because the event lacks an attribute it
    reads (a renamed export column): say which, rather than pay nothing silently.
    Teams and the level are the member's, not the event's: a member in no team is
    simply not in the team a condition names."""
    assert rule.condition is not None
    for name in attributes_read(rule.condition):
        if name not in attrs and name not in program.teams and name != "level":
            yield _refused(
                rule,
                event,
                stamp,
                f"the event has no `{name}`, which the rule's `where` reads",
                code="missing_attribute",
            )
            return


def referral(
    program: Program,
    inviter: MemberState,
    who: str,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
) -> Iterator[Proposal | Record]:
    """Pay the inviter for what their invitee did: the inviter's limits and caps."""
    stamp = local_time(program.calendar, event.at)
    yield from _award(
        program, inviter, who, event, attrs, day, rule, stamp, f"invitee `{event.member}`"
    )


def _award(
    program: Program,
    member: MemberState,
    who: str,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    stamp: str,
    why: str = "",
    payee: MemberState | None = None,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """A per-event award to `who`: limits (on `member`), amount, boosts, then caps (on
    `payee`, the member paid when the rule credits someone else; else `member`).
    `calendar`: the member's own periods (`periods from`), else the scheme's."""
    calendar = calendar or program.calendar
    for limit in rule.limits:
        if limit.key is not None and limit.key not in attrs:
            reason = f"the event has no `{limit.key}`, which the rule's limit counts by"
            yield _refused(rule, event, stamp, reason, who=who, code="missing_attribute")
            return
    # Limits: only the first N matching events per period count.
    full = limit_reached(member, rule.name, rule.limits, calendar, day, attrs)
    if full is not None:
        reason = f"{full.describe()} reached" + (f": {why}" if rule.credit else "")
        yield _refused(rule, event, stamp, reason, who=who, code="limit_reached")
        return
    assert rule.amount is not None
    earned = _points(
        rule,
        Payment(rule.amount, rule.rounding),
        attrs,
        day,
        event,
        stamp,
        why,
        seed=program.seed,
    )
    if isinstance(earned, Record):
        yield earned.replace(member=who)
        return
    if earned is None:
        return  # an amount of 0 is no award and does not use up a limit
    note = attrs.get(rule.reason) if rule.reason is not None else None
    if isinstance(note, str) and note:  # a moderator's note goes into the record
        earned = (earned[0], f"{earned[1]}: {note}")
    # Only an event that earns something counts toward the rule's limits.
    use_limits(member, rule.name, rule.limits, calendar, day, attrs)
    yield from _capped(
        program, payee or member, event, day, rule, earned, stamp, who, calendar=calendar
    )


def _refused(
    rule: RuleSpec,
    event: Event,
    stamp: str,
    reason: str,
    points: int | None = None,
    who: str | None = None,
    *,
    code: RecordCode,
) -> Record:
    return Record(
        kind="refused",
        at=stamp,
        member=who or event.member,
        rule=rule.name,
        points=points,
        currency=rule.currency,
        events=(event.id,),
        code=code,
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
    seed: int = 0,
) -> tuple[int, str] | Record | None:
    """The whole points an amount earns after boosts and rounding, with the reason.

    A refusal record when it cannot be computed; None when it comes to 0.
    """
    assert payment.amount is not None
    if uses_random(payment.amount):
        attrs = {**attrs, RANDOM_DRAW: draw_for(seed, rule.name, event.id, why)}
    try:
        amount = evaluate(payment.amount, attrs)
    except MissingAttribute as err:
        return _refused(
            rule,
            event,
            stamp,
            f"the event has no `{err.name}`, which the amount needs",
            code="missing_attribute",
        )
    except AmountError as err:
        return _refused(
            rule, event, stamp, f"the amount cannot be computed: {err}", code="amount_error"
        )
    assert isinstance(amount, Decimal)
    factors: list[str] = []
    if amount > 0:
        for boost in rule.boosts:
            if boost.applies_on(day) and condition_holds(boost.condition, attrs):
                amount *= boost.factor
                factors.append(f"boost `{boost.name}` x{boost.factor}")
    try:
        points = to_points(amount, payment.rounding)
    except AmountError as err:
        return _refused(rule, event, stamp, str(err), code="amount_error")
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
    who: str | None = None,
    code: RecordCode = "rule",
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """Apply the member's caps: cut to what is left, or refuse when nothing is. The
    rule's own caps count in `calendar` (the member's own periods, `periods from`); a
    group's caps, shared with other rules, in the scheme's."""
    own = calendar or program.calendar
    who = who or event.member
    points, reason = earned
    # Caps count net points per period; negative awards always apply and make room,
    # but only as much room as they really take: the ledger floors a balance at zero,
    # and a penalty that takes nothing must not let the cap be exceeded later.
    granted, binding = points, None
    counted = points  # what the caps' counters move by
    if points < 0:
        counted = -min(-points, max(0, member.balances.get(rule.currency, 0)))
    if points > 0:
        for cap in rule.caps:
            in_ = own if cap.own else program.calendar
            used = count(member, f"cap:{cap.owner}:{cap.period}", in_.period_key(cap.period, day))
            room = max(0, cap.points - used)
            if room < granted:
                granted, binding = room, cap
        counted = granted
    for cap in rule.caps:
        key = f"cap:{cap.owner}:{cap.period}"
        in_ = own if cap.own else program.calendar
        bump(member, key, in_.period_key(cap.period, day), counted)
    if binding is not None and granted == 0:
        yield _refused(
            rule, event, stamp, f"{binding.describe()} reached", points, who, code="cap_reached"
        )
        return
    # A penalty is proposed in full: the ledger cuts it at zero and records the cut.
    yield Proposal.of(
        rule,
        points=granted,
        member=who,
        at=event.at,
        day=day,
        events=(event.id,),
        reason=reason,
        code=code,
    )
    if binding is not None:
        yield Record(
            kind="cut",
            at=stamp,
            member=who,
            rule=rule.name,
            points=points - granted,
            currency=rule.currency,
            events=(event.id,),
            code="cap_reached",
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
    code: RecordCode = "rule",
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    if payment.perk is not None:
        yield perk_record(
            rule.name,
            payment.perk,
            why,
            at=stamp,
            member=event.member,
            events=(event.id,),
            code="perk",
        )
        return
    earned = _points(rule, payment, attrs, day, event, stamp, why, program.seed)
    if isinstance(earned, Record):
        yield earned
    elif earned is not None:
        yield from _capped(
            program, member, event, day, rule, earned, stamp, code=code, calendar=calendar
        )


def period_index(period: PeriodName, key_day: date, calendar: Calendar) -> int:
    """Consecutive periods have consecutive indexes (for streaks); in a member's own
    periods (`periods from`), the number of the own period since the start."""
    if isinstance(calendar, OwnCalendar):
        return own_index(period, calendar.start, key_day)
    if period == "day":
        return key_day.toordinal()
    if period == "week":
        return date.fromisoformat(calendar.period_key("week", key_day)).toordinal() // 7
    if period == "year":
        return key_day.year
    if period == "quarter":
        return key_day.year * 4 + (key_day.month - 1) // 3
    return key_day.year * 12 + key_day.month


def reaching(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    streak: StreakSpec,
    stamp: str,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """`streak per week  reaching 100 points`: add the event to its period's count (or
    sum); the event that makes the period reach the threshold moves the streak on, as a
    period's first matching event does in a plain streak (_streak)."""
    assert streak.need is not None
    if streak.attribute is None:
        step = Decimal(1)
    elif streak.attribute in attrs:
        step = attrs[streak.attribute]
    else:
        reason = f"the event has no `{streak.attribute}`, which the streak's `reaching` sums"
        yield _refused(rule, event, stamp, reason, code="missing_attribute")
        return
    index = period_index(streak.period, day, calendar or program.calendar)
    key = f"reaching:{rule.name}"
    slot = member.counters.get(key)  # [period index, the period's total, reached (0/1)]
    if slot is None or slot[0] != index:
        slot = member.counters[key] = [index, "0", 0]
    if slot[2]:
        return  # this period already counts
    total = Decimal(slot[1]) + step
    slot[1] = str(total)
    if total >= streak.need:
        slot[2] = 1
        yield from _streak(program, member, event, attrs, day, rule, streak, stamp, calendar)


def earned_streak(
    program: Program, member: MemberState, rule: RuleSpec, paid: Proposal
) -> Iterator[Proposal | Record]:
    """`streak per week  reaching 100 coins earned`: the points `paid` (another rule's
    award, rank award or grant, after caps, before budgets; a penalty as far as the
    balance could pay it) count toward the period they belong to; the payment that
    brings the period to the threshold moves the streak on, at its time and naming its
    events. Points for a period before the member's latest counted one are too late."""
    streak = rule.streak
    assert streak is not None and streak.need is not None
    index = period_index(streak.period, paid.day, program.calendar)
    key = f"earned:{rule.name}"
    slot = member.counters.get(key)  # [period index, points earned in it, reached (0/1)]
    if slot is not None and index < slot[0]:
        return  # a period the member has moved past
    if slot is None or slot[0] != index:
        slot = member.counters[key] = [index, 0, 0]
    slot[1] += paid.points
    if slot[2] or slot[1] < streak.need:
        return
    slot[2] = 1
    cause = Event(paid.events[0] if paid.events else "", "", paid.member, paid.at)
    stamp = local_time(program.calendar, paid.at)
    yield from _streak(program, member, cause, {}, paid.day, rule, streak, stamp)


def _streak(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    streak: StreakSpec,
    stamp: str,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """Count consecutive periods with a matching event; pay on reaching a length."""
    index = period_index(streak.period, day, calendar or program.calendar)
    moved = streak_moves(member, event, index, rule, streak, stamp)
    if moved is None:
        return  # this period already counts
    record, length, unit = moved
    yield record
    yield from streak_payments(
        program, member, event, attrs, day, rule, streak, stamp, length, unit, calendar
    )


def streak_moves(
    member: MemberState, event: Event, index: int, rule: RuleSpec, streak: StreakSpec, stamp: str
) -> tuple[Record, int, str] | None:
    """A streak's step for the period numbered `index` (period_index): its record, the
    length reached and the unit it is counted in; None if this period already counts.
    (The compiled evaluator calls it, then streak_payments when the length pays.)"""
    key = f"streak:{rule.name}"
    slot = member.counters.get(key)  # [last period index, length, missed periods forgiven]
    if slot is not None and slot[0] == index:
        return None
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
        else {"day": "days", "week": "weeks", "month": "months", "year": "years"}.get(
            streak.period, f"{streak.period}s"
        )
    )
    record = Record(
        kind="streak",
        at=stamp,
        member=event.member,
        rule=rule.name,
        streak=length,
        events=(event.id,),
        code="streak",
        reason=f"{note}: {length} {unit} in a row",
    )
    return record, length, unit


def streak_payments(
    program: Program,
    member: MemberState,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    streak: StreakSpec,
    stamp: str,
    length: int,
    unit: str,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """What a streak that reached `length` pays: its tiers, then its `every`."""
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
                "streak",
                calendar,
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
            "streak",
            calendar,
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
    claims: dict[str, dict[str, list[Any]]] | None = None,
    calendar: Calendar | None = None,
) -> Iterator[Proposal | Record]:
    """Add this event to the member's count or sum; pay each threshold it crosses.

    `claims` (state.invites): for `milestone distinct`, rule -> value -> [the member
    it counted for, day (ISO), event id]."""
    if milestone.distinct:
        refused = _claim(event.member, event, attrs, day, rule, milestone, claims)
        if refused is not None:
            yield _refused(rule, event, stamp, refused[1], code=refused[0])
            return
        step = Decimal(1)
    elif milestone.attribute is None:
        step = Decimal(1)
    elif milestone.attribute in attrs:
        step = attrs[milestone.attribute]
    else:
        yield _refused(
            rule,
            event,
            stamp,
            f"the event has no `{milestone.attribute}`, which the milestone sums",
            code="missing_attribute",
        )
        return
    key = f"milestone:{rule.name}"
    period_key = (calendar or program.calendar).period_key(milestone.period, day)
    slot = member.counters.get(key)  # [period key, running total, highest total reached]
    if slot is None or slot[0] != period_key:
        slot = member.counters[key] = [period_key, "0", "0"]
    total = Decimal(slot[1]) + step
    # A threshold pays once: a sum that falls (negative values) and rises again
    # pays only for ground above the highest total already reached.
    before = Decimal(slot[2])
    after = max(before, total)
    slot[1], slot[2] = str(total), str(after)
    if milestone.distinct:
        what = f"distinct `{milestone.attribute}`"
    elif milestone.attribute is None:
        what = "matching events"
    else:
        what = f"`{milestone.attribute}`"
    scope = "" if milestone.period is None else f" this {milestone.period}"
    # Thresholds a reversed event had reached (reversals.py) pay again when reached again.
    reopened: list[str] = slot[3] if len(slot) > 3 else []
    for threshold, payment in milestone.tiers:
        again = str(threshold) in reopened and threshold <= total
        if again:
            reopened.remove(str(threshold))
        if again or before < threshold <= after:
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
                "milestone",
                calendar,
            )


def _claim(
    member: str,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    rule: RuleSpec,
    milestone: MilestoneSpec,
    claims: dict[str, dict[str, list[Any]]] | None,
) -> tuple[RecordCode, str] | None:
    """`milestone distinct invitee`: the value counts if nobody has counted it yet and it
    is not the member's own name; then it is the member's. Else the code and reason why
    it does not count."""
    assert milestone.attribute is not None and claims is not None
    name = milestone.attribute
    value = attrs.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return "missing_attribute", f"the event has no `{name}`, which the milestone counts"
    text = str(value.normalize()) if isinstance(value, Decimal) else str(value)
    if text == member:
        return "self_credit", f"`{name}` names the member itself: it does not count"
    taken = claims.setdefault(rule.name, {}).get(text)
    if taken is not None:
        if taken[0] == member:
            return "already_counted", f"`{name}` `{text}` already counted for this member"
        return "already_counted", f"`{name}` `{text}` already counted for `{taken[0]}`"
    claims[rule.name][text] = [member, day.isoformat(), event.id]
    return None


def draw_for(seed: int, rule: str, event: str, why: str = "") -> Callable[[int, int], int]:
    """A random draw for one rule on one event: the same inputs, the same draw,
    whatever else the run contains (string seeds hash with SHA-512, not hash())."""

    drawing = random.Random(f"{seed}|{rule}|{event}|{why}")  # successive draws differ

    def draw(low: int, high: int) -> int:
        return drawing.randint(low, high)

    return draw
