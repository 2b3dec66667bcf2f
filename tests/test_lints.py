"""Checks before go-live across rules: never fires (W0308), pays twice (W0309),
a cap that can never bind (W0310)."""

from __future__ import annotations

import pytest

import incentive


def warnings(body: str) -> list[str]:
    return [d.code for d in incentive.compile(f'scheme "t" {{ {body} }}').warnings]


@pytest.mark.parametrize(
    "body,code",
    [
        ("rule a { on x where words > 500 and words < 300 award 1 limit 1 per day }", "W0308"),
        ("rule a { on x where words > 5 and words <= 5 award 1 limit 1 per day }", "W0308"),
        ("rule a { on x where 300 > words and words >= 300 award 1 limit 1 per day }", "W0308"),
        ('rule a { on x where c == "a" and c == "b" award 1 limit 1 per day }', "W0308"),
        ("rule a { on x where n == 3 and n > 4 award 1 limit 1 per day }", "W0308"),
        ("rule a { on x where false award 1 limit 1 per day }", "W0308"),
        (
            "rule a { on x award 1 limit 1 per day } rule b { on x award 2 limit 1 per day }",
            "W0309",
        ),
        (
            "rule a { on x where n > 1 award 1 limit 1 per day }"
            " rule b { on x where n > 1 award 2 limit 1 per day }",
            "W0309",
        ),
        ("rule a { on x award 5 limit 1 per day cap 20 per day }", "W0310"),
        (
            "group g { cap 20 per day }"
            " rule a { on x award 5 limit 2 per day group g }"
            " rule b { on y award 5 limit 2 per day group g }",
            "W0310",
        ),
    ],
)
def test_go_live_warnings(body: str, code: str) -> None:
    assert code in warnings(body)


@pytest.mark.parametrize(
    "body",
    [
        "rule a { on x where words >= 5 and words <= 5 award 1 limit 1 per day }",
        "rule a { on x where words > 5 or words < 3 award 1 limit 1 per day }",
        'rule a { on x where c == "a" and d == "b" award 1 limit 1 per day }',
        "rule a { on x where n > 1 award 1 limit 1 per day }"
        " rule b { on x where n > 2 award 2 limit 1 per day }",
        "rule a { on x award 1 limit 1 per day } rule b { on x award 1 xp limit 1 per day }",
        "rule a { on x award 5 limit 5 per day cap 20 per day }",
        "rule a { on x award words limit 1 per day cap 20 per day }",
        "group g { cap 20 per day }"
        " rule a { on x award 5 limit 2 per day group g } rule b { on y award 5 group g }",
    ],
)
def test_no_false_alarm(body: str) -> None:
    header = "currency points, xp " if "xp" in body else ""
    program = incentive.compile(f'scheme "t" {{ {header}{body} }}')
    found = [d.code for d in program.warnings if d.code in ("W0308", "W0309", "W0310")]
    assert found == []


def test_the_worked_schemes_raise_none_of_them() -> None:
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parent.parent / "schemes").glob("*.incentive")):
        codes = {d.code for d in incentive.load(path).warnings}
        assert not codes & {"W0308", "W0309", "W0310"}, path.name


def test_a_limit_in_the_member_s_own_weeks_does_not_bound_a_calendar_cap() -> None:
    """2 a week from the member's start can be 4 in one calendar week (the end of one own
    week and the start of the next): a group's cap of 12 a calendar week can bind."""
    text = (
        'scheme "s" {\n  group chat { cap 12 per week }\n'
        "  rule r { on c periods from first s award 5 limit 2 per week group chat }\n}\n"
    )
    codes = [d.code for d in incentive.compile(text).warnings]
    assert "W0310" not in codes
    # the rule's own cap counts in the same own weeks as its limit: 2 x 5 never reach 12
    own = (
        'scheme "s" {\n'
        "  rule r { on c periods from first s award 5 limit 2 per week cap 12 per week }\n}\n"
    )
    assert "W0310" in [d.code for d in incentive.compile(own).warnings]
