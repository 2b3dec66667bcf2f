"""The per-event awards as columns: a rule's amount, its limit and its cap.

An award with at most one limit and one cap, both the rule's own, is order-free
within (member, period) once the events are sorted: `limit N per P` is the number of
earlier events that earned within (member, P), `< N`; `cap C per P` the running total
within (member, P) clipped at C, what each event is granted being the clipped total
after it less the clipped total before (a `cut` when partly). An amount from the
event's attributes is computed and boosted by the loop's own `evaluate`, boosts and
`to_points` (`_amounts`). Counts and totals of the periods still open at a chunk's end
are carried to the next (`_counted`, `_carry_counts`). Awards whose outcome depends on
the order within a member are the loop's own step's (`steps`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from incentive.columnar.chunks import _Chunk, _event_keys, _inner, _json, _matching, _numbered
from incentive.columnar.conditions import _column
from incentive.columnar.plan import _Award, _NotPlain
from incentive.events import RESERVED_FIELDS
from incentive.expressions import (
    AmountError,
    MissingAttribute,
    condition_holds,
    evaluate,
    to_points,
)

if TYPE_CHECKING:
    import polars as pl


def _counted(
    chunk: _Chunk, slot: int, chosen: pl.DataFrame, period: Any, name: str
) -> pl.DataFrame:
    """`chosen` numbered within (member, period) from what earlier chunks counted
    (`before`: the count or total they left, 0 for none)."""
    import polars as pl

    chosen = _numbered(chosen.with_columns(key=chunk.days.key(period)), ["mid", "key"], name)
    before = chunk.carry.counts.get(slot)
    if before is None:
        return chosen.with_columns(before=pl.lit(0, pl.Int64))
    return chosen.join(before, on=["mid", "key"], how="left").with_columns(
        pl.col("before").fill_null(0)
    )


def _carry_counts(
    chunk: _Chunk, slot: int, rows: pl.DataFrame, period: Any, after: pl.Expr
) -> None:
    """Leave the next chunk each member's count or total in the period the chunk ends
    in (`after`, over a member's rows of that period: the last row's value)."""
    import polars as pl

    key = chunk.days.last(period)
    new = (
        rows.filter(pl.col("key") == key).group_by("mid").agg(key=pl.lit(key), before=after.last())
    )
    old = chunk.carry.counts.get(slot)
    if old is not None:
        old = old.filter(pl.col("key") == key).join(new, on="mid", how="anti")
        new = pl.concat([old, new.select(old.columns)])
    chunk.carry.counts[slot] = new.select("mid", "key", "before")


def _amounts(award: _Award, chunk: _Chunk, chosen: pl.DataFrame) -> pl.DataFrame:
    """Each matching event's points as `amount`: the rule's constant, or its amount
    computed from the event's attributes and boosted as the loop does (`rules._points`:
    `evaluate`, the boosts of the event's day that hold, `to_points`); `error`: why it
    cannot be, and `said`: the award's reason when boosts vary it, as JSON text. A
    negative amount is a penalty, which the ledger floors at zero in time order: the
    loop's to answer."""
    import polars as pl

    if award.points is not None:
        return chosen.with_columns(
            amount=pl.lit(award.points, pl.Int64),
            error=pl.lit(None, pl.String),
            said=pl.lit(None, pl.String),
        )
    rule = award.rule
    assert rule.amount is not None
    kinds = chunk.plan.attributes
    names = [n for n in kinds if n not in RESERVED_FIELDS]
    columns = ["member", "type", "day", *(_column(n) for n in names)]
    readers = {_column(n): (n, kinds[n]) for n in names}

    def points(row: dict[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {"member": row["member"], "type": row["type"]}
        for column, (name, kind) in readers.items():
            value = row[column]
            if value is not None:
                attrs[name] = Decimal(value) if kind == "number" else value
        try:  # the reasons are rules._points's
            amount = evaluate(rule.amount, attrs)  # type: ignore[arg-type]
        except MissingAttribute:
            raise _NotPlain from None  # the loop says which attribute is missing
        except AmountError as err:
            error = _json(f"the amount cannot be computed: {err}")
            return {"amount": None, "error": error, "said": None}
        assert isinstance(amount, Decimal)  # the checker makes an amount a number
        factors = []
        if amount > 0:
            day = date.fromordinal(row["day"])
            for boost in rule.boosts:
                if boost.applies_on(day) and condition_holds(boost.condition, attrs):
                    amount *= boost.factor
                    factors.append(f"boost `{boost.name}` x{boost.factor}")
        try:
            points = to_points(amount, rule.rounding)
        except AmountError as err:
            return {"amount": None, "error": _json(str(err)), "said": None}
        said = f"rule `{rule.name}` with " + ", ".join(factors) if factors else None
        return {"amount": points, "error": None, "said": None if said is None else _json(said)}

    computed = (
        chunk.events.select("seq", *columns)
        .join(chosen.select("seq"), on="seq", how="semi")
        .select(
            "seq",
            pl.struct(columns)
            .map_elements(
                points,
                return_dtype=pl.Struct({"amount": pl.Int64, "error": pl.String, "said": pl.String}),
                skip_nulls=False,
            )
            .alias("computed"),
        )
        .unnest("computed")
    )
    if computed.select((pl.col("amount") < 0).any()).item():
        raise _NotPlain
    return chosen.join(computed, on="seq", how="left")


def _award(award: _Award, chunk: _Chunk) -> list[pl.DataFrame]:
    """A per-event award: `limit N per P` counts the events that earned something
    within (member, P); a cap is the running total within (member, P) clipped at the
    cap. An amount of 0 pays nothing and uses up no limit; one that cannot be
    computed is refused."""
    import polars as pl

    rule, forms = award.rule, chunk.forms
    chosen = _amounts(award, chunk, _matching(rule, chunk))
    constant = award.points is not None
    earns = (pl.col("amount") > 0).fill_null(False)  # always, for a constant
    parts = []
    if award.limit is not None:
        limit = award.limit
        slot = 2 * award.index
        chosen = _counted(chunk, slot, chosen, limit.period, "nth")
        # events before this one in (member, P) that earned: all of them for a constant
        earlier = (
            pl.col("nth")
            if constant
            else (earns.cast(pl.Int64).cum_sum().over("mid", "key") - earns.cast(pl.Int64))
        )
        chosen = chosen.with_columns(used=pl.col("before") + earlier)
        used = pl.col("used")
        refused = forms.add(
            "refused", rule, "currency", "limit_reached", f"{limit.describe()} reached"
        )
        parts.append(
            chosen.filter(used >= limit.count).select(
                *_event_keys(award.index, 0), form=pl.lit(refused)
            )
        )
        after = pl.min_horizontal(used + earns.cast(pl.Int64), limit.count)
        _carry_counts(chunk, slot, chosen, limit.period, after)
        chosen = chosen.filter(used < limit.count).drop("key", "before", "nth", "used")
    if not constant:
        unpaid = forms.add("refused", rule, "currency", "amount_error")
        parts.append(
            chosen.filter(pl.col("error").is_not_null()).select(
                *_event_keys(award.index, 0), form=pl.lit(unpaid), reason="error"
            )
        )
        chosen = chosen.filter(earns)
    paying = forms.add("award", rule, "points currency balance", "rule", f"rule `{rule.name}`")
    if rule.boosts:  # a boosted award names its boosts: "rule `chat` with boost `x` x2"
        boosted = forms.add("award", rule, "points currency balance", "rule")
        form = pl.when(pl.col("said").is_null()).then(paying).otherwise(boosted)
    else:
        form = pl.lit(paying)
    if award.cap is None:
        parts.append(
            chosen.select(
                *_event_keys(award.index, 0),
                form=form,
                points="amount",
                paid="amount",
                reason="said",
            )
        )
        return parts
    cap = award.cap
    slot = 2 * award.index + 1
    chosen = _counted(chunk, slot, chosen, cap.period, "nth")
    # What the cap has counted after this event: earlier chunks' total, then this one's.
    earned = (
        (pl.col("nth") + 1) * award.points
        if award.points is not None
        else pl.col("amount").cum_sum().over("mid", "key")
    )
    total = pl.min_horizontal(pl.col("before") + earned, cap.points)
    before = pl.min_horizontal(pl.col("before") + earned - pl.col("amount"), cap.points)
    chosen = chosen.with_columns(granted=total - before)
    _carry_counts(chunk, slot, chosen, cap.period, total)
    reached = f"{cap.describe()} reached"
    full = forms.add("refused", rule, "points currency", "cap_reached", reached)
    parts.append(
        chosen.filter(pl.col("granted") == 0).select(
            *_event_keys(award.index, 0), form=pl.lit(full), points="amount"
        )
    )
    paid = chosen.filter(pl.col("granted") > 0)
    parts.append(
        paid.select(
            *_event_keys(award.index, 0),
            form=form,
            points="granted",
            paid="granted",
            reason="said",
        )
    )
    cut = forms.add("cut", rule, "points currency", "cap_reached")
    parts.append(
        paid.filter(pl.col("granted") < pl.col("amount")).select(
            *_event_keys(award.index, 1),
            form=pl.lit(cut),
            points=pl.col("amount") - pl.col("granted"),
            reason=pl.concat_str(
                pl.lit('"' + _inner(f"{reached}: ")),
                pl.col("granted").cast(pl.String),
                pl.lit(" of "),
                pl.col("amount").cast(pl.String),
                pl.lit(' paid"'),
            ),
        )
    )
    return parts
