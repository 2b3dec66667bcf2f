"""Leagues (Duolingo): members in tiers, moved up and down at each period's close.

A league is a rank table per period (ranks.track_rank fills it with each member's
measure, when and by which event it was reached). At the period's close, for each tier
(lowest first), the members in that tier who took part in the period (a matching
event) are put in cohorts: shuffled by a draw from the seed, the league, the period
and the tier (so the same on every run, whatever the order of the input), then dealt
into as few cohorts of at most N as can hold them, their sizes differing by at most
one (31 members, cohorts of 30: 16 and 15). Each cohort is ranked like a rank award
(highest measure first; ties by who reached it first, then by member id); the top K
move up a tier (not from the top tier), the bottom K down (not from the first). A
cohort of n members moves at most n // 2 up and n // 2 down, so nobody does both and
a member alone in a cohort stays. A member who took no part stays in their tier.
Every member starts in the first tier; each move is a `level` record coded
`promoted` or `demoted`, dated at the close.

A board may list the league (`board tiers { league weekly }`): right after the moves,
a `board` record per member of every cohort, the top tier first, each cohort in its
order: the cohort's tier as `team`, the place, the measure, the tier after the close as
`level`, coded `promoted`, `demoted` or `ranked` (stayed).
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from decimal import Decimal
from typing import Any

from incentive.program import Program, RuleSpec
from incentive.ranks import (
    _decimal_text,
    close_table,
    measure_text,
    ordinal,
    period_text,
    standing_order,
)
from incentive.records import Record, RecordCode
from incentive.state import EngineState, local_time


def tier_of(state: EngineState, league: str, member: str, first: str) -> str:
    """A member's tier in a league (the first tier until they move)."""
    return state.leagues.get(league, {}).get(member, first)


def close_league(
    state: EngineState, program: Program, rule: RuleSpec, key: str, closes: datetime
) -> list[Record]:
    """A league's period closes: cohorts per tier, promotions and demotions."""
    league, rank = rule.league, rule.rank
    assert league is not None and rank is not None
    table = close_table(state, rule, key)
    placed = state.leagues.setdefault(rule.name, {})
    stamp = local_time(program.calendar, closes)
    by = measure_text(rank.measure, rank.attribute)
    where = period_text(rank.period, key)  # never the season (E0253)
    moves: list[tuple[str, str]] = []
    records: list[Record] = []
    # (tier, cohort number, cohorts in the tier, the cohort in order, how many go up, down)
    cohorts: list[tuple[str, int, int, list[str], int, int]] = []
    for level, tier in enumerate(league.tiers):
        entrants = sorted(m for m in table if placed.get(m, league.tiers[0]) == tier)
        random.Random(f"{program.seed}|{rule.name}|{key}|{tier}").shuffle(entrants)
        groups = math.ceil(len(entrants) / league.cohort)
        for number in range(groups):
            cohort = entrants[number::groups]  # dealt round: sizes differ by at most one
            ranked = sorted(
                cohort, key=lambda m: standing_order(Decimal(table[m][0]), table[m][1], m)
            )
            size = len(ranked)
            up = min(league.promote, size // 2) if level < len(league.tiers) - 1 else 0
            down = min(league.demote, size // 2) if level > 0 else 0
            cohorts.append((tier, number + 1, groups, ranked, up, down))
            for position, member in enumerate(ranked, start=1):
                code: RecordCode
                if position <= up:
                    new, code, word = league.tiers[level + 1], "promoted", "promoted to"
                elif position > size - down:
                    new, code, word = league.tiers[level - 1], "demoted", "demoted to"
                else:
                    continue
                measure, _at, event = table[member]
                moves.append((member, new))
                records.append(
                    Record(
                        kind="level",
                        at=stamp,
                        member=member,
                        rule=rule.name,
                        level=new,
                        rank=position,
                        value=_decimal_text(Decimal(measure)),
                        events=(event,) if event else (),
                        code=code,
                        reason=f"league `{rule.name}`: {ordinal(position)} of {size} in "
                        f"{tier} cohort {number + 1} of {groups} by {by} with "
                        f"{_decimal_text(Decimal(measure))} ({where}): {word} {new}",
                    )
                )
    for member, new in moves:  # after every cohort: a member moves one tier at a time
        if new == league.tiers[0]:
            placed.pop(member, None)
        else:
            placed[member] = new
    for board in program.league_boards.get(rule.name, ()):
        records.extend(_board(board, league.tiers, cohorts, table, stamp, by, where))
    return records


def _board(
    board: RuleSpec,
    tiers: tuple[str, ...],
    cohorts: list[tuple[str, int, int, list[str], int, int]],
    table: dict[str, list[Any]],
    stamp: str,
    by: str,
    where: str,
) -> list[Record]:
    """A league's board: every cohort's standings, the top tier first."""
    records = []
    order = {tier: index for index, tier in enumerate(tiers)}
    for tier, number, groups, ranked, up, down in sorted(
        cohorts, key=lambda c: (-order[c[0]], c[1])
    ):
        size = len(ranked)
        for position, member in enumerate(ranked, start=1):
            measure, _at, event = table[member]
            value = _decimal_text(Decimal(measure))
            code: RecordCode = "ranked"
            now, note = tier, ""
            if position <= up:
                code, now = "promoted", tiers[order[tier] + 1]
                note = f": promoted to {now}"
            elif position > size - down:
                code, now = "demoted", tiers[order[tier] - 1]
                note = f": demoted to {now}"
            records.append(
                Record(
                    kind="board",
                    at=stamp,
                    member=member,
                    team=tier,
                    rule=board.name,
                    rank=position,
                    level=now,
                    value=value,
                    events=(event,) if event else (),
                    code=code,
                    reason=f"board `{board.name}`: {ordinal(position)} of {size} in {tier} "
                    f"cohort {number} of {groups} by {by} with {value} ({where}){note}",
                )
            )
    return records
