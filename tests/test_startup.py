"""Start-up (issue 14): `incentive check` imports only what checking needs, and the
public API stays whole although `import incentive` imports next to nothing.

No timings here (they belong to bench/startup.py): these tests pin what makes
start-up fast, so that a stray import does not quietly undo it."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import incentive
from incentive import lalr, parser
from incentive.cli import ast_to_data
from incentive.spelling import spelling_of

ROOT = Path(__file__).resolve().parent.parent

# Run the command in a fresh interpreter and list the modules it imported.
_PROBE = """
import sys
from incentive.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("-- modules --")
print("\\n".join(sorted(sys.modules)))
"""

# What `check` must not import: the engine and everything only running a scheme needs.
NOT_FOR_CHECK = (
    "incentive.analysis",
    "incentive.budgets",
    "incentive.cases",
    "incentive.engine",
    "incentive.events",
    "incentive.html_compare",
    "incentive.html_report",
    "incentive.ledger",
    "incentive.population",
    "incentive.ranks",
    "incentive.records",
    "incentive.report",
    "incentive.roster",
    "incentive.rules",
    "incentive.simulation",
    # the parser runs from the generated tables (incentive/lalr.py): no lark at all
    "incentive.lalrgen",
    "incentive.leanlark",
    "lark",
    "pydantic",
    "pydantic_core",
    "rich",
    "yaml",
    # lark imports these when installed (incentive/leanlark.py)
    "regex",
    "interegular",
)


def _imported_by(*args: str) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "-- modules --" in run.stdout, run.stderr
    return set(run.stdout.split("-- modules --\n", 1)[1].split())


def test_check_imports_no_engine_pydantic_yaml_or_rich() -> None:
    modules = _imported_by("check", "schemes/writing_camp.incentive")
    assert "incentive.checker" in modules  # the probe really checked
    assert sorted(set(NOT_FOR_CHECK) & modules) == []


def test_check_of_an_invalid_scheme_imports_no_more() -> None:
    modules = _imported_by("check", "tests/golden/limits_and_caps/events.jsonl")
    assert "incentive.parser" in modules
    assert sorted(set(NOT_FOR_CHECK) & modules) == []


def test_help_imports_neither_the_checker_nor_lark() -> None:
    modules = _imported_by("--help")
    assert "incentive.cli" in modules
    assert sorted({"incentive.checker", "incentive.parser", "lark", *NOT_FOR_CHECK} & modules) == []


# What a run must not import: pydantic is for population files and schemas (simulate,
# schema), not for evaluating events, and costs a run its start-up every time.
NOT_FOR_RUN = ("pydantic", "pydantic_core", "incentive.population", "incentive.simulation")


@pytest.mark.parametrize("engine", ["columnar", "compiled", "interpreter"])
def test_run_imports_no_pydantic(engine: str, tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    modules = _imported_by(
        "run", "schemes/writing_camp.incentive", "schemes/writing_camp.events.jsonl",
        "--roster", "schemes/writing_camp.roster.csv", "--engine", engine,
        "--quiet", "--out", str(out),
    )  # fmt: skip
    evaluator = {"columnar": "incentive.columnar", "compiled": "incentive.compiler"}
    assert evaluator.get(engine, "incentive.engine") in modules  # the probe really ran it
    assert out.read_bytes().count(b"\n") > 6000
    assert sorted(set(NOT_FOR_RUN) & modules) == []


@pytest.mark.parametrize("name", incentive.__all__)
def test_every_public_name_imports(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from incentive import {name}", namespace)
    value = namespace[name]
    assert value is getattr(incentive, name)
    assert name in dir(incentive)
    if name in incentive._LAZY:  # the very object of its own module
        assert value is getattr(importlib.import_module(incentive._LAZY[name]), name)


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = incentive.no_such_name  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from incentive import no_such_name", {})


# ---- the parser cache ---------------------------------------------------------------

BROKEN = (
    'scheme "x" {\n  rule a { on checkin awrd 5 }\n}\n',
    'scheme "x" {\n  rule a { on checkin award 5 limit 1.5 per day }\n}\n',
    'scheme "x" {\n  rule a { on checkin award 5 }\n',
    "scheme 'x' {}\n",
)


def _scheme_texts() -> list[tuple[str, str]]:
    paths = sorted(ROOT.glob("schemes/*.incentive")) + sorted(
        ROOT.glob("tests/golden/*/*.incentive")
    )
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in paths]


def _outcome(text: str, file: str) -> object:
    """The AST as data (spans included), or the rendered syntax error."""
    try:
        return ast_to_data(parser.parse(text, file))
    except incentive.SchemeError as err:
        return err.render()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own."""
    monkeypatch.setenv("INCENTIVE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _cache_file() -> Path:
    path = parser.parser_cache_file(parser.grammar_text())
    assert path is not None
    return path


def _parsing_with(which: object, spelling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse with the tables of that lark parser (what a process does whose generated
    tables are not its grammar's: incentive/parser.py, tables())."""
    text = parser.zh_grammar_text() if spelling == "zh" else parser.grammar_text()
    tables = lalr.Grammar(lalr.extract(which, parser.tables_key(text)))
    monkeypatch.setattr(parser, "scheme_parser", lambda s: parser.runtime_parser(s, tables))


def test_the_parser_is_saved_and_the_saved_one_parses_alike(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = parser.lark_parser.__wrapped__()  # no cache file yet: built, then saved
    path = _cache_file()
    assert path.parent == cache and path.is_file()
    loaded = parser.load_cached_parser(path, parser.grammar_text())
    assert loaded is not None and loaded is not built
    cases = [*_scheme_texts(), *((f"broken{i}", t) for i, t in enumerate(BROKEN))]
    cases = [(file, text) for file, text in cases if spelling_of(text) == "en"]

    def outcomes(which: object) -> list[object]:
        _parsing_with(which, "en", monkeypatch)
        return [_outcome(text, file) for file, text in cases]

    from_cache = outcomes(loaded)
    assert from_cache == outcomes(built)
    assert all(isinstance(o, str) for o in from_cache[-len(BROKEN) :])  # errors compared too


def _corruptions() -> dict[str, Callable[[bytes], bytes]]:
    def payload_byte_flipped(data: bytes) -> bytes:
        return data[:-100] + bytes([data[-100] ^ 1]) + data[-99:]

    def other_grammar(data: bytes) -> bytes:
        header, _, rest = data.split(b"\n", 2)
        return b"\n".join([header, parser.cache_key("start: NAME").encode(), rest])

    def garbage_with_a_good_digest(data: bytes) -> bytes:
        header, key, _, _ = data.split(b"\n", 3)
        junk = b"\x80\x05not a pickle"
        return b"\n".join([header, key, hashlib.sha256(junk).hexdigest().encode(), junk])

    return {
        "empty": lambda data: b"",
        "truncated": lambda data: data[: len(data) // 2],
        "payload byte flipped": payload_byte_flipped,
        "other grammar": other_grammar,
        "older format": lambda data: data.replace(parser.CACHE_FORMAT, b"incentive parser cache 0"),
        "garbage with a good digest": garbage_with_a_good_digest,
        "not a cache at all": lambda data: b"\x00" * 5000,
    }


@pytest.mark.parametrize("corruption", list(_corruptions()))
def test_a_stale_or_corrupt_cache_file_is_ignored_and_rebuilt(cache: Path, corruption: str) -> None:
    parser.lark_parser.__wrapped__()
    path = _cache_file()
    good = path.read_bytes()
    path.write_bytes(_corruptions()[corruption](good))
    assert parser.load_cached_parser(path, parser.grammar_text()) is None
    rebuilt = parser.lark_parser.__wrapped__()  # ignores the bad file, builds, saves anew
    assert rebuilt.parse('scheme "x" { rule a { on checkin award 5 } }').value.name == "x"
    assert parser.load_cached_parser(path, parser.grammar_text()) is not None
    assert sorted(p.name for p in cache.iterdir()) == [path.name]  # no temporary left


def test_a_cache_for_another_grammar_is_never_used(cache: Path) -> None:
    parser.lark_parser.__wrapped__()
    grammar = parser.grammar_text()
    changed = grammar + "\n// one more line\n"
    assert parser.cache_key(changed) != parser.cache_key(grammar)
    assert parser.parser_cache_file(changed) != _cache_file()
    assert parser.load_cached_parser(_cache_file(), changed) is None


def test_an_unwritable_cache_folder_only_means_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("INCENTIVE_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    built = parser.lark_parser.__wrapped__()
    assert built.parse('scheme "x" { rule a { on checkin award 5 } }').value.name == "x"
    assert not (blocker / "cache").exists()


# ---- lark without regex and interegular (incentive/leanlark.py) ---------------------


def test_lark_is_strict_in_the_tests() -> None:
    """tests/conftest.py imports interegular before lark: the parsers the tests build
    prove the grammar free of conflicts and of overlapping terminals."""
    assert parser.lark_options()["strict"] is True


@pytest.mark.parametrize("spelling", ["en", "zh"])
def test_a_parser_built_without_strict_mode_is_the_same(
    spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where lark was imported without interegular (every `incentive` command), a parser
    missing from the cache is built without strict mode: the same tables, the same
    outcomes, for a grammar that passes strict mode (as the test above builds it)."""
    zh = spelling == "zh"
    parser.lark_options()
    strict = parser.build_lark_parser_zh() if zh else parser.build_lark_parser()
    monkeypatch.setitem(parser.LARK_OPTIONS, "strict", False)
    lax = parser.build_lark_parser_zh() if zh else parser.build_lark_parser()
    assert lax.options.strict is False and strict.options.strict is True
    # (states are numbered in an order that varies between builds: compare their count)
    tables = [p.parser.parser.parser.parse_table for p in (lax, strict)]
    assert len(tables[0].states) == len(tables[1].states)
    assert sorted(t.name for t in lax.terminals) == sorted(t.name for t in strict.terminals)
    cases = [*_scheme_texts(), *((f"broken{i}", t) for i, t in enumerate(BROKEN))]
    cases = [(file, text) for file, text in cases if spelling_of(text) == spelling]
    assert cases

    def outcomes(which: object) -> list[object]:
        _parsing_with(which, spelling, monkeypatch)
        return [_outcome(text, file) for file, text in cases]

    assert outcomes(lax) == outcomes(strict)


def test_the_commands_import_lark_without_its_extras_and_still_build() -> None:
    """A fresh `incentive` process that needs lark (the tables built from an edited
    grammar): lark without regex and interegular, the parser built (an empty cache
    folder) in lark's default mode, then read back from the cache; regex and
    interegular stay importable for anything else."""
    probe = """
import sys, tempfile, os
os.environ["INCENTIVE_CACHE_DIR"] = tempfile.mkdtemp()
from incentive import parser
assert "lark" not in sys.modules, "lark imported with the parser"
assert parser.lark_options()["strict"] is False
assert "regex" not in sys.modules and "interegular" not in sys.modules, "extras imported"
built = parser.lark_parser.__wrapped__()
grammar = parser.grammar_text()
loaded = parser.load_cached_parser(parser.parser_cache_file(grammar), grammar)
assert loaded is not None
text = open("schemes/writing_camp.incentive", encoding="utf-8").read()
assert parser.parse(text, "w") is not None
import importlib.util
for name in ("regex", "interegular"):
    if importlib.util.find_spec(name) is not None:
        __import__(name)  # hidden from lark only while lark was imported
print("ok")
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip() == "ok", run.stderr
