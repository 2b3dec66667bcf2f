"""The two spellings of the language: English keywords and Chinese keywords (issue 19).

A scheme is written in one spelling, told by its first word: `scheme` or `方案`.
Both build the same syntax tree (grammar/incentive.lark is the reference,
grammar/incentive_zh.lark the Chinese spelling); `incentive fmt --lang zh|en`
prints a scheme in either. This module holds what the parser, the formatter and
the error messages share about the Chinese spelling, and imports no lark: the
formatter uses it too.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Literal

Spelling = Literal["en", "zh"]
SPELLINGS: tuple[Spelling, ...] = ("en", "zh")

# The first word of a scheme in each spelling.
_FIRST_WORD = re.compile(r"(?:\ufeff)?(?:[\s\u3000]+|#[^\n]*)*(方案|scheme)?")


def spelling_of(text: str) -> Spelling:
    """The spelling a scheme is written in: Chinese when its first word is `方案`."""
    match = _FIRST_WORD.match(text)
    return "zh" if match is not None and match.group(1) == "方案" else "en"


# ---- words the language defines, in Chinese ----------------------------------------

# Periods: `per day` is one word, `每天`; the end of a period, `到年末`.
PERIODS_ZH = {
    "day": "每天",
    "week": "每周",
    "month": "每月",
    "quarter": "每季度",
    "year": "每年",
    "season": "每赛季",
}
PERIOD_SYNONYMS_ZH = {"每日": "day"}
PERIOD_ENDS_ZH = {
    "day": "到日末",
    "week": "到周末",
    "month": "到月末",
    "quarter": "到季末",
    "year": "到年末",
    "season": "到赛季末",
}
UNITS_ZH = {"day": "天后", "week": "周后", "month": "个月后", "year": "年后"}
ROUNDING_ZH = {"down": "向下取整", "up": "向上取整", "nearest": "四舍五入"}
SIDES_ZH = {"top": "前", "bottom": "倒数"}
PERK_KINDS_ZH = {"perk": "权益", "badge": "徽章", "flag": "标记"}
MEASURES_ZH = {
    "earliest": "按最早",
    "count": "按次数",
    "sum": "按总和",
    "max": "按最高",
    "points": "按积分",
    "active": "按活跃",
    "rate": "按比率",
    "lottery": "按抽签",
    "missing": "按未完成",
    "reached": "按达成率",
}
# Words that are values, not keywords, but that a Chinese scheme writes in Chinese:
# the days of the week (`每周始于 周一`, a boost's `逢 周五`) and attribute types.
WEEKDAYS_ZH = {
    "monday": "周一",
    "tuesday": "周二",
    "wednesday": "周三",
    "thursday": "周四",
    "friday": "周五",
    "saturday": "周六",
    "sunday": "周日",
}
WEEKDAY_SYNONYMS_ZH = {
    "星期一": "monday",
    "星期二": "tuesday",
    "星期三": "wednesday",
    "星期四": "thursday",
    "星期五": "friday",
    "星期六": "saturday",
    "星期日": "sunday",
    "星期天": "sunday",
    "周天": "sunday",
}
TYPES_ZH = {"number": "数字", "text": "文本", "bool": "布尔"}


def _reverse(table: dict[str, str]) -> dict[str, str]:
    return {zh: en for en, zh in table.items()}


PERIOD_FROM_ZH = {**_reverse(PERIODS_ZH), **PERIOD_SYNONYMS_ZH}
PERIOD_END_FROM_ZH = _reverse(PERIOD_ENDS_ZH)
ROUNDING_FROM_ZH = _reverse(ROUNDING_ZH)
SIDE_FROM_ZH = _reverse(SIDES_ZH)
PERK_KIND_FROM_ZH = _reverse(PERK_KINDS_ZH)
WEEKDAY_FROM_ZH = {**_reverse(WEEKDAYS_ZH), **WEEKDAY_SYNONYMS_ZH}
TYPE_FROM_ZH = _reverse(TYPES_ZH)

# Each English keyword and its Chinese form, for messages about a file that mixes
# the two spellings ("`rule` is the English spelling of `规则`").
KEYWORDS_EN_TO_ZH = {
    "scheme": "方案",
    "currency": "货币",
    "timezone": "时区",
    "day": "每天截止",
    "week": "每周始于",
    "season": "赛季",
    "events": "事件",
    "team": "团队",
    "group": "额度组",
    "rule": "规则",
    "board": "榜单",
    "boost": "加成",
    "expire": "过期",
    "budget": "预算",
    "redeem": "兑换规则",
    "grants": "发放额度",
    "reverse": "撤销规则",
    "transfer": "转账规则",
    "catalogue": "礼品目录",
    "levels": "等级",
    "seed": "随机种子",
    "on": "当",
    "where": "条件",
    "award": "奖励",
    "limit": "限",
    "once": "仅一次",
    "cap": "上限",
    "uncapped": "不设上限",
    "streak": "每天连续",
    "grace": "宽限",
    "milestone": "累计次数",
    "distinct": "累计不重复",
    "reached": "按达成率",
    "post": "播报",
    "pay": "支付",
    "goal": "团队目标",
    "draw": "抽取",
    "league": "联赛",
    "cohort": "每组",
    "tiers": "段位",
    "promote": "晋级",
    "demote": "降级",
    "so": "至今",
    "far": "至今",
    "part": "按比例",
    "of": "占",
    "line": "每行",
    "join": "分隔",
    "at": "达到",
    "every": "每满",
    "time": "每次",
    "window": "任意",
    "reaching": "达标",
    "earned": "所得",
    "first": "最先",
    "top": "前",
    "bottom": "倒数",
    "perk": "权益",
    "badge": "徽章",
    "flag": "标记",
    "inactive": "未活跃",
    "inviter": "邀请人",
    "pending": "冻结",
    "reason": "原因",
    "credit": "记给",
    "amount": "数额",
    "minimum": "最低",
    "maximum": "最高",
    "multiple": "整倍数",
    "threshold": "门槛",
    "allowance": "额度",
    "by": "依据",
    "within": "天内",
    "periods": "周期",
    "debt": "允许欠款",
    "to": "转给",
    "receive": "接收上限",
    "keep": "保留",
    "item": "品名",
    "stock": "库存",
    "gift": "兑换品",
    "price": "价格",
    "times": "倍率",
    "from": "从",
    "for": "适用",
    "each": "公布",
    "per": "每天",
    "and": "并且",
    "or": "或者",
    "not": "非",
    "in": "属于",
    "between": "介于",
    "is": "是",
    "true": "真",
    "false": "假",
    "round": "向下取整",
}


# ---- the Chinese grammar and its NAME terminal --------------------------------------

_LITERAL = re.compile(r'"([^"\\\n]+)"')
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def zh_grammar_source() -> str:
    """grammar/incentive_zh.lark as shipped (its NAME line still to be written)."""
    packaged = resources.files("incentive").joinpath("incentive_zh.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    path = Path(__file__).resolve().parent.parent / "grammar" / "incentive_zh.lark"
    return path.read_text(encoding="utf-8")


def zh_keywords(source: str) -> tuple[str, ...]:
    """Every Chinese word of the grammar (its quoted literals), longest first."""
    code = "\n".join(line.split("//", 1)[0] for line in source.split("\n"))
    words = {w for w in _LITERAL.findall(code) if _NON_ASCII.search(w)}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def name_pattern(keywords: tuple[str, ...]) -> str:
    """The NAME terminal of the Chinese spelling, as a regular expression.

    A name is a word (a letter or `_`, then letters, digits, `_`) that ends where a
    keyword of two or more characters begins, so that `当打卡奖励5` reads as
    `当 打卡 奖励 5`; it may not begin with `当` (`当打卡`) nor with `前` and a number
    (`前3名`). A name in corner brackets, `「连续打卡」`, may hold anything but `」`.
    Single-character keywords (`是`, `非`, `真`) are words only on their own.
    """
    multi = [re.escape(w) for w in keywords if len(w) > 1]
    inside = "|".join([*multi, r"前\s*\d"])
    start = "|".join([*multi, "当", r"前(?:\s*\d|(?!\w))"])
    return rf"「[^」\n]+」|(?!{start})[^\W\d](?:(?!{inside})\w)*"


@functools.cache
def zh_grammar_text() -> str:
    """The Chinese grammar with its NAME terminal written out from its own keywords."""
    source = zh_grammar_source()
    pattern = name_pattern(zh_keywords(source))
    return re.sub(r"^@NAME@$", lambda _: f"NAME: /{pattern}/", source, count=1, flags=re.M)


@functools.cache
def zh_name_regex() -> re.Pattern[str]:
    """A bare name of the Chinese spelling (the formatter quotes any other)."""
    source = zh_grammar_source()
    bare = name_pattern(zh_keywords(source)).split("|", 1)[1]
    return re.compile(bare)


@functools.cache
def zh_single_keywords() -> frozenset[str]:
    """Keywords of one character: a name that is exactly one of them is bracketed."""
    return frozenset(w for w in zh_keywords(zh_grammar_source()) if len(w) == 1)


@functools.cache
def zh_keyword_set() -> frozenset[str]:
    return frozenset(zh_keywords(zh_grammar_source()))


def zh_keyword_prefix(word: str) -> str | None:
    """The Chinese keyword a word begins with (`规则` for `规则打卡`), if any."""
    for keyword in zh_keywords(zh_grammar_source()):
        if len(keyword) > 1 and word.startswith(keyword):
            return keyword
    return None


def zh_name_text(name: str) -> str:
    """A name as the Chinese spelling writes it: bare when it can be, else `「name」`."""
    if zh_name_regex().fullmatch(name) and name not in zh_single_keywords():
        return name
    return f"「{name}」"
