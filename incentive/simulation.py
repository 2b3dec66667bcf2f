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
from functools import partial
from typing import Any

from incentive.compiler import CompiledSession
from incentive.diagnostics import did_you_mean
from incentive.engine import Session
from incentive.i18n import _
from incentive.population import (
    DayOutcome,
    Population,
    Simulated,
    population_error,
    roster_of,
    simulate,
)
from incentive.program import Program
from incentive.records import Record, encode_lines
from incentive.report import PAID
from incentive.roster import Roster
from incentive.runner import Engine, RunResult, SpooledRecords, open_session, record_spool


@dataclass(frozen=True)
class SimulatedRun:
    simulated: Simulated
    result: RunResult
    roster: Roster | None  # the teams the run used: given, or the population's own


def population_roster(rows: list[dict[str, str]]) -> Roster:
    """The teams the population deals its members into, as a roster."""
    return Roster({row["member"]: {k: v for k, v in row.items() if k != "member"} for row in rows})


def simulate_scheme(
    program: Program,
    population: Population,
    roster: Roster | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: str = "<population>",
    engine: Engine | None = None,
) -> SimulatedRun:
    """Draw the population's activity day by day and run the scheme on it as it goes.

    `roster`: the members' teams, if not the population's own; `progress` is
    told after each day how many days and events have been evaluated; `source`
    names the population's file in errors; `engine` the evaluator (default: compiled).
    """
    _check_against(program, population, source)
    if roster is None and population.teams:
        roster = population_roster(roster_of(population))
    session = open_session(program, roster=roster, engine=engine)
    # The records go to a temporary file as each day is evaluated (`SpooledRecords`):
    # the report reads them back. The population's events are held (`Simulated.events`,
    # for --save-events): their number is the operator's configuration.
    written = [0]
    currency = program.currencies[0] if program.currencies else None
    evaluated = [0, 0]  # days, events

    def one_day(day: date, events: list[dict[str, Any]]) -> DayOutcome:
        # Fed exactly as a batch run feeds them, and nothing more: no advance to
        # the day's end, which would close periods (and expire lots) that a run
        # on the saved events closes later or, on the last day, not at all. A
        # period closed by the next day's first event pays into that day.
        records: list[Record] = []
        for event in events:
            records.extend(session.feed(event))
        earned: Counter[str] = Counter()
        for record in records:
            if record.kind in PAID and record.member and record.currency == currency:
                earned[record.member] += record.points or 0
        spool.write(encode_lines(records))
        written[0] += len(records)
        evaluated[0] += 1
        evaluated[1] += len(events)
        if progress is not None:
            progress(*evaluated)
        tomorrow = program.calendar.to_utc(datetime.combine(day + timedelta(days=1), time(0)))
        return DayOutcome(earned, partial(_balance_at, session, currency, tomorrow.isoformat()))

    with record_spool() as spool:  # `one_day` writes into it; SpooledRecords closes it
        simulated = simulate(population, one_day)
        closing = session.advance_to(until) if until is not None else session.close_all()
        spool.write(encode_lines(closing))
    records = SpooledRecords(spool, spool.tell(), written[0] + len(closing))
    result = RunResult(records, session.balances(), session)
    return SimulatedRun(simulated, result, roster)


def _balance_at(
    session: Session | CompiledSession, currency: str | None, instant: str, member: str
) -> int:
    """What a member can spend at `instant` (UTC ISO): their balance without the lots
    that expire by then, read without moving the session's clock."""
    state = session.state.members.get(member)
    if state is None or currency is None:
        return 0
    return sum(
        points
        for points, expires, _ in state.lots.get(currency, [])
        if expires is None or expires > instant
    )


def _check_against(program: Program, population: Population, source: str) -> None:
    """Refuse a population whose activities the scheme cannot read (InputError E0403):
    a simulation of events the scheme rejects only reports their rejection."""
    known = program.known_events
    for kind, activity in population.activities.items():
        if known is not None and kind not in known:
            near = did_you_mean(kind, sorted(known))
            raise population_error(
                _("activity `{kind}` is not an event type of the scheme").format(kind=kind)
                + (_(" (did you mean `{near}`?)").format(near=near) if near else ""),
                source,
            )
        read = set(program.attribute_types.get(kind, {}))
        read |= {r.attribute for r in program.redeems if kind in r.events}
        for name, spec in activity.attributes.items():
            if "balance" not in spec:
                continue
            if not program.currencies:
                raise population_error(
                    _(
                        "attribute `{name}` of `{kind}` spends points, but the scheme has none"
                    ).format(name=name, kind=kind),
                    source,
                )
            if name not in read:
                raise population_error(
                    _(
                        "attribute `{name}` of `{kind}` spends points, but the scheme reads "
                        "no `{name}` on `{kind}`: the draw would change nothing"
                    ).format(name=name, kind=kind),
                    source,
                )
