"""`python -m incentive`: the command line, for when the `incentive` script is not on PATH
(and for tests that run the worktree's own code in a subprocess)."""

from incentive.cli import main

main()
