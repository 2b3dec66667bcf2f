"""Runs: the evaluator chosen, a batch in memory, or files to JSON Lines in bounded memory.

Above both evaluators (the interpreter, `engine.Session`, and the compiled
one, `compiler.CompiledSession`): `open_session` picks one, `run_batch`
evaluates a whole stream into lists, and `run_to` streams files to JSON Lines.

`run_batch` keeps every event and every record in lists: right for a
library call on a day's events, not for a platform's history. `run_batch_files`
(`simulate`, `compare` and `explain` on saved events) takes `run_to`'s way and
keeps the records in a temporary file, read back a block of lines at a time each
time a report goes through them (`SpooledRecords`). `run_to` gives
the very same records in the very same order (bad lines first, then every
event's records in time order, then the final balances) while holding neither:

- Events are evaluated as they are read. Time-ordered input, the usual export,
  is never held whole; the first event that goes back in time stops that pass,
  and the input is read again through a sort on disk (runs of sorted events
  spilled to temporary files and merged), so any order still works, at the
  cost of a second read.
- Records are written as they come, to a temporary file, because the bad
  lines' records come first in the output; the file is copied out at the end.
"""

from __future__ import annotations

import heapq
import os
import pickle
import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Literal, overload

import msgspec

from incentive.columnar import run_columnar, split_why_not, why_not
from incentive.compiler import CompiledSession
from incentive.engine import EngineState, Session
from incentive.events import BadLine, Event, events_from_dicts
from incentive.intake import bad_line_record, read_attributes
from incentive.processes import WorkerLost
from incentive.program import Program
from incentive.records import Record, encode_lines
from incentive.roster import Roster
from incentive.split import LoopWorkers, OutOfOrder, loop_split_why_not

Engine = Literal["compiled", "interpreter"]
ENGINES: tuple[Engine, ...] = ("compiled", "interpreter")
# A batch run over files may also take the columnar plan (`columnar`), where it applies.
FileEngine = Literal["columnar", "compiled", "interpreter"]
FILE_ENGINES: tuple[FileEngine, ...] = ("columnar", "compiled", "interpreter")


def default_engine() -> Engine:
    """The compiled evaluator, unless INCENTIVE_ENGINE=interpreter says otherwise (both give
    the same records; the variable lets a whole test suite run on the reference)."""
    chosen = os.environ.get("INCENTIVE_ENGINE", "compiled")
    return "interpreter" if chosen == "interpreter" else "compiled"


def open_session(
    program: Program,
    state: EngineState | None = None,
    roster: Roster | None = None,
    engine: Engine | None = None,
) -> Session | CompiledSession:
    """A streaming session on the chosen evaluator (the default: compiled)."""
    if (engine or default_engine()) == "interpreter":
        return Session(program, state, roster)
    return CompiledSession(program, state, roster)


class SpooledRecords(Sequence[Record]):
    """A run's records in a temporary file of JSON Lines (the file is this object's: it
    is closed with it, or by `close`), decoded anew, a block of lines at a time, each time
    they are iterated: a report goes through them once and keeps its sums, never the
    records. Indexing reads from the start (a report iterates; a test may index)."""

    BLOCK = 1 << 16  # bytes decoded at a time

    def __init__(self, spool: IO[bytes], end: int, count: int) -> None:
        self._spool, self._end, self._count = spool, end, count
        self._close = weakref.finalize(self, spool.close)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Record]:
        decoder = _RECORDS
        spool, offset, end = self._spool, 0, self._end
        while offset < end:
            # each iterator keeps its own offset: two may run at once on the one file
            spool.seek(offset)
            block = spool.read(min(self.BLOCK, end - offset))
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # a line longer than a block: read to its end
                block += spool.readline()
                cut = len(block)
            offset += cut
            yield from decoder.decode_lines(block[:cut])

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError(index)
        for seen, record in enumerate(self):
            if seen == position:
                return record
        raise IndexError(index)  # pragma: no cover - the count is the file's

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same records in the same order (a list from
        `run_batch` too: `list == SpooledRecords` asks this one)."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # a sequence of what a file holds

    def close(self) -> None:
        self._close()


_RECORDS = msgspec.json.Decoder(Record)


@dataclass
class RunResult:
    # a list from `run_batch`; from files (`run_batch_files`) records read from disk
    records: Sequence[Record]
    balances: dict[str, dict[str, int]]
    session: Session | CompiledSession

    @property
    def bad_events(self) -> int:
        return sum(1 for r in self.records if r.kind == "bad_event")


def run_batch(
    program: Program,
    items: Iterable[Event | BadLine | Mapping[str, Any]],
    until: datetime | None = None,
    roster: Roster | None = None,
    engine: Engine | None = None,
) -> RunResult:
    """Evaluate a whole stream: bad lines are reported first, then events in time order."""
    session = open_session(program, roster=roster, engine=engine)
    records: list[Record] = []
    events: list[Event] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, Event | BadLine):
            item = next(events_from_dicts([item], program.calendar, position))
        if isinstance(item, BadLine):
            records.append(bad_line_record(item))
        else:
            events.append(item)
    # In time order (equal times in input order); a line whose id an earlier-read line
    # already used for other content waits until that line is evaluated: the line read
    # first wins, whatever the times, and the other is its conflict.
    first: dict[str, Event] = {}
    keys: list[tuple[datetime, int]] = []
    for position, event in enumerate(events):
        # (only a line the engine will remember can win an id: not a bad_event)
        winner = first.setdefault(event.id, event) if _evaluable(program, event) else event
        late = winner.fingerprint != event.fingerprint and event.at < winner.at
        keys.append((winner.at if late else event.at, position))
    order = sorted(range(len(events)), key=keys.__getitem__)
    events = [events[i] for i in order]
    for event in events:
        records.extend(session.feed(event))
    records.extend(session.advance_to(until) if until is not None else session.close_all())
    return RunResult(records, session.balances(), session)


def run_batch_files(
    program: Program,
    files: Sequence[str] | None,
    items: Callable[[], Iterable[Event | BadLine]],
    until: datetime | None = None,
    roster: Roster | None = None,
    engine: FileEngine | None = None,
    jobs: int = 1,
) -> tuple[RunResult, RunSummary]:
    """`run_batch` over event files (`simulate` and `compare` on saved events), or the
    columnar plan (with `jobs` processes) where `run_files` would take it, its records
    read back. The records and balances are the same either way; a result from the plan
    carries a session without member state but with the roster's teams (what a report
    reads of it: levels would be read too, and schemes with levels never take the plan)."""
    chosen = engine or ("columnar" if default_engine() == "compiled" else "interpreter")
    lost: list[str] = []
    if chosen == "columnar":
        if files and until is None:
            # what a result's session would hold for the report: nothing the plan takes
            assert program.levels is None or why_not(program)
            with record_spool() as spool:
                done = run_columnar(program, files, spool, jobs, lost, roster)
                if done is None:
                    spool.close()  # declined: the evaluator runs it below
                else:
                    records, balances = _read_back(spool)
                    kinds, members, resorted = done
                    split = jobs if jobs > 1 and not split_why_not(program) else 1
                    summary = RunSummary(kinds, members, resorted, columnar=True, jobs=split)
                    session = open_session(program, roster=roster)
                    return RunResult(records, balances, session), summary
        chosen = "compiled"
    if jobs > 1 and not lost and not loop_split_why_not(program):
        try:
            return _batch_split(program, items, until, roster, chosen, jobs)
        except WorkerLost as why:
            lost.append(str(why))
    with record_spool() as spool:
        summary, session = _passes(program, items, spool, until, roster, chosen, None, False)
        records = SpooledRecords(spool, spool.tell(), sum(summary.kinds.values()))
    summary.lost = lost[0] if lost else None
    return RunResult(records, session.balances(), session), summary


@contextmanager
def record_spool() -> Iterator[IO[bytes]]:
    """A temporary file for a run's records: closed if the run fails or declines, else
    handed on (to `SpooledRecords`, which closes it)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed here or by SpooledRecords
    try:
        yield spool
    except BaseException:
        spool.close()
        raise


def _batch_split(
    program: Program,
    items: Callable[[], Iterable[Event | BadLine]],
    until: datetime | None,
    roster: Roster | None,
    engine: Engine,
    jobs: int,
) -> tuple[RunResult, RunSummary]:
    """`run_batch` with the members split across `jobs` sessions (`split`): the records
    read back, the members' states gathered from the workers for the report."""

    with record_spool() as spool:
        with LoopWorkers(program, jobs, roster, engine) as pool:
            summary = _split_passes(pool, program, items, spool, until)
            members = pool.members()
        records, balances = _read_back(spool)
    session = open_session(program, roster=roster, engine=engine)
    session.state.members.update(members)
    return RunResult(records, balances, session), summary


def _split_passes(
    pool: LoopWorkers,
    program: Program,
    read: Callable[[], Iterable[Event | BadLine]],
    out: IO[bytes],
    until: datetime | None,
) -> RunSummary:
    """`run_to`'s passes (in order; else again, sorted on disk) on split sessions."""
    try:
        kinds, lacking, members = pool.run(read(), out, until, ordered=True)
        return RunSummary(kinds, members, lacking=lacking, jobs=pool.jobs)
    except OutOfOrder:
        pool.reset()
        runs: list[int] = []
        ordered = _sorted_on_disk(read(), runs, program)
        kinds, lacking, members = pool.run(ordered, out, until, ordered=False)
        summary = RunSummary(kinds, members, lacking=lacking, jobs=pool.jobs)
        summary.resorted, summary.spilled = True, len(runs)
        return summary


def _read_back(spool: IO[bytes]) -> tuple[SpooledRecords, dict[str, dict[str, int]]]:
    """A run's JSON Lines read back from the start, once: its records, left in the file
    (which the result owns from now on), and its closing balance records (the output's
    last lines) as member -> currency -> balance."""
    spool.flush()
    spool.seek(0)
    count = end = offset = 0
    balances: dict[str, dict[str, int]] = {}
    for line in spool:
        offset += len(line)
        if b'"kind":"balance"' not in line[:20]:  # the first field, written by us
            count, end = count + 1, offset
            continue
        record = _RECORDS.decode(line)
        if record.member is not None and record.currency is not None:
            balances.setdefault(record.member, {})[record.currency] = record.balance or 0
    return SpooledRecords(spool, end, count), balances


SORT_RUN = 200_000  # events sorted in memory at a time when the input is out of order


@dataclass
class RunSummary:
    kinds: Counter[str] = field(default_factory=Counter)  # records by kind, balances aside
    members: int = 0
    resorted: bool = False  # the input was not in time order: read twice, sorted
    spilled: int = 0  # sorted runs written to disk (0: the sort fitted in memory)
    # refusals because an event lacks an attribute a rule reads (a renamed export
    # column pays nothing): counted apart so that the summary can say so
    lacking: Counter[str] = field(default_factory=Counter)  # attribute -> refusals
    columnar: bool = False  # the columnar plan ran it (else the chosen evaluator)
    jobs: int = 1  # processes the per-member stages ran in (`run --jobs`)
    lost: str | None = None  # why a worker process was lost, and the loop ran it instead


def run_files(
    program: Program,
    files: Sequence[str] | None,
    read: Callable[[], Iterable[Event | BadLine]],
    out: IO[bytes],
    until: datetime | None = None,
    roster: Roster | None = None,
    engine: FileEngine | None = None,
    keep: Callable[[Record], bool] | None = None,
    jobs: int = 1,
) -> RunSummary:
    """`run_to` over event files, or the columnar plan when `engine` is "columnar" (the
    default), `files` names JSON Lines files, nothing is filtered or cut at an instant,
    and the scheme and the input are ones the plan takes (see
    `columnar`); else the compiled evaluator. With `jobs` above 1 the plan splits its
    per-member stages across that many processes where the scheme allows
    (`columnar.split_why_not`). Every way gives the same bytes."""
    chosen = engine or ("columnar" if default_engine() == "compiled" else "interpreter")
    if chosen == "columnar":
        if files and until is None and keep is None:
            lost: list[str] = []
            done = run_columnar(program, files, out, jobs, lost, roster)
            if done is not None:
                kinds, members, resorted = done
                split = jobs if jobs > 1 and not split_why_not(program) else 1
                return RunSummary(kinds, members, resorted, columnar=True, jobs=split)
            if lost:
                summary = run_to(program, read, out, until, roster, "compiled", keep)
                summary.lost = lost[0]
                return summary
        chosen = "compiled"
    return run_to(program, read, out, until, roster, chosen, keep, jobs)


class _OutOfOrder(Exception):
    pass


def _evaluable(program: Program, event: Event) -> bool:
    """Whether the engine will remember the event's id (it is not a bad_event at intake):
    only such a line wins an id against a later-read one."""
    if program.known_events is not None and event.type not in program.known_events:
        return False
    return not isinstance(read_attributes(program, event), str)


def run_to(
    program: Program,
    read: Callable[[], Iterable[Event | BadLine]],
    out: IO[bytes],
    until: datetime | None = None,
    roster: Roster | None = None,
    engine: Engine | None = None,
    keep: Callable[[Record], bool] | None = None,
    jobs: int = 1,
) -> RunSummary:
    """Evaluate what `read()` yields and write each kept record as a JSON line to `out`.

    `read` must return a fresh iterable of Events and BadLines each time it is called
    (the readers in `events` give them): it is called again, once, if the input turns
    out not to be in time order.

    With `jobs` above 1, every record kept and a scheme whose state is each member's own
    (`split.loop_split_why_not`), the members are split across that many sessions in
    worker processes, with the same bytes; a worker lost hands the run to one process
    (the summary's `lost` says why).
    """
    if jobs > 1 and keep is None and not loop_split_why_not(program):
        try:
            with LoopWorkers(program, jobs, roster, engine or default_engine()) as pool:
                return _split_passes(pool, program, read, out, until)
        except WorkerLost as why:
            summary = run_to(program, read, out, until, roster, engine)
            summary.lost = str(why)
            return summary
    return _passes(program, read, out, until, roster, engine, keep)[0]


def _passes(
    program: Program,
    read: Callable[[], Iterable[Event | BadLine]],
    out: IO[bytes],
    until: datetime | None,
    roster: Roster | None,
    engine: Engine | None,
    keep: Callable[[Record], bool] | None,
    balances: bool = True,
) -> tuple[RunSummary, Session | CompiledSession]:
    """`run_to` in one process: one pass if the input is in time order, else a second
    through a sort on disk; the session that evaluated it (members' state, for a report)."""
    session = open_session(program, roster=roster, engine=engine)
    try:
        summary = _run_once(program, read(), out, until, session, keep, True, balances)
    except _OutOfOrder:
        session = open_session(program, roster=roster, engine=engine)
        runs: list[int] = []
        ordered = _sorted_on_disk(read(), runs, program)
        summary = _run_once(program, ordered, out, until, session, keep, False, balances)
        summary.resorted, summary.spilled = True, len(runs)
    return summary, session


def _run_once(
    program: Program,
    items: Iterable[Event | BadLine],
    out: IO[bytes],
    until: datetime | None,
    session: Session | CompiledSession,
    keep: Callable[[Record], bool] | None,
    ordered: bool,
    balances: bool = True,
) -> RunSummary:
    """One pass: the records to `out`, then (`balances`) the closing balance records.

    Through two temporary files, not straight to `out`: a bad line's record goes before
    every event's, and where the bad lines are is known only at the end of the input;
    and the first event that goes back in time ends this pass with nothing written, for
    a second pass through a sort on disk. (The columnar plan writes straight to its
    output and truncates it back on a decline: it knows the bad lines before it writes.)"""
    summary = RunSummary()
    kinds = summary.kinds
    with tempfile.TemporaryFile() as bad, tempfile.TemporaryFile() as spool:

        def write(records: list[Record], into: IO[bytes]) -> None:
            for record in records:
                kinds[record.kind] += 1
                if record.kind == "refused" and record.code == "missing_attribute":
                    # the reason names the attribute first, in backticks, in any language
                    summary.lacking[record.reason.split("`")[1]] += 1
            if keep is not None:
                records = [record for record in records if keep(record)]
            if records:
                into.write(encode_lines(records))  # one call for an event's records

        last: datetime | None = None
        for item in items:
            if isinstance(item, BadLine):
                write([bad_line_record(item)], bad)
                continue
            if ordered:
                if last is not None and item.at < last:
                    raise _OutOfOrder
                last = item.at
            write(session.feed(item), spool)
        write(session.advance_to(until) if until is not None else session.close_all(), spool)
        closing = session.balance_records() if balances else []
        summary.members = len(session.balances())
        for file in (bad, spool):
            file.seek(0)
            shutil.copyfileobj(file, out)
        for record in closing:
            if keep is None or keep(record):
                out.write(record.to_json_bytes() + b"\n")
    return summary


def _sorted_on_disk(
    items: Iterable[Event | BadLine], spilled: list[int], program: Program
) -> Iterator[Event | BadLine]:
    """Bad lines first, as read; then the events by time, equal times in input order,
    sorting at most SORT_RUN events in memory at a time (`spilled` gets each run's size).

    The line read first wins an id: a later-read line with the same id, other content
    and an earlier time is held back until just after the first line's time, so that
    the engine evaluates the first and calls the other a conflict (as in run_batch).
    Which lines those are is found by a second sort, of (id, position) pairs, on disk
    too; only the lines held back are kept in memory."""
    runs: list[IO[bytes]] = []
    id_runs: list[IO[bytes]] = []
    buffer: list[tuple[datetime, int, Event]] = []
    ids: list[tuple[str, int, datetime, str]] = []
    try:
        for position, item in enumerate(items):
            if isinstance(item, BadLine):
                yield item
                continue
            buffer.append((item.at, position, item))
            if _evaluable(program, item):  # only a line the engine remembers wins an id
                ids.append((item.id, position, item.at, item.fingerprint))
            if len(buffer) >= SORT_RUN:
                runs.append(_spill(buffer))
                id_runs.append(_spill(ids))
                spilled.append(len(buffer))
                buffer, ids = [], []
        ids.sort(key=_order)
        held_back: dict[int, datetime] = {}  # position -> the first-read line's time
        winner: tuple[str, int, datetime, str] | None = None
        for entry in heapq.merge(*(_unspill(run) for run in id_runs), ids, key=_order):
            if winner is None or entry[0] != winner[0]:
                winner = entry
            elif entry[3] != winner[3] and entry[2] < winner[2]:
                held_back[entry[1]] = winner[2]
        buffer.sort(key=_order)
        merged = heapq.merge(*(_unspill(run) for run in runs), buffer, key=_order)
        waiting: list[tuple[datetime, int, Event]] = []
        for at, position, event in merged:
            while waiting and (waiting[0][0], waiting[0][1]) < (at, position):
                yield heapq.heappop(waiting)[2]
            if position in held_back:
                heapq.heappush(waiting, (held_back[position], position, event))
                continue
            yield event
        while waiting:
            yield heapq.heappop(waiting)[2]
    finally:
        for run in (*runs, *id_runs):
            run.close()


def _order(entry: tuple[Any, ...]) -> tuple[Any, int]:
    return entry[0], entry[1]


def _spill(buffer: list[Any]) -> IO[bytes]:
    buffer.sort(key=_order)
    run = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _sorted_on_disk
    for entry in buffer:
        # One pickle per entry, read back by a fresh unpickler each (a shared pickler's
        # memo, once cleared, no longer matches the unpickler's).
        pickle.dump(entry, run, protocol=pickle.HIGHEST_PROTOCOL)
    run.seek(0)
    return run


def _unspill(run: IO[bytes]) -> Iterator[Any]:
    while True:
        try:
            yield pickle.load(run)  # our own temporary file, written just above
        except EOFError:
            return
