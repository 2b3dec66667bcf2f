"""Seeded generators of the benchmark's inputs, cached under bench/.data/.

    python bench/gen.py camp4 --events 1000000 --members 20000   # prints the path

- camp4: events for bench/camp4.incentive (homework with `words`, messages),
  time-ordered JSON Lines over `days` camp days;
- camp: events (homework, grants) and a roster for schemes/writing_camp.incentive,
  in its 21-day season, with classes and groups scaled to the members;
- big_scheme: a scheme of about N lines (camp4's rules, repeated and renamed),
  for parse + check timings.

The same parameters always give byte-identical files (one `random.Random`,
no clock, no set iteration), so a cached file is named by its parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
ROOT = HERE.parent
CAMP4_SCHEME = HERE / "camp4.incentive"
CAMP_SCHEME = ROOT / "schemes" / "writing_camp.incentive"

# camp4's first camp day; with `day ends 21:00` the day named D runs from D-1 21:00.
CAMP4_FIRST_DAY = date(2026, 3, 1)
# writing_camp.incentive's season (2026-03-02 to 2026-03-22).
CAMP_FIRST_DAY = date(2026, 3, 2)
CAMP_DAYS = 21
DAY_SECONDS = 86_400


def _skewed(rng: random.Random, members: int) -> int:
    """A member index: half the activity spread evenly, half on a busy few.

    The busy few are what makes `cap 20 per day` and `limit 1 per day` refuse
    something every day; u**3 gives the first handful hundreds of events a day.
    """
    if rng.random() < 0.5:
        return rng.randrange(members)
    return int(members * rng.random() ** 3)


def _day_opening(name: date) -> datetime:
    """The local instant a camp day named `name` opens (`day ends 21:00`)."""
    return datetime.combine(name - timedelta(days=1), time(21))


def camp4_lines(events: int, members: int, days: int = 30, seed: int = 7) -> Iterator[str]:
    """camp4's activity: 30 % homework (words 200-1199), 70 % messages.

    Times are local Asia/Shanghai wall-clock times without an offset, spread
    over each camp day (21:00 to 21:00), so both sides of the boundary are
    used; 1 % of homework is handed in within two seconds of the opening, so
    `top 3 by earliest` meets ties (broken by member id, as text).
    """
    rng = random.Random(seed)
    serial = 0
    for index in range(days):
        opening = _day_opening(CAMP4_FIRST_DAY + timedelta(days=index))
        count = events // days + (1 if index < events % days else 0)
        drawn: list[tuple[int, int, int]] = []  # (second of the day, member, words or -1)
        for _ in range(count):
            member = _skewed(rng, members)
            if rng.random() < 0.3:
                words = rng.randrange(200, 1200)
                second = rng.randrange(3) if rng.random() < 0.01 else rng.randrange(DAY_SECONDS)
            else:
                words = -1
                second = rng.randrange(DAY_SECONDS)
            drawn.append((second, member, words))
        drawn.sort(key=lambda d: d[0])  # stable: equal times keep their draw order
        for second, member, words in drawn:
            at = (opening + timedelta(seconds=second)).isoformat()
            serial += 1
            event: dict[str, object] = {"id": f"e{serial}", "member": f"m{member}", "at": at}
            if words >= 0:
                event["type"] = "homework"
                event["words"] = words
            else:
                event["type"] = "message"
            yield json.dumps(event) + "\n"


def camp_roster(members: int) -> list[dict[str, str]]:
    """writing_camp.roster.csv's columns and dealing, scaled: 8 classes of 4 groups
    for 500 members, so about 62 members a class and 16 a group at any size."""
    classes = max(8, round(members / 62.5))
    width = max(4, len(str(members)))
    rows = []
    for n in range(1, members + 1):
        klass = f"class-{(n - 1) % classes + 1}"
        group = f"{klass}-{'abcd'[((n - 1) // classes) % 4]}"
        rows.append({"member": f"w{n:0{width}d}", "class": klass, "group": group})
    return rows


def camp_lines(events: int, members: int, seed: int = 21) -> Iterator[str]:
    """The writing camp's activity over its 21-day season: homework (chars, likes)
    at the morning and evening peaks, and grants by the leader and the class
    monitors (about one event in 2,000), some over their allowance."""
    rng = random.Random(seed)
    roster = camp_roster(members)
    classes = max(8, round(members / 62.5))
    reasons = ["helped a classmate", "organised an activity", "posted a great plan"]
    serial = 0
    for index in range(CAMP_DAYS):
        opening = _day_opening(CAMP_FIRST_DAY + timedelta(days=index))
        count = events // CAMP_DAYS + (1 if index < events % CAMP_DAYS else 0)
        drawn: list[tuple[int, int, dict[str, object]]] = []
        for _ in range(count):
            member = _skewed(rng, members)
            if rng.random() < 0.0005:
                klass = rng.randrange(classes + 1)  # 0: the leader
                granter = f"monitor-{klass}" if klass else "leader-li"
                attrs: dict[str, object] = {
                    "by": granter,
                    "points": rng.choice([10, 20, 20, 30, 50, 100]),
                    "reason": rng.choice(reasons),
                }
                kind = "grant"
            else:
                attrs = {
                    "chars": int(min(4000, max(120, rng.gauss(950, 320)))),
                    "likes": int(rng.expovariate(1 / 6)),
                }
                kind = "homework"
            peak = rng.random()
            if peak < 0.35:  # the morning, about 09:00
                minute = 12 * 60 + rng.gauss(0, 50)
            elif peak < 0.45:  # just after the previous evening's deadline
                minute = rng.uniform(0, 150)
            else:  # the rush before 21:00
                minute = 22 * 60 + 50 + rng.gauss(0, 40)
            second = min(DAY_SECONDS - 1, max(0, int(minute * 60)))
            drawn.append((second, member, {"type": kind, **attrs}))
        drawn.sort(key=lambda d: d[0])
        for second, member, attrs in drawn:
            serial += 1
            event = {
                "id": f"c{serial}",
                "type": attrs["type"],
                "member": roster[member]["member"],
                "at": (opening + timedelta(seconds=second)).isoformat(),
                **{k: v for k, v in attrs.items() if k != "type"},
            }
            yield json.dumps(event) + "\n"


def big_scheme(lines: int = 200) -> str:
    """A scheme of about `lines` lines: camp4's header and its four rules, one
    clause a line, repeated with new names until the text is long enough."""
    head = [
        'scheme "Big camp" {',
        "  currency coins",
        '  timezone "Asia/Shanghai"',
        "  day ends 21:00",
        "",
        "  events {",
        "    homework(words: number)",
        "    message(words: number)",
        "  }",
    ]
    # The thresholds differ from copy to copy: otherwise the checker warns that
    # two rules pay for the same events (W0309), and the timing would include that.
    rules = [
        ["on homework", "where words >= {n}", "award 5", "limit 1 per day"],
        ["on homework", "top 3 per day by earliest", "award 5"],
        ["on message", "where words >= {n}", "award 1", "cap 20 per day"],
        ["on homework", "streak per day", "at 3 award 10", "at 7 award 20"],
    ]
    body: list[str] = []
    serial = 0
    while len(head) + len(body) + 1 < lines:
        clauses = [c.format(n=serial) for c in rules[serial % len(rules)]]
        body += ["", f"  rule r{serial} {{", *(f"    {c}" for c in clauses), "  }"]
        serial += 1
    return "\n".join([*head, *body, "}"]) + "\n"


def _write(path: Path, lines: Iterator[str]) -> Path:
    """Write through a temporary name, so an interrupted run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(lines)
    partial.replace(path)
    return path


def camp4_file(events: int, members: int, days: int = 30, seed: int = 7, data: Path = DATA) -> Path:
    """camp4's events as a cached file, generated on first use."""
    path = data / f"camp4-e{events}-m{members}-d{days}-s{seed}.jsonl"
    if not path.exists():
        _write(path, camp4_lines(events, members, days, seed))
    return path


def camp_files(events: int, members: int, seed: int = 21, data: Path = DATA) -> tuple[Path, Path]:
    """The writing camp's events and roster as cached files."""
    roster = data / f"camp-roster-m{members}.csv"
    if not roster.exists():
        rows = camp_roster(members)
        _write(roster, iter(["member,class,group\n"] + [",".join(r.values()) + "\n" for r in rows]))
    path = data / f"camp-e{events}-m{members}-s{seed}.jsonl"
    if not path.exists():
        _write(path, camp_lines(events, members, seed))
    return path, roster


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("what", choices=["camp4", "camp", "big-scheme"])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30, help="camp4 only")
    parser.add_argument("--lines", type=int, default=200, help="big-scheme only")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    if args.what == "camp4":
        print(
            camp4_file(args.events, args.members, args.days, 7 if args.seed is None else args.seed)
        )
    elif args.what == "camp":
        for path in camp_files(args.events, args.members, 21 if args.seed is None else args.seed):
            print(path)
    else:
        print(big_scheme(args.lines), end="")


if __name__ == "__main__":
    main()
