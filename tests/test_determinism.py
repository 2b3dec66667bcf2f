"""Promise #5: the same scheme and events give a byte-identical ledger, whatever
PYTHONHASHSEED is (set and dict-of-set iteration order must never leak into output).

Each case runs the real CLI (`incentive run`) in two subprocesses with different
hash seeds and compares stdout, stderr and the exit code byte for byte.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ("0", "12345")


@functools.cache
def _cli() -> list[str]:
    """`python -m incentive.cli` when it runs, else the console script beside python."""
    probe = subprocess.run(
        [sys.executable, "-m", "incentive.cli", "--version"], capture_output=True, cwd=ROOT
    )
    if probe.returncode == 0 and probe.stdout:
        return [sys.executable, "-m", "incentive.cli"]
    script = Path(sys.executable).with_name("incentive")
    if script.exists():
        return [str(script)]
    found = shutil.which("incentive")
    assert found, "neither `python -m incentive.cli` nor an `incentive` script works"
    return [found]


def _cases() -> list[tuple[str, str, str]]:
    """(name, scheme, events) relative to the repository root."""
    golden = "tests/golden/limits_and_caps"
    cases = []
    for stem in ("daily_tasks", "community"):
        scheme = f"schemes/{stem}.incentive"
        if not (ROOT / scheme).exists():
            continue
        events = sorted((ROOT / "schemes").glob(f"{stem}.events.*"))
        cases.append(
            (stem, scheme, str(events[0].relative_to(ROOT)) if events else f"{golden}/events.jsonl")
        )
    cases.append(("golden/limits_and_caps", f"{golden}/scheme.incentive", f"{golden}/events.jsonl"))
    return cases


def _run_both(command: list[str]) -> list[tuple[int, bytes, bytes]]:
    """Run the command once per hash seed, concurrently (two cores, half the wait)."""
    processes = []
    for seed in SEEDS:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("INCENTIVE_DEBUG", None)
        processes.append(
            subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env
            )
        )
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    return results


@pytest.mark.parametrize("name,scheme,events", _cases(), ids=[c[0] for c in _cases()])
def test_run_is_byte_identical_across_hash_seeds(name: str, scheme: str, events: str) -> None:
    (code, out, err), (code2, out2, err2) = _run_both([*_cli(), "run", scheme, events])
    assert code in (0, 1), err.decode(errors="replace")
    assert out.count(b"\n") > 5, "the run printed (almost) no records"
    assert out == out2, _first_difference(out, out2)
    assert err == err2
    assert code == code2


def _first_difference(a: bytes, b: bytes) -> str:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return f"line {number} differs:\n  {x!r}\n  {y!r}"
    return f"lengths differ: {len(a)} and {len(b)} bytes"


def test_a_store_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    """The same with `--state`: the stores' records and members' state, byte for byte."""
    import sqlite3

    scheme, events = "schemes/community.incentive", "schemes/community.events.jsonl"
    processes = []
    for seed in SEEDS:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [*_cli(), "run", "--quiet", "--close", "--state", str(tmp_path / f"{seed}.db")]
        processes.append(
            subprocess.Popen([*command, scheme, events], stdout=subprocess.PIPE, cwd=ROOT, env=env)
        )
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert outputs[0] == outputs[1], _first_difference(outputs[0], outputs[1])
    tables = []
    for seed in SEEDS:
        db = sqlite3.connect(tmp_path / f"{seed}.db")
        tables.append(
            (
                list(db.execute("SELECT seq, record FROM records ORDER BY seq")),
                list(db.execute("SELECT member, state FROM members ORDER BY rowid")),
                list(db.execute("SELECT name, value FROM fields ORDER BY name")),
            )
        )
        db.close()
    assert len(tables[0][0]) > 100
    assert tables[0] == tables[1]
