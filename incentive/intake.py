"""Stage 1, intake: the checks an event passes before any rule sees it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from incentive.calendar import Calendar, zone_exists
from incentive.events import BadLine, Event
from incentive.program import Program, ValueType
from incentive.records import Record, RecordCode
from incentive.state import local_time

MAX_ATTRIBUTE_NUMBER = Decimal(10) ** 15


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
            return mistyped(name, kind, err)
    if program.clock:
        typed.update(program.calendar.clock(event.at, program.clock))
    return typed


_MEMBER_CALENDARS: dict[tuple[Calendar, str], Calendar] = {}


def member_clock(program: Program, event: Event, zones: Mapping[str, str]) -> dict[str, Any] | str:
    """`timezone from tz`: `hour` and `weekday` in the zone the event's attribute names,
    else the member's roster column, else the scheme's own (the scheme's day-end hour
    in that zone names the weekday); or why the zone named is none."""
    name = program.member_zone
    assert name is not None
    zone = event.attributes.get(name)
    where = f"attribute `{name}`"
    if zone is None or zone == "":
        zone, where = zones.get(event.member), f"the roster's `{name}` of `{event.member}`"
    if zone is None or zone == "":
        return program.calendar.clock(event.at, program.clock)
    if not isinstance(zone, str) or not zone_exists(zone.strip()):
        return f"{where} names no time zone: `{zone}` (an IANA name such as `Asia/Shanghai`)"
    key = (program.calendar, zone.strip())
    calendar = _MEMBER_CALENDARS.get(key)
    if calendar is None:
        if len(_MEMBER_CALENDARS) > 4096:
            _MEMBER_CALENDARS.clear()
        calendar = _MEMBER_CALENDARS[key] = replace(program.calendar, zone_name=zone.strip())
    return calendar.clock(event.at, program.clock)


def mistyped(name: str, kind: ValueType, err: ValueError) -> str:
    """Why an attribute's value does not fit the type the scheme reads it as."""
    what = {"number": "a number", "text": "text", "bool": "true or false"}[kind]
    return f"attribute `{name}` should be {what}, got {err}"


def bad_event(
    event: Event, reason: str, calendar: Calendar, code: RecordCode = "bad_attribute"
) -> Record:
    return Record(
        kind="bad_event",
        at=local_time(calendar, event.at),
        member=event.member,
        events=(event.id,),
        code=code,
        reason=reason,
        source=event.source,
        line=event.line,
    )


def failed_event(event: Event, err: Exception, calendar: Calendar) -> Record:
    """The record of an event whose evaluation raised: a bug in incentive, but one that
    costs this event only, never the run (`feed` never raises)."""
    try:
        at: str | None = local_time(calendar, event.at)
    except (OverflowError, ValueError):
        at = None
    return Record(
        kind="bad_event",
        at=at,
        member=event.member,
        events=(event.id,),
        code="evaluation_failed",
        reason=f"could not be evaluated ({type(err).__name__}: {str(err)[:200]}); "
        "this is a bug in incentive: please report it",
        source=event.source,
        line=event.line,
    )


def bad_line_record(bad: BadLine) -> Record:
    return Record(
        kind="bad_event", code="bad_line", reason=bad.reason, source=bad.source, line=bad.line
    )
