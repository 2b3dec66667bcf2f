"""incentive: a language and rule engine for engagement incentive schemes.

    import incentive
    program = incentive.compile(open("camp.incentive").read(), "camp.incentive")
    result = program.evaluate(events)          # batch: an iterable of dicts or Events
    session = program.session()                # streaming: one event at a time
    records = session.feed({"type": "checkin", "member": "ana", "at": "2026-03-01T08:00"})

Stages (docs/architecture.md): parse -> check -> evaluate -> records.
"""

from __future__ import annotations

from pathlib import Path

from incentive.checker import CheckResult, check, compile_scheme
from incentive.diagnostics import (
    Diagnostic,
    IncentiveError,
    InputError,
    SchemeError,
    Severity,
    Span,
)
from incentive.engine import EngineState, MemberState, RunResult, Session, run_batch
from incentive.events import BadLine, Event, read_events
from incentive.formatter import format_scheme
from incentive.parser import parse
from incentive.program import Program
from incentive.records import Record
from incentive.roster import Roster, load_roster, read_roster

__version__ = "0.1.0"


def compile(text: str, file: str = "<scheme>") -> Program:
    """Parse and check a scheme; raise SchemeError listing every error."""
    return compile_scheme(text, file)


def load(path: str | Path) -> Program:
    """Compile a scheme file."""
    path = Path(path)
    return compile_scheme(path.read_text(encoding="utf-8"), str(path))


def fmt(text: str, file: str = "<scheme>") -> str:
    """The canonical form of scheme text (comments kept)."""
    return format_scheme(parse(text, file))


__all__ = [
    "BadLine",
    "CheckResult",
    "Diagnostic",
    "EngineState",
    "Event",
    "IncentiveError",
    "InputError",
    "MemberState",
    "Program",
    "Record",
    "Roster",
    "RunResult",
    "SchemeError",
    "Session",
    "Severity",
    "Span",
    "check",
    "compile",
    "fmt",
    "format_scheme",
    "load",
    "load_roster",
    "parse",
    "read_events",
    "read_roster",
    "run_batch",
]
