"""Stage 3b, budgets: what a rule, a group or the whole scheme may give out to
everyone together per period. First come, first served in processing order.

Budgets apply after the per-member rules and the ranks, and never feed back
into them: caps, limits, streaks, ranks and levels all see points as earned
before budgets (semantics.md). Only this stage reads state shared by every
member, which is what a partitioned run has to gather in one place.
"""

from __future__ import annotations

from dataclasses import replace

from incentive.program import Program
from incentive.records import Record
from incentive.rules import Proposal
from incentive.state import EngineState, local_time


def apply_budgets(
    state: EngineState, program: Program, proposal: Proposal
) -> tuple[Proposal | None, list[Record]]:
    """The proposal as far as its budgets allow (None: nothing left), and why not more."""
    if proposal.points <= 0 or not proposal.budgets:
        return proposal, []
    calendar = program.calendar
    granted, binding = proposal.points, None
    for budget in proposal.budgets:
        slot = state.budgets.get(f"{budget.owner}:{budget.period}")
        key = calendar.period_key(budget.period, proposal.day)
        used = slot[1] if slot is not None and slot[0] == key else 0
        room = max(0, budget.points - used)
        if room < granted:
            granted, binding = room, budget
    for budget in proposal.budgets:
        key = calendar.period_key(budget.period, proposal.day)
        slot = state.budgets.setdefault(f"{budget.owner}:{budget.period}", [key, 0])
        if slot[0] != key:
            slot[0], slot[1] = key, 0
        slot[1] += granted
    if binding is None:
        return proposal, []
    stamp = local_time(calendar, proposal.at)
    why = f"{binding.describe()} reached"
    if granted == 0:
        refused = Record(
            kind="refused",
            at=stamp,
            member=proposal.member,
            rule=proposal.source,
            points=proposal.points,
            currency=proposal.currency,
            events=proposal.events,
            code="budget_reached",
            reason=why,
        )
        return None, [refused]
    cut = Record(
        kind="cut",
        at=stamp,
        member=proposal.member,
        rule=proposal.source,
        points=proposal.points - granted,
        currency=proposal.currency,
        events=proposal.events,
        code="budget_reached",
        reason=f"{why}: {granted} of {proposal.points} paid",
    )
    return replace(proposal, points=granted), [cut]
