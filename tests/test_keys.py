"""Counting per key and crediting the member an event names (issue 18): `once for
each album`, `limit 1 per day for each candidate`, `credit candidate`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import incentive
from incentive import columnar, runner
from incentive.diagnostics import SchemeError
from incentive.events import read_events

VOTES = """scheme "Class leader" {
  currency coins

  rule vote {
    on vote
    award 1
    limit 1 per day for each candidate
    limit 2 per day
    credit candidate
    cap 2 per day
  }
}
"""
ALBUMS = """scheme "Audio app" {
  events {
    subscribe(album: text)
  }

  rule new_album {
    on subscribe
    award 120
    once for each album
    limit 3 per day
  }
}
"""


def _records(text: str, events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(kind, member, points, reason) by both evaluators, which must agree."""
    program = incentive.compile(text)
    seen = []
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(events, engine=engine)  # type: ignore[arg-type]
        seen.append([r.to_json() for r in result.records])
    assert seen[0] == seen[1]
    result = program.evaluate(events, engine="interpreter")
    return [(r.kind, r.member, r.points, r.reason) for r in result.records]


SELF_VOTE = "`candidate` names the sender: no member is credited for their own event"


def _vote(i: int, voter: str, candidate: str | None, day: int = 2) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": str(i),
        "type": "vote",
        "member": voter,
        "at": f"2026-03-0{day}T10:0{i % 10}:00",
    }
    if candidate is not None:
        event["candidate"] = candidate
    return event


def test_votes_count_for_the_candidate_once_per_voter_and_candidate() -> None:
    events = [
        _vote(1, "ana", "xu"),
        _vote(2, "ana", "xu"),  # the same candidate again: the voter's limit per candidate
        _vote(3, "ana", "yi"),
        _vote(4, "ana", "zo"),  # a third vote: the voter's 2 per day
        _vote(5, "bo", "xu"),
        _vote(6, "cy", "xu"),  # the candidate's cap of 2 a day
        _vote(7, "xu", "xu"),  # a vote for oneself
        _vote(8, "bo", None),
        _vote(10, "ana", "xu", day=3),  # a new day: ana may vote for xu again
    ]
    assert _records(VOTES, events) == [
        ("award", "xu", 1, "rule `vote`: from `ana`"),
        ("refused", "xu", None, "limit 1 per day for each candidate reached: from `ana`"),
        ("award", "yi", 1, "rule `vote`: from `ana`"),
        ("refused", "zo", None, "limit 2 per day reached: from `ana`"),
        ("award", "xu", 1, "rule `vote`: from `bo`"),
        ("refused", "xu", 1, "cap 2 per day on rule `vote` reached"),
        ("refused", "xu", None, SELF_VOTE),
        ("refused", "bo", None, "the event has no `candidate`, which the rule's `credit` reads"),
        ("award", "xu", 1, "rule `vote`: from `ana`"),
    ]  # fmt: skip


def test_a_candidate_who_never_acted_has_a_balance() -> None:
    program = incentive.compile(VOTES)
    result = program.evaluate([_vote(1, "ana", "xu")])
    assert result.session.balance("xu") == 1
    assert result.session.balance("ana") == 0


def test_once_for_each_album_pays_every_new_album() -> None:
    events = [
        {"id": str(i), "type": "subscribe", "member": m, "at": f"2026-03-0{d}T10:00:00", **a}
        for i, (m, d, a) in enumerate(
            [
                ("ana", 2, {"album": "A1"}),
                ("ana", 3, {"album": "A1"}),
                ("ana", 3, {"album": "A2"}),
                ("bo", 3, {"album": "A1"}),
                ("bo", 4, {}),
            ]
        )
    ]
    assert _records(ALBUMS, events) == [
        ("award", "ana", 120, "rule `new_album`"),
        ("refused", "ana", None, "once for each album reached"),
        ("award", "ana", 120, "rule `new_album`"),
        ("award", "bo", 120, "rule `new_album`"),
        ("refused", "bo", None, "the event has no `album`, which the rule's limit counts by"),
    ]


def test_equal_numbers_are_one_key() -> None:
    text = ALBUMS.replace("album: text", "album: number")
    events = [
        {"id": "1", "type": "subscribe", "member": "a", "at": "2026-03-02T10:00:00", "album": 5},
        {"id": "2", "type": "subscribe", "member": "a", "at": "2026-03-02T11:00:00", "album": 5.0},
    ]
    assert [r[0] for r in _records(text, events)] == ["award", "refused"]


def test_the_formatter_keeps_the_clauses() -> None:
    assert incentive.fmt(VOTES) == VOTES
    assert incentive.fmt(ALBUMS) == ALBUMS


def _diagnostics(text: str) -> list[tuple[str, str]]:
    try:
        program = incentive.compile(text)
    except SchemeError as err:
        return [(d.code, d.message) for d in err.diagnostics]
    return [(d.code, d.message) for d in program.warnings]


def test_a_limit_for_each_value_alone_is_no_bound() -> None:
    text = ALBUMS.replace("    limit 3 per day\n", "")
    assert _diagnostics(text) == [
        ("W0301", "rule `new_album` can pay without limit: each new `album` pays again")
    ]


def test_limits_per_key_and_overall_of_one_period_are_two_limits() -> None:
    assert _diagnostics(VOTES) == []
    twice = VOTES.replace("limit 2 per day", "limit 2 per day for each candidate")
    assert _diagnostics(twice) == [
        ("E0214", "rule `vote` has two limits per day for each candidate")
    ]


@pytest.mark.parametrize(
    "clauses, expected",
    [
        (
            "award 1  credit who  credit whom",
            ("E0212", "rule `r` has more than one `credit` clause"),
        ),
        (
            "top 1 per day by count  award 5  credit who",
            ("E0229", "`credit` belongs to a rule that pays an `award` per event"),
        ),
        (
            "award 1  limit 1 per day  credit n",
            ("E0219", "`credit` needs text, but `n` is a number"),
        ),
    ],
)
def test_credit_errors(clauses: str, expected: tuple[str, str]) -> None:
    events = "events { vote(n: number, who: text, whom: text) }"
    text = f'scheme "s" {{ {events} rule r {{ on vote {clauses} }} }}'
    assert expected in _diagnostics(text)


def test_a_redemption_limit_is_not_per_value() -> None:
    text = 'scheme "s" { redeem gifts { on redeem  amount points  limit 1 per day for each gift } }'
    assert (
        "E0229",
        "a redemption's limit counts the member's redemptions, not `for each` value",
    ) in _diagnostics(text)


def test_the_columnar_plan_declines_credit_and_steps_keyed_limits(tmp_path: Path) -> None:
    """`credit` pays another member: the plan declines it. A limit per key is written by
    the loop's own step inside the plan: the same bytes as the interpreter."""
    assert columnar.why_not(incentive.compile(VOTES)) == ["rule `vote`: `credit`"]
    program = incentive.compile(ALBUMS)
    assert columnar.why_not(program) == []
    albums = ["a", "b", "a", "c", "d", "b", "e"]
    path = tmp_path / "subscribe.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"s{i}",
                    "type": "subscribe",
                    "member": "ana",
                    "at": f"2026-03-0{2 + i // 5}T10:0{i}:00",
                    "album": album,
                }
            )
            + "\n"
            for i, album in enumerate(albums)
        ),
        encoding="utf-8",
    )

    def read() -> Any:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    outs = []
    for engine in ("interpreter", "columnar"):
        out = io.BytesIO()
        summary = runner.run_files(program, [str(path)], read, out, engine=engine)
        outs.append(out.getvalue())
    assert summary.columnar and outs[0] == outs[1]
    assert b"once for each album reached" in outs[0] and b"limit 3 per day reached" in outs[0]
