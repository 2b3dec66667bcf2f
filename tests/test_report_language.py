"""The simulate and compare reports in the reader's language, and on a phone (issue 19):
terminal tables, CSV and the HTML pages in Simplified Chinese with `--lang zh`, the
pages' `lang`, viewport and system CJK fonts, readable axes (round steps on y, dates
at even intervals on x, in the page's language), and no sideways scrolling of the
page at 390 px in a real headless browser (Debian's chromium; skipped without it)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import measured_at_width, needs_browser
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import incentive
from incentive.cli import main as cli
from incentive.html_report import nice_ticks, render_html, x_ticks
from incentive.i18n import language
from incentive.report import build_report, compact_number, period_label

ROOT = Path(__file__).resolve().parent.parent
CAMP = str(ROOT / "schemes/writing_camp.incentive")
POPULATION = str(ROOT / "schemes/writing_camp.population.yaml")
DOUBLE = str(ROOT / "docs/examples/camp_double.incentive")
ACTIVITY = [
    str(ROOT / "schemes/writing_camp.events.jsonl"),
    "--roster",
    str(ROOT / "schemes/writing_camp.roster.csv"),
]
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
PRODUCT = "incentive"  # the program's own name, in either language


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


# ---- what a report's texts may contain besides the reader's language ---------------------


def report_names(report: dict[str, Any]) -> set[str]:
    """Every name a report shows that comes from the scheme or the activity (rules,
    currencies, members, teams, perks, boards, levels), and the names a refusal's reason
    quotes (the reason itself is shown in the reader's language: incentive/reasons.py)."""
    names = {report["scheme"], *report["currencies"], *report["boards"], *report["teams"]}
    names |= {r["rule"] for r in report["rules"]}
    names |= {r["rule"] for r in report["refusals"]}
    for refusal in report["refusals"]:
        names |= {a or b for a, b in re.findall(r'`([^`]*)`|"([^"]*)"', refusal["reason"])}
    names |= {p["perk"] for p in report["perks"]} | set(report["levels"])
    for spread in report["distribution"].values():
        names |= {t["member"] for t in spread["top"]}
    for rows in report["teams"].values():
        names |= {t["team"] for t in rows if t["team"]}
    for lines in report["boards"].values():
        names |= {str(line["who"]) for line in lines}
    return names


def english_left(texts: list[str], names: set[str]) -> list[str]:
    """Texts with a word of English once the names are taken out."""
    left = []
    for text in texts:
        rest = text
        for name in sorted(names, key=len, reverse=True):  # `class-1-c` before `class-1`
            rest = rest.replace(name, " ")
        rest = rest.replace(PRODUCT, " ")
        if LATIN_WORD.search(rest):
            left.append(text)
    return left


class PageText(HTMLParser):
    """A page's texts as a reader meets them: the text of every element (the style
    aside), tooltips (<title> in the charts) included."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style and data.strip():
            self.texts.append(data.strip())


def page_texts(html: str) -> list[str]:
    parser = PageText()
    parser.feed(html)
    return parser.texts


def chart(html: str, name: str, nth: int = 0) -> str:
    found = re.findall(rf'<svg class="chart" data-chart="{name}".*?</svg>', html, re.S)
    assert len(found) > nth, f"no chart {name} #{nth}"
    return found[nth]


def ticks(svg: str, axis: str) -> list[str]:
    return re.findall(rf'<text class="tick {axis}"[^>]*>([^<]*)</text>', svg)


# ---- the axes ------------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10**12))
def test_the_y_axis_counts_in_round_steps(top: int) -> None:
    marks = nice_ticks(top)
    step = marks[1] - marks[0]
    assert marks[0] == 0 and marks[-1] >= top > marks[-2]  # covers the top, no step too many
    assert marks == [i * step for i in range(len(marks))]
    assert 2 <= len(marks) <= 6  # 1 to 5 steps
    digits = str(step).rstrip("0")
    assert digits in ("1", "2", "5"), step  # 1, 2 or 5 times a power of ten


def days_from(first: date, count: int) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range(count)]


@pytest.mark.parametrize(
    ("count", "at", "labels"),
    [
        (1, [0], ["3月2日"]),
        (7, [0, 1, 2, 3, 4, 5, 6], ["3月2日", "3月3日", "3月4日", "3月5日", "3月6日", "3月7日",
                                    "3月8日"]),
        (21, [0, 7, 14], ["3月2日", "3月9日", "3月16日"]),  # weekly for weeks
        (60, [0, 14, 28, 42, 56], ["3月2日", "3月16日", "3月30日", "4月13日", "4月27日"]),
    ],
)  # fmt: skip
def test_the_x_axis_labels_days_at_even_intervals(
    count: int, at: list[int], labels: list[str]
) -> None:
    with language("zh"):
        shown = x_ticks("day", days_from(date(2026, 3, 2), count))
    assert [i for i, _ in shown] == at
    assert [label for _, label in shown] == labels
    with language("en"):
        assert x_ticks("day", days_from(date(2026, 3, 2), 3)) == [
            (0, "Mar 2"), (1, "Mar 3"), (2, "Mar 4")
        ]  # fmt: skip


def test_months_label_the_first_of_each_month_with_the_year_where_it_turns() -> None:
    keys = days_from(date(2026, 10, 15), 200)  # 15 October to 2 May
    with language("zh"):
        shown = x_ticks("day", keys)
    assert [label for _, label in shown] == ["2026年11月", "12月", "2027年1月", "2月", "3月",
                                             "4月", "5月"]  # fmt: skip
    assert all(keys[i].endswith("-01") for i, _ in shown)
    with language("en"):
        assert [label for _, label in x_ticks("month", ["2026-11", "2026-12", "2027-01"])] == [
            "Nov 2026", "Dec", "Jan 2027"
        ]  # fmt: skip


@given(
    st.sampled_from(["day", "week", "month", "year", "season"]),
    st.integers(min_value=1, max_value=3000),
)
def test_the_x_axis_never_crowds(period: str, count: int) -> None:
    first = date(2026, 1, 5)
    keys = {
        "day": days_from(first, count),
        "week": [(first + timedelta(weeks=n)).isoformat() for n in range(count)],
        "month": [f"{2026 + n // 12:04d}-{n % 12 + 1:02d}" for n in range(count)],
        "year": [f"{2000 + n:04d}" for n in range(count)],
        "season": ["season"] * count,
    }[period]
    with language("zh"):
        shown = x_ticks(period, keys)
    places = [i for i, _ in shown]
    assert 1 <= len(shown) <= 7
    assert places == sorted(set(places)) and all(0 <= i < count for i in places)
    gaps = {b - a for a, b in itertools.pairwise(places)}
    if period != "day" or count <= 98:  # months are not all as long
        assert len(gaps) <= 1  # even intervals


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (0, "0", "0"),
        (5000, "5,000", "5,000"),
        (25000, "25k", "2.5万"),
        (200000, "200k", "20万"),
        (1500000, "1.5M", "150万"),
        (300000000, "300M", "3亿"),
    ],
)
def test_axis_numbers_are_short_in_each_language(value: int, en: str, zh: str) -> None:
    with language("en"):
        assert compact_number(value) == en
    with language("zh"):
        assert compact_number(value) == zh


def test_periods_are_named_in_each_language() -> None:
    with language("zh"):
        assert period_label("day", "2026-03-02") == "2026年3月2日"
        assert period_label("week", "2026-03-02") == "2026年3月2日起的一周"
        assert period_label("month", "2026-03") == "2026年3月"
        assert period_label("season", "season") == "赛季"
    with language("en"):
        assert period_label("week", "2026-03-02") == "week of Mar 2, 2026"
        assert period_label("month", "2026-03") == "Mar 2026"


# ---- the terminal and the CSV --------------------------------------------------------------


@pytest.fixture(scope="module")
def camp_report() -> dict[str, Any]:
    return json.loads(invoke("simulate", CAMP, "--population", POPULATION, "--format", "json"))


def test_the_simulate_tables_in_chinese(camp_report: dict[str, Any]) -> None:
    out = invoke("--lang", "zh", "simulate", CAMP, "--population", POPULATION, "--quiet")
    for title in ("积分总览", "各规则发放", "每周发放", "谁获得了积分：coins", "拒绝与削减"):
        assert title in out
    assert "2026年3月2日" in out  # the weeks, by their first day
    assert f"{camp_report['currencies']['coins']['paid']:,}" in out  # the same numbers
    cells = [c.strip() for line in out.splitlines() for c in re.split(r"[│┃]", line)]
    assert english_left([c for c in cells if c], report_names(camp_report)) == []
    english = invoke("--lang", "en", "simulate", CAMP, "--population", POPULATION, "--quiet")
    assert "points by currency" in english and "积分" not in english


def test_the_csv_in_chinese(camp_report: dict[str, Any]) -> None:
    result = CliRunner().invoke(
        cli,
        ["--lang", "zh", "simulate", CAMP, "--population", POPULATION, "--format", "csv"],
        catch_exceptions=False,
    )
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert rows[:2] == [["方案"], ["名称"]]
    assert ["积分类型", "发放", "已兑换", "已过期", "未使用"] in rows
    cells = [cell for row in rows for cell in row if cell]
    assert english_left(cells, report_names(camp_report)) == []


def test_compare_in_chinese() -> None:
    out = invoke("--lang", "zh", "compare", CAMP, DOUBLE, *ACTIVITY, "--top", "3")
    data = json.loads(invoke("compare", CAMP, DOUBLE, *ACTIVITY, "--format", "json"))
    cost = data["cost"]["coins"]
    assert "各规则积分" in out and "变化最大的 3 项" in out
    assert f"成本（coins）：A {cost['a']:,}，B {cost['b']:,}（{cost['change']:+,}）" in out
    assert f"成员余额：{data['gainers']} 项增加，{data['losers']} 项减少" in out
    names = {r["rule"] for r in data["rules"]} | {m["member"] for m in data["members"]}
    cells = [c.strip() for line in out.splitlines() for c in re.split(r"[│┃]", line)]
    assert english_left([c for c in cells if c], names | {"coins"}) == []
    ab = invoke("--lang", "zh", "compare", CAMP, DOUBLE, *ACTIVITY, "--ab", "--seed", "3")
    assert "A/B 测试：coins（随机种子 3）" in ab and "人均发放" in ab
    assert "注意：有一组只有 230 名成员" in ab
    english = invoke("--lang", "en", "compare", CAMP, DOUBLE, *ACTIVITY, "--ab", "--seed", "3")
    assert "paid_per_member" in english and "note: an arm has 230 members" in english


# ---- the pages -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The simulate and compare pages of the writing camp, in both languages."""
    folder = tmp_path_factory.mktemp("pages")
    made = {}
    for lang in ("zh", "en"):
        made[f"simulate-{lang}"] = folder / f"simulate-{lang}.html"
        invoke("--lang", lang, "simulate", CAMP, "--population", POPULATION,
               "--html", str(made[f"simulate-{lang}"]), "--format", "json")  # fmt: skip
        made[f"compare-{lang}"] = folder / f"compare-{lang}.html"
        invoke("--lang", lang, "compare", CAMP, DOUBLE, *ACTIVITY,
               "--html", str(made[f"compare-{lang}"]), "--format", "json")  # fmt: skip
        made[f"ab-{lang}"] = folder / f"ab-{lang}.html"
        invoke("--lang", lang, "compare", CAMP, DOUBLE, *ACTIVITY, "--ab", "--seed", "3",
               "--html", str(made[f"ab-{lang}"]), "--format", "json")  # fmt: skip
    return made


@pytest.mark.parametrize("page", ["simulate", "compare", "ab"])
def test_a_page_says_its_language_and_is_made_for_phones(pages: dict[str, Path], page: str) -> None:
    for lang, tag in (("zh", "zh-Hans"), ("en", "en")):
        html = pages[f"{page}-{lang}"].read_text(encoding="utf-8")
        assert html.startswith(f"<!doctype html><html lang='{tag}'>")
        assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in html
        fonts = re.search(r"body \{ font: [^;]*;", html)
        assert fonts is not None
        for face in ("PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC"):
            assert f'"{face}"' in fonts.group()
        # system fonts only: nothing to fetch when the page is opened offline
        assert "@font-face" not in html and "@import" not in html and "url(" not in html


def test_the_chinese_simulate_page(pages: dict[str, Path], camp_report: dict[str, Any]) -> None:
    html = pages["simulate-zh"].read_text(encoding="utf-8")
    assert "<title>21-day writing camp：试运行</title>" in html
    for heading in ("积分", "每日成本：coins", "各规则发放：coins", "谁获得了积分：coins"):
        assert f"<h2>{heading}</h2>" in html
    cost = chart(html, "cost")
    # 21 days from 2 March: a label a week, in Chinese
    assert ticks(cost, "x") == ["3月2日", "3月9日", "3月16日"]
    highest = max(day["coins"] for day in camp_report["per_day"].values())
    marks = ticks(cost, "y")
    values = [int(m.replace(",", "")) for m in marks]
    assert values == nice_ticks(highest) and len(values) >= 3
    assert marks[-1] == f"{values[-1]:,}"
    assert len(re.findall(r'<line class="grid"[^>]*y1="([^"]*)" x2="[^"]*" y2="\1"', cost)) == len(
        marks
    )  # a grid line at each mark
    assert "<title>2026年3月2日：" in cost  # a point's tooltip: the date in full


def test_the_english_simulate_page_says_what_it_said(pages: dict[str, Path]) -> None:
    html = pages["simulate-en"].read_text(encoding="utf-8")
    assert re.findall(r"<h2>([^<]*)</h2>", html) == [
        "Points", "Cost over time, coins", "Per rule, coins", "Who earns coins", "Teams: class",
        "Teams: group", "Perks, badges and flags", "Board groups (its last period)",
        "Board classes (its last period)", "Board group_coins (its last period)",
        "Board class_coins (its last period)", "Board class_rate (its last period)",
        "Board not_yet (its last period)", "Board morning (its last period)", "Refused and cut",
    ]  # fmt: skip
    assert "<title>21-day writing camp: dry run</title>" in html
    assert "<figcaption>coins paid per day</figcaption>" in html
    assert ticks(chart(html, "cost"), "x") == ["Mar 2", "Mar 9", "Mar 16"]
    assert "<th>currency</th><th>paid</th><th>spent</th><th>expired</th>" in html
    assert "积分" not in html


def test_the_chinese_compare_page(pages: dict[str, Path]) -> None:
    html = pages["compare-zh"].read_text(encoding="utf-8")
    assert "<h1>21-day writing camp：两个版本</h1>" in html
    assert "<title>21-day writing camp：两个版本（方案对比）</title>" in html
    assert "<th>规则</th><th>积分类型</th><th>A</th><th>B</th><th>变化</th>" in html
    cost = chart(html, "cost-compare")
    assert ticks(cost, "x") == ["3月2日", "3月9日", "3月16日"]
    assert len(ticks(cost, "y")) >= 3
    assert "<title>A，2026年3月2日：" in cost and "<title>B，2026年3月2日：" in cost
    english = pages["compare-en"].read_text(encoding="utf-8")
    assert "<h1>21-day writing camp: two versions</h1>" in english
    assert "<h2>The 10 biggest changes</h2>" in english


@pytest.mark.parametrize("page", ["simulate", "compare", "ab"])
def test_no_english_is_left_in_a_chinese_page(
    pages: dict[str, Path], camp_report: dict[str, Any], page: str
) -> None:
    names = report_names(camp_report) | {CAMP, DOUBLE}  # the files compared
    data = json.loads(invoke("compare", CAMP, DOUBLE, *ACTIVITY, "--format", "json"))
    names |= {r["rule"] for r in data["rules"]} | {m["member"] for m in data["members"]}
    left = english_left(page_texts(pages[f"{page}-zh"].read_text(encoding="utf-8")), names)
    assert left == []
    # and the check sees English where there is some
    assert english_left(page_texts(pages[f"{page}-en"].read_text(encoding="utf-8")), names)


# A scheme in Chinese names with a weekly budget, levels and a perk: the report's other
# tables and the budget's chart (weeks on the x axis).
BUDGETED = """scheme "打卡营" {
  currency 积分
  budget 12 per week

  levels {
    新人 0
    老成员 20
  }

  rule 打卡 {
    on checkin
    award 5
    limit 1 per day
  }
}
"""


def budgeted_report() -> dict[str, Any]:
    program = incentive.compile(BUDGETED)
    events = [
        {"id": f"{who}{n}", "type": "checkin", "member": who,
         "at": f"{date(2026, 3, 2) + timedelta(days=n)}T09:00:00"}
        for n in range(0, 35, 2)
        for who in ("小明", "小红")
    ]  # fmt: skip
    return build_report(program, program.evaluate(events))


def test_a_budget_and_levels_in_chinese() -> None:
    report = budgeted_report()
    assert report["budgets"] and report["refusals"] and report["levels"]
    with language("zh"):
        html = render_html(report)
    assert "<h2>预算：整个方案（积分）</h2>" in html
    assert "<th>预算</th><th>周期</th><th>周期数</th><th>发放</th><th>峰值</th>" in html
    assert "<td>周</td>" in html
    budget = chart(html, "budget")
    assert ticks(budget, "x") == ["3月2日", "3月9日", "3月16日", "3月23日", "3月30日"]
    assert ticks(budget, "y") == ["0", "5", "10", "15"]
    assert "<title>发放，2026年3月2日起的一周：12 积分</title>" in budget
    assert "每周发放的 积分 与预算 12（虚线）对比" in html
    assert english_left(page_texts(html), report_names(report)) == []
    with language("en"):
        english = render_html(report)
    assert "<h2>Budget on the scheme, 积分</h2>" in english
    assert "<title>paid, week of Mar 2, 2026: 12 积分</title>" in english


# ---- on a phone ----------------------------------------------------------------------------


def assert_fits_a_phone(measured: dict[str, Any]) -> None:
    view = measured["view"]
    assert 360 <= view <= 390, measured  # the frame's width, less any scroll bar
    assert measured["scroll"] <= view, f"the page scrolls sideways: {measured}"
    assert measured["outside"] == []
    for drawn in measured["charts"]:  # each chart scaled to the width, not cut off
        assert drawn["left"] >= 0 and drawn["right"] <= view, drawn
        assert drawn["right"] - drawn["left"] > view * 0.8, drawn
    if measured["charts"]:
        assert measured["smallest_chart_text"] >= 9, "chart text too small to read on a phone"
    for table in measured["tables"]:
        # a table wider than the screen scrolls in its own box, its first column held
        assert table["first_column_moved"] == pytest.approx(0, abs=1), table
        assert table["last_column_right"] <= 1, table  # scrolled to the end, all of it shows


@needs_browser
@pytest.mark.parametrize("page", ["simulate", "compare", "ab"])
def test_the_chinese_page_fits_a_phone(pages: dict[str, Path], page: str, tmp_path: Path) -> None:
    measured = measured_at_width(pages[f"{page}-zh"], tmp_path / "profile")
    assert_fits_a_phone(measured)
    if page == "simulate":  # who earns: eight columns, wider than a phone
        assert any(table["wide"] and table["scrolled"] > 0 for table in measured["tables"])


@needs_browser
def test_the_measure_sees_a_page_that_does_not_fit(tmp_path: Path) -> None:
    """The same measurement on a page as wide as the charts were before (640 px)."""
    page = tmp_path / "wide.html"
    page.write_text(
        "<!doctype html><html><body><svg class='chart' data-chart='old' width='640' "
        "height='100'><text x='0' y='50'>0</text></svg><table><tr><th>a</th></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    measured = measured_at_width(page, tmp_path / "profile")
    assert measured["scroll"] > measured["view"]
    with pytest.raises(AssertionError, match="scrolls sideways"):
        assert_fits_a_phone(measured)
