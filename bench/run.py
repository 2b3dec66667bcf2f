"""The benchmark of issue 14, one command: `python bench/run.py [--quick] [--big]`.

On seeded generated files (cached under bench/.data/, keyed by their sizes):

(a) bench/camp4.incentive, the four-rule camp: 1M events, 20,000 members, 30 days;
(b) schemes/writing_camp.incentive with a roster of the same members: 1M events.

Every figure is events per second and a ratio of its time per event to the
baseline measured in the same run on the same file: `orjson.loads` of every
line, the least any evaluator must do. Ratios travel between machines;
absolute rates do not. Measured:

- `incentive run SCHEME EVENTS --out FILE` as a subprocess, per engine and
  `--jobs` value where the command has those options (wall and CPU time, peak RSS);
- bench/handloop.py, (a) written by hand (orjson, datetime, dicts), also as a
  subprocess: the yardstick. Its points per rule and records per kind must
  equal `incentive run`'s, or the benchmark fails;
- rule-engine (PyPI) matching (a)'s per-event conditions on every decoded event;
- json.loads and msgspec decoding, beside the orjson baseline;
- the library in-process on a slice (`Program.evaluate`, `Session.feed`: the compiled
  evaluator, the library's default);
- `incentive check` cold (a subprocess) and warm (`incentive.compile`) on camp4
  and on a 200-line scheme;
- with --big: peak RSS of `incentive run --jobs 1` at --events and at --big-events
  (10M; members unchanged), per engine of --big-engines.

Prints a table and writes the figures as JSON (bench/results.json).
Latest figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
import orjson
import rule_engine

import incentive
from bench import gen

ROOT = Path(__file__).resolve().parent.parent
HANDLOOP = ROOT / "bench" / "handloop.py"
STEPS_SCHEME = ROOT / "bench" / "camp4_steps.incentive"
# The checkout's own incentive, not whichever one is installed on PATH.
CLI = [sys.executable, "-c", "import sys; from incentive.cli import main; sys.exit(main())"]
CHILD_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}
LEDGER_KINDS = ("award", "rank")
PARTS = ("a", "b", "steps", "shop", "check")
# (a)'s per-event conditions, as a generic rule library states them.
CAMP4_CONDITIONS = {
    "homework": 'type == "homework" and words >= 500',
    "early": 'type == "homework"',
    "chat": 'type == "message"',
    "streak": 'type == "homework"',
}


class Camp4Event(msgspec.Struct):
    """camp4's event as a typed struct: what a decoder that knows the scheme can do."""

    id: str
    type: str
    member: str
    at: datetime
    words: int | None = None


@dataclass
class Row:
    """One measurement: `events` processed in `wall` seconds (`cpu` of CPU time)."""

    part: str  # "a", "b" or "big"
    name: str
    events: int
    wall: float
    cpu: float
    rss_mb: float | None = None
    ratio: float = 0.0  # time per event / the baseline's time per event (wall)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Latency:
    name: str
    runs: int
    median_ms: float
    min_ms: float
    cpu_median_ms: float  # CPU time: what a busy machine does not stretch


# ---- timing -------------------------------------------------------------------------


def timed(job: Callable[[], object], runs: int = 1) -> tuple[float, float]:
    """Best of `runs`: (wall seconds, CPU seconds of this process)."""
    best = (float("inf"), float("inf"))
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        job()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


@dataclass
class Child:
    wall: float
    cpu: float
    rss_mb: float
    code: int
    stdout: str
    stderr: str


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> Child:
    """Run a command; its own CPU time and peak RSS come from wait4 (getrusage
    of RUSAGE_CHILDREN would give the largest RSS of every child so far)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env={**CHILD_ENV, **(env or {})}, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            code=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def checked(child: Child, what: str) -> Child:
    if child.code != 0:
        sys.exit(f"FAILED: {what} exited {child.code}\n{child.stderr[-2000:]}")
    return child


# ---- what `incentive run` offers ------------------------------------------------------


def run_options() -> str:
    return checked(run_child([*CLI, "run", "--help"]), "incentive run --help").stdout


def pick_engines(requested: str, help_text: str) -> list[str | None]:
    """`auto`: every choice of `--engine` (the default first), or None when the
    command has no such option (it is then the interpreter)."""
    found = re.search(r"--engine\s+\[([^\]]+)\]", help_text)
    if found is None:
        if requested not in ("auto", "interpreter"):
            sys.exit(f"incentive run has no --engine option, so not: {requested}")
        return [None]
    choices = found.group(1).split("|")
    return choices if requested == "auto" else requested.split(",")


def pick_jobs(requested: str, help_text: str) -> list[int | None]:
    """`auto`: 1 and every core when `--jobs` exists, else the command's own way."""
    if "--jobs" not in help_text:
        return [None]
    if requested == "auto":
        return sorted({1, os.cpu_count() or 1})
    return [int(j) for j in requested.split(",")]


def engine_label(engine: str | None, jobs: int | None) -> str:
    label = f"--engine {engine}" if engine else "(interpreter, no --engine)"
    return label + (f" --jobs {jobs}" if jobs else "")


# ---- what the records say -----------------------------------------------------------


def record_totals(path: Path) -> dict[str, Any]:
    """Points per rule over award and rank records, and records per kind (no balances)."""
    points: dict[str, int] = {}
    kinds: dict[str, int] = {}
    with path.open("rb") as lines:
        for line in lines:
            record = orjson.loads(line)
            kind = record["kind"]
            if kind == "balance":
                continue
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind in LEDGER_KINDS:
                points[record["rule"]] = points.get(record["rule"], 0) + record["points"]
    return {"points": points, "records": kinds}


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def same_totals(engine: dict[str, Any], hand: dict[str, Any], what: str) -> None:
    """The yardstick must compute what the engine computes: fail loudly if not."""
    if engine != hand:
        sys.exit(
            f"FAILED: the hand loop and {what} disagree\n"
            f"  incentive run: {json.dumps(engine, sort_keys=True)}\n"
            f"  hand loop:     {json.dumps(hand, sort_keys=True)}"
        )


# ---- measurements -------------------------------------------------------------------


def lines_of(path: Path, limit: int | None = None) -> Iterator[bytes]:
    with path.open("rb") as lines:
        yield from islice(lines, limit)


def decoders(part: str, path: Path, events: int, runs: int) -> list[Row]:
    """The baseline (orjson per line, reading included) and other decoders."""

    def with_orjson() -> None:
        loads = orjson.loads
        for line in lines_of(path):
            loads(line)

    def with_json() -> None:
        loads = json.loads
        for line in lines_of(path):
            loads(line)

    rows = [
        Row(part, "baseline: orjson.loads per line", events, *timed(with_orjson, runs)),
        Row(part, "json.loads per line", events, *timed(with_json, runs)),
    ]
    if part == "a":
        typed = msgspec.json.Decoder(Camp4Event)

        def with_msgspec() -> None:
            decode = typed.decode
            for line in lines_of(path):
                decode(line)

        rows.append(
            Row(
                part,
                "msgspec: typed struct per line (at parsed)",
                events,
                *timed(with_msgspec, runs),
            )
        )
    return rows


def with_rule_engine(path: Path, limit: int | None) -> Row:
    """Decode every event and ask each of camp4's four conditions of it."""
    context = rule_engine.Context(default_value=None)  # messages have no `words`
    rules = [rule_engine.Rule(text, context=context) for text in CAMP4_CONDITIONS.values()]
    matched = 0
    count = 0

    def job() -> None:
        nonlocal matched, count
        for line in lines_of(path, limit):
            event = orjson.loads(line)
            count += 1
            for rule in rules:
                if rule.matches(event):
                    matched += 1

    wall, cpu = timed(job)
    return Row(
        "a", "rule-engine: 4 conditions per event", count, wall, cpu, extra={"matches": matched}
    )


def incentive_runs(
    part: str,
    scheme: Path,
    events_path: Path,
    events: int,
    engines: list[str | None],
    jobs: list[int | None],
    out_dir: Path,
    roster: Path | None = None,
) -> tuple[list[Row], dict[str, Path]]:
    """`incentive run` per engine and jobs value: file -> records, as a subprocess."""
    rows: list[Row] = []
    outs: dict[str, Path] = {}
    # The columnar plan runs on Polars' threads (every core): once more on one thread,
    # which is what "one process, one core" means for it.
    threads: list[int | None] = [None, 1]
    for engine in engines:
        for job_count in jobs:
            for thread_count in threads if engine == "columnar" else [None]:
                label = engine_label(engine, job_count)
                label += f", {thread_count} thread" if thread_count else ""
                name = f"{part}-{engine or 'default'}-j{job_count or 0}-t{thread_count or 0}"
                out = out_dir / f"{name}.jsonl"
                cmd = [*CLI, "run", str(scheme), str(events_path), "--out", str(out), "--quiet"]
                cmd += ["--roster", str(roster)] if roster else []
                cmd += ["--engine", engine] if engine else []
                cmd += ["--jobs", str(job_count)] if job_count else []
                env = {"POLARS_MAX_THREADS": str(thread_count)} if thread_count else None
                print(f"  incentive run {label} ...", file=sys.stderr, flush=True)
                child = checked(run_child(cmd, env), f"incentive run {label}")
                rows.append(
                    Row(part, f"incentive run {label}", events, child.wall, child.cpu, child.rss_mb)
                )
                outs[label] = out
    return rows, outs


def same_records(outs: dict[str, Path], what: str) -> None:
    """Every engine and jobs value must write byte-identical records."""
    digests = {label: digest(path) for label, path in outs.items()}
    if len(set(digests.values())) > 1:
        sys.exit(f"FAILED: {what}: the runs wrote different records: {digests}")


def in_process(
    part: str,
    program: incentive.Program,
    path: Path,
    count: int,
    roster: incentive.Roster | None = None,
) -> list[Row]:
    """The library in-process (the compiled evaluator, its default) on the first `count`
    events (dicts already decoded).

    The decoded events are frozen out of the garbage collector's sight while measured:
    they are the benchmark's, held only to leave decoding out, and a program fed by a
    bot holds one at a time; left in sight, every full collection walks all of them
    (bench/feed.py measured 15 % of `feed`'s time on 100,000 events)."""
    items = [orjson.loads(line) for line in lines_of(path, count)]

    def batch() -> None:
        program.evaluate(items, roster=roster)

    def streaming() -> None:
        session = program.session(roster=roster)
        feed = session.feed
        for item in items:
            feed(item)
        session.close_all()

    gc.freeze()
    try:
        first = f"first {len(items):,}"
        return [
            Row(part, f"library: Program.evaluate, {first}", len(items), *timed(batch)),
            Row(part, f"library: Session.feed, {first}", len(items), *timed(streaming)),
        ]
    finally:
        gc.unfreeze()


def latencies(check_runs: int, warm_runs: int, out_dir: Path) -> list[Latency]:
    """`incentive check` as a fresh process, and parse + check in-process."""
    big = out_dir / "big.incentive"
    big.write_text(gen.big_scheme(200), encoding="utf-8")
    lines = len(big.read_text(encoding="utf-8").splitlines())
    found = []
    for name, scheme in (("camp4", gen.CAMP4_SCHEME), (f"{lines}-line scheme", big)):
        cold = [
            checked(run_child([*CLI, "check", str(scheme)]), "incentive check")
            for _ in range(check_runs)
        ]
        walls = [c.wall for c in cold]
        found.append(
            Latency(
                f"incentive check {name}, cold (subprocess)",
                check_runs,
                statistics.median(walls) * 1e3,
                min(walls) * 1e3,
                statistics.median(c.cpu for c in cold) * 1e3,
            )
        )
        text = scheme.read_text(encoding="utf-8")
        incentive.compile(text, str(scheme))  # the grammar is built once per process
        warm = [
            timed(lambda text=text, scheme=scheme: incentive.compile(text, str(scheme)))
            for _ in range(warm_runs)
        ]
        found.append(
            Latency(
                f"parse + check {name}, warm (incentive.compile)",
                warm_runs,
                statistics.median(w for w, _ in warm) * 1e3,
                min(w for w, _ in warm) * 1e3,
                statistics.median(c for _, c in warm) * 1e3,
            )
        )
    return found


# ---- report -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "load_average": list(os.getloadavg()),
    }


def with_ratios(rows: list[Row]) -> list[Row]:
    """Each row's wall time per event against its part's baseline (the first row)."""
    if rows:
        base = rows[0].wall / rows[0].events
        for row in rows:
            row.ratio = (row.wall / row.events) / base
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Rates by wall and by CPU time, and both ratios: on a busy machine the wall
    time of a one-core measurement stretches while its CPU time does not."""
    head = (
        f"{'measurement':<48} {'events/s':>10} {'CPU ev/s':>10} "
        f"{'x base':>7} {'x base CPU':>10} {'peak RSS':>9}"
    )
    base = rows[0]["wall"] / rows[0]["events"], rows[0]["cpu"] / rows[0]["events"]
    out = [head]
    for r in rows:
        rss = f"{r['rss_mb']:,.0f} MB" if r["rss_mb"] is not None else ""
        wall, cpu = r["wall"] / r["events"], r["cpu"] / r["events"]
        out.append(
            f"{r['name']:<48} {1 / wall:>10,.0f} {1 / cpu:>10,.0f} "
            f"{wall / base[0]:>7.1f} {cpu / base[1]:>10.1f} {rss:>9}"
        )
    return out


def render(results: dict[str, Any]) -> str:
    """The report printed at the end of a run, or from a saved results file."""
    sizes, rows, host = results["sizes"], results["rows"], results["machine"]
    report = [
        f"{results['started']}, commit {host['commit']}, {host['nproc']} x {host['cpu']}, "
        f"Python {host['python']}, load average {host['load_average'][0]:.1f} at the start"
    ]
    parts = {
        "a": f"(a) bench/camp4.incentive: {sizes['events']:,} events, "
        f"{sizes['members']:,} members, {sizes['days']} days",
        "b": f"(b) schemes/writing_camp.incentive: {sizes['camp_events']:,} events, "
        f"{sizes['members']:,} members, 21 days, with a roster",
        "steps": f"steps: bench/camp4_steps.incentive on (a)'s {sizes['events']:,} events "
        "(the loop's own steps inside the plan: what --jobs spreads)",
        "shop": f"shop: schemes/shop.population.yaml cut to {sizes.get('shop_members', 0):,} "
        "members (+40 a day), 60 days, with schemes/shop.incentive in the loop",
    }
    for part, title in parts.items():
        chosen = [r for r in rows if r["part"] == part]
        if chosen:
            report += ["", title, *table(chosen)]
        if chosen and part == "a":
            report.append(
                f"points per rule (hand loop = incentive run): {results['camp4_totals']['points']}"
            )
        if chosen and part == "b":
            report.append(f"records: {results['camp_totals']['records']}")
    big = [r for r in rows if r["part"] == "big"]
    if big:
        report += ["", "peak RSS of incentive run --jobs 1, camp4, members unchanged:"]
        for name in dict.fromkeys(r["name"] for r in big):
            sized = sorted((r for r in big if r["name"] == name), key=lambda r: r["events"])
            report.append(f"  {name}:")
            for row in sized:
                rate = row["events"] / row["wall"]
                growth = row["rss_mb"] / sized[0]["rss_mb"]
                report.append(
                    f"  {row['events']:>12,} events: {row['rss_mb']:,.0f} MB"
                    f" ({growth:.2f}x; {rate:,.0f} events/s)"
                )
    if results.get("latency"):
        report += ["", f"{'latency':<56} {'median':>10} {'min':>10} {'CPU median':>11}"]
        report += [
            f"{x['name']:<56} {x['median_ms']:>8.1f}ms {x['min_ms']:>8.1f}ms "
            f"{x.get('cpu_median_ms', float('nan')):>9.1f}ms"
            for x in results["latency"]
        ]
    return "\n".join(report)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="(a) camp4's events")
    parser.add_argument("--members", type=int, default=20_000, help="members, for (a) and (b)")
    parser.add_argument("--days", type=int, default=30, help="(a) camp4's days")
    parser.add_argument(
        "--camp-events", type=int, default=1_000_000, help="(b) the writing camp's events"
    )
    parser.add_argument(
        "--slice", type=int, default=100_000, help="events for the in-process interpreter"
    )
    parser.add_argument(
        "--rule-engine-events", type=int, help="events for rule-engine (default: all of (a))"
    )
    parser.add_argument(
        "--engines", default="auto", help="auto, or a comma list for `run --engine`"
    )
    parser.add_argument("--jobs", default="auto", help="auto, or a comma list for `run --jobs`")
    parser.add_argument("--runs", type=int, default=3, help="best of R for the decoders")
    parser.add_argument("--check-runs", type=int, default=15, help="cold `incentive check` runs")
    parser.add_argument("--warm-runs", type=int, default=50, help="warm parse + check runs")
    parser.add_argument("--big", action="store_true", help="also peak RSS at --big-events")
    parser.add_argument("--big-events", type=int, default=10_000_000)
    parser.add_argument(
        "--big-engines",
        default="columnar",
        help="engines whose peak RSS --big compares (the compiled evaluator takes minutes "
        "at 10M events: --big-engines columnar,compiled)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, few runs")
    parser.add_argument(
        "--data", type=Path, default=gen.DATA, help="where generated files are cached"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--report", type=Path, help="print the report of a saved results file")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"which parts to run (default: {','.join(PARTS)})"
    )
    parser.add_argument("--shop-members", type=int, default=1_000, help="the shop's dry run")
    args = parser.parse_args()
    if args.report:
        print(render(json.loads(args.report.read_text(encoding="utf-8"))))
        return
    if args.quick:
        args.events, args.members, args.camp_events = 20_000, 2_000, 20_000
        args.slice, args.runs, args.check_runs, args.warm_runs = 5_000, 1, 3, 5
        args.big_events, args.shop_members = 50_000, 100

    parts = set(args.parts.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        sys.exit(f"unknown parts: {sorted(unknown)}; the parts are {', '.join(PARTS)}")
    started = datetime.now(UTC)
    host = machine()  # the commit measured, and how busy the machine was at the start
    # The package's bytecode, as an installed package has it (pip compiles it on install,
    # and Python caches it on first import): without it, as under
    # PYTHONDONTWRITEBYTECODE, every `incentive run` compiles the package's sources again,
    # a quarter of a second of each run's start that no user pays.
    compileall.compile_dir(ROOT / "incentive", quiet=1)
    host["bytecode"] = "compiled before measuring"
    help_text = run_options()
    engines = pick_engines(args.engines, help_text)
    jobs = pick_jobs(args.jobs, help_text)
    print(f"engines: {[engine_label(e, None) for e in engines]}, jobs: {jobs}", file=sys.stderr)

    rows: list[Row] = []
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "machine": host,
        "sizes": {k: v for k, v in vars(args).items() if k not in ("data", "json", "report")},
        "engines": [engine_label(e, None) for e in engines],
        "jobs": jobs,
    }
    with tempfile.TemporaryDirectory(prefix="incentive-bench-") as scratch:
        out_dir = Path(scratch)
        if "a" in parts:
            part_rows, results["camp4_totals"] = part_a(args, engines, jobs, out_dir)
            rows += with_ratios(part_rows)
        if "b" in parts:
            part_rows, results["camp_totals"] = part_b(args, engines, jobs, out_dir)
            rows += with_ratios(part_rows)
        if "steps" in parts:
            rows += with_ratios(part_steps(args, engines, jobs, out_dir))
        if args.big:
            rows += part_big(args, out_dir)
        if "shop" in parts:
            rows += with_ratios(part_shop(args.shop_members, args.runs))
        if "check" in parts:
            print("check ...", file=sys.stderr, flush=True)
            results["latency"] = [
                asdict(x) for x in latencies(args.check_runs, args.warm_runs, out_dir)
            ]
    results["seconds"] = round((datetime.now(UTC) - started).total_seconds())
    results["machine"]["load_average_end"] = list(os.getloadavg())
    results["rows"] = [{**asdict(r), "events_per_s": r.events / r.wall} for r in rows]
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(render(results))
    print(f"\nwrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")


def part_a(
    args: argparse.Namespace, engines: list[str | None], jobs: list[int | None], out_dir: Path
) -> tuple[list[Row], dict[str, Any]]:
    """(a) the four-rule camp: every engine, the hand loop (checked), rule-engine."""
    print("(a) camp4 ...", file=sys.stderr, flush=True)
    camp4_path = gen.camp4_file(args.events, args.members, args.days, data=args.data)
    rows = decoders("a", camp4_path, args.events, args.runs)
    runs, outs = incentive_runs(
        "a", gen.CAMP4_SCHEME, camp4_path, args.events, engines, jobs, out_dir
    )
    same_records(outs, "camp4")
    totals = record_totals(next(iter(outs.values())))
    for path in outs.values():
        path.unlink()
    print("  hand loop ...", file=sys.stderr, flush=True)
    hand_out = out_dir / "a-handloop.jsonl"
    hand = checked(
        run_child([sys.executable, str(HANDLOOP), str(camp4_path), "--out", str(hand_out)]),
        "hand loop",
    )
    hand_out.unlink()
    same_totals(totals, json.loads(hand.stdout), "incentive run (camp4)")
    name = "hand loop (subprocess: file -> records)"
    rows.append(Row("a", name, args.events, hand.wall, hand.cpu, hand.rss_mb))
    rows += runs
    print("  rule-engine ...", file=sys.stderr, flush=True)
    rows.append(with_rule_engine(camp4_path, args.rule_engine_events))
    print("  in-process ...", file=sys.stderr, flush=True)
    rows += in_process("a", incentive.load(gen.CAMP4_SCHEME), camp4_path, args.slice)
    return rows, totals


def part_b(
    args: argparse.Namespace, engines: list[str | None], jobs: list[int | None], out_dir: Path
) -> tuple[list[Row], dict[str, Any]]:
    """(b) the writing camp with a roster of the same members."""
    print("(b) writing camp ...", file=sys.stderr, flush=True)
    camp_path, roster_path = gen.camp_files(args.camp_events, args.members, data=args.data)
    rows = decoders("b", camp_path, args.camp_events, args.runs)
    runs, outs = incentive_runs(
        "b", gen.CAMP_SCHEME, camp_path, args.camp_events, engines, jobs, out_dir, roster_path
    )
    same_records(outs, "writing camp")
    totals = record_totals(next(iter(outs.values())))
    for path in outs.values():
        path.unlink()
    rows += runs
    roster = incentive.load_roster(roster_path)
    rows += in_process("b", incentive.load(gen.CAMP_SCHEME), camp_path, args.slice, roster)
    return rows, totals


def part_steps(
    args: argparse.Namespace, engines: list[str | None], jobs: list[int | None], out_dir: Path
) -> list[Row]:
    """(a)'s events under camp4 with two limits, two caps and a streak with grace: the
    per-member work is Python per matching event, which `--jobs` spreads."""
    print("steps ...", file=sys.stderr, flush=True)
    camp4_path = gen.camp4_file(args.events, args.members, args.days, data=args.data)
    rows = decoders("steps", camp4_path, args.events, args.runs)[:1]  # the baseline
    runs, outs = incentive_runs(
        "steps", STEPS_SCHEME, camp4_path, args.events, engines, jobs, out_dir
    )
    same_records(outs, "camp4, stepped")
    for path in outs.values():
        path.unlink()
    return rows + runs


def part_big(args: argparse.Namespace, out_dir: Path) -> list[Row]:
    """Peak memory at --events and at --big-events (members unchanged), for each engine
    of --big-engines with `--jobs 1`: the same command at both sizes, so that the ratio
    is the growth with events alone. One process: with `--jobs N` the peak wait4 gives
    is the largest process's, not the sum of the workers'."""
    rows: list[Row] = []
    sizes = (args.events, args.big_events)
    engines: list[str | None] = list(args.big_engines.split(","))
    for events in sizes:
        print(f"big: {events:,} events ...", file=sys.stderr, flush=True)
        path = gen.camp4_file(events, args.members, args.days, data=args.data)
        found, outs = incentive_runs("big", gen.CAMP4_SCHEME, path, events, engines, [1], out_dir)
        # one Polars thread or all: the same chunks are held, so the default threads only
        rows += [row for row in found if "thread" not in row.name]
        same_records(outs, f"big, {events:,} events")
        for out in outs.values():
            out.unlink()
    return rows


def part_shop(members: int, runs: int) -> list[Row]:
    """The dry run (kept from the earlier benchmark): the shop's population drawn day
    by day with schemes/shop.incentive in the loop, against decoding its events."""
    from incentive.population import load_population, simulate
    from incentive.simulation import simulate_scheme

    print("shop ...", file=sys.stderr, flush=True)
    shop = incentive.load(ROOT / "schemes" / "shop.incentive")
    source = ROOT / "schemes" / "shop.population.yaml"
    population = load_population(source.read_text(encoding="utf-8"), source.name)
    population = population.model_copy(update={"members": members})
    drawn = simulate_scheme(shop, population).simulated.events
    lines = [orjson.dumps(e) for e in drawn]

    def decode() -> None:
        for line in lines:
            orjson.loads(line)

    count = len(drawn)
    return [
        Row("shop", "baseline: orjson.loads per line", count, *timed(decode, runs)),
        Row("shop", "draw the population only", count, *timed(lambda: simulate(population))),
        Row(
            "shop",
            "simulate with the scheme (default engine)",
            count,
            *timed(lambda: simulate_scheme(shop, population)),
        ),
    ]


if __name__ == "__main__":
    main()
