"""No English left in Chinese: every diagnostic of the error catalogue's examples (and of
the test suite's broken schemes) comes out in Chinese when the language is Chinese,
while the English run is unchanged. A message written without `_()`, or an English
fragment put into a translated sentence, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import incentive
from incentive import i18n
from incentive.checker import check
from incentive.parser import parse

ROOT = Path(__file__).resolve().parent.parent

# What may stay as written in a Chinese message: code in backticks, quoted text, paths,
# numbers. Two English words in a row outside those are an untranslated sentence, and
# so is an article before a word (`a limit 至少为 1`: a phrase filled in untranslated).
_CODE = re.compile(r"`[^`]*`|\"[^\"]*\"|'[^']*'|\([^()]*[=<>][^()]*\)")
_ENGLISH = re.compile(r"\b(?:[a-z]{2,}|a)\b[ ,:;]+\b[a-z]{2,}\b")


def english_left(text: str) -> list[str]:
    return _ENGLISH.findall(_CODE.sub(" ", text))


def error_examples() -> list[tuple[str, str]]:
    """The schemes of docs/errors.md and docs/zh/errors.md (`incentive error=E0xxx` blocks,
    ...): the Chinese catalogue's are written in Chinese keywords."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from test_docs import read_blocks

    found = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        for block in read_blocks(path):
            if block.lang == "incentive" and ("error" in block.options or block.flags):
                found.append((block.where, block.text))
    return found


def checker_cases() -> list[tuple[str, str]]:
    """The broken schemes of tests/test_checker.py, one for each code."""
    from test_checker import CASES

    return [(f"test_checker {code}-{index}", text) for index, (code, text, *_) in enumerate(CASES)]


EXAMPLES = error_examples() + checker_cases()


def diagnostics_of(text: str) -> list[str]:
    try:
        result = check(parse(text, "example.incentive"), "example.incentive", text)
    except incentive.SchemeError as err:
        return [d.render() for d in err.diagnostics]
    return [d.render() for d in result.diagnostics]


def test_english_left_finds_untranslated_phrases() -> None:
    assert english_left("次数限制 至少为 1") == []
    assert english_left("a limit 至少为 1") == ["a limit"]
    assert english_left("这里应是`}` 或 a period (`每天`)") == ["a period"]
    assert english_left("未知的事件类型 `mesage`：是不是想写 `message`？") == []


def test_there_are_examples_to_check() -> None:
    assert len(EXAMPLES) >= 140  # 55 in docs/errors.md, 87 in tests/test_checker.py


@pytest.mark.parametrize(("where", "text"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_diagnostics_are_chinese_in_chinese(where: str, text: str) -> None:
    english = diagnostics_of(text)
    with i18n.language("zh"):
        chinese = diagnostics_of(text)
    assert len(chinese) == len(english)
    for en, zh in zip(english, chinese, strict=True):
        head = zh.split("\n")[0]  # the message; the source line and caret stay as written
        hints = [line for line in zh.split("\n") if line.startswith("  = ")]
        left = english_left(" ".join([head, *hints]))
        assert not left, f"{where}: English left in {zh!r} ({left}); English: {en!r}"
        # a list in a Chinese sentence is written with 、, not an English comma
        assert ", " not in _CODE.sub(" ", head), f"{where}: an English list in {zh!r}"
        if en != zh:
            assert "错误[" in zh or "警告[" in zh


BAD_ROSTERS = [
    ("csv", "member,class\nana,red\nana,blue\n"),
    ("csv", "member,class\nana,red\nbo\n"),
    ("csv", "name,class\nana,red\n"),
    ("csv", "member,class,class\nana,red,blue\n"),
    ("csv", "member,class\n,red\n"),
    ("yaml", "member: ana\n"),
    ("yaml", "- ana\n"),
]


@pytest.mark.parametrize(("fmt", "text"), BAD_ROSTERS)
def test_roster_errors_are_chinese_in_chinese(fmt: str, text: str) -> None:
    import io

    with i18n.language("zh"):
        with pytest.raises(incentive.InputError) as caught:
            incentive.read_roster(io.StringIO(text), "roster." + fmt, fmt)
        (diagnostic,) = caught.value.diagnostics
        rendered = diagnostic.render()
    assert diagnostic.code == "E0401"
    assert "错误[E0401]" in rendered
    assert not english_left(rendered), rendered


def test_a_misspelt_team_column_is_refused_in_chinese(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("member,klass\nana,red\n", encoding="utf-8")
    with i18n.language("zh"):
        with pytest.raises(incentive.InputError) as caught:
            incentive.load_roster(roster, teams=["class"])
        rendered = caught.value.diagnostics[0].render()
    assert "名单没有" in rendered and not english_left(rendered), rendered


@pytest.mark.parametrize(
    "raw", ["打卡".encode("gbk"), "打卡".encode("big5"), "café".encode("cp1252"), b"\xff\xfea\x00"]
)
def test_encoding_problems_are_chinese_in_chinese(raw: bytes) -> None:
    import io

    from incentive.diagnostics import EncodingProblem
    from incentive.events import check_encoding, codec_name

    with i18n.language("zh"), pytest.raises(EncodingProblem) as caught:
        check_encoding(io.BytesIO(b"type,member,at\n" + raw + b"\n"), "export.csv")
    assert "第 2 行不是 UTF-8 文本" in str(caught.value)
    assert not english_left(str(caught.value)), str(caught.value)
    with i18n.language("zh"), pytest.raises(EncodingProblem) as caught:
        codec_name("klingon")
    assert not english_left(str(caught.value)), str(caught.value)


# ---- `incentive test`: what a failed case says ----------------------------------------------

_FAILING_CASES = """\
- name: 打卡一天只算一次
  events:
    - {type: 打卡, member: 小林, at: "2026-03-02T08:00"}
    - {type: 打卡, member: 小林, at: "2026-03-02T09:00"}
    - {type: 打卡, member: 小林, at: "bad time"}
  expect:
    balances: {小林: 50}
    records:
      - {kind: redeem, member: 小林}
      - {kind: refused, member: 小林, reason: "没有这句"}
    no_records:
      - {kind: award, member: 小林}
"""


def _without_records(output: str) -> str:
    """A problem line quotes records as JSON and the case's own patterns ({kind: ...}):
    those are the machine's fields and the operator's words, not the program's."""
    return re.sub(r"\{[^{}\n]*\}", " ", output)


def test_a_failed_case_is_told_in_chinese(tmp_path: Path) -> None:
    from clirun import invoke

    club = str(ROOT / "docs" / "zh" / "examples" / "club.incentive")
    cases = tmp_path / "club.cases.yaml"
    cases.write_text(_FAILING_CASES, encoding="utf-8")
    code, output = invoke("--lang", "zh", "test", club, str(cases))
    assert code == 1
    lines = output.splitlines()
    assert lines[0] == "失败  打卡一天只算一次"
    assert "  - `小林` 的 积分 余额：应为 50，实际为 5" in lines
    assert "  - 应有一条记录 {kind: redeem, member: 小林}；没有记录符合" in lines
    assert any(line.startswith("      最接近的：{") for line in lines)
    assert "  - 不应有记录 {kind: award, member: 小林}；却有 1 条：" in lines
    unusable = "  - 用例里有一个事件无法使用：`at` 不是 ISO 8601 时间"
    assert any(line.startswith(unusable) for line in lines)
    assert lines[-1] == "0 个通过，1 个失败"
    assert not english_left(_without_records(output)), output
    code, english = invoke("--lang", "en", "test", club, str(cases))
    assert english.splitlines()[0] == "FAIL  打卡一天只算一次"
    assert "  - balance of `小林` in 积分: expected 50, got 5" in english.splitlines()
    code, output = invoke(
        "--lang", "zh", "test", club, str(ROOT / "docs" / "zh" / "examples" / "club.cases.yaml")
    )
    assert code == 0 and output.startswith("通过  "), output


@pytest.mark.parametrize(
    "text",
    [
        "name: x\n",
        "- 1\n",
        "- name: x\n  colour: red\n",
        "- name: x\n  events: 3\n",
        "- name: x\n  expect: [1]\n",
        "- name: x\n  expect: {balance: 1}\n",
        "- name: x\n  expect: {balances: {ana: lots}}\n",
        "- name: x\n  expect: {records: {kind: award}}\n",
        "- name: x\n  expect: {records: [{kid: award}]}\n",
        "- name: [x\n",
        "- name: x\n  events: a: b\n",
    ],
)
def test_a_malformed_cases_file_is_refused_in_chinese(tmp_path: Path, text: str) -> None:
    from clirun import invoke

    cases = tmp_path / "cases.yaml"
    cases.write_text(text, encoding="utf-8")
    club = str(ROOT / "docs" / "zh" / "examples" / "club.incentive")
    code, output = invoke("--lang", "zh", "test", club, str(cases))
    assert code != 0 and "错误[E0402]" in output, output
    from incentive.cases import RECORD_FIELDS

    shown = re.sub(r"\b(?:" + "|".join(RECORD_FIELDS) + r")\b", " ", output)  # the fields' names
    shown = shown.replace(str(cases), " ").replace("'<stream end>'", " ")
    assert not english_left(shown), output


# ---- record kinds where a person reads them -----------------------------------------------


def test_every_record_kind_has_a_chinese_name() -> None:
    from incentive.records import RECORD_KINDS
    from incentive.report import kind_name, kind_of_name

    with i18n.language("zh"):
        names = {kind: kind_name(kind) for kind in RECORD_KINDS}
        assert all(re.search(r"[\u4e00-\u9fff]", name) for name in names.values()), names
        assert len(set(names.values())) == len(names)  # one name, one kind: --only reads it
        assert all(kind_of_name(name) == kind for kind, name in names.items())
        assert kind_of_name("refused") == "refused"
    assert [kind_name(kind) for kind in RECORD_KINDS] == list(RECORD_KINDS)


def test_tables_and_summaries_name_kinds_in_chinese(tmp_path: Path) -> None:
    """run's and explain's tables and run's summary line give a record's kind in the
    reader's language; `--only` takes either; JSON keeps the kind."""
    from clirun import invoke

    club = str(ROOT / "docs" / "zh" / "examples" / "club.incentive")
    events = str(ROOT / "docs" / "zh" / "examples" / "club.events.jsonl")
    code, table = invoke("--lang", "zh", "run", club, events, "--format", "table")
    assert code == 0
    rows = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]
    assert set(rows) == {"发放", "拒绝", "余额"}, rows
    assert "读书会：发放 6 条、拒绝 2 条；2 个成员" in table
    code, explained = invoke("--lang", "zh", "explain", club, events, "--member", "阿杰")
    rows = [line.split("│")[1].strip() for line in explained.splitlines() if line.startswith("│")]
    assert set(rows) == {"发放", "拒绝"}, rows
    by_name = invoke("--lang", "zh", "run", club, events, "--only", "拒绝,余额", "--quiet")
    by_kind = invoke("--lang", "zh", "run", club, events, "--only", "refused,balance", "--quiet")
    assert by_name == by_kind and '"kind":"refused"' in by_name[1]
    code, english = invoke("--lang", "en", "run", club, events, "--format", "table")
    assert "│ award " in english and "读书会: 6 award, 2 refused; 2 member(s)" in english
    messy = str(ROOT / "docs" / "zh" / "examples" / "messy.events.csv")
    code, output = invoke("--lang", "zh", "run", club, messy)
    assert code == 1
    assert "读书会：坏事件 1 条；0 个成员" in output
    assert not english_left(output.split("\n", 1)[1]), output


def test_code_quoted_in_a_chinese_scheme_keeps_a_templates_braces() -> None:
    """A hint quoting a post template (`{rank}. {name} {value}`) in a scheme written in
    Chinese keywords shows it as written; a block with its clause is still converted."""
    from incentive.checker import _code_zh

    assert _code_zh("{rank}. {name} {value}", frozenset()) == "{rank}. {name} {value}"
    assert _code_zh("group chat { cap 20 per day }", frozenset({"chat"})) == (
        "额度组 chat { 每天上限 20 }"
    )
