"""One diagnostic type for every stage: a stable code, a severity, a message, a span, hints.

Message style (borrowed from Cedar): lower case, no full stop, user text in
backticks, always a span, extra sentences go into a hint.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Span:
    """A stretch of source text: 1-based line and column of its start and end."""

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(line: int, column: int) -> Span:
        return Span(line, column, line, column + 1)


NO_SPAN = Span(0, 0, 0, 0)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    file: str = "<scheme>"
    hints: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, source: str | None = None) -> str:
        """The message as an operator reads it: location, message, the line, a caret."""
        head = (
            f"{self.file}:{self.span.line}:{self.span.column}: {self.severity.value}[{self.code}]: "
        )
        out = [head + self.message]
        if source is not None and self.span.line > 0:
            lines = source.split("\n")
            if self.span.line <= len(lines):
                text = lines[self.span.line - 1]
                shown = text.expandtabs(1)
                if len(shown) > 200:  # a minified or generated line: show the part that matters
                    start = max(0, self.span.column - 80)
                    shown = shown[start : start + 160]
                    col = self.span.column - start
                else:
                    col = self.span.column
                width = 1
                if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
                    width = self.span.end_column - self.span.column
                width = max(1, min(width, len(shown) - col + 2, 40))
                gutter = f"{self.span.line:>4} | "
                out.append(gutter + shown)
                out.append(" " * (len(gutter) + col - 1) + "^" * width)
        out.extend(f"  = help: {hint}" for hint in self.hints)
        return "\n".join(out)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "hints": list(self.hints),
        }


class IncentiveError(Exception):
    """The one exception type the library raises for bad input of any kind."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str | None = None) -> None:
        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render(self.source) for d in self.diagnostics)

    def to_json(self) -> str:
        return json.dumps([d.to_json() for d in self.diagnostics], ensure_ascii=False, indent=2)


class SchemeError(IncentiveError):
    """The scheme text does not parse or does not check."""


class InputError(IncentiveError):
    """An input file (a roster) cannot be used at all.

    A bad event line never raises: it becomes a `bad_event` record.
    """


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The nearest candidate to a misspelt name, if one is near enough."""
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            return lowered[word.lower()]
        return None
    return matches[0]


def suggestion_hints(word: str, candidates: Iterable[str]) -> tuple[str, ...]:
    near = did_you_mean(word, candidates)
    return (f"did you mean `{near}`?",) if near else ()


@dataclass
class DiagnosticBag:
    """Collects diagnostics during a pass; a checker never stops at the first one."""

    file: str
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span, *hints: str) -> None:
        self.items.append(Diagnostic(code, Severity.ERROR, message, span, self.file, hints))

    def warning(self, code: str, message: str, span: Span, *hints: str) -> None:
        self.items.append(Diagnostic(code, Severity.WARNING, message, span, self.file, hints))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.span.line, d.span.column, d.code, d.message))
