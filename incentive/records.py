"""What evaluation produces: one record per outcome, in processing order.

The ledger kinds (`award`, and later expiry and spending) carry the points
that move a balance; every other kind explains something that did not pay.
Records serialise to one JSON object per line with a fixed key order, so the
same inputs always give byte-identical output.
"""

from __future__ import annotations

import json
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

RecordKind = Literal[
    "award",  # points paid (negative for a penalty); moves the balance
    "cut",  # part of an award not paid: a cap, or a balance that cannot go below zero
    "refused",  # an award not paid at all: a limit or cap reached, an attribute missing
    "duplicate",  # an event id seen before with the same content: skipped
    "conflict",  # an event id seen before with different content: refused
    "bad_event",  # a line that cannot be read or does not fit the scheme: skipped
    "late",  # an event whose day had already closed when it arrived (streaming)
    "outside_season",  # an event before the season's first day or after its last
    "rank",  # a rank award paid at a period's close; moves the balance
    "streak",  # a member's streak grew, broke or started (once per period)
    "perk",  # a non-point outcome for a member or a team ("top class", "coaching")
    "badge",  # like a perk: a mark of achievement ("7 days in a row")
    "board",  # one line of a leaderboard at a period's close (pays nothing)
    "grant",  # points given from a granter's allowance; moves the balance
    "redeem",  # points spent (negative); moves the balance
    "expiry",  # points that expired (negative), dated at the expiry; moves the balance
    "level",  # a member reached a new level
    "flag",  # a member flagged: inactive for N days, or an offence counted
    "balance",  # a member's final balance in one currency (end of a run)
]

RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)

LEDGER_KINDS = frozenset({"award", "rank", "grant", "redeem", "expiry"})


class Record(BaseModel):
    """One outcome. Fields that do not apply to a kind are left out of its JSON."""

    model_config = ConfigDict(frozen=True)

    kind: RecordKind
    at: str | None = Field(None, description="local time with offset, ISO 8601")
    member: str | None = None
    team: str | None = Field(None, description="for team ranks, perks and boards: the team")
    rule: str | None = None
    points: int | None = Field(
        None, description="for award: points paid; for cut and refused: points not paid"
    )
    currency: str | None = None
    balance: int | None = Field(None, description="the member's balance after this record")
    rank: int | None = Field(None, description="for rank: the place (1 is first)")
    streak: int | None = Field(None, description="for streak: the current length")
    perk: str | None = Field(None, description="for perk, badge and flag: its name")
    level: str | None = Field(None, description="for level: the level reached")
    value: str | None = Field(
        None, description="for board and rank: the measure ranked by (a decimal number)"
    )
    events: tuple[str, ...] = Field((), description="ids of the events that caused it")
    reason: str = ""
    source: str | None = Field(None, description="file of a bad line")
    line: int | None = Field(None, description="line number of a bad line")

    def to_dict(self) -> dict[str, object]:
        data = self.model_dump(mode="json", exclude_none=True)
        if not data.get("events"):
            data.pop("events", None)
        if not data.get("reason"):
            data.pop("reason", None)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def write_jsonl(records: list[Record]) -> str:
    return "".join(r.to_json() + "\n" for r in records)


def outcome_kind(kind: str) -> RecordKind:
    """The record kind of a non-point outcome: `perk`, `badge` or `flag`."""
    return "badge" if kind == "badge" else "flag" if kind == "flag" else "perk"
