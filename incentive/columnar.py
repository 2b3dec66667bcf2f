"""The columnar plan: a batch run over event files as whole-column operations.

The compiled evaluator (`compiler`) handles one event at a time, as a stream
must. A batch run over saved files knows every event before it starts, and
most of what a scheme says is order-free within a member and a period: a
condition is a column expression, `limit N per day` is a row number within
(member, day), `cap C per day` a cumulative sum clipped at C, a streak a
run length over a member's days, `top 3 per day by earliest` a sort within
the day. This module states those in Polars, over every event at once and on
every core, and then puts the records in the order the interpreter writes
them (each event's records in file order of the rules, a period's rank
awards just before the first event after its close) with the running
balances as one cumulative sum per member.

One meaning, two forms: `plan_for` accepts a scheme only when every construct
it uses is written here (`why_not` says what is missing, and `run
--explain-plan` prints it), and `run_columnar` accepts an input only when it
is plain (every line a flat JSON object in the strict form checked below, ids
unique, times in order, attributes present). Anything else returns None
before a byte is written, and the caller runs the compiled loop, which has
the interpreter's answer for every input. Calendar arithmetic (days, period
keys and ends, daylight saving) is never redone in columns: it is asked of
the scheme's `Calendar` once per distinct day and joined in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import msgspec

from incentive import ast
from incentive.compiler import constant_points
from incentive.events import MAX_LINE_BYTES, RESERVED_FIELDS
from incentive.expressions import AmountError, to_points
from incentive.program import CapSpec, LimitSpec, Program, RuleSpec, ValueType
from incentive.ranks import ordinal
from incentive.rules import period_index
from incentive.state import local_time

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ColumnarPlan", "explain", "plan_for", "run_columnar", "why_not"]

# Above this much input the plan would hold too much at once: the compiled loop
# streams it in memory that grows with members, not events.
MAX_INPUT_BYTES = 1 << 30


# ---- what the plan can say --------------------------------------------------------------


@dataclass(frozen=True)
class _Award:
    rule: RuleSpec
    index: int  # the rule's place in the file: the order of an event's records
    points: int
    limit: LimitSpec | None
    cap: CapSpec | None


@dataclass(frozen=True)
class _Streak:
    rule: RuleSpec
    index: int
    tiers: tuple[tuple[int, int], ...]  # (length, points)
    every: tuple[int, int] | None


@dataclass(frozen=True)
class _Rank:
    rule: RuleSpec
    index: int


@dataclass(frozen=True)
class ColumnarPlan:
    program: Program
    awards: tuple[_Award, ...]
    streaks: tuple[_Streak, ...]
    ranks: tuple[_Rank, ...]
    attributes: dict[str, ValueType]  # every attribute a rule reads, over all event types


def why_not(program: Program) -> list[str]:
    """What in the scheme the columnar plan does not write (empty: it runs it all)."""
    reasons: list[str] = []
    if program.levels is not None:
        reasons.append("levels")
    if program.expiry:
        reasons.append("expiry")
    if program.redeems:
        reasons.append("redeem blocks")
    if program.grants:
        reasons.append("grants")
    if program.teams:
        reasons.append("teams")
    kinds: dict[str, ValueType] = {}
    for types in program.attribute_types.values():
        for name, kind in types.items():
            if kinds.setdefault(name, kind) != kind:
                reasons.append(f"attribute `{name}` read as two types")
    for rule in program.rules:
        reasons += [f"rule `{rule.name}`: {why}" for why in _rule_why_not(rule, kinds)]
    return reasons


def _rule_why_not(rule: RuleSpec, kinds: dict[str, ValueType]) -> list[str]:
    why: list[str] = []
    if rule.budgets:
        why.append("a budget")
    if rule.condition is not None and _predicate(rule.condition, kinds) is None:
        why.append("a condition with arithmetic or calls")
    if rule.milestone is not None:
        why.append("a milestone")
    elif rule.inactive is not None:
        why.append("a flag for inactivity")
    elif rule.inviter is not None:
        why.append("a referral")
    elif rule.rank is not None:
        rank = rule.rank
        if rule.board or rule.perk is not None:
            why.append("a board or a perk")
        if rank.team is not None:
            why.append("a team rank")
        if rank.measure not in ("earliest", "count"):
            why.append(f"a rank by {rank.measure}")
        if rank.count is None:
            why.append("a rank without a count")
    elif rule.streak is not None:
        streak = rule.streak
        if streak.grace:
            why.append("a streak with grace")
        if rule.caps or rule.limits or rule.boosts:
            why.append("a streak with caps, limits or boosts")
        payments = [p for _, p in streak.tiers] + ([streak.every[1]] if streak.every else [])
        if any(_constant(p.amount, p.rounding) is None or p.perk for p in payments):
            why.append("a streak paying a perk or a computed amount")
    else:
        if constant_points(rule) is None:
            why.append("an amount that is not one positive constant")
        if len(rule.limits) > 1:
            why.append("more than one limit")
        if len(rule.caps) > 1 or any(not c.owner.startswith("rule:") for c in rule.caps):
            why.append("more than one cap, or a group's cap")
    return why


def plan_for(program: Program) -> ColumnarPlan | None:
    """The scheme's columnar plan, or None when `why_not` lists something."""
    if why_not(program):
        return None
    kinds = {n: k for types in program.attribute_types.values() for n, k in types.items()}
    awards, streaks, ranks = [], [], []
    for index, rule in enumerate(program.rules):
        if rule.rank is not None:
            ranks.append(_Rank(rule, index))
        elif rule.streak is not None:
            spec = rule.streak
            tiers = tuple((n, _constant(p.amount, p.rounding) or 0) for n, p in spec.tiers)
            every = None
            if spec.every is not None:
                payment = spec.every[1]
                every = (spec.every[0], _constant(payment.amount, payment.rounding) or 0)
            streaks.append(_Streak(rule, index, tiers, every))
        else:
            points = constant_points(rule)
            assert points is not None
            limit = rule.limits[0] if rule.limits else None
            cap = rule.caps[0] if rule.caps else None
            awards.append(_Award(rule, index, points, limit, cap))
    return ColumnarPlan(program, tuple(awards), tuple(streaks), tuple(ranks), kinds)


def explain(program: Program) -> str:
    """Whether batch runs of the scheme take the columnar plan, and if not, why."""
    reasons = why_not(program)
    if not reasons:
        return (
            f"scheme `{program.name}`: columnar plan for batch runs of plain JSON Lines files "
            "(other input: the compiled evaluator)"
        )
    lines = [f"scheme `{program.name}`: no columnar plan (batch runs use the compiled evaluator)"]
    lines += [f"  not written as columns: {why}" for why in dict.fromkeys(reasons)]
    return "\n".join(lines)


def _constant(amount: ast.Expr | None, rounding: ast.RoundingMode) -> int | None:
    if not isinstance(amount, ast.Number):
        return None
    try:
        points = to_points(amount.value, rounding)
    except AmountError:
        return None
    return points if points > 0 else None


# ---- conditions as column expressions -------------------------------------------------------

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _predicate(node: ast.Expr, kinds: dict[str, ValueType]) -> pl.Expr | None:
    """`node` as a Boolean column over events that carry every attribute it reads
    (the plain input guarantees it), or None when it is not written here."""
    import polars as pl

    match node:
        case ast.Boolean(value=value):
            return pl.lit(value)
        case ast.Not(operand=operand):
            inner = _predicate(operand, kinds)
            return None if inner is None else ~inner
        case ast.Binary(op="and" | "or", left=left, right=right):
            a, b = _predicate(left, kinds), _predicate(right, kinds)
            if a is None or b is None:
                return None
            return (a & b) if node.op == "and" else (a | b)
        case ast.Attribute(name=name) if _kind(name, kinds) == "bool":
            return pl.col(_column(name))
        case ast.Binary(op="==" | "!=" | "<" | "<=" | ">" | ">=", left=left, right=right):
            return _comparison(node.op, left, right, kinds)
        case ast.Membership(operand=ast.Attribute(name=name), items=items, negated=negated):
            kind = _kind(name, kinds)
            values = [_literal(item) for item in items]
            if kind is None or any(v is None or _value_kind(v) != kind for v in values):
                return None
            column = pl.col(_column(name))
            if kind == "number":
                wanted = [int(v) for v in values if isinstance(v, Decimal) and v == int(v)]
                found = column.is_in(wanted)  # an item with a fraction matches no whole number
            else:
                found = column.is_in(values)
            return ~found if negated else found
    return None


def _comparison(
    op: str, left: ast.Expr, right: ast.Expr, kinds: dict[str, ValueType]
) -> pl.Expr | None:
    import polars as pl

    if not isinstance(left, ast.Attribute):
        left, right, op = right, left, _FLIP[op]
    if not isinstance(left, ast.Attribute):
        return None  # constants on both sides: left to the loop
    kind = _kind(left.name, kinds)
    column = pl.col(_column(left.name))
    if isinstance(right, ast.Attribute):
        ordered = op in ("==", "!=") or kind != "bool"
        if kind is None or _kind(right.name, kinds) != kind or not ordered:
            return None
        other = pl.col(_column(right.name))
        return _compare(column, op, other)
    value = _literal(right)
    if kind is None or value is None or _value_kind(value) != kind:
        return None
    if kind == "number":
        assert isinstance(value, Decimal)
        # Whole numbers against a constant: n >= 4.5 is n >= 5, n == 4.5 never holds.
        up = int(value.to_integral_value(ROUND_CEILING))
        down = int(value.to_integral_value(ROUND_FLOOR))
        whole = up == down
        match op:
            case ">=":
                return column >= up
            case ">":
                return column > down
            case "<=":
                return column <= down
            case "<":
                return column < up
            case "==":
                return column == up if whole else pl.lit(False)
            case "!=":
                return column != up if whole else pl.lit(True)
    if kind == "bool" and op not in ("==", "!="):
        return None
    return _compare(column, op, pl.lit(value))


def _compare(a: pl.Expr, op: str, b: pl.Expr) -> pl.Expr:
    match op:
        case "==":
            return a == b
        case "!=":
            return a != b
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
    return a >= b


def _literal(node: ast.Expr) -> Decimal | str | bool | None:
    match node:
        case ast.Number(value=value):
            return Decimal(value)
        case ast.String(value=value):
            return str(value)
        case ast.Boolean(value=value):
            return bool(value)
    return None


def _value_kind(value: Decimal | str | bool) -> ValueType:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, Decimal) else "text"


def _kind(name: str, kinds: dict[str, ValueType]) -> ValueType | None:
    return "text" if name in ("member", "type") else kinds.get(name)


def _column(attribute: str) -> str:
    """Attribute columns are prefixed: an attribute may be called `day` or `seq`."""
    return attribute if attribute in ("member", "type") else f"attr:{attribute}"


# ---- reading plain input --------------------------------------------------------------------


_WS = r"[ \t]*"
_TEXT = r'"[^"\\\x00-\x1f]*"'
_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})?$"
# A plain line: one flat JSON object, `"key":` with nothing between the quote and the
# colon (as JSON writers put it), strings without escapes. Then each `":` in a line
# ends a key, and counting them counts the keys. Numbers without an exponent and
# below 10^300: every one is finite (the loop refuses a line with an infinite one).
_PAIR = (
    rf'"[^"\\\x00-\x1f]+":{_WS}(?:{_TEXT}|-?(?:0|[1-9][0-9]{{0,299}})(?:\.[0-9]+)?'
    r"|true|false|null)"
)
_PLAIN = rf"^\{{{_WS}{_PAIR}(?:{_WS},{_WS}{_PAIR})*{_WS}\}}{_WS}\r?$"


def _mistyped_pattern(attributes: dict[str, ValueType]) -> str:
    """A value the plan would read otherwise than the loop: a reserved field that is
    not filled text; a number attribute that is not whole or beyond 15 digits (the
    loop's limit is 10^15), text or a bool that is not one."""
    starts = {"number": r"(?:[^-0-9n \t]|-?[0-9]+[.eE]|-?[0-9]{16})", "text": r'[^"n \t]'}
    starts["bool"] = r"[^tfn \t]"
    bad = [rf'"(?:id|type|member|at)":{_WS}(?:[^" \t]|"")']
    for kind, start in starts.items():
        names = sorted(n for n, k in attributes.items() if k == kind)
        if names:
            bad.append(rf'"(?:{"|".join(re.escape(n) for n in names)})":{_WS}{start}')
    return "|".join(bad)


def _read(plan: ColumnarPlan, paths: Sequence[Path]) -> pl.DataFrame | None:
    """Every event of the files as columns, or None when a line is not plain."""
    import polars as pl

    try:
        return _decode(plan, paths)
    except pl.exceptions.PolarsError:
        return None  # what Polars cannot read as a plain line, the loop reads


def _decode(plan: ColumnarPlan, paths: Sequence[Path]) -> pl.DataFrame | None:
    import polars as pl

    program = plan.program
    attributes = {n: k for n, k in plan.attributes.items() if n not in RESERVED_FIELDS}
    fields: dict[str, Any] = {name: pl.String for name in ("id", "type", "member", "at")}
    dtypes = {"number": pl.Int64, "text": pl.String, "bool": pl.Boolean}
    for name, kind in attributes.items():
        fields[name] = dtypes[kind]
    frames = []
    for path in paths:
        try:
            lines = pl.read_csv(
                path,
                has_header=False,
                separator="\x01",  # never in a plain line: a line is one field
                quote_char=None,
                new_columns=["line"],
                schema_overrides={"line": pl.String},
                encoding="utf8",
            )
        except (OSError, UnicodeError):
            return None
        frames.append(lines)
    if not frames:
        return None
    lines = pl.concat(frames) if len(frames) > 1 else frames[0]
    if lines.height == 0 or lines["line"].null_count():
        return None
    line = pl.col("line")
    checked = lines.select(
        plain=line.str.contains(_PLAIN).all(),
        short=(line.str.len_bytes() < MAX_LINE_BYTES).all(),
        typed=~line.str.contains(_mistyped_pattern(attributes)).any(),
    ).row(0)
    if not all(checked):
        return None
    # As many keys as fields read (null values counted apart): no other key, and none
    # repeated. Lines with other keys are looked at again, key by key.
    nulls = (
        line.str.count_matches(rf":{_WS}null")
        if lines.select(line.str.contains("null", literal=True).any()).item()
        else pl.lit(0, pl.UInt32)
    )
    events = lines.select(
        "line",
        keys=line.str.count_matches('":', literal=True),
        nulls=nulls,
        event=line.str.json_decode(pl.Struct(fields)),
    ).unnest("event")
    read = pl.sum_horizontal([pl.col(n).is_not_null().cast(pl.UInt32) for n in fields])
    others = events.filter(read + pl.col("nulls") != pl.col("keys"))
    if others.height:
        names = pl.col("line").str.extract_all(r'"[^"]*":')
        if not others.select((names.list.n_unique() == names.list.len()).all()).item():
            return None  # a repeated key: the loop refuses the line
    # Every attribute a rule reads must be there: a missing one is the loop's to report.
    lacking = [
        (pl.col("type") == event_type) & pl.col(name).is_null()
        for event_type, types in program.attribute_types.items()
        for name in types
        if name not in RESERVED_FIELDS
    ]
    ok = events.select(
        named=pl.col("id").is_not_null().all(),
        unique=pl.col("id").n_unique() == pl.len(),
        present=~pl.any_horizontal(lacking).any() if lacking else pl.lit(True),
        timed=pl.col("at").str.contains(_AT).all(),
    ).row(0)
    if not all(ok):
        return None
    events = events.drop("line", "keys", "nulls").rename({n: _column(n) for n in attributes})
    known = program.known_events
    if known is not None and not events["type"].is_in(sorted(known)).all():
        return None  # an unknown type is refused by the loop with its own record
    return _timed(program, events)


def _timed(program: Program, events: pl.DataFrame) -> pl.DataFrame | None:
    """Instants (microseconds, UTC), days and record times; None when a time is
    outside what the plan takes (not plain, not in order, outside the season)."""
    import polars as pl

    calendar = program.calendar
    at = pl.col("at")
    naive = (
        at.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
        .dt.replace_time_zone(calendar.zone_name, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    instant = naive
    if not events.select((at.str.len_bytes() == len("2026-03-01T09:00:00")).all()).item():
        offset = (
            at.str.replace(r"Z$", "+00:00")
            .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%:z", strict=False)
            .dt.convert_time_zone("UTC")
        )
        instant = (
            pl.when(at.str.len_bytes() == len("2026-03-01T09:00:00")).then(naive).otherwise(offset)
        )
    events = events.with_columns(t=instant.dt.epoch("us"))
    if events["t"].null_count():
        return None  # a local time daylight saving skips: the loop's rule applies
    if not events["t"].is_sorted():
        # By time, equal times in input order: the order the loop's sort on disk gives.
        events = events.sort("t", maintain_order=True).with_columns(resorted=pl.lit(True))
    t = events["t"]
    first, last = _utc(int(t[0])), _utc(int(t[-1]))
    if first.year < 1973 or last.year > 2999:
        return None  # old zone offsets had seconds; far years are the loop's
    d0, d1 = calendar.day_of(first), calendar.day_of(last)
    days = [d0 + timedelta(days=n) for n in range((d1 - d0).days + 2)]
    starts = pl.Series([_micros(calendar.day_start(d)) for d in days], dtype=pl.Int64)
    index = starts.search_sorted(t, side="right") - 1
    events = events.with_columns(
        day=pl.lit(d0.toordinal(), pl.Int32) + index.cast(pl.Int32),
        seq=pl.int_range(pl.len(), dtype=pl.Int64),
        mid=pl.col("member").cast(pl.Categorical).to_physical().cast(pl.Int64),
        stamp=pl.from_epoch("t", "us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(calendar.zone_name)
        .dt.to_string("%Y-%m-%dT%H:%M:%S%:z"),
    )
    if calendar.season is not None:
        first_day, last_day = calendar.season
        lo, hi = events.select(lo=pl.col("day").min(), hi=pl.col("day").max()).row(0)
        if lo < first_day.toordinal() or hi > last_day.toordinal():
            return None  # outside the season: the loop writes those records
    return events


def _utc(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _micros(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


# ---- the stages -----------------------------------------------------------------------------


def _json(text: str) -> str:
    return msgspec.json.encode(text).decode()


def _inner(text: str) -> str:
    """Text as it appears inside a JSON string (escaped, without the quotes)."""
    return _json(text)[1:-1]


class _Days:
    """Calendar answers for each distinct day of the input, mapped onto the day column:
    the calendar is asked once per day, never per event."""

    def __init__(self, program: Program, days: list[int]) -> None:
        self.program = program
        self.days = days

    def keys(self, period: Any) -> list[str]:
        """Each day's period key (`calendar.period_key`)."""
        calendar = self.program.calendar
        return [calendar.period_key(period, date.fromordinal(d)) for d in self.days]

    def code(self, period: Any) -> pl.Expr:
        """The day column as a number per period (equal for days of one period)."""
        keys = self.keys(period)
        codes = {k: n for n, k in enumerate(dict.fromkeys(keys))}
        return self._map([codes[k] for k in keys])

    def index(self, period: Any) -> pl.Expr:
        """The day column as `period_index`: consecutive periods, consecutive numbers."""
        calendar = self.program.calendar
        return self._map([period_index(period, date.fromordinal(d), calendar) for d in self.days])

    def _map(self, values: list[int]) -> pl.Expr:
        import polars as pl

        return pl.col("day").replace_strict(self.days, values, return_dtype=pl.Int64)


def _numbered(frame: pl.DataFrame, by: Sequence[str], name: str) -> pl.DataFrame:
    """Sorted by `by` then time, with `name` numbering each group's rows from 0.

    The same as `int_range(len).over(by)` in time order, for the price of one sort of
    whole numbers instead of hashing every row (the records are sorted again at the end).
    """
    import polars as pl

    frame = frame.sort([*by, "seq"])
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first = pl.any_horizontal([pl.col(c) != pl.col(c).shift(1) for c in by]).fill_null(True)
    start = pl.when(first).then(row).otherwise(None).forward_fill()
    return frame.with_columns((row - start).alias(name))


# Columns of the record frame. Sort keys: the event (or, for a close, the first event
# after it; the input's length for the end), 0 for closes before 1 for the event's own
# records, the close's instant, the rule's place, a record's place within its step.
# `seq` is the event the record names (member, id, time); `form` its fixed text
# (kind, rule, currency, a reason that does not vary) in `_Forms`.
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
}


class _Forms:
    """The kinds of record a plan writes, numbered: each with its fields (in the Record's
    order) and its fixed text (kind, rule, currency, a reason that does not vary)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, RuleSpec, tuple[str, ...], str | None]] = []

    def add(self, kind: str, rule: RuleSpec, fields: str, reason: str | None = None) -> int:
        self.rows.append((kind, rule, tuple(fields.split()), reason))
        return len(self.rows) - 1

    def line(self, form: int) -> pl.Expr:
        """A record of this form as `Record.to_json_bytes()` writes it. Values are safe
        as they stand: plain input has nothing to escape, names are encoded here."""
        import polars as pl

        kind, rule, fields, reason = self.rows[form]
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
        if "value" in fields:
            text += ',"value":'
            put(pl.col("value"))
        text += ',"events":["'
        put(pl.col("event"))
        text += '"],"reason":'
        if reason is None:
            put(pl.col("reason"))
        else:
            text += _json(reason)
        text += "}"
        return pl.concat_str([*pieces, pl.lit(text)])


def _records(plan: ColumnarPlan, events: pl.DataFrame) -> tuple[pl.DataFrame, _Forms]:
    import polars as pl

    days = _Days(plan.program, events["day"].unique().sort().to_list())
    forms = _Forms()
    parts: list[pl.DataFrame] = []
    for award in plan.awards:
        parts += _award(award, events, days, forms)
    for streak in plan.streaks:
        parts += _streak(streak, events, days, forms)
    for rank in plan.ranks:
        parts += _rank(plan.program, rank, events, days, forms)
    schema = {**dict.fromkeys(_KEYS, pl.Int64), **{k: getattr(pl, v) for k, v in _RECORD.items()}}
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
        return pl.DataFrame(schema=schema), forms
    return pl.concat(frames).sort(list(_KEYS)), forms


def _matching(rule: RuleSpec, events: pl.DataFrame, kinds: dict[str, ValueType]) -> pl.DataFrame:
    import polars as pl

    chosen = events.filter(pl.col("type").is_in(list(rule.events)))
    if rule.condition is not None:
        predicate = _predicate(rule.condition, kinds)
        assert predicate is not None
        chosen = chosen.filter(predicate)
    return chosen.select("seq", "mid", "day", "t")


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


def _award(award: _Award, events: pl.DataFrame, days: _Days, forms: _Forms) -> list[pl.DataFrame]:
    """A per-event award: `limit N per P` is a row number within (member, P); a cap is
    the running total within (member, P) clipped at the cap (positive constants)."""
    import polars as pl

    rule = award.rule
    chosen = _matching(rule, events, _kinds(days.program))
    parts = []
    if award.limit is not None:
        limit = award.limit
        chosen = _numbered(chosen.with_columns(lk=days.code(limit.period)), ["mid", "lk"], "used")
        refused = forms.add("refused", rule, "currency", f"{limit.describe()} reached")
        parts.append(
            chosen.filter(pl.col("used") >= limit.count).select(
                *_event_keys(award.index, 0), form=pl.lit(refused)
            )
        )
        chosen = chosen.filter(pl.col("used") < limit.count)
    points = award.points
    paying = forms.add("award", rule, "points currency balance", f"rule `{rule.name}`")
    if award.cap is None:
        parts.append(
            chosen.select(
                *_event_keys(award.index, 0),
                form=pl.lit(paying),
                points=pl.lit(points),
                paid=pl.lit(points),
            )
        )
        return parts
    cap = award.cap
    chosen = _numbered(chosen.with_columns(ck=days.code(cap.period)), ["mid", "ck"], "before")
    total = (pl.col("before") + 1) * points
    chosen = chosen.with_columns(
        granted=pl.min_horizontal(total, pl.lit(cap.points))
        - pl.min_horizontal(total - points, pl.lit(cap.points))
    )
    reached = f"{cap.describe()} reached"
    full = forms.add("refused", rule, "points currency", reached)
    parts.append(
        chosen.filter(pl.col("granted") == 0).select(
            *_event_keys(award.index, 0), form=pl.lit(full), points=pl.lit(points)
        )
    )
    paid = chosen.filter(pl.col("granted") > 0)
    parts.append(
        paid.select(
            *_event_keys(award.index, 0),
            form=pl.lit(paying),
            points="granted",
            paid="granted",
        )
    )
    cut = forms.add("cut", rule, "points currency")
    parts.append(
        paid.filter(pl.col("granted") < points).select(
            *_event_keys(award.index, 1),
            form=pl.lit(cut),
            points=points - pl.col("granted"),
            reason=pl.concat_str(
                pl.lit('"' + _inner(f"{reached}: ")),
                pl.col("granted").cast(pl.String),
                pl.lit(f' of {points} paid"'),
            ),
        )
    )
    return parts


def _streak(
    streak: _Streak, events: pl.DataFrame, days: _Days, forms: _Forms
) -> list[pl.DataFrame]:
    """Consecutive periods with a matching event: a run length over each member's periods
    in time order; the first matching event of a period is the step."""
    import polars as pl

    rule = streak.rule
    spec = rule.streak
    assert spec is not None
    chosen = _matching(rule, events, _kinds(days.program)).with_columns(p=days.index(spec.period))
    chosen = _numbered(chosen, ["mid", "p"], "nth")
    steps = chosen.filter(pl.col("nth") == 0)  # sorted by member, then period
    same = pl.col("mid") == pl.col("mid").shift(1)
    steps = steps.with_columns(gap=pl.when(same).then(pl.col("p") - pl.col("p").shift(1)))
    run = (pl.col("gap") != 1).fill_null(True).cum_sum()
    steps = steps.with_columns(run=run)
    steps = _numbered(steps, ["run"], "length").with_columns(pl.col("length") + 1)
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
            form=pl.lit(forms.add("streak", rule, "streak")),
            streak="length",
            reason=pl.concat_str(pl.lit('"'), note, pl.lit(": "), in_a_row, pl.lit('"')),
        )
    ]
    pays = [(pl.col("length") == n, p, pl.lit("")) for n, p in streak.tiers]
    if streak.every is not None:
        every, points = streak.every
        pays.append((pl.col("length") % every == 0, points, pl.lit(f" (every {every})")))
    paying = forms.add("award", rule, "points currency balance")
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


def _rank(
    program: Program, rank_rule: _Rank, events: pl.DataFrame, days: _Days, forms: _Forms
) -> list[pl.DataFrame]:
    """A period's ranking, paid at its close: each member's entry (the first matching
    event, or the count and the last event), sorted best first, ties by when the value
    was reached, then by member."""
    import polars as pl

    rule = rank_rule.rule
    rank = rule.rank
    assert rank is not None and rank.count is not None
    calendar = program.calendar
    keys = days.keys(rank.period)
    chosen = _matching(rule, events, _kinds(program)).with_columns(key=days.code(rank.period))
    grouped = chosen.group_by("key", "mid")
    if rank.measure == "earliest":
        entries = grouped.agg(
            value=-pl.col("t").first(), reached=pl.col("t").first(), seq=pl.col("seq").first()
        )
    else:  # count: the value moves with every event, and so does when it was reached
        entries = grouped.agg(
            value=pl.len().cast(pl.Int64), reached=pl.col("t").last(), seq=pl.col("seq").last()
        )
    entries = entries.with_columns(member=events["member"].gather(entries["seq"]))
    sign = 1 if rank.side == "bottom" else -1
    entries = entries.with_columns(order=pl.col("value") * sign).sort(
        "key", "order", "reached", "member"
    )
    entries = entries.with_columns(
        place=pl.int_range(1, pl.len() + 1).over("key"), entrants=pl.len().over("key")
    ).filter(pl.col("place") <= rank.count)
    places = list(range(1, rank.count + 1))
    amounts = [rank.amount_for(p) for p in places]
    entries = entries.with_columns(
        points=pl.col("place").replace_strict(places, amounts, return_dtype=pl.Int64)
    ).filter(pl.col("points") != 0)
    # Each period's close: its instant, its record time, the first event it precedes.
    codes = list(dict.fromkeys(keys))
    used = sorted(set(entries["key"].to_list()))
    ends = [calendar.period_end(rank.period, codes[c]) for c in used]
    end_micros = pl.Series([_micros(e) for e in ends], dtype=pl.Int64)
    closes = pl.DataFrame(
        {
            "key": used,
            "text": [codes[c] for c in used],
            "k_end": end_micros,
            "k_event": events["t"].search_sorted(end_micros, side="left").cast(pl.Int64),
            "closed": [local_time(calendar, e) for e in ends],
        },
        schema={
            "key": pl.Int64,
            "text": pl.String,
            "k_end": pl.Int64,
            "k_event": pl.Int64,
            "closed": pl.String,
        },
    )
    entries = entries.join(closes, on="key", how="left")
    by = rank.measure + (f" {rank.attribute}" if rank.attribute else "")
    where = pl.concat_str(pl.lit(f" ({rank.period} "), pl.col("text"), pl.lit(")"))
    if rank.period == "season":
        where = pl.lit(" (the season)")
    counted = rank.measure == "count"
    return [
        entries.select(
            "k_event",
            pl.lit(0).alias("k_phase"),
            "k_end",
            pl.lit(rank_rule.index).alias("k_rule"),
            pl.col("place").alias("k_sub"),
            "seq",
            "closed",
            form=pl.lit(
                forms.add(
                    "rank", rule, "points currency balance rank" + (" value" if counted else "")
                )
            ),
            points="points",
            paid="points",
            rank="place",
            value=(
                pl.concat_str(pl.lit('"'), pl.col("value").cast(pl.String), pl.lit('"'))
                if counted
                else pl.lit(None, pl.String)
            ),
            reason=pl.concat_str(
                pl.lit('"' + _inner(f"rule `{rule.name}`: ")),
                pl.col("place").replace_strict(
                    places, [ordinal(p) for p in places], return_dtype=pl.String
                ),
                pl.lit(" of "),
                pl.col("entrants").cast(pl.String),
                pl.lit(f" by {_inner(by)}"),
                pl.concat_str(pl.lit(" with "), pl.col("value").cast(pl.String))
                if counted
                else pl.lit(""),
                where,
                pl.lit('"'),
            ),
        )
    ]


def _kinds(program: Program) -> dict[str, ValueType]:
    return {n: k for types in program.attribute_types.values() for n, k in types.items()}


# ---- records as JSON Lines ------------------------------------------------------------------


def _lines(records: pl.DataFrame, forms: _Forms, events: pl.DataFrame) -> pl.DataFrame:
    """Every record's JSON line, in record order: each form's lines written apart (its
    fixed text as literals), then put back in order."""
    import polars as pl

    records = records.with_row_index("row")
    parts = []
    for (form,), part in records.partition_by("form", as_dict=True).items():
        seq = part["seq"]
        part = part.with_columns(
            member=events["member"].gather(seq),
            event=events["id"].gather(seq),
            at=pl.coalesce(pl.col("closed"), events["stamp"].gather(seq)),
        )
        parts.append(part.select("row", forms.line(int(form)).alias("line")))
    if not parts:
        return pl.DataFrame(schema={"line": pl.String})
    return pl.concat(parts).sort("row").select("line")


def run_columnar(
    program: Program, paths: Sequence[str | Path], out: IO[bytes]
) -> tuple[Counter[str], int, bool] | None:
    """Evaluate event files to JSON Lines in `out`, as `runner.run_to` would: the
    records by kind, the number of members, whether the input had to be sorted by
    time; None (and nothing written) when the scheme has no plan or the input is not
    plain."""
    import polars as pl

    plan = plan_for(program)
    files = [Path(p) for p in paths]
    if plan is None or not files:
        return None
    try:
        if sum(f.stat().st_size for f in files) > MAX_INPUT_BYTES:
            return None
    except OSError:
        return None
    events = _read(plan, files)
    if events is None:
        return None
    records, forms = _records(plan, events)
    # Running balances: one cumulative sum per member and currency, in record order.
    currencies = sorted(program.currencies)
    currency = pl.col("form").replace_strict(
        list(range(len(forms.rows))), [r[1].currency for r in forms.rows], return_dtype=pl.String
    )
    records = records.with_columns(
        balance=pl.when(pl.col("paid").is_not_null())
        .then(pl.col("paid").cum_sum().over(events["mid"].gather(records["seq"]), currency))
        .otherwise(None)
    )
    kinds: Counter[str] = Counter()
    for form, count in records["form"].value_counts().iter_rows():
        kinds[forms.rows[form][0]] += count
    # Final balances: every member an event named, every currency, in sorted order.
    earned = (
        records.filter(pl.col("paid").is_not_null())
        .select(
            mid=events["mid"].gather(records.filter(pl.col("paid").is_not_null())["seq"]),
            currency=currency,
            paid="paid",
        )
        .group_by("mid", "currency")
        .agg(pl.col("paid").sum())
    )
    members = events.group_by("mid").agg(pl.col("member").first())
    named = pl.DataFrame(
        {
            "order": range(len(currencies)),
            "currency": currencies,
            "json": [_json(c) for c in currencies],
        },
        schema={"order": pl.Int64, "currency": pl.String, "json": pl.String},
    )
    table = members.join(named, how="cross").join(earned, on=["mid", "currency"], how="left")
    held = pl.col("paid").fill_null(0).cast(pl.String)
    balances = table.sort("member", "order").select(
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
    for lines in (_lines(records, forms, events), balances):
        if lines.height:
            lines.write_csv(out, include_header=False, quote_style="never")
    return kinds, members.height, "resorted" in events.columns
