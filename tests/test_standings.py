"""Running standings (issue 18): a board posted `each day` shows the period so far
at every day's close, and its own close as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import incentive
from incentive import columnar
from incentive.diagnostics import SchemeError
from incentive.events import read_events
from incentive.program import RankSpec
from incentive.ranks import earliest_first, member_standings, standing_order

CASE = Path(__file__).resolve().parent / "golden" / "running_standings"


def _case() -> tuple[incentive.Program, list[dict[str, object]], incentive.Roster]:
    program = incentive.load(CASE / "scheme.incentive")
    lines = (CASE / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return program, [json.loads(line) for line in lines], incentive.load_roster(CASE / "roster.csv")


def test_both_evaluators_post_the_same_running_boards() -> None:
    program, events, roster = _case()
    runs = [
        [r.to_json() for r in program.evaluate(events, roster=roster, engine=engine).records]  # type: ignore[arg-type]
        for engine in ("interpreter", "compiled")
    ]
    assert runs[0] == runs[1]
    posts = [json.loads(r) for r in runs[0] if '"board"' in r]
    # every day of the season posts the groups, quiet days included; the last is the close
    days = sorted({p["at"][:10] for p in posts if p["rule"] == "groups"})
    assert days == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert posts[-1]["reason"] == "board `members`: 3rd of 4 by points with 5 (the season)"


def test_a_stream_posts_each_day_as_time_passes() -> None:
    program, events, roster = _case()
    session = program.session(roster=roster)
    first = [r for e in events[:2] for r in session.feed(e)]
    assert not any(r.kind == "board" for r in first)  # day one is still open
    posted = session.advance_to(datetime(2026, 3, 3, 21, 0))
    assert [(r.rule, r.team or r.member, r.value) for r in posted] == [
        ("groups", "g1", "5"), ("groups", "g2", "5"), ("groups", "g3", "0"),
        ("members", "ana", "5"), ("members", "bo", "5"),
    ] * 2  # fmt: skip
    assert session.advance_to(datetime(2026, 3, 3, 21, 0)) == []  # posted once


def test_the_formatter_keeps_each_day() -> None:
    text = (CASE / "scheme.incentive").read_text(encoding="utf-8")
    assert incentive.fmt(text) == text


def _errors(text: str) -> list[tuple[str, str]]:
    try:
        incentive.compile(text)
    except SchemeError as err:
        return [(d.code, d.message) for d in err.diagnostics]
    return []


def test_each_needs_a_board_and_a_shorter_period() -> None:
    head = 'scheme "s" { season 2026-03-02 to 2026-03-09 '
    assert _errors(head + "board b { per month by points each week } }") == [
        ("E0248", "a board ranked per month cannot be posted each week")
    ]
    assert _errors(head + "board b { per day by points each day } }") == [
        ("E0248", "a board ranked per day cannot be posted each day")
    ]
    rule = head + "rule r { top 1 per week by points award 5 each day } }"
    assert [code for code, _ in _errors(rule)] == ["E0101"]  # boards only


def test_the_columnar_plan_posts_the_running_boards_the_interpreter_posts(
    tmp_path: Path,
) -> None:
    """Running boards take the plan (the interpreter's own closes over tables filled
    from columns): the interpreter's bytes, quiet days' posts included."""
    import io

    from incentive import runner

    program, events, roster = _case()
    assert columnar.why_not(program) == []
    path = tmp_path / "events.jsonl"
    # dee's event names her group: the loop's to place, so the plan takes it without
    plain = [{k: v for k, v in e.items() if k != "group"} for e in events]
    path.write_text("".join(json.dumps(e) + "\n" for e in plain), encoding="utf-8")

    def read() -> object:
        with path.open(encoding="utf-8") as stream:
            yield from read_events(stream, program.calendar, "jsonl", str(path))

    outputs = {}
    for engine in ("columnar", "interpreter"):
        out = io.BytesIO()
        summary = runner.run_files(program, [str(path)], read, out, roster=roster, engine=engine)  # type: ignore[arg-type]
        outputs[engine] = (out.getvalue(), summary.columnar)
    assert outputs["columnar"] == (outputs["interpreter"][0], True)
    assert b"so far, at the close of day" in outputs["columnar"][0]


def test_read_events_still_reads_the_case() -> None:
    program, _, _ = _case()
    with (CASE / "events.jsonl").open(encoding="utf-8") as stream:
        assert len(list(read_events(stream, program.calendar))) == 5


NOT_YET = Path(__file__).resolve().parent / "golden" / "not_yet"


def test_by_missing_is_the_same_from_both_evaluators_and_from_a_stream() -> None:
    program = incentive.load(NOT_YET / "scheme.incentive")
    roster = incentive.load_roster(NOT_YET / "roster.csv")
    lines = (NOT_YET / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    runs = [
        [r.to_json() for r in program.evaluate(events, roster=roster, engine=engine).records]  # type: ignore[arg-type]
        for engine in ("interpreter", "compiled")
    ]
    assert runs[0] == runs[1]
    session = program.session(roster=roster)
    streamed = [r.to_json() for e in events for r in session.feed(e)]
    streamed += [r.to_json() for r in session.close_all()]
    assert streamed == runs[0]


def test_a_day_nobody_acted_lists_everyone_when_time_is_advanced() -> None:
    program = incentive.load(NOT_YET / "scheme.incentive")
    session = program.session(roster=incentive.load_roster(NOT_YET / "roster.csv"))
    session.feed({"type": "checkin", "member": "ana", "at": "2026-03-02T10:00:00"})
    listed = session.advance_to(datetime(2026, 3, 3, 21, 0))
    assert [(r.at[:10], r.member) for r in listed] == [
        (day, member)
        for day in ("2026-03-02", "2026-03-03")
        for member in ("ana", "bo", "cy", "eve")
    ]
    assert session.advance_to(datetime(2026, 3, 3, 21, 0)) == []  # listed once


def test_by_missing_belongs_to_a_plain_board() -> None:
    head = 'scheme "s" { team group '
    message = (
        "`by missing` lists everyone without a matching event: it belongs to a board "
        "with no `top N` and no `each`"
    )
    for body in (
        "board b { top 3 group per day by missing on homework }",
        "rule r { on homework top 3 per day by missing award 5 }",
    ):
        assert ("E0229", message) in _errors(head + body + " }")
    assert _errors(head + "board b { group per day by missing on homework } }") == []


# ---- a ranking by earliest, its places only (issue 14) -------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    # few distinct times, so that ties (broken by member) are common
    seconds=st.lists(st.integers(0, 5) | st.integers(0, 86_400 * 400), min_size=1, max_size=40),
    count=st.integers(1, 6),
    side=st.sampled_from(["top", "bottom"]),
    fraction=st.booleans(),
)
def test_earliest_first_gives_the_first_places_of_the_full_order(
    seconds: list[int], count: int, side: str, fraction: bool
) -> None:
    """close_rank makes Standings for the places paid only: the same Standings, in the
    same order, as sorting every entrant by standing_order."""
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    table = {
        f"m{n % 13}x{n}": [
            "0",
            (
                start + timedelta(seconds=s, microseconds=(n * 7919) % 10**6 if fraction else 0)
            ).isoformat(),
            f"e{n}",
        ]
        for n, s in enumerate(seconds)
    }
    rank = RankSpec(side, count, "day", "earliest", None, (), (5,))  # type: ignore[arg-type]
    sign = 1 if side == "bottom" else -1
    everyone = sorted(
        member_standings(rank, table, {}, True),
        key=lambda s: standing_order(s.value, s.reached, s.who, sign),
    )
    assert earliest_first(table, count, side) == everyone[:count]
