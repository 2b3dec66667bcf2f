"""The parser's generated tables and their run time (incentive/lalrgen.py,
incentive/lalr.py) against lark, the reference they are generated with.

The grammar stays the reference: the checked-in tables must be what the grammar
gives today (regenerate with `python -m incentive.lalrgen`), a table file that is
not the grammar's is never used, and every text, valid or broken, parses to the
same AST or fails with the same error (token, position, expected terminals) as
lark's own parser of the grammar with the same callbacks."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incentive import lalr, lalrgen, parser
from incentive.cli import ast_to_data
from incentive.spelling import Spelling, spelling_of, zh_grammar_text

ROOT = Path(__file__).resolve().parent.parent
SPELLINGS: tuple[Spelling, ...] = ("en", "zh")


# ---- the generated files ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_generated_tables_are_the_grammars(spelling: Spelling) -> None:
    """Fails when grammar/*.lark (or the parser's options, or how the Chinese NAME is
    written out) changed and the tables were not regenerated."""
    assert parser.tables_file(spelling).read_text(encoding="utf-8") == lalrgen.generate(spelling), (
        "stale parser tables: run `python -m incentive.lalrgen` and commit the result"
    )


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_parsing_uses_the_generated_file_and_no_lark(
    spelling: Spelling, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_lark() -> None:
        raise AssertionError("lark's parser was asked for")

    monkeypatch.setattr(parser, "lark_parser", no_lark)
    monkeypatch.setattr(parser, "lark_parser_zh", no_lark)
    grammar = parser.tables.__wrapped__(spelling)
    assert grammar.key == lalr.Grammar.from_json(parser.tables_file(spelling).read_bytes()).key


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_table_file_of_another_grammar_is_never_used(
    spelling: Spelling, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grammar edited in a source checkout and not regenerated: the tables are built
    from the edited grammar with lark, and the edit takes effect."""
    if spelling == "en":
        edited = parser.grammar_text().replace('"scheme"', '"programme"', 1)
        monkeypatch.setattr(parser, "grammar_text", lambda: edited)
        text = 'programme "x" { rule a { on checkin award 5 } }'
    else:
        edited = zh_grammar_text().replace('"方案"', '"计划"', 1)
        monkeypatch.setattr(parser, "zh_grammar_text", lambda: edited)
        text = '计划 "x" { 规则 a { 当 checkin 奖励 5 } }'
    monkeypatch.setattr(parser, "lark_parser", parser.build_lark_parser)
    monkeypatch.setattr(parser, "lark_parser_zh", parser.build_lark_parser_zh)
    grammar = parser.tables.__wrapped__(spelling)
    generated = lalr.Grammar.from_json(parser.tables_file(spelling).read_bytes())
    assert grammar.key != generated.key
    root = parser.runtime_parser(spelling, grammar).parse(text)
    assert root.value.name == "x"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data.replace(b'"format": 1', b'"format": 0', 1),
        lambda data: data.replace(b'"key": "', b'"key": "another grammar ', 1),
    ],
    ids=["empty", "truncated", "older format", "other key"],
)
def test_a_damaged_table_file_means_building_from_the_grammar(
    damage: Callable[[bytes], bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "parser_en.json"
    path.write_bytes(damage(parser.tables_file("en").read_bytes()))
    monkeypatch.setattr(parser, "tables_file", lambda spelling: path)
    built: list[bool] = []

    def lark_parser() -> Any:
        built.append(True)
        return parser.build_lark_parser()

    monkeypatch.setattr(parser, "lark_parser", lark_parser)
    grammar = parser.tables.__wrapped__("en")
    assert built == [True]
    assert grammar.key == parser.tables_key(parser.grammar_text())
    assert parser.runtime_parser("en", grammar).parse('scheme "x" {}').value.name == "x"


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_literal_terminals_are_lark_s(spelling: Spelling) -> None:
    """The words an error names a terminal by (`award`, `{`) come from the tables."""
    built = _lark(spelling)
    grammar = parser.tables(spelling)
    for terminal in built.terminals:
        pattern = terminal.pattern
        literal = pattern.value if type(pattern).__name__ == "PatternStr" else None
        assert grammar.literal(terminal.name) == literal, terminal.name


# ---- the same outcomes as lark --------------------------------------------------------


_LARK: dict[str, Any] = {}


def _lark(spelling: Spelling) -> Any:
    """lark's parser built from the grammar now (strict mode, tests/conftest.py)."""
    if spelling not in _LARK:
        build = parser.build_lark_parser_zh if spelling == "zh" else parser.build_lark_parser
        _LARK[spelling] = build()
    return _LARK[spelling]


def _token(token: Any) -> tuple[Any, ...]:
    return (
        type(token).__name__,
        token.type,
        str(token),
        token.value,
        token.start_pos,
        token.line,
        token.column,
        token.end_line,
        token.end_column,
        token.end_pos,
    )


def _outcome(parse: Callable[[], Any]) -> tuple[Any, ...]:
    """What parsing gave, in terms both parsers share."""
    try:
        with parser.no_cyclic_gc():
            root = parse()
    except parser._LimitExceeded as err:
        return ("limit", err.code, err.message, err.span)
    except Exception as err:
        kind = type(err).__name__
        where = (kind, err.line, err.column, err.pos_in_stream)  # type: ignore[attr-defined]
        if kind == "UnexpectedToken":
            return (*where, _token(err.token)[1:], sorted(err.expected))  # type: ignore[attr-defined]
        if kind == "UnexpectedCharacters":
            return (*where, sorted(err.allowed))  # type: ignore[attr-defined]
        raise
    return ("ok", ast_to_data(root.value), root.span, root.height, parser._too_deep(root))


def _assert_same(text: str) -> tuple[Any, ...]:
    spelling = spelling_of(text)
    on_error = None if spelling == "zh" else parser._keyword_as_name
    ours = _outcome(lambda: parser.scheme_parser(spelling).parse(text, on_error=on_error))
    theirs = _outcome(lambda: _lark(spelling).parse(text, on_error=on_error))
    assert ours == theirs, text
    return ours


def _scheme_texts() -> list[str]:
    paths = sorted(ROOT.glob("schemes/*.incentive")) + sorted(
        ROOT.glob("tests/golden/*/*.incentive")
    )
    return [p.read_text(encoding="utf-8") for p in paths]


def _docs_blocks() -> list[str]:
    blocks = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        blocks += re.findall(r"```incentive\n(.*?)```", text, flags=re.S)
    return blocks


SCHEMES = _scheme_texts()


def test_every_scheme_and_docs_example_parses_alike() -> None:
    texts = SCHEMES + _docs_blocks()
    assert any(spelling_of(t) == "zh" for t in texts)
    outcomes = [_assert_same(text)[0] for text in texts]
    assert outcomes.count("ok") >= len(SCHEMES)  # the schemes parse, so ASTs are compared


# What an author gets wrong: the error paths of the contextual lexer (a character no
# terminal matches; a terminal of another state), of the parser (a token out of place,
# the end of the file) and of `_keyword_as_name` resuming.
_EDITS = ("", "=", "'", "｛", ".5", "}", "{", " award ", " 规则 ", "\u3000", '"', "days", " 1 ")


def _broken(text: str, count: int) -> list[str]:
    step = max(1, len(text) // count)
    out = []
    for i, position in enumerate(range(3, len(text), step)):
        out.append(text[:position])  # cut short
        out.append(text[:position] + text[position + 1 :])  # a character lost
        edit = _EDITS[i % len(_EDITS)]
        out.append(text[:position] + edit + text[position:])
    return out


@pytest.mark.parametrize("index", range(len(SCHEMES)))
def test_broken_schemes_fail_alike(index: int) -> None:
    outcomes = [_assert_same(text)[0] for text in _broken(SCHEMES[index], 25)]
    assert "UnexpectedToken" in outcomes  # errors are compared, not only ASTs


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(SCHEMES),
    st.integers(min_value=0, max_value=10_000),
    st.lists(st.sampled_from(_EDITS[1:]) | st.text(max_size=3), min_size=1, max_size=3),
)
def test_edited_schemes_parse_or_fail_alike(text: str, at: int, edits: list[str]) -> None:
    position = at % (len(text) + 1)
    _assert_same(text[:position] + "".join(edits) + text[position:])


def test_a_keyword_where_a_name_goes_resumes_alike() -> None:
    """`_keyword_as_name` feeds a NAME and resumes: both parsers must get there."""
    text = 'scheme "x" {\n  board b { on homework group per day }\n  rule r { on day award 1 }\n}\n'
    _assert_same(text)
    _assert_same('scheme "x" {\n  rule r { on homework award 5 limit 1 per }\n}\n')
