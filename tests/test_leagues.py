"""Leagues (Duolingo): cohorts per tier at each period's close, the top K of each cohort
up a tier and the bottom K down (docs/reference.md, "Leagues"). The properties replay
the `level` records against the events: who took part, in which tier, the cohorts'
sizes, who moves and how far; both evaluators give the same records."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import incentive

TIERS = ("bronze", "silver", "gold")
REASON = re.compile(
    r"^league `lg`: (\d+)\w\w of (\d+) in (\w+) cohort (\d+) of (\d+) by sum xp with (-?\d+) "
    r"\(week (\d{4}-\d{2}-\d{2})\): (promoted|demoted) to (\w+)$"
)


def _program(cohort: int, promote: int, demote: int, seed: int = 0) -> incentive.Program:
    moves = (f" promote {promote}" if promote else "") + (f" demote {demote}" if demote else "")
    text = (
        f'scheme "lg" {{\n  timezone "Asia/Shanghai"\n  seed {seed}\n'
        "  events { lesson(xp: number) }\n"
        f"  league lg {{ on lesson per week by sum xp cohort {cohort} "
        f"tiers {', '.join(TIERS)}{moves} }}\n"
        "  rule top { on lesson where lg is gold award 1 uncapped }\n}\n"
    )
    return incentive.compile(text, "lg.incentive")


def _lesson(i: int, member: str, at: datetime, xp: int) -> dict[str, Any]:
    return {"id": f"l{i}", "type": "lesson", "member": member, "at": at.isoformat(), "xp": xp}


@st.composite
def _weeks(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Three or four weeks of lessons by up to 12 members, some weeks skipped by some."""
    members = [f"m{i:02d}" for i in range(draw(st.integers(1, 12)))]
    monday = datetime(2026, 3, 2, 8)
    events = []
    for week in range(draw(st.integers(2, 4))):
        for member in members:
            for _ in range(draw(st.integers(0, 2))):
                at = monday + timedelta(days=7 * week, minutes=draw(st.integers(0, 6 * 24 * 60)))
                events.append(_lesson(len(events), member, at, draw(st.integers(0, 30))))
    return sorted(events, key=lambda e: e["at"])


@settings(max_examples=80, deadline=None)
@given(
    events=_weeks(),
    cohort=st.integers(2, 5),
    promote=st.integers(0, 3),
    demote=st.integers(0, 3),
    seed=st.integers(0, 5),
)
def test_cohorts_move_the_top_and_bottom_of_each_tier(
    events: list[dict[str, Any]], cohort: int, promote: int, demote: int, seed: int
) -> None:
    if promote == demote == 0:
        promote = 1
    program = _program(cohort, promote, demote, seed)
    records = list(program.evaluate(events, engine="interpreter").records)
    compiled = list(program.evaluate(events, engine="compiled").records)
    assert [r.to_json() for r in compiled] == [r.to_json() for r in records]

    # each week: every member's XP in it, from the events (a week of Monday to Sunday)
    xp: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in events:
        day = datetime.fromisoformat(e["at"]).date()
        xp[day - timedelta(days=day.weekday())][e["member"]] += e["xp"]
    tier: dict[str, str] = {}
    moves = [r for r in records if r.kind == "level"]
    for week in sorted(xp):
        mine = [r for r in moves if f"(week {week})" in (r.reason or "")]
        parsed = [REASON.match(r.reason or "") for r in mine]
        assert all(parsed), [r.reason for r in mine]
        for level, name in enumerate(TIERS):
            taking_part = [m for m in xp[week] if tier.get(m, TIERS[0]) == name]
            groups = math.ceil(len(taking_part) / cohort)
            here = [(r, p) for r, p in zip(mine, parsed, strict=True) if p and p[3] == name]
            # every mover took part in this tier; the cohorts' sizes are as even as can be
            assert {r.member for r, _ in here} <= set(taking_part)
            sizes = {int(p[4]): int(p[2]) for _, p in here}
            assert all(int(p[5]) == groups for _, p in here)
            if groups:
                even = {len(taking_part) // groups, math.ceil(len(taking_part) / groups)}
                assert set(sizes.values()) <= even
            for number, size in sizes.items():
                ups = [p for _, p in here if p[4] == str(number) and p[8] == "promoted"]
                downs = [p for _, p in here if p[4] == str(number) and p[8] == "demoted"]
                top, bottom = level == len(TIERS) - 1, level == 0
                assert len(ups) == (0 if top else min(promote, size // 2))
                assert len(downs) == (0 if bottom else min(demote, size // 2))
                # the top places go up, the bottom places down; the measure is the XP
                assert sorted(int(p[1]) for p in ups) == list(range(1, len(ups) + 1))
                assert sorted(int(p[1]) for p in downs) == list(
                    range(size - len(downs) + 1, size + 1)
                )
            for record, p in here:
                assert p is not None and record.member is not None
                assert Decimal(p[6]) == xp[week][record.member]
                step = 1 if p[8] == "promoted" else -1
                assert p[9] == TIERS[level + step] == record.level
        for record in mine:  # one tier at a time, after the whole close
            assert record.member is not None and record.level is not None
            tier[record.member] = record.level
    # the tier a condition reads is the tier the records say: `top` pays gold members
    paid = {r.events[0] for r in records if r.kind == "award"}
    for e in events:
        at = datetime.fromisoformat(e["at"]).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        current = TIERS[0]
        for record in moves:  # a close comes before an event at the same instant
            if record.member == e["member"] and datetime.fromisoformat(record.at or "") <= at:
                current = record.level or TIERS[0]
        assert (e["id"] in paid) == (current == "gold")


def test_a_draw_from_the_seed_makes_the_cohorts() -> None:
    monday = datetime(2026, 3, 2, 9)
    events = [_lesson(i, f"m{i}", monday + timedelta(hours=i), 10 + i) for i in range(6)]
    outcomes = set()
    for seed in range(8):
        records = _program(3, 1, 0, seed).evaluate(events).records
        outcomes.add(tuple(r.member for r in records if r.kind == "level"))
        again = _program(3, 1, 0, seed).evaluate(list(reversed(events))).records
        assert [r.to_json() for r in again] == [r.to_json() for r in records]
    assert len(outcomes) > 1  # the seed decides who meets whom


def test_ties_go_to_who_reached_the_measure_first_then_the_member_id() -> None:
    monday = datetime(2026, 3, 2, 9)
    events = [
        _lesson(1, "zed", monday, 20),
        _lesson(2, "amy", monday + timedelta(hours=1), 20),
        _lesson(3, "bob", monday + timedelta(hours=2), 5),
        _lesson(4, "cat", monday + timedelta(hours=2), 5),
    ]
    records = _program(4, 1, 0).evaluate(events).records
    assert [(r.member, r.level) for r in records if r.kind == "level"] == [("zed", "silver")]
    same = [{**e, "at": monday.isoformat()} for e in events]  # all at one instant
    records = _program(4, 1, 0).evaluate(same).records
    assert [(r.member, r.level) for r in records if r.kind == "level"] == [("amy", "silver")]


def test_a_member_who_takes_no_part_keeps_their_tier() -> None:
    monday = datetime(2026, 3, 2, 9)
    first = [_lesson(i, m, monday, xp) for i, (m, xp) in enumerate((("ana", 9), ("bo", 1)))]
    second = [_lesson(5, "bo", monday + timedelta(days=7), 3)]
    records = _program(2, 1, 1).evaluate(first + second).records
    levels = [(r.member, r.level, r.at) for r in records if r.kind == "level"]
    assert levels == [("ana", "silver", "2026-03-09T00:00:00+08:00")]


@settings(max_examples=60, deadline=None)
@given(events=_weeks(), cohort=st.integers(2, 5), seed=st.integers(0, 5))
def test_a_league_s_board_lists_every_cohort_and_changes_nothing(
    events: list[dict[str, Any]], cohort: int, seed: int
) -> None:
    """`board tiers { league lg }`: at each close, every member who took part, once, the
    top tier first, with the move the league made; the league's own records are those of
    the scheme without the board."""
    plain = _program(cohort, 1, 1, seed)
    text = plain.source.replace("\n}\n", "\n  board tiers { league lg }\n}\n")
    program = incentive.compile(text, "lg.incentive")
    records = list(program.evaluate(events, engine="interpreter").records)
    compiled = list(program.evaluate(events, engine="compiled").records)
    assert [r.to_json() for r in compiled] == [r.to_json() for r in records]
    without = [r.to_json() for r in plain.evaluate(events, engine="interpreter").records]
    assert [r.to_json() for r in records if r.kind != "board"] == without
    xp: dict[date, set[str]] = defaultdict(set)
    for e in events:
        day = datetime.fromisoformat(e["at"]).date()
        xp[day - timedelta(days=day.weekday())].add(e["member"])
    for week, members in xp.items():
        rows = [r for r in records if r.kind == "board" and f"(week {week})" in (r.reason or "")]
        assert sorted(r.member or "" for r in rows) == sorted(members)
        order = [TIERS.index(r.team or "") for r in rows]
        assert order == sorted(order, reverse=True)  # the top tier first
        moved = {
            (r.member, r.level, r.code)
            for r in records
            if r.kind == "level" and f"(week {week})" in (r.reason or "")
        }
        assert {(r.member, r.level, r.code) for r in rows if r.code != "ranked"} == moved
        assert all(r.level == r.team for r in rows if r.code == "ranked")
