"""The stages a chunk goes through, and which of them look at one member at a time.

The per-member stages (awards, the loop's own steps, streaks: `_member_parts`) are
what `--jobs` splits across processes by member (`workers`); the stages that compare
members (ranks and boards, or the engine's own closes, which count what the
per-member stages paid: `_global_parts`) run after them in the run's own process.
`_records` is a whole chunk's record rows in record order, before budgets and
balances (`writing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incentive.columnar.awards import _award
from incentive.columnar.chunks import _Chunk, _framed
from incentive.columnar.closes import _closed
from incentive.columnar.ranks import _rank
from incentive.columnar.steps import _stepped
from incentive.columnar.streaks import _streak

if TYPE_CHECKING:
    import polars as pl


def _member_parts(chunk: _Chunk) -> list[pl.DataFrame]:
    """The records of the stages that look at one member at a time (awards, the loop's
    own steps, streaks): what `--jobs` splits across processes by member."""
    plan = chunk.plan
    parts: list[pl.DataFrame] = []
    for award in plan.awards:
        if not award.sequential:
            parts += _award(award, chunk)
    stepped = [award for award in plan.awards if award.sequential]
    if stepped:
        parts.append(_stepped(stepped, chunk))
    for streak in plan.streaks:
        parts += _streak(streak, chunk)
    return parts


def _rank_parts(chunk: _Chunk) -> list[pl.DataFrame]:
    """The records of ranks and boards, which compare every member of a period."""
    return [part for rank in chunk.plan.ranks for part in _rank(rank, chunk)]


def _global_parts(chunk: _Chunk, member_parts: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """The records of the stages that compare members (ranks, boards, grants), after the
    per-member stages (whose awards ranks by points count)."""
    if chunk.plan.closes:
        return [_closed(chunk, member_parts)]
    return _rank_parts(chunk)


def _records(chunk: _Chunk) -> pl.DataFrame:
    parts = _member_parts(chunk)
    return _framed(parts + _global_parts(chunk, parts))
