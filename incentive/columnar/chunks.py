"""A chunk of events and the record rows the stages make of it.

Every stage works on a `_Chunk`: the time-ordered events of one block, the calendar's
answers for its days (`_Days`), what earlier chunks left (`_Carry`: open periods'
counts, streaks, rank entries, balances, member numbers), and the kinds of record it
writes (`_Forms`, each a template of fixed text). A stage answers with record rows:
frames of the columns in `_RECORD`, put in the interpreter's order by the five keys
in `_KEYS` (`_framed`). `_matching` gives a rule's matching events, the input of
every stage. This is the ground the stages and the closes share, below them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from incentive.columnar.conditions import _column, _predicate
from incentive.columnar.plan import ColumnarPlan
from incentive.columnar.reading import _utc
from incentive.events import Event
from incentive.program import Program, RuleSpec
from incentive.rules import period_index
from incentive.state import EngineState, MemberState

if TYPE_CHECKING:
    import polars as pl

    from incentive.columnar.closes import _ClosingSession


def _json(text: str) -> str:
    return msgspec.json.encode(text).decode()


def _inner(text: str) -> str:
    """Text as it appears inside a JSON string (escaped, without the quotes)."""
    return _json(text)[1:-1]


class _Days:
    """Calendar answers for each distinct day of a chunk, mapped onto the day column:
    the calendar is asked once per day, never per event."""

    def __init__(self, program: Program, days: list[int]) -> None:
        self.program = program
        self.days = days

    def keys(self, period: Any) -> list[str]:
        """Each day's period key (`calendar.period_key`)."""
        calendar = self.program.calendar
        return [calendar.period_key(period, date.fromordinal(d)) for d in self.days]

    def last(self, period: Any) -> str:
        """The key of the period the chunk ends in: the one later chunks may continue."""
        return self.program.calendar.period_key(period, date.fromordinal(self.days[-1]))

    def key(self, period: Any) -> pl.Expr:
        """The day column as its period's key."""
        import polars as pl

        return pl.col("day").replace_strict(self.days, self.keys(period), return_dtype=pl.String)

    def index(self, period: Any) -> pl.Expr:
        """The day column as `period_index`: consecutive periods, consecutive numbers."""
        import polars as pl

        calendar = self.program.calendar
        values = [period_index(period, date.fromordinal(d), calendar) for d in self.days]
        return pl.col("day").replace_strict(self.days, values, return_dtype=pl.Int64)


def _numbered(frame: pl.DataFrame, by: Sequence[str], name: str) -> pl.DataFrame:
    """Sorted by `by` then input order, with `name` numbering each group's rows from 0.

    The same as `int_range(len).over(by)` in time order, for the price of one sort
    instead of hashing every row (the records are sorted again at the end).
    """
    import polars as pl

    frame = frame.sort([*by, "seq"])
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first = pl.any_horizontal([pl.col(c) != pl.col(c).shift(1) for c in by]).fill_null(True)
    start = pl.when(first).then(row).otherwise(None).forward_fill()
    return frame.with_columns((row - start).alias(name))


@dataclass
class _Carry:
    """What one chunk leaves to the next, keyed by member number (`mid`, given in order
    of first appearance and kept for the whole run): counts and totals of the periods
    still open, streaks, rank entries of periods not yet closed, balances, the open
    day's ids."""

    counts: dict[int, pl.DataFrame]  # rule -> mid, key, used (limits) or total (caps)
    streaks: dict[int, pl.DataFrame]  # rule -> mid, p, length
    entries: dict[int, pl.DataFrame]  # rule -> key, mid, value, reached, event
    balances: pl.DataFrame  # mid, currency (its place in the scheme), balance
    members: pl.DataFrame  # member, mid: every member so far and its number
    # member -> the loop's state, for the awards taken by its own rule step (`_stepped`)
    stepped: dict[str, MemberState] = field(default_factory=dict)
    # what spans members in the loop's own steps: what budgets have given in their
    # current periods (`budgets`), the values `milestone distinct` counted (`invites`)
    shared: EngineState = field(default_factory=EngineState)
    # the engine's own closes (`_closed`), for a plan that takes them
    closing: _ClosingSession | None = None
    last: int | None = None  # the instant of the last event so far
    open_day: int | None = None
    open_ids: pl.Series | None = None


def _empty_carry() -> _Carry:
    import polars as pl

    return _Carry(
        {},
        {},
        {},
        pl.DataFrame(schema={"mid": pl.Int64, "currency": pl.Int64, "balance": pl.Int64}),
        pl.DataFrame(schema={"member": pl.String, "mid": pl.Int64}),
    )


# Columns of the record frame. Sort keys: the event (or, for a close, the first event
# after it; the chunk's length for the end), 0 for closes before 1 for the event's own
# records, the close's instant, the rule's place, a record's place within its step.
# `seq` is the event the record names (member, id, time); a rank award names them
# itself. `form` is its fixed text (kind, rule, currency, a reason that does not vary).
_KEYS = ("k_event", "k_phase", "k_end", "k_rule", "k_sub")


_RECORD = {
    "seq": "Int64",
    "form": "Int64",
    "points": "Int64",
    "paid": "Int64",  # what the balance moves by (awards and rank awards)
    "rank": "Int64",
    "streak": "Int64",
    "value": "String",  # JSON text
    "reason": "String",  # JSON text, when it varies
    "closed": "String",  # a rank award: its period's close as the record's time
    "r_member": "String",  # a rank award: its member
    "r_event": "String",  # a rank award: the event that placed it
    "r_mid": "Int64",  # a rank award: its member's number
    # a record of the engine's own closes (`_closed`), written by the engine: its line
    # up to the balance (all of it when it pays nothing) and after the balance
    "head": "String",
    "tail": "String",
}


class _Forms:
    """The kinds of record a plan writes, numbered: each with its fields (in the Record's
    order) and its fixed text (kind, rule, currency, a reason that does not vary)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, RuleSpec, tuple[str, ...], str, str | None, str | None]] = []

    def add(
        self,
        kind: str,
        rule: RuleSpec,
        fields: str,
        code: str,
        reason: str | None = None,
        perk: str | None = None,
    ) -> int:
        self.rows.append((kind, rule, tuple(fields.split()), code, reason, perk))
        return len(self.rows) - 1

    def line(self, form: int) -> pl.Expr:
        """A record of this form as `Record.to_json_bytes()` writes it. Values are safe
        as they stand: plain input has nothing to escape, names are encoded here."""
        import polars as pl

        kind, rule, fields, code, reason, perk = self.rows[form]
        if fields[:1] == ("written",):  # the engine's own line (`_closed`)
            if "balance" not in fields:
                return pl.col("head")
            return pl.concat_str(pl.col("head"), pl.col("balance").cast(pl.String), pl.col("tail"))
        text = f'{{"kind":{_json(kind)}'
        pieces: list[pl.Expr] = []

        def put(value: pl.Expr) -> None:
            nonlocal text
            pieces.extend([pl.lit(text), value])
            text = ""

        for name in ("at", "member", "rule", "points", "currency", "balance", "rank", "streak"):
            if name == "rule":
                text += f',"rule":{_json(rule.name)}'
            elif name == "currency" and name in fields:
                text += f',"currency":{_json(rule.currency)}'
            elif name in ("at", "member") or name in fields:
                text += f',"{name}":' + ('"' if name in ("at", "member") else "")
                put(pl.col(name).cast(pl.String))
                text += '"' if name in ("at", "member") else ""
        if perk is not None:
            text += f',"perk":{_json(perk)}'
        if "value" in fields:
            text += ',"value":'
            put(pl.col("value"))
        if kind != "board":  # a board line is about a period, not an event
            text += ',"events":["'
            put(pl.col("event"))
            text += '"]'
        text += f',"code":{_json(code)},"reason":'
        if reason is None:
            put(pl.col("reason"))
        else:
            text += _json(reason)
        text += "}"
        return pl.concat_str([*pieces, pl.lit(text)])


@dataclass
class _Chunk:
    """One chunk of time-ordered events and what the stages need to know about it."""

    plan: ColumnarPlan
    events: pl.DataFrame
    days: _Days
    carry: _Carry
    final: bool  # the input's last chunk: every open period closes at its end
    forms: _Forms


def _record_schema(columns: Sequence[str]) -> dict[str, Any]:
    """The Polars types of these record columns (order keys, then `_RECORD`'s)."""
    import polars as pl

    return {c: pl.Int64 if c in _KEYS else getattr(pl, _RECORD[c]) for c in columns}


def _framed(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Record rows of every stage as one frame of the record columns, in record order."""
    import polars as pl

    schema = _record_schema([*_KEYS, *_RECORD])
    frames = [
        p.select(
            [
                (pl.col(c) if c in p.columns else pl.lit(None)).cast(dtype).alias(c)
                for c, dtype in schema.items()
            ]
        )
        for p in parts
        if p.height
    ]
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).sort(list(_KEYS))


def _matching(rule: RuleSpec, chunk: _Chunk, attribute: str | None = None) -> pl.DataFrame:
    """The rule's matching events: position, member, day, instant, id (and, as `v`, the
    attribute a rank measures)."""
    import polars as pl

    chosen = chunk.events.filter(pl.col("type").is_in(list(rule.events)))
    if rule.condition is not None:
        predicate = _predicate(rule.condition, chunk.plan.attributes)
        assert predicate is not None
        chosen = chosen.filter(predicate)
    measured = [pl.col(_column(attribute)).alias("v")] if attribute is not None else []
    return chosen.select("seq", "mid", "day", "t", "id", *measured)


def _event_keys(rule_index: int, sub: int) -> list[pl.Expr]:
    import polars as pl

    return [
        pl.col("seq").alias("k_event"),
        pl.lit(1).alias("k_phase"),
        pl.lit(0).alias("k_end"),
        pl.lit(rule_index).alias("k_rule"),
        pl.lit(sub).alias("k_sub"),
        pl.col("seq"),
    ]


def _row_event(
    row: dict[str, Any], names: Sequence[str], kinds: dict[str, Any]
) -> tuple[Event, dict[str, Any]]:
    """A matching event's row (`iter_rows(named=True)`) as the loop's own steps take it:
    the Event, and its attributes as the interpreter reads them (numbers as Decimal)."""
    attrs: dict[str, Any] = {"member": row["member"], "type": row["type"]}
    for name in names:
        value = row[_column(name)]
        if value is not None:
            attrs[name] = Decimal(value) if kinds[name] == "number" else value
    return Event(row["id"], row["type"], row["member"], _utc(row["t"])), attrs
