"""Stage 4, the ledger: balances move, lots expire, points are spent.

Every award is a lot: its points, when they expire (if the scheme says they
do) and when they were earned. A member's balance is the sum of their lots'
remaining points. Spending and penalties take from the lots that expire
soonest first (lots that never expire last; equal expiries, oldest first).
A balance never goes below zero: a penalty larger than the balance is cut at
zero and the cut is recorded.

Ledger records carry signed points (an award +, an expiry or a redemption -),
so a member's ledger records sum to their balance at every point in time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from incentive.program import ExpirySpec, Program
from incentive.records import Record, RecordCode
from incentive.rules import Proposal
from incentive.state import EngineState, MemberState, local_time

NEVER = "9999-12-31T23:59:59+00:00"  # sorts after every real expiry


class Ledger:
    """The ledger over an EngineState; the expiry queue is derived from the lots."""

    def __init__(self, program: Program, state: EngineState) -> None:
        self.program = program
        self.state = state
        # (expires at UTC ISO, member, currency): the next lots to expire. Entries
        # may be stale (their lots spent); they are checked when they come due.
        self.queue: list[tuple[str, str, str]] = []
        self._expiry_ends: dict[tuple[str, date], str] = {}  # (currency, day earned) -> when
        for member, member_state in state.members.items():
            for currency, lots in member_state.lots.items():
                for lot in lots:
                    if lot[1] is not None:
                        self.queue.append((lot[1], member, currency))
        heapq.heapify(self.queue)
        # (released at UTC ISO, member, currency): held points to release, like `queue`
        self.releases: list[tuple[str, str, str]] = [
            (entry[1], who, currency)
            for who, member_state in state.members.items()
            for currency, held in member_state.pending.items()
            for entry in held
        ]
        heapq.heapify(self.releases)

    # ---- awards --------------------------------------------------------------------

    def post(self, proposal: Proposal) -> Iterator[Record]:
        """Pay a proposal: a new lot, or for a penalty, points taken from lots."""
        member = self.state.members.setdefault(proposal.member, MemberState())
        currency = proposal.currency
        balance = member.balances.get(currency, 0)
        points = proposal.points
        stamp = local_time(self.program.calendar, proposal.at)
        cut = 0
        rule = proposal.rule
        if points > 0 and rule is not None and rule.pending is not None:
            yield self._hold(member, proposal, rule.pending)
            return
        if points > 0:
            # The lot belongs to the day the points are for: a rank award paid at
            # its period's close expires with that period's other points.
            self._add_lot(member, proposal.member, currency, points, proposal.at, proposal.day)
        elif points < 0:
            taken = take(member, currency, -points)
            cut, points = -points - taken, -taken
        records = []
        if points != 0 or cut == 0:
            records.append(paid_record(proposal, stamp, points, balance + points))
        yield from records
        if cut:
            yield Record(
                kind="cut",
                at=stamp,
                member=proposal.member,
                rule=proposal.source,
                points=cut,
                currency=currency,
                balance=balance + points,
                events=proposal.events,
                code="below_zero",
                reason=f"a balance cannot go below zero: {-points} of {-proposal.points} taken",
            )

    # ---- pending points ----------------------------------------------------------------

    def _hold(self, member: MemberState, proposal: Proposal, days: int) -> Record:
        """Points held until the end of the day N days after the day they are for."""
        calendar = self.program.calendar
        moment = calendar.day_end(proposal.day + timedelta(days=days))
        release = moment.astimezone(UTC).isoformat()
        held = member.pending.setdefault(proposal.currency, [])
        entry = [
            proposal.points,
            release,
            proposal.at.isoformat(),
            proposal.source,
            list(proposal.events),
        ]
        held.append(entry)
        if len(held) > 1 and held[-2][1] > release:
            held.sort(key=lambda e: e[1])  # rare: a rank award for an earlier day
        heapq.heappush(self.releases, (release, proposal.member, proposal.currency))
        return Record(
            kind="pending",
            at=local_time(calendar, proposal.at),
            member=proposal.member,
            team=proposal.team,
            rule=proposal.source,
            points=proposal.points,
            currency=proposal.currency,
            balance=member.balances.get(proposal.currency, 0),
            pending=held_points(member, proposal.currency),
            rank=proposal.rank,
            value=proposal.value,
            events=proposal.events,
            code="held",
            reason=f"{proposal.reason}: spendable from {local_time(calendar, moment)} "
            f"(pending {days} days)",
        )

    def next_release(self, instant: datetime | None) -> datetime | None:
        """The earliest release of held points at or before `instant` (any, when None)."""
        while self.releases:
            release, who, currency = self.releases[0]
            held = self.state.members[who].pending.get(currency, [])
            if any(entry[1] == release for entry in held):
                moment = datetime.fromisoformat(release)
                return moment if instant is None or moment <= instant else None
            heapq.heappop(self.releases)  # stale: those points were cancelled
        return None

    def release(self, moment: datetime) -> Iterator[Record]:
        """Points held until `moment` become lots, one record per award released."""
        due = moment.astimezone(UTC).isoformat()
        owners: set[tuple[str, str]] = set()
        while self.releases and self.releases[0][0] == due:
            _, who, currency = heapq.heappop(self.releases)
            owners.add((who, currency))
        calendar = self.program.calendar
        day = calendar.day_of(moment)
        for who, currency in sorted(owners):
            member = self.state.members[who]
            held = member.pending.get(currency, [])
            member.pending[currency] = [entry for entry in held if entry[1] != due]
            if not member.pending[currency]:
                del member.pending[currency]
            for points, _, earned, rule, events in (e for e in held if e[1] == due):
                self._add_lot(member, who, currency, points, moment, day)
                yield Record(
                    kind="release",
                    at=local_time(calendar, moment),
                    member=who,
                    rule=rule,
                    points=points,
                    currency=currency,
                    balance=member.balances[currency],
                    pending=held_points(member, currency),
                    events=tuple(events),
                    code="released",
                    reason=f"{points} {currency} held since "
                    f"{local_time(calendar, datetime.fromisoformat(earned))} are spendable",
                )

    def cancel(
        self, who: str, currency: str, rule: str, event_id: str, points: int | None = None
    ) -> int | None:
        """Cancel the points `rule` holds for an event (a reversal; `points` of them for a
        partial refund, else all): how many, or None when they were already released."""
        member = self.state.members.get(who)
        held = member.pending.get(currency, []) if member is not None else []
        for index, entry in enumerate(held):
            if entry[3] == rule and event_id in entry[4]:
                if points is not None and points < entry[0]:
                    entry[0] -= points
                    return points
                del held[index]
                return int(entry[0])
        return None

    def count_earned(self, proposal: Proposal) -> list[Record]:
        """Points earned count toward levels as earned, before budgets (semantics.md:
        a budget cut never changes a level); the level records this causes."""
        if proposal.points <= 0:
            return []
        member = self.state.members.setdefault(proposal.member, MemberState())
        currency = proposal.currency
        member.earned[currency] = member.earned.get(currency, 0) + proposal.points
        levels = self.program.levels
        if levels is None or currency != levels.currency:
            return []
        if levels.days is not None:
            day = proposal.day.isoformat()
            member.window[day] = member.window.get(day, 0) + proposal.points
        return list(self._level(proposal.member, member, proposal.at))

    def _level(self, who: str, member: MemberState, at: datetime) -> Iterator[Record]:
        """A level reached by points earned (spending does not demote; a rolling window
        drops a member only at a day's close, see `drop_levels`)."""
        levels = self.program.levels
        if levels is None:
            return
        before = member.level or levels.level_for(0)
        if levels.days is None:
            earned, within = member.earned.get(levels.currency, 0), "earned"
        else:
            earned, within = sum(member.window.values()), f"earned in {levels.days} days"
        after = levels.level_for(earned)
        if (
            after is None
            or after == before
            or _rank(levels.steps, after) < _rank(levels.steps, before)
        ):
            return
        yield self._move_level(
            who,
            member,
            after,
            at,
            f"level `{after}` reached: {earned} {levels.currency} {within}",
            "level_reached",
        )

    def drop_levels(self, day: date) -> Iterator[Record]:
        """The close of `day`: rolling windows move on, and members may drop a level."""
        levels = self.program.levels
        assert levels is not None and levels.days is not None
        first = (day + timedelta(days=2 - levels.days)).isoformat()  # tomorrow's window
        moment = self.program.calendar.day_end(day)
        for who in sorted(self.state.members):
            member = self.state.members[who]
            if not member.window:
                continue
            member.window = {d: p for d, p in member.window.items() if d >= first}
            earned = sum(member.window.values())
            after = levels.level_for(earned)
            before = member.level or levels.level_for(0)
            if after == before:
                continue
            yield self._move_level(
                who,
                member,
                after,
                moment,
                f"dropped to level `{after}`: {earned} {levels.currency} earned in "
                f"the last {levels.days} days",
                "level_dropped",
            )

    def _move_level(
        self,
        who: str,
        member: MemberState,
        level: str | None,
        at: datetime,
        reason: str,
        code: RecordCode,
    ) -> Record:
        """A member's level changes: the state, and the record that says so."""
        assert self.program.levels is not None
        member.level = level
        return Record(
            kind="level",
            at=local_time(self.program.calendar, at),
            member=who,
            level=level,
            currency=self.program.levels.currency,
            code=code,
            reason=reason,
        )

    def _add_lot(
        self,
        member: MemberState,
        who: str,
        currency: str,
        points: int,
        earned: datetime,
        day: date,
    ) -> None:
        member.balances[currency] = member.balances.get(currency, 0) + points
        owed = member.debts.get(currency, 0)
        if owed:  # a debt left by a reversal is repaid first: only the rest is a lot
            repaid = min(owed, points)
            member.debts[currency] = owed - repaid
            if owed == repaid:
                del member.debts[currency]
            points -= repaid
            if points == 0:
                return
        expires = self.expiry_of(self.program.expiry.get(currency), day)
        lots = member.lots.setdefault(currency, [])
        if expires is None and lots and lots[-1][1] is None:
            lots[-1][0] += points  # points that never expire are one lot
        else:
            lot = [points, expires, earned.isoformat()]
            lots.append(lot)
            if len(lots) > 1 and _spending_order(lots[-2]) > _spending_order(lot):
                lots.sort(key=_spending_order)  # rare: an earlier expiry earned later
        if expires is not None:
            heapq.heappush(self.queue, (expires, who, currency))

    def expiry_of(self, spec: ExpirySpec | None, day: date) -> str | None:
        """When points earned for a day expire (UTC ISO), or None if never."""
        if spec is None:
            return None
        calendar = self.program.calendar
        known = self._expiry_ends.get((spec.currency, day))
        if known is not None:  # every lot earned on a day expires at the same instant
            return known
        if spec.days is not None:
            horizon = later(day, spec.days, spec.unit)
            if spec.rounded is not None:  # `after 1 year at end of year`: rounded up
                key = calendar.period_key(spec.rounded, horizon)
                end = calendar.period_end(spec.rounded, key)
            else:
                end = calendar.day_end(horizon)
        else:
            assert spec.period is not None
            end = calendar.period_end(spec.period, calendar.period_key(spec.period, day))
        stamp = self._expiry_ends[(spec.currency, day)] = end.astimezone(UTC).isoformat()
        return stamp

    def credit(self, who: str, currency: str, points: int, at: datetime, day: date) -> int:
        """Give points back (a reversed penalty): a new lot of `day`; the new balance."""
        member = self.state.members.setdefault(who, MemberState())
        self._add_lot(member, who, currency, points, at, day)
        return member.balances[currency]

    # ---- expiry ---------------------------------------------------------------------

    def next_expiry(self, instant: datetime | None) -> datetime | None:
        """The earliest pending expiry at or before `instant` (any, when None)."""
        while self.queue:
            expires, who, currency = self.queue[0]
            lots = self.state.members[who].lots.get(currency, [])
            if any(lot[1] == expires and lot[0] > 0 for lot in lots):
                moment = datetime.fromisoformat(expires)
                return moment if instant is None or moment <= instant else None
            heapq.heappop(self.queue)  # stale: those lots were spent
        return None

    def expire(self, moment: datetime) -> Iterator[Record]:
        """Expire every lot due at `moment`, one record per member and currency."""
        due = moment.astimezone(UTC).isoformat()
        owners: set[tuple[str, str]] = set()
        while self.queue and self.queue[0][0] == due:
            _, who, currency = heapq.heappop(self.queue)
            owners.add((who, currency))
        for who, currency in sorted(owners):
            member = self.state.members[who]
            lots = member.lots.get(currency, [])
            gone = sum(lot[0] for lot in lots if lot[1] == due)
            member.lots[currency] = [lot for lot in lots if lot[1] != due and lot[0] > 0]
            if gone == 0:
                continue
            balance = member.balances[currency] - gone
            member.balances[currency] = balance
            spec = self.program.expiry[currency]
            yield Record(
                kind="expiry",
                at=local_time(self.program.calendar, moment),
                member=who,
                points=-gone,
                currency=currency,
                balance=balance,
                code="expired",
                reason=f"{gone} {currency} expired ({spec.describe()})",
            )

    # ---- spending -----------------------------------------------------------------------

    def spend(self, who: str, currency: str, points: int) -> int:
        """Take points for a redemption (the caller checked the balance); the new balance."""
        member = self.state.members.setdefault(who, MemberState())
        taken = take(member, currency, points)
        assert taken == points, "spend() needs a balance that covers it"
        return member.balances[currency]


def take(member: MemberState, currency: str, points: int) -> int:
    """Take up to `points` from the lots that expire soonest; how many were taken."""
    wanted = points
    for lot in member.lots.get(currency, []):
        if wanted == 0:
            break
        used = min(lot[0], wanted)
        lot[0] -= used
        wanted -= used
    member.lots[currency] = [lot for lot in member.lots.get(currency, []) if lot[0] > 0]
    taken = points - wanted
    member.balances[currency] = member.balances.get(currency, 0) - taken
    return taken


def later(day: date, count: int, unit: str) -> date:
    """`count` days, weeks, months or years after `day`, by the calendar (the 31st of
    a month one month on is the last day of the next, 29 February a year on is 28)."""
    if unit == "day":
        return day + timedelta(days=count)
    if unit == "week":
        return day + timedelta(weeks=count)
    months = count * (12 if unit == "year" else 1)
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def held_points(member: MemberState, currency: str) -> int:
    """The points a member has held (pending) in a currency."""
    return sum(entry[0] for entry in member.pending.get(currency, []))


def _rank(steps: tuple[tuple[str, int], ...], level: str | None) -> int:
    return next((i for i, (name, _) in enumerate(steps) if name == level), -1)


def _spending_order(lot: list[Any]) -> tuple[str, str]:
    """Soonest to expire first; never-expiring last; then oldest first."""
    return (lot[1] or NEVER, lot[2])


def paid_record(proposal: Proposal, stamp: str, points: int, balance: int) -> Record:
    """A payment's record as the ledger writes it (an award, a rank award, a grant):
    `points` posted, the member's `balance` after it."""
    return Record(
        kind=proposal.kind,
        at=stamp,
        member=proposal.member,
        team=proposal.team,
        rule=proposal.source,
        points=points,
        currency=proposal.currency,
        balance=balance,
        rank=proposal.rank,
        value=proposal.value,
        events=proposal.events,
        code=proposal.code,
        reason=proposal.reason,
    )
