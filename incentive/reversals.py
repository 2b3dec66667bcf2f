"""Reversals: an event (a refund, a cancelled or fake order) takes back what an
earlier event paid, named by its id.

An event id is kept in `state.seen` only while its day is open, so a reversal
needs its own record of what each event paid: `state.paid`, written after each
event of a scheme with `reverse` blocks and kept for the longest `within N days`
window (then forgotten, so memory grows with the window, not with history).
The record holds:

- the points each ledger entry paid, after caps and budgets (`award` and
  `grant` records citing the event, whoever they paid);
- what the event counted: the limit, cap and milestone counters of the member
  who did it, the budgets and granters' allowances (as differences taken
  around the event's rules).

Reversing takes the points back from whatever lots remain (soonest to expire
first, as a penalty does); what was already spent or expired is owed (`debt`:
the balance goes below zero and later awards repay it first) or written off
(a `cut`). Counters of a period that is still current are given back, so the
limit, cap or budget makes room again; a milestone threshold the event reached
can be reached, and paid, again. Ranks already paid, streaks and the rank
tables of open periods are not re-opened; levels earned are not lowered (a
rolling window forgets the points at the next day's close).

The constructs of issue 18 are undone the same way, as far as they are still open:

- a sliding window (`window 3 within 7 days`): an event not used yet leaves the
  window, so it no longer helps reach N; the event that made a window pay points
  (or be refused by its limit) gives its payment back, and the events it used up
  count again (a window's perk is not taken back, so its events stay used); an event
  a later event's payment used up changes nothing (that payment was the later event's);
- a streak of periods reaching a threshold (`reaching 3`, `reaching 100 words`): the
  event's count or amount leaves its period's total while the period has not reached
  it; a period already counted stays counted, as a plain streak's does;
- a streak of points earned (`reaching 100 coins earned`): the points taken back (a
  penalty given back) leave (return to) the total of the period they were earned in,
  while it has not reached the threshold;
- a challenge (`first 3 per week`): a place the event won opens again while its period
  is current; the member, no longer a winner, may win it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from incentive.events import Event
from incentive.intake import coerce
from incentive.ledger import Ledger, held_points, take
from incentive.program import Program, ReversalSpec, RuleSpec
from incentive.records import Record, RecordCode
from incentive.rules import period_index
from incentive.state import EngineState, MemberState, local_time

# The kinds of counter a reversal gives back (streaks count periods, not events).
_COUNTED = ("limit:", "cap:", "milestone:")
# Kept whole before an event, to tell what it did to them: a sliding window's unused
# days, a threshold streak's period total.
_TRACKED = ("window:", "reaching:")

Before = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]


def before(state: EngineState, member: MemberState, redeems: frozenset[str]) -> Before:
    """What the event's member, the budgets and the allowances had counted before it."""
    counters = {
        key: tuple(slot[:3])
        for key, slot in member.counters.items()
        if key.startswith(_COUNTED) and key.split(":", 2)[1] not in redeems
    }
    for key, slot in member.counters.items():
        if key.startswith(_TRACKED):
            counters[key] = tuple(slot)
    budgets = {key: tuple(slot) for key, slot in state.budgets.items()}
    allowances = {key: tuple(slot) for key, slot in state.allowances.items()}
    return counters, budgets, allowances


def _moved(now: Mapping[str, list[Any]], was: Mapping[str, tuple[Any, ...]]) -> list[list[Any]]:
    """[key, period key, how much it moved] for every [period key, count] slot that moved."""
    moved = []
    for key, slot in now.items():
        old = was.get(key)
        delta = slot[1] - (old[1] if old is not None and old[0] == slot[0] else 0)
        if delta:
            moved.append([key, slot[0], delta])
    return moved


def note_paid(
    program: Program,
    state: EngineState,
    event: Event,
    member: MemberState,
    was: Before,
    records: list[Record],
    day: date,
    redeems: frozenset[str],
) -> None:
    """Keep what `event` paid and counted, for as long as it may be reversed."""
    counters, budgets, allowances = was
    points = [
        [r.member, r.currency, r.points, r.rule]
        for r in records
        if r.kind in ("award", "grant", "pending")
        and r.points
        and event.id in r.events
        and r.code != "team_goal"  # the team reached it: a reversal does not undo a goal
    ]
    now = {
        key: slot
        for key, slot in member.counters.items()
        if key.startswith(("limit:", "cap:")) and key.split(":", 2)[1] not in redeems
    }
    milestones = []
    for key, slot in member.counters.items():
        if not key.startswith("milestone:"):
            continue
        old = counters.get(key)
        if old is not None and old[0] == slot[0]:
            step = Decimal(slot[1]) - Decimal(old[1])
            high = Decimal(old[2])
        else:
            step, high = Decimal(slot[1]), Decimal(0)
        reached = _reached(program, key, high, Decimal(slot[2]))
        if step or reached:
            milestones.append([key, slot[0], str(step), reached])
    entry: dict[str, Any] = {
        "member": event.member,
        "day": day.isoformat(),
        "reversed": False,
        "points": points,
        "counters": _moved(now, counters),
        "milestones": milestones,
        "budgets": _moved(state.budgets, budgets),
        "allowances": _moved(state.allowances, allowances),
    }
    wholes = {}
    for name in sorted({spec.whole for spec in program.reversals if spec.whole is not None}):
        try:
            wholes[name] = str(coerce(event.attributes[name], "number"))
        except (KeyError, ValueError):
            continue  # no such total: a partial refund of this event is refused
    if wholes:
        entry["wholes"] = wholes
    undo = _undoable(program, state, event, member, counters, records, day)
    if undo:
        entry["undo"] = undo
    _forget(program, state, day)
    state.paid[event.id] = entry
    state.paid_on.setdefault(entry["day"], []).append(event.id)


def _undoable(
    program: Program,
    state: EngineState,
    event: Event,
    member: MemberState,
    was: Mapping[str, tuple[Any, ...]],
    records: list[Record],
    day: date,
) -> list[list[Any]]:
    """What the event did to sliding windows, threshold streaks' open periods and
    challenge places, for _give_back to undo (see the module's docstring)."""
    undo: list[list[Any]] = []
    paid = {
        r.rule
        for r in records
        if r.kind in ("award", "pending") and r.points and event.id in r.events
    }
    won = paid | {
        r.rule for r in records if r.kind in ("perk", "badge", "flag") and event.id in r.events
    }
    answered = {r.rule for r in records if event.id in r.events}  # a rule said something
    today = day.toordinal()
    windows = {k for k in (*member.counters, *was) if k.startswith("window:")}
    for key in sorted(windows):  # a window that paid dropped its counter: look at both
        days = list(member.counters.get(key, ()))
        unused = list(was.get(key, ()))
        if days.count(today) > unused.count(today):
            undo.append(["window", key, today])  # counted, not used yet
            continue
        rule = _rule(program, key)
        fired = rule.name in answered and today not in days
        if fired and rule.perk is None and rule.window is not None:
            # the window fired on this event: its payment (or refusal) is undone with it,
            # so the events it used up count again; a perk stays given, and they stay used
            first = today - rule.window[1] + 1
            used = [d for d in unused if d >= first]
            undo.append(["window_paid", key, used])
    for key, slot in member.counters.items():
        if key.startswith("reaching:"):
            old = was.get(key)
            same = old is not None and old[0] == slot[0]
            step = Decimal(slot[1]) - (Decimal(old[1]) if same and old is not None else 0)
            if step and not slot[2]:
                undo.append(["reaching", key, slot[0], str(step)])
    for rule in program.rules:
        if rule.first is None or rule.name not in won:
            continue
        for period_key, winners in state.invites.get(rule.name, {}).items():
            if event.member in winners:
                undo.append(["place", rule.name, period_key])
    return undo


def _rule(program: Program, key: str) -> RuleSpec:
    name = key.split(":", 1)[1]
    return next(r for r in program.rules if r.name == name)


def _undo(state: EngineState, member: MemberState, entry: dict[str, Any]) -> None:
    """Undo what _undoable noted, where it is still open."""
    for item in entry.get("undo", ()):
        what = item[0]
        if what == "window":
            slot = member.counters.get(item[1])
            if slot is not None and item[2] in slot:
                slot.remove(item[2])
        elif what == "window_paid":
            slot = member.counters.setdefault(item[1], [])
            slot.extend(item[2])
            slot.sort()
        elif what == "reaching":
            slot = member.counters.get(item[1])
            if slot is not None and slot[0] == item[2] and not slot[2]:
                slot[1] = str(Decimal(slot[1]) - Decimal(item[3]))
        elif what == "place":
            winners = state.invites.get(item[1], {}).get(item[2])
            if winners is not None and entry["member"] in winners:
                winners.remove(entry["member"])


def _unearn(
    program: Program, member: MemberState, currency: str, source: str, points: int, day: str
) -> None:
    """Points taken back (a penalty given back, negative) leave the period total of the
    streaks of points earned in that currency, while it has not reached the threshold."""
    for rule in program.earning.get(currency, ()):
        if rule.name == source:
            continue  # its own tiers never counted toward it
        assert rule.streak is not None
        slot = member.counters.get(f"earned:{rule.name}")
        index = period_index(rule.streak.period, date.fromisoformat(day), program.calendar)
        if slot is not None and slot[0] == index and not slot[2]:
            slot[1] -= points


def _reached(program: Program, key: str, low: Decimal, high: Decimal) -> list[str]:
    """The thresholds of a milestone rule crossed going from `low` to `high`."""
    name = key.split(":", 1)[1]
    rule = next(r for r in program.rules if r.name == name)
    assert rule.milestone is not None
    return [str(t) for t, _ in rule.milestone.tiers if low < t <= high]


def _forget(program: Program, state: EngineState, day: date) -> None:
    """Drop what events paid on days no reversal can reach any more."""
    window = max(spec.days for spec in program.reversals)
    first = (day - timedelta(days=window)).isoformat()
    for old in [d for d in state.paid_on if d < first]:
        for event_id in state.paid_on.pop(old):
            state.paid.pop(event_id, None)


def reverse(
    program: Program,
    ledger: Ledger,
    state: EngineState,
    spec: ReversalSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
) -> Iterator[Record]:
    """Take back what the named events paid and give back what they counted, or say
    why not. The `by` attribute holds one id or a list of ids (`["o17", "o18"]`), each
    reversed in turn, each refused on its own."""
    stamp = local_time(program.calendar, event.at)

    def refuse(reason: str, code: RecordCode) -> Record:
        return Record(
            kind="refused",
            at=stamp,
            member=event.member,
            rule=spec.name,
            events=(event.id,),
            code=code,
            reason=reason,
        )

    raw = attrs.get(spec.attribute, event.attributes.get(spec.attribute))
    targets = [raw] if isinstance(raw, str) else raw
    if not isinstance(targets, list) or not targets or not all(targets):
        yield refuse(
            f"the event has no `{spec.attribute}`: the id of the event to reverse",
            "missing_attribute",
        )
        return
    if not all(isinstance(t, str) for t in targets):
        yield refuse(
            f"`{spec.attribute}` should hold event ids (text), got {str(raw)[:80]}",
            "bad_attribute",
        )
        return
    if spec.part is not None and len(targets) > 1:
        yield refuse(
            f"a partial refund names one event, not {len(targets)}: "
            f"`{spec.part}` is a part of one event's `{spec.whole}`",
            "not_allowed",
        )
        return
    for target in targets:
        yield from _reverse_one(program, ledger, state, spec, event, attrs, day, target, refuse)


def _reverse_one(
    program: Program,
    ledger: Ledger,
    state: EngineState,
    spec: ReversalSpec,
    event: Event,
    attrs: Mapping[str, Any],
    day: date,
    target: str,
    refuse: Callable[[str, RecordCode], Record],
) -> Iterator[Record]:
    stamp = local_time(program.calendar, event.at)
    entry = state.paid.get(target)
    if entry is not None and entry["day"] < (day - timedelta(days=spec.days)).isoformat():
        entry = None  # kept for a longer window of another block, not this one's
    if entry is None:
        yield refuse(
            f"event `{target}` was not paid in the last {spec.days} days: nothing to reverse",
            "nothing_to_reverse",
        )
        return
    if entry["reversed"]:
        yield refuse(f"event `{target}` was already reversed", "nothing_to_reverse")
        return
    if entry["member"] != event.member:
        yield refuse(
            f"event `{target}` was `{entry['member']}`'s, not `{event.member}`'s", "not_allowed"
        )
        return
    share: tuple[Decimal, Decimal, Decimal] | None = None  # (refunded before, now, whole)
    if spec.part is not None:
        assert spec.whole is not None
        part = attrs.get(spec.part)
        if not isinstance(part, Decimal) or part <= 0:
            yield refuse(
                f"the event has no `{spec.part}` above zero: the part of `{target}` refunded",
                "missing_attribute",
            )
            return
        whole = entry.get("wholes", {}).get(spec.whole)
        if whole is None or Decimal(whole) <= 0:
            yield refuse(
                f"event `{target}` has no `{spec.whole}` above zero: "
                "the part refunded cannot be told",
                "nothing_to_reverse",
            )
            return
        was = Decimal(entry.get("refunded", "0"))
        now = min(Decimal(whole), was + part)
        share = (was, now, Decimal(whole))
        entry["refunded"] = str(now)
        if now == Decimal(whole):
            entry["reversed"] = True
    else:
        entry["reversed"] = True
    if entry["reversed"]:
        _give_back(program, state, entry, target)
    events = (event.id, target)
    if not entry["points"]:
        yield Record(
            kind="reversal",
            at=stamp,
            member=event.member,
            rule=spec.name,
            points=0,
            currency=program.default_currency,
            balance=state.members[event.member].balances.get(program.default_currency, 0),
            events=events,
            code="taken_back",
            reason=f"reverse `{spec.name}`: event `{target}` paid nothing; "
            + (
                "what it counted is given back"
                if entry["reversed"]
                else "what it counted is given back when the whole is refunded"
            ),
        )
        return
    taken_so_far = entry.setdefault("taken", [0] * len(entry["points"]))
    for index, (who, currency, points, source) in enumerate(entry["points"]):
        if share is None:  # the whole event, less what partial refunds took back
            now_points, note = points - taken_so_far[index], ""
            if taken_so_far[index]:
                note = f"after parts refunded: the {now_points} of {points} {currency} left"
            taken_so_far[index] = points
        else:
            was, now, whole = share
            # the share of what it paid, rounded toward zero on the running total: parts
            # never take back more than was paid, and the last part takes the rest
            total = int(abs(points) * now / whole) * (1 if points > 0 else -1)
            now_points = total - taken_so_far[index]
            taken_so_far[index] = total
            note = f"{_plain(now - was)} of its {_plain(whole)} `{spec.whole}` refunded, "
            if now - was < attrs[spec.part]:  # type: ignore[index]
                note += "all that was left"
            else:
                note += f"{_plain(now)} in all"
            note += f": {now_points} of {points} {currency}"
        yield from _take_back(
            program,
            ledger,
            state,
            spec,
            who,
            currency,
            points,
            source,
            target,
            event,
            day,
            now_points,
            note,
        )


def _plain(number: Decimal) -> str:
    """A decimal as written: 250, 12.5 (no exponent, no trailing zeros)."""
    text = format(number.normalize(), "f")
    return text


def _give_back(program: Program, state: EngineState, entry: dict[str, Any], event_id: str) -> None:
    """Counters still in the period they counted in move back; older ones are history.
    A value a `milestone distinct` counted for the event is free again with its count."""
    member = state.members.get(entry["member"])
    if member is not None:
        _undo(state, member, entry)
        for key, period_key, delta in entry["counters"]:
            slot = member.counters.get(key)
            if slot is not None and slot[0] == period_key:
                slot[1] -= delta
        for key, period_key, step, reached in entry["milestones"]:
            slot = member.counters.get(key)
            if slot is None or slot[0] != period_key:
                continue
            slot[1] = str(Decimal(slot[1]) - Decimal(step))
            claims = state.invites.get(key.split(":", 1)[1], {})
            for value in [v for v, claim in claims.items() if claim[2] == event_id]:
                del claims[value]
            if reached:  # reached again later, these thresholds pay again
                if len(slot) < 4:
                    slot.append([])
                slot[3].extend(t for t in reached if t not in slot[3])
    for table, moved in (
        (state.budgets, entry["budgets"]),
        (state.allowances, entry["allowances"]),
    ):
        for key, period_key, delta in moved:
            slot = table.get(key)
            if slot is not None and slot[0] == period_key:
                slot[1] -= delta


def _take_back(
    program: Program,
    ledger: Ledger,
    state: EngineState,
    spec: ReversalSpec,
    who: str,
    currency: str,
    points: int,
    source: str,
    target: str,
    event: Event,
    day: date,
    now_points: int,
    note: str = "",
) -> Iterator[Record]:
    """Take back `now_points` of the `points` the event paid (all of them, or a partial
    refund's share of them, explained by `note`)."""
    member = state.members.setdefault(who, MemberState())
    stamp = local_time(program.calendar, event.at)
    events = (event.id, target)
    what = f"reverse `{spec.name}`: event `{target}`"
    if note:
        what = f"{what} ({note})"
    paid, points = points, now_points
    if program.earning and points:
        earned_on = state.paid.get(target, {}).get("day", day.isoformat())
        _unearn(program, member, currency, source, points, earned_on)
    if points < 0:  # a penalty reversed: what it took is given back as a new lot
        balance = ledger.credit(who, currency, -points, event.at, day)
        yield Record(
            kind="reversal",
            at=stamp,
            member=who,
            rule=spec.name,
            points=-points,
            currency=currency,
            balance=balance,
            events=events,
            code="given_back",
            reason=f"{what}: the {-points} {currency} `{source}` took are given back",
        )
        return
    member.earned[currency] = member.earned.get(currency, 0) - points
    if program.levels is not None and program.levels.days is not None:
        earned_on = state.paid.get(target, {}).get("day")
        if earned_on in member.window:
            member.window[earned_on] -= points
    if points == 0:  # a part too small to take back a whole point yet
        yield Record(
            kind="reversal",
            at=stamp,
            member=who,
            rule=spec.name,
            points=0,
            currency=currency,
            balance=member.balances.get(currency, 0),
            events=events,
            code="taken_back",
            reason=f"{what}: nothing to take back yet",
        )
        return
    held = ledger.cancel(who, currency, source, target, points)
    if held is not None:  # still pending: cancelled, it never reaches the balance
        yield Record(
            kind="cancelled",
            at=stamp,
            member=who,
            rule=spec.name,
            points=held,
            currency=currency,
            balance=member.balances.get(currency, 0),
            pending=held_points(member, currency),
            events=events,
            code="cancelled",
            reason=f"{what} held {held} {currency} from `{source}`: cancelled before release",
        )
        return
    taken = take(member, currency, points)
    short = points - taken
    what = f"{what} paid {paid} {currency} from `{source}`"

    def taken_back(moved: int, reason: str) -> Record:
        return Record(
            kind="reversal",
            at=stamp,
            member=who,
            rule=spec.name,
            points=moved,
            currency=currency,
            balance=member.balances[currency],
            events=events,
            code="taken_back",
            reason=reason,
        )

    if short and spec.debt:
        member.debts[currency] = member.debts.get(currency, 0) + short
        member.balances[currency] -= short
        yield taken_back(-points, f"{what}: taken back; {short} already spent or expired, now owed")
        return
    if taken or not short:
        reason = f"{what}: taken back" if not short else f"{what}: {taken} left, taken back"
        yield taken_back(-taken, reason)
    if short:
        yield Record(
            kind="cut",
            at=stamp,
            member=who,
            rule=spec.name,
            points=short,
            currency=currency,
            balance=member.balances[currency],
            events=events,
            code="written_off",
            reason=f"{what}: {short} already spent or expired, written off",
        )
