"""Benchmarks: `python bench/run.py [--events N] [--shop-members M]`.

Reports each measurement as events per second and as a ratio to a baseline
measured in the same run on the same machine: `json.loads` of every event line
(the least any evaluator must do). Ratios travel between machines; absolute
rates do not. Latest figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import incentive
from incentive.events import read_events

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "tests" / "golden" / "limits_and_caps" / "scheme.incentive"


def make_events(count: int, members: int, seed: int = 7) -> str:
    """A month of chat-group activity: check-ins and messages in two channels."""
    rng = random.Random(seed)
    events = []
    for i in range(count):
        day = 1 + i * 28 // count
        event = {
            "type": rng.choice(["checkin", "message", "message", "message"]),
            "member": f"m{rng.randrange(members)}",
            "at": f"2026-03-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
        }
        if event["type"] == "message":
            event["channel"] = rng.choice(["lively", "expert"])
            event["words"] = rng.randrange(60)
        events.append(event)
    events.sort(key=lambda e: e["at"])  # a live stream arrives in time order
    return "".join(json.dumps(e) + "\n" for e in events)


def best_of(runs: int, job: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shop-members", type=int, default=1_000)
    args = parser.parse_args()

    program = incentive.load(SCHEME)
    text = make_events(args.events, args.members)
    items = list(read_events(io.StringIO(text), program.calendar))

    baseline = best_of(args.runs, lambda: [json.loads(line) for line in text.splitlines()])
    reading = best_of(args.runs, lambda: list(read_events(io.StringIO(text), program.calendar)))
    batch = best_of(args.runs, lambda: program.evaluate(items))

    def streaming() -> None:
        session = program.session()
        for item in items:
            session.feed(item)

    stream = best_of(args.runs, streaming)

    # The flagship: the writing camp's teams, ranks, boards and grants, per event.
    camp = incentive.load(ROOT / "schemes" / "writing_camp.incentive")
    roster = incentive.load_roster(ROOT / "schemes" / "writing_camp.roster.csv")
    camp_text = (ROOT / "schemes" / "writing_camp.events.jsonl").read_text(encoding="utf-8")
    camp_items = list(read_events(io.StringIO(camp_text), camp.calendar))
    camp_base = best_of(args.runs, lambda: [json.loads(line) for line in camp_text.splitlines()])
    camp_run = best_of(args.runs, lambda: camp.evaluate(camp_items, roster=roster))
    # The dry run: the shop's population drawn day by day with the scheme in the loop.
    from incentive.population import load_population, simulate
    from incentive.simulation import simulate_scheme

    shop = incentive.load(ROOT / "schemes" / "shop.incentive")
    source = ROOT / "schemes" / "shop.population.yaml"
    population = load_population(source.read_text(encoding="utf-8"), source.name)
    population = population.model_copy(update={"members": args.shop_members})
    drawn = simulate_scheme(shop, population).simulated.events
    shop_text = "".join(json.dumps(e) + "\n" for e in drawn)
    shop_base = best_of(args.runs, lambda: [json.loads(line) for line in shop_text.splitlines()])
    draw_only = best_of(args.runs, lambda: simulate(population))
    shop_run = best_of(args.runs, lambda: simulate_scheme(shop, population))
    # (measurement, events, seconds, the same events' json.loads baseline)
    rows = [
        ("baseline: json.loads per line", args.events, baseline, baseline),
        ("read events (JSON Lines)", args.events, reading, baseline),
        ("evaluate, batch (interpreter)", args.events, batch, baseline),
        ("evaluate, streaming (interpreter)", args.events, stream, baseline),
        ("writing camp, batch (interpreter)", len(camp_items), camp_run, camp_base),
        ("shop: draw the population only", len(drawn), draw_only, shop_base),
        ("shop: simulate with the scheme", len(drawn), shop_run, shop_base),
    ]
    print(f"{args.events:,} chat events, {args.members:,} members; best of {args.runs}")
    print(f"writing camp: {len(camp_items):,} events, 500 members, 21 days, with its roster")
    print(f"shop: {len(drawn):,} events, {args.shop_members:,} members (+40 a day), 60 days")
    print(f"{'measurement':<36} {'events/s':>12} {'x baseline time':>16}")
    for name, count, seconds, base in rows:
        print(f"{name:<36} {count / seconds:>12,.0f} {seconds / base:>16.1f}")
    print(f"records per run: {len(program.evaluate(items).records):,}")


if __name__ == "__main__":
    main()
