"""Records' reasons in the operator's language (incentive/reasons.py).

The engine writes the canonical English reason; the language is applied where records
leave the program. Every golden case and worked scheme is read in Chinese here: a
reason with English left (apart from what the scheme and the events wrote) fails, as
tests/test_i18n_coverage.py does for diagnostics. The records are the same apart from
`reason` in both languages, and points and draws never depend on the language.
"""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from clirun import invoke
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import event_streams, schemes, typed_events, typed_schemes
from test_golden import _cases, render
from test_i18n_coverage import english_left

import incentive
from incentive import i18n
from incentive.program import CapSpec
from incentive.reasons import LocalizedLines, localize, localize_line, localize_record, readable
from incentive.records import Record

PERIODS = ("day", "week", "month", "year", "season")

ROOT = Path(__file__).resolve().parent.parent
CASES = _cases()


def _strings(value: Any) -> list[str]:
    """The texts inside an event's JSON (members, ids, attribute values)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


@cache
def event_texts(events: Path) -> tuple[str, ...]:
    """What the events wrote, longest first: a reason may quote it as written."""
    found: set[str] = set()
    for line in events.read_text(encoding="utf-8").splitlines():
        try:
            found.update(_strings(json.loads(line)))
        except ValueError:
            continue
    return tuple(sorted((t for t in found if len(t) > 2), key=len, reverse=True))


def without_event_texts(text: str, events: Path) -> str:
    for written in event_texts(events):
        text = text.replace(written, " ")
    return text


@pytest.mark.parametrize(("name", "scheme", "events", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_reason_is_chinese_in_chinese(
    name: str, scheme: Path, events: Path, expected: Path
) -> None:
    english = expected.read_text(encoding="utf-8").splitlines()
    with i18n.language("zh"):
        chinese = [localize_line(line.encode()).decode() for line in english]
    problems = []
    for en, zh in zip(english, chinese, strict=True):
        a, b = json.loads(en), json.loads(zh)
        reason_en, reason_zh = a.pop("reason", ""), b.pop("reason", "")
        assert a == b, f"{name}: only the reason may change: {en} -> {zh}"
        if not reason_en:
            continue
        assert readable(reason_en), f"{name}: no template reads {reason_en!r}"
        left = english_left(without_event_texts(reason_zh, events))
        if left:
            problems.append(f"{reason_en!r} -> {reason_zh!r} ({left})")
    assert not problems, f"{name}: English left in Chinese reasons:\n" + "\n".join(problems[:20])


# Reasons the golden cases do not show (a live session's, bad lines', reversals' ...),
# written as the engine writes them: each must be read, and be Chinese in Chinese.
OTHER_REASONS = [
    "2026-03-05T09:00:00+08:00 is more than 1 day after the latest event "
    "(2026-03-02T09:00:00+08:00): quarantined, not evaluated",
    "2026-03-03T10:00:00+08:00 is more than 36 hours after the latest event "
    "(2026-03-02T09:00:00+08:00): quarantined, not evaluated",
    "this event id was already used for a different event: refused",
    "day 2026-03-02 had closed when this event arrived",
    "not valid JSON: expecting ',' delimiter at column 14",
    "not valid JSON: expecting value at column 1",
    "not valid JSON",
    "`at` is not an ISO 8601 time: 'soon' (write e.g. 2026-03-02T09:00:00)",
    "`at` is not an ISO 8601 time: '02/03/2026 9:00' (write e.g. 2026-03-02T09:00:00, or "
    "read it with `--time-format '%d/%m/%Y %H:%M'`)",
    "missing `member`",
    "`type` must be text",
    "attribute `words` should be a number, got true/false",
    "attribute `words` should be a number, got a number beyond 10^15",
    "unknown event type `chekin` (did you mean `checkin`?)",
    "expected 4 columns, found 5",
    "the header repeats column `member`",
    "duplicate key `member`",
    "line longer than 1,000,000 characters",
    "limit 3 ever reached",
    "limit 2 per week for each album reached",
    "the amount cannot be computed: random(5, 1) needs whole numbers, low to high",
    "rule `bonus`: from `ana` with boost `double` x2, boost `rainy` x1.5",
    "rule `bonus` with boost `double` x2",
    "3 coins expired (expire after 2 weeks at end of month)",
    "`mug` costs 200; the balance is 50",
    "catalogue `shop` is out of stock: 5 gifts per day",
    "no gift `mugg` in catalogue `shop` (did you mean `mug`?)",
    "`ana` cannot grant to themselves",
    "`ana` has no allowance in grants `praise`",
    "a sender sends at most 50 per week; 10 left",
    "`ana` cannot transfer to themselves",
    "event `o3` has no `total` above zero: the part refunded cannot be told",
    "reverse `refunds`: event `o1`: the 10 coins `spam` took are given back",
    "reverse `returns`: event `o1` (1 of its 3000 `total` refunded, all that was left: "
    "0 of 100 coins): nothing to take back yet",
    "board `absent`: no matching event (month 2026-03) in class `c2`",
    "rule `weekly`: 1st of 4 by count (week 2026-03-02 so far, at the close of day 2026-03-04)",
    "could not be evaluated (KeyError: 'x'); this is a bug in incentive: please report it",
    "not valid YAML: mapping values are not allowed here",
    "not valid YAML: expected ',' or ']', but got '<stream end>'",
    "not valid YAML: found character '\\t' that cannot start any token",
    "not valid YAML: unacceptable character #x007f: special characters are not allowed",
]


@pytest.mark.parametrize("reason", OTHER_REASONS)
def test_other_reasons_are_chinese_in_chinese(reason: str) -> None:
    assert readable(reason)
    with i18n.language("zh"):
        chinese = localize(reason)
    assert chinese != reason
    assert not english_left(chinese.replace("KeyError", "")), chinese


def test_english_is_left_as_it_is() -> None:
    for reason in OTHER_REASONS:
        assert localize(reason) is reason
    line = (
        b'{"kind":"duplicate","code":"duplicate",'
        b'"reason":"this event id was already processed: skipped"}'
    )
    assert localize_line(line) is line


def test_a_reason_no_template_reads_is_shown_as_written() -> None:
    with i18n.language("zh"):
        assert localize("something new the engine learnt to say") == (
            "something new the engine learnt to say"
        )
        assert localize("") == ""


def test_names_from_the_scheme_stay_as_written() -> None:
    with i18n.language("zh"):
        assert localize('rule `每日打卡`: perk "top class" for 1st of 3 by points with 33 '
                        "(the season)") == (
            '规则 `每日打卡`：按积分在 3 名中排第 1，为 33（整个赛季），获得福利 "top class"'
        )  # fmt: skip
        assert localize("budget 100 金币 per day for the scheme reached") == (
            "已达方案每天 100 金币 的预算"
        )


def test_lines_cut_anywhere_are_translated_whole() -> None:
    import io

    records = [
        Record(kind="duplicate", code="duplicate", events=("e1",),
               reason="this event id was already processed: skipped"),
        Record(kind="award", member="ana", rule="checkin", points=5, code="rule",
               reason="rule `checkin`"),
    ]  # fmt: skip
    data = b"".join(r.to_json_bytes() + b"\n" for r in records)
    with i18n.language("zh"):
        sink = io.BytesIO()
        lines = LocalizedLines(sink)
        for start in range(0, len(data), 7):  # a spool copied in chunks
            lines.write(data[start : start + 7])
        lines.flush()
    out = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [r["reason"] for r in out] == ["此事件 id 已处理过：跳过", "规则 `checkin`"]
    assert [{k: v for k, v in r.items() if k != "reason"} for r in out] == [
        {k: v for k, v in r.to_dict().items() if k != "reason"} for r in records
    ]


def _golden(name: str) -> tuple[Path, Path, Path]:
    for case, scheme, events, expected in CASES:
        if case == name:
            return scheme, events, expected
    raise LookupError(name)


@pytest.mark.parametrize("name", ["levels_flags_referrals", "schemes/member_day"])
def test_points_and_draws_do_not_depend_on_the_language(name: str) -> None:
    """The engine writes the same records whatever the language: a lottery's and a
    random amount's draws are seeded with the English reason, whoever reads it."""
    scheme, events, expected = _golden(name)
    text = scheme.read_text(encoding="utf-8")
    assert "lottery" in text or "random(" in text
    with i18n.language("zh"):
        assert render(scheme, events) == expected.read_text(encoding="utf-8")


def test_every_engine_and_csv_write_chinese_reasons(tmp_path: Path) -> None:
    scheme, events, _ = _golden("schemes/community")
    out = tmp_path / "records.jsonl"
    runs: dict[str, list[str]] = {}
    codes: set[int] = set()
    for engine in ("columnar", "compiled", "interpreter"):
        for lang in ("en", "zh"):
            code, _ = invoke(
                "--lang", lang, "run", "--quiet", "--engine", engine, "--out", str(out),
                str(scheme), str(events),
            )  # fmt: skip
            runs[f"{engine} {lang}"] = out.read_text(encoding="utf-8").splitlines()
            codes.add(code)  # the exit code says the same in every language
        with i18n.language("zh"):
            want = [localize_line(line.encode()).decode() for line in runs[f"{engine} en"]]
        assert runs[f"{engine} zh"] == want, engine
        assert runs[f"{engine} en"] == runs["columnar en"], engine
    assert len(codes) == 1
    tables = {}
    for lang in ("en", "zh"):
        csv_out = tmp_path / f"records.{lang}.csv"
        code, output = invoke("--lang", lang, "run", "--quiet", "--format", "csv",
                              "--out", str(csv_out), str(scheme), str(events))  # fmt: skip
        assert code in codes, output  # as the JSON Lines run exits
        text = csv_out.read_text(encoding="utf-8-sig")
        tables[lang] = list(csv.reader(io.StringIO(text)))
    english, chinese = tables["en"], tables["zh"]
    column = english[0].index("reason")
    assert len(english) == len(chinese) > 1
    with i18n.language("zh"):
        for en_row, zh_row in zip(english[1:], chinese[1:], strict=True):
            assert zh_row[:column] + zh_row[column + 1 :] == en_row[:column] + en_row[column + 1 :]
            assert zh_row[column] == localize(en_row[column])


def test_explain_shows_reasons_in_chinese() -> None:
    scheme, events, _ = _golden("limits_and_caps")
    _, output = invoke(
        "--lang", "zh", "explain", "--format", "json", "--member", "ana", str(scheme), str(events)
    )
    records = json.loads(output)["records"]
    assert records and all(not english_left(r.get("reason", "")) for r in records)
    scheme, events, _ = _golden("levels_flags_referrals")
    _, output = invoke("--lang", "zh", "explain", "--member", "ana", str(scheme), str(events))
    lines = output.splitlines()
    story = lines[lines.index("余额：54 coins, 120 xp") :]  # the balances, then the progress
    assert story[1:] == [
        "里程碑 `ads`：0 次匹配的事件；下一步：1（还差 1）",
        "等级 `levels`：`gold`，有 120 xp；下一步：已是最高等级",
    ]
    heading = next(line for line in lines if "类型" in line)  # the table's columns
    assert [cell.strip() for cell in heading.strip("┃│ ").split("┃")][:3] == [
        "类型",
        "时间",
        "成员",
    ]


def test_a_store_resumed_in_another_language_keeps_english_reasons(tmp_path: Path) -> None:
    club = str(ROOT / "docs" / "examples" / "club.incentive")
    lines = (ROOT / "docs" / "examples" / "club.events.jsonl").read_text(encoding="utf-8")
    half = lines.splitlines(keepends=True)
    events = tmp_path / "club.jsonl"
    events.write_text("".join(half[: len(half) // 2]), encoding="utf-8")
    store = tmp_path / "club.db"
    code, first = invoke("--lang", "en", "run", "--quiet", "--state", str(store), club, str(events))
    assert code == 0
    events.write_text(lines, encoding="utf-8")
    code, second = invoke(
        "--lang", "zh", "run", "--quiet", "--state", str(store), club, str(events)
    )
    assert code == 0, second
    assert "规则 `" in second
    # what the store keeps is canonical: one run in English writes the same records
    code, whole = invoke("--lang", "en", "run", "--quiet", "--state", str(tmp_path / "one.db"),
                         club, str(events))  # fmt: skip
    with i18n.language("zh"):
        shown = [localize_line(line.encode()).decode() for line in whole.splitlines()]
    records = [line for line in first.splitlines() if '"kind":"balance"' not in line]
    assert [*records, *second.splitlines()] == [
        *[line for line in whole.splitlines()][: len(records)],
        *shown[len(records) :],
    ]
    with incentive.open(club, store) as live:
        assert all(
            not any("\u4e00" <= c <= "\u9fff" for c in row.record.reason) for row in live.records()
        )


def test_a_case_may_expect_a_reason_in_the_readers_language(tmp_path: Path) -> None:
    """`incentive test`: a case written by a Chinese operator names the reason in Chinese."""
    club = ROOT / "docs" / "examples" / "club.incentive"
    english = (ROOT / "docs" / "examples" / "club.cases.yaml").read_text(encoding="utf-8")
    cases = tmp_path / "club.cases.yaml"
    cases.write_text(english.replace('"limit 1 per day"', '"每天限 1 次"'), encoding="utf-8")
    code, output = invoke("--lang", "zh", "test", str(club), str(cases))
    assert code == 0, output
    code, output = invoke("--lang", "en", "test", str(club), str(cases))
    assert code != 0  # in English the reason reads otherwise
    assert "limit 1 per day reached" in output  # the closest record, in the reader's language
    code, output = invoke(
        "--lang", "zh", "test", str(club), str(ROOT / "docs/examples/club.cases.yaml")
    )
    assert code == 0, output  # an English case still passes in Chinese


def test_a_stores_messages_are_in_the_readers_language(tmp_path: Path) -> None:
    examples = ROOT / "docs" / "examples"
    events, store = str(examples / "club.events.jsonl"), str(tmp_path / "club.db")
    invoke("run", "--quiet", "--state", store, str(examples / "club.incentive"), events)
    changed = str(examples / "club_generous.incentive")
    code, output = invoke("--lang", "zh", "run", "--quiet", "--state", store, changed, events)
    assert code == 2
    assert f"自 {store} 写入以来方案已改变：" in output
    assert "请用写入它的方案打开它" in output
    assert not english_left(re.sub(r"`[^`]*`|\S*/\S*", " ", output)), output
    code, output = invoke("run", "--quiet", "--state", store, changed, events)
    assert f"the scheme changed since {store} was written:" in output


# ---- properties ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_reason_of_a_random_scheme_is_read_and_chinese(data: st.DataObject) -> None:
    """Random schemes (limits, caps, groups, penalties, computed amounts) on random
    events: every reason the engine writes is read by a template, and in Chinese has
    no English left; the records are otherwise the same."""
    scheme = data.draw(schemes(), label="scheme")
    program = incentive.compile(scheme.text())
    events = data.draw(event_streams(scheme, max_size=40, ids="mixed"), label="events")
    records = program.evaluate([e.raw for e in events]).records
    for record in records:
        if not record.reason:
            continue
        assert readable(record.reason), record.reason
        with i18n.language("zh"):
            shown = localize_record(record)
        assert shown.replace(reason="") == record.replace(reason="")
        assert not english_left(shown.reason), (record.reason, shown.reason)


NAMES = st.text(
    st.characters(exclude_characters="`\n\r", exclude_categories=("Cs",)), min_size=1, max_size=12
)


@given(name=NAMES, member=NAMES, count=st.integers(1, 10**6), period=st.sampled_from(PERIODS))
def test_names_are_kept_whatever_they_hold(name: str, member: str, count: int, period: str) -> None:
    """A rule's or a member's name is shown as written, whatever characters it holds
    (colons, parentheses, English words, the words of a template)."""
    cap = CapSpec(f"rule:{name}", count, period)  # type: ignore[arg-type]
    reasons = [
        f"{cap.describe()} reached: {count - 1} of {count} paid",
        f"rule `{name}`: from `{member}`",
        f"transfer `{name}`: {count} coins to `{member}`",
    ]
    for reason in reasons:
        with i18n.language("zh"):
            chinese = localize(reason)
        assert f"`{name}`" in chinese and chinese != reason, (reason, chinese)
        assert not english_left(chinese), chinese
    with i18n.language("zh"):
        assert f"`{member}`" in localize(reasons[1])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_reason_of_computed_amounts_is_read_and_chinese(data: st.DataObject) -> None:
    """Conditions and amounts from random, well-typed expressions (division by zero,
    random draws, missing attributes, numbers out of range)."""
    text = data.draw(typed_schemes(), label="scheme")
    try:
        program = incentive.compile(text)
    except incentive.SchemeError:
        assume(False)
        raise
    types = tuple(sorted({e for r in program.rules for e in r.events}))
    events = data.draw(typed_events(program.attribute_types, types), label="events")
    for record in program.evaluate(events).records:
        if record.reason:
            assert readable(record.reason), record.reason
            with i18n.language("zh"):
                chinese = localize(record.reason)
            assert not english_left(chinese), (record.reason, chinese)


# ---- every template, rendered in Chinese -------------------------------------------------

# A value for each kind of blank, as the engine writes it (English), and each period
_SAMPLES: dict[str, str] = {
    **dict.fromkeys(
        ("rule", "name", "gift", "near", "member", "other", "target", "source", "attribute",
         "part", "whole", "type", "boost", "team", "value", "expr", "format", "habit",
         "example", "column"),
        "ana",
    ),
    "perk": "top class",
    **dict.fromkeys(
        ("n", "m", "count", "points", "granted", "left", "length", "factor", "a", "b", "c",
         "low", "high", "line", "shown"),
        "3",
    ),
    "currency": "coins", "attr": "words", "teamkind": "class", "tier": "gold", "tier2": "silver",
    "day": "2026-03-02", "first": "2026-03-02", "last": "2026-03-22",
    "time": "2026-03-02T09:00:00+08:00", "time2": "2026-03-03T09:00:00+08:00",
    "text": "'soon'", "names": "`a`, `b`", "file": "events.jsonl", "code": "'\\ud800'",
    "got": "'soon'", "nth": "2nd",
}  # fmt: skip


def _period_sample(name: str, period: str) -> str:
    key = {"quarter": "2026-Q1", "year": "2026", "month": "2026-03"}.get(period, "2026-03-02")
    return {
        "period": period,
        "period2": period,
        "units": f"{period}s",
        "this": f"this {period}",
        "end": f"end of {period}",
        "when": f"{'day' if period == 'season' else period} {key}",
        "when2": f"day {'2026-03-04'}",
    }[name]


def _english(
    family: str, msgid: str, period: str, depth: int = 0, choice: tuple[str, int] | None = None
) -> str:
    """The template `msgid` filled in as the engine would write it: names and numbers
    from _SAMPLES, periods as `period`, phrases by their family's first template (or,
    for the blank `choice` names, its family's template of that index)."""
    from incentive.reasons import _FAMILIES, _PHRASE_OF_SLOT, _SPECIAL

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name in _SPECIAL:
            return _period_sample(name, period) if name != "nth" else _SAMPLES["nth"]
        if name in _SAMPLES:
            return _SAMPLES[name]
        phrase = _PHRASE_OF_SLOT.get(name, name)
        choices = [t for t in _FAMILIES[phrase] if depth < 2 or "{" not in t]
        index = choice[1] if choice is not None and choice[0] == name else 0
        return _english(phrase, choices[index], period, depth + 1)

    return re.sub(r"\{(\w+)\}", value, msgid)


def every_template() -> list[tuple[str, str, tuple[str, int] | None]]:
    """Every template; a reason's once more for each template of each phrase it holds."""
    from incentive.reasons import _FAMILIES, _PHRASE_OF_SLOT

    found: list[tuple[str, str, tuple[str, int] | None]] = []
    for family, msgids in _FAMILIES.items():
        for msgid in msgids:
            found.append((family, msgid, None))
            if family != "reason":
                continue
            for name in re.findall(r"\{(\w+)\}", msgid):
                phrase = _PHRASE_OF_SLOT.get(name, name)
                if phrase in _FAMILIES and phrase != "reason":
                    others = range(1, len(_FAMILIES[phrase]))
                    found.extend((family, msgid, (name, i)) for i in others)
    return found


# Chinese written next to Latin letters or digits without a space (`因为class`, `本{period}`
# filled with a number) reads as a typo; a date written the Chinese way (2026年3月2日,
# 2026年第1季度) is the exception.
_CHINESE_DATE = re.compile(r"\d+年(?:第\d+季度|\d+月(?:\d+日)?)?")
_GLUED = re.compile(r"[\u4e00-\u9fff][A-Za-z0-9]|[A-Za-z0-9][\u4e00-\u9fff]")
# Words a period's name makes when glued to 本, 末 or a count: 本天 (today is 今天/当天),
# 天末, 周末 (a weekend), 3 月 (March, not three months), 3 季度.
_AWKWARD = re.compile(r"本天|本年(?!度)|天末|周末|\d 月|\d 季度|\d 赛季|这一月")


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter", "year", "season"])
@pytest.mark.parametrize(("family", "msgid", "choice"), every_template(), ids=lambda v: str(v)[:60])
def test_every_template_reads_well_in_chinese(
    family: str, msgid: str, choice: tuple[str, int] | None, period: str
) -> None:
    """Each template, filled in with each period, is read back, and its Chinese has no
    English left, no Chinese glued to a Latin word, and none of the awkward words a period
    name makes in a sentence (本天, 3 月 ...)."""
    if family != "reason" and "{" not in msgid:
        return  # a word of a phrase (a kind, an owner): shown inside a reason
    from incentive.reasons import _render

    english = _english(family, msgid, period, choice=choice)
    with i18n.language("zh"):
        chinese = _render(family, english)
    assert chinese is not None, f"no template reads {english!r}"
    if family == "reason":
        assert readable(english)
    text = _CHINESE_DATE.sub(" ", chinese)
    assert not english_left(text.replace("'soon'", "")), (english, chinese)
    assert not _GLUED.findall(text.replace("×3", "")), (english, chinese)
    assert not _AWKWARD.findall(chinese), (english, chinese)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("rule `m`: 3 matching events reached this day", "规则 `m`：当天达到 3 次匹配的事件"),
        ("already one of the first 3 this week", "已是本周前 3 名之一"),
        ("the first 3 this month have won", "本月前 3 名已满"),
        ("rule `m`: 3 `words` reached this quarter", "规则 `m`：本季度 `words` 达到 3"),
        ("the streak was broken (2 missed); a new one starts: 1 month in a row",
         "连续中断（漏了 2 次），重新开始：已连续 1 个月"),
        ("3 coins expired (expire after 2 months at end of month)",
         "3 coins 已过期（2 个月后，于月底过期）"),
        ("3 coins expired (expire at end of week)", "3 coins 已过期（当周结束时过期）"),
        ('rule `top`: perk "top class" for class `c1` reached 100 by points (week 2026-03-02)',
         '规则 `top`：class `c1` 按积分达到 100（2026年3月2日起的一周），获得福利 "top class"'),
        ("board `b`: no matching event (quarter 2026-Q1)",
         "榜单 `b`：没有匹配的事件（2026年第1季度）"),
        ("rule `weekly`: 1st of 4 by count (week 2026-03-02 so far, at the close of day "
         "2026-03-04)",
         "规则 `weekly`：按次数在 4 名中排第 1（2026年3月2日起的一周截至2026年3月4日结束时）"),
    ],
)  # fmt: skip
def test_periods_read_as_chinese_says_them(english: str, chinese: str) -> None:
    with i18n.language("zh"):
        assert localize(english) == chinese


# ---- every output for tools follows the language, apart from its machine fields ----------

# Fields a tool branches on or a name the scheme or the events wrote: the same in every
# language. Every other text in a JSON output is for a person, in the reader's language.
MACHINE_FIELDS = frozenset(
    {"kind", "code", "rule", "member", "currency", "owner", "at", "period", "team", "perk",
     "scheme", "range", "events", "what", "file", "severity", "who", "value", "level", "tier",
     "source", "item"}
)  # fmt: skip


def texts_for_people(data: Any, key: str = "") -> list[tuple[str, str]]:
    """(field, text) for every text of a JSON output outside the machine fields."""
    if isinstance(data, dict):
        return [pair for k, v in data.items() for pair in texts_for_people(v, k)]
    if isinstance(data, list):
        return [pair for item in data for pair in texts_for_people(item, key)]
    if isinstance(data, str) and key not in MACHINE_FIELDS:
        return [(key, data)]
    return []


def _json_outputs(tmp_path: Path) -> dict[str, list[str]]:
    """The JSON outputs of every command that has one, as arguments after --lang."""
    golden = ROOT / "tests" / "golden"
    examples = ROOT / "docs" / "examples"
    store = tmp_path / "club.db"
    code, _ = invoke("run", "--quiet", "--state", str(store), str(examples / "club.incentive"),
                     str(examples / "club.events.jsonl"))  # fmt: skip
    assert code == 0
    broken = tmp_path / "broken.incentive"
    broken.write_text(
        (ROOT / "docs/zh/examples/club_typo.incentive").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    camp = [str(ROOT / "schemes/writing_camp.incentive"),
            str(ROOT / "docs/examples/camp_double.incentive"),
            str(ROOT / "schemes/writing_camp.events.jsonl")]  # fmt: skip
    outputs = {
        f"simulate {case}": ["simulate", "--quiet", "--format", "json",
                             str(golden / case / "scheme.incentive"),
                             str(golden / case / "events.jsonl")]
        for case in ("ledger", "quarter", "limits_and_caps", "pay_from_measure")
    }  # fmt: skip
    outputs |= {
        "explain": ["explain", "--format", "json", "--member", "ana",
                    str(golden / "limits_and_caps/scheme.incentive"),
                    str(golden / "limits_and_caps/events.jsonl")],
        "explain progress": ["explain", "--format", "json", "--member", "ana",
                             str(golden / "streaks_and_milestones/scheme.incentive"),
                             str(golden / "streaks_and_milestones/events.jsonl")],
        "compare": ["compare", "--format", "json", *camp],
        "compare --ab": ["compare", "--ab", "--format", "json", *camp],
        "replay": ["replay", "--format", "json", "--state", str(store),
                   str(examples / "club_generous.incentive")],
        "check": ["check", "--format", "json", str(broken)],
    }  # fmt: skip
    return outputs


def test_every_json_output_is_in_the_readers_language(tmp_path: Path) -> None:
    """simulate, explain, compare (and --ab), replay and check with --format json: with
    --lang zh every text for a person is Chinese; the machine fields and the numbers are
    those of the English output, which is unchanged."""
    seen: set[str] = set()
    for name, args in _json_outputs(tmp_path).items():
        outputs = {}
        for lang in ("en", "zh"):
            code, output = invoke("--lang", lang, *args)
            assert code in (0, 1), (name, output)
            outputs[lang] = json.loads(output)
        english, chinese = outputs["en"], outputs["zh"]
        problems = []
        for field, text in texts_for_people(chinese):
            seen.add(field)
            if english_left(text):
                problems.append(f"{field}: {text!r}")
        assert not problems, f"{name}: English for a person in Chinese:\n" + "\n".join(problems)
        # the same shape and the same numbers: only texts for people differ
        assert _numbers(english) == _numbers(chinese), name
    # the outputs do hold texts for people (a refusal's reason, a budget's owner in words,
    # a record's reason, progress, the scheme's changes, a diagnostic's message and hints)
    assert {"reason", "on", "now", "next", "changes", "message", "hints"} <= seen, seen


def _numbers(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _numbers(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_numbers(v) for v in data]
    return data if not isinstance(data, str) else None


def test_explains_progress_names_its_periods_in_chinese() -> None:
    scheme, events, _ = _golden("streaks_and_milestones")
    _code, output = invoke("--lang", "zh", "explain", "--member", "ana", str(scheme), str(events))
    lines = output.splitlines()
    assert "连续 `streak`：连续 8 天；下一步：连续 14 天（还差 6 天）" in lines
    assert "里程碑 `prolific`：1200 words（本周）；下一步：2000（还差 800）" in lines
    _code, output = invoke("--lang", "en", "explain", "--member", "ana", str(scheme), str(events))
    assert "streak `streak`: 8 day(s) in a row; next: 14 in a row (6 more)" in output.splitlines()
