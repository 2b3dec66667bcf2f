"""Checks before go-live that look across rules (semantics.md, Checks before go-live):
a rule that can never fire, two rules that pay twice for the same event, and a
cap that can never bind. They are warnings: the scheme still runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from incentive import ast
from incentive.diagnostics import Diagnostic, Severity, Span
from incentive.formatter import format_expr
from incentive.i18n import N_, _, unit
from incentive.program import RuleSpec


def lint(rules: tuple[RuleSpec, ...], file: str) -> Iterator[Diagnostic]:
    yield from _never_fires(rules, file)
    yield from _pays_twice(rules, file)
    yield from _cap_never_binds(rules, file)
    yield from _zero_divisors(rules, file)


# How a cap's owner is named in a sentence (CapSpec.owner is "rule:<name>" or "group:<name>").
_OWNER_WORDS = {"rule": N_("rule"), "group": N_("group")}


def _warning(code: str, message: str, span: Span, file: str, hint: str) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, file, (hint,))


# ---- a condition that is always false ----------------------------------------------------


def _never_fires(rules: tuple[RuleSpec, ...], file: str) -> Iterator[Diagnostic]:
    for rule in rules:
        if rule.condition is not None and _contradicts(rule.condition):
            yield _warning(
                "W0308",
                _("rule `{rule}` can never fire: `{value}` is never true").format(
                    rule=rule.name, value=format_expr(rule.condition)
                ),
                rule.condition.span,
                file,
                _("check the bounds: no event can pass all of them"),
            )


def _conjuncts(node: ast.Expr) -> Iterator[ast.Expr]:
    if isinstance(node, ast.Binary) and node.op == "and":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _contradicts(condition: ast.Expr) -> bool:
    """True for `false`, or an `and` of bounds on one attribute that no value meets
    (`words > 500 and words < 300`, `chat == "a" and chat == "b"`)."""
    low: dict[str, tuple[Decimal, bool]] = {}  # attribute -> (bound, inclusive)
    high: dict[str, tuple[Decimal, bool]] = {}
    equal: dict[str, object] = {}
    for part in _conjuncts(condition):
        if isinstance(part, ast.Boolean) and not part.value:
            return True
        if not (isinstance(part, ast.Binary) and part.op in _FLIP):
            continue
        left, right = part.left, part.right
        op: str = part.op
        if isinstance(right, ast.Attribute) and not isinstance(left, ast.Attribute):
            left, right, op = right, left, _FLIP[op]
        if not isinstance(left, ast.Attribute) or not isinstance(right, ast.Number | ast.String):
            continue
        name, value = left.name, right.value
        if op == "==":
            if name in equal and equal[name] != value:
                return True
            equal[name] = value
        elif isinstance(value, Decimal) and op in (">", ">="):
            bound = (value, op == ">=")
            if name not in low or (bound[0], not bound[1]) > (low[name][0], not low[name][1]):
                low[name] = bound
        elif isinstance(value, Decimal) and op in ("<", "<="):
            bound = (value, op == "<=")
            if name not in high or (bound[0], bound[1]) < (high[name][0], high[name][1]):
                high[name] = bound
    for name in set(low) & set(high):
        (a, a_in), (b, b_in) = low[name], high[name]
        if a > b or (a == b and not (a_in and b_in)):
            return True
    for name, fixed in equal.items():
        if isinstance(fixed, Decimal):
            value = fixed
            if name in low and (
                value < low[name][0] or (value == low[name][0] and not low[name][1])
            ):
                return True
            if name in high and (
                value > high[name][0] or (value == high[name][0] and not high[name][1])
            ):
                return True
    return False


# ---- two rules that pay for the same event ---------------------------------------------------


def _per_event(rule: RuleSpec) -> bool:
    return (
        rule.amount is not None
        and rule.rank is None
        and rule.streak is None
        and rule.milestone is None
        and rule.inviter is None
        and rule.inactive is None
        and not rule.board
    )


def _pays_twice(rules: tuple[RuleSpec, ...], file: str) -> Iterator[Diagnostic]:
    seen: dict[tuple[str, str], RuleSpec] = {}
    for rule in rules:
        if not _per_event(rule) or rule.amount is None or not _positive_constant(rule.amount):
            continue
        condition = format_expr(rule.condition) if rule.condition is not None else ""
        for event in rule.events:
            first = seen.get((event, condition))
            if first is not None and first.currency == rule.currency:
                what = f"`{event}`" + (
                    _(" where `{condition}`").format(condition=condition) if condition else ""
                )
                yield _warning(
                    "W0309",
                    _("rules `{first}` and `{rule}` both pay for every {what}").format(
                        first=first.name, rule=rule.name, what=what
                    ),
                    rule.span,
                    file,
                    _(
                        "if both are meant, make them one rule paying the sum; if not, give one "
                        "of them a condition or remove it"
                    ),
                )
            else:
                seen.setdefault((event, condition), rule)


def _positive_constant(node: ast.Expr) -> bool:
    return isinstance(node, ast.Number) and node.value > 0


# ---- a cap that can never bind ------------------------------------------------------------------


def _cap_never_binds(rules: tuple[RuleSpec, ...], file: str) -> Iterator[Diagnostic]:
    """A cap over rules that each pay a constant and are limited per the same period
    cannot bind when their limits times their amounts stay at or under it."""
    owners: dict[str, list[RuleSpec]] = {}
    for rule in rules:
        for cap in rule.caps:
            owners.setdefault(cap.owner, []).append(rule)
    reported: set[str] = set()
    for owner, members in owners.items():
        cap = next(c for c in members[0].caps if c.owner == owner)
        most = Decimal(0)
        for rule in members:
            # a limit per value, or one counted on the sender of a credited award, does not
            # bound what the capped member earns; nor does one counted in the member's own
            # weeks (`periods from`) a cap counted in the calendar's, or the other way round
            limit = next(
                (
                    lim
                    for lim in rule.limits
                    if lim.period == cap.period and lim.key is None and lim.own == cap.own
                ),
                None,
            )
            if rule.credit is not None:
                limit = None
            amount = rule.amount
            if limit is None or not _per_event(rule) or amount is None:
                break
            if not isinstance(amount, ast.Number) or rule.boosts:
                break
            most += limit.count * amount.value
        else:
            if most <= cap.points and owner not in reported:
                reported.add(owner)
                yield _warning(
                    "W0310",
                    _(
                        "cap {points} per {period} on {kind} `{name}` can never bind: its rules "
                        "pay at most {most} per {period}"
                    ).format(
                        points=cap.points,
                        period=unit(cap.period),
                        kind=_(_OWNER_WORDS[owner.partition(":")[0]]),
                        name=owner.partition(":")[2],
                        most=most,
                    ),
                    members[0].span,
                    file,
                    _("lower the cap, or remove it"),
                )


# ---- a divisor that can be zero ------------------------------------------------------------


def _zero_divisors(rules: tuple[RuleSpec, ...], file: str) -> Iterator[Diagnostic]:
    """An amount divided by something an event (or a measure) can make 0: that award is
    refused when it happens (`the amount cannot be computed: division by zero`). A
    divisor of numbers only is E0223's; a bare attribute the rule's `where` keeps away
    from 0, `max(..., 1)`, and a payment's `count` or `active` (at least 1) are safe."""
    for rule in rules:
        amounts = [rule.amount] if rule.amount is not None else []
        for tiered in (rule.streak, rule.milestone):
            if tiered is not None:
                amounts += [p.amount for _, p in tiered.tiers if p.amount is not None]
        positive: set[str] = set()
        if rule.rank is not None and rule.rank.pay is not None:
            amounts.append(rule.rank.pay.amount)
            if rule.rank.pay.word in ("count", "active"):
                positive.add(rule.rank.pay.word)  # a measure there is only with an event
        nonzero = positive | _kept_from_zero(rule.condition)
        seen: set[int] = set()
        for amount in amounts:
            for divisor in _divisors(amount):
                if id(divisor) in seen or not _attributes_in(divisor):
                    continue  # numbers only: E0223 when it is 0
                seen.add(id(divisor))
                if _never_zero(divisor, nonzero):
                    continue
                shown = format_expr(divisor)
                guarded = isinstance(divisor, ast.Attribute) and divisor.name not in positive
                hint = (
                    _("keep it away from 0: `where {shown} > 0`, or divide by `max({shown}, 1)`")
                    if guarded
                    else _("keep it away from 0: divide by `max({shown}, 1)`")
                )
                yield _warning(
                    "W0311",
                    _(
                        "rule `{rule}` divides by `{shown}`, which can be 0: "
                        "that award is then refused"
                    ).format(rule=rule.name, shown=shown),
                    divisor.span,
                    file,
                    hint.format(shown=shown),
                )


def _divisors(node: ast.Expr) -> Iterator[ast.Expr]:
    stack = [node]
    while stack:
        item = stack.pop()
        match item:
            case ast.Binary(op=op, left=left, right=right):
                if op == "/":
                    yield right
                stack += [left, right]
            case ast.Negate(operand=operand) | ast.Not(operand=operand):
                stack.append(operand)
            case ast.Call(args=args):
                stack += list(args)


def _attributes_in(node: ast.Expr) -> bool:
    match node:
        case ast.Attribute():
            return True
        case ast.Binary(left=left, right=right):
            return _attributes_in(left) or _attributes_in(right)
        case ast.Negate(operand=operand):
            return _attributes_in(operand)
        case ast.Call(args=args):
            return any(_attributes_in(a) for a in args)
    return False


def _never_zero(node: ast.Expr, nonzero: set[str]) -> bool:
    match node:
        case ast.Attribute(name=name):
            return name in nonzero
        case ast.Negate(operand=operand):
            return _never_zero(operand, nonzero)
        case ast.Call(function="max", args=args):
            return any(isinstance(a, ast.Number) and a.value > 0 for a in args)
        case ast.Call(function="min", args=args):
            return any(isinstance(a, ast.Number) and a.value < 0 for a in args)
    return False


def _kept_from_zero(condition: ast.Expr | None) -> set[str]:
    """Attributes the condition keeps away from 0 (`likes > 0`, `likes >= 1`,
    `likes != 0`, `0 < likes`), in a conjunct every passing event meets."""
    kept: set[str] = set()
    for part in _conjuncts(condition) if condition is not None else ():
        if not isinstance(part, ast.Binary) or part.op not in _FLIP:
            continue
        left, right = part.left, part.right
        op: str = part.op
        if isinstance(left, ast.Number) and isinstance(right, ast.Attribute):
            left, op, right = right, _FLIP[op], left
        if not (isinstance(left, ast.Attribute) and isinstance(right, ast.Number)):
            continue
        bound = right.value
        if (
            (op == ">" and bound >= 0)
            or (op == ">=" and bound > 0)
            or (op == "<" and bound <= 0)
            or (op == "<=" and bound < 0)
            or (op in ("!=", "==") and (bound != 0) == (op == "=="))
        ):
            kept.add(left.name)
    return kept
