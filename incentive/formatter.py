"""AST -> canonical text. `fmt(parse(fmt(s))) == fmt(s)`, and comments survive.

Canonical form: two-space indent, one clause per line, a blank line between
top-level blocks, minimal parentheses, items in the order written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
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
    named = _VALUES[spelling]["name"]

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


def _event_zh(name: str) -> str:
    """An event name in the Chinese spelling: bare, bracketed, or quoted (`"page-view"`)."""
    if _NAME.fullmatch(name):
        return zh_name_text(name)
    return quote(name)


# How each kind of value is written in each spelling: a template's `{field:kind}`
# (a field with no kind: a name is a `name`, an expression an expression, the rest as is).
_VALUES: dict[Spelling, dict[str, Callable[[Any], str]]] = {
    "en": {
        "name": _same,
        "event": name_text,
        "quote": quote,
        "period": _same,
        "period_end": _same,
        "measure": _same,
        "side": _same,
        "perk": _same,
        "rounding": _same,
        "weekday": _same,
        "type": _same,
        "unit": _same,
        "milestone": _same,
    },
    "zh": {
        "name": zh_name_text,
        "event": _event_zh,
        "quote": quote,
        "period": PERIODS_ZH.__getitem__,
        "period_end": lambda period: PERIOD_ENDS_ZH[period or "day"],
        "measure": MEASURES_ZH.__getitem__,
        "side": SIDES_ZH.__getitem__,
        "perk": PERK_KINDS_ZH.__getitem__,
        "rounding": ROUNDING_ZH.__getitem__,
        "weekday": lambda day: WEEKDAYS_ZH.get(day, zh_name_text(day)),
        "type": lambda kind: TYPES_ZH.get(kind, zh_name_text(kind)),
        "unit": UNITS_ZH.__getitem__,
        # `milestone sum words` is `累计总和 words`; a count has no attribute (`累计次数`)
        "milestone": lambda measure: "累计不重复" if measure == "distinct" else "累计总和",
    },
}

# Each node as written in each spelling (English, Chinese): the spellings differ in
# their words and in their order, not in what they write. `{field}` writes a field
# (`{pay.member}` a field's field; a tuple: its items, by `, `, or two spaces with the
# kind `inline`); `[...]` is written only when its fields are there (not None, False or
# empty), and `[A|B]` writes B when A's are not.
_TEMPLATES: dict[type, tuple[str, str]] = {
    ast.On: ("on {events:event}", "当 {events:event}"),
    ast.Where: ("where {condition}", "条件 {condition}"),
    ast.Award: (
        "award {amounts}[ {currency}][ round {rounding:rounding}]",
        "奖励 {amounts}[ {currency}][ {rounding:rounding}]",
    ),
    ast.Limit: (
        "limit {count} [per {period}|ever][ for each {key}]",
        "[{period:period}|总共]限{count}次[ 每个 {key}]",
    ),
    ast.Once: ("once[ for each {key}]", "仅一次[ 每个 {key}]"),
    ast.Credit: ("credit {attribute}", "记给 {attribute}"),
    ast.Posts: ("each {period}", "{period:period}公布"),
    ast.LeagueBoard: ("league {league}", "联赛 {league}"),
    ast.Post: (
        "post {heading:quote}[ line {line:quote}][ join {join:quote}][ at {at}]",
        "播报 {heading:quote}[ 每行 {line:quote}][ 分隔 {join:quote}][ 定时 {at}]",
    ),
    ast.Cap: ("cap {points} per {period}", "{period:period}上限 {points}"),
    ast.GroupRef: ("group {name}", "额度组 {name}"),
    ast.Uncapped: ("uncapped", "不设上限"),
    ast.EveryTime: ("every time", "每次"),
    ast.Window: ("window {count} within {days} days", "任意{days}天内{count}次"),
    ast.First: ("first {count}[ per {period}]", "[{period:period}]最先{count}名"),
    ast.Rank: (
        "[{side:side} {count} ][{team} ]per {period} by {measure}[ {attribute}][ from {sources}]",
        "{period:period} {measure:measure}[ {attribute}][ 来自 {sources}][ {team}]"
        "[ {side:side}{count}名]",
    ),
    ast.Goal: (
        "goal {team} per {period} by {measure}[ {attribute}]",
        "团队目标 {team} {period:period} {measure:measure}[ {attribute}]",
    ),
    ast.Draw: ("draw {count}", "抽取 {count}人"),
    ast.Cohort: ("cohort {count}", "每组 {count}人"),
    ast.Tiers: ("tiers {names}", "段位 {names}"),
    ast.Promote: ("promote {count}", "晋级 {count}"),
    ast.Demote: ("demote {count}", "降级 {count}"),
    ast.StartWindow: (
        "within {days} days of [first {event:event}|{column}]",
        "[自首次 {event:event} 起|自 {column} 起] {days}天内",
    ),
    ast.OwnPeriods: (
        "periods from [first {event:event}|{column}]",
        "周期 [自首次 {event:event} 起算|自 {column} 起算]",
    ),
    ast.Budget: (
        "budget {points}[ {currency}] per {period}",
        "{period:period}预算 {points}[ {currency}]",
    ),
    ast.Amount: ("amount {attribute}[ {currency}]", "数额 {attribute}[ {currency}]"),
    ast.Minimum: ("minimum {points}", "最低 {points}"),
    ast.Maximum: ("maximum {points}", "最高 {points}"),
    ast.Multiple: ("multiple {points}", "整倍数 {points}"),
    ast.Threshold: ("threshold {points}", "门槛 {points}"),
    ast.Allowance: (
        "allowance {points}[ {currency}] per {period}[ for {granters:quote}]",
        "{period:period}额度 {points}[ {currency}][ 给 {granters:quote}]",
    ),
    ast.By: ("by {attribute}", "依据 {attribute}"),
    ast.Within: ("within {days} days", "{days}天内"),
    ast.Debt: ("debt", "允许欠款"),
    ast.Part: ("part {attribute}[ of {whole}]", "按比例 {attribute}[ 占 {whole}]"),
    ast.To: ("to {attribute}", "转给 {attribute}"),
    ast.Receive: ("receive {points} per {period}", "{period:period}接收上限 {points}"),
    ast.Keep: ("keep {points}", "保留 {points}"),
    ast.ItemAttr: ("item {attribute}", "品名 {attribute}"),
    ast.Stock: ("stock {count}[ per {period}]", "[{period:period}]库存 {count}"),
    ast.Price: ("price {points}[ {currency}]", "价格 {points}[ {currency}]"),
    ast.GiftDecl: (
        "gift {name:event} {{ {clauses:inline} }}",
        "兑换品 {name:event} {{ {clauses:inline} }}",
    ),
    ast.Reason: ("reason {attribute}", "原因 {attribute}"),
    ast.Pending: ("pending {days} days", "冻结 {days}天"),
    ast.Inactive: ("inactive {days} days", "未活跃 {days}天"),
    ast.Inviter: (
        "inviter from {event:event}.{attribute} within {days} days",
        "邀请人 来自 {event:event}.{attribute} {days}天内",
    ),
    ast.Perk: ("{kind:perk} {name:quote}", "{kind:perk} {name:quote}"),
    ast.Streak: ("streak per {period}", "{period:period}连续"),
    ast.Grace: ("grace {count}", "宽限 {count}"),
    ast.Reaching: (
        "reaching {count}[ {attribute}][ earned{earned:flag}]",
        "达标 {count}[ {attribute}][ 所得{earned:flag}]",
    ),
    ast.Milestone: (
        "milestone {measure}[ {attribute}][ per {period}]",
        "[{period:period}][{measure:milestone} {attribute}|累计次数]",
    ),
    ast.Tier: ("at {threshold} {award}", "达到 {threshold} {award}"),
    ast.Every: ("every {interval} {award}", "每满 {interval} {award}"),
    ast.Times: ("times {factor}", "倍率 {factor}"),
    ast.Weekdays: ("on {days:weekday}", "逢 {days:weekday}"),
    ast.Dates: ("from {first} to {last}", "从 {first} 至 {last}"),
    ast.For: ("for {targets}", "适用 {targets}"),
    # the header's lines, and the lines inside `events { }` and `levels { }`
    ast.CurrencyDecl: ("currency {names}", "货币 {names}"),
    ast.TimezoneDecl: ("timezone {zone:quote}", "时区 {zone:quote}"),
    ast.MemberZoneDecl: ("timezone from {attribute}", "时区 来自 {attribute}"),
    ast.DayDecl: ("day ends {ends}", "每天截止 {ends}"),
    ast.WeekDecl: ("week starts {starts:weekday}", "每周始于 {starts:weekday}"),
    ast.SeasonDecl: ("season {first} to {last}", "赛季 {first} 至 {last}"),
    ast.SeedDecl: ("seed {seed}", "随机种子 {seed}"),
    ast.TeamDecl: ("team {names}", "团队 {names}"),
    ast.ExpireDecl: (
        "expire[ {currency}] [after {days} {unit}s[ at end of {rounded}]|at end of {period}]",
        "过期[ {currency}] [{days}{unit:unit}[ {rounded:period_end}]|{period:period_end}]",
    ),
    ast.LevelsDecl: ("levels[ {currency}][ over {days} days]", "等级[ {currency}][ 最近 {days}天]"),
    ast.LevelStep: ("{name} {points}", "{name} {points}"),
    ast.EventDecl: ("{name:event}[({attributes})]", "{name:event}[({attributes})]"),
    ast.AttributeDecl: ("{name}: {type:type}", "{name}: {type:type}"),
}
# A rank that pays the member it names (`pay moderator per week by active`).
_PAY_TEMPLATES = (
    "pay [{pay.member:quote}|{pay.attribute}] per {period} by {measure}[ {attribute}]"
    "[ so far{pay.so_far:flag}]",
    "支付 [{pay.member:quote}|{pay.attribute}] {period:period} {measure:measure}[ {attribute}]"
    "[ 至今{pay.so_far:flag}]",
)
# The heads of blocks (`rule welcome { ... }`).
_BLOCKS: dict[type, tuple[str, str]] = {
    ast.RuleDecl: ("rule", "规则"),
    ast.BoardDecl: ("board", "榜单"),
    ast.BoostDecl: ("boost", "加成"),
    ast.RedeemDecl: ("redeem", "兑换规则"),
    ast.GrantsDecl: ("grants", "发放额度"),
    ast.ReverseDecl: ("reverse", "撤销规则"),
    ast.TransferDecl: ("transfer", "转账规则"),
    ast.CatalogueDecl: ("catalogue", "礼品目录"),
    ast.LeagueDecl: ("league", "联赛"),
    ast.GroupDecl: ("group", "额度组"),
}

# A template's parts: text, a field (its path and kind), or a group of alternatives.
_Part = str | tuple[tuple[str, ...], str] | list[list[Any]]
_TEMPLATE_PART = re.compile(r"\{\{|\}\}|\{([\w.]+)(?::(\w+))?\}|[\[|\]]|[^{}\[\]|]+|.")


@cache
def _parse_template(template: str) -> list[_Part]:
    """A template's parts, once; a stray or unclosed bracket is a bug in the table."""
    parts: list[_Part] = []
    stack: list[list[list[Any]]] = []  # the open groups, each a list of alternatives
    current = parts
    for match in _TEMPLATE_PART.finditer(template):
        token = match.group()
        if match.group(1) is not None:
            current.append((tuple(match.group(1).split(".")), match.group(2) or ""))
        elif token == "[":
            stack.append([[]])
            current.append(stack[-1])
            current = stack[-1][0]
        elif token == "|" and stack:
            stack[-1].append([])
            current = stack[-1][-1]
        elif token == "]" and stack:
            stack.pop()
            current = stack[-1][-1] if stack else parts
        elif token in ("{{", "}}"):
            current.append(token[0])
        elif token in ("{", "}", "|", "]"):
            raise ValueError(f"template {template!r}: a stray `{token}`")
        else:
            current.append(token)
    if stack:
        raise ValueError(f"template {template!r}: a `[` is not closed")
    return parts


def _field(node: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if node is None:
            return None
        node = getattr(node, step)
    return node


def _there(value: Any) -> bool:
    return not (value is None or value is False or value == ())


def _render(parts: list[_Part], node: Any, spelling: Spelling) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, tuple):
            path, kind = part
            out.append(_value(_field(node, path), kind, spelling))
        else:
            for alternative in part:
                fields = [p[0] for p in alternative if isinstance(p, tuple)]
                if all(_there(_field(node, path)) for path in fields):
                    out.append(_render(alternative, node, spelling))
                    break
    return "".join(out)


def _value(value: Any, kind: str, spelling: Spelling) -> str:
    """One field's value in `spelling`: a node by its own template, an expression by
    format_expr, a name or a word by the writer of its kind."""
    if kind == "flag":
        return ""  # a flag is written by its group's words
    if isinstance(value, tuple):
        return ("  " if kind == "inline" else ", ").join(
            _value(item, kind, spelling) for item in value
        )
    if isinstance(value, ast.Name):
        return _VALUES[spelling][kind or "name"](value.value)
    if type(value) in _TEMPLATES:
        return _write(value, spelling)
    if isinstance(value, ast.Node):
        return format_expr(value, spelling)  # type: ignore[arg-type]
    if kind:
        return _VALUES[spelling][kind](value)
    return str(value)


def _write(node: ast.Node, spelling: Spelling) -> str:
    """A clause, a header line or a line inside a block, by its template."""
    if isinstance(node, ast.Rank) and node.pay is not None:
        templates = _PAY_TEMPLATES
    elif type(node) in _TEMPLATES:
        templates = _TEMPLATES[type(node)]
    else:  # pragma: no cover
        raise AssertionError(f"unknown clause {node!r}")
    return _render(_parse_template(templates[spelling == "zh"]), node, spelling)


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
    spelling: Spelling = "en",
) -> str:
    """A clause as written in `spelling`, in the order an operator says it."""
    return _write(clause, spelling)


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
        _format_item(out, item, spelling)
    out.rest("  ")
    out.lines.append("}")
    return "\n".join(out.lines) + "\n"


def _format_item(out: _Writer, item: ast.Item, spelling: Spelling) -> None:
    zh = spelling == "zh"
    head = _BLOCKS.get(type(item))
    if head is not None:
        block: Any = item  # a named block: its clauses (a group's caps)
        body = block.caps if isinstance(item, ast.GroupDecl) else block.clauses
        name = _VALUES[spelling]["name"](block.name.value)
        _block(out, f"{head[zh]} {name}", item.span, _clause_lines(body, spelling))
    elif isinstance(item, ast.EventsDecl):
        lines = [(_write(event, spelling), event.span) for event in item.events]
        _block(out, "事件" if zh else "events", item.span, lines)
    elif isinstance(item, ast.LevelsDecl):
        steps = [(_write(step, spelling), step.span) for step in item.steps]
        _block(out, _write(item, spelling), item.span, steps)
    else:
        out.emit("  ", _write(item, spelling), item.span)


def _clause_lines(clauses: tuple[Any, ...], spelling: Spelling) -> list[tuple[str, Span]]:
    """A block's clauses, one a line; `every time` right after a perk goes on the
    perk's line (`badge "helper" every time`)."""
    lines: list[tuple[str, Span]] = []
    for index, clause in enumerate(clauses):
        if isinstance(clause, ast.EveryTime) and index and isinstance(clauses[index - 1], ast.Perk):
            text, span = lines[-1]
            lines[-1] = (f"{text} {_write(clause, spelling)}", span)
        else:
            lines.append((_write(clause, spelling), clause.span))
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
