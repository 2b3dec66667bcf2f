"""Bad input never corrupts and never stops a run (issue 16; reliability.md #16).

Encodings, extreme values, silent non-payment and output safety: each case is a
way real exports and real operators broke a run, or quietly paid the wrong
member, before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from incentive.cli import main

SCHEME = """\
scheme "t" {
  currency points
  timezone "Asia/Shanghai"
  team class

  events {
    signin
    comment(words: number)
  }

  rule signin {
    on signin
    award 10
    limit 1 per day
  }

  rule comment {
    on comment
    where words >= 5
    award 20
    limit 3 per day
  }
}
"""

NAMES = ("张三", "李四", "王五")


def run(*args: str, input: bytes | str | None = None) -> tuple[int, str]:
    """Exit code and output (standard output and error) of `incentive ARGS`; never a
    traceback."""
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def records(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def signins(names: tuple[str, ...] = NAMES) -> str:
    return "".join(
        json.dumps(
            {"type": "signin", "member": name, "at": f"2026-03-02T09:0{i}:00"}, ensure_ascii=False
        )
        + "\n"
        for i, name in enumerate(names)
    )


@pytest.fixture
def scheme(tmp_path: Path) -> Path:
    path = tmp_path / "s.incentive"
    path.write_text(SCHEME, encoding="utf-8")
    return path


# ---- encodings -------------------------------------------------------------------------


def test_gbk_events_are_refused_naming_the_file_the_line_and_the_encoding(
    scheme: Path, tmp_path: Path
) -> None:
    events = tmp_path / "gbk.jsonl"
    events.write_bytes(signins().encode("gbk"))
    code, out = run("run", str(scheme), str(events))
    assert code == 2
    assert f"{events}: line 1 is not UTF-8 text" in out
    assert "--encoding gbk" in out
    assert records(out) == []  # nothing half-paid to a merged `����`


def test_a_bad_byte_late_in_a_file_the_plan_takes_is_refused_and_out_kept(
    scheme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The columnar plan reads the files itself (no reading ahead for the encoding):
    records of the first blocks written into --out's file, a byte that is not UTF-8
    near the end still refuses the run naming its line, and the old file stays."""
    from incentive.columnar import reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 300)  # records written before the bad line
    lines = [
        json.dumps(
            {"id": f"e{n}", "type": "signin", "member": f"m{n}", "at": f"2026-03-02T09:{n:02d}:00"}
        )
        for n in range(30)
    ]
    events = tmp_path / "late.jsonl"
    events.write_bytes(("\n".join(lines) + "\n").encode() + "王五".encode("gbk") + b"\n")
    out = tmp_path / "records.jsonl"
    out.write_bytes(b"yesterday's records\n")
    code, said = run("run", str(scheme), str(events), "--out", str(out))
    assert code == 2
    assert f"{events}: line 31 is not UTF-8 text" in said
    assert out.read_bytes() == b"yesterday's records\n"
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, said = run("run", str(scheme), str(good), "--explain-plan")
    assert code == 0 and "no columnar plan" not in said  # the plan would take such a file


def _through_a_pipe(path: Path, data: bytes) -> threading.Event:
    """A named pipe at `path` fed `data` by a thread, as `<(zcat events.gz)` is fed:
    whoever opens it again gets an empty stream (set the returned event to stop)."""
    os.mkfifo(path)
    stop = threading.Event()

    def feed() -> None:
        with path.open("wb") as pipe:
            pipe.write(data)
        while not stop.wait(0.05):  # a second reader: end of input at once, not a hang
            with contextlib.suppress(OSError):  # OSError: no reader waiting
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    threading.Thread(target=feed, daemon=True).start()
    return stop


@pytest.mark.parametrize("command", ["run", "run-unordered", "simulate", "compare", "explain"])
def test_a_pipe_is_read_once_and_pays_as_the_file_does(
    scheme: Path, tmp_path: Path, command: str
) -> None:
    """`incentive run scheme <(zcat events.gz)`: a pipe can be read once, and a run reads
    its input again when it is out of time order (compare: once per scheme; the
    columnar plan, then the loop). Read twice, the second reading was empty: no
    records, exit 0. Now the same records as from the file, the pipe's name as source."""
    lines = [
        *signins().splitlines(keepends=True),
        '{"type": "comment", "member": "李四", "at": "2026-03-02T10:00:00", "words": 9}\n',
        "not json\n",
    ]
    if command == "run-unordered":
        lines.reverse()
    data = "".join(lines).encode()
    file = tmp_path / "events.jsonl"
    file.write_bytes(data)
    args = {
        "run": ["run", str(scheme)],
        "run-unordered": ["run", str(scheme)],
        "simulate": ["simulate", str(scheme), "--format", "json"],
        "compare": ["compare", str(scheme), str(scheme), "--format", "json"],
        "explain": ["explain", str(scheme), "--member", "李四"],
    }[command]
    code, expected = run(*args, str(file))
    assert code in (0, 1), expected  # 1: the bad line was reported
    paid = '"a": 50' if command == "compare" else "李四"
    assert paid in expected
    pipe = tmp_path / "pipe.jsonl"
    stop = _through_a_pipe(pipe, data)
    try:
        piped, got = run(*args, str(pipe))
    finally:
        stop.set()
    assert piped == code
    assert got.replace(str(pipe), str(file)) == expected


def test_gbk_events_read_with_encoding_pay_three_members(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "gbk.jsonl"
    events.write_bytes(signins().encode("gbk"))
    code, out = run("run", str(scheme), str(events), "--encoding", "gbk", "--quiet")
    assert code == 0
    paid = [r["member"] for r in records(out) if r["kind"] == "award"]
    assert paid == list(NAMES)


def test_the_first_bad_line_is_named(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "mixed.jsonl"
    good = signins(("ana", "bo")).encode("utf-8")
    events.write_bytes(good + signins(("café",)).encode("latin-1"))
    code, out = run("run", str(scheme), str(events))
    assert code == 2
    assert "line 3 is not UTF-8 text" in out and "--encoding cp1252" in out


def test_standard_input_that_is_not_utf8_is_refused_not_an_internal_error(
    scheme: Path,
) -> None:
    for command in ("run", "simulate"):
        code, out = run(command, str(scheme), "-", input=signins().encode("gbk"))
        assert code == 2, command
        assert "<stdin>: line 1 is not UTF-8 text" in out


def test_a_bom_is_allowed_and_utf8_with_bom_pays_everyone(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "bom.jsonl"
    events.write_bytes(signins().encode("utf-8-sig"))
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 0
    assert [r["member"] for r in records(out) if r["kind"] == "award"] == list(NAMES)


def test_an_unknown_encoding_is_a_usage_error(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(signins(), encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--encoding", "klingon")
    assert code == 2 and "unknown encoding `klingon`" in out


def test_a_gbk_roster_is_refused_or_read_with_encoding(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(signins(), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_bytes("member,class\n张三,一班\n李四,二班\n王五,一班\n".encode("gbk"))
    code, out = run("run", str(scheme), str(events), "--roster", str(roster))
    assert code == 2 and f"{roster}: line 2 is not UTF-8 text" in out
    events.write_bytes(signins().encode("gbk"))
    code, out = run(
        "run", str(scheme), str(events), "--roster", str(roster), "--encoding", "gbk", "--quiet"
    )
    assert code == 0, out


def test_a_population_that_is_not_utf8_is_refused(scheme: Path, tmp_path: Path) -> None:
    population = tmp_path / "p.yaml"
    population.write_bytes("# 人口\nseed: 1\n".encode("gbk"))
    code, out = run("simulate", str(scheme), "--population", str(population))
    assert code == 2 and f"{population}: line 1 is not UTF-8 text" in out


def test_a_scheme_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.incentive"
    path.write_bytes(SCHEME.replace('"t"', '"班级"').encode("gbk"))
    code, out = run("check", str(path))
    assert code == 2 and f"{path}: line 1 is not UTF-8 text" in out


# ---- no line ends a run; feed() never raises ----------------------------------------------

GOOD = [
    '{"type":"signin","member":"ana","at":"2026-03-02T09:00:00"}',
    '{"type":"comment","member":"bo","at":"2026-03-02T10:00:00","words":7}',
]
DEEP = "[" * 1000 + "]" * 1000
BAD_LINES = {
    "year 1": '{"type":"signin","member":"cy","at":"0001-01-01T00:00:00"}',
    "year 1 with an offset": '{"type":"signin","member":"cy","at":"0001-01-01T00:00:00+08:00"}',
    "year 9999": '{"type":"signin","member":"cy","at":"9999-12-31T23:59:00"}',
    "year 9999 west of UTC": '{"type":"signin","member":"cy","at":"9999-12-31T23:59:00-05:00"}',
    "deep JSON": DEEP,
    "deep JSON in an object": '{"type":"signin","member":"cy","at":"2026-03-02","x":' + DEEP + "}",
    "a lone surrogate in member": '{"type":"signin","member":"\\ud800","at":"2026-03-02T09:00:00"}',
    "a lone surrogate in an attribute": '{"type":"comment","member":"cy",'
    '"at":"2026-03-02T09:00:00","words":7,"note":"\\udfff"}',
    "a lone surrogate in the id": '{"id":"\\ud800","type":"signin","member":"cy",'
    '"at":"2026-03-02T09:00:00"}',
    "a 5,000-digit whole number": '{"type":"comment","member":"cy","at":"2026-03-02T09:00:00",'
    '"words":' + "9" * 5000 + "}",
}

REASONS = {
    "year 1": "outside the years incentive reads (1900 to 8999)",
    "year 9999": "outside the years incentive reads (1900 to 8999)",
    "deep JSON": "nested too deeply",
    "a lone surrogate": "half of a surrogate pair",
    "a 5,000-digit whole number": "a whole number of more than 4,300 digits",
}


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_a_bad_line_is_one_bad_event_and_the_rest_is_paid(
    scheme: Path, tmp_path: Path, name: str, engine: str
) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join([GOOD[0], BAD_LINES[name], GOOD[1]]) + "\n", encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--engine", engine, "--quiet")
    assert code == 1, out
    got = records(out)
    bad = [r for r in got if r["kind"] == "bad_event"]
    assert len(bad) == 1 and bad[0]["line"] == 2, bad
    assert REASONS[name.split(" in ")[0].split(" with ")[0].split(" west")[0]] in bad[0]["reason"]
    assert [(r["member"], r["points"]) for r in got if r["kind"] == "award"] == [
        ("ana", 10),
        ("bo", 20),
    ]


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_feed_never_raises_on_extreme_dicts(engine: str) -> None:
    import incentive
    from incentive.runner import open_session

    program = incentive.compile(SCHEME, "s.incentive")
    session = open_session(program, engine=engine)  # type: ignore[arg-type]
    nested: list[object] = []
    for _ in range(100_000):  # deeper than any encoder recurses
        nested = [nested]
    extremes: list[dict[str, object]] = [
        {"type": "signin", "member": "a", "at": "0001-01-01T00:00:00"},
        {"type": "signin", "member": "a", "at": "9999-12-31T23:59:59"},
        {"type": "signin", "member": "\ud800", "at": "2026-03-02T09:00:00"},
        {"type": "comment", "member": "a", "at": "2026-03-02T09:00:00", "words": 10**4000},
        {"type": "comment", "member": "a", "at": "2026-03-02T09:00:00", "words": nested},
        {"type": "comment", "member": "a", "at": "2026-03-02T09:00:00", "x": float("inf")},
    ]
    for raw in extremes:
        got = session.feed(raw)
        assert [r.kind for r in got] == ["bad_event"], (raw.get("at"), got)
    paid = session.feed({"type": "signin", "member": "a", "at": "2026-03-02T09:00:00"})
    assert [r.kind for r in paid] == ["award"]


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_a_failed_event_is_not_kept_as_seen(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event whose evaluation raises (a bug) is one bad_event; its id is not kept, so
    the same event sent again after the fix is paid, not skipped as a duplicate."""
    import incentive
    from incentive import engine as interpreter
    from incentive.runner import open_session

    program = incentive.compile(SCHEME, "s.incentive")
    session = open_session(program, engine=engine)  # type: ignore[arg-type]
    event = {"id": "e1", "type": "signin", "member": "ana", "at": "2026-03-02T09:00:00"}

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    if engine == "interpreter":
        monkeypatch.setattr(interpreter, "evaluate_rules", broken)
    else:
        handlers = session._handlers  # type: ignore[union-attr]
        real = handlers["signin"]

        def half_done(s: object, item: object) -> object:
            from incentive.state import remember

            remember(s._reference.state, item.id, item.fingerprint, item.at.date())  # type: ignore[attr-defined]
            raise RuntimeError("boom")

        monkeypatch.setitem(handlers, "signin", half_done)
    failed = session.feed(event)
    assert [r.kind for r in failed] == ["bad_event"]
    assert "RuntimeError: boom" in failed[0].reason and failed[0].line == 1
    assert "e1" not in session.state.seen  # type: ignore[union-attr]
    assert all("e1" not in ids for ids in session.state.seen_on.values())  # type: ignore[union-attr]
    monkeypatch.undo()
    if engine == "compiled":
        handlers["signin"] = real
    assert [r.kind for r in session.feed(event)] == ["award"]


def test_until_beyond_the_years_is_a_usage_error(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(GOOD[0] + "\n", encoding="utf-8")
    for until in ("9999-12-31", "0001-01-01", "9999-12-31T23:59:59-12:00"):
        code, out = run("run", str(scheme), str(events), "--until", until)
        assert code == 2, (until, out)
        assert "outside the years incentive counts in (1900 to 8999)" in out


# ---- the checker refuses what the runtime cannot represent -------------------------------


@pytest.mark.parametrize(
    "clause,code,message",
    [
        ("expire after 3000000 days", "E0242", "an expiry of 3,000,000 days"),
        ("levels over 99999999 days { a 0  b 10 }", "E0242", "a level window of 99,999,999"),
        ('rule idle { on signin inactive 99999999 days flag "idle" }', "E0242", "`inactive` of"),
        ("season 2026-01-01 to 9999-12-31", "E0242", "`9999-12-31` is outside the years"),
        (
            "rule lucky { on signin award random(10, 1) limit 1 per day }",
            "E0222",
            "the low bound 10 is above the high bound 1",
        ),
        (
            "rule half { on signin award random(0.5, 3) limit 1 per day }",
            "E0222",
            "the low bound 0.5 is not a whole number",
        ),
        (
            "rule split { on signin award 10 / (2 - 2) limit 1 per day }",
            "E0223",
            "this divisor is always 0",
        ),
    ],
)
def test_check_refuses_values_the_runtime_cannot_represent(
    clause: str, code: str, message: str
) -> None:
    import incentive

    text = SCHEME.replace("  team class\n", f"  team class\n  {clause}\n")
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.compile(text, "s.incentive")
    found = [(d.code, d.message) for d in caught.value.diagnostics]
    assert any(c == code and message in m for c, m in found), found


def test_a_hundred_years_and_a_computed_divisor_are_still_accepted() -> None:
    import incentive

    text = SCHEME.replace(
        "  team class\n",
        "  team class\n  expire after 36600 days\n"
        "  rule ratio { on comment award 10 / (words - 4) limit 1 per day }\n"
        "  rule draw { on signin award random(1, 3) limit 1 per day }\n",
    )
    assert incentive.compile(text, "s.incentive").name == "t"


# ---- no silent non-payment ------------------------------------------------------------------

RANKED = SCHEME.replace(
    "  rule comment {",
    """  rule best {
    on comment
    where words >= 1
    top 1 per day by sum words award 50
  }

  rule classy {
    on signin
    where class == "一班"
    award 1
    limit 1 per day
  }

  rule comment {""",
)


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_an_event_lacking_an_attribute_a_where_reads_gets_a_record(
    tmp_path: Path, engine: str
) -> None:
    scheme = tmp_path / "s.incentive"
    scheme.write_text(RANKED, encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text(
        # `chars` instead of `words`: a renamed export column
        '{"id":"c1","type":"comment","member":"ana","at":"2026-03-02T09:00:00","chars":9}\n'
        '{"id":"s1","type":"signin","member":"ana","at":"2026-03-02T09:01:00"}\n',
        encoding="utf-8",
    )
    code, out = run("run", str(scheme), str(events), "--engine", engine)
    assert code == 0
    refused = [(r["rule"], r["reason"]) for r in records(out) if r["kind"] == "refused"]
    # `best` (a rank) and `comment` both read `words`; `classy` reads the member's team,
    # which is not the event's to carry: no record for it
    assert refused == [
        ("comment", "the event has no `words`, which the rule's `where` reads"),
        ("best", "the event has no `words`, which the rule's `where` reads"),
    ]
    summary = "2 award(s) refused because the event lacks an attribute a rule reads: `words` (2)"
    assert summary in out


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_a_where_that_is_false_or_decided_leaves_no_record(tmp_path: Path, engine: str) -> None:
    scheme = tmp_path / "s.incentive"
    scheme.write_text(
        SCHEME.replace("where words >= 5", 'where words >= 5 or type == "comment"'),
        encoding="utf-8",
    )
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"type":"comment","member":"ana","at":"2026-03-02T09:00:00"}\n', encoding="utf-8"
    )
    code, out = run("run", str(scheme), str(events), "--engine", engine, "--quiet")
    # `or` is decided by its right side: the missing `words` does not matter
    assert code == 0 and [r["kind"] for r in records(out)] == ["award", "balance"]


def test_a_roster_column_spelled_like_a_team_kind_gets_did_you_mean(
    scheme: Path, tmp_path: Path
) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(signins(("ana",)), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("member,klass\nana,一班\n", encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--roster", str(roster))
    assert code == 1
    assert "error[E0401]: the roster has no `class` column" in out
    assert "did you mean `class`? rename the column `klass` to `class`" in out
    # a roster with the team kind may carry other columns, near or not
    roster.write_text("member,class,klass\nana,一班,x\n", encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--roster", str(roster), "--quiet")
    assert code == 0, out


# ---- outputs: validated first, never an input, written whole or not at all -----------------


def _events_file(tmp_path: Path) -> Path:
    events = tmp_path / "e.jsonl"
    events.write_text(signins(), encoding="utf-8")
    return events


@pytest.mark.parametrize(
    "command,option",
    [
        ("run", "--out"),
        ("simulate", "--html"),
        ("compare", "--html"),
        ("simulate-population", "--save-events"),
        ("simulate-population", "--save-roster"),
    ],
)
def test_an_output_in_a_missing_folder_is_refused_before_any_work(
    scheme: Path, tmp_path: Path, command: str, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incentive import checker

    events = _events_file(tmp_path)
    population = tmp_path / "p.yaml"
    population.write_text(
        "seed: 1\nstart: 2026-03-02\ndays: 2\nmembers: 3\nactivities:\n  signin: {daily: 0.5}\n",
        encoding="utf-8",
    )
    checked: list[str] = []
    real = checker.check
    monkeypatch.setattr(checker, "check", lambda *a, **k: checked.append("x") or real(*a, **k))
    target = str(tmp_path / "missing" / "out.file")
    args = {
        "run": ["run", str(scheme), str(events)],
        "simulate": ["simulate", str(scheme), str(events)],
        "compare": ["compare", str(scheme), str(scheme), str(events)],
        "simulate-population": ["simulate", str(scheme), "--population", str(population)],
    }[command]
    code, out = run(*args, option, target)
    assert code == 2
    assert f"{option} {target}: the folder {tmp_path / 'missing'} does not exist" in out
    assert checked == []  # refused before the scheme was even checked


@pytest.mark.parametrize(
    "option,which", [("--out", "events"), ("--out", "roster"), ("--out", "scheme")]
)
def test_an_output_that_is_an_input_is_refused(
    scheme: Path, tmp_path: Path, option: str, which: str
) -> None:
    events = _events_file(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text("member,class\n张三,一班\n", encoding="utf-8")
    target = {"events": events, "roster": roster, "scheme": scheme}[which]
    before = target.read_bytes()
    code, out = run("run", str(scheme), str(events), "--roster", str(roster), option, str(target))
    assert code == 2 and "is also an input" in out
    assert target.read_bytes() == before


def test_simulate_refuses_to_save_events_over_its_population(scheme: Path, tmp_path: Path) -> None:
    population = tmp_path / "p.yaml"
    population.write_text("seed: 1\n", encoding="utf-8")
    code, out = run(
        "simulate", str(scheme), "--population", str(population), "--save-events", str(population)
    )
    assert code == 2 and "--save-events" in out and "is also an input" in out
    assert population.read_text(encoding="utf-8") == "seed: 1\n"


def test_a_failed_run_leaves_the_old_output_and_no_temporary_file(
    scheme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or any failure) halfway: exit 130, the old --out file intact, no
    partial file and no temporary file beside it."""
    from incentive import runner

    events = _events_file(tmp_path)
    out_file = tmp_path / "records.jsonl"
    out_file.write_text("yesterday's records\n", encoding="utf-8")

    def interrupted(program: object, read: object, out: object, *args: object) -> object:
        out.write(b'{"kind":"award"')  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_to", interrupted)
    code, out = run("run", str(scheme), str(events), "--out", str(out_file))
    assert code == 130 and "interrupted" in out
    assert out_file.read_text(encoding="utf-8") == "yesterday's records\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.jsonl", "records.jsonl", "s.incentive"]


def test_ctrl_c_in_a_real_run_exits_130_and_leaves_no_file(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    scheme = tmp_path / "s.incentive"
    scheme.write_text(SCHEME, encoding="utf-8")
    events = tmp_path / "e.jsonl"
    with events.open("w", encoding="utf-8") as file:
        for i in range(400_000):
            file.write(
                f'{{"type":"signin","member":"m{i % 5000}","at":"2026-03-02T09:{i % 60:02d}:00"}}\n'
            )
    out_file = tmp_path / "records.jsonl"
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "incentive.cli",
            "run",
            str(scheme),
            str(events),
            "--out",
            str(out_file),
            "--quiet",
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    # wait until the run is writing (its temporary file exists), then press Ctrl-C
    while not any(p.name.startswith(".records.jsonl") for p in tmp_path.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.jsonl", "s.incentive"]


def test_a_closed_pipe_exits_0(tmp_path: Path) -> None:
    """`simulate ... | head -1`: the reader is gone before the report is written."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    scheme = root / "schemes" / "daily_tasks.incentive"
    events = root / "schemes" / "daily_tasks.events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(root)}
    for command in (["simulate"], ["run", "--format", "table"], ["compare", str(scheme)]):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "incentive.cli",
                command[0],
                str(scheme),
                *command[1:],
                str(events),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None
        process.stdout.close()  # as `head` does once it has what it wants
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, (command, err)
        assert b"Traceback" not in err and b"Exception ignored" not in err


def test_the_report_console_raises_broken_pipe_instead_of_exiting_1() -> None:
    import io

    from incentive.report import console_for

    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    with pytest.raises(BrokenPipeError):
        console_for(Gone(), 80).print("report")


# ---- messages that help -----------------------------------------------------------------------

RULE = "  rule a {\n    on checkin\n    award 5\n    limit 1 per day\n  }\n"


@pytest.mark.parametrize(
    "text,message,hint",
    [
        (
            'scheme "T" {\n' + RULE.replace("per day", "per days") + "}\n",
            "unexpected `days`: a period is written in the singular",
            "write `per day`",
        ),
        (
            'scheme "T" {\n' + RULE.replace("limit", "limt") + "}\n",
            "unexpected `1`",
            "`limt` is not a keyword: did you mean `limit`?",
        ),
        (
            'scheme "T" {\n' + RULE.replace("award 5", "where words => 5\n    award 5") + "}\n",
            "unexpected character `=>`",
            "write `>=`",
        ),
        (
            'scheme "T {\n' + RULE + "}\n",
            'unexpected character `"`',
            'this string is not closed: it needs its `"` on the same line',
        ),
        ('scheme "T" ｛\n' + RULE + "}\n", "unexpected character `｛`", "write the ASCII `{`"),
        (
            'scheme "T" {\n  events { checkin(words： number) }\n' + RULE + "}\n",
            "unexpected character `：`",
            "write the ASCII `:`",
        ),
        ("scheme “T” {\n" + RULE + "}\n", "unexpected character `“`", 'write the ASCII `"`'),
        (
            'scheme "T" {\n' + RULE.replace("on checkin\n    ", "on checkin\u3000") + "}\n",
            "an ideographic (full-width) space (U+3000)",
            "write an ordinary space",
        ),
    ],
)
def test_syntax_errors_say_what_to_write(text: str, message: str, hint: str) -> None:
    import incentive

    with pytest.raises(incentive.SchemeError) as caught:
        incentive.compile(text, "t.incentive")
    diagnostic = caught.value.diagnostics[0]
    assert message in diagnostic.message
    assert any(hint in h for h in diagnostic.hints), diagnostic.hints


@pytest.mark.parametrize("zone", ["Asia/Beijing", "Beijing", "CST", "UTC+8", "GMT+8", "utc+08:00"])
def test_zone_hints_know_beijing_time(zone: str) -> None:
    import incentive

    text = f'scheme "T" {{\n  timezone "{zone}"\n' + RULE + "}\n"
    with pytest.raises(incentive.SchemeError) as caught:
        incentive.compile(text, "t.incentive")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0203"
    assert '"Asia/Shanghai"' in diagnostic.hints[0]
    assert "`UTC`" not in diagnostic.hints[0] and "Brunei" not in diagnostic.hints[0]


# ---- exports as spreadsheets and other tools write them ------------------------------------


def test_a_json_array_file_points_to_events_format_on_its_first_line(
    scheme: Path, tmp_path: Path
) -> None:
    """The first line says what the file is and what to use; the lines after it are
    still read (a stray `[` must cost no good line) and point back to it."""
    events = tmp_path / "export.json"
    items = [json.loads(line) for line in signins().splitlines()]
    events.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--quiet")
    got = records(out)
    assert code == 1 and {r["kind"] for r in got} == {"bad_event"}
    assert "one JSON array" in got[0]["reason"] and "--events-format yaml" in got[0]["reason"]
    assert all(r["reason"] == "not JSON Lines either (see line 1)" for r in got[1:])
    assert len(got) == len(events.read_text(encoding="utf-8").splitlines())
    code, out = run("run", str(scheme), str(events), "--events-format", "yaml", "--quiet")
    assert code == 0 and len([r for r in records(out) if r["kind"] == "award"]) == 3


def test_csv_in_a_jsonl_file_points_to_events_format_csv(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "export.jsonl"
    events.write_text("type,member,at\nsignin,ana,2026-03-02T09:00:00\n", encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--quiet")
    bad, row = records(out)
    assert code == 1 and "use `--events-format csv`" in bad["reason"] and bad["line"] == 1
    assert row["reason"] == "not JSON Lines either (see line 1)" and row["line"] == 2


def test_invalid_json_says_why_and_where(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(
        GOOD[0] + "\n" + '{"type":"signin",, "member":"bo"}\n' + GOOD[0][:30] + "\n",
        encoding="utf-8",
    )
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 1
    reasons = [r["reason"] for r in records(out) if r["kind"] == "bad_event"]
    assert reasons == [
        "not valid JSON: expecting property name enclosed in double quotes at column 18",
        "not valid JSON: the line ends before the JSON value does (cut short?)",
    ]


def test_a_time_that_is_not_iso_shows_what_works_and_the_time_format_that_reads_it(
    scheme: Path, tmp_path: Path
) -> None:
    events = tmp_path / "e.csv"
    events.write_text(
        "type,member,at\nsignin,ana,2026/03/02 09:00\nsignin,bo,2026年3月2日\n", encoding="utf-8"
    )
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 1
    reasons = [r["reason"] for r in records(out) if r["kind"] == "bad_event"]
    assert reasons == [
        "`at` is not an ISO 8601 time: '2026/03/02 09:00' (write e.g. 2026-03-02T09:00:00, "
        "or read it with `--time-format '%Y/%m/%d %H:%M'`)",
        "`at` is not an ISO 8601 time: '2026年3月2日' (write e.g. 2026-03-02T09:00:00, "
        "or read it with `--time-format '%Y年%m月%d日'`)",
    ]
    code, out = run("run", str(scheme), str(events), "--time-format", "%Y/%m/%d %H:%M", "--quiet")
    assert code == 1  # the second line is still not a time
    got = records(out)
    assert [r["at"] for r in got if r["kind"] == "award"] == ["2026-03-02T09:00:00+08:00"]
    assert [r["line"] for r in got if r["kind"] == "bad_event"] == [3]


@pytest.mark.parametrize(
    ("header", "suggested"),
    [
        ("编号,类型,成员,时间,字数", "--columns 类型=type,成员=member,时间=at"),
        ("时间,用户,事件", "--columns 事件=type,用户=member,时间=at"),
        ("序号,动作,人,几点", "--columns 动作=type,人=member,几点=at"),
    ],
)
def test_the_suggested_columns_go_by_meaning_not_position(
    scheme: Path, tmp_path: Path, header: str, suggested: str
) -> None:
    # an id column first, or the fields in another order: `编号=type` would make every
    # row a bad event
    events = tmp_path / "e.csv"
    events.write_text(header + "\n", encoding="utf-8")
    _code, out = run("run", str(scheme), str(events), "--quiet")
    (bad,) = records(out)
    assert bad["line"] == 1 and suggested in bad["reason"], bad["reason"]


def test_chinese_headers_and_semicolons_read_with_columns(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.csv"
    events.write_text("类型;成员;时间\nsignin;张三;2026-03-02T09:00:00\n", encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--quiet")
    (bad,) = records(out)
    # one record about the header, not "missing `type`" on every row
    assert bad["line"] == 1 and "--columns 类型=type,成员=member,时间=at" in bad["reason"]
    code, out = run(
        "run", str(scheme), str(events), "--columns", "类型=type,成员=member,时间=at", "--quiet"
    )
    assert code == 0 and [r["member"] for r in records(out) if r["kind"] == "award"] == ["张三"]
    events.write_text("type\tmember\tat\nsignin\tana\t2026-03-02T09:00:00\n", encoding="utf-8")
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 0 and [r["member"] for r in records(out) if r["kind"] == "award"] == ["ana"]


def test_a_bad_columns_option_is_a_usage_error(scheme: Path, tmp_path: Path) -> None:
    code, out = run("run", str(scheme), str(_events_file(tmp_path)), "--columns", "类型")
    assert code == 2 and "is not COLUMN=FIELD" in out


def test_a_yaml_member_id_with_leading_zeros_stays_text(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.yaml"
    events.write_text(
        "- {type: signin, member: 0012, at: '2026-03-02T09:00:00'}\n"
        "- {type: signin, member: 12, at: '2026-03-02T09:00:00'}\n"
        "- {type: comment, member: 7, at: '2026-03-02T10:00:00', words: 007}\n",
        encoding="utf-8",
    )
    code, out = run("run", str(scheme), str(events), "--quiet")
    paid = [(r["member"], r["points"]) for r in records(out) if r["kind"] == "award"]
    assert code == 0 and paid == [("0012", 10), ("12", 10), ("7", 20)]


def test_a_member_with_spaces_around_is_the_same_member(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.csv"
    events.write_text(
        "type,member,at\nsignin,ana,2026-03-02T09:00:00\nsignin, ana ,2026-03-02T10:00:00\n",
        encoding="utf-8",
    )
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 0
    got = records(out)
    assert [r["kind"] for r in got] == ["award", "refused", "balance"]
    assert {r["member"] for r in got} == {"ana"}


def test_a_conflict_record_names_its_line(scheme: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"id":"x","type":"signin","member":"ana","at":"2026-03-02T09:00:00"}\n'
        '{"id":"x","type":"signin","member":"bo","at":"2026-03-02T09:10:00"}\n',
        encoding="utf-8",
    )
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 1
    (conflict,) = [r for r in records(out) if r["kind"] == "conflict"]
    assert conflict["source"] == str(events) and conflict["line"] == 2


def test_records_as_csv_for_spreadsheets(scheme: Path, tmp_path: Path) -> None:
    import csv
    import io

    events = _events_file(tmp_path)
    target = tmp_path / "records.csv"
    code, _ = run("run", str(scheme), str(events), "--format", "csv", "--out", str(target))
    assert code == 0
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())  # Excel reads the BOM as "this is UTF-8"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["kind"], r["member"], r["points"]) for r in rows] == [
        ("award", "张三", "10"),
        ("award", "李四", "10"),
        ("award", "王五", "10"),
        ("balance", "张三", "10"),
        ("balance", "李四", "10"),
        ("balance", "王五", "10"),
    ]
    code, out = run("run", str(scheme), str(events), "--format", "jsonl", "--quiet")
    ids = [r["events"] for r in records(out) if r["kind"] == "award"]
    assert [r["events"].split() for r in rows if r["kind"] == "award"] == ids


def test_an_unclosed_quote_in_csv_does_not_swallow_the_next_rows(
    scheme: Path, tmp_path: Path
) -> None:
    events = tmp_path / "e.csv"
    events.write_text(
        "type,member,at,note\n"
        'signin,"ana,2026-03-02T09:00:00,\n'
        "signin,bo,2026-03-02T09:00:00,\n"
        "signin,cy,2026-03-02T09:00:00,\n"
        'signin,dee,2026-03-02T09:00:00,"two\nlines"\n'  # a real line break in a cell
        "signin,eve,2026-03-02T09:00:00,\n",
        encoding="utf-8",
    )
    code, out = run("run", str(scheme), str(events), "--quiet")
    got = records(out)
    assert code == 1
    assert [(r["kind"], r.get("line")) for r in got if r["kind"] == "bad_event"] == [
        ("bad_event", 2)
    ]
    assert "unclosed" in got[0]["reason"]
    assert [r["member"] for r in got if r["kind"] == "award"] == ["bo", "cy", "dee", "eve"]


def test_reports_as_csv_for_spreadsheets(scheme: Path, tmp_path: Path) -> None:
    import csv
    import io

    events = _events_file(tmp_path)
    runner = CliRunner()
    outputs = {}
    for command in (
        ["simulate", str(scheme), str(events)],
        ["explain", str(scheme), str(events), "--member", "张三"],
        ["compare", str(scheme), str(scheme), str(events)],
    ):
        result = runner.invoke(main, [*command, "--format", "csv"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes.startswith("\ufeff".encode())
        outputs[command[0]] = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    simulated = outputs["simulate"]
    at = simulated.index(["paid per rule"])
    assert simulated[at + 1 : at + 3] == [["rule", "currency", "paid"], ["signin", "points", "30"]]
    explained = outputs["explain"]
    assert explained[0][:3] == ["kind", "at", "member"]
    assert [(row[0], row[2], row[5]) for row in explained[1:]] == [("award", "张三", "10")]
    compared = outputs["compare"]
    assert compared[:3] == [
        ["points per rule"],
        ["rule", "currency", "A", "B", "change"],
        ["signin", "points", "30", "30", "0"],
    ]


def test_utf16_events_read_with_encoding(scheme: Path, tmp_path: Path) -> None:
    """UTF-16 writes a newline in two bytes: the check before the run must not cut the
    file at b"\\n" (it refused every UTF-16 file from line 2)."""
    events = tmp_path / "e.jsonl"
    events.write_bytes(signins().encode("utf-16"))
    code, out = run("run", str(scheme), str(events), "--quiet")
    assert code == 2 and "--encoding utf-16" in out
    code, out = run("run", str(scheme), str(events), "--encoding", "utf-16", "--quiet")
    assert code == 0, out
    assert [r["member"] for r in records(out) if r["kind"] == "award"] == list(NAMES)


# ---- a conflicting pair: the line read first wins, and both lines are named ----------------

CONFLICT_SCHEME = 'scheme "c" {\n  rule a {\n    on checkin\n    award 5\n  }\n}\n'
CONFLICT_LINES = [
    {"id": "x", "type": "checkin", "member": "ana", "at": "2026-03-02T10:00:00"},
    {"id": "y", "type": "checkin", "member": "bo", "at": "2026-03-02T10:30:00"},
    # the impostor: read after ana's line, but earlier in time (and on an earlier day)
    {"id": "x", "type": "checkin", "member": "eve", "at": "2026-03-01T09:00:00"},
    {"id": "x", "type": "checkin", "member": "ana", "at": "2026-03-02T10:00:00"},  # a re-send
]


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
def test_the_line_read_first_wins_a_conflict_whatever_its_time(engine: str) -> None:
    import incentive

    program = incentive.compile(CONFLICT_SCHEME)
    records = [
        json.loads(r.to_json()) for r in program.evaluate(CONFLICT_LINES, engine=engine).records
    ]
    assert [(r["kind"], r["member"]) for r in records] == [
        ("award", "ana"),
        ("conflict", "eve"),  # held back until ana's line was evaluated
        ("duplicate", "ana"),
        ("award", "bo"),
    ]
    conflict = records[1]
    assert conflict["line"] == 3  # the refused line
    assert "(line 1 of <input>)" in conflict["reason"]  # and the line that won


@pytest.mark.parametrize("sort_run", [2, 200_000])
def test_a_file_run_lets_the_first_line_win_and_names_both_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort_run: int
) -> None:
    from incentive import runner

    monkeypatch.setattr(runner, "SORT_RUN", sort_run)  # 2: the sort spills to disk
    scheme = tmp_path / "c.incentive"
    scheme.write_text(CONFLICT_SCHEME, encoding="utf-8")
    events = tmp_path / "orders.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in CONFLICT_LINES), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--engine", "compiled", str(scheme), str(events)])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["kind"], r["member"]) for r in records if r["kind"] != "balance"] == [
        ("award", "ana"),
        ("conflict", "eve"),
        ("duplicate", "ana"),
        ("award", "bo"),
    ]
    conflict = records[1]
    assert (conflict["source"], conflict["line"]) == (str(events), 3)
    assert f"(line 1 of {events})" in conflict["reason"]
    assert {r["member"]: r["points"] for r in records if r["kind"] == "balance"} == {
        "ana": 5,
        "bo": 5,
    }


def test_a_streamed_conflict_names_the_line_that_used_the_id_first() -> None:
    import incentive

    session = incentive.compile(CONFLICT_SCHEME).session()
    assert [r.kind for r in session.feed(CONFLICT_LINES[0])] == ["award"]
    (record,) = session.feed({**CONFLICT_LINES[0], "member": "eve"})
    assert record.kind == "conflict" and record.line == 2
    assert "(line 1 of <input>)" in (record.reason or "")


# ---- a failed event leaves nothing in the state ----------------------------------------------

FAULT_SCHEME = """scheme "f" {
  currency coins
  expire after 30 days
  rule a {
    on checkin
    award 5
    limit 2 per day
    cap 8 per day
    budget 100 per day
  }
  rule b {
    on checkin
    award 2
    budget 50 per day
  }
  rule streak {
    on checkin
    streak per day
    at 2 award 1
  }
  rule first {
    on checkin
    top 1 per day by earliest
    award 3
  }
  redeem gifts {
    on redeem
    amount points
  }
}
"""


def _checkin(n: int, member: str, at: str) -> dict[str, str]:
    return {"id": f"e{n}", "type": "checkin", "member": member, "at": at}


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
@pytest.mark.parametrize("every", [1, 2000])
def test_a_failed_event_leaves_nothing_in_the_state(
    monkeypatch: pytest.MonkeyPatch, engine: str, every: int
) -> None:
    """A fault injected in the middle of an event (rule `a` has paid and counted its
    limit and cap, the rank table and the streak may have moved, and the event closed
    yesterday's rank): the state is as it was before the event, and the event sent
    again is evaluated as if the fault had never happened."""
    import incentive
    from incentive import codec
    from incentive import engine as engine_module

    monkeypatch.setattr(engine_module, "CHECKPOINT_EVERY", every)  # 1: replayed on undo
    program = incentive.compile(FAULT_SCHEME)
    events = [
        _checkin(1, "ana", "2026-03-02T09:00:00"),
        _checkin(2, "bo", "2026-03-02T10:00:00"),
        _checkin(3, "ana", "2026-03-02T11:00:00"),
        {"id": "r1", "type": "redeem", "member": "bo", "at": "2026-03-02T12:00:00", "points": 3},
    ]
    failing = _checkin(4, "ana", "2026-03-03T09:00:00")  # a new day: it closes 03-02 first
    reference = program.session(engine=engine)
    expected = [r.to_json() for e in [*events, failing] for r in reference.feed(e)]

    session = program.session(engine=engine)
    for item in events:
        session.feed(item)
    before = codec.encode_state(session.state)
    real = engine_module.apply_budgets

    def faulty(state: Any, program: Any, proposal: Any) -> Any:
        if proposal.source == "b" and "e4" in proposal.events:  # after `a` paid
            raise RuntimeError("injected fault")
        return real(state, program, proposal)

    monkeypatch.setattr(engine_module, "apply_budgets", faulty)
    (record,) = session.feed(failing)
    assert record.kind == "bad_event" and "injected fault" in (record.reason or "")
    assert codec.encode_state(session.state) == before  # not a counter, lot or id moved
    monkeypatch.setattr(engine_module, "apply_budgets", real)
    again = [r.to_json() for r in session.feed(failing)]
    assert again == expected[-len(again) :]
    assert session.close_all() == reference.close_all()
    for item in dataclasses.fields(session.state):  # `seen` names the line (6, not 5)
        if item.name != "seen":
            assert getattr(session.state, item.name) == getattr(reference.state, item.name)


# ---- `incentive test` reads its cases as `run` reads events ----------------------------------

CLUB = Path(__file__).resolve().parent.parent / "docs" / "examples" / "club.incentive"
EXPORT_CASES = """\
- name: 张三 签到一次
  events:
    - {类型: checkin, 成员: 张三, 时间: "2026/03/02 08:00"}
    - {类型: checkin, 成员: 张三, 时间: "2026/03/02 09:00"}
    - {类型: checkin, 成员: 李四, 时间: "2026/03/02 09:30"}
  until: "2026/03/03 00:00"
  expect:
    balances: {张三: 5, 李四: 5}
    records:
      - {kind: refused, member: 张三, rule: checkin}
"""


def test_incentive_test_reads_cases_as_run_reads_events(tmp_path: Path) -> None:
    """A GBK cases file with the export's column names and times: --encoding,
    --time-format and --columns, with the meaning they have for `run`."""
    cases = tmp_path / "cases.yaml"
    cases.write_bytes(EXPORT_CASES.encode("gbk"))
    options = ["--encoding", "gbk", "--time-format", "%Y/%m/%d %H:%M"]
    options += ["--columns", "类型=type,成员=member,时间=at"]
    result = CliRunner().invoke(main, ["test", str(CLUB), str(cases), *options])
    assert result.output.splitlines() == ["ok    张三 签到一次", "1 passed, 0 failed"]
    assert result.exit_code == 0
    # without them the same file is refused as not UTF-8, and read as UTF-8 fails
    bare = CliRunner().invoke(main, ["test", str(CLUB), str(cases)])
    assert bare.exit_code != 0
    cases.write_text(EXPORT_CASES, encoding="utf-8")
    unmapped = CliRunner().invoke(main, ["test", str(CLUB), str(cases)])
    assert "FAIL  张三 签到一次" in unmapped.output and unmapped.exit_code == 1


def test_incentive_test_refuses_a_time_format_without_a_field(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(EXPORT_CASES, encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(CLUB), str(cases), "--time-format", "Y"])
    assert result.exit_code == 2 and "has no `%` field" in result.output


# ---- a division by a computed zero: refused with the divisor, and warned of beforehand -------


@pytest.mark.parametrize(
    ("rule", "warned"),
    [
        ("on post  award 100 / (likes - 1)", "likes - 1"),
        ("on post  award 100 / likes", "likes"),
        ("on post  where likes > 2  award 100 / (likes - 2)", "likes - 2"),
        ("on post  milestone sum likes  at 10 award 100 / likes", "likes"),
        ("on post  where likes > 0  award 100 / likes", None),
        ("on post  where likes >= 1 and likes < 9  award 100 / likes", None),
        ("on post  where 0 < likes  award 100 / likes", None),
        ("on post  where likes != 0  award 100 / likes", None),
        ("on post  award 100 / max(likes, 1)", None),
        ("on post  award likes / 4", None),
        ('on post  pay "li" per day by count  award 30 / count', None),
        ('on post  pay "li" per day by count  award 30 / (count - 1)', "count - 1"),
        ('on post  pay "li" per day by sum likes  award 300 / sum', "sum"),
    ],
)
def test_a_divisor_that_can_be_zero_is_warned(rule: str, warned: str | None) -> None:
    import incentive

    text = f'scheme "d" {{\n  rule share {{ {rule}  limit 1 per day }}\n}}\n'
    if "pay" in rule or "milestone" in rule:  # they take no limit
        text = text.replace("  limit 1 per day", "")
    result = incentive.check(incentive.parse(text, "t.incentive"), "t.incentive", text)
    assert not result.errors
    found = [d for d in result.diagnostics if d.code == "W0311"]
    if warned is None:
        assert found == []
    else:
        assert [d.message.split("`")[3] for d in found] == [warned]
        assert "that award is then refused" in found[0].message


@pytest.mark.parametrize("engine", ["interpreter", "compiled"])
def test_a_computed_zero_divisor_is_refused_naming_it(engine: str) -> None:
    import incentive

    program = incentive.compile(
        'scheme "d" {\n  rule share {\n    on post\n    award 100 / (likes - 1)\n'
        "    limit 1 per day\n  }\n}\n"
    )
    post = {"id": "p1", "type": "post", "member": "ana", "at": "2026-03-02T10:00", "likes": 1}
    records = program.evaluate([post, {**post, "id": "p2", "likes": 3}], engine=engine).records
    assert [(r.kind, r.points) for r in records] == [("refused", None), ("award", 50)]
    assert records[0].reason == (
        "the amount cannot be computed: division by zero (`likes - 1` is 0)"
    )


SORT_ADVICE = (
    "the events were not in time order: they were read twice and sorted on disk; sort "
    "them by `at` first for a single pass"
)
SORT_ADVICE_ZH = "事件没有按时间排序：已读取两遍并在磁盘上排序；先按 `at` 排好序可以只读一遍"


def _checkins(tmp_path: Path, hours: list[int]) -> tuple[Path, Path]:
    scheme = tmp_path / "c.incentive"
    scheme.write_text(CONFLICT_SCHEME, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    lines = [
        json.dumps({"id": f"e{n}", "type": "checkin", "member": f"m{n}",
                    "at": f"2026-03-02T{hour:02d}:00:00"})
        for n, hour in enumerate(hours)
    ]  # fmt: skip
    events.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return scheme, events


def _run_apart(*args: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of `incentive ARGS`, apart: the
    plan rewinds a seekable output it wrote into before handing input to the loop, and
    CliRunner's mixed `output` keeps a copy of what was rewound."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("engine", ["columnar", "compiled", "interpreter"])
@pytest.mark.parametrize(
    ("hours", "sort_run", "shown"),
    [
        ([8, 9, 7, 10, 6], 2, True),  # out of order, more than SORT_RUN events: on disk
        ([8, 9, 7, 10, 6], 200_000, False),  # out of order, sorted in memory
        ([6, 7, 8, 9, 10], 2, False),  # in order: one pass
    ],
)
def test_the_advice_to_sort_by_at_is_given_when_the_sort_went_to_disk(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    hours: list[int],
    sort_run: int,
    shown: bool,
) -> None:
    """cli.py says "sort them by `at` first" when the run had to read its input twice
    and sort it on disk (`summary.spilled`): not for input in order, nor when the sort
    fitted in memory, nor with --quiet; the records are the same either way."""
    from incentive import runner
    from incentive.columnar import reading

    monkeypatch.setattr(runner, "SORT_RUN", sort_run)
    # the plan sorts one chunk in memory itself; across chunks it hands out-of-order
    # input to the compiled evaluator, which sorts as `run --engine compiled` does
    monkeypatch.setattr(reading, "BLOCK_BYTES", 100)
    scheme, events = _checkins(tmp_path, hours)
    code, out, said = _run_apart("run", str(scheme), str(events), "--engine", engine)
    assert code == 0
    assert (SORT_ADVICE in said) == shown
    assert [r["member"] for r in records(out) if r["kind"] == "award"] == [
        f"m{n}" for n in sorted(range(len(hours)), key=hours.__getitem__)
    ]
    code, quiet, nothing = _run_apart(
        "run", str(scheme), str(events), "--engine", engine, "--quiet"
    )
    assert (code, quiet, nothing) == (0, out, "")
    if shown:  # in the operator's language
        code, _, chinese = _run_apart(
            "--lang", "zh", "run", str(scheme), str(events), "--engine", engine
        )
        assert code == 0 and SORT_ADVICE_ZH in chinese
