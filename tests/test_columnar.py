"""The columnar plan writes the interpreter's bytes, or steps aside before writing any.

`incentive.columnar` states a batch run as whole-column operations. It is proven
here the way the compiled evaluator is: byte-identical JSON Lines against the
reference interpreter, on random schemes drawn from every construct the plan
takes and random plain event files; and on inputs it must not take (a bad
line, a repeated id, an attribute missing, times out of order, ...), where it
must decline so that the loop answers, never answer differently.
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
from incentive.columnar import ranks, reading, writing
from incentive.columnar.plan import _READ
from incentive.events import read_events
from incentive.program import Program

ROOT = Path(__file__).resolve().parent.parent

EVENTS_BLOCK = """
  events {
    checkin
    message(words: number, channel: text, likes: number, vip: bool)
    post(words: number, likes: number)
    ad
  }
"""
CONDITIONS = (
    "words >= 30",
    "words < 30 or likes >= 3",
    "vip",
    "not vip",
    'channel == "expert"',
    'channel in ["lively", "expert"]',
    'channel not in ["other"]',
    "words in [10, 20, 30, 40]",
    "likes != 2",
    "words > 12.5",
    "words <= 12.5",
    "words == 7.5",
    "words != 7.5",
    '40 > words and member != "ana"',
    "words >= likes",
    'not (vip and channel == "lively")',
)
AMOUNTS = (  # over attributes both `message` and `post` carry, never negative
    "words / 10",
    "likes * 3",
    "words / 7 round up",
    "(words + likes) / 4 round nearest",
    "words / likes",
    "likes",
)
BOOST_CONDITIONS = ('member != "bo"', 'type == "post"', "true")  # any event type
MEMBERS = ("ana", "bo", "cy", "段", "lead", "Zoë")
ZONES = ("Asia/Shanghai", "America/New_York", "UTC", "Asia/Kathmandu")


@st.composite
def plain_schemes(draw: st.DrawFn) -> str:
    """A scheme built only from constructs the columnar plan writes."""
    small = lambda low=1, high=4: draw(st.integers(low, high))  # noqa: E731
    period = lambda: draw(st.sampled_from(("day", "week", "month")))  # noqa: E731
    head = ["currency coins, xp", f'timezone "{draw(st.sampled_from(ZONES))}"']
    ends = draw(st.sampled_from((None, "21:00", "04:00")))
    if ends is not None:
        head.append(f"day ends {ends}")
    if draw(st.integers(0, 3)) == 0:
        head.append("week starts sunday")
    seasoned = draw(st.integers(0, 3)) == 0
    if seasoned:
        head.append("season 2026-02-20 to 2026-03-30")
    rules: list[str] = []
    grouped = False
    kinds = draw(
        st.lists(
            st.sampled_from(("award", "award", "streak", "rank", "milestone")),
            min_size=1,
            max_size=6,
        )
    )
    for index, kind in enumerate(kinds):
        name = f"r{index}"
        if kind == "award":
            on = draw(st.sampled_from(("message", "post", "checkin", "message, post")))
            parts = [f"on {on}"]
            if on == "message" and draw(st.booleans()):
                parts[0] += f" where {draw(st.sampled_from(CONDITIONS))}"
            currency = " xp" if draw(st.integers(0, 4)) == 0 else ""
            amount = str(small(1, 9))
            if on != "checkin" and draw(st.integers(0, 2)) == 0:
                # computed per event: 0 pays nothing, `/ likes` cannot be when likes is 0
                amount = draw(st.sampled_from(AMOUNTS))
            elif draw(st.integers(0, 5)) == 0:
                amount = f"random(1, {small(2, 6)})"  # a seeded draw per event: the loop's step
            expr, _, rounding = amount.partition(" round ")
            parts.append(f"award {expr}{currency}" + (f" round {rounding}" if rounding else ""))
            limit = draw(st.sampled_from((None, "day", "week", "month", "ever")))
            if limit == "ever":
                parts.append(draw(st.sampled_from(("once", f"limit {small()} ever"))))
            elif limit is not None:
                parts.append(f"limit {small()} per {limit}")
                if on == "message" and draw(st.integers(0, 3)) == 0:
                    parts[-1] += " for each channel"  # a count per value: the loop's step
            if limit in ("day", "week") and draw(st.integers(0, 3)) == 0:
                parts.append(f"limit {small(2, 6)} per month")  # a second limit: the step
            if draw(st.booleans()):
                parts.append(f"cap {small(2, 15)} per {period()}")
            if draw(st.integers(0, 4)) == 0:
                parts.append(f"budget {small(3, 30)} per {period()}")  # shared by everyone
            if not currency and draw(st.integers(0, 3)) == 0:
                parts.append("group shared")  # a cap over several rules (coins): the step
                grouped = True
            rules.append(f"rule {name} {{ {' '.join(parts)} }}")
        elif kind == "streak":
            on = draw(st.sampled_from(("checkin", "message where words >= 30", "post")))
            tiers = " ".join(
                f"at {n} award {small()}"
                for n in sorted(draw(st.sets(st.integers(1, 5), min_size=1, max_size=3)))
            )
            every = f" every {small(2, 4)} award {small()}" if draw(st.booleans()) else ""
            per = draw(st.sampled_from(("day", "week")))
            extra = ""
            if draw(st.integers(0, 2)) == 0:  # what the columns leave to the loop's step
                extra = draw(
                    st.sampled_from(
                        (
                            f" grace {small(1, 2)}",
                            f' at 6 badge "s{index}"',
                            " at 8 award 1 + 1",
                            f" cap {small(5, 20)} per week",
                        )
                    )
                )
            rules.append(f"rule {name} {{ on {on} streak per {per} {tiers}{every}{extra} }}")
        elif kind == "milestone":
            on = draw(st.sampled_from(("message", "post", "checkin")))
            measures = ["count"]
            if on != "checkin":
                measures += ["sum likes", "sum words"]
            if on == "message":
                measures += ["distinct channel"]
            measure = draw(st.sampled_from(measures))
            per = draw(st.sampled_from(("", " per week", " per day")))
            top = 3 if measure.startswith("distinct") else 40
            thresholds = sorted(draw(st.sets(st.integers(1, top), min_size=1, max_size=3)))
            tiers = " ".join(
                f'at {n} badge "m{index}-{n}"'
                if draw(st.integers(0, 3)) == 0
                else f"at {n} award {small()}"
                for n in thresholds
            )
            rules.append(f"rule {name} {{ on {on} milestone {measure}{per} {tiers} }}")
        else:
            on = draw(st.sampled_from(("message", "checkin", "post", "message where vip")))
            measures = ["earliest", "count"]
            if on != "checkin":  # max and sum measure an attribute both types carry
                measures += ["max words", "sum likes", "max likes"]
            measure = draw(st.sampled_from(measures))
            side = draw(st.sampled_from(("top", "top", "bottom")))
            places = small(1, 3)
            what = draw(st.sampled_from(("pay", "pay", "perk", "badge", "board")))
            per = draw(st.sampled_from(("day", "week", "month") + ("season",) * seasoned))
            if what == "board":  # a board lists every entrant, or its top N
                ranked = f"{side} {places} " if draw(st.booleans()) else ""
                rules.append(f"board {name} {{ on {on} {ranked}per {per} by {measure} }}")
                continue
            if what in ("perk", "badge"):
                pay = f'{what} "p{index}"'
            else:
                pay = draw(st.sampled_from(("award 10, 5", f"award {small()}", "award 4, 0, 2")))
                pay = f"award {small()}" if pay.count(",") >= places else pay
                if draw(st.integers(0, 3)) == 0:
                    pay += f" budget {small(4, 14)} per {period()}"  # cuts the last places
            rules.append(f"rule {name} {{ on {on} {side} {places} per {per} by {measure} {pay} }}")
    paying = [f"r{i}" for i, kind in enumerate(kinds) if kind == "award"]  # boosts, below
    for number in range(draw(st.integers(0, 2)) if paying else 0):
        # a boost multiplies before rounding and caps, on its days, where it holds
        clauses = [f"times {draw(st.sampled_from(('2', '1.5', '3', '0.5')))}"]
        if draw(st.booleans()):
            clauses.append(f"on {draw(st.sampled_from(('saturday', 'sunday, monday')))}")
        if draw(st.booleans()):
            clauses.append("from 2026-03-03 to 2026-03-09")
        if draw(st.booleans()):
            clauses.append("where " + draw(st.sampled_from(BOOST_CONDITIONS)))
        chosen = draw(st.lists(st.sampled_from(paying), min_size=1, unique=True))
        clauses.append(f"for {', '.join(chosen)}")
        rules.append(f"boost b{number} {{ {' '.join(clauses)} }}")
    if grouped:
        budget = f" budget {small(5, 20)} per {period()}" if draw(st.booleans()) else ""
        rules.append(f"group shared {{ cap {small(3, 12)} per {period()}{budget} }}")
    if draw(st.integers(0, 5)) == 0:
        head.append(f"budget {small(10, 40)} coins per {period()}")  # the scheme's, in coins
    body = "\n  ".join(head + rules)
    return f'scheme "plain" {{\n  {body}\n{EVENTS_BLOCK}}}\n'


@st.composite
def plain_events(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Two weeks of plain events in time order: unique ids, every attribute present."""
    base = datetime(2026, 3, 1)
    minutes = draw(st.lists(st.integers(0, 14 * 24 * 60 * 4), max_size=80))
    if draw(st.integers(0, 4)):
        minutes.sort()  # the usual export; else the plan sorts by time, as the loop does
    events = []
    for i, minute in enumerate(minutes):
        moment = base + timedelta(seconds=minute * 15)
        if moment.date() == datetime(2026, 3, 8).date() and moment.hour == 2:
            moment += timedelta(hours=1)  # New York skips 02:00-03:00 that day
        kind = draw(st.sampled_from(("checkin", "message", "message", "post", "ad")))
        event: dict[str, Any] = {
            "id": f"e{i}",
            "type": kind,
            "member": draw(st.sampled_from(MEMBERS)),
            "at": moment.isoformat(),
        }
        if kind in ("message", "post"):
            event["words"] = draw(st.integers(0, 60))
            event["likes"] = draw(st.integers(0, 6))
        if kind == "message":
            event["channel"] = draw(st.sampled_from(("lively", "expert", "other")))
            event["vip"] = draw(st.booleans())
        events.append(event)
    return events


def line(id_: str, type_: str, member: str, at: str, **attributes: Any) -> str:
    """An event as one JSON line, the way most exports write it."""
    event = {"id": id_, "type": type_, "member": member, "at": at, **attributes}
    return json.dumps(event, ensure_ascii=False)


def _reference(program: Program, path: Path) -> bytes:
    out = io.BytesIO()

    def read() -> Any:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    runner.run_to(program, read, out, engine="interpreter")
    return out.getvalue()


def _columnar(program: Program, path: Path) -> tuple[bytes, runner.RunSummary]:
    out = io.BytesIO()

    def read() -> Any:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    summary = runner.run_files(program, [str(path)], read, out, engine="columnar")
    return out.getvalue(), summary


def _write(tmp: Path, lines: list[str]) -> Path:
    path = tmp / "events.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    text=plain_schemes(),
    events=plain_events(),
    separators=st.sampled_from([(", ", ": "), (",", ":")]),
    block=st.sampled_from([None, 150, 700]),
)
def test_random_plain_schemes_give_the_interpreters_bytes(
    tmp_path: Path,
    text: str,
    events: list[dict[str, Any]],
    separators: tuple[str, str],
    block: int | None,
) -> None:
    """Read whole, or in chunks of one to a few events (limits, caps, streaks and rank
    entries carried from chunk to chunk): the interpreter's bytes either way."""
    program = incentive.compile(text, "plain.incentive")
    assert columnar.why_not(program) == []
    path = _write(
        tmp_path, [json.dumps(e, ensure_ascii=False, separators=separators) for e in events]
    )
    saved = reading.BLOCK_BYTES
    reading.BLOCK_BYTES = block or saved
    try:
        got, summary = _columnar(program, path)
    finally:
        reading.BLOCK_BYTES = saved
    ordered = [e["at"] for e in events] == sorted(e["at"] for e in events)
    # Plain input: the plan ran it, unless out of order across chunks (the loop sorts).
    whole = path.stat().st_size <= (block or saved)
    assert summary.columnar == (ordered or whole)
    assert got == _reference(program, path)


def test_times_with_offsets_and_z(tmp_path: Path) -> None:
    program = incentive.load(ROOT / "bench" / "camp4.incentive")
    lines = [
        line("a", "homework", "ana", "2026-03-01T12:00:00Z", words=600),
        line("b", "homework", "bo", "2026-03-01T20:30:00+08:00", words=600),
        line("c", "message", "bo", "2026-03-01T21:10:00"),
        line("d", "homework", "ana", "2026-03-02T13:30:00+00:00", words=700),
    ]
    path = _write(tmp_path, lines)
    got, summary = _columnar(program, path)
    assert summary.columnar
    assert got == _reference(program, path)
    assert b'"rank":1' in got and b'"at":"2026-03-01T20:00:00+08:00"' in got


NOT_PLAIN = {
    "a line that is not JSON": ["{not json"],
    "a repeated id": [line("e1", "message", "ana", "2026-03-01T10:05:00")],
    "a repeated key": [
        '{"id": "x", "type": "message", "member": "ana", "member": "bo", '
        '"at": "2026-03-01T10:06:00"}'
    ],
    "an attribute a rule reads missing": [line("x", "homework", "ana", "2026-03-01T11:00:00")],
    "an attribute as text": [line("x", "homework", "ana", "2026-03-01T11:00:00", words="600")],
    "a fraction": [line("x", "homework", "ana", "2026-03-01T11:00:00", words=600.5)],
    "an escaped character": [
        '{"id": "x", "type": "message", "member": "an\\"a", "at": "2026-03-01T11:00:00"}'
    ],
    "a member as a number": [
        '{"id": "x", "type": "message", "member": 7, "at": "2026-03-01T11:00:00"}'
    ],
    "a space before a colon": [
        '{"id" : "x", "type": "message", "member": "ana", "at": "2026-03-01T11:00:00"}'
    ],
    "an unknown type": [line("x", "homewrk", "ana", "2026-03-01T11:00:00")],
    "a time with a fraction": [line("x", "message", "ana", "2026-03-01T11:00:00.5")],
    "a date without a time": [line("x", "message", "ana", "2026-03-01")],
    "a day that does not exist": [line("x", "message", "ana", "2026-02-30T11:00:00")],
    "no id": ['{"type": "message", "member": "ana", "at": "2026-03-01T11:00:00"}'],
    "an empty member": [line("x", "message", "", "2026-03-01T11:00:00")],
    "a blank line": ["   "],
    "a member to trim": [line("x", "message", " ana ", "2026-03-01T11:00:00")],
    "a type to trim": [line("x", "message ", "ana", "2026-03-01T11:00:00")],
    "a member to trim, ideographic space": [
        line("x", "message", "ana\u3000", "2026-03-01T11:00:00")
    ],
    "a repeated key no rule reads": [
        '{"id": "x", "type": "message", "member": "ana", "at": "2026-03-01T11:00:00", '
        '"mood": 1, "mood": 2}'
    ],
    "a number beyond 15 digits": [
        '{"id": "x", "type": "homework", "member": "ana", "at": "2026-03-01T11:00:00", '
        '"words": 1234567890123456}'
    ],
    "an exponent": [
        '{"id": "x", "type": "homework", "member": "ana", "at": "2026-03-01T11:00:00", '
        '"words": 600, "score": 1e400}'
    ],
    "a number as true": [line("x", "homework", "ana", "2026-03-01T11:00:00", words=True)],
}
# Lines the plan takes all the same (and must answer as the loop does).
PLAIN_TOO = {
    "a time back in time": [line("x", "homework", "ana", "2026-02-27T10:00:00", words=900)],
    "keys no rule reads": [
        '{"id": "x", "type": "message", "member": "ana", "at": "2026-03-01T11:00:00", "mood": 1.5, '
        '"tags": null, "ok": true, "note": "hi: é?"}'
    ],
    "a number beyond 15 digits no rule reads": [
        '{"id": "x", "type": "message", "member": "ana", "at": "2026-03-01T11:00:00", '
        '"big": 123456789012345678901234567890}'
    ],
}


@pytest.mark.parametrize("case", sorted(NOT_PLAIN))
def test_input_that_is_not_plain_goes_to_the_loop(tmp_path: Path, case: str) -> None:
    """The plan declines before writing a byte; the loop's answer is the reference's."""
    program = incentive.load(ROOT / "bench" / "camp4.incentive")
    lines = [
        line("e1", "homework", "ana", "2026-03-01T10:00:00", words=600),
        *NOT_PLAIN[case],
        line("e2", "homework", "bo", "2026-03-01T12:00:00", words=800),
        line("e3", "message", "bo", "2026-03-01T12:30:00"),
    ]
    path = _write(tmp_path, lines)
    assert columnar.run_columnar(program, [path], io.BytesIO()) is None
    got, summary = _columnar(program, path)
    assert not summary.columnar
    assert got == _reference(program, path)


@pytest.mark.parametrize("sink", ["file", "pipe"])
def test_a_line_not_plain_after_records_were_written_leaves_the_output_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: str
) -> None:
    """The plan writes straight into a file it can rewind (no spool): when a later block
    holds a line the loop must answer, the file is cut back to where the run found it,
    bytes before that untouched; into a pipe it spools, and writes nothing."""
    program = incentive.load(ROOT / "bench" / "camp4.incentive")
    lines = [
        line(f"e{n}", "homework", f"m{n % 7}", f"2026-03-01T10:{n:02d}:00", words=600)
        for n in range(40)
    ]
    lines.append(line("x", "message", " ana ", "2026-03-01T11:00:00"))  # a member to trim
    path = _write(tmp_path, lines)
    monkeypatch.setattr(reading, "BLOCK_BYTES", 400)  # many blocks: records before the line
    if sink == "file":
        with (tmp_path / "out.jsonl").open("w+b") as out:
            out.write(b"kept\n")
            wrote_some: list[int] = []
            real = writing._write_frame

            def spy(frame: Any, target: Any) -> Any:
                assert target is out  # no spool
                wrote_some.append(frame.height)
                return real(frame, target)

            monkeypatch.setattr(writing, "_write_frame", spy)
            assert columnar.run_columnar(program, [path], out) is None
            assert sum(wrote_some) > 0  # records had been written into the file itself
            assert out.tell() == len(b"kept\n")
            out.seek(0)
            assert out.read() == b"kept\n"
    else:
        read, write = os.pipe()
        with os.fdopen(write, "wb") as out, os.fdopen(read, "rb") as back:
            assert columnar.run_columnar(program, [path], out) is None
            out.close()
            assert back.read() == b""
    monkeypatch.undo()
    got, summary = _columnar(program, path)
    assert not summary.columnar
    assert got == _reference(program, path)


@pytest.mark.parametrize("case", sorted(PLAIN_TOO))
def test_plain_input_the_plan_takes(tmp_path: Path, case: str) -> None:
    program = incentive.load(ROOT / "bench" / "camp4.incentive")
    lines = [
        line("e1", "homework", "ana", "2026-03-01T10:00:00", words=600),
        *PLAIN_TOO[case],
        line("e2", "homework", "bo", "2026-03-01T12:00:00", words=800),
    ]
    path = _write(tmp_path, lines)
    got, summary = _columnar(program, path)
    assert summary.columnar
    assert got == _reference(program, path)


@pytest.mark.parametrize(
    "extra",
    [
        line("x", "homework", "ana", "2026-03-01T11:00:00", words=None),
        '{"id":"x","type":"message","member":"cy","at":"2026-03-01T11:00:00"}\r',
        line("x", "message", "Zoë 段", "2026-03-01T11:00:00"),
        '{"at": "2026-03-01T11:00:00", "member": "cy", "type": "message", "id": "null"}',
    ],
)
def test_plain_variants_still_take_the_plan(tmp_path: Path, extra: str) -> None:
    """Key order, compact separators, CRLF, non-ASCII names and a null attribute no rule
    needs here are plain: the plan runs them, and writes the reference's bytes."""
    program = incentive.compile(
        'scheme "s" { currency coins\n rule chat { on message award 1 cap 2 per day }\n'
        " rule hw { on homework award 3 }\n events { homework(words: number)\n message } }"
    )
    lines = [line("e1", "message", "ana", "2026-03-01T10:00:00"), extra]
    path = _write(tmp_path, lines)
    got, summary = _columnar(program, path)
    assert summary.columnar
    assert got == _reference(program, path)


def test_a_time_daylight_saving_skips_goes_to_the_loop(tmp_path: Path) -> None:
    program = incentive.compile(
        'scheme "s" { currency coins\n timezone "America/New_York"\n'
        " rule chat { on message award 1 }\n events { message } }"
    )
    path = _write(tmp_path, [line("x", "message", "a", "2026-03-08T02:30:00")])
    got, summary = _columnar(program, path)
    assert not summary.columnar
    assert got == _reference(program, path)


def test_outside_the_season_goes_to_the_loop(tmp_path: Path) -> None:
    program = incentive.compile(
        'scheme "s" { currency coins\n season 2026-03-02 to 2026-03-05\n'
        " rule chat { on message award 1 }\n events { message } }"
    )
    path = _write(tmp_path, [line("x", "message", "a", "2026-03-01T02:30:00")])
    got, summary = _columnar(program, path)
    assert not summary.columnar and b"outside_season" in got
    assert got == _reference(program, path)


def test_why_not_names_each_construct() -> None:
    shop = incentive.load(ROOT / "schemes" / "shop.incentive")
    reasons = columnar.why_not(shop)
    assert {"levels", "expiry", "redeem blocks"} <= set(reasons)
    assert columnar.plan_for(shop) is None
    text = columnar.explain(shop)
    assert text.startswith(f"scheme `{shop.name}`: no columnar plan")
    assert "  not written as columns: levels" in text.splitlines()
    assert columnar.why_not(incentive.load(ROOT / "bench" / "camp4.incentive")) == []
    # teams, boards by points, rate and missing, posts and grants: the engine's closes
    camp = columnar.plan_for(incentive.load(ROOT / "schemes" / "writing_camp.incentive"))
    assert camp is not None and camp.closes and camp.ranks == ()


@pytest.mark.parametrize(
    "rule, why",
    [
        (
            "rule a { on message where words / 2 > 3 award 2 }",
            "a condition with arithmetic or calls",
        ),
        ("rule a { on message award -2 }", "a penalty"),
        ('rule a { on message inactive 3 days flag "idle" }', "a flag for inactivity"),
        ("rule a { on message top 1 per day by lottery award 3 }", "a rank by lottery"),
    ],
)
def test_constructs_the_plan_does_not_write(rule: str, why: str) -> None:
    program = incentive.compile(
        f'scheme "s" {{ currency coins\n {rule}\n events {{ message(words: number) }} }}'
    )
    assert f"rule `a`: {why}" in columnar.why_not(program)


def test_cli_run_takes_the_plan_and_writes_the_interpreters_bytes(tmp_path: Path) -> None:
    from tests.clirun import invoke

    lines = []
    for i in range(400):
        kind = "homework" if i % 3 else "message"
        words = f', "words": {300 + 7 * i % 400}' if kind == "homework" else ""
        moment = datetime(2026, 3, 1, 8) + timedelta(minutes=37 * i)
        lines.append(
            f'{{"id": "e{i}", "type": "{kind}", "member": "m{i % 13}", '
            f'"at": "{moment.isoformat()}"{words}}}'
        )
    events = _write(tmp_path, lines)
    outputs = {}
    for engine in ("columnar", "compiled", "interpreter"):
        target = tmp_path / f"{engine}.jsonl"
        code, _ = invoke(
            "run", "bench/camp4.incentive", str(events), "--quiet", "--engine", engine,
            "--out", str(target),
        )  # fmt: skip
        assert code == 0
        outputs[engine] = target.read_bytes()
    assert outputs["columnar"] == outputs["interpreter"] == outputs["compiled"]
    assert outputs["columnar"].count(b'"kind":"rank"') > 10


def test_a_construct_the_plan_does_not_read_is_declined(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fields the plan does not read must hold their defaults: a construct added to the
    language later is declined until the plan writes it, never silently ignored."""
    import dataclasses

    from incentive.program import RuleSpec

    for spec, read in _READ.items():
        assert read <= {f.name for f in dataclasses.fields(spec)}, spec  # no stale names
    program = incentive.load(ROOT / "bench" / "camp4.incentive")
    assert columnar.why_not(program) == []
    monkeypatch.setitem(_READ, RuleSpec, _READ[RuleSpec] - {"board"})
    rules = tuple(dataclasses.replace(r, board=r.name == "chat") for r in program.rules)
    changed = dataclasses.replace(program, rules=rules)
    assert columnar.why_not(changed) == ["rule `chat`: `board`"]


def test_a_sum_beyond_64_bit_integers_goes_to_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rank by sum adds in 64-bit integers: a sum that could overflow is the loop's."""
    program = incentive.compile(
        'scheme "s" { currency coins\n'
        "  rule r { on message top 1 per day by sum likes award 5 }\n"
        "  events { message(likes: number) } }"
    )
    lines = [
        line(f"e{i}", "message", member, f"2026-03-0{day}T10:0{i}:00", likes=likes)
        for i, (member, day, likes) in enumerate(
            [("ana", 1, 6), ("bo", 1, 7), ("ana", 2, 3), ("bo", 2, -9), ("cy", 3, 1)]
        )
    ]
    path = _write(tmp_path, lines)
    expected = _reference(program, path)
    got, summary = _columnar(program, path)
    assert summary.columnar and got == expected
    monkeypatch.setattr(ranks, "SUM_BOUND", 13)  # 6 + 7: the first day's values reach it
    got, summary = _columnar(program, path)
    assert not summary.columnar and got == expected


def test_computed_and_boosted_amounts_take_the_plan(tmp_path: Path) -> None:
    """Amounts from attributes, boosted on a Saturday, rounded, capped, limited: the
    plan writes the loop's bytes, boost reasons, cuts and amount errors included."""
    program = incentive.compile(
        'scheme "s" { currency coins\n  timezone "Asia/Shanghai"\n'
        "  rule essay { on post award words / 100 round up limit 2 per day cap 9 per day }\n"
        "  rule ratio { on post award words / likes }\n"
        "  boost weekend { times 1.5 on saturday for essay, ratio }\n"
        "  events { post(words: number, likes: number) } }"
    )
    assert columnar.why_not(program) == []
    posts = [  # 2026-03-07 is a Saturday
        ("ana", "2026-03-06T09:00:00", 250, 0),
        ("ana", "2026-03-06T10:00:00", 40, 4),
        ("ana", "2026-03-06T11:00:00", 620, 2),
        ("ana", "2026-03-06T12:00:00", 300, 3),
        ("bo", "2026-03-07T09:00:00", 480, 5),
        ("bo", "2026-03-07T10:00:00", 0, 1),
        ("bo", "2026-03-07T11:00:00", 530, 7),
    ]
    path = _write(
        tmp_path,
        [
            line(f"p{i}", "post", who, at, words=words, likes=likes)
            for i, (who, at, words, likes) in enumerate(posts)
        ],
    )
    got, summary = _columnar(program, path)
    assert summary.columnar
    assert got == _reference(program, path)
    text = got.decode()
    assert "with boost `weekend` x1.5" in text
    assert '"code":"amount_error"' in text and '"kind":"cut"' in text


def test_order_dependent_awards_take_the_loops_own_step(tmp_path: Path) -> None:
    """Two limits, a limit per key, a group's cap over two rules, a random draw: the
    plan hands these awards to the loop's rule step, member by member in time order,
    inside the plan (which still runs the whole scheme), and writes the loop's bytes."""
    program = incentive.compile(
        'scheme "s" { currency coins\n  timezone "Asia/Shanghai"\n  seed 7\n'
        "  group expert { cap 6 per day }\n"
        "  rule answer { on message where words >= 10 award 2 group expert }\n"
        "  rule ask { on post award 3 group expert limit 2 per day limit 3 per week }\n"
        "  rule vote { on message award 1 limit 1 per day for each channel }\n"
        "  rule box { on post award random(1, 4) cap 5 per day }\n"
        "  rule chat { on message award 1 }\n"
        "  events { message(words: number, channel: text) post(words: number) } }"
    )
    assert columnar.why_not(program) == []
    plan = columnar.plan_for(program)
    assert plan is not None
    assert [a.rule.name for a in plan.awards if a.sequential] == ["answer", "ask", "vote", "box"]
    lines = []
    for i in range(60):
        day, hour = 2 + i // 12, 8 + i % 12
        who = ("ana", "bo", "cy")[i % 3]
        at = f"2026-03-{day:02d}T{hour:02d}:{(i * 7) % 60:02d}:00"
        if i % 2:
            lines.append(line(f"p{i}", "post", who, at, words=i))
        else:
            channel = "lively" if i % 12 < 8 else "expert"
            lines.append(line(f"m{i}", "message", who, at, words=i % 25, channel=channel))
    path = _write(tmp_path, lines)
    expected = _reference(program, path)
    for block in (None, 600):
        saved = reading.BLOCK_BYTES
        reading.BLOCK_BYTES = block or saved
        try:
            got, summary = _columnar(program, path)
        finally:
            reading.BLOCK_BYTES = saved
        assert summary.columnar and got == expected
    text = expected.decode()
    assert "on group `expert` reached" in text and "for each channel reached" in text
    assert "limit 3 per week reached" in text


def test_budgets_cut_rank_awards_and_awards_on_the_plan(tmp_path: Path) -> None:
    """The community fund's weekly budget cuts its last places (a `cut` after the award,
    or a refusal in its place), and a scheme's budget is shared by every rule, first
    come first served: the plan writes the loop's bytes, in one chunk or several."""
    fund = incentive.load(ROOT / "schemes" / "community_fund.incentive")
    program = incentive.compile(
        'scheme "s" { currency coins\n  timezone "Asia/Shanghai"\n'
        "  budget 12 coins per day\n"
        "  rule answer { on answer award likes budget 20 per week }\n"
        "  rule best { on answer top 3 per day by max likes award 5, 3, 2 }\n"
        "  events { answer(likes: number) } }"
    )
    lines = [
        line(
            f"a{i}",
            "answer",
            f"m{i % 13}",
            f"2026-01-{5 + i // 10:02d}T{8 + i % 10:02d}:00:00",
            likes=i % 7,
        )
        for i in range(120)
    ]
    path = _write(tmp_path, lines)
    for scheme in (fund, program):
        assert columnar.why_not(scheme) == []
        expected = _reference(scheme, path)
        assert b'"code":"budget_reached"' in expected
        for block in (None, 700):
            saved = reading.BLOCK_BYTES
            reading.BLOCK_BYTES = block or saved
            try:
                got, summary = _columnar(scheme, path)
            finally:
                reading.BLOCK_BYTES = saved
            assert summary.columnar and got == expected


def test_milestones_and_streaks_with_grace_take_the_loops_own_step(tmp_path: Path) -> None:
    """Milestones (a count, a sum per week, distinct values across members) and a
    streak with grace and a badge run through the loop's own steps inside the plan."""
    program = incentive.compile(
        'scheme "s" { currency coins\n  timezone "Asia/Shanghai"\n'
        '  rule fire { on post milestone count at 3 award 5 at 6 badge "six" }\n'
        "  rule likes { on post milestone sum likes per week at 10 award 2 at 20 award 4 }\n"
        '  rule invites { on invite milestone distinct invitee at 2 perk "premium" }\n'
        '  rule daily { on post streak per day grace 1 at 3 award 7 at 5 badge "five" }\n'
        "  events { post(likes: number) invite(invitee: text) } }"
    )
    assert columnar.why_not(program) == []
    plan = columnar.plan_for(program)
    assert plan is not None and all(award.sequential for award in plan.awards)
    lines = []
    for i in range(48):
        who, day = ("ana", "bo", "cy")[i % 3], 2 + i // 4 + (i // 12)
        at = f"2026-03-{day:02d}T{9 + i % 4:02d}:00:00"
        if i % 4 == 3:
            friend = ("ana", "dee", "eli", "fay", "dee")[i % 5]  # themselves, and taken ones
            lines.append(line(f"i{i}", "invite", who, at, invitee=friend))
        else:
            lines.append(line(f"p{i}", "post", who, at, likes=i % 6))
    path = _write(tmp_path, lines)
    expected = _reference(program, path)
    text = expected.decode()
    assert '"perk":"premium"' in text and '"perk":"six"' in text
    assert '"code":"already_counted"' in text and "missed" in text
    for block in (None, 500):
        saved = reading.BLOCK_BYTES
        reading.BLOCK_BYTES = block or saved
        try:
            got, summary = _columnar(program, path)
        finally:
            reading.BLOCK_BYTES = saved
        assert summary.columnar and got == expected


def test_a_reason_read_from_the_event_takes_the_loops_own_step(tmp_path: Path) -> None:
    """`reason note`: the award's reason carries the event's note; the plan hands the
    rule to the loop's step and writes its bytes."""
    program = incentive.compile(
        'scheme "s" { currency coins\n'
        "  rule thanks { on thanks award 5 reason note limit 3 per day }\n"
        "  events { thanks(note: text) } }"
    )
    assert columnar.why_not(program) == []
    notes = ["great answer", "", "谢谢", "thanks: again", "late"]
    path = _write(
        tmp_path,
        [
            line(f"t{i}", "thanks", "ana", f"2026-03-02T1{i}:00:00", note=note)
            for i, note in enumerate(notes)
        ],
    )
    expected = _reference(program, path)
    assert "rule `thanks`: 谢谢" in expected.decode()
    got, summary = _columnar(program, path)
    assert summary.columnar and got == expected


GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize(
    "case, why",
    [
        ("own_periods", "rule `practice`: `periods_from`"),
        ("streak_earned", "rule `earner`: `earned`"),
        ("league_board", "rule `tiers`: `league_board`"),
        ("reversals_oasis", "`reversals`"),
    ],
)
def test_issue_18_s_last_constructs_are_declined_and_run_on_the_loop(
    case: str, why: str, tmp_path: Path
) -> None:
    """Periods from a member's start, streaks of points earned, a league's board and
    reversals are not written as columns: the plan names them, and a columnar run of
    the golden case writes the loop's bytes (both without the case's roster, if any)."""
    program = incentive.load(GOLDEN / case / "scheme.incentive")
    assert why in columnar.why_not(program)
    assert columnar.plan_for(program) is None
    path = _write(tmp_path, (GOLDEN / case / "events.jsonl").read_text().splitlines())
    got, summary = _columnar(program, path)
    assert not summary.columnar
    assert got == _reference(program, path)
