"""The `incentive` command: a thin layer over the library.

Exit codes: 0 ok; 1 invalid scheme, events or failed check; 2 usage or I/O
error; 3 an internal error (a bug: please report it). No traceback reaches
the terminal unless INCENTIVE_DEBUG=1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from incentive.clihelp import TranslatedGroup
from incentive.diagnostics import EncodingProblem, IncentiveError, SchemeError, did_you_mean
from incentive.i18n import LANGUAGES, N_, _, language
from incentive.i18n import resolve as resolve_language

# Everything else is imported by the commands that use it: `check` loads neither the
# engine nor pydantic, yaml or rich (docs/performance.md, "Start-up").
if TYPE_CHECKING:
    from incentive.events import BadLine, Event, ReadOptions
    from incentive.program import Program
    from incentive.records import Record

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C

F = TypeVar("F", bound=Callable[..., Any])


class Failure(Exception):
    """An error already worded for the operator, with its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def guarded(func: F) -> F:
    """Turn every failure into a message and an exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Failure as err:
            click.echo(_("error: {message}").format(message=err), err=True)
            sys.exit(err.code)
        except IncentiveError as err:
            click.echo(err.render(), err=True)
            sys.exit(EXIT_INVALID)
        except EncodingProblem as err:
            click.echo(_("error: {message}").format(message=err), err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            # Ctrl-C: every output is written to a temporary file first and renamed at
            # the end (write_atomically), so nothing half-written is left behind.
            click.echo(_("interrupted: nothing was written"), err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader went away (`| head`): nothing to report. Point stdout at
            # devnull so that Python's own flush at exit does not complain either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except (OSError, UnicodeDecodeError) as err:
            click.echo(_("error: {message}").format(message=_os_message(err)), err=True)
            sys.exit(EXIT_USAGE)
        except Exception as err:  # a bug: say so plainly
            if os.environ.get("INCENTIVE_DEBUG"):
                raise
            click.echo(
                _(
                    "internal error: {name__}: {err}\nthis is a bug in incentive; rerun with "
                    "INCENTIVE_DEBUG=1 for details"
                ).format(name__=type(err).__name__, err=err),
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _os_message(err: Exception) -> str:
    if isinstance(err, FileNotFoundError):
        return _("no such file: {file}").format(file=err.filename)
    if isinstance(err, IsADirectoryError):
        return _("is a directory, not a file: {file}").format(file=err.filename)
    if isinstance(err, PermissionError):
        return _("permission denied: {file}").format(file=err.filename)
    if isinstance(err, UnicodeDecodeError):
        return _("the file is not UTF-8 text")
    return str(err)


# ---- outputs ----------------------------------------------------------------------------


def check_outputs(outputs: dict[str, str | None], inputs: tuple[str | None, ...]) -> None:
    """Before any work: every output can be written, and none is an input.

    A run of the shop's events takes 17 s; a missing folder found only then wastes
    them, and `--out` naming the events file would empty it before it is read."""
    named = {option: path for option, path in outputs.items() if path}
    seen: dict[str, str] = {}
    for option, path in named.items():
        target = Path(path)
        where = os.path.abspath(path)
        if where in seen:
            raise Failure(
                _("{option} and {value} name the same file {path}").format(
                    option=option, value=seen[where], path=path
                ),
                EXIT_USAGE,
            )
        seen[where] = option
        if target.is_dir():
            raise Failure(
                _("{option} {path} is a directory, not a file").format(option=option, path=path),
                EXIT_USAGE,
            )
        folder = target.parent
        if not folder.is_dir():
            raise Failure(
                _("{option} {path}: the folder {folder} does not exist").format(
                    option=option, path=path, folder=folder
                ),
                EXIT_USAGE,
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise Failure(
                _("{option} {path}: cannot write in the folder {folder}").format(
                    option=option, path=path, folder=folder
                ),
                EXIT_USAGE,
            )
        if target.exists() and not os.access(target, os.W_OK):
            raise Failure(
                _("{option} {path} is read-only").format(option=option, path=path), EXIT_USAGE
            )
        for source in inputs:
            if _same_file(target, source):
                raise Failure(
                    _(
                        "{option} {path} is also an input: writing it would destroy it; write to "
                        "another file"
                    ).format(option=option, path=path),
                    EXIT_USAGE,
                )


def _same_file(target: Path, source: str | None) -> bool:
    if not source or source == "-" or not target.exists() or not Path(source).exists():
        return False
    return target.samefile(source)


@contextmanager
def write_atomically(path: str, mode: str = "wb") -> Iterator[IO[Any]]:
    """A file written in full or not at all: a temporary file beside it, renamed over
    it at the end. An error or Ctrl-C halfway leaves the old file (or none), never a
    partial one."""
    import tempfile

    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, mode, **({} if "b" in mode else _TEXT)) as file:
            yield file
        # mkstemp makes the file private (0600): give it the mode a plain open would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_TEXT: dict[str, Any] = {"encoding": "utf-8", "newline": "\n"}


def write_text_atomically(path: str, text: str) -> None:
    with write_atomically(path, "w") as file:
        file.write(text)


def read_scheme_text(path: str) -> str:
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise Failure(
            _("{path}: line {line} is not UTF-8 text; a scheme is written in UTF-8").format(
                path=path, line=line
            ),
            EXIT_USAGE,
        ) from None


def load_program(path: str) -> Program:
    from incentive.checker import check
    from incentive.parser import parse

    text = read_scheme_text(path)
    result = check(parse(text, path), path, text)
    if result.program is None:
        raise SchemeError(result.diagnostics, text)
    return result.program


def iter_event_files(
    paths: tuple[str, ...],
    program: Program,
    fmt: str,
    copies: Mapping[str, str],
    encoding: str | None = None,
    options: ReadOptions | None = None,
) -> Iterator[Event | BadLine]:
    """Events from each file in turn; `-` is standard input. `copies` (`_input_copies`)
    maps each input that can be read only once (standard input, a pipe) to a file copy,
    which is read in its place.

    Text is decoded strictly (`check_inputs` has found any bad line before the run):
    a byte that does not decode is never replaced, which would merge members."""
    from incentive.events import NO_OPTIONS, EventFormat, codec_name, guess_format, read_events

    codec = codec_name(encoding)
    how = options or NO_OPTIONS
    for path in paths:
        chosen: EventFormat = guess_format(path) if fmt == "auto" else fmt  # type: ignore[assignment]
        name = path
        if path == "-":
            chosen, name = "jsonl" if fmt == "auto" else chosen, "<stdin>"
        with open(copies.get(path, path), encoding=codec, newline="") as stream:
            yield from read_events(stream, program.calendar, chosen, name, how)


def read_options(time_format: str | None, columns: str | None) -> ReadOptions:
    """--time-format and --columns (`类型=type,成员=member,时间=at`) as ReadOptions."""
    from incentive.events import ReadOptions

    mapping: dict[str, str] = {}
    for pair in (columns or "").split(","):
        if not pair.strip():
            continue
        export, sep, field = pair.partition("=")
        if not sep or not export.strip() or not field.strip():
            raise Failure(
                _(
                    "--columns: `{pair}` is not COLUMN=FIELD (e.g. --columns "
                    "类型=type,成员=member,时间=at)"
                ).format(pair=pair),
                EXIT_USAGE,
            )
        mapping[export.strip()] = field.strip()
    if time_format is not None and "%" not in time_format:
        raise Failure(
            _("--time-format: `{time_format}` has no `%` field (e.g. '%Y/%m/%d %H:%M')").format(
                time_format=time_format
            ),
            EXIT_USAGE,
        )
    return ReadOptions(time_format, mapping or None)


def check_inputs(paths: tuple[str, ...], encoding: str | None, copies: Mapping[str, str]) -> None:
    """Before any work: every events file (or its copy, `_input_copies`) exists and
    decodes, or the run stops here (exit 2) naming the file, its first bad line and the
    encoding it looks like."""
    from incentive.events import check_encoding, codec_name

    codec = codec_name(encoding)
    for path in paths:
        with open(copies.get(path, path), "rb") as file:
            check_encoding(file, "<stdin>" if path == "-" else path, codec)


def _checked_first(
    read: Callable[[], Iterable[Any]],
    paths: tuple[str, ...],
    encoding: str | None,
    copies: Mapping[str, str],
) -> Callable[[], Iterable[Any]]:
    """`read`, with `check_inputs` before its first call: when the compiled evaluator
    reads the input. The columnar plan reads files strictly (a line that does not decode
    hands the run to the evaluator, nothing written), so a run it takes reads its files
    once, not twice (a tenth of a second per million events)."""
    checked = False

    def reading() -> Iterable[Any]:
        nonlocal checked
        if not checked:
            check_inputs(paths, encoding, copies)
            checked = True
        return read()

    return reading


def _event_sources(
    events: tuple[str, ...],
    program: Program,
    events_format: str,
    encoding: str | None,
    how: ReadOptions | None,
    copies: Mapping[str, str],
    quiet: bool = True,
) -> tuple[list[str] | None, Callable[[], Iterable[Any]]]:
    """A batch run's two ways to its events: the files the columnar plan may read whole
    (`_plain_files`), and the compiled evaluator's reader, the encoding checked first
    (`_checked_first`)."""
    return _plain_files(events, events_format, encoding, how, copies), _checked_first(
        lambda: with_progress(
            iter_event_files(events, program, events_format, copies, encoding, how), quiet
        ),
        events,
        encoding,
        copies,
    )


def with_progress(items: Iterator[Any], quiet: bool) -> Iterator[Any]:
    """Count events on standard error as they are read, on a terminal only (a long
    run shows it is alive; a pipe or a test sees nothing)."""
    if quiet or not sys.stderr.isatty():
        yield from items
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed:,} events read"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("read", total=None)
        for count, item in enumerate(items, start=1):
            if count % 1000 == 0:
                progress.update(task, completed=count)
            yield item


@contextmanager
def day_progress(days: int, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A bar of simulated days on standard error, on a terminal only."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("day {task.completed}/{task.total}"),
        BarColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("simulate", total=days, events=0)

        def advance(done: int, events: int) -> None:
            bar.update(task, completed=done, events=events)

        yield advance


def _parse_until(value: str | None, program: Program) -> datetime | None:
    if value is None:
        return None
    from incentive.calendar import FIRST_YEAR, LAST_YEAR, in_range
    from incentive.events import parse_time

    try:
        instant = parse_time(value, program.calendar)
    except (OverflowError, ValueError):
        instant = None  # beyond year 9999 once its offset is applied
    else:
        if instant is None:
            raise Failure(
                _("--until is not an ISO 8601 time: {value!r}").format(value=value), EXIT_USAGE
            )
    if instant is None or not in_range(instant):
        raise Failure(
            _(
                "--until {value} is outside the years incentive counts in ({FIRST_YEAR} "
                "to {LAST_YEAR}); without --until, the end of the input closes every "
                "period"
            ).format(value=value, FIRST_YEAR=FIRST_YEAR, LAST_YEAR=LAST_YEAR),
            EXIT_USAGE,
        )
    return instant


@click.group(
    cls=TranslatedGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=N_("Write, check and dry-run engagement incentive schemes."),
)
@click.version_option(package_name="incentive")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    is_eager=True,  # before --help, so that `--lang zh --help` is in Chinese
    expose_value=False,
    callback=lambda ctx, _param, lang: _choose_language(ctx, lang),
    help=N_("Language of messages, reasons and reports (default: from the locale, LANG)."),
)
def main() -> None:
    pass


def _choose_language(ctx: click.Context, lang: str | None) -> None:
    # for this command only: the language is put back when it ends (tests run many)
    ctx.with_resource(language(resolve_language(lang)))


@main.command(
    "check",
    help=N_("Check scheme files: every error and warning, with line and column."),
)
@click.argument("schemes", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "table", "json"]),  # table: the same as text, as elsewhere
    default="text",
    show_default=True,
)
@guarded
def check_command(schemes: tuple[str, ...], fmt: str) -> None:
    from incentive.checker import check
    from incentive.parser import parse

    failed = False
    report: list[dict[str, Any]] = []
    for path in schemes:
        text = read_scheme_text(path)
        try:
            result = check(parse(text, path), path, text)
            diagnostics = result.diagnostics
        except SchemeError as err:
            diagnostics = list(err.diagnostics)
        errors = [d for d in diagnostics if d.is_error]
        failed = failed or bool(errors)
        if fmt == "json":
            report.append(
                {"file": path, "ok": not errors, "diagnostics": [d.to_json() for d in diagnostics]}
            )
            continue
        for diagnostic in diagnostics:
            click.echo(diagnostic.render(text), err=bool(errors))
        warnings = len(diagnostics) - len(errors)
        if errors:
            click.echo(
                _("{path}: {errors} error(s), {warnings} warning(s)").format(
                    path=path, errors=len(errors), warnings=warnings
                ),
                err=True,
            )
        else:
            click.echo(_("{path}: ok ({warnings} warning(s))").format(path=path, warnings=warnings))
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


@main.command(
    "run",
    help=N_("Evaluate SCHEME over EVENTS files and print the records, then final balances."),
)
@click.argument("scheme")
@click.argument("events", nargs=-1, required=True)
@click.option(
    "--events-format",
    type=click.Choice(["auto", "jsonl", "csv", "yaml"]),
    default="auto",
    show_default=True,
    help=N_("auto: by file extension; `-` is JSON Lines"),
)
@click.option(
    "--format",
    "fmt",
    # json: the same JSON Lines, as elsewhere; csv: for spreadsheets (UTF-8 with a BOM)
    type=click.Choice(["jsonl", "json", "table", "csv"]),
    default="jsonl",
    show_default=True,
)
@click.option("--until", help=N_("advance time to this instant after the last event"))
@click.option(
    "--roster",
    type=click.Path(dir_okay=False),
    help=N_("members' teams: CSV with a header (member, class, ...) or a YAML list"),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help=N_("write records here instead of standard output"),
)
@click.option("--seed", type=int, help=N_("seed for random draws (overrides the scheme's `seed`)"))
@click.option("--member", "members", multiple=True, help=N_("print only this member's records"))
@click.option(
    "--only",
    "only",
    metavar="KINDS",
    help=N_("print only records of these kinds, comma-separated (e.g. perk,board)"),
)
@click.option("--quiet", is_flag=True, help=N_("no progress or summary on standard error"))
@click.option(
    "--post",
    "post",
    metavar="BOARDS",
    help=N_(
        "print these boards, comma-separated, as chat posts (their `post` templates) "
        "instead of records: one post per time they go out"
    ),
)
@click.option(
    "--post-day",
    metavar="DATE",
    help=N_("with --post: only the posts sent on this local date (YYYY-MM-DD)"),
)
@click.option(
    "--time-format",
    metavar="FORMAT",
    help=N_("how EVENTS write `at` when not ISO 8601, as for strptime: '%Y/%m/%d %H:%M'"),
)
@click.option(
    "--columns",
    metavar="MAP",
    help=N_("the export's names for fields, e.g. 类型=type,成员=member,时间=at"),
)
@click.option(
    "--encoding",
    metavar="CODEC",
    help=N_(
        "the encoding of the events, roster and population files (default: UTF-8, "
        "a BOM allowed); e.g. gbk for Excel on Chinese Windows"
    ),
)
@click.option(
    "--engine",
    type=click.Choice(["columnar", "compiled", "interpreter"]),
    default="columnar",
    show_default=True,
    help=N_(
        "the columnar plan where the scheme and plain JSON Lines files allow it (else "
        "the compiled evaluator), the compiled evaluator, or the reference interpreter: "
        "the same records"
    ),
)
@click.option(
    "--explain-plan",
    is_flag=True,
    help=N_(
        "print whether the columnar plan runs the scheme, what the compiled evaluator "
        "writes inline and what it leaves to the interpreter, then stop"
    ),
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help=N_(
        "processes for the per-member stages of the columnar plan, or sessions of "
        "the compiled evaluator (members split among them; what compares members "
        "stays in this one): the same records"
    ),
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help=N_(
        "keep the state in this store (an SQLite file, made if new) and carry on "
        "where the last run with it stopped"
    ),
)
@click.option(
    "--commit-every",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help=N_("with --state: events committed together (a crash loses none of them)"),
)
@click.option(
    "--close",
    "close_periods",
    is_flag=True,
    help=N_("with --state: the season is over: close every open period at the end"),
)
@click.option(
    "--new-input",
    is_flag=True,
    help=N_("with --state: the events are new input, read from their first line"),
)
@click.option(
    "--on-change",
    type=click.Choice(["refuse", "carry"]),
    default="refuse",
    show_default=True,
    help=N_(
        "with --state: a scheme changed since the store was written is refused, or "
        "its state is carried over"
    ),
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="OLD=NEW",
    help=N_(
        "with --on-change carry: a rule, redeem, grants or currency renamed; its limits, "
        "caps, progress and balances carry over (repeat for several)"
    ),
)
@click.option(
    "--horizon",
    "horizon_hours",
    type=click.IntRange(min=1),
    help=N_(
        "with --state: quarantine an event dated more than HOURS after the latest event "
        "instead of letting it move the clock (default: no horizon for files)"
    ),
)
@guarded
def run_command(
    scheme: str,
    events: tuple[str, ...],
    events_format: str,
    fmt: str,
    until: str | None,
    roster: str | None,
    out: str | None,
    seed: int | None,
    members: tuple[str, ...],
    only: str | None,
    quiet: bool,
    post: str | None,
    post_day: str | None,
    time_format: str | None,
    columns: str | None,
    encoding: str | None,
    engine: str,
    explain_plan: bool,
    jobs: int,
    state_path: str | None,
    commit_every: int,
    close_periods: bool,
    new_input: bool,
    on_change: str,
    renames: tuple[str, ...],
    horizon_hours: int | None,
) -> None:
    import gc

    from incentive.records import RECORD_KINDS
    from incentive.report import kind_of_name
    from incentive.roster import load_roster

    shown = (
        None if only is None else {kind_of_name(k.strip()) for k in only.split(",") if k.strip()}
    )
    unknown = sorted((shown or set()) - set(RECORD_KINDS))
    if unknown:
        near = did_you_mean(unknown[0], RECORD_KINDS)
        raise Failure(
            _("--only: unknown record kind `{value}`").format(value=unknown[0])
            + (_(" (did you mean `{near}`?)").format(near=near) if near else "")
            + _("; the kinds are ")
            + ", ".join(RECORD_KINDS),
            EXIT_USAGE,
        )
    check_outputs({"--out": out}, (scheme, *events, roster))
    how = read_options(time_format, columns)
    program = load_program(scheme)
    if seed is not None:
        program = dataclasses.replace(program, seed=seed)
    if explain_plan:
        from incentive.columnar import explain as columnar_plan
        from incentive.columnar import why_not
        from incentive.compiler import explain_plan as plan
        from incentive.split import explain as split_plan

        # the plan's own `--jobs` line where it has one; then the compiled evaluator's
        click.echo(columnar_plan(program, 1 if why_not(program) else jobs))
        if jobs > 1:
            click.echo(split_plan(program, jobs))
        click.echo(plan(program))
        sys.exit(EXIT_OK)
    if jobs > 1 and state_path is not None:
        raise Failure(_("--jobs splits a batch run; a run with --state is one stream"), EXIT_USAGE)
    posting = _posting(program, post, post_day, fmt, shown, members, state_path)
    teams = load_roster(roster, encoding, program.teams) if roster else None
    instant = _parse_until(until, program)

    def keep(record: Record) -> bool:
        if posting is not None:
            return record.kind == "board" and record.rule in posting[0]
        return (shown is None or record.kind in shown) and (not members or record.member in members)

    chosen = keep if shown is not None or members or posting is not None else None

    if state_path is not None:
        _run_stored(
            program, events, events_format, fmt, out, instant, teams,
            "compiled" if engine == "columnar" else engine,  # a live stream: no plan
            keep, quiet,
            state_path, commit_every, close_periods, new_input, on_change,
            _renames(renames), horizon_hours,
        )  # fmt: skip
    if close_periods or new_input or on_change != "refuse" or horizon_hours or renames:
        raise Failure(
            _("--close, --new-input, --on-change, --rename and --horizon go with --state"),
            EXIT_USAGE,
        )
    # The run's state is plain data without reference cycles: the cyclic collector
    # would only walk millions of live objects again and again (a third of the time).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        summary = _run_records(
            program,
            events,
            events_format,
            fmt,
            out,
            instant,
            teams,
            engine,
            chosen,
            quiet,
            encoding,
            how,
            posting,
            jobs,
        )
    finally:
        gc.enable()
        gc.unfreeze()
    problems = summary.kinds["bad_event"] + summary.kinds["conflict"]
    if not quiet:
        if jobs > summary.jobs:
            click.echo(_one_process(program, engine, summary, jobs), err=True)
        if summary.spilled:
            click.echo(
                _(
                    "the events were not in time order: they were read twice and sorted on "
                    "disk; sort them by `at` first for a single pass"
                ),
                err=True,
            )
        from incentive.report import kinds_text

        listed = kinds_text(summary.kinds)
        click.echo(
            _("{program}: {records}; {members} member(s)").format(
                program=program.name, records=listed or _("no records"), members=summary.members
            ),
            err=True,
        )
        if problems:
            click.echo(
                _(
                    "{problems} event(s) could not be evaluated: see the bad_event and "
                    "conflict records"
                ).format(problems=problems),
                err=True,
            )
        if summary.lacking:
            listed = ", ".join(
                f"`{name}` ({count})" for name, count in sorted(summary.lacking.items())
            )
            click.echo(
                _(
                    "{value} award(s) refused because the event lacks an attribute a rule "
                    "reads: {listed}; a renamed column? see the refused records"
                ).format(value=sum(summary.lacking.values()), listed=listed),
                err=True,
            )
    sys.exit(EXIT_INVALID if problems else EXIT_OK)


def _run_records(
    program: Program,
    events: tuple[str, ...],
    events_format: str,
    fmt: str,
    out: str | None,
    until: datetime | None,
    roster: Any,
    engine: str,
    keep: Callable[[Record], bool] | None,
    quiet: bool,
    encoding: str | None = None,
    how: ReadOptions | None = None,
    posting: tuple[list[str], date | None] | None = None,
    jobs: int = 1,
) -> Any:
    """`run`'s records to --out or standard output, as JSON Lines or a table (or, with
    --post, the boards' chat posts)."""
    import io

    import msgspec

    from incentive.reasons import LocalizedLines
    from incentive.records import Record
    from incentive.runner import run_files

    with _input_copies(events) as copies, contextlib.ExitStack() as outputs:
        target: IO[bytes]
        table = io.BytesIO() if fmt == "table" or posting is not None else None
        if table is not None:
            target = table  # a table is drawn once every record is known
        elif out:
            target = outputs.enter_context(write_atomically(out))
        else:
            target = sys.stdout.buffer
        if fmt == "csv":
            target = CsvRecords(target)  # type: ignore[assignment]
        csv_sink = target
        # the reasons in the operator's language (the engine writes them in English)
        target = LocalizedLines(target)  # type: ignore[assignment]
        try:
            summary = run_files(
                program,
                *_event_sources(events, program, events_format, encoding, how, copies, quiet),
                target,
                until,
                roster,
                engine,  # type: ignore[arg-type]
                keep,
                jobs,
            )
            target.flush()
            if isinstance(csv_sink, CsvRecords):
                csv_sink.close()
            if table is not None:
                decoder = msgspec.json.Decoder(Record)
                records = [decoder.decode(line) for line in table.getvalue().splitlines()]
                text: IO[str] = (
                    outputs.enter_context(write_atomically(out, "w")) if out else sys.stdout
                )
                if posting is not None:
                    _print_posts(program, records, *posting, text)
                else:
                    _print_table(records, text)
        finally:
            if not out:
                sys.stdout.flush()  # records before the summary when both go to one terminal
    return summary


def _one_process(program: Program, engine: str, summary: Any, jobs: int) -> str:
    """Why a run asked for `--jobs N` (its `RunSummary`) ran in one process."""
    from incentive.columnar import split_why_not, why_not
    from incentive.split import loop_split_why_not

    loop = loop_split_why_not(program)
    evaluator = "interpreter" if engine == "interpreter" else "compiled"
    if summary.lost is not None:
        why = _("{why}: the compiled evaluator ran it instead").format(why=summary.lost)
    elif engine == "columnar" and summary.columnar:
        why = _("; ").join(split_why_not(program))  # the plan ran it, and does not split it
    else:
        said = []
        if engine == "columnar":
            # no plan; or one, but the input did not take it (standard input, another
            # encoding or a column map, --until, --only, --member, or lines that are
            # not plain JSON Lines)
            plan = not why_not(program)
            said.append(
                _("the input or the options are ones the columnar plan does not take")
                if plan
                else _("; ").join(split_why_not(program))
            )
        if loop:
            said.append(
                _("the {engine} evaluator keeps it in one process: {why}").format(
                    engine=evaluator, why=_("; ").join(loop)
                )
            )
        else:  # the scheme splits on the loop too: only a filter keeps it whole
            said.append(_("--only, --member and --post keep a run in one process"))
        why = _("; ").join(said)
    text = _("--jobs {jobs}: the run used one process ({why}); `run --explain-plan` says more")
    return text.format(jobs=jobs, why=why)


def _posting(
    program: Program,
    post: str | None,
    post_day: str | None,
    fmt: str,
    shown: set[str] | None,
    members: tuple[str, ...],
    state_path: str | None,
) -> tuple[list[str], date | None] | None:
    """`--post BOARDS [--post-day DATE]`: the boards and the day, checked before the run."""
    if post is None:
        if post_day is not None:
            raise Failure(_("--post-day goes with --post"), EXIT_USAGE)
        return None
    if fmt != "jsonl" or shown is not None or members or state_path is not None:
        raise Failure(
            _("--post prints chat posts: leave out --format, --only, --member and --state"),
            EXIT_USAGE,
        )
    boards = [name.strip() for name in post.split(",") if name.strip()]
    known = [rule.name for rule in program.rules if rule.board]
    for name in boards:
        if name not in known:
            near = did_you_mean(name, known)
            message = _("--post: `{name}` is not a board of the scheme").format(name=name)
            if near:
                message += _(" (did you mean `{near}`?)").format(near=near)
            message += _("; the boards are {boards}").format(boards=", ".join(known) or _("none"))
            raise Failure(message, EXIT_USAGE)
    if not boards:
        raise Failure(_("--post: name a board"), EXIT_USAGE)
    day = None
    if post_day is not None:
        try:
            day = date.fromisoformat(post_day)
        except ValueError:
            message = _("--post-day: `{day}` is not a date (YYYY-MM-DD)").format(day=post_day)
            raise Failure(message, EXIT_USAGE) from None
    return boards, day


def _print_posts(
    program: Program, records: list[Record], boards: list[str], day: date | None, text: IO[str]
) -> None:
    """Posts one after another; a line with the time each goes out when there are several."""
    from incentive.posts import render_posts

    posts = render_posts(program, records, boards, day)
    for index, post in enumerate(posts):
        if len(posts) > 1:
            if index:
                text.write("\n")
            sent = datetime.fromisoformat(post.at)
            text.write(f"== {sent:%Y-%m-%d %H:%M} ==\n")
        text.write(post.text + "\n")


def _run_stored(
    program: Program,
    events: tuple[str, ...],
    events_format: str,
    fmt: str,
    out: str | None,
    until: datetime | None,
    roster: Any,
    engine: str,
    keep: Callable[[Record], bool],
    quiet: bool,
    state_path: str,
    commit_every: int,
    close_periods: bool,
    new_input: bool,
    on_change: str,
    renames: dict[str, str],
    horizon_hours: int | None,
) -> None:
    """`run --state`: the events fed in input order to a session kept in a store,
    committed every `commit_every`; records as JSON Lines once committed, then the
    balances. Exits like `run`."""
    from incentive.live import open_live, run_stored
    from incentive.reasons import LocalizedLines
    from incentive.store import StoreError

    if fmt == "table":
        raise Failure(_("--state writes records as JSON Lines: leave out --format table"), 2)
    if out:
        _refuse_overwriting_input(Path(out), events)
    counts: dict[str, int] = {}
    try:
        live = open_live(
            program,
            state_path,
            engine=engine,  # type: ignore[arg-type]
            roster=roster,
            on_change=on_change,  # type: ignore[arg-type]
            # An export's gaps (a quiet weekend) are real: files get no horizon unless asked.
            horizon=timedelta(hours=horizon_hours) if horizon_hours else None,
            renames=renames,
        )
    except StoreError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    try:
        with _input_copies(events) as copies:
            target: IO[bytes] = Path(out).open("wb") if out else sys.stdout.buffer  # noqa: SIM115
            try:
                shown = LocalizedLines(target)  # the store keeps the English reasons
                left = run_stored(
                    live,
                    lambda: with_progress(
                        iter_event_files(events, program, events_format, copies), quiet
                    ),
                    shown,  # type: ignore[arg-type]
                    commit_every=commit_every,
                    until=until,
                    close=close_periods,
                    new_input=new_input,
                    keep=keep,
                    counts=counts,
                    torn=_torn(events[-1]),
                )
                shown.flush()
            finally:
                if out:
                    target.close()
                else:
                    sys.stdout.flush()
        members = len(live.balances())
    except StoreError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    finally:
        live.close()
    problems = counts.get("bad_event", 0) + counts.get("conflict", 0)
    if not quiet:
        if left:
            click.echo(
                _(
                    "the last line of {value} has no end yet and cannot be read: it is left "
                    "for the next run"
                ).format(value=events[-1]),
                err=True,
            )
        from incentive.report import kinds_text

        listed = kinds_text(counts)
        click.echo(
            _("{program}: {value}; {members} member(s); state kept in {state_path}").format(
                program=program.name,
                value=listed or _("no records"),
                members=members,
                state_path=state_path,
            ),
            err=True,
        )
        if problems:
            click.echo(
                _(
                    "{problems} event(s) could not be evaluated: see the bad_event and "
                    "conflict records"
                ).format(problems=problems),
                err=True,
            )
    sys.exit(EXIT_INVALID if problems else EXIT_OK)


def _torn(path: str) -> bool:
    """Whether a file's last line has no end yet: an exporter may be writing it."""
    if path == "-":
        return False
    with open(path, "rb") as file:
        if file.seek(0, os.SEEK_END) == 0:
            return False
        file.seek(-1, os.SEEK_END)
        return file.read(1) != b"\n"


def _renames(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--rename OLD=NEW` options as a mapping."""
    renames = {}
    for pair in pairs:
        old, equals, new = pair.partition("=")
        if not equals or not old.strip() or not new.strip():
            raise Failure(
                _("--rename {pair!r}: write OLD=NEW (`--rename chat=messages`)").format(pair=pair),
                2,
            )
        renames[old.strip()] = new.strip()
    return renames


def _refuse_overwriting_input(out: Path, events: tuple[str, ...]) -> None:
    """--out naming an events file would empty it before it is read: refuse."""
    for path in events:
        if path != "-" and out.exists() and Path(path).exists() and out.samefile(path):
            raise Failure(
                _(
                    "--out {out} is also an events file: the records would overwrite the "
                    "events; write them to another file"
                ).format(out=out),
                EXIT_USAGE,
            )


@contextmanager
def _input_copies(paths: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Each input that can be read only once — standard input (`-`), a pipe such as
    `<(zcat events.jsonl.gz)`, a device — copied to a temporary file, by its name: a
    run reads its input again when the events are not in time order, `compare` once
    per scheme, and a pipe read twice is empty the second time (no events, no error)."""
    import shutil
    import stat
    import tempfile

    once = []
    for path in dict.fromkeys(paths):
        if path == "-":
            once.append(path)
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue  # reading it says what is wrong (`check_inputs`)
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            once.append(path)
    if not once:
        yield {}
        return
    with tempfile.TemporaryDirectory() as folder:
        copies = {}
        for number, path in enumerate(once):
            copy = copies[path] = str(Path(folder) / f"input-{number}")
            with open(copy, "wb") as file:
                if path == "-":
                    shutil.copyfileobj(sys.stdin.buffer, file)
                else:
                    with open(path, "rb") as source:
                        shutil.copyfileobj(source, file)
        yield copies


class CsvRecords:
    """Records as CSV for spreadsheets, written as they come: `run_to` writes JSON
    Lines (in whole records, or in chunks of its spool), each complete line becomes a
    row. UTF-8 with a byte-order mark, which Excel needs to show Chinese rightly."""

    def __init__(self, target: IO[bytes]) -> None:
        import csv

        from incentive.records import Record

        self.columns = [name for name in Record.__struct_fields__]
        self.target = target
        self.pending = b""
        self.text = io.StringIO()
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        target.write("\ufeff".encode())
        self.writer.writerow(self.columns)
        self._flush()

    def write(self, data: bytes) -> int:
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        for line in lines:
            if line:
                row = json.loads(line)
                self.writer.writerow([_cell(row.get(name)) for name in self.columns])
        self._flush()
        return len(data)

    def close(self) -> None:
        if self.pending:
            self.write(b"\n")

    def _flush(self) -> None:
        self.target.write(self.text.getvalue().encode("utf-8"))
        self.text.seek(0)
        self.text.truncate()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)  # a record's event ids
    return str(value)


def _print_table(records: list[Record], stream: IO[str]) -> None:
    from rich.table import Table

    from incentive.report import console_for, kind_name

    table = Table(show_lines=False)
    columns = (
        N_("kind"),
        N_("at"),
        N_("member"),
        N_("rule"),
        N_("points"),
        N_("balance"),
        N_("reason"),
    )
    for column in columns:
        table.add_column(_(column), justify="right" if column in ("points", "balance") else "left")
    for r in records:
        table.add_row(
            kind_name(r.kind),
            r.at or "",
            r.member or (_("team {team}").format(team=r.team) if r.team else ""),
            r.rule or "",
            "" if r.points is None else str(r.points),
            "" if r.balance is None else str(r.balance),
            r.reason,
        )
    console_for(stream, 160).print(table)


@main.command(
    "replay",
    help=N_(
        "A dry run: the input kept in a --state store, evaluated again under SCHEME (a "
        "new version, say), in memory; the difference per rule and per member. Writes "
        "nothing."
    ),
)
@click.argument("scheme")
@click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(dir_okay=False),
    help=N_("the store whose input to replay (opened read-only)"),
)
@click.option("--roster", type=click.Path(dir_okay=False), help=N_("members' teams (CSV or YAML)"))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--top", type=int, default=10, show_default=True, help=N_("members to list"))
@click.option(
    "--engine",
    type=click.Choice(["compiled", "interpreter"]),
    default="compiled",
    show_default=True,
    help=N_("the compiled evaluator, or the reference interpreter (the same records)"),
)
@guarded
def replay_command(
    scheme: str, state_path: str, roster: str | None, fmt: str, top: int, engine: str
) -> None:
    from incentive.live import replay
    from incentive.roster import load_roster
    from incentive.store import StoreError

    program = load_program(scheme)
    try:
        result = replay(
            state_path,
            program,
            engine=engine,  # type: ignore[arg-type]
            roster=load_roster(roster) if roster else None,
        )
    except StoreError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    diff = result.comparison()
    if fmt == "json":
        data = {"changes": result.changes, **dataclasses.asdict(diff)}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if result.changes:
        click.echo(_("the scheme differs from the one that wrote the store:"))
        for line in result.changes:
            click.echo(f"  - {line}")
    else:
        click.echo(_("the same scheme as the one that wrote the store"))
    click.echo(_("points per rule (stored -> replayed):"))
    for row in diff.rules:
        click.echo(
            f"  {row['rule']} ({row['currency']}): {row['a']:,} -> {row['b']:,} "
            f"({row['change']:+,})"
        )
    click.echo(
        _("members: {gainers} gain, {losers} lose, {same} unchanged").format(
            gainers=diff.gainers, losers=diff.losers, same=diff.same
        )
    )
    for row in diff.members[:top]:
        click.echo(
            f"  {row['member']} ({row['currency']}): {row['a']:,} -> {row['b']:,} "
            f"({row['change']:+,})"
        )
    click.echo(_("a dry run: nothing was written"))


@main.command(
    "serve",
    help=N_(
        "Serve SCHEME over HTTP with its state in a store: POST /events, POST /redeem, "
        "GET /members/{id}, GET /boards/{name}; the OpenAPI schema at /openapi.json."
    ),
)
@click.argument("scheme")
@click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(dir_okay=False),
    help=N_("the store (an SQLite file, made if new)"),
)
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("the address to listen on"))
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--roster", type=click.Path(dir_okay=False), help=N_("members' teams (CSV or YAML)"))
@click.option(
    "--horizon",
    "horizon_hours",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help=N_("quarantine an event dated more than HOURS after the latest event (0: never)"),
)
@click.option(
    "--on-change",
    type=click.Choice(["refuse", "carry"]),
    default="refuse",
    show_default=True,
    help=N_("a scheme changed since the store was written is refused, or its state carried over"),
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="OLD=NEW",
    help=N_("with --on-change carry: a rule, redeem, grants or currency renamed"),
)
@click.option(
    "--engine",
    type=click.Choice(["compiled", "interpreter"]),
    default="compiled",
    show_default=True,
)
@guarded
def serve_command(
    scheme: str,
    state_path: str,
    host: str,
    port: int,
    roster: str | None,
    horizon_hours: int,
    on_change: str,
    renames: tuple[str, ...],
    engine: str,
) -> None:
    try:
        import uvicorn

        from incentive.serve import create_app
    except ImportError:
        raise Failure(
            _("incentive serve needs the `serve` extra: pip install 'incentive[serve]'"), EXIT_USAGE
        ) from None
    from incentive.live import open_live
    from incentive.roster import load_roster
    from incentive.store import StoreError

    program = load_program(scheme)
    try:
        live = open_live(
            program,
            state_path,
            engine=engine,  # type: ignore[arg-type]
            roster=load_roster(roster) if roster else None,
            on_change=on_change,  # type: ignore[arg-type]
            horizon=timedelta(hours=horizon_hours) if horizon_hours else None,
            renames=_renames(renames),
        )
    except StoreError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    click.echo(
        _("{program}: serving on http://{host}:{port} (state in {state_path})").format(
            program=program.name, host=host, port=port, state_path=state_path
        ),
        err=True,
    )
    try:
        uvicorn.run(create_app(live), host=host, port=port, log_level="warning")
    finally:
        live.close()


@main.command(
    "fmt",
    help=N_(
        "Print schemes in canonical form (comments are kept), or convert them between "
        "the English and the Chinese spelling (--lang zh, --lang en)."
    ),
)
@click.argument("schemes", nargs=-1, required=True)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help=N_("exit 1 if a file is not in canonical form; change nothing"),
)
@click.option("--write", is_flag=True, help=N_("rewrite the files in place"))
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help=N_("write the keywords in English (en) or Chinese (zh); default: the file's own"),
)
@guarded
def fmt_command(schemes: tuple[str, ...], check_only: bool, write: bool, lang: str | None) -> None:
    from incentive.formatter import format_source

    unformatted = []
    for path in schemes:
        text = read_scheme_text(path)
        canonical = format_source(text, path, lang)  # type: ignore[arg-type]
        if check_only:
            if canonical != text:
                unformatted.append(path)
                click.echo(_("{path}: not in canonical form").format(path=path), err=True)
        elif write and path != "-":
            if canonical != text:
                write_text_atomically(path, canonical)
        else:
            click.echo(canonical, nl=False)
    sys.exit(EXIT_INVALID if unformatted else EXIT_OK)


def ast_to_data(node: Any) -> Any:
    """An AST as plain data for tools: each node names its kind and its span."""
    from incentive import ast

    if isinstance(node, ast.Comment):
        return {"node": "Comment", "line": node.line, "column": node.column, "text": node.text}
    if is_dataclass(node) and not isinstance(node, type):
        data: dict[str, Any] = {"node": type(node).__name__}
        for f in fields(node):
            value = getattr(node, f.name)
            if f.name == "span":
                data["span"] = [value.line, value.column, value.end_line, value.end_column]
            else:
                data[f.name] = ast_to_data(value)
        return data
    if isinstance(node, tuple | list):
        return [ast_to_data(v) for v in node]
    if isinstance(node, Decimal):
        return str(node)
    return node


@main.command(
    "parse",
    help=N_("Print the syntax tree of a scheme for tools (JSON or YAML)."),
)
@click.argument("scheme")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True
)
@guarded
def parse_command(scheme: str, fmt: str) -> None:
    from incentive.parser import parse

    text = read_scheme_text(scheme)
    data = ast_to_data(parse(text, scheme))
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), nl=False)


@main.command(
    "schema",
    help=N_("Print the JSON Schema of an event or a record."),
)
@click.argument("model", type=click.Choice(["events", "records"]))
@guarded
def schema_command(model: str) -> None:
    from incentive.events import event_model
    from incentive.records import record_schema

    schema = event_model().model_json_schema() if model == "events" else record_schema()
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))


# ---- reading runs: explain, compare, test ---------------------------------------------------


def _run_files(
    scheme: str,
    events: tuple[str, ...],
    fmt: str,
    roster: str | None,
    until: str | None,
    engine: str = "columnar",
    encoding: str | None = None,
    how: ReadOptions | None = None,
    jobs: int = 1,
    copies: Mapping[str, str] | None = None,
) -> tuple[Program, Any]:
    """A batch run of `scheme` over `events` (`copies` of what reads only once: see
    `_input_copies`, which a caller reading the events twice must hold itself)."""
    from incentive.roster import load_roster
    from incentive.runner import run_batch_files

    if copies is None:
        with _input_copies(events) as made:
            return _run_files(scheme, events, fmt, roster, until, engine, encoding, how, jobs, made)
    program = load_program(scheme)
    result, summary = run_batch_files(
        program,
        *_event_sources(events, program, fmt, encoding, how, copies),
        _parse_until(until, program),
        load_roster(roster, encoding, program.teams) if roster else None,
        engine,  # type: ignore[arg-type]
        jobs,
    )
    if jobs > summary.jobs:
        click.echo(f"{scheme}: " + _one_process(program, engine, summary, jobs), err=True)
    return program, result


def _plain_files(
    events: tuple[str, ...],
    events_format: str,
    encoding: str | None,
    how: ReadOptions | None,
    copies: Mapping[str, str] | None = None,
) -> list[str] | None:
    """EVENTS as files the columnar plan may read whole: every one a JSON Lines file
    read as it stands (not standard input, another encoding or a column map); a pipe
    by its copy (`_input_copies`)."""
    from incentive.events import guess_format

    if encoding is not None or (how is not None and (how.time_format or how.columns)):
        return None  # read as told: the stream's readers know encodings and maps
    files = [
        (copies or {}).get(path, path)
        for path in events
        if path != "-"
        and (events_format if events_format != "auto" else guess_format(path)) == "jsonl"
    ]
    return files if files and len(files) == len(events) else None


_events_options = [
    click.option(
        "--events-format",
        type=click.Choice(["auto", "jsonl", "csv", "yaml"]),
        default="auto",
        show_default=True,
        help=N_("auto: by file extension; `-` is JSON Lines"),
    ),
    click.option(
        "--roster", type=click.Path(dir_okay=False), help=N_("members' teams (CSV or YAML)")
    ),
    click.option("--until", help=N_("advance time to this instant after the last event")),
    click.option(
        "--format",
        "fmt",
        # csv: for spreadsheets, UTF-8 with a BOM (explain: its records; simulate, compare:
        # their tables)
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
    ),
    click.option(
        "--engine",
        type=click.Choice(["columnar", "compiled", "interpreter"]),
        default="columnar",
        show_default=True,
        help=N_(
            "the columnar plan where the scheme and plain JSON Lines files allow it (else "
            "the compiled evaluator), the compiled evaluator, or the reference interpreter: "
            "the same records"
        ),
    ),
    click.option(
        "--time-format",
        metavar="FORMAT",
        help=N_("how EVENTS write `at` when not ISO 8601, as for strptime: '%Y/%m/%d %H:%M'"),
    ),
    click.option(
        "--columns",
        metavar="MAP",
        help=N_("the export's names for fields, e.g. 类型=type,成员=member,时间=at"),
    ),
    click.option(
        "--encoding",
        metavar="CODEC",
        help=N_(
            "the encoding of the events, roster and population files (default: UTF-8, "
            "a BOM allowed); e.g. gbk for Excel on Chinese Windows"
        ),
    ),
]


_jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help=N_(
        "processes for the per-member stages when the columnar plan runs saved EVENTS "
        "(as `run --jobs`): the same records"
    ),
)


def _with_events_options(func: F) -> F:
    for option in reversed(_events_options):
        func = option(func)
    return func


@main.command(
    "explain",
    help=N_(
        "Why did MEMBER (not) get points: every record, in order, with its reason; then "
        "the balance and progress toward the next streak tier, milestone and level."
    ),
)
@click.argument("scheme")
@click.argument("events", nargs=-1, required=True)
@click.option("--member", required=True, help=N_("the member to explain"))
@_with_events_options
@guarded
def explain_command(
    scheme: str,
    events: tuple[str, ...],
    member: str,
    events_format: str,
    roster: str | None,
    until: str | None,
    fmt: str,
    engine: str,
    time_format: str | None,
    columns: str | None,
    encoding: str | None,
) -> None:
    from incentive.analysis import member_records, progress
    from incentive.reasons import localize_record

    how = read_options(time_format, columns)
    # progress toward the next tier reads a member's state, which the loop keeps
    loop = "compiled" if engine == "columnar" else engine
    program, result = _run_files(scheme, events, events_format, roster, until, loop, encoding, how)
    records = [localize_record(r) for r in member_records(result, member)]
    steps = progress(program, result, member)
    balances = result.balances.get(member)
    if fmt == "csv":
        sink = CsvRecords(sys.stdout.buffer)
        for record in records:
            sink.write(record.to_json_bytes() + b"\n")
        sys.stdout.buffer.flush()
        return
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "member": member,
                    "records": [r.to_dict() for r in records],
                    "balances": balances or {},
                    "progress": [dataclasses.asdict(s) for s in steps],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not records:
        known = sorted(result.balances)
        near = did_you_mean(member, known)
        click.echo(
            _("no record names `{member}`").format(member=member)
            + (_(" (did you mean `{near}`?)").format(near=near) if near else "")
            + _(": {value} member(s) took part").format(value=len(known)),
            err=True,
        )
        sys.exit(EXIT_INVALID)
    _print_table(records, sys.stdout)
    shown = ", ".join(f"{points} {currency}" for currency, points in (balances or {}).items())
    click.echo(_("balance: {balance}").format(balance=shown or _("nothing")))
    for step in steps:
        click.echo(step.text())


@main.command(
    "compare",
    help=N_(
        "The same EVENTS under SCHEME_A and SCHEME_B: points per rule, cost, and the "
        "members who gain or lose the most. With --ab, each member is in one arm only (a "
        "seeded hash of the id) and each arm is reported."
    ),
)
@click.argument("scheme_a")
@click.argument("scheme_b")
@click.argument("events", nargs=-1, required=True)
@click.option("--top", type=int, default=10, show_default=True, help=N_("members to list"))
@click.option("--ab", is_flag=True, help=N_("an A/B test: split members into two arms"))
@click.option("--seed", type=int, default=0, show_default=True, help=N_("seed of the A/B split"))
@click.option(
    "--html", type=click.Path(dir_okay=False), help=N_("also write the comparison as an HTML page")
)
@_with_events_options
@_jobs_option
@guarded
def compare_command(
    scheme_a: str,
    scheme_b: str,
    events: tuple[str, ...],
    top: int,
    ab: bool,
    seed: int,
    html: str | None,
    events_format: str,
    roster: str | None,
    until: str | None,
    fmt: str,
    engine: str,
    time_format: str | None,
    columns: str | None,
    encoding: str | None,
    jobs: int,
) -> None:
    from incentive.analysis import compare

    check_outputs({"--html": html}, (scheme_a, scheme_b, *events, roster))
    how = read_options(time_format, columns)
    if ab:
        if jobs > 1:  # each arm is its half of the members' events, as one stream
            click.echo(
                _("--jobs {jobs}: the A/B arms run in one process").format(jobs=jobs), err=True
            )
        _ab_test(
            scheme_a,
            scheme_b,
            events,
            events_format,
            roster,
            until,
            fmt,
            seed,
            html,
            engine,
            encoding,
            how,
        )
        return
    with _input_copies(events) as copies:  # read once per scheme
        options = (events, events_format, roster, until, engine, encoding, how, jobs, copies)
        program_a, a = _run_files(scheme_a, *options)
        program_b, b = _run_files(scheme_b, *options)
    diff = compare(a, b)
    if html:
        from incentive.html_compare import render_compare_html
        from incentive.report import build_report

        # Written before anything is printed, as simulate --html is: an unwritable path
        # fails (guarded: a message and the I/O exit code) with nothing half-shown.
        page = render_compare_html(
            diff, build_report(program_a, a), build_report(program_b, b), (scheme_a, scheme_b), top
        )
        write_text_atomically(html, page)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(diff), ensure_ascii=False, indent=2))
        return
    from incentive.report import print_comparison

    print_comparison(diff, sys.stdout, top, fmt)


@main.command(
    "test",
    help=N_("Run the operator's CASES (YAML) against SCHEME; exit 1 if any fails."),
)
@click.argument("scheme")
@click.argument("cases")
@click.option("--roster", type=click.Path(dir_okay=False), help=N_("members' teams (CSV or YAML)"))
@click.option(
    "--time-format",
    metavar="FORMAT",
    help=N_(
        "how the cases' events write `at` (and `until`) when not ISO 8601, as for "
        "strptime: '%Y/%m/%d %H:%M'"
    ),
)
@click.option(
    "--columns",
    metavar="MAP",
    help=N_("the cases' names for event fields, e.g. 类型=type,成员=member,时间=at"),
)
@click.option(
    "--encoding",
    metavar="CODEC",
    help=N_("the encoding of the cases and roster files (default: UTF-8, a BOM allowed); e.g. gbk"),
)
@guarded
def test_command(
    scheme: str,
    cases: str,
    roster: str | None,
    time_format: str | None,
    columns: str | None,
    encoding: str | None,
) -> None:
    from incentive.cases import load_cases, run_case
    from incentive.events import read_text_file
    from incentive.roster import load_roster

    how = read_options(time_format, columns)
    program = load_program(scheme)
    listed = load_cases(read_text_file(cases, encoding), cases, program)
    members = load_roster(roster, encoding, program.teams) if roster else None
    failed = 0
    for case in listed:
        outcome = run_case(program, case, members, how)
        if outcome.passed:
            click.echo(_("ok    {name}").format(name=case.name))
            continue
        failed += 1
        click.echo(_("FAIL  {name}").format(name=case.name))
        for problem in outcome.problems:
            click.echo(f"  - {problem}")
    click.echo(
        _("{value} passed, {failed} failed").format(value=len(listed) - failed, failed=failed)
    )
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


@main.command(
    "simulate",
    help=N_(
        "Dry-run SCHEME on real activity (EVENTS) or a simulated population, and report "
        "what it gives out, to whom, and what it costs."
    ),
)
@click.argument("scheme")
@click.argument("events", nargs=-1)
@click.option(
    "--population",
    type=click.Path(dir_okay=False),
    help=N_("a synthetic population (YAML) instead of EVENTS files"),
)
@click.option("--seed", type=int, help=N_("seed for the population and for random draws"))
@click.option(
    "--save-events", type=click.Path(dir_okay=False), help=N_("write the simulated events")
)
@click.option(
    "--save-roster", type=click.Path(dir_okay=False), help=N_("write the simulated roster")
)
@click.option(
    "--html", type=click.Path(dir_okay=False), help=N_("also write the report as an HTML page")
)
@click.option("--quiet", is_flag=True, help=N_("no progress on standard error"))
@_with_events_options
@_jobs_option
@guarded
def simulate_command(
    scheme: str,
    events: tuple[str, ...],
    population: str | None,
    seed: int | None,
    save_events: str | None,
    save_roster: str | None,
    html: str | None,
    quiet: bool,
    events_format: str,
    roster: str | None,
    until: str | None,
    fmt: str,
    engine: str,
    time_format: str | None,
    columns: str | None,
    encoding: str | None,
    jobs: int,
) -> None:
    from incentive.events import read_text_file
    from incentive.population import load_population
    from incentive.report import build_report, print_report
    from incentive.roster import load_roster
    from incentive.runner import run_batch_files
    from incentive.simulation import simulate_scheme

    if bool(events) == bool(population):
        raise Failure(_("give either EVENTS files or --population, not both"), EXIT_USAGE)
    check_outputs(
        {"--save-events": save_events, "--save-roster": save_roster, "--html": html},
        (scheme, *events, roster, population),
    )
    how = read_options(time_format, columns)
    program = load_program(scheme)
    if seed is not None:
        program = dataclasses.replace(program, seed=seed)
    members: list[str] | None = None
    teams = load_roster(roster, encoding, program.teams) if roster else None
    if population:
        described = load_population(read_text_file(population, encoding), population)
        if seed is not None:
            described = described.model_copy(update={"seed": seed})
        with day_progress(described.days, quiet) as progress:
            run = simulate_scheme(
                program,
                described,
                teams,
                _parse_until(until, program),
                progress,
                population,
                "compiled" if engine == "columnar" else engine,  # type: ignore[arg-type]
            )
        if jobs > 1 and not quiet:
            # members respond day by day to what the whole scheme paid them
            click.echo(
                _("--jobs {jobs}: a simulated population runs in one process").format(jobs=jobs),
                err=True,
            )
        simulated, result = run.simulated, run.result
        members = [row["member"] for row in simulated.roster]
        if teams is not None and not set(members) & set(teams.members):
            click.echo(
                _(
                    "warning: the roster {roster} names none of the population's members "
                    "({value}, ...): no one is in a team"
                ).format(roster=roster, value=members[0]),
                err=True,
            )
        teams = run.roster
        if save_events:
            write_text_atomically(
                save_events,
                "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in simulated.events),
            )
        if save_roster:
            header = list(simulated.roster[0]) if simulated.roster else ["member"]
            lines = [",".join(header)] + [",".join(r[c] for c in header) for r in simulated.roster]
            write_text_atomically(save_roster, "\n".join(lines) + "\n")
    else:
        with _input_copies(events) as copies:
            result, summary = run_batch_files(
                program,
                *_event_sources(events, program, events_format, encoding, how, copies, quiet),
                _parse_until(until, program),
                teams,
                engine,  # type: ignore[arg-type]
                jobs,
            )
        if jobs > summary.jobs and not quiet:
            click.echo(_one_process(program, engine, summary, jobs), err=True)
    if teams is not None:
        members = sorted(set(members or []) | set(teams.members))
    report = build_report(program, result, members)
    if html:
        from incentive.html_report import render_html

        write_text_atomically(html, render_html(report))
    if fmt == "json":
        from incentive.report import for_reader

        click.echo(json.dumps(for_reader(report), ensure_ascii=False, indent=2))
    else:
        print_report(report, sys.stdout, fmt)


def _ab_test(
    scheme_a: str,
    scheme_b: str,
    events: tuple[str, ...],
    events_format: str,
    roster: str | None,
    until: str | None,
    fmt: str,
    seed: int,
    html: str | None = None,
    engine: str = "compiled",
    encoding: str | None = None,
    how: ReadOptions | None = None,
) -> None:
    from incentive.analysis import ab_metrics, arm_of
    from incentive.events import Event
    from incentive.report import build_report
    from incentive.roster import load_roster
    from incentive.runner import run_batch_files

    programs = {"A": load_program(scheme_a), "B": load_program(scheme_b)}
    teams = load_roster(roster, encoding, programs["A"].teams) if roster else None
    arms: dict[str, dict[str, Any]] = {}
    with _input_copies(events) as copies:  # checked, then read once per arm (or twice)
        check_inputs(events, encoding, copies)
        for arm, program in programs.items():
            members: set[str] = set()  # the arm's members, gathered as its events go by

            def arm_events(arm: str = arm, members: set[str] = members) -> Iterator[Any]:
                for item in iter_event_files(
                    events, programs["A"], events_format, copies, encoding, how
                ):
                    if not isinstance(item, Event):
                        yield item  # a bad line is in both arms
                    elif arm_of(item.member, seed) == arm:
                        members.add(item.member)
                        yield item

            # each arm is a filtered stream: the compiled evaluator (or the interpreter)
            loop = "compiled" if engine == "columnar" else engine
            until_at = _parse_until(until, program)
            result, _summary = run_batch_files(program, None, arm_events, until_at, teams, loop)  # type: ignore[arg-type]
            report = build_report(program, result, sorted(members))
            arms[arm] = {currency: ab_metrics(report, currency) for currency in program.currencies}
    if html:
        from incentive.html_compare import render_ab_html

        names = (programs["A"].name, programs["B"].name)
        page = render_ab_html(arms, seed, names, (scheme_a, scheme_b))
        write_text_atomically(html, page)
    if fmt == "json":
        click.echo(json.dumps({"seed": seed, "arms": arms}, ensure_ascii=False, indent=2))
        return
    from incentive.report import print_ab

    print_ab(arms, seed, sys.stdout, fmt)


if __name__ == "__main__":  # pragma: no cover
    main()
