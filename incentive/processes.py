"""Worker processes of `run --jobs N`: how they start, are spoken to and end.

Both ways a run splits its members across processes use these: the columnar plan's
per-member stages (`columnar.workers._MemberWorkers`) and the compiled evaluator's sessions
(`split.LoopWorkers`). A worker is a fresh interpreter (`incentive.jobs`, see
`WORKER`) spoken to by pickles over its stdin and stdout: never a fork (that would
copy Polars' thread pool mid-flight), nor multiprocessing's spawn (which runs the
caller's main module again in each worker). A worker that ends without answering, or
answers ("failed", why), is a `WorkerLost`: the run is made again in one process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from incentive.i18n import _

__all__ = ["WORKER", "WorkerLost", "Workers"]


class WorkerLost(Exception):
    """A worker process ended without answering (killed, out of memory) or failed: the
    run is made again in this process, and says why."""


# How a worker process is started, after the interpreter and before the folder that
# holds this `incentive` (and the worker's role): `-P` keeps the current folder off the
# path (an `incentive/` there must not stand in for this one), and the folder is put
# first, so that the workers run the very code the run does.
WORKER = (
    "-P",
    "-c",
    "import sys; here = sys.argv[1]; "
    "here in sys.path or sys.path.insert(0, here); "
    "from incentive.jobs import main; main()",
)


def lost() -> WorkerLost:
    return WorkerLost(_("a worker process ended without answering"))


def failed(error: str) -> WorkerLost:
    return WorkerLost(_("a worker process failed: {error}").format(error=error))


class Workers:
    """`jobs` worker processes started with `command` (WORKER, or a test's stand-in) in
    `role` ("columnar" or "loop", read by `incentive.jobs`), each sent `first` (what
    it works on: the program, ...) before anything else."""

    def __init__(
        self,
        command: Sequence[str],
        role: str,
        first: Any,
        jobs: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        here = str(Path(__file__).resolve().parent.parent)  # this incentive, not another
        self.workers: list[subprocess.Popen[bytes]] = []
        try:
            for _number in range(jobs):
                self.workers.append(
                    subprocess.Popen(
                        [sys.executable, *command, here, role],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,  # a worker answers through its pipe
                        env={**os.environ, **(env or {})},
                    )
                )
            data = pickle.dumps(first, protocol=pickle.HIGHEST_PROTOCOL)
            for worker in self.workers:
                self.put_bytes(worker, data)
        except BaseException:
            self.__exit__(WorkerLost)  # none of them is left behind
            raise

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, failure: type[BaseException] | None, *exc: object) -> None:
        for worker in self.workers:
            if failure is not None:
                worker.kill()  # Ctrl-C, or the run gave up: nothing a worker does counts
            try:
                assert worker.stdin is not None
                worker.stdin.close()  # end of input: the worker stops
            except OSError:
                pass
        for worker in self.workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            assert worker.stdout is not None
            worker.stdout.close()

    @staticmethod
    def put(worker: subprocess.Popen[bytes], message: Any) -> None:
        Workers.put_bytes(worker, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    @staticmethod
    def put_bytes(worker: subprocess.Popen[bytes], data: bytes) -> None:
        """A message already pickled (one pickling for every worker that gets it)."""
        try:
            assert worker.stdin is not None
            worker.stdin.write(data)
            worker.stdin.flush()
        except (OSError, ValueError):
            raise lost() from None

    @staticmethod
    def reply(worker: subprocess.Popen[bytes]) -> tuple[Any, ...]:
        """A worker's next reply; WorkerLost when it ended or failed instead."""
        assert worker.stdout is not None
        return read_reply(worker.stdout)


def read_reply(stream: IO[bytes]) -> tuple[Any, ...]:
    """The next reply on a worker's stdout; WorkerLost when it ended or failed instead."""
    try:
        reply = pickle.load(stream)
    except Exception:  # the pipe closed, or something else than a reply came
        raise lost() from None
    if not isinstance(reply, tuple) or not reply:
        raise lost()
    if reply[0] == "failed":  # a bug: the run's process gives the answer instead
        raise failed(reply[1])
    return reply


def replying(replies: IO[bytes]) -> Any:
    """The worker side: a function that sends one reply on `replies`."""

    def reply(message: tuple[Any, ...]) -> None:
        pickle.dump(message, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()

    return reply
