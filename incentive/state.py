"""Engine state: plain data keyed by member and period.

Everything the engine remembers between events lives here, as dicts, lists,
strings and numbers, so it can be saved, restored, or split by member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from incentive.calendar import Calendar
from incentive.program import LimitSpec

_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})


@dataclass
class MemberState:
    balances: dict[str, int] = field(default_factory=dict)
    # "limit:<rule>:<period>[:<attribute>=<value>]" or "cap:<owner>:<period>"
    #   -> [period key, used]
    counters: dict[str, list[Any]] = field(default_factory=dict)
    # currency -> lots in spending order: [points left, expires at (UTC ISO) or None, earned at]
    lots: dict[str, list[list[Any]]] = field(default_factory=dict)
    earned: dict[str, int] = field(default_factory=dict)  # currency -> lifetime points earned
    level: str | None = None  # None: the level for 0 points
    window: dict[str, int] = field(default_factory=dict)  # day (ISO) -> points, rolling levels
    # currency -> points owed: a reversal took back more than the lots held (`debt`);
    # the balance is the lots' sum minus this, and later awards repay it first
    debts: dict[str, int] = field(default_factory=dict)
    # currency -> points held (`pending N days`), in release order:
    # [points, released at (UTC ISO), earned at (UTC ISO), rule, event ids]
    pending: dict[str, list[list[Any]]] = field(default_factory=dict)
    # event type -> the local day (ISO) of the member's first event of it, for the types a
    # window counts from (`within 3 days of first signup`)
    starts: dict[str, str] = field(default_factory=dict)


@dataclass
class EngineState:
    members: dict[str, MemberState] = field(default_factory=dict)
    # event id -> content fingerprint, for the days still open: a re-sent event from a
    # closed day is refused as late, so its id need not be kept (memory stays bounded)
    seen: dict[str, str] = field(default_factory=dict)
    seen_on: dict[str, list[str]] = field(default_factory=dict)  # day (ISO) -> ids seen
    clock: datetime | None = None  # the latest event time processed
    open_day: date | None = None  # the day that is open; earlier days are closed
    # rank rule -> period key -> member -> [measure, reached at (UTC ISO), event id]
    ranks: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    # rank rule -> period key -> member -> [points earned, last earned at]
    rank_points: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    closed_ranks: dict[str, bool] = field(default_factory=dict)  # "rule|period" already paid
    # "board|period" -> the key of the last day (week, ...) its standings were posted for
    posted: dict[str, str] = field(default_factory=dict)
    # team kind -> member -> team (from the roster, else the latest event attribute)
    teams: dict[str, dict[str, str]] = field(default_factory=dict)
    # "<owner>:<period>" -> [period key, points given]: budgets, shared by every member
    budgets: dict[str, list[Any]] = field(default_factory=dict)
    levels_closed: str | None = None  # the last day (ISO) whose close re-checked rolling levels
    # inactive rule -> member -> [last active day (ISO), flagged in this spell]
    activity: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # referral rule -> invitee -> [inviter, invite day (ISO), paid];
    # `milestone distinct` rule -> value -> [the member it counted for, day (ISO), event id]
    invites: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # "<grants>:<granter>:<period>" -> [period key, points granted]
    allowances: dict[str, list[Any]] = field(default_factory=dict)
    # team kind -> members the roster places (an event attribute does not move them)
    rostered: dict[str, list[str]] = field(default_factory=dict)
    # event id -> what it paid and counted, kept while it may be reversed
    # (reversals.py; only when the scheme has `reverse` blocks)
    paid: dict[str, dict[str, Any]] = field(default_factory=dict)
    paid_on: dict[str, list[str]] = field(default_factory=dict)  # day (ISO) -> ids in `paid`
    # "<catalogue>:<gift>", "<catalogue>:items:<period>", "<catalogue>:points:<period>"
    # -> [period key ("" for all time), gifts or points taken]: catalogue stock and budgets
    stock: dict[str, list[Any]] = field(default_factory=dict)
    # date column -> member -> the date as written (the roster's, else the first event
    # attribute of that name), for the columns a window counts from (`of joined`)
    dates: dict[str, dict[str, str]] = field(default_factory=dict)
    # league -> member -> tier, for the members who have left the first tier (leagues.py)
    leagues: dict[str, dict[str, str]] = field(default_factory=dict)


def seen_as(fingerprint: str, source: str | None, line: int | None) -> str:
    """What `seen` keeps for an id: the content's fingerprint, then where its line was
    (`<fingerprint> <line> <source>`), so that a conflict can name both lines."""
    if line is None:
        return fingerprint
    return f"{fingerprint} {line} {source or '<input>'}"


def seen_where(value: str) -> tuple[str, str | None]:
    """A `seen` value as (fingerprint, "line N of SOURCE" or None when not known)."""
    fingerprint, _, where = value.partition(" ")
    if not where:
        return fingerprint, None
    line, _, source = where.partition(" ")
    return fingerprint, f"line {line} of {source}"


def remember(state: EngineState, event_id: str, fingerprint: str, day: date) -> None:
    """An event id is seen: kept while its day is open."""
    state.seen[event_id] = fingerprint
    state.seen_on.setdefault(day.isoformat(), []).append(event_id)


def forget(state: EngineState, event_id: str) -> None:
    """An event that failed is not kept as seen: sent again (fixed), it is evaluated."""
    if state.seen.pop(event_id, None) is None:
        return
    for ids in reversed(state.seen_on.values()):
        if ids and ids[-1] == event_id:  # remembered last, almost always
            ids.pop()
            return
        if event_id in ids:
            ids.remove(event_id)
            return


def open_day(state: EngineState, day: date) -> None:
    """`day` is the open day from now on: forget the ids of the days before it."""
    if state.open_day == day:
        return
    state.open_day = day
    first = day.isoformat()
    for closed in [d for d in state.seen_on if d < first]:
        for event_id in state.seen_on.pop(closed):
            state.seen.pop(event_id, None)


def limit_reached(
    member: MemberState,
    name: str,
    limits: Iterable[LimitSpec],
    calendar: Calendar,
    day: date,
    attrs: Mapping[str, Any] = _NO_ATTRIBUTES,
) -> LimitSpec | None:
    """The first of a rule's (or redemption's) limits already used up on `day`, if any.

    `attrs`: the event's, for a limit `for each` attribute (which the event carries)."""
    for limit in limits:
        used = count(member, limit.counter(name, attrs), calendar.period_key(limit.period, day))
        if used >= limit.count:
            return limit
    return None


def use_limits(
    member: MemberState,
    name: str,
    limits: Iterable[LimitSpec],
    calendar: Calendar,
    day: date,
    attrs: Mapping[str, Any] = _NO_ATTRIBUTES,
) -> None:
    """One more paid event against each of the limits on `day`."""
    for limit in limits:
        bump(member, limit.counter(name, attrs), calendar.period_key(limit.period, day), 1)


def count(member: MemberState, key: str, period_key: str) -> int:
    slot = member.counters.get(key)
    return slot[1] if slot is not None and slot[0] == period_key else 0


def bump(member: MemberState, key: str, period_key: str, by: int) -> None:
    slot = member.counters.get(key)
    if slot is None or slot[0] != period_key:
        member.counters[key] = [period_key, by]
    else:
        slot[1] += by


def local_time(calendar: Calendar, instant: datetime) -> str:
    """An instant as ISO 8601 in the scheme's zone: how every record is dated."""
    return calendar.to_local(instant).isoformat()
