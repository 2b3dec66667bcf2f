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
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from incentive.calendar import Calendar
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
    if window.event is not None:
        start = member.starts.get(window.event)
        if start is None:
            return False  # no first event of the type yet: the window has not begun
        first = date.fromisoformat(start)
    else:
        assert window.column is not None
        text = dates.get(window.column, {}).get(event.member)
        code: RecordCode = "missing_attribute"
        if text is None:
            reason = (
                f"the member has no `{window.column}` (in the roster or an event), which the "
                "rule's window counts from"
            )
        else:
            found = read_day(program.calendar, text)
            if found is not None:
                return found <= day <= found + timedelta(days=window.days)
            code = "bad_attribute"
            reason = (
                f"the member's `{window.column}` is not a date: `{text}` "
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
    return first <= day <= first + timedelta(days=window.days)


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
