"""Stage 3, rankings per period: rank tables fill as events arrive and pay at
the period's close. They see points as earned before budgets (semantics.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from incentive.events import Event
from incentive.program import Program, RuleSpec
from incentive.rules import Proposal
from incentive.state import EngineState


def track_rank(
    state: EngineState,
    program: Program,
    rule: RuleSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> None:
    """Record a matching event in the rank table of its period (paid at the close)."""
    rank = rule.rank
    assert rank is not None
    key = program.calendar.period_key(rank.period, day)
    table = state.ranks.setdefault(rule.name, {}).setdefault(key, {})
    at = event.at.isoformat()
    entry = table.get(event.member)
    if entry is None:
        # [measure, when it was reached, the event that reached it]
        entry = table[event.member] = ["0", at, event.id]
        if rank.measure == "earliest":
            return
    if rank.measure == "count":
        entry[0] = str(Decimal(entry[0]) + 1)
    elif rank.measure in ("sum", "max"):
        assert rank.attribute is not None
        value = attrs.get(rank.attribute)
        if value is None:
            return
        current = Decimal(entry[0])
        new = current + value if rank.measure == "sum" else max(current, value)
        if new == current:
            return  # the measure did not move: keep the time it was first reached
        entry[0] = str(new)
    else:
        return  # earliest: the first event decides; points arrive from other rules
    entry[1], entry[2] = at, event.id


def track_points(state: EngineState, program: Program, proposal: Proposal, day: date) -> None:
    """Points earned count toward `by points` ranks (before budgets, semantics.md)."""
    for rule in program.rules:
        rank = rule.rank
        if rank is None or rank.measure != "points" or proposal.rule.rank is not None:
            continue
        if rank.sources and proposal.rule.name not in rank.sources:
            continue
        key = program.calendar.period_key(rank.period, day)
        points = state.rank_points.setdefault(rule.name, {}).setdefault(key, {})
        before = points.get(proposal.member, [0, ""])
        points[proposal.member] = [before[0] + proposal.points, proposal.at.isoformat()]


def close_rank(
    state: EngineState, program: Program, rule: RuleSpec, key: str, closes: datetime
) -> list[Proposal]:
    """Rank one period's members and propose their awards, dated at the close."""
    rank = rule.rank
    assert rank is not None
    table = state.ranks.get(rule.name, {}).pop(key, {})
    points = state.rank_points.get(rule.name, {}).pop(key, {})
    state.closed_ranks[f"{rule.name}|{key}"] = True
    if rank.measure == "points":
        for member, entry in table.items():
            earned = points.get(member)
            entry[0] = str(earned[0]) if earned else "0"
            if earned:
                entry[1] = earned[1]
    sign = 1 if rank.side == "bottom" else -1
    if rank.measure == "earliest":
        # Top by earliest: the first to act; bottom: the last. Ties: member id.
        order = sorted(table.items(), key=lambda kv: (-sign * _epoch(kv[1][1]), kv[0]))
    else:
        # Highest first for top, lowest first for bottom; ties: who reached it first, then id.
        order = sorted(
            table.items(), key=lambda kv: (sign * Decimal(kv[1][0]), _epoch(kv[1][1]), kv[0])
        )
    by = rank.measure + (f" {rank.attribute}" if rank.attribute else "")
    proposals = []
    for position, (member, entry) in enumerate(order[: rank.count], start=1):
        amount = rank.amount_for(position)
        if amount == 0:
            continue
        measure = "" if rank.measure == "earliest" else f" with {entry[0]}"
        proposals.append(
            Proposal(
                rule,
                amount,
                member,
                closes,
                (entry[2],),
                f"rule `{rule.name}`: {_ordinal(position)} of {len(order)} by {by}{measure} "
                f"({rank.period} {key})",
                kind="rank",
                rank=position,
            )
        )
    return proposals


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
