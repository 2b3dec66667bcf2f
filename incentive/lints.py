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
            # bound what the capped member earns
            limit = next(
                (lim for lim in rule.limits if lim.period == cap.period and lim.key is None),
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
