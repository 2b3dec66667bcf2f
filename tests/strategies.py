"""Hypothesis strategies shared by the property tests.

Two generators of schemes:

- `schemes()` draws from a small *template space* (`SchemeT`): rules with
  `limit N per day|week`, `once`, `cap N per day|week`, a group with caps,
  positive and negative awards and amounts computed from an attribute with
  rounding. The template keeps its own description of every limit and cap, so
  an oracle can recompute them without reading the engine's `Program`.
- `typed_schemes()` writes conditions and amounts from random, well-typed
  expression trees (`number_exprs`, `bool_exprs`), for the type-safety promise.

`event_streams(scheme)` draws events (several members, about three weeks, in the
scheme's zone, naive/offset/UTC time stamps) and remembers each event's instant
independently of the engine. `exprs()` draws arbitrary (untyped) expression ASTs
for the formatter round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from incentive import ast
from incentive.formatter import format_expr

ZONES = ("America/New_York", "Asia/Shanghai", "UTC", "Australia/Lord_Howe", "Europe/London")
# First local day of a stream: around a DST change in spring and in autumn, and
# across a month and year end.
STARTS = (date(2026, 3, 2), date(2026, 10, 20), date(2026, 12, 21))
EVENT_TYPES = ("checkin", "message", "post")
MEMBERS = ("ana", "bo", "cy", "段")
CHANNELS = ("lively", "expert", "other")
SPAN_MINUTES = 21 * 24 * 60  # three weeks

CONDITIONS = (
    "words >= 20",
    'channel == "expert"',
    'channel in ["lively", "expert"]',
    "not (words < 50)",
    'words > 10 and channel != "other"',
    "words < 30 or words >= 200",
)
EXPRESSION_AMOUNTS = (
    "words * 0.3",
    "words / 7",
    "words * 0.25 - 5",
    "min(words, 40)",
    "(words + 1) / 3",
)


# ---- the template space -------------------------------------------------------------


@dataclass(frozen=True)
class RuleT:
    name: str
    event: str
    condition: str | None
    amount: str
    rounding: str | None
    # (count, period): period None is `once` (at most one ever)
    limits: tuple[tuple[int, str | None], ...]
    caps: tuple[tuple[int, str], ...]
    in_group: bool

    def text(self) -> str:
        parts = [f"on {self.event}"]
        if self.condition:
            parts.append(f"where {self.condition}")
        parts.append(f"award {self.amount}" + (f" round {self.rounding}" if self.rounding else ""))
        for count, period in self.limits:
            parts.append("once" if period is None else f"limit {count} per {period}")
        parts.extend(f"cap {points} per {period}" for points, period in self.caps)
        if self.in_group:
            parts.append("group g")
        return f"  rule {self.name} {{ " + " ".join(parts) + " }\n"


@dataclass(frozen=True)
class SchemeT:
    zone: str
    day_ends: str | None
    start: date
    group_caps: tuple[tuple[int, str], ...]
    rules: tuple[RuleT, ...]
    declare_events: bool = False

    def text(self) -> str:
        out = ['scheme "generated" {\n', "  currency coins\n", f'  timezone "{self.zone}"\n']
        if self.day_ends:
            out.append(f"  day ends {self.day_ends}\n")
        if self.declare_events:
            out.append(
                "  events { checkin(words: number, channel: text) "
                "message(words: number, channel: text) post(words: number, channel: text) }\n"
            )
        out.append(
            "  group g { " + " ".join(f"cap {p} per {q}" for p, q in self.group_caps) + " }\n"
        )
        out.extend(rule.text() for rule in self.rules)
        out.append("}\n")
        return "".join(out)

    def caps_of(self, rule: RuleT) -> list[tuple[str, int, str]]:
        """(owner, points, period) of every cap that counts this rule's points."""
        caps = [(f"rule:{rule.name}", p, q) for p, q in rule.caps]
        if rule.in_group:
            caps += [("group:g", p, q) for p, q in self.group_caps]
        return caps


def _subset_of_periods(draw: st.DrawFn, periods: tuple[str, ...], low: int, high: int) -> list:
    chosen = draw(st.lists(st.sampled_from(periods), unique=True, max_size=len(periods)))
    return [(draw(st.integers(low, high)), p) for p in chosen]


@st.composite
def rule_templates(draw: st.DrawFn, index: int) -> RuleT:
    event = draw(st.sampled_from(EVENT_TYPES))
    condition = draw(st.one_of(st.none(), st.sampled_from(CONDITIONS)))
    kind = draw(st.sampled_from(("positive", "positive", "negative", "expression")))
    rounding = None
    if kind == "positive":
        amount = str(draw(st.integers(1, 40)))
    elif kind == "negative":
        amount = str(draw(st.integers(-30, -1)))
    else:
        amount = draw(st.sampled_from(EXPRESSION_AMOUNTS))
        rounding = draw(st.sampled_from((None, "down", "up", "nearest")))
    limits: list[tuple[int, str | None]] = _subset_of_periods(draw, ("day", "week"), 1, 4)
    if draw(st.integers(0, 4)) == 0:
        limits.append((1, None))
    caps = _subset_of_periods(draw, ("day", "week"), 1, 100)
    return RuleT(
        name=f"r{index}",
        event=event,
        condition=condition,
        amount=amount,
        rounding=rounding,
        limits=tuple(limits),
        caps=tuple(caps),
        in_group=draw(st.booleans()),
    )


@st.composite
def schemes(draw: st.DrawFn, max_rules: int = 5) -> SchemeT:
    count = draw(st.integers(1, max_rules))
    return SchemeT(
        zone=draw(st.sampled_from(ZONES)),
        day_ends=draw(st.sampled_from((None, None, "21:00", "04:00"))),
        start=draw(st.sampled_from(STARTS)),
        group_caps=tuple(_subset_of_periods(draw, ("day", "week"), 1, 80)),
        rules=tuple(draw(rule_templates(i)) for i in range(count)),
        declare_events=draw(st.booleans()),
    )


# ---- events ---------------------------------------------------------------------------


@dataclass
class GenEvent:
    """An input event (the dict a JSON line holds) and its instant, computed here."""

    raw: dict[str, Any]
    instant: datetime  # UTC
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def local_to_instant(local: datetime, zone: str) -> datetime:
    """What a naive local time means: fold=0 for ambiguous and nonexistent times."""
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


@st.composite
def event_streams(
    draw: st.DrawFn,
    scheme: SchemeT,
    min_size: int = 0,
    max_size: int = 40,
    ids: str = "always",  # "always", "never" or "mixed"
    members: tuple[str, ...] = MEMBERS,
) -> list[GenEvent]:
    """Events over ~3 weeks from the scheme's start; some share a time stamp."""
    n = draw(st.integers(min_size, max_size))
    zone = ZoneInfo(scheme.zone)
    base = datetime.combine(scheme.start, datetime.min.time())
    out: list[GenEvent] = []
    for i in range(n):
        if out and draw(st.integers(0, 5)) == 0:
            local = out[draw(st.integers(0, len(out) - 1))].extra["local"]  # an equal time
        else:
            local = base + timedelta(
                minutes=draw(st.integers(0, SPAN_MINUTES - 1)), seconds=draw(st.integers(0, 59))
            )
        instant = local_to_instant(local, scheme.zone)
        style = draw(st.sampled_from(("naive", "naive", "offset", "utc")))
        if style == "naive":
            at = local.isoformat()
        elif style == "offset":
            at = instant.astimezone(zone).isoformat()
        else:
            at = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        raw: dict[str, Any] = {
            "type": draw(st.sampled_from(EVENT_TYPES)),
            "member": draw(st.sampled_from(members)),
            "at": at,
        }
        words = draw(
            st.one_of(st.none(), st.integers(0, 300), st.integers(0, 600).map(lambda w: w / 2))
        )
        if words is not None:
            raw["words"] = words
        channel = draw(st.one_of(st.none(), st.sampled_from(CHANNELS)))
        if channel is not None:
            raw["channel"] = channel
        event_id = None
        if ids == "always" or (ids == "mixed" and draw(st.booleans())):
            event_id = f"e{i}"
            raw["id"] = event_id
        out.append(GenEvent(raw, instant, event_id, {"local": local}))
    return out


# ---- expressions ----------------------------------------------------------------------

ATTRIBUTE_NAMES = ("words", "likes", "channel", "字数", "x_1", "Ärger", "_n")


def numbers() -> st.SearchStrategy[ast.Number]:
    """Non-negative literals as the parser makes them (a minus sign is `Negate`)."""
    whole = st.integers(0, 10**12 - 1).map(str)
    frac = st.one_of(
        st.just(""), st.from_regex(r"[0-9]{1,6}", fullmatch=True).map(lambda f: "." + f)
    )
    return st.builds(lambda w, f: ast.Number(Decimal(w + f)), whole, frac)


def _leaves() -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        numbers(),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).map(
            ast.String
        ),
        st.booleans().map(ast.Boolean),
        st.sampled_from(ATTRIBUTE_NAMES).map(ast.Attribute),
    )


BINARY_OPS = ("+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or")


LEAVES = _leaves()


@st.composite
def expr_trees(draw: st.DrawFn, depth: int = 5) -> ast.Expr:
    """Bushy trees (st.recursive alone mostly draws leaves): every operator nests in
    every other one, on the left and on the right, so precedence is really tested."""
    # Leaves last: Hypothesis favours the first choices, and shrinks towards them.
    if depth <= 0 or draw(st.sampled_from((False,) * 4 + (True,))):
        return draw(LEAVES)
    kind = draw(st.sampled_from(("binary", "binary", "binary", "negate", "not", "in", "call")))
    if kind == "binary":
        op = draw(st.sampled_from(BINARY_OPS))
        return ast.Binary(op, draw(expr_trees(depth - 1)), draw(expr_trees(depth - 1)))
    if kind == "negate":
        return ast.Negate(draw(expr_trees(depth - 1)))
    if kind == "not":
        return ast.Not(draw(expr_trees(depth - 1)))
    if kind == "in":
        items = tuple(draw(expr_trees(depth - 2)) for _ in range(draw(st.integers(0, 3))))
        return ast.Membership(draw(expr_trees(depth - 1)), items, draw(st.booleans()))
    args = tuple(draw(expr_trees(depth - 2)) for _ in range(draw(st.integers(1, 3))))
    return ast.Call(draw(st.sampled_from(("min", "max", "f"))), args)


def exprs(max_leaves: int = 12) -> st.SearchStrategy[ast.Expr]:
    """Any expression tree the grammar can write (untyped)."""

    def extend(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
        return st.one_of(
            st.builds(ast.Negate, children),
            st.builds(ast.Not, children),
            st.builds(ast.Binary, st.sampled_from(BINARY_OPS), children, children),
            st.builds(
                ast.Membership,
                children,
                st.lists(children, max_size=3).map(tuple),
                st.booleans(),
            ),
            st.builds(
                ast.Call,
                st.sampled_from(("min", "max", "f")),
                st.lists(children, min_size=1, max_size=3).map(tuple),
            ),
        )

    return st.one_of(expr_trees(), st.recursive(LEAVES, extend, max_leaves=max_leaves))


# Well-typed expressions over the attributes of `typed_schemes`.
NUMBER_ATTRIBUTES = ("words", "likes")
TEXT_ATTRIBUTES = ("channel",)
BOOL_ATTRIBUTES = ("flag",)


SMALL_NUMBERS = st.sampled_from(("0", "1", "2", "0.5", "10", "999999999999")).map(
    lambda t: ast.Number(Decimal(t))
)
NUMBER_LEAVES = st.one_of(
    st.sampled_from(NUMBER_ATTRIBUTES).map(ast.Attribute), SMALL_NUMBERS, numbers()
)


@st.composite
def number_exprs(draw: st.DrawFn, depth: int = 4) -> ast.Expr:
    if depth <= 0 or draw(st.sampled_from((False, False, True))):
        return draw(NUMBER_LEAVES)
    kind = draw(st.sampled_from(("binary", "binary", "negate", "call")))
    if kind == "binary":
        op = draw(st.sampled_from(("*", "/", "+", "-")))
        return ast.Binary(op, draw(number_exprs(depth - 1)), draw(number_exprs(depth - 1)))
    if kind == "negate":
        return ast.Negate(draw(number_exprs(depth - 1)))
    args = tuple(draw(number_exprs(depth - 1)) for _ in range(draw(st.integers(2, 3))))
    return ast.Call(draw(st.sampled_from(("min", "max"))), args)


def text_exprs() -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        st.sampled_from(TEXT_ATTRIBUTES).map(ast.Attribute),
        st.sampled_from(("lively", "expert", "", "段")).map(ast.String),
    )


@st.composite
def bool_exprs(draw: st.DrawFn, depth: int = 3) -> ast.Expr:
    if depth <= 0 or draw(st.sampled_from((False, True))):
        kind = draw(st.sampled_from(("compare", "text", "in", "in_text", "attr", "literal")))
        if kind == "compare":
            op = draw(st.sampled_from(("==", "!=", "<", "<=", ">", ">=")))
            return ast.Binary(op, draw(number_exprs(2)), draw(number_exprs(2)))
        if kind == "text":
            op = draw(st.sampled_from(("==", "!=")))
            return ast.Binary(op, draw(text_exprs()), draw(text_exprs()))
        if kind in ("in", "in_text"):
            item = number_exprs(1) if kind == "in" else text_exprs()
            items = tuple(draw(item) for _ in range(draw(st.integers(0, 3))))
            return ast.Membership(draw(item), items, draw(st.booleans()))
        if kind == "attr":
            return ast.Attribute(draw(st.sampled_from(BOOL_ATTRIBUTES)))
        return ast.Boolean(draw(st.booleans()))
    if draw(st.booleans()):
        return ast.Not(draw(bool_exprs(depth - 1)))
    op = draw(st.sampled_from(("and", "or")))
    return ast.Binary(op, draw(bool_exprs(depth - 1)), draw(bool_exprs(depth - 1)))


TYPED_EVENTS = ("a", "b", "签到")


NUMBER_EXPRS = number_exprs()
BOOL_EXPRS = bool_exprs()


@st.composite
def typed_schemes(draw: st.DrawFn) -> str:
    """Scheme text whose conditions and amounts are random well-typed expressions."""
    out = ['scheme "typed" {\n', "  currency coins, xp\n"]
    out.append(f'  timezone "{draw(st.sampled_from(ZONES))}"\n')
    if draw(st.booleans()):
        out.append(
            "  events { "
            + " ".join(
                f'"{e}"(words: number, likes: number, channel: text, flag: bool)'
                for e in TYPED_EVENTS
            )
            + " }\n"
        )
    if draw(st.booleans()):
        factor = draw(st.sampled_from(("2", "1.5", "0.5", "3")))
        day = draw(st.sampled_from(("tuesday", "saturday")))
        out.append(f"  boost b {{ times {factor} on {day} }}\n")
    out.append("  group g { cap 50 per day }\n")
    for i in range(draw(st.integers(1, 4))):
        events = draw(st.lists(st.sampled_from(TYPED_EVENTS), min_size=1, max_size=2, unique=True))
        parts = ["on " + ", ".join(f'"{e}"' for e in events)]
        if draw(st.booleans()):
            parts.append("where " + format_expr(draw(BOOL_EXPRS)))
        award = "award " + format_expr(draw(NUMBER_EXPRS))
        if draw(st.booleans()):
            award += " xp"
        if draw(st.booleans()):
            award += " round " + draw(st.sampled_from(("down", "up", "nearest")))
        parts.append(award)
        parts.extend(
            draw(
                st.lists(
                    st.sampled_from(("limit 2 per day", "once", "cap 30 per week", "uncapped")),
                    unique=True,
                    max_size=2,
                )
            )
        )
        if draw(st.booleans()) and "xp" not in award:
            parts.append("group g")
        out.append(f"  rule r{i} {{ " + " ".join(parts) + " }\n")
    out.append("}\n")
    return "".join(out)


TYPED_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "number": st.one_of(
        st.integers(-(10**15), 10**15),
        st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False),
        st.integers(-1000, 1000),
    ),
    "bool": st.booleans(),
    "text": st.text(max_size=10),
}


def typed_value(kind: str) -> st.SearchStrategy[Any]:
    """A JSON value of the right type for an attribute of that kind."""
    return TYPED_VALUES[kind]


@st.composite
def typed_events(
    draw: st.DrawFn, attribute_types: dict[str, dict[str, str]], event_types: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Events whose attributes have the types the program reads them as (some missing)."""
    events = []
    for i in range(draw(st.integers(0, 12))):
        type_ = draw(st.sampled_from(event_types))
        raw: dict[str, Any] = {
            "id": f"t{i}",
            "type": type_,
            "member": draw(st.sampled_from(("ana", "bo"))),
            "at": (
                datetime(2026, 3, 2) + timedelta(hours=draw(st.integers(0, 24 * 14)))
            ).isoformat(),
        }
        for name, kind in attribute_types.get(type_, {}).items():
            if name in ("member", "type"):
                continue
            if draw(st.integers(0, 5)) > 0:
                raw[name] = draw(typed_value(kind))
        events.append(raw)
    return events
