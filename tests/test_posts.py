"""Chat-ready posts (issue 18): boards written as the text an officer pastes into a
group, from the board records alone (`incentive run --post`, `render_posts`)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import incentive
from incentive import columnar
from incentive.cli import main as cli
from incentive.posts import UnknownBoard, render_posts

# Berlin: 29 March 2026 is a daylight saving day (02:00 -> 03:00). The season's last
# day is 31 March. g3 is on the roster and nobody in it acts; dee joins on 30 March.
SCHEME = """scheme "Camp" {
  timezone "Europe/Berlin"
  season 2026-03-28 to 2026-03-31
  team group

  rule homework {
    on homework
    award 5
    limit 1 per day
  }

  board groups {
    group per season by points
    each day
    post "Day {day}: coins so far ({count} groups)" line "#{rank} {name}: {value}"
  }

  board rate {
    on homework
    group per day by rate
    post "Handed in today" line "{rank}. {team} {percent}"
  }

  board not_yet {
    on homework
    group per day by missing
    post "Not yet ({count})" line "{team} - {members}" join " / "
  }

  board early {
    on homework
    top 1 per day by earliest
    post "{date} {time}: yesterday's first" at 2:30
  }
}
"""
ROSTER = "member,group\nana,g1\nbo,g1\ncy,g2\ng3-x,g3\n"


def _events() -> list[dict[str, Any]]:
    rows = [
        ("e1", "ana", "2026-03-28T09:00:00"),
        ("e2", "cy", "2026-03-28T09:00:00"),
        ("e3", "bo", "2026-03-29T10:00:00"),
        ("e4", "ana", "2026-03-29T11:00:00"),
        ("e5", "dee", "2026-03-30T08:00:00"),
        ("e6", "cy", "2026-03-31T23:00:00"),
    ]
    events = [{"id": i, "type": "homework", "member": m, "at": at} for i, m, at in rows]
    events[4]["group"] = "g2"  # dee joins g2 mid-season
    return events


def _run(text: str = SCHEME) -> tuple[incentive.Program, list[incentive.Record]]:
    program = incentive.compile(text)
    roster = incentive.read_roster(io.StringIO(ROSTER))
    seen = []
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(_events(), roster=roster, engine=engine)  # type: ignore[arg-type]
        seen.append([r.to_json() for r in result.records])
    assert seen[0] == seen[1]
    return program, list(program.evaluate(_events(), roster=roster).records)


def test_the_nightly_post_of_each_day() -> None:
    program, records = _run()
    posts = render_posts(program, records, ["groups", "rate", "not_yet"])
    assert [p.at for p in posts] == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",  # the DST day closes at midnight summer time
        "2026-03-31T00:00:00+02:00",
        "2026-04-01T00:00:00+02:00",  # the season's last day
    ]
    assert posts[0].text == "\n\n".join(
        [
            # a tie at 5: g1 and g2 reached it at the same time, then by name;
            # g3, on the roster, acted never: 0
            "Day 2026-03-28: coins so far (3 groups)\n#1 g1: 5\n#2 g2: 5\n#3 g3: 0",
            "Handed in today\n1. g2 100.0%\n2. g1 50.0%\n3. g3 0.0%",
            "Not yet (2)\ng1 - bo\ng3 - g3-x",
        ]
    )
    # dee joins g2 on the 30th: listed from then on, and g2's rate counts dee
    assert posts[2].text.endswith("Not yet (4)\ng1 - ana / bo\ng2 - cy\ng3 - g3-x")
    assert "1. g2 50.0%" in posts[2].text
    # the last day: the season's final board; g1 and g2 tie at 15, g1 reached it first
    assert posts[3].text.startswith("Day 2026-03-31: coins so far (3 groups)\n#1 g1: 15\n#2 g2")
    assert posts[3].boards == ("groups", "rate", "not_yet")


def test_a_post_at_a_time_the_clocks_skip_goes_out_when_they_resume() -> None:
    program, records = _run()
    posts = render_posts(program, records, ["early"])
    assert [p.at for p in posts] == [
        "2026-03-29T03:30:00+02:00",  # 02:30 does not exist on the DST day
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
        "2026-04-01T02:30:00+02:00",
    ]
    assert posts[0].text == "2026-03-29 03:30: yesterday's first\n1. ana"
    day = render_posts(program, records, ["early"], day=posts[1].at[:10])  # type: ignore[arg-type]
    assert day == []  # a date, not text: nothing matches
    from datetime import date

    assert render_posts(program, records, ["early"], date(2026, 3, 30)) == [posts[1]]


def test_a_day_when_nobody_is_missing_has_the_heading_alone() -> None:
    text = SCHEME.replace("season 2026-03-28 to 2026-03-31", "season 2026-03-28 to 2026-03-28")
    program = incentive.compile(text)
    events = [
        {"id": f"e{i}", "type": "homework", "member": m, "at": "2026-03-28T09:00:00", "group": "g"}
        for i, m in enumerate(["ana", "bo"])
    ]
    records = program.evaluate(events).records
    assert render_posts(program, records, ["not_yet"]) == []  # no record says when
    (post,) = render_posts(program, records, ["groups", "not_yet"])
    assert post.text.endswith("\n\nNot yet (0)")


def test_posts_change_no_record() -> None:
    bare = "\n".join(line for line in SCHEME.splitlines() if "post " not in line)
    assert _run(bare)[1] == _run()[1]


def test_the_columnar_plan_does_not_decline_a_post() -> None:
    text = """scheme "s" {
  rule r { on a top 3 per day by count  award 5 }
  board b { on a top 3 per day by count%s }
}
"""
    # the columnar plan writes board lines (issue 14); a post adds no reason to decline
    assert columnar.why_not(incentive.compile(text % "")) == []
    assert columnar.why_not(incentive.compile(text % '  post "Top"')) == []


def test_an_unknown_board_is_refused() -> None:
    program, records = _run()
    with pytest.raises(UnknownBoard, match="`grups` is not a board"):
        render_posts(program, records, ["grups"])


def test_the_formatter_keeps_the_clause() -> None:
    assert incentive.fmt(SCHEME) == SCHEME


def _codes(board: str) -> list[tuple[str, str]]:
    text = f'scheme "s" {{ season 2026-03-02 to 2026-03-08  team group  {board} }}'
    try:
        incentive.compile(text)
    except incentive.SchemeError as err:
        return [(d.code, d.message) for d in err.diagnostics]
    return []


@pytest.mark.parametrize(
    "clause,expected",
    [
        (
            'post "x" line "{rank} {group}"',
            ("E0249", "the post's line cannot be written: `{group}` is not a placeholder here"),
        ),
        ('post "{rank}"', ("E0249", "the post's heading cannot be written: `{rank}`")),
        ('post "x" line "{rank"', ("E0249", "the post's line cannot be written")),
        ('post "x" line "{value:>5}"', ("E0249", "the post's line cannot be written")),
        ('post "x" join ", "', ("E0249", "`join` goes between the members of a team")),
        ('post "x" at 25:00', ("E0204", "`25:00` is not a time of day")),
        ('post "x"  post "y"', ("E0212", "rule `b` has more than one `post` clause")),
    ],
)
def test_post_errors(clause: str, expected: tuple[str, str]) -> None:
    (found,) = _codes(f"board b {{ group per season by points  {clause} }}")
    assert found[0] == expected[0] and found[1].startswith(expected[1]), found


def test_a_missing_board_has_its_own_placeholders() -> None:
    board = 'board b {{ on a  group per day by missing  post "x" line "{line}" join "、" }}'
    assert _codes(board.format(line="{team}: {members} ({count})")) == []
    assert _codes(board.format(line="{rank}"))[0][0] == "E0249"


def _cli(tmp_path: Path, *options: str) -> Any:
    scheme, events, roster = tmp_path / "s.incentive", tmp_path / "e.jsonl", tmp_path / "r.csv"
    scheme.write_text(SCHEME, encoding="utf-8")
    events.write_text("".join(json.dumps(e) + "\n" for e in _events()), encoding="utf-8")
    roster.write_text(ROSTER, encoding="utf-8")
    arguments = ["run", str(scheme), str(events), "--roster", str(roster), "--quiet", *options]
    return CliRunner().invoke(cli, arguments)


def test_cli_prints_the_posts(tmp_path: Path) -> None:
    program, records = _run()
    every = _cli(tmp_path, "--post", "groups,not_yet")
    assert every.exit_code == 0, every.output
    posts = render_posts(program, records, ["groups", "not_yet"])
    blocks = every.output.rstrip("\n").split("\n\n== ")
    assert len(blocks) == len(posts)
    assert blocks[0] == "== 2026-03-29 00:00 ==\n" + posts[0].text
    one = _cli(tmp_path, "--post", "groups,not_yet", "--post-day", "2026-03-30")
    assert one.output == posts[1].text + "\n"


@pytest.mark.parametrize(
    "options,message",
    [
        (("--post", "grups"), "`grups` is not a board of the scheme (did you mean `groups`?)"),
        (("--post", "groups", "--format", "table"), "--post prints chat posts"),
        (("--post", "groups", "--post-day", "30 March"), "is not a date"),
        (("--post-day", "2026-03-30"), "--post-day goes with --post"),
    ],
)
def test_cli_post_errors(tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    result = _cli(tmp_path, *options)
    assert result.exit_code == 2 and message in result.output, result.output
