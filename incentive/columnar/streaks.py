"""Streaks as columns: consecutive periods with a matching event, as run lengths.

The first matching event of each (member, period) is the streak's step; a run length
over consecutive period numbers (`rules.period_index`) is the streak, paid at its
tiers and `every` N. A member's streak from earlier chunks enters as a first row of
its own. Streaks with grace, their own caps, limits or boosts, or a perk or a computed
amount at a step are the loop's own step's (`steps`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incentive.columnar.chunks import _Chunk, _event_keys, _inner, _matching, _numbered
from incentive.columnar.plan import _Streak

if TYPE_CHECKING:
    import polars as pl


def _streak(streak: _Streak, chunk: _Chunk) -> list[pl.DataFrame]:
    """Consecutive periods with a matching event: a run length over each member's periods
    in time order; the first matching event of a period is the step. A member's streak
    from earlier chunks enters as a first row of its own (`seq` -1)."""
    import polars as pl

    rule, forms = streak.rule, chunk.forms
    spec = rule.streak
    assert spec is not None
    chosen = _matching(rule, chunk).with_columns(p=chunk.days.index(spec.period), base=pl.lit(0))
    before = chunk.carry.streaks.get(streak.index)
    rows = chosen.select("seq", "mid", "p", "base")
    if before is not None:
        who = chosen.select("mid").unique()
        earlier = before.join(who, on="mid").select(
            seq=pl.lit(-1, pl.Int64), mid="mid", p="p", base=pl.col("length") - 1
        )
        rows = pl.concat([earlier, rows.with_columns(pl.col("base").cast(pl.Int64))])
    rows = _numbered(rows, ["mid", "p"], "nth")
    steps = rows.filter(pl.col("nth") == 0)  # sorted by member, then period
    same = pl.col("mid") == pl.col("mid").shift(1)
    steps = steps.with_columns(gap=pl.when(same).then(pl.col("p") - pl.col("p").shift(1)))
    steps = steps.with_columns(run=(pl.col("gap") != 1).fill_null(True).cum_sum())
    steps = _numbered(steps, ["run"], "length")
    steps = steps.with_columns(length=pl.col("length") + 1 + pl.col("base").first().over("run"))
    last = steps.group_by("mid").agg(pl.col("p").last(), pl.col("length").last())
    if before is not None:
        last = pl.concat([before.join(last, on="mid", how="anti"), last.select(before.columns)])
    chunk.carry.streaks[streak.index] = last
    steps = steps.filter(pl.col("seq") >= 0)
    plural = {"day": "days", "week": "weeks", "month": "months", "year": "years"}.get(
        spec.period, f"{spec.period}s"
    )
    length = pl.col("length").cast(pl.String)
    unit = pl.when(pl.col("length") == 1).then(pl.lit(spec.period)).otherwise(pl.lit(plural))
    in_a_row = pl.concat_str(length, pl.lit(" "), unit, pl.lit(" in a row"))
    note = (
        pl.when(pl.col("gap").is_null())
        .then(pl.lit("a streak starts"))
        .when(pl.col("gap") == 1)
        .then(pl.lit("the streak goes on"))
        .otherwise(
            pl.concat_str(
                pl.lit("the streak was broken ("),
                (pl.col("gap") - 1).cast(pl.String),
                pl.lit(" missed); a new one starts"),
            )
        )
    )
    name = _inner(rule.name)
    parts = [
        steps.select(
            *_event_keys(streak.index, 0),
            form=pl.lit(forms.add("streak", rule, "streak", "streak")),
            streak="length",
            reason=pl.concat_str(pl.lit('"'), note, pl.lit(": "), in_a_row, pl.lit('"')),
        )
    ]
    pays = [(pl.col("length") == n, p, pl.lit("")) for n, p in streak.tiers]
    if streak.every is not None:
        every, points = streak.every
        pays.append((pl.col("length") % every == 0, points, pl.lit(f" (every {every})")))
    paying = forms.add("award", rule, "points currency balance", "streak")
    for sub, (when, points, extra) in enumerate(pays, start=1):
        parts.append(
            steps.filter(when).select(
                *_event_keys(streak.index, sub),
                form=pl.lit(paying),
                points=pl.lit(points),
                paid=pl.lit(points),
                reason=pl.concat_str(pl.lit(f'"rule `{name}`: '), in_a_row, extra, pl.lit('"')),
            )
        )
    return parts
