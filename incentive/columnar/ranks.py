"""Ranks and boards of members as columns: `top N per P by earliest / count / max / sum`.

Each (period, member)'s entry is what the loop's rank table holds (`_entries`: the
value, when it was reached, the event that reached it, merged with what earlier
chunks left); at a period's close the entries are sorted best first, ties by when
reached, then by member, and the places are paid, given a perk or a badge, or listed
on a board, just before the first event after the close. Periods still open at a
chunk's end are carried. Sums are added in 64-bit integers, kept below `SUM_BOUND`
(beyond it the loop's decimals answer). Ranks of teams, by points, rate or missing
are the interpreter's own closes (`closes`), which also read `_entries`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incentive.columnar.chunks import _Chunk, _inner, _matching
from incentive.columnar.plan import _NotPlain, _Rank
from incentive.columnar.reading import _micros
from incentive.program import RankSpec
from incentive.ranks import ordinal
from incentive.records import outcome_kind
from incentive.state import local_time

if TYPE_CHECKING:
    import polars as pl


def _entries(rank: RankSpec, chosen: pl.DataFrame, before: pl.DataFrame | None) -> pl.DataFrame:
    """Each (period key, member)'s entry as the loop's rank table holds it: the value, when
    it was reached and the event that reached it, with what earlier chunks left.

    earliest: the first event. count: every event moves it. max: the first event to
    reach the largest value. sum: the last event that changed it (one adding 0 does
    not), else the first; `moved` says whether any did, for the next chunk."""
    import polars as pl

    grouped = chosen.group_by("key", "mid", maintain_order=True)
    t, event, v = pl.col("t"), pl.col("id"), pl.col("v")
    if rank.measure == "earliest":
        entries = grouped.agg(value=-t.first(), reached=t.first(), event=event.first())
    elif rank.measure == "count":
        entries = grouped.agg(value=pl.len().cast(pl.Int64), reached=t.last(), event=event.last())
    elif rank.measure == "max":
        top = v == v.max()
        entries = grouped.agg(
            value=v.max(), reached=t.filter(top).first(), event=event.filter(top).first()
        )
    else:  # sum
        moved = v != 0
        entries = grouped.agg(
            value=v.sum(),
            reached=pl.coalesce(t.filter(moved).last(), t.first()),
            event=pl.coalesce(event.filter(moved).last(), event.first()),
            moved=moved.any(),
        )
    if before is None:
        return entries
    both = pl.concat([before, entries.select(before.columns)]).group_by(
        "key", "mid", maintain_order=True
    )
    value, reached, event = pl.col("value"), pl.col("reached"), pl.col("event")
    if rank.measure == "earliest":  # the earlier chunk's entry came first
        return both.agg(value.first(), reached.first(), event.first())
    if rank.measure == "count":
        return both.agg(value.sum(), reached.last(), event.last())
    if rank.measure == "max":  # a later chunk takes it only with a larger value
        top = value == value.max()
        return both.agg(value.max(), reached.filter(top).first(), event.filter(top).first())
    moved = pl.col("moved")
    return both.agg(
        value.sum(),
        pl.coalesce(reached.filter(moved).last(), reached.first()),
        pl.coalesce(event.filter(moved).last(), event.first()),
        moved.any(),
    )


# The loop adds in decimals, the plan in 64-bit integers: a chunk's values and the sums
# carried from earlier chunks each kept below this bound cannot overflow when added.
SUM_BOUND = 4 * 10**18


def _within_sum_bound(largest: Any) -> None:
    if largest >= SUM_BOUND:
        raise _NotPlain  # the loop answers (its decimals have no bound)


def _rank(rank_rule: _Rank, chunk: _Chunk) -> list[pl.DataFrame]:
    """A period's ranking at its close: each member's entry (`_entries`), sorted best
    first, ties by when the value was reached, then by member; the places paid (rank
    awards), given a perk or a badge, or listed on a board. Periods still open at the
    chunk's end are carried."""
    import polars as pl

    rule, forms, events = rank_rule.rule, chunk.forms, chunk.events
    rank = rule.rank
    assert rank is not None
    calendar = chunk.plan.program.calendar
    chosen = _matching(rule, chunk, rank.attribute).with_columns(key=chunk.days.key(rank.period))
    if rank.measure == "sum":
        _within_sum_bound(chosen["v"].abs().cast(pl.Float64).sum())
    entries = _entries(rank, chosen, chunk.carry.entries.get(rank_rule.index))
    if rank.measure == "sum":
        _within_sum_bound(entries["value"].abs().max() or 0)
    entries = entries.join(chunk.carry.members, on="mid", how="left")  # ties go by name
    # Each period's close: its instant, its record time, the first event it precedes.
    used = sorted(set(entries["key"].to_list()))
    ends = [calendar.period_end(rank.period, k) for k in used]
    end_micros = pl.Series([_micros(e) for e in ends], dtype=pl.Int64)
    closes = pl.DataFrame(
        {
            "key": used,
            "k_end": end_micros,
            "k_event": events["t"].search_sorted(end_micros, side="left").cast(pl.Int64),
            "closed": [local_time(calendar, e) for e in ends],
        },
        schema={"key": pl.String, "k_end": pl.Int64, "k_event": pl.Int64, "closed": pl.String},
    )
    entries = entries.join(closes, on="key", how="left")
    if not chunk.final:  # a period no event of this chunk reached the end of stays open
        open_ = pl.col("k_event") >= events.height
        carried = ["key", "mid", "value", "reached", "event"]
        carried += ["moved"] if rank.measure == "sum" else []
        chunk.carry.entries[rank_rule.index] = entries.filter(open_).select(carried)
        entries = entries.filter(~open_)
    sign = 1 if rank.side == "bottom" else -1
    entries = entries.with_columns(order=pl.col("value") * sign).sort(
        "key", "order", "reached", "member"
    )
    entries = entries.with_columns(
        place=pl.int_range(1, pl.len() + 1).over("key"), entrants=pl.len().over("key")
    )
    if rank.count is not None:
        entries = entries.filter(pl.col("place") <= rank.count)
    most = rank.count if rank.count is not None else max(entries.height, 1)
    places = list(range(1, most + 1))
    shows_value = rank.measure != "earliest"
    by = rank.measure + (f" {rank.attribute}" if rank.attribute else "")
    where = pl.concat_str(pl.lit(f" ({rank.period} "), pl.col("key"), pl.lit(")"))
    if rank.period == "season":
        where = pl.lit(" (the season)")
    ordinals = [ordinal(p) for p in places]
    said: list[pl.Expr] = [  # "2nd of 5 by count with 3 (day 2026-03-02)"
        pl.col("place").replace_strict(places, ordinals, return_dtype=pl.String),
        pl.lit(" of "),
        pl.col("entrants").cast(pl.String),
        pl.lit(f" by {_inner(by)}"),
        pl.concat_str(pl.lit(" with "), pl.col("value").cast(pl.String))
        if shows_value
        else pl.lit(""),
        where,
    ]
    value = (
        pl.concat_str(pl.lit('"'), pl.col("value").cast(pl.String), pl.lit('"'))
        if shows_value
        else pl.lit(None, pl.String)
    )
    extra = " value" if shows_value else ""
    keys: list[str | pl.Expr] = [
        "k_event",
        pl.lit(0).alias("k_phase"),
        "k_end",
        pl.lit(rank_rule.index).alias("k_rule"),
        pl.col("place").alias("k_sub"),
        "closed",
    ]
    named = {"r_member": "member", "r_mid": "mid", "r_event": "event", "rank": "place"}
    if rule.board:
        form = forms.add("board", rule, "rank" + extra, "ranked")
        prefix = f"board `{rule.name}`: "
        return [
            entries.select(
                *keys,
                **named,
                form=pl.lit(form),
                value=value,
                reason=pl.concat_str(pl.lit('"' + _inner(prefix)), *said, pl.lit('"')),
            )
        ]
    if rule.perk is not None:
        kind, name = rule.perk
        form = forms.add(outcome_kind(kind), rule, "rank" + extra, "ranked", perk=name)
        prefix = f'rule `{rule.name}`: {kind} "{name}" for '
        return [
            entries.select(
                *keys,
                **named,
                form=pl.lit(form),
                value=value,
                reason=pl.concat_str(pl.lit('"' + _inner(prefix)), *said, pl.lit('"')),
            )
        ]
    amounts = [rank.amount_for(p) for p in places]
    entries = entries.with_columns(
        points=pl.col("place").replace_strict(places, amounts, return_dtype=pl.Int64)
    ).filter(pl.col("points") != 0)
    form = forms.add("rank", rule, "points currency balance rank" + extra, "ranked")
    prefix = f"rule `{rule.name}`: "
    return [
        entries.select(
            *keys,
            **named,
            form=pl.lit(form),
            points="points",
            paid="points",
            value=value,
            reason=pl.concat_str(pl.lit('"' + _inner(prefix)), *said, pl.lit('"')),
        )
    ]
