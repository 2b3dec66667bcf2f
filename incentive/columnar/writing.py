"""Records as JSON Lines: budgets, balances, and each record's line.

After every rule and rank, budgets (semantics.md: they never feed back) take the
budgeted awards in record order, first come, first served across members, by the
loop's own `apply_budgets` (`_budgeted`). Then each record gets its member, event and
time by name and, when it pays, its running balance: what earlier chunks left plus a
cumulative sum per member and currency (`_balanced`). Each kind of record is written
by one string template with its fixed parts encoded once (`_Forms.line`, `_lines`),
and the run ends with every member's balance in every currency (`_balance_lines`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import IO, TYPE_CHECKING, Any

from incentive.budgets import apply_budgets
from incentive.columnar.chunks import _KEYS, _Carry, _Chunk, _Forms, _json
from incentive.columnar.reading import _utc
from incentive.program import Program
from incentive.rules import Proposal

if TYPE_CHECKING:
    import polars as pl


def _budgeted(chunk: _Chunk, records: pl.DataFrame) -> pl.DataFrame:
    """Budgets, after every rule and rank (semantics.md: they never feed back): the
    loop's own `apply_budgets` over the awards of budgeted rules in record order, first
    come, first served across members. An award is cut (a `cut` record just after it)
    or refused (in its place); what budgets gave is carried to the next chunk."""
    import polars as pl

    forms, program = chunk.forms, chunk.plan.program
    budgeted = [
        i for i, row in enumerate(forms.rows) if row[0] in ("award", "rank") and row[1].budgets
    ]
    if not budgeted or not records.height:
        return records
    records = records.with_columns(pl.col("k_sub") * 2)  # room for a cut after each award
    chosen = records.with_row_index("row").filter(pl.col("form").is_in(budgeted))
    if not chosen.height:
        return records
    calendar, events = program.calendar, chunk.events
    days = events["day"]
    # a rank award's points belong to the last day of the period it closed
    closing = {
        end: calendar.day_of(_utc(end) - timedelta(microseconds=1))
        for end in chosen.filter(pl.col("k_phase") == 0)["k_end"].unique().to_list()
    }
    kept: dict[int, int] = {}  # row -> granted points (0: refused)
    notes: dict[str, list[Any]] = {c: [] for c in ("row", "form", "points", "reason")}
    made: dict[tuple[int, str, str], int] = {}  # (award form, kind, fixed reason) -> form
    for row in chosen.select("row", "form", "points", "k_phase", "k_end", "seq").iter_rows():
        index, form, points, phase, end, seq = row
        rule = forms.rows[form][1]
        day = closing[end] if phase == 0 else date.fromordinal(days[seq])
        proposal = Proposal.of(
            rule, points=points, member="", at=_utc(end), day=day, events=(), reason=""
        )
        granted, records_made = apply_budgets(chunk.carry.shared, program, proposal)
        if not records_made:
            continue
        kept[index] = 0 if granted is None else granted.points
        note = records_made[0]
        fixed = note.reason if note.kind == "refused" else None  # which budget is spent
        key = (form, note.kind, fixed or "")
        if key not in made:
            made[key] = forms.add(note.kind, rule, "points currency", "budget_reached", fixed)
        notes["row"].append(index)
        notes["form"].append(made[key])
        notes["points"].append(note.points)
        notes["reason"].append(None if note.kind == "refused" else _json(note.reason))
    if not kept:
        return records
    change = pl.DataFrame(
        {"row": list(kept), "granted": list(kept.values())},
        schema={"row": pl.UInt32, "granted": pl.Int64},
    )
    noted = pl.DataFrame(
        notes,
        schema={"row": pl.UInt32, "form": pl.Int64, "points": pl.Int64, "reason": pl.String},
    )
    records = records.with_row_index("row")
    # the note takes the award's place (refused) or comes just after it (cut)
    added = (
        noted.join(records.drop("form", "points", "paid", "reason"), on="row")
        .join(change, on="row")
        .with_columns(
            k_sub=pl.when(pl.col("granted") == 0)
            .then(pl.col("k_sub"))
            .otherwise(pl.col("k_sub") + 1),
            paid=pl.lit(None, pl.Int64),
        )
    )
    records = (
        records.join(change, on="row", how="left")
        .filter(pl.col("granted").is_null() | (pl.col("granted") > 0))
        .with_columns(
            points=pl.coalesce(pl.col("granted"), pl.col("points")),
            paid=pl.when(pl.col("granted").is_not_null())
            .then(pl.col("granted"))
            .otherwise(pl.col("paid")),
        )
    )
    columns = [c for c in records.columns if c not in ("row", "granted")]
    return pl.concat([records.select(columns), added.select(columns)]).sort(list(_KEYS))


def _balanced(chunk: _Chunk, records: pl.DataFrame) -> pl.DataFrame:
    """Each record's member and event by name, and the running balance of those that pay:
    what earlier chunks left, plus a cumulative sum per member and currency."""
    import polars as pl

    events, carry, forms = chunk.events, chunk.carry, chunk.forms
    # An event's place among the chunk's events: `seq` itself, unless the events are a
    # worker's share (`--jobs`), in `seq` order. Rank awards name theirs (r_*).
    if not events.height:  # a worker's share without events: only rank awards to place
        events = pl.DataFrame(
            {c: [None] for c in ("seq", "member", "id", "stamp", "mid")},
            schema={
                "seq": pl.Int64,
                "member": pl.String,
                "id": pl.String,
                "stamp": pl.String,
                "mid": pl.Int64,
            },
        )
    seq = events["seq"].search_sorted(records["seq"].fill_null(0)).clip(0, events.height - 1)
    currencies = chunk.plan.program.currencies
    currency = pl.col("form").replace_strict(
        list(range(len(forms.rows))),
        [currencies.index(r[1].currency) for r in forms.rows],
        return_dtype=pl.Int64,
    )
    records = records.with_columns(
        member=pl.coalesce(pl.col("r_member"), events["member"].gather(seq)),
        event=pl.coalesce(pl.col("r_event"), events["id"].gather(seq)),
        at=pl.coalesce(pl.col("closed"), events["stamp"].gather(seq)),
        mid=pl.coalesce(pl.col("r_mid"), events["mid"].gather(seq)),
        currency=currency,
    )
    records = records.join(carry.balances, on=["mid", "currency"], how="left")
    paying = pl.col("paid").is_not_null()
    records = records.with_columns(
        balance=pl.when(paying).then(
            pl.col("balance").fill_null(0)
            + pl.col("paid").fill_null(0).cum_sum().over("mid", "currency")
        )
    )
    paid = records.filter(paying).group_by("mid", "currency").agg(pl.col("balance").last())
    carry.balances = pl.concat(
        [carry.balances.join(paid, on=["mid", "currency"], how="anti"), paid]
    )
    return records


def _lines(records: pl.DataFrame, forms: _Forms) -> pl.DataFrame:
    """Every record's JSON line, in record order: each form's lines written apart (its
    fixed text as literals), then put back in order."""
    import polars as pl

    records = records.with_row_index("row")
    parts = [
        part.select("row", forms.line(int(form)).alias("line"))
        for (form,), part in records.partition_by("form", as_dict=True).items()
    ]
    if not parts:
        return pl.DataFrame(schema={"line": pl.String})
    return pl.concat(parts).sort("row").select("line")


def _kinds(records: pl.DataFrame, forms: _Forms) -> Counter[str]:
    """The records by kind (the run's summary)."""
    kinds = Counter[str]()
    for form, count in records["form"].value_counts().iter_rows():
        kinds[forms.rows[form][0]] += count
    return kinds


def _write_records(chunk: _Chunk, records: pl.DataFrame, spool: IO[bytes]) -> Counter[str]:
    """A chunk's records with their balances (`_balanced`), written as lines; the
    records by kind."""
    records = _balanced(chunk, records)
    _write_frame(_lines(records, chunk.forms), spool)
    return _kinds(records, chunk.forms)


def _write_frame(lines: pl.DataFrame, spool: IO[bytes]) -> Counter[str]:
    """Finished lines written (their kinds counted where they were made: none here)."""
    if lines.height:
        lines.write_csv(spool, include_header=False, quote_style="never")
    return Counter()


def _balance_lines(program: Program, carry: _Carry) -> pl.DataFrame:
    """The final balances: every member an event named, every currency, sorted."""
    import polars as pl

    names = sorted(program.currencies)
    named = pl.DataFrame(
        {
            "order": range(len(names)),
            "currency": [program.currencies.index(c) for c in names],
            "json": [_json(c) for c in names],
        },
        schema={"order": pl.Int64, "currency": pl.Int64, "json": pl.String},
    )
    table = carry.members.join(named, how="cross").join(
        carry.balances, on=["mid", "currency"], how="left"
    )
    held = pl.col("balance").fill_null(0).cast(pl.String)
    return table.sort("member", "order").select(
        pl.concat_str(
            pl.lit('{"kind":"balance","member":"'),
            pl.col("member"),
            pl.lit('","points":'),
            held,
            pl.lit(',"currency":'),
            pl.col("json"),
            pl.lit(',"balance":'),
            held,
            pl.lit("}"),
        ).alias("line")
    )
