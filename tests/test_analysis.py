"""explain, compare and test: the commands that read a run for an operator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import invoke

ROOT = Path(__file__).resolve().parent.parent
CAMP = [
    "schemes/writing_camp.incentive",
    "schemes/writing_camp.events.jsonl",
    "--roster",
    "schemes/writing_camp.roster.csv",
]


pytestmark = pytest.mark.usefixtures("at_root")


@pytest.fixture
def doubled(tmp_path: Path) -> Path:
    """The camp with homework paying 10 instead of 5."""
    path = tmp_path / "b.incentive"
    text = (ROOT / CAMP[0]).read_text(encoding="utf-8")
    path.write_text(text.replace("award 5\n    limit 1", "award 10\n    limit 1"), encoding="utf-8")
    return path


def test_explain_tells_a_members_story_and_progress() -> None:
    code, out = invoke("explain", *CAMP, "--member", "w0002", "--format", "json")
    assert code == 0
    story = json.loads(out)
    assert story["balances"] == {"coins": 205}
    kinds = {r["kind"] for r in story["records"]}
    assert {"award", "streak"} <= kinds
    assert all(r["member"] == "w0002" for r in story["records"])
    (streak,) = [p for p in story["progress"] if p["what"] == "streak"]
    assert streak["now"] == "21 day(s) in a row" and streak["next"] == "no further tier"


def test_explain_shows_the_next_level_and_milestone() -> None:
    code, out = invoke(
        "explain",
        "schemes/group_bot.incentive",
        "schemes/group_bot.events.jsonl",
        "--member",
        "g080",
    )
    assert code == 0
    assert "level `levels`: `newcomer` with 77 points; next: `regular` at 100 (23 more)" in out
    assert 'flag "remove"' in out


def test_explain_an_unknown_member_suggests_a_near_one() -> None:
    code, out = invoke(
        "explain",
        "schemes/group_bot.incentive",
        "schemes/group_bot.events.jsonl",
        "--member",
        "g800",
    )
    assert code == 1
    assert "did you mean `g080`?" in out


def test_compare_reports_rules_cost_and_movers(doubled: Path) -> None:
    code, out = invoke("compare", CAMP[0], str(doubled), *CAMP[1:], "--format", "json")
    assert code == 0
    diff = json.loads(out)
    homework = next(r for r in diff["rules"] if r["rule"] == "homework")
    assert homework["b"] == 2 * homework["a"] and homework["change"] == homework["a"]
    assert diff["cost"]["coins"]["change"] == homework["change"]
    assert diff["losers"] == 0 and diff["gainers"] > 0
    assert diff["members"] == sorted(diff["members"], key=lambda m: -abs(m["change"]))


def test_compare_a_scheme_with_itself_changes_nothing() -> None:
    code, out = invoke("compare", CAMP[0], CAMP[0], *CAMP[1:])
    assert code == 0
    assert "members: 0 gain, 0 lose, 500 unchanged" in out


@pytest.mark.parametrize("cases", sorted(ROOT.glob("schemes/*.cases.yaml")), ids=lambda p: p.name)
def test_every_worked_schemes_cases_pass(cases: Path) -> None:
    stem = cases.name.removesuffix(".cases.yaml")
    roster = ROOT / "schemes" / f"{stem}.roster.csv"
    extra = ["--roster", str(roster)] if roster.exists() else []
    code, out = invoke("test", f"schemes/{stem}.incentive", str(cases), *extra)
    assert code == 0, out


def test_a_failing_case_says_what_differs(tmp_path: Path) -> None:
    cases = tmp_path / "c.yaml"
    cases.write_text(
        "- name: wrong\n  events:\n"
        '    - {type: homework, member: w0001, at: "2026-03-02T08:00", chars: 800, likes: 0}\n'
        "  expect:\n    balances: {w0001: 10}\n    records:\n"
        "      - {kind: award, member: w0001, points: 7}\n"
    )
    code, out = invoke("test", CAMP[0], str(cases))
    assert code == 1
    assert "balance of `w0001` in coins: expected 10, got 15" in out  # 5, and 5 as first
    assert "expected a record {kind: award, member: w0001, points: 7}; none matches" in out
    assert "0 passed, 1 failed" in out


@pytest.mark.parametrize(
    "text,message",
    [
        ("name: x\n", "a cases file is a list of cases"),
        ("- name: x\n  expect: {balance: {a: 1}}\n", "unknown expectation `balance`"),
        ("- name: x\n  expect: {records: [{kindd: award}]}\n", "records have no field `kindd`"),
        ("- name: x\n  evnts: []\n", "unknown key `evnts`"),
        ("- name: x\n  events: [\n", "YAML"),
    ],
)
def test_a_bad_cases_file_is_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    cases = tmp_path / "c.yaml"
    cases.write_text(text)
    code, out = invoke("test", CAMP[0], str(cases))
    assert code == 1, out
    assert message in out
    assert "Traceback" not in out


def test_an_ab_test_puts_each_member_in_one_arm(doubled: Path) -> None:
    code, out = invoke(
        "compare", CAMP[0], str(doubled), *CAMP[1:], "--ab", "--seed", "3", "--format", "json"
    )
    assert code == 0, out
    arms = json.loads(out)["arms"]
    a, b = arms["A"]["coins"], arms["B"]["coins"]
    assert a["members"] + b["members"] == 500
    assert b["paid_per_member"] > 1.5 * a["paid_per_member"]
    again = invoke(
        "compare", CAMP[0], str(doubled), *CAMP[1:], "--ab", "--seed", "3", "--format", "json"
    )
    assert again == (code, out)
    code, table = invoke("compare", CAMP[0], str(doubled), *CAMP[1:], "--ab", "--seed", "3")
    assert "at least 1,000" in table
