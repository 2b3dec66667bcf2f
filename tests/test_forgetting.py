"""Event ids are remembered while their day is open, and forgotten when it closes.

docs/reference.md ("Duplicates and conflicts", "Late events"): ids are remembered
while their day is open, so that memory does not grow with the events; an event
re-sent after its day has closed is refused as `late`, never paid twice. These tests
hold every evaluator to that bound: the reference interpreter, the compiled
evaluator (`program.session()`), and the columnar plan, which carries from chunk to
chunk only the ids of the day still open (an audit found that making
`state.open_day` forget nothing failed no test but a docs example).
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import incentive
from incentive import columnar, runner
from incentive.columnar import reading, running
from incentive.engine import Session
from incentive.events import read_events

SCHEME = """
scheme "Forgetting" {
  timezone "Asia/Shanghai"
  rule checkin { on checkin award 5 }
  rule chat { on message award 1 cap 3 per day }
}
"""

# (id, type, member, local time): three days, a few ids each
FEED = [
    ("d1-a", "checkin", "ana", "2026-03-02T08:00:00"),
    ("d1-b", "message", "bo", "2026-03-02T09:00:00"),
    ("d1-c", "message", "ana", "2026-03-02T23:59:00"),
    ("d2-a", "checkin", "bo", "2026-03-03T00:00:00"),
    ("d2-b", "message", "cy", "2026-03-03T12:00:00"),
    ("d3-a", "checkin", "ana", "2026-03-04T07:00:00"),
    ("d3-b", "checkin", "cy", "2026-03-04T07:30:00"),
    ("d3-c", "message", "bo", "2026-03-04T21:00:00"),
]


def _event(event_id: str, kind: str, member: str, at: str) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "member": member, "at": at}


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
def test_only_the_open_days_ids_are_remembered(engine: str) -> None:
    """After every event, `state.seen` (and `seen_on`) hold the ids of the open day and
    nothing of the days that closed before it."""
    program = incentive.compile(SCHEME)
    session = program.session(engine=engine)  # type: ignore[arg-type]
    assert isinstance(session, Session) == (engine == "interpreter")
    for event_id, kind, member, at in FEED:
        records = session.feed(_event(event_id, kind, member, at))
        assert [r.kind for r in records] == ["award"]
        day = at[:10]
        open_ids = [i for i, _, _, when in FEED[: FEED.index((event_id, kind, member, at)) + 1]
                    if when[:10] == day]  # fmt: skip
        assert session.state.open_day is not None
        assert session.state.open_day.isoformat() == day
        assert sorted(session.state.seen) == sorted(open_ids)
        assert list(session.state.seen_on) == [day]


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
@pytest.mark.parametrize("resent", ["d1-a", "d1-c", "d2-b"])
def test_an_event_of_a_closed_day_sent_again_is_late_and_not_paid(engine: str, resent: str) -> None:
    """Sent again after its day closed, an event is `late` (not a `duplicate`: its id is
    forgotten), earns nothing, and is not kept once the next day opens."""
    program = incentive.compile(SCHEME)
    session = program.session(engine=engine)  # type: ignore[arg-type]
    for item in FEED:
        session.feed(_event(*item))
    before = session.balances()
    again = next(item for item in FEED if item[0] == resent)
    records = session.feed(_event(*again))
    assert [r.kind for r in records] == ["late"]
    assert records[0].reason == f"day {again[3][:10]} had closed when this event arrived"
    assert records[0].events == (resent,)
    assert session.balances() == before
    # the next day forgets it with the rest
    session.feed(_event("d4-a", "checkin", "ana", "2026-03-05T08:00:00"))
    assert sorted(session.state.seen) == ["d4-a"]
    assert session.balances()["ana"]["points"] == before["ana"]["points"] + 5


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
def test_a_repeat_on_the_open_day_is_still_a_duplicate(engine: str) -> None:
    """Forgetting is of closed days only: the open day's ids still catch a repeat."""
    program = incentive.compile(SCHEME)
    session = program.session(engine=engine)  # type: ignore[arg-type]
    for item in FEED:
        session.feed(_event(*item))
    records = session.feed(_event(*FEED[-1]))
    assert [r.kind for r in records] == ["duplicate"]


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
def test_memory_stays_bounded_over_many_days(engine: str) -> None:
    """Sixty days of twenty events each: at any time, the ids kept are one day's."""
    program = incentive.compile(SCHEME)
    session = program.session(engine=engine)  # type: ignore[arg-type]
    most = 0
    for day in range(60):
        for n in range(20):
            at = f"{date(2026, 4, 1) + timedelta(days=day)}T{n:02d}:00:00"
            session.feed(_event(f"e{day}-{n}", "message", f"m{n}", at))
            most = max(most, len(session.state.seen))
        assert len(session.state.seen) == 20
    assert most == 20
    assert sum(len(ids) for ids in session.state.seen_on.values()) == 20


def test_the_columnar_plan_carries_only_the_open_days_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in chunks of a few events, the plan carries from chunk to chunk the ids of
    the last day read (to catch a repeat across chunks), not every id so far: and its
    records are the interpreter's bytes."""
    program = incentive.compile(SCHEME)
    assert columnar.why_not(program) == []
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(_event(*item)) + "\n" for item in FEED), encoding="utf-8")
    carried: list[tuple[int | None, list[str]]] = []
    real = running._new_ids

    def watched(carry: Any, events: Any) -> bool:
        fresh = real(carry, events)
        ids = [] if carry.open_ids is None else sorted(carry.open_ids.to_list())
        carried.append((carry.open_day, ids))
        return fresh

    def read() -> Any:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    monkeypatch.setattr(reading, "BLOCK_BYTES", 150)  # about two events a chunk
    monkeypatch.setattr(running, "_new_ids", watched)
    out = io.BytesIO()
    summary = runner.run_files(program, [str(path)], read, out, engine="columnar")
    assert summary.columnar
    assert len(carried) >= 3
    by_day: dict[str, list[str]] = {}
    for event_id, _, _, at in FEED:
        by_day.setdefault(at[:10], []).append(event_id)
    for open_day, ids in carried:
        assert open_day is not None
        day = date.fromordinal(open_day).isoformat()
        assert set(ids) <= set(by_day[day]), (day, ids)
    assert carried[-1][1] == sorted(by_day["2026-03-04"])
    reference = io.BytesIO()
    runner.run_to(program, read, reference, engine="interpreter")
    assert out.getvalue() == reference.getvalue()
