"""Promise 16 of reliability.md, as a property: bad lines mixed into an events file
are each reported, and every good line is paid exactly as if they were absent;
nothing ends the run (no exit 3), whatever the bad lines hold — random text and
bytes, deep JSON, extreme numbers and dates, lone surrogates. A file that is not
UTF-8 is refused as a whole (exit 2) with no record written."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incentive
from incentive.cli import main
from incentive.events import decode_bytes, read_events
from incentive.runner import run_to

SCHEME = """\
scheme "Lines" {
  currency points
  timezone "Asia/Shanghai"
  expire after 30 days

  events {
    signin
    comment(words: number)
  }

  rule signin {
    on signin
    award 10
    limit 1 per day
  }

  rule comment {
    on comment
    where words >= 5
    award words / 10 round up
    cap 30 per day
  }

  rule streak {
    on signin
    streak per day
    at 2 award 5
  }

  rule best {
    on comment
    top 1 per day by sum words award 7
  }
}
"""

MEMBERS = ("ana", "bo", "张三")


@st.composite
def good_line(draw: st.DrawFn) -> str:
    minute = draw(st.integers(0, 4 * 24 * 60))
    at = f"2026-03-{2 + minute // 1440:02d}T{minute % 1440 // 60:02d}:{minute % 60:02d}:00"
    event: dict[str, object] = {"member": draw(st.sampled_from(MEMBERS)), "at": at}
    if draw(st.booleans()):
        event["type"] = "signin"
    else:
        event.update(type="comment", words=draw(st.integers(0, 80)))
    return json.dumps(event, ensure_ascii=False)


NO_BREAK = st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))
DEEP = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
EXTREME_DATES = st.sampled_from(
    [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59-12:00",
        "1899-12-31T23:59:59",
        "9000-01-01T00:00:00",
        "2026-02-30T09:00:00",
        "2026/03/02 09:00",
    ]
)


@st.composite
def bad_line(draw: st.DrawFn) -> str:
    """A line that is never a payable event (each kind of junk the issue met)."""
    kind = draw(st.sampled_from(["text", "deep", "number", "date", "surrogate", "shape"]))
    if kind == "text":
        text = draw(st.text(NO_BREAK, min_size=1, max_size=80))
        # never a whole event by chance: no `"at"` key
        return text.replace('"at"', '"@"') if text.strip() else "x"
    if kind == "deep":
        inner = draw(DEEP)
        if draw(st.booleans()):
            return (
                '{"type":"comment","member":"zz","at":"2026-03-02T09:00:00","words":' + inner + "}"
            )
        return inner
    if kind == "number":
        digits = draw(st.integers(16, 6000))
        number = draw(st.sampled_from(["9" * digits, "-" + "9" * digits, "1e400", "-1e400"]))
        return '{"type":"comment","member":"zz","at":"2026-03-02T09:00:00","words":' + number + "}"
    if kind == "date":
        return json.dumps({"type": "signin", "member": "zz", "at": draw(EXTREME_DATES)})
    if kind == "surrogate":
        where = draw(st.sampled_from(["member", "type", "id", "words"]))
        event = {"type": "signin", "member": "zz", "at": "2026-03-02T09:00:00"}
        event[where] = "SURROGATE"
        return json.dumps(event).replace("SURROGATE", "\\ud800")
    return draw(st.sampled_from(["[1, 2]", "null", "42", '"text"', "{}", '{"type": 1}']))


PROGRAM = incentive.compile(SCHEME, "lines.incentive")


def run_lines(data: bytes, engine: str) -> list[str]:
    """The records `incentive run` writes for an events file holding `data`: the same
    reading (strict UTF-8, then JSON Lines) and the same streaming run, in process."""
    text = decode_bytes(data, "e.jsonl")
    out = io.BytesIO()
    run_to(
        PROGRAM,
        lambda: read_events(io.StringIO(text, newline=""), PROGRAM.calendar, "jsonl", "e.jsonl"),
        out,
        engine=engine,  # type: ignore[arg-type]
    )
    return out.getvalue().decode().splitlines()


def run(tmp_path: Path, name: str, data: bytes) -> tuple[int, list[str]]:
    scheme = tmp_path / "s.incentive"
    scheme.write_text(SCHEME, encoding="utf-8")
    events = tmp_path / name
    events.write_bytes(data)
    result = CliRunner().invoke(
        main, ["run", str(scheme), str(events), "--quiet"], catch_exceptions=False
    )
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line.startswith("{")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    good=st.lists(good_line(), min_size=1, max_size=25),
    bad=st.lists(st.tuples(st.integers(0, 1000), bad_line()), min_size=1, max_size=6),
    engine=st.sampled_from(["compiled", "interpreter"]),
)
def test_bad_lines_cost_nothing_else(
    good: list[str], bad: list[tuple[int, str]], engine: str
) -> None:
    clean = run_lines(("\n".join(good) + "\n").encode(), engine)
    mixed = list(good)
    for position, line in bad:
        mixed.insert(position % (len(mixed) + 1), line)
    dirty = run_lines(("\n".join(mixed) + "\n").encode(), engine)
    reported = [json.loads(line) for line in dirty if '"kind":"bad_event"' in line]
    assert len(reported) == len(bad) and all(r.get("line") for r in reported)
    assert [line for line in dirty if '"kind":"bad_event"' not in line] == clean


def test_the_command_line_exits_1_not_3_on_the_issue_s_lines(tmp_path: Path) -> None:
    good = '{"type":"signin","member":"ana","at":"2026-03-02T09:00:00"}'
    lines = [good, "[" * 1000 + "]" * 1000, '{"type":"signin","member":"\\ud800","at":"x"}']
    lines += ['{"type":"signin","member":"zz","at":"9999-12-31T23:59:59-12:00"}']
    code, out = run(tmp_path, "e.jsonl", ("\n".join(lines) + "\n").encode())
    # three bad lines, then ana's award, her streak record and her balance
    assert code == 1 and len(out) == 3 + 3


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    good=st.lists(good_line(), min_size=1, max_size=10),
    junk=st.binary(min_size=1, max_size=40).filter(lambda b: not _is_utf8(b)),
    codec=st.sampled_from(["gbk", "latin-1", "utf-16", "shift_jis"]),
)
def test_a_file_that_is_not_utf8_is_refused_whole(
    tmp_path: Path, good: list[str], junk: bytes, codec: str
) -> None:
    text = "\n".join(good) + "\n"
    name = {"latin-1": "Müller", "shift_jis": "山田"}.get(codec, "王五")
    encoded = (text + json.dumps({"member": name}, ensure_ascii=False) + "\n").encode(
        codec, errors="replace"
    )
    for data in (text.encode() + junk + b"\n", encoded):
        if _is_utf8(data):
            continue  # latin-1 of ASCII-only text is UTF-8 too
        code, out = run(tmp_path, "e.jsonl", data)
        assert code == 2 and out == []


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ---- the usual line's fast path makes exactly the event the general path makes ----------

_text = st.one_of(
    st.sampled_from(["ana", " ana", "ana ", "", "张三", "a\ud800", "e-1", "\t"]),
    st.text(max_size=6),
)
_times = st.one_of(
    st.sampled_from(
        [
            "2026-03-08T02:30:00",  # inside New York's spring-forward gap
            "2026-11-01T01:30:59",  # New York's repeated hour
            "2026-03-01T09:00:60",
            "2026-03-01T09:00:5x",
            "2026-03-01 09:00:00",
            "2026-03-01T09:00:00Z",
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59",
            "1972-12-31T23:59:59",
            "２０２６-03-01T09:00:00",
        ]
    ),
    st.datetimes().map(lambda moment: moment.isoformat(timespec="seconds")),
    st.text(max_size=20),
)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
    st.lists(st.integers(), max_size=2),
)


_usual = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["signin", "comment"]),
        "member": st.sampled_from(["ana", "张三", "m1"]),
        "at": st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2040, 1, 1)).map(
            lambda moment: moment.isoformat(timespec="seconds")
        ),
    },
    optional={
        "id": st.sampled_from(["e1", "", "订单-1", None]),
        "words": st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans()),
        "note": st.one_of(st.text(max_size=4), st.none()),
    },
)
_odd = st.fixed_dictionaries(
    {"type": st.one_of(_text, st.integers()), "member": st.one_of(_text, st.integers())},
    optional={
        "at": _times,
        "id": st.one_of(st.none(), _text, st.integers(), st.booleans()),
        "words": _values,
        "note": _values,
    },
)


@settings(max_examples=600, deadline=None)
@given(
    # the usual line, the usual line with one field made odd, and anything
    raw=st.one_of(
        _usual,
        st.tuples(_usual, _odd).map(lambda pair: {**pair[0], **dict(list(pair[1].items())[:1])}),
        st.tuples(_usual, st.sampled_from(["at", "id", "words"]), _values | _times).map(
            lambda t: {**t[0], t[1]: t[2]}
        ),
        _odd,
    ),
    zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC", "Africa/Monrovia"]),
)
def test_fast_path_makes_the_general_paths_event(raw: dict[str, object], zone: str) -> None:
    from incentive.calendar import Calendar
    from incentive.events import _general_event, make_event

    calendar = Calendar(zone)
    assert make_event(raw, calendar, "f", 3) == _general_event(raw, calendar, "f", 3)
