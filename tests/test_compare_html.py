"""`incentive compare --html`: a self-contained page whose numbers are those of
`compare --format json`, and whose charts render in a real headless browser
(Debian's chromium; the browser test is skipped without it)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import assert_charts_drawn, needs_browser, rendered_dom
from click.testing import CliRunner

from incentive.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
CAMP = str(ROOT / "schemes/writing_camp.incentive")
DOUBLE = str(ROOT / "docs/examples/camp_double.incentive")
ACTIVITY = [
    str(ROOT / "schemes/writing_camp.events.jsonl"),
    "--roster",
    str(ROOT / "schemes/writing_camp.roster.csv"),
]
CHARTS = ("rule-change", "cost-compare")


def compare(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["compare", *args], catch_exceptions=False)
    return result.exit_code, result.output


class Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts (the header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table(html: str, *header: str) -> list[dict[str, Any]]:
    """The rows of the page's table with this header, keyed as in the JSON (`A` is `a`),
    numbers read back as ints."""
    parser = Tables()
    parser.feed(html)
    (found,) = [t for t in parser.tables if tuple(t[0]) == header]

    def value(cell: str) -> Any:
        plain = cell.replace(",", "")
        return int(plain) if re.fullmatch(r"[+-]?\d+", plain) else cell

    keys = [column.lower() for column in header]
    return [dict(zip(keys, map(value, row), strict=True)) for row in found[1:]]


def page_and_json(tmp_path: Path, a: str, b: str, *extra: str) -> tuple[str, dict[str, Any]]:
    path = tmp_path / "compare.html"
    code, out = compare(a, b, *ACTIVITY, *extra, "--html", str(path), "--format", "json")
    assert code == 0, out
    return path.read_text(encoding="utf-8"), json.loads(out)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compare") / "compare.html"
    code, out = compare(CAMP, DOUBLE, *ACTIVITY, "--html", str(path))
    assert code == 0, out
    assert "points per rule" in out  # the terminal tables still go to standard output
    return path


def test_the_page_is_self_contained_and_names_both_schemes(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html)
    assert "http://" not in html and "https://" not in html
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in html
    assert "21-day writing camp" in html
    assert CAMP in html and DOUBLE in html
    assert 'class="legend"' in html  # the two series of the cost chart are told apart


def test_the_pages_numbers_are_those_of_the_json(tmp_path: Path) -> None:
    html, diff = page_and_json(tmp_path, CAMP, DOUBLE, "--top", "4")
    cost = table(html, "currency", "A", "B", "change")
    assert {row.pop("currency"): row for row in cost} == diff["cost"]
    rules = table(html, "rule", "currency", "A", "B", "change")
    assert rules == diff["rules"]
    assert any(r["change"] > 0 for r in diff["rules"])  # camp_double pays more homework
    (members,) = table(html, "gain", "lose", "unchanged")
    assert members == {"gain": diff["gainers"], "lose": diff["losers"], "unchanged": diff["same"]}
    movers = table(html, "member", "currency", "A", "B", "change")
    assert movers == diff["members"][:4]
    assert "The 4 biggest changes" in html
    # The chart agrees with the table: one bar per rule, a gain drawn as a gain.
    chart = re.search(r'<svg class="chart" data-chart="rule-change".*?</svg>', html, re.S)
    assert chart is not None
    bars = re.findall(r'<rect class="bar (gain|loss)"', chart.group())
    assert bars == ["loss" if r["change"] < 0 else "gain" for r in diff["rules"]]


def test_losses_are_drawn_apart_from_gains(tmp_path: Path) -> None:
    html, diff = page_and_json(tmp_path, DOUBLE, CAMP)
    assert diff["losers"] > 0 and diff["gainers"] == 0
    chart = re.search(r'<svg class="chart" data-chart="rule-change".*?</svg>', html, re.S)
    assert chart is not None and 'class="bar loss"' in chart.group()
    (homework,) = [
        r for r in table(html, "rule", "currency", "A", "B", "change") if r["rule"] == "homework"
    ]
    assert homework["change"] < 0


def test_a_scheme_compared_with_itself_changes_nothing(tmp_path: Path) -> None:
    html, diff = page_and_json(tmp_path, CAMP, CAMP)
    assert all(row["change"] == 0 for row in table(html, "currency", "A", "B", "change"))
    assert all(row["change"] == 0 for row in table(html, "rule", "currency", "A", "B", "change"))
    assert table(html, "gain", "lose", "unchanged") == [
        {"gain": 0, "lose": 0, "unchanged": diff["same"]}
    ]
    assert diff["same"] == 500
    assert "biggest changes" not in html
    # The two lines of the cost chart lie on each other.
    chart = re.search(r'<svg class="chart" data-chart="cost-compare".*?</svg>', html, re.S)
    assert chart is not None
    first, second = re.findall(r'<polyline class="series" points="([^"]*)"', chart.group())
    assert first == second


def test_an_ab_page_has_each_arms_measures(tmp_path: Path) -> None:
    path = tmp_path / "ab.html"
    code, out = compare(
        CAMP, DOUBLE, *ACTIVITY, "--ab", "--seed", "3", "--html", str(path), "--format", "json"
    )
    assert code == 0, out
    arms = json.loads(out)["arms"]
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "A/B test, coins" in html
    shown = {row["measure"]: row for row in table(html, "measure", "A", "B")}
    for measure in ("members", "paid", "median"):
        assert shown[measure]["a"] == arms["A"]["coins"][measure]
        assert shown[measure]["b"] == arms["B"]["coins"][measure]
    assert shown["paid_per_member"]["b"] == str(arms["B"]["coins"]["paid_per_member"])
    smaller = min(arms["A"]["coins"]["members"], arms["B"]["coins"]["members"])
    assert f"an arm has {smaller} members" in html and "at least 1,000" in html


@pytest.mark.parametrize("ab", [False, True], ids=["compare", "ab"])
def test_an_unwritable_page_is_a_clean_error(tmp_path: Path, ab: bool) -> None:
    target = tmp_path / "no such folder" / "compare.html"
    result = CliRunner().invoke(
        cli, ["compare", CAMP, DOUBLE, *ACTIVITY, "--html", str(target), *(["--ab"] * ab)]
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and str(target) in result.output
    assert "Traceback" not in result.output and "points per rule" not in result.output
    assert not isinstance(result.exception, OSError)  # guarded: a message, not a raise


@needs_browser
def test_the_charts_render_in_a_headless_browser(page: Path, tmp_path: Path) -> None:
    assert_charts_drawn(rendered_dom(page, tmp_path / "profile"), CHARTS)
