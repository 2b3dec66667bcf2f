"""The loop's own rule steps, for what depends on the order within a member.

Several limits or caps, a group's cap, a limit per key, a random draw, a reason from
the event, milestones, streaks with grace or their own caps: what they say for an
event depends on what came before it for the same member, so the plan does not
restate them. `_stepped` runs the interpreter's own steps (`rules._award`,
`_milestone`, `_streak`) over the rules' matching events, by event then rule, with
each member's state carried from chunk to chunk, and turns their proposals and
records into record rows like the other stages'. A record the forms cannot write, or
a penalty, is the loop's (`_NotPlain`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from incentive.columnar.chunks import _Chunk, _json, _matching, _record_schema, _row_event
from incentive.columnar.conditions import _column
from incentive.columnar.plan import _Award, _NotPlain
from incentive.events import RESERVED_FIELDS, Event
from incentive.records import Record
from incentive.rules import Proposal
from incentive.rules import _award as award_step
from incentive.rules import _milestone as milestone_step
from incentive.rules import _streak as streak_step
from incentive.state import MemberState

if TYPE_CHECKING:
    import polars as pl


_STEP_KINDS = ("refused", "cut", "streak", "perk", "badge")


def _plain_step_record(record: Record, event: Event) -> bool:
    """A record the plan writes from a step: about the event's own member and the event,
    with no field the forms do not write (a level, a value, a team, ...)."""
    known = Record(
        kind=record.kind,
        at=record.at,
        member=event.member,
        rule=record.rule,
        points=record.points,
        currency=record.currency,
        streak=record.streak,
        perk=record.perk,
        events=(event.id,),
        code=record.code,
        reason=record.reason,
    )
    return record.kind in _STEP_KINDS and record == known


def _stepped(awards: list[_Award], chunk: _Chunk) -> pl.DataFrame:
    """Awards whose outcome depends on the order within a member (`_sequential`): the
    loop's own rule step over their matching events, in the loop's order (by event,
    then by rule), with each member's counters carried from chunk to chunk. Its
    proposals and records become rows of the record frame."""
    import polars as pl

    program, forms, events = chunk.plan.program, chunk.forms, chunk.events
    kinds = chunk.plan.attributes
    names = [n for n in kinds if n not in RESERVED_FIELDS]
    matched = [
        _matching(award.rule, chunk).select("seq", rule=pl.lit(position, pl.Int64))
        for position, award in enumerate(awards)
    ]
    order = pl.concat(matched).sort("seq", "rule")
    columns = ["seq", "id", "type", "member", "t", "day", "stamp", *(_column(n) for n in names)]
    rows = order.join(events.select(columns), on="seq", how="left").iter_rows(named=True)
    made: dict[tuple[str, str, str, str, str], int] = {}  # (kind, rule, code, fields, perk)
    out: dict[str, list[Any]] = {c: [] for c in ("seq", "k_rule", "k_sub", "form")}
    out.update(points=[], paid=[], streak=[], reason=[])
    states = chunk.carry.stepped
    for row in rows:
        award = awards[row["rule"]]
        rule = award.rule
        event, attrs = _row_event(row, names, kinds)
        member = states.get(event.member)
        if member is None:
            member = states[event.member] = MemberState()
        day, stamp = date.fromordinal(row["day"]), row["stamp"]
        if rule.milestone is not None:
            claims = chunk.carry.shared.invites  # `milestone distinct`: across members
            outcomes = milestone_step(
                program, member, event, attrs, day, rule, rule.milestone, stamp, claims
            )
        elif rule.streak is not None:
            outcomes = streak_step(program, member, event, attrs, day, rule, rule.streak, stamp)
        else:
            outcomes = award_step(program, member, event.member, event, attrs, day, rule, stamp)
        for sub, outcome in enumerate(outcomes):
            code: str | None
            paid: int | None
            points: int | None
            length: int | None
            perk: str | None
            if isinstance(outcome, Proposal):
                if outcome.points <= 0:
                    raise _NotPlain  # a penalty: the ledger floors it, in time order
                kind, code, paid, perk = "award", outcome.code, outcome.points, None
                fields = "points currency balance"
                points, length = outcome.points, None
            else:
                kind, code, paid, perk = outcome.kind, outcome.code, None, outcome.perk
                points, length = outcome.points, outcome.streak
                fields = " ".join(
                    name
                    for name, value in (("points", points), ("currency", outcome.currency))
                    if value is not None
                ) + (" streak" if length is not None else "")
                if not _plain_step_record(outcome, event):
                    raise _NotPlain  # nothing else comes of these steps; the loop would say
            key = (kind, rule.name, code or "", fields, perk or "")
            form = made.get(key)
            if form is None:
                form = made[key] = forms.add(kind, rule, fields, code or "", perk=perk)
            out["seq"].append(row["seq"])
            out["k_rule"].append(award.index)
            out["k_sub"].append(sub)
            out["form"].append(form)
            out["points"].append(points)
            out["paid"].append(paid)
            out["streak"].append(length)
            out["reason"].append(_json(outcome.reason))
    frame = pl.DataFrame(out, schema=_record_schema(list(out)))
    return frame.with_columns(
        k_event=pl.col("seq"), k_phase=pl.lit(1, pl.Int64), k_end=pl.lit(0, pl.Int64)
    )
