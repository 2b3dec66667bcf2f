"""The compiled evaluator: a checked Program as Python source, exec'd once.

The reference interpreter (`engine.Session`) walks the scheme for every event:
it loops over the rules, matches on expression nodes, asks the calendar for
the day and every period key, and builds a proposal object for every award.
This module writes, once per Program, one Python function per event type
that does the same work straight through: conditions as Python expressions
over attributes read once, limits and caps as dict lookups with their keys
as constants, the day's period keys computed once per day, and the ledger's
award path inline when nothing else (budgets, expiry, levels, point ranks)
needs to see the award. Whatever is not written inline calls the
interpreter's own function for that construct on the same state, so both
evaluators keep one state format and give byte-identical records
(tests/test_compiled.py proves it on random schemes).

As Jinja2 does for templates, the source is kept (`CompiledProgram.source`)
so it can be printed and read. Nothing from a scheme's text is ever executed
as code: names and values reach the source only as `repr()` literals, and the
generated code's own identifiers are made here, never taken from the scheme.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from incentive import ast
from incentive.catalogues import shop, unmatched
from incentive.engine import CHECKPOINT_EVERY, CHECKPOINT_PER_MEMBER, Session, SessionInUse
from incentive.events import SECONDS, BadLine, Event, _plain_event, events_from_dicts, make_event
from incentive.expressions import (
    AmountError,
    attributes_read,
    evaluate,
    to_points,
    truth,
    uses_random,
)
from incentive.goals import track_goal
from incentive.i18n import N_, _
from incentive.intake import (
    MAX_ATTRIBUTE_NUMBER,
    bad_event,
    bad_line_record,
    coerce,
    failed_event,
    member_clock,
    mistyped,
)
from incentive.program import Program, RuleSpec, ValueType
from incentive.ranks import track_pay, track_rank, track_reached
from incentive.records import Record
from incentive.reversals import Before, before, note_paid, reverse
from incentive.roster import Roster
from incentive.rules import (
    Proposal,
    _award,
    _milestone,
    credited,
    each_time,
    first_winners,
    own_periods,
    period_index,
    reaching,
    streak_moves,
    streak_payments,
    unread,
    window,
)
from incentive.spending import grant, redeem
from incentive.start_windows import note_starts, start_window_open
from incentive.state import EngineState, MemberState, forget, local_time, open_day, remember
from incentive.transfers import transfer

__all__ = ["CompiledProgram", "CompiledSession", "compile_program"]

MISSING = object()  # an attribute the event does not carry


# ---- conditions ---------------------------------------------------------------------------


class _Conditions:
    """Conditions as Python expressions with the interpreter's three-valued logic.

    `holds(node)` is true exactly when `truth(node, attrs) is True`, and
    `fails(node)` exactly when it is False: `not` swaps them, so unknown (an
    attribute missing) is neither. What is not written here (arithmetic, calls)
    is handed to the interpreter's `truth` as a constant node.
    """

    def __init__(self, names: dict[str, str], constants: dict[str, Any]) -> None:
        self.names = names  # attribute -> the local variable holding it
        self.constants = constants  # generated name -> value, put in the namespace

    def local(self, attribute: str) -> str:
        if attribute not in self.names:
            self.names[attribute] = f"a{len(self.names)}"
        return self.names[attribute]

    def constant(self, value: Any) -> str:
        name = f"k{len(self.constants)}"
        self.constants[name] = value
        return name

    def _atom(self, node: ast.Expr) -> tuple[str, list[str]] | None:
        """A value written as Python, and the locals that must be present; None when
        the node is not a plain value (arithmetic is left to the interpreter)."""
        match node:
            case ast.Number(value=value):
                # a Decimal: named once in the namespace, not built again per event
                return self.constant(value), []
            case ast.String(value=value):
                return repr(value), []
            case ast.Boolean(value=value):
                return repr(value), []
            case ast.Attribute(name=name):
                local = self.local(name)
                return local, [local]
        return None

    def _present(self, locals_: list[str]) -> str:
        return " and ".join(f"{name} is not MISSING" for name in dict.fromkeys(locals_))

    def _delegate(self, node: ast.Expr, want: bool) -> str:
        return f"(truth({self.constant(node)}, attrs) is {want!r})"

    def holds(self, node: ast.Expr) -> str:
        return self._write(node, True)

    def _write(self, node: ast.Expr, want: bool) -> str:
        match node:
            case ast.Not(operand=operand):
                return self._write(operand, not want)
            case ast.Binary(op="and" | "or", left=left, right=right):
                # true-and needs both true; false-and needs either false (or: the dual)
                both = (node.op == "and") == want
                joiner = " and " if both else " or "
                return f"({self._write(left, want)}{joiner}{self._write(right, want)})"
            case ast.Binary(op="==" | "!=" | "<" | "<=" | ">" | ">=", left=left, right=right):
                a, b = self._atom(left), self._atom(right)
                if a is None or b is None:
                    return self._delegate(node, want)
                test = f"({a[0]} {node.op} {b[0]})"
                test = test if want else f"not {test}"
                needed = a[1] + b[1]
                return f"({self._present(needed)} and {test})" if needed else f"({test})"
            case ast.Membership(operand=operand, items=items, negated=negated):
                subject = self._atom(operand)
                values = [self._atom(item) for item in items]
                if subject is None or any(v is None for v in values):
                    return self._delegate(node, want)
                needed = subject[1] + [n for v in values if v for n in v[1]]
                listed = ", ".join(v[0] for v in values if v) + ("," if len(values) == 1 else "")
                found = f"({subject[0]} in ({listed}))"
                test = found if want != negated else f"not {found}"
                return f"({self._present(needed)} and {test})" if needed else f"({test})"
            case ast.Boolean(value=value):
                return repr(value == want)
            case ast.Attribute(name=name):
                local = self.local(name)
                test = f"bool({local})" if want else f"not {local}"
                return f"({local} is not MISSING and {test})"
        return self._delegate(node, want)


# ---- the generated source -----------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def indent(self) -> None:
        self.depth += 1

    def dedent(self) -> None:
        self.depth -= 1

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class CompiledProgram:
    """A Program's generated source and its handlers, one per event type."""

    source: str
    handlers: dict[str, Callable[[CompiledSession, Event], list[Record]]]
    plan: tuple[PlanStep, ...]  # what is inline and what calls the interpreter, rule by rule


@dataclass(frozen=True)
class PlanStep:
    """One line of `explain_plan`: a message (its English, the gettext msgid) with its
    values, and why the step is the interpreter's or paid through its ledger (messages
    too, in `{why}`): translated when shown, not when compiled (a program is compiled
    once, shown in any language)."""

    text: str
    values: tuple[tuple[str, str], ...] = ()
    why: tuple[str, ...] = ()

    def render(self) -> str:
        values = dict(self.values)
        if self.why:
            values["why"] = _("; ").join(_(reason) for reason in self.why)
        return _(self.text).format(**values)


def _stepped_award(rule: RuleSpec) -> tuple[str, ...]:
    """Why a rule's award is left to the interpreter's step (rules._award): messages."""
    why: list[str] = []
    amount = rule.amount
    if amount is None:
        why.append(N_("it pays no amount of its own"))
    elif uses_random(amount):
        why.append(N_("a random amount"))
    elif attributes_read(amount):
        why.append(N_("the amount is computed for each event"))
    elif constant_amount(amount, rule.rounding) is None:
        try:  # a constant expression: `-5`, `2 * 5`
            value = evaluate(amount, {})
            points = to_points(value, rule.rounding) if isinstance(value, Decimal) else None
        except (AmountError, TypeError, ArithmeticError):
            points = None
        if points is not None and points <= 0:
            why.append(N_("a penalty or an amount of 0"))
        else:
            why.append(N_("the amount is an expression, not one number"))
    if rule.boosts:
        why.append(N_("a boost may change the amount"))
    if rule.reason:
        why.append(N_("the record's reason is read from the event"))
    if any(limit.key is not None for limit in rule.limits):
        why.append(N_("a limit `for each` attribute counts each value apart"))
    return tuple(why)


def constant_points(rule: RuleSpec) -> int | None:
    """A per-event award's points when they are one positive constant, boosts aside."""
    if rule.amount is None or rule.boosts or uses_random(rule.amount) or rule.reason:
        return None  # `reason`: the record's reason is the event's, made by the step
    return constant_amount(rule.amount, rule.rounding)


def constant_amount(amount: ast.Expr | None, rounding: ast.RoundingMode) -> int | None:
    """An amount's points when it is one positive constant (a number, rounded)."""
    if not isinstance(amount, ast.Number):
        return None
    try:
        points = to_points(amount.value, rounding)
    except AmountError:
        return None
    return points if points > 0 else None


class _Generator:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.constants: dict[str, Any] = {}
        self.names: dict[str, str] = {}
        self.conditions = _Conditions(self.names, self.constants)
        self.writer = _Writer()
        self.plan: list[PlanStep] = []
        self.period_keys: dict[str | None, str] = {}  # period -> its key's local
        # rule -> the `by points` ranks and boards its awards count toward (ranks.track_points)
        self._counted_by: dict[str, list[tuple[str, str]]] = {}
        for rule in program.rules:
            for ranked in program.rules:
                rank = ranked.rank
                if rank is None or rank.measure != "points" or ranked is rule:
                    continue
                if ranked.currency == rule.currency and (
                    not rank.sources or rule.name in rank.sources
                ):
                    self._counted_by.setdefault(rule.name, []).append((ranked.name, rank.period))

    def constant(self, value: Any) -> str:
        return self.conditions.constant(value)

    def step(self, text: str, why: tuple[str, ...] = (), **values: str | int) -> None:
        """A line of `explain_plan`: `text` a message (its English, marked N_) with
        `{why}` where the reasons go when there are any."""
        self.plan.append(PlanStep(text, tuple((k, str(v)) for k, v in values.items()), why))

    def key(self, period: str | None) -> str:
        """The local holding the current day's key of `period` (s._keys), read once per
        event after the day is known."""
        if period not in self.period_keys:
            self.period_keys[period] = f"key{len(self.period_keys)}"
        return self.period_keys[period]

    def inline_payment(self, rule: RuleSpec) -> bool:
        return not self.paid_through(rule)

    def paid_through(self, rule: RuleSpec) -> tuple[str, ...]:
        """Why a rule's award is paid through the interpreter's budgets and ledger, not
        inline (messages for `explain_plan`): empty when it is paid inline."""
        program = self.program
        levels = program.levels is not None and program.levels.currency == rule.currency
        # Budgets, levels and expiry see the award in the interpreter's _pay and ledger;
        # with reversals, a debt may have to be repaid before a lot is made; pending
        # points are held by the ledger before they make a lot.
        why = [
            (bool(rule.budgets), N_("a budget must see the award")),
            (levels, N_("levels must see the award")),
            (
                rule.currency in program.expiry,
                N_("the points expire, so the ledger keeps them as a lot"),
            ),
            (bool(program.reversals), N_("a reversal may first repay a debt")),
            (rule.pending is not None, N_("the points are held before they are paid")),
            # streaks of points earned see it (_pay)
            (rule.currency in program.earning, N_("a streak of points earned must see the award")),
        ]
        return tuple(text for applies, text in why if applies)

    # -- one function per event type ----------------------------------------------------

    def generate(self) -> tuple[str, dict[str, str]]:
        program = self.program
        types = set(program.rules_by_event)
        types |= {e for spec in program.redeems for e in spec.events}
        types |= {e for spec in program.grants for e in spec.events}
        types |= {r.inviter[0] for r in program.rules if r.inviter is not None}
        types |= {e for spec in program.reversals for e in spec.events}
        types |= {e for spec in program.transfers for e in spec.events}
        types |= {e for spec in program.catalogues for e in spec.events}
        if program.known_events is not None:
            types &= program.known_events  # the rest are refused by the interpreter's path
        functions: dict[str, str] = {}
        for index, event_type in enumerate(sorted(types)):
            name = f"on_{index}"
            functions[event_type] = name
            self.handler(name, event_type)
        return self.writer.source(), functions

    def handler(self, name: str, event_type: str) -> None:
        program, w = self.program, self.writer
        self.names.clear()
        self.period_keys.clear()
        body = _Writer()
        body.depth = 1
        outer, self.writer = self.writer, body
        self.rules(event_type)
        self.writer = outer
        w.line(f"def {name}(s, event):")
        w.indent()
        w.line(f"# events of type {event_type!r}")
        w.line("state = s.state")
        w.line("known = state.seen.get(event.id)")
        w.line("if known is not None:")
        w.line("    return s._repeated(event, known)")
        typed = program.attribute_types.get(event_type, {})
        # the typed attributes (intake.read_attributes), when anything reads them: the
        # rules' steps, conditions, teams and levels; always when they are to be checked
        if (
            typed
            or self.names
            or any("attrs" in line for line in body.lines)
            or program.clock
            or program.member_zone is not None
            or program.teams
            or program.levels is not None
            or program.leagues
            or program.started_by
            or program.date_columns
            or program.reversals
            or any(r.inviter is not None and r.inviter[0] == event_type for r in program.rules)
        ):
            w.line(f"attrs = {{'member': event.member, 'type': {event_type!r}}}")
        if typed:
            w.line("raw = event.attributes")
        for attribute, kind in typed.items():
            w.line(f"v = raw.get({attribute!r}, MISSING)")
            w.line("if v is not MISSING:")
            if kind == "number":
                # a whole number as intake.coerce reads it (a bool is an int: not here)
                w.line("    if v.__class__ is int and -NUMBER_LIMIT <= v <= NUMBER_LIMIT:")
                w.line(f"        attrs[{attribute!r}] = Decimal(v)")
                w.line("    else:")
                w.indent()
            w.line("    try:")
            w.line(f"        attrs[{attribute!r}] = coerce(v, {kind!r})")
            w.line("    except ValueError as err:")
            w.line(f"        return [s._mistyped(event, {attribute!r}, {kind!r}, err)]")
            if kind == "number":
                w.dedent()
        if program.clock:
            # `weekday` and `hour` as the interpreter's read_attributes computes them
            w.line(f"attrs.update(s.program.calendar.clock(event.at, {program.clock!r}))")
        if program.member_zone is not None:
            # `timezone from tz`: `hour` and `weekday` in the member's zone (intake)
            w.line("clock = member_clock(s.program, event, s._reference._zones)")
            w.line("if isinstance(clock, str):")
            w.line("    return [bad_event(event, clock, s.program.calendar)]")
            w.line("attrs.update(clock)")
        w.line("at = event.at")
        w.line("start = s._day_start")
        w.line("if start is not None and start <= at < s._day_end:")
        w.line("    day = s._day")
        w.line("else:")
        w.line("    day = s._enter_day(at)")
        # state.remember, inline: the open day's list of ids, unless it was just made
        # (the fingerprint and where the line was: state.seen_as)
        w.line("line = event.line")
        w.line(
            "seen = event.fingerprint if line is None else "
            "f'{event.fingerprint} {line} {event.source or \"<input>\"}'"
        )
        w.line("ids = state.seen_on.get(s._day_text)")
        w.line("if ids is None:")
        w.line("    remember(state, event.id, seen, day)")
        w.line("else:")
        w.line("    state.seen[event.id] = seen")
        w.line("    ids.append(event.id)")
        w.line("out = []")
        # Every deadline (a period's end, an expiry, a flag) is a day boundary, so once
        # time has been advanced into a day, nothing else can fall due before its end.
        w.line("if day != s._advanced:")
        w.line("    out.extend(s._advance(at))")
        w.line("day_open = state.open_day")
        w.line("if day_open is not None and day < day_open:")
        w.line("    out.append(s._late(event, day))")
        w.line("    return out")
        if program.calendar.season is not None:
            first, last = program.calendar.season
            w.line(f"if not ({self.constant(first)} <= day <= {self.constant(last)}):")
            w.line("    out.append(s._outside_season(event))")
            w.line("    return out")
        w.line("if day != day_open:")
        w.line("    open_day(state, day)")
        # Time has been advanced into the open day: until the day changes, nothing can
        # fall due (only once the event opens its day: an event outside the season or
        # late advances time without opening one, and a day opened later may be earlier).
        w.line("s._advanced = day")
        if program.levels is not None and program.levels.days is not None:
            w.line("if state.levels_closed is None:")
            w.line("    state.levels_closed = (day - ONE_DAY).isoformat()")
        w.line("clock = state.clock")
        w.line("if clock is None or at > clock:")
        w.line("    state.clock = at")
        if self.period_keys:
            w.line("keys = s._keys")
        for period, local in self.period_keys.items():
            w.line(f"{local} = keys[{period!r}]")
        if program.teams:
            w.line("attrs = s._place_in_teams(event, attrs)")
        w.line("members = state.members")
        w.line("member = members.get(event.member)")
        w.line("if member is None:")
        w.line("    member = members[event.member] = MemberState()")
        if program.levels is not None:
            w.line("level = member.level or LEVEL_AT_ZERO")
            w.line("if level is not None:")
            w.line("    attrs['level'] = level")
            self.constants["LEVEL_AT_ZERO"] = program.levels.level_for(0)
        for league in program.leagues:  # the member's tier (leagues.tier_of)
            w.line(
                f"attrs[{league.name!r}] = state.leagues.get({league.name!r}, {{}})"
                f".get(event.member, {league.tiers[0]!r})"
            )
        if any(r.inviter is not None and r.inviter[0] == event_type for r in program.rules):
            w.line("s._note_invites(event, attrs, day)")
        if program.started_by or program.date_columns:
            w.line("note_starts(s.program, state, member, event, day)")
        for attribute, local in self.names.items():
            w.line(f"{local} = attrs.get({attribute!r}, MISSING)")
        reversing = [spec for spec in program.reversals if event_type in spec.events]
        if reversing:
            # A reversing event reverses first, then meets the rules (engine._reversible).
            self.step(N_("events `{name}`: reversal (the interpreter's step)"), name=event_type)
            w.line("out.extend(s._reverse(event, attrs, day))")
        elif program.reversals:
            # What the event paid and counted is kept, to be reversed later.
            w.line("was = s._before(member)")
            w.line("mark = len(out)")
        w.lines.extend(body.lines)
        if program.reversals and not reversing:
            w.line("s._note_paid(event, member, was, out[mark:], day)")
        w.line("return out")
        w.dedent()
        w.line("")

    def rules(self, event_type: str) -> None:
        """Stage 2 (per-member rules), then ranks, flags and referrals, then spending."""
        program, w = self.program, self.writer
        rules = program.rules_by_event.get(event_type, ())
        for rule in rules:
            if (
                rule.rank is not None
                or rule.inactive is not None
                or rule.inviter is not None
                or rule.goal is not None
            ):
                continue
            node = self.constant(rule)
            w.line(f"# rule {rule.name!r}")
            w.line(f"if {self.test(rule)}:")
            w.indent()
            if rule.since is not None:
                self.step(
                    N_("rule `{name}`: a window from the member's start (the interpreter's step)"),
                    name=rule.name,
                )
                w.line(
                    f"opened = start_window_open(s.program, {node}, member, event, day, "
                    "s._stamp(at), state.dates)"
                )
                w.line("if opened is not True and opened is not False:")
                w.line("    out.append(opened)")
                w.line("if opened is True:")
                w.indent()
            if rule.periods_from is not None:
                self.step(
                    N_("rule `{name}`: periods from the member's start (the interpreter's step)"),
                    name=rule.name,
                )
                w.line(
                    f"s._take(out, own_periods(s.program, member, event, attrs, day, {node}, "
                    "s._stamp(at), state.members, state.invites, state.dates))"
                )
            elif rule.streak is not None and rule.streak.need is not None:
                self.step(
                    N_(
                        "rule `{name}`: streak of periods reaching a threshold "
                        "(the interpreter's step)"
                    ),
                    name=rule.name,
                )
                w.line(
                    f"s._take(out, reaching(s.program, member, event, attrs, day, {node}, "
                    f"{node}.streak, s._stamp(at)))"
                )
            elif rule.streak is not None:
                self.step(
                    N_("rule `{name}`: streak (the interpreter's step, once per period)"),
                    name=rule.name,
                )
                # Only the first matching event of a period moves a streak (rules._streak).
                w.line(f"slot = member.counters.get({'streak:' + rule.name!r})")
                index = f"s._streaks[{rule.streak.period!r}]"
                w.line(f"if slot is None or slot[0] != {index}:")
                w.indent()
                # rules._streak, its generator and _take's loop unrolled: the step, and
                # the payments (the interpreter's) only when the length reached pays
                w.line(
                    f"moved = streak_moves(member, event, {index}, {node}, {node}.streak, "
                    "s._stamp(at))"
                )
                w.line("if moved is not None:")
                w.line("    out.append(moved[0])  # a streak record: no rank counts it")
                pays = f"moved[1] in {self.constant(frozenset(t for t, _ in rule.streak.tiers))}"
                if rule.streak.every is not None:
                    pays += f" or moved[1] % {rule.streak.every[0]!r} == 0"
                w.line(f"    if {pays}:")
                w.line(
                    f"        s._take(out, streak_payments(s.program, member, event, attrs, "
                    f"day, {node}, {node}.streak, s._stamp(at), moved[1], moved[2]))"
                )
                w.dedent()
            elif rule.milestone is not None:
                self.step(N_("rule `{name}`: milestone (the interpreter's step)"), name=rule.name)
                w.line(
                    f"s._take(out, milestone(s.program, member, event, attrs, day, {node}, "
                    f"{node}.milestone, s._stamp(at), s.state.invites))"
                )
            elif rule.first is not None:
                self.step(
                    N_("rule `{name}`: the first members win (the interpreter's step)"),
                    name=rule.name,
                )
                w.line(
                    f"s._take(out, first_winners(s.program, member, event, attrs, day, {node}, "
                    "s._stamp(at), state.invites))"
                )
            elif rule.window is not None:
                self.step(
                    N_("rule `{name}`: a sliding window (the interpreter's step)"), name=rule.name
                )
                w.line(
                    f"s._take(out, window(s.program, member, event, attrs, day, {node}, "
                    "s._stamp(at)))"
                )
            elif rule.every_time:
                self.step(
                    N_("rule `{name}`: a perk every time (the interpreter's step)"), name=rule.name
                )
                w.line(
                    f"s._take(out, each_time(s.program, member, event, attrs, day, {node}, "
                    "s._stamp(at)))"
                )
            else:
                self.award(rule, node)
            if rule.since is not None:
                w.dedent()
            w.dedent()
            self.unread(rule, node)
        for rule in rules:
            if (
                rule.rank is None
                and rule.inactive is None
                and rule.inviter is None
                and rule.goal is None
            ):
                continue
            node = self.constant(rule)
            w.line(f"if {self.test(rule)}:")
            w.indent()
            if rule.goal is not None:
                self.step(N_("rule `{name}`: team goal (the interpreter's step)"), name=rule.name)
                w.line(f"s._take(out, track_goal(state, s.program, {node}, event, attrs, day))")
            elif rule.rank is not None and rule.rank.pay is not None:
                self.step(
                    N_("rule `{name}`: measure to pay (the interpreter's step)"), name=rule.name
                )
                w.line(
                    f"out.extend(track_pay(state, s.program, {node}, event, attrs, day, "
                    "s._stamp(at)))"
                )
            elif rule.rank is not None:
                if rule.rank.measure == "earliest":
                    self.step(N_("rule `{name}`: rank table by earliest, inline"), name=rule.name)
                    # The first matching event of the period decides (ranks.track_rank).
                    self.table("state.ranks", rule.name, rule.rank.period)
                    w.line("if event.member not in table:")
                    w.line("    table[event.member] = ['0', s._utc_text(at), event.id]")
                else:
                    self.step(
                        N_("rule `{name}`: rank table (the interpreter's step: {why})"),
                        (N_("only a rank by earliest is written inline"),),
                        name=rule.name,
                    )
                    w.line(f"track_rank(state, s.program, {node}, event, attrs, day)")
            elif rule.inactive is not None:
                self.step(N_("rule `{name}`: inactivity (the interpreter's step)"), name=rule.name)
                w.line(f"s._note_activity({node}, event.member, day)")
            else:
                self.step(N_("rule `{name}`: referral (the interpreter's step)"), name=rule.name)
                w.line(f"out.extend(s._refer({node}, event, attrs, day))")
            w.dedent()
            self.unread(rule, node)
        for spend in program.redeems:
            if event_type in spend.events:
                self.step(N_("redeem `{name}`: the interpreter's step"), name=spend.name)
                w.line(
                    f"out.extend(redeem(s.program, s.ledger, member, {self.constant(spend)}, "
                    "event, attrs, day))"
                )
        spends = [spend for spend in program.redeems if event_type in spend.events]
        if spends:  # a redemption no block lets through is refused, not silent
            w.line(f"refused = unmatched(s.program, {self.constant(spends)}, event, attrs)")
            w.line("if refused is not None:")
            w.line("    out.append(refused)")
        for catalogue in program.catalogues:
            if event_type in catalogue.events:
                self.step(N_("catalogue `{name}`: the interpreter's step"), name=catalogue.name)
                w.line(
                    f"out.extend(shop(s.program, s.ledger, member, {self.constant(catalogue)}, "
                    "event, attrs, day))"
                )
        for grants in program.grants:
            if event_type in grants.events:
                self.step(N_("grants `{name}`: the interpreter's step"), name=grants.name)
                w.line(
                    f"s._take(out, [grant(s.program, state, {self.constant(grants)}, event, "
                    "attrs, day)])"
                )
        for spec in program.transfers:
            if event_type in spec.events:
                self.step(N_("transfer `{name}`: the interpreter's step"), name=spec.name)
                w.line(
                    f"out.extend(transfer(s.program, s.ledger, {self.constant(spec)}, event, "
                    "attrs, day))"
                )

    def test(self, rule: RuleSpec) -> str:
        return "True" if rule.condition is None else self.conditions.holds(rule.condition)

    def unread(self, rule: RuleSpec, node: str) -> None:
        """After `if holds:`, the unknown case (neither holds nor fails): an attribute
        the `where` reads is missing, which rules.unread reports."""
        if rule.condition is None:
            return
        fails = self.conditions._write(rule.condition, False)
        self.writer.line(f"elif not {fails}:")
        self.writer.line(f"    out.extend(unread(s.program, {node}, event, attrs, s._stamp(at)))")

    def award(self, rule: RuleSpec, node: str) -> None:
        """A per-event award: limits, amount, caps, then the ledger (rules._award)."""
        w = self.writer
        if rule.credit is not None:
            self.step(N_("rule `{name}`: award credited (the interpreter's step)"), name=rule.name)
            w.line(
                f"s._take(out, credited(s.program, state.members, member, event, attrs, day, "
                f"{node}, s._stamp(at)))"
            )
            return
        points = constant_points(rule)
        if points is None or any(limit.key is not None for limit in rule.limits):
            # a limit `for each` attribute counts per value: the interpreter's step does it
            self.step(
                N_("rule `{name}`: award (the interpreter's step: {why})"),
                _stepped_award(rule),
                name=rule.name,
            )
            w.line(
                f"s._take(out, award(s.program, member, event.member, event, attrs, day, "
                f"{node}, s._stamp(at)))"
            )
            return
        paid_through = self.paid_through(rule)
        inline = not paid_through
        if inline:
            self.step(N_("rule `{name}`: award {points}, inline"), name=rule.name, points=points)
        else:
            self.step(
                N_(
                    "rule `{name}`: award {points}, inline (paid through the interpreter's "
                    "budgets and ledger: {why})"
                ),
                paid_through,
                name=rule.name,
                points=points,
            )
        w.line("while True:  # once: `break` leaves the rule")
        w.indent()
        w.line("counters = member.counters")
        limit_keys = [f"limit:{rule.name}:{limit.period}" for limit in rule.limits]
        cap_keys = [f"cap:{cap.owner}:{cap.period}" for cap in rule.caps]
        # a counter read for the test is the one bumped, unless two share a key (then
        # the second bump must see the first's)
        distinct = len(set(limit_keys)) == len(limit_keys) and len(set(cap_keys)) == len(cap_keys)
        for index, (limit, key) in enumerate(zip(rule.limits, limit_keys, strict=True)):
            w.line(f"limit{index} = counters.get({key!r})")
            w.line(
                f"if limit{index} is not None and limit{index}[0] == {self.key(limit.period)} "
                f"and limit{index}[1] >= {limit.count!r}:"
            )
            w.indent()
            w.line(
                f"out.append(Record(kind='refused', at=s._stamp(at), member=event.member, "
                f"rule={rule.name!r}, currency={rule.currency!r}, events=(event.id,), "
                f"code='limit_reached', reason={limit.describe() + ' reached'!r}))"
            )
            w.line("break")
            w.dedent()
        for index, (limit, key) in enumerate(zip(rule.limits, limit_keys, strict=True)):
            self.bump(key, limit.period, "1", f"limit{index}" if distinct else None)
        w.line(f"granted = {points!r}")
        for index, (cap, key) in enumerate(zip(rule.caps, cap_keys, strict=True)):
            w.line(f"cap{index} = counters.get({key!r})")
            w.line(
                f"room = {cap.points!r} - (cap{index}[1] if cap{index} is not None "
                f"and cap{index}[0] == {self.key(cap.period)} else 0)"
            )
            w.line("room = room if room > 0 else 0")
            w.line("if room < granted:")
            w.line(f"    granted, binding = room, {index}")
        if rule.caps:
            for index, (cap, key) in enumerate(zip(rule.caps, cap_keys, strict=True)):
                self.bump(key, cap.period, "granted", f"cap{index}" if distinct else None)
            w.line(f"if granted < {points!r} and granted == 0:")
            w.indent()
            self.cap_record(rule, "refused", points)
            w.line("break")
            w.dedent()
        reason = f"rule `{rule.name}`"
        if inline:
            currency = rule.currency
            counted = self._counted_by.get(rule.name, [])
            if counted:  # ranks.track_points, inline: the rank tables see points before budgets
                w.line("stamp = s._utc_text(at)")
            for ranked, period in counted:
                self.table("state.rank_points", ranked, period)
                w.line("before = table.get(event.member)")
                w.line(
                    "table[event.member] = "
                    "[granted if before is None else before[0] + granted, stamp]"
                )
            w.line("balances = member.balances")
            w.line(f"balance = balances.get({currency!r}, 0) + granted")
            w.line(f"balances[{currency!r}] = balance")
            # as member.lots.setdefault(currency, []), without a new list per award
            w.line(f"lots = member.lots.get({currency!r})")
            w.line("if lots is None:")
            w.line(f"    lots = member.lots[{currency!r}] = []")
            w.line("if lots and lots[-1][1] is None:")
            w.line("    lots[-1][0] += granted  # points that never expire are one lot")
            w.line("else:")
            w.line("    lots.append([granted, None, s._utc_text(at)])")
            w.line("earned = member.earned")
            w.line(f"earned[{currency!r}] = earned.get({currency!r}, 0) + granted")
            w.line(
                f"out.append(Record(kind='award', at=s._stamp(at), member=event.member, "
                f"rule={rule.name!r}, points=granted, currency={currency!r}, balance=balance, "
                f"events=(event.id,), code='rule', reason={reason!r}))"
            )
        else:
            w.line(
                f"out.extend(s._pay(Proposal.of({node}, points=granted, member=event.member, "
                f"at=at, day=day, events=(event.id,), reason={reason!r})))"
            )
        if rule.caps:
            w.line(f"if granted < {points!r}:")
            w.indent()
            self.cap_record(rule, "cut", points)
            w.dedent()
        w.line("break")
        w.dedent()

    def table(self, tables: str, rule: str, period: str | None) -> None:
        """`table = tables.setdefault(rule, {}).setdefault(period key, {})`, without two
        new dicts per event (setdefault's default is made whether it is needed or not)."""
        w = self.writer
        w.line(f"tables = {tables}.get({rule!r})")
        w.line("if tables is None:")
        w.line(f"    tables = {tables}[{rule!r}] = {{}}")
        w.line(f"table = tables.get({self.key(period)})")
        w.line("if table is None:")
        w.line(f"    table = tables[{self.key(period)}] = {{}}")

    def cap_record(self, rule: RuleSpec, kind: str, points: int) -> None:
        """The refusal or cut of a capped award, naming the cap that bound (rules._capped)."""
        w = self.writer
        why = self.constant(tuple(f"{cap.describe()} reached" for cap in rule.caps))
        if kind == "refused":
            reason, shown = f"{why}[binding]", repr(points)
        else:
            reason = f"{why}[binding] + f': {{granted}}' + {f' of {points} paid'!r}"
            shown = f"{points!r} - granted"
        w.line(
            f"out.append(Record(kind={kind!r}, at=s._stamp(at), member=event.member, "
            f"rule={rule.name!r}, points={shown}, currency={rule.currency!r}, "
            f"events=(event.id,), code='cap_reached', reason={reason}))"
        )

    def bump(self, key: str, period: str | None, by: str, slot: str | None) -> None:
        """One more use of a counter in the current period (state.bump); `slot`: the local
        holding `counters.get(key)` already, if one does."""
        w = self.writer
        if slot is None:
            slot = "slot"
            w.line(f"slot = counters.get({key!r})")
        period_key = self.key(period)
        w.line(f"if {slot} is None:")
        w.line(f"    counters[{key!r}] = [{period_key}, {by}]")
        w.line(f"elif {slot}[0] != {period_key}:")
        # a new period: the same [period key, used] list, made over (no new object for
        # the garbage collector to keep and scan, one per member and day)
        w.line(f"    if len({slot}) == 2:")
        w.line(f"        {slot}[0] = {period_key}")
        w.line(f"        {slot}[1] = {by}")
        w.line("    else:")
        w.line(f"        counters[{key!r}] = [{period_key}, {by}]")
        w.line("else:")
        w.line(f"    {slot}[1] += {by}")


def compile_program(program: Program) -> CompiledProgram:
    """The program's handlers, generated and exec'd once (kept on the program)."""
    known: CompiledProgram | None = program.__dict__.get("_compiled")
    if known is not None:
        return known
    generator = _Generator(program)
    source, functions = generator.generate()
    namespace: dict[str, Any] = {
        "MISSING": MISSING,
        "ONE_DAY": timedelta(days=1),
        "Record": Record,
        "Proposal": Proposal,
        "MemberState": MemberState,
        "coerce": coerce,
        "remember": remember,
        "open_day": open_day,
        "truth": truth,
        "unread": unread,
        "track_rank": track_rank,
        "track_pay": track_pay,
        "track_goal": track_goal,
        "note_starts": note_starts,
        "start_window_open": start_window_open,
        "own_periods": own_periods,
        "streak_moves": streak_moves,
        "streak_payments": streak_payments,
        "milestone": _milestone,
        "award": _award,
        "credited": credited,
        "each_time": each_time,
        "member_clock": member_clock,
        "bad_event": bad_event,
        "window": window,
        "first_winners": first_winners,
        "reaching": reaching,
        "redeem": redeem,
        "grant": grant,
        "transfer": transfer,
        "shop": shop,
        "unmatched": unmatched,
        "Decimal": Decimal,
        "NUMBER_LIMIT": int(MAX_ATTRIBUTE_NUMBER),
        **generator.constants,
    }
    code = compile(source, f"<incentive scheme {program.name!r}>", "exec")
    exec(code, namespace)  # the source is ours: scheme text only as repr() literals
    compiled = CompiledProgram(
        source,
        {event_type: namespace[name] for event_type, name in functions.items()},
        tuple(generator.plan),
    )
    object.__setattr__(program, "_compiled", compiled)  # compile once, run many
    return compiled


def explain_plan(program: Program) -> str:
    """What the compiled evaluator writes inline and what calls the interpreter (and
    why), in the operator's language."""
    compiled = compile_program(program)
    lines = [_("scheme `{name}`: compiled evaluator").format(name=program.name)]
    lines += [f"  {step.render()}" for step in dict.fromkeys(compiled.plan)]
    return "\n".join(lines)


# ---- the session --------------------------------------------------------------------------


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))  # a stamp's seconds
_ONE_MINUTE = timedelta(minutes=1)
_NEVER = datetime.max.replace(tzinfo=UTC)  # no minute stamped yet: [_NEVER, _NEVER) is empty


def _periods() -> tuple[ast.PeriodName | None, ...]:
    return ("day", "week", "month", "quarter", "year", "season", None)


class CompiledSession:
    """A streaming session that runs the compiled handlers; the same interface and
    the same records as the interpreter's `Session`, whose machinery it shares for
    time (closing periods, expiry, flags) and for what is not written inline."""

    def __init__(
        self, program: Program, state: EngineState | None = None, roster: Roster | None = None
    ) -> None:
        self._reference = Session(program, state, roster)
        self.program = program
        self.state = self._reference.state
        self.ledger = self._reference.ledger
        self.compiled = compile_program(program)
        self._handlers = self.compiled.handlers
        self._day: date | None = None
        self._day_start: datetime | None = None
        self._day_end: datetime | None = None
        self._keys: dict[ast.PeriodName | None, str] = {}
        self._advanced: date | None = None  # the latest day time was advanced into
        self._day_text = ""
        self._streaks: dict[str, int] = {}  # streak period -> the current day's index
        self._minutes: dict[datetime, tuple[str, str]] = {}  # UTC minute -> stamp's parts
        self._stamped: datetime | None = None  # the instant last stamped, and its text
        self._stamp_text = ""
        # the UTC minute last stamped: [start, end) and its stamp's text around the seconds
        self._minute_start = self._minute_end = _NEVER
        self._minute_parts = ("", "")
        self._calendar = program.calendar
        # the UTC minute whose ISO text (a lot's or a rank entry's time) was last made
        self._utc_start = self._utc_end = _NEVER
        self._utc_head = ""
        self._checkpoint_at = 0  # the journal's length at which to look at checkpointing

    @property
    def fed(self) -> int:
        return self._reference.fed

    @fed.setter
    def fed(self, value: int) -> None:  # a resumed session carries on numbering its input
        self._reference.fed = value

    # -- what the generated code calls ---------------------------------------------------

    def _enter_day(self, at: datetime) -> date:
        calendar = self.program.calendar
        day = calendar.day_of(at)
        self._day, self._day_start, self._day_end = (
            day,
            calendar.day_start(day),
            calendar.day_end(day),
        )
        self._keys = {period: calendar.period_key(period, day) for period in _periods()}
        self._day_text = day.isoformat()
        self._streaks = {
            p: period_index(p, day, calendar) for p in ("day", "week", "month", "quarter", "year")
        }
        return day

    def _stamp(self, at: datetime) -> str:
        """An instant as the records' local ISO time (state.local_time), by the minute:
        since 1973 every zone's offset is whole minutes and changes only at whole
        minutes, so one minute's stamps share everything but their seconds."""
        if at is self._stamped:  # an event's records share its instant
            return self._stamp_text
        if self._minute_start <= at < self._minute_end and not at.microsecond:
            # the minute last stamped (events come in time order: about all of them)
            parts = self._minute_parts
            text = parts[0] + _TWO_DIGITS[at.second] + parts[1]
        else:
            if at.microsecond or at.year < 1973:  # Monrovia's offset had seconds until 1972
                return local_time(self._calendar, at)
            second = at.second
            minute = at - SECONDS[second]  # datetime.replace costs ten times this
            parts = self._minutes.get(minute)  # type: ignore[assignment]
            if parts is None:
                if len(self._minutes) > 10_000:
                    self._minutes.clear()
                text = local_time(self._calendar, minute)
                parts = self._minutes[minute] = (text[:17], text[19:])
            self._minute_start, self._minute_end = minute, minute + _ONE_MINUTE
            self._minute_parts = parts
            text = parts[0] + _TWO_DIGITS[second] + parts[1]
        self._stamped = at
        self._stamp_text = text
        return text

    def _utc_text(self, at: datetime) -> str:
        """`at.isoformat()` (a lot's earned time, a rank table's time), by the minute as
        `_stamp` is: an aware datetime's isoformat asks its zone for the offset."""
        if self._utc_start <= at < self._utc_end and at.tzinfo is UTC and not at.microsecond:
            return self._utc_head + _TWO_DIGITS[at.second] + "+00:00"
        text = at.isoformat()
        if at.tzinfo is UTC and not at.microsecond:
            self._utc_start = start = at - SECONDS[at.second]
            self._utc_end = start + _ONE_MINUTE
            self._utc_head = text[:17]
        return text

    def _take(self, out: list[Record], outcomes: Iterator[Proposal | Record] | list[Any]) -> None:
        for outcome in outcomes:
            if self.program.reaching:  # a streak or milestone tier, as engine._stages
                track_reached(self.state, self.program, outcome)
            if isinstance(outcome, Proposal):
                out.extend(self._reference._pay(outcome))
            else:
                out.append(outcome)

    def _pay(self, proposal: Proposal) -> Iterator[Record]:
        return self._reference._pay(proposal)

    def _advance(self, instant: datetime | None) -> Iterator[Record]:
        return self._reference._advance(instant)

    def _repeated(self, event: Event, known: str) -> list[Record]:
        return list(self._reference._evaluate(event))  # a duplicate or a conflict

    def _mistyped(self, event: Event, name: str, kind: ValueType, err: ValueError) -> Record:
        return bad_event(event, mistyped(name, kind, err), self.program.calendar)

    def _late(self, event: Event, day: date) -> Record:
        return Record(
            kind="late",
            at=self._stamp(event.at),
            member=event.member,
            events=(event.id,),
            code="late",
            reason=f"day {day} had closed when this event arrived",
        )

    def _outside_season(self, event: Event) -> Record:
        assert self.program.calendar.season is not None
        first, last = self.program.calendar.season
        return Record(
            kind="outside_season",
            at=self._stamp(event.at),
            member=event.member,
            events=(event.id,),
            code="outside_season",
            reason=f"the season runs from {first} to {last}",
        )

    def _place_in_teams(self, event: Event, attrs: dict[str, Any]) -> dict[str, Any]:
        return self._reference._place_in_teams(event, attrs)

    def _reverse(self, event: Event, attrs: dict[str, Any], day: date) -> Iterator[Record]:
        reference = self._reference
        for spec in reference._reversing.get(event.type, ()):
            yield from reverse(self.program, self.ledger, self.state, spec, event, attrs, day)

    def _before(self, member: MemberState) -> Before:
        return before(self.state, member, self._reference._redeem_names)

    def _note_paid(
        self, event: Event, member: MemberState, was: Before, records: list[Record], day: date
    ) -> None:
        names = self._reference._redeem_names
        note_paid(self.program, self.state, event, member, was, records, day, names)

    def _note_invites(self, event: Event, attrs: Mapping[str, Any], day: date) -> None:
        self._reference._note_invites(event, attrs, day)

    def _note_activity(self, rule: RuleSpec, member: str, day: date) -> None:
        self._reference._note_activity(rule, member, day)

    def _refer(
        self, rule: RuleSpec, event: Event, attrs: Mapping[str, Any], day: date
    ) -> Iterator[Record]:
        return self._reference._refer(rule, event, attrs, day)

    # -- the Session interface -----------------------------------------------------------

    def feed(self, item: Event | BadLine | Mapping[str, Any]) -> list[Record]:
        """Evaluate one event (an Event or a dict as in a JSON line); never raises (but
        SessionInUse when another thread is using the session)."""
        reference = self._reference
        busy = reference.busy  # one lock for the state both sessions share
        if not busy.acquire(False):  # not blocking (by position: a keyword costs a third)
            raise SessionInUse
        try:
            reference.fed = fed = reference.fed + 1
            if isinstance(item, dict):  # the usual input, read as events_from_dicts reads it
                calendar = self._calendar
                read = _plain_event(item, calendar, "<input>", fed)
                item = (
                    read if read is not None else make_event(dict(item), calendar, "<input>", fed)
                )
            elif not isinstance(item, Event | BadLine):
                item = next(events_from_dicts([item], self._calendar, fed))
            if isinstance(item, BadLine):
                return [bad_line_record(item)]
            event: Event = item
            # reference._checkpoint(), its test inline: the journal is not looked at again
            # before it is as long as the state was large at the last look (the state only
            # grows between two checkpoints, so the reference's own test is met no earlier)
            if reference._saved is None or len(reference._journal) >= self._checkpoint_at:
                reference._checkpoint()
                self._checkpoint_at = max(
                    CHECKPOINT_EVERY, CHECKPOINT_PER_MEMBER * len(reference.state.members)
                )
            # Without a checkpoint (a store's session, which raises), a failure forgets the
            # id unless it was known before: asked only then.
            known = reference._saved is None and event.id in reference.state.seen
            try:
                handler = self._handlers.get(event.type)
                if handler is None:
                    records = list(reference._evaluate(event))  # unknown types, types unread
                else:
                    records = handler(self, event)
            except Exception as err:  # a bug costs this one event, never the run
                if reference.raise_failures:
                    raise
                if reference._saved is not None:
                    # the event leaves nothing (reference._undo); the day is entered again
                    reference._undo()
                    self._checkpoint_at = 0
                    self._advanced = None
                    self._day_start = self._day_end = None
                elif not known:
                    forget(reference.state, event.id)
                return [failed_event(event, err, self._calendar)]
            if reference._saved is not None and not reference.raise_failures:
                reference._journal.append(event)  # reference._journal_add("feed", item)
            return records
        finally:
            busy.release()

    def advance_to(self, instant: datetime) -> list[Record]:
        records = self._reference.advance_to(instant)
        day = self.program.calendar.day_of(self._reference_instant(instant))
        if self._advanced is None or day > self._advanced:
            self._advanced = day
        return records

    def _reference_instant(self, instant: datetime) -> datetime:
        return instant if instant.tzinfo is not None else self.program.calendar.to_utc(instant)

    def close_all(self) -> list[Record]:
        self._advanced = None  # everything open has closed: look again at the next event
        return self._reference.close_all()

    def balance(self, member: str, currency: str | None = None) -> int:
        return self._reference.balance(member, currency)

    def balances(self) -> dict[str, dict[str, int]]:
        return self._reference.balances()

    def pending(self, member: str, currency: str | None = None) -> int:
        return self._reference.pending(member, currency)

    def balance_records(self) -> list[Record]:
        return self._reference.balance_records()
