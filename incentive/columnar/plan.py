"""What the plan can say: whether a scheme takes the columnar plan, and the plan itself.

`plan_for` accepts a scheme only when every construct it uses is written by the
stages of this package; `why_not` lists what is missing (a construct added to the
language later is declined by `_READ` until the plan writes it, never silently
ignored), and `explain` says it for `run --explain-plan`. The plan sorts the rules
into the stages that take them: per-event awards as columns (`awards`), awards whose
outcome depends on the order within a member by the loop's own rule step (`steps`),
streaks (`streaks`), ranks (`ranks`), or every rank by the interpreter's own closes
(`closes`) when a scheme compares teams or points. `split_why_not` says whether
`--jobs` may split its members across processes (`workers`).

`_NotPlain` is what a stage raises when, while evaluating, it meets an input that is
the loop's to answer: the run returns None before a byte is kept (`running`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from incentive import ast
from incentive.calendar import Calendar
from incentive.columnar.conditions import _predicate
from incentive.compiler import constant_amount, constant_points
from incentive.expressions import uses_random
from incentive.i18n import _
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
    # In the language of the moment (`_`): `run --explain-plan` and a run's notes show them.
    reasons: list[str] = [f"`{name}`" for name in _unread(program) + _unread(program.calendar)]
    if program.levels is not None:
        reasons.append(_("levels"))
    if program.expiry:
        reasons.append(_("expiry"))
    if program.redeems:
        reasons.append(_("redeem blocks"))
    budgeted = any(r.budgets for r in program.rules) or any(g.budgets for g in program.grants)
    if budgeted and _needs_closes(program):
        reasons.append(_("budgets with teams, boards by points, posts `each` period or grants"))
    if program.clock:
        reasons.append(_("a condition on the time of day or the weekday"))
    kinds: dict[str, ValueType] = {}
    for types in program.attribute_types.values():
        for name, kind in types.items():
            if kinds.setdefault(name, kind) != kind:
                reasons.append(_("attribute `{name}` read as two types").format(name=name))
    for rule in program.rules:
        reasons += [
            _("rule `{rule}`: {why}").format(rule=rule.name, why=why)
            for why in _rule_why_not(rule, kinds)
        ]
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
    why += [_("a period of {period}").format(period=p) for p in periods if p not in _PERIODS]
    if rule.condition is not None and _predicate(rule.condition, kinds) is None:
        why.append(_("a condition with arithmetic or calls"))
    if rule.milestone is not None:
        pass  # the loop's own step (`_stepped`)
    elif rule.inactive is not None:
        why.append(_("a flag for inactivity"))
    elif rule.inviter is not None:
        why.append(_("a referral"))
    elif rule.rank is not None:
        rank = rule.rank
        if rank.measure not in _MEASURES:
            why.append(_("a rank by {measure}").format(measure=rank.measure))
        elif rank.attribute is not None and kinds.get(rank.attribute) != "number":
            why.append(
                _("a rank by {measure} of an attribute that is not a number").format(
                    measure=rank.measure
                )
            )
    elif rule.streak is not None:
        pass  # as columns, or (`_streak_stepped`) the loop's own step
    else:
        if isinstance(rule.amount, ast.Negate):
            why.append(_("a penalty"))  # the ledger floors a balance at zero, in time order
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
        said = _(
            "scheme `{name}`: columnar plan for batch runs of plain JSON Lines files "
            "(other input: the compiled evaluator)"
        ).format(name=program.name)
        if plan.closes:
            said += "\n  " + _(
                "ranks, boards and grants: the interpreter's own closes, over rank tables "
                "filled from columns a day at a time"
            )
        if jobs > 1:
            split = split_why_not(program)
            if split:
                said += "\n  " + _("--jobs {jobs}: one process: {why}").format(
                    jobs=jobs, why=_("; ").join(split)
                )
            else:
                there = (
                    _("awards, streaks and milestones")
                    if plan.gathered
                    else _("awards, streaks, milestones, balances and lines")
                )
                if plan.closes:
                    here = _("ranks, boards, grants, balances and lines")
                elif plan.budgeted:
                    here = _("ranks, budgets, balances and lines")
                else:
                    here = _("ranks")
                said += "\n  " + _(
                    "--jobs {jobs}: {there} in {jobs} processes, members split among them; "
                    "{here} in this one"
                ).format(jobs=jobs, there=there, here=here)
        return said
    lines = [
        _("scheme `{name}`: no columnar plan (batch runs use the compiled evaluator)").format(
            name=program.name
        )
    ]
    lines += [
        "  " + _("not written as columns: {why}").format(why=why) for why in dict.fromkeys(reasons)
    ]
    return "\n".join(lines)  # how `--jobs` splits the compiled evaluator: `split.explain`


def split_why_not(program: Program) -> list[str]:
    """Why `--jobs` cannot split the scheme's run by member (empty: it can): no plan, or
    a per-member stage that reads what other members did."""
    if why_not(program):
        return [_("the scheme has no columnar plan")]
    return [
        _("rule `{rule}`: `milestone distinct` counts a value once across members").format(
            rule=rule.name
        )
        for rule in program.rules
        if rule.milestone is not None and rule.milestone.distinct
    ]
