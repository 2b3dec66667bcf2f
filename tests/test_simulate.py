"""simulate: a seeded population, a report that agrees with `incentive run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from incentive.cli import main as cli
from incentive.population import load_population, simulate

ROOT = Path(__file__).resolve().parent.parent
CAMP = "schemes/writing_camp.incentive"
POPULATION = "schemes/writing_camp.population.yaml"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_the_same_seed_gives_the_same_events_and_another_seed_others() -> None:
    text = (ROOT / POPULATION).read_text(encoding="utf-8")
    one = simulate(load_population(text, POPULATION))
    two = simulate(load_population(text, POPULATION))
    assert one == two
    other = simulate(load_population(text, POPULATION).model_copy(update={"seed": 22}))
    assert other.events != one.events
    assert len(one.roster) == 500
    assert {row["class"] for row in one.roster} == {f"class-{n}" for n in range(1, 9)}
    assert len({row["group"] for row in one.roster}) == 32
    assert all(row["group"].startswith(row["class"] + "-") for row in one.roster)
    times = [e["at"] for e in one.events]
    assert times == sorted(times)


def test_the_simulated_camps_report_agrees_with_run(tmp_path: Path) -> None:
    events, roster = tmp_path / "camp.jsonl", tmp_path / "roster.csv"
    code, out = invoke(
        "simulate", CAMP, "--population", POPULATION, "--format", "json",
        "--save-events", str(events), "--save-roster", str(roster),
    )  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    code, out = invoke("run", CAMP, str(events), "--roster", str(roster), "--quiet")
    assert code == 0, out
    records = [json.loads(line) for line in out.splitlines()]
    paid = sum(r["points"] for r in records if r["kind"] in ("award", "rank", "grant"))
    assert report["currencies"]["coins"]["paid"] == paid
    balances = {r["member"]: r["balance"] for r in records if r["kind"] == "balance"}
    assert report["currencies"]["coins"]["outstanding"] == sum(balances.values())
    for row in report["rules"]:
        in_run = sum(
            r["points"]
            for r in records
            if r.get("rule") == row["rule"] and r["kind"] in ("award", "rank", "grant")
        )
        assert row["paid"] == in_run, row["rule"]
    top = report["distribution"]["coins"]["top"][0]
    assert top["earned"] == max(balances.values()) == balances[top["member"]]
    assert sum(report["records"].values()) == len(records) - len(balances)
    assert sum(v["coins"] for v in report["per_week"].values()) == paid
    perks = {p["perk"] for p in report["perks"]}
    assert perks == {"top class", "top individual", "one-to-one coaching"}
    # The team boards: every member is in a class and a group, so each kind adds up
    # to what was paid, and the best and worst classes are the ones the perks named.
    classes, groups = report["teams"]["class"], report["teams"]["group"]
    assert len(classes) == 8 and len(groups) == 32
    assert sum(t["earned"] for t in classes) == sum(t["earned"] for t in groups) == paid
    assert sum(t["members"] for t in classes) == 500
    perk_team = {r["perk"]: r["team"] for r in records if r["kind"] == "perk" and r.get("team")}
    assert perk_team["top class"] == classes[0]["team"]
    assert perk_team["one-to-one coaching"] == classes[-1]["team"]


def test_the_report_on_real_activity_counts_spending_and_expiry() -> None:
    code, out = invoke(
        "simulate", "schemes/redemption.incentive", "schemes/redemption.events.jsonl",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    points = json.loads(out)["currencies"]["points"]
    assert points["paid"] - points["spent"] - points["expired"] == points["outstanding"]
    assert points["spent"] > 0 and points["expired"] > 0


def test_the_table_report_names_its_sections() -> None:
    code, out = invoke("simulate", CAMP, "--population", POPULATION)
    assert code == 0
    for section in (
        "points by currency",
        "paid per rule",
        "paid per week",
        "who earns coins",
        "top 10 by coins earned",
        "perks, badges and flags",
        "board classes",
    ):
        assert section in out


@pytest.mark.parametrize(
    "text,message",
    [
        ("start: 2026-03-02\ndays: 3\nmembers: 5\n", "`activities`: Field required"),
        (
            "start: 2026-03-02\ndays: 3\nmembers: 5\nactivities: {a: {daily: 2}}\n",
            "`activities.a.daily`",
        ),
        (
            "start: 2026-03-02\ndays: 3\nmembers: 5\n"
            "activities: {a: {daily: 0.5, attributes: {x: {gauss: 1}}}}\n",
            "needs exactly one of",
        ),
        (
            "start: 2026-03-02\ndays: 3\nmembers: 5\nactivitys: {}\n",
            "unknown key `activitys` (did you mean `activities`?)",
        ),
        ("start: [\n", "not valid YAML"),
    ],
)
def test_a_bad_population_is_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pop.yaml"
    path.write_text(text)
    code, out = invoke("simulate", CAMP, "--population", str(path))
    assert code == 1, out
    assert message in out and "Traceback" not in out


def test_simulate_needs_events_or_a_population() -> None:
    code, out = invoke("simulate", CAMP)
    assert code == 2 and "either EVENTS files or --population" in out


def test_empty_activity_gives_an_empty_report_not_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    code, out = invoke(
        "simulate", CAMP, str(empty), "--format", "json", "--html", str(tmp_path / "r.html")
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["currencies"]["coins"] == {"paid": 0, "spent": 0, "expired": 0, "outstanding": 0}
    assert report["distribution"]["coins"]["members"] == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    code, out = invoke("compare", CAMP, CAMP, str(empty))
    assert code == 0 and "members: 0 gain, 0 lose, 0 unchanged" in out
