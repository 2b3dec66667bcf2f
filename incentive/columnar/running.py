"""Running: event files to records, chunk by chunk, or None before a byte is kept.

`run_columnar` is the plan's one entry: it writes straight into `out` when it can be
rewound (`_rewind_point`), else into a spool copied out at the end, and truncates
back whenever the input turns out not to be plain. `_run` takes the chunks in order
(`_prepared` reads and dates the next one on a second thread), checks that time and
ids go on where the last chunk left them (`_new_ids`), numbers the members for the
whole run (`_numbered_members`), runs the stages (in this process or, with `--jobs`,
the per-member ones in `workers`), and hands each chunk's records to a writing thread
for budgets, balances and lines.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from incentive.columnar.chunks import _Carry, _Chunk, _Days, _empty_carry, _Forms, _framed
from incentive.columnar.closes import _ClosingSession
from incentive.columnar.plan import ColumnarPlan, _NotPlain, plan_for, split_why_not
from incentive.columnar.reading import _blocks, _dated, _decode, _instants, _lines_of
from incentive.columnar.stages import _global_parts, _rank_parts, _records
from incentive.columnar.workers import _MemberWorkers, _WorkerLost
from incentive.columnar.writing import _balance_lines, _budgeted, _write_frame, _write_records
from incentive.program import Program
from incentive.roster import Roster

if TYPE_CHECKING:
    import polars as pl


def run_columnar(
    program: Program,
    paths: Sequence[str | Path],
    out: IO[bytes],
    jobs: int = 1,
    lost: list[str] | None = None,
    roster: Roster | None = None,
) -> tuple[Counter[str], int, bool] | None:
    """Evaluate event files to JSON Lines in `out`, as `runner.run_to` would: the
    records by kind, the number of members, whether the input had to be sorted by
    time; None (and nothing written) when the scheme has no plan or the input is not
    plain. When `out` can be rewound (a file, not a pipe: `_rewind_point`) the records
    go straight into it and a line found not plain late in the input truncates it back
    to where it was; else they are spooled to a temporary file and copied out at the
    end. Either way `out` is left as it was whenever None is returned. With `jobs`
    above 1 (and a scheme `split_why_not` allows), the per-member stages run in that
    many worker processes, each given the events of its share of the members; when one
    is lost, `lost` is told why (and None returned: the loop runs it instead)."""
    import polars as pl

    plan = plan_for(program)
    files = [Path(p) for p in paths]
    if plan is None or not files:
        return None
    start = _rewind_point(out)
    with contextlib.ExitStack() as stack:
        # a copy of 200 MB of records costs a fifth of a run: written once where possible
        target = out if start is not None else stack.enter_context(tempfile.TemporaryFile())
        done: tuple[Counter[str], int, bool] | None = None
        try:
            if jobs > 1 and not split_why_not(program):
                with _MemberWorkers(program, jobs) as workers:
                    done = _run(plan, files, target, roster, workers)
            else:
                done = _run(plan, files, target, roster)
        except _WorkerLost as why:
            if lost is not None:
                lost.append(str(why))
        except (pl.exceptions.PolarsError, OSError, UnicodeError, _NotPlain):
            pass  # what Polars cannot read as plain, the loop reads (and reports)
        if done is None:
            if start is not None:
                out.seek(start)
                out.truncate()
            return None
        if start is None:
            target.seek(0)
            shutil.copyfileobj(target, out)
    return done


def _rewind_point(out: IO[bytes]) -> int | None:
    """Where `out` stands, if it is a stream the plan may write into and truncate back
    (a regular file: `seekable`), else None (a pipe, a terminal, a CSV converter)."""
    try:
        if getattr(out, "seekable", None) is None or not out.seekable():
            return None
        out.flush()
        return out.tell()
    except (OSError, ValueError):
        return None


def _run(
    plan: ColumnarPlan,
    files: list[Path],
    spool: IO[bytes],
    roster: Roster | None = None,
    workers: _MemberWorkers | None = None,
) -> tuple[Counter[str], int, bool] | None:
    program = plan.program
    carry = _empty_carry()
    if plan.closes:
        carry.closing = _ClosingSession(program, roster)
    kinds: Counter[str] = Counter()
    resorted = False
    first = True
    # Each chunk's lines are made and written on a second thread while this one works
    # on the next chunk (Polars releases the GIL); one write is pending at a time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="incentive-write") as writer:
        pending: Future[None] | None = None
        for events, final in _prepared(plan, files):
            if events is None:
                return None
            if "day" not in events.columns:  # out of order: `_prepared` left it undated
                if not (first and final):
                    return None  # out of order across chunks: the loop sorts on disk
                # By time, equal times in input order: the order the loop's sort gives.
                events, resorted = _dated(program, events.sort("t", maintain_order=True)), True
                if events is None:
                    return None
            if carry.last is not None and int(events["t"][0]) < carry.last:
                return None
            if not _new_ids(carry, events):
                return None
            events = _numbered_members(carry, events)
            days = events["day"].unique().sort().to_list()
            chunk = _Chunk(plan, events, _Days(program, days), carry, final, _Forms())
            if workers is not None and not plan.gathered:
                # Ranks first (they read only events); then the workers write their
                # members' lines, balances included, and this process merges them.
                workers.send(events, days, final, (_framed(_rank_parts(chunk)), chunk.forms))
                lines, counted = workers.receive_lines()
                kinds.update(counted)
                write: tuple[Any, ...] = (_write_frame, lines.select("line"), spool)
            else:
                if workers is None:
                    records = _records(chunk)
                else:  # the workers take the per-member stages while this process ranks
                    workers.send(events, days, final)
                    if plan.closes:  # the closes count what the workers paid
                        member = workers.receive(chunk.forms)
                        records = _framed(member + _global_parts(chunk, member))
                    else:  # ranks read only events: ranked while the workers work
                        ranked = _rank_parts(chunk)
                        records = _framed(workers.receive(chunk.forms) + ranked)
                # balances and lines on the writing thread: nothing before them reads
                # the balances, and it takes the chunks in order
                write = (_write_records, chunk, _budgeted(chunk, records), spool)
            if pending is not None:
                kinds.update(pending.result())
            pending = writer.submit(*write)
            carry.last = int(events["t"][-1])
            first = False
        if pending is not None:
            kinds.update(pending.result())
    if workers is not None and not plan.gathered:
        carry.balances = workers.balances()
    balances = _balance_lines(program, carry)
    if balances.height:
        balances.write_csv(spool, include_header=False, quote_style="never")
    return kinds, carry.members.height, resorted


def _prepared(plan: ColumnarPlan, files: list[Path]) -> Iterator[tuple[pl.DataFrame | None, bool]]:
    """Each chunk's events, decoded, timed and dated when in time order (`_dated`; one
    out of order is left undated, for the caller to sort), None when not plain; and
    whether it is the last. The next chunk is read and decoded on a second thread while
    the caller works on this one: Polars releases the GIL, and reading is a third of
    the work, so the two overlap on two cores (at most three chunks are held at once)."""

    def prepare(block: bytes) -> pl.DataFrame | None:
        events = _decode(plan, _lines_of(block))
        if events is not None:
            events = _instants(plan.program, events)
        if events is not None and events["t"].is_sorted():
            events = _dated(plan.program, events)
        return events

    blocks = _blocks(files)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="incentive-read") as reader:
        block = next(blocks, None)
        ahead = None if block is None else reader.submit(prepare, block)
        while ahead is not None:
            following = next(blocks, None)
            after = None if following is None else reader.submit(prepare, following)
            events = ahead.result()
            yield events, after is None
            if events is None:
                if after is not None:
                    after.cancel()
                return
            ahead = after


def _numbered_members(carry: _Carry, events: pl.DataFrame) -> pl.DataFrame:
    """Each event's member number `mid` for the whole run: members met before keep
    theirs, new ones are numbered on (carried state is keyed by these numbers)."""
    import polars as pl

    local = events.select("member", "local").unique("local", maintain_order=True)
    known = local.join(carry.members, on="member", how="left")
    new = known.filter(pl.col("mid").is_null()).with_columns(
        mid=pl.int_range(pl.len(), dtype=pl.Int64) + carry.members.height
    )
    carry.members = pl.concat([carry.members, new.select("member", "mid")])
    codes = pl.concat([known.filter(pl.col("mid").is_not_null()), new])
    return events.join(codes.select("local", "mid"), on="local", how="left").drop("local")


def _new_ids(carry: _Carry, events: pl.DataFrame) -> bool:
    """No event repeats an id the loop would still remember (its day open): ids are
    unique within a chunk (checked on reading), and against the open day's ids left by
    the chunk before. Then carry this chunk's last day's ids."""
    import polars as pl

    if carry.open_ids is not None:
        again = events.filter(pl.col("day") == carry.open_day).join(
            carry.open_ids.to_frame("id"), on="id", how="semi"
        )
        if again.height:
            return False
    last_day = int(events["day"][-1])
    ids = events.filter(pl.col("day") == last_day)["id"]
    if carry.open_ids is not None and carry.open_day == last_day:
        ids = pl.concat([carry.open_ids, ids])
    carry.open_day, carry.open_ids = last_day, ids
    return True
