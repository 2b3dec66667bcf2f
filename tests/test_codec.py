"""The state codec (incentive/codec.py): export, import, carry on, exactly.

Promise 6 of the reliability list, for snapshots: a session stopped at any
point, its state encoded to JSON and decoded into a new session, gives the
very records of a session that never stopped, on both evaluators, for random
schemes using every construct (the compiled evaluator's per-day caches are
rebuilt from the state alone).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiled import menu_events, menu_schemes

import incentive
from incentive.codec import (
    FORMAT,
    VERSION,
    StateFormatError,
    decode_member,
    decode_state,
    encode_member,
    encode_state,
)
from incentive.runner import open_session


def _lines(records: list[Any]) -> list[str]:
    return [r.to_json() for r in records]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=menu_schemes(),
    events=menu_events(),
    cut=st.floats(0, 1),
    engine=st.sampled_from(("compiled", "interpreter")),
)
def test_a_decoded_state_carries_on_as_if_never_stopped(
    text: str, events: list[dict[str, Any]], cut: float, engine: str
) -> None:
    program = incentive.compile(text, "menu.incentive")
    whole = open_session(program, engine=engine)  # type: ignore[arg-type]
    expected = [r for e in events for r in whole.feed(e)]
    expected += whole.close_all() + whole.balance_records()

    split = int(cut * len(events))
    first = open_session(program, engine=engine)  # type: ignore[arg-type]
    got = [r for e in events[:split] for r in first.feed(e)]
    saved = encode_state(first.state)
    restored = decode_state(saved)
    assert restored == first.state  # field by field, lists stay lists
    assert encode_state(restored) == saved  # and dict order is kept
    json.loads(saved)  # plain JSON, readable by any tool
    second = open_session(program, restored, engine=engine)  # type: ignore[arg-type]
    second.fed = first.fed  # bad lines are numbered by their place in the input
    got += [r for e in events[split:] for r in second.feed(e)]
    got += second.close_all() + second.balance_records()
    assert _lines(got) == _lines(expected)


def test_the_envelope_names_format_and_version() -> None:
    program = incentive.load("docs/examples/club.incentive")
    session = program.session()
    session.feed({"id": "c1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"})
    data = json.loads(encode_state(session.state))
    assert (data["format"], data["version"]) == (FORMAT, VERSION)
    assert data["state"]["clock"] == "2026-03-02T07:00:00Z"
    assert data["state"]["open_day"] == "2026-03-02"
    member = session.state.members["ana"]
    assert decode_member(encode_member(member)) == member


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not an incentive state"),
        (b"[1, 2]", "not an incentive state"),
        (b'{"format": "other", "version": 1, "state": {}}', "no `format: incentive-state`"),
        (b'{"format": "incentive-state", "version": 99, "state": {}}', "version 99"),
        (
            b'{"format": "incentive-state", "version": 1, "state": {"clock": "yesterday"}}',
            "does not fit version 1",
        ),
    ],
)
def test_what_is_not_a_state_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(StateFormatError, match=message):
        decode_state(data)


def test_a_state_from_a_scheme_with_a_renamed_inactive_rule_loads() -> None:
    """The issue: renaming an `inactive` rule made resuming raise a bare KeyError."""
    scheme = """
scheme "Club" {
  rule idle {
    on checkin
    inactive 3 days
    flag "quiet"
  }
}
"""
    old = incentive.compile(scheme, "club.incentive")
    session = old.session()
    session.feed({"id": "c1", "type": "checkin", "member": "ana", "at": "2026-03-02T08:00:00"})
    state = decode_state(encode_state(session.state))
    new = incentive.compile(scheme.replace("rule idle", "rule away"), "club.incentive")
    for engine in ("compiled", "interpreter"):
        resumed = open_session(new, decode_state(encode_state(state)), engine=engine)  # type: ignore[arg-type]
        assert (
            resumed.feed(
                {"id": "c2", "type": "checkin", "member": "bo", "at": "2026-03-03T08:00:00"}
            )
            == []
        )
