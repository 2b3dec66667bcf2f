"""The writing camp (S1) and the city race (S5), checked from the raw files.

Team totals, boards and perks are recomputed here from the events file and
the roster without the engine's rank code; scripted members' coins are worked
out by hand from schemes/generate_events.py.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import incentive
from incentive.events import read_events

SCHEMES = Path(__file__).resolve().parent.parent / "schemes"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@cache
def run(stem: str) -> tuple[dict[str, Any], ...]:
    program = incentive.load(SCHEMES / f"{stem}.incentive")
    roster = incentive.load_roster(SCHEMES / f"{stem}.roster.csv")
    path = SCHEMES / f"{stem}.events.jsonl"
    with path.open(encoding="utf-8") as stream:
        events = list(read_events(stream, program.calendar, "jsonl", path.name))
    result = program.evaluate(events, roster=roster)
    return tuple(r.to_dict() for r in [*result.records, *result.session.balance_records()])


@cache
def roster(stem: str) -> dict[str, dict[str, str]]:
    with (SCHEMES / f"{stem}.roster.csv").open(encoding="utf-8") as stream:
        return {row["member"]: row for row in csv.DictReader(stream)}


def camp_day(local: datetime) -> date:
    """The camp's day closes at 21:00: a piece at 21:30 counts for the next day."""
    return (local + timedelta(hours=3)).date()


def of(stem: str, kind: str, rule: str | None = None) -> list[dict[str, Any]]:
    return [r for r in run(stem) if r["kind"] == kind and rule in (None, r.get("rule"))]


# ---- S1: the writing camp -------------------------------------------------------------------


def test_camp_scripted_members_by_hand() -> None:
    balances = {r["member"]: r["balance"] for r in of("writing_camp", "balance")}
    # w0002 hands in every day: 21 x 5, and the streak tiers at 7, 14 and 21 days.
    assert balances["w0002"] == 21 * 5 + 20 + 30 + 50
    # w0001 hands in within 90 seconds after 21:00 every evening: in the first three
    # every day (a few others post just after the deadline too).
    firsts = [r for r in of("writing_camp", "rank", "first_three") if r["member"] == "w0001"]
    assert len(firsts) == 21 and all(r["rank"] <= 3 for r in firsts)


def test_camp_homework_pays_once_per_member_day_for_long_essays() -> None:
    expected: set[tuple[str, date]] = set()
    for line in (SCHEMES / "writing_camp.events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] != "homework":
            continue
        day = camp_day(datetime.fromisoformat(event["at"]))
        if event["chars"] >= 500 and date(2026, 3, 2) <= day <= date(2026, 3, 22):
            expected.add((event["member"], day))
    paid = Counter(
        (r["member"], camp_day(datetime.fromisoformat(r["at"])))
        for r in of("writing_camp", "award", "homework")
    )
    assert set(paid) == expected
    assert max(paid.values()) == 1


def _day_points(stem: str, team_of: dict[str, str]) -> dict[date, Counter[str]]:
    """Each team's points per camp day: awards by their time, rank awards by their day."""
    totals: dict[date, Counter[str]] = defaultdict(Counter)
    for record in run(stem):
        if record["kind"] in ("award", "grant"):
            day = camp_day(datetime.fromisoformat(record["at"]))
        elif record["kind"] == "rank":
            day = date.fromisoformat(re.search(r"\(day (\S+)\)", record["reason"])[1])  # type: ignore[index]
        else:
            continue
        totals[day][team_of[record["member"]]] += record["points"]
    return totals


def test_camp_boards_agree_with_the_days_coins() -> None:
    for kind in ("class", "group"):
        team_of = {m: row[kind] for m, row in roster("writing_camp").items()}
        totals = _day_points("writing_camp", team_of)
        board = "classes" if kind == "class" else "groups"
        lines = of("writing_camp", "board", board)
        assert len(lines) == 21 * len(set(team_of.values()))
        for line in lines:
            day = date.fromisoformat(re.search(r"\(day (\S+)\)", line["reason"])[1])  # type: ignore[index]
            assert int(line["value"]) == totals[day][line["team"]], line
        for day in totals:
            values = [int(x["value"]) for x in lines if f"(day {day})" in x["reason"]]
            assert values == sorted(values, reverse=True)


def test_camp_perks_go_to_the_top_and_bottom_of_the_season() -> None:
    class_of = {m: row["class"] for m, row in roster("writing_camp").items()}
    season: Counter[str] = Counter()
    members: Counter[str] = Counter()
    for day_totals in _day_points("writing_camp", class_of).values():
        season.update(day_totals)
    for kind in ("award", "rank", "grant"):
        for record in of("writing_camp", kind):
            members[record["member"]] += record["points"]
    perks = {r["rule"]: r for r in of("writing_camp", "perk")}
    assert perks["top_class"]["team"] == max(season, key=lambda c: season[c])
    assert perks["coaching"]["team"] == min(season, key=lambda c: season[c])
    assert perks["top_member"]["member"] == max(members, key=lambda m: members[m])
    assert all(r["at"] == "2026-03-22T21:00:00+08:00" for r in perks.values())


# ---- S5: the city race ------------------------------------------------------------------


def test_race_rate_board_is_the_share_of_each_city_that_checked_in() -> None:
    city_of = {m: row["city"] for m, row in roster("city_race").items()}
    size = Counter(city_of.values())
    active: dict[date, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for line in (SCHEMES / "city_race.events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] == "checkin":
            day = datetime.fromisoformat(event["at"]).date()
            active[day][city_of[event["member"]]].add(event["member"])
    lines = of("city_race", "board", "checkin_rate")
    assert len(lines) == 7 * len(size)
    for line in lines:
        day = date.fromisoformat(re.search(r"\(day (\S+)\)", line["reason"])[1])  # type: ignore[index]
        share = Decimal(len(active[day][line["team"]])) / size[line["team"]]
        assert abs(Decimal(line["value"]) - share) < Decimal("0.00005"), line
    # The best city's every member (active or not) gets 5 each day.
    best = of("city_race", "rank", "best_city")
    for day in active:
        winners = {r["team"] for r in best if f"(day {day})" in r["reason"]}
        assert len(winners) == 1
        (city,) = winners
        paid = {r["member"] for r in best if f"(day {day})" in r["reason"]}
        assert paid == {m for m, c in city_of.items() if c == city}


def test_camp_grants_stay_within_each_granters_allowance() -> None:
    granted: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for line in (SCHEMES / "writing_camp.events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] == "grant":
            asked[event["by"]] += event["points"]
    for record in of("writing_camp", "grant"):
        granted[re.search(r"grant by `([^`]+)`", record["reason"])[1]] += record["points"]  # type: ignore[index]
    assert granted["leader-li"] <= 2000
    assert all(points <= 500 for who, points in granted.items() if who != "leader-li")
    refused = of("writing_camp", "refused", "applause")
    assert refused and all("allowance" in r["reason"] for r in refused)
    # Everything asked was either granted or refused.
    assert sum(asked.values()) == sum(granted.values()) + sum(r["points"] for r in refused)
