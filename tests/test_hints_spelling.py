"""Checker messages about a scheme written in Chinese keywords quote code in Chinese
keywords (issue 19): a hint suggesting `limit 1 per day` in a file written with 每天
says `每天限1次`. Names of the file stay as written, and English-spelled schemes get
the very same messages as before."""

from __future__ import annotations

import re

import pytest
from test_checker import CASES

import incentive
from incentive import i18n
from incentive.checker import _PLAIN_KEYWORDS, check
from incentive.diagnostics import Diagnostic
from incentive.formatter import format_source
from incentive.parser import parse

# English keywords a piece of code may hold, alone or in a phrase (`per day`, `by points`)
ENGLISH_CODE = _PLAIN_KEYWORDS | {"per", "by", "so", "far", "top", "bottom"}

UNBOUNDED = """\
{scheme} "打卡群" {{
  {currency} 积分
  {rule} {name} {{
    {on} checkin
    {award} 5
  }}
}}
"""


def diagnostics(text: str) -> list[Diagnostic]:
    try:
        return check(parse(text, "x.incentive"), "x.incentive", text).diagnostics
    except incentive.SchemeError as err:
        return list(err.diagnostics)


def zh(name: str = "打卡") -> str:
    words = {"scheme": "方案", "currency": "货币", "rule": "规则", "on": "当", "award": "奖励"}
    return UNBOUNDED.format(name=name, **words)


def en(name: str = "打卡") -> str:
    return UNBOUNDED.format(name=name, **{w: w for w in ("scheme", "currency", "rule", "on")},
                            award="award")  # fmt: skip


def test_a_hint_quotes_code_in_the_files_spelling() -> None:
    (warning,) = diagnostics(zh())
    assert warning.code == "W0301"
    assert warning.hints == ("add `每天限1次`, a `上限`, or `不设上限` if that is intended",)
    with i18n.language("zh"):
        (warning,) = diagnostics(zh())
    assert warning.hints == ("加上 `每天限1次` 或 `上限`；如果本意如此，就加上 `不设上限`",)


def test_an_english_scheme_keeps_its_english_code() -> None:
    (warning,) = diagnostics(en())
    assert warning.hints == ("add `limit 1 per day`, a `cap`, or `uncapped` if that is intended",)


def test_a_name_of_the_file_is_kept_even_when_it_is_an_english_keyword() -> None:
    (warning,) = diagnostics(zh(name="cap"))
    assert warning.message == "rule `cap` can pay without limit"
    assert "`上限`" not in warning.message


def test_a_block_is_converted_head_and_clause() -> None:
    text = zh().replace("    奖励 5\n", "    奖励 5\n    额度组 chat\n")
    (error,) = [d for d in diagnostics(text) if d.code == "E0208"]
    assert error.hints == ("declare it: `额度组 chat { 每天上限 20 }`",)


def _cases_in_chinese() -> list[tuple[str, str]]:
    found = []
    for index, (code, text, *_) in enumerate(CASES):
        try:
            found.append((f"{code}-{index}", format_source(text, "x.incentive", "zh")))
        except incentive.SchemeError:
            continue  # a case the parser already refuses has no Chinese form
    return found


CHINESE_CASES = _cases_in_chinese()


def test_most_checker_cases_have_a_chinese_form() -> None:
    assert len(CHINESE_CASES) >= 70


@pytest.mark.parametrize(("case", "text"), CHINESE_CASES, ids=[c for c, _ in CHINESE_CASES])
def test_no_english_keyword_is_quoted_about_a_chinese_scheme(case: str, text: str) -> None:
    names = set(re.findall(r"[A-Za-z_]\w*", text))
    for lang in ("en", "zh"):
        with i18n.language(lang):
            for diagnostic in diagnostics(text):
                for line in (diagnostic.message, *diagnostic.hints):
                    for code in re.findall(r"`([^`\n]+)`", line):
                        code = re.sub(r'"[^"]*"', "", code)  # a perk's name, a template
                        words = re.findall(r"[A-Za-z_]\w*", code)
                        left = [w for w in words if w in ENGLISH_CODE and w not in names]
                        assert not left, f"{case}: {line!r} quotes English keywords {left}"


def test_the_other_spellings_gloss_is_in_the_readers_language() -> None:
    """E0111's hint glosses the keyword (`每天` is `per`) with the checker's msgid."""
    text = 'scheme "x" {\n  rule r {\n    on checkin\n    award 5\n    limit 1 每天\n  }\n}\n'
    with i18n.language("zh"):
        (error,) = diagnostics(text)
    assert error.code == "E0111"
    assert "（`每天` 即 `per`）" in error.hints[0]
    (error,) = diagnostics(text)
    assert " (`每天` is `per`)" in error.hints[0]
