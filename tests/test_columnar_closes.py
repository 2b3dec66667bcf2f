"""The columnar plan with the engine's own closes: teams, ranks and boards by points,
rate and missing, boards posted `each` period, grants.

These stages compare members, so the plan does not restate them: it fills the
interpreter's own rank tables from columns a day at a time and lets the
interpreter's session close them (`columnar.closes._closed`). Proven as the rest of the
plan is: byte-identical JSON Lines against the reference interpreter, on random
schemes drawn from these constructs with the per-member ones around them, random
plain event files (grants among them) and a random roster, read whole or in
chunks of a few events; and on the writing camp.
"""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive import columnar, runner
from incentive.columnar import reading
from incentive.events import read_events
from incentive.program import Program
from incentive.roster import Roster, load_roster

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = ("ana", "bo", "cy", "段", "lead", "Zoë")
GRANTERS = ("li", "wang", "ana")
ZONES = ("Asia/Shanghai", "America/New_York", "UTC")
EVENTS_BLOCK = """
  events {
    checkin
    message(words: number, likes: number)
    grant(by: text, points: number, reason: text)
  }
"""


@st.composite
def closing_schemes(draw: st.DrawFn) -> str:
    """A scheme whose ranks need the engine's closes, with per-member rules around them."""
    small = lambda low=1, high=4: draw(st.integers(low, high))  # noqa: E731
    head = ["currency coins, xp", f'timezone "{draw(st.sampled_from(ZONES))}"']
    if draw(st.booleans()):
        head.append("day ends 21:00")
    seasoned = draw(st.booleans())
    if seasoned:
        head.append("season 2026-02-25 to 2026-03-25")
    head.append(draw(st.sampled_from(("team class", "team class, group"))))
    teams = ["class"] + (["group"] if "group" in head[-1] else [])
    periods = ["day", "week", "month"] + ["season"] * seasoned
    rules = [
        "rule hello { on checkin award 2 limit 1 per day }",
        f"rule talk {{ on message where words >= 10 award {small()} cap {small(3, 9)} per day }}",
    ]
    if draw(st.booleans()):
        rules.append("rule daily { on checkin streak per day at 2 award 3 every 3 award 1 }")
    if draw(st.booleans()):
        rules.append("rule liked { on message top 2 per day by max likes award 4, 2 }")
    if draw(st.booleans()):
        currency = draw(st.sampled_from(("", " xp")))
        rules.append(f"rule side {{ on message award 1{currency} limit 2 per day }}")
    kinds = draw(
        st.lists(
            st.sampled_from(("points", "team", "board", "running", "missing", "perk")),
            min_size=1,
            max_size=4,
        )
    )
    for index, kind in enumerate(kinds):
        name = f"r{index}"
        per = draw(st.sampled_from(periods))
        side = draw(st.sampled_from(("top", "top", "bottom")))
        team = draw(st.sampled_from(teams))
        if kind == "points":
            on = draw(st.sampled_from(("", "on message ", "on checkin, message ")))
            source = draw(st.sampled_from(("", "", " from talk", " from hello, talk")))
            places = small(1, 3)
            pay = draw(st.sampled_from(("award 10, 5", "award 3", "award 2 xp")))
            pay = "award 10" if places == 1 and "," in pay else pay
            ranked = f"{side} {places} per {per} by points{source}"
            rules.append(f"rule {name} {{ {on}{ranked} {pay} }}")
        elif kind == "team":
            measure = draw(
                st.sampled_from(
                    ("points", "points", "count", "sum likes", "max likes", "earliest", "rate")
                )
            )
            on = "" if measure == "points" and draw(st.booleans()) else "on message "
            places = small(1, 2)
            pay = draw(st.sampled_from(("award 5", "award 6, 3", f'perk "p{index}"')))
            pay = "award 6" if places == 1 and "," in pay else pay
            ranked = f"{side} {places} {team} per {per} by {measure}"
            rules.append(f"rule {name} {{ {on}{ranked} {pay} }}")
        elif kind in ("board", "running"):
            measure = draw(st.sampled_from(("points", "points", "count", "rate", "max likes")))
            on = "" if measure == "points" and draw(st.booleans()) else "on message "
            who = draw(st.sampled_from(("", f"{team} ")))
            if measure == "rate":
                who = f"{team} "
            ranked = f"top {small(1, 3)} " if draw(st.booleans()) else ""
            each = ""
            if kind == "running":
                per = draw(st.sampled_from([p for p in periods if p != "day"]))
                each = " each day"
            rules.append(f"board {name} {{ {on}{ranked}{who}per {per} by {measure}{each} }}")
        elif kind == "missing":
            who = draw(st.sampled_from(("", f"{team} ")))
            rules.append(f"board {name} {{ on message where words >= 10 {who}per day by missing }}")
        else:
            rules.append(f'rule {name} {{ {side} 1 {team} per {per} by points perk "best" }}')
    if draw(st.booleans()):
        allowance = f"allowance {small(10, 40)} per {draw(st.sampled_from(periods))}"
        extra = f' allowance {small(20, 60)} per week for "li"' if draw(st.booleans()) else ""
        rules.append(f"grants thanks {{ on grant {allowance}{extra} }}")
    draw(st.randoms()).shuffle(rules)  # ranks count rank awards of rules above them
    body = "\n  ".join(head + rules)
    return f'scheme "closes" {{\n  {body}\n{EVENTS_BLOCK}}}\n'


@st.composite
def closing_events(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Three weeks of plain events in time order, grants among them."""
    base = datetime(2026, 3, 1)
    minutes = sorted(draw(st.lists(st.integers(0, 21 * 24 * 4), max_size=70)))
    events = []
    for i, quarter in enumerate(minutes):
        moment = base + timedelta(minutes=quarter * 15)
        if moment.date() == datetime(2026, 3, 8).date() and moment.hour == 2:
            moment += timedelta(hours=1)  # New York skips 02:00-03:00 that day
        kind = draw(st.sampled_from(("checkin", "message", "message", "grant")))
        event: dict[str, Any] = {
            "id": f"e{i}",
            "type": kind,
            "member": draw(st.sampled_from(MEMBERS)),
            "at": moment.isoformat(),
        }
        if kind == "message":
            event["words"] = draw(st.integers(0, 30))
            event["likes"] = draw(st.integers(0, 5))
        elif kind == "grant":
            event["by"] = draw(st.sampled_from(GRANTERS))
            event["points"] = draw(st.integers(1, 30))
            event["reason"] = draw(st.sampled_from(("", "helped", "a fine plan")))
        events.append(event)
    return events


@st.composite
def rosters(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    """Members and their class and group: some members of the events are left out, and
    one rostered member never acts (team awards pay them all the same)."""
    listed = draw(st.lists(st.sampled_from((*MEMBERS, "zed")), unique=True))
    return [
        (m, draw(st.sampled_from(("c1", "c2"))), draw(st.sampled_from(("g1", "g2", "g3"))))
        for m in listed
    ]


def _read(program: Program, path: Path) -> Any:
    def read() -> Any:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    return read


def _both(
    program: Program, path: Path, roster: Roster | None, block: int | None = None, jobs: int = 1
) -> tuple[bytes, bytes, runner.RunSummary]:
    """The interpreter's bytes, the plan's bytes (read in blocks of `block` bytes, its
    per-member stages in `jobs` processes)."""
    reference = io.BytesIO()
    runner.run_to(program, _read(program, path), reference, roster=roster, engine="interpreter")
    saved = reading.BLOCK_BYTES
    reading.BLOCK_BYTES = block or saved
    try:
        out = io.BytesIO()
        summary = runner.run_files(
            program,
            [str(path)],
            _read(program, path),
            out,
            roster=roster,
            engine="columnar",
            jobs=jobs,
        )
    finally:
        reading.BLOCK_BYTES = saved
    return reference.getvalue(), out.getvalue(), summary


def _roster_file(tmp: Path, rows: list[tuple[str, str, str]], program: Program) -> Roster | None:
    if not rows:
        return None
    path = tmp / "roster.csv"
    path.write_text(
        "member,class,group\n" + "".join(f"{m},{c},{g}\n" for m, c, g in rows), encoding="utf-8"
    )
    return load_roster(str(path), "utf-8", program.teams)


@settings(
    max_examples=int(os.environ.get("INCENTIVE_CLOSES_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    text=closing_schemes(),
    events=closing_events(),
    roster=rosters(),
    block=st.sampled_from([None, 200, 900]),
)
def test_random_schemes_with_closes_give_the_interpreters_bytes(
    tmp_path: Path,
    text: str,
    events: list[dict[str, Any]],
    roster: list[tuple[str, str, str]],
    block: int | None,
) -> None:
    program = incentive.compile(text, "closes.incentive")
    assert columnar.why_not(program) == []  # (a member board alone needs no closes)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), "utf-8")
    expected, got, summary = _both(program, path, _roster_file(tmp_path, roster, program), block)
    assert summary.columnar  # plain input, in time order: the plan ran it
    assert got == expected


def test_the_writing_camp_in_chunks(tmp_path: Path) -> None:
    """The flagship scheme on a generated camp (grants, the 21:00 boards, the running
    posts, who has not handed in, the season's perks), read whole and in chunks that
    end inside a day."""
    from bench import gen

    program = incentive.load(ROOT / "schemes" / "writing_camp.incentive")
    assert columnar.why_not(program) == []
    events, listed = gen.camp_files(3000, 120, seed=5, data=tmp_path)
    roster = load_roster(str(listed), "utf-8", program.teams)
    for block, jobs in ((None, 1), (40_000, 1), (40_000, 2)):
        expected, got, summary = _both(program, events, roster, block, jobs)
        assert summary.columnar and summary.jobs == jobs
        assert got == expected
        kinds = {json.loads(line)["kind"] for line in got.splitlines()}
        assert {"award", "board", "grant", "perk", "rank", "streak"} <= kinds


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=closing_schemes(), events=closing_events(), roster=rosters())
def test_split_by_member_the_closes_stay_in_the_run(
    tmp_path: Path, text: str, events: list[dict[str, Any]], roster: list[tuple[str, str, str]]
) -> None:
    """With `--jobs`, the workers send their members' awards; the run's process counts
    them toward the closes (ranks by points, teams, boards) and writes every line."""
    program = incentive.compile(text, "closes.incentive")
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), "utf-8")
    expected, got, summary = _both(program, path, _roster_file(tmp_path, roster, program), 300, 2)
    assert summary.columnar and summary.jobs == 2
    assert got == expected


@pytest.mark.parametrize(
    "extra, why",
    [
        ("budget 50 per day", "budgets with teams, boards by points"),
        ("rule p { on message top 1 per day by lottery award 1 }", "a rank by lottery"),
    ],
)
def test_what_the_closes_do_not_take_is_declined(extra: str, why: str) -> None:
    text = (
        'scheme "s" {\n  team class\n  rule talk { on message award 1 }\n'
        "  board b { class per day by points }\n"
        f"  {extra}\n  events {{ message }}\n}}\n"
    )
    program = incentive.compile(text)
    assert any(why in reason for reason in columnar.why_not(program))


def test_a_team_named_by_the_event_goes_to_the_loop(tmp_path: Path) -> None:
    """The engine places a member without a roster row by the event's own team
    attribute: the plan leaves such input to the loop, which answers it."""
    program = incentive.compile(
        'scheme "s" {\n  team class\n  rule talk { on message award 1 }\n'
        "  board b { class per day by points }\n  events { message }\n}\n"
    )
    path = tmp_path / "events.jsonl"
    lines = [
        {"id": "a", "type": "message", "member": "ana", "at": "2026-03-01T10:00:00", "class": "c1"},
        {"id": "b", "type": "message", "member": "bo", "at": "2026-03-02T10:00:00"},
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in lines), "utf-8")
    expected, got, summary = _both(program, path, None)
    assert not summary.columnar
    assert got == expected
    assert b'"team":"c1"' in got


def test_cli_run_and_simulate_with_a_roster_take_the_plan(tmp_path: Path) -> None:
    """`run --roster` and `simulate --roster` on saved plain events take the plan: the
    interpreter's records, and the same report (team tables included)."""
    from bench import gen
    from tests.clirun import invoke

    events, listed = gen.camp_files(1500, 80, seed=8, data=tmp_path)
    camp = str(ROOT / "schemes" / "writing_camp.incentive")
    outputs = {}
    for engine in ("columnar", "interpreter"):
        target = tmp_path / f"{engine}.jsonl"
        code, said = invoke(
            "run", camp, str(events), "--roster", str(listed), "--engine", engine,
            "--out", str(target),
        )  # fmt: skip
        assert code == 0, said
        outputs[engine] = target.read_bytes()
    assert outputs["columnar"] == outputs["interpreter"]
    assert b'"kind":"board"' in outputs["columnar"] and b'"team":"class-1"' in outputs["columnar"]
    shown = {}
    for engine in ("columnar", "interpreter"):
        code, said = invoke(
            "simulate", camp, str(events), "--roster", str(listed), "--engine", engine,
            "--format", "json",
        )  # fmt: skip
        assert code == 0, said
        shown[engine] = said
    assert shown["columnar"] == shown["interpreter"]
    report = json.loads(shown["columnar"])
    assert report["teams"] and report["boards"]  # the roster's teams, the boards
