"""Conditions as column expressions: a rule's `where` as one Boolean Polars expression.

A condition the loop evaluates per event (`expressions.condition_holds`, three-valued
over a missing attribute) is here a filter over every event at once. Plain input
carries every attribute a rule reads, so the third value never arises; whole-number
attributes against a constant are compared as the loop compares them (`n >= 4.5` is
`n >= 5`). What is not written here (arithmetic, calls, constants on both sides)
returns None, and `plan.why_not` names it: the scheme stays with the compiled loop.
Attributes live in columns named `attr:NAME` (`_column`), so that an attribute may be
called `day` or `seq`.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from incentive import ast
from incentive.program import ValueType

if TYPE_CHECKING:
    import polars as pl


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
