"""Evaluating conditions and amounts against one event's attributes.

Values are Decimal (numbers), str (text) and bool. An attribute the event does
not carry makes any comparison that reads it false, and an amount that reads
it cannot be computed (the award is refused with that reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    DivisionByZero,
    InvalidOperation,
)
from decimal import localcontext as decimal_context
from typing import Any

from incentive import ast

Value = Decimal | str | bool

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
        case ast.Not(operand=operand):
            return not _truth(operand, attrs)
        case ast.Binary(op="and", left=left, right=right):
            return _truth(left, attrs) and _truth(right, attrs)
        case ast.Binary(op="or", left=left, right=right):
            return _truth(left, attrs) or _truth(right, attrs)
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
                    raise AmountError("division by zero") from None
        case ast.Binary(op=op, left=left, right=right):
            try:
                lhs, rhs = evaluate(left, attrs), evaluate(right, attrs)
            except MissingAttribute:
                return False
            return _compare(op, lhs, rhs)
        case ast.Membership(operand=operand, items=items, negated=negated):
            try:
                subject = evaluate(operand, attrs)
                found = any(subject == evaluate(item, attrs) for item in items)
            except MissingAttribute:
                return False
            return found != negated
        case ast.Call(function=function, args=args):
            values = [_number(evaluate(arg, attrs)) for arg in args]
            return min(values) if function == "min" else max(values)
    raise AssertionError(f"unknown expression {node!r}")  # pragma: no cover


def _truth(node: ast.Expr, attrs: Mapping[str, Any]) -> bool:
    try:
        return bool(evaluate(node, attrs))
    except MissingAttribute:
        return False


def _number(value: Value) -> Decimal:
    assert isinstance(value, Decimal) and not isinstance(value, bool)
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
    return node is None or _truth(node, attrs)


def to_points(amount: Decimal, rounding: ast.RoundingMode) -> int:
    """Round a computed amount to whole points the way the rule says (down by default)."""
    return int(amount.quantize(Decimal(1), rounding=ROUNDING[rounding]))
