"""Windows from a member's own start (`within 3 days of first signup`, `within 3 days of
joined`): a rule counts an event only from the member's start to N days after it.

The start is a local day of the scheme's calendar (its zone and day end), day 0: the
day of the member's first event of the type (the first one evaluated: not a duplicate,
a late or an out-of-season event), or the member's date in a roster column of the
name, else in the first event attribute of that name. An event counts when its own
day is the start day or at most N days after it, as a referral's `within N days`
counts from its invite's day. Before the start, or after the window, the rule does not
count the event, silently, as a `where` that does not hold; a member with no date to
count from (nor a date that can be read) gets a `refused` record saying so.

The same start gives a rule its own periods (`periods from first signup`): its weeks,
months, quarters and years counted from day 0 (calendar.OwnCalendar), for its limits,
caps, streak and milestone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from incentive.calendar import Calendar, OwnCalendar
from incentive.events import Event
from incentive.program import Program, RuleSpec
from incentive.records import Record, RecordCode
from incentive.state import EngineState, MemberState


def note_starts(
    program: Program, state: EngineState, member: MemberState, event: Event, day: date
) -> None:
    """Before the rules: the member's first event of a type a window counts from, and a
    date column's value from the event when the roster gives none (the first one wins)."""
    if event.type in program.started_by and event.type not in member.starts:
        member.starts[event.type] = day.isoformat()
    for column in program.date_columns:
        value = event.attributes.get(column)
        if isinstance(value, str) and value.strip():
            state.dates.setdefault(column, {}).setdefault(event.member, value.strip())


def start_window_open(
    program: Program,
    rule: RuleSpec,
    member: MemberState,
    event: Event,
    day: date,
    stamp: str,
    dates: dict[str, dict[str, str]],
) -> bool | Record:
    """True when the event's day lies in the rule's window; a `refused` record when the
    member has no start to count from."""
    window = rule.since
    assert window is not None
    start = member_start(
        program, rule, window.event, window.column, member, event, stamp, dates, "window"
    )
    if start is None or isinstance(start, Record):
        return start if start is not None else False  # no first event of the type yet
    return start <= day <= start + timedelta(days=window.days)


def own_calendar(
    program: Program,
    rule: RuleSpec,
    member: MemberState,
    event: Event,
    day: date,
    stamp: str,
    dates: dict[str, dict[str, str]],
) -> OwnCalendar | Record | None:
    """`periods from first signup`: the calendar whose weeks, months, quarters and years
    count from the member's start, for an event on or after it; None before the start
    (the rule does not count the event); a `refused` record when the member has no date
    to count from."""
    spec = rule.periods_from
    assert spec is not None
    start = member_start(
        program, rule, spec.event, spec.column, member, event, stamp, dates, "periods"
    )
    if start is None or isinstance(start, Record):
        return start
    if day < start:
        return None  # before the member's start: the rule's periods have not begun
    return OwnCalendar.of(program.calendar, start)


def member_start(
    program: Program,
    rule: RuleSpec,
    first: str | None,
    column: str | None,
    member: MemberState,
    event: Event,
    stamp: str,
    dates: dict[str, dict[str, str]],
    what: str,
) -> date | Record | None:
    """The member's day 0: the day of their first `first` event (None before it), or their
    date in `column`; a `refused` record when there is no such date or it is not one.
    `what` is what counts from it (the rule's `window`, its `periods`), for the reason."""
    if first is not None:
        start = member.starts.get(first)
        return None if start is None else date.fromisoformat(start)
    assert column is not None
    text = dates.get(column, {}).get(event.member)
    code: RecordCode = "missing_attribute"
    if text is None:
        counts = "window counts" if what == "window" else "periods count"
        reason = (
            f"the member has no `{column}` (in the roster or an event), which the "
            f"rule's {counts} from"
        )
    else:
        found = read_day(program.calendar, text)
        if found is not None:
            return found
        code = "bad_attribute"
        reason = (
            f"the member's `{column}` is not a date: `{text}` "
            "(write it as 2026-03-02, or a time such as 2026-03-02T18:00:00)"
        )
    return Record(
        kind="refused",
        at=stamp,
        member=event.member,
        rule=rule.name,
        currency=rule.currency,
        events=(event.id,),
        code=code,
        reason=reason,
    )


def read_day(calendar: Calendar, text: str) -> date | None:
    """A date column's value as a local day: a date, or a time (the day it falls in,
    the scheme's day end included); None if it is neither."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    try:
        instant = calendar.to_utc(moment) if moment.tzinfo is None else moment
        return calendar.day_of(instant)
    except (ValueError, OverflowError):
        return None
