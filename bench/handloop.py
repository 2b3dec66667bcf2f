"""The yardstick: bench/camp4.incentive written out by hand in plain Python.

    python bench/handloop.py EVENTS.jsonl --out RECORDS.jsonl   # prints the totals

What a competent engineer would write for those four rules without a rule
engine: orjson, `datetime.fromisoformat`, dicts. It writes a JSON record per
award, refusal, streak step and rank award, then each member's balance, and
prints the points paid per rule. bench/run.py checks that those totals equal
`incentive run`'s, so the two compute the same thing.

Assumes what the benchmark's files are: time-ordered (as `incentive run`
orders them), every line a valid event with a unique id. No duplicates,
bad lines or late events are looked for.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

TZ = ZoneInfo("Asia/Shanghai")
DAY_ENDS = time(21)  # from 12:00 on, a day is named by the date it ends on
CURRENCY = "coins"
RULES = ("homework", "early", "chat", "streak")
STREAK_TIERS = {3: 10, 7: 20}
EARLY_PLACES, EARLY_AWARD = 3, 5
CHAT_CAP = 20


def _close(day: int) -> datetime:
    """The instant the day with ordinal `day` closes: 21:00 local on that date."""
    return datetime.combine(date.fromordinal(day), DAY_ENDS, TZ)


def run(lines: Iterable[bytes | str], out: IO[bytes]) -> dict[str, Any]:
    """Evaluate camp4 over time-ordered JSON lines; write records to `out`.

    Returns {"points": points per rule, "records": records per kind}.
    """
    points = dict.fromkeys(RULES, 0)
    kinds: dict[str, int] = {}
    balance: dict[str, int] = {}
    homework_day: dict[str, int] = {}  # member -> the day their homework last paid
    chat: dict[str, list[int]] = {}  # member -> [day, points paid that day]
    streak: dict[str, list[int]] = {}  # member -> [last day with homework, length]
    early: dict[str, tuple[datetime, str]] = {}  # today's entrants: member -> (first at, id)
    early_day: int | None = None
    write = out.write
    dumps = orjson.dumps

    def emit(record: dict[str, Any]) -> None:
        kinds[record["kind"]] = kinds.get(record["kind"], 0) + 1
        write(dumps(record) + b"\n")

    def pay(kind: str, at: datetime, member: str, rule: str, amount: int, **more: Any) -> None:
        points[rule] += amount
        balance[member] = held = balance.get(member, 0) + amount
        emit(
            {
                "kind": kind,
                "at": at,
                "member": member,
                "rule": rule,
                "points": amount,
                "currency": CURRENCY,
                "balance": held,
                **more,
            }
        )

    def close_early(day: int) -> None:
        # Top 3 by earliest: by the first homework's instant, ties to the smaller id.
        at = _close(day)
        best = heapq.nsmallest(EARLY_PLACES, early.items(), key=lambda e: (e[1][0], e[0]))
        for place, (member, (_, event_id)) in enumerate(best, start=1):
            pay("rank", at, member, "early", EARLY_AWARD, rank=place, events=[event_id])
        early.clear()

    for line in lines:
        event = orjson.loads(line)
        member = event["member"]
        at = datetime.fromisoformat(event["at"])
        # A time without an offset is local; Shanghai keeps no summer time, so
        # local wall-clock times order like instants.
        at = at.replace(tzinfo=TZ) if at.tzinfo is None else at.astimezone(TZ)
        day = at.toordinal() + (at.time() >= DAY_ENDS)
        if early_day is not None and day != early_day:
            close_early(early_day)  # the day closes before the first event after it
        early_day = day
        ids = [event["id"]]
        kind = event["type"]
        if kind == "homework":
            # homework: +5 for words >= 500, limit 1 per day (only a paid event counts)
            words = event.get("words")
            if words is not None and words >= 500:
                if homework_day.get(member) == day:
                    emit(
                        {
                            "kind": "refused",
                            "at": at,
                            "member": member,
                            "rule": "homework",
                            "currency": CURRENCY,
                            "events": ids,
                            "reason": "limit 1 per day reached",
                        }
                    )
                else:
                    homework_day[member] = day
                    pay("award", at, member, "homework", 5, events=ids)
            elif words is None:
                # the condition cannot be decided: the engine says which attribute is missing
                emit(
                    {
                        "kind": "refused",
                        "at": at,
                        "member": member,
                        "rule": "homework",
                        "currency": CURRENCY,
                        "events": ids,
                        "reason": "the event has no `words`, which the rule's `where` reads",
                    }
                )
            # early: every homework enters the day's ranking, the first one counts
            if member not in early:
                early[member] = (at, event["id"])
            # streak: the first homework of a day extends or restarts the streak
            state = streak.get(member)
            if state is None or state[0] != day:
                length = state[1] + 1 if state is not None and state[0] == day - 1 else 1
                streak[member] = [day, length]
                emit(
                    {
                        "kind": "streak",
                        "at": at,
                        "member": member,
                        "rule": "streak",
                        "streak": length,
                        "events": ids,
                    }
                )
                tier = STREAK_TIERS.get(length)
                if tier is not None:
                    pay("award", at, member, "streak", tier, events=ids)
        elif kind == "message":
            # chat: +1, cap 20 per day (an award over the cap is refused)
            state = chat.get(member)
            if state is None or state[0] != day:
                state = chat[member] = [day, 0]
            if state[1] < CHAT_CAP:
                state[1] += 1
                pay("award", at, member, "chat", 1, events=ids)
            else:
                emit(
                    {
                        "kind": "refused",
                        "at": at,
                        "member": member,
                        "rule": "chat",
                        "points": 1,
                        "currency": CURRENCY,
                        "events": ids,
                        "reason": "cap 20 per day on rule `chat` reached",
                    }
                )
    if early_day is not None and early:
        close_early(early_day)  # the end of the input closes the last day
    for member in sorted(balance):
        held = balance[member]
        write(dumps({"kind": "balance", "member": member, "points": held, "balance": held}))
        write(b"\n")
    return {"points": points, "records": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("events", help="camp4 events, JSON Lines in time order")
    parser.add_argument("--out", required=True, help="write the records here")
    args = parser.parse_args()
    with open(args.events, "rb") as lines, open(args.out, "wb") as out:
        totals = run(lines, out)
    sys.stdout.write(orjson.dumps(totals).decode() + "\n")


if __name__ == "__main__":
    main()
