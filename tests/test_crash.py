"""Crash recovery (promise 7): `incentive run --state` killed with SIGKILL anywhere.

A run is killed at random moments and started again, over and over, until it
finishes: the store then holds exactly the records and balances of a run that
was never interrupted, and passes SQLite's integrity check. The state, the
processed ids, the records and the input position are committed together, so
a restart carries on after the last commit and repeats nothing.

In CI: 50 kills on 657 events of the writing camp (ranks, boards, streaks,
grants, a roster), committed event by event, about a minute. The long run is
one command (docs/reliability.md):

    INCENTIVE_CRASH_KILLS=1000 python -m pytest tests/test_crash.py
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("INCENTIVE_CRASH_KILLS", "50"))
SCHEME = ROOT / "schemes" / "writing_camp.incentive"
ROSTER = ROOT / "schemes" / "writing_camp.roster.csv"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _command(store: Path, events: Path, every: int) -> list[str]:
    return [
        sys.executable, "-m", "incentive", "run", "--quiet", "--close",
        "--state", str(store), "--commit-every", str(every), "--roster", str(ROSTER),
        str(SCHEME), str(events),
    ]  # fmt: skip


def _stored(store: Path) -> tuple[list[bytes], list[tuple[str, bytes]], str]:
    """The store's records, member rows and integrity check, read as plain SQLite."""
    db = sqlite3.connect(store)
    try:
        records = [row[0] for row in db.execute("SELECT record FROM records ORDER BY seq")]
        members = list(db.execute("SELECT member, state FROM members ORDER BY member"))
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        return records, members, check
    finally:
        db.close()


@pytest.fixture(scope="module")
def camp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every tenth event of the writing camp: 657 events over three weeks."""
    lines = (ROOT / "schemes" / "writing_camp.events.jsonl").read_text(encoding="utf-8")
    folder = tmp_path_factory.mktemp("crash")
    events = folder / "camp.jsonl"
    events.write_text("".join(lines.splitlines(keepends=True)[::10]), encoding="utf-8")
    return events


def test_sigkill_at_random_points_then_restart_loses_and_doubles_nothing(
    tmp_path: Path, camp: Path
) -> None:
    reference = tmp_path / "reference.db"
    started = time.monotonic()
    done = subprocess.run(_command(reference, camp, 1), capture_output=True, check=False)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode()
    expected = _stored(reference)
    assert expected[2] == "ok" and len(expected[0]) > 2000
    # The same records as a run without a store (the file is in time order).
    plain_run = [sys.executable, "-m", "incentive", "run", "--quiet", "--roster", str(ROSTER)]
    plain = subprocess.run([*plain_run, str(SCHEME), str(camp)], capture_output=True, check=False)
    stored_run = [line for line in done.stdout.splitlines() if b'"kind":"balance"' not in line]
    assert sorted(stored_run) == sorted(
        line for line in plain.stdout.splitlines() if b'"kind":"balance"' not in line
    )

    draw = random.Random(int(os.environ.get("INCENTIVE_CRASH_SEED", "15")))
    kills = chains = midway = 0
    while kills < KILLS:
        chains += 1
        store = tmp_path / f"chain{chains}.db"
        every = draw.choice((1, 1, 7, 50))  # event by event, and in batches
        while True:
            process = subprocess.Popen(
                _command(store, camp, every), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            try:
                process.wait(timeout=draw.uniform(0.05, took))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                midway += _commits(store) > 1  # killed after some events were committed
                continue
            assert process.returncode == 0, process.stderr.read() if process.stderr else ""
            break
        records, members, check = _stored(store)
        assert check == "ok"
        assert records == expected[0], f"chain {chains}: the records differ"
        assert members == expected[1], f"chain {chains}: the members' state differs"
    print(f"{kills} kills ({midway} after some commits) in {chains} chains: 0 differences")
    assert midway >= KILLS // 3


def _commits(store: Path) -> int:
    if not store.exists():
        return 0
    db = sqlite3.connect(store)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'commits'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.OperationalError:
        return 0  # killed before the tables were made
    finally:
        db.close()
