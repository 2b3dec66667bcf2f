"""Stage 3, rankings per period: rank tables fill as events arrive and pay at
the period's close. They see points as earned before budgets (semantics.md).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from incentive.events import Event
from incentive.expressions import AmountError, MissingAttribute, evaluate, to_points
from incentive.program import Program, RankSpec, RuleSpec
from incentive.records import Record, perk_record
from incentive.rules import Proposal
from incentive.state import EngineState, local_time


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
        # [measure, when it was reached, the event that reached it]; a max starts below
        # every value, so that a member's largest value counts even when it is negative
        start = "-Infinity" if rank.measure == "max" else "0"
        entry = table[event.member] = [start, at, event.id]
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


def track_reached(state: EngineState, program: Program, outcome: Proposal | Record) -> None:
    """A streak or milestone rule paid a tier (points, a perk or a badge): its member
    counts toward the `by reached` ranks that name the rule, in the tier's period."""
    if isinstance(outcome, Proposal):
        source, member, day = outcome.source, outcome.member, outcome.day
        at = outcome.at.astimezone(UTC).isoformat()
    elif outcome.kind in ("perk", "badge") and outcome.member and outcome.at:
        source, member = outcome.rule or "", outcome.member
        instant = datetime.fromisoformat(outcome.at)
        day, at = program.calendar.day_of(instant), instant.astimezone(UTC).isoformat()
    else:
        return
    event = outcome.events[0] if outcome.events else ""
    for rule in program.reaching.get(source, ()):
        rank = rule.rank
        assert rank is not None
        key = program.calendar.period_key(rank.period, day)
        table = state.ranks.setdefault(rule.name, {}).setdefault(key, {})
        table.setdefault(member, ["1", at, event])


def track_points(state: EngineState, program: Program, proposal: Proposal, day: date) -> None:
    """Points earned count toward `by points` ranks and boards (before budgets).

    A rank award counts too, toward the ranks after it in the file: the camp's
    21:00 board shows the day's first-three bonuses. `day` is the day the points
    belong to (for a rank award, the last day of the period it closed).
    """
    stamp = ""  # when the points were earned, written once for every rank that counts them
    for rule in program.rules:
        rank = rule.rank
        if rank is None or rank.measure != "points" or rule is proposal.rule:
            continue
        if proposal.currency != rule.currency:
            continue  # a rank by points counts its own currency (coins and xp do not add up)
        if rank.sources and proposal.source not in rank.sources:
            continue
        stamp = stamp or proposal.at.isoformat()
        key = program.calendar.period_key(rank.period, day)
        points = state.rank_points.setdefault(rule.name, {}).setdefault(key, {})
        before = points.get(proposal.member, [0, ""])
        points[proposal.member] = [before[0] + proposal.points, stamp]


SO_FAR = "so far"  # the table key of a `so far` payment: one table for every period


def track_pay(
    state: EngineState,
    program: Program,
    rule: RuleSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    stamp: str,
) -> Iterator[Record]:
    """A matching event counts toward the measure of the member it pays (`pay "fund"`,
    or the member its attribute names), in its period (or so far)."""
    rank = rule.rank
    assert rank is not None and rank.pay is not None
    pay = rank.pay
    payee = pay.member
    if payee is None:
        named = attrs.get(pay.attribute or "")
        if not isinstance(named, str) or not named.strip():
            yield Record(
                kind="refused",
                at=stamp,
                member=event.member,
                rule=rule.name,
                events=(event.id,),
                code="missing_attribute",
                reason=f"the event has no `{pay.attribute}`, which the rule's `pay` reads: "
                "it counts toward no one's measure",
            )
            return
        payee = named
    if pay.so_far:
        key = SO_FAR
        # paid at every close from the first period it counted in (engine._next_missing)
        state.posted.setdefault(f"{rule.name}|from", day.isoformat())
    else:
        key = program.calendar.period_key(rank.period, day)
    table = state.ranks.setdefault(rule.name, {}).setdefault(key, {})
    # [measure, when it was reached, the event that reached it, members who acted]
    start = "-Infinity" if rank.measure == "max" else "0"
    entry = table.setdefault(payee, [start, "", None, []])
    if rank.measure == "active":
        if event.member in entry[3]:
            return
        entry[3].append(event.member)
        entry[0] = str(len(entry[3]))
    elif rank.measure == "count":
        entry[0] = str(Decimal(entry[0]) + 1)
    else:
        assert rank.attribute is not None
        value = attrs.get(rank.attribute)
        if value is None:
            return  # an event without it adds nothing to a sum or a max
        current = Decimal(entry[0])
        entry[0] = str(current + value if rank.measure == "sum" else max(current, value))
    entry[1], entry[2] = event.at.isoformat(), event.id


def close_table(state: EngineState, rule: RuleSpec, key: str) -> dict[str, list[Any]]:
    """A period's rank table, taken out at its close: the period is paid, and an event
    that comes late for it cannot open it again (engine._close_ranks)."""
    table = state.ranks.get(rule.name, {}).pop(key, {})
    state.closed_ranks[f"{rule.name}|{key}"] = True
    return table


def measure_text(measure: str, attribute: str | None) -> str:
    """What a table ranks or counts by, as reasons say it: `count`, `sum xp`."""
    return measure + (f" {attribute}" if attribute else "")


def period_text(period: str, key: str) -> str:
    """The period a reason speaks of: `week 2026-03-02`, or `the season` (one key)."""
    return f"{period} {key}" if period != "season" else "the season"


def standing_order(value: Decimal, reached: str, who: str, sign: int = -1) -> tuple[Any, ...]:
    """Best first (highest, or lowest with `sign` 1); ties: who reached it first (never
    reached: last), then by name. Ranks, leagues' cohorts and boards order alike."""
    return (sign * value, _epoch(reached) if reached else math.inf, who)


def close_pay(
    state: EngineState, program: Program, rule: RuleSpec, key: str, closes: datetime
) -> list[Proposal | Record]:
    """At a period's close: each member named is paid the amount computed from their
    measure (in the period, or so far), dated at the close and belonging to the period."""
    rank = rule.rank
    assert rank is not None and rank.pay is not None
    pay = rank.pay
    if pay.so_far:
        table = state.ranks.get(rule.name, {}).get(SO_FAR, {})
    else:
        table = close_table(state, rule, key)
    stamp = local_time(program.calendar, closes)
    last_day = program.calendar.day_of(closes - timedelta(microseconds=1))
    where = period_text(rank.period, key)
    by = measure_text(rank.measure, rank.attribute)
    outcomes: list[Proposal | Record] = []
    for payee in sorted(table):
        value, _, event, _ = table[payee]
        measure = Decimal(value) if Decimal(value).is_finite() else Decimal(0)
        shown = _decimal_text(measure)
        counted = f"{by} {shown}" + (" so far" if pay.so_far else "")
        try:
            amount = evaluate(pay.amount, {pay.word: measure})
            if not isinstance(amount, Decimal):  # the checker makes it a number
                raise AmountError(f"{amount!r} is not a number")
            points = to_points(amount, pay.rounding)
        except (AmountError, MissingAttribute) as err:
            outcomes.append(
                Record(
                    kind="refused",
                    at=stamp,
                    member=payee,
                    rule=rule.name,
                    value=shown,
                    code="amount_error",
                    reason=f"rule `{rule.name}`: {counted} ({where}): "
                    f"the amount cannot be computed: {err}",
                )
            )
            continue
        if points == 0:
            continue
        outcomes.append(
            Proposal.of(
                rule,
                points=points,
                member=payee,
                at=closes,
                day=last_day,
                events=(event,) if event else (),
                reason=f"rule `{rule.name}`: paid from {counted} ({where})",
                kind="rank",
                value=shown,
            )
        )
    return outcomes


@dataclass(frozen=True)
class Standing:
    """One member or team in a period's ranking."""

    who: str
    value: Decimal
    reached: str  # UTC ISO time the value was reached ("" if never: last among ties)
    event: str | None  # the event that reached it (members only)
    members: tuple[str, ...] = ()  # a team's members, for team awards
    acted: bool = True  # a team: someone in it had a matching event (or earned points)

    def shown(self) -> str:
        return _decimal_text(self.value)


def member_standings(
    rank: RankSpec, table: dict[str, list[Any]], points: dict[str, list[Any]], has_events: bool
) -> list[Standing]:
    """Members with a matching event (or, with no `on`, who earned points)."""
    if rank.measure == "points":
        entrants = table if has_events else {m: ["0", p[1], None] for m, p in points.items()}
        return [
            Standing(
                member,
                Decimal(points[member][0]) if member in points else Decimal(0),
                points[member][1] if member in points else entry[1],
                entry[2],
            )
            for member, entry in entrants.items()
        ]
    if rank.measure == "earliest":
        # Earlier is better: rank by time, the value shown is the time itself.
        return [Standing(m, Decimal(-_epoch(e[1])), e[1], e[2]) for m, e in table.items()]
    return [Standing(m, Decimal(e[0]), e[1], e[2]) for m, e in table.items()]


def team_standings(
    rank: RankSpec,
    teams: dict[str, str],
    table: dict[str, list[Any]],
    points: dict[str, list[Any]],
    has_events: bool,
) -> list[Standing]:
    """Every known team of the rank's kind, even one where nobody acted (value 0)."""
    by_team: dict[str, list[str]] = {}
    for member, team in teams.items():
        by_team.setdefault(team, []).append(member)
    standings = []
    for team, members in sorted(by_team.items()):
        members.sort()
        acted = [m for m in members if m in table]
        if rank.measure == "points":
            counted = [m for m in (acted if has_events else members) if m in points]
            values = [Decimal(points[m][0]) for m in counted]
            times = [points[m][1] for m in counted]
            value = sum(values, Decimal(0))
        else:
            times = [table[m][1] for m in acted]
            values = [Decimal(table[m][0]) for m in acted]
            if rank.measure in ("count", "sum"):
                value = sum(values, Decimal(0))
            elif rank.measure == "max":
                value = max(values, default=Decimal(0))
            elif rank.measure == "active":
                value = Decimal(len(acted))
            elif rank.measure in ("rate", "reached"):
                value = Decimal(len(acted)) / Decimal(len(members))
            else:  # earliest: the team's first member to act
                first = min(times, key=_epoch, default="")
                value = Decimal(-_epoch(first)) if first else Decimal("-Infinity")
                times = [first] if first else []
        reached = max(times, key=_epoch, default="")
        acted_any = bool(acted) if has_events or rank.measure != "points" else bool(values)
        if rank.measure == "max" and not value.is_finite():
            value = Decimal(0)
        standings.append(Standing(team, value, reached, None, tuple(members), acted_any))
    return standings


def close_rank(
    state: EngineState,
    program: Program,
    rule: RuleSpec,
    key: str,
    closes: datetime,
    so_far: str | None = None,
    ranked: tuple[list[Standing], int] | None = None,
) -> list[Proposal | Record]:
    """Rank one period's members or teams, dated at the close: rank awards to
    propose, perk records, or board lines.

    `so_far`: a board's running post (`each day`) at the close of that day (week, ...)
    inside the still open period; the period's tables stay for the rest of it.
    `ranked`: the standings in order (at least the places paid) and how many there are,
    when the caller has worked them out from the same tables (the columnar plan)."""
    rank = rule.rank
    assert rank is not None
    if rank.pay is not None:
        return close_pay(state, program, rule, key, closes)
    if so_far is None:
        table = close_table(state, rule, key)
        points = state.rank_points.get(rule.name, {}).pop(key, {})
    else:
        table = state.ranks.get(rule.name, {}).get(key, {})
        points = state.rank_points.get(rule.name, {}).get(key, {})
    if ranked is None and rank.measure == "earliest" and rank.team is None and rank.count:
        # only the places paid are made Standings (a day's homework has ten thousand)
        order, entrants = earliest_first(table, rank.count, rank.side), len(table)
    elif ranked is None:
        order = standings_in_order(state, program, rule, key, table, points)
        entrants = len(order)
    else:
        order, entrants = ranked
    by = measure_text(rank.measure, rank.attribute)
    stamp = local_time(program.calendar, closes)
    last_day = program.calendar.day_of(closes - timedelta(microseconds=1))
    places = order if rank.count is None else order[: rank.count]
    outcomes: list[Proposal | Record] = []
    for position, standing in enumerate(places, start=1):
        team = standing.who if rank.team is not None else None
        member = None if team is not None else standing.who
        value = None if rank.measure in ("earliest", "lottery") else standing.shown()
        shown = "" if value is None else f" with {value}"
        if rank.measure in ("rate", "reached"):
            shown = f" with {(standing.value * 100).quantize(Decimal('0.1'))}%"
        where = f"({period_text(rank.period, key)})"
        if so_far is not None:
            where = where[:-1] + f" so far, at the close of {rule.posts} {so_far})"
        reason = f"{ordinal(position)} of {entrants} by {by}{shown} {where}"
        events = (standing.event,) if standing.event else ()
        if rule.board:
            outcomes.append(
                Record(
                    kind="board",
                    at=stamp,
                    member=member,
                    team=team,
                    rule=rule.name,
                    rank=position,
                    value=value,
                    code="ranked",
                    reason=f"board `{rule.name}`: {reason}",
                )
            )
        elif rule.perk is not None:
            outcomes.append(
                perk_record(
                    rule.name,
                    rule.perk,
                    reason,
                    at=stamp,
                    member=member,
                    team=team,
                    rank=position,
                    value=value,
                    events=events,
                    code="ranked",
                )
            )
        else:
            amount = rank.amount_for(position)
            if amount == 0:
                continue
            for payee in standing.members if team is not None else (standing.who,):
                outcomes.append(
                    Proposal.of(
                        rule,
                        points=amount,
                        member=payee,
                        at=closes,
                        day=last_day,
                        events=events,
                        reason=f"rule `{rule.name}`: "
                        + (f"team `{team}` " if team is not None else "")
                        + reason,
                        kind="rank",
                        code="ranked",
                        rank=position,
                        team=team,
                        value=value,
                    )
                )
    return outcomes


def standings_in_order(
    state: EngineState,
    program: Program,
    rule: RuleSpec,
    key: str,
    table: dict[str, list[Any]],
    points: dict[str, list[Any]],
) -> list[Standing]:
    """A period's members or teams in order, best first (`close_rank`)."""
    rank = rule.rank
    assert rank is not None
    has_events = bool(rule.events)
    if rank.team is None:
        standings = member_standings(rank, table, points, has_events)
    else:
        teams = state.teams.get(rank.team, {})
        standings = team_standings(rank, teams, table, points, has_events)
    if rank.measure == "lottery":
        # A draw per member (or team) and period from the seed: the same whatever the
        # order of evaluation or the other entrants.
        standings = [
            replace(s, value=_lottery(program.seed, rule.name, key, s.who), reached="")
            for s in standings
        ]
    if rank.team is not None and has_events and not table:
        standings = []  # no matching event in the period (points alone opened it)
    if rank.team is not None and rank.side == "top" and not rule.board:
        # A team where nobody acted takes no paid top place (it may be a bottom one).
        standings = [s for s in standings if s.acted]
    sign = 1 if rank.side == "bottom" else -1  # the best of a bottom rank is the lowest
    if rank.measure == "earliest" and rank.team is None:
        # standing_order without reading the time again: a member's value is minus the
        # epoch of the time reached (member_standings), exactly (a float as a Decimal)
        return sorted(standings, key=lambda s: (sign * s.value, float(-s.value), s.who))
    return sorted(standings, key=lambda s: standing_order(s.value, s.reached, s.who, sign))


def earliest_first(table: dict[str, list[Any]], count: int, side: str) -> list[Standing]:
    """The first `count` of a members' ranking by earliest, as standings_in_order gives
    them (its order, its Standings), without a Standing for every entrant.

    standing_order's key is (sign * value, epoch, member) with value = -epoch, exactly:
    (epoch, member) for a top rank, (-epoch, member) for a bottom one."""
    flip = -1.0 if side == "bottom" else 1.0
    best = heapq.nsmallest(count, ((flip * _epoch(e[1]), m) for m, e in table.items()))
    return [Standing(m, Decimal(-_epoch(table[m][1])), table[m][1], table[m][2]) for _, m in best]


def missing_list(
    state: EngineState, program: Program, rule: RuleSpec, key: str, closes: datetime
) -> list[Record]:
    """A `by missing` board at its period's close: every member known by then (from the
    roster, a team attribute or any event) with no matching event in the period, by team
    then member. A period in which nobody acted closes too (the engine's own schedule)."""
    rank = rule.rank
    assert rank is not None
    acted = close_table(state, rule, key)
    rows: list[tuple[str | None, str]]
    if rank.team is not None:
        placed = state.teams.get(rank.team, {})
        rows = sorted((team, member) for member, team in placed.items() if member not in acted)
    else:
        known = set(state.members).union(*(placed for placed in state.teams.values()))
        rows = [(None, member) for member in sorted(known - set(acted))]
    stamp = local_time(program.calendar, closes)
    where = period_text(rank.period, key)
    return [
        Record(
            kind="board",
            at=stamp,
            member=member,
            team=team,
            rule=rule.name,
            code="no_entries",
            reason=f"board `{rule.name}`: no matching event ({where})"
            + (f" in {rank.team} `{team}`" if team is not None else ""),
        )
        for team, member in rows
    ]


def _lottery(seed: int, rule: str, key: str, who: str) -> Decimal:
    return Decimal(str(random.Random(f"{seed}|{rule}|{key}|{who}").random()))


def _decimal_text(value: Decimal) -> str:
    """A measure as text: whole numbers plain, fractions to four places (a rate)."""
    if not value.is_finite():
        return "none"  # a max over events that never carried the attribute
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.quantize(Decimal("0.0001")).normalize())


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
