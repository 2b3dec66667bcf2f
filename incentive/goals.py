"""Team goals (`goal class per week by count  at 500 award 10`): a team's measure in a
period, paid the moment it reaches a tier's threshold.

The goal fires at the event that reaches the threshold, not at the period's close:
"the moment the class hits 500" is when operators announce it, and a milestone (the
same idea for one member) pays on its event too (semantics.md, Milestones). It pays
the members of the team at that moment (the roster's, and those an event attribute
placed in it so far): a member who joins the team later in the period is not paid
for a goal reached before they joined. Each tier pays once per team and period,
whatever the measure does afterwards; a reversal does not undo it.

State: `state.ranks[rule][period key][team]` = [measure (decimal text), members who
acted (for `active`), thresholds reached (text)], for the open period only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from incentive.events import Event
from incentive.expressions import evaluate, to_points
from incentive.program import GoalSpec, Payment, Program, RuleSpec
from incentive.ranks import measure_text, period_text
from incentive.records import Record, perk_record
from incentive.rules import Proposal
from incentive.state import EngineState, local_time


def track_goal(
    state: EngineState,
    program: Program,
    rule: RuleSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Iterator[Proposal | Record]:
    """Add a matching event to its member's team's measure; pay each tier it reaches."""
    goal = rule.goal
    assert goal is not None
    placed = state.teams.get(goal.team, {})
    team = placed.get(event.member)
    if team is None:
        return  # a member in no team of the kind counts toward no team's goal
    key = program.calendar.period_key(goal.period, day)
    periods = state.ranks.setdefault(rule.name, {})
    if key not in periods:
        # time only moves on: the tallies of an earlier period can never grow again
        periods.clear()
        periods[key] = {}
    entry = periods[key].setdefault(team, ["0", [], []])
    before = Decimal(entry[0])
    if goal.measure == "active":
        if event.member in entry[1]:
            return
        entry[1].append(event.member)
        after = Decimal(len(entry[1]))
    elif goal.measure == "count":
        after = before + 1
    else:
        assert goal.attribute is not None
        value = attrs.get(goal.attribute)
        if value is None:
            return  # an event without it adds nothing to the sum (as in a rank by sum)
        after = before + value
    entry[0] = str(after)
    for threshold, payment in goal.tiers:
        if after >= threshold and str(threshold) not in entry[2]:
            entry[2].append(str(threshold))
            members = sorted(m for m, t in placed.items() if t == team)
            yield from _pay_goal(
                program, rule, goal, event, day, key, team, members, threshold, payment
            )


def _pay_goal(
    program: Program,
    rule: RuleSpec,
    goal: GoalSpec,
    event: Event,
    day: date,
    key: str,
    team: str,
    members: list[str],
    threshold: int,
    payment: Payment,
) -> Iterator[Proposal | Record]:
    by = measure_text(goal.measure, goal.attribute)
    where = period_text(goal.period, key)
    reached = f"{goal.team} `{team}` reached {threshold} by {by} ({where})"
    stamp = local_time(program.calendar, event.at)
    shown = str(threshold)
    if goal.draw is not None:
        drawing = random.Random(f"{program.seed}|{rule.name}|{key}|{team}|{threshold}")
        payees = sorted(drawing.sample(members, min(goal.draw, len(members))))
        reached += f": drawn {len(payees)} of {len(members)}"
    else:
        payees = members
    if payment.perk is not None:
        for member in payees if goal.draw is not None else [None]:
            yield perk_record(
                rule.name,
                payment.perk,
                reached,
                at=stamp,
                member=member,
                team=team,
                value=shown,
                events=(event.id,),
                code="team_goal",
            )
        return
    assert payment.amount is not None
    amount = evaluate(payment.amount, {})
    assert isinstance(amount, Decimal)  # the checker makes it a constant number
    points = to_points(amount, payment.rounding)
    if points == 0:
        return
    for member in payees:
        yield Proposal.of(
            rule,
            points=points,
            member=member,
            at=event.at,
            day=day,
            events=(event.id,),
            reason=f"rule `{rule.name}`: {reached}",
            code="team_goal",
            team=team,
            value=shown,
        )
