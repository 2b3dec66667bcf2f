"""`run --jobs N` on the compiled evaluator: members split across N sessions.

A scheme the columnar plan declines still runs on the compiled evaluator, a
`Session` fed event by event. When every construct it uses is the member's own
(`loop_split_why_not` is empty: awards, limits, caps, boosts, streaks,
milestones, levels, expiry, pending points, redeem blocks, flags for
inactivity), N worker processes each hold one session over the members that a
stable rule (`owner`: a CRC-32 of the member's id, modulo N) gives them, and the
run's process reads the input, hands every worker every event in batches, and
writes the records in exactly the order one session writes them.

What makes the order exact: one session writes an event's records when it is
fed, and the records of time passing (`Session._advance`: rolling levels
dropped, held points released, lots expired, inactive members flagged) when an
event is the first after a deadline, before that event's own records. So every
worker takes every event: its own members' through `feed`, everybody else's
through `_shadow`, the session's intake done again without the member stages
(the id remembered, time advanced, the day opened), so that each worker's
record of ids, open day and clock are the single session's, and its deadlines
fall due at the very same event. Per event, the run's process writes the
closes every worker wrote at it, merged by `_close_key` (the instant, then
levels, releases, expiries, flags as `_advance` takes them, then the member
as `ledger.expire`, `drop_levels`, `release` and `_flag` sort them), then the
owner's records of the event; at the end, the closes of `close_all` (or
`advance_to(--until)`) merged the same way, then the balances by member.

A close the merge has no key for, or an event whose evaluation fails (a bug,
undone by the session), is a `WorkerLost`: the run is made again in one
process, which gives its answer, and the run says why.
"""

from __future__ import annotations

import dataclasses
import gc
import heapq
import pickle
import queue
import tempfile
import threading
import zlib
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import IO, Any, Literal

import msgspec

from incentive import processes
from incentive.compiler import CompiledSession
from incentive.engine import Session
from incentive.events import BadLine, Event
from incentive.i18n import N_, _
from incentive.intake import bad_line_record, member_clock, read_attributes
from incentive.program import Program
from incentive.records import Record, encode_lines
from incentive.roster import Roster
from incentive.state import MemberState, open_day, remember, seen_as

__all__ = ["LoopWorkers", "OutOfOrder", "explain", "loop_split_why_not", "owner", "work"]

WORKER = processes.WORKER  # how a worker starts (a test puts a stand-in here)
BATCH = 4096  # events handed to the workers at a time
AHEAD = 3  # batches sent before the first one's records are waited for

# `_advance`'s steps at one instant, in its order; the closes a split run can order
_STEPS = {"level_dropped": 0, "released": 1, "expired": 2, "inactive": 3}


class OutOfOrder(Exception):
    """An event earlier than the one before it: the input is read again, sorted."""


def loop_split_why_not(program: Program) -> list[str]:
    """Why `--jobs` cannot split the compiled evaluator's run by member (empty: it can):
    each construct that reads or changes what other members did, or what all share."""
    found: list[str] = []  # in the language of the moment: notes and --explain-plan show them
    if program.teams:
        found.append(_("teams: a team's members share its ranks, goals and caps"))
    for rule in program.rules:
        said: list[str] = []
        if rule.rank is not None or rule.league is not None or rule.league_board is not None:
            said.append(N_("a rank, board or league compares members"))
        if rule.goal is not None:
            said.append(N_("a team goal sums its members' measures"))
        if rule.inviter is not None:
            said.append(N_("a referral pays the inviter for the invitee's event"))
        if rule.milestone is not None and rule.milestone.distinct:
            said.append(N_("`milestone distinct` counts a value once across members"))
        if rule.first is not None:
            said.append(N_("`first N` members win, in the order they came"))
        if rule.credit is not None:
            said.append(N_("pays the member an attribute names"))
        found += [_("rule `{rule}`: {why}").format(rule=rule.name, why=_(why)) for why in said]
    if any(rule.budgets for rule in program.rules):
        found.append(_("budgets: a budget is shared by every member"))
    if program.grants:
        found.append(_("grants: a granter's allowance pays other members"))
    if program.transfers:
        found.append(_("transfers: points move between members"))
    if program.catalogues:
        found.append(_("catalogues: a gift's stock is shared by every member"))
    if program.reversals:
        found.append(_("reversals: a reversal names an earlier event by its id, anyone's"))
    return list(dict.fromkeys(found))


def explain(program: Program, jobs: int) -> str:
    """`run --explain-plan --jobs N`'s line for the compiled evaluator."""
    why = loop_split_why_not(program)
    if why:
        return "  " + _("--jobs {jobs}, compiled evaluator: one process: {why}").format(
            jobs=jobs, why=_("; ").join(why)
        )
    return "  " + _(
        "--jobs {jobs}, compiled evaluator: {jobs} sessions in {jobs} processes, members "
        "split among them, every event's intake in each; the records merged here in one "
        "session's order"
    ).format(jobs=jobs)


def owner(member: str, jobs: int) -> int:
    """The worker that keeps `member`'s state: the same on every run, in every process."""
    return zlib.crc32(member.encode("utf-8", "surrogatepass")) % jobs


# ---- the worker's side -------------------------------------------------------------------

_EVENTS = msgspec.msgpack.Decoder(list[Event])
_ENCODER = msgspec.msgpack.Encoder()


def _packed(events: list[Event]) -> tuple[str, Any]:
    """A batch as it crosses to the workers: MessagePack (a twentieth of pickle's cost
    to write), unless a value it cannot carry as it is (an integer past 64 bits, a
    text with a lone surrogate): then pickle."""
    try:
        data = _ENCODER.encode(events)
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return "pickled", events  # (a lone surrogate in a text is a UnicodeEncodeError)
    return "packed", data


def _unpacked(how: str, data: Any) -> list[Event]:
    return _EVENTS.decode(data) if how == "packed" else data


CloseKey = tuple[datetime, int, tuple[Any, ...]]


class _Share:
    """One worker's session: its members' events fed, everybody else's intake shadowed."""

    def __init__(
        self, program: Program, roster: Roster | None, engine: str, me: int, jobs: int
    ) -> None:
        self.program, self.me, self.jobs = program, me, jobs
        self.session: Session | CompiledSession = (
            Session(program, roster=roster)
            if engine == "interpreter"
            else CompiledSession(program, roster=roster)
        )
        session = self.session
        reference = session._reference if isinstance(session, CompiledSession) else session
        self.reference = reference
        self.closes: list[Record] = []  # the records time passing wrote, as it wrote them
        advance = reference._advance
        closes = self.closes

        def tapped(instant: datetime | None) -> Iterator[Record]:
            for record in advance(instant):
                closes.append(record)
                yield record

        # every caller of the session's `_advance` (its intake, the compiled handlers,
        # advance_to, close_all) reaches it through the instance
        reference._advance = tapped  # type: ignore[method-assign]
        self.advanced: date | None = None  # the day the shadowed intake advanced into
        # the day of the last event shadowed, and its bounds (UTC)
        self.day: date | None = None
        self.day_start = self.day_end = datetime.min
        self.rules = {rule.name: index for index, rule in enumerate(program.rules)}
        self.owners: dict[str, bool] = {}

    def mine(self, member: str) -> bool:
        known = self.owners.get(member)
        if known is None:
            known = self.owners[member] = owner(member, self.jobs) == self.me
        return known

    def events(
        self, events: list[Event]
    ) -> tuple[list[int], bytes, list[tuple[int, list[tuple[CloseKey, bytes]]]], Counter[str]]:
        """Each event of a batch: its records' lines if the member is ours, and the closes
        it caused here, keyed; the records by kind (`lacking` ones too)."""
        feed, closes, kinds = self.session.feed, self.closes, Counter[str]()
        ends: list[int] = []
        parts: list[bytes] = []
        size = 0
        closed: list[tuple[int, list[tuple[CloseKey, bytes]]]] = []
        for position, event in enumerate(events):
            closes.clear()
            if self.mine(event.member):
                records = feed(event)
                for record in records:
                    if record.code == "evaluation_failed":  # undone: one session's answer
                        raise RuntimeError(f"event `{event.id}` could not be evaluated")
                count = len(closes)
                if count and (
                    len(records) < count
                    or any(a is not b for a, b in zip(records, closes, strict=False))
                ):
                    raise RuntimeError("an event's records did not start with its closes")
                own = records[count:] if count else records
                for record in own:
                    kinds[_kind(record)] += 1
                if own:
                    data = encode_lines(own)
                    parts.append(data)
                    size += len(data)
                ends.append(size)
            else:
                self._shadow(event)
            if closes:
                closed.append((position, self._keyed(closes, kinds)))
        return ends, b"".join(parts), closed, kinds

    def _shadow(self, event: Event) -> None:
        """Another member's event, as the one session's intake takes it (`Session._evaluate`
        up to the member stages): remembered, time advanced to it, its day opened."""
        program, reference = self.program, self.reference
        state = reference.state
        if event.id in state.seen:
            return  # a duplicate or a conflict: nothing moves
        if program.known_events is not None and event.type not in program.known_events:
            return
        # (an event type without typed attributes always fits)
        typed = event.type in program.attribute_types
        if typed and isinstance(read_attributes(program, event), str):
            return
        zoned = program.member_zone is not None
        if zoned and isinstance(member_clock(program, event, reference._zones), str):
            return
        calendar, at = program.calendar, event.at
        if self.day is not None and self.day_start <= at < self.day_end:
            day = self.day  # the day of the event before, most often
        else:
            day = self.day = calendar.day_of(at)
            self.day_start, self.day_end = calendar.day_start(day), calendar.day_end(day)
        remember(state, event.id, seen_as(event.fingerprint, event.source, event.line), day)
        if day != self.advanced:  # every deadline is a day's end: once a day, as compiled
            for _record in reference._advance(at):
                pass  # kept by the tap
        if state.open_day is not None and day < state.open_day:
            return  # late
        if not calendar.in_season(day):
            return
        open_day(state, day)
        self.advanced = day
        if state.levels_closed is None and reference._rolling_levels:
            state.levels_closed = (day - timedelta(days=1)).isoformat()
        if state.clock is None or at > state.clock:
            state.clock = at

    def _keyed(self, records: list[Record], kinds: Counter[str]) -> list[tuple[CloseKey, bytes]]:
        keyed = []
        for record in records:
            kinds[_kind(record)] += 1
            keyed.append((self._close_key(record), record.to_json_bytes() + b"\n"))
        return keyed

    def _close_key(self, record: Record) -> CloseKey:
        """Where a close goes among every worker's at the same event: its instant, its
        step (`_STEPS`), then the order its step writes members in."""
        step = _STEPS.get(record.code or "")
        if step is None or record.at is None or record.member is None:
            raise RuntimeError(f"a close the split does not order: {record.kind} {record.code}")
        instant = datetime.fromisoformat(record.at)
        if step == 3:
            return instant, step, (self.rules[record.rule or ""], record.member)
        if step == 0:
            return instant, step, (record.member,)
        return instant, step, (record.member, record.currency or "")

    def end(
        self, until: datetime | None
    ) -> tuple[list[tuple[CloseKey, bytes]], list[tuple[str, bytes]], int, Counter[str]]:
        """End of input: the closes (`close_all`, or up to `until`), keyed; the balances'
        lines by member; the number of members; the records by kind."""
        self.closes.clear()
        session = self.session
        records = session.advance_to(until) if until is not None else session.close_all()
        if len(records) != len(self.closes) or any(
            a is not b for a, b in zip(records, self.closes, strict=True)
        ):
            raise RuntimeError("the end of input wrote records that are not closes")
        kinds = Counter[str]()
        closes = self._keyed(records, kinds)
        balances = [
            (record.member or "", record.to_json_bytes() + b"\n")
            for record in session.balance_records()
        ]
        return closes, balances, len(session.balances()), kinds


def _kind(record: Record) -> str:
    """A record's kind, and for a refusal for a missing attribute, the attribute (the
    summary counts those apart): "refused\x00<attribute>"."""
    if record.kind == "refused" and record.code == "missing_attribute":
        return "refused\x00" + record.reason.split("`")[1]
    return record.kind


def work(requests: IO[bytes], replies: IO[bytes]) -> None:
    """A worker process of `LoopWorkers` (`incentive.jobs`): (program, roster, engine,
    jobs), its own number, then batches of events, until its input ends."""
    # The state is plain data without reference cycles (as `run` disables it in its own
    # process): the cyclic collector would walk the members' state again and again.
    gc.disable()
    reply = processes.replying(replies)
    try:
        program, roster, engine, jobs = pickle.load(requests)
        _share, me = pickle.load(requests)
    except EOFError:
        return
    share = _Share(program, roster, engine, me, jobs)
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            if request[0] == "events":
                reply(("events", *share.events(_unpacked(request[1], request[2]))))
            elif request[0] == "end":
                reply(("end", *share.end(request[1])))
            elif request[0] == "members":
                reply(("members", share.session.state.members))
            elif request[0] == "reset":  # the input is read again, sorted
                share = _Share(program, roster, engine, me, jobs)
        except Exception as error:  # its type and message only: no traceback for operators
            reply(("failed", f"{type(error).__name__}: {error}"))


# ---- the run's side ------------------------------------------------------------------------


class LoopWorkers(processes.Workers):
    """`jobs` worker processes, each a session over its members (`owner`). `run` is one
    pass over the input; `members` gives every member's state at the end."""

    def __init__(
        self,
        program: Program,
        jobs: int,
        roster: Roster | None = None,
        engine: Literal["compiled", "interpreter"] = "compiled",
    ) -> None:
        # (a copy without what this process cached on it: the compiled handlers)
        portable = dataclasses.replace(program) if "_compiled" in program.__dict__ else program
        super().__init__(WORKER, "loop", (portable, roster, engine, jobs), jobs)
        self.jobs = jobs
        self.queues: list[queue.Queue[Any]] = []
        self.threads: list[threading.Thread] = []
        self.waiting = 0  # batches sent whose replies are not read yet
        try:
            for number, worker in enumerate(self.workers):
                self.put(worker, ("share", number))
            for worker in self.workers:
                replies: queue.Queue[Any] = queue.Queue()
                self.queues.append(replies)
                thread = threading.Thread(target=_drain, args=(worker, replies), daemon=True)
                thread.start()
                self.threads.append(thread)
        except BaseException:
            self.__exit__(processes.WorkerLost)
            raise

    def __enter__(self) -> LoopWorkers:
        return self

    def _replies(self) -> list[tuple[Any, ...]]:
        got = []
        for replies in self.queues:
            reply = replies.get()
            if isinstance(reply, BaseException):
                raise reply
            got.append(reply)
        return got

    def _send_all(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        for number, worker in enumerate(self.workers):
            try:
                self.put_bytes(worker, data)
            except processes.WorkerLost as lost:
                raise self._why(number, lost) from None

    def _why(self, number: int, lost: processes.WorkerLost) -> processes.WorkerLost:
        """Why a worker that took no more input ended: its last words if it failed (read
        by its thread, which ends with its output), else `lost`."""
        self.threads[number].join(timeout=5)
        said = lost
        while not self.queues[number].empty():
            reply = self.queues[number].get()
            if isinstance(reply, processes.WorkerLost):
                said = reply if reply.args != processes.lost().args else said
        return said

    def reset(self) -> None:
        """Forget the pass made so far (its replies read and dropped)."""
        while self.waiting:
            self._replies()
            self.waiting -= 1
        self._send_all(("reset",))

    def run(
        self,
        items: Iterable[Event | BadLine],
        out: IO[bytes],
        until: datetime | None,
        ordered: bool,
    ) -> tuple[Counter[str], Counter[str], int]:
        """One pass: bad lines first, then every event's records, the closes at the end
        and the balances, into `out`; the records by kind, the refusals for a missing
        attribute by attribute, and the number of members. OutOfOrder (nothing written)
        when `ordered` and an event goes back in time."""
        kinds, lacking = Counter[str](), Counter[str]()
        sent: deque[list[int]] = deque()
        with tempfile.TemporaryFile() as bad, tempfile.TemporaryFile() as spool:
            batch: list[Event] = []
            last: datetime | None = None
            for item in items:
                if isinstance(item, BadLine):
                    kinds["bad_event"] += 1
                    bad.write(bad_line_record(item).to_json_bytes() + b"\n")
                    continue
                if ordered:
                    if last is not None and item.at < last:
                        raise OutOfOrder
                    last = item.at
                batch.append(item)
                if len(batch) >= BATCH:
                    sent.append(self._send(batch))
                    batch = []
                    if len(sent) > AHEAD:
                        self._write(sent.popleft(), spool, kinds)
            if batch:
                sent.append(self._send(batch))
            while sent:
                self._write(sent.popleft(), spool, kinds)
            self._send_all(("end", until))
            ends = self._replies()
            closes = heapq.merge(*(reply[1] for reply in ends), key=_first)
            spool.write(b"".join(line for _key, line in closes))
            members = 0
            for reply in ends:
                members += reply[3]
                _count(reply[4], kinds)
            for file in (bad, spool):
                file.seek(0)
                while chunk := file.read(1 << 20):
                    out.write(chunk)
            balances = heapq.merge(*(reply[2] for reply in ends), key=_first)
            out.write(b"".join(line for _member, line in balances))
        for name in list(kinds):
            if "\x00" in name:
                attribute = name.split("\x00", 1)[1]
                lacking[attribute] += kinds[name]
                kinds["refused"] += kinds.pop(name)
        return kinds, lacking, members

    def members(self) -> dict[str, MemberState]:
        """Every member's state at the end of the run, from the worker that kept it."""
        self._send_all(("members",))
        kept: dict[str, MemberState] = {}
        for reply in self._replies():
            kept.update(reply[1])
        return dict(sorted(kept.items()))

    def _send(self, batch: list[Event]) -> list[int]:
        how, data = _packed(batch)
        self._send_all(("events", how, data))
        self.waiting += 1
        return [owner(event.member, self.jobs) for event in batch]

    def _write(self, owners: list[int], spool: IO[bytes], kinds: Counter[str]) -> None:
        """A batch's records, in one session's order: per event, the closes every
        worker wrote at it (merged), then its owner's records."""
        replies = self._replies()
        self.waiting -= 1
        ends = [reply[1] for reply in replies]
        blobs = [reply[2] for reply in replies]
        closed: dict[int, list[list[tuple[CloseKey, bytes]]]] = {}
        for reply in replies:
            for position, keyed in reply[3]:
                closed.setdefault(position, []).append(keyed)
            _count(reply[4], kinds)
        counts = [0] * self.jobs
        starts = [0] * self.jobs
        parts: list[bytes] = []
        for position, worker in enumerate(owners):
            lists = closed.get(position)
            if lists is not None:
                merged = lists[0] if len(lists) == 1 else heapq.merge(*lists, key=_first)
                parts.extend(line for _key, line in merged)
            end = ends[worker][counts[worker]]
            counts[worker] += 1
            if end != starts[worker]:
                parts.append(blobs[worker][starts[worker] : end])
                starts[worker] = end
        spool.write(b"".join(parts))


def _first(pair: tuple[Any, bytes]) -> Any:
    return pair[0]


def _count(counted: Counter[str], kinds: Counter[str]) -> None:
    kinds.update(counted)


def _drain(worker: Any, replies: queue.Queue[Any]) -> None:
    """A worker's replies, read as they come (so that it never waits to write one)."""
    while True:
        try:
            reply = processes.Workers.reply(worker)
        except processes.WorkerLost as lost:
            replies.put(lost)
            return
        replies.put(reply)
