"""Start-up benchmark: `python bench/startup.py [--runs N]`.

Measures what an operator waits for when typing `incentive check SCHEME`:
  - the command as a fresh process (median of N runs), as `python -m incentive` and
    as the installed `incentive` script, on the writing camp in English keywords and
    in Chinese ones (each spelling has its own parser tables);
  - `import incentive.cli` alone; `python -c pass`, the floor of any command, and
    `python -c "import lark"`, what any tool built on lark pays to import it (the
    check no longer does: incentive/lalr.py) (baselines measured in the same run: on
    a shared machine, compare against them);
  - with `--instructions`, the instructions each process executes, counted once with
    valgrind's callgrind: a busy machine stretches times but not these;
  - parse + check of a 200-line scheme (bench/scheme200.incentive) in a warm
    process, the cost an editor or a language server pays on each keystroke.

Each process figure is the median wall time and the median CPU time (user +
system) of its runs: on a shared machine the CPU time moves less. Run it from a
source checkout (the repository's folder goes first on PYTHONPATH). Latest
figures: docs/performance.md, "Start-up".
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAMP = ROOT / "schemes" / "writing_camp.incentive"
CAMP_ZH = ROOT / "schemes" / "writing_camp_zh.incentive"
SCHEME200 = ROOT / "bench" / "scheme200.incentive"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_process(command: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall and CPU seconds of `command`, run `runs` times after one warm-up."""
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
    walls, cpus = [], []
    for _ in range(runs):
        cpu = _children_cpu()
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def warm_parse_check(runs: int) -> tuple[float, float]:
    """Median and best CPU seconds of parse + check of the 200-line scheme, the
    parser built (CPU time: a busy machine moves it less than wall time)."""
    sys.path.insert(0, str(ROOT))  # this checkout's incentive, as in the processes
    from incentive import parser
    from incentive.checker import check
    from incentive.parser import parse

    if hasattr(parser, "scheme_parser"):
        parser.scheme_parser("en")
    else:  # a commit before the generated tables (to measure before and after)
        parser.lark_parser()
    text = SCHEME200.read_text(encoding="utf-8")
    times = []
    for _ in range(runs):
        start = time.process_time()
        check(parse(text, "scheme200.incentive"), "scheme200.incentive", text)
        times.append(time.process_time() - start)
    return statistics.median(times), min(times)


def instructions(command: list[str], env: dict[str, str]) -> int | None:
    """Instructions the process executes (valgrind --tool=callgrind), or None without
    valgrind. Run once after a warm-up (the bytecode caches written)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "callgrind.out")
        run = subprocess.run(
            [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *command],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    found = re.search(r"Collected : (\d+)", run.stderr)
    return int(found.group(1)) if found else None


def console_script() -> Path | None:
    """The `incentive` script installed next to this interpreter (not a shim on PATH,
    which may add its own start-up), if there is one."""
    script = Path(sys.executable).with_name("incentive")
    return script if script.is_file() else None


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:  # not Linux
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="no .pyc files: every process compiles the modules it imports (a source "
        "checkout on a machine with PYTHONDONTWRITEBYTECODE); by default the processes "
        "read bytecode caches kept in a temporary folder, as an installed package does",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each process's instructions once with valgrind's callgrind",
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    pycache = tempfile.TemporaryDirectory(prefix="incentive-pyc-")
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache.name  # written by each warm-up run
    python = sys.executable
    commands = [
        ("python -c pass", [python, "-c", "pass"]),
        ('python -c "import lark"', [python, "-c", "import lark"]),
        ("import incentive.cli", [python, "-c", "import incentive.cli"]),
        ("python -m incentive check", [python, "-m", "incentive", "check", str(CAMP)]),
        ("python -m incentive check (zh)", [python, "-m", "incentive", "check", str(CAMP_ZH)]),
    ]
    script = console_script()
    if script is not None:
        commands.append(("incentive check (console script)", [str(script), "check", str(CAMP)]))
    print(f"load average at the start: {load_average()}", flush=True)
    rows = []
    for name, command in commands:
        wall, cpu = run_process(command, args.runs, env)
        counted = instructions(command, env) if args.instructions else None
        rows.append((name, wall, cpu, counted))
    pycache.cleanup()
    print(f"load average at the end: {load_average()}")
    bytecode = "no bytecode caches" if args.no_bytecode else "with bytecode caches"
    schemes = f"{CAMP.name} and {CAMP_ZH.name}"
    print(f"cold processes on {schemes}: median of {args.runs} runs, {bytecode}")
    floor = rows[0][3]
    print(f"{'measurement':<36} {'wall ms':>8} {'cpu ms':>8} {'instr M':>8} {'- pass M':>8}")
    for name, wall, cpu, counted in rows:
        extra = ""
        if counted is not None:
            extra = f" {counted / 1e6:>8.0f}"
            if floor is not None:
                extra += f" {(counted - floor) / 1e6:>8.0f}"
        print(f"{name:<36} {wall * 1000:>8.0f} {cpu * 1000:>8.0f}{extra}")
    lines = len(SCHEME200.read_text(encoding="utf-8").splitlines())
    median, best = warm_parse_check(200)
    print(f"warm parse + check, {lines} lines: {median * 1000:.1f} ms CPU (median of 200)", end="")
    print(f", {best * 1000:.1f} ms at best")


if __name__ == "__main__":
    main()
