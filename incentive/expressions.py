"""Evaluating conditions and amounts against one event's attributes.

Values are Decimal (numbers), str (text) and bool.

Conditions use three-valued logic, as SQL does: a comparison that reads an
attribute the event does not carry (or divides by zero) is *unknown*; `not`
of unknown is unknown; `false and unknown` is false and `true or unknown` is
true. A rule fires only when its condition is known to be true, so
`not (words > 5)` and `words <= 5` agree on an event without `words`.
An amount that reads a missing attribute cannot be computed (the award is
refused with that reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
)
from decimal import localcontext as decimal_context
from typing import Any

from incentive import ast
from incentive.formatter import format_expr

Value = Decimal | str | bool

MAX_AMOUNT = Decimal(10) ** 15
_ONE = Decimal(1)
_WIDE = Context(prec=60)  # room to round any amount below MAX_AMOUNT exactly
# The key under which an evaluation finds its random draw: a function (low, high) -> int,
# seeded by the scheme's seed, the rule and the event, so that a rerun draws the same.
RANDOM_DRAW = "\x00random"

ROUNDING = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_UP}


class MissingAttribute(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class AmountError(Exception):
    """An amount that cannot be computed for this event (division by zero)."""


def evaluate(node: ast.Expr, attrs: Mapping[str, Any]) -> Value:
    match node:
        case ast.Number(value=value):
            return value
        case ast.String(value=value):
            return value
        case ast.Boolean(value=value):
            return value
        case ast.Attribute(name=name):
            if name not in attrs:
                raise MissingAttribute(name)
            return attrs[name]  # type: ignore[no-any-return]
        case ast.Negate(operand=operand):
            return -_number(evaluate(operand, attrs))
        case ast.Binary(op=op, left=left, right=right) if op in ("+", "-", "*", "/"):
            a, b = _number(evaluate(left, attrs)), _number(evaluate(right, attrs))
            with decimal_context() as ctx:
                ctx.prec = 40
                try:
                    if op == "+":
                        return a + b
                    if op == "-":
                        return a - b
                    if op == "*":
                        return a * b
                    return a / b
                except (DivisionByZero, InvalidOperation):
                    # name the divisor: `likes - 1` is 0 for this event
                    raise AmountError(f"division by zero (`{format_expr(right)}` is 0)") from None
        case ast.Not() | ast.Binary() | ast.Membership():
            known = truth(node, attrs)
            if known is None:
                raise MissingAttribute("?")
            return known
        case ast.Call(function="random", args=args):
            low, high = (_number(evaluate(arg, attrs)) for arg in args)
            draw = attrs.get(RANDOM_DRAW)
            if draw is None or low > high or low != low.to_integral_value():
                raise AmountError(f"random({low}, {high}) needs whole numbers, low to high")
            return Decimal(draw(int(low), int(high.to_integral_value(ROUND_FLOOR))))
        case ast.Call(function=function, args=args):
            values = [_number(evaluate(arg, attrs)) for arg in args]
            return min(values) if function == "min" else max(values)
    raise AssertionError(f"unknown expression {node!r}")  # pragma: no cover


def truth(node: ast.Expr, attrs: Mapping[str, Any]) -> bool | None:
    """A condition's value: True, False, or None when it is unknown."""
    match node:
        case ast.Not(operand=operand):
            inner = truth(operand, attrs)
            return None if inner is None else not inner
        case ast.Binary(op="and", left=left, right=right):
            a = truth(left, attrs)
            if a is False:
                return False
            b = truth(right, attrs)
            if b is False:
                return False
            return None if a is None or b is None else True
        case ast.Binary(op="or", left=left, right=right):
            a = truth(left, attrs)
            if a is True:
                return True
            b = truth(right, attrs)
            if b is True:
                return True
            return None if a is None or b is None else False
        case ast.Binary(op=op, left=left, right=right) if op not in ("+", "-", "*", "/"):
            try:
                return _compare(op, evaluate(left, attrs), evaluate(right, attrs))
            except (MissingAttribute, AmountError):
                return None
        case ast.Membership(operand=operand, items=items, negated=negated):
            try:
                subject = evaluate(operand, attrs)
                # Every item is read, as docs/reference.md says: an item the event does
                # not carry makes the test unknown wherever it stands in the list.
                listed = [evaluate(item, attrs) for item in items]
            except (MissingAttribute, AmountError):
                return None
            return any(subject == value for value in listed) != negated
    try:
        return bool(evaluate(node, attrs))
    except (MissingAttribute, AmountError):
        return None


def _number(value: Value) -> Decimal:
    # a TypeError, not an assertion: the checker folds constants of schemes it has not
    # typed yet (`where 0 / -true`) and reads a TypeError as "not a constant"
    if not isinstance(value, Decimal):
        raise TypeError(f"not a number: {value!r}")
    return value


def _compare(op: str, a: Value, b: Value) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    x, y = _number(a), _number(b)
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def condition_holds(node: ast.Expr | None, attrs: Mapping[str, Any]) -> bool:
    return node is None or truth(node, attrs) is True


def to_points(amount: Decimal, rounding: ast.RoundingMode) -> int:
    """Round a computed amount to whole points the way the rule says (down by default).

    Raises AmountError for an amount too large to be points at all.
    """
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise AmountError("the amount is beyond 10^15 points")
    return int(amount.quantize(_ONE, rounding=ROUNDING[rounding], context=_WIDE))


# id(node) -> (node, draws?): the node is kept so that its id cannot be reused.
_RANDOM_USE: dict[int, tuple[ast.Expr, bool]] = {}


def uses_random(node: ast.Expr) -> bool:
    """Whether an amount draws `random(...)` (remembered per node: amounts are few)."""
    known = _RANDOM_USE.get(id(node))
    if known is None:
        known = _RANDOM_USE[id(node)] = (node, _draws(node))
    return known[1]


def _draws(node: ast.Expr) -> bool:
    match node:
        case ast.Call(function=function, args=args):
            return function == "random" or any(_draws(a) for a in args)
        case ast.Negate(operand=operand) | ast.Not(operand=operand):
            return _draws(operand)
        case ast.Binary(left=left, right=right):
            return _draws(left) or _draws(right)
        case ast.Membership(operand=operand, items=items):
            return _draws(operand) or any(_draws(i) for i in items)
    return False


# id(node) -> (node, the attributes it reads in source order), as for _RANDOM_USE.
_READS: dict[int, tuple[ast.Expr, tuple[str, ...]]] = {}


def attributes_read(node: ast.Expr) -> tuple[str, ...]:
    """The attributes an expression reads, each once, left to right."""
    known = _READS.get(id(node))
    if known is None:
        found: dict[str, None] = {}
        _collect(node, found)
        known = _READS[id(node)] = (node, tuple(found))
    return known[1]


def _collect(node: ast.Expr, found: dict[str, None]) -> None:
    match node:
        case ast.Attribute(name=name):
            found.setdefault(name)
        case ast.Call(args=args):
            for arg in args:
                _collect(arg, found)
        case ast.Negate(operand=operand) | ast.Not(operand=operand):
            _collect(operand, found)
        case ast.Binary(left=left, right=right):
            _collect(left, found)
            _collect(right, found)
        case ast.Membership(operand=operand, items=items):
            _collect(operand, found)
            for item in items:
                _collect(item, found)
