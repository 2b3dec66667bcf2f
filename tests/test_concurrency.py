"""Concurrency (promises 1, 3 and 9): threads and processes against one store.

A live session serialises its callers (a lock in the process, the store's
write lock across processes, with a reload of what other writers committed),
so concurrent feeding and redeeming never overdraws a balance, never pays an
event id twice and never exceeds a cap, a limit or a budget. A plain `Session`
refuses a second thread with `SessionInUse` instead of corrupting its state.
Invariants are checked on the store's own records, the ledger of record.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

import incentive
from incentive.engine import SessionInUse
from incentive.live import open_live
from incentive.records import LEDGER_KINDS, Record

SCHEME = """
scheme "Busy group" {
  currency coins
  budget 40 per day

  rule chat {
    on message
    award 2
    cap 6 per day
  }

  rule post {
    on post
    award 5
    limit 2 per day
  }

  redeem spend {
    on redeem
    amount points
    minimum 1
  }
}
"""
MEMBERS = ("ana", "bo", "cy", "dee")


def _events(seed: int, count: int) -> list[dict[str, Any]]:
    """One day of chat, posts and redemptions; ids drawn from a shared pool, so that
    writers send the same events (a retried request) and sometimes spend together."""
    draw = random.Random(seed)
    events = []
    for _ in range(count):
        n = draw.randrange(300)
        kind = ("message", "message", "post", "redeem")[n % 4]
        event: dict[str, Any] = {
            "id": f"e{n}",
            "type": kind,
            "member": MEMBERS[(n // 4) % len(MEMBERS)],
            "at": f"2026-03-02T{8 + n // 60:02d}:{n % 60:02d}:00",
        }
        if kind == "redeem":
            event["points"] = 3 + n % 7
        events.append(event)
    return events


def _check(records: list[Record]) -> dict[str, int]:
    """Every promise on the ledger of record; the balances it adds up to."""
    balance: dict[str, int] = defaultdict(int)
    paid_ids: Counter[tuple[str, str | None]] = Counter()
    by_rule: Counter[tuple[str | None, str | None]] = Counter()
    total = 0
    for record in records:
        if record.kind not in LEDGER_KINDS:
            continue
        assert record.member is not None and record.points is not None
        balance[record.member] += record.points
        assert record.balance == balance[record.member]  # the ledger adds up
        assert balance[record.member] >= 0, f"overdraft: {record}"
        for event_id in record.events:
            paid_ids[(event_id, record.rule)] += 1
        if record.kind == "award":
            by_rule[(record.member, record.rule)] += record.points
            total += record.points
    assert all(n == 1 for n in paid_ids.values()), "an event was paid twice"
    for (_, rule), points in by_rule.items():
        assert points <= {"chat": 6, "post": 10}[rule or ""], "a cap or limit was exceeded"
    assert total <= 40, "the budget was exceeded"
    assert total == 40, "the budget should bind in these tests"
    return dict(balance)


def test_threads_sharing_one_live_session(tmp_path: Path) -> None:
    program = incentive.compile(SCHEME, "busy.incentive")
    live = open_live(program, tmp_path / "busy.db")
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for event in _events(seed, 150):
                live.feed(event)
        except BaseException as err:  # pragma: no cover - reported below
            failures.append(err)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    balances = _check([row.record for row in live.records()])
    assert {m: b["coins"] for m, b in live.balances().items()} == {
        m: balances.get(m, 0) for m in live.balances()
    }
    live.close()


def test_threads_with_their_own_live_sessions_on_one_store(tmp_path: Path) -> None:
    program = incentive.compile(SCHEME, "busy.incentive")
    path = tmp_path / "busy.db"
    open_live(program, path).close()
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            with open_live(program, path) as live:
                for event in _events(seed, 100):
                    live.feed(event)
        except BaseException as err:  # pragma: no cover - reported below
            failures.append(err)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with open_live(program, path) as live:
        balances = _check([row.record for row in live.records()])
        assert {m: b["coins"] for m, b in live.balances().items()} == {
            m: balances.get(m, 0) for m in live.balances()
        }


def _process(path: str, seed: int) -> None:
    program = incentive.compile(SCHEME, "busy.incentive")
    with open_live(program, path) as live:
        for event in _events(seed, 80):
            live.feed(event)
        live.feed_many(_events(seed + 100, 20))


def test_processes_feeding_and_redeeming_against_one_store(tmp_path: Path) -> None:
    program = incentive.compile(SCHEME, "busy.incentive")
    path = tmp_path / "busy.db"
    open_live(program, path).close()
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate services
    workers = [context.Process(target=_process, args=(str(path), seed)) for seed in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    with open_live(program, path) as live:
        records = [row.record for row in live.records()]
        balances = _check(records)
        assert {m: b["coins"] for m, b in live.balances().items()} == {
            m: balances.get(m, 0) for m in live.balances()
        }
        kinds = Counter(r.kind for r in records)
        assert kinds["duplicate"] and kinds["redeem"]  # ids sent twice; points spent
        refused = {r.rule for r in records if r.kind in ("refused", "cut")}
        assert {"chat", "post", "spend"} <= refused  # the cap, limit and balance were reached
        assert live.store.integrity() == "ok"  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_a_plain_session_refuses_a_second_thread(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = incentive.compile(SCHEME.replace("budget 40", "expire after 9 days\n  budget 40"))
    session = program.session(engine=engine)  # type: ignore[arg-type]
    inside, leave = threading.Event(), threading.Event()
    from incentive import ledger

    real = ledger.Ledger.post

    def post(self: Any, proposal: Any) -> Any:
        inside.set()
        leave.wait(10)
        return real(self, proposal)

    monkeypatch.setattr(ledger.Ledger, "post", post)
    first = threading.Thread(target=session.feed, args=(_events(1, 1)[0] | {"type": "post"},))
    first.start()
    assert inside.wait(10)
    with pytest.raises(SessionInUse, match="in use by another thread"):
        session.feed({"id": "x", "type": "post", "member": "bo", "at": "2026-03-02T09:00:00"})
    with pytest.raises(SessionInUse):
        session.close_all()
    leave.set()
    first.join()
    assert session.feed({"id": "y", "type": "post", "member": "bo", "at": "2026-03-02T09:00:00"})
