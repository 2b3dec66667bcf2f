"""What evaluation produces: one record per outcome, in processing order.

The ledger kinds (`award`, and later expiry and spending) carry the points
that move a balance; every other kind explains something that did not pay.
Records serialise to one JSON object per line with a fixed key order, so the
same inputs always give byte-identical output.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import msgspec

RecordKind = Literal[
    "award",  # points paid (negative for a penalty); moves the balance
    "cut",  # part of an award not paid: a cap, or a balance that cannot go below zero
    "refused",  # an award not paid at all: a limit or cap reached, an attribute missing
    "duplicate",  # an event id seen before with the same content: skipped
    "conflict",  # an event id seen before with different content: refused
    "bad_event",  # a line that cannot be read or does not fit the scheme: skipped
    "late",  # an event whose day had already closed when it arrived (streaming)
    "outside_season",  # an event before the season's first day or after its last
    "quarantined",  # a live session's event too far ahead of the clock: not evaluated
    "rank",  # a rank award paid at a period's close; moves the balance
    "streak",  # a member's streak grew, broke or started (once per period)
    "perk",  # a non-point outcome for a member or a team ("top class", "coaching")
    "badge",  # like a perk: a mark of achievement ("7 days in a row")
    "board",  # one line of a leaderboard at a period's close (pays nothing)
    "grant",  # points given from a granter's allowance; moves the balance
    "redeem",  # points spent (negative); moves the balance
    "reversal",  # points an earlier event paid, taken back (or a penalty given back)
    "pending",  # points earned but held (`pending N days`): not yet in the balance
    "release",  # held points become spendable; moves the balance
    "cancelled",  # held points reversed before their release: never spendable
    "transfer",  # points sent (negative, the sender) or received; moves the balance
    "expiry",  # points that expired (negative), dated at the expiry; moves the balance
    "level",  # a member reached a new level
    "flag",  # a member flagged: inactive for N days, or an offence counted
    "balance",  # a member's final balance in one currency (end of a run)
]

RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)

LEDGER_KINDS = frozenset(
    {"award", "rank", "grant", "redeem", "expiry", "reversal", "release", "transfer"}
)


def _doc(description: str) -> msgspec.Meta:
    return msgspec.Meta(description=description)


# A msgspec Struct rather than a pydantic model: a run makes one or more per event,
# and building and encoding one costs a tenth of a model's.
class Record(msgspec.Struct, frozen=True, omit_defaults=True):
    """One outcome. Fields that do not apply to a kind are left out of its JSON."""

    kind: RecordKind
    at: Annotated[str | None, _doc("local time with offset, ISO 8601")] = None
    member: str | None = None
    team: Annotated[str | None, _doc("for team ranks, perks and boards: the team")] = None
    rule: str | None = None
    points: Annotated[
        int | None, _doc("for award: points paid; for cut and refused: points not paid")
    ] = None
    currency: str | None = None
    balance: Annotated[int | None, _doc("the member's balance after this record")] = None
    rank: Annotated[int | None, _doc("for rank: the place (1 is first)")] = None
    streak: Annotated[int | None, _doc("for streak: the current length")] = None
    perk: Annotated[str | None, _doc("for perk, badge and flag: its name")] = None
    level: Annotated[str | None, _doc("for level: the level reached")] = None
    value: Annotated[
        str | None, _doc("for board and rank: the measure ranked by (a decimal number)")
    ] = None
    pending: Annotated[
        int | None,
        _doc("for pending, release, cancelled and balance: the member's points still held"),
    ] = None
    item: Annotated[str | None, _doc("for a catalogue's redeem and refused records: the gift")] = (
        None
    )
    events: Annotated[tuple[str, ...], _doc("ids of the events that caused it")] = ()
    reason: str = ""
    source: Annotated[str | None, _doc("file of a bad line")] = None
    line: Annotated[int | None, _doc("line number of a bad line")] = None

    def to_dict(self) -> dict[str, object]:
        """The fields that apply, in their fixed order (None, no events, no reason: left out)."""
        return _DECODER.decode(_ENCODER.encode(self))

    def to_json(self) -> str:
        return _ENCODER.encode(self).decode("utf-8")

    def to_json_bytes(self) -> bytes:
        return _ENCODER.encode(self)

    def replace(self, **changes: Any) -> Record:
        return msgspec.structs.replace(self, **changes)


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(dict[str, Any])


def record_schema() -> dict[str, Any]:
    """The JSON Schema of a record, as one object (`incentive schema records`)."""
    schema: dict[str, Any] = msgspec.json.schema(Record)
    definitions = schema.pop("$defs", {})
    return dict(definitions.get("Record", schema))


def write_jsonl(records: list[Record]) -> str:
    return encode_lines(records).decode("utf-8")


def encode_lines(records: list[Record]) -> bytes:
    """Records as JSON Lines, each line ended by a newline."""
    return _ENCODER.encode_lines(records)


def outcome_kind(kind: str) -> RecordKind:
    """The record kind of a non-point outcome: `perk`, `badge` or `flag`."""
    return "badge" if kind == "badge" else "flag" if kind == "flag" else "perk"
