"""The checked scheme: names resolved, types known, ready to evaluate.

`check()` turns an `ast.Scheme` into a `Program`. Every evaluator (the
reference interpreter today, compiled and distributed ones later) reads only
this plain, immutable data.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from incentive import ast
from incentive.calendar import Calendar
from incentive.diagnostics import Diagnostic, Span
from incentive.frozen import dataclass
from incentive.i18n import _

if TYPE_CHECKING:
    from incentive.compiler import CompiledSession
    from incentive.engine import Session
    from incentive.roster import Roster
    from incentive.runner import Engine, RunResult
    from incentive.state import EngineState

ValueType = Literal["number", "text", "bool"]
VALUE_TYPES: tuple[ValueType, ...] = ("number", "text", "bool")

# Attributes every event has, readable by conditions.
BUILTIN_ATTRIBUTES: dict[str, ValueType] = {"member": "text", "type": "text"}
# Attributes read from the event's time in the scheme's zone (Calendar.clock); computed
# only for schemes that read them, so that other schemes pay nothing for them.
CLOCK_ATTRIBUTES: dict[str, ValueType] = {"weekday": "text", "hour": "number"}


@dataclass(frozen=True)
class LimitSpec:
    count: int
    period: ast.PeriodName | None  # None: ever
    key: str | None = None  # `for each album`: a count per value of this attribute
    own: bool = False  # a week, month, quarter or year from the member's start (OwnCalendar)

    def describe(self) -> str:
        if self.period is None:
            text = "once" if self.count == 1 else f"limit {self.count} ever"
        else:
            text = f"limit {self.count} per {self.period}" + (
                " from the member's start" if self.own else ""
            )
        return text + (f" for each {self.key}" if self.key else "")

    def counter(self, rule: str, attrs: Mapping[str, Any]) -> str:
        """The member's counter this limit uses for an event (state.MemberState.counters).

        A keyed limit counts per value; the caller has made sure the event carries it."""
        base = f"limit:{rule}:{self.period}"
        if self.key is None:
            return base
        value = attrs[self.key]
        # equal numbers (5 and 5.0) are one value
        text = str(value.normalize()) if isinstance(value, Decimal) else str(value)
        return f"{base}:{self.key}={text}"


@dataclass(frozen=True)
class CapSpec:
    """At most `points` net points per member per period from the owner's rules."""

    owner: str  # "rule:<name>" or "group:<name>"
    points: int
    period: ast.PeriodName
    own: bool = False  # a week, month, quarter or year from the member's start (OwnCalendar)

    def describe(self) -> str:
        kind, _, name = self.owner.partition(":")
        since = " from the member's start" if self.own else ""
        return f"cap {self.points} per {self.period}{since} on {kind} `{name}`"


@dataclass(frozen=True)
class BudgetSpec:
    """At most `points` per period to everyone together from the owner's awards."""

    owner: str  # "scheme:<currency>", "rule:<name>" or "group:<name>"
    points: int
    currency: str
    period: ast.PeriodName

    def describe(self) -> str:
        kind, _, name = self.owner.partition(":")
        where = f"on {kind} `{name}`" if kind != "scheme" else "for the scheme"
        return f"budget {self.points} {self.currency} per {self.period} {where}"


@dataclass(frozen=True)
class ExpirySpec:
    """Points of a currency expire N days after they were earned, or at a period's end."""

    currency: str
    days: int | None  # the span's count, in `unit`s
    period: ast.PeriodName | None
    unit: str = "day"  # day, week, month or year
    rounded: ast.PeriodName | None = None  # the span rounded up to this period's end

    def describe(self) -> str:
        if self.days is None:
            return f"expire at end of {self.period}"
        unit = f"{self.unit}s"
        return f"expire after {self.days} {unit}" + (
            f" at end of {self.rounded}" if self.rounded else ""
        )


@dataclass(frozen=True)
class RedeemSpec:
    """Spending: a matching event asks for the points in its `attribute`."""

    name: str
    events: tuple[str, ...]
    condition: ast.Expr | None
    attribute: str
    currency: str
    minimum: int | None
    maximum: int | None
    multiple: int | None
    threshold: int | None  # the balance a member needs before redeeming
    limits: tuple[LimitSpec, ...]


@dataclass(frozen=True)
class AllowanceSpec:
    points: int
    period: ast.PeriodName
    granters: tuple[str, ...]  # empty: every granter not listed elsewhere


@dataclass(frozen=True)
class GrantsSpec:
    """Discretionary grants: events with `by`, `points` and `reason`, from allowances."""

    name: str
    events: tuple[str, ...]
    currency: str
    allowances: tuple[AllowanceSpec, ...]
    budgets: tuple[BudgetSpec, ...] = ()  # the scheme's budgets for its currency

    def allowance_of(self, granter: str) -> AllowanceSpec | None:
        listed = next((a for a in self.allowances if granter in a.granters), None)
        return listed or next((a for a in self.allowances if not a.granters), None)


@dataclass(frozen=True)
class ReversalSpec:
    """Events that take back what an earlier event paid, named by id in `attribute`."""

    name: str
    events: tuple[str, ...]
    attribute: str
    days: int  # what an event paid is kept (reversible) this many days after its day
    debt: bool = False  # what cannot be taken back is owed; else it is written off
    # `part amount of total`: the refund's `amount` over the reversed event's `total`
    part: str | None = None
    whole: str | None = None


@dataclass(frozen=True)
class TransferSpec:
    """Transfers: the event's member sends the points in `attribute` to the member in `to`."""

    name: str
    events: tuple[str, ...]
    condition: ast.Expr | None
    to: str
    attribute: str
    currency: str
    minimum: int | None = None
    maximum: int | None = None
    limits: tuple[LimitSpec, ...] = ()  # transfers per sender per period
    sent: tuple[tuple[int, ast.PeriodName], ...] = ()  # points per sender per period
    received: tuple[tuple[int, ast.PeriodName], ...] = ()  # points per receiver per period
    keep: int = 0  # the balance a sender keeps


@dataclass(frozen=True)
class GiftSpec:
    name: str
    price: int
    stock: int | None = None  # None: no stock kept
    stock_period: ast.PeriodName | None = None  # None: the stock is for all time
    limits: tuple[LimitSpec, ...] = ()  # redemptions of this gift per member per period


@dataclass(frozen=True)
class CatalogueSpec:
    """A gift catalogue: a matching event asks for the gift named in `attribute`."""

    name: str
    events: tuple[str, ...]
    condition: ast.Expr | None
    attribute: str
    currency: str
    gifts: tuple[GiftSpec, ...]
    limits: tuple[LimitSpec, ...] = ()  # redemptions per member per period, all gifts
    stock: tuple[tuple[int, ast.PeriodName], ...] = ()  # items per period, all gifts
    budgets: tuple[tuple[int, ast.PeriodName], ...] = ()  # points per period, all gifts

    def gift(self, name: str) -> GiftSpec | None:
        return next((g for g in self.gifts if g.name == name), None)


@dataclass(frozen=True)
class LevelsSpec:
    """Levels by points earned in a currency, in all or in a rolling window; ascending."""

    currency: str
    steps: tuple[tuple[str, int], ...]
    days: int | None = None  # None: lifetime points; else points earned in the last N days

    def level_for(self, earned: int) -> str | None:
        reached = [name for name, points in self.steps if points <= earned]
        return reached[-1] if reached else None


@dataclass(frozen=True)
class BoostSpec:
    name: str
    factor: Decimal
    weekdays: frozenset[int] | None  # 0 = Monday; None: every day
    first: date | None
    last: date | None
    condition: ast.Expr | None = None  # `where level == "gold"`: tested on each event

    def applies_on(self, day: date) -> bool:
        if self.weekdays is not None and day.weekday() not in self.weekdays:
            return False
        if self.first is not None and day < self.first:
            return False
        return not (self.last is not None and day > self.last)


@dataclass(frozen=True)
class Payment:
    """An amount to pay and how to round it, or a perk or badge: (kind, name)."""

    amount: ast.Expr | None
    rounding: ast.RoundingMode
    perk: tuple[str, str] | None = None


@dataclass(frozen=True)
class StreakSpec:
    period: ast.PeriodName
    grace: int  # missed periods a streak survives in total
    tiers: tuple[tuple[int, Payment], ...]  # (length, payment), ascending
    every: tuple[int, Payment] | None
    # `reaching 3 [words]`: a period counts when its matching events number (or their
    # attribute sums to) at least this much; None: any matching event counts
    need: int | None = None
    attribute: str | None = None
    # `reaching 100 coins earned`: the currency whose points paid to the member count
    # (from every other rule, after caps, before budgets); `need` is their threshold
    earned: str | None = None


@dataclass(frozen=True)
class MilestoneSpec:
    attribute: str | None  # None: count events; else sum (or count distinct) this attribute
    period: ast.PeriodName | None  # None: ever
    tiers: tuple[tuple[int, Payment], ...]  # (threshold, payment), ascending
    # count each value of `attribute` once, for the first member whose event names it
    # (state.invites[rule][value]); the member's own name never counts
    distinct: bool = False


@dataclass(frozen=True)
class PaySpec:
    """`pay moderator per week by active  award min(active * 20, 1154)`: at each close,
    the member named is paid `amount`, an expression of the period's measure (read in
    it under the measure's own word: `count`, `active`, `sum`, `max`)."""

    member: str | None  # a member named in the scheme (`pay "fund"`)
    attribute: str | None  # or the member each event names (one measure per member)
    so_far: bool  # the measure counts from the first event on, every period pays
    amount: ast.Expr
    rounding: ast.RoundingMode
    word: str  # the measure's name in `amount`

    def describe(self) -> str:
        return f'"{self.member}"' if self.member is not None else f"`{self.attribute}`"


@dataclass(frozen=True)
class GoalSpec:
    """`goal class per week by count  at 500 award 10`: the moment a team's measure in a
    period reaches a tier's threshold, every member of the team is paid (or `draw` of
    them, drawn by lot), or the team gets the tier's perk; once per team, tier and period
    (goals.py)."""

    team: str  # the kind of team
    period: ast.PeriodName
    measure: Literal["count", "sum", "active"]
    attribute: str | None  # for sum
    tiers: tuple[tuple[int, Payment], ...]  # (threshold, payment), ascending
    draw: int | None = None  # pay this many members drawn by lot; None: every member

    def describe(self) -> str:
        by = self.measure + (f" {self.attribute}" if self.attribute else "")
        return f"goal {self.team} per {self.period} by {by}"


@dataclass(frozen=True)
class WindowSpec:
    """`within 3 days of first signup` / `within 3 days of joined`: a rule counts an event
    only from the member's start (day 0) to N days after it (start_windows.py)."""

    days: int
    event: str | None  # the member's first event of this type
    column: str | None  # or the member's date in this roster column (or event attribute)

    def describe(self) -> str:
        start = f"first `{self.event}`" if self.event is not None else f"`{self.column}`"
        return f"within {self.days} days of {start}"


@dataclass(frozen=True)
class LeagueSpec:
    """`league weekly { ... cohort 30  tiers bronze, silver, gold  promote 5  demote 5 }`:
    the rule's rank table per period, closed into cohorts (leagues.py)."""

    name: str
    tiers: tuple[str, ...]  # lowest first; every member starts in the first
    cohort: int  # at most this many members in a cohort
    promote: int  # the top this many of a cohort move up a tier
    demote: int  # the bottom this many move down


@dataclass(frozen=True)
class StartSpec:
    """`periods from first signup` / `periods from joined`: the member's start (day 0) a
    rule's weeks, months, quarters and years count from (calendar.OwnCalendar)."""

    event: str | None  # the member's first event of this type
    column: str | None  # or the member's date in this roster column (or event attribute)


@dataclass(frozen=True)
class RankSpec:
    side: Literal["top", "bottom"]
    count: int | None  # None: everyone (boards)
    period: ast.PeriodName
    measure: ast.RankMeasure
    attribute: str | None
    sources: tuple[str, ...]  # for `by points`: rules whose points count; empty: every rule
    amounts: tuple[int, ...]  # per position; the last repeats; empty for perks and boards
    team: str | None = None  # rank teams of this kind instead of members
    pay: PaySpec | None = None  # no places: a payment from the measure to one member

    def amount_for(self, position: int) -> int:
        if not self.amounts:
            return 0
        return self.amounts[min(position, len(self.amounts)) - 1]

    def describe(self) -> str:
        by = self.measure + (f" {self.attribute}" if self.attribute else "")
        who = "" if self.count is None else f"{self.side} {self.count} "
        who += f"{self.team} " if self.team else ""
        return f"{who}per {self.period} by {by}"


# A board post's templates (posts.py): the placeholders each may use, the defaults.
HEADING_FIELDS: tuple[str, ...] = ("board", "day", "date", "time", "count")
LINE_FIELDS: tuple[str, ...] = ("rank", "name", "team", "member", "value", "percent")
MISSING_LINE_FIELDS: tuple[str, ...] = ("team", "members", "count")
# a league's board (`board tiers { league weekly }`): a line per member of a cohort; `tier`
# the cohort's tier, `now` the member's tier after the close, `move` ↑ (promoted), ↓
# (demoted) or nothing, `cohort` the cohort's number
LEAGUE_LINE_FIELDS: tuple[str, ...] = (
    "rank", "name", "member", "value", "tier", "now", "move", "cohort",
)  # fmt: skip
DEFAULT_LEAGUE_LINE = "{tier} {cohort}: {rank}. {name} {value} {move}"

DEFAULT_LINE = "{rank}. {name} {value}"
DEFAULT_MISSING_LINE = "{team}: {members}"
DEFAULT_JOIN = ", "


def template_problem(text: str, allowed: Sequence[str]) -> str | None:
    """Why a template cannot be filled in (an unknown placeholder, a stray brace)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as err:
        return _("{error}: write a literal brace as `{{{{` or `}}}}`").format(error=err)
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            shown = _(", ").join(f"{{{f}}}" for f in allowed)
            return _("`{{{name}}}` is not a placeholder here; these are: {shown}").format(
                name=name, shown=shown
            )
    return None


@dataclass(frozen=True)
class PostSpec:
    """How a board is written as a chat post (`post "..." line "..."`; posts.py)."""

    heading: str
    line: str | None  # None: the default line for the board's kind
    join: str | None  # between the members of a team (`by missing`); None: ", "
    at: time | None  # the local time it goes out after the close; None: at the close


@dataclass(frozen=True)
class RuleSpec:
    name: str
    events: tuple[str, ...]
    condition: ast.Expr | None
    amount: ast.Expr | None  # a per-event award; None for streak and milestone rules
    currency: str
    rounding: ast.RoundingMode
    limits: tuple[LimitSpec, ...]
    caps: tuple[CapSpec, ...]  # the rule's own caps, then its groups' caps
    groups: tuple[str, ...]
    boosts: tuple[BoostSpec, ...]
    span: Span = field(compare=False)
    streak: StreakSpec | None = None
    milestone: MilestoneSpec | None = None
    rank: RankSpec | None = None
    perk: tuple[str, str] | None = None  # (perk or badge, name): a rank rule's outcome
    board: bool = False  # a leaderboard: ranks and publishes, pays nothing
    budgets: tuple[BudgetSpec, ...] = ()  # the rule's, its groups', then the scheme's
    inactive: int | None = None  # flag after this many days without a matching event
    inviter: tuple[str, str, int] | None = None  # (invite event, invitee attribute, days)
    pending: int | None = None  # points held this many days before they can be spent
    reason: str | None = None  # the event attribute whose text goes into the award's reason
    credit: str | None = None  # pay the member this attribute names; None: the sender
    posts: ast.PeriodName | None = None  # a board posted so far at each such period's close
    post: PostSpec | None = None  # a board's chat post (does not change its records)
    every_time: bool = False  # `badge "helper" every time`: the perk on each matching event
    window: tuple[int, int] | None = None  # `window 3 within 7 days`: (events, days)
    # `first 3 per week`: the first K members in each period win (None: once, ever)
    first: tuple[int, ast.PeriodName | None] | None = None
    goal: GoalSpec | None = None  # a team goal: paid the moment a team's measure reaches a tier
    since: WindowSpec | None = None  # counts only within N days of the member's own start
    # `periods from first signup`: the rule's periods count from the member's own start
    periods_from: StartSpec | None = None
    league: LeagueSpec | None = None  # a league block: its rank table closes into cohorts
    league_board: str | None = None  # a board listing this league's cohorts at its closes


@dataclass(frozen=True)
class Program:
    name: str
    currencies: tuple[str, ...]
    calendar: Calendar
    rules: tuple[RuleSpec, ...]
    # event type -> the rules that react to it, in file order
    rules_by_event: dict[str, tuple[RuleSpec, ...]]
    # event type -> attribute -> type, for every attribute some rule reads
    attribute_types: dict[str, dict[str, ValueType]]
    # declared event types, when the scheme lists them
    known_events: frozenset[str] | None
    teams: tuple[str, ...] = ()  # kinds of team: roster columns or event attributes
    expiry: dict[str, ExpirySpec] = field(default_factory=dict)  # currency -> its expiry
    redeems: tuple[RedeemSpec, ...] = ()
    grants: tuple[GrantsSpec, ...] = ()
    reversals: tuple[ReversalSpec, ...] = ()
    transfers: tuple[TransferSpec, ...] = ()
    catalogues: tuple[CatalogueSpec, ...] = ()
    levels: LevelsSpec | None = None
    seed: int = 0  # random draws: `random(1, 10)`, `by lottery`
    clock: tuple[str, ...] = ()  # the CLOCK_ATTRIBUTES some condition reads; (): none
    # `timezone from tz`: the event attribute (else roster column) naming the member's
    # own zone, in which `hour` and `weekday` are read; None: the scheme's zone
    member_zone: str | None = None
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)
    source: str = field(default="", compare=False, repr=False)
    file: str = field(default="<scheme>", compare=False)

    @cached_property
    def reaching(self) -> dict[str, tuple[RuleSpec, ...]]:
        """Streak or milestone rule -> the `by reached` ranks and boards that name it."""
        found: dict[str, list[RuleSpec]] = {}
        for rule in self.rules:
            if rule.rank is not None and rule.rank.measure == "reached":
                assert rule.rank.attribute is not None
                found.setdefault(rule.rank.attribute, []).append(rule)
        return {name: tuple(rules) for name, rules in found.items()}

    @cached_property
    def earning(self) -> dict[str, tuple[RuleSpec, ...]]:
        """Currency -> the streak rules counting the points paid in it (`reaching 100
        coins earned`), in file order."""
        found: dict[str, list[RuleSpec]] = {}
        for rule in self.rules:
            if rule.streak is not None and rule.streak.earned is not None:
                found.setdefault(rule.streak.earned, []).append(rule)
        return {currency: tuple(rules) for currency, rules in found.items()}

    @cached_property
    def league_boards(self) -> dict[str, tuple[RuleSpec, ...]]:
        """League -> the boards listing its cohorts (`board tiers { league weekly }`)."""
        found: dict[str, list[RuleSpec]] = {}
        for rule in self.rules:
            if rule.league_board is not None:
                found.setdefault(rule.league_board, []).append(rule)
        return {league: tuple(rules) for league, rules in found.items()}

    @cached_property
    def leagues(self) -> tuple[LeagueSpec, ...]:
        """The leagues: each member's tier is readable by conditions under its name."""
        return tuple(rule.league for rule in self.rules if rule.league is not None)

    @cached_property
    def started_by(self) -> frozenset[str]:
        """Event types whose first day per member a window (`within 3 days of first
        signup`) or a rule's own periods (`periods from first signup`) count from."""
        starts = [(r.since.event if r.since else None) for r in self.rules]
        starts += [(r.periods_from.event if r.periods_from else None) for r in self.rules]
        return frozenset(e for e in starts if e is not None)

    @cached_property
    def date_columns(self) -> tuple[str, ...]:
        """Roster columns (else event attributes) holding a date a window or a rule's own
        periods count from."""
        columns = [(r.since.column if r.since else None) for r in self.rules]
        columns += [(r.periods_from.column if r.periods_from else None) for r in self.rules]
        return tuple(sorted({c for c in columns if c is not None}))

    @property
    def default_currency(self) -> str:
        return self.currencies[0]

    def session(
        self,
        roster: Roster | None = None,
        engine: Engine | None = None,
        state: EngineState | None = None,
    ) -> Session | CompiledSession:
        """A streaming session: `feed(event)` returns the records that event produces.

        `engine`: "compiled" (the default) or "interpreter" (the reference); both give
        the same records. `state`: carry on from a saved state (`incentive.codec`).
        """
        from incentive.runner import open_session

        return open_session(self, state=state, roster=roster, engine=engine)

    def evaluate(
        self,
        events: Iterable[Any],
        until: datetime | None = None,
        roster: Roster | None = None,
        engine: Engine | None = None,
    ) -> RunResult:
        """Evaluate a whole stream (dicts, Events or BadLines) in time order."""
        from incentive.runner import run_batch

        return run_batch(self, events, until, roster, engine)
