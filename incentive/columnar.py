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

import contextlib
import dataclasses
import io
import math
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import msgspec

from incentive import ast, processes
from incentive.budgets import apply_budgets
from incentive.calendar import Calendar
from incentive.compiler import constant_amount, constant_points
from incentive.engine import Session
from incentive.events import MAX_LINE_BYTES, RESERVED_FIELDS, Event
from incentive.expressions import (
    AmountError,
    MissingAttribute,
    condition_holds,
    evaluate,
    to_points,
    uses_random,
)
from incentive.ledger import paid_record
from incentive.processes import WorkerLost
from incentive.program import (
    BoostSpec,
    BudgetSpec,
    CapSpec,
    LimitSpec,
    MilestoneSpec,
    Payment,
    Program,
    RankSpec,
    RuleSpec,
    StreakSpec,
    ValueType,
)
from incentive.ranks import Standing, close_rank, ordinal, track_points
from incentive.records import Record, outcome_kind
from incentive.roster import Roster
from incentive.rules import Proposal, period_index
from incentive.rules import _award as award_step
from incentive.rules import _milestone as milestone_step
from incentive.rules import _streak as streak_step
from incentive.spending import grant
from incentive.state import EngineState, MemberState, local_time, open_day

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ColumnarPlan",
    "explain",
    "plan_for",
    "run_columnar",
    "split_why_not",
    "why_not",
    "work",
]

# ---- what the plan can say --------------------------------------------------------------


class _NotPlain(Exception):
    """Found while evaluating: the input is one the loop must answer (nothing written)."""


@dataclass(frozen=True)
class _Award:
    rule: RuleSpec
    index: int  # the rule's place in the file: the order of an event's records
    points: int | None  # None: an amount computed from each event's attributes
    limit: LimitSpec | None
    cap: CapSpec | None
    sequential: bool = False  # evaluated by the loop's rule step (`_sequential`)


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
    ranks: tuple[_Rank, ...]  # ranks written as columns (none when `closes`)
    attributes: dict[str, ValueType]  # every attribute a rule reads, over all event types
    # Ranks and boards that compare teams, count points or list who is missing, posts
    # `each day`, grants: the interpreter's own closes over tables filled from columns
    # (`_closed`), which then take every rank of the scheme.
    closes: bool = False

    @property
    def budgeted(self) -> bool:
        """Whether a budget (a rule's, a group's, the scheme's) may cut an award: then
        balances wait for the budgets, which take every member's awards in order."""
        return any(rule.budgets for rule in self.program.rules)

    @property
    def gathered(self) -> bool:
        """Whether, split by member (`--jobs`), the run's own process needs every
        member's records before balances and lines: for budgets, or for the engine's
        closes, which count what every member was paid."""
        return self.budgeted or self.closes


# What the plan reads of each spec. Any other field must hold its default, so that a
# construct added to the language later is declined here until the plan writes it,
# instead of being silently ignored.
_READ: dict[type, set[str]] = {
    Program: {
        "name", "currencies", "calendar", "rules", "rules_by_event", "attribute_types",
        "known_events", "seed", "warnings", "source", "file",
        # named in their own reasons below
        "levels", "expiry", "redeems", "grants", "teams", "clock",
    },
    Calendar: {"zone_name", "day_ends", "week_start", "season"},
    RuleSpec: {
        "name", "events", "condition", "amount", "currency", "rounding", "limits", "caps",
        "span", "streak", "rank", "groups", "reason",
        # named in their own reasons below
        "budgets", "milestone", "inactive", "inviter", "board", "perk", "boosts",
        # how a board is written as a chat post: read by posts.py, never by the engine
        "post",
        # a board posted so far at each day's (week's, ...) close: the engine's closes
        "posts",
    },
    LimitSpec: {"count", "period", "key"},  # a key: the rule takes the sequential step
    CapSpec: {"owner", "points", "period"},
    StreakSpec: {"period", "grace", "tiers", "every"},
    # sources: only `by points` reads them, and it is declined
    RankSpec: {"side", "count", "period", "measure", "attribute", "amounts", "team", "sources"},
    Payment: {"amount", "rounding", "perk"},
    BoostSpec: {"name", "factor", "weekdays", "first", "last", "condition"},
    BudgetSpec: {"owner", "points", "currency", "period"},
    MilestoneSpec: {"attribute", "period", "tiers", "distinct"},
}  # fmt: skip
_PERIODS = ("day", "week", "month", "year", "season", None)


def _unread(spec: Any) -> list[str]:
    """Fields of `spec` the plan does not read that differ from their defaults."""
    found = []
    for item in dataclasses.fields(spec):
        if item.name in _READ[type(spec)]:
            continue
        if item.default is not dataclasses.MISSING:
            default = item.default
        elif item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        else:
            found.append(item.name)
            continue
        if getattr(spec, item.name) != default:
            found.append(item.name)
    return found


def why_not(program: Program) -> list[str]:
    """What in the scheme the columnar plan does not write (empty: it runs it all)."""
    reasons: list[str] = [f"`{name}`" for name in _unread(program) + _unread(program.calendar)]
    if program.levels is not None:
        reasons.append("levels")
    if program.expiry:
        reasons.append("expiry")
    if program.redeems:
        reasons.append("redeem blocks")
    budgeted = any(r.budgets for r in program.rules) or any(g.budgets for g in program.grants)
    if budgeted and _needs_closes(program):
        reasons.append("budgets with teams, boards by points, posts `each` period or grants")
    if program.clock:
        reasons.append("a condition on the time of day or the weekday")
    kinds: dict[str, ValueType] = {}
    for types in program.attribute_types.values():
        for name, kind in types.items():
            if kinds.setdefault(name, kind) != kind:
                reasons.append(f"attribute `{name}` read as two types")
    for rule in program.rules:
        reasons += [f"rule `{rule.name}`: {why}" for why in _rule_why_not(rule, kinds)]
    return reasons


def _rule_why_not(rule: RuleSpec, kinds: dict[str, ValueType]) -> list[str]:
    specs: list[Any] = [rule, *rule.limits, *rule.caps, *rule.boosts, *rule.budgets]
    if rule.streak is not None:
        specs += [rule.streak, *(p for _, p in rule.streak.tiers)]
        specs += [rule.streak.every[1]] if rule.streak.every else []
    if rule.rank is not None:
        specs.append(rule.rank)
    if rule.milestone is not None:
        specs += [rule.milestone, *(p for _, p in rule.milestone.tiers)]
    why = [f"`{name}`" for spec in specs for name in _unread(spec)]
    periods = [
        x.period
        for x in (*rule.limits, *rule.caps, *rule.budgets, rule.streak, rule.rank, rule.milestone)
        if x and x.period is not None
    ]
    why += [f"a period of {p}" for p in periods if p not in _PERIODS]
    if rule.condition is not None and _predicate(rule.condition, kinds) is None:
        why.append("a condition with arithmetic or calls")
    if rule.milestone is not None:
        pass  # the loop's own step (`_stepped`)
    elif rule.inactive is not None:
        why.append("a flag for inactivity")
    elif rule.inviter is not None:
        why.append("a referral")
    elif rule.rank is not None:
        rank = rule.rank
        if rank.measure not in _MEASURES:
            why.append(f"a rank by {rank.measure}")
        elif rank.attribute is not None and kinds.get(rank.attribute) != "number":
            why.append(f"a rank by {rank.measure} of an attribute that is not a number")
    elif rule.streak is not None:
        pass  # as columns, or (`_streak_stepped`) the loop's own step
    else:
        if isinstance(rule.amount, ast.Negate):
            why.append("a penalty")  # the ledger floors a balance at zero, in time order
    return why


# What a rank may be measured by: as columns (the first four), or at the engine's own
# closes, which the others need (`_needs_closes`).
_MEASURES = ("earliest", "count", "max", "sum", "points", "rate", "missing")


def _needs_closes(program: Program) -> bool:
    """Whether the scheme's ranks and grants take the interpreter's own closes
    (`_closed`): a team rank, a rank by points, rate or missing, a board posted `each`
    period, grants. Plain ranks of members are columns (`_rank`)."""
    return bool(program.grants) or any(
        rule.rank is not None
        and (rule.rank.team is not None or rule.rank.measure in _MEASURES[4:] or rule.posts)
        for rule in program.rules
    )


def _streak_stepped(rule: RuleSpec) -> bool:
    """A streak the columns do not write (grace, its own caps, limits or boosts, a perk
    or a computed amount at a step): the loop's own step (`rules._streak`) takes it."""
    streak = rule.streak
    if streak is None:
        return False
    payments = [p for _, p in streak.tiers] + ([streak.every[1]] if streak.every else [])
    return bool(
        streak.grace
        or rule.caps
        or rule.limits
        or rule.boosts
        or any(constant_amount(p.amount, p.rounding) is None or p.perk for p in payments)
    )


def _sequential(rule: RuleSpec) -> bool:
    """A per-event award the plan hands to the loop's own rule step (`rules._award`),
    member by member in time order, because what it says depends on the order within
    a member: several limits or caps, a group's cap (shared with other rules), a limit
    per key, a random draw, a reason read from the event. Other awards are columns."""
    return (
        len(rule.limits) > 1
        or len(rule.caps) > 1
        or any(not cap.owner.startswith("rule:") for cap in rule.caps)
        or any(limit.key is not None for limit in rule.limits)
        or rule.reason is not None
        or (rule.amount is not None and uses_random(rule.amount))
    )


def plan_for(program: Program) -> ColumnarPlan | None:
    """The scheme's columnar plan, or None when `why_not` lists something."""
    if why_not(program):
        return None
    kinds = {n: k for types in program.attribute_types.values() for n, k in types.items()}
    awards, streaks, ranks = [], [], []
    for index, rule in enumerate(program.rules):
        if rule.rank is not None:
            ranks.append(_Rank(rule, index))
        elif rule.milestone is not None or _streak_stepped(rule):
            awards.append(_Award(rule, index, None, None, None, sequential=True))
        elif rule.streak is not None:
            spec = rule.streak
            tiers = tuple((n, constant_amount(p.amount, p.rounding) or 0) for n, p in spec.tiers)
            every = None
            if spec.every is not None:
                payment = spec.every[1]
                every = (spec.every[0], constant_amount(payment.amount, payment.rounding) or 0)
            streaks.append(_Streak(rule, index, tiers, every))
        else:
            points = constant_points(rule)
            limit = rule.limits[0] if rule.limits else None
            cap = rule.caps[0] if rule.caps else None
            awards.append(_Award(rule, index, points, limit, cap, _sequential(rule)))
    if _needs_closes(program):
        return ColumnarPlan(program, tuple(awards), tuple(streaks), (), kinds, closes=True)
    return ColumnarPlan(program, tuple(awards), tuple(streaks), tuple(ranks), kinds)


def explain(program: Program, jobs: int = 1) -> str:
    """Whether batch runs of the scheme take the columnar plan, and if not, why; with
    `jobs` above 1 and a plan, whether the plan splits its members across processes."""
    reasons = why_not(program)
    if not reasons:
        plan = plan_for(program)
        assert plan is not None
        said = (
            f"scheme `{program.name}`: columnar plan for batch runs of plain JSON Lines files "
            "(other input: the compiled evaluator)"
        )
        if plan.closes:
            said += (
                "\n  ranks, boards and grants: the interpreter's own closes, over rank tables "
                "filled from columns a day at a time"
            )
        if jobs > 1:
            split = split_why_not(program)
            if split:
                said += f"\n  --jobs {jobs}: one process: " + "; ".join(split)
            else:
                there = (
                    "awards, streaks and milestones"
                    if plan.gathered
                    else "awards, streaks, milestones, balances and lines"
                )
                here = "ranks" + (", budgets, balances and lines" if plan.budgeted else "")
                if plan.closes:
                    here = "ranks, boards, grants, balances and lines"
                said += (
                    f"\n  --jobs {jobs}: {there} in {jobs} processes, members split among "
                    f"them; {here} in this one"
                )
        return said
    lines = [f"scheme `{program.name}`: no columnar plan (batch runs use the compiled evaluator)"]
    lines += [f"  not written as columns: {why}" for why in dict.fromkeys(reasons)]
    return "\n".join(lines)  # how `--jobs` splits the compiled evaluator: `split.explain`


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


# A chunk of the input: about 170,000 events at a time, so that memory grows with the
# members and the open periods, not with the events (state is carried between chunks).
BLOCK_BYTES = 16 << 20


def _blocks(paths: Sequence[Path]) -> Iterator[bytes]:
    """The files' bytes, a block of whole lines at a time (`_lines_of` reads one)."""
    for path in paths:
        with path.open("rb") as file:
            rest = b""
            while data := file.read(BLOCK_BYTES):
                data = rest + data
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                if cut:
                    yield data[:cut]
            if rest:
                yield rest


def _lines_of(data: bytes) -> pl.DataFrame:
    import polars as pl

    return pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator="\x01",  # never in a plain line: a line is one field
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
        encoding="utf8",  # strict: a file in another encoding is the loop's to refuse
    )


def _decode(plan: ColumnarPlan, lines: pl.DataFrame) -> pl.DataFrame | None:
    """A block's events as columns, or None when a line is not plain."""
    import polars as pl

    program = plan.program
    attributes = {n: k for n, k in plan.attributes.items() if n not in RESERVED_FIELDS}
    fields: dict[str, Any] = {name: pl.String for name in ("id", "type", "member", "at")}
    dtypes = {"number": pl.Int64, "text": pl.String, "bool": pl.Boolean}
    for name, kind in attributes.items():
        fields[name] = dtypes[kind]
    if lines.height == 0 or lines["line"].null_count():
        return None
    line = pl.col("line")
    if program.teams:  # a team named by the event itself is the loop's to place
        named = "|".join(re.escape(kind) for kind in program.teams)
        if lines.select(line.str.contains(f'"(?:{named})":').any()).item():
            return None
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
        # " ana " is read as ana: names that need trimming are the loop's to read
        trimmed=pl.all_horizontal(
            (pl.col(n) == pl.col(n).str.strip_chars()).all() for n in ("member", "type")
        ),
    ).row(0)
    if not all(ok):
        return None
    events = events.drop("line", "keys", "nulls").rename({n: _column(n) for n in attributes})
    known = program.known_events
    if known is not None and not events["type"].is_in(sorted(known)).all():
        return None  # an unknown type is refused by the loop with its own record
    return events


def _instants(program: Program, events: pl.DataFrame) -> pl.DataFrame | None:
    """Each event's instant `t` (microseconds, UTC); None when a local time is one that
    daylight saving skips (the loop's rule answers it)."""
    import polars as pl

    calendar = program.calendar
    at = pl.col("at")
    naive = (
        at.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
        .dt.replace_time_zone(calendar.zone_name, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    instant = naive
    plain = at.str.len_bytes() == len("2026-03-01T09:00:00")
    if not events.select(plain.all()).item():
        offset = (
            at.str.replace(r"Z$", "+00:00")
            .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%:z", strict=False)
            .dt.convert_time_zone("UTC")
        )
        instant = pl.when(plain).then(naive).otherwise(offset)
    events = events.with_columns(t=instant.dt.epoch("us"))
    return None if events["t"].null_count() else events


def _dated(program: Program, events: pl.DataFrame) -> pl.DataFrame | None:
    """Days, positions, member numbers and record times of time-ordered events; None
    when a day is outside what the plan takes (far years, outside the season)."""
    import polars as pl

    calendar = program.calendar
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
        local=pl.col("member").cast(pl.Categorical).to_physical().cast(pl.Int64),
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


def _global_parts(chunk: _Chunk, member_parts: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """The records of the stages that compare members (ranks, boards, grants), after the
    per-member stages (whose awards ranks by points count)."""
    if chunk.plan.closes:
        return [_closed(chunk, member_parts)]
    return _rank_parts(chunk)


def _records(chunk: _Chunk) -> pl.DataFrame:
    parts = _member_parts(chunk)
    return _framed(parts + _global_parts(chunk, parts))


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


_STEP_KINDS = ("refused", "cut", "streak", "perk", "badge")


def _plain_step_record(record: Record, event: Event) -> bool:
    """A record the plan writes from a step: about the event's own member and the event,
    with no field the forms do not write (a level, a value, a team, ...)."""
    known = Record(
        kind=record.kind,
        at=record.at,
        member=event.member,
        rule=record.rule,
        points=record.points,
        currency=record.currency,
        streak=record.streak,
        perk=record.perk,
        events=(event.id,),
        code=record.code,
        reason=record.reason,
    )
    return record.kind in _STEP_KINDS and record == known


def _stepped(awards: list[_Award], chunk: _Chunk) -> pl.DataFrame:
    """Awards whose outcome depends on the order within a member (`_sequential`): the
    loop's own rule step over their matching events, in the loop's order (by event,
    then by rule), with each member's counters carried from chunk to chunk. Its
    proposals and records become rows of the record frame."""
    import polars as pl

    program, forms, events = chunk.plan.program, chunk.forms, chunk.events
    kinds = chunk.plan.attributes
    names = [n for n in kinds if n not in RESERVED_FIELDS]
    matched = [
        _matching(award.rule, chunk).select("seq", rule=pl.lit(position, pl.Int64))
        for position, award in enumerate(awards)
    ]
    order = pl.concat(matched).sort("seq", "rule")
    columns = ["seq", "id", "type", "member", "t", "day", "stamp", *(_column(n) for n in names)]
    rows = order.join(events.select(columns), on="seq", how="left").iter_rows(named=True)
    made: dict[tuple[str, str, str, str, str], int] = {}  # (kind, rule, code, fields, perk)
    out: dict[str, list[Any]] = {c: [] for c in ("seq", "k_rule", "k_sub", "form")}
    out.update(points=[], paid=[], streak=[], reason=[])
    states = chunk.carry.stepped
    for row in rows:
        award = awards[row["rule"]]
        rule = award.rule
        attrs: dict[str, Any] = {"member": row["member"], "type": row["type"]}
        for name in names:
            value = row[_column(name)]
            if value is not None:
                attrs[name] = Decimal(value) if kinds[name] == "number" else value
        event = Event(row["id"], row["type"], row["member"], _utc(row["t"]))
        member = states.get(event.member)
        if member is None:
            member = states[event.member] = MemberState()
        day, stamp = date.fromordinal(row["day"]), row["stamp"]
        if rule.milestone is not None:
            claims = chunk.carry.shared.invites  # `milestone distinct`: across members
            outcomes = milestone_step(
                program, member, event, attrs, day, rule, rule.milestone, stamp, claims
            )
        elif rule.streak is not None:
            outcomes = streak_step(program, member, event, attrs, day, rule, rule.streak, stamp)
        else:
            outcomes = award_step(program, member, event.member, event, attrs, day, rule, stamp)
        for sub, outcome in enumerate(outcomes):
            code: str | None
            paid: int | None
            points: int | None
            length: int | None
            perk: str | None
            if isinstance(outcome, Proposal):
                if outcome.points <= 0:
                    raise _NotPlain  # a penalty: the ledger floors it, in time order
                kind, code, paid, perk = "award", outcome.code, outcome.points, None
                fields = "points currency balance"
                points, length = outcome.points, None
            else:
                kind, code, paid, perk = outcome.kind, outcome.code, None, outcome.perk
                points, length = outcome.points, outcome.streak
                fields = " ".join(
                    name
                    for name, value in (("points", points), ("currency", outcome.currency))
                    if value is not None
                ) + (" streak" if length is not None else "")
                if not _plain_step_record(outcome, event):
                    raise _NotPlain  # nothing else comes of these steps; the loop would say
            key = (kind, rule.name, code or "", fields, perk or "")
            form = made.get(key)
            if form is None:
                form = made[key] = forms.add(kind, rule, fields, code or "", perk=perk)
            out["seq"].append(row["seq"])
            out["k_rule"].append(award.index)
            out["k_sub"].append(sub)
            out["form"].append(form)
            out["points"].append(points)
            out["paid"].append(paid)
            out["streak"].append(length)
            out["reason"].append(_json(outcome.reason))
    frame = pl.DataFrame(out, schema=_record_schema(list(out)))
    return frame.with_columns(
        k_event=pl.col("seq"), k_phase=pl.lit(1, pl.Int64), k_end=pl.lit(0, pl.Int64)
    )


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


# ---- the engine's own closes: teams, ranks by points, rate and missing, posts, grants --------


class _ClosingSession(Session):
    """The interpreter's session for the stages that compare members, run by `_closed`:
    its own schedule of closes (`_advance`: time order, file order at one instant, a
    board's posts `each day`, a `by missing` board's every period) and its own records
    of them (`close_rank`, `missing_list`), teams and grant allowances. What the rank
    tables hold comes from columns a day at a time, kept as frames (`entries`, `earned`)
    from which a close works out the standings (`_ranked`); an empty table in the state
    says that a period is open. What it would pay is handed back
    instead of posted (balances are columns), after ranks by points have counted it."""

    def __init__(self, program: Program, roster: Roster | None) -> None:
        super().__init__(program, None, roster)
        self.granted: list[Proposal] = []  # the day's grants, counted with its awards
        # rule -> each member's entry as `track_rank` keeps it (`_entries`: key, mid,
        # value, reached, event[, moved]), and the points `track_points` counted (key,
        # mid, points, stamp); `names`: every member number's name so far (`_Carry`)
        self.entries: dict[str, pl.DataFrame] = {}
        self.earned: dict[str, pl.DataFrame] = {}
        self.names: pl.DataFrame | None = None
        self._teams: dict[str, tuple[pl.DataFrame, dict[str, tuple[str, ...]]]] = {}

    def _pay(self, proposal: Proposal) -> Iterator[Any]:
        if proposal.kind == "grant":
            self.granted.append(proposal)
        else:  # a rank award, at its close: ranks after it count it at once
            track_points(self.state, self.program, proposal, proposal.day)
        self.state.members.setdefault(proposal.member, MemberState())
        yield proposal

    def _close(
        self, rule: RuleSpec, key: str, end: datetime, so_far: str | None = None
    ) -> list[Proposal | Record]:
        ranked = self._ranked(rule, key)
        if so_far is None:  # the period is over: its rows go
            import polars as pl

            for kept in (self.entries, self.earned):
                if rule.name in kept:
                    kept[rule.name] = kept[rule.name].filter(pl.col("key") != key)
        return close_rank(self.state, self.program, rule, key, end, so_far, ranked)

    def _first_entry(self, rule: RuleSpec, key: str) -> str | None:
        """The earliest of the times the period's entries hold, as `Session._first_entry`
        finds it in its tables: a member's points take the time of the last ones, rank
        awards since included."""
        import polars as pl

        times: list[int] = []
        entries = self.entries.get(rule.name)
        if entries is not None:
            times += entries.filter(pl.col("key") == key)["reached"].to_list()
        times += self._points(rule, key)["stamp"].to_list()
        return _utc(min(times)).isoformat() if times else None

    def _points(self, rule: RuleSpec, key: str) -> pl.DataFrame:
        """Each member's points in the period so far and when they last moved (member,
        points, stamp): the frames' and those rank awards added since (the state's own
        table, which `track_points` keeps)."""
        import polars as pl

        later = self.state.rank_points.get(rule.name, {}).get(key, {})
        added = pl.DataFrame(
            {
                "member": list(later),
                "points": [int(p[0]) for p in later.values()],
                "stamp": [_micros(datetime.fromisoformat(p[1])) for p in later.values()],
            },
            schema={"member": pl.String, "points": pl.Int64, "stamp": pl.Int64},
        )
        earned = self.earned.get(rule.name)
        if earned is not None and self.names is not None:
            mine = earned.filter(pl.col("key") == key).join(self.names, on="mid")
            added = pl.concat([mine.select(added.columns), added])
        return added.group_by("member").agg(pl.col("points").sum(), pl.col("stamp").max())

    def _ranked(self, rule: RuleSpec, key: str) -> tuple[list[Standing], int]:
        """The period's standings in order (`ranks.standings_in_order`), from the frames
        and the points rank awards added since (the state's own table)."""
        import polars as pl

        rank = rule.rank
        assert rank is not None and self.names is not None
        at_key = pl.col("key") == key
        entries = self.entries.get(rule.name)
        table = (
            pl.DataFrame(
                schema={"member": pl.String, "value": pl.Int64, "reached": pl.Int64}
            ).with_columns(event=pl.lit(None, pl.String))
            if entries is None
            else entries.filter(at_key)
            .join(self.names, on="mid")
            .select("member", "value", "reached", "event")
        )
        points = self._points(rule, key) if rank.measure == "points" else None
        if rank.team is None:
            return _members_ranked(rule, table, points)
        frame, members = self._team_frame(rank.team)
        return _teams_ranked(rule, table, points, frame, members)

    def _team_frame(self, kind: str) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
        """The roster's teams of a kind (the plan takes no team from events, so they do
        not change during a run): member and team, and each team's members in order."""
        import polars as pl

        if kind not in self._teams:
            placed = self.state.teams.get(kind, {})
            members: dict[str, list[str]] = {}
            for member, team in placed.items():
                members.setdefault(team, []).append(member)
            frame = pl.DataFrame(
                {"member": list(placed), "team": list(placed.values())},
                schema={"member": pl.String, "team": pl.String},
            )
            self._teams[kind] = (frame, {t: tuple(sorted(m)) for t, m in members.items()})
        return self._teams[kind]


def _members_ranked(
    rule: RuleSpec, table: pl.DataFrame, points: pl.DataFrame | None
) -> tuple[list[Standing], int]:
    """`member_standings` in order, sorted by Polars: best first, then who reached it
    first, then member."""
    import polars as pl

    rank = rule.rank
    assert rank is not None
    sign = 1 if rank.side == "bottom" else -1
    frame = table
    if points is not None:  # entrants: who acted, or (no `on`) who earned points
        base = (
            table.select("member", "reached", "event")
            if rule.events
            else points.select("member", reached="stamp", event=pl.lit(None, pl.String))
        )
        frame = base.join(points, on="member", how="left").select(
            "member",
            "event",
            value=pl.col("points").fill_null(0),
            reached=pl.coalesce("stamp", "reached"),
        )
    elif rank.measure == "earliest":
        frame = table.with_columns(value=-pl.col("reached"))
    frame = frame.sort(pl.col("value") * sign, "reached", "member")
    shown = frame if rank.count is None else frame.head(rank.count)
    standings = [
        Standing(
            member,
            Decimal(-(reached // 10**6)) if rank.measure == "earliest" else Decimal(value),
            "",  # the order is made
            event,
        )
        for member, value, reached, event in shown.select(
            "member", "value", "reached", "event"
        ).iter_rows()
    ]
    return standings, frame.height


def _teams_ranked(
    rule: RuleSpec,
    table: pl.DataFrame,
    points: pl.DataFrame | None,
    frame: pl.DataFrame,
    members: dict[str, tuple[str, ...]],
) -> tuple[list[Standing], int]:
    """`team_standings` in order: each team's measure over its members as columns, the
    few teams sorted here as `standings_in_order` sorts them."""
    import polars as pl

    rank = rule.rank
    assert rank is not None
    measure, has_events = rank.measure, bool(rule.events)
    if has_events and not table.height:
        return [], 0  # no matching event in the period (points alone opened it)
    joined = frame.join(table.select("member", "value", "reached"), on="member", how="left")
    acted = pl.col("reached").is_not_null()
    if points is not None:
        joined = joined.join(points, on="member", how="left")
        counted = pl.col("points").is_not_null() & (acted if has_events else pl.lit(True))
        value, last = pl.col("points").filter(counted).sum(), pl.col("stamp").filter(counted).max()
        counts = counted.sum()
    else:
        times = pl.col("reached").filter(acted)
        values = pl.col("value").filter(acted)
        value = values.max() if measure == "max" else values.sum()
        last = times.min() if measure == "earliest" else times.max()
        counts = acted.sum()
    teams = joined.group_by("team").agg(
        value=value, last=last, acted=acted.sum(), counted=counts, size=pl.len()
    )
    standings: list[tuple[Standing, int | None]] = []
    for team, total, when, acting, counting, size in teams.sort("team").iter_rows():
        if measure in ("rate", "reached"):
            worth = Decimal(acting) / Decimal(size)
        elif measure == "earliest":
            worth = Decimal(-(when // 10**6)) if when is not None else Decimal("-Infinity")
        else:
            worth = Decimal(total or 0)
        took_part = counting > 0 if measure == "points" and not has_events else acting > 0
        standings.append((Standing(team, worth, "", None, members[team], took_part), when))
    if rank.side == "top" and not rule.board:
        # A team where nobody acted takes no paid top place (it may be a bottom one).
        standings = [s for s in standings if s[0].acted]
    sign = 1 if rank.side == "bottom" else -1
    standings.sort(
        key=lambda s: (sign * s[0].value, s[1] if s[1] is not None else math.inf, s[0].who)
    )
    return [s for s, _ in standings], len(standings)


def _closed(chunk: _Chunk, member_parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Every rank, board and grant of the chunk, by the engine's own closes
    (`_ClosingSession`). Before each day's first event the session closes what is due;
    then the day's grants are given in time order, and what the day's events put in the
    rank tables (per member: the entry `track_rank` keeps, the points `track_points`
    counts, from the per-member stages' awards) goes in at once: nothing reads a table
    between a day's events, only at the closes, which fall between days. The records
    come back as the engine writes them (`head`, `tail` around a balance)."""
    import polars as pl

    plan, carry, events = chunk.plan, chunk.carry, chunk.events
    program = plan.program
    session = carry.closing
    assert session is not None
    state = session.state
    by_day = events.group_by("day", maintain_order=True).agg(
        pl.col("seq").first(), pl.col("t").first()
    )
    session.names = carry.members
    filling = _fillings(chunk, member_parts)
    grants = _grant_events(chunk)
    listing = any(
        r.rank is not None and r.rank.measure == "missing" and r.rank.team is None
        for r in program.rules
    )
    out: list[tuple[int, int, Any]] = []  # (event, phase, outcome): closes 0, grants 1
    for day_number, first_seq, first_t in by_day.iter_rows():
        out += [(first_seq, 0, o) for o in session._advance(_utc(first_t))]
        day = date.fromordinal(day_number)
        open_day(state, day)
        if listing:  # who a `by missing` board knows: every member an event named
            for name in events.filter(pl.col("day") == day_number)["member"].unique():
                state.members.setdefault(name, MemberState())
        for seq, spec, event, attrs in grants.get(day_number, ()):
            given = grant(program, state, spec, event, attrs, day)
            if isinstance(given, Proposal):
                out += [(seq, 1, o) for o in session._pay(given)]
            else:
                out.append((seq, 1, given))
        for fill in filling:
            fill(day_number, day)
        session.granted.clear()
    if chunk.final:
        out += [(events.height, 0, o) for o in session._advance(None)]
    return _written(chunk, out)


def _written(chunk: _Chunk, out: list[tuple[int, int, Any]]) -> pl.DataFrame:
    """The engine's outcomes as record rows: a record's line whole, a payment's line
    (a `rank` or `grant` record, as the ledger writes it) cut at its balance."""
    import polars as pl

    program, forms, carry = chunk.plan.program, chunk.forms, chunk.carry
    calendar = program.calendar
    places = {rule.name: i for i, rule in enumerate(program.rules)}
    places.update({g.name: len(program.rules) + i for i, g in enumerate(program.grants)})
    specs: dict[str, Any] = {rule.name: rule for rule in program.rules}
    specs.update({g.name: g for g in program.grants})
    mids = dict(zip(carry.members["member"], carry.members["mid"], strict=True))
    new: dict[str, int] = {}
    made: dict[tuple[str, str, bool], int] = {}
    rows: dict[str, list[Any]] = {
        c: [] for c in ("k_event", "k_phase", "k_rule", "k_sub", "form", "points", "paid")
    }
    rows.update(r_mid=[], r_member=[], head=[], tail=[])
    for sub, (seq, phase, outcome) in enumerate(out):
        paying = isinstance(outcome, Proposal)
        if paying:
            stamp = local_time(calendar, outcome.at)
            line = paid_record(outcome, stamp, outcome.points, 0).to_json_bytes().decode()
            cut = line.index(',"balance":0') + len(',"balance":')
            head, tail = line[:cut], line[cut + 1 :]
            member = outcome.member
            mid = mids.get(member)
            if mid is None:  # paid as one of a team, without an event of their own yet
                mid = mids[member] = new[member] = carry.members.height + len(new)
        else:
            head, tail, member, mid = outcome.to_json_bytes().decode(), None, None, None
        name = outcome.source if paying else (outcome.rule or "")
        key = (outcome.kind, name, paying)
        form = made.get(key)
        if form is None:
            fields = "written balance" if paying else "written"
            form = made[key] = forms.add(outcome.kind, specs[name], fields, "")
        rows["k_event"].append(seq)
        rows["k_phase"].append(phase)
        # a grant goes after the event's rules; closes keep the engine's order (`sub`)
        rows["k_rule"].append(places[name] if phase else 0)
        rows["k_sub"].append(sub)
        rows["form"].append(form)
        rows["points"].append(outcome.points if paying else None)
        rows["paid"].append(outcome.points if paying else None)
        rows["r_mid"].append(mid)
        rows["r_member"].append(member)
        rows["head"].append(head)
        rows["tail"].append(tail)
    if new:
        carry.members = pl.concat(
            [carry.members, pl.DataFrame({"member": list(new), "mid": list(new.values())})]
        )
    frame = pl.DataFrame(rows, schema=_record_schema(list(rows)))
    # an event's place names it; a close names no event of the chunk (`seq` null)
    named = pl.when(pl.col("k_phase") == 1).then(pl.col("k_event"))
    return frame.with_columns(k_end=pl.lit(0, pl.Int64), seq=named)


def _grant_events(chunk: _Chunk) -> dict[int, list[tuple[int, Any, Event, dict[str, Any]]]]:
    """The chunk's grant events by day, in time order, as the engine reads them."""
    import polars as pl

    program, events = chunk.plan.program, chunk.events
    kinds = chunk.plan.attributes
    found: dict[int, list[tuple[int, Any, Event, dict[str, Any]]]] = {}
    for spec in program.grants:
        names = [
            n
            for types in (program.attribute_types.get(e, {}) for e in spec.events)
            for n in types
            if n not in RESERVED_FIELDS
        ]
        columns = ["seq", "id", "type", "member", "t", "day", *(_column(n) for n in names)]
        chosen = events.filter(pl.col("type").is_in(list(spec.events))).select(columns)
        for row in chosen.iter_rows(named=True):
            attrs: dict[str, Any] = {"member": row["member"], "type": row["type"]}
            for name in names:
                value = row[_column(name)]
                if value is not None:
                    attrs[name] = Decimal(value) if kinds[name] == "number" else value
            event = Event(row["id"], row["type"], row["member"], _utc(row["t"]))
            found.setdefault(row["day"], []).append((row["seq"], spec, event, attrs))
    for day in found.values():
        day.sort(key=lambda item: item[0])  # several blocks: time order, then the file's
    return found


_UTC_TEXT = "%Y-%m-%dT%H:%M:%S+00:00"  # an instant as `datetime.isoformat` writes a UTC one


def _fillings(chunk: _Chunk, member_parts: list[pl.DataFrame]) -> list[Callable[[int, date], None]]:
    """For each rank the closes take, what puts a day's share in its tables: the entry
    `track_rank` keeps for each member with a matching event (`_entries`), and for a
    rank by points what `track_points` counts (the per-member stages' awards, the
    day's grants); a `by missing` board's table, which `missing_list` reads as it is."""
    program = chunk.plan.program
    fills: list[Callable[[int, date], None]] = []
    earned: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}
    for rule in program.rules:
        rank = rule.rank
        if rank is None:
            continue
        if rank.measure == "missing":
            fills.append(_missing_filling(chunk, rule))
            continue
        wanted = (rule.currency, rank.sources)
        if rank.measure == "points" and wanted not in earned:
            earned[wanted] = _earned(chunk, member_parts, *wanted)
        fills.append(
            _filling(chunk, rule, earned.get(wanted) if rank.measure == "points" else None)
        )
    return fills


def _filling(
    chunk: _Chunk, rule: RuleSpec, earned: pl.DataFrame | None
) -> Callable[[int, date], None]:
    """A rank's frames after each day: its members' entries merged as `track_rank`
    would have kept them event by event (`_entries`: a rank by points or rate keeps the
    first event, as `earliest` does), and for a rank by points the day's awards and
    grants added up with the time of the last. A period's first day puts an empty table
    in the state: the engine's schedule sees the period open."""
    import polars as pl

    rank = rule.rank
    session = chunk.carry.closing
    assert rank is not None and session is not None
    calendar = chunk.plan.program.calendar
    key = chunk.days.key(rank.period)
    merged = (
        rank if rank.measure in _MEASURES[:4] else dataclasses.replace(rank, measure="earliest")
    )
    rows = None
    if rule.events:
        chosen = _matching(rule, chunk, rank.attribute).with_columns(key=key)
        if rank.measure == "sum":
            _within_sum_bound(chosen["v"].abs().cast(pl.Float64).sum())
        rows = chosen.partition_by("day", as_dict=True)
    earned_rows = (
        None if earned is None else earned.with_columns(key=key).partition_by("day", as_dict=True)
    )
    tables = session.state.ranks.setdefault(rule.name, {})

    def opened(key: str) -> None:
        if not session.state.closed_ranks.get(f"{rule.name}|{key}"):
            tables.setdefault(key, {})

    def fill(day_number: int, day: date) -> None:
        share = None if rows is None else rows.get((day_number,))
        if share is not None:
            before = session.entries.get(rule.name)
            session.entries[rule.name] = _entries(merged, share, before)
            opened(share["key"][0])
        if earned is None:
            return
        names = session.names
        assert names is not None
        parts = [] if earned_rows is None else [earned_rows.get((day_number,))]
        given = [
            (g.member, g.points, _micros(g.at))
            for g in session.granted
            if g.currency == rule.currency and (not rank.sources or g.source in rank.sources)
        ]
        if given:
            granted = pl.DataFrame(
                given, schema={"member": pl.String, "paid": pl.Int64, "t": pl.Int64}, orient="row"
            ).join(names, on="member")
            parts.append(
                granted.select(
                    "mid",
                    "paid",
                    "t",
                    day=pl.lit(day_number, pl.Int32),
                    key=pl.lit(calendar.period_key(rank.period, day)),
                )
            )
        found = [p for p in parts if p is not None and p.height]
        if not found:
            return
        today = pl.concat([p.select("key", "mid", "paid", "t") for p in found])
        before = session.earned.get(rule.name)
        if before is not None:
            today = pl.concat([before.select("key", "mid", paid="points", t="stamp"), today])
        session.earned[rule.name] = today.group_by("key", "mid", maintain_order=True).agg(
            points=pl.col("paid").sum(), stamp=pl.col("t").max()
        )
        opened(found[0]["key"][0])

    return fill


def _missing_filling(chunk: _Chunk, rule: RuleSpec) -> Callable[[int, date], None]:
    """A `by missing` board's table, as `track_rank` fills it: a member's first matching
    event of the period (`missing_list` lists who has none)."""
    import polars as pl

    rank = rule.rank
    session = chunk.carry.closing
    assert rank is not None and session is not None
    calendar = chunk.plan.program.calendar
    entries = (
        _matching(rule, chunk)
        .group_by("day", "mid", maintain_order=True)
        .agg(pl.col("t").first(), pl.col("id").first())
        .join(chunk.carry.members, on="mid", how="left")
        .with_columns(pl.from_epoch("t", "us").dt.to_string(_UTC_TEXT))
    )
    days = {
        int(day): (part["member"].to_list(), part["t"].to_list(), part["id"].to_list())
        for (day,), part in entries.partition_by("day", as_dict=True).items()
    }
    tables = session.state.ranks.setdefault(rule.name, {})

    def fill(day_number: int, day: date) -> None:
        share = days.get(day_number)
        if share is not None:
            table = tables.setdefault(calendar.period_key(rank.period, day), {})
            for member, at, event_id in zip(*share, strict=True):
                table.setdefault(member, ["0", at, event_id])

    return fill


def _earned(
    chunk: _Chunk, member_parts: list[pl.DataFrame], currency: str, sources: tuple[str, ...]
) -> pl.DataFrame:
    """The points each member earned each day in `currency` (from `sources`, when named)
    by the per-member stages, and when the last of them was earned (day, mid, paid, t):
    what `track_points` counts for them (awards before budgets)."""
    import polars as pl

    forms = chunk.forms
    counted = [
        form
        for form, row in enumerate(forms.rows)
        if row[0] == "award"
        and row[1].currency == currency
        and (not sources or row[1].name in sources)
    ]
    paying = [
        part.select(pl.col("seq", "form", "paid").cast(pl.Int64))
        for part in member_parts
        if "paid" in part.columns and part.height
    ]
    schema = {"day": pl.Int32, "mid": pl.Int64, "paid": pl.Int64, "t": pl.Int64}
    if not paying or not counted:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat(paying)
        .filter(pl.col("paid").is_not_null() & pl.col("form").is_in(counted))
        .join(chunk.events.select("seq", "day", "mid", "t"), on="seq")
        .group_by("day", "mid", maintain_order=True)
        .agg(pl.col("paid").sum(), pl.col("t").max())
        .select([pl.col(c).cast(t) for c, t in schema.items()])
    )


# ---- records as JSON Lines ------------------------------------------------------------------


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


def run_columnar(
    program: Program,
    paths: Sequence[str | Path],
    out: IO[bytes],
    jobs: int = 1,
    lost: list[str] | None = None,
    roster: Roster | None = None,
) -> tuple[Counter[str], int, bool] | None:
    """Evaluate event files to JSON Lines in `out`, as `runner.run_to` would: the
    records by kind, the number of members, whether the input had to be sorted by
    time; None (and nothing written) when the scheme has no plan or the input is not
    plain. When `out` can be rewound (a file, not a pipe: `_rewind_point`) the records
    go straight into it and a line found not plain late in the input truncates it back
    to where it was; else they are spooled to a temporary file and copied out at the
    end. Either way `out` is left as it was whenever None is returned. With `jobs`
    above 1 (and a scheme `split_why_not` allows), the per-member stages run in that
    many worker processes, each given the events of its share of the members; when one
    is lost, `lost` is told why (and None returned: the loop runs it instead)."""
    import polars as pl

    plan = plan_for(program)
    files = [Path(p) for p in paths]
    if plan is None or not files:
        return None
    start = _rewind_point(out)
    with contextlib.ExitStack() as stack:
        # a copy of 200 MB of records costs a fifth of a run: written once where possible
        target = out if start is not None else stack.enter_context(tempfile.TemporaryFile())
        done: tuple[Counter[str], int, bool] | None = None
        try:
            if jobs > 1 and not split_why_not(program):
                with _MemberWorkers(program, jobs) as workers:
                    done = _run(plan, files, target, roster, workers)
            else:
                done = _run(plan, files, target, roster)
        except _WorkerLost as why:
            if lost is not None:
                lost.append(str(why))
        except (pl.exceptions.PolarsError, OSError, UnicodeError, _NotPlain):
            pass  # what Polars cannot read as plain, the loop reads (and reports)
        if done is None:
            if start is not None:
                out.seek(start)
                out.truncate()
            return None
        if start is None:
            target.seek(0)
            shutil.copyfileobj(target, out)
    return done


def _rewind_point(out: IO[bytes]) -> int | None:
    """Where `out` stands, if it is a stream the plan may write into and truncate back
    (a regular file: `seekable`), else None (a pipe, a terminal, a CSV converter)."""
    try:
        if getattr(out, "seekable", None) is None or not out.seekable():
            return None
        out.flush()
        return out.tell()
    except (OSError, ValueError):
        return None


def _run(
    plan: ColumnarPlan,
    files: list[Path],
    spool: IO[bytes],
    roster: Roster | None = None,
    workers: _MemberWorkers | None = None,
) -> tuple[Counter[str], int, bool] | None:
    program = plan.program
    carry = _empty_carry()
    if plan.closes:
        carry.closing = _ClosingSession(program, roster)
    kinds: Counter[str] = Counter()
    resorted = False
    first = True
    # Each chunk's lines are made and written on a second thread while this one works
    # on the next chunk (Polars releases the GIL); one write is pending at a time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="incentive-write") as writer:
        pending: Future[None] | None = None
        for events, final in _prepared(plan, files):
            if events is None:
                return None
            if "day" not in events.columns:  # out of order: `_prepared` left it undated
                if not (first and final):
                    return None  # out of order across chunks: the loop sorts on disk
                # By time, equal times in input order: the order the loop's sort gives.
                events, resorted = _dated(program, events.sort("t", maintain_order=True)), True
                if events is None:
                    return None
            if carry.last is not None and int(events["t"][0]) < carry.last:
                return None
            if not _new_ids(carry, events):
                return None
            events = _numbered_members(carry, events)
            days = events["day"].unique().sort().to_list()
            chunk = _Chunk(plan, events, _Days(program, days), carry, final, _Forms())
            if workers is not None and not plan.gathered:
                # Ranks first (they read only events); then the workers write their
                # members' lines, balances included, and this process merges them.
                workers.send(events, days, final, (_framed(_rank_parts(chunk)), chunk.forms))
                lines, counted = workers.receive_lines()
                kinds.update(counted)
                write: tuple[Any, ...] = (_write_frame, lines.select("line"), spool)
            else:
                if workers is None:
                    records = _records(chunk)
                else:  # the workers take the per-member stages while this process ranks
                    workers.send(events, days, final)
                    if plan.closes:  # the closes count what the workers paid
                        member = workers.receive(chunk.forms)
                        records = _framed(member + _global_parts(chunk, member))
                    else:  # ranks read only events: ranked while the workers work
                        ranked = _rank_parts(chunk)
                        records = _framed(workers.receive(chunk.forms) + ranked)
                # balances and lines on the writing thread: nothing before them reads
                # the balances, and it takes the chunks in order
                write = (_write_records, chunk, _budgeted(chunk, records), spool)
            if pending is not None:
                kinds.update(pending.result())
            pending = writer.submit(*write)
            carry.last = int(events["t"][-1])
            first = False
        if pending is not None:
            kinds.update(pending.result())
    if workers is not None and not plan.gathered:
        carry.balances = workers.balances()
    balances = _balance_lines(program, carry)
    if balances.height:
        balances.write_csv(spool, include_header=False, quote_style="never")
    return kinds, carry.members.height, resorted


def _prepared(plan: ColumnarPlan, files: list[Path]) -> Iterator[tuple[pl.DataFrame | None, bool]]:
    """Each chunk's events, decoded, timed and dated when in time order (`_dated`; one
    out of order is left undated, for the caller to sort), None when not plain; and
    whether it is the last. The next chunk is read and decoded on a second thread while
    the caller works on this one: Polars releases the GIL, and reading is a third of
    the work, so the two overlap on two cores (at most three chunks are held at once)."""

    def prepare(block: bytes) -> pl.DataFrame | None:
        events = _decode(plan, _lines_of(block))
        if events is not None:
            events = _instants(plan.program, events)
        if events is not None and events["t"].is_sorted():
            events = _dated(plan.program, events)
        return events

    blocks = _blocks(files)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="incentive-read") as reader:
        block = next(blocks, None)
        ahead = None if block is None else reader.submit(prepare, block)
        while ahead is not None:
            following = next(blocks, None)
            after = None if following is None else reader.submit(prepare, following)
            events = ahead.result()
            yield events, after is None
            if events is None:
                if after is not None:
                    after.cancel()
                return
            ahead = after


# ---- --jobs: the per-member stages in worker processes ------------------------------------


def split_why_not(program: Program) -> list[str]:
    """Why `--jobs` cannot split the scheme's run by member (empty: it can): no plan, or
    a per-member stage that reads what other members did."""
    if why_not(program):
        return ["the scheme has no columnar plan"]
    return [
        f"rule `{rule.name}`: `milestone distinct` counts a value once across members"
        for rule in program.rules
        if rule.milestone is not None and rule.milestone.distinct
    ]


# The worker processes' mechanics (start, pipes, end) are `processes.Workers`'.
_WorkerLost = WorkerLost
WORKER = processes.WORKER  # how a worker starts (a test puts a stand-in here)


class _MemberWorkers(processes.Workers):
    """`jobs` worker processes, each keeping the per-member state (`_Carry`) of the
    members whose number is its own modulo `jobs`. Per chunk, `send` hands each its
    members' events (with their places in the chunk, `seq`), and `receive` collects
    their record rows, renumbering their record forms into the chunk's.

    A worker is a fresh interpreter (`incentive.jobs`, see `processes.WORKER`) spoken
    to by pickles over its stdin and stdout. Each worker's Polars gets its share of
    the cores."""

    def __init__(self, program: Program, jobs: int) -> None:
        import os

        threads = max(1, (os.cpu_count() or 1) // jobs)
        self.rules = {rule.name: rule for rule in program.rules}
        env = {"POLARS_MAX_THREADS": str(threads)}
        super().__init__(WORKER, "columnar", program, jobs, env)

    def __enter__(self) -> _MemberWorkers:
        return self

    def send(
        self,
        events: pl.DataFrame,
        days: list[int],
        final: bool,
        ranked: tuple[pl.DataFrame, _Forms] | None = None,
    ) -> None:
        """Each worker its members' events. With `ranked` (the chunk's rank rows and
        their forms: a scheme without budgets), each also gets its members' rank rows
        and answers with finished lines (`receive_lines`), else with record rows."""
        import polars as pl

        count = len(self.workers)
        share = (pl.col("mid") % count).alias("share")
        events = events.drop("at")  # the stages read the instant `t` and the local `stamp`
        parts = events.with_columns(share).partition_by("share", as_dict=True, include_key=False)
        ranks: dict[Any, pl.DataFrame] = {}
        forms: list[tuple[Any, ...]] = []
        if ranked is not None:
            rows, rank_forms = ranked
            ranks = rows.with_columns((pl.col("r_mid") % count).alias("share")).partition_by(
                "share", as_dict=True, include_key=False
            )
            forms = _portable(rank_forms)
        for number, worker in enumerate(self.workers):
            mine = parts.get((number,), events.clear())
            if ranked is None:
                self.put(worker, ("records", mine, days, final))
            else:
                theirs = ranks.get((number,), ranked[0].clear())
                self.put(worker, ("lines", mine, days, final, theirs, forms))

    def receive_lines(self) -> tuple[pl.DataFrame, Counter[str]]:
        """The workers' lines of a chunk, each with its record's keys, in record order,
        and the records by kind."""
        import polars as pl

        frames, kinds = [], Counter[str]()
        for reply in self._replies():
            _done, frame, counted = reply
            frames.append(frame)
            kinds.update(counted)
        return pl.concat(frames).sort(list(_KEYS)), kinds

    def balances(self) -> pl.DataFrame:
        """Every member's balances at the end, from the workers that kept them."""
        import polars as pl

        for worker in self.workers:
            self.put(worker, ("balances",))
        kept: list[pl.DataFrame] = [reply[1] for reply in self._replies()]
        return pl.concat(kept)

    def _replies(self) -> Iterator[tuple[Any, ...]]:
        for worker in self.workers:
            reply = self.reply(worker)
            if reply[0] == "not plain":
                raise _NotPlain
            yield reply

    def receive(self, forms: _Forms) -> list[pl.DataFrame]:
        """The workers' record rows of a chunk, their forms renumbered into `forms`."""
        frames = []
        for _done, frame, rows in self._replies():
            if frame.height:
                frames.append(_renumbered(frame, rows, forms, self.rules))
        return frames


def _portable(forms: _Forms) -> list[tuple[Any, ...]]:
    """Record forms as they cross to another process: a rule by its name."""
    return [(row[0], row[1].name, " ".join(row[2]), *row[3:]) for row in forms.rows]


def _renumbered(
    frame: pl.DataFrame, rows: list[tuple[Any, ...]], forms: _Forms, rules: dict[str, RuleSpec]
) -> pl.DataFrame:
    """Rows numbered by another process's forms (`_portable`), numbered by `forms`."""
    import polars as pl

    mine = [forms.add(kind, rules[rule], *rest) for kind, rule, *rest in rows]
    return frame.with_columns(
        pl.col("form").replace_strict(list(range(len(rows))), mine, return_dtype=pl.Int64)
    )


def work(requests: IO[bytes], replies: IO[bytes]) -> None:
    """A worker process of `_MemberWorkers` (`incentive.jobs`): a Program, then the
    per-member stages of each chunk it is sent, until its input ends."""
    import pickle

    import polars as pl

    reply = processes.replying(replies)
    try:
        plan = plan_for(pickle.load(requests))
    except EOFError:
        return
    assert plan is not None
    rules = {rule.name: rule for rule in plan.program.rules}
    carry = _empty_carry()
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        if request[0] == "balances":
            reply(("balances", carry.balances))
            continue
        kind, events, days, final, *ranked = request
        forms = _Forms()
        chunk = _Chunk(plan, events, _Days(plan.program, days), carry, final, forms)
        try:
            parts = _member_parts(chunk)
            if kind == "records":
                reply(("done", _framed(parts), _portable(forms)))
                continue
            rank_rows, rank_forms = ranked
            if rank_rows.height:
                parts.append(_renumbered(rank_rows, rank_forms, forms, rules))
            records = _balanced(chunk, _framed(parts))
            lines = _lines(records, forms)
            keyed = records.select(_KEYS).with_columns(lines["line"])
            reply(("lines", keyed, _kinds(records, forms)))
        except (pl.exceptions.PolarsError, _NotPlain):
            reply(("not plain",))
        except Exception as error:  # its type and message only: no traceback for operators
            reply(("failed", f"{type(error).__name__}: {error}"))


def _numbered_members(carry: _Carry, events: pl.DataFrame) -> pl.DataFrame:
    """Each event's member number `mid` for the whole run: members met before keep
    theirs, new ones are numbered on (carried state is keyed by these numbers)."""
    import polars as pl

    local = events.select("member", "local").unique("local", maintain_order=True)
    known = local.join(carry.members, on="member", how="left")
    new = known.filter(pl.col("mid").is_null()).with_columns(
        mid=pl.int_range(pl.len(), dtype=pl.Int64) + carry.members.height
    )
    carry.members = pl.concat([carry.members, new.select("member", "mid")])
    codes = pl.concat([known.filter(pl.col("mid").is_not_null()), new])
    return events.join(codes.select("local", "mid"), on="local", how="left").drop("local")


def _new_ids(carry: _Carry, events: pl.DataFrame) -> bool:
    """No event repeats an id the loop would still remember (its day open): ids are
    unique within a chunk (checked on reading), and against the open day's ids left by
    the chunk before. Then carry this chunk's last day's ids."""
    import polars as pl

    if carry.open_ids is not None:
        again = events.filter(pl.col("day") == carry.open_day).join(
            carry.open_ids.to_frame("id"), on="id", how="semi"
        )
        if again.height:
            return False
    last_day = int(events["day"][-1])
    ids = events.filter(pl.col("day") == last_day)["id"]
    if carry.open_ids is not None and carry.open_day == last_day:
        ids = pl.concat([carry.open_ids, ids])
    carry.open_day, carry.open_ids = last_day, ids
    return True
