"""A dry run on a simulated population, with the scheme in the loop.

The population (incentive.population) draws one day of activity at a time;
the scheme evaluates that day at once, in a streaming Session, and tells the
population what each member was paid and holds, so that tomorrow's behaviour
can respond to it (streaks kept up, rewards, points to spend at checkout).

Because a Session fed in time order gives the same records as a batch run
(tests/test_properties.py), the result is the same as `incentive run` on the
saved events: the report of a simulation can be re-checked from its files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from incentive.engine import RunResult, Session
from incentive.population import DayOutcome, Population, Simulated, roster_of, simulate
from incentive.program import Program
from incentive.records import Record
from incentive.report import PAID
from incentive.roster import Roster


@dataclass(frozen=True)
class SimulatedRun:
    simulated: Simulated
    result: RunResult


def population_roster(rows: list[dict[str, str]]) -> Roster:
    """The teams the population deals its members into, as a roster."""
    return Roster({row["member"]: {k: v for k, v in row.items() if k != "member"} for row in rows})


def simulate_scheme(
    program: Program,
    population: Population,
    roster: Roster | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulatedRun:
    """Draw the population's activity day by day and run the scheme on it as it goes.

    `roster`: the members' teams, if not the population's own; `progress` is
    told after each day how many days and events have been evaluated.
    """
    if roster is None and population.teams:
        roster = population_roster(roster_of(population))
    session = Session(program, roster=roster)
    records: list[Record] = []
    currency = program.currencies[0] if program.currencies else None
    evaluated = [0, 0]  # days, events

    def one_day(day: date, events: list[dict[str, Any]]) -> DayOutcome:
        start = len(records)
        for event in events:
            records.extend(session.feed(event))
        # The day is over at local midnight: close what it closes (ranks, the
        # day's counters) so that members see today's rewards tomorrow.
        records.extend(session.advance_to(datetime.combine(day + timedelta(days=1), time(0))))
        earned: Counter[str] = Counter()
        for record in records[start:]:
            if record.kind in PAID and record.member and record.currency == currency:
                earned[record.member] += record.points or 0
        evaluated[0] += 1
        evaluated[1] += len(events)
        if progress is not None:
            progress(*evaluated)
        return DayOutcome(earned, session.balance)

    simulated = simulate(population, one_day)
    records.extend(session.advance_to(until) if until is not None else session.close_all())
    result = RunResult(records, session.balances(), session)
    return SimulatedRun(simulated, result)
