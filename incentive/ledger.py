"""Stage 4, the ledger: balances move; a balance never goes below zero."""

from __future__ import annotations

from collections.abc import Iterator

from incentive.program import Program
from incentive.records import Record
from incentive.rules import Proposal
from incentive.state import MemberState, local_time


def post(program: Program, member: MemberState, proposal: Proposal) -> Iterator[Record]:
    """Move the balance; a penalty larger than the balance is cut at zero."""
    rule = proposal.rule
    balance = member.balances.get(rule.currency, 0)
    points = proposal.points
    stamp = local_time(program.calendar, proposal.at)
    cut = 0
    if balance + points < 0:
        cut, points = -(balance + points), -balance
    member.balances[rule.currency] = balance + points
    if points != 0 or cut == 0:
        yield Record(
            kind=proposal.kind,
            at=stamp,
            member=proposal.member,
            team=proposal.team,
            rule=rule.name,
            points=points,
            currency=rule.currency,
            balance=balance + points,
            rank=proposal.rank,
            value=proposal.value,
            events=proposal.events,
            reason=proposal.reason,
        )
    if cut:
        yield Record(
            kind="cut",
            at=stamp,
            member=proposal.member,
            rule=rule.name,
            points=cut,
            currency=rule.currency,
            balance=balance + points,
            events=proposal.events,
            reason=f"a balance cannot go below zero: {-points} of {-proposal.points} taken",
        )
