"""--jobs: the per-member stages in worker processes.

`_MemberWorkers` starts `jobs` workers (`processes.Workers`: fresh interpreters
running `incentive.jobs`, which calls `work`, spoken to by pickles over pipes) and per
chunk hands each the events of the members whose number is its own modulo `jobs`. A
worker runs the per-member stages (`stages._member_parts`) with its own carried
state. Without budgets or closes it also gets its members' rank rows, keeps their
balances and answers with finished lines and their order keys; else it answers with
record rows, whose forms the run's process renumbers into its own (`_renumbered`).
A worker lost or failed is a `_WorkerLost`, and one that meets what is not plain
says so: either way the whole run goes to the loop. `WORKER` is how a worker starts
(a test puts a stand-in here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from incentive import processes
from incentive.columnar.chunks import _KEYS, _Chunk, _Days, _empty_carry, _Forms, _framed
from incentive.columnar.plan import _NotPlain, plan_for
from incentive.columnar.stages import _member_parts
from incentive.columnar.writing import _balanced, _kinds, _lines
from incentive.processes import WorkerLost
from incentive.program import Program, RuleSpec

if TYPE_CHECKING:
    import polars as pl


# The worker processes' mechanics (start, pipes, end) are `processes.Workers`'.
_WorkerLost = WorkerLost


WORKER = processes.WORKER  # how a worker starts (a test puts a stand-in here)


class _MemberWorkers(processes.Workers):
    """`jobs` worker processes, each keeping the per-member state (`_Carry`) of the
    members whose number is its own modulo `jobs`. Per chunk, `send` hands each its
    members' events (with their places in the chunk, `seq`), and `receive` collects
    their record rows, renumbering their record forms into the chunk's.

    A worker is a fresh interpreter (`incentive.jobs`, see `processes.WORKER`) spoken
    to by pickles over its stdin and stdout. Each worker's Polars gets its share of
    the cores."""

    def __init__(self, program: Program, jobs: int) -> None:
        import os

        threads = max(1, (os.cpu_count() or 1) // jobs)
        self.rules = {rule.name: rule for rule in program.rules}
        env = {"POLARS_MAX_THREADS": str(threads)}
        super().__init__(WORKER, "columnar", program, jobs, env)

    def __enter__(self) -> _MemberWorkers:
        return self

    def send(
        self,
        events: pl.DataFrame,
        days: list[int],
        final: bool,
        ranked: tuple[pl.DataFrame, _Forms] | None = None,
    ) -> None:
        """Each worker its members' events. With `ranked` (the chunk's rank rows and
        their forms: a scheme without budgets), each also gets its members' rank rows
        and answers with finished lines (`receive_lines`), else with record rows."""
        import polars as pl

        count = len(self.workers)
        share = (pl.col("mid") % count).alias("share")
        events = events.drop("at")  # the stages read the instant `t` and the local `stamp`
        parts = events.with_columns(share).partition_by("share", as_dict=True, include_key=False)
        ranks: dict[Any, pl.DataFrame] = {}
        forms: list[tuple[Any, ...]] = []
        if ranked is not None:
            rows, rank_forms = ranked
            ranks = rows.with_columns((pl.col("r_mid") % count).alias("share")).partition_by(
                "share", as_dict=True, include_key=False
            )
            forms = _portable(rank_forms)
        for number, worker in enumerate(self.workers):
            mine = parts.get((number,), events.clear())
            if ranked is None:
                self.put(worker, ("records", mine, days, final))
            else:
                theirs = ranks.get((number,), ranked[0].clear())
                self.put(worker, ("lines", mine, days, final, theirs, forms))

    def receive_lines(self) -> tuple[pl.DataFrame, Counter[str]]:
        """The workers' lines of a chunk, each with its record's keys, in record order,
        and the records by kind."""
        import polars as pl

        frames, kinds = [], Counter[str]()
        for reply in self._replies():
            _done, frame, counted = reply
            frames.append(frame)
            kinds.update(counted)
        return pl.concat(frames).sort(list(_KEYS)), kinds

    def balances(self) -> pl.DataFrame:
        """Every member's balances at the end, from the workers that kept them."""
        import polars as pl

        for worker in self.workers:
            self.put(worker, ("balances",))
        kept: list[pl.DataFrame] = [reply[1] for reply in self._replies()]
        return pl.concat(kept)

    def _replies(self) -> Iterator[tuple[Any, ...]]:
        for worker in self.workers:
            reply = self.reply(worker)
            if reply[0] == "not plain":
                raise _NotPlain
            yield reply

    def receive(self, forms: _Forms) -> list[pl.DataFrame]:
        """The workers' record rows of a chunk, their forms renumbered into `forms`."""
        frames = []
        for _done, frame, rows in self._replies():
            if frame.height:
                frames.append(_renumbered(frame, rows, forms, self.rules))
        return frames


def _portable(forms: _Forms) -> list[tuple[Any, ...]]:
    """Record forms as they cross to another process: a rule by its name."""
    return [(row[0], row[1].name, " ".join(row[2]), *row[3:]) for row in forms.rows]


def _renumbered(
    frame: pl.DataFrame, rows: list[tuple[Any, ...]], forms: _Forms, rules: dict[str, RuleSpec]
) -> pl.DataFrame:
    """Rows numbered by another process's forms (`_portable`), numbered by `forms`."""
    import polars as pl

    mine = [forms.add(kind, rules[rule], *rest) for kind, rule, *rest in rows]
    return frame.with_columns(
        pl.col("form").replace_strict(list(range(len(rows))), mine, return_dtype=pl.Int64)
    )


def work(requests: IO[bytes], replies: IO[bytes]) -> None:
    """A worker process of `_MemberWorkers` (`incentive.jobs`): a Program, then the
    per-member stages of each chunk it is sent, until its input ends."""
    import pickle

    import polars as pl

    reply = processes.replying(replies)
    try:
        plan = plan_for(pickle.load(requests))
    except EOFError:
        return
    assert plan is not None
    rules = {rule.name: rule for rule in plan.program.rules}
    carry = _empty_carry()
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        if request[0] == "balances":
            reply(("balances", carry.balances))
            continue
        kind, events, days, final, *ranked = request
        forms = _Forms()
        chunk = _Chunk(plan, events, _Days(plan.program, days), carry, final, forms)
        try:
            parts = _member_parts(chunk)
            if kind == "records":
                reply(("done", _framed(parts), _portable(forms)))
                continue
            rank_rows, rank_forms = ranked
            if rank_rows.height:
                parts.append(_renumbered(rank_rows, rank_forms, forms, rules))
            records = _balanced(chunk, _framed(parts))
            lines = _lines(records, forms)
            keyed = records.select(_KEYS).with_columns(lines["line"])
            reply(("lines", keyed, _kinds(records, forms)))
        except (pl.exceptions.PolarsError, _NotPlain):
            reply(("not plain",))
        except Exception as error:  # its type and message only: no traceback for operators
            reply(("failed", f"{type(error).__name__}: {error}"))
