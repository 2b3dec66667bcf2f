"""A file run by the interpreter and by the columnar plan, for tests that prove the plan
takes a construct and writes the interpreter's bytes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from incentive import runner
from incentive.events import read_events
from incentive.program import Program


def interpreter_and_columnar(program: Program, path: Path) -> tuple[bytes, bytes, bool]:
    """The interpreter's bytes, the columnar run's bytes, and whether the plan ran it."""

    def read() -> Any:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    outs = []
    for engine in ("interpreter", "columnar"):
        out = io.BytesIO()
        summary = runner.run_files(program, [str(path)], read, out, engine=engine)  # type: ignore[arg-type]
        outs.append(out.getvalue())
    return outs[0], outs[1], summary.columnar
