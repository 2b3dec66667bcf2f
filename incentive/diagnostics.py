"""One diagnostic type for every stage: a stable code, a severity, a message, a span, hints.

Message style (borrowed from Cedar): lower case, no full stop, user text in
backticks, always a span, extra sentences go into a hint.
"""

from __future__ import annotations

import bisect
import functools
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from incentive.i18n import N_, _, ngettext


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


# How a rendered diagnostic names its severity (JSON keeps `error` and `warning`).
_SEVERITY_WORDS = {Severity.ERROR: N_("error"), Severity.WARNING: N_("warning")}


@functools.lru_cache(maxsize=8)
def line_starts(source: str) -> tuple[int, ...]:
    """The offset at which each line of `source` starts, computed once per source text.

    Rendering many diagnostics of one source must not split the source for each
    of them (8,000 errors in a 200 KB scheme took seconds).
    """
    starts = [0]
    find = source.find
    at = find("\n")
    while at != -1:
        starts.append(at + 1)
        at = find("\n", at + 1)
    return tuple(starts)


def line_of(source: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of an offset in `source`."""
    starts = line_starts(source)
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def display_width(text: str) -> int:
    """How many terminal cells `text` takes: East Asian wide and full-width characters
    take two (a character of ASCII only one)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class MisfiledCode(Exception):
    """A programming error: a diagnostic whose code's letter is not its severity (an
    `E` code reported as a warning, a `W` code as an error, or no code of the list's
    form). The code's letter is the severity docs/errors.md documents, so no site can
    downgrade an error to a warning (or the other way) without failing here."""


_CODE_LETTER = {Severity.ERROR: ("E", "an error"), Severity.WARNING: ("W", "a warning")}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    file: str = "<scheme>"
    hints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        letter, kind = _CODE_LETTER[self.severity]
        code = self.code
        if not (len(code) == 5 and code[0] == letter and code[1:].isdigit() and code.isascii()):
            raise MisfiledCode(
                f"{kind} with code {code!r}: the code of {kind} is {letter} and four "
                "digits (docs/errors.md)"
            )

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, source: str | None = None) -> str:
        """The message as an operator reads it: location, message, the line, a caret."""
        # A problem with a whole file (no line) names just the file.
        where = f":{self.span.line}:{self.span.column}" if self.span.line > 0 else ""
        severity = _(_SEVERITY_WORDS[self.severity])
        head = f"{self.file}{where}: {severity}[{self.code}]: "
        out = [head + self.message]
        if source is not None and self.span.line > 0:
            starts = line_starts(source)
            if self.span.line <= len(starts):
                first = starts[self.span.line - 1]
                end = starts[self.span.line] - 1 if self.span.line < len(starts) else len(source)
                if end - first > 200:  # a minified or generated line: show the part that matters
                    start = max(0, self.span.column - 80)
                    text = source[first + start : min(end, first + start + 160)]
                    col = self.span.column - start
                else:
                    text = source[first:end]
                    col = self.span.column
                shown = text.replace("\t", " ")  # one column per tab, as the parser counts
                width = 1
                if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
                    width = self.span.end_column - self.span.column
                width = max(1, min(width, len(shown) - col + 2, 40))
                gutter = f"{self.span.line:>4} | "
                out.append(gutter + shown)
                # Columns count characters; a terminal shows a CJK character (`规则`)
                # or a full-width one (`｛`) two cells wide: pad and underline by cells
                # so that the caret stands under the character the column names.
                before = display_width(shown[: col - 1]) + max(0, col - 1 - len(shown))
                under = display_width(shown[col - 1 : col - 1 + width])
                under += max(0, width - len(shown[col - 1 : col - 1 + width]))
                out.append(" " * (len(gutter) + before) + "^" * max(1, under))
        out.extend(_("  = help: {hint}").format(hint=hint) for hint in self.hints)
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


class EncodingProblem(Exception):
    """An input file that is not text in the expected encoding: a usage error (the
    command line exits 2), not an invalid input, because no line of it can be trusted."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The nearest candidate to a misspelt name, if one is near enough."""
    import difflib  # on first use: a scheme without a misspelling never needs it

    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            return lowered[word.lower()]
        return _one_character_off(word, pool)
    return matches[0]


def _one_character_off(word: str, pool: list[str]) -> str | None:
    """A short Chinese name with one character wrong, as an input method types a
    homophone (`做业` for `作业`, `打开` for `打卡`): too short for the ratio above
    (one character of two is 50%). Only when a single candidate is that near."""
    if word.isascii() or not 2 <= len(word) <= 3:
        return None
    near = [
        c
        for c in pool
        if len(c) == len(word) and sum(a != b for a, b in zip(c, word, strict=True)) == 1
    ]
    return near[0] if len(near) == 1 else None


def suggestion_hints(word: str, candidates: Iterable[str]) -> tuple[str, ...]:
    near = did_you_mean(word, candidates)
    return (_("did you mean `{near}`?").format(near=near),) if near else ()


MAX_ERRORS = 200  # errors reported at most; the rest are counted in one last note (E0299)


@dataclass
class DiagnosticBag:
    """Collects diagnostics during a pass; a checker never stops at the first one."""

    file: str
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span, *hints: str) -> None:
        """An error: `code` is an E code (else `MisfiledCode`, a programming error)."""
        self.items.append(Diagnostic(code, Severity.ERROR, message, span, self.file, hints))

    def warning(self, code: str, message: str, span: Span, *hints: str) -> None:
        """A warning: `code` is a W code (else `MisfiledCode`, a programming error)."""
        self.items.append(Diagnostic(code, Severity.WARNING, message, span, self.file, hints))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        """Every diagnostic by position, up to the MAX_ERRORS-th error, then a note (E0299)
        that says how many more there are: thousands of errors help nobody, and
        rendering them takes time."""
        ordered = sorted(self.items, key=lambda d: (d.span.line, d.span.column, d.code, d.message))
        errors = 0
        for index, diagnostic in enumerate(ordered):
            errors += diagnostic.is_error
            if errors > MAX_ERRORS:
                rest = ordered[index:]
                more = sum(d.is_error for d in rest)
                warnings = len(rest) - more
                also = (
                    ngettext(
                        " and {warnings:,} more warning",
                        " and {warnings:,} more warnings",
                        warnings,
                    ).format(warnings=warnings)
                    if warnings
                    else ""
                )
                note = Diagnostic(
                    "E0299",
                    Severity.ERROR,
                    ngettext(
                        "... and {more:,} more error{also} "
                        "(only the first {shown} errors are shown)",
                        "... and {more:,} more errors{also} "
                        "(only the first {shown} errors are shown)",
                        more,
                    ).format(more=more, also=also, shown=MAX_ERRORS),
                    diagnostic.span,
                    self.file,
                    (_("fix the first errors and check again: one mistake often causes many"),),
                )
                return [*ordered[:index], note]
        return ordered


# What pydantic says of a value that does not fit (a service's request, a population
# description), by the error's `type`, in the reader's language; the type stays the
# machine's handle. A validator's own ValueError (`value_error`) is written with _().
_INVALID: dict[str, str] = {
    "missing": N_("this field is required"),
    "int_type": N_("this should be a whole number"),
    "int_parsing": N_("this should be a whole number"),
    "int_from_float": N_("this should be a whole number, without a fraction"),
    "float_type": N_("this should be a number"),
    "float_parsing": N_("this should be a number"),
    "string_type": N_("this should be text"),
    "bool_type": N_("this should be true or false"),
    "bool_parsing": N_("this should be true or false"),
    "dict_type": N_("this should be an object ({...})"),
    "model_type": N_("this should be an object ({...})"),
    "model_attributes_type": N_("this should be an object ({...})"),
    "list_type": N_("this should be a list ([...])"),
    "tuple_type": N_("this should be a list ([...])"),
    "json_invalid": N_("the body is not valid JSON"),
    "extra_forbidden": N_("this field is not allowed"),
    "greater_than": N_("this should be above {gt}"),
    "greater_than_equal": N_("this should be {ge} or more"),
    "less_than": N_("this should be below {lt}"),
    "less_than_equal": N_("this should be {le} or less"),
    "too_short": N_("this needs at least {min_length} item(s)"),
    "too_long": N_("this takes at most {max_length} item(s)"),
    "date_type": N_("this should be a date such as 2026-03-02"),
    "date_parsing": N_("this should be a date such as 2026-03-02"),
    "date_from_datetime_parsing": N_("this should be a date such as 2026-03-02"),
}


def invalid_message(error: Mapping[str, Any]) -> str:
    """A pydantic validation error's message in the current language, by its type."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "value_error" and "error" in context:
        return str(context["error"])  # a validator's own words, already translated
    if kind in _INVALID:
        try:
            return _(_INVALID[kind]).format(**{k: str(v) for k, v in context.items()})
        except (KeyError, IndexError):
            pass
    return _("this value is not valid here ({type})").format(type=kind)
