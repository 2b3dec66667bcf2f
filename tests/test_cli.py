"""The CLI through click's test runner: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from clirun import invoke

from incentive.cli import main

SCHEME = """\
scheme "t" {
  currency coins

  rule a {
    on checkin
    award 5
    limit 1 per day
  }
}
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "s.incentive").write_text(SCHEME, encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(
        '{"type":"checkin","member":"ana","at":"2026-03-02T08:00:00"}\n'
        '{"type":"checkin","member":"ana","at":"2026-03-02T09:00:00"}\n',
        encoding="utf-8",
    )
    return tmp_path


def test_check_ok(files: Path) -> None:
    code, out = invoke("check", str(files / "s.incentive"))
    assert code == 0 and "ok (0 warning(s))" in out


def test_check_invalid_scheme_exits_1_with_caret(files: Path) -> None:
    bad = files / "bad.incentive"
    bad.write_text('scheme "t" {\n  rule a { on checkin awrd 5 }\n}\n', encoding="utf-8")
    code, out = invoke("check", str(bad))
    assert code == 1
    assert f"{bad}:2:23: error[E0101]" in out and "^^^^" in out and "did you mean `award`?" in out


def test_check_json(files: Path) -> None:
    code, out = invoke("check", "--format", "json", str(files / "s.incentive"))
    assert code == 0 and json.loads(out)[0]["ok"] is True


def test_missing_file_is_a_usage_error(files: Path) -> None:
    code, out = invoke("check", str(files / "nope.incentive"))
    assert code == 2 and "no such file" in out


def test_bad_option_is_a_usage_error(files: Path) -> None:
    code, _ = invoke("run", "--format", "xml", str(files / "s.incentive"), str(files / "e.jsonl"))
    assert code == 2


def test_run_prints_records_then_balances(files: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "--quiet", str(files / "s.incentive"), str(files / "e.jsonl")]
    )
    assert result.exit_code == 0
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert kinds == ["award", "refused", "balance"]


def test_run_from_stdin(files: Path) -> None:
    events = '{"type":"checkin","member":"bo","at":"2026-03-02T08:00:00"}\n'
    result = CliRunner().invoke(
        main, ["run", "--quiet", str(files / "s.incentive"), "-"], input=events
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[-1])["balance"] == 5


def test_run_bad_line_exits_1_and_still_evaluates(files: Path) -> None:
    events = files / "mixed.jsonl"
    events.write_text(
        '{"type":"checkin","member":"ana","at":"2026-03-02T08:00:00"}\n'
        "{oops\n"
        '{"type":"checkin","member":"bo","at":"2026-03-02T08:00:00"}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["run", str(files / "s.incentive"), str(events)])
    assert result.exit_code == 1
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert lines[0] == {
        "kind": "bad_event",
        "code": "bad_line",
        "reason": "not valid JSON: expecting property name enclosed in double quotes at column 2",
        "source": str(events),
        "line": 2,
    }
    assert [x["member"] for x in lines if x["kind"] == "award"] == ["ana", "bo"]
    assert "1 event(s) could not be evaluated" in result.stderr


def test_run_writes_out_file_and_table(files: Path) -> None:
    out = files / "records.jsonl"
    code, _ = invoke(
        "run", "--quiet", "--out", str(out), str(files / "s.incentive"), str(files / "e.jsonl")
    )
    assert code == 0 and out.read_text().count("\n") == 3
    code, text = invoke(
        "run", "--quiet", "--format", "table", str(files / "s.incentive"), str(files / "e.jsonl")
    )
    assert code == 0 and "limit 1 per day reached" in text


def test_run_invalid_until(files: Path) -> None:
    code, out = invoke(
        "run", "--until", "yesterday", str(files / "s.incentive"), str(files / "e.jsonl")
    )
    assert code == 2 and "--until" in out


def test_fmt_check_and_write(files: Path) -> None:
    messy = files / "messy.incentive"
    messy.write_text(
        'scheme "t" { currency coins rule a { on checkin award 5 limit 1 per day } }',
        encoding="utf-8",
    )
    code, _ = invoke("fmt", "--check", str(messy))
    assert code == 1
    code, _ = invoke("fmt", "--write", str(messy))
    assert code == 0 and messy.read_text() == SCHEME
    code, _ = invoke("fmt", "--check", str(messy))
    assert code == 0


def test_parse_json_and_yaml(files: Path) -> None:
    code, out = invoke("parse", str(files / "s.incentive"))
    tree = json.loads(out)
    assert code == 0 and tree["node"] == "Scheme" and tree["items"][1]["node"] == "RuleDecl"
    assert tree["items"][1]["span"] == [4, 3, 8, 4]
    code, out = invoke("parse", "--format", "yaml", str(files / "s.incentive"))
    assert code == 0 and "node: RuleDecl" in out


@pytest.mark.parametrize("model", ["events", "records"])
def test_schema(model: str) -> None:
    code, out = invoke("schema", model)
    assert code == 0 and json.loads(out)["type"] == "object"


def test_internal_errors_are_reported_without_traceback(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaboom")

    # The command imports run_to when it runs (start-up), so patch it at its source.
    monkeypatch.setattr("incentive.runner.run_to", boom)
    code, out = invoke("run", str(files / "s.incentive"), str(files / "e.jsonl"))
    assert code == 3 and "internal error: RuntimeError: kaboom" in out


CLUB, CLUB_EVENTS = "docs/examples/club.incentive", "docs/examples/club.events.jsonl"


@pytest.mark.parametrize(
    "command",
    [
        ["check", CLUB],
        ["run", CLUB, CLUB_EVENTS],
        ["explain", CLUB, CLUB_EVENTS, "--member", "ana"],
        ["simulate", CLUB, CLUB_EVENTS],
    ],
)
def test_every_reporting_command_takes_table_and_json(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    table = CliRunner().invoke(main, [*command, "--format", "table"])
    data = CliRunner().invoke(main, [*command, "--format", "json"])
    assert table.exit_code == data.exit_code == 0, table.output + data.output
    for line in data.stdout.splitlines() if command[0] == "run" else [data.stdout]:
        json.loads(line)  # JSON, for tools
    assert table.output != data.output


def test_run_refuses_to_write_over_its_events(files: Path) -> None:
    events = files / "e.jsonl"
    before = events.read_bytes()
    code, out = invoke("run", str(files / "s.incentive"), str(events), "--out", str(events))
    assert code == 2 and "is also an input" in out
    assert events.read_bytes() == before  # the input is untouched
