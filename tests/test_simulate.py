"""simulate: a seeded population, a report that agrees with `incentive run`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from clirun import invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive.cli import main as cli
from incentive.population import load_population, simulate
from incentive.simulation import simulate_scheme

ROOT = Path(__file__).resolve().parent.parent
CAMP = "schemes/writing_camp.incentive"
POPULATION = "schemes/writing_camp.population.yaml"


pytestmark = pytest.mark.usefixtures("at_root")


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


BASE = "start: 2026-03-02\ndays: 3\nmembers: 5\n"
ACTIVE = "activities: {homework: {daily: 0.5}}\n"
HOMEWORK = "activities: {{homework: {{daily: 0.5, attributes: {{chars: {0}}}}}}}\n"


BAD_POPULATIONS = [
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
    *(
        (BASE + text, message)
        for text, message in [
            (HOMEWORK.format("{normal: [900, 100], multiple: abc}"), "`multiple` takes"),
            (HOMEWORK.format("{normal: [900, 100], min: abc}"), "`min` takes a number"),
            (HOMEWORK.format("{normal: [900, 100], round: x}"), "`round` takes"),
            (HOMEWORK.format("{normal: [900, -5]}"), "the deviation not below 0"),
            (HOMEWORK.format("{choice: [1, 2], min: 5}"), "`min` does not apply"),
            (HOMEWORK.format("{balance: [0.2, 1], max: 5}"), "`max` does not apply"),
            (HOMEWORK.format("{normal: [9, 1], min: 5, max: 1}"), "`min` is above `max`"),
            (
                HOMEWORK.replace("chars", "tokens").format("{balance: [0.2, 1]}"),
                "spends points, but the scheme reads no `tokens` on `homework`",
            ),
            (
                "activities: {homwork: {daily: 0.5}}\n",
                "`homwork` is not an event type of the scheme (did you mean `homework`?)",
            ),
            ("activities: {homework: {daily: 0.5, times: []}}\n", "at least 1 item"),
            ("activities: {homework: {daily: 0.5, per_day: [5, 1]}}\n", "low <= high"),
            ("activities: {homework: {daily: 0.5, per_day: [2000, 2000]}}\n", "<= 1000"),
            ("engagement: {spread: [-1, 2]}\n" + ACTIVE, "both above 0"),
            ("teams: {group: {count: 4, within: class}}\n" + ACTIVE, "listed before it"),
            ("teams: {a: {count: 4, within: a}}\n" + ACTIVE, "listed before it"),
            (
                "teams: {a: {count: 10000}, b: {count: 10000, within: a}}\n" + ACTIVE,
                "more than 100,000 teams",
            ),
        ]
    ),
    ("start: 9999-12-30\ndays: 5\nmembers: 5\n" + ACTIVE, "before the year 9000"),
]


@pytest.mark.parametrize("text,message", BAD_POPULATIONS)
def test_a_bad_population_is_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pop.yaml"
    path.write_text(text)
    code, out = invoke("simulate", CAMP, "--population", str(path))
    assert code == 1, out
    assert message in out and "Traceback" not in out


@pytest.mark.parametrize("text", [text for text, _message in BAD_POPULATIONS])
def test_a_bad_population_is_refused_in_chinese(tmp_path: Path, text: str) -> None:
    """E0403 in the reader's language: pydantic's words by the error's type, the
    validators' own through the catalogue, PyYAML's problems read by incentive.reasons."""
    from test_i18n_coverage import english_left

    path = tmp_path / "pop.yaml"
    path.write_text(text)
    code, out = invoke("--lang", "zh", "simulate", CAMP, "--population", str(path))
    assert code == 1, out
    assert "错误[E0403]" in out, out
    shown = out.replace(str(path), " ").replace("'<stream end>'", " ")
    assert not english_left(shown), out


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


# ---- the scheme in the loop gives a run's records ------------------------------------------

LOOPED = {
    # expiry after 60 days, a weekly blind box, redeeming a share of the balance
    "member_day": """
start: 2026-03-02
activities:
  checkin: {daily: 0.8, times: [{at: "08:00", spread: 90}]}
  quiz: {daily: 0.4, attributes: {correct: {chance: 0.7}}}
  topic: {daily: 0.2, attributes: {words: {exponential: 60}}}
  trial: {daily: 0.02}
  blind_box: {daily: 0.1}
  redeem:
    daily: 0.05
    times: [{at: "23:50", spread: 5}]
    attributes: {points: {balance: [0.5, 1], multiple: 50}}
response: {streak: 0.05, reward: 0.002, memory: 5}
""",
    # levels, inactivity flags after 14 days, offences
    "group_bot": """
start: 2026-03-02
engagement: {churn: 0.05}
activities:
  checkin: {daily: 0.7}
  message: {daily: 0.6, per_day: [1, 5], attributes: {words: {exponential: 12}}}
  red_packet: {daily: 0.05, attributes: {amount: {uniform: [1, 50], round: 2}}}
  ad: {daily: 0.03, attributes: {red_packet: {chance: 0.5}}}
""",
    # a day that ends at 21:00, ranks, boards, teams from the population
    "writing_camp": """
start: 2026-03-02
teams:
  class: {count: 3}
  group: {count: 2, within: class}
activities:
  homework:
    daily: 0.9
    times: [{at: "20:40", spread: 40}]
    attributes: {chars: {normal: [900, 300], min: 100}, likes: {exponential: 5}}
response: {reward: 0.01}
""",
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stem=st.sampled_from(sorted(LOOPED)),
    seed=st.integers(0, 10_000),
    days=st.integers(1, 75),
    members=st.integers(1, 30),
    until=st.one_of(st.none(), st.integers(0, 80 * 24)),
)
def test_a_simulation_gives_the_records_of_a_run_on_its_events(
    stem: str, seed: int, days: int, members: int, until: int | None
) -> None:
    """The scheme evaluates each simulated day as it is drawn; the result must be,
    record for record and in order, a batch run on the saved events (expiry and
    inactivity at the end of the run, `--until` in the middle, the last day)."""
    program = incentive.load(ROOT / "schemes" / f"{stem}.incentive")
    text = LOOPED[stem] + f"seed: {seed}\ndays: {days}\nmembers: {members}\n"
    population = load_population(text, f"{stem}.yaml")
    instant = None if until is None else datetime(2026, 3, 2) + timedelta(hours=until)
    run = simulate_scheme(program, population, until=instant)
    batch = program.evaluate(run.simulated.events, until=instant, roster=run.roster)
    assert [r.to_json() for r in run.result.records] == [r.to_json() for r in batch.records]


def test_members_in_no_team_are_a_row_of_their_own_and_a_foreign_roster_is_a_warning(
    tmp_path: Path,
) -> None:
    text = (ROOT / POPULATION).read_text(encoding="utf-8")
    joiners = tmp_path / "joiners.yaml"  # 25 a day: w0501 ... w1025, beyond the roster
    joiners.write_text(text.replace("  churn: 0.004\n", "  churn: 0.004\n  joiners: 25\n"))
    roster = "schemes/writing_camp.roster.csv"
    result = CliRunner().invoke(
        cli,
        ["simulate", CAMP, "--population", str(joiners), "--roster", roster, "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    paid = report["currencies"]["coins"]["paid"]
    for kind in ("class", "group"):
        rows = report["teams"][kind]
        assert sum(t["earned"] for t in rows) == paid
        assert rows[-1]["team"] is None and rows[-1]["members"] == 25 * 21
    assert "warning" not in result.stderr
    foreign = tmp_path / "foreign.yaml"
    foreign.write_text(text.replace("prefix: w", "prefix: x"))
    args = ["simulate", CAMP, "--population", str(foreign), "--roster", roster]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert "names none of the population's members (x001, ...)" in result.stderr
    assert "(in no class)" in result.stdout


def test_a_budget_period_with_nothing_paid_shows_as_zero_not_as_a_gap() -> None:
    from incentive.report import build_report

    program = incentive.compile(
        'scheme "Weekly" {\n  rule answer {\n    on answer\n    award 50\n'
        "    budget 60 per week\n  }\n}\n",
        "weekly.incentive",
    )
    answers = [("a", "2026-03-02T10:00"), ("b", "2026-03-03T10:00"), ("a", "2026-03-17T10:00")]
    events = [{"type": "answer", "member": m, "at": at} for m, at in answers]
    (budget,) = build_report(program, program.evaluate(events))["budgets"]
    assert [(p["period"], p["used"]) for p in budget["periods"]] == [
        ("2026-03-02", 60),
        ("2026-03-09", 0),
        ("2026-03-16", 50),
    ]
    assert (budget["full_periods"], budget["cut_points"], budget["refused"]) == (1, 40, 0)
