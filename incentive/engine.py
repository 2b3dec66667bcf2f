"""The reference interpreter: events in time order -> records.

Evaluation is staged so that it can be partitioned (semantics.md, Budgets):

1. intake (`intake.py`)  — duplicates, id conflicts, attribute types, late and
   out-of-season events
2. member (`rules.py`)   — per-member rules: conditions, limits, amounts, boosts,
   caps, streaks, milestones
3. periods (`ranks.py`)  — rank tables per period, paid at the period's close
   (budgets will sit between 3 and 4: they see only what stages 2-3 propose)
4. ledger (`ledger.py`)  — balances; a balance never goes below zero

This module holds the Session that runs the stages in order. All engine state
is plain data keyed by member and period (`state.py`), so it can be saved,
restored, or split by member.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Mapping
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from incentive.budgets import apply_budgets
from incentive.calendar import FIRST_YEAR, LAST_YEAR, in_range
from incentive.catalogues import shop, unmatched
from incentive.codec import decode_state, encode_state
from incentive.diagnostics import did_you_mean
from incentive.events import BadLine, Event, events_from_dicts
from incentive.expressions import truth
from incentive.goals import track_goal
from incentive.intake import (
    bad_event,
    bad_line_record,
    failed_event,
    member_clock,
    read_attributes,
)
from incentive.leagues import close_league, tier_of
from incentive.ledger import Ledger, held_points
from incentive.program import Program, RuleSpec
from incentive.ranks import (
    close_pay,
    close_rank,
    missing_list,
    track_pay,
    track_points,
    track_rank,
    track_reached,
)
from incentive.records import Record, outcome_kind
from incentive.reversals import before, note_paid, reverse
from incentive.roster import Roster
from incentive.rules import Proposal, earned_streak, evaluate_rules, referral, unread
from incentive.spending import grant, redeem
from incentive.start_windows import note_starts
from incentive.state import (
    EngineState,
    MemberState,
    forget,
    local_time,
    open_day,
    remember,
    seen_as,
    seen_where,
)
from incentive.transfers import transfer

__all__ = ["EngineState", "MemberState", "Session", "SessionInUse"]


class SessionInUse(RuntimeError):
    """A Session was used by two threads at once: it refuses rather than corrupt its state."""

    def __init__(self) -> None:
        super().__init__(
            "this session is in use by another thread: a Session is for one thread at a "
            "time (share a live session from incentive.open(), which serialises its "
            "callers, or give each thread its own)"
        )


# A plain session's checkpoint for undoing a failed event is renewed at least this
# many items apart (more when the state has more members): see Session._checkpoint.
CHECKPOINT_EVERY = 2000
CHECKPOINT_PER_MEMBER = 10  # items per member of the state between two checkpoints

# The fifth element of a due entry for a `by missing` board's close (see _all_due).
_MISSING = "\x00missing"


class Session:
    """Feed events one at a time and read the records each produces: the reference
    interpreter's session (`incentive.Session`). `program.session()` is the way to
    make one; it gives the compiled evaluator's (`compiler.CompiledSession`, the same
    records and state) unless told `engine="interpreter"`.

    Batch evaluation is this same session fed with the events sorted by time,
    so streaming in time order and batch give identical records.
    """

    def __init__(
        self, program: Program, state: EngineState | None = None, roster: Roster | None = None
    ) -> None:
        self.program = program
        self.state = state or EngineState()
        self.fed = 0  # items fed so far: a bad one is reported by its position
        if roster is not None:
            for kind in program.teams:
                placed = roster.teams(kind)
                self.state.teams.setdefault(kind, {}).update(placed)
                self.state.rostered[kind] = sorted(placed)
        if roster is not None:
            for column in program.date_columns:  # a window's start: `within 3 days of joined`
                dated = {m: row[column] for m, row in roster.members.items() if row.get(column)}
                self.state.dates.setdefault(column, {}).update(dated)
        self._rostered = {kind: set(members) for kind, members in self.state.rostered.items()}
        # `timezone from tz`: each rostered member's own zone (the event's attribute wins)
        self._zones: dict[str, str] = (
            roster.teams(program.member_zone)
            if roster is not None and program.member_zone is not None
            else {}
        )
        self.ledger = Ledger(program, self.state)
        self._rolling_levels = program.levels is not None and program.levels.days is not None
        self._rule_index = {rule.name: index for index, rule in enumerate(program.rules)}
        # `by missing` boards close every period, whether anyone acted in it or not
        # and a `so far` payment pays at every period's close from the first on
        self._missing = [
            r
            for r in program.rules
            if r.rank
            and (r.rank.measure == "missing" or (r.rank.pay is not None and r.rank.pay.so_far))
        ]
        # invite event type -> the referral rules it feeds
        self._inviting: dict[str, list[RuleSpec]] = {}
        for rule in program.rules:
            if rule.inviter is not None:
                self._inviting.setdefault(rule.inviter[0], []).append(rule)
        # (due UTC ISO, rule index, member): inactivity flags to raise; rebuilt from state
        self._flags: list[tuple[str, int, str]] = self._due_flags()
        self._redeems = {e: [r for r in program.redeems if e in r.events] for e in _types(program)}
        self._grants = {e: [g for g in program.grants if e in g.events] for e in _types(program)}
        self._reversing = {
            e: [r for r in program.reversals if e in r.events] for e in _types(program)
        }
        self._transfers = {
            e: [t for t in program.transfers if e in t.events] for e in _types(program)
        }
        # blocks whose counters a reversal leaves alone: spending and transfers are not undone
        self._catalogues = {
            e: [c for c in program.catalogues if e in c.events] for e in _types(program)
        }
        names = [spec.name for spec in program.redeems] + [t.name for t in program.transfers]
        names += [c.name for c in program.catalogues]
        self._redeem_names = frozenset(names)
        # Held while an event is evaluated or time advanced: a second thread is refused
        # (SessionInUse) instead of interleaving with the first (8 threads on one session
        # used to pay 4 awards under `cap 3`).
        self.busy = threading.Lock()
        # A store's session undoes a failed event itself (the whole transaction, so it
        # leaves no trace) and wants the failure, not a record of it.
        self.raise_failures = False
        # Any other session undoes it here: a checkpoint of the state (the codec's bytes)
        # and what was evaluated since, evaluated again on the checkpoint when an event
        # fails (`_undo`), so that a failed event leaves nothing in the state.
        self._saved: bytes | None = None
        self._journal: list[Event | tuple[str, Any]] = []  # events fed, (kind, value) else

    def _due_flags(self) -> list[tuple[str, int, str]]:
        program, flags = self.program, []
        for name, members in self.state.activity.items():
            if name not in self._rule_index:
                continue  # a state carried over from a scheme that had this rule
            rule = program.rules[self._rule_index[name]]
            for member, (last, flagged) in members.items():
                if not flagged and rule.inactive is not None:
                    day = date.fromisoformat(last) + timedelta(days=rule.inactive)
                    due = program.calendar.day_end(day).isoformat()
                    flags.append((due, self._rule_index[name], member))
        heapq.heapify(flags)
        return flags

    # ---- undoing a failed event ----------------------------------------------------------

    def _checkpoint(self) -> None:
        """Before an item: a new checkpoint once the journal is as long as the state is
        large (at least CHECKPOINT_EVERY items), so that keeping it costs each event a
        bounded share of one encoding of the state."""
        if self.raise_failures:
            return
        if self._saved is None or len(self._journal) >= max(
            CHECKPOINT_EVERY, CHECKPOINT_PER_MEMBER * len(self.state.members)
        ):
            self._saved = encode_state(self.state)
            self._journal = []

    def _journal_add(self, kind: str, value: Any) -> None:
        if self._saved is not None and not self.raise_failures:
            # an event fed is kept as itself: an Event is not tracked by the garbage
            # collector, a tuple would be (one more object per event for it to scan)
            self._journal.append(value if kind == "feed" else (kind, value))

    def _undo(self) -> None:
        """The state as it was before the item that failed: the checkpoint, then every
        item evaluated since, evaluated again (their records were given already)."""
        if self._saved is None:
            return
        saved = decode_state(self._saved)
        for item in fields(EngineState):  # in place: the ledger and callers hold it
            setattr(self.state, item.name, getattr(saved, item.name))
        self.ledger.__init__(self.program, self.state)  # type: ignore[misc]
        self._flags = self._due_flags()
        journal, self._journal = self._journal, []
        try:
            for entry in journal:
                if isinstance(entry, Event):  # an event fed
                    for _ in self._evaluate(entry):
                        pass
                elif entry[0] == "advance":
                    self._advance_to(entry[1])
                else:
                    for _ in self._advance(None):
                        pass
                self._journal.append(entry)
        except Exception:
            self._saved = None  # (if not, the state is as far as it could be replayed)

    def feed(self, item: Event | BadLine | Mapping[str, Any]) -> list[Record]:
        """Evaluate one event (an Event or a dict as in a JSON line); never raises (but
        SessionInUse when another thread is using the session)."""
        if not self.busy.acquire(blocking=False):
            raise SessionInUse
        try:
            self.fed += 1
            if not isinstance(item, Event | BadLine):
                item = next(events_from_dicts([item], self.program.calendar, self.fed))
            if isinstance(item, BadLine):
                return [bad_line_record(item)]
            known = item.id in self.state.seen
            self._checkpoint()
            try:
                records = list(self._evaluate(item))
            except Exception as err:  # a bug costs this one event, never the run
                if self.raise_failures:
                    raise
                if self._saved is not None:
                    self._undo()  # the event leaves nothing: not even its id in `seen`
                elif not known:
                    forget(self.state, item.id)
                return [failed_event(item, err, self.program.calendar)]
            self._journal_add("feed", item)
            return records
        finally:
            self.busy.release()

    def _evaluate(self, event: Event) -> Iterator[Record]:
        program, state = self.program, self.state
        calendar = program.calendar
        stamp = local_time(calendar, event.at)
        known = state.seen.get(event.id)
        if known is not None:
            fingerprint, where = seen_where(known)
            if fingerprint == event.fingerprint:
                yield Record(
                    kind="duplicate",
                    at=stamp,
                    member=event.member,
                    events=(event.id,),
                    code="duplicate",
                    reason="this event id was already processed: skipped",
                )
            else:
                yield Record(
                    kind="conflict",
                    at=stamp,
                    member=event.member,
                    events=(event.id,),
                    code="conflict",
                    reason="this event id was already used for a different event"
                    + (f" ({where})" if where else "")
                    + ": refused",
                    source=event.source,  # which line to look at in the export
                    line=event.line,
                )
            return
        if program.known_events is not None and event.type not in program.known_events:
            near = did_you_mean(event.type, program.known_events)
            yield bad_event(
                event,
                f"unknown event type `{event.type}`"
                + (f" (did you mean `{near}`?)" if near else ""),
                calendar,
                "unknown_event",
            )
            return
        attrs = read_attributes(program, event)
        if isinstance(attrs, str):
            yield bad_event(event, attrs, calendar)
            return
        if program.member_zone is not None:
            clock = member_clock(program, event, self._zones)
            if isinstance(clock, str):
                yield bad_event(event, clock, calendar)
                return
            attrs.update(clock)
        day = calendar.day_of(event.at)
        remember(state, event.id, seen_as(event.fingerprint, event.source, event.line), day)
        yield from self._advance(event.at)
        if state.open_day is not None and day < state.open_day:
            yield Record(
                kind="late",
                at=stamp,
                member=event.member,
                events=(event.id,),
                code="late",
                reason=f"day {day} had closed when this event arrived",
            )
            return
        if not calendar.in_season(day):
            assert calendar.season is not None
            first, last = calendar.season
            yield Record(
                kind="outside_season",
                at=stamp,
                member=event.member,
                events=(event.id,),
                code="outside_season",
                reason=f"the season runs from {first} to {last}",
            )
            return
        open_day(state, day)
        if state.levels_closed is None and self._rolling_levels:
            state.levels_closed = (day - timedelta(days=1)).isoformat()
        if state.clock is None or event.at > state.clock:
            state.clock = event.at
        attrs = self._place_in_teams(event, attrs)
        member = state.members.setdefault(event.member, MemberState())
        if program.started_by or program.date_columns:
            note_starts(program, state, member, event, day)
        if program.levels is not None:
            level = member.level or program.levels.level_for(0)
            if level is not None:
                attrs["level"] = level  # the member's level, readable by conditions
        for league in program.leagues:  # the member's tier, readable by conditions
            attrs[league.name] = tier_of(state, league.name, event.member, league.tiers[0])
        self._note_invites(event, attrs, day)
        if program.reversals:
            yield from self._reversible(event, attrs, day, member)
        else:
            yield from self._stages(event, attrs, day, member)

    def _reversible(
        self, event: Event, attrs: dict[str, Any], day: date, member: MemberState
    ) -> Iterator[Record]:
        """A scheme with reversals: a reversing event reverses; any other keeps what it
        paid and counted (reversals.py)."""
        reversing = self._reversing.get(event.type)
        if reversing:
            for spec in reversing:
                yield from reverse(self.program, self.ledger, self.state, spec, event, attrs, day)
            yield from self._stages(event, attrs, day, member)
            return
        was = before(self.state, member, self._redeem_names)
        records = list(self._stages(event, attrs, day, member))
        note_paid(self.program, self.state, event, member, was, records, day, self._redeem_names)
        yield from records

    def _stages(
        self, event: Event, attrs: dict[str, Any], day: date, member: MemberState
    ) -> Iterator[Record]:
        """Stages 2-4 for one event: rules, ranks, flags, referrals, spending, grants."""
        program, state = self.program, self.state
        stamp = local_time(program.calendar, event.at)
        outcomes = evaluate_rules(
            program, member, event, attrs, day, state.members, state.invites, state.dates
        )
        for outcome in outcomes:
            if program.reaching:
                track_reached(state, program, outcome)
            if isinstance(outcome, Proposal):
                yield from self._pay(outcome)
            else:
                yield outcome
        for rule in program.rules_by_event.get(event.type, ()):
            if (
                rule.rank is None
                and rule.inactive is None
                and rule.inviter is None
                and rule.goal is None
            ):
                continue  # evaluate_rules' (above)
            if rule.condition is not None:
                holds = truth(rule.condition, attrs)
                if holds is not True:
                    if holds is None:
                        yield from unread(program, rule, event, attrs, stamp)
                    continue
            if rule.goal is not None:
                for reached in track_goal(state, program, rule, event, attrs, day):
                    if isinstance(reached, Proposal):
                        yield from self._pay(reached)
                    else:
                        yield reached
            elif rule.rank is not None and rule.rank.pay is not None:
                yield from track_pay(state, program, rule, event, attrs, day, stamp)
            elif rule.rank is not None:
                track_rank(state, program, rule, event, attrs, day)
            elif rule.inactive is not None:
                self._note_activity(rule, event.member, day)
            elif rule.inviter is not None:
                yield from self._refer(rule, event, attrs, day)
        spends = self._redeems.get(event.type, [])
        for spend in spends:
            yield from redeem(program, self.ledger, member, spend, event, attrs, day)
        refused = unmatched(program, spends, event, attrs)
        if refused is not None:
            yield refused
        for catalogue in self._catalogues.get(event.type, ()):
            yield from shop(program, self.ledger, member, catalogue, event, attrs, day)
        for grants in self._grants.get(event.type, ()):
            given = grant(program, state, grants, event, attrs, day)
            if isinstance(given, Proposal):
                yield from self._pay(given)
            else:
                yield given
        for spec in self._transfers.get(event.type, ()):
            yield from transfer(program, self.ledger, spec, event, attrs, day)

    # ---- flags and referrals: rules that span time or members ----------------------------

    def _note_activity(self, rule: RuleSpec, member: str, day: date) -> None:
        """A matching event starts a new spell: flag again after N quiet days."""
        assert rule.inactive is not None
        state = self.state.activity.setdefault(rule.name, {})
        state[member] = [day.isoformat(), False]
        due = self.program.calendar.day_end(day + timedelta(days=rule.inactive))
        heapq.heappush(self._flags, (due.isoformat(), self._rule_index[rule.name], member))

    def _next_flag(self, instant: datetime | None) -> datetime | None:
        while self._flags:
            due, index, member = self._flags[0]
            rule = self.program.rules[index]
            assert rule.inactive is not None
            slot = self.state.activity.get(rule.name, {}).get(member)
            if slot and not slot[1]:
                last = date.fromisoformat(slot[0])
                current = self.program.calendar.day_end(last + timedelta(days=rule.inactive))
                if current.isoformat() == due:
                    moment = datetime.fromisoformat(due)
                    return moment if instant is None or moment <= instant else None
            heapq.heappop(self._flags)  # stale: the member was active again since
        return None

    def _flag(self, moment: datetime) -> Iterator[Record]:
        while self._flags and self._flags[0][0] == moment.isoformat():
            if self._next_flag(moment) != moment:
                continue  # _next_flag dropped a stale entry: look at the next one
            _, index, member = heapq.heappop(self._flags)
            rule = self.program.rules[index]
            slot = self.state.activity[rule.name][member]
            slot[1] = True
            kind, name = rule.perk or ("flag", rule.name)
            yield Record(
                kind=outcome_kind(kind),
                at=local_time(self.program.calendar, moment),
                member=member,
                rule=rule.name,
                perk=name,
                code="inactive",
                reason=f'rule `{rule.name}`: {kind} "{name}": no matching event for '
                f"{rule.inactive} days after {slot[0]}",
            )

    def _note_invites(self, event: Event, attrs: Mapping[str, Any], day: date) -> None:
        """An invite names its invitee: the first invite of a member is the one that pays."""
        for rule in self._inviting.get(event.type, ()):
            assert rule.inviter is not None
            invitee = attrs.get(rule.inviter[1])
            if isinstance(invitee, str) and invitee and invitee != event.member:
                invites = self.state.invites.setdefault(rule.name, {})
                invites.setdefault(invitee, [event.member, day.isoformat(), False])

    def _refer(
        self, rule: RuleSpec, event: Event, attrs: Mapping[str, Any], day: date
    ) -> Iterator[Record]:
        """The invitee did what the rule asks: pay the inviter, once, within the window."""
        assert rule.inviter is not None
        invite = self.state.invites.get(rule.name, {}).get(event.member)
        if invite is None or invite[2]:
            return
        if day > date.fromisoformat(invite[1]) + timedelta(days=rule.inviter[2]):
            return  # the window has lapsed: the invite no longer pays
        inviter = self.state.members.setdefault(invite[0], MemberState())
        if self.program.levels is not None:  # conditions and boosts see the inviter's level
            level = inviter.level or self.program.levels.level_for(0)
            attrs = {**attrs, "level": level} if level is not None else attrs
        for outcome in referral(self.program, inviter, invite[0], event, attrs, day, rule):
            if isinstance(outcome, Proposal):
                invite[2] = True  # settled: a refused referral may still pay later in the window
                yield from self._pay(outcome)
            else:
                yield outcome

    def _pay(self, proposal: Proposal) -> Iterator[Record]:
        """Stages 3 and 4 for one proposal: point ranks see it, budgets trim it, the
        ledger pays it."""
        seen = proposal
        if proposal.points < 0:
            # A penalty counts for what the ledger can take (a balance stops at zero).
            member = self.state.members.get(proposal.member)
            balance = member.balances.get(proposal.currency, 0) if member else 0
            seen = replace(proposal, points=-min(-proposal.points, max(0, balance)))
        track_points(self.state, self.program, seen, proposal.day)
        levels = self.ledger.count_earned(proposal)  # levels see points before budgets
        granted, notes = apply_budgets(self.state, self.program, proposal)
        if granted is not None:
            yield from self.ledger.post(granted)
        yield from notes
        yield from levels
        if proposal.currency in self.program.earning and seen.points:
            yield from self._earned(seen)

    def _earned(self, paid: Proposal) -> Iterator[Record]:
        """Streaks of points earned (`reaching 100 coins earned`) count what was paid, as
        its rule's own ranks by points do: before budgets. A rule's own tiers do not
        count toward it."""
        program, state = self.program, self.state
        for rule in program.earning[paid.currency]:
            if rule is paid.rule:
                continue
            member = state.members.setdefault(paid.member, MemberState())
            for outcome in earned_streak(program, member, rule, paid):
                if program.reaching:
                    track_reached(state, program, outcome)
                if isinstance(outcome, Proposal):
                    yield from self._pay(outcome)
                else:
                    yield outcome

    def _place_in_teams(self, event: Event, attrs: dict[str, Any]) -> dict[str, Any]:
        """Teams come from the roster, else from the event's attribute of that name;
        either way the member's team is readable by conditions."""
        for kind in self.program.teams:
            placed = self.state.teams.setdefault(kind, {})
            value = event.attributes.get(kind)
            if (
                isinstance(value, str | int)
                and not isinstance(value, bool)
                and str(value)
                and event.member not in self._rostered.get(kind, ())
            ):
                placed[event.member] = str(value)
            if event.member in placed:
                attrs[kind] = placed[event.member]
        return attrs

    def _all_due(self) -> Iterator[tuple[datetime, int, str, RuleSpec, str | None]]:
        """Every open rank period: (its end, the rule's place in the file, key, rule,
        None); and a board's next running post: (its time, ..., the day posted)."""
        program, state = self.program, self.state
        for index, rule in enumerate(program.rules):
            if rule.rank is None:
                continue
            if rule in self._missing:
                missing = self._next_missing(rule)
                if missing is not None:
                    yield missing[0], index, missing[1], rule, _MISSING
                continue
            keys = set(state.ranks.get(rule.name, {})) | set(state.rank_points.get(rule.name, {}))
            for key in keys:
                end = program.calendar.period_end(rule.rank.period, key)
                yield end, index, key, rule, None
                post = self._next_post(rule, key, end)
                if post is not None:
                    yield post[0], index, key, rule, post[1]

    def _note_missing_start(self) -> None:
        """A `by missing` board counts from the first day the session opened."""
        if self.state.open_day is not None:
            for rule in self._missing:
                self.state.posted.setdefault(f"{rule.name}|from", self.state.open_day.isoformat())

    def _next_missing(self, rule: RuleSpec) -> tuple[datetime, str] | None:
        """The close of the next period a `by missing` board lists: the one after the last
        listed, from the first day the session opened; none past the season."""
        assert rule.rank is not None
        calendar, period = self.program.calendar, rule.rank.period
        last = self.state.posted.get(f"{rule.name}|missing")
        if last is None:
            first = self.state.posted.get(f"{rule.name}|from")
            if first is None:
                return None
            day = date.fromisoformat(first)
        else:
            day = calendar.day_of(calendar.period_end(period, last))
        if not calendar.in_season(day):
            return None
        key = calendar.period_key(period, day)
        return calendar.period_end(period, key), key

    def _next_post(self, rule: RuleSpec, key: str, end: datetime) -> tuple[datetime, str] | None:
        """A board posted `each day`: the close of the next day (week, ...) to post, from
        the open day on; None when it is the period's own close (which posts it)."""
        if rule.posts is None:
            return None
        calendar, state = self.program.calendar, self.state
        last = state.posted.get(f"{rule.name}|{key}")
        if last is None:
            first = self._first_entry(rule, key)
            if first is None:
                return None
            day = calendar.day_of(datetime.fromisoformat(first))
        else:  # the day that starts when the last posted one closed
            day = calendar.day_of(calendar.period_end(rule.posts, last))
        post = calendar.period_key(rule.posts, day)
        closes = calendar.period_end(rule.posts, post)
        return (closes, post) if closes < end else None

    def _first_entry(self, rule: RuleSpec, key: str) -> str | None:
        """When a board's running posts start: the earliest time in its tables (each
        entry's, as its measure last moved it), UTC ISO; None when they are empty."""
        entries = [
            *self.state.ranks.get(rule.name, {}).get(key, {}).values(),
            *self.state.rank_points.get(rule.name, {}).get(key, {}).values(),
        ]
        return min((e[1] for e in entries if e[1]), default=None)

    def _next_due(
        self, instant: datetime | None
    ) -> tuple[datetime, int, str, RuleSpec, str | None] | None:
        """The earliest rank period that has ended by `instant` (any, when None)."""
        due = [d for d in self._all_due() if instant is None or d[0] <= instant]
        return min(due, key=lambda d: (d[0], d[1], d[2])) if due else None

    def _advance(self, instant: datetime | None) -> Iterator[Record]:
        """Close every rank period and expire every lot due by `instant` (everything
        open, when None), in time order: expiries before closes at the same instant,
        closes in file order."""
        program, state = self.program, self.state
        self._note_missing_start()
        # One at a time: a rank award counts toward ranks after it in the same period,
        # which may open a period that is due too; and it may make a new lot.
        while True:
            until = instant if instant is not None else self._horizon()
            # (a `by missing` board always has a next period: only those due by `until`)
            due = self._next_due(until) if until is not None else None
            expiry = self.ledger.next_expiry(until)
            flag = self._next_flag(until)
            release = self.ledger.next_release(until)
            if self._rolling_levels and state.levels_closed is not None:
                # A day's close re-checks rolling levels, before anything later.
                closing = date.fromisoformat(state.levels_closed) + timedelta(days=1)
                moment = program.calendar.day_end(closing)
                if (
                    until is not None
                    and moment <= until
                    and all(t is None or moment <= t for t in (expiry, flag, release))
                    and (due is None or moment <= due[0])
                ):
                    state.levels_closed = closing.isoformat()
                    yield from self.ledger.drop_levels(closing)
                    continue
            if release is not None and all(
                t is None or release <= t for t in (expiry, flag, due[0] if due else None)
            ):
                # Held points are released before lots expire at the same instant.
                yield from self.ledger.release(release)
                continue
            # At one instant: expiries, then flags, then rank closes (in file order).
            if (
                expiry is not None
                and (due is None or expiry <= due[0])
                and (flag is None or expiry <= flag)
            ):
                yield from self.ledger.expire(expiry)
                continue
            if flag is not None and (due is None or flag <= due[0]):
                yield from self._flag(flag)
                continue
            if due is None:
                return
            end, _, key, rule, post = due
            if post == _MISSING:
                state.posted[f"{rule.name}|missing"] = key
                assert rule.rank is not None
                if rule.rank.pay is None:
                    yield from missing_list(state, program, rule, key, end)
                    continue
                for outcome in close_pay(state, program, rule, key, end):
                    if isinstance(outcome, Record):
                        yield outcome
                    else:
                        yield from self._pay(outcome)
                continue
            if post is not None:
                state.posted[f"{rule.name}|{key}"] = post
                for outcome in self._close(rule, key, end, post):
                    assert isinstance(outcome, Record)  # a board pays nothing
                    yield outcome
                continue
            state.posted.pop(f"{rule.name}|{key}", None)  # the close is the last post
            if state.closed_ranks.get(f"{rule.name}|{key}"):
                # A period pays once, even if its close is replayed.
                state.ranks.get(rule.name, {}).pop(key, None)
                state.rank_points.get(rule.name, {}).pop(key, None)
                continue
            if rule.league is not None:
                yield from close_league(state, program, rule, key, end)
                continue
            for outcome in self._close(rule, key, end):
                if isinstance(outcome, Record):
                    yield outcome
                else:
                    yield from self._pay(outcome)

    def _close(
        self, rule: RuleSpec, key: str, end: datetime, so_far: str | None = None
    ) -> list[Proposal | Record]:
        """A rank period's close, or a board's running post (`so_far`): `close_rank`."""
        return close_rank(self.state, self.program, rule, key, end, so_far)

    def _horizon(self) -> datetime | None:
        """End of input: the end of the last open period (rank periods, the open day)."""
        ends = [due[0] for due in self._all_due() if due[4] != _MISSING]
        calendar, open_ = self.program.calendar, self.state.open_day
        if open_ is not None:
            ends.append(calendar.day_end(open_))
            for rule in self._missing:  # up to the end of the open period, not beyond
                assert rule.rank is not None
                if calendar.in_season(open_):
                    key = calendar.period_key(rule.rank.period, open_)
                    ends.append(calendar.period_end(rule.rank.period, key))
        return max(ends, default=None)

    def close_all(self) -> list[Record]:
        """End of input: close every open period and pay what it owes."""
        if not self.busy.acquire(blocking=False):
            raise SessionInUse
        try:
            self._checkpoint()
            records = list(self._advance(None))
            self._journal_add("close", None)
            return records
        finally:
            self.busy.release()

    def advance_to(self, instant: datetime) -> list[Record]:
        """Tell the session that time has reached `instant`: days before it close.

        A naive `instant` is read in the scheme's time zone, as event times are.
        """
        if not in_range(instant):
            raise ValueError(
                f"{instant.isoformat()} is outside the years incentive counts in "
                f"({FIRST_YEAR} to {LAST_YEAR})"
            )
        if instant.tzinfo is None:
            instant = self.program.calendar.to_utc(instant)
        if not self.busy.acquire(blocking=False):
            raise SessionInUse
        try:
            self._checkpoint()
            records = self._advance_to(instant)
            self._journal_add("advance", instant)
            return records
        finally:
            self.busy.release()

    def _advance_to(self, instant: datetime) -> list[Record]:
        day = self.program.calendar.day_of(instant)
        self._note_missing_start()  # before the open day moves on
        if self.state.open_day is None or day > self.state.open_day:
            open_day(self.state, day)
        return list(self._advance(instant))

    def balance(self, member: str, currency: str | None = None) -> int:
        state = self.state.members.get(member)
        if state is None:
            return 0
        return state.balances.get(currency or self.program.default_currency, 0)

    def balances(self) -> dict[str, dict[str, int]]:
        """member -> currency -> balance (every currency, 0 included), sorted."""
        currencies = self.program.currencies
        return {
            member: dict(sorted({c: state.balances.get(c, 0) for c in currencies}.items()))
            for member, state in sorted(self.state.members.items())
        }

    def pending(self, member: str, currency: str | None = None) -> int:
        """The points a member has earned but that are held (`pending N days`)."""
        state = self.state.members.get(member)
        return 0 if state is None else held_points(state, currency or self.program.default_currency)

    def balance_records(self) -> list[Record]:
        return [
            Record(
                kind="balance",
                member=member,
                currency=currency,
                points=points,
                balance=points,
                pending=self.pending(member, currency) or None,
            )
            for member, by_currency in self.balances().items()
            for currency, points in by_currency.items()
        ]


def _types(program: Program) -> set[str]:
    """Every event type a redeem or grants block reacts to."""
    redeemed = {e for spec in program.redeems for e in spec.events}
    reversing = {e for spec in program.reversals for e in spec.events}
    reversing |= {e for spec in program.transfers for e in spec.events}
    reversing |= {e for spec in program.catalogues for e in spec.events}
    return redeemed | reversing | {e for spec in program.grants for e in spec.events}
