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

# Why a record was written, as a stable machine-readable code beside its `reason` (the
# reason is text for a person, shown in the operator's language; a bot branches on the code).
# Every record with a reason has one. docs/embedding.md, "Reason codes", lists them.
RecordCode = Literal[
    # points paid, and what pays
    "rule",  # a rule's award for an event (award, pending)
    "streak",  # a streak's step (streak) or its payment (award)
    "milestone",  # N matching events, or N of a measure, reached (award)
    "window",  # N matching events within D days reached (award)
    "first",  # one of the first K members of a period (award)
    "perk",  # a rule's perk, badge or flag for an event
    "ranked",  # a place in a period's ranking (rank, perk, board)
    "team_goal",  # a team's measure reached a goal's threshold (award, perk, badge)
    "promoted",  # a league's cohort placed the member among its top: up a tier (level)
    "demoted",  # a league's cohort placed the member among its bottom: down a tier (level)
    "no_entries",  # a board whose period had no matching event (board)
    "inactive",  # no matching event for N days (flag)
    "grant",  # points given from an allowance (grant)
    "redeemed",  # points spent in a redeem block or a catalogue (redeem)
    "transfer_sent",  # points sent to another member (transfer, negative)
    "transfer_received",  # points received from another member (transfer)
    "held",  # points earned but held until a day (pending)
    "released",  # held points become spendable (release)
    "expired",  # points expired (expiry)
    "level_reached",  # a member reached a level (level)
    "level_dropped",  # a member dropped to a lower level (level)
    "taken_back",  # a reversal takes back what an event paid (reversal)
    "given_back",  # a reversal gives back a penalty (reversal)
    "cancelled",  # held points reversed before their release (cancelled)
    "written_off",  # points a reversal cannot take back: already spent or expired (cut)
    # points not paid, or paid in part
    "limit_reached",  # a rule's, catalogue's or gift's limit per period (refused)
    "cap_reached",  # a cap on a rule or a group (refused, cut)
    "budget_reached",  # a budget of the scheme, a rule or a catalogue (refused, cut)
    "below_zero",  # a balance cannot go below zero (cut)
    "missing_attribute",  # the event lacks an attribute the rule needs (refused)
    "amount_error",  # the amount cannot be computed (refused)
    "self_credit",  # `credit` names the event's own member (refused)
    "already_counted",  # `milestone distinct`: the value already counted for a member (refused)
    "not_allowed",  # a redemption, grant or transfer the scheme's terms refuse (refused)
    "balance_too_low",  # the balance does not cover a redemption or a transfer (refused)
    "condition_false",  # no redeem block's or catalogue's `where` holds (refused)
    "no_such_gift",  # the gift is not in the catalogue (refused)
    "out_of_stock",  # the gift or the catalogue is out of stock (refused)
    "nothing_to_reverse",  # a reversal's event paid nothing (refused)
    # events not evaluated
    "duplicate",  # an event id seen before with the same content (duplicate)
    "conflict",  # an event id seen before with different content (conflict)
    "late",  # the event's day had closed (late)
    "outside_season",  # the event is outside the season (outside_season)
    "too_far_ahead",  # a live event too far ahead of the clock (quarantined)
    "unknown_event",  # an event type the scheme does not know (bad_event)
    "bad_attribute",  # an attribute's value does not fit its type (bad_event, refused)
    "bad_line",  # a line that cannot be read as an event (bad_event)
    "evaluation_failed",  # evaluating the event raised: a bug in incentive (bad_event)
]

RECORD_CODES: tuple[str, ...] = get_args(RecordCode)

LEDGER_KINDS = frozenset(
    {"award", "rank", "grant", "redeem", "expiry", "reversal", "release", "transfer"}
)


def _doc(description: str) -> msgspec.Meta:
    return msgspec.Meta(description=description)


# A msgspec Struct rather than a pydantic model: a run makes one or more per event,
# and building and encoding one costs a tenth of a model's. gc=False: a record holds
# only text, numbers and tuples of text, so it can be in no reference cycle, and the
# garbage collector need not count or scan it.
class Record(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
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
    code: Annotated[
        RecordCode | None,
        _doc("why it was written, stable for programs (docs/embedding.md, 'Reason codes')"),
    ] = None
    reason: Annotated[
        str,
        _doc(
            "why it was written, for a person: the engine writes English, shown in the "
            "reader's language (incentive.reasons)"
        ),
    ] = ""
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


def perk_record(rule: str, perk: tuple[str, str], why: str, **fields: Any) -> Record:
    """A perk, badge or flag (`perk` is its kind and name) that `rule` gives, and what for:
    the one reason an award step, a rank and a team goal all write."""
    kind, name = perk
    reason = f'rule `{rule}`: {kind} "{name}"' + (f" for {why}" if why else "")
    return Record(kind=outcome_kind(kind), rule=rule, perk=name, reason=reason, **fields)
