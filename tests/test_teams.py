"""Teams, boards, perks and rosters: what the checker refuses, how rosters are read."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

import incentive
from incentive.cli import main as cli


def codes(body: str) -> list[str]:
    try:
        program = incentive.compile(f'scheme "t" {{ {body} }}')
    except incentive.SchemeError as err:
        return [d.code for d in err.diagnostics]
    return [d.code for d in program.warnings]


@pytest.mark.parametrize(
    "body,code",
    [
        ("team class rule r { on a top 1 klass per day by count award 5 }", "E0233"),
        ("rule r { on a top 1 per day by rate award 5 }", "E0234"),
        ("team class rule r { on a class per day by points award 5 }", "E0101"),
        ("board b { on a }", "E0235"),
        ('rule r { on a award 5 perk "x" limit 1 per day }', "E0236"),
        ('rule r { on a perk "x" }', "E0236"),
        ("rule r { on a top 1 per day by count }", "E0211"),
        ("rule r { top 1 per day by count award 5 }", "E0210"),
        ("team class, class", "E0209"),
        # `by reached` names a streak or milestone rule, takes no `on`, ranks teams
        ("team class board b { class per day by reached r } rule r { on a award 1 }", "E0229"),
        (
            "team class board b { on a class per day by reached r } "
            "rule r { on a streak per day at 2 award 1 }",
            "E0229",
        ),
        ("board b { per day by reached r } rule r { on a milestone count at 2 award 1 }", "E0234"),
    ],
)
def test_checker_refuses(body: str, code: str) -> None:
    assert code in codes(body)


def test_unknown_team_suggests_the_near_name() -> None:
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.compile(
            'scheme "t" { team class  rule r { on a top 1 clas per day by count award 5 } }'
        )
    assert "did you mean `class`?" in caught.value.render()


@pytest.mark.parametrize(
    "body",
    [
        "team class board b { class per day by points }",
        "board b { top 10 per week by points }",
        'team class rule r { top 1 class per season by points perk "top class" }',
        'rule r { on a streak per day at 7 badge "week" every 30 award 10 }',
        'rule r { on a milestone count at 10 perk "premium group" }',
        'team city rule r { on a where city == "wuhan" award 1 limit 1 per day }',
    ],
)
def test_checker_accepts(body: str) -> None:
    text = f'scheme "t" {{ season 2026-03-02 to 2026-03-22 {body} }}'
    program = incentive.compile(text)
    assert incentive.fmt(incentive.fmt(text)) == incentive.fmt(text)
    assert program.rules


def test_a_team_from_the_roster_wins_over_the_event_attribute() -> None:
    program = incentive.compile(
        'scheme "t" { team class  rule r { on a where class == "red" award 1 limit 1 per day } }'
    )
    roster = incentive.read_roster(io.StringIO("member,class\nana,red\n"))
    events = [
        {"type": "a", "member": "ana", "at": "2026-03-02T10:00", "class": "blue"},
        {"type": "a", "member": "bo", "at": "2026-03-02T10:00", "class": "red"},
        {"type": "a", "member": "cy", "at": "2026-03-02T10:00"},
    ]
    paid = [r.member for r in program.evaluate(events, roster=roster).records if r.kind == "award"]
    assert paid == ["ana", "bo"]


def test_an_event_attribute_moves_a_member_who_is_not_on_the_roster() -> None:
    program = incentive.compile(
        'scheme "t" { team city  rule best { on a top 1 city per day by active award 1 } }'
    )
    events = [
        {"type": "a", "member": "m1", "at": "2026-03-02T10:00", "city": "x"},
        {"type": "a", "member": "m2", "at": "2026-03-02T11:00", "city": "y"},
        {"type": "a", "member": "m1", "at": "2026-03-02T12:00", "city": "y"},
    ]
    records = program.evaluate(events).records
    assert [(r.member, r.team) for r in records if r.kind == "rank"] == [
        ("m1", "y"),
        ("m2", "y"),
    ]


@pytest.mark.parametrize(
    "text,fmt,message,line",
    [
        ("name,class\nana,red\n", "csv", "no `member` column", 1),
        ("member,class\nana,red\nana,blue\n", "csv", "member `ana` is listed twice", 3),
        ("member,class\nana,red,extra\n", "csv", "expected 2 columns, found 3", 2),
        ("member,member\nana,bo\n", "csv", "repeats column `member`", 1),
        ("- member: ana\n  class: red\n- class: blue\n", "yaml", "has no `member`", 3),
        ("# teams\n\n- member: ana\n- member: bo\n\n- member: ana\n", "yaml", "listed twice", 6),
        ("member: ana\n", "yaml", "a YAML roster is a list", 1),
    ],
)
def test_a_bad_roster_is_refused_naming_the_row(
    text: str, fmt: str, message: str, line: int
) -> None:
    with pytest.raises(incentive.InputError) as caught:
        incentive.read_roster(io.StringIO(text), "camp.roster", fmt)
    assert message in caught.value.render()
    assert caught.value.render().startswith(f"camp.roster:{line}:")


def test_a_yaml_roster_reads_like_a_csv_one() -> None:
    yaml_roster = incentive.read_roster(
        io.StringIO("- member: ana\n  class: red\n- {member: 7, class: blue}\n"), "r.yaml", "yaml"
    )
    csv_roster = incentive.read_roster(io.StringIO("member,class\nana,red\n7,blue\n"))
    assert yaml_roster == csv_roster
    assert csv_roster.teams("class") == {"ana": "red", "7": "blue"}


def test_cli_roster_errors_exit_1_and_missing_roster_exits_2(tmp_path: Path) -> None:
    scheme = tmp_path / "s.incentive"
    scheme.write_text('scheme "t" { team class  rule r { on a award 1 limit 1 per day } }')
    events = tmp_path / "e.jsonl"
    events.write_text('{"type": "a", "member": "ana", "at": "2026-03-02T10:00"}\n')
    bad = tmp_path / "r.csv"
    bad.write_text("who,class\nana,red\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["run", str(scheme), str(events), "--roster", str(bad)])
    assert result.exit_code == 1 and "no `member` column" in result.output
    result = runner.invoke(
        cli, ["run", str(scheme), str(events), "--roster", str(tmp_path / "none.csv")]
    )
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(cli, ["run", str(scheme), str(events), "--only", "bord"])
    assert result.exit_code == 2 and "did you mean `board`?" in result.output


@pytest.mark.parametrize(
    "board",
    [
        "board b { on homework  group per day by missing }",
        "board b { on homework  where chars >= 500  group per day by count }",
        "board b { on homework, checkin  group per season by points  each day }",
    ],
)
def test_a_team_named_group_after_on_or_where_in_a_board(board: str) -> None:
    """`group` is a keyword (a rule's `group shared`); after an event name or a
    condition in a board it can only be the team kind (issue 18's parse bug)."""
    text = f'scheme "s" {{ season 2026-03-02 to 2026-03-08  team group  {board} }}'
    program = incentive.compile(text)
    (rule,) = program.rules
    assert rule.rank is not None and rule.rank.team == "group"
    assert incentive.compile(incentive.fmt(text)).rules == program.rules


def test_a_keyword_that_is_a_real_syntax_error_still_is_one() -> None:
    assert codes("rule r { on a award 5 limit group }") == ["E0101"]


def test_by_reached_accepts_a_streak_or_milestone_rule_before_or_after_it() -> None:
    streak = 'rule r { on a streak per day at 2 badge "two" }'
    board = "board b { class per season by reached r }"
    assert codes(f"team class season 2026-03-02 to 2026-03-08 {board} {streak}") == []
    assert codes(f"team class season 2026-03-02 to 2026-03-08 {streak} {board}") == []
