"""Team goals (`goal class per week by count  at 3 award 10`): paid the moment a team's
measure in a period reaches a tier, once per team, tier and period (docs/reference.md,
"Team goals"); the same records from both evaluators, in a batch and as a stream."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import incentive
from incentive.calendar import Calendar
from incentive.codec import decode_state, encode_state
from incentive.records import Record

SCHEME = """scheme "goals" {{
  timezone "Asia/Shanghai"
  day ends 21:00
  team class
  seed {seed}

  rule essays {{
    on homework
    goal class per {period} by {measure}
    {draw}
    at {low} award 10
    at {high} perk "party"
  }}
}}
"""


def _program(
    period: str = "week",
    measure: str = "count",
    draw: str = "",
    low: int = 3,
    high: int = 5,
    seed: int = 1,
) -> incentive.Program:
    text = SCHEME.format(period=period, measure=measure, draw=draw, low=low, high=high, seed=seed)
    return incentive.compile(text, "goals.incentive")


def _hw(i: int, member: str, at: str, team: str | None = None, **attrs: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": f"h{i}", "type": "homework", "member": member, "at": at}
    if team is not None:
        event["class"] = team
    return {**event, **attrs}


def _run(program: incentive.Program, events: list[dict[str, Any]], **kw: Any) -> list[Record]:
    return list(program.evaluate(events, **kw).records)


def _goal_records(records: list[Record]) -> list[tuple[str, str | None, str | None, int | None]]:
    return [(r.kind, r.member, r.team, r.points) for r in records if r.code == "team_goal"]


def test_a_member_who_joins_after_a_tier_is_not_paid_for_it() -> None:
    events = [
        _hw(1, "ana", "2026-03-02T10:00:00", "c1"),
        _hw(2, "bo", "2026-03-02T11:00:00", "c1"),
        _hw(3, "ana", "2026-03-02T12:00:00"),  # the third: ana and bo are the class
        _hw(4, "cy", "2026-03-02T13:00:00", "c1"),  # cy joins afterwards
    ]
    records = _run(_program(low=3, high=9), events)
    assert _goal_records(records) == [
        ("award", "ana", "c1", 10),
        ("award", "bo", "c1", 10),
    ]


def test_a_rostered_member_who_never_acted_is_paid() -> None:
    roster = incentive.read_roster(io.StringIO("member,class\nana,c1\nbo,c1\nquiet,c1\nx,c2\n"))
    events = [_hw(i, "ana" if i % 2 else "bo", f"2026-03-02T1{i}:00:00") for i in range(1, 4)]
    records = _run(_program(), events, roster=roster)
    assert [m for _, m, _, _ in _goal_records(records)] == ["ana", "bo", "quiet"]


def test_each_tier_pays_once_per_team_and_period() -> None:
    events = [_hw(i, "ana", f"2026-03-0{2 + i // 6}T0{i % 6 + 1}:00:00", "c1") for i in range(12)]
    records = _run(_program(period="day", low=2, high=4), events)
    # two days (2 and 3 March), each reaching 2 then 4: one award and one perk per day
    assert Counter((r.kind, r.at[:10]) for r in records if r.code == "team_goal") == {
        ("award", "2026-03-02"): 1,
        ("perk", "2026-03-02"): 1,
        ("award", "2026-03-03"): 1,
        ("perk", "2026-03-03"): 1,
    }


def test_an_event_that_passes_two_tiers_pays_both_lowest_first() -> None:
    events = [_hw(1, "ana", "2026-03-02T10:00:00", "c1", words=900)]
    text = SCHEME.format(period="week", measure="sum words", draw="", low=300, high=600, seed=1)
    program = incentive.compile(text, "g.incentive")
    records = _run(program, events)
    assert [(r.kind, r.value) for r in records if r.code == "team_goal"] == [
        ("award", "300"),
        ("perk", "600"),
    ]


def test_a_draw_is_fixed_by_the_seed_and_not_by_the_other_teams() -> None:
    members = ["ana", "bo", "cy", "dee", "eve"]
    mine = [_hw(i, m, f"2026-03-02T1{i}:00:00", "c1") for i, m in enumerate(members)]
    others = [_hw(10 + i, f"o{i}", f"2026-03-02T1{i}:30:00", "c2") for i in range(4)]

    def drawn(events: list[dict[str, Any]], seed: int) -> list[str | None]:
        program = _program(measure="active", draw="draw 2", low=5, high=9, seed=seed)
        return [m for _, m, t, _ in _goal_records(_run(program, events)) if t == "c1"]

    first = drawn(mine, 1)
    assert len(first) == 2 and first == sorted(first)
    assert drawn(mine + others, 1) == first
    assert any(drawn(mine, seed) != first for seed in range(2, 12))


def test_a_draw_larger_than_the_team_pays_everyone() -> None:
    events = [_hw(1, "ana", "2026-03-02T10:00:00", "c1"), _hw(2, "bo", "2026-03-02T11:00:00", "c1")]
    records = _run(_program(measure="active", draw="draw 5", low=2, high=9), events)
    assert [m for _, m, _, _ in _goal_records(records)] == ["ana", "bo"]


def test_a_member_in_no_team_counts_toward_no_goal() -> None:
    events = [_hw(i, "solo", f"2026-03-02T1{i}:00:00") for i in range(6)]
    assert _goal_records(_run(_program(), events)) == []


def test_a_reversal_of_the_event_that_reached_a_tier_leaves_the_goal_paid() -> None:
    text = SCHEME.format(period="week", measure="count", draw="", low=2, high=9, seed=1)
    text = text.replace("\n}\n", "\n  reverse refunds { on cancel by homework within 7 days }\n}\n")
    program = incentive.compile(text, "g.incentive")
    events = [
        _hw(1, "ana", "2026-03-02T10:00:00", "c1"),
        _hw(2, "bo", "2026-03-02T11:00:00", "c1"),
        {
            "id": "x",
            "type": "cancel",
            "member": "bo",
            "at": "2026-03-02T12:00:00",
            "homework": "h2",
        },
    ]
    result = program.evaluate(events)
    assert result.balances == {"ana": {"points": 10}, "bo": {"points": 10}}


# ---- an oracle: every crossing, counted by brute force ----------------------------------------


@st.composite
def _streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    base = datetime(2026, 3, 6, 18)  # a Friday evening: the week and the 21:00 day end
    events = []
    for i in range(draw(st.integers(0, 40))):
        at = base + timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
        member = draw(st.sampled_from(("ana", "bo", "cy", "dee", "eve")))
        team = draw(st.sampled_from((None, "c1", "c2")))
        events.append(_hw(i, member, at.isoformat(), team, words=draw(st.integers(0, 400))))
    return events


@settings(max_examples=60, deadline=None)
@given(
    events=_streams(),
    period=st.sampled_from(("day", "week")),
    measure=st.sampled_from(("count", "active", "sum words")),
    low=st.integers(1, 4),
)
def test_goals_pay_exactly_the_crossings_a_brute_force_count_finds(
    events: list[dict[str, Any]], period: str, measure: str, low: int
) -> None:
    if measure == "sum words":
        low *= 200
    program = _program(period=period, measure=measure, low=low, high=low * 2)
    expected = _oracle(program.calendar, events, period, measure, low)
    reference = _run(program, events, engine="interpreter")
    got = [
        (r.kind, r.member, r.team, r.value, r.events) for r in reference if r.code == "team_goal"
    ]
    assert got == expected
    compiled = _run(program, events, engine="compiled")
    assert [r.to_json() for r in compiled] == [r.to_json() for r in reference]
    # as a stream, saved and restored after every event: the same records
    session = program.session(engine="compiled")
    streamed: list[Record] = []
    for event in sorted(events, key=lambda e: e["at"]):
        streamed += session.feed(event)
        session = program.session(
            engine="interpreter", state=decode_state(encode_state(session.state))
        )
    streamed += session.close_all()
    assert [r.to_json() for r in streamed] == [r.to_json() for r in reference]


def _oracle(
    calendar: Calendar, events: list[dict[str, Any]], period: str, measure: str, low: int
) -> list[tuple[str, str | None, str | None, str | None, tuple[str, ...]]]:
    """Replay the events in time order: teams as the events place members, each team's
    measure per period from scratch, and a tier at the first event where it is reached."""
    placed: dict[str, str] = {}
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    paid: set[tuple[str, str, int]] = set()
    out = []
    for event in sorted(events, key=lambda e: e["at"]):
        if "class" in event:
            placed[event["member"]] = event["class"]
        team = placed.get(event["member"])
        if team is None:
            continue
        day = calendar.day_of(calendar.to_utc(datetime.fromisoformat(event["at"])))
        key = calendar.period_key(period, day)  # type: ignore[arg-type]
        mine = seen.setdefault((team, key), [])
        mine.append(event)
        if measure == "count":
            value = len(mine)
        elif measure == "active":
            value = len({e["member"] for e in mine})
        else:
            value = sum(e["words"] for e in mine)
        for threshold in (low, low * 2):
            if value >= threshold and (team, key, threshold) not in paid:
                paid.add((team, key, threshold))
                if threshold == low:
                    for member in sorted(m for m, t in placed.items() if t == team):
                        out.append(("award", member, team, str(threshold), (event["id"],)))
                else:
                    out.append(("perk", None, team, str(threshold), (event["id"],)))
    return out
