"""The compiled evaluator against the reference interpreter: byte-identical records.

The compiled path (`incentive/compiler.py`) is proven here, not by its own
expectations: every worked scheme and golden case, and random schemes drawn
from a menu that uses every construct of the language (ranks, teams, boards,
streaks with grace, milestones, lots and expiry, spending, budgets, grants,
referrals, flags, levels, boosts, seeded random), must give the same JSON
lines from both evaluators, fed as a batch and as a stream with time
advanced by hand.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import CONDITIONS as PROPERTY_CONDITIONS

import incentive
from incentive.compiler import compile_program, explain_plan
from incentive.events import read_events
from incentive.program import Program
from incentive.records import Record
from incentive.roster import Roster

ROOT = Path(__file__).resolve().parent.parent


def _lines(records: list[Record]) -> list[str]:
    return [record.to_json() for record in records]


def _both(program: Program, events: list[Any], **options: Any) -> list[list[str]]:
    runs = []
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(events, engine=engine, **options)
        runs.append(_lines(result.records + result.session.balance_records()))
    return runs


# ---- every worked scheme and golden case ----------------------------------------------------


def _cases() -> list[tuple[str, Path, Path, Path | None]]:
    cases = []
    for scheme in sorted((ROOT / "schemes").glob("*.incentive")):
        events = scheme.with_suffix(".events.jsonl")
        roster = scheme.with_suffix(".roster.csv")
        if events.exists():
            cases.append((scheme.stem, scheme, events, roster if roster.exists() else None))
    for folder in sorted((ROOT / "tests" / "golden").iterdir()):
        roster = folder / "roster.csv"
        cases.append(
            (
                f"golden/{folder.name}",
                folder / "scheme.incentive",
                folder / "events.jsonl",
                roster if roster.exists() else None,
            )
        )
    return cases


@pytest.mark.parametrize(("name", "scheme", "events", "roster"), _cases(), ids=lambda c: str(c))
def test_worked_schemes_give_the_same_records(
    name: str, scheme: Path, events: Path, roster: Path | None
) -> None:
    program = incentive.load(scheme)
    with events.open(encoding="utf-8") as stream:
        items = list(read_events(stream, program.calendar, "jsonl", events.name))
    loaded = incentive.load_roster(roster) if roster else None
    reference, compiled = _both(program, items, roster=loaded)
    assert compiled == reference
    assert len(reference) > 10, name  # the case really ran


# ---- random schemes from a menu of every construct ------------------------------------------

MEMBERS = ("ana", "bo", "cy", "段", "lead")
PERIODS = ("day", "week")
# the property tests' conditions, and more that read several attributes
CONDITIONS = (
    *PROPERTY_CONDITIONS,
    "words < 30 or likes >= 3",
    "words / 2 > likes",
    "vip",
    "not vip",
    "words in [10, likes, 30]",
    '"expert" in [channel, "lively"]',
    "weekday is sunday or hour between 20 and 23",
    'weekday not in ["monday", "tuesday"] and hour < 12',
)
AMOUNTS = ("1", "5", "words / 10", "words * 0.5 round nearest", "likes - 2", "min(words, 40) / 7")
EVENTS_BLOCK = """
  events {
    checkin
    message(words: number, channel: text, likes: number, vip: bool)
    post(words: number, likes: number)
    ad(note: text)
    invite(invitee: text)
    order
    redeem(points: number, gift: text)
    grant(by: text, points: number, reason: text)
    refund(order: text)
    tip(receiver: text, points: number)
  }
"""


@st.composite
def menu_schemes(draw: st.DrawFn) -> str:
    """A scheme text that picks constructs from the whole language, with drawn numbers."""
    period = lambda: draw(st.sampled_from(PERIODS))  # noqa: E731
    small = lambda low=1, high=4: draw(st.integers(low, high))  # noqa: E731
    head: list[str] = [
        "currency coins, xp",
        f'timezone "{draw(st.sampled_from(("Asia/Shanghai", "America/New_York", "UTC")))}"',
    ]
    ends = draw(st.sampled_from((None, "21:00", "04:00")))
    if ends is not None:
        head.append(f"day ends {ends}")
    if draw(st.integers(0, 3)) == 0:
        head.append("week starts sunday")
    if draw(st.booleans()):
        head.append("season 2026-03-02 to 2026-03-12")
    if draw(st.booleans()):
        head.append(f"seed {small(0, 99)}")
    if draw(st.booleans()):
        head.append(
            draw(
                st.sampled_from(
                    (
                        "expire after 2 days",
                        "expire after 1 days",
                        "expire at end of week",
                        "expire after 1 weeks at end of week",
                        "expire after 1 months",
                    )
                )
            )
        )
    if draw(st.booleans()):
        head.append(f"budget {draw(st.sampled_from((15, 40, 200)))} per {period()}")
    teams = draw(st.booleans())
    if teams:
        head.append("team class")
    rules: list[str] = []
    paying: list[str] = []  # per-event award rules a boost may name
    group = draw(st.booleans())
    if group:
        rules.append(f"group chat {{ cap {small(3, 12)} per {period()} }}")
    count = draw(st.integers(2, 7))
    menu = [
        "award", "award", "penalty", "once", "streak", "milestone", "rank", "board",
        "redeem", "grants", "referral", "idle", "random", "lottery", "levels", "boost",
        "reverse", "transfer", "catalogue", "keyed", "credit", "clock",
        "every_time", "window", "reaching", "first", "quarter", "start_window", "league",
        "own_periods",
    ]  # fmt: skip
    if teams:
        menu += ["team_rank", "team_board", "team_missing", "team_goal"]
    picks = draw(st.lists(st.sampled_from(menu), min_size=count, max_size=count))
    levels = reverses = transfers = catalogues = leagues = False
    for index, kind in enumerate(picks):
        name = f"r{index}"
        if kind == "award":
            on = draw(st.sampled_from(("message", "post", "checkin")))
            where = ""
            if on == "message" and draw(st.booleans()):
                where = f" where {draw(st.sampled_from(CONDITIONS))}"
            amount = draw(st.sampled_from(AMOUNTS)) if on == "message" else str(small(1, 9))
            if on == "post" and draw(st.booleans()):
                amount = "words / 10"
            currency = " xp" if draw(st.integers(0, 4)) == 0 else ""
            amount, _, rounding = amount.partition(" round ")
            rounding = f" round {rounding}" if rounding else ""
            parts = [f"on {on}{where}", f"award {amount}{currency}{rounding}"]
            limits = draw(st.sets(st.sampled_from(("day", "week", "ever")), max_size=2))
            for scope in sorted(limits):
                parts.append(f"limit {small()} {'ever' if scope == 'ever' else 'per ' + scope}")
            if draw(st.booleans()):
                parts.append(f"cap {small(2, 15)} per {period()}")
            if group and on == "message" and not currency and draw(st.booleans()):
                parts.append("group chat")
                if draw(st.booleans()):
                    parts.append("uncapped")
            if draw(st.integers(0, 3)) == 0:
                parts.append(f"budget {small(5, 30)} per {period()}")
            if draw(st.integers(0, 3)) == 0:
                parts.append(f"pending {small(1, 3)} days")
            rules.append(f"rule {name} {{ {' '.join(parts)} }}")
            paying.append(name)
        elif kind == "penalty":
            on = draw(st.sampled_from(("ad", "ad, checkin")))
            capped = f" cap {small(3, 9)} per day" if draw(st.booleans()) else ""
            why = " reason note" if draw(st.booleans()) else ""
            rules.append(f"rule {name} {{ on {on} award -{small(2, 20)}{capped}{why} }}")
        elif kind == "once":
            rules.append(f"rule {name} {{ on post award {small(5, 20)} once }}")
        elif kind == "streak":
            grace = f" grace {small(0, 2)}" if draw(st.booleans()) else ""
            tiers = f'at 2 award {small()} at 3 badge "three"'
            every = f" every {small(2, 4)} award {small()}" if draw(st.booleans()) else ""
            rules.append(
                f"rule {name} {{ on checkin streak per {period()}{grace} {tiers}{every} }}"
            )
        elif kind == "milestone":
            what = draw(st.sampled_from(("count", "sum words")))
            scope = f" per {period()}" if draw(st.booleans()) else ""
            low = 2 if what == "count" else 60
            held = " pending 1 days" if draw(st.integers(0, 3)) == 0 else ""
            rules.append(
                f"rule {name} {{ on post milestone {what}{scope} at {low} award {small()} "
                f'at {low * 2} flag "busy"{held} }}'
            )
        elif kind == "rank":
            measure = draw(
                st.sampled_from(("earliest", "count", "sum words", "max likes", "points"))
            )
            side = draw(st.sampled_from(("top", "top", "bottom")))
            places = small(1, 3)
            pay = draw(st.sampled_from(("award 10, 5", f"award {small()}", 'perk "star"')))
            if places == 1 and "," in pay:
                pay = "award 10"
            rules.append(
                f"rule {name} {{ on message {side} {places} per {period()} by {measure} {pay} }}"
            )
        elif kind == "board":
            ranked = period()
            posts = " each day" if ranked == "week" and draw(st.booleans()) else ""
            rules.append(f"board {name} {{ top {small(1, 3)} per {ranked} by points{posts} }}")
        elif kind == "keyed":
            scope = draw(st.sampled_from(("once", f"limit {small(1, 2)} per {period()}")))
            cap = f" cap {small(3, 9)} per {period()}" if draw(st.booleans()) else ""
            rules.append(
                f"rule {name} {{ on message award {small(1, 5)} {scope} for each channel "
                f"limit {small(2, 4)} per {period()}{cap} }}"
            )
        elif kind == "clock":
            when = draw(st.sampled_from(CONDITIONS[-2:]))
            rules.append(f"rule {name} {{ on checkin where {when} award 2 limit 1 per day }}")
            if draw(st.booleans()) and "timezone from tz" not in head:
                head.append("timezone from tz")  # the member's own zone (issue 18)
        elif kind == "every_time":
            limit = draw(st.sampled_from(("", " limit 2 per day", " once")))
            rules.append(f'rule {name} {{ on message badge "b{index}" every time{limit} }}')
        elif kind == "window":
            pays = draw(st.sampled_from((f"award {small()}", 'badge "busy"')))
            limit = " limit 1 per week" if draw(st.booleans()) else ""
            rules.append(
                f"rule {name} {{ on checkin, post window {small(1, 3)} within {small(1, 4)} days "
                f"{pays}{limit} }}"
            )
        elif kind == "reaching":
            need = draw(st.sampled_from(("2", "40 words", "3 likes", "earned")))
            on = "checkin" if need == "2" else "post"
            if need == "earned":
                currency = draw(st.sampled_from(("", " xp")))
                rules.append(
                    f"rule {name} {{ streak per {period()} reaching {small(3, 20)}{currency} "
                    f'earned at 2 award {small()}{currency} at 3 badge "steady" }}'
                )
            else:
                rules.append(
                    f"rule {name} {{ on {on} streak per {period()} reaching {need} "
                    f'at 2 award {small()} at 3 badge "steady" }}'
                )
        elif kind == "first":
            pays = draw(st.sampled_from(("award words / 10", 'badge "early"', "award 4")))
            per = draw(st.sampled_from(("", " per day", " per week", " per quarter")))
            rules.append(f"rule {name} {{ on post first {small(1, 3)}{per} {pays} }}")
        elif kind == "quarter":
            rules.append(
                f"rule {name} {{ on checkin award {small()} limit {small(1, 3)} per quarter "
                f"cap {small(3, 9)} per quarter }}"
            )
        elif kind == "credit":
            keyed = " for each invitee" if draw(st.booleans()) else ""
            cap = f" cap {small(2, 9)} per {period()}" if draw(st.booleans()) else ""
            rules.append(
                f"rule {name} {{ on invite award {draw(st.sampled_from(('3', '-2')))} "
                f"credit invitee limit {small(1, 2)} per {period()}{keyed}{cap} }}"
            )
        elif kind == "team_rank":
            measure = draw(st.sampled_from(("active", "rate", "points", "count")))
            rules.append(
                f"rule {name} {{ on checkin top 1 class per {period()} by {measure} award 3 }}"
            )
        elif kind == "league" and not leagues:
            leagues = True
            measure = draw(st.sampled_from(("count", "sum words", "max likes")))
            on = "checkin" if measure == "count" else "post"
            moves = draw(st.sampled_from(("promote 1", "demote 1", "promote 2 demote 1")))
            rules.append(
                f"league lg {{ on {on} per {period()} by {measure} cohort {small(2, 4)} "
                f"tiers low, mid, high {moves} }}"
            )
            rules.append(f'rule {name} {{ on checkin where lg != "low" award 2 limit 1 per day }}')
            if draw(st.booleans()):
                rules.append(f"board {name}_tiers {{ league lg }}")
        elif kind == "start_window":
            start = draw(st.sampled_from(("first checkin", "first post", "joined")))
            what = draw(
                st.sampled_from((f"award {small()}", f"award {small()} once", "streak per day"))
            )
            if what == "streak per day":
                what += f" at 2 award {small()}"
            on = draw(st.sampled_from(("post", "checkin, post")))
            rules.append(f"rule {name} {{ on {on} within {small(0, 3)} days of {start} {what} }}")
        elif kind == "own_periods":
            start = draw(st.sampled_from(("first checkin", "first post", "joined")))
            own = draw(st.sampled_from(("week", "month", "quarter")))
            what = draw(
                st.sampled_from(
                    (
                        f"award {small()} limit {small(1, 3)} per {own}",
                        f"award {small()} cap {small(3, 9)} per {own}",
                        f"streak per {own} at 2 award {small()}",
                        f"milestone count per {own} at 2 award {small()}",
                    )
                )
            )
            grouped = " group chat" if group and what.startswith("award") else ""
            on = draw(st.sampled_from(("post", "checkin, post")))
            rules.append(f"rule {name} {{ on {on} periods from {start} {what}{grouped} }}")
        elif kind == "team_goal":
            measure = draw(st.sampled_from(("count", "active", "sum words")))
            on = "checkin" if measure != "sum words" else "post"
            draws = f" draw {small(1, 3)}" if draw(st.booleans()) else ""
            pay = draw(st.sampled_from((f"award {small()}", f"award {small()} xp", 'perk "p"')))
            rules.append(
                f"rule {name} {{ on {on} goal class per {period()} by {measure}{draws} "
                f"at {small(1, 3) if measure != 'sum words' else 80} {pay} "
                f'at {small(4, 6) if measure != "sum words" else 200} badge "b" }}'
            )
        elif kind == "team_missing":
            rules.append(f"board {name} {{ class per {period()} by missing on checkin }}")
        elif kind == "team_board":
            ranked = period()
            posts = " each day" if ranked == "week" and draw(st.booleans()) else ""
            rules.append(f"board {name} {{ class per {ranked} by points{posts} }}")
        elif kind == "redeem":
            rules.append(
                f"redeem {name} {{ on redeem amount points minimum {small(1, 5)} "
                f"multiple {small(1, 3)} limit {small(1, 3)} per {period()} }}"
            )
        elif kind == "grants":
            rules.append(
                f"grants {name} {{ on grant allowance {small(5, 30)} per {period()} "
                f'allowance 50 per {period()} for "lead" }}'
            )
        elif kind == "referral":
            rules.append(
                f"rule {name} {{ on order inviter from invite.invitee within {small(1, 4)} days "
                f"award {small(5, 15)} limit {small(1, 2)} per {period()} }}"
            )
        elif kind == "idle":
            rules.append(
                f'rule {name} {{ on message, checkin inactive {small(1, 3)} days flag "idle" }}'
            )
        elif kind == "random":
            loose = " uncapped" if draw(st.booleans()) else ""  # the operator's word for it
            rules.append(
                f"rule {name} {{ on post award random(1, {small(2, 9)}) limit 2 per day{loose} }}"
            )
        elif kind == "lottery":
            rules.append(f"rule {name} {{ on checkin top 1 per {period()} by lottery award 7 }}")
        elif kind == "reverse" and not reverses:
            reverses = True  # one block: a refund reverses by one attribute
            debt = " debt" if draw(st.booleans()) else ""
            rules.append(f"reverse {name} {{ on refund by order within {small(1, 5)} days{debt} }}")
        elif kind == "transfer" and not transfers:
            transfers = True  # one block: every tip would pass through each
            bounds = draw(
                st.sampled_from(
                    ("", f" limit {small(1, 2)} per {period()}", f" cap {small(5, 20)} per day")
                )
            )
            rules.append(
                f"transfer {name} {{ on tip to receiver amount points keep {small(0, 5)}"
                f" receive {small(5, 30)} per {period()}{bounds} }}"
            )
        elif kind == "catalogue" and not catalogues:
            catalogues = True
            where = ' where gift != "hat"' if draw(st.booleans()) else ""
            rules.append(
                f"catalogue {name} {{ on redeem item gift{where} limit {small(1, 3)} per day "
                f"stock {small(1, 4)} per {period()} budget {small(5, 30)} per {period()} "
                f"gift mug {{ price {small(2, 9)} stock {small(1, 3)} }} "
                f'gift "pen" {{ price {small(1, 3)} stock 1 per day limit 1 per week }} }}'
            )
        elif kind == "levels" and not levels:
            levels = True
            window = f" over {small(2, 4)} days" if draw(st.booleans()) else ""
            rules.append(
                f"levels{window} {{ bronze 0 silver {small(5, 15)} gold {small(20, 40)} }}"
            )
        elif kind == "boost":
            if not paying:
                rules.append(f"rule {name}p {{ on post award 3 limit 2 per day }}")
                paying.append(f"{name}p")
            target = draw(st.sampled_from(paying))
            when = draw(
                st.sampled_from(
                    (
                        "on friday",
                        'where level == "gold"',
                        "where words > 30",
                        "from 2026-03-03 to 2026-03-05",
                        "on monday, wednesday from 2026-03-01 to 2026-03-09",
                    )
                )
            )
            if "level" in when and not levels:
                when = "on saturday"
            if "words" in when:
                when = "on tuesday"
            rules.append(f"boost {name} {{ times 2 {when} for {target} }}")
    body = "\n  ".join(head + rules)
    return f'scheme "menu" {{\n  {body}\n{EVENTS_BLOCK}}}\n'


@st.composite
def menu_events(draw: st.DrawFn, *, late: bool = True) -> list[dict[str, Any]]:
    """About ten days of activity for the menu's event types, in time order or not."""
    base = datetime(2026, 3, 1)
    n = draw(st.integers(0, 60))
    events: list[dict[str, Any]] = []
    for i in range(n):
        moment = base + timedelta(minutes=draw(st.integers(0, 12 * 24 * 60)))
        kind = draw(
            st.sampled_from(
                (
                    "checkin",
                    "message",
                    "message",
                    "post",
                    "ad",
                    "invite",
                    "order",
                    "redeem",
                    "grant",
                    "refund",
                    "refund",
                    "tip",
                    "other",
                )
            )
        )
        event: dict[str, Any] = {
            "id": f"e{i}",
            "type": kind,
            "member": draw(st.sampled_from(MEMBERS)),
            "at": moment.isoformat(),
        }
        if kind == "checkin" and draw(st.integers(0, 3)) == 0:
            # `timezone from tz`: a zone, an unknown one or none
            event["tz"] = draw(st.sampled_from(("Europe/Berlin", "Asia/Tokyo", "Bad/Zone", "")))
        if kind in ("message", "post"):
            event["words"] = draw(st.integers(0, 120))
            event["likes"] = draw(st.integers(0, 6))
        if kind == "message":
            if draw(st.booleans()):
                event["channel"] = draw(st.sampled_from(("lively", "expert", "other")))
            if draw(st.booleans()):
                event["vip"] = draw(st.booleans())
        if kind == "invite":
            event["invitee"] = draw(st.sampled_from(MEMBERS))
        if kind == "redeem":
            event["points"] = draw(st.integers(0, 30))
            if draw(st.integers(0, 4)):
                event["gift"] = draw(st.sampled_from(("mug", "pen", "pen", "hat")))
        if kind == "grant":
            event.update(by=draw(st.sampled_from(("lead", "bo"))), points=draw(st.integers(1, 40)))
            event["reason"] = "help"
        if kind == "ad" and draw(st.booleans()):
            event["note"] = draw(st.sampled_from(("spam", "an ad without a red packet")))
        if kind == "tip":
            event.update(receiver=draw(st.sampled_from(MEMBERS)), points=draw(st.integers(0, 25)))
        paying = [e for e in events if e["type"] in ("message", "post", "checkin", "ad", "grant")]
        if kind == "refund" and paying and draw(st.integers(0, 5)):
            earlier = draw(st.sampled_from(paying))  # most refunds name an event that may pay
            later = datetime.fromisoformat(earlier["at"]) + timedelta(
                minutes=draw(st.integers(1, 4 * 24 * 60))  # within or beyond the window
            )
            event.update(order=earlier["id"], member=earlier["member"], at=later.isoformat())
        if draw(st.integers(0, 3)) == 0:
            event["class"] = draw(st.sampled_from(("red", "blue")))
        if draw(st.integers(0, 5)) == 0:
            event["joined"] = draw(st.sampled_from(("2026-03-02", "2026-03-05T22:00:00", "soon")))
        if draw(st.integers(0, 15)) == 0 and events:
            event = dict(draw(st.sampled_from(events)))  # a re-sent event: a duplicate
            if draw(st.booleans()):
                event["member"] = "bo"  # the same id, other content: a conflict
        events.append(event)
    if not late:
        events.sort(key=lambda e: e["at"])
    return events


@st.composite
def menu_rosters(draw: st.DrawFn) -> Roster | None:
    """No roster, or one that places some members in a class (the others left to their
    events' `class`, or to no team) and may give some a `joined` date."""
    if draw(st.integers(0, 3)) == 0:
        return None
    members: dict[str, dict[str, str]] = {}
    for member in draw(st.lists(st.sampled_from(MEMBERS), unique=True)):
        row = {"class": draw(st.sampled_from(("red", "blue", "blue", "")))}
        if draw(st.booleans()):
            row["joined"] = draw(st.sampled_from(("2026-03-03", "2026-03-06", "")))
        members[member] = row
    return Roster(members)


def _program(text: str) -> Program:
    return incentive.compile(text, "menu.incentive")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=menu_schemes(), events=menu_events(), roster=menu_rosters())
def test_random_schemes_batch(
    text: str, events: list[dict[str, Any]], roster: Roster | None
) -> None:
    """Teams from a roster (when drawn), else from the events' `class`: the same lines."""
    program = _program(text)
    reference, compiled = _both(program, events, roster=roster)
    assert compiled == reference


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=menu_schemes(),
    events=menu_events(),
    cut=st.integers(0, 60),
    data=st.data(),
    roster=menu_rosters(),
)
def test_random_schemes_streaming(
    text: str, events: list[dict[str, Any]], cut: int, data: st.DataObject, roster: Roster | None
) -> None:
    """Fed one at a time, out of order (late events), with time advanced by hand."""
    program = _program(text)
    advance = data.draw(st.sampled_from((None, "2026-03-04T12:00:00", "2026-03-20T00:00:00")))
    outputs = []
    for engine in ("interpreter", "compiled"):
        session = program.session(roster=roster, engine=engine)
        records: list[Record] = []
        for position, event in enumerate(events):
            if position == cut and advance is not None:
                records += session.advance_to(datetime.fromisoformat(advance))
            records += session.feed(event)
        records += session.close_all()
        outputs.append(_lines(records + session.balance_records()))
    assert outputs[1] == outputs[0]


def test_roster_teams_reach_both_evaluators() -> None:
    """The roster's class, not the events' (which carry none), makes the team ranks: the
    random tests' rosters are read by both evaluators alike."""
    program = _program(
        'scheme "menu" {\n  currency coins, xp\n  team class\n'
        "  rule r0 { on checkin top 1 class per day by count award 3 }\n"
        f"{EVENTS_BLOCK}}}\n"
    )
    roster = Roster({"ana": {"class": "red"}, "bo": {"class": "blue"}, "cy": {"class": "blue"}})
    events = [
        {"id": f"e{n}", "type": "checkin", "member": member, "at": f"2026-03-02T0{n}:00:00"}
        for n, member in enumerate(["ana", "bo", "cy", "bo"])
    ]
    reference, compiled = _both(program, events, roster=roster)
    assert compiled == reference
    ranks = [json.loads(line) for line in reference if '"kind":"rank"' in line]
    assert ranks and {r["member"] for r in ranks} == {"bo", "cy"}
    assert {r["team"] for r in ranks} == {"blue"}
    without, _ = _both(program, events)
    assert not any('"kind":"rank"' in line for line in without)


def test_menu_schemes_use_every_construct() -> None:
    """The menu really reaches every construct (a generator that silently lost one would
    prove nothing about it)."""
    seen: set[str] = set()
    words = {
        "top ": "rank", "bottom ": "rank", "board ": "board", "streak ": "streak",
        "grace ": "grace", "milestone ": "milestone", "expire ": "expiry", "redeem ": "redeem",
        "budget ": "budget", "grants ": "grants", "inviter ": "referral", "inactive ": "flag",
        "random(": "random", "lottery": "lottery", "levels": "levels", "boost ": "boost",
        "team class": "teams", "cap ": "cap", "limit ": "limit", "once": "once",
        "uncapped": "uncapped", "week starts": "week starts", "day ends 04": "early day end",
        "on ad, checkin": "several types",
        " ever": "limit ever", "from 2026": "boost dates", "reverse ": "reversal",
        " debt": "debt", "pending ": "pending", "transfer ": "transfer", "receive ": "receive",
        "keep ": "keep", "catalogue ": "catalogue", "stock ": "stock", " reason ": "reason",
        "weeks at end of": "rounded expiry", "months": "expiry in months",
        "weekday ": "weekday", "hour between": "hour",
        "for each": "limit for each", "credit ": "credit", "each day": "running board",
        "by missing": "missing board", "goal class": "team goal", " draw ": "draw",
        "days of first": "window from a first event", "days of joined": "window from a date",
        "league ": "league", "demote ": "demote", "promote ": "promote",
        "every time": "every time", "window ": "window", "reaching ": "reaching",
        "first ": "first", "per quarter": "quarter", "timezone from": "member zone",
        "periods from": "periods from a member's start",
        " earned ": "a streak of points earned",
        "{ league lg }": "a league's board",
    }  # fmt: skip

    @settings(max_examples=600, deadline=None, derandomize=True, database=None)
    @given(text=menu_schemes())
    def collect(text: str) -> None:
        _program(text)  # every drawn scheme is valid
        seen.update(what for word, what in words.items() if word in text)

    collect()
    assert seen == set(words.values())


def test_explain_plan_names_what_is_inline() -> None:
    program = incentive.load(ROOT / "schemes" / "writing_camp.incentive")
    plan = explain_plan(program)
    assert "rule `homework`: award 5, inline" in plan
    assert "rule `first_three`: rank table by earliest, inline" in plan
    assert "rule `streak`: streak (the interpreter's step, once per period)" in plan
    assert "grants `applause`" in plan


def test_generated_source_holds_scheme_text_only_as_literals() -> None:
    """A rule name or string that looks like code stays a string literal."""
    text = """
    scheme "x" {
      events { message(channel: text) }
      rule evil { on message where channel == "'); import os; os.system('boom'); ('" award 1 }
    }
    """
    program = incentive.compile(text, "x.incentive")
    source = compile_program(program).source
    compile(source, "<check>", "exec")  # valid Python
    assert "import os" not in source.replace(repr("'); import os; os.system('boom'); ('"), "")
    result = program.evaluate(
        [{"type": "message", "member": "a", "at": "2026-03-02T08:00:00",
          "channel": "'); import os; os.system('boom'); ('"}]
    )  # fmt: skip
    assert [r.kind for r in result.records] == ["award"]


def test_compiled_once_per_program() -> None:
    program = incentive.load(ROOT / "schemes" / "writing_camp.incentive")
    assert compile_program(program) is compile_program(program)
    day = date(2026, 3, 2)
    assert program.calendar.in_season(day)


# ---- the streaming run: files to JSON Lines in bounded memory -------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=menu_schemes(), events=menu_events(), engine=st.sampled_from(("compiled", "interpreter"))
)
def test_streaming_run_writes_what_run_batch_returns(
    text: str, events: list[dict[str, Any]], engine: str
) -> None:
    """In time order or not (sorted on disk, in runs of 7 here), with bad lines among the
    events: the same lines as run_batch, in the same order."""
    import io

    from incentive import runner
    from incentive.events import read_text

    program = _program(text)
    lines = [json.dumps(event) for event in events]
    lines[len(lines) // 2 : len(lines) // 2] = ["{not json", '{"type": "x"}']
    items = read_text("\n".join(lines) + "\n", program.calendar)
    expected = program.evaluate(items, engine=engine)  # type: ignore[arg-type]
    wanted = _lines(expected.records + expected.session.balance_records())
    out = io.BytesIO()
    saved, runner.SORT_RUN = runner.SORT_RUN, 7
    try:
        summary = runner.run_to(program, lambda: items, out, engine=engine)  # type: ignore[arg-type]
    finally:
        runner.SORT_RUN = saved
    assert out.getvalue().decode().splitlines() == wanted
    ordered = [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert summary.resorted == (not ordered)
    assert summary.kinds["bad_event"] >= 2


def test_cli_engines_write_the_same_bytes(tmp_path: Path) -> None:
    from tests.clirun import invoke

    scheme = ROOT / "schemes" / "writing_camp.incentive"
    events = ROOT / "schemes" / "writing_camp.events.jsonl"
    roster = ROOT / "schemes" / "writing_camp.roster.csv"
    outputs = []
    for engine in ("compiled", "interpreter"):
        target = tmp_path / f"{engine}.jsonl"
        code, _ = invoke(
            "run", str(scheme), str(events), "--roster", str(roster), "--quiet",
            "--engine", engine, "--out", str(target),
        )  # fmt: skip
        assert code == 0
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") > 6000


def test_cli_explain_plan() -> None:
    from tests.clirun import invoke

    code, out = invoke("run", "--explain-plan", "bench/camp4.incentive", "-")
    assert code == 0
    assert out.splitlines() == [
        "scheme `Four-rule camp`: columnar plan for batch runs of plain JSON Lines files "
        "(other input: the compiled evaluator)",
        "scheme `Four-rule camp`: compiled evaluator",
        "  rule `homework`: award 5, inline",
        "  rule `streak`: streak (the interpreter's step, once per period)",
        "  rule `early`: rank table by earliest, inline",
        "  rule `chat`: award 1, inline",
    ]


@pytest.mark.parametrize(
    "zone",
    ["Australia/Lord_Howe", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham", "UTC"],
)
def test_record_times_by_the_minute_equal_local_time(zone: str) -> None:
    """The compiled session builds record times from a per-minute cache; across a
    year with its daylight-saving changes (half-hour ones too) they equal
    `local_time` to the byte."""
    from datetime import UTC

    from incentive.compiler import CompiledSession
    from incentive.state import local_time

    program = incentive.compile(f'scheme "z" {{ timezone "{zone}" rule a {{ on x award 1 }} }}')
    session = CompiledSession(program)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year == 2026:
        assert session._stamp(moment) == local_time(program.calendar, moment), moment
        moment += timedelta(seconds=997)
    fraction = datetime(2026, 3, 29, 1, 0, 0, 500, tzinfo=UTC)
    assert session._stamp(fraction) == local_time(program.calendar, fraction)


ENGINES = ("columnar", "compiled", "interpreter")


def _same_on_every_engine(*args: str) -> str:
    """The `--format json` answer of `incentive ARGS`, the same bytes on every engine."""
    from tests.clirun import invoke

    outputs = []
    for engine in ENGINES:
        code, out = invoke(*args, "--format", "json", "--engine", engine)
        assert code == 0, out
        outputs.append(out)
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]
    return outputs[0]


def _paid_for_real(report: dict[str, Any]) -> None:
    """A report of a run that used its events: every rule paid, nothing unreadable."""
    assert report["records"].get("bad_event", 0) == 0, report["records"]
    assert report["records"]["award"] > 1000 and report["records"]["streak"] > 1000
    paid = {row["rule"]: row["paid"] for row in report["rules"]}
    assert set(paid) >= {"homework", "streak", "featured", "first_three"}
    assert all(points > 0 for points in paid.values()), paid
    assert report["currencies"]["coins"]["paid"] == sum(paid.values())


def test_simulate_gives_the_same_report_on_every_engine(tmp_path: Path) -> None:
    """A simulated population (`--population`), then the events and roster it saved
    read back as EVENTS: the same report, byte for byte, on every engine, and the
    saved events give the report the population gave (the audit found this test
    passing a population file as EVENTS: 0 paid and one bad event on both engines)."""
    camp, population = "schemes/writing_camp.incentive", "schemes/writing_camp.population.yaml"
    saved, roster = tmp_path / "events.jsonl", tmp_path / "roster.csv"
    simulated = _same_on_every_engine(
        "simulate", camp, "--population", population,
        "--save-events", str(saved), "--save-roster", str(roster),
    )  # fmt: skip
    _paid_for_real(json.loads(simulated))
    replayed = _same_on_every_engine("simulate", camp, str(saved), "--roster", str(roster))
    assert replayed == simulated


def test_compare_and_explain_give_the_same_answer_on_every_engine() -> None:
    camp, events = "schemes/writing_camp.incentive", "schemes/writing_camp.events.jsonl"
    roster = ["--roster", "schemes/writing_camp.roster.csv"]
    double = "docs/examples/camp_double.incentive"
    compared = json.loads(_same_on_every_engine("compare", camp, double, events, *roster))
    homework = next(row for row in compared["rules"] if row["rule"] == "homework")
    assert homework["a"] > 0 and homework["b"] == 2 * homework["a"]
    assert all(row["a"] > 0 for row in compared["rules"])
    explained = json.loads(
        _same_on_every_engine("explain", camp, events, "--member", "w0001", *roster)
    )
    kinds = {record["kind"] for record in explained["records"]}
    assert explained["member"] == "w0001" and {"award", "streak"} <= kinds


def test_streaming_across_the_season_end_keeps_every_deadline() -> None:
    """An event after the season advances time without opening its day; an earlier,
    in-season event then makes a lot due before that time. The compiled session must
    still expire it (found by review: it skipped time for the rest of that day)."""
    program = incentive.compile(
        'scheme "m" {\n season 2026-03-01 to 2026-03-10\n expire after 1 days\n'
        " rule r { on c award 5 }\n"
        ' rule idle { on c inactive 1 days flag "idle" }\n}\n'
    )
    feed = [("e1", "ana", "03-09T08:00"), ("e2", "bo", "03-15T08:00"),
            ("e3", "cy", "03-09T12:00"), ("e4", "bo", "03-15T09:00")]  # fmt: skip
    outputs = []
    for engine in ("interpreter", "compiled"):
        session = program.session(engine=engine)
        records = []
        for event_id, member, at in feed:
            event = {"id": event_id, "type": "c", "member": member, "at": f"2026-{at}:00"}
            records += session.feed(event)
        records += session.close_all()
        outputs.append(_lines(records + session.balance_records()))
    assert outputs[1] == outputs[0]
    assert any('"kind":"expiry"' in line and '"member":"cy"' in line for line in outputs[0])


def test_record_times_where_the_offset_had_seconds() -> None:
    """Monrovia was 44 minutes 30 seconds behind UTC until 1972: no cache by the minute."""
    from datetime import UTC

    from incentive.compiler import CompiledSession
    from incentive.state import local_time

    program = incentive.compile('scheme "z" { timezone "Africa/Monrovia" rule a { on x award 1 } }')
    session = CompiledSession(program)
    moment = datetime(1971, 6, 1, 12, 0, 10, tzinfo=UTC)
    for _ in range(3000):
        assert session._stamp(moment) == local_time(program.calendar, moment), moment
        moment += timedelta(seconds=13_331)


def test_naive_times_where_the_offset_had_seconds() -> None:
    """Read in any order, each naive Monrovia time around its 1972 change means what
    the zone says (the per-minute offset cache is not used before 1973)."""
    from incentive.events import parse_time

    program = incentive.compile('scheme "z" { timezone "Africa/Monrovia" rule a { on x award 1 } }')
    texts = ["1972-01-07T00:44:40", "1972-01-07T00:44:10", "1972-01-06T23:59:59"]
    for text in texts + texts[::-1]:
        expected = program.calendar.to_utc(datetime.fromisoformat(text))
        assert parse_time(text, program.calendar) == expected


def test_whole_numbers_beyond_64_bits_read_as_before() -> None:
    """orjson turns them into floats; such lines are read by the standard module."""
    from incentive.events import BadLine, read_text

    program = incentive.compile('scheme "z" { rule a { on x award 1 } }')
    lines = [
        '{"id": 100000000000000000000, "type": "x", "member": "a", "at": "2026-03-02T08:00:00"}',
        '{"type": "x", "member": 18446744073709551616, "at": "2026-03-02T08:00:00"}',
        '{"type": "x", "member": "b", "at": "2026-03-02T08:00:00", "n": -9223372036854775809}',
    ]
    items = read_text("\n".join(lines) + "\n", program.calendar)
    events = [item for item in items if not isinstance(item, BadLine)]
    assert len(events) == 3
    assert events[0].id == "100000000000000000000"
    assert events[1].member == "18446744073709551616"
    assert events[2].attributes["n"] == -9223372036854775809


@pytest.mark.parametrize("listed", ['["a", other]', '[other, "a"]'])
def test_an_in_list_reading_a_missing_attribute_is_unknown(listed: str) -> None:
    """Wherever the missing attribute stands in the list (reference.md: an `in` test
    that reads an attribute the event does not carry is unknown)."""
    program = incentive.compile(
        'scheme "m" {\n events { msg(channel: text, other: text) }\n'
        f" rule r {{ on msg where channel in {listed} award 1 }}\n}}\n"
    )
    event = {"id": "e1", "type": "msg", "member": "ana", "at": "2026-03-02T08:00:00"}
    for engine in ("interpreter", "compiled"):
        missing = program.evaluate([{**event, "channel": "a"}], engine=engine)
        assert missing.balances == {"ana": {"points": 0}}
        known = program.evaluate([{**event, "channel": "a", "other": "b"}], engine=engine)
        assert known.balances == {"ana": {"points": 1}}


# ---- the streaming fast path's edges (issue 14) ---------------------------------------------


@pytest.mark.parametrize(
    ("zone", "change"),
    [
        ("America/New_York", datetime(2026, 3, 8, 7, 0)),  # 02:00 local: an hour skipped
        ("America/New_York", datetime(2026, 11, 1, 6, 0)),  # 02:00 local: an hour again
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, 0)),  # half an hour back
        ("Asia/Kathmandu", datetime(2026, 6, 1, 0, 0)),  # +05:45, no change
    ],
)
def test_record_times_second_by_second_equal_local_time(zone: str, change: datetime) -> None:
    """Instants a few seconds apart, as a stream gives them (the compiled session keeps
    the minute last stamped), across an offset change, with fractions and a step back
    between them: each stamp equals `local_time` to the byte."""
    from datetime import UTC

    from incentive.compiler import CompiledSession
    from incentive.state import local_time

    program = incentive.compile(f'scheme "z" {{ timezone "{zone}" rule a {{ on x award 1 }} }}')
    session = CompiledSession(program)
    moment = change.replace(tzinfo=UTC) - timedelta(minutes=3)
    for step in range(400):
        for instant in (
            moment,
            moment + timedelta(microseconds=250),
            moment - timedelta(seconds=61),
            moment,
        ):
            assert session._stamp(instant) == local_time(program.calendar, instant), instant
        moment += timedelta(seconds=1 + step % 7)


def test_typed_numbers_read_as_the_interpreter_reads_them() -> None:
    """A whole number is read inline (a Decimal); the edges of what intake.coerce takes
    (10^15 and one more, true, text, a float) give the interpreter's records."""
    program = incentive.compile(
        'scheme "n" {\n events { hw(words: number) }\n'
        " rule r { on hw where words >= 500 award 5 }\n}\n"
    )
    values: list[Any] = [500, 499, 10**15, 10**15 + 1, -(10**15), -(10**15) - 1, True, False]
    values += ["600", " 700 ", "many", 650.5, 2**70, None]
    events = [
        {"id": f"e{n}", "type": "hw", "member": "ana", "at": f"2026-03-02T08:{n:02d}:00"}
        | ({} if value is None else {"words": value})
        for n, value in enumerate(values)
    ]
    outputs = []
    for engine in ("interpreter", "compiled"):
        session = program.session(engine=engine)
        records = [record for event in events for record in session.feed(event)]
        outputs.append(_lines(records + session.close_all() + session.balance_records()))
    assert outputs[1] == outputs[0]
    assert sum('"code":"bad_attribute"' in line for line in outputs[0]) >= 4


def test_repeated_ids_and_ids_from_the_content_on_the_fast_path() -> None:
    """Fed as dicts one at a time: an id sent again with the same content is a duplicate,
    with other content a conflict; an event without id is named `h-` and its content's
    fingerprint (the general reader's), so sending it again is a duplicate too."""
    from incentive.calendar import Calendar
    from incentive.events import Event, _general_event

    program = incentive.compile(
        'scheme "d" {\n events { hw(words: number) }\n rule r { on hw award 1 }\n}\n'
    )
    first = {"id": "e1", "type": "hw", "member": "ana", "at": "2026-03-02T08:00:00", "words": 3}
    unnamed = {"type": "hw", "member": "bo", "at": "2026-03-02T08:00:05", "words": 4}
    feed = [first, dict(first), first | {"words": 5}, first | {"at": "2026-03-02T08:00:01"}]
    feed += [unnamed, dict(unnamed), unnamed | {"words": 6}]
    outputs = []
    for engine in ("interpreter", "compiled"):
        session = program.session(engine=engine)
        kinds = [[r.kind for r in session.feed(event)] for event in feed]
        # the last: other content and no id, so another event
        expected = ["award", "duplicate", "conflict", "conflict", "award", "duplicate", "award"]
        assert kinds == [[kind] for kind in expected]
        outputs.append(_lines(session.close_all() + session.balance_records()))
        general = _general_event(dict(unnamed), Calendar(), None, None)
        assert isinstance(general, Event)
        assert f"h-{general.fingerprint}" in session.state.seen
    assert outputs[1] == outputs[0]


def test_checkpoints_are_renewed_as_the_stream_goes_on() -> None:
    """The compiled session looks at checkpointing only every so often; the journal of
    events since the last checkpoint still stays within the interpreter's bound, and a
    failed event after thousands still leaves nothing."""
    from incentive.engine import CHECKPOINT_EVERY

    program = incentive.compile(
        'scheme "c" {\n events { hw(words: number) }\n rule r { on hw award 1 cap 50 per day }\n}\n'
    )
    session = program.session(engine="compiled")
    reference = session._reference  # type: ignore[union-attr]
    longest = 0
    for n in range(3 * CHECKPOINT_EVERY + 7):
        session.feed(
            {"id": f"e{n}", "type": "hw", "member": f"m{n % 7}", "at": "2026-03-02T08:00:00"}
        )
        longest = max(longest, len(reference._journal))
    assert longest <= CHECKPOINT_EVERY
    before = session.balances()
    handler = session._handlers["hw"]  # type: ignore[union-attr]

    def broken(s: Any, event: Any) -> Any:
        handler(s, event)  # pays, then fails
        raise RuntimeError("boom")

    session._handlers = {"hw": broken}  # type: ignore[union-attr]
    failed = session.feed({"id": "x", "type": "hw", "member": "m1", "at": "2026-03-02T09:00:00"})
    assert [record.code for record in failed] == ["evaluation_failed"]
    assert session.balances() == before
    assert "x" not in session.state.seen


def test_both_evaluators_leave_the_same_state_over_days() -> None:
    """A store keeps the session's state: after days of limits, caps, streaks and an
    earliest rank (counters made over in place by the compiled session when a new day
    comes, and one written by hand with more than two items), its bytes are the
    interpreter's."""
    from incentive.codec import decode_state, encode_state

    text = (ROOT / "bench" / "camp4.incentive").read_text(encoding="utf-8")
    program = incentive.compile(text)
    events = [
        {
            "id": f"e{n}",
            "type": "homework" if n % 3 == 0 else "message",
            "member": f"m{n % 5}",
            "at": f"2026-03-{1 + n // 40:02d}T{(n * 7) % 24:02d}:{n % 60:02d}:{(n * 13) % 60:02d}",
        }
        | ({"words": 300 + (n * 37) % 500} if n % 3 == 0 else {})
        for n in range(200)
    ]
    states = []
    for engine in ("interpreter", "compiled"):
        start = decode_state(encode_state(incentive.EngineState()))
        odd = incentive.MemberState()
        odd.counters["limit:homework:day"] = ["2026-02-27", 1, "kept by an older release"]
        odd.counters["cap:rule:chat:day"] = ["2026-02-27", 20]
        start.members["m3"] = odd
        session = program.session(engine=engine, state=start)
        for event in sorted(events, key=lambda e: e["at"]):
            session.feed(event)
        states.append(encode_state(session.state))
        session.close_all()
        states.append(encode_state(session.state))
    assert states[2:] == states[:2]
    assert b"kept by an older release" not in states[0]  # made over as a new list


def test_utc_times_by_the_minute_equal_isoformat() -> None:
    """What the compiled session writes into lots and rank tables for an instant is its
    isoformat: second by second, with fractions, before 1000, in another zone."""
    from datetime import UTC, timezone
    from zoneinfo import ZoneInfo

    from incentive.compiler import CompiledSession

    program = incentive.compile('scheme "z" { rule a { on x award 1 } }')
    session = CompiledSession(program)
    moment = datetime(2026, 3, 8, 6, 58, 0, tzinfo=UTC)
    others = [timezone(timedelta(hours=5, minutes=45)), ZoneInfo("America/New_York")]
    for step in range(300):
        instants = [moment, moment + timedelta(microseconds=7), moment - timedelta(seconds=59)]
        instants += [moment.astimezone(zone) for zone in others]
        instants.append(moment.replace(year=987))
        for instant in instants:
            assert session._utc_text(instant) == instant.isoformat(), instant
        moment += timedelta(seconds=1 + step % 5)


def test_the_documented_engine_defaults() -> None:
    """docs/architecture.md ("Two evaluators") and docs/cli.md: the library runs the
    compiled evaluator by default, `incentive.Session` is the interpreter's; on the
    command line `run`, `simulate`, `compare` and `explain` default to the columnar
    plan, `replay` and `serve` (streams) to the compiled evaluator."""
    from incentive.cli import main
    from incentive.compiler import CompiledSession
    from incentive.engine import Session

    program = incentive.compile('scheme "d" { rule r { on x award 1 } }')
    assert type(program.session()) is CompiledSession
    assert incentive.Session is Session
    assert type(program.session(engine="interpreter")) is Session
    defaults = {}
    for name, command in main.commands.items():
        for option in command.params:
            if option.name == "engine":
                defaults[name] = (option.default, list(option.type.choices))
    everything = ["columnar", "compiled", "interpreter"]
    assert defaults == {
        "run": ("columnar", everything),
        "simulate": ("columnar", everything),
        "compare": ("columnar", everything),
        "explain": ("columnar", everything),
        "replay": ("compiled", ["compiled", "interpreter"]),
        "serve": ("compiled", ["compiled", "interpreter"]),
    }


@pytest.mark.parametrize(
    ("rule", "header", "line"),
    [
        ("award words / 10", "",
         "award (the interpreter's step: the amount is computed for each event)"),
        ("award random(1, 5)", "seed 7", "award (the interpreter's step: a random amount)"),
        ("award -5", "", "award (the interpreter's step: a penalty or an amount of 0)"),
        ("award 5 limit 1 per day for each words", "",
         "award (the interpreter's step: a limit `for each` attribute counts each value apart)"),
        ("award 5", "boost b { times 2 on friday for r }",
         "award (the interpreter's step: a boost may change the amount)"),
        ("award words / 10", "boost b { times 2 on friday for r }",
         "award (the interpreter's step: the amount is computed for each event; "
         "a boost may change the amount)"),
        ("award 5 budget 100 per day", "",
         "award 5, inline (paid through the interpreter's budgets and ledger: "
         "a budget must see the award)"),
        ("award 5", "expire after 30 days",
         "award 5, inline (paid through the interpreter's budgets and ledger: "
         "the points expire, so the ledger keeps them as a lot)"),
        ("award 5 budget 100 per day", "levels { low 0 high 100 } expire after 30 days",
         "award 5, inline (paid through the interpreter's budgets and ledger: a budget must "
         "see the award; levels must see the award; the points expire, so the ledger keeps "
         "them as a lot)"),
        ("award 2 * 3", "", "award (the interpreter's step: the amount is an expression, "
         "not one number)"),
        ("award 5", "", "award 5, inline"),
    ],
)  # fmt: skip
def test_explain_plan_says_why_a_rule_is_the_interpreters(
    rule: str, header: str, line: str
) -> None:
    """Each reason the compiled evaluator leaves an award to the interpreter's step, or
    pays it through the interpreter's budgets and ledger, is named on its line."""
    program = incentive.compile(
        f'scheme "w" {{\n events {{ c(words: number) }}\n {header}\n rule r {{ on c {rule} }}\n}}\n'
    )
    assert explain_plan(program).splitlines()[1:] == [f"  rule `r`: {line}"]


def test_cli_explain_plan_says_why_in_the_operators_language() -> None:
    """schemes/shop.incentive's `signin`, `purchase` and `review` call the interpreter's
    step: the lines say why, in English or (`--lang zh`) in Chinese."""
    from tests.clirun import invoke

    code, out = invoke("run", "--explain-plan", "schemes/shop.incentive", "-")
    assert code == 0
    assert out.splitlines()[-6:] == [
        "scheme `Shop sign-in`: compiled evaluator",
        "  redeem `checkout`: the interpreter's step",
        "  rule `purchase`: award (the interpreter's step: the amount is computed for each "
        "event; a boost may change the amount)",
        "  rule `review`: award (the interpreter's step: the amount is computed for each event)",
        "  rule `signin`: award (the interpreter's step: a boost may change the amount)",
        "  rule `signin_streak`: streak (the interpreter's step, once per period)",
    ]
    code, out = invoke("--lang", "zh", "run", "--explain-plan", "schemes/shop.incentive", "-")
    assert code == 0
    assert out.splitlines()[-6:] == [
        "方案 `Shop sign-in`：编译求值器",
        "  兑换块 `checkout`：解释器的步骤",
        "  规则 `purchase`：奖励（解释器的步骤：金额按每个事件计算；加成可能改变金额）",
        "  规则 `review`：奖励（解释器的步骤：金额按每个事件计算）",
        "  规则 `signin`：奖励（解释器的步骤：加成可能改变金额）",
        "  规则 `signin_streak`：连续（解释器的步骤，每个周期一次）",
    ]
    # a program is compiled once, its plan shown in whichever language is asked for
    code, out = invoke("run", "--explain-plan", "schemes/shop.incentive", "-")
    assert "  rule `signin`: award (the interpreter's step: a boost may change the amount)" in out


@pytest.mark.parametrize("scheme", sorted(p.name for p in (ROOT / "schemes").glob("*.incentive")))
def test_cli_explain_plan_is_all_chinese_in_chinese(scheme: str) -> None:
    """`--lang zh run --explain-plan --jobs 2`: the columnar plan's lines, the `--jobs`
    lines of both splits and the compiled evaluator's are Chinese, for every worked
    scheme (names in backticks and the format's name aside)."""
    from tests.clirun import invoke

    code, out = invoke(
        "--lang", "zh", "run", "--explain-plan", "--jobs", "2", f"schemes/{scheme}", "-"
    )
    assert code == 0, out
    # a keyword of the language may stand in brackets after its Chinese: 最早（earliest）
    english = re.sub(r"`[^`]*`|--jobs \d|JSON Lines|\bid\b|（[a-z_]+）", "", out)
    assert not re.findall(r"[A-Za-z]{2,}", english), out
