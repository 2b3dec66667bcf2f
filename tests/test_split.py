"""`run --jobs N` on the compiled evaluator (incentive/split.py): members split across N
sessions in worker processes, the records written in one session's order.

Every claim is differential: the bytes of `--jobs 2` and `--jobs 3` are those of one
compiled session and of the interpreter, on the bundled schemes that split, on larger
generated inputs (duplicates, conflicting ids across members, bad lines, unknown
types, input out of time order), on random per-member schemes (levels rolling or not,
expiry of several lengths, pending points, redeem blocks, flags), and when a worker
is killed mid-run (the one-process answer, and a note saying why).
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive import runner, split
from incentive.events import read_events
from incentive.program import Program
from incentive.roster import Roster
from tests.clirun import invoke
from tests.test_compiled import CONDITIONS, menu_events

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = sorted((ROOT / "schemes").glob("*.incentive"))


def _reader(program: Program, path: Path) -> Callable[[], Any]:
    def read() -> Any:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    return read


def _run(
    program: Program,
    path: Path,
    jobs: int,
    engine: Any = "compiled",
    roster: Roster | None = None,
    until: datetime | None = None,
) -> tuple[bytes, runner.RunSummary]:
    out = io.BytesIO()
    summary = runner.run_to(program, _reader(program, path), out, until, roster, engine, jobs=jobs)
    return out.getvalue(), summary


def _write(tmp: Path, events: list[Any], name: str = "events.jsonl") -> Path:
    path = tmp / name
    lines = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in events]
    path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    return path


def _roster(scheme: Path) -> Roster | None:
    roster = scheme.with_suffix(".roster.csv")
    return incentive.load_roster(str(roster)) if roster.exists() else None


CLOSE_CODES = ("expired", "released", "level_dropped", "inactive")


def assert_closes_at_day_ends(program: Program, records: bytes) -> None:
    """Every record time passing writes falls at a day's boundary (the scheme's zone and
    `day ends`): so a worker that advances once per day, as the compiled handlers do,
    misses none."""
    calendar = program.calendar
    for line in records.splitlines():
        record = json.loads(line)
        if record.get("code") in CLOSE_CODES:
            instant = datetime.fromisoformat(record["at"])
            assert calendar.day_start(calendar.day_of(instant)) == instant, record


# ---- which schemes split -------------------------------------------------------------------


def test_what_keeps_the_compiled_evaluator_in_one_process() -> None:
    """Per construct, by what it reads: a member's own state splits; what compares,
    pays or shares across members does not, and is named."""
    split_ok = {p.stem for p in SCHEMES if not split.loop_split_why_not(incentive.load(str(p)))}
    assert {"member_day", "redemption", "group_bot"} <= split_ok
    shop = incentive.load(str(ROOT / "schemes" / "shop.incentive"))
    assert split.loop_split_why_not(shop) == ["budgets: a budget is shared by every member"]
    referrals = incentive.load(str(ROOT / "schemes" / "referrals.incentive"))
    assert any("a referral pays the inviter" in why for why in split.loop_split_why_not(referrals))
    city = incentive.load(str(ROOT / "schemes" / "city_race.incentive"))
    assert "teams: a team's members share its ranks, goals and caps" in (
        split.loop_split_why_not(city)
    )
    for text, said in (
        ("rule r { on a top 1 per day by count award 1 }", "a rank, board or league"),
        ("rule r { on a milestone distinct x at 2 award 1 }", "`milestone distinct`"),
        ("rule r { on a first 2 per day award 1 }", "`first N` members"),
        ('grants g { on a allowance 5 per day for "x" }', "grants:"),
        ("transfer t { on a to x amount y }", "transfers:"),
        ("reverse v { on a by x within 2 days }", "reversals:"),
    ):
        program = incentive.compile(f'scheme "s" {{ {text} }}')
        assert any(said in why for why in split.loop_split_why_not(program)), text


def test_owner_is_a_stable_rule() -> None:
    """A member's worker depends on the member and N only: the same in every process and
    on every run (a CRC-32, not Python's salted hash)."""
    assert [split.owner(m, 3) for m in ("ana", "bo", "段", "")] == [
        split.owner(m, 3) for m in ("ana", "bo", "段", "")
    ]
    assert (split.owner("ana", 2), split.owner("bo", 2)) == (0, 1)  # zlib.crc32's parity
    assert {split.owner(f"m{i}", 3) for i in range(30)} == {0, 1, 2}


# ---- the bundled schemes -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda p: p.stem)
def test_bundled_schemes_give_one_sessions_bytes_split(scheme: Path) -> None:
    """Each bundled scheme on its own events: `--jobs 2` and `--jobs 3` write the bytes
    of one compiled session and of the interpreter where the scheme splits; where it does
    not, the run is one process (and still the same bytes)."""
    events = scheme.with_suffix(".events.jsonl")
    if not events.exists():
        pytest.skip("no bundled events")
    program = incentive.load(str(scheme))
    roster = _roster(scheme)
    expected, _ = _run(program, events, 1, "interpreter", roster)
    splits = not split.loop_split_why_not(program)
    for jobs in (2, 3) if splits else (2,):
        got, summary = _run(program, events, jobs, roster=roster)
        assert got == expected, (scheme.stem, jobs)
        assert summary.jobs == (jobs if splits else 1)
        assert summary.lost is None
    if splits:  # and through `run_files`, as `incentive run` calls it
        out = io.BytesIO()
        summary = runner.run_files(
            program, [str(events)], _reader(program, events), out, None, roster, jobs=2
        )
        assert out.getvalue() == expected and summary.jobs == 2


def test_the_interpreter_splits_the_same_way() -> None:
    """`--engine interpreter --jobs 2`: the workers' sessions are the interpreter's (the
    same tap on `_advance`, the same shadowed intake), and so are the bytes."""
    program = incentive.load(str(ROOT / "schemes" / "group_bot.incentive"))
    events = ROOT / "schemes" / "group_bot.events.jsonl"
    expected, _ = _run(program, events, 1, "interpreter")
    got, summary = _run(program, events, 2, "interpreter")
    assert got == expected and summary.jobs == 2


def test_values_messagepack_cannot_carry_cross_pickled(tmp_path: Path) -> None:
    """A batch with a whole number past 64 bits or a text with a lone surrogate goes to
    the workers pickled (MessagePack refuses them): the same bytes."""
    program = incentive.load(str(ROOT / "schemes" / "member_day.incentive"))
    lines = [
        '{"id":"a","type":"topic","member":"ann","at":"2026-03-01T10:00:00","words":70,'
        '"note":"\\ud800x"}',
        '{"id":"b","type":"topic","member":"bo","at":"2026-03-01T11:00:00",'
        '"words":123456789012345678901234567890}',
        '{"id":"c","type":"checkin","member":"cy","at":"2026-03-01T12:00:00"}',
    ]
    path = _write(tmp_path, lines)
    events = list(_reader(program, path)())
    assert split._packed(events)[0] == "pickled"
    expected, _ = _run(program, path, 1, "interpreter")
    got, summary = _run(program, path, 2)
    assert got == expected and summary.jobs == 2


# ---- larger generated inputs ---------------------------------------------------------------

GENERATED = {
    "member_day": (
        ("checkin", {}),
        ("quiz", {"correct": [True, False, "yes"]}),
        ("topic", {"words": [10, 60, 120, "many"]}),
        ("trial", {}),
        ("blind_box", {}),
        ("redeem", {"points": [50, 100, 150, 300, 20]}),
    ),
    "redemption": (
        ("purchase", {"amount": [5, 120, 900, 3000, -4]}),
        ("redeem", {"points": [500, 600, 1000, 5000, 100]}),
    ),
    "group_bot": (
        ("checkin", {}),
        ("message", {"words": [2, 8, 40]}),
        ("red_packet", {"amount": [1, 5]}),
        ("ad", {"red_packet": [True, False]}),
    ),
}


def generated_lines(
    kinds: tuple[tuple[str, dict[str, list[Any]]], ...],
    count: int,
    members: int,
    days: int,
    seed: int,
    in_order: bool = True,
) -> list[str]:
    """`count` events of `members` members over `days` days (some quiet for weeks, so
    that flags and expiries fall due), with what exports hold: re-sent lines, an id
    reused by another member or for other content, broken lines, unknown types,
    mistyped attributes; in time order, or with a tail out of order."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, 0, 0)
    quiet = {f"m{i}" for i in range(0, members, 7)}
    events: list[dict[str, Any]] = []
    for i in range(count):
        at = start + timedelta(seconds=rng.randrange(days * 86400))
        who = f"m{rng.randrange(members)}"
        if who in quiet and at.day % 10 > 2:
            who = f"m{rng.randrange(members)}"
        kind, attributes = rng.choice(kinds)
        event: dict[str, Any] = {"id": f"e{i}", "type": kind, "member": who}
        event["at"] = at.isoformat(timespec="seconds")
        for name, values in attributes.items():
            if rng.random() < 0.97:
                event[name] = rng.choice(values)
        if rng.random() < 0.005:
            event["type"] = "unknown_thing"
        events.append(event)
    events.sort(key=lambda e: e["at"])
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    out: list[str] = []
    for index, line in enumerate(lines):
        out.append(line)
        roll = rng.random()
        if roll < 0.01:
            out.append(line)  # a double tap
        elif roll < 0.02:  # the same id, another member (same time: still in order)
            other = json.loads(line)
            other["member"] = f"m{rng.randrange(members)}"
            out.append(json.dumps(other, ensure_ascii=False))
        elif roll < 0.025 and index > 50:  # an earlier id reused, a later time
            reused = json.loads(lines[index - rng.randrange(1, 50)])
            reused["at"] = json.loads(line)["at"]
            reused["member"] = f"m{rng.randrange(members)}"
            out.append(json.dumps(reused, ensure_ascii=False))
        elif roll < 0.028:
            out.append('{"id": "broken", "type": ')
    if not in_order:
        tail = out[-len(out) // 5 :]
        rng.shuffle(tail)
        out[-len(tail) :] = tail
    return out


@pytest.mark.parametrize("name", sorted(GENERATED))
@pytest.mark.parametrize("in_order", [True, False])
def test_generated_inputs_give_one_sessions_bytes(
    tmp_path: Path, name: str, in_order: bool
) -> None:
    """6,000 events of 150 members over 75 days (rolling levels, expiry, redemptions,
    flags after 14 quiet days): 1, 2 and 3 processes and the interpreter, byte for byte,
    with the input in order (one pass) or not (sorted on disk, read again)."""
    program = incentive.load(str(ROOT / "schemes" / f"{name}.incentive"))
    lines = generated_lines(GENERATED[name], 6000, 150, 75, seed=len(name), in_order=in_order)
    path = _write(tmp_path, lines)
    expected, one = _run(program, path, 1, "interpreter")
    compiled, _ = _run(program, path, 1)
    assert compiled == expected
    for jobs in (2, 3):
        got, summary = _run(program, path, jobs)
        assert got == expected, jobs
        assert (summary.jobs, summary.resorted, summary.members) == (
            jobs,
            not in_order,
            one.members,
        )
        assert summary.kinds == one.kinds and summary.lacking == one.lacking
    assert_closes_at_day_ends(program, expected)
    text = expected.decode()
    for kind in ("duplicate", "conflict", "bad_event"):
        assert f'"kind":"{kind}"' in text
    closes = {"member_day": "expired", "group_bot": "inactive", "redemption": "redeemed"}
    assert f'"code":"{closes[name]}"' in text


def test_generated_input_up_to_an_instant(tmp_path: Path) -> None:
    """`--until`: every worker advances to the same instant; the same bytes."""
    program = incentive.load(str(ROOT / "schemes" / "member_day.incentive"))
    path = _write(tmp_path, generated_lines(GENERATED["member_day"], 3000, 80, 40, seed=3))
    until = datetime(2026, 6, 20, 12, 0)
    expected, _ = _run(program, path, 1, "interpreter", until=until)
    got, summary = _run(program, path, 2, until=until)
    assert got == expected and summary.jobs == 2


CLOSES = """scheme "closes" {
  currency coins, xp
  timezone "Asia/Shanghai"
  expire after 1 days
  levels over 2 days { bronze 0 silver 3 gold 8 }
  rule hi { on hi award 2 }
  rule slow { on hi award 1 xp pending 1 days }
  rule quiet { on hi inactive 1 days flag "quiet" }
  rule gone { on hi inactive 2 days flag "gone" }
  events { hi }
}
"""


def test_closes_of_many_members_at_one_instant_merge_in_one_sessions_order(
    tmp_path: Path,
) -> None:
    """Many members whose levels drop, points release and expire, and flags rise at the
    same instants, kept by different workers: the merge puts them in the one session's
    order (by step, then member; flags by rule, then member)."""
    program = incentive.compile(CLOSES)
    assert split.loop_split_why_not(program) == []
    members = [f"u{i:02d}" for i in range(24)]
    events = [
        {"id": f"h{day}-{m}", "type": "hi", "member": m, "at": f"2026-03-{day:02d}T10:{i:02d}:00"}
        for day in (2, 3, 6)
        for i, m in enumerate(members)
        if (day + i) % 3
    ]
    path = _write(tmp_path, events)
    expected, _ = _run(program, path, 1, "interpreter")
    for jobs in (2, 3):
        got, _summary = _run(program, path, jobs)
        assert got == expected
    assert_closes_at_day_ends(program, expected)
    records = [json.loads(line) for line in expected.splitlines()]
    codes = {r.get("code") for r in records}
    assert set(CLOSE_CODES) <= codes
    # the proof is not vacuous: at one instant, one step's records alternate workers
    steps: dict[tuple[str, str], list[str]] = {}
    for r in records:
        if r.get("code") in CLOSE_CODES:
            steps.setdefault((r["at"], r["code"]), []).append(r["member"])
    assert any(
        len({split.owner(m, 2) for m in who}) == 2 and who == sorted(who)
        for (_at, code), who in steps.items()
        if code != "inactive"
    )


# ---- random per-member schemes ---------------------------------------------------------------

MEMBERS = ("ana", "bo", "cy", "段", "lead")


@st.composite
def member_schemes(draw: st.DrawFn) -> str:
    """A scheme of per-member constructs only: awards (limits, caps, pending points),
    penalties, streaks, milestones, levels (rolling or not), expiry of several lengths,
    redeem blocks, flags for inactivity, boosts, a season and a day's end."""
    small = lambda low=1, high=4: draw(st.integers(low, high))  # noqa: E731
    period = lambda: draw(st.sampled_from(("day", "week")))  # noqa: E731
    head = [
        "currency coins, xp",
        f'timezone "{draw(st.sampled_from(("Asia/Shanghai", "America/New_York", "UTC")))}"',
    ]
    ends = draw(st.sampled_from((None, "21:00", "04:00")))
    if ends is not None:
        head.append(f"day ends {ends}")
    if draw(st.integers(0, 3)) == 0:
        head.append("season 2026-03-02 to 2026-03-09")
    expiry = draw(
        st.sampled_from(
            (
                None,
                "expire after 1 days",
                "expire after 2 days",
                "expire after 3 days",
                "expire at end of week",
                "expire after 1 weeks at end of week",
            )
        )
    )
    if expiry is not None:
        head.append(expiry)
    rules: list[str] = []
    paying: list[str] = []  # per-event award rules a boost may name
    if draw(st.booleans()):
        window = f" over {small(1, 4)} days" if draw(st.booleans()) else ""
        rules.append(f"levels{window} {{ bronze 0 silver {small(3, 10)} gold {small(12, 30)} }}")
    for index in range(draw(st.integers(1, 5))):
        name = f"r{index}"
        kind = draw(
            st.sampled_from(
                (
                    *("award", "award", "held", "penalty", "streak", "milestone", "idle"),
                    *("redeem", "clock", "start_window", "window", "every_time", "earned"),
                )
            )
        )
        if kind in ("award", "held"):
            on = draw(st.sampled_from(("message", "post", "checkin")))
            amount = "words / 10" if on != "checkin" and draw(st.booleans()) else str(small(1, 9))
            currency = " xp" if draw(st.integers(0, 3)) == 0 else ""
            parts = [f"on {on}", f"award {amount}{currency}"]
            if draw(st.booleans()):
                parts.append(f"limit {small()} per {period()}")
            if draw(st.booleans()):
                parts.append(f"cap {small(2, 15)} per {period()}")
            if kind == "held":
                parts.append(f"pending {small(1, 3)} days")
            rules.append(f"rule {name} {{ {' '.join(parts)} }}")
            paying.append(name)
        elif kind == "penalty":
            rules.append(f"rule {name} {{ on ad award -{small(2, 20)} }}")
        elif kind == "streak":
            rules.append(
                f"rule {name} {{ on checkin streak per {period()} at 2 award {small()} "
                f'at 3 badge "three" }}'
            )
        elif kind == "milestone":
            rules.append(
                f'rule {name} {{ on post milestone count at 2 award {small()} at 4 flag "busy" }}'
            )
        elif kind == "idle":
            on = draw(st.sampled_from(("message, checkin", "post", "checkin")))
            rules.append(f'rule {name} {{ on {on} inactive {small(1, 3)} days flag "idle" }}')
        elif kind == "clock":
            when = draw(st.sampled_from(CONDITIONS[-2:]))
            rules.append(f"rule {name} {{ on checkin where {when} award 2 limit 1 per day }}")
            if draw(st.booleans()) and "timezone from tz" not in head:
                head.append("timezone from tz")  # the member's own zone: a bad one is refused
        elif kind == "start_window":
            start = draw(st.sampled_from(("first checkin", "first post")))
            rules.append(f"rule {name} {{ on post within {small(0, 3)} days of {start} award 3 }}")
        elif kind == "window":
            rules.append(
                f"rule {name} {{ on checkin, post window {small(1, 3)} within {small(1, 4)} days "
                f"award {small()} }}"
            )
        elif kind == "every_time":
            rules.append(
                f'rule {name} {{ on message badge "b{index}" every time limit 2 per day }}'
            )
        elif kind == "earned":
            rules.append(
                f"rule {name} {{ streak per {period()} reaching {small(3, 20)} earned "
                f'at 2 award {small()} at 3 badge "steady" }}'
            )
        else:
            rules.append(
                f"redeem {name} {{ on redeem amount points minimum {small(1, 5)} "
                f"multiple {small(1, 3)} limit {small(1, 3)} per {period()} }}"
            )
    if paying and draw(st.booleans()):
        rules.append(f"boost b {{ times 2 on friday for {draw(st.sampled_from(paying))} }}")
    body = "\n  ".join(head + rules)
    return (
        f'scheme "members" {{\n  {body}\n  events {{ checkin message(words: number, '
        "channel: text, likes: number, vip: bool) post(words: number, likes: number) ad "
        "redeem(points: number) }\n}\n"
    )


@settings(
    max_examples=int(os.environ.get("INCENTIVE_SPLIT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    text=member_schemes(),
    events=menu_events(),
    more=st.lists(
        st.tuples(
            st.sampled_from(MEMBERS),
            st.sampled_from(("checkin", "message", "post", "ad", "redeem")),
            st.integers(0, 20 * 24 * 60),
        ),
        max_size=60,
    ),
    jobs=st.sampled_from([2, 3]),
)
def test_random_per_member_schemes_split_give_the_interpreters_bytes(
    tmp_path: Path, text: str, events: list[dict[str, Any]], more: list[Any], jobs: int
) -> None:
    """Random per-member schemes on random events over three weeks (duplicates, an id
    reused by another member, unknown types, out of order): the split run writes the
    interpreter's bytes."""
    program = incentive.compile(text, "members.incentive")
    assert split.loop_split_why_not(program) == []
    base = datetime(2026, 3, 1)
    for index, (who, kind, minute) in enumerate(more):
        event: dict[str, Any] = {
            "id": f"x{index}",
            "type": kind,
            "member": who,
            "at": (base + timedelta(minutes=minute)).isoformat(),
        }
        if kind in ("message", "post"):
            event["words"] = minute % 90
        if kind == "redeem":
            event["points"] = minute % 25
        events.append(event)
    path = _write(tmp_path, events)
    expected, _ = _run(program, path, 1, "interpreter")
    got, summary = _run(program, path, jobs)
    assert got == expected
    assert summary.jobs == jobs and summary.lost is None
    assert_closes_at_day_ends(program, expected)


# ---- lost workers ----------------------------------------------------------------------------


def test_a_worker_killed_mid_run_hands_the_run_to_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed while the run is under way (its batches half answered): the whole
    run is made again in one process, with the same bytes, and the summary says why."""
    program = incentive.load(str(ROOT / "schemes" / "member_day.incentive"))
    path = _write(tmp_path, generated_lines(GENERATED["member_day"], 3000, 60, 30, seed=5))
    monkeypatch.setattr(split, "BATCH", 100)
    sent = split.LoopWorkers._send
    count = [0]

    def send_then_kill(self: split.LoopWorkers, batch: list[Any]) -> list[int]:
        count[0] += 1
        if count[0] == 5:
            os.kill(self.workers[1].pid, signal.SIGKILL)
        return sent(self, batch)

    monkeypatch.setattr(split.LoopWorkers, "_send", send_then_kill)
    got, summary = _run(program, path, 2)
    assert count[0] >= 5
    assert summary.jobs == 1 and summary.lost == "a worker process ended without answering"
    assert got == _run(program, path, 1, "interpreter")[0]


def test_a_worker_that_fails_hands_the_run_to_one_process_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's failure (a bug) is no traceback: one process runs it, and `run` says so."""
    monkeypatch.setattr(
        split,
        "WORKER",
        (
            "-c",
            "import pickle, sys\n"
            "pickle.load(sys.stdin.buffer)\n"  # the program
            "pickle.load(sys.stdin.buffer)\n"  # its number
            "pickle.load(sys.stdin.buffer)\n"  # the first batch
            "pickle.dump(('failed', 'ValueError: boom'), sys.stdout.buffer)\n"
            "sys.stdout.buffer.flush()\n",
        ),
    )
    scheme = ROOT / "schemes" / "member_day.incentive"
    events = ROOT / "schemes" / "member_day.events.jsonl"
    program = incentive.load(str(scheme))
    got, summary = _run(program, events, 2)
    assert summary.lost == "a worker process failed: ValueError: boom"
    assert got == _run(program, events, 1, "interpreter")[0]
    target = tmp_path / "o.jsonl"
    code, said = invoke("run", str(scheme), str(events), "--jobs", "2", "--out", str(target))
    assert code == 0 and target.read_bytes() == got
    assert (
        "--jobs 2: the run used one process (a worker process failed: ValueError: boom: "
        "the compiled evaluator ran it instead)" in said
    )


# ---- the commands ------------------------------------------------------------------------------


def test_cli_run_jobs_on_the_compiled_evaluator(tmp_path: Path) -> None:
    """`incentive run --jobs 2` on schemes the columnar plan declines: the interpreter's
    bytes, no note; a filter (--only) keeps one process and says so; --explain-plan
    says whether and how the compiled evaluator splits."""
    for name in ("member_day", "redemption", "group_bot"):
        scheme, events = (
            str(ROOT / "schemes" / f"{name}.{x}") for x in ("incentive", "events.jsonl")
        )
        outputs = {}
        for args in (("--jobs", "2"), ("--jobs", "3"), ("--engine", "interpreter")):
            target = tmp_path / f"{name}{args[1]}.jsonl"
            code, said = invoke("run", scheme, events, *args, "--out", str(target))
            assert code == 0 and "one process" not in said
            outputs[args[1]] = target.read_bytes()
        assert outputs["2"] == outputs["3"] == outputs["interpreter"]
    code, said = invoke("run", scheme, events, "--jobs", "2", "--only", "award")
    assert (
        "--jobs 2: the run used one process (the scheme has no columnar plan; --only, --member "
        "and --post keep a run in one process)" in said
    )
    code, said = invoke("run", scheme, events, "--jobs", "2", "--explain-plan")
    assert code == 0
    assert "--jobs 2, compiled evaluator: 2 sessions in 2 processes, members split" in said
    assert "is not split" not in said
    code, said = invoke("run", "schemes/shop.incentive", "x.jsonl", "--jobs", "2", "--explain-plan")
    assert "--jobs 2, compiled evaluator: one process: budgets: a budget is shared" in said


@pytest.mark.parametrize("name", ["member_day", "group_bot"])
def test_simulate_on_saved_events_splits_with_the_same_report(name: str) -> None:
    """`simulate --jobs 2` on saved events: the members' states come back from the
    workers (levels for the report), the same report as one process's."""
    scheme, events = (str(ROOT / "schemes" / f"{name}.{x}") for x in ("incentive", "events.jsonl"))
    shown = {}
    for args in (("--jobs", "1"), ("--jobs", "2"), ("--engine", "interpreter")):
        code, said = invoke("simulate", scheme, events, "--format", "json", *args)
        assert code == 0 and "one process" not in said
        shown[args] = said
    assert len(set(shown.values())) == 1
    if name == "group_bot":
        assert '"level' in shown["--jobs", "2"]
