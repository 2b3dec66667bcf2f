"""AST -> canonical text. `fmt(parse(fmt(s))) == fmt(s)`, and comments survive.

Canonical form: two-space indent, one clause per line, a blank line between
top-level blocks, minimal parentheses, items in the order written.
"""

from __future__ import annotations

import re
from typing import Any

from incentive import ast
from incentive.diagnostics import Span
from incentive.spelling import (
    MEASURES_ZH,
    PERIOD_ENDS_ZH,
    PERIODS_ZH,
    PERK_KINDS_ZH,
    ROUNDING_ZH,
    SIDES_ZH,
    TYPES_ZH,
    UNITS_ZH,
    WEEKDAYS_ZH,
    Spelling,
    zh_name_text,
)

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


# The words of expressions in each spelling.
_EXPR_WORDS = {
    "en": {
        "true": "true",
        "false": "false",
        "not": "not ",
        "in": "in",
        "not in": "not in",
        "between": "between",
        "between-and": "and",
        "is": "is",
        "is not": "is not",
        "or": "or",
        "and": "and",
    },
    "zh": {
        "true": "真",
        "false": "假",
        "not": "非 ",
        "in": "属于",
        "not in": "不属于",
        "between": "介于",
        "between-and": "至",
        "is": "是",
        "is not": "不是",
        "or": "或者",
        "and": "并且",
    },
}


def format_expr(node: ast.Expr, spelling: Spelling = "en") -> str:
    words = _EXPR_WORDS[spelling]
    named = name_zh if spelling == "zh" else _same

    def wrap(child: ast.Expr, least: int) -> str:
        text = format_expr(child, spelling)
        return f"({text})" if _prec(child) < least else text

    match node:
        case ast.Number(value=value):
            return str(value)
        case ast.String(value=value):
            return quote(value)
        case ast.Boolean(value=value):
            return words["true"] if value else words["false"]
        case ast.Attribute(name=name):
            return named(name)
        case ast.Call(function=function, args=args):
            return f"{named(function)}(" + ", ".join(format_expr(a, spelling) for a in args) + ")"
        case ast.Negate(operand=operand):
            return "-" + wrap(operand, _PREC["neg"])
        case ast.Not(operand=operand):
            return words["not"] + wrap(operand, _PREC["not"])
        case ast.Membership(operand=operand, items=items, negated=negated):
            word = words["not in"] if negated else words["in"]
            return (
                f"{wrap(operand, _PREC['+'])} {word} ["
                + ", ".join(format_expr(i, spelling) for i in items)
                + "]"
            )
        case ast.Binary(
            written="between",
            left=ast.Binary(left=subject, right=low),
            right=ast.Binary(right=high),
        ):
            least = _PREC["+"]
            return (
                f"{wrap(subject, least)} {words['between']} {wrap(low, least)} "
                f"{words['between-and']} {wrap(high, least)}"
            )
        case ast.Binary(
            written="is", op=op, left=ast.Attribute(name=name), right=ast.String() as word
        ):
            return f"{named(name)} {words['is not' if op == '!=' else 'is']} {named(word.value)}"
        case ast.Binary(op=op, left=left, right=right):
            p = _prec(node)
            shown = words.get(op, op)
            if p == _PREC["compare"]:
                return f"{wrap(left, p + 1)} {shown} {wrap(right, p + 1)}"
            # Left-associative: the right operand must bind tighter to keep the same tree.
            return f"{wrap(left, p)} {shown} {wrap(right, p + 1)}"
    raise AssertionError(f"unknown expression {node!r}")  # pragma: no cover


def _same(name: str) -> str:
    return name


def format_clause(
    clause: ast.RuleClause
    | ast.BoostClause
    | ast.Cap
    | ast.RedeemClause
    | ast.Allowance
    | ast.ReverseClause
    | ast.TransferClause
    | ast.CatalogueClause
    | ast.LeagueClause
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
        case ast.LeagueBoard(league=league):
            return f"league {league.value}"
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
        case ast.EveryTime():
            return "every time"
        case ast.Window(count=count, days=days):
            return f"window {count} within {days} days"
        case ast.First(count=count, period=period):
            return f"first {count}" + (f" per {period}" if period else "")
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
        case ast.Goal(team=team, period=period, measure=measure, attribute=attribute):
            text = f"goal {team.value} per {period} by {measure}"
            return text + (f" {attribute.value}" if attribute is not None else "")
        case ast.Draw(count=count):
            return f"draw {count}"
        case ast.Cohort(count=count):
            return f"cohort {count}"
        case ast.Tiers(names=names):
            return "tiers " + ", ".join(t.value for t in names)
        case ast.Promote(count=count):
            return f"promote {count}"
        case ast.Demote(count=count):
            return f"demote {count}"
        case ast.StartWindow(days=days, event=event, column=column):
            if event is not None:
                return f"within {days} days of first {name_text(event.value)}"
            assert column is not None
            return f"within {days} days of {column.value}"
        case ast.OwnPeriods(event=event, column=column):
            if event is not None:
                return f"periods from first {name_text(event.value)}"
            assert column is not None
            return f"periods from {column.value}"
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
        case ast.Reaching(count=count, attribute=attribute, earned=earned):
            text = f"reaching {count}" + (f" {attribute.value}" if attribute else "")
            return text + (" earned" if earned else "")
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


def name_zh(name: str) -> str:
    return zh_name_text(name)


def _event_zh(name: str) -> str:
    """An event name in the Chinese spelling: bare, bracketed, or quoted (`"page-view"`)."""
    if _NAME.fullmatch(name):
        return zh_name_text(name)
    return quote(name)


def _period_zh(period: str | None) -> str:
    return PERIODS_ZH[period] if period else "总共"


def _attribute(to: ast.PayTo) -> ast.Name:
    assert to.attribute is not None  # a payee is named in quotes or by an attribute
    return to.attribute


def format_clause_zh(clause: object) -> str:
    """A clause in the Chinese spelling, in the order an operator says it."""
    n = name_zh
    match clause:
        case ast.On(events=events):
            return "当 " + ", ".join(_event_zh(e.value) for e in events)
        case ast.Where(condition=condition):
            return "条件 " + format_expr(condition, "zh")
        case ast.Award(currency=currency, rounding=rounding):
            text = "奖励 " + ", ".join(format_expr(a, "zh") for a in clause.amounts)
            if currency is not None:
                text += " " + n(currency.value)
            if rounding is not None:
                text += " " + ROUNDING_ZH[rounding]
            return text
        case ast.Limit(count=count, period=period, key=key):
            text = f"{_period_zh(period)}限{count}次"
            return text + (f" 每个 {n(key.value)}" if key else "")
        case ast.Once(key=key):
            return "仅一次" + (f" 每个 {n(key.value)}" if key else "")
        case ast.Credit(attribute=attribute):
            return f"记给 {n(attribute.value)}"
        case ast.Posts(period=period):
            return f"{PERIODS_ZH[period]}公布"
        case ast.LeagueBoard(league=league):
            return f"联赛 {n(league.value)}"
        case ast.Post(heading=heading, line=line, join=join, at=at):
            text = f"播报 {quote(heading)}"
            text += f" 每行 {quote(line)}" if line is not None else ""
            text += f" 分隔 {quote(join)}" if join is not None else ""
            return text + (f" 定时 {at}" if at is not None else "")
        case ast.Cap(points=points, period=period):
            return f"{PERIODS_ZH[period]}上限 {points}"
        case ast.GroupRef(name=name):
            return f"额度组 {n(name.value)}"
        case ast.Uncapped():
            return "不设上限"
        case ast.EveryTime():
            return "每次"
        case ast.Window(count=count, days=days):
            return f"任意{days}天内{count}次"
        case ast.First(count=count, period=period):
            return (PERIODS_ZH[period] if period else "") + f"最先{count}名"
        case ast.Rank(pay=ast.PayTo() as to):
            who = quote(to.member) if to.member is not None else n(_attribute(to).value)
            text = f"支付 {who} {PERIODS_ZH[clause.period]} {MEASURES_ZH[clause.measure]}"
            if clause.attribute is not None:
                text += f" {n(clause.attribute.value)}"
            return text + (" 至今" if to.so_far else "")
        case ast.Rank():
            text = f"{PERIODS_ZH[clause.period]} {MEASURES_ZH[clause.measure]}"
            if clause.attribute is not None:
                text += f" {n(clause.attribute.value)}"
            if clause.sources:
                text += " 来自 " + ", ".join(n(s.value) for s in clause.sources)
            if clause.team is not None:
                text += f" {n(clause.team.value)}"
            if clause.count is not None:
                text += f" {SIDES_ZH[clause.side]}{clause.count}名"
            return text
        case ast.Goal(team=team, period=period, measure=measure, attribute=attribute):
            text = f"团队目标 {n(team.value)} {PERIODS_ZH[period]} {MEASURES_ZH[measure]}"
            return text + (f" {n(attribute.value)}" if attribute is not None else "")
        case ast.Draw(count=count):
            return f"抽取 {count}人"
        case ast.Cohort(count=count):
            return f"每组 {count}人"
        case ast.Tiers(names=names):
            return "段位 " + ", ".join(n(t.value) for t in names)
        case ast.Promote(count=count):
            return f"晋级 {count}"
        case ast.Demote(count=count):
            return f"降级 {count}"
        case ast.StartWindow(days=days, event=event, column=column):
            if event is not None:
                return f"自首次 {_event_zh(event.value)} 起 {days}天内"
            assert column is not None
            return f"自 {n(column.value)} 起 {days}天内"
        case ast.OwnPeriods(event=event, column=column):
            if event is not None:
                return f"周期 自首次 {_event_zh(event.value)} 起算"
            assert column is not None
            return f"周期 自 {n(column.value)} 起算"
        case ast.Budget(points=points, currency=currency, period=period):
            return f"{PERIODS_ZH[period]}预算 {points}" + (
                f" {n(currency.value)}" if currency else ""
            )
        case ast.Amount(attribute=attribute, currency=currency):
            return f"数额 {n(attribute.value)}" + (f" {n(currency.value)}" if currency else "")
        case ast.Minimum(points=points):
            return f"最低 {points}"
        case ast.Maximum(points=points):
            return f"最高 {points}"
        case ast.Multiple(points=points):
            return f"整倍数 {points}"
        case ast.Threshold(points=points):
            return f"门槛 {points}"
        case ast.Allowance(points=points, currency=currency, period=period, granters=granters):
            text = f"{PERIODS_ZH[period]}额度 {points}" + (
                f" {n(currency.value)}" if currency else ""
            )
            return text + (" 给 " + ", ".join(quote(g) for g in granters) if granters else "")
        case ast.By(attribute=attribute):
            return f"依据 {n(attribute.value)}"
        case ast.Within(days=days):
            return f"{days}天内"
        case ast.Debt():
            return "允许欠款"
        case ast.Part(attribute=attribute, whole=whole):
            return f"按比例 {n(attribute.value)}" + (f" 占 {n(whole.value)}" if whole else "")
        case ast.To(attribute=attribute):
            return f"转给 {n(attribute.value)}"
        case ast.Receive(points=points, period=period):
            return f"{PERIODS_ZH[period]}接收上限 {points}"
        case ast.Keep(points=points):
            return f"保留 {points}"
        case ast.ItemAttr(attribute=attribute):
            return f"品名 {n(attribute.value)}"
        case ast.Stock(count=count, period=period):
            return (f"{PERIODS_ZH[period]}" if period else "") + f"库存 {count}"
        case ast.Price(points=points, currency=currency):
            return f"价格 {points}" + (f" {n(currency.value)}" if currency else "")
        case ast.GiftDecl(name=name, clauses=gift_clauses):
            inner = "  ".join(format_clause_zh(c) for c in gift_clauses)
            return f"兑换品 {_event_zh(name.value)} {{ {inner} }}"
        case ast.Reason(attribute=attribute):
            return f"原因 {n(attribute.value)}"
        case ast.Pending(days=days):
            return f"冻结 {days}天"
        case ast.Inactive(days=days):
            return f"未活跃 {days}天"
        case ast.Inviter(event=event, attribute=attribute, days=days):
            return f"邀请人 来自 {_event_zh(event.value)}.{n(attribute.value)} {days}天内"
        case ast.Perk(kind=kind, name=name):
            return f"{PERK_KINDS_ZH[kind]} {quote(name)}"
        case ast.Streak(period=period):
            return f"{PERIODS_ZH[period]}连续"
        case ast.Grace(count=count):
            return f"宽限 {count}"
        case ast.Reaching(count=count, attribute=attribute, earned=earned):
            text = f"达标 {count}" + (f" {n(attribute.value)}" if attribute else "")
            return text + (" 所得" if earned else "")
        case ast.Milestone(measure=measure, attribute=attribute, period=period):
            text = PERIODS_ZH[period] if period else ""
            if attribute is None:
                return text + "累计次数"
            word = "累计不重复" if measure == "distinct" else "累计总和"
            return text + f"{word} {n(attribute.value)}"
        case ast.Tier(threshold=threshold, award=award):
            return f"达到 {threshold} " + format_clause_zh(award)
        case ast.Every(interval=interval, award=award):
            return f"每满 {interval} " + format_clause_zh(award)
        case ast.Times(factor=factor):
            return f"倍率 {factor}"
        case ast.Weekdays(days=days):
            return "逢 " + ", ".join(WEEKDAYS_ZH.get(d.value, n(d.value)) for d in days)
        case ast.Dates(first=first, last=last):
            return f"从 {first} 至 {last}"
        case ast.For(targets=targets):
            return "适用 " + ", ".join(n(t.value) for t in targets)
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


def format_scheme(scheme: ast.Scheme, spelling: Spelling = "en") -> str:
    """The canonical text of a scheme, in English keywords or (`spelling="zh"`) Chinese."""
    out = _Writer(scheme.comments)
    out.leading(scheme.span.line + 1 if scheme.span.line else 1, "")
    out.lines.append(f"{'方案' if spelling == 'zh' else 'scheme'} {quote(scheme.name)} {{")
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
            | ast.LevelsDecl
            | ast.LeagueDecl,
        )
        if index > 0 and (block or previous_block):
            out.lines.append("")
        previous_block = block
        if spelling == "zh":
            _format_item_zh(out, item)
        else:
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
        case ast.MemberZoneDecl(attribute=attribute):
            out.emit(ind, f"timezone from {attribute.value}", item.span)
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
                _clause_lines(clauses, format_clause),
            )
        case ast.LeagueDecl(name=name, clauses=league_clauses):
            _block(
                out,
                f"league {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in league_clauses],
            )
        case ast.BoostDecl(name=name, clauses=boost_clauses):
            _block(
                out,
                f"boost {name.value}",
                item.span,
                [(format_clause(c), c.span) for c in boost_clauses],
            )


def _format_item_zh(out: _Writer, item: ast.Item) -> None:
    ind = "  "
    n = name_zh
    clause = format_clause_zh
    match item:
        case ast.CurrencyDecl(names=names):
            out.emit(ind, "货币 " + ", ".join(n(x.value) for x in names), item.span)
        case ast.TimezoneDecl(zone=zone):
            out.emit(ind, f"时区 {quote(zone)}", item.span)
        case ast.MemberZoneDecl(attribute=attribute):
            out.emit(ind, f"时区 来自 {n(attribute.value)}", item.span)
        case ast.DayDecl(ends=ends):
            out.emit(ind, f"每天截止 {ends}", item.span)
        case ast.WeekDecl(starts=starts):
            out.emit(ind, f"每周始于 {WEEKDAYS_ZH.get(starts.value, n(starts.value))}", item.span)
        case ast.SeasonDecl(first=first, last=last):
            out.emit(ind, f"赛季 {first} 至 {last}", item.span)
        case ast.ExpireDecl(currency=currency, days=days, period=period):
            text = "过期" + (f" {n(currency.value)}" if currency else "")
            if days is None:
                text += f" {PERIOD_ENDS_ZH[period or 'day']}"
            else:
                text += f" {days}{UNITS_ZH[item.unit]}"
                text += f" {PERIOD_ENDS_ZH[item.rounded]}" if item.rounded else ""
            out.emit(ind, text, item.span)
        case ast.Budget():
            out.emit(ind, clause(item), item.span)
        case ast.EventsDecl(events=events):
            _block(
                out,
                "事件",
                item.span,
                [
                    (
                        _event_zh(e.name.value)
                        + (
                            "("
                            + ", ".join(
                                f"{n(a.name.value)}: {TYPES_ZH.get(a.type.value, n(a.type.value))}"
                                for a in e.attributes
                            )
                            + ")"
                            if e.attributes
                            else ""
                        ),
                        e.span,
                    )
                    for e in events
                ],
            )
        case ast.LevelsDecl(currency=currency, steps=steps):
            _block(
                out,
                "等级"
                + (f" {n(currency.value)}" if currency else "")
                + (f" 最近 {item.days}天" if item.days is not None else ""),
                item.span,
                [(f"{n(step.name.value)} {step.points}", step.span) for step in steps],
            )
        case ast.SeedDecl(seed=seed):
            out.emit(ind, f"随机种子 {seed}", item.span)
        case ast.TeamDecl(names=names):
            out.emit(ind, "团队 " + ", ".join(n(x.value) for x in names), item.span)
        case ast.GroupDecl(name=name, caps=caps):
            _block(out, f"额度组 {n(name.value)}", item.span, [(clause(c), c.span) for c in caps])
        case (
            ast.RuleDecl()
            | ast.BoardDecl()
            | ast.BoostDecl()
            | ast.RedeemDecl()
            | ast.GrantsDecl()
            | ast.ReverseDecl()
            | ast.TransferDecl()
            | ast.CatalogueDecl()
            | ast.LeagueDecl()
        ):
            body: tuple[Any, ...] = item.clauses
            _block(
                out,
                f"{_BLOCKS_ZH[type(item)]} {n(item.name.value)}",
                item.span,
                _clause_lines(body, clause),
            )


_BLOCKS_ZH: dict[type, str] = {
    ast.RuleDecl: "规则",
    ast.BoardDecl: "榜单",
    ast.BoostDecl: "加成",
    ast.RedeemDecl: "兑换规则",
    ast.GrantsDecl: "发放额度",
    ast.ReverseDecl: "撤销规则",
    ast.TransferDecl: "转账规则",
    ast.CatalogueDecl: "礼品目录",
    ast.LeagueDecl: "联赛",
}


def _clause_lines(clauses: tuple[Any, ...], write: Any) -> list[tuple[str, Span]]:
    """A block's clauses, one a line; `every time` right after a perk goes on the
    perk's line (`badge "helper" every time`)."""
    lines: list[tuple[str, Span]] = []
    for index, clause in enumerate(clauses):
        if isinstance(clause, ast.EveryTime) and index and isinstance(clauses[index - 1], ast.Perk):
            text, span = lines[-1]
            lines[-1] = (f"{text} {write(clause)}", span)
        else:
            lines.append((write(clause), clause.span))
    return lines


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


def format_source(text: str, file: str = "<scheme>", spelling: Spelling | None = None) -> str:
    """The canonical form of scheme text in `spelling` (by default the file's own).

    Converting checks that the result reads back as the same scheme: a name of one
    spelling may be a keyword of the other (a rule named `rule` in a Chinese scheme),
    and that is an error (E0113) rather than a file that no longer parses.
    """
    from incentive.diagnostics import NO_SPAN, Diagnostic, SchemeError, Severity
    from incentive.i18n import _
    from incentive.parser import parse
    from incentive.spelling import spelling_of

    scheme = parse(text, file)
    target = spelling or spelling_of(text)
    result = format_scheme(scheme, target)
    if target == spelling_of(text):
        return result
    try:
        converted = parse(result, file)
    except SchemeError as err:
        problem = err.diagnostics[0]
        language = _("English") if target == "en" else _("Chinese")
        shown = result.split("\n")[problem.span.line - 1].strip() if problem.span.line else ""
        keywords = sorted(_names(scheme) & _keywords_of(target))
        hint = (
            _("a name of one spelling may be a keyword of the other: rename {names}").format(
                names=", ".join(f"`{k}`" for k in keywords)
            )
            if keywords
            else _("a name of one spelling may be a keyword of the other: rename it")
        )
        raise SchemeError(
            [
                Diagnostic(
                    "E0113",
                    Severity.ERROR,
                    _(
                        "this scheme cannot be written in the {language} spelling: converted, "
                        "line {line} would read `{shown}` ({problem})"
                    ).format(
                        language=language,
                        line=problem.span.line,
                        shown=shown,
                        problem=problem.message,
                    ),
                    NO_SPAN,
                    file,
                    (_("{hint}, and convert again").format(hint=hint),),
                )
            ]
        ) from None
    if converted != scheme:  # pragma: no cover - a formatter bug, not an input error
        raise AssertionError(f"{file}: converting to {target} changed the scheme")
    return result


def _names(node: object) -> set[str]:
    """Every name a scheme uses (rules, events, attributes, currencies, ...)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Name):
            found.add(item.value)
        elif isinstance(item, ast.Attribute):
            found.add(item.name)
        if isinstance(item, tuple):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            stack.extend(getattr(item, f) for f in item.__dataclass_fields__ if f != "span")
    return found


def _keywords_of(spelling: Spelling) -> frozenset[str]:
    from incentive.spelling import KEYWORDS_EN_TO_ZH, zh_keyword_set

    return frozenset(KEYWORDS_EN_TO_ZH) if spelling == "en" else zh_keyword_set()
