"""`run --jobs N` on the compiled evaluator, measured: `python bench/split.py [--events N]`.

schemes/member_day.incentive (expiry, redeem blocks: no columnar plan, each member's
state their own) on a seeded generated file (cached under bench/.data/): by default
1M events of 20,000 members over 90 days, in time order, with a few re-sent lines.
Runs `incentive run SCHEME EVENTS --out FILE --quiet --jobs N` as a subprocess for
each N (1, 2, 3 by default; `--repeat` times each, the best kept), checks that every
N wrote the same bytes, and prints events per second (wall) and CPU seconds (the run
and its workers). Figures: docs/performance.md, "--jobs on the compiled evaluator".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gen

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "schemes" / "member_day.incentive"

KINDS = (
    ("checkin", 30, {}),
    ("quiz", 25, {"correct": (True, True, False)}),
    ("topic", 15, {"words": (20, 60, 80, 150)}),
    ("trial", 3, {}),
    ("blind_box", 7, {}),
    ("redeem", 5, {"points": (50, 100, 150, 200, 500)}),
)


def member_day_lines(events: int, members: int, days: int = 90, seed: int = 11) -> Iterator[str]:
    """`events` events of `members` members over `days` days from 1 March 2026, local
    Shanghai times in order (a member's activity skewed, as `gen` skews it), one line in
    two hundred re-sent."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1)
    per_day = events // days
    weights = [kind[1] for kind in KINDS]
    serial = 0
    for day in range(days):
        count = per_day if day < days - 1 else events - per_day * (days - 1)
        seconds = sorted(rng.randrange(86400) for _ in range(count))
        for second in seconds:
            kind, _, attributes = rng.choices(KINDS, weights)[0]
            event: dict[str, object] = {
                "id": f"e{serial}",
                "type": kind,
                "member": f"u{gen._skewed(rng, members)}",
                "at": (start + timedelta(days=day, seconds=second)).isoformat(),
            }
            for name, values in attributes.items():
                event[name] = rng.choice(values)
            line = json.dumps(event, ensure_ascii=False) + "\n"
            serial += 1
            yield line
            if serial % 200 == 0:
                yield line  # a re-sent line: a duplicate


def events_file(events: int, members: int, days: int = 90, seed: int = 11) -> Path:
    path = gen.DATA / f"member_day-e{events}-m{members}-d{days}-s{seed}.jsonl"
    if not path.exists():
        gen._write(path, member_day_lines(events, members, days, seed))
    return path


def measure(events: Path, jobs: int, out: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the run and its workers) and the output's digest."""
    command = [sys.executable, "-m", "incentive", "run", str(SCHEME), str(events)]
    command += ["--out", str(out), "--quiet", "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1) or "one process" in done.stderr:
        raise SystemExit(f"--jobs {jobs}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    events = events_file(args.events, args.members)
    lines = sum(1 for _ in events.open("rb"))
    out = gen.DATA / f"split-records-{os.getpid()}.jsonl"
    digests = set()
    print(f"{SCHEME.name}: {lines:,} lines, {args.members:,} members, {os.cpu_count()} cores")
    try:
        for jobs in args.jobs:
            runs = [measure(events, jobs, out) for _ in range(args.repeat)]
            wall, cpu, digest = min(runs)
            digests.add(digest)
            print(
                f"--jobs {jobs}: {wall:6.2f} s wall  {lines / wall:9,.0f} events/s  "
                f"{cpu:6.2f} s CPU"
            )
    finally:
        out.unlink(missing_ok=True)
    if len(digests) != 1:
        raise SystemExit("the runs wrote different records")
    print("every --jobs value wrote the same bytes")


if __name__ == "__main__":
    main()
