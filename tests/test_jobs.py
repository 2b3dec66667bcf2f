"""`run --jobs N`: the columnar plan's per-member stages in N worker processes.

Members are split among the workers by number; each worker keeps its members'
limits, caps, streaks and steps from chunk to chunk, and the run's own process
ranks, applies budgets, computes balances and writes. The records must be the
interpreter's bytes, order included, for any N, in one chunk or many; a worker
that dies or meets input that is not plain hands the whole run to the loop.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive import columnar, runner
from incentive.columnar import reading, workers
from incentive.events import read_events
from incentive.program import Program
from tests.clirun import invoke
from tests.test_columnar import line, plain_events, plain_schemes

ROOT = Path(__file__).resolve().parent.parent


def _run(program: Program, path: Path, jobs: int) -> tuple[bytes, runner.RunSummary]:
    def read() -> Any:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    out = io.BytesIO()
    summary = runner.run_files(program, [str(path)], read, out, engine="columnar", jobs=jobs)
    return out.getvalue(), summary


def _interpreter(program: Program, path: Path) -> bytes:
    def read() -> Any:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    out = io.BytesIO()
    runner.run_to(program, read, out, engine="interpreter")
    return out.getvalue()


def _write(tmp: Path, lines: list[str]) -> Path:
    path = tmp / "events.jsonl"
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    return path


@pytest.fixture
def block_bytes(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the plan's chunk size for one test (a few events per chunk carries every
    member's state from chunk to chunk, in each worker)."""
    return lambda size: monkeypatch.setattr(reading, "BLOCK_BYTES", size)


# Worker processes start in about half a second each: few examples, each a real split.
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    text=plain_schemes(),
    events=plain_events(),
    jobs=st.sampled_from([2, 3]),
    block=st.sampled_from([None, 300]),
)
def test_random_plain_schemes_split_by_member_give_the_interpreters_bytes(
    tmp_path: Path, block_bytes: Any, text: str, events: list[dict[str, Any]], jobs: int, block: Any
) -> None:
    program = incentive.compile(text, "plain.incentive")
    if block is not None:
        block_bytes(block)
    events = sorted(events, key=lambda e: e["at"])  # across chunks, the plan needs time order
    path = _write(tmp_path, [json.dumps(e, ensure_ascii=False) for e in events])
    got, summary = _run(program, path, jobs)
    assert got == _interpreter(program, path)
    assert summary.columnar
    assert summary.jobs == (1 if columnar.split_why_not(program) else jobs)


ORDERED = (
    'scheme "s" { currency coins\n  timezone "Asia/Shanghai"\n  seed 7\n  day ends 21:00\n'
    "  group expert { cap 6 per day budget 40 per week }\n"
    "  rule answer { on message where words >= 10 award 2 group expert }\n"
    "  rule ask { on post award 3 group expert limit 2 per day limit 3 per week }\n"
    "  rule vote { on message award 1 limit 1 per day for each channel }\n"
    "  rule box { on post award random(1, 4) cap 5 per day }\n"
    "  rule chat { on message award words / 10 round up cap 4 per day }\n"
    "  rule steady { on message streak per day grace 1 at 2 award 3 at 4 award 5 }\n"
    "  rule plain { on post streak per day at 3 award 10 }\n"
    "  rule busy { on message milestone count at 5 award 4 at 10 award 8 }\n"
    "  rule early { on post top 2 per day by earliest award 5 }\n"
    "  rule most { on message top 3 per week by count award 9 }\n"
    "  events { message(words: number, channel: text) post(words: number) } }"
)


def _ordered_events(tmp_path: Path) -> Path:
    lines = []
    for i in range(240):
        day, hour = 1 + i // 20, 7 + (i * 5) % 15
        who = ("ana", "bo", "cy", "段", "eve", "fay", "gus")[(i * 3) % 7]
        at = f"2026-03-{day:02d}T{hour:02d}:{(i * 7) % 60:02d}:{i % 60:02d}"
        if i % 3 == 0:
            lines.append(line(f"p{i}", "post", who, at, words=i % 40))
        else:
            channel = ("lively", "expert", "other")[i % 3]
            lines.append(line(f"m{i}", "message", who, at, words=(i * 7) % 45, channel=channel))
    lines.sort(key=lambda text: json.loads(text)["at"])
    return _write(tmp_path, lines)


@pytest.mark.parametrize("block", [None, 900])
@pytest.mark.parametrize("budgeted", [True, False])
def test_every_per_member_stage_and_the_global_ones_split(
    tmp_path: Path, block_bytes: Any, block: int | None, budgeted: bool
) -> None:
    """Awards (limits, caps, computed amounts), the loop's own steps (several limits, a
    group's cap, keys, a random draw), streaks (plain and with grace), milestones in
    the workers; ranks in the run's process. With a budget, the workers send record
    rows and the run's process applies the budget, keeps balances and writes; without,
    the workers write their members' lines, balances included, after the run's
    process ranked. The same bytes for 1, 2 and 4 processes, in one chunk or many."""
    program = incentive.compile(ORDERED if budgeted else ORDERED.replace(" budget 40 per week", ""))
    plan = columnar.plan_for(program)
    assert plan is not None and plan.budgeted == budgeted
    assert columnar.split_why_not(program) == []
    if block is not None:
        block_bytes(block)
    path = _ordered_events(tmp_path)
    expected = _interpreter(program, path)
    for jobs in (1, 2, 4):
        got, summary = _run(program, path, jobs)
        assert (summary.columnar, summary.jobs) == (True, jobs)
        assert got == expected
    text = expected.decode()
    for said in ('"kind":"rank"', "limit 3 per week reached", '"kind":"streak"'):
        assert said in text
    assert ('"code":"budget_reached"' in text) == budgeted


def test_a_worker_that_dies_hands_the_run_to_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker ending without an answer (killed, out of memory) loses nothing: the
    whole run is made again by the compiled loop, with the same bytes."""
    monkeypatch.setattr(workers, "WORKER", ("-c", "import sys; sys.exit(3)"))
    program = incentive.compile(ORDERED)
    path = _ordered_events(tmp_path)
    got, summary = _run(program, path, 2)
    assert not summary.columnar and summary.jobs == 1
    assert summary.lost == "a worker process ended without answering"
    assert got == _interpreter(program, path)


FAILING_WORKER = (
    "-c",
    "import pickle, sys\n"
    "pickle.load(sys.stdin.buffer)\n"  # the program
    "pickle.load(sys.stdin.buffer)\n"  # the first chunk
    "pickle.dump(('failed', 'ValueError: boom'), sys.stdout.buffer)\n"
    "sys.stdout.buffer.flush()\n",
)


def test_a_worker_that_fails_hands_the_run_to_the_loop_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's own failure (a bug) is no traceback for the operator: the compiled
    evaluator runs the whole input, and the run's note says what happened."""
    monkeypatch.setattr(workers, "WORKER", FAILING_WORKER)
    program = incentive.compile(ORDERED)
    path = _ordered_events(tmp_path)
    got, summary = _run(program, path, 2)
    assert not summary.columnar and summary.lost == "a worker process failed: ValueError: boom"
    assert got == _interpreter(program, path)
    scheme = tmp_path / "s.incentive"
    scheme.write_text(ORDERED, encoding="utf-8")
    code, said = invoke("run", str(scheme), str(path), "--jobs", "2", "--out", str(tmp_path / "o"))
    assert code == 0
    assert (
        "--jobs 2: the run used one process (a worker process failed: ValueError: boom: "
        "the compiled evaluator ran it instead)" in said
    )
    assert (tmp_path / "o").read_bytes() == got


def test_an_incentive_folder_in_the_current_folder_is_not_what_the_workers_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers run the very code of the run, wherever the operator stands: a folder
    named `incentive` there (an old checkout, say) is not imported by them."""
    fake = tmp_path / "here" / "incentive"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "jobs.py").write_text("raise SystemExit(5)\n", encoding="utf-8")
    path = _ordered_events(tmp_path)
    scheme = tmp_path / "s.incentive"
    scheme.write_text(ORDERED, encoding="utf-8")
    monkeypatch.chdir(fake.parent)
    target = tmp_path / "o.jsonl"
    code, said = invoke("run", str(scheme), str(path), "--jobs", "2", "--out", str(target))
    assert code == 0 and "one process" not in said
    assert target.read_bytes() == _interpreter(incentive.compile(ORDERED), path)


def test_a_worker_that_meets_input_the_plan_cannot_take_hands_it_to_the_loop(
    tmp_path: Path,
) -> None:
    """A computed amount below zero is a penalty, which the ledger floors in time order:
    a worker finds it and the loop runs the whole input instead."""
    program = incentive.compile(
        'scheme "s" { currency coins\n'
        "  rule tip { on tip award words - 20 }\n"
        "  rule hi { on tip award 1 }\n"
        "  events { tip(words: number) } }"
    )
    path = _write(
        tmp_path,
        [
            line(f"t{i}", "tip", f"m{i % 5}", f"2026-03-02T1{i}:00:00", words=30 - 3 * i)
            for i in range(8)
        ],
    )
    got, summary = _run(program, path, 2)
    assert not summary.columnar
    assert got == _interpreter(program, path)


def test_a_scheme_that_counts_across_members_runs_in_one_process(tmp_path: Path) -> None:
    """`milestone distinct` counts a friend once whoever invites them: it cannot be split
    by member, so the plan runs it in one process, and says why."""
    program = incentive.compile(
        'scheme "s" { rule premium { on invite milestone distinct invitee at 2 award 10 }\n'
        "  events { invite(invitee: text) } }"
    )
    assert columnar.why_not(program) == []
    assert columnar.split_why_not(program) == [
        "rule `premium`: `milestone distinct` counts a value once across members"
    ]
    pairs = [("ana", "n1"), ("bo", "n1"), ("ana", "n2"), ("bo", "n3"), ("bo", "n4")]
    path = _write(
        tmp_path,
        [
            line(f"i{i}", "invite", who, f"2026-03-02T1{i}:00:00", invitee=friend)
            for i, (who, friend) in enumerate(pairs)
        ],
    )
    got, summary = _run(program, path, 2)
    assert summary.columnar and summary.jobs == 1
    assert got == _interpreter(program, path)
    assert "--jobs 2: one process: rule `premium`" in columnar.explain(program, 2)


def test_cli_run_jobs(tmp_path: Path) -> None:
    """`incentive run --jobs 2` writes the interpreter's bytes; a scheme or an input the
    split does not take runs in one process with a note saying why; --jobs and --state
    do not go together."""
    path = _ordered_events(tmp_path)
    scheme = tmp_path / "s.incentive"
    for text in (ORDERED.replace(" budget 40 per week", ""), ORDERED):  # lines by the workers
        scheme.write_text(text, encoding="utf-8")
        outputs = {}
        for args in (("--jobs", "2"), ("--engine", "interpreter")):
            target = tmp_path / f"{args[1]}.jsonl"
            code, said = invoke("run", str(scheme), str(path), *args, "--out", str(target))
            assert code == 0 and "one process" not in said
            outputs[args[1]] = target.read_bytes()
        assert outputs["2"] == outputs["interpreter"]

    code, said = invoke(
        "run", "schemes/shop.incentive", "schemes/shop.events.jsonl", "--jobs", "2", "--out",
        str(tmp_path / "shop.jsonl"),
    )  # fmt: skip
    assert code == 0
    assert (
        "--jobs 2: the run used one process (the scheme has no columnar plan; the compiled "
        "evaluator keeps it in one process: budgets: a budget is shared by every member)"
    ) in said

    # the bundled camp's export repeats ids and has a line outside the season
    code, said = invoke(
        "run", "schemes/writing_camp.incentive", "schemes/writing_camp.events.jsonl",
        "--roster", "schemes/writing_camp.roster.csv", "--jobs", "2", "--out",
        str(tmp_path / "camp.jsonl"),
    )  # fmt: skip
    assert code == 0
    assert "the input or the options are ones the columnar plan does not take" in said

    code, said = invoke("run", str(scheme), str(path), "--jobs", "2", "--engine", "compiled")
    assert (
        "--jobs 2: the run used one process (the compiled evaluator keeps it in one process: "
        "rule `early`: a rank, board or league compares members"
    ) in said

    code, said = invoke(
        "run", str(scheme), str(path), "--jobs", "2", "--state", str(tmp_path / "s.db")
    )
    assert code == 2 and "--jobs splits a batch run" in said

    code, said = invoke("run", str(scheme), "x.jsonl", "--jobs", "3", "--explain-plan")
    assert code == 0 and "--jobs 3: awards, streaks and milestones in 3 processes" in said


def test_simulate_and_compare_on_saved_events_take_the_plan_and_split(tmp_path: Path) -> None:
    """`simulate` and `compare` on saved plain events run on the columnar plan (split with
    `--jobs`), their records read back: the same report, table and JSON, as the
    interpreter's."""
    path = _ordered_events(tmp_path)
    scheme = tmp_path / "s.incentive"
    scheme.write_text(ORDERED, encoding="utf-8")
    other = tmp_path / "t.incentive"
    other.write_text(ORDERED.replace("award 9", "award 12"), encoding="utf-8")
    for command in (("simulate", str(scheme)), ("compare", str(scheme), str(other))):
        for fmt in ("json", "table"):
            shown = {}
            for engine, jobs in (("interpreter", "1"), ("columnar", "1"), ("columnar", "3")):
                code, said = invoke(
                    *command, str(path), "--format", fmt, "--engine", engine, "--jobs", jobs
                )
                assert code == 0 and "one process" not in said
                shown[engine, jobs] = said
            assert shown["interpreter", "1"] == shown["columnar", "1"] == shown["columnar", "3"]


def test_simulate_jobs_says_when_it_runs_in_one_process(tmp_path: Path) -> None:
    code, said = invoke(
        "simulate", "schemes/shop.incentive", "schemes/shop.events.jsonl", "--jobs", "2",
    )  # fmt: skip
    assert code == 0
    assert (
        "--jobs 2: the run used one process (the scheme has no columnar plan; the compiled "
        "evaluator keeps it in one process: budgets: a budget is shared by every member)"
    ) in said
