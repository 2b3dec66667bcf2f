"""Scheme versions and dry runs (promises 17 and 18).

- 17: `replay` (and `incentive replay --state`) feeds the input a store kept to a
  fresh session in memory: under the scheme that wrote the store it gives the
  very records and balances the store holds, and it writes nothing (the store
  is opened read-only; its file is byte-identical afterwards).
- 18: every stored record names the fingerprint of the scheme that paid it;
  after the scheme is changed (carried over), re-sent events are never paid
  again, and the records from then on name the new version.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clirun import invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiled import menu_events, menu_schemes

import incentive
from incentive.live import open_live, replay, scheme_fingerprint
from incentive.records import LEDGER_KINDS

ROOT = Path(__file__).resolve().parent.parent
CLUB = ROOT / "docs" / "examples" / "club.incentive"
EVENTS = ROOT / "docs" / "examples" / "club.events.jsonl"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=menu_schemes(),
    events=menu_events(),
    size=st.integers(1, 9),
    ticks=st.lists(st.integers(0, 12 * 24), max_size=3),
    close=st.booleans(),
)
def test_a_replay_under_the_same_scheme_gives_the_stored_ledger_and_writes_nothing(
    text: str, events: list[dict[str, Any]], size: int, ticks: list[int], close: bool
) -> None:
    program = incentive.compile(text, "menu.incentive")
    with tempfile.TemporaryDirectory(prefix="yourown-replay-") as folder:
        path = Path(folder) / "menu.db"
        with open_live(program, path) as live:
            for start in range(0, len(events), size):
                live.feed_many(events[start : start + size])
                if ticks and start // size < len(ticks):  # a timer moves time on
                    live.advance_to(datetime(2026, 3, 1) + timedelta(hours=ticks[start // size]))
            if close:
                live.close_all()
            stored = [row.record.to_json() for row in live.records()]
            balances = live.balances()
        before = _digest(path)
        again = replay(path, program)
        assert [r.to_json() for r in again.replayed.records] == stored
        assert again.replayed.balances == balances
        assert again.changes == []
        assert _digest(path) == before  # a dry run: 0 writes


def test_a_replay_under_a_new_version_shows_the_difference_per_rule_and_member(
    tmp_path: Path,
) -> None:
    store = tmp_path / "club.db"
    code, _ = invoke("run", "--quiet", "--state", str(store), str(CLUB), str(EVENTS))
    assert code == 0
    looser = tmp_path / "club.incentive"
    looser.write_text(
        CLUB.read_text(encoding="utf-8").replace("cap 3 per day", "cap 5 per day"),
        encoding="utf-8",
    )
    before = _digest(store)
    code, output = invoke("replay", "--state", str(store), str(looser))
    assert code == 0
    assert output.splitlines() == [
        "the scheme differs from the one that wrote the store:",
        "  - rule `chat` changed",
        "points per rule (stored -> replayed):",
        "  chat (points): 4 -> 5 (+1)",
        "  checkin (points): 10 -> 10 (+0)",
        "members: 1 gain, 0 lose, 1 unchanged",
        "  bo (points): 8 -> 9 (+1)",
        "a dry run: nothing was written",
    ]
    assert _digest(store) == before
    code, output = invoke("replay", "--state", str(tmp_path / "none.db"), str(looser))
    assert code == 2 and "no such store" in output


def test_records_name_the_scheme_that_paid_them_and_a_new_version_pays_nothing_twice(
    tmp_path: Path,
) -> None:
    old = incentive.load(CLUB)
    text = CLUB.read_text(encoding="utf-8")
    new = incentive.compile(text.replace("award 5", "award 7"), "club.incentive")
    events = [
        {"id": f"c{day}-{m}", "type": "checkin", "member": m, "at": f"2026-03-0{day}T08:00:00"}
        for day in (2, 3)
        for m in ("ana", "bo")
    ]
    with open_live(old, tmp_path / "club.db") as live:
        live.feed_many(events)
    with open_live(new, tmp_path / "club.db", on_change="carry") as live:
        again = live.feed_many(events)  # the platform re-sends everything after the upgrade
        assert not {r.kind for r in again} & LEDGER_KINDS
        fresh = live.feed(
            {"id": "c4", "type": "checkin", "member": "ana", "at": "2026-03-03T09:00:00"}
        )
        assert [r.kind for r in fresh] == ["refused"]  # the day's limit carried over
        later = live.feed(
            {"id": "c5", "type": "checkin", "member": "ana", "at": "2026-03-04T09:00:00"}
        )
        assert [(r.kind, r.points) for r in later] == [("award", 7)]
        versions = [(row.record.kind, row.scheme) for row in live.records()]
    assert versions[:4] == [("award", scheme_fingerprint(old))] * 4
    assert versions[-1] == ("award", scheme_fingerprint(new))
    assert scheme_fingerprint(old) != scheme_fingerprint(new)
    # Layout and comments are not the scheme: the fingerprint stays.
    spaced = incentive.compile("# a comment\n" + text.replace("\n", "\n\n"), "other.incentive")
    assert scheme_fingerprint(spaced) == scheme_fingerprint(old)


def test_renames_carry_limits_caps_and_balances_over(tmp_path: Path) -> None:
    """The issue: renaming a rule reset its limit (a member paid twice the same day) and
    renaming the currency showed every balance as 0. With renames, neither."""
    text = CLUB.read_text(encoding="utf-8")
    old = incentive.load(CLUB)
    new = incentive.compile(
        text.replace("rule chat", "rule messages").replace("currency points", "currency stars"),
        "club.incentive",
    )
    chat = [
        {
            "id": f"m{i}",
            "type": "message",
            "member": "bo",
            "at": f"2026-03-02T10:0{i}:00",
            "words": 9,
        }
        for i in range(4)
    ]
    for renames, paid in (({"chat": "messages", "points": "stars"}, 0), (None, 1)):
        store = tmp_path / f"club{paid}.db"
        with open_live(old, store) as live:
            live.feed_many(chat[:3])  # the day's cap of 3 is reached
        with open_live(new, store, on_change="carry", renames=renames) as live:
            records = live.feed(chat[3])
            assert sum(r.points or 0 for r in records if r.kind == "award") == paid
            if renames:
                assert [(r.kind, r.reason) for r in records] == [
                    ("refused", "cap 3 per day on rule `messages` reached")
                ]
                assert live.balance("bo") == 3  # in stars now
                assert live.changes == [
                    "currency `points` renamed to `stars`",
                    "rule `chat` renamed to `messages`",
                    "rule `checkin` changed",  # it pays in stars now
                ]
    with pytest.raises(incentive.StoreError, match="renames go with a changed scheme"):
        open_live(new, tmp_path / "club0.db", on_change="carry", renames={"nope": "messages"})
    code, output = invoke(
        "run", "--state", str(tmp_path / "club1.db"), "--on-change", "carry",
        "--rename", "chat=nothing", str(CLUB), str(EVENTS),
    )  # fmt: skip
    assert code == 2 and "rename chat=nothing: `chat` must be a rule, redeem" in output
