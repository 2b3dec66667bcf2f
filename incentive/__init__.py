"""incentive: a language and rule engine for engagement incentive schemes.

    import incentive
    program = incentive.compile(open("camp.incentive").read(), "camp.incentive")
    result = program.evaluate(events)          # batch: an iterable of dicts or Events
    session = program.session()                # streaming: one event at a time (compiled;
                                               # incentive.Session is the interpreter's)
    records = session.feed({"type": "checkin", "member": "ana", "at": "2026-03-01T08:00"})
    live = incentive.open(program, store="camp.db")   # state kept: restarts, crashes, threads

Stages (docs/architecture.md): parse -> check -> evaluate -> records.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from incentive.checker import CheckResult, check
    from incentive.diagnostics import (
        Diagnostic,
        IncentiveError,
        InputError,
        SchemeError,
        Severity,
        Span,
    )
    from incentive.engine import EngineState, MemberState, Session
    from incentive.events import BadLine, Event, read_events
    from incentive.formatter import format_scheme
    from incentive.live import LiveSession
    from incentive.parser import parse
    from incentive.posts import Post, render_posts
    from incentive.program import Program
    from incentive.records import Record
    from incentive.roster import Roster, load_roster, read_roster
    from incentive.runner import RunResult, run_batch
    from incentive.store import SQLiteStore, Store, StoreError

__version__ = "0.1.0"

# Each public name and the module that defines it, imported on first use (PEP 562):
# `import incentive` stays cheap, so `incentive check` does not pay for the engine,
# pydantic or yaml (docs/performance.md, "Start-up").
_LAZY = {
    "BadLine": "incentive.events",
    "CheckResult": "incentive.checker",
    "Diagnostic": "incentive.diagnostics",
    "EngineState": "incentive.engine",
    "Event": "incentive.events",
    "IncentiveError": "incentive.diagnostics",
    "LiveSession": "incentive.live",
    "InputError": "incentive.diagnostics",
    "MemberState": "incentive.engine",
    "Post": "incentive.posts",
    "Program": "incentive.program",
    "Record": "incentive.records",
    "Roster": "incentive.roster",
    "SQLiteStore": "incentive.store",
    "RunResult": "incentive.runner",
    "SchemeError": "incentive.diagnostics",
    "Session": "incentive.engine",
    "Severity": "incentive.diagnostics",
    "Span": "incentive.diagnostics",
    "Store": "incentive.store",
    "StoreError": "incentive.store",
    "check": "incentive.checker",
    "format_scheme": "incentive.formatter",
    "load_roster": "incentive.roster",
    "parse": "incentive.parser",
    "read_events": "incentive.events",
    "read_roster": "incentive.roster",
    "render_posts": "incentive.posts",
    "run_batch": "incentive.runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def compile(text: str, file: str = "<scheme>") -> Program:
    """Parse and check a scheme; raise SchemeError listing every error."""
    from incentive.checker import compile_scheme

    return compile_scheme(text, file)


def load(path: str | Path) -> Program:
    """Compile a scheme file."""
    from incentive.checker import compile_scheme

    path = Path(path)
    return compile_scheme(path.read_text(encoding="utf-8"), str(path))


def open(scheme: Program | str | Path, store: str | Path | Store, **options: Any) -> LiveSession:
    """A live session whose state is kept in a store (an SQLite file path, or a Store):
    every feed is committed with its records; a restart carries on exactly.
    Options: `engine`, `roster`, `on_change` ("refuse" or "carry")."""
    from incentive.live import open_live

    return open_live(scheme, store, **options)


def fmt(text: str, file: str = "<scheme>", lang: Literal["en", "zh"] | None = None) -> str:
    """The canonical form of scheme text (comments kept), in its own spelling or, with
    `lang`, in English (`"en"`) or Chinese (`"zh"`) keywords."""
    from incentive.formatter import format_source

    return format_source(text, file, lang)


__all__ = [
    "BadLine",
    "CheckResult",
    "Diagnostic",
    "EngineState",
    "Event",
    "IncentiveError",
    "InputError",
    "LiveSession",
    "MemberState",
    "Post",
    "Program",
    "Record",
    "Roster",
    "RunResult",
    "SQLiteStore",
    "SchemeError",
    "Session",
    "Severity",
    "Span",
    "Store",
    "StoreError",
    "check",
    "compile",
    "fmt",
    "format_scheme",
    "load",
    "load_roster",
    "open",
    "parse",
    "read_events",
    "read_roster",
    "render_posts",
    "run_batch",
]
