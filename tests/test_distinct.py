"""Invites counted honestly (issue 18): `milestone distinct invitee` counts each
friend once, for the first member who invited them; re-inviting a friend,
inviting oneself or inviting someone already brought in counts nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import incentive
from incentive import columnar, runner
from incentive.events import read_events

PREMIUM = """scheme "Referral growth" {
  events {
    invite(invitee: text)
  }

  rule premium {
    on invite
    milestone distinct invitee
    at 2 award 10
    at 3 perk "premium group"
  }

  rule weekly {
    on invite
    milestone distinct invitee per week
    at 1 award 1
  }
}
"""


def _both(text: str, events: list[dict[str, Any]]) -> list[Any]:
    """The records of both evaluators, which must agree."""
    program = incentive.compile(text)
    seen = []
    for engine in ("interpreter", "compiled"):
        result = program.evaluate(events, engine=engine)  # type: ignore[arg-type]
        seen.append([r.to_json() for r in result.records])
    assert seen[0] == seen[1]
    return list(program.evaluate(events, engine="interpreter").records)


def _invite(i: int, member: str, invitee: str | None, day: int = 2) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"i{i}",
        "type": "invite",
        "member": member,
        "at": f"2026-03-{day:02d}T10:{i % 60:02d}:00",
    }
    if invitee is not None:
        event["invitee"] = invitee
    return event


def test_only_friends_nobody_brought_in_before_count() -> None:
    events = [
        _invite(1, "ana", "n1"),
        _invite(2, "ana", "n1"),  # again
        _invite(3, "ana", "ana"),  # herself
        _invite(4, "bo", "n1"),  # ana's friend
        _invite(5, "ana", "n2"),
        _invite(6, "ana", "n3"),
    ]
    records = [r for r in _both(PREMIUM, events) if r.rule == "premium"]
    assert [(r.kind, r.member, r.events[0]) for r in records] == [
        ("refused", "ana", "i2"),
        ("refused", "ana", "i3"),
        ("refused", "bo", "i4"),
        ("award", "ana", "i5"),
        ("perk", "ana", "i6"),
    ]
    assert [r.reason for r in records[:3]] == [
        "`invitee` `n1` already counted for this member",
        "`invitee` names the member itself: it does not count",
        "`invitee` `n1` already counted for `ana`",
    ]


def test_a_friend_counted_last_week_does_not_count_again() -> None:
    events = [_invite(1, "ana", "n1", day=2), _invite(2, "ana", "n1", day=10)]
    weekly = [r for r in _both(PREMIUM, events) if r.rule == "weekly"]
    assert [(r.kind, r.events[0]) for r in weekly] == [("award", "i1"), ("refused", "i2")]


def test_a_missing_or_blank_invitee_is_refused() -> None:
    events = [_invite(1, "ana", None), _invite(2, "ana", " ")]
    premium = [r for r in _both(PREMIUM, events) if r.rule == "premium"]
    assert [r.reason for r in premium] == [
        "the event has no `invitee`, which the milestone counts"
    ] * 2


def test_the_formatter_keeps_the_clause() -> None:
    assert incentive.fmt(PREMIUM) == PREMIUM


def test_the_columnar_plan_writes_the_interpreters_bytes(tmp_path: Path) -> None:
    """The plan hands `milestone distinct` to the loop's own step, one pass over every
    member in time order (a friend is claimed across members): the same bytes."""
    program = incentive.compile(PREMIUM)
    assert columnar.why_not(program) == []
    # ana brings n1, n2 and at last n9 (premium); between, everyone re-invites, themselves too
    draws = [("ana", "n1", 2), ("bo", "n1", 2), ("ana", "n2", 3), ("ana", "ana", 3)]
    draws += [(MEMBERS[i % 3], FRIENDS[(i * 5) % 6], 4 + i // 3) for i in range(24)]
    draws += [("ana", "n9", 13)]
    path = tmp_path / "invites.jsonl"
    path.write_text(
        "".join(json.dumps(_invite(i, *draw)) + "\n" for i, draw in enumerate(draws)),
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
    assert b'"code":"already_counted"' in outs[0] and b'"perk":"premium group"' in outs[0]


MEMBERS = ("ana", "bo", "cy")
FRIENDS = ("ana", "bo", "n1", "n2", "n3", "n4")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(MEMBERS), st.sampled_from(FRIENDS), st.integers(2, 20)),
        max_size=25,
    )
)
def test_counts_match_a_brute_force_oracle(draws: list[tuple[str, str, int]]) -> None:
    """Each member's count is the friends they named first (in time order, then file
    order), not themselves; the weekly count is those first named in each week."""
    draws = sorted(draws, key=lambda d: d[2])  # stable: same day keeps the drawn order
    events = [_invite(i, member, friend, day) for i, (member, friend, day) in enumerate(draws)]
    records = _both(PREMIUM, events)
    first: dict[str, str] = {}
    counted: dict[str, list[int]] = {m: [] for m in MEMBERS}
    for member, friend, day in draws:
        if friend != member and friend not in first:
            first[friend] = member
            counted[member].append(day)
    for member in MEMBERS:
        paid = [r for r in records if r.member == member and r.rule == "premium"]
        assert sum(1 for r in paid if r.kind == "award") == (len(counted[member]) >= 2)
        assert sum(1 for r in paid if r.kind == "perk") == (len(counted[member]) >= 3)
        weeks = {(day - 2) // 7 for day in counted[member]}  # 2 March 2026 is a Monday
        weekly = [r for r in records if r.member == member and r.rule == "weekly"]
        assert sum(1 for r in weekly if r.kind == "award") == len(weeks)
    refused = [r for r in records if r.kind == "refused" and r.rule == "premium"]
    assert len(refused) == len(draws) - sum(len(days) for days in counted.values())
