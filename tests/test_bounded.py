"""`simulate`, `compare` (and `compare --ab`) and `explain` on saved events hold what is
per member, per period and per rule, not every event or every record (issue 14).

The same members' activity at the same daily rate over 10 days (N = 4,000 events of
150 members) and over 40 days (4N): four times the events and the records, the same
members, the same open periods. Each command runs through the command line's Python
entry point on the compiled evaluator, and `tracemalloc` takes its peak.

What is bounded but not by the members, kept out of the way:
- the readers' and the compiled evaluator's caches of the minutes they have turned
  into UTC (events._MINUTES, at most 100,000; CompiledSession._minutes, 10,000) grow
  with the time covered: the times fall on 12 minutes a day, and a first run on the
  4N file fills the readers' caches before anything is measured;
- the encoding check decodes a megabyte at a time (`events.CHECK_BLOCK`), more than
  these files: made smaller here, or it alone would hide what grows with the events;
- input out of time order is sorted in runs of `runner.SORT_RUN` events: these files
  are in time order;
- `explain` keeps the member's own records: the member shown (`once`) is active once.

Measured, peak at 4N / peak at N (MB):

| command | before: events and records in lists | after: records spooled to disk |
|---|---|---|
| simulate | 4.74 / 17.13 = 3.62 | 1.72 / 1.88 = 1.09 |
| compare | 7.09 / 25.17 = 3.55 | 2.29 / 2.54 = 1.11 |
| compare --ab | 4.42 / 16.13 = 3.65 | 2.66 / 2.92 = 1.10 |
| explain | 4.74 / 17.13 = 3.62 | 1.72 / 1.89 = 1.10 |

The bound asserted is 1.3.
"""

from __future__ import annotations

import gc
import json
import random
import tempfile
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from clirun import invoke

from incentive.cli import load_program
from incentive.events import read_events
from incentive.records import Record, encode_lines
from incentive.runner import SpooledRecords, run_batch, run_batch_files

SCHEME = """\
scheme "Four-rule camp" {
  currency coins
  timezone "Asia/Shanghai"
  day ends 21:00

  events {
    homework(words: number)
    message()
  }

  rule homework { on homework where words >= 500 award 5 limit 1 per day }
  rule early { on homework top 3 per day by earliest award 5 }
  rule chat { on message award 1 cap 20 per day }
  rule streak { on homework streak per day at 3 award 10 at 7 award 20 }
}
"""

MEMBERS = 150
PER_DAY = 400  # events a day
DAYS = 10  # N = DAYS * PER_DAY events; 4N: four times the days


def _events(path: Path, days: int) -> Path:
    """camp4's activity (bench/gen.py), `PER_DAY` events a day of the same members over
    `days` days, in time order, at 12 minutes of each day; a bad line a day; and the
    member `once`, active once on the first day (`explain` keeps the member's records)."""
    rng = random.Random(7)
    serial = 0
    with path.open("w", encoding="utf-8") as out:
        for index in range(days):
            opening = datetime.combine(date(2026, 3, 1) + timedelta(days=index - 1), time(21))
            if index == 0:  # one member active once: what `explain` shows stays the same
                once = {"id": "once", "member": "once", "at": opening.isoformat()}
                out.write(json.dumps({**once, "type": "message"}) + "\n")
            drawn = (7200 * rng.randrange(12) + rng.randrange(60) for _ in range(PER_DAY))
            for second in sorted(drawn):
                serial += 1
                event: dict[str, object] = {
                    "id": f"e{serial}",
                    "member": f"m{int(MEMBERS * rng.random() ** 2)}",
                    "at": (opening + timedelta(seconds=second)).isoformat(),
                    "type": "message",
                }
                if rng.random() < 0.3:
                    event["type"], event["words"] = "homework", rng.randrange(200, 1200)
                out.write(json.dumps(event) + "\n")
            out.write("not json\n")
    return path


def _peak(*args: str) -> int:
    """Peak bytes traced while `incentive ARGS` runs (exit 0)."""
    gc.collect()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    code, output = invoke(*args)
    assert code == 0, output
    return tracemalloc.get_traced_memory()[1] - base


COMMANDS = {
    "simulate": ("simulate", "{a}", "{events}", "--quiet"),
    "compare": ("compare", "{a}", "{b}", "{events}"),
    "compare --ab": ("compare", "{a}", "{b}", "{events}", "--ab"),
    "explain": ("explain", "{a}", "{events}", "--member", "once"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_memory_is_bounded_by_members_not_events(
    tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the encoding check's blocks: smaller than these files (see above)
    monkeypatch.setattr("incentive.events.CHECK_BLOCK", 1 << 14, raising=False)
    a = tmp_path / "a.incentive"
    a.write_text(SCHEME, encoding="utf-8")
    b = tmp_path / "b.incentive"
    b.write_text(SCHEME.replace("award 1 cap 20", "award 2 cap 20"), encoding="utf-8")
    small = _events(tmp_path / "small.jsonl", DAYS)
    large = _events(tmp_path / "large.jsonl", 4 * DAYS)

    def args(events: Path) -> list[str]:
        filled = [part.format(a=a, b=b, events=events) for part in COMMANDS[command]]
        return [*filled, "--engine", "compiled"]

    tracemalloc.start()
    try:
        _peak(*args(large))  # imports, and the readers' caches of minutes (see above)
        at_n, at_4n = _peak(*args(small)), _peak(*args(large))
    finally:
        tracemalloc.stop()
    assert at_4n < 1.3 * at_n, f"{command}: {at_4n} bytes at 4N against {at_n} at N"


def test_spooled_records_read_back_every_record_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The records a report goes through are the run's, as often as it goes through them,
    two iterations at once included, and a line longer than the block read at a time."""
    monkeypatch.setattr(SpooledRecords, "BLOCK", 64)  # shorter than most lines
    records = [
        Record(kind="award", member=f"m{n}", rule="chat", points=n, currency="coins")
        for n in range(50)
    ] + [Record(kind="refused", member="long", reason="x" * 500)]
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - SpooledRecords closes it
    spool.write(encode_lines(records))
    balance = Record(kind="balance", member="m1", currency="coins", balance=1)
    end = spool.tell()
    spool.write(encode_lines([balance]))  # after the end given: not a record of the run
    spooled = SpooledRecords(spool, end, len(records))
    assert list(spooled) == records and spooled == records and records == spooled
    assert spooled != records[:-1] and records[1:] + records[:1] != spooled
    first, second = iter(spooled), iter(spooled)
    assert [next(first) for _ in range(3)] == records[:3]
    assert list(second) == records  # its own place in the file
    assert list(first) == records[3:]
    assert len(spooled) == 51 and spooled[-1] == records[-1] and spooled[10] == records[10]
    assert spooled[2:4] == records[2:4]
    with pytest.raises(IndexError):
        spooled[51]
    spooled.close()
    assert spool.closed


def test_a_run_from_files_reads_back_the_records_of_a_batch_run(tmp_path: Path) -> None:
    """`run_batch_files` on the compiled evaluator (records spooled, input out of order
    sorted on disk) gives `run_batch`'s records and balances."""
    a = tmp_path / "a.incentive"
    a.write_text(SCHEME, encoding="utf-8")
    events = _events(tmp_path / "events.jsonl", 3)
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    events.write_text("".join(reversed(lines)), encoding="utf-8")  # out of time order
    program = load_program(str(a))

    def read() -> Iterator[Any]:
        with events.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(events))

    expected = run_batch(program, list(read()), engine="compiled")
    result, summary = run_batch_files(program, None, read, engine="compiled")
    assert isinstance(result.records, SpooledRecords) and summary.resorted
    assert expected.records == result.records  # a list equals SpooledRecords of its records
    assert result.balances == expected.balances
    assert result.bad_events == expected.bad_events > 0
