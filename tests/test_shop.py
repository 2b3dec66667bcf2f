"""The bundled shop: 5,000 members signing in over 60 days, the scheme in the loop.

The full launch is simulated once (about half a minute); its report is then
checked against `incentive run` on the saved events and against the scheme's
own promises (the daily budget, checkout only with points held). Smaller
copies of the population show that members respond to streaks and rewards.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from browser import BROWSER, assert_charts_drawn, rendered_dom
from clirun import invoke

import incentive
from incentive.html_report import render_html
from incentive.population import Population, Response, load_population, simulate
from incentive.simulation import simulate_scheme

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "schemes/shop.incentive"
POPULATION = ROOT / "schemes/shop.population.yaml"
BUDGET = 40_000
PAID = ("award", "rank", "grant")


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The simulated launch: its JSON report, the saved events and `run`'s records."""
    folder = tmp_path_factory.mktemp("shop")
    events = folder / "events.jsonl"
    code, out = invoke(
        "simulate", str(SHOP), "--population", str(POPULATION), "--format", "json",
        "--save-events", str(events), "--quiet",
    )  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    code, run = invoke("run", str(SHOP), str(events), "--quiet")
    assert code == 0, run
    raw = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    records = [json.loads(line) for line in run.splitlines()]
    return {"report": report, "events": raw, "records": records}


def local_day(record: dict[str, Any]) -> date:
    return datetime.fromisoformat(record["at"]).date()  # stamps carry the scheme's offset


def small(update: dict[str, Any]) -> Population:
    """The shop's population, cut to 1,000 members over 3 weeks, with changes."""
    described = load_population(POPULATION.read_text(encoding="utf-8"), POPULATION.name)
    return described.model_copy(update={"members": 1000, "days": 21, **update})


def test_the_launch_has_the_size_the_operators_asked_for(launch: dict[str, Any]) -> None:
    report, events = launch["report"], launch["events"]
    assert report["distribution"]["points"]["members"] == 5000 + 40 * 60
    days = {e["at"][:10] for e in events}
    assert min(days) == "2026-09-01" and max(days) == "2026-10-30" and len(days) == 60
    assert Counter(e["type"] for e in events)["signin"] > 100_000


def test_the_report_agrees_with_run_on_the_saved_events(launch: dict[str, Any]) -> None:
    report, records = launch["report"], launch["records"]
    points = report["currencies"]["points"]
    assert points["paid"] == sum(r["points"] for r in records if r["kind"] in PAID)
    assert points["spent"] == -sum(r["points"] for r in records if r["kind"] == "redeem")
    balances = sum(r["balance"] for r in records if r["kind"] == "balance")
    assert points["outstanding"] == balances == points["paid"] - points["spent"]
    for row in report["rules"]:
        paid = sum(r["points"] for r in records if r["kind"] in PAID and r["rule"] == row["rule"])
        assert row["paid"] == paid, row["rule"]
    levels = Counter(r["level"] for r in records if r["kind"] == "level")
    assert report["levels"]["gold"] == levels["gold"] > 0
    assert report["levels"]["silver"] == levels["silver"] - levels["gold"]


def test_the_daily_budget_holds_and_the_report_shows_where_it_binds(
    launch: dict[str, Any],
) -> None:
    report, records = launch["report"], launch["records"]
    per_day: Counter[date] = Counter()
    for record in records:
        if record["kind"] in PAID:
            per_day[local_day(record)] += record["points"]
    (budget,) = report["budgets"]
    assert (budget["points"], budget["period"], budget["on"]) == (BUDGET, "day", "the scheme")
    assert {date.fromisoformat(p["period"]): p["used"] for p in budget["periods"]} == dict(per_day)
    assert max(per_day.values()) <= BUDGET
    stopped = [r for r in records if r["kind"] in ("cut", "refused") and "budget" in r["reason"]]
    binding = {local_day(r) for r in stopped}
    # The budget holds back nothing on a day it is not used up, and binds on member days.
    assert {day: per_day[day] for day in binding} == {day: BUDGET for day in binding}
    assert binding and {day.strftime("%A") for day in binding} == {"Friday"}
    assert budget["full_periods"] == len(binding)
    assert budget["refused"] == sum(1 for r in stopped if r["kind"] == "refused")
    assert budget["cut_points"] == sum(r["points"] for r in stopped if r["kind"] == "cut")


def test_members_check_out_only_with_points_they_hold(launch: dict[str, Any]) -> None:
    records = launch["records"]
    redeemed = [r for r in records if r["kind"] == "redeem"]
    assert len(redeemed) > 1000
    assert all(-r["points"] >= 100 and r["points"] % 100 == 0 for r in redeemed)
    assert not [r for r in records if r["kind"] == "refused" and r["rule"] == "checkout"]


def test_members_respond_to_streaks_and_rewards() -> None:
    program = incentive.load(SHOP)

    def signins(population: Population, with_scheme: bool) -> int:
        if with_scheme:
            events = simulate_scheme(program, population).simulated.events
        else:
            events = simulate(population).events
        return sum(1 for e in events if e["type"] == "signin")

    indifferent = small({"response": Response()})
    keen_on_runs = small({"response": Response(streak=0.05, most=0.5)})
    keen_on_points = small({"response": Response(reward=0.003, most=0.5)})
    baseline = signins(indifferent, with_scheme=True)
    assert signins(indifferent, with_scheme=False) == baseline  # the scheme alone changes nothing
    assert signins(keen_on_runs, with_scheme=False) > baseline * 1.05
    # Rewards only matter when the scheme pays them.
    assert signins(keen_on_points, with_scheme=False) == baseline
    assert signins(keen_on_points, with_scheme=True) > baseline * 1.05


def test_a_more_generous_scheme_draws_more_activity(tmp_path: Path) -> None:
    generous = tmp_path / "generous.incentive"
    text = SHOP.read_text(encoding="utf-8")
    signin = "award 10\n    limit 1 per day"
    assert text.count(signin) == 1  # the sign-in rule
    generous.write_text(text.replace(signin, "award 30\n    limit 1 per day"), encoding="utf-8")
    population = small({})
    plain = simulate_scheme(incentive.load(SHOP), population).simulated.events
    more = simulate_scheme(incentive.load(generous), population).simulated.events
    assert len(more) > len(plain)


def test_the_same_seed_gives_the_same_launch_and_another_seed_another() -> None:
    program = incentive.load(SHOP)
    one = simulate_scheme(program, small({"days": 7})).simulated
    assert simulate_scheme(program, small({"days": 7})).simulated == one
    other = simulate_scheme(program, small({"days": 7, "seed": 61})).simulated
    assert other.events != one.events


def test_a_balance_share_needs_a_sensible_range(tmp_path: Path) -> None:
    text = POPULATION.read_text(encoding="utf-8").replace(
        "points: {balance: [0.3, 1.0], multiple: 100}", "points: {balance: 0.5, multiple: 100}"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    code, out = invoke("simulate", str(SHOP), "--population", str(bad))
    assert code != 0
    assert "balance" in out and "Traceback" not in out


def test_the_html_report_charts_cost_against_the_budget(
    launch: dict[str, Any], tmp_path: Path
) -> None:
    html = render_html(launch["report"])
    chart = re.search(r'<svg class="chart" data-chart="budget".*?</svg>', html, re.S)
    assert chart is not None
    assert len(re.findall(r"<polyline", chart.group())) == 2  # paid, and the budget
    assert len(re.findall(r"<circle", chart.group())) == 2 * 60  # a dot a day for each
    assert "40,000 (100%)" in html and "at limit" in html
    if BROWSER is not None:  # and the browser draws it
        page = tmp_path / "shop.html"
        page.write_text(html, encoding="utf-8")
        assert_charts_drawn(rendered_dom(page, tmp_path / "profile"), ["budget"], least=120)
