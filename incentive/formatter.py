"""AST -> canonical text. `fmt(parse(fmt(s))) == fmt(s)`, and comments survive.

Canonical form: two-space indent, one clause per line, a blank line between
top-level blocks, minimal parentheses, items in the order written.
"""

from __future__ import annotations

import re

from incentive import ast
from incentive.diagnostics import Span

_NAME = re.compile(r"[^\W\d]\w*")

# Binding strength of each expression form; a child weaker than its slot needs parentheses.
_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "compare": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "neg": 7,
    "atom": 8,
}


def quote(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def name_text(name: str) -> str:
    """An event name as written: bare when it can be, quoted otherwise (`"page-view"`).

    Where an event name stands (after `on` or `,`, and in `events { }`) the
    parser expects only a name, so keywords such as `redeem` may stand bare.
    """
    if _NAME.fullmatch(name):
        return name
    return quote(name)


def _prec(node: ast.Expr) -> int:
    match node:
        case ast.Binary(written="between"):
            return _PREC["compare"]
        case ast.Binary(op=op) if op in ("or", "and", "+", "-", "*", "/"):
            return _PREC[op]
        case ast.Binary() | ast.Membership():
            return _PREC["compare"]
        case ast.Not():
            return _PREC["not"]
        case ast.Negate():
            return _PREC["neg"]
    return _PREC["atom"]


def format_expr(node: ast.Expr) -> str:
    def wrap(child: ast.Expr, least: int) -> str:
        text = format_expr(child)
        return f"({text})" if _prec(child) < least else text

    match node:
        case ast.Number(value=value):
            return str(value)
        case ast.String(value=value):
            return quote(value)
        case ast.Boolean(value=value):
            return "true" if value else "false"
        case ast.Attribute(name=name):
            return name
        case ast.Call(function=function, args=args):
            return f"{function}(" + ", ".join(format_expr(a) for a in args) + ")"
        case ast.Negate(operand=operand):
            return "-" + wrap(operand, _PREC["neg"])
        case ast.Not(operand=operand):
            return "not " + wrap(operand, _PREC["not"])
        case ast.Membership(operand=operand, items=items, negated=negated):
            word = "not in" if negated else "in"
            return (
                f"{wrap(operand, _PREC['+'])} {word} ["
                + ", ".join(format_expr(i) for i in items)
                + "]"
            )
        case ast.Binary(
            written="between",
            left=ast.Binary(left=subject, right=low),
            right=ast.Binary(right=high),
        ):
            least = _PREC["+"]
            return f"{wrap(subject, least)} between {wrap(low, least)} and {wrap(high, least)}"
        case ast.Binary(
            written="is", op=op, left=ast.Attribute(name=name), right=ast.String() as word
        ):
            return f"{name} is {'not ' if op == '!=' else ''}{word.value}"
        case ast.Binary(op=op, left=left, right=right):
            p = _prec(node)
            if p == _PREC["compare"]:
                return f"{wrap(left, p + 1)} {op} {wrap(right, p + 1)}"
            # Left-associative: the right operand must bind tighter to keep the same tree.
            return f"{wrap(left, p)} {op} {wrap(right, p + 1)}"
    raise AssertionError(f"unknown expression {node!r}")  # pragma: no cover


def format_clause(
    clause: ast.RuleClause
    | ast.BoostClause
    | ast.Cap
    | ast.RedeemClause
    | ast.Allowance
    | ast.ReverseClause
    | ast.TransferClause
    | ast.CatalogueClause
    | ast.Price,
) -> str:
    match clause:
        case ast.On(events=events):
            return "on " + ", ".join(name_text(e.value) for e in events)
        case ast.Where(condition=condition):
            return "where " + format_expr(condition)
        case ast.Award(currency=currency, rounding=rounding):
            text = "award " + ", ".join(format_expr(a) for a in clause.amounts)
            if currency is not None:
                text += " " + currency.value
            if rounding is not None:
                text += " round " + rounding
            return text
        case ast.Limit(count=count, period=period, key=key):
            text = f"limit {count} " + (f"per {period}" if period else "ever")
            return text + (f" for each {key.value}" if key else "")
        case ast.Once(key=key):
            return "once" + (f" for each {key.value}" if key else "")
        case ast.Credit(attribute=attribute):
            return f"credit {attribute.value}"
        case ast.Posts(period=period):
            return f"each {period}"
        case ast.Post(heading=heading, line=line, join=join, at=at):
            text = f"post {quote(heading)}"
            text += f" line {quote(line)}" if line is not None else ""
            text += f" join {quote(join)}" if join is not None else ""
            return text + (f" at {at}" if at is not None else "")
        case ast.Cap(points=points, period=period):
            return f"cap {points} per {period}"
        case ast.GroupRef(name=name):
            return f"group {name.value}"
        case ast.Uncapped():
            return "uncapped"
        case ast.Rank():
            if clause.pay is not None:
                to = clause.pay
                if to.member is not None:
                    who = quote(to.member)
                else:
                    assert to.attribute is not None
                    who = to.attribute.value
                text = f"pay {who} per {clause.period} by {clause.measure}"
                if clause.attribute is not None:
                    text += f" {clause.attribute.value}"
                return text + (" so far" if to.so_far else "")
            text = "" if clause.count is None else f"{clause.side} {clause.count} "
            if clause.team is not None:
                text += f"{clause.team.value} "
            text += f"per {clause.period} by {clause.measure}"
            if clause.attribute is not None:
                text += f" {clause.attribute.value}"
            if clause.sources:
                text += " from " + ", ".join(n.value for n in clause.sources)
            return text
        case ast.Budget(points=points, currency=currency, period=period):
            return (
                f"budget {points}" + (f" {currency.value}" if currency else "") + f" per {period}"
            )
        case ast.Amount(attribute=attribute, currency=currency):
            return f"amount {attribute.value}" + (f" {currency.value}" if currency else "")
        case ast.Minimum(points=points):
            return f"minimum {points}"
        case ast.Maximum(points=points):
            return f"maximum {points}"
        case ast.Multiple(points=points):
            return f"multiple {points}"
        case ast.Threshold(points=points):
            return f"threshold {points}"
        case ast.Allowance(points=points, currency=currency, period=period, granters=granters):
            text = f"allowance {points}" + (f" {currency.value}" if currency else "")
            text += f" per {period}"
            return text + (" for " + ", ".join(quote(g) for g in granters) if granters else "")
        case ast.By(attribute=attribute):
            return f"by {attribute.value}"
        case ast.Within(days=days):
            return f"within {days} days"
        case ast.Debt():
            return "debt"
        case ast.Part(attribute=attribute, whole=whole):
            return f"part {attribute.value}" + (f" of {whole.value}" if whole is not None else "")
        case ast.To(attribute=attribute):
            return f"to {attribute.value}"
        case ast.Receive(points=points, period=period):
            return f"receive {points} per {period}"
        case ast.Keep(points=points):
            return f"keep {points}"
        case ast.ItemAttr(attribute=attribute):
            return f"item {attribute.value}"
        case ast.Stock(count=count, period=period):
            return f"stock {count}" + (f" per {period}" if period else "")
        case ast.Price(points=points, currency=currency):
            return f"price {points}" + (f" {currency.value}" if currency else "")
        case ast.GiftDecl(name=name, clauses=gift_clauses):
            inner = "  ".join(format_clause(c) for c in gift_clauses)
            return f"gift {name_text(name.value)} {{ {inner} }}"
        case ast.Reason(attribute=attribute):
            return f"reason {attribute.value}"
        case ast.Pending(days=days):
            return f"pending {days} days"
        case ast.Inactive(days=days):
            return f"inactive {days} days"
        case ast.Inviter(event=event, attribute=attribute, days=days):
            return f"inviter from {name_text(event.value)}.{attribute.value} within {days} days"
        case ast.Perk(kind=kind, name=name):
            return f"{kind} {quote(name)}"
        case ast.Streak(period=period):
            return f"streak per {period}"
        case ast.Grace(count=count):
            return f"grace {count}"
        case ast.Milestone(measure=measure, attribute=attribute, period=period):
            text = f"milestone {measure}" + (f" {attribute.value}" if attribute else "")
            return text + (f" per {period}" if period else "")
        case ast.Tier(threshold=threshold, award=award):
            return f"at {threshold} " + format_clause(award)
        case ast.Every(interval=interval, award=award):
            return f"every {interval} " + format_clause(award)
        case ast.Times(factor=factor):
            return f"times {factor}"
        case ast.Weekdays(days=days):
            return "on " + ", ".join(d.value for d in days)
        case ast.Dates(first=first, last=last):
            return f"from {first} to {last}"
        case ast.For(targets=targets):
            return "for " + ", ".join(t.value for t in targets)
    raise AssertionError(f"unknown clause {clause!r}")  # pragma: no cover


class _Writer:
    def __init__(self, comments: tuple[ast.Comment, ...]) -> None:
        self.lines: list[str] = []
        self.pending = sorted(comments, key=lambda c: (c.line, c.column))

    def leading(self, before_line: int, indent: str) -> None:
        """Comments written above a node stay above it."""
        while self.pending and self.pending[0].line < before_line:
            self.lines.append(indent + self.pending.pop(0).text)

    def emit(self, indent: str, text: str, span: Span) -> None:
        self.leading(span.line, indent)
        line = indent + text
        # A comment on the last line of a node stays at the end of its line.
        if self.pending and self.pending[0].line <= span.end_line:
            line += "  " + self.pending.pop(0).text
        self.lines.append(line)

    def rest(self, indent: str) -> None:
        while self.pending:
            self.lines.append(indent + self.pending.pop(0).text)


def format_scheme(scheme: ast.Scheme) -> str:
    out = _Writer(scheme.comments)
    out.leading(scheme.span.line + 1 if scheme.span.line else 1, "")
    out.lines.append(f"scheme {quote(scheme.name)} {{")
    previous_block = False
    for index, item in enumerate(scheme.items):
        block = isinstance(
            item,
            ast.EventsDecl
            | ast.GroupDecl
            | ast.RuleDecl
            | ast.BoardDecl
            | ast.BoostDecl
            | ast.RedeemDecl
            | ast.GrantsDecl
            | ast.ReverseDecl
            | ast.TransferDecl
            | ast.CatalogueDecl
            | ast.LevelsDecl,
        )
        if index > 0 and (block or previous_block):
            out.lines.append("")
        previous_block = block
        _format_item(out, item)
    out.rest("  ")
    out.lines.append("}")
    return "\n".join(out.lines) + "\n"


def _format_item(out: _Writer, item: ast.Item) -> None:
    ind = "  "
    match item:
        case ast.CurrencyDecl(names=names):
            out.emit(ind, "currency " + ", ".join(n.value for n in names), item.span)
        case ast.TimezoneDecl(zone=zone):
            out.emit(ind, f"timezone {quote(zone)}", item.span)
        case ast.DayDecl(ends=ends):
            out.emit(ind, f"day ends {ends}", item.span)
        case ast.WeekDecl(starts=starts):
            out.emit(ind, f"week starts {starts.value}", item.span)
        case ast.SeasonDecl(first=first, last=last):
            out.emit(ind, f"season {first} to {last}", item.span)
        case ast.ExpireDecl(currency=currency, days=days, period=period):
            text = "expire" + (f" {currency.value}" if currency else "")
            if days is None:
                text += f" at end of {period}"
            else:
                unit = f"{item.unit}s"
                text += f" after {days} {unit}"
                text += f" at end of {item.rounded}" if item.rounded else ""
            out.emit(ind, text, item.span)
        case ast.Budget():
            out.emit(ind, format_clause(item), item.span)
        case ast.RedeemDecl(name=name, clauses=redeem_clauses):
            _block(
                out,
                f"redeem {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in redeem_clauses],
            )
        case ast.GrantsDecl(name=name, clauses=grant_clauses):
            _block(
                out,
                f"grants {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in grant_clauses],
            )
        case ast.ReverseDecl(name=name, clauses=reverse_clauses):
            _block(
                out,
                f"reverse {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in reverse_clauses],
            )
        case ast.TransferDecl(name=name, clauses=transfer_clauses):
            _block(
                out,
                f"transfer {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in transfer_clauses],
            )
        case ast.CatalogueDecl(name=name, clauses=catalogue_clauses):
            _block(
                out,
                f"catalogue {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in catalogue_clauses],
            )
        case ast.LevelsDecl(currency=currency, steps=steps):
            _block(
                out,
                "levels"
                + (f" {currency.value}" if currency else "")
                + (f" over {item.days} days" if item.days is not None else ""),
                item.span,
                [(f"{step.name.value} {step.points}", step.span) for step in steps],
            )
        case ast.SeedDecl(seed=seed):
            out.emit(ind, f"seed {seed}", item.span)
        case ast.TeamDecl(names=names):
            out.emit(ind, "team " + ", ".join(n.value for n in names), item.span)
        case ast.EventsDecl(events=events):
            _block(
                out,
                "events",
                item.span,
                [
                    (
                        name_text(e.name.value)
                        + (
                            "("
                            + ", ".join(f"{a.name.value}: {a.type.value}" for a in e.attributes)
                            + ")"
                            if e.attributes
                            else ""
                        ),
                        e.span,
                    )
                    for e in events
                ],
            )
        case ast.GroupDecl(name=name, caps=caps):
            _block(
                out, f"group {name.value}", item.span, [(format_clause(c), c.span) for c in caps]
            )
        case ast.RuleDecl(name=name, clauses=clauses) | ast.BoardDecl(name=name, clauses=clauses):
            word = "rule" if isinstance(item, ast.RuleDecl) else "board"
            _block(
                out,
                f"{word} {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in clauses],
            )
        case ast.BoostDecl(name=name, clauses=boost_clauses):
            _block(
                out,
                f"boost {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in boost_clauses],
            )


def _block(out: _Writer, head: str, span: Span, body: list[tuple[str, Span]]) -> None:
    out.leading(span.line, "  ")
    if not body:
        out.emit("  ", head + " {}", span)
        return
    out.lines.append("  " + head + " {")
    for text, clause_span in body:
        out.emit("    ", text, clause_span)
    out.leading(span.end_line, "    ")
    out.lines.append("  }")
