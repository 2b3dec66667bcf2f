"""A fuzz target for event input (reliability.md #16): whatever the bytes of an events
file, reading and running them raises nothing but the refusal of an encoding, and
both evaluators write the same records.

Longer runs, outside CI (atheris is the `fuzz` extra; it needs Linux or macOS):

    pip install -e '.[fuzz]'
    cd tests && python fuzz/event_lines.py fuzz/corpus -max_total_time=600 -rss_limit_mb=2048

New inputs atheris finds go into tests/fuzz/corpus; tests/test_fuzz_corpus.py
replays every file there in CI (without atheris).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import incentive
from incentive.diagnostics import EncodingProblem
from incentive.events import decode_bytes, read_events
from incentive.runner import ENGINES, run_to

SCHEME = """\
scheme "Fuzz" {
  currency points
  timezone "Asia/Shanghai"
  expire after 30 days
  budget 500 per day

  events {
    signin
    comment(words: number, topic: text)
  }

  rule signin {
    on signin
    award 10
    limit 1 per day
  }

  rule comment {
    on comment
    where words >= 5 and topic != "ads"
    award words / 10 round up
    cap 30 per day
  }

  rule streak {
    on signin
    streak per day
    at 3 award 20
  }

  rule best {
    on comment
    top 2 per week by sum words award 50, 20
  }

  levels over 7 days {
    bronze 0
    silver 100
  }
}
"""

PROGRAM = incentive.compile(SCHEME, "fuzz.incentive")


def check(data: bytes) -> None:
    """Run `data` as a JSON Lines, CSV and YAML events file on both evaluators."""
    try:
        text = decode_bytes(data, "<fuzz>")
    except EncodingProblem:
        return  # refused as a whole, before any work: what the command line does (exit 2)
    for fmt in ("jsonl", "csv", "yaml"):
        outputs = []
        for engine in ENGINES:
            out = io.BytesIO()

            def read(fmt: str = fmt) -> object:
                stream = io.StringIO(text, newline="")
                return read_events(stream, PROGRAM.calendar, fmt, "<fuzz>")  # type: ignore[arg-type]

            run_to(PROGRAM, read, out, engine=engine)  # type: ignore[arg-type]
            outputs.append(out.getvalue())
        assert outputs[0] == outputs[1], f"the evaluators disagree on {fmt}"


def corpus() -> list[Path]:
    return sorted((Path(__file__).parent / "corpus").iterdir())


def main() -> None:  # pragma: no cover - run by hand, with atheris
    import atheris

    atheris.instrument_all()  # incentive's readers and engine, not only `check`
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":  # pragma: no cover
    main()
