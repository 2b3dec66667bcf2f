"""The store (incentive/store.py) and live sessions (incentive/live.py).

Promises 1, 6 and 8 of the reliability list (docs/reliability.md): a session
kept in a store, committed event by event or batch by batch and reopened at
any point, gives the very records of a session that never stopped, and the
store holds exactly its state after every commit; an event id is paid once
across restarts, the same id with other content is refused; an event whose
evaluation fails, and a write that fails (full disk, I/O error), leave no
trace and a sound store.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiled import menu_events, menu_schemes

import incentive
from incentive.codec import encode_state
from incentive.live import LiveSession, open_live
from incentive.records import LEDGER_KINDS, Record
from incentive.runner import open_session
from incentive.store import SQLiteStore, StoreError


def slow(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _lines(records: list[Record]) -> list[str]:
    return [r.to_json() for r in records]


def _stored_state(path: Path) -> Any:
    store = SQLiteStore(path)
    try:
        snapshot = store.load()
        assert snapshot is not None
        assert store.integrity() == "ok"
        return snapshot.state
    finally:
        store.close()


@slow(50)
@given(
    text=menu_schemes(),
    events=menu_events(),
    cuts=st.lists(st.integers(1, 8), min_size=1, max_size=12),
    reopen=st.lists(st.booleans(), min_size=12, max_size=12),
    engine=st.sampled_from(("compiled", "interpreter")),
)
def test_a_stored_session_reopened_anywhere_gives_the_records_of_one_that_never_stopped(
    text: str,
    events: list[dict[str, Any]],
    cuts: list[int],
    reopen: list[bool],
    engine: str,
) -> None:
    program = incentive.compile(text, "menu.incentive")
    reference = open_session(program, engine=engine)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="yourown-store-") as folder:
        path = Path(folder) / "menu.db"
        live = open_live(program, path, engine=engine, horizon=None)  # type: ignore[arg-type]
        got: list[Record] = []
        expected: list[Record] = []
        start, step = 0, 0
        while start < len(events):
            size = cuts[step % len(cuts)]
            batch = events[start : start + size]
            got += live.feed(batch[0]) if size == 1 else live.feed_many(batch)
            expected += [r for e in batch for r in reference.feed(e)]
            start += size
            # The store holds exactly the session's state after every commit.
            assert encode_state(_stored_state(path)) == encode_state(reference.state)
            if reopen[step % len(reopen)]:
                live.close()
                live = open_live(program, path, engine=engine, horizon=None)  # type: ignore[arg-type]
            step += 1
        got += live.close_all()
        expected += reference.close_all()
        assert _lines(got) == _lines(expected)
        assert _lines(live.balance_records()) == _lines(reference.balance_records())
        assert _lines([row.record for row in live.records()]) == _lines(expected)
        live.close()


@slow(40)
@given(
    text=menu_schemes(),
    events=menu_events(late=False),
    again=st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), max_size=30),
    restarts=st.lists(st.integers(0, 80), max_size=4),
)
def test_an_event_id_is_paid_at_most_once_across_restarts(
    text: str,
    events: list[dict[str, Any]],
    again: list[tuple[int, bool]],
    restarts: list[int],
) -> None:
    """Promise 1: re-send about half of the past events, some altered, across restarts:
    a re-sent id never pays, and one with other content is refused (`conflict`)."""
    program = incentive.compile(text, "menu.incentive")
    with tempfile.TemporaryDirectory(prefix="yourown-once-") as folder:
        path = Path(folder) / "once.db"
        live = open_live(program, path)
        sent: list[dict[str, Any]] = []
        kept: dict[str, dict[str, Any]] = {}  # id -> the content the store remembers
        stream: list[tuple[dict[str, Any], bool]] = [(e, False) for e in events]
        for index, (pick, altered) in enumerate(again):
            stream.insert(min(len(stream), (pick % (len(stream) + 1))), ({"again": index}, altered))
        for position, (event, altered) in enumerate(stream):
            if position in restarts:
                live.close()
                live = open_live(program, path)
            resent = "again" in event
            if resent:
                if not sent:
                    continue
                event = dict(sent[event["again"] % len(sent)])
                if altered:
                    event["member"] = "someone else"
            remembered = event["id"] in live.state.seen  # seen, and its day is still open
            records = live.feed(event)
            kinds = {r.kind for r in records}
            if remembered:  # never paid again; other content is refused
                same = kept[event["id"]] == event
                assert kinds == {"duplicate" if same else "conflict"}, records
            elif event["id"] in live.state.seen:
                kept[event["id"]] = event
            if resent:
                assert not kinds & LEDGER_KINDS, records  # a re-sent event never pays
            elif "quarantined" not in kinds and all(e["id"] != event["id"] for e in sent):
                sent.append(event)  # the first content processed under this id
        live.close()


SHOP = """
scheme "Shop" {
  currency coins
  expire after 30 days

  rule checkin {
    on checkin
    award 50
    limit 1 per day
  }

  redeem coupon {
    on redeem
    amount points
    minimum 100
  }
}
"""

DAYS = [
    {"id": f"c{day}", "type": "checkin", "member": member, "at": f"2026-03-{day:02d}T08:00:00"}
    for day in range(2, 9)
    for member in ("ana", "bo")
] + [{"id": "r1", "type": "redeem", "member": "ana", "at": "2026-03-08T09:00:00", "points": 100}]


def _ids(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "id": f"{e['id']}-{e['member']}"} for e in events]


def _clean_run(program: Any, events: list[dict[str, Any]]) -> list[str]:
    session = open_session(program)
    return _lines([r for e in events for r in session.feed(e)])


def test_an_event_whose_evaluation_fails_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = incentive.compile(SHOP, "shop.incentive")
    events = _ids(DAYS)
    live = open_live(program, tmp_path / "shop.db")
    live.feed_many(events[:5])
    commits, stored = live.commits, live.records()

    from incentive import ledger

    real = ledger.Ledger.post

    def post(self: Any, proposal: Any) -> Any:
        if "boom" in proposal.events:
            raise RuntimeError("a bug in the middle of paying")
        return real(self, proposal)

    monkeypatch.setattr(ledger.Ledger, "post", post)
    boom = {"id": "boom", "type": "checkin", "member": "cy", "at": "2026-03-04T09:00:00"}
    with pytest.raises(RuntimeError):
        live.feed(boom)
    with pytest.raises(RuntimeError):
        live.feed_many([events[5], boom])  # the good event of the batch is not kept either
    assert live.commits == commits and live.records() == stored
    assert "boom" not in live.state.seen and "cy" not in live.state.members
    monkeypatch.setattr(ledger.Ledger, "post", real)
    got = [r for e in events[5:] for r in live.feed(e)]
    assert _lines(got) == _clean_run(program, events)[len(_clean_run(program, events[:5])) :]
    live.close()


class _Failing:
    """A connection that fails from its `fail_at`-th write on: a disk that breaks."""

    def __init__(
        self, real: sqlite3.Connection, fail_at: int, message: str, once: bool = False
    ) -> None:
        self._real, self._count, self._fail_at, self._message = real, 0, fail_at, message
        self._once = once

    def _check(self, sql: str) -> None:
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb in ("INSERT", "DELETE", "UPDATE", "COMMIT"):
            self._count += 1
            if self._count == self._fail_at or (self._count > self._fail_at and not self._once):
                raise sqlite3.OperationalError(self._message)

    def execute(self, sql: str, *params: Any) -> Any:
        self._check(sql)
        return self._real.execute(sql, *params)

    def executemany(self, sql: str, rows: Any) -> Any:
        self._check(sql)
        return self._real.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self._real.in_transaction

    def close(self) -> None:
        self._real.close()


@pytest.mark.parametrize("message", ["disk I/O error", "database or disk is full"])
def test_a_failed_write_at_every_point_stops_cleanly_and_keeps_the_store_sound(
    tmp_path: Path, message: str
) -> None:
    """Promise 8: fail the storage at every write of a run, from then on; each time
    the run stops with a clear error, the store passes its integrity check, holds
    exactly the commits before the failure, and a restart finishes the run exactly."""
    program = incentive.compile(SHOP, "shop.incentive")
    events = _ids(DAYS)
    expected = _clean_run(program, events)
    points = 0
    for fail_at in range(4, 200):
        path = tmp_path / f"fail{fail_at}.db"
        open_live(program, path).close()  # a store with its scheme, written cleanly

        def connect(*args: Any, fail_at: int = fail_at, **kwargs: Any) -> Any:
            return _Failing(sqlite3.connect(*args, **kwargs), fail_at, message)

        live = LiveSession(program, SQLiteStore(path, connect=connect))
        done, failure = 0, None
        try:
            for event in events:
                live.feed(event)
                done += 1
        except StoreError as err:
            failure = str(err)
        if failure is None:
            live.close()
            break  # the failure point is beyond the run: every point was tried
        points += 1
        assert "could not be written" in failure
        assert "nothing of this event or batch was kept" in failure
        with pytest.raises(StoreError, match=r"cannot be read back|could not be written"):
            live.feed(events[done])  # a broken store stays stopped
        live.close()
        resumed = open_live(program, path)
        assert resumed.store.integrity() == "ok"  # type: ignore[attr-defined]
        assert _lines([row.record for row in resumed.records()]) == _clean_run(
            program, events[:done]
        )
        rest = [r for e in events[done:] for r in resumed.feed(e)]
        assert _lines([row.record for row in resumed.records()]) == expected
        assert len(rest) == len(expected) - len(_clean_run(program, events[:done]))
        resumed.close()
    print(f"{message}: {points} failure points tried, 0 corruptions")
    assert points >= 20


def test_a_full_disk_stops_with_a_clear_error(tmp_path: Path) -> None:
    program = incentive.compile(SHOP, "shop.incentive")
    path = tmp_path / "small.db"
    open_live(program, path).close()
    pages = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    live = LiveSession(program, SQLiteStore(path, max_page_count=pages + 1))
    many = [
        {"id": f"x{i}", "type": "checkin", "member": f"m{i}" * 50, "at": "2026-03-02T08:00:00"}
        for i in range(2000)
    ]
    with pytest.raises(StoreError, match=r"disk .* is full"):
        for event in many:
            live.feed(event)
    live.close()
    resumed = open_live(program, path)
    assert resumed.store.integrity() == "ok"  # type: ignore[attr-defined]
    kept = len(resumed.records())
    assert 0 < kept < 2000 and len(resumed.balances()) == kept
    resumed.close()


def test_a_store_remembers_its_scheme_and_names_what_changed(tmp_path: Path) -> None:
    program = incentive.compile(SHOP, "shop.incentive")
    path = tmp_path / "shop.db"
    with open_live(program, path) as live:
        live.feed_many(_ids(DAYS)[:4])
    renamed = incentive.compile(
        SHOP.replace("currency coins", "currency gems").replace("rule checkin", "rule daily"),
        "shop.incentive",
    )
    with pytest.raises(StoreError) as refused:
        open_live(renamed, path)
    message = str(refused.value)
    assert "currency `coins` removed or renamed" in message
    assert "rule `checkin` removed or renamed" in message
    assert "rule `daily` added" in message
    assert "--on-change carry" in message
    with open_live(renamed, path, on_change="carry") as carried:
        assert carried.changes[0].startswith("currency `coins`")
    with open_live(renamed, path) as again:  # carried over: the store now names the new one
        assert again.balance("ana-c2".split("-")[0]) == 0


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not an incentive store"):
        SQLiteStore(junk)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('format', 'something else')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not an incentive store"):
        SQLiteStore(other)


def test_the_store_is_wal_with_full_sync_and_a_unique_event_id(tmp_path: Path) -> None:
    program = incentive.compile(SHOP, "shop.incentive")
    with open_live(program, tmp_path / "s.db") as live:
        live.feed(DAYS[0])
        db = live.store._db  # type: ignore[attr-defined]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO processed VALUES (?, 'x', '2026-03-02')", (DAYS[0]["id"],))


def test_a_bot_queries_balance_history_level_leaderboard_and_explain(tmp_path: Path) -> None:
    program = incentive.compile(SHOP, "shop.incentive")
    with open_live(program, tmp_path / "bot.db") as live:
        live.feed_many(_ids(DAYS)[:-1])
        spent = live.redeem("ana", 100, id="r1", at="2026-03-08T09:00:00")
        assert [(r.kind, r.points) for r in spent] == [("redeem", -100)]
        assert live.redeem("ana", 100, id="r1", at="2026-03-08T09:00:00")[0].kind == "duplicate"
        assert live.balance("ana") == 250 and live.balance("bo") == 350
        assert live.leaderboard() == [("bo", 350), ("ana", 250)]
        assert [r.kind for r in live.history("ana", limit=2)] == ["redeem", "duplicate"]
        assert live.level("ana") is None  # the scheme has no levels
        explained = live.explain("ana")
        assert explained["balances"] == {"coins": 250}
        assert explained["records"][0]["reason"] == "rule `checkin`"


def test_an_event_far_ahead_is_quarantined_instead_of_moving_the_clock(tmp_path: Path) -> None:
    """A mistyped year in a live session: quarantined with its own record, and every
    later real event is still on time (the issue: one event dated 2062 made every
    later event `late` for good)."""
    program = incentive.load("docs/examples/club.incentive")
    with open_live(program, tmp_path / "club.db") as live:
        live.feed({"id": "c1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"})
        typo = {"id": "c2", "type": "checkin", "member": "bo", "at": "2062-03-02T09:00:00"}
        held = live.feed(typo)
        assert [(r.kind, r.reason) for r in held] == [
            (
                "quarantined",
                "2062-03-02T09:00:00+01:00 is more than 1 day after the latest event "
                "(2026-03-02T08:00:00+01:00): quarantined, not evaluated",
            )
        ]
        fixed = live.feed({**typo, "at": "2026-03-02T09:00:00"})  # the same id, corrected
        assert [r.kind for r in fixed] == ["award"]
        # Time moved on by a timer: the next day's events are within the horizon.
        from datetime import UTC, datetime

        live.advance_to(datetime(2026, 3, 4, 0, 0, tzinfo=UTC))
        later = live.feed(
            {"id": "c3", "type": "checkin", "member": "ana", "at": "2026-03-04T20:00"}
        )
        assert [r.kind for r in later] == ["award"]
    with open_live(program, tmp_path / "open.db", horizon=None) as free:
        free.feed({"id": "c1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"})
        assert [r.kind for r in free.feed(typo)] == ["award"]


def test_a_write_that_fails_once_is_retried_by_the_caller_and_nothing_is_doubled(
    tmp_path: Path,
) -> None:
    """Storage that fails once, at every write of a run in turn: the call fails with a
    clear error and changes nothing; the caller sends the same event again, and the
    run ends with exactly the uninterrupted records."""
    program = incentive.compile(SHOP, "shop.incentive")
    events = _ids(DAYS)
    expected = _clean_run(program, events)
    tried = 0
    for fail_at in range(2, 200):  # write 1 is the store's own opening commit
        path = tmp_path / f"once{fail_at}.db"
        open_live(program, path).close()

        def connect(*args: Any, fail_at: int = fail_at, **kwargs: Any) -> Any:
            return _Failing(sqlite3.connect(*args, **kwargs), fail_at, "disk I/O error", once=True)

        live = LiveSession(program, SQLiteStore(path, connect=connect))
        failed = False
        for event in events:
            try:
                live.feed(event)
            except StoreError:
                failed = True
                live.feed(event)  # the caller's retry
        assert _lines([row.record for row in live.records()]) == expected
        live.close()
        if not failed:
            break
        tried += 1
    print(f"a failure once: {tried} points tried, 0 differences")
    assert tried >= 20
