"""Bad input never corrupts and never stops a run (issue 16; reliability.md #16).

Encodings, extreme values, silent non-payment and output safety: each case is a
way real exports and real operators broke a run, or quietly paid the wrong
member, before.
"""

from __future__ import annotations

import json
from pathlib import Path

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
