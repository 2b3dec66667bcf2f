"""A worker process of `run --jobs N` (see `processes.Workers`), started by the run
(never by hand) as `python -P -c "...; main()" PACKAGE_PARENT ROLE`: it reads pickled
requests on stdin and writes pickled replies on what was stdout. ROLE says whose
worker it is: the columnar plan's (`columnar.work`) or the compiled evaluator's
(`split.work`)."""

import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run, which ends our input
    # The replies go on a copy of stdout; stdout itself points at stderr (discarded by the
    # run), so that nothing printed by a library can corrupt the stream of pickles.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if sys.argv[2:3] == ["loop"]:
        from incentive.split import work
    else:
        from incentive.columnar import work

    work(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
