"""The benchmark's yardstick computes what `incentive run` computes.

bench/handloop.py is camp4 written out by hand; bench/run.py compares its
speed with the engine's. These tests prove, on a small generated file, that
the two give the same points per rule and the same records (no timing here).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from clirun import invoke

pytest.importorskip("orjson")  # bench/handloop.py's decoder: in the dev extras

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `bench` is a folder of the checkout, not an installed package

from bench import gen, handloop  # noqa: E402


def engine_totals(records_path: Path) -> dict[str, dict[str, int]]:
    import orjson

    points: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for line in records_path.read_bytes().splitlines():
        record = orjson.loads(line)
        if record["kind"] == "balance":
            continue
        kinds[record["kind"]] = kinds.get(record["kind"], 0) + 1
        if record["kind"] in ("award", "rank"):
            points[record["rule"]] = points.get(record["rule"], 0) + record["points"]
    return {"points": points, "records": kinds}


def test_generation_is_seeded(tmp_path: Path) -> None:
    first = gen.camp4_file(500, 50, 5, data=tmp_path / "one").read_bytes()
    again = gen.camp4_file(500, 50, 5, data=tmp_path / "two").read_bytes()
    other = gen.camp4_file(500, 50, 5, seed=8, data=tmp_path / "two").read_bytes()
    assert first == again != other
    events, roster = gen.camp_files(300, 40, data=tmp_path)
    assert roster.read_text().splitlines()[0] == "member,class,group"
    assert len(events.read_text().splitlines()) == 300


def both(events: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the hand loop's totals, `incentive run`'s) on one events file."""
    out = tmp_path / "records.jsonl"
    code, output = invoke("run", str(gen.CAMP4_SCHEME), str(events), "--out", str(out), "--quiet")
    assert code == 0, output
    with events.open("rb") as lines:
        hand = handloop.run(lines, io.BytesIO())
    return hand, engine_totals(out)


def test_hand_loop_equals_incentive_run(tmp_path: Path) -> None:
    events = gen.camp4_file(2_000, 150, 10, data=tmp_path)
    hand, engine = both(events, tmp_path)
    assert hand == engine
    # Every rule pays and every kind of outcome occurs, so the comparison means something.
    assert all(engine["points"][rule] > 0 for rule in handloop.RULES)
    assert set(engine["records"]) == {"award", "refused", "rank", "streak"}


def test_hand_loop_day_boundary_and_ties(tmp_path: Path) -> None:
    """21:00 opens the next day; tied first times go to the smaller member id, as text;
    a time with an offset is read in Shanghai."""
    events = [
        ("a", "m2", "2026-03-01T20:59:59", 600),
        ("b", "m2", "2026-03-01T21:00:00", 600),
        ("c", "m9", "2026-03-01T21:00:00", 10),
        ("d", "m10", "2026-03-01T13:00:00Z", None),
    ]
    lines = [
        json.dumps({"id": i, "type": "homework", "member": m, "at": at, "words": words}).encode()
        if words is not None
        else json.dumps({"id": i, "type": "homework", "member": m, "at": at}).encode()
        for i, m, at, words in events
    ]
    out = io.BytesIO()
    totals = handloop.run(lines, out)
    ranks = [r for r in map(json.loads, out.getvalue().splitlines()) if r["kind"] == "rank"]
    # Day 03-01: m2 alone. Day 03-02: m10, m2 and m9 all at 21:00 local, ids as text.
    assert [r["member"] for r in ranks] == ["m2", "m10", "m2", "m9"]
    assert totals["points"] == {"homework": 10, "early": 20, "chat": 0, "streak": 0}
    path = tmp_path / "edge.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    hand, engine = both(path, tmp_path)
    assert hand == {**engine, "points": {"chat": 0, "streak": 0, **engine["points"]}}
