"""The scheme's abstract syntax: immutable nodes, each with a source span.

Spans never take part in equality, so `parse(fmt(s)) == parse(s)` compares
meaning, not layout. Nothing from lark leaves `incentive.parser`: these nodes
are the only form of a parsed scheme that later stages see.
"""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import Literal, TypeAlias

from incentive.diagnostics import NO_SPAN, Span
from incentive.frozen import dataclass

PeriodName = Literal["day", "week", "month", "quarter", "year", "season"]
RoundingMode = Literal["down", "up", "nearest"]


@dataclass(frozen=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Name(Node):
    """A name as written, with its own span so errors can point at it."""

    value: str


# ---- expressions ---------------------------------------------------------------


@dataclass(frozen=True)
class Number(Node):
    value: Decimal


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class Attribute(Node):
    """An attribute of the event being evaluated (`words`, `likes`, `channel`)."""

    name: str


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Negate(Node):
    operand: Expr


@dataclass(frozen=True)
class Not(Node):
    operand: Expr


BinaryOp = Literal["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"]


@dataclass(frozen=True)
class Binary(Node):
    op: BinaryOp
    left: Expr
    right: Expr
    # How the author wrote it, for the formatter only: `weekday is saturday` is
    # `weekday == "saturday"` and `x between a and b` is `x >= a and x <= b`.
    written: Literal["", "is", "between"] = field(default="", compare=False, kw_only=True)


@dataclass(frozen=True)
class Membership(Node):
    """`x in [a, b]` or `x not in [a, b]`."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


Expr: TypeAlias = Number | String | Boolean | Attribute | Call | Negate | Not | Binary | Membership


# ---- header ---------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyDecl(Node):
    names: tuple[Name, ...]


@dataclass(frozen=True)
class TimezoneDecl(Node):
    zone: str


@dataclass(frozen=True)
class MemberZoneDecl(Node):
    """`timezone from tz`: `hour` and `weekday` in the member's zone, named by the event's
    attribute (else the roster's column) of that name."""

    attribute: Name


@dataclass(frozen=True)
class DayDecl(Node):
    """`day ends 21:00`: the local time at which each day closes (text as written)."""

    ends: str


@dataclass(frozen=True)
class WeekDecl(Node):
    starts: Name


@dataclass(frozen=True)
class SeasonDecl(Node):
    first: str
    last: str


@dataclass(frozen=True)
class AttributeDecl(Node):
    name: Name
    type: Name


@dataclass(frozen=True)
class EventDecl(Node):
    name: Name
    attributes: tuple[AttributeDecl, ...]


@dataclass(frozen=True)
class EventsDecl(Node):
    events: tuple[EventDecl, ...]


# ---- rule clauses ---------------------------------------------------------------


@dataclass(frozen=True)
class On(Node):
    events: tuple[Name, ...]


@dataclass(frozen=True)
class Where(Node):
    condition: Expr


@dataclass(frozen=True)
class Award(Node):
    amount: Expr
    currency: Name | None = None
    rounding: RoundingMode | None = None
    rest: tuple[Expr, ...] = ()  # `award 10, 5, 3`: amounts for rank positions 2, 3, ...

    @property
    def amounts(self) -> tuple[Expr, ...]:
        return (self.amount, *self.rest)


@dataclass(frozen=True)
class Limit(Node):
    """`limit 3 per day`; `period` is None for `limit 3 ever`; `key`: `for each album`."""

    count: int
    period: PeriodName | None
    key: Name | None = None


@dataclass(frozen=True)
class Once(Node):
    key: Name | None = None  # `once for each album`


@dataclass(frozen=True)
class Posts(Node):
    """`each day` on a board: post the standings so far at each day's close."""

    period: PeriodName


@dataclass(frozen=True)
class Post(Node):
    """`post "heading" line "{rank}. {name} {value}" join "、" at 9:00` on a board: how
    `incentive run --post` writes it for a chat group (posts.py)."""

    heading: str
    line: str | None
    join: str | None
    at: str | None  # a local time as written ("9:00"); None: at the board's close


@dataclass(frozen=True)
class Credit(Node):
    """`credit candidate`: the award goes to the member the event's attribute names."""

    attribute: Name


@dataclass(frozen=True)
class Cap(Node):
    points: int
    period: PeriodName


@dataclass(frozen=True)
class Budget(Node):
    """`budget 1923 per week`: what may be given out to everyone together per period."""

    points: int
    currency: Name | None
    period: PeriodName


@dataclass(frozen=True)
class GroupRef(Node):
    name: Name


@dataclass(frozen=True)
class Uncapped(Node):
    """The operator's word that a rule may pay without limit (silences that warning)."""


@dataclass(frozen=True)
class Streak(Node):
    """`streak per day`: the rule pays at streak lengths (its `at` and `every` tiers)."""

    period: PeriodName


@dataclass(frozen=True)
class Reaching(Node):
    """`reaching 3` or `reaching 100 points` in a streak: a period counts when its
    matching events number `count`, or their `attribute` sums to it."""

    count: int
    attribute: Name | None
    # `reaching 100 coins earned`: the points paid in that currency (`attribute` names it;
    # None: the scheme's first), not an event attribute
    earned: bool = False


@dataclass(frozen=True)
class Grace(Node):
    """`grace 1`: missed periods a streak survives (a streak freeze)."""

    count: int


@dataclass(frozen=True)
class Milestone(Node):
    """`milestone count`, `milestone sum words [per week]` or `milestone distinct invitee`:
    pays when thresholds are reached."""

    measure: Literal["count", "sum", "distinct"]
    attribute: Name | None
    period: PeriodName | None  # None: ever


@dataclass(frozen=True)
class Tier(Node):
    """`at 7 award 20`: what a streak length or a milestone threshold pays."""

    threshold: int
    award: Award | Perk


@dataclass(frozen=True)
class Every(Node):
    """`every 7 award 10`: pays at every multiple of a streak length."""

    interval: int
    award: Award | Perk


RankMeasure = Literal[
    "earliest",
    "count",
    "sum",
    "max",
    "points",
    "active",
    "rate",
    "lottery",
    "missing",
    "reached",
]


@dataclass(frozen=True)
class Rank(Node):
    """`top 3 per day by earliest`: pays the period's best members at its close."""

    side: Literal["top", "bottom"]
    count: int | None  # None: everyone (`class per day by points`, boards only)
    period: PeriodName
    measure: RankMeasure
    attribute: Name | None = None  # for sum and max
    sources: tuple[Name, ...] = ()  # for points: the rules whose points count (all if empty)
    team: Name | None = None  # rank teams of this kind instead of members
    pay: PayTo | None = None  # `pay moderator per week by active`: no places, one payee


@dataclass(frozen=True)
class PayTo(Node):
    """Who `pay ... per PERIOD by MEASURE` pays: a member named in quotes (`"fund"`) or
    the member each event names in an attribute (`moderator`); `so far`: the measure
    counts from the first event on, not within each period."""

    member: str | None
    attribute: Name | None
    so_far: bool = False


@dataclass(frozen=True)
class Goal(Node):
    """`goal class per week by count`: a team's measure in each period, paid at the
    rule's tiers (`at 500 award 10`) the moment it reaches them."""

    team: Name
    period: PeriodName
    measure: RankMeasure
    attribute: Name | None = None  # for sum


@dataclass(frozen=True)
class Draw(Node):
    """`draw 3`: a team goal pays three of the team's members drawn by lot, not all."""

    count: int


@dataclass(frozen=True)
class StartWindow(Node):
    """`within 3 days of first signup` or `within 3 days of joined`: the rule counts an
    event only up to N days after the member's start (day 0)."""

    days: int
    event: Name | None  # the member's first event of this type
    column: Name | None  # or the member's date in this roster column (or event attribute)


@dataclass(frozen=True)
class OwnPeriods(Node):
    """`periods from first signup` or `periods from joined`: the rule's weeks, months,
    quarters and years (its limits, caps, streak and milestone) are counted from the
    member's own start (day 0), not from the calendar's."""

    event: Name | None  # the member's first event of this type
    column: Name | None  # or the member's date in this roster column (or event attribute)


@dataclass(frozen=True)
class LeagueBoard(Node):
    """`league weekly` in a board: the board lists the league's cohorts at its closes."""

    league: Name


@dataclass(frozen=True)
class Perk(Node):
    """`perk "top class"` or `badge "early bird"`: an outcome that is not points."""

    kind: Literal["perk", "badge", "flag"]
    name: str


@dataclass(frozen=True)
class Window(Node):
    """`window 3 within 7 days`: N matching events within any D days of the calendar."""

    count: int
    days: int


@dataclass(frozen=True)
class First(Node):
    """`first 3 per week`: the first K members with a matching event in the period win."""

    count: int
    period: PeriodName | None  # None: once, for the whole run


@dataclass(frozen=True)
class EveryTime(Node):
    """`badge "helper" every time`: the rule's perk on every matching event, not once."""


@dataclass(frozen=True)
class Inactive(Node):
    """`inactive 14 days`: flag a member with no matching event for that long."""

    days: int


@dataclass(frozen=True)
class Pending(Node):
    """`pending 7 days`: the rule's points are held that long before they can be spent."""

    days: int


@dataclass(frozen=True)
class Reason(Node):
    """`reason note`: the event's `note` attribute goes into the award's record."""

    attribute: Name


@dataclass(frozen=True)
class Inviter(Node):
    """`inviter from invite.invitee within 7 days`: pay whoever invited this member."""

    event: Name
    attribute: Name
    days: int


RuleClause: TypeAlias = (
    On
    | Where
    | Award
    | Limit
    | Once
    | Cap
    | GroupRef
    | Uncapped
    | Streak
    | Grace
    | Milestone
    | Tier
    | Every
    | Rank
    | Perk
    | Budget
    | Inactive
    | Inviter
    | Pending
    | Reason
    | Credit
    | Posts
    | Post
    | EveryTime
    | Window
    | Reaching
    | First
    | Goal
    | Draw
    | StartWindow
    | OwnPeriods
    | LeagueBoard
)


@dataclass(frozen=True)
class GroupDecl(Node):
    name: Name
    caps: tuple[Cap | Budget, ...]


@dataclass(frozen=True)
class ExpireDecl(Node):
    """`expire after 90 days` or `expire xp at end of year`."""

    currency: Name | None
    days: int | None  # the span's count, in `unit`s
    period: PeriodName | None
    unit: str = "day"  # day, week, month or year (`after 2 months`)
    rounded: PeriodName | None = None  # `... at end of year`: the span rounded up


@dataclass(frozen=True)
class Amount(Node):
    attribute: Name
    currency: Name | None


@dataclass(frozen=True)
class Minimum(Node):
    points: int


@dataclass(frozen=True)
class Maximum(Node):
    points: int


@dataclass(frozen=True)
class Multiple(Node):
    points: int


@dataclass(frozen=True)
class Threshold(Node):
    points: int


RedeemClause: TypeAlias = On | Where | Amount | Minimum | Maximum | Multiple | Threshold | Limit


@dataclass(frozen=True)
class RedeemDecl(Node):
    name: Name
    clauses: tuple[RedeemClause, ...]


@dataclass(frozen=True)
class Allowance(Node):
    """`allowance 500 per season [for "li", "wang"]`: each granter's, or these granters'."""

    points: int
    currency: Name | None
    period: PeriodName
    granters: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelStep(Node):
    name: Name
    points: int


@dataclass(frozen=True)
class LevelsDecl(Node):
    """`levels xp { bronze 0  silver 200 }`: levels by lifetime points earned."""

    currency: Name | None
    steps: tuple[LevelStep, ...]
    days: int | None = None  # a rolling window: points earned in the last N days


@dataclass(frozen=True)
class SeedDecl(Node):
    seed: int


@dataclass(frozen=True)
class GrantsDecl(Node):
    name: Name
    clauses: tuple[On | Allowance, ...]


@dataclass(frozen=True)
class By(Node):
    """`by order`: the attribute naming the event to reverse."""

    attribute: Name


@dataclass(frozen=True)
class Within(Node):
    """`within 30 days`: how long what an event paid stays reversible."""

    days: int


@dataclass(frozen=True)
class Debt(Node):
    """`debt`: what a reversal cannot take back is owed, not written off."""


@dataclass(frozen=True)
class Part(Node):
    """`part amount of total`: a partial refund; the refund's `amount` over the
    reversed event's `total` (the same attribute when `of` is left out)."""

    attribute: Name
    whole: Name | None


ReverseClause: TypeAlias = On | By | Within | Debt | Part


@dataclass(frozen=True)
class ReverseDecl(Node):
    """`reverse refunds { on refund  by order  within 30 days }`."""

    name: Name
    clauses: tuple[ReverseClause, ...]


@dataclass(frozen=True)
class To(Node):
    """`to receiver`: the attribute naming the member who receives a transfer."""

    attribute: Name


@dataclass(frozen=True)
class Receive(Node):
    """`receive 300 per day`: at most this many points to one receiver per period."""

    points: int
    period: PeriodName


@dataclass(frozen=True)
class Keep(Node):
    """`keep 100`: the balance a sender must keep after a transfer."""

    points: int


TransferClause: TypeAlias = (
    On | Where | To | Amount | Minimum | Maximum | Limit | Cap | Receive | Keep
)


@dataclass(frozen=True)
class TransferDecl(Node):
    """`transfer tips { on tip  to receiver  amount points }`."""

    name: Name
    clauses: tuple[TransferClause, ...]


@dataclass(frozen=True)
class ItemAttr(Node):
    """`item gift`: the attribute naming the gift a redemption asks for."""

    attribute: Name


@dataclass(frozen=True)
class Stock(Node):
    """`stock 50` (in all) or `stock 10 per week` (each period)."""

    count: int
    period: PeriodName | None


@dataclass(frozen=True)
class Price(Node):
    points: int
    currency: Name | None


@dataclass(frozen=True)
class GiftDecl(Node):
    """`gift mug { price 200  stock 50  limit 1 per month }`."""

    name: Name
    clauses: tuple[Price | Stock | Limit, ...]


CatalogueClause: TypeAlias = On | Where | ItemAttr | Limit | Stock | Budget | GiftDecl


@dataclass(frozen=True)
class CatalogueDecl(Node):
    name: Name
    clauses: tuple[CatalogueClause, ...]


@dataclass(frozen=True)
class RuleDecl(Node):
    name: Name
    clauses: tuple[RuleClause, ...]


@dataclass(frozen=True)
class BoardDecl(Node):
    """`board classes { class per day by points }`: a leaderboard, paying nothing."""

    name: Name
    clauses: tuple[RuleClause, ...]


@dataclass(frozen=True)
class TeamDecl(Node):
    """`team class, group`: kinds of team, from the roster or an event attribute."""

    names: tuple[Name, ...]


@dataclass(frozen=True)
class Cohort(Node):
    """`cohort 30`: a league's cohorts hold at most this many members."""

    count: int


@dataclass(frozen=True)
class Tiers(Node):
    """`tiers bronze, silver, gold`: a league's tiers, lowest first."""

    names: tuple[Name, ...]


@dataclass(frozen=True)
class Promote(Node):
    """`promote 5`: the top 5 of each cohort move up a tier at the close."""

    count: int


@dataclass(frozen=True)
class Demote(Node):
    """`demote 5`: the bottom 5 of each cohort move down a tier at the close."""

    count: int


LeagueClause: TypeAlias = On | Where | Rank | Cohort | Tiers | Promote | Demote


@dataclass(frozen=True)
class LeagueDecl(Node):
    """`league weekly { on lesson  per week by sum xp  cohort 30  tiers bronze, silver
    promote 5  demote 5 }`: weekly cohorts, promotions and demotions (Duolingo)."""

    name: Name
    clauses: tuple[LeagueClause, ...]


# ---- boosts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Times(Node):
    factor: Decimal


@dataclass(frozen=True)
class Weekdays(Node):
    days: tuple[Name, ...]


@dataclass(frozen=True)
class Dates(Node):
    first: str
    last: str


@dataclass(frozen=True)
class For(Node):
    targets: tuple[Name, ...]


BoostClause: TypeAlias = Times | Weekdays | Dates | For | Where


@dataclass(frozen=True)
class BoostDecl(Node):
    name: Name
    clauses: tuple[BoostClause, ...]


Item: TypeAlias = (
    CurrencyDecl
    | TimezoneDecl
    | MemberZoneDecl
    | DayDecl
    | WeekDecl
    | SeasonDecl
    | EventsDecl
    | GroupDecl
    | TeamDecl
    | RuleDecl
    | BoardDecl
    | BoostDecl
    | ExpireDecl
    | Budget
    | RedeemDecl
    | GrantsDecl
    | ReverseDecl
    | TransferDecl
    | CatalogueDecl
    | LevelsDecl
    | SeedDecl
    | LeagueDecl
)


@dataclass(frozen=True)
class Comment:
    """A `#` comment, kept so that the formatter does not lose it."""

    line: int
    column: int
    text: str


@dataclass(frozen=True)
class Scheme(Node):
    """A whole scheme file; items keep their source order (rule order matters)."""

    name: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
