"""The streaming session against the hand loop: `python bench/feed.py [--events N]`.

One process, the same first N events of (a)'s camp4 file (bench/gen.py, cached in
bench/.data/), each measured in turn, `--runs` times, best CPU time kept (on a shared
machine the best run is the one least disturbed):

- hand loop: bench/handloop.py's `run` over the lines (decoding them with orjson) and
  writing its records to /dev/null: the yardstick of docs/performance.md;
- Session.feed: `program.session()` fed the events already decoded to dicts, one at a
  time, then `close_all()`, as bench/run.py's "library: Session.feed" row;
- reading: the part of `feed` that turns a dict into an Event (events._plain_event);
- without handlers: `feed` with every generated handler replaced by one that does
  nothing: reading, the lock, the checkpoint test, the dispatch and the journal;
- collector off: `feed` with the garbage collector switched off (the difference to
  `feed` is the collector's time, best of the runs);
- garbage collector: the share of `feed`'s time the collector took (gc.callbacks).

The decoded events are frozen (`gc.freeze`) before anything is measured: they stand
for what a caller hands `feed` one at a time, and the collector need not walk them.

Prints events per second of CPU and the ratio of `feed` to the hand loop (issue 14's
target for the compiled loop alone: >= 1.0). Latest figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

import incentive
from bench import gen, handloop
from incentive.events import _plain_event


def best_cpu(job: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        job()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="the first N of the file")
    parser.add_argument("--file-events", type=int, default=1_000_000, help="(a)'s file size")
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = gen.camp4_file(args.file_events, args.members, args.days)
    with open(path, "rb") as stream:
        lines = list(itertools.islice(stream, args.events))
    items = [orjson.loads(line) for line in lines]
    # The decoded events are the benchmark's, held only to leave decoding out: frozen out
    # of the collector's sight (a bot holds one at a time), else every full collection
    # walks all of them and `feed` is charged for it (15 % of its time on 100,000 events)
    gc.freeze()
    count = len(items)
    program = incentive.compile(gen.CAMP4_SCHEME.read_text(encoding="utf-8"), "camp4")
    calendar = program.calendar

    def hand() -> None:
        with open(os.devnull, "wb") as out:
            handloop.run(lines, out)

    def feed() -> None:
        session = program.session()
        take = session.feed
        for item in items:
            take(item)
        session.close_all()

    def read() -> None:
        for number, item in enumerate(items, start=1):
            _plain_event(item, calendar, "<input>", number)

    def bare() -> None:
        session = program.session()
        # a new dict: the program's own is shared by every session it opens
        session._handlers = dict.fromkeys(session._handlers, lambda s, event: [])  # type: ignore[union-attr]
        take = session.feed
        for item in items:
            take(item)

    def quiet() -> None:
        gc.disable()
        try:
            feed()
        finally:
            gc.enable()

    collecting = [0.0, 0.0]  # seconds spent collecting, when the current one started

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting[1] = time.perf_counter()
        else:
            collecting[0] += time.perf_counter() - collecting[1]

    rows = [("hand loop (lines -> records written)", best_cpu(hand, args.runs))]
    rows.append(("Session.feed (dicts -> records)", best_cpu(feed, args.runs)))
    rows.append(("  of which reading (dict -> Event)", best_cpu(read, args.runs)))
    rows.append(("  feed without handlers", best_cpu(bare, args.runs)))
    rows.append(("  feed, collector off", best_cpu(quiet, args.runs)))
    gc.callbacks.append(timer)
    start = time.perf_counter()
    feed()
    share = collecting[0] / (time.perf_counter() - start)
    gc.callbacks.remove(timer)
    print(f"{path.name}: the first {count:,} events, best CPU time of {args.runs} runs")
    for name, seconds in rows:
        print(
            f"{name:<40} {count / seconds:>10,.0f} events/s  {seconds / count * 1e6:6.1f} µs/event"
        )
    print(f"{'  of which the garbage collector':<40} {share:>10.0%} of feed's time (one run)")
    print(f"Session.feed / hand loop: {rows[0][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
