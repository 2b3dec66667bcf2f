"""Local days, weeks, months and the season of a scheme.

Every period is computed by calendar arithmetic on local wall-clock dates in
the scheme's zone, never by adding 24 hours, so 23- and 25-hour days are right.
A day is named by the calendar date it mostly covers: with `day ends 21:00`
the day named 2026-03-03 runs from 03-02 21:00 to 03-03 21:00; with
`day ends 04:00` the day named 2026-03-03 runs from 03-03 04:00 to 03-04 04:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from incentive.ast import PeriodName

# What the engine can count in: event times, --until and scheme dates between these
# years, and windows (expiry, inactivity, rolling levels, referrals) up to MAX_DAYS.
# Together they keep every date the engine computes (a window's end, a period's
# close) well inside Python's years 1 to 9999: year 0001 or 9999 raised OverflowError.
FIRST_YEAR, LAST_YEAR = 1900, 8999
MAX_DAYS = 36_600  # about a hundred years


def in_range(moment: date) -> bool:
    """Whether a date (or a datetime) lies in the years the engine reads."""
    return FIRST_YEAR <= moment.year <= LAST_YEAR


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Calendar:
    zone_name: str = "UTC"
    day_ends: time = time(0, 0)
    week_start: int = 0  # Monday
    season: tuple[date, date] | None = None

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.zone_name)

    @cached_property
    def _shift(self) -> timedelta:
        """Wall-clock shift that maps a local time onto the date of the day it belongs to."""
        boundary = timedelta(hours=self.day_ends.hour, minutes=self.day_ends.minute)
        if boundary == timedelta(0):
            return timedelta(0)
        # Days ending in the evening are named by the date they end on; days
        # ending in the small hours by the date they start on.
        return timedelta(hours=24) - boundary if self.day_ends.hour >= 12 else -boundary

    def to_utc(self, local: datetime) -> datetime:
        """A local wall-clock time (naive) as a UTC instant; ambiguous times take the first."""
        return local.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def to_local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def day_of(self, instant: datetime) -> date:
        """The name (a date) of the local day an instant falls in.

        The wall clock gives the day, except near a boundary that daylight saving
        moves: a `day ends` inside a skipped or repeated hour. There the day is
        the one whose [day_start, day_end) holds the instant, so that `day_of`
        and `day_start` always agree.
        """
        wall = instant.astimezone(self.zone).replace(tzinfo=None)
        guess = (wall + self._shift).date()
        if instant < self.day_start(guess):
            return guess - timedelta(days=1)
        if instant >= self.day_start(guess + timedelta(days=1)):
            return guess + timedelta(days=1)
        return guess

    @lru_cache(maxsize=65536)  # noqa: B019 - called for every event; calendars are few
    def day_start(self, day: date) -> datetime:
        """The UTC instant at which the named day begins."""
        return self.to_utc(datetime.combine(day, time(0, 0)) - self._shift)

    def day_end(self, day: date) -> datetime:
        return self.day_start(day + timedelta(days=1))

    def period_key(self, period: PeriodName | None, day: date) -> str:
        """A stable text key for the period containing a day (`None` means ever)."""
        if period is None:
            return "ever"
        if period == "day":
            return day.isoformat()
        if period == "week":
            return (day - timedelta(days=(day.weekday() - self.week_start) % 7)).isoformat()
        if period == "month":
            return f"{day.year:04d}-{day.month:02d}"
        if period == "quarter":
            return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
        if period == "year":
            return f"{day.year:04d}"
        return "season"

    @lru_cache(maxsize=65536)  # noqa: B019 - calendars are few, immutable and hashable
    def period_end(self, period: PeriodName, key: str) -> datetime:
        """The UTC instant at which the period named by `key` closes.

        The season's end closes everything: a week or month that runs past the
        season's last day closes with it.
        """
        end = self._natural_end(period, key)
        if self.season is not None:
            end = min(end, self.day_end(self.season[1]))
        return end

    def _natural_end(self, period: PeriodName, key: str) -> datetime:
        if period == "day":
            return self.day_end(date.fromisoformat(key))
        if period == "week":
            return self.day_end(date.fromisoformat(key) + timedelta(days=6))
        if period == "month":
            year, month = int(key[:4]), int(key[5:7])
            first_of_next = date(year + month // 12, month % 12 + 1, 1)
            return self.day_start(first_of_next)
        if period == "quarter":
            year, quarter = int(key[:4]), int(key[6:])
            return self.day_start(date(year + quarter // 4, quarter % 4 * 3 + 1, 1))
        if period == "year":
            return self.day_start(date(int(key) + 1, 1, 1))
        assert self.season is not None
        return self.day_end(self.season[1])

    def clock(self, instant: datetime, names: tuple[str, ...]) -> dict[str, Any]:
        """The time attributes conditions read (`weekday`, `hour`) for an instant.

        `weekday` names the scheme's day the instant belongs to, as a boost's `on`
        does (with `day ends 21:00`, Saturday runs from Friday 21:00); `hour` is the
        local wall clock's hour, 0 to 23, daylight saving included.
        """
        found: dict[str, Any] = {}
        for name in names:
            if name == "weekday":
                found[name] = WEEKDAYS[self.day_of(instant).weekday()]
            elif name == "hour":
                found[name] = Decimal(instant.astimezone(self.zone).hour)
        return found

    def in_season(self, day: date) -> bool:
        return self.season is None or self.season[0] <= day <= self.season[1]


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def zone_exists(name: str) -> bool:
    if not name or name.startswith(("/", ".")) or ".." in name or "\\" in name:
        return False
    try:
        _zone(name)
    except (ValueError, OSError, KeyError):
        return False
    return True


# ---- a member's own periods (`periods from first signup`) ------------------------------------

_OWN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later; the month's last day when it is shorter
    (31 January + 1 month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def own_index(period: PeriodName, start: date, day: date) -> int:
    """Which of a member's own periods holds `day` (0: the one that starts on `start`,
    the member's day 0; `day` is on or after it). A day is a day; a week is seven days
    from the start; a month runs from the start's day of the month to the day before it
    in the next month (from 31 January: 31 January to 27 February, then 28 February to
    30 March); a quarter is three such months, a year twelve."""
    if period == "day":
        return (day - start).days
    if period == "week":
        return (day - start).days // 7
    step = _OWN_MONTHS[period]
    months = (day.year - start.year) * 12 + day.month - start.month
    index = months // step
    while index > 0 and add_months(start, index * step) > day:
        index -= 1
    return index


def own_first_day(period: PeriodName, start: date, index: int) -> date:
    """The first day of the member's own period number `index`."""
    if period == "day":
        return start + timedelta(days=index)
    if period == "week":
        return start + timedelta(days=7 * index)
    return add_months(start, index * _OWN_MONTHS[period])


@dataclass(frozen=True)
class OwnCalendar(Calendar):
    """The scheme's calendar, but with weeks, months, quarters and years counted from a
    member's own start (day 0) rather than from the calendar's: what a rule with
    `periods from first signup` counts its limits, caps, streaks and milestones in.
    A day is the scheme's day; `season` and `ever` are the same for everyone."""

    start: date = date(2000, 1, 1)

    @classmethod
    def of(cls, calendar: Calendar, start: date) -> OwnCalendar:
        return cls(
            calendar.zone_name, calendar.day_ends, calendar.week_start, calendar.season, start
        )

    def period_key(self, period: PeriodName | None, day: date) -> str:
        if period in ("week", "month", "quarter", "year"):
            assert period is not None
            first = own_first_day(period, self.start, own_index(period, self.start, day))
            return f"from {first.isoformat()}"
        return super().period_key(period, day)
