"""`python -m incentive.jobs`: a worker process of `run --jobs N` (see
`columnar._MemberWorkers`). It reads pickled requests on stdin and writes pickled
replies on stdout; it is started by the run, never by hand."""

import signal
import sys

from incentive.columnar import work

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the run, which ends our input
    work(sys.stdin.buffer, sys.stdout.buffer)
