"""Time of day and weekday in conditions (issue 18): `where weekday is saturday`,
`where hour between 20 and 22`, read from the event's time in the scheme's zone."""

from __future__ import annotations

from typing import Any

import pytest

import incentive
from incentive import columnar
from incentive.diagnostics import SchemeError


def _scheme(where: str, head: str = "", extra: str = "") -> str:
    return (
        f'scheme "clock" {{\n  currency coins\n  timezone "Asia/Shanghai"\n  {head}\n'
        f"  rule r {{ on message where {where} award 1 }}\n  {extra}\n}}\n"
    )


def _awarded(text: str, events: list[dict[str, Any]]) -> list[list[str]]:
    """The members awarded, by the interpreter and by the compiled evaluator."""
    program = incentive.compile(text)
    found = []
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(events, engine=engine)  # type: ignore[arg-type]
        found.append([r.member for r in result.records if r.kind == "award"])
    return found


def _at(*times: str) -> list[dict[str, Any]]:
    return [{"type": "message", "member": f"m{i}", "at": t} for i, t in enumerate(times)]


def test_hour_between_includes_both_ends_on_the_local_clock() -> None:
    events = _at(
        "2026-03-06T19:59:00", "2026-03-06T20:00:00", "2026-03-06T22:59:59", "2026-03-06T23:00:00"
    )
    interpreted, compiled = _awarded(_scheme("hour between 20 and 22"), events)
    assert interpreted == compiled == ["m1", "m2"]


def test_hour_is_read_in_the_scheme_zone_from_an_offset_time() -> None:
    # 12:30 UTC is 20:30 in Shanghai
    interpreted, compiled = _awarded(_scheme("hour == 20"), _at("2026-03-06T12:30:00Z"))
    assert interpreted == compiled == ["m0"]


def test_weekday_is_the_scheme_day_so_it_follows_day_ends() -> None:
    # 2026-03-06 is a Friday; with `day ends 21:00` Friday 21:30 belongs to Saturday
    events = _at("2026-03-06T20:30:00", "2026-03-06T21:30:00", "2026-03-07T21:30:00")
    text = _scheme("weekday is saturday", head="day ends 21:00")
    interpreted, compiled = _awarded(text, events)
    assert interpreted == compiled == ["m1"]
    text = _scheme("weekday is not saturday", head="day ends 21:00")
    assert _awarded(text, events)[0] == ["m0", "m2"]


def test_weekday_in_a_list_and_in_a_boost() -> None:
    text = _scheme('weekday in ["saturday", "sunday"]')
    events = _at("2026-03-06T10:00:00", "2026-03-07T10:00:00", "2026-03-08T10:00:00")
    assert _awarded(text, events) == [["m1", "m2"], ["m1", "m2"]]
    boosted = _scheme("true", extra="boost night { times 2 where hour >= 20 }")
    program = incentive.compile(boosted)
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(_at("2026-03-06T10:00:00", "2026-03-06T21:00:00"), engine=engine)  # type: ignore[arg-type]
        assert [r.points for r in result.records if r.kind == "award"] == [1, 2]


def test_an_event_attribute_of_the_same_name_does_not_change_the_clock() -> None:
    events = [{"type": "message", "member": "a", "at": "2026-03-06T21:00:00", "hour": 3}]
    assert _awarded(_scheme("hour == 21"), events) == [["a"], ["a"]]


def test_the_formatter_keeps_between_and_is_as_written() -> None:
    text = _scheme("hour between 20 and 22 and weekday is friday")
    printed = incentive.fmt(text)
    assert "where hour between 20 and 22 and weekday is friday" in printed
    assert incentive.fmt(printed) == printed


def test_words_between_is_any_number_range() -> None:
    text = _scheme("words between 500 and 2000")
    events = [
        {"type": "message", "member": m, "at": "2026-03-06T10:00:00", "words": w}
        for m, w in (("a", 499), ("b", 500), ("c", 2000), ("d", 2001))
    ]
    assert _awarded(text, events) == [["b", "c"], ["b", "c"]]


def _codes(text: str) -> list[tuple[str, str]]:
    with pytest.raises(SchemeError) as raised:
        incentive.compile(text)
    return [(d.code, d.message) for d in raised.value.diagnostics]


def test_a_misspelt_weekday_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(SchemeError) as raised:
        incentive.compile(_scheme("weekday is satruday"))
    (problem,) = raised.value.diagnostics
    assert problem.code == "E0205"
    assert problem.message == "unknown weekday `satruday`"
    assert "did you mean `saturday`?" in problem.hints
    assert _codes(_scheme('weekday in ["sunday", "Monday"]')) == [
        ("E0205", "unknown weekday `Monday`")
    ]


def test_hour_is_a_number_and_weekday_text() -> None:
    assert [c for c, _ in _codes(_scheme('hour == "20"'))] == ["E0219"]
    assert [c for c, _ in _codes(_scheme("weekday > 3"))] == ["E0219"]


def test_clock_names_cannot_be_declared_or_be_teams() -> None:
    declared = _scheme("true", head="events { message(hour: number) }")
    assert _codes(declared) == [("E0209", "`hour` is already an attribute of every event")]
    team = _scheme("true", head="team weekday")
    assert _codes(team) == [("E0209", "`weekday` is already an attribute of every event")]


def test_only_schemes_that_read_the_clock_compute_it() -> None:
    assert incentive.compile(_scheme("true")).clock == ()
    assert incentive.compile(_scheme("hour > 1 and weekday is monday")).clock == ("hour", "weekday")


def test_the_columnar_plan_declines_the_clock() -> None:
    program = incentive.compile(_scheme("hour > 1"))
    assert "a condition on the time of day or the weekday" in columnar.why_not(program)
