"""Start-up benchmark: `python bench/startup.py [--runs N]`.

Measures what an operator waits for when typing `incentive check SCHEME`:
  - the command as a fresh process (median of N runs), as `python -m incentive` and
    as the installed `incentive` script, with the parser cache filled and with it
    empty (the first run after an install or a grammar change);
  - `import incentive.cli` alone; `python -c pass`, the floor of any command, and
    `python -c "import lark"`, what any tool built on lark pays to import it
    (baselines measured in the same run: on a shared machine, compare against them);
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
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAMP = ROOT / "schemes" / "writing_camp.incentive"
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
    from incentive.checker import check
    from incentive.parser import lark_parser, parse

    lark_parser()
    text = SCHEME200.read_text(encoding="utf-8")
    times = []
    for _ in range(runs):
        start = time.process_time()
        check(parse(text, "scheme200.incentive"), "scheme200.incentive", text)
        times.append(time.process_time() - start)
    return statistics.median(times), min(times)


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
    check = [python, "-m", "incentive", "check", str(CAMP)]
    print(f"load average at the start: {load_average()}", flush=True)
    rows = [
        ("python -c pass", run_process([python, "-c", "pass"], args.runs, env)),
        ('python -c "import lark"', run_process([python, "-c", "import lark"], args.runs, env)),
        (
            "import incentive.cli",
            run_process([python, "-c", "import incentive.cli"], args.runs, env),
        ),
        ("python -m incentive check", run_process(check, args.runs, env)),
    ]
    script = console_script()
    if script is not None:
        command = [str(script), "check", str(CAMP)]
        rows.append(("incentive check (console script)", run_process(command, args.runs, env)))
    with tempfile.NamedTemporaryFile() as blocker:
        # A cache folder inside a file cannot be made, even by root: every run builds
        # the parser, as the first run after an install or a grammar change does.
        nowhere = {**env, "INCENTIVE_CACHE_DIR": str(Path(blocker.name) / "cache")}
        rows.append(("check, no parser cache", run_process(check, args.runs, nowhere)))
    pycache.cleanup()
    print(f"load average at the end: {load_average()}")
    bytecode = "no bytecode caches" if args.no_bytecode else "with bytecode caches"
    print(f"cold processes on {CAMP.name}: median of {args.runs} runs, {bytecode}")
    print(f"{'measurement':<36} {'wall ms':>8} {'cpu ms':>8}")
    for name, (wall, cpu) in rows:
        print(f"{name:<36} {wall * 1000:>8.0f} {cpu * 1000:>8.0f}")
    lines = len(SCHEME200.read_text(encoding="utf-8").splitlines())
    median, best = warm_parse_check(200)
    print(f"warm parse + check, {lines} lines: {median * 1000:.1f} ms CPU (median of 200)", end="")
    print(f", {best * 1000:.1f} ms at best")


if __name__ == "__main__":
    main()
