"""The Chinese spelling of the language (issue 19): Chinese keywords beside the English
ones, full-width punctuation, mixed files, and `fmt --lang` converting both ways.

The promises tested here:
- both spellings build the same syntax tree, so a scheme converted to Chinese runs
  to byte-identical records (every bundled scheme with events);
- `fmt --lang zh` then `--lang en` gives back `fmt` of the English text, and the
  other way round, for every scheme in schemes/ and docs/ (comments kept);
- Chinese is written without spaces (`每天上限20`, `前3名`, `当打卡奖励5`);
- errors point at the right line and column, counted in characters, and the caret
  stands under the character in a terminal (CJK characters are two cells wide);
- a file that mixes the spellings is refused, naming the first keyword of the other
  spelling; a keyword used as a name is refused with the bracketed name to write.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, note, settings
from hypothesis import strategies as st

import incentive
from incentive import ast, lalr, parser
from incentive.cli import main as cli
from incentive.diagnostics import display_width
from incentive.events import guess_format, read_events
from incentive.formatter import format_expr, format_scheme
from incentive.runner import run_batch
from incentive.spelling import spelling_of, zh_grammar_text, zh_keywords, zh_name_text
from tests.strategies import SchemeT, event_streams, exprs, schemes

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = ROOT / "schemes"


def _scheme_texts() -> list[tuple[str, str]]:
    """Every scheme in schemes/ and every scheme block in docs/ that parses."""
    found = []
    for path in sorted(SCHEMES.glob("*.incentive")) + sorted(ROOT.glob("docs/**/*.incentive")):
        found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    fence = re.compile(r"^```incentive[^\n]*\n(.*?)^```", re.S | re.M)
    for page in sorted(ROOT.glob("docs/**/*.md")):
        for number, match in enumerate(fence.finditer(page.read_text(encoding="utf-8")), 1):
            found.append((f"{page.relative_to(ROOT)}#{number}", match.group(1)))
    usable = []
    for name, text in found:
        try:
            incentive.parse(text)
        except incentive.SchemeError:
            continue  # a syntax-error example
        usable.append((name, text))
    return usable


SCHEME_TEXTS = _scheme_texts()
# The examples of E0113 in docs/errors.md and docs/zh/errors.md: a currency named `where`
# has no English spelling.
UNCONVERTIBLE = {
    "docs/examples/reference/E0113.incentive",
    "docs/zh/examples/errors/E0113.incentive",
}


# ---- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("name,text", SCHEME_TEXTS, ids=[n for n, _ in SCHEME_TEXTS])
def test_converting_there_and_back_gives_fmt_in_both_spellings(name: str, text: str) -> None:
    tree = incentive.parse(text)
    if name in UNCONVERTIBLE:
        with pytest.raises(incentive.SchemeError) as caught:
            incentive.fmt(text, lang="en")
        assert [d.code for d in caught.value.diagnostics] == ["E0113"]
        return
    en = incentive.fmt(text, lang="en")
    zh = incentive.fmt(text, lang="zh")
    assert spelling_of(en) == "en" and spelling_of(zh) == "zh"
    assert incentive.parse(zh) == tree, zh
    assert incentive.fmt(zh, lang="en") == en  # en -> zh -> en
    assert incentive.fmt(en, lang="zh") == zh  # zh -> en -> zh
    assert incentive.fmt(zh) == zh  # fmt keeps the file's spelling, and is idempotent
    assert incentive.fmt(text) == incentive.fmt(text, lang=spelling_of(text))
    # comments are kept, in order
    assert [c.text for c in incentive.parse(zh).comments] == [c.text for c in tree.comments]


def _where(condition: str, spelling: str) -> str:
    if spelling == "zh":
        return f'方案 "e" {{\n  规则 r {{\n    当 a\n    条件 {condition}\n    奖励 1\n  }}\n}}\n'
    return f'scheme "e" {{\n  rule r {{\n    on a\n    where {condition}\n    award 1\n  }}\n}}\n'


@settings(max_examples=200, deadline=None)
@given(exprs())
def test_generated_expressions_read_back_in_chinese(expr: ast.Expr) -> None:
    text = _where(format_expr(expr, "zh"), "zh")
    note(text)
    rule = incentive.parse(text).items[0]
    assert isinstance(rule, ast.RuleDecl)
    where = rule.clauses[1]
    assert isinstance(where, ast.Where) and where.condition == expr
    assert incentive.fmt(text) == text
    assert incentive.fmt(incentive.fmt(text, lang="en"), lang="zh") == text


# Names built from pieces that are, hold or border on keywords: the formatter must
# bracket exactly those a Chinese scheme cannot write bare.
NAME_PIECES = (
    "打卡", "连续", "每周连续", "当", "前", "3", "名", "奖励", "积分", "是", "真", "每天", "上限",
    "作业", "x", "_", "规则", "限", "次", "前端", "兑换", "或者", "a1",
)  # fmt: skip
names = (
    st.lists(st.sampled_from(NAME_PIECES), min_size=1, max_size=4)
    .map("".join)
    .filter(lambda n: not n[0].isdigit())
)


@settings(max_examples=300, deadline=None)
@given(names, names, names, names)
def test_any_chinese_name_reads_back(rule: str, event: str, attribute: str, currency: str) -> None:
    scheme = ast.Scheme(
        "名字",
        (
            ast.CurrencyDecl((ast.Name(currency),)),
            ast.RuleDecl(
                ast.Name(rule),
                (
                    ast.On((ast.Name(event),)),
                    ast.Where(ast.Binary(">=", ast.Attribute(attribute), ast.Number(1))),
                    ast.Award(ast.Attribute(attribute), ast.Name(currency), None),
                    ast.Limit(1, "day", ast.Name(attribute)),
                ),
            ),
        ),
    )
    text = format_scheme(scheme, "zh")
    note(text)
    assert incentive.parse(text) == scheme
    assert format_scheme(incentive.parse(text), "zh") == text


def test_a_name_that_holds_a_keyword_is_bracketed() -> None:
    assert zh_name_text("打卡") == "打卡"
    assert zh_name_text("前三") == "前三"
    assert zh_name_text("连续打卡") == "连续打卡"  # 连续 alone is no keyword: 每天连续 is
    assert zh_name_text("奖励加倍") == "「奖励加倍」"  # begins with 奖励 (award)
    assert zh_name_text("每日奖励") == "「每日奖励」"  # holds 奖励 (award)
    assert zh_name_text("当前") == "「当前」"  # begins with 当 (on)
    assert zh_name_text("真") == "「真」"  # is 真 (true)
    assert zh_name_text("前3") == "「前3」"  # reads as 前3名 (top 3)
    scheme = incentive.parse('方案 "x" {\n  规则 「连续打卡」 { 当 「每日奖励」 奖励 5 }\n}\n')
    rule = scheme.items[0]
    assert isinstance(rule, ast.RuleDecl) and rule.name.value == "连续打卡"
    assert rule.clauses[0] == ast.On((ast.Name("每日奖励"),))


# ---- the same scheme, the same records -----------------------------------------------


def _records(scheme: incentive.Program, events: Path, roster: Path) -> str:
    with events.open(encoding="utf-8", newline="") as stream:
        items = list(read_events(stream, scheme.calendar, guess_format(events.name), events.name))
    loaded = incentive.load_roster(roster) if roster.exists() else None
    result = run_batch(scheme, items, roster=loaded)
    records = [*result.records, *result.session.balance_records()]
    return "".join(r.to_json() + "\n" for r in records)


WITH_EVENTS = sorted(
    p for p in SCHEMES.glob("*.incentive") if list(SCHEMES.glob(p.stem + ".events.*"))
)


@pytest.mark.parametrize("path", WITH_EVENTS, ids=lambda p: p.stem)
def test_the_chinese_spelling_gives_byte_identical_records(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    english = incentive.compile(text, str(path))
    chinese = incentive.compile(incentive.fmt(text, lang="zh"), str(path))
    roster = SCHEMES / f"{path.stem}.roster.csv"
    for events in sorted(SCHEMES.glob(path.stem + ".events.*")):
        assert _records(chinese, events, roster) == _records(english, events, roster)


@settings(max_examples=60, deadline=None)
@given(schemes(max_rules=5), st.booleans(), st.data())
def test_generated_schemes_run_alike_in_chinese(
    scheme: SchemeT, oneline: bool, data: st.DataObject
) -> None:
    text = scheme.text()
    chinese = incentive.fmt(text, lang="zh")
    if oneline:  # Chinese without line breaks: the clauses still part where they should
        chinese = " ".join(chinese.split())
    note(chinese)
    assert incentive.parse(chinese) == incentive.parse(text)
    events = [e.raw for e in data.draw(event_streams(scheme, max_size=40), label="events")]
    english_run = incentive.compile(text).evaluate(events)
    chinese_run = incentive.compile(chinese).evaluate(events)
    assert [r.to_json() for r in chinese_run.records] == [r.to_json() for r in english_run.records]


def test_the_chinese_writing_camp_is_the_writing_camp() -> None:
    english = (SCHEMES / "writing_camp.incentive").read_text(encoding="utf-8")
    chinese = (SCHEMES / "writing_camp_zh.incentive").read_text(encoding="utf-8")
    assert spelling_of(chinese) == "zh"
    assert incentive.parse(chinese).items == incentive.parse(english).items
    assert incentive.fmt(chinese) == chinese


# ---- writing without spaces ----------------------------------------------------------


def _rule_clauses(text: str) -> tuple[object, ...]:
    rule = incentive.parse(text).items[-1]
    assert isinstance(rule, ast.RuleDecl | ast.BoardDecl)
    return rule.clauses


def test_chinese_is_read_without_spaces() -> None:
    glued = _rule_clauses(
        '方案 "x" {\n  规则 打卡 {当打卡条件字数>=500奖励5每天上限20每天限1次}\n'
        "  规则 早 {当打卡每天按最早前3名奖励5}\n}\n"
    )
    spaced = _rule_clauses(
        'scheme "x" {\n  rule 打卡 { on 打卡 where 字数 >= 500 award 5 cap 20 per day'
        " limit 1 per day }\n  rule 早 { on 打卡 top 3 per day by earliest award 5 }\n}\n"
    )
    assert glued == spaced
    featured = _rule_clauses('方案 "x" {\n  规则 精选 { 当作业 每天按最高点赞前3名 奖励5 }\n}\n')
    assert featured[1] == ast.Rank("top", 3, "day", "max", ast.Name("点赞"), (), None)


def test_every_construct_reads_alike_in_both_spellings() -> None:
    """Each clause of the keyword table, written in Chinese, builds its English node."""
    pairs = [
        ("每周限2次 每个 候选人", "limit 2 per week for each 候选人"),
        ("总共限1次", "limit 1 ever"),
        ("仅一次 每个 候选人", "once for each 候选人"),
        ("记给 候选人", "credit 候选人"),
        ("每月上限 300", "cap 300 per month"),
        ("额度组 聊天", "group 聊天"),
        ("不设上限", "uncapped"),
        ("每周连续 宽限 1", "streak per week grace 1"),
        ("每天累计次数 达到 10 奖励 50", "milestone count per day at 10 award 50"),
        ("累计总和 字数 每满 1000 徽章 \"笔耕\"", 'milestone sum 字数 every 1000 badge "笔耕"'),
        ("每周累计不重复 好友 达到 5 权益 \"高级群\"",
         'milestone distinct 好友 per week at 5 perk "高级群"'),
        ("每赛季 按达成率 全勤 班级 前1名", "top 1 班级 per season by reached 全勤"),
        ("支付 版主 每周 按活跃 奖励 min(active * 20, 1154)",
         "pay 版主 per week by active award min(active * 20, 1154)"),
        ("支付 \"基金\" 每周 按总和 金额 至今 奖励 sum / 52",
         'pay "基金" per week by sum 金额 so far award sum / 52'),
        ("每赛季 按积分 来自 金币, 积分 班级 倒数1名",
         "bottom 1 班级 per season by points from 金币, 积分"),
        ("每周预算 1923", "budget 1923 per week"),
        ("未活跃 14天 标记 \"不活跃\"", 'inactive 14 days flag "不活跃"'),
        ("徽章 \"热心\" 每次 每天限2次", 'badge "热心" every time limit 2 per day'),
        ("任意7天内3次 奖励 10 每周限1次", "window 3 within 7 days award 10 limit 1 per week"),
        ("每周连续 达标 100 积分 达到 3 奖励 50",
         "streak per week reaching 100 积分 at 3 award 50"),
        ("每天连续 达标 3 达到 5 徽章 \"稳\"", 'streak per day reaching 3 at 5 badge "稳"'),
        ("每周最先3名 奖励 奖金", "first 3 per week award 奖金"),
        ("每季度限3次 每季度上限 500", "limit 3 per quarter cap 500 per quarter"),
        ("每季度连续 达到 2 奖励 100", "streak per quarter at 2 award 100"),
        ("每季度 按积分 前3名 奖励 10", "top 3 per quarter by points award 10"),
        ("最先1名 徽章 \"先锋\"", 'first 1 badge "先锋"'),
        ("邀请人 来自 邀请.新人 7天内", "inviter from 邀请.新人 within 7 days"),
        ("冻结 7天 原因 备注", "pending 7 days reason 备注"),
        ("奖励 金额 / 10 金币 四舍五入", "award 金额 / 10 金币 round nearest"),
        ("条件 渠道 是 广告 或者 非 会员", "where 渠道 is 广告 or not 会员"),
        ("条件 小时 介于 20 至 22 并且 渠道 不属于 [\"a\"]",
         'where 小时 between 20 and 22 and 渠道 not in ["a"]'),
        ("条件 渠道 不是 广告 并且 会员 == 真", "where 渠道 is not 广告 and 会员 == true"),
        ("团队目标 班级 每周 按总和 字数 抽取 3人 达到 500 奖励 10",
         "goal 班级 per week by sum 字数 draw 3 at 500 award 10"),
        ("自首次 注册 起 3天内 奖励 5", "within 3 days of first 注册 award 5"),
        ("自 入营日期 起 0天内 奖励 5", "within 0 days of 入营日期 award 5"),
    ]  # fmt: skip
    for chinese, english in pairs:
        zh = _rule_clauses(f'方案 "x" {{\n  规则 r {{ 当 a {chinese} }}\n}}\n')
        en = _rule_clauses(f'scheme "x" {{\n  rule r {{ on a {english} }}\n}}\n')
        assert zh == en, chinese
    header_zh = incentive.parse(
        '方案 "x" {\n  每周始于 周一\n  过期 积分 1年后 到年末\n  过期 金币 到月末\n'
        "  随机种子 7\n  等级 最近 30天 { 活跃 100 }\n"
        "  加成 会员日 { 倍率 2 逢 周五、星期六 从 2026-01-01 至 2026-01-31 适用 签到 }\n}\n"
    )
    header_en = incentive.parse(
        'scheme "x" {\n  week starts monday\n  expire 积分 after 1 years at end of year\n'
        "  expire 金币 at end of month\n  seed 7\n  levels over 30 days { 活跃 100 }\n"
        "  boost 会员日 { times 2 on friday, saturday from 2026-01-01 to 2026-01-31"
        " for 签到 }\n}\n"
    )
    assert header_zh.items == header_en.items
    zones_zh = incentive.parse(
        '方案 "x" {\n  时区 来自 tz\n  规则 r { 当 a 条件 hour > 20 奖励 1 }\n}\n'
    )
    zones_en = incentive.parse(
        'scheme "x" {\n  timezone from tz\n  rule r { on a where hour > 20 award 1 }\n}\n'
    )
    assert zones_zh.items == zones_en.items
    board_zh = incentive.parse(
        '方案 "x" {\n  榜单 b { 每赛季 按积分 小组 每天公布\n'
        '    播报 "各组金币" 每行 "{rank}. {name}" 分隔 "、" 定时 9:00 }\n'
        '  榜单 c { 每周 按达成率 全勤 班级 播报 "完成率" }\n}\n'
    )
    board_en = incentive.parse(
        'scheme "x" {\n  board b { 小组 per season by points each day\n'
        '    post "各组金币" line "{rank}. {name}" join "、" at 9:00 }\n'
        '  board c { 班级 per week by reached 全勤 post "完成率" }\n}\n'
    )
    assert board_zh.items == board_en.items
    reverse_zh = incentive.parse(
        '方案 "x" {\n  撤销规则 退货 { 当 退货 依据 订单 30天内 按比例 金额 占 总额 }\n'
        "  撤销规则 退款 { 当 退款 依据 订单 按比例 金额 }\n}\n"
    )
    reverse_en = incentive.parse(
        'scheme "x" {\n  reverse 退货 { on 退货 by 订单 within 30 days part 金额 of 总额 }\n'
        "  reverse 退款 { on 退款 by 订单 part 金额 }\n}\n"
    )
    assert reverse_zh.items == reverse_en.items
    league_zh = incentive.parse(
        '方案 "x" {\n  联赛 周赛 { 当 课程 每周 按总和 经验 每组 30人 段位 青铜, 白银, 黄金'
        " 晋级 5 降级 5 }\n}\n"
    )
    league_en = incentive.parse(
        'scheme "x" {\n  league 周赛 { on 课程 per week by sum 经验 cohort 30'
        " tiers 青铜, 白银, 黄金 promote 5 demote 5 }\n}\n"
    )
    assert league_zh.items == league_en.items


def _grammar_rules(path: Path) -> set[str]:
    """The rules and aliases a grammar builds nodes from (a `_zh` alias is the Chinese
    order of the English rule of the same name)."""
    code = "\n".join(line.split("//", 1)[0] for line in path.read_text("utf-8").split("\n"))
    names = set(re.findall(r"^[?!]?([a-z_]+):", code, re.M)) | set(
        re.findall(r"->\s*([a-z_]+)", code)
    )
    return {name.removesuffix("_zh") for name in names}


def test_every_construct_of_the_reference_grammar_has_a_chinese_form() -> None:
    """A construct added to grammar/incentive.lark without its Chinese form is caught
    here, not by an operator whose Chinese scheme cannot say it."""
    grammar = Path(__file__).resolve().parent.parent / "grammar"
    english = _grammar_rules(grammar / "incentive.lark")
    chinese = _grammar_rules(grammar / "incentive_zh.lark")
    assert english - chinese == set()


# ---- full-width punctuation ----------------------------------------------------------


def test_full_width_punctuation_is_accepted_in_a_chinese_scheme() -> None:
    full = (
        "方案 “全角” ｛\n\u3000货币 金币，积分\n\u3000事件 ｛ 打卡（字数：数字） ｝\n"
        "\u3000规则 打卡 ｛ 当打卡、签到 条件 字数 >= ５００ 奖励 ５ 每天限１次 ｝\n"
        "\u3000规则 标签 ｛ 当打卡 条件 渠道 属于 ［‘甲’，“乙”］ 奖励 1 ｝\n｝\n"
    )
    ascii_ = (
        '方案 "全角" {\n  货币 金币, 积分\n  事件 { 打卡(字数: 数字) }\n'
        "  规则 打卡 { 当打卡, 签到 条件 字数 >= 500 奖励 5 每天限1次 }\n"
        '  规则 标签 { 当打卡 条件 渠道 属于 ["甲", "乙"] 奖励 1 }\n}\n'
    )
    assert incentive.parse(full) == incentive.parse(ascii_)
    assert incentive.fmt(full) == incentive.fmt(ascii_)  # fmt writes the ASCII forms


@pytest.mark.parametrize(
    "char,ascii_",
    [("｛", "{"), ("｝", "}"), ("（", "("), ("）", ")"), ("：", ":"), ("，", ","), ("“", '"'),
     ("”", '"'), ("‘", "'"), ("’", "'"), ("；", ";"), ("、", ","), ("。", "."), ("【", "["),
     ("】", "]"), ("！", "!")],
)  # fmt: skip
def test_full_width_punctuation_in_an_english_scheme_names_the_ascii_character(
    char: str, ascii_: str
) -> None:
    text = f'scheme "x" {{\n  rule a {{ on x {char} award 5 }}\n}}\n'
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.parse(text)
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0102"
    assert (problem.span.line, problem.span.column) == (2, 17)
    assert any(f"ASCII `{ascii_}`" in hint for hint in problem.hints), problem.hints


def test_an_ideographic_space_in_an_english_scheme_is_named() -> None:
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.parse('scheme "x" {\n\u3000rule a { on x award 5 }\n}\n')
    (problem,) = caught.value.diagnostics
    assert "ideographic" in problem.message and problem.hints == ("write an ordinary space",)


# ---- errors: where, and in what words -------------------------------------------------


def _error(text: str) -> tuple[incentive.Diagnostic, str]:
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.compile(text, "营.incentive")
    return caught.value.diagnostics[0], caught.value.render()


def _caret_cell(rendered: str, line: int) -> tuple[str, str]:
    """The source line as shown (without its gutter) and the caret line below it (idem)."""
    lines = rendered.split("\n")
    gutter = f"{line:>4} | "
    index = next(i for i, text in enumerate(lines) if text.startswith(gutter))
    return lines[index][len(gutter) :], lines[index + 1][len(gutter) :]


def test_a_syntax_error_in_a_chinese_scheme_points_at_its_character() -> None:
    source = '方案 "x" {\n  规则 打卡 { 当打卡 奖励 5 每天限一次 }\n}\n'
    problem, rendered = _error(source)
    column = source.split("\n")[1].index("一次") + 1  # columns count characters
    assert (problem.code, problem.span.line, problem.span.column) == ("E0101", 2, column)
    assert column == 23
    assert "unexpected `一次`" in problem.message
    assert any("digits" in hint for hint in problem.hints)
    shown, caret = _caret_cell(rendered, 2)
    # The caret stands under `一次` in a terminal: as many cells in as the text before it.
    assert caret.index("^") == display_width(shown[: shown.index("一次")])
    assert caret.strip() == "^" * display_width("一次")


@pytest.mark.parametrize("places", ["按最早 前三名", "按最早前三名", "按积分 倒数一名"])
def test_places_in_chinese_numerals_get_the_digits_hint(places: str) -> None:
    # `前三名` reads as a team's name, so the error is at the word after it
    problem, _ = _error(f'方案 "x" {{\n  规则 早 {{ 当打卡 每天 {places}\n 奖励 5 }}\n}}\n')
    assert problem.code == "E0101"
    assert problem.hints == ("numbers are written in digits: `3`, not `三`",)
    assert _error('方案 "x" {\n  规则 早 { 当打卡 每天 按最早 前3名 奖励 }\n}\n')[0].hints == ()


def test_a_fraction_where_a_count_belongs_in_a_chinese_scheme() -> None:
    problem, _ = _error('方案 "x" {\n  规则 打卡 { 当打卡 奖励 5 每天限1.5次 }\n}\n')
    assert (problem.code, problem.span.column, problem.span.end_column) == ("E0101", 23, 26)
    assert problem.message == "unexpected `1.5`: a count needs a whole number"
    assert problem.hints == ("write `限1` or `限2`",)


def test_a_checker_error_in_a_chinese_scheme_points_at_its_name() -> None:
    problem, rendered = _error(
        '方案 "x" {\n  货币 金币\n  规则 签到 { 当打卡 奖励 5 钻石 每天限1次 }\n}\n'
    )
    assert (problem.code, problem.span.line, problem.span.column) == ("E0207", 3, 20)
    assert (problem.span.end_line, problem.span.end_column) == (3, 22)
    shown, caret = _caret_cell(rendered, 3)
    assert caret.index("^") == display_width(shown[: shown.index("钻石")])
    assert caret.strip() == "^^^^"


def test_a_keyword_as_a_name_is_refused_with_the_bracketed_name() -> None:
    problem, _ = _error('方案 "x" {\n  规则 奖励加倍 { 当打卡 奖励 5 }\n}\n')
    assert (problem.code, problem.span.line, problem.span.column) == ("E0112", 2, 6)
    assert "`奖励` is a keyword (`award`)" in problem.message
    assert problem.hints == (
        "a name that is or holds a keyword is written in corner brackets: `「奖励加倍」`",
    )
    problem, _ = _error('方案 "x" {\n  规则 奖励 { 当打卡 奖励 5 }\n}\n')
    assert problem.code == "E0112" and "`「奖励」`" in problem.hints[0]


def test_an_english_keyword_in_a_chinese_scheme_is_refused() -> None:
    problem, rendered = _error('方案 "x" {\n  规则 a {\n    当打卡\n    award 5\n  }\n}\n')
    assert (problem.code, problem.span.line, problem.span.column) == ("E0111", 4, 5)
    assert (problem.span.end_column) == 10
    assert "`award` is a keyword of the English spelling" in problem.message
    assert "`award` is `奖励`" in problem.hints[0]
    assert "incentive fmt --lang en" in problem.hints[1]
    assert _caret_cell(rendered, 4)[1].endswith("    ^^^^^")


@pytest.mark.parametrize(
    "line,column,keyword,english",
    [
        ("  规则 b { 当 x 奖励 5 }", 3, "规则", "rule"),
        ("  rule b { on x 奖励5 }", 17, "奖励", "award"),
        ("  rule b { on x award 5 }  每天上限20", 28, "每天", "per"),
        ("  rule b { 当打卡 award 5 }", 12, "当", "on"),
    ],
)
def test_a_chinese_keyword_in_an_english_scheme_is_refused(
    line: str, column: int, keyword: str, english: str
) -> None:
    problem, rendered = _error(f'scheme "x" {{\n  rule a {{ on x award 1 }}\n{line}\n}}\n')
    assert (problem.code, problem.span.line, problem.span.column) == ("E0111", 3, column)
    assert problem.span.end_column == column + len(keyword)
    assert f"`{keyword}` is a keyword of the Chinese spelling" in problem.message
    assert f"(`{keyword}` is `{english}`)" in problem.hints[0]
    assert "incentive fmt --lang zh" in problem.hints[1]
    shown, caret = _caret_cell(rendered, 3)
    assert caret.index("^") == display_width(shown[: column - 1])
    assert caret.strip() == "^" * display_width(keyword)


def test_a_name_that_runs_into_a_keyword_is_refused_with_the_bracketed_name() -> None:
    problem, _ = _error('方案 "x" {\n  规则 r { 当 邀请 邀请人 来自 邀请.被邀请人 7天内 }\n}\n')
    assert (problem.code, problem.span.column) == ("E0112", 26)  # at the keyword
    assert "`邀请人` is a keyword (`inviter`)" in problem.message
    assert "`「被邀请人」`" in problem.hints[0]


def test_english_keywords_are_names_in_a_chinese_scheme_and_back() -> None:
    """A word is a keyword of the scheme's own spelling only: `redeem` may name an event
    in a Chinese scheme, `兑换` in an English one."""
    zh = incentive.parse('方案 "x" {\n  规则 rule { 当 redeem 奖励 5 points }\n}\n')
    en = 'scheme "x" {\n  rule 兑换 { on 兑换 award 5 积分 }\n}\n'
    assert zh.items[0] == ast.RuleDecl(
        ast.Name("rule"),
        (ast.On((ast.Name("redeem"),)), ast.Award(ast.Number(5), ast.Name("points"), None)),
    )
    assert incentive.fmt(incentive.fmt(en, lang="zh"), lang="en") == incentive.fmt(en)


# ---- fmt --lang -------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_fmt_lang_converts_both_ways_and_keeps_the_spelling_without_it(tmp_path: Path) -> None:
    camp = str(SCHEMES / "writing_camp.incentive")
    code, chinese = _cli("fmt", "--lang", "zh", camp)
    assert code == 0 and chinese.startswith("#") and '方案 "21-day writing camp" {' in chinese
    path = tmp_path / "camp.incentive"
    path.write_text(chinese, encoding="utf-8")
    assert _cli("fmt", str(path)) == (0, chinese)  # its own spelling
    assert _cli("fmt", "--check", str(path)) == (0, "")
    assert _cli("fmt", "--lang", "en", str(path)) == (0, Path(camp).read_text(encoding="utf-8"))
    code, output = _cli("fmt", "--check", "--lang", "en", str(path))
    assert code == 1 and "not in canonical form" in output
    assert _cli("fmt", "--write", "--lang", "en", str(path))[0] == 0
    assert path.read_text(encoding="utf-8") == Path(camp).read_text(encoding="utf-8")


def test_fmt_lang_refuses_a_name_the_other_spelling_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "x.incentive"
    # `where` names a currency in Chinese; in English it would begin a clause
    path.write_text('方案 "x" {\n  规则 a { 当 打卡 奖励 5 where }\n}\n', encoding="utf-8")
    code, output = _cli("fmt", "--lang", "en", str(path))
    assert code == 1
    assert "error[E0113]: this scheme cannot be written in the English spelling" in output


# ---- the parser of the Chinese spelling ------------------------------------------------


def test_every_rule_of_the_chinese_grammar_builds_its_node() -> None:
    for rule in parser.lark_parser_zh().rules:
        name = str(rule.alias or rule.origin.name)
        if name.startswith("_") or hasattr(parser._ToAstZh, name):
            continue
        assert rule.options.expand1 and len(rule.expansion) == 1, f"no _ToAstZh.{name} for {rule}"


def test_the_name_terminal_is_written_from_the_grammar_s_own_keywords() -> None:
    grammar = zh_grammar_text()
    assert "@NAME@" not in grammar.split("\n// ---- terminals")[-1]
    keywords = zh_keywords(grammar)
    assert {"规则", "奖励", "每天", "上限", "每天连续", "前", "名", "到年末", "向下取整"} <= set(
        keywords
    )
    assert "每日任务" not in keywords  # words in comments are not keywords


def test_the_chinese_parser_is_cached_and_loads_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCENTIVE_CACHE_DIR", str(tmp_path))
    built = parser.lark_parser_zh.__wrapped__()
    path = parser.parser_cache_file(zh_grammar_text())
    assert path is not None and path.is_file()
    loaded = parser.load_cached_parser(path, zh_grammar_text(), "zh")
    assert loaded is not None and loaded is not built
    text = (SCHEMES / "writing_camp_zh.incentive").read_text(encoding="utf-8")
    key = parser.tables_key(zh_grammar_text())

    def using(which: object) -> None:  # parse with the tables of that lark parser
        tables = lalr.Grammar(lalr.extract(which, key))
        monkeypatch.setattr(parser, "scheme_parser", lambda s: parser.runtime_parser(s, tables))

    using(loaded)
    from_cache = parser.parse(text)
    using(built)
    assert parser.parse(text) == from_cache


_PROBE = """
import sys
from incentive import parser
for path in sys.argv[1:]:
    parser.parse(open(path, encoding="utf-8").read(), path)
print(sorted(parser.scheme_parser.cache_info()[3:]), "lark" in sys.modules)
"""


def test_checking_an_english_scheme_never_loads_the_chinese_tables(tmp_path: Path) -> None:
    """Each spelling's tables are read when a scheme in it is; neither needs lark (the
    generated tables are the grammar's), so no parser is built or cached either."""
    env = {**os.environ, "INCENTIVE_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    english, chinese = (
        str(SCHEMES / f) for f in ("writing_camp.incentive", "writing_camp_zh.incentive")
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _PROBE, *paths],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for paths in ([english], [english, chinese])
    ]
    assert outputs == [["[1]", "False"], ["[2]", "False"]]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("typed", "names", "meant"),
    [
        ("做业", ["作业", "打卡"], "作业"),  # a homophone from the input method
        ("打开", ["打卡", "发言"], "打卡"),
        ("子数", ["字数", "点赞"], "字数"),
        ("一斑", ["一班", "二班"], "一班"),
        ("三斑", ["一班", "二班"], None),  # two characters off
        ("做业", ["作业", "昨业"], None),  # two candidates one character off: no guess
        ("ab", ["ac"], None),  # short ASCII names keep difflib's cutoff
        ("作", ["做"], None),  # one character is too little to go on
    ],
)
def test_a_short_chinese_name_one_character_off_is_suggested(
    typed: str, names: list[str], meant: str | None
) -> None:
    from incentive.diagnostics import did_you_mean

    assert did_you_mean(typed, names) == meant


def test_a_name_that_swallows_a_one_character_keyword_is_an_error_not_a_crash() -> None:
    """`自首次 signup起` reads `signup起` as one name (a keyword of one character does not
    end a name); the parser is then left expecting nothing, which used to raise
    IndexError while writing the message."""
    for body in ("当 checkin 自首次 signup起 奖励 5", "当 checkin 周期 自首次 signup 奖励 5"):
        text = '方案 "x" {\n  规则 p { ' + body + " }\n}\n"
        with pytest.raises(incentive.SchemeError) as caught:
            incentive.parse(text, "x.incentive")
        (diagnostic,) = caught.value.diagnostics
        assert diagnostic.code == "E0101" and "`奖励`" in diagnostic.message
