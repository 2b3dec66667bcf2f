"""Operators' tests beside a scheme: "given these events, Ana ends with 35 coins,
Bo's redemption is refused" — a YAML file of cases that `incentive test` runs.

    - name: a check-in pays once a day
      events:
        - {type: checkin, member: ana, at: "2026-03-02T08:00"}
        - {type: checkin, member: ana, at: "2026-03-02T09:00"}
      expect:
        balances: {ana: 5}             # or {ana: {coins: 5, xp: 10}}
        records:                       # each must match some record (fields given only)
          - {kind: refused, member: ana, rule: checkin}
        no_records:                    # none may match
          - {kind: award, member: bo}

Each case runs on its own, from an empty state. A failure says what was
expected and what the run gave, record by record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from incentive.diagnostics import Diagnostic, InputError, Severity, Span
from incentive.events import NO_OPTIONS, ReadOptions, load_yaml
from incentive.i18n import _
from incentive.program import Program
from incentive.reasons import localize, localize_record, yaml_problem
from incentive.records import Record
from incentive.roster import Roster

RECORD_FIELDS = frozenset(Record.__struct_fields__)


@dataclass(frozen=True)
class Case:
    name: str
    events: list[dict[str, Any]]
    balances: dict[str, dict[str, int]]
    records: list[dict[str, Any]]
    no_records: list[dict[str, Any]]
    until: str | None = None


@dataclass
class Outcome:
    case: Case
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _fail(source: str, message: str, hint: str = "") -> InputError:
    return InputError(
        [
            Diagnostic(
                "E0402", Severity.ERROR, message, Span(0, 0, 0, 0), source, (hint,) * bool(hint)
            )
        ]
    )


def _yaml_problem(err: Exception) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = yaml_problem(str(getattr(err, "problem", None) or err))
    if mark is None:
        return str(problem)
    return _("{problem} (line {line})").format(problem=problem, line=mark.line + 1)


def load_cases(text: str, source: str, program: Program) -> list[Case]:
    """Read a cases file; InputError says which case is malformed and how."""
    try:
        data = load_yaml(text, source)
    except (yaml.YAMLError, ValueError) as err:
        raise _fail(source, _("not valid YAML: {text}").format(text=_yaml_problem(err))) from None
    if not isinstance(data, list) or not data:
        raise _fail(source, _("a cases file is a list of cases"), "- name: ...\n  events: [...]")
    cases = []
    for index, raw in enumerate(data, start=1):
        where = _("case {index}").format(index=index)
        if not isinstance(raw, Mapping):
            raise _fail(
                source,
                _("{where} is not a mapping with `name`, `events` and `expect`").format(
                    where=where
                ),
            )
        name = str(raw.get("name") or where)
        case = _("{where} (`{name}`)").format(where=where, name=name)
        unknown = sorted(set(raw) - {"name", "events", "expect", "until"})
        if unknown:
            raise _fail(source, _("{case}: unknown key `{key}`").format(case=case, key=unknown[0]))
        events = raw.get("events") or []
        if not isinstance(events, list):
            raise _fail(source, _("{case}: `events` is a list of events").format(case=case))
        expect = raw.get("expect") or {}
        if not isinstance(expect, Mapping):
            raise _fail(source, _("{case}: `expect` is a mapping").format(case=case))
        extra = sorted(set(expect) - {"balances", "records", "no_records"})
        if extra:
            raise _fail(
                source,
                _("{case}: unknown expectation `{key}`").format(case=case, key=extra[0]),
                _("expect `balances`, `records` or `no_records`"),
            )
        balances: dict[str, dict[str, int]] = {}
        for member, value in (expect.get("balances") or {}).items():
            if isinstance(value, Mapping):
                balances[str(member)] = {str(c): int(p) for c, p in value.items()}
            elif isinstance(value, int) and not isinstance(value, bool):
                balances[str(member)] = {program.default_currency: value}
            else:
                raise _fail(
                    source,
                    _("{case}: balance of `{member}` is not a number").format(
                        case=case, member=member
                    ),
                )
        patterns = {}
        for key in ("records", "no_records"):
            listed = expect.get(key) or []
            if not isinstance(listed, list) or not all(isinstance(p, Mapping) for p in listed):
                raise _fail(
                    source,
                    _("{case}: `{key}` is a list of record fields").format(case=case, key=key),
                )
            for pattern in listed:
                wrong = sorted(set(pattern) - RECORD_FIELDS)
                if wrong:
                    raise _fail(
                        source,
                        _("{case}: records have no field `{field}`").format(
                            case=case, field=wrong[0]
                        ),
                        _("fields: {fields}").format(fields=", ".join(sorted(RECORD_FIELDS))),
                    )
            patterns[key] = [dict(p) for p in listed]
        until = raw.get("until")
        cases.append(
            Case(
                name,
                [dict(e) if isinstance(e, Mapping) else e for e in events],
                balances,
                patterns["records"],
                patterns["no_records"],
                str(until) if until is not None else None,
            )
        )
    return cases


def _matches(record: Record, pattern: Mapping[str, Any]) -> bool:
    data: dict[str, Any] = record.to_dict()
    for key, want in pattern.items():
        have = data.get(key)
        if key == "events":
            have, want = list(have or []), list(want or [])
        if key == "reason" and isinstance(want, str):
            # a reason matches by the words it contains, in English or the reader's language
            if want not in str(have or "") and want not in localize(str(have or "")):
                return False
            continue
        if have != want:
            return False
    return True


def _show(pattern: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in pattern.items()) + "}"


def run_case(
    program: Program, case: Case, roster: Roster | None = None, how: ReadOptions = NO_OPTIONS
) -> Outcome:
    """Run one case; `how` reads its events as `run` reads a file's (`--time-format`,
    `--columns`), and `until` in the time format too."""
    from incentive.events import events_from_dicts, parse_time

    until = parse_time(case.until, program.calendar, how.time_format) if case.until else None
    events = list(events_from_dicts(case.events, program.calendar, options=how))
    result = program.evaluate(events, until=until, roster=roster)
    outcome = Outcome(case)
    for member, want in sorted(case.balances.items()):
        have = result.balances.get(member, {})
        for currency, points in sorted(want.items()):
            got = have.get(currency, 0)
            if got != points:
                outcome.problems.append(
                    _("balance of `{member}` in {currency}: expected {points}, got {got}").format(
                        member=member, currency=currency, points=points, got=got
                    )
                )
    for pattern in case.records:
        if not any(_matches(r, pattern) for r in result.records):
            near = [
                localize_record(r).to_json()
                for r in result.records
                if r.member == pattern.get("member", r.member)
                and r.kind == pattern.get("kind", r.kind)
            ][:3]
            outcome.problems.append(
                _("expected a record {pattern}; none matches").format(pattern=_show(pattern))
                + "".join("\n      " + _("closest: {record}").format(record=n) for n in near)
            )
    for pattern in case.no_records:
        found = [localize_record(r).to_json() for r in result.records if _matches(r, pattern)]
        if found:
            outcome.problems.append(
                _("expected no record {pattern}; found {count}:").format(
                    pattern=_show(pattern), count=len(found)
                )
                + f"\n      {found[0]}"
            )
    expects_bad = any(p.get("kind") == "bad_event" for p in case.records)
    for record in result.records:
        if record.kind == "bad_event" and not expects_bad:
            outcome.problems.append(
                _("an event of the case could not be used: {reason}").format(
                    reason=localize(record.reason)
                )
            )
    return outcome
