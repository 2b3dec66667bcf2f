"""Rosters: who belongs to which team (class, group), read from CSV or YAML.

A roster has one row per member: a `member` column, then any columns. The
columns named like the scheme's teams (`team class, group`) say which team
of each kind the member is in; other columns are kept for reports. Unlike
an event stream, a roster is all or nothing: a roster with a bad row is
refused as a whole, naming the row, because a member silently left out of
their team would skew every team measure.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from incentive.diagnostics import Diagnostic, InputError, Severity, Span, did_you_mean
from incentive.events import load_yaml, read_text_file
from incentive.i18n import _
from incentive.reasons import yaml_problem


@dataclass(frozen=True)
class Roster:
    """member -> column -> value (text), in the order the roster lists them."""

    members: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def teams(self, kind: str) -> dict[str, str]:
        """member -> team of this kind, for the members the roster places in one."""
        return {m: row[kind] for m, row in self.members.items() if row.get(kind)}


def _fail(source: str, line: int, message: str, hint: str = "") -> InputError:
    diagnostic = Diagnostic(
        "E0401",
        Severity.ERROR,
        message,
        Span.point(line, 1),
        source,
        (hint,) if hint else (),
    )
    return InputError([diagnostic])


def _add(members: dict[str, dict[str, str]], raw: Any, source: str, line: int) -> None:
    if not isinstance(raw, Mapping):
        raise _fail(source, line, _("a roster row must be a mapping with `member`"))
    row = {str(k).strip(): "" if v is None else str(v).strip() for k, v in raw.items()}
    member = row.pop("member", "")
    if not member:
        raise _fail(source, line, _("a roster row has no `member`"), _("every row names a member"))
    if member in members:
        raise _fail(source, line, _("member `{member}` is listed twice").format(member=member))
    members[member] = row


def read_roster(stream: IO[str], source: str = "<roster>", fmt: str = "csv") -> Roster:
    """Read a roster (CSV with a header, or a YAML list); InputError names a bad row."""
    members: dict[str, dict[str, str]] = {}
    if fmt == "yaml":
        lines: list[int] = []
        try:
            data = load_yaml(stream.read(), source, lines)
        except (yaml.YAMLError, ValueError) as err:
            mark = getattr(err, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = yaml_problem(str(getattr(err, "problem", None) or err))
            raise _fail(
                source, line, _("not valid YAML: {problem}").format(problem=problem)
            ) from None
        if data is None:
            return Roster({})
        if not isinstance(data, list):
            raise _fail(source, 1, _("a YAML roster is a list of rows: `- member: ana`"))
        for line, raw in zip(lines, data, strict=True):
            _add(members, raw, source, line)
        return Roster(members)
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return Roster({})
    except csv.Error as err:
        raise _fail(source, 1, _("not valid CSV: {problem}").format(problem=err)) from None
    if "member" not in header:
        raise _fail(source, 1, _("the roster's header has no `member` column"))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise _fail(source, 1, _("the header repeats column `{column}`").format(column=repeated[0]))
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise _fail(
                    source,
                    reader.line_num,
                    _("expected {expected} columns, found {found}").format(
                        expected=len(header), found=len(row)
                    ),
                )
            _add(members, dict(zip(header, row, strict=True)), source, reader.line_num)
    except csv.Error as err:
        raise _fail(
            source, reader.line_num, _("not valid CSV: {problem}").format(problem=err)
        ) from None
    return Roster(members)


def load_roster(
    path: str | Path, encoding: str | None = None, teams: tuple[str, ...] | list[str] = ()
) -> Roster:
    """A roster file; the format comes from its extension (.yaml/.yml, else CSV). It is
    UTF-8 unless `encoding` names another codec; bytes that do not decode are refused
    (EncodingProblem), never replaced: two members' names would become one.

    `teams`, the scheme's team kinds: a kind the roster lacks while one of its columns
    is spelled nearly like it (`klass` for `class`) is refused with "did you mean" —
    ignored, it would leave every member out of their team."""
    name = str(path)
    fmt = "yaml" if name.endswith((".yaml", ".yml")) else "csv"
    text = read_text_file(name, encoding)
    roster = read_roster(io.StringIO(text, newline=""), name, fmt)
    check_team_columns(roster, teams, name)
    return roster


def check_team_columns(roster: Roster, teams: tuple[str, ...] | list[str], source: str) -> None:
    columns = {column for row in roster.members.values() for column in row}
    for kind in teams:
        if kind in columns:
            continue
        near = did_you_mean(kind, sorted(columns - set(teams)))
        if near is not None:
            raise _fail(
                source,
                1,
                _(
                    "the roster has no `{kind}` column, which the scheme's `team {kind}` "
                    "reads; it has `{near}`"
                ).format(kind=kind, near=near),
                _("did you mean `{kind}`? rename the column `{near}` to `{kind}`").format(
                    kind=kind, near=near
                ),
            )
