"""Text -> AST. The only module that touches lark (and only to build the tables).

`parse(text, file)` returns an `ast.Scheme` or raises `SchemeError` with one
diagnostic that names the file, line and column, says what was expected in
words and suggests the nearest keyword for a misspelling.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import io
import itertools
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from incentive import ast, lalr
from incentive.diagnostics import Diagnostic, SchemeError, Severity, Span, did_you_mean, line_of
from incentive.i18n import N_, _
from incentive.lalr import Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from incentive.spelling import (
    KEYWORDS_EN_TO_ZH,
    PERIOD_END_FROM_ZH,
    PERIOD_FROM_ZH,
    PERK_KIND_FROM_ZH,
    ROUNDING_FROM_ZH,
    SIDE_FROM_ZH,
    TYPE_FROM_ZH,
    WEEKDAY_FROM_ZH,
    Spelling,
    spelling_of,
    zh_grammar_text,
    zh_keyword_prefix,
    zh_keyword_set,
)

if TYPE_CHECKING:
    import lark

# Limits that keep a hostile or broken file from hanging or crashing the parser
# (reliability.md #12). Each has its own error code and message.
MAX_SOURCE_BYTES = 1_000_000
MAX_NESTING = 100
MAX_INTEGER_DIGITS = 12
MAX_DECIMAL_PLACES = 6
MAX_STRING_LENGTH = 1_000
MAX_NAME_LENGTH = 100
# Parsing costs 10-20 µs per token (lark's lexer and LALR loop), so only the token
# count bounds the parse time: a 300,000-item list, well under MAX_SOURCE_BYTES,
# took half a minute. 50,000 tokens are a few thousand rules and parse in under a
# second; a scheme is a page of rules.
MAX_TOKENS = 50_000


def grammar_text() -> str:
    """The grammar shipped inside the package, or the repository's copy in a source checkout."""
    packaged = resources.files("incentive").joinpath("incentive.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "grammar" / "incentive.lark").read_text(
        encoding="utf-8"
    )


# The one parser's options (part of the cache key below, and of the tables' key).
LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    # strict: any shift/reduce conflict or overlap of two terminals is an error. Lark can
    # prove the overlaps only with `interegular` (a dev extra); without it, strict mode
    # refuses to build at all. The tables are the same either way for a grammar that
    # passes (tests/test_startup.py compares), so strict is used where it can be: in the
    # tests, which import interegular first (tests/conftest.py), and when the tables are
    # generated (python -m incentive.lalrgen). Set when lark is first imported (_lark()):
    # lark there is imported without interegular (incentive/leanlark.py).
    "keep_all_tokens": True,  # spans include keywords; _reducer drops them from the values
    "maybe_placeholders": True,
}


def _lark() -> Any:
    """lark, imported on first use: only to build the tables from a grammar that the
    generated ones are not (a grammar edited and not regenerated), and by the tests."""
    # isort: off
    from incentive import leanlark  # before lark: imports it without its extras
    import lark

    # isort: on
    LARK_OPTIONS.setdefault("strict", leanlark.can_be_strict())
    return lark


def lark_options() -> dict[str, Any]:
    """LARK_OPTIONS, with `strict` as it is in this process (lark imported)."""
    _lark()
    return LARK_OPTIONS


def build_lark_parser() -> lark.Lark:
    """Build the LALR parser from the grammar: the reference, and a third of a second."""
    module = _lark()
    with no_cyclic_gc():
        return cast(
            "lark.Lark",
            module.Lark(
                grammar_text(),
                **LARK_OPTIONS,
                transformer=_callbacks(),  # build the AST while parsing (see _reducer)
            ),
        )


def build_lark_parser_zh() -> lark.Lark:
    """Build the parser of the Chinese spelling (grammar/incentive_zh.lark)."""
    module = _lark()
    with no_cyclic_gc():
        return cast(
            "lark.Lark",
            module.Lark(
                zh_grammar_text(),
                **LARK_OPTIONS,
                transformer=_callbacks(_ToAstZh),
                lexer_callbacks=_ZH_LEXER_CALLBACKS,
            ),
        )


@functools.cache
def lark_parser() -> lark.Lark:
    """lark's parser, once per process: from the cache file when it holds this grammar's
    (start-up: docs/performance.md), else built and saved there for the next process.
    A parser from the cache has no `.grammar`; build_lark_parser() has. Parsing does
    not use it while the generated tables are this grammar's (tables() below)."""
    grammar = grammar_text()
    path = parser_cache_file(grammar)
    if path is not None:
        cached = load_cached_parser(path, grammar)
        if cached is not None:
            return cached
    parser = build_lark_parser()
    if path is not None:
        save_cached_parser(parser, path, grammar)
    return parser


@functools.cache
def lark_parser_zh() -> lark.Lark:
    """lark's parser of the Chinese spelling, built or loaded only when needed (an
    English scheme never pays for it), and cached the same way."""
    grammar = zh_grammar_text()
    path = parser_cache_file(grammar)
    if path is not None:
        cached = load_cached_parser(path, grammar, "zh")
        if cached is not None:
            return cached
    parser = build_lark_parser_zh()
    if path is not None:
        save_cached_parser(parser, path, grammar)
    return parser


# ---- the generated tables -------------------------------------------------------
# `incentive check` parses with incentive/lalr.py, from the tables that
# `python -m incentive.lalrgen` generated from the grammar with lark (checked in as
# incentive/parser_en.json and parser_zh.json): no lark to import, no parser to load,
# one regular expression per terminal to compile (docs/performance.md, "Start-up").
# Each file's key is that of the grammar it was generated from: a file whose key is
# not this grammar's (the grammar edited, the file not regenerated) is never used,
# the tables are built from the grammar with lark instead (slower, the same outcome).


def tables_key(grammar: str) -> str:
    """What the tables are made from, whole: the grammar's text and the options lark
    builds with (strict mode aside: it only proves, and gives the same tables).
    Compared whole rather than by a digest: importing hashlib alone cost a cold
    check about 30 M instructions (OpenSSL's library loaded)."""
    kept = sorted((k, v) for k, v in LARK_OPTIONS.items() if k != "strict")
    return "\0".join([grammar, repr(kept)])


def _sha256(data: bytes) -> str:
    import hashlib  # only for lark's parser cache, which a command rarely needs

    return hashlib.sha256(data).hexdigest()


def tables_file(spelling: Spelling) -> Path:
    return Path(__file__).resolve().parent / f"parser_{spelling}.json"


@functools.cache
def tables(spelling: Spelling = "en") -> lalr.Grammar:
    """The parser tables of a spelling: the generated file's, when it was generated
    from this grammar, else extracted from lark's parser of it."""
    grammar = zh_grammar_text() if spelling == "zh" else grammar_text()
    key = tables_key(grammar)
    try:
        generated = lalr.Grammar.from_json(tables_file(spelling).read_bytes())
        if generated.key == key:
            return generated
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: built below
    built = lark_parser_zh() if spelling == "zh" else lark_parser()
    return lalr.Grammar(lalr.extract(built, key))


def runtime_parser(spelling: Spelling = "en", grammar: lalr.Grammar | None = None) -> lalr.Parser:
    """A parser of the spelling over its tables (or `grammar`), building the AST."""
    grammar = grammar or tables(spelling)
    if spelling == "zh":
        return lalr.Parser(grammar, _callbacks(_ToAstZh), _ZH_LEXER_CALLBACKS)
    return lalr.Parser(grammar, _callbacks())


@functools.cache
def scheme_parser(spelling: Spelling) -> lalr.Parser:
    """The parser `parse` uses, once per process and spelling."""
    return runtime_parser(spelling)


# ---- the parser cache -----------------------------------------------------------
# Building the parser (lark's grammar analysis and strict mode's collision checks)
# cost more than everything else `incentive check` does. The built tables are kept in
# one file per grammar, lark and Python, in the user's cache folder:
#
#   incentive parser cache 1
#   <cache_key(): sha256 of the grammar, the options, lark's version, Python's>
#   <sha256 of the payload>
#   <payload: lark's Lark.save() of the parser>
#
# A file whose key or digest does not match, or that does not load, is ignored and
# replaced; a folder that cannot be written only means building each time. Files are
# written whole under another name, then renamed, so a reader never sees half a file.

CACHE_FORMAT = b"incentive parser cache 1"


def cache_key(grammar: str) -> str:
    """What the built parser depends on: the grammar, its options, lark and Python."""
    version = _lark().__version__
    parts = (grammar, repr(sorted(LARK_OPTIONS.items())), version, sys.version)
    return _sha256("\0".join(parts).encode("utf-8"))


def cache_dir() -> Path | None:
    """$INCENTIVE_CACHE_DIR, else the platform's per-user cache folder + `incentive`."""
    configured = os.environ.get("INCENTIVE_CACHE_DIR")
    if configured:
        return Path(configured)
    try:
        if sys.platform == "win32":
            local = os.environ.get("LOCALAPPDATA")
            base = Path(local) if local else Path.home() / "AppData" / "Local"
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            xdg = os.environ.get("XDG_CACHE_HOME")
            base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    except RuntimeError:  # no home folder to be found
        return None
    return base / "incentive"


def parser_cache_file(grammar: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"parser-{cache_key(grammar)[:24]}.cache"


def load_cached_parser(path: Path, grammar: str, spelling: Spelling = "en") -> lark.Lark | None:
    """The parser saved in `path` for this grammar, or None (missing, stale, corrupt)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    parts = data.split(b"\n", 3)
    if len(parts) != 4:
        return None
    header, key, digest, payload = parts
    if (
        header != CACHE_FORMAT
        or key != cache_key(grammar).encode()
        or digest != _sha256(payload).encode()
    ):
        return None
    try:
        with no_cyclic_gc():
            # Lark.load() takes no transformer; _load() is what it and lark's own cache
            # call. Any failure (say, a lark whose format moved) means building instead.
            module = _lark()
            parser = module.Lark.__new__(module.Lark)
            if spelling == "zh":
                return parser._load(  # type: ignore[no-any-return]
                    io.BytesIO(payload),
                    transformer=_callbacks(_ToAstZh),
                    lexer_callbacks=_ZH_LEXER_CALLBACKS,
                )
            return parser._load(io.BytesIO(payload), transformer=_callbacks())  # type: ignore[no-any-return]
    except Exception:
        return None


def save_cached_parser(parser: lark.Lark, path: Path, grammar: str) -> None:
    """Save the parser for later processes, if the folder can be written; else nothing
    (the cache only saves time: no failure to save it may stop a command)."""
    temporary = None
    try:
        buffer = io.BytesIO()
        # callbacks are bound on load
        parser.save(buffer, exclude_options=("transformer", "lexer_callbacks"))
        payload = buffer.getvalue()
        digest = _sha256(payload).encode()
        header = b"\n".join([CACHE_FORMAT, cache_key(grammar).encode(), digest, b""])
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(header + payload)
        os.replace(temporary, path)
    except Exception:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


# ---- errors in words ------------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": N_("a name"),
    "NUMBER": N_("a number"),
    "INT": N_("a whole number"),
    "DATE": N_("a date (YYYY-MM-DD)"),
    "TIME": N_("a time of day (HH:MM)"),
    "STRING": N_('a quoted string ("...")'),
    "COMPARE": N_("a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)"),
    "ADD_OP": N_("`+` or `-`"),
    "MUL_OP": N_("`*` or `/`"),
    "PERIOD": N_("a period (`day`, `week`, `month`, `quarter`, `year`, `season`)"),
    "ROUNDING_MODE": N_("`down`, `up` or `nearest`"),
    "$END": N_("the end of the file"),
}
# Words a misspelling may be near, for terminals that are alternatives of words.
_TERMINAL_CHOICES = {
    "PERIOD": ("day", "week", "month", "quarter", "year", "season"),
    "ROUNDING_MODE": ("down", "up", "nearest"),
}


def _terminal_word(name: str, spelling: Spelling = "en") -> tuple[str, tuple[str, ...]]:
    """How to say a terminal in an error, and the literal words it stands for."""
    if spelling == "zh" and name in _TERMINAL_WORDS_ZH:
        return _(_TERMINAL_WORDS_ZH[name]), _TERMINAL_CHOICES_ZH.get(name, ())
    if name in _TERMINAL_WORDS:
        return _(_TERMINAL_WORDS[name]), _TERMINAL_CHOICES.get(name, ())
    try:
        literal = tables(spelling).literal(name)
    except KeyError:
        return name.lower(), ()
    if literal is not None:
        return f"`{literal}`", (literal,)
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
                "perk",
                "badge",
                "budget",
                "inactive",
                "inviter",
                "flag",
                "pending",
                "reason",
                "credit",
                "pay",
                "window",
                "reaching",
                "first",
                "goal",
                "draw",
                "within",
                "periods",
            }
        ),
        N_("a rule clause (`on`, `where`, `award`, `limit`, `cap`, ...)"),
    ),
    (
        frozenset(
            {
                "currency",
                "timezone",
                "day",
                "week",
                "season",
                "events",
                "team",
                "group",
                "rule",
                "board",
                "boost",
                "expire",
                "budget",
                "redeem",
                "grants",
                "reverse",
                "transfer",
                "catalogue",
                "levels",
                "seed",
            }
        ),
        N_("a declaration (`rule`, `group`, `board`, `team`, `boost`, `currency`, ...)"),
    ),
)


# The Chinese spelling's terminals in words, and its groups of keywords.
_TERMINAL_WORDS_ZH = {
    "PERIOD": N_("a period (`每天`, `每周`, `每月`, `每季度`, `每年`, `每赛季`)"),
    "PERIOD_END": N_(
        "the end of a period (`到日末`, `到周末`, `到月末`, `到季末`, `到年末`, `到赛季末`)"
    ),
    "STREAK_ZH": N_("a streak (`每天连续`, `每周连续`, ...)"),
    "ROUNDING_MODE": N_("`向下取整`, `向上取整` or `四舍五入`"),
    "TOP": "`前`",
    "BOTTOM": "`倒数`",
    "PERK": "`权益`",
    "BADGE": "`徽章`",
    "FLAG": "`标记`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COLON": "`:`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "MINUS": "`-`",
    "NAME": N_("a name"),
}
_TERMINAL_CHOICES_ZH = {
    "PERIOD": ("每天", "每周", "每月", "每季度", "每年", "每赛季"),
    "ROUNDING_MODE": ("向下取整", "向上取整", "四舍五入"),
    "TOP": ("前",),
    "BOTTOM": ("倒数",),
    "PERK": ("权益",),
    "BADGE": ("徽章",),
    "FLAG": ("标记",),
}
_KEYWORD_GROUPS_ZH = (
    (
        frozenset(
            {"当", "条件", "奖励", "仅一次", "额度组", "不设上限", "宽限", "累计次数", "达到"}
            | {"每满", "未活跃", "邀请人", "冻结", "原因", "记给", "每次", "任意", "达标", "最先"}
        ),
        N_("a rule clause (`当`, `条件`, `奖励`, `每天限…次`, `每天上限`, ...)"),
    ),
    (
        frozenset(
            {"货币", "时区", "每天截止", "每周始于", "赛季", "事件", "团队", "额度组", "规则"}
            | {"榜单", "加成", "过期", "兑换规则", "发放额度", "撤销规则", "转账规则"}
            | {"礼品目录", "等级", "随机种子"}
        ),
        N_("a declaration (`规则`, `额度组`, `榜单`, `团队`, `加成`, `货币`, ...)"),
    ),
)


def _expected_words(expected: set[str], spelling: Spelling = "en") -> tuple[str, list[str]]:
    words: list[str] = []
    literals: list[str] = []
    for name in expected:
        _word, choices = _terminal_word(name, spelling)
        literals.extend(c for c in choices if c.isidentifier())
    keywords = set(literals)
    for group, phrase in _KEYWORD_GROUPS_ZH if spelling == "zh" else _KEYWORD_GROUPS:
        if group <= keywords:
            words.append(_(phrase))
            expected = {n for n in expected if not (set(_terminal_word(n, spelling)[1]) & group)}
    for name in expected:
        words.append(_terminal_word(name, spelling)[0])
    # Keywords first, in alphabetical order, then descriptions: stable and readable.
    words = sorted(set(words), key=lambda w: (not w.startswith("`"), w))
    if not words:
        return "", literals
    if len(words) == 1:
        text = words[0]
    elif len(words) == 2:
        text = _("{first} or {second}").format(first=words[0], second=words[1])
    elif len(words) <= 12:
        text = _("one of {some} or {last}").format(some=_(", ").join(words[:-1]), last=words[-1])
    else:
        text = _("one of {some}, ...").format(some=_(", ").join(words[:12]))
    return text, literals


def _describe_token(token: Token, text: str = "") -> str:
    if token.type == "$END":
        return _("the end of the file")
    if text and token.start_pos is not None and token.end_pos is not None:
        # as written: a Chinese word's value is its English form (`每天` is `day`)
        token = Token.new_borrow_pos(token.type, text[token.start_pos : token.end_pos], token)
    if token.type in ("NAME", "NUMBER", "INT", "DATE", "TIME"):
        return f"`{token.value}`"
    if token.type == "STRING":
        return _("the string {string}").format(string=token.value)
    return f"`{token.value}`"


# Clauses that take a whole number, and how to name it in an error.
_WHOLE_NUMBER_CLAUSES = {
    "limit": N_("a limit"),
    "cap": N_("a cap"),
    "at": N_("a streak length or threshold"),
    "every": "`every`",
    "grace": "`grace`",
    "top": N_("a rank's N"),
    "bottom": N_("a rank's N"),
}
_COUNT_BEFORE_POINT = re.compile(r"\b(" + "|".join(_WHOLE_NUMBER_CLAUSES) + r")\s+(\d+)$")
_FRACTION = re.compile(r"\.\d+")
# The same counts in the Chinese spelling (`每天限1.5次`, `前2.5名`, `达到 1.5`).
_COUNT_BEFORE_POINT_ZH = re.compile(r"(限|上限|前|倒数|达到|每满|宽限)\s*(\d+)$")


def _fraction_error(
    text: str, position: int, line: int, column: int
) -> tuple[str, str, Span, tuple[str, ...]] | None:
    """`limit 1.5 per day` (`每天限1.5次`): the lexer stops at the `.` of a count that
    must be whole."""
    after = _FRACTION.match(text, position)
    if after is None:
        return None
    before = _COUNT_BEFORE_POINT.search(text, max(0, position - 40), position)
    space, what = " ", ""
    if before is None:
        before = _COUNT_BEFORE_POINT_ZH.search(text, max(0, position - 40), position)
        space, what = "", N_("a count")
    if before is None:
        return None
    keyword, whole = before.group(1), before.group(2)
    what = what or _WHOLE_NUMBER_CLAUSES[keyword]
    written = whole + after.group()
    start = column - len(whole)
    lower = int(whole)
    options = (
        _("{first} or {second}").format(
            first=f"`{keyword}{space}{lower}`", second=f"`{keyword}{space}{lower + 1}`"
        )
        if lower
        else f"`{keyword}{space}1`"
    )
    return (
        "E0101",
        _("unexpected `{written}`: {clause} needs a whole number").format(
            written=written, clause=_(what)
        ),
        Span(line, start, line, column + len(after.group())),
        (_("write {options}").format(options=options),),
    )


# Characters a Chinese or Japanese input method (or a word processor) types in place of
# the ASCII ones the language uses: each names the character to write instead.
_LOOKALIKES = {
    "｛": "{",
    "｝": "}",
    "（": "(",
    "）": ")",
    "［": "[",
    "］": "]",
    "：": ":",
    "，": ",",
    "；": ";",
    "、": ",",
    "。": ".",
    "【": "[",
    "】": "]",
    "！": "!",
    "？": "?",
    "～": "~",
    "＝": "=",
    "＞": ">",
    "＜": "<",
    "＋": "+",
    "－": "-",
    "＊": "*",
    "／": "/",
    "．": ".",
    "“": '"',
    "”": '"',
    "„": '"',
    "＂": '"',
    "‘": "'",
    "’": "'",
    "\u3000": " ",
    "\u00a0": " ",
}
_SPACES = {"\u3000": N_("an ideographic (full-width) space"), "\u00a0": N_("a no-break space")}
_PLURAL_PERIODS = {"days": "day", "weeks": "week", "months": "month", "years": "year"}
_PLURAL_PERIODS["seasons"] = "season"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _character_hints(text: str, position: int) -> tuple[str, list[str]]:
    """How to name an unexpected character, and what to write instead."""
    char = text[position] if position < len(text) else ""
    after = text[position + 1 : position + 2]
    if char in _SPACES:
        return f"{_(_SPACES[char])} (U+{ord(char):04X})", [_("write an ordinary space")]
    if char in _LOOKALIKES:
        ascii_char = _LOOKALIKES[char]
        hint = _(
            "`{char}` is a full-width or typographic character: write the ASCII `{ascii_char}`"
        ).format(char=char, ascii_char=ascii_char)
        if ascii_char == '"':
            hint += _(' (strings are written in straight double quotes: "...")')
        return f"`{char}`", [hint]
    if char == "'":
        return "`'`", [_('strings are written in double quotes: "..."')]
    if char == "=" and after == ">":
        return "`=>`", [_("`=>` is not an operator: write `>=` (at least)")]
    if char == "=" and after == "<":
        return "`=<`", [_("`=<` is not an operator: write `<=` (at most)")]
    if char == "=":
        return "`=`", [_("to compare, write `==`")]
    if char == '"':
        return '`"`', [_('this string is not closed: it needs its `"` on the same line')]
    return f"`{char}`", []


def _word_at(text: str, start: int) -> tuple[str, int]:
    """The whole word a token is part of (`days` when the lexer stopped at `s`)."""
    begin = start
    while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] == "_"):
        begin -= 1
    match = _WORD.match(text, begin)
    return (match.group(), begin) if match else ("", start)


def _previous_word(text: str, start: int) -> str:
    words = _WORD.findall(text[max(0, start - 60) : start])
    return words[-1] if words else ""


_KEYWORDS = frozenset().union(*(group for group, _ in _KEYWORD_GROUPS))


_KEYWORDS_ZH_TO_EN: dict[str, str] = {}
for _en, _zh in KEYWORDS_EN_TO_ZH.items():
    _KEYWORDS_ZH_TO_EN.setdefault(_zh, _en)
_WORD_CHARS = re.compile(r"\w+")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


_CHINESE_NUMERALS = frozenset("零一二两三四五六七八九十百千万")
# `前三名`, `倒数一名`: a rank's places in Chinese numerals (a name to the parser)
_CHINESE_PLACES = re.compile(r"(?:前|倒数)[零一二两三四五六七八九十百千万]+名$")


def _spelling_error(
    err: UnexpectedInput, text: str, spelling: Spelling, line: int, column: int
) -> tuple[str, str, Span, tuple[str, ...]] | None:
    """A keyword of the other spelling (E0111), or in a Chinese scheme a keyword where a
    name belongs (E0112): the parser stopped at it, so say so in those words."""
    if not isinstance(err, UnexpectedToken) or err.token.type == "$END":
        return None
    token = err.token
    start = token.start_pos or 0
    written = text[start : token.end_pos or start]
    if spelling == "en":
        keyword = zh_keyword_prefix(written) if token.type == "NAME" else None
        if keyword is None and token.type == "NAME" and written[:1] == "当":
            keyword = "当"
        if keyword is None:
            return None
        english = _KEYWORDS_ZH_TO_EN.get(keyword)
        instead = (
            _(" (`{keyword}` is `{english}`)").format(keyword=keyword, english=english)
            if english
            else ""
        )
        return (
            "E0111",
            _(
                "`{keyword}` is a keyword of the Chinese spelling, but this scheme is written "
                "in English keywords (its first word is `scheme`)"
            ).format(keyword=keyword),
            Span(line, column, line, column + len(keyword)),
            (
                _(
                    "write the English keyword here{instead}; a scheme is written in one spelling"
                ).format(instead=instead),
                _(
                    "to write it in Chinese, begin it with `方案`: `incentive fmt --lang zh` "
                    "converts a whole English scheme"
                ),
            ),
        )
    if token.type == "NAME" and written in KEYWORDS_EN_TO_ZH:
        return (
            "E0111",
            _(
                "`{keyword}` is a keyword of the English spelling, but this scheme is written "
                "in Chinese keywords (its first word is `方案`)"
            ).format(keyword=written),
            Span(line, column, line, column + len(written)),
            (
                _(
                    "write the Chinese keyword here (`{keyword}` is `{chinese}`); "
                    "a scheme is written in one spelling"
                ).format(keyword=written, chinese=KEYWORDS_EN_TO_ZH[written]),
                _(
                    "to write it in English, begin it with `scheme`: `incentive fmt --lang en` "
                    "converts a whole Chinese scheme"
                ),
            ),
        )
    if token.type == "NAME" or written not in zh_keyword_set():
        return None
    begin = start
    while begin > 0 and _is_word_char(text[begin - 1]):
        begin -= 1
    glued = (
        begin < start and not text[begin].isdigit() and text[begin:start] not in zh_keyword_set()
    )
    if "NAME" in err.expected or glued:
        # a keyword where a name belongs (`规则 奖励`), or inside one (`被邀请人` holds
        # `邀请人`: the name ended before it)
        word_match = _WORD_CHARS.match(text, start)
        word = text[begin:start] + (word_match.group() if word_match else written)
        english = _KEYWORDS_ZH_TO_EN.get(written)
        meaning = f" (`{english}`)" if english else ""
        return (
            "E0112",
            _("`{keyword}` is a keyword{meaning}: it cannot begin or be part of a name").format(
                keyword=written, meaning=meaning
            ),
            Span(line, column, line, column + len(written)),
            (
                _(
                    "a name that is or holds a keyword is written in corner brackets: `「{word}」`"
                ).format(word=word),
            ),
        )
    return None


def _syntax_error(
    err: UnexpectedInput, text: str, file: str, spelling: Spelling = "en"
) -> SchemeError:
    line = getattr(err, "line", 1) or 1
    column = getattr(err, "column", 1) or 1
    hints: list[str] = []
    fraction = None
    spelled = _spelling_error(err, text, spelling, line, column)
    if spelled is not None:
        code, message, span, extra = spelled
        return SchemeError([Diagnostic(code, Severity.ERROR, message, span, file, extra)], text)
    if isinstance(err, UnexpectedCharacters) and text[err.pos_in_stream or 0 :][:1] == ".":
        fraction = _fraction_error(text, err.pos_in_stream or 0, line, column)
    elif isinstance(err, UnexpectedToken) and err.token.value == ".":
        # `.` is a token of its own (`invite.invitee`), so `1.5` may stop there too.
        fraction = _fraction_error(text, err.token.start_pos or 0, line, column)
    if fraction is not None:
        code, message, span, extra = fraction
        hints.extend(extra)
    elif isinstance(err, UnexpectedCharacters):
        position = err.pos_in_stream or 0
        code = "E0102"
        named, advice = _character_hints(text, position)
        message = _("unexpected character {named}").format(named=named)
        hints.extend(advice)
        span = Span.point(line, column)
    elif isinstance(err, UnexpectedToken) and err.token.type != "$END":
        token = err.token
        expected, literals = _expected_words(set(err.expected), spelling)
        code = "E0101"
        message = _("unexpected {token}: expected {expected}").format(
            token=_describe_token(token, text), expected=expected
        )
        if not err.expected:  # the Chinese lexer's split left the parser nothing to expect
            message = _("unexpected {token}").format(token=_describe_token(token, text))
        if token.type in ("NAME", "PERIOD", "ROUNDING_MODE") or str(token.value).isidentifier():
            near = did_you_mean(str(token.value), literals)
            if near and near != token.value:
                hints.append(_("did you mean `{near}`?").format(near=near))
        end_col = (token.end_column or column + 1) if token.end_line == token.line else column + 1
        span = Span(line, column, line, end_col)
        start = token.start_pos or 0
        if (
            spelling == "zh"
            and {"INT", "NUMBER"} & set(err.expected)
            and text[start : start + 1] in _CHINESE_NUMERALS
        ):
            hints.append(_("numbers are written in digits: `3`, not `三`"))
        elif spelling == "zh" and _CHINESE_PLACES.search(text[:start].rstrip()):
            # `前三名` was read as a team's name: the clause ends where `前` was expected
            hints.append(_("numbers are written in digits: `3`, not `三`"))
        word, begin = _word_at(text, start)
        previous = _previous_word(text, start)
        if word.lower() in _PLURAL_PERIODS:
            # `per days`: the lexer read `day` and stopped at `s`
            message = _("unexpected `{word}`: a period is written in the singular").format(
                word=word
            )
            hints[:] = [_("write `per {period}`").format(period=_PLURAL_PERIODS[word.lower()])]
            span = Span(line, column - (start - begin), line, column - (start - begin) + len(word))
        elif not hints and previous and previous not in _KEYWORDS:
            # `limt 1 per day`: the misspelt keyword was read as something else (a
            # currency after `award 5`); the token after it is where parsing stopped
            near = did_you_mean(previous, _KEYWORDS)
            if near:
                hints.append(
                    _("`{previous}` is not a keyword: did you mean `{near}`?").format(
                        previous=previous, near=near
                    )
                )
    else:
        expected_set: set[str] = set(getattr(err, "expected", ()) or ())
        code = "E0103"
        message = _("the file ended before the scheme was complete")
        if 0 < len(expected_set) <= 3:
            message = _(
                "the file ended before the scheme was complete: expected {expected}"
            ).format(expected=_expected_words(expected_set, spelling)[0])
        if text.count("{") + text.count("｛") > text.count("}") + text.count("｝"):
            hints.append(_("a `{` is still open: every `{` needs its `}`"))
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
            _("string longer than {MAX_STRING_LENGTH} characters").format(
                MAX_STRING_LENGTH=MAX_STRING_LENGTH
            ),
            _token_span(token),
            _("names, zones and values in a scheme are short; long text belongs in docs"),
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
                _("unknown escape `\\{nxt}` in a string").format(nxt=nxt),
                Span(span.line, col, span.line, col + 2),
                _('the escapes are \\" \\\\ \\n \\t \\r and \\uXXXX'),
            )
    return "".join(out)


def _number(token: Token) -> Decimal:
    text = str(token)
    whole, _point, frac = text.partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise _LimitExceeded(
            "E0105",
            _(
                "number `{value}{value2}` is too large (the limit is {MAX_INTEGER_DIGITS} digits)"
            ).format(
                value=text[:20],
                value2="..." if len(text) > 20 else "",
                MAX_INTEGER_DIGITS=MAX_INTEGER_DIGITS,
            ),
            _token_span(token),
            _("points are whole numbers well below a trillion"),
        )
    if len(frac) > MAX_DECIMAL_PLACES:
        raise _LimitExceeded(
            "E0105",
            _("number `{value}` has more than {MAX_DECIMAL_PLACES} decimal places").format(
                value=text[:20], MAX_DECIMAL_PLACES=MAX_DECIMAL_PLACES
            ),
            _token_span(token),
            _("write at most six digits after the point"),
        )
    return Decimal(text)


def _int(token: Token) -> int:
    return int(_number(token))


def _bare_name(token: Token) -> str:
    """A NAME token's text; a name longer than MAX_NAME_LENGTH is an error (E0109).
    `「连续打卡」` (the Chinese spelling's name that holds a keyword) is `连续打卡`."""
    value = str(token)
    if value[:1] == "「":
        value = value[1:-1]
    if len(value) > MAX_NAME_LENGTH:
        raise _LimitExceeded(
            "E0109",
            _("name `{value}...` is longer than {MAX_NAME_LENGTH} characters").format(
                value=value[:20], MAX_NAME_LENGTH=MAX_NAME_LENGTH
            ),
            _token_span(token),
            _("names are short words; describe a rule in a `#` comment above it"),
        )
    return value


def _name(token: Token) -> ast.Name:
    value = _unquote(token) if token.type == "STRING" else _bare_name(token)
    return ast.Name(value, span=_token_span(token))


class _ToAst:
    """What each rule of the grammar builds: one method per rule (or alias), called by
    the parser as it reduces the rule, with the rule's span and the children that
    carry meaning (values built for sub-rules, named tokens, None for a missing
    `[...]`; keywords and punctuation are left out).

    The parser keeps all tokens (for the spans), so a missing `[...]` gives one None
    per symbol in it, keywords included: `["from" name_list]` gives two Nones, not
    one as with lark's default. Do not count on the number of Nones of an optional
    part that holds a keyword; a new rule needs a method here (a test checks).
    """

    def start(self, span: Span, children: list[Any]) -> ast.Scheme:
        return children[0]  # type: ignore[no-any-return]

    def scheme(self, span: Span, children: list[Any]) -> ast.Scheme:
        name, *items = children
        return ast.Scheme(_unquote(name), tuple(items), span=span)

    # header
    def name_list(self, span: Span, children: list[Token]) -> tuple[ast.Name, ...]:
        return tuple(_name(t) for t in children)

    def currency_decl(self, span: Span, children: list[Any]) -> ast.CurrencyDecl:
        return ast.CurrencyDecl(children[0], span=span)

    def timezone_decl(self, span: Span, children: list[Token]) -> ast.TimezoneDecl:
        return ast.TimezoneDecl(_unquote(children[0]), span=span)

    def member_zone_decl(self, span: Span, children: list[Token]) -> ast.MemberZoneDecl:
        return ast.MemberZoneDecl(_name(children[0]), span=span)

    def day_decl(self, span: Span, children: list[Token]) -> ast.DayDecl:
        return ast.DayDecl(str(children[0]), span=span)

    def week_decl(self, span: Span, children: list[Token]) -> ast.WeekDecl:
        return ast.WeekDecl(_name(children[0]), span=span)

    def season_decl(self, span: Span, children: list[Token]) -> ast.SeasonDecl:
        return ast.SeasonDecl(str(children[0]), str(children[1]), span=span)

    def events_decl(self, span: Span, children: list[ast.EventDecl]) -> ast.EventsDecl:
        return ast.EventsDecl(tuple(children), span=span)

    def event_decl(self, span: Span, children: list[Any]) -> ast.EventDecl:
        name, *attrs = children
        return ast.EventDecl(_name(name), tuple(a for a in attrs if a is not None), span=span)

    def attr_decl(self, span: Span, children: list[Token]) -> ast.AttributeDecl:
        return ast.AttributeDecl(_name(children[0]), _name(children[1]), span=span)

    def group_decl(self, span: Span, children: list[Any]) -> ast.GroupDecl:
        name, *caps = children
        return ast.GroupDecl(_name(name), tuple(caps), span=span)

    # rules
    def rule_decl(self, span: Span, children: list[Any]) -> ast.RuleDecl:
        name, *clauses = children
        return ast.RuleDecl(_name(name), tuple(clauses), span=span)

    def on_clause(self, span: Span, children: list[Token]) -> ast.On:
        return ast.On(tuple(_name(t) for t in children), span=span)

    def where_clause(self, span: Span, children: list[Any]) -> ast.Where:
        return ast.Where(children[0], span=span)

    def award_clause(self, span: Span, children: list[Any]) -> ast.Award:
        *amounts, currency, rounding = children
        return ast.Award(
            amounts[0],
            _name(currency) if currency is not None else None,
            rounding,
            tuple(amounts[1:]),
            span=span,
        )

    def rank_clause(self, span: Span, children: list[Any]) -> ast.Rank:
        side, count, team, period, (measure, attribute, sources) = children
        return ast.Rank(
            side,
            _int(count),
            str(period),  # type: ignore[arg-type]
            measure,
            attribute,
            sources,
            _name(team) if team is not None else None,
            span=span,
        )

    def ranking_clause(self, span: Span, children: list[Any]) -> ast.Rank:
        team, period, (measure, attribute, sources) = children
        return ast.Rank(
            "top",
            None,
            str(period),  # type: ignore[arg-type]
            measure,
            attribute,
            sources,
            _name(team) if team is not None else None,
            span=span,
        )

    def pay_clause(self, span: Span, children: list[Any]) -> ast.Rank:
        payee, period, (measure, attribute, sources), so_far = children
        if payee.type == "STRING":
            to = ast.PayTo(_unquote(payee), None, so_far is not None, span=span)
        else:
            to = ast.PayTo(None, _name(payee), so_far is not None, span=span)
        return ast.Rank(
            "top",
            None,
            str(period),  # type: ignore[arg-type]
            measure,
            attribute,
            sources,
            None,
            to,
            span=span,
        )

    def goal_clause(self, span: Span, children: list[Any]) -> ast.Goal:
        team, period, (measure, attribute, _sources) = children
        return ast.Goal(_name(team), str(period), measure, attribute, span=span)  # type: ignore[arg-type]

    def draw_clause(self, span: Span, children: list[Token]) -> ast.Draw:
        return ast.Draw(_int(children[0]), span=span)

    def start_window_clause(self, span: Span, children: list[Any]) -> ast.StartWindow:
        days, (kind, name) = children
        if kind == "first":
            return ast.StartWindow(_int(days), name, None, span=span)
        return ast.StartWindow(_int(days), None, name, span=span)

    def own_periods_clause(self, span: Span, children: list[Any]) -> ast.OwnPeriods:
        ((kind, name),) = children
        if kind == "first":
            return ast.OwnPeriods(name, None, span=span)
        return ast.OwnPeriods(None, name, span=span)

    def since_first(self, span: Span, children: list[Token]) -> tuple[str, ast.Name]:
        return ("first", _name(children[0]))

    def since_date(self, span: Span, children: list[Token]) -> tuple[str, ast.Name]:
        return ("date", _name(children[0]))

    def league_decl(self, span: Span, children: list[Any]) -> ast.LeagueDecl:
        name, *clauses = children
        return ast.LeagueDecl(_name(name), tuple(clauses), span=span)

    def cohort_clause(self, span: Span, children: list[Token]) -> ast.Cohort:
        return ast.Cohort(_int(children[0]), span=span)

    def tiers_clause(self, span: Span, children: list[Any]) -> ast.Tiers:
        return ast.Tiers(children[0], span=span)

    def promote_clause(self, span: Span, children: list[Token]) -> ast.Promote:
        return ast.Promote(_int(children[0]), span=span)

    def demote_clause(self, span: Span, children: list[Token]) -> ast.Demote:
        return ast.Demote(_int(children[0]), span=span)

    def so_far(self, span: Span, children: list[Any]) -> bool:
        return True

    def perk_clause(self, span: Span, children: list[Any]) -> ast.Perk:
        return ast.Perk(children[0], _unquote(children[1]), span=span)

    def perk_kind(self, span: Span, children: list[Token]) -> str:
        return str(children[0])

    def every_time_clause(self, span: Span, children: list[Any]) -> ast.EveryTime:
        return ast.EveryTime(span=span)

    def first_clause(self, span: Span, children: list[Any]) -> ast.First:
        count, period = children
        return ast.First(_int(count), period, span=span)

    def window_clause(self, span: Span, children: list[Token]) -> ast.Window:
        count, days = children
        return ast.Window(_int(count), _int(days), span=span)

    # the ledger
    def expire_after(self, span: Span, children: list[Any]) -> ast.ExpireDecl:
        currency, days, unit, *rest = children
        rounded = rest[-1] if rest and rest[-1] is not None else None
        return ast.ExpireDecl(
            _name(currency) if currency is not None else None,
            _int(days),
            None,
            unit,
            str(rounded) if rounded is not None else None,  # type: ignore[arg-type]
            span=span,
        )

    def unit_days(self, span: Span, children: list[Any]) -> str:
        return "day"

    def unit_weeks(self, span: Span, children: list[Any]) -> str:
        return "week"

    def unit_months(self, span: Span, children: list[Any]) -> str:
        return "month"

    def unit_years(self, span: Span, children: list[Any]) -> str:
        return "year"

    def expire_at_end(self, span: Span, children: list[Any]) -> ast.ExpireDecl:
        currency, period = children
        return ast.ExpireDecl(
            _name(currency) if currency is not None else None,
            None,
            str(period),  # type: ignore[arg-type]
            span=span,
        )

    def budget_clause(self, span: Span, children: list[Any]) -> ast.Budget:
        points, currency, period = children
        return ast.Budget(
            _int(points),
            _name(currency) if currency is not None else None,
            str(period),  # type: ignore[arg-type]
            span=span,
        )

    def redeem_decl(self, span: Span, children: list[Any]) -> ast.RedeemDecl:
        name, *clauses = children
        return ast.RedeemDecl(_name(name), tuple(clauses), span=span)

    def amount_clause(self, span: Span, children: list[Any]) -> ast.Amount:
        attribute, currency = children
        return ast.Amount(
            _name(attribute), _name(currency) if currency is not None else None, span=span
        )

    def minimum_clause(self, span: Span, children: list[Token]) -> ast.Minimum:
        return ast.Minimum(_int(children[0]), span=span)

    def maximum_clause(self, span: Span, children: list[Token]) -> ast.Maximum:
        return ast.Maximum(_int(children[0]), span=span)

    def multiple_clause(self, span: Span, children: list[Token]) -> ast.Multiple:
        return ast.Multiple(_int(children[0]), span=span)

    def threshold_clause(self, span: Span, children: list[Token]) -> ast.Threshold:
        return ast.Threshold(_int(children[0]), span=span)

    def grants_decl(self, span: Span, children: list[Any]) -> ast.GrantsDecl:
        name, *clauses = children
        return ast.GrantsDecl(_name(name), tuple(clauses), span=span)

    def allowance_clause(self, span: Span, children: list[Any]) -> ast.Allowance:
        points, currency, period, *granters = children
        return ast.Allowance(
            _int(points),
            _name(currency) if currency is not None else None,
            str(period),  # type: ignore[arg-type]
            tuple(_unquote(g) for g in granters if g is not None),
            span=span,
        )

    def reverse_decl(self, span: Span, children: list[Any]) -> ast.ReverseDecl:
        name, *clauses = children
        return ast.ReverseDecl(_name(name), tuple(clauses), span=span)

    def by_clause(self, span: Span, children: list[Token]) -> ast.By:
        return ast.By(_name(children[0]), span=span)

    def within_clause(self, span: Span, children: list[Token]) -> ast.Within:
        return ast.Within(_int(children[0]), span=span)

    def debt_clause(self, span: Span, children: list[Any]) -> ast.Debt:
        return ast.Debt(span=span)

    def part_clause(self, span: Span, children: list[Any]) -> ast.Part:
        names = [child for child in children if child is not None]  # `[of NAME]`: 2 Nones
        whole = _name(names[1]) if len(names) > 1 else None
        return ast.Part(_name(names[0]), whole, span=span)

    def transfer_decl(self, span: Span, children: list[Any]) -> ast.TransferDecl:
        name, *clauses = children
        return ast.TransferDecl(_name(name), tuple(clauses), span=span)

    def to_clause(self, span: Span, children: list[Token]) -> ast.To:
        return ast.To(_name(children[0]), span=span)

    def receive_clause(self, span: Span, children: list[Token]) -> ast.Receive:
        return ast.Receive(_int(children[0]), str(children[1]), span=span)  # type: ignore[arg-type]

    def catalogue_decl(self, span: Span, children: list[Any]) -> ast.CatalogueDecl:
        name, *clauses = children
        return ast.CatalogueDecl(_name(name), tuple(clauses), span=span)

    def item_clause(self, span: Span, children: list[Token]) -> ast.ItemAttr:
        return ast.ItemAttr(_name(children[0]), span=span)

    def stock_clause(self, span: Span, children: list[Any]) -> ast.Stock:
        count, period = children
        return ast.Stock(_int(count), period, span=span)

    def gift_decl(self, span: Span, children: list[Any]) -> ast.GiftDecl:
        name, *clauses = children
        return ast.GiftDecl(_name(name), tuple(clauses), span=span)

    def price_clause(self, span: Span, children: list[Any]) -> ast.Price:
        points, currency = children
        return ast.Price(_int(points), _name(currency) if currency is not None else None, span=span)

    def keep_clause(self, span: Span, children: list[Token]) -> ast.Keep:
        return ast.Keep(_int(children[0]), span=span)

    def levels_decl(self, span: Span, children: list[Any]) -> ast.LevelsDecl:
        currency = children[0]
        window = next((c for c in children[1:] if isinstance(c, int)), None)
        steps = tuple(c for c in children if isinstance(c, ast.LevelStep))
        return ast.LevelsDecl(
            _name(currency) if currency is not None else None, steps, window, span=span
        )

    def levels_window(self, span: Span, children: list[Token]) -> int:
        return _int(children[0])

    def level_step(self, span: Span, children: list[Token]) -> ast.LevelStep:
        return ast.LevelStep(_name(children[0]), _int(children[1]), span=span)

    def seed_decl(self, span: Span, children: list[Token]) -> ast.SeedDecl:
        return ast.SeedDecl(_int(children[0]), span=span)

    def inactive_clause(self, span: Span, children: list[Token]) -> ast.Inactive:
        return ast.Inactive(_int(children[0]), span=span)

    def reason_clause(self, span: Span, children: list[Token]) -> ast.Reason:
        return ast.Reason(_name(children[0]), span=span)

    def pending_clause(self, span: Span, children: list[Token]) -> ast.Pending:
        return ast.Pending(_int(children[0]), span=span)

    def inviter_clause(self, span: Span, children: list[Token]) -> ast.Inviter:
        event, attribute, days = children
        return ast.Inviter(_name(event), _name(attribute), _int(days), span=span)

    def by_lottery(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("lottery", None, ())

    def by_missing(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("missing", None, ())

    def team_decl(self, span: Span, children: list[Any]) -> ast.TeamDecl:
        return ast.TeamDecl(children[0], span=span)

    def league_board_clause(self, span: Span, children: list[Token]) -> ast.LeagueBoard:
        return ast.LeagueBoard(_name(children[0]), span=span)

    def board_decl(self, span: Span, children: list[Any]) -> ast.BoardDecl:
        name, *clauses = children
        return ast.BoardDecl(_name(name), tuple(clauses), span=span)

    def by_active(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("active", None, ())

    def by_reached(self, span: Span, children: list[Token]) -> tuple[str, ast.Name, tuple[()]]:
        return ("reached", _name(children[0]), ())

    def by_rate(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("rate", None, ())

    def rank_side(self, span: Span, children: list[Token]) -> str:
        return str(children[0])

    def by_earliest(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("earliest", None, ())

    def by_count(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[()]]:
        return ("count", None, ())

    def by_sum(self, span: Span, children: list[Token]) -> tuple[str, ast.Name, tuple[()]]:
        return ("sum", _name(children[0]), ())

    def by_max(self, span: Span, children: list[Token]) -> tuple[str, ast.Name, tuple[()]]:
        return ("max", _name(children[0]), ())

    def by_points(self, span: Span, children: list[Any]) -> tuple[str, None, tuple[ast.Name, ...]]:
        return ("points", None, children[0] or ())

    def rounding(self, span: Span, children: list[Token]) -> str:
        return str(children[0])

    def limit_clause(self, span: Span, children: list[Any]) -> ast.Limit:
        return ast.Limit(_int(children[0]), children[1], children[2], span=span)

    def for_each(self, span: Span, children: list[Token]) -> ast.Name:
        return _name(children[0])

    def post_clause(self, span: Span, children: list[Any]) -> ast.Post:
        heading, line, join, at = children
        return ast.Post(_unquote(heading), line, join, at, span=span)

    def post_line(self, span: Span, children: list[Token]) -> str:
        return _unquote(children[0])

    def post_join(self, span: Span, children: list[Token]) -> str:
        return _unquote(children[0])

    def post_at(self, span: Span, children: list[Token]) -> str:
        return str(children[0])

    def posts_clause(self, span: Span, children: list[Token]) -> ast.Posts:
        return ast.Posts(str(children[0]), span=span)  # type: ignore[arg-type]

    def credit_clause(self, span: Span, children: list[Token]) -> ast.Credit:
        return ast.Credit(_name(children[0]), span=span)

    def per_period(self, span: Span, children: list[Token]) -> str:
        return str(children[0])

    def ever(self, span: Span, children: list[Any]) -> None:
        return None

    def once_clause(self, span: Span, children: list[Any]) -> ast.Once:
        return ast.Once(children[0] if children else None, span=span)

    def cap_clause(self, span: Span, children: list[Token]) -> ast.Cap:
        return ast.Cap(_int(children[0]), str(children[1]), span=span)  # type: ignore[arg-type]

    def group_clause(self, span: Span, children: list[Token]) -> ast.GroupRef:
        return ast.GroupRef(_name(children[0]), span=span)

    def uncapped_clause(self, span: Span, children: list[Any]) -> ast.Uncapped:
        return ast.Uncapped(span=span)

    def streak_clause(self, span: Span, children: list[Token]) -> ast.Streak:
        return ast.Streak(str(children[0]), span=span)  # type: ignore[arg-type]

    def reaching_clause(self, span: Span, children: list[Any]) -> ast.Reaching:
        count, attribute, earned = children
        named = _name(attribute) if attribute else None
        return ast.Reaching(_int(count), named, earned is not None, span=span)

    def earned(self, span: Span, children: list[Any]) -> bool:
        return True

    def grace_clause(self, span: Span, children: list[Token]) -> ast.Grace:
        return ast.Grace(_int(children[0]), span=span)

    def milestone_count(self, span: Span, children: list[Any]) -> ast.Milestone:
        return ast.Milestone("count", None, children[0], span=span)

    def milestone_sum(self, span: Span, children: list[Any]) -> ast.Milestone:
        return ast.Milestone("sum", _name(children[0]), children[1], span=span)

    def milestone_distinct(self, span: Span, children: list[Any]) -> ast.Milestone:
        return ast.Milestone("distinct", _name(children[0]), children[1], span=span)

    def tier_clause(self, span: Span, children: list[Any]) -> ast.Tier:
        return ast.Tier(_int(children[0]), children[1], span=span)

    def every_clause(self, span: Span, children: list[Any]) -> ast.Every:
        return ast.Every(_int(children[0]), children[1], span=span)

    # boosts
    def boost_decl(self, span: Span, children: list[Any]) -> ast.BoostDecl:
        name, *clauses = children
        return ast.BoostDecl(_name(name), tuple(clauses), span=span)

    def times_clause(self, span: Span, children: list[Token]) -> ast.Times:
        return ast.Times(_number(children[0]), span=span)

    def weekdays_clause(self, span: Span, children: list[Token]) -> ast.Weekdays:
        return ast.Weekdays(tuple(_name(t) for t in children), span=span)

    def dates_clause(self, span: Span, children: list[Token]) -> ast.Dates:
        return ast.Dates(str(children[0]), str(children[1]), span=span)

    def for_clause(self, span: Span, children: list[Any]) -> ast.For:
        return ast.For(children[0], span=span)

    # expressions
    def or_(self, span: Span, children: list[Any]) -> ast.Binary:
        return ast.Binary("or", children[0], children[1], span=span)

    def and_(self, span: Span, children: list[Any]) -> ast.Binary:
        return ast.Binary("and", children[0], children[1], span=span)

    def not_(self, span: Span, children: list[Any]) -> ast.Not:
        return ast.Not(children[0], span=span)

    def compare(self, span: Span, children: list[Any]) -> ast.Binary:
        return ast.Binary(str(children[1]), children[0], children[2], span=span)  # type: ignore[arg-type]

    def binary(self, span: Span, children: list[Any]) -> ast.Binary:
        return ast.Binary(str(children[1]), children[0], children[2], span=span)  # type: ignore[arg-type]

    def in_(self, span: Span, children: list[Any]) -> ast.Membership:
        return ast.Membership(children[0], children[1], False, span=span)

    def not_in(self, span: Span, children: list[Any]) -> ast.Membership:
        return ast.Membership(children[0], children[1], True, span=span)

    def between(self, span: Span, children: list[Any]) -> ast.Binary:
        # `x between a and b` is `x >= a and x <= b`: the engines and the checker need
        # nothing new, and three-valued logic comes with it
        subject, low, high = children
        return ast.Binary(
            "and",
            ast.Binary(">=", subject, low, span=span),
            ast.Binary("<=", subject, high, span=span),
            span=span,
            written="between",
        )

    def is_(self, span: Span, children: list[Token]) -> ast.Binary:
        # `weekday is saturday`: a bare word compared as text, as an operator says it
        subject, word = children
        value = ast.String(_bare_name(word), span=_token_span(word))
        return ast.Binary("==", self.attribute(span, [subject]), value, span=span, written="is")

    def is_not(self, span: Span, children: list[Token]) -> ast.Binary:
        subject, word = children
        value = ast.String(_bare_name(word), span=_token_span(word))
        return ast.Binary("!=", self.attribute(span, [subject]), value, span=span, written="is")

    def value_list(self, span: Span, children: list[Any]) -> tuple[ast.Expr, ...]:
        return tuple(c for c in children if c is not None)

    def negate(self, span: Span, children: list[Any]) -> ast.Expr:
        operand = children[0]
        return ast.Negate(operand, span=span)

    def paren(self, span: Span, children: list[Any]) -> ast.Expr:
        return children[0]  # type: ignore[no-any-return]

    def number(self, span: Span, children: list[Token]) -> ast.Number:
        return ast.Number(_number(children[0]), span=_token_span(children[0]))

    def string(self, span: Span, children: list[Token]) -> ast.String:
        return ast.String(_unquote(children[0]), span=_token_span(children[0]))

    def true(self, span: Span, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(True, span=span)

    def false(self, span: Span, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(False, span=span)

    def attribute(self, span: Span, children: list[Token]) -> ast.Attribute:
        return ast.Attribute(_bare_name(children[0]), span=_token_span(children[0]))

    def call(self, span: Span, children: list[Any]) -> ast.Call:
        name, *args = children
        return ast.Call(_bare_name(name), tuple(args), span=span)


class _ToAstZh(_ToAst):
    """The same tree from the Chinese spelling: the rules whose parts an operator says
    in another order (`每天上限 20` for `cap 20 per day`) put them back in the English
    order; the words that are values (the days of the week, attribute types) become
    the English words the checker and the engines know."""

    def limit_clause_zh(self, span: Span, children: list[Any]) -> ast.Limit:
        period, count, key = children
        return self.limit_clause(span, [count, period, key])

    def first_clause_zh(self, span: Span, children: list[Any]) -> ast.First:
        period, count = children
        return self.first_clause(span, [count, period])

    def window_clause_zh(self, span: Span, children: list[Token]) -> ast.Window:
        days, count = children
        return self.window_clause(span, [count, days])

    def cap_clause_zh(self, span: Span, children: list[Token]) -> ast.Cap:
        period, points = children
        return self.cap_clause(span, [points, period])

    def rank_clause_zh(self, span: Span, children: list[Any]) -> ast.Rank:
        period, measure, team, side, count = children
        return self.rank_clause(span, [side, count, team, period, measure])

    def ranking_clause_zh(self, span: Span, children: list[Any]) -> ast.Rank:
        period, measure, team = children
        return self.ranking_clause(span, [team, period, measure])

    def milestone_sum_zh(self, span: Span, children: list[Any]) -> ast.Milestone:
        period, attribute = children
        return self.milestone_sum(span, [attribute, period])

    def milestone_distinct_zh(self, span: Span, children: list[Any]) -> ast.Milestone:
        period, attribute = children
        return self.milestone_distinct(span, [attribute, period])

    def start_window_clause_zh(self, span: Span, children: list[Any]) -> ast.StartWindow:
        start, days = children
        return self.start_window_clause(span, [days, start])

    def stock_clause_zh(self, span: Span, children: list[Any]) -> ast.Stock:
        period, count = children
        return self.stock_clause(span, [count, period])

    def expire_after_zh(self, span: Span, children: list[Any]) -> ast.ExpireDecl:
        return self.expire_after(span, children)

    def budget_clause_zh(self, span: Span, children: list[Any]) -> ast.Budget:
        period, points, currency = children
        return self.budget_clause(span, [points, currency, period])

    def allowance_clause_zh(self, span: Span, children: list[Any]) -> ast.Allowance:
        period, points, currency, *granters = children
        return self.allowance_clause(span, [points, currency, period, *granters])

    def receive_clause_zh(self, span: Span, children: list[Token]) -> ast.Receive:
        period, points = children
        return self.receive_clause(span, [points, period])

    def week_decl(self, span: Span, children: list[Token]) -> ast.WeekDecl:
        return ast.WeekDecl(_value_name(children[0], WEEKDAY_FROM_ZH), span=span)

    def weekdays_clause(self, span: Span, children: list[Token]) -> ast.Weekdays:
        days = tuple(_value_name(t, WEEKDAY_FROM_ZH) for t in children if t is not None)
        return ast.Weekdays(days, span=span)

    def attr_decl(self, span: Span, children: list[Token]) -> ast.AttributeDecl:
        return ast.AttributeDecl(
            _name(children[0]), _value_name(children[1], TYPE_FROM_ZH), span=span
        )


def _value_name(token: Token, table: dict[str, str]) -> ast.Name:
    """A name that stands for a word of the language (`周一`), in its English form."""
    name = _name(token)
    return ast.Name(table.get(name.value, name.value), span=name.span)


def _zh_value(table: dict[str, str]) -> Any:
    """A lexer callback: the token's Chinese word becomes its English value (`每天` is
    `day`); its position, and so every span, stays that of the Chinese text."""

    def translate(token: Token) -> Token:
        # type(token): lark's Token when lark lexes (the tables are built with these too)
        return type(token).new_borrow_pos(token.type, table.get(str(token), str(token)), token)

    return translate


# (No callback for NAME: lark 1.3 chains a terminal's own "unless" callback with the
# user's under a condition that names the last terminal of this table, so a callback
# for NAME would be skipped wherever a one-character keyword can stand; _bare_name
# takes the corner brackets off instead.)
_ZH_LEXER_CALLBACKS = {
    "PERIOD": _zh_value(PERIOD_FROM_ZH),
    "PERIOD_END": _zh_value(PERIOD_END_FROM_ZH),
    "STREAK_ZH": _zh_value({f"{zh}连续": en for zh, en in PERIOD_FROM_ZH.items()}),
    "ROUNDING_MODE": _zh_value(ROUNDING_FROM_ZH),
    "TOP": _zh_value(SIDE_FROM_ZH),
    "BOTTOM": _zh_value(SIDE_FROM_ZH),
    "PERK": _zh_value(PERK_KIND_FROM_ZH),
    "BADGE": _zh_value(PERK_KIND_FROM_ZH),
    "FLAG": _zh_value(PERK_KIND_FROM_ZH),
}


# Terminals that carry meaning; every other token is a keyword or punctuation.
_MEANINGFUL_TOKENS = frozenset(
    {
        "NAME",
        "NUMBER",
        "INT",
        "DATE",
        "TIME",
        "STRING",
        "COMPARE",
        "ADD_OP",
        "MUL_OP",
        "PERIOD",
        "PERIOD_END",
        "ROUNDING_MODE",
        "STREAK_ZH",
    }
)
# The `!` rules of the grammar: their keywords are their values.
_KEEP_ALL_TOKENS = frozenset({"rank_side", "perk_kind"})


class _Reduced:
    """A rule the parser has reduced: the value built for it, its span from its first
    to its last token (keywords and brackets included), its height in rules (1 for a
    rule made of tokens only) and the reduced rules it is made of, in order."""

    __slots__ = ("children", "height", "span", "value")

    def __init__(self, value: Any, span: Span, height: int, children: tuple[_Reduced, ...]):
        self.value = value
        self.span = span
        self.height = height
        self.children = children


def _reducer(method: Any, keep_all: bool) -> Any:
    """Wrap a `_ToAst` method as the callback lark calls when it reduces the rule.

    The tree is built while parsing (no `lark.Tree`, no second pass), which is
    about twice as fast, and nothing recurses, so deep input cannot overflow the
    stack. Spans are worked out here rather than by lark's propagate_positions,
    which was the largest single cost of parsing.
    """

    def reduce(children: list[Any]) -> _Reduced:
        values: list[Any] = []
        reduced: list[_Reduced] = []
        first: Any = None
        last: Any = None
        height = 0
        for child in children:
            if child is None:
                values.append(None)
                continue
            if first is None:
                first = child
            last = child
            if type(child) is _Reduced:
                values.append(child.value)
                reduced.append(child)
                if child.height > height:
                    height = child.height
            elif keep_all or child.type in _MEANINGFUL_TOKENS:
                values.append(child)
        if type(first) is _Reduced:
            line, column = first.span.line, first.span.column
        else:
            line, column = first.line, first.column
        if type(last) is _Reduced:
            end_line, end_column = last.span.end_line, last.span.end_column
        else:
            end_line, end_column = last.end_line, last.end_column
        span = Span(line, column, end_line, end_column)
        return _Reduced(method(span, values), span, height + 1, tuple(reduced))

    return reduce


def _callbacks(kind: type[_ToAst] | None = None) -> Any:
    """An object with a callback for every rule and alias of the grammar."""
    kind = kind or _ToAst
    builder = kind()
    callbacks = type("_Callbacks", (), {})()
    for name in dir(kind):
        if not name.startswith("_"):
            setattr(callbacks, name, _reducer(getattr(builder, name), name in _KEEP_ALL_TOKENS))
    return callbacks


def _too_deep(root: _Reduced) -> Span | None:
    """The span of the first rule nested deeper than MAX_NESTING, if any.

    The root (`start`) is at depth 1. Of several, the one reported is the first in
    a depth-first walk that visits the last child first.
    """
    if root.height <= MAX_NESTING:
        return None
    node, depth = root, 1
    while depth <= MAX_NESTING:
        need = MAX_NESTING + 1 - depth  # levels a child must have below it (itself included)
        node = next(c for c in reversed(node.children) if c.height >= need)
        depth += 1
    return node.span


# One token roughly as the lexer sees it (a date, a time or a number is one; so is a
# comment). No nested repetition, so scanning is linear whatever the text.
_TOKEN = re.compile(
    r"""#[^\n]*|"(?:[^"\\\n]|\\.)*"|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|\d+(?:\.\d+)?|\w+|[=!<>]=|[^\s\w]"""
)


def _count_tokens(text: str, file: str) -> None:
    """Reject a scheme of more than MAX_TOKENS words, numbers, symbols and comments,
    quickly: before the parser, which would take seconds over them (the lexer reads
    each comment as a token too)."""
    beyond = next(itertools.islice(_TOKEN.finditer(text), MAX_TOKENS, None), None)
    if beyond is not None:
        line, column = line_of(text, beyond.start())
        raise _limit_error(
            "E0110",
            _("scheme has more than {MAX_TOKENS:,} words, numbers, symbols and comments").format(
                MAX_TOKENS=MAX_TOKENS
            ),
            Span.point(line, column),
            file,
            text,
            _(
                "a scheme is a page of rules; long lists of values (members, ids) belong "
                "in the events, as an attribute such as `vip: bool`"
            ),
        )


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing and checking allocate many objects
    and no cycles, and the collector's passes over them took a third of the time.
    (Reference counting still frees everything; a cycle, if any, waits for the next
    collection.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(text: str, file: str = "<scheme>") -> ast.Scheme:
    """Parse scheme text into an AST; raise SchemeError on the first syntax error."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise _limit_error(
            "E0108",
            _("scheme file is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}").format(
                size=size, MAX_SOURCE_BYTES=MAX_SOURCE_BYTES
            ),
            Span.point(1, 1),
            file,
            text[:1000],
            _("a scheme is a page of rules; event data belongs in an events file"),
        )
    _count_tokens(text, file)
    spelling = spelling_of(text)
    try:
        with no_cyclic_gc():
            if spelling == "zh":
                # Chinese keywords are reserved (a name holding one is bracketed 「…」)
                root = scheme_parser("zh").parse(text)
            else:
                root = scheme_parser("en").parse(text, on_error=_keyword_as_name)
    except (UnexpectedToken, UnexpectedCharacters) as err:
        raise _syntax_error(err, text, file, spelling) from None
    except _LimitExceeded as err:
        raise _limit_error(err.code, err.message, err.span, file, text, err.hint) from None
    assert isinstance(root, _Reduced)
    too_deep = _too_deep(root)
    if too_deep is not None:
        raise _limit_error(
            "E0104",
            _("expression nested more than {MAX_NESTING} levels deep").format(
                MAX_NESTING=MAX_NESTING
            ),
            too_deep,
            file,
            text,
            _("split the condition into simpler parts"),
        )
    result = root.value
    assert isinstance(result, ast.Scheme)
    return dataclasses.replace(result, comments=find_comments(text))


_NAME = re.compile(r"[^\W\d]\w*")


def _keyword_as_name(err: Any) -> bool:
    """A keyword where only a name can go is that name: `on homework  group per day`
    names the team kind `group`. (LALR merges the state after an event name in a rule,
    where `group` starts a clause, with the same state in a board, so the lexer reads
    the keyword; the board then has no use for it.) False: a real syntax error.

    Written for lark's errors as well as incentive.lalr's (an unexpected token has a
    `.token`, an unexpected character none), so that tests/test_lalr.py can hand the
    same function to both parsers."""
    token = getattr(err, "token", None)
    if token is None or "NAME" not in err.expected:
        return False
    if token.type in ("NAME", "$END") or not _NAME.fullmatch(str(token.value)):
        return False
    assert err.interactive_parser is not None
    err.interactive_parser.feed_token(type(token).new_borrow_pos("NAME", token.value, token))
    return True


def find_comments(text: str) -> tuple[ast.Comment, ...]:
    """Every `#` comment outside a string (strings never span lines)."""
    comments: list[ast.Comment] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "#" not in line:
            continue
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
