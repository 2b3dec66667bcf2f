"""Text -> AST. The only module that touches lark.

`parse(text, file)` returns an `ast.Scheme` or raises `SchemeError` with one
diagnostic that names the file, line and column, says what was expected in
words and suggests the nearest keyword for a misspelling.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Token, Transformer_NonRecursive, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from incentive import ast
from incentive.diagnostics import Diagnostic, SchemeError, Severity, Span, did_you_mean

# Limits that keep a hostile or broken file from hanging or crashing the parser
# (reliability.md #12). Each has its own error code and message.
MAX_SOURCE_BYTES = 1_000_000
MAX_NESTING = 100
MAX_INTEGER_DIGITS = 12
MAX_DECIMAL_PLACES = 6
MAX_STRING_LENGTH = 1_000
MAX_NAME_LENGTH = 100


def grammar_text() -> str:
    """The grammar shipped inside the package, or the repository's copy in a source checkout."""
    packaged = resources.files("incentive").joinpath("incentive.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "grammar" / "incentive.lark").read_text(
        encoding="utf-8"
    )


@functools.cache
def lark_parser() -> lark.Lark:
    """Build the LALR parser once per process; strict mode fails loudly on any conflict."""
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=True,
    )


# ---- errors in words ------------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INT": "a whole number",
    "DATE": "a date (YYYY-MM-DD)",
    "TIME": "a time of day (HH:MM)",
    "STRING": 'a quoted string ("...")',
    "COMPARE": "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "PERIOD": "a period (`day`, `week`, `month`, `season`)",
    "ROUNDING_MODE": "`down`, `up` or `nearest`",
    "$END": "the end of the file",
}
# Words a misspelling may be near, for terminals that are alternatives of words.
_TERMINAL_CHOICES = {
    "PERIOD": ("day", "week", "month", "season"),
    "ROUNDING_MODE": ("down", "up", "nearest"),
}


def _terminal_word(name: str) -> tuple[str, tuple[str, ...]]:
    """How to say a terminal in an error, and the literal words it stands for."""
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name], _TERMINAL_CHOICES.get(name, ())
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return name.lower(), ()
    if isinstance(pattern, lark.lexer.PatternStr):
        return f"`{pattern.value}`", (pattern.value,)
    return name.lower(), ()


# Long lists of keywords read better as the kind of thing expected.
_KEYWORD_GROUPS = (
    (
        frozenset(
            {
                "on",
                "where",
                "award",
                "limit",
                "once",
                "cap",
                "group",
                "uncapped",
                "streak",
                "milestone",
                "at",
                "every",
                "grace",
                "top",
                "bottom",
            }
        ),
        "a rule clause (`on`, `where`, `award`, `limit`, `cap`, ...)",
    ),
    (
        frozenset(
            {"currency", "timezone", "day", "week", "season", "events", "group", "rule", "boost"}
        ),
        "a declaration (`rule`, `group`, `boost`, `currency`, `timezone`, ...)",
    ),
)


def _expected_words(expected: set[str]) -> tuple[str, list[str]]:
    words: list[str] = []
    literals: list[str] = []
    for name in expected:
        _, choices = _terminal_word(name)
        literals.extend(c for c in choices if c.isidentifier())
    keywords = set(literals)
    for group, phrase in _KEYWORD_GROUPS:
        if group <= keywords:
            words.append(phrase)
            expected = {n for n in expected if not (set(_terminal_word(n)[1]) & group)}
    for name in expected:
        words.append(_terminal_word(name)[0])
    # Keywords first, in alphabetical order, then descriptions: stable and readable.
    words = sorted(set(words), key=lambda w: (not w.startswith("`"), w))
    if len(words) == 1:
        text = words[0]
    elif len(words) == 2:
        text = f"{words[0]} or {words[1]}"
    elif len(words) <= 12:
        text = "one of " + ", ".join(words[:-1]) + " or " + words[-1]
    else:
        text = "one of " + ", ".join(words[:12]) + ", ..."
    return text, literals


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type in ("NAME", "NUMBER", "INT", "DATE", "TIME"):
        return f"`{token.value}`"
    if token.type == "STRING":
        return f"the string {token.value}"
    return f"`{token.value}`"


# Clauses that take a whole number, and how to name it in an error.
_WHOLE_NUMBER_CLAUSES = {
    "limit": "a limit",
    "cap": "a cap",
    "at": "a streak length or threshold",
    "every": "`every`",
    "grace": "`grace`",
    "top": "a rank's N",
    "bottom": "a rank's N",
}
_COUNT_BEFORE_POINT = re.compile(r"\b(" + "|".join(_WHOLE_NUMBER_CLAUSES) + r")\s+(\d+)$")
_FRACTION = re.compile(r"\.\d+")


def _fraction_error(
    text: str, position: int, line: int, column: int
) -> tuple[str, str, Span, tuple[str, ...]] | None:
    """`limit 1.5 per day`: the lexer stops at the `.` of a count that must be whole."""
    before = _COUNT_BEFORE_POINT.search(text, max(0, position - 40), position)
    after = _FRACTION.match(text, position)
    if before is None or after is None:
        return None
    keyword, whole = before.group(1), before.group(2)
    written = whole + after.group()
    start = column - len(whole)
    lower = int(whole)
    options = f"`{keyword} {lower}` or `{keyword} {lower + 1}`" if lower else f"`{keyword} 1`"
    return (
        "E0101",
        f"unexpected `{written}`: {_WHOLE_NUMBER_CLAUSES[keyword]} needs a whole number",
        Span(line, start, line, column + len(after.group())),
        (f"write {options}",),
    )


def _syntax_error(err: UnexpectedInput, text: str, file: str) -> SchemeError:
    line = getattr(err, "line", 1) or 1
    column = getattr(err, "column", 1) or 1
    hints: list[str] = []
    fraction = None
    if isinstance(err, UnexpectedCharacters) and text[err.pos_in_stream or 0 :][:1] == ".":
        fraction = _fraction_error(text, err.pos_in_stream or 0, line, column)
    if fraction is not None:
        code, message, span, extra = fraction
        hints.extend(extra)
    elif isinstance(err, UnexpectedCharacters):
        position = err.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        code = "E0102"
        message = f"unexpected character `{char}`"
        if char == "'":
            hints.append('strings are written in double quotes: "..."')
        span = Span.point(line, column)
    elif isinstance(err, UnexpectedToken) and err.token.type != "$END":
        token = err.token
        expected, literals = _expected_words(set(err.expected))
        code = "E0101"
        message = f"unexpected {_describe_token(token)}: expected {expected}"
        if token.type in ("NAME", "PERIOD", "ROUNDING_MODE") or str(token.value).isidentifier():
            near = did_you_mean(str(token.value), literals)
            if near and near != token.value:
                hints.append(f"did you mean `{near}`?")
        end_col = (token.end_column or column + 1) if token.end_line == token.line else column + 1
        span = Span(line, column, line, end_col)
    else:
        expected_set: set[str] = set(getattr(err, "expected", ()) or ())
        code = "E0103"
        message = "the file ended before the scheme was complete"
        if 0 < len(expected_set) <= 3:
            message += ": expected " + _expected_words(expected_set)[0]
        if text.count("{") > text.count("}"):
            hints.append("a `{` is still open: every `{` needs its `}`")
        lines = text.rstrip().split("\n")
        line = len(lines)
        column = len(lines[-1]) + 1
        span = Span.point(line, column)
    return SchemeError([Diagnostic(code, Severity.ERROR, message, span, file, tuple(hints))], text)


def _limit_error(
    code: str, message: str, span: Span, file: str, text: str, hint: str
) -> SchemeError:
    return SchemeError([Diagnostic(code, Severity.ERROR, message, span, file, (hint,))], text)


# ---- tree -> AST ----------------------------------------------------------------


def _span(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, 0, 0, 0)
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(token: Token) -> Span:
    return Span(token.line or 0, token.column or 0, token.end_line or 0, token.end_column or 0)


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


class _LimitExceeded(Exception):
    def __init__(self, code: str, message: str, span: Span, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.span, self.hint = code, message, span, hint


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    if len(body) > MAX_STRING_LENGTH:
        raise _LimitExceeded(
            "E0106",
            f"string longer than {MAX_STRING_LENGTH} characters",
            _token_span(token),
            "names, zones and values in a scheme are short; long text belongs in docs",
        )
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif (
            nxt == "u"
            and len(body) >= i + 6
            and all(c in "0123456789abcdefABCDEF" for c in body[i + 2 : i + 6])
        ):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            span = _token_span(token)
            col = span.column + 1 + i
            raise _LimitExceeded(
                "E0107",
                f"unknown escape `\\{nxt}` in a string",
                Span(span.line, col, span.line, col + 2),
                'the escapes are \\" \\\\ \\n \\t \\r and \\uXXXX',
            )
    return "".join(out)


def _number(token: Token) -> Decimal:
    text = str(token)
    whole, _, frac = text.partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise _LimitExceeded(
            "E0105",
            f"number `{text[:20]}{'...' if len(text) > 20 else ''}` is too large "
            f"(the limit is {MAX_INTEGER_DIGITS} digits)",
            _token_span(token),
            "points are whole numbers well below a trillion",
        )
    if len(frac) > MAX_DECIMAL_PLACES:
        raise _LimitExceeded(
            "E0105",
            f"number `{text[:20]}` has more than {MAX_DECIMAL_PLACES} decimal places",
            _token_span(token),
            "write at most six digits after the point",
        )
    return Decimal(text)


def _int(token: Token) -> int:
    return int(_number(token))


def _bare_name(token: Token) -> str:
    """A NAME token's text; a name longer than MAX_NAME_LENGTH is an error (E0109)."""
    value = str(token)
    if len(value) > MAX_NAME_LENGTH:
        raise _LimitExceeded(
            "E0109",
            f"name `{value[:20]}...` is longer than {MAX_NAME_LENGTH} characters",
            _token_span(token),
            "names are short words; describe a rule in a `#` comment above it",
        )
    return value


def _name(token: Token) -> ast.Name:
    value = _unquote(token) if token.type == "STRING" else _bare_name(token)
    return ast.Name(value, span=_token_span(token))


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive[Token, ast.Scheme]):
    """lark.Tree -> ast nodes. Non-recursive, so deep input cannot overflow the stack."""

    def start(self, meta: Any, children: list[Any]) -> ast.Scheme:
        return children[0]  # type: ignore[no-any-return]

    def scheme(self, meta: Any, children: list[Any]) -> ast.Scheme:
        name, *items = children
        return ast.Scheme(_unquote(name), tuple(items), span=_span(meta))

    # header
    def name_list(self, meta: Any, children: list[Token]) -> tuple[ast.Name, ...]:
        return tuple(_name(t) for t in children)

    def currency_decl(self, meta: Any, children: list[Any]) -> ast.CurrencyDecl:
        return ast.CurrencyDecl(children[0], span=_span(meta))

    def timezone_decl(self, meta: Any, children: list[Token]) -> ast.TimezoneDecl:
        return ast.TimezoneDecl(_unquote(children[0]), span=_span(meta))

    def day_decl(self, meta: Any, children: list[Token]) -> ast.DayDecl:
        return ast.DayDecl(str(children[0]), span=_span(meta))

    def week_decl(self, meta: Any, children: list[Token]) -> ast.WeekDecl:
        return ast.WeekDecl(_name(children[0]), span=_span(meta))

    def season_decl(self, meta: Any, children: list[Token]) -> ast.SeasonDecl:
        return ast.SeasonDecl(str(children[0]), str(children[1]), span=_span(meta))

    def events_decl(self, meta: Any, children: list[ast.EventDecl]) -> ast.EventsDecl:
        return ast.EventsDecl(tuple(children), span=_span(meta))

    def event_decl(self, meta: Any, children: list[Any]) -> ast.EventDecl:
        name, *attrs = children
        return ast.EventDecl(
            _name(name), tuple(a for a in attrs if a is not None), span=_span(meta)
        )

    def attr_decl(self, meta: Any, children: list[Token]) -> ast.AttributeDecl:
        return ast.AttributeDecl(_name(children[0]), _name(children[1]), span=_span(meta))

    def group_decl(self, meta: Any, children: list[Any]) -> ast.GroupDecl:
        name, *caps = children
        return ast.GroupDecl(_name(name), tuple(caps), span=_span(meta))

    # rules
    def rule_decl(self, meta: Any, children: list[Any]) -> ast.RuleDecl:
        name, *clauses = children
        return ast.RuleDecl(_name(name), tuple(clauses), span=_span(meta))

    def on_clause(self, meta: Any, children: list[Token]) -> ast.On:
        return ast.On(tuple(_name(t) for t in children), span=_span(meta))

    def where_clause(self, meta: Any, children: list[Any]) -> ast.Where:
        return ast.Where(children[0], span=_span(meta))

    def award_clause(self, meta: Any, children: list[Any]) -> ast.Award:
        *amounts, currency, rounding = children
        return ast.Award(
            amounts[0],
            _name(currency) if currency is not None else None,
            rounding,
            tuple(amounts[1:]),
            span=_span(meta),
        )

    def rank_clause(self, meta: Any, children: list[Any]) -> ast.Rank:
        side, count, period, (measure, attribute, sources) = children
        return ast.Rank(
            side,
            _int(count),
            str(period),  # type: ignore[arg-type]
            measure,
            attribute,
            sources,
            span=_span(meta),
        )

    def rank_side(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def by_earliest(self, meta: Any, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("earliest", None, ())

    def by_count(self, meta: Any, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("count", None, ())

    def by_sum(self, meta: Any, children: list[Token]) -> tuple[str, ast.Name, tuple[()]]:
        return ("sum", _name(children[0]), ())

    def by_max(self, meta: Any, children: list[Token]) -> tuple[str, ast.Name, tuple[()]]:
        return ("max", _name(children[0]), ())

    def by_points(self, meta: Any, children: list[Any]) -> tuple[str, None, tuple[ast.Name, ...]]:
        return ("points", None, children[0] or ())

    def rounding(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def limit_clause(self, meta: Any, children: list[Any]) -> ast.Limit:
        return ast.Limit(_int(children[0]), children[1], span=_span(meta))

    def per_period(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def ever(self, meta: Any, children: list[Any]) -> None:
        return None

    def once_clause(self, meta: Any, children: list[Any]) -> ast.Once:
        return ast.Once(span=_span(meta))

    def cap_clause(self, meta: Any, children: list[Token]) -> ast.Cap:
        return ast.Cap(_int(children[0]), str(children[1]), span=_span(meta))  # type: ignore[arg-type]

    def group_clause(self, meta: Any, children: list[Token]) -> ast.GroupRef:
        return ast.GroupRef(_name(children[0]), span=_span(meta))

    def uncapped_clause(self, meta: Any, children: list[Any]) -> ast.Uncapped:
        return ast.Uncapped(span=_span(meta))

    def streak_clause(self, meta: Any, children: list[Token]) -> ast.Streak:
        return ast.Streak(str(children[0]), span=_span(meta))  # type: ignore[arg-type]

    def grace_clause(self, meta: Any, children: list[Token]) -> ast.Grace:
        return ast.Grace(_int(children[0]), span=_span(meta))

    def milestone_count(self, meta: Any, children: list[Any]) -> ast.Milestone:
        return ast.Milestone("count", None, children[0], span=_span(meta))

    def milestone_sum(self, meta: Any, children: list[Any]) -> ast.Milestone:
        return ast.Milestone("sum", _name(children[0]), children[1], span=_span(meta))

    def tier_clause(self, meta: Any, children: list[Any]) -> ast.Tier:
        return ast.Tier(_int(children[0]), children[1], span=_span(meta))

    def every_clause(self, meta: Any, children: list[Any]) -> ast.Every:
        return ast.Every(_int(children[0]), children[1], span=_span(meta))

    # boosts
    def boost_decl(self, meta: Any, children: list[Any]) -> ast.BoostDecl:
        name, *clauses = children
        return ast.BoostDecl(_name(name), tuple(clauses), span=_span(meta))

    def times_clause(self, meta: Any, children: list[Token]) -> ast.Times:
        return ast.Times(_number(children[0]), span=_span(meta))

    def weekdays_clause(self, meta: Any, children: list[Token]) -> ast.Weekdays:
        return ast.Weekdays(tuple(_name(t) for t in children), span=_span(meta))

    def dates_clause(self, meta: Any, children: list[Token]) -> ast.Dates:
        return ast.Dates(str(children[0]), str(children[1]), span=_span(meta))

    def for_clause(self, meta: Any, children: list[Any]) -> ast.For:
        return ast.For(children[0], span=_span(meta))

    # expressions
    def or_(self, meta: Any, children: list[Any]) -> ast.Binary:
        return ast.Binary("or", children[0], children[1], span=_span(meta))

    def and_(self, meta: Any, children: list[Any]) -> ast.Binary:
        return ast.Binary("and", children[0], children[1], span=_span(meta))

    def not_(self, meta: Any, children: list[Any]) -> ast.Not:
        return ast.Not(children[0], span=_span(meta))

    def compare(self, meta: Any, children: list[Any]) -> ast.Binary:
        return ast.Binary(str(children[1]), children[0], children[2], span=_span(meta))  # type: ignore[arg-type]

    def binary(self, meta: Any, children: list[Any]) -> ast.Binary:
        return ast.Binary(str(children[1]), children[0], children[2], span=_span(meta))  # type: ignore[arg-type]

    def in_(self, meta: Any, children: list[Any]) -> ast.Membership:
        return ast.Membership(children[0], children[1], False, span=_span(meta))

    def not_in(self, meta: Any, children: list[Any]) -> ast.Membership:
        return ast.Membership(children[0], children[1], True, span=_span(meta))

    def value_list(self, meta: Any, children: list[Any]) -> tuple[ast.Expr, ...]:
        return tuple(c for c in children if c is not None)

    def negate(self, meta: Any, children: list[Any]) -> ast.Expr:
        operand = children[0]
        return ast.Negate(operand, span=_span(meta))

    def paren(self, meta: Any, children: list[Any]) -> ast.Expr:
        return children[0]  # type: ignore[no-any-return]

    def number(self, meta: Any, children: list[Token]) -> ast.Number:
        return ast.Number(_number(children[0]), span=_token_span(children[0]))

    def string(self, meta: Any, children: list[Token]) -> ast.String:
        return ast.String(_unquote(children[0]), span=_token_span(children[0]))

    def true(self, meta: Any, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(True, span=_span(meta))

    def false(self, meta: Any, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(False, span=_span(meta))

    def attribute(self, meta: Any, children: list[Token]) -> ast.Attribute:
        return ast.Attribute(_bare_name(children[0]), span=_token_span(children[0]))

    def call(self, meta: Any, children: list[Any]) -> ast.Call:
        name, *args = children
        return ast.Call(_bare_name(name), tuple(args), span=_span(meta))


def _check_nesting(tree: Tree[Token], text: str, file: str) -> None:
    """Reject absurd nesting before anything recursive sees the tree."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise _limit_error(
                "E0104",
                f"expression nested more than {MAX_NESTING} levels deep",
                _span(node.meta),
                file,
                text,
                "split the condition into simpler parts",
            )
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def parse(text: str, file: str = "<scheme>") -> ast.Scheme:
    """Parse scheme text into an AST; raise SchemeError on the first syntax error."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise _limit_error(
            "E0108",
            f"scheme file is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}",
            Span.point(1, 1),
            file,
            text[:1000],
            "a scheme is a page of rules; event data belongs in an events file",
        )
    try:
        tree = lark_parser().parse(text)
    except (UnexpectedToken, UnexpectedCharacters, UnexpectedEOF) as err:
        raise _syntax_error(err, text, file) from None
    _check_nesting(tree, text, file)
    try:
        result = _ToAst().transform(tree)
    except _LimitExceeded as err:
        raise _limit_error(err.code, err.message, err.span, file, text, err.hint) from None
    except lark.exceptions.VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, _LimitExceeded):
            raise _limit_error(
                inner.code, inner.message, inner.span, file, text, inner.hint
            ) from None
        raise
    assert isinstance(result, ast.Scheme)
    return dataclasses.replace(result, comments=find_comments(text))


def find_comments(text: str) -> tuple[ast.Comment, ...]:
    """Every `#` comment outside a string (strings never span lines)."""
    comments: list[ast.Comment] = []
    for number, line in enumerate(text.split("\n"), start=1):
        in_string = escaped = False
        for column, ch in enumerate(line, start=1):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#":
                comments.append(ast.Comment(number, column, line[column - 1 :].rstrip()))
                break
    return tuple(comments)
