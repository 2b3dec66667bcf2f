"""Live sessions: a session whose state is kept in a store, for bots and services.

    live = incentive.open("camp.incentive", store="camp.db")
    records = live.feed({"id": "e1", "type": "checkin", "member": "ana", "at": "..."})
    live.balance("ana"); live.history("ana"); live.explain("ana")

Each `feed` (or `feed_many`, `redeem`, `advance_to`) is one transaction of the
store: the state it changed, the ids it processed, its records and the input
position are committed together, or nothing is. An event whose evaluation
fails (a bug, a full disk) leaves no trace: the store is rolled back and the
session reloaded from it. Every call takes the store's write lock first and
reloads what another writer committed since, so threads and processes
sharing one store never pay an event twice, overdraw or exceed a cap: their
evaluations are serialised. A `LiveSession` is safe to share between threads
(it holds a lock around each call).

A store remembers the fingerprint of the scheme that wrote it. Opening it
with a changed scheme names what changed and refuses, unless told to carry
the state over (`on_change="carry"`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, Any, Literal

import msgspec

from incentive.analysis import Comparison, compare, progress
from incentive.codec import FIELDS, encode_field, encode_member
from incentive.compiler import CompiledSession
from incentive.engine import Session
from incentive.events import BadLine, Event, events_from_dicts
from incentive.i18n import N_, _
from incentive.program import Program
from incentive.records import Record
from incentive.roster import Roster
from incentive.runner import Engine, RunResult, open_session
from incentive.state import EngineState, local_time
from incentive.store import (
    Change,
    Snapshot,
    SQLiteStore,
    Store,
    Stored,
    StoreError,
    storage_fault,
)

OnChange = Literal["refuse", "carry"]
_ENCODE = msgspec.json.Encoder().encode
_EVENT = msgspec.json.Decoder(Event)
_BAD = msgspec.json.Decoder(BadLine)
_HELD = msgspec.json.Decoder(Record)
HORIZON = timedelta(days=1)  # how far ahead of the latest event a live event may be
Item = Event | BadLine | Mapping[str, Any]


# ---- the scheme's version -------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """Plain JSON for a checked scheme's parts, spans left out (moving a rule down the
    file, or editing a comment, changes nothing the engine does)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in fields(value)
            if f.name not in ("span", "warnings", "source", "file")
        }
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))}
    if isinstance(value, frozenset | set):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal | date | datetime | time):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _digest(value: Any) -> str:
    text = json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def scheme_summary(program: Program) -> dict[str, Any]:
    """What a store remembers of the scheme that wrote it: names, and a hash of each part."""
    return {
        "name": program.name,
        "currencies": list(program.currencies),
        "calendar": _canonical(program.calendar),
        "rules": {rule.name: _digest(rule) for rule in program.rules},
        "redeems": {spec.name: _digest(spec) for spec in program.redeems},
        "grants": {spec.name: _digest(spec) for spec in program.grants},
        "levels": _digest(program.levels),
        "expiry": _digest(program.expiry),
        "teams": list(program.teams),
        "events": _digest([program.known_events, program.attribute_types]),
        "seed": program.seed,
    }


def scheme_fingerprint(program: Program) -> str:
    return _digest(scheme_summary(program))


def describe_change(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    renames: Mapping[str, str] | None = None,
) -> list[str]:
    """What changed between two scheme summaries, one line each (`renames`: old name
    -> new name, for rules, redeem and grants blocks, and currencies)."""
    if old is None:
        return [_("the store does not say which scheme wrote it")]
    renames = renames or {}
    lines: list[str] = []
    before, after = list(old.get("currencies", [])), list(new.get("currencies", []))
    for currency in before:
        if renames.get(currency) in after and currency not in after:
            lines.append(
                _("currency `{name}` renamed to `{new}`").format(
                    name=currency, new=renames[currency]
                )
            )
        elif currency not in after:
            lines.append(
                _("currency `{name}` removed or renamed (its balances would not show)").format(
                    name=currency
                )
            )
    carried = {renames[c] for c in before if c in renames}
    for currency in after:
        if currency not in before and currency not in carried:
            lines.append(_("currency `{name}` added").format(name=currency))
    for part, label in (("rules", N_("rule")), ("redeems", N_("redeem")), ("grants", N_("grants"))):
        label = _(label)
        was, now = dict(old.get(part, {})), dict(new.get(part, {}))
        arrived = {renames[n] for n in was if renames.get(n) in now and n not in now}
        for name in was:
            if name not in now and renames.get(name) in now:
                lines.append(
                    _("{label} `{name}` renamed to `{new}`").format(
                        label=label, name=name, new=renames[name]
                    )
                )
            elif name not in now:
                lines.append(
                    _(
                        "{label} `{name}` removed or renamed (its limits, caps and progress "
                        "would start again under a new name)"
                    ).format(label=label, name=name)
                )
            elif was[name] != now[name]:
                lines.append(_("{label} `{name}` changed").format(label=label, name=name))
        lines.extend(
            _("{label} `{name}` added").format(label=label, name=name)
            for name in now
            if name not in was and name not in arrived
        )
    for part, label in (
        ("name", N_("the scheme's name changed")),
        ("calendar", N_("the time zone, day boundary, week start or season changed")),
        ("levels", N_("levels changed")),
        ("expiry", N_("expiry changed")),
        ("teams", N_("teams changed")),
        ("events", N_("the declared events changed")),
        ("seed", N_("the seed changed")),
    ):
        if old.get(part) != new.get(part):
            lines.append(_(label))
    return lines or [_("the scheme changed")]


def _span(span: timedelta) -> str:
    """`1 day`, `36 hours`: a horizon in words."""
    seconds = int(span.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" + ("s" if days != 1 else "")
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return str(span)


def _renamed(key: str, names: Mapping[str, str], at: tuple[int, ...]) -> str:
    """`key` with its `:`-separated parts at the positions `at` renamed."""
    parts = key.split(":")
    for index in at:
        if index < len(parts) and parts[index] in names:
            parts[index] = names[parts[index]]
    return ":".join(parts)


def _move(table: dict[str, Any], names: Mapping[str, str]) -> None:
    """Entries keyed by an old name move to the new name."""
    for old, new in names.items():
        if old in table:
            table[new] = table.pop(old)


def rename_state(
    state: EngineState, rules: Mapping[str, str], currencies: Mapping[str, str]
) -> None:
    """Carry a state over renamed rules (and redeem and grants blocks) and currencies:
    limits, caps, streaks, milestones, ranks, flags, referrals, budgets, allowances
    and balances keep going under the new names, so a renamed rule does not pay
    again what its old name already paid today."""
    for member in state.members.values():
        counters: dict[str, list[Any]] = {}
        for key, slot in member.counters.items():
            # limit:<rule>:<period>, streak:<rule>, milestone:<rule>, cap:rule:<rule>:<period>
            at = (2,) if key.startswith("cap:rule:") else () if key.startswith("cap:") else (1,)
            counters[_renamed(key, rules, at)] = slot
        member.counters = counters
        for table in (member.balances, member.lots, member.earned):
            _move(table, currencies)
    for by_rule in (state.ranks, state.rank_points, state.activity, state.invites, state.leagues):
        _move(by_rule, rules)
    closed: dict[str, bool] = {}
    for key, paid in state.closed_ranks.items():  # <rule>|<period>
        rule, bar, period = key.partition("|")
        closed[rules.get(rule, rule) + bar + period] = paid
    state.closed_ranks = closed
    budgets: dict[str, list[Any]] = {}
    for key, slot in state.budgets.items():  # scheme:<currency>:<period>, rule:<rule>:<period>
        if key.startswith("scheme:"):
            budgets[_renamed(key, currencies, (1,))] = slot
        else:
            budgets[_renamed(key, rules, (1,) if key.startswith("rule:") else ())] = slot
    state.budgets = budgets
    state.allowances = {_renamed(k, rules, (0,)): v for k, v in state.allowances.items()}


def _prune(state: EngineState, program: Program) -> None:
    """Carry a state over to a scheme without some rules: drop what only they used
    (flags and referrals the old rules were tracking, their open rank periods)."""
    names = {rule.name for rule in program.rules}
    for table in (state.activity, state.invites, state.ranks, state.rank_points, state.leagues):
        for name in [n for n in table if n not in names]:
            del table[name]


# ---- the live session -----------------------------------------------------------------------


def mark_of(item: Event | BadLine) -> str:
    """A digest of one input item: a resumed input must continue from the same item."""
    if isinstance(item, Event):
        return f"{item.id}|{item.fingerprint}"
    return f"bad|{item.line}|{item.reason}"


class LiveSession:
    """A session kept in a store: every call is one transaction (see the module's text)."""

    def __init__(
        self,
        program: Program,
        store: Store,
        *,
        engine: Engine | None = None,
        roster: Roster | None = None,
        on_change: OnChange = "refuse",
        horizon: timedelta | None = HORIZON,
        renames: Mapping[str, str] | None = None,
    ) -> None:
        self.program = program
        self.horizon = horizon
        self.store = store
        self._engine: Engine | None = engine
        self._roster = roster
        self._lock = threading.RLock()
        self._fingerprint = scheme_fingerprint(program)
        self._summary = scheme_summary(program)
        self._pending_scheme: tuple[str, dict[str, Any]] | None = None
        self.changes: list[str] = []  # what changed in the scheme, when carried over
        self._broken: StoreError | None = None
        self.position = 0
        self.mark = ""
        snapshot = self._load()
        if snapshot is None or snapshot.scheme is None:
            self._pending_scheme = (self._fingerprint, self._summary)
        elif snapshot.scheme != self._fingerprint:
            self.changes = describe_change(snapshot.summary, self._summary, renames)
            if on_change != "carry":
                store_name = getattr(store, "path", "the store")
                raise StoreError(
                    _("the scheme changed since {store} was written:").format(store=store_name)
                    + "\n  - "
                    + "\n  - ".join(self.changes)
                    + "\n"
                    + _(
                        "open it with the scheme that wrote it, or carry the state over to "
                        'this one (`--on-change carry`, `on_change="carry"`)'
                    )
                )
            self._pending_scheme = (self._fingerprint, self._summary)
            if renames:
                self._rename(snapshot, renames)
        elif renames:
            raise StoreError(_("renames go with a changed scheme: the store's scheme is this one"))
        self._install(snapshot)
        if self._pending_scheme is not None:
            self._transaction(list)  # the scheme's fingerprint, and a carried-over state

    def _rename(self, snapshot: Snapshot, renames: Mapping[str, str]) -> None:
        """Check each rename against both schemes, then rename the loaded state (the
        first commit writes it, with the new scheme's fingerprint)."""
        old = snapshot.summary or {}
        new = self._summary
        kinds = ("rules", "redeems", "grants")
        old_rules = {n for kind in kinds for n in old.get(kind, {})}
        new_rules = {n for kind in kinds for n in new.get(kind, {})}
        rules, currencies = {}, {}
        for before, after in renames.items():
            if before in old_rules and after in new_rules:
                rules[before] = after
            elif before in old.get("currencies", []) and after in new["currencies"]:
                currencies[before] = after
            else:
                raise StoreError(
                    _(
                        "rename {before}={after}: `{before}` must be a rule, redeem, grants or "
                        "currency of the store's scheme, and `{after}` one of this scheme"
                    ).format(before=before, after=after)
                )
        rename_state(snapshot.state, rules, currencies)

    # -- loading --------------------------------------------------------------------------

    def _load(self) -> Snapshot | None:
        return self.store.load()

    def _install(self, snapshot: Snapshot | None) -> None:
        state = snapshot.state if snapshot is not None else EngineState()
        # What the store holds, encoded as a commit would write it: a commit writes
        # only the members and fields whose JSON differs.
        self._members = {name: encode_member(member) for name, member in state.members.items()}
        self._fields = {name: encode_field(state, name) for name in FIELDS if name != "seen"}
        if snapshot is None:
            self._fields = {}
        _prune(state, self.program)  # only a carried-over state has rules it lacks
        self.session: Session | CompiledSession = open_session(
            self.program, state, self._roster, self._engine
        )
        self.session.fed = snapshot.fed if snapshot is not None else 0
        # A failed evaluation is undone here, with its transaction: no trace in the store
        # or the state (a plain session would only write a bad_event and carry on).
        session = self.session
        reference = session._reference if isinstance(session, CompiledSession) else session
        reference.raise_failures = True
        self.state = self.session.state
        self.commits = snapshot.commits if snapshot is not None else 0
        self.position = snapshot.position if snapshot is not None else 0
        self.mark = snapshot.mark if snapshot is not None else ""
        self._days = set(state.seen_on)
        self._latest: date | None = None  # None: look at every member at the next commit
        self._reset_pending()

    def _reset_pending(self) -> None:
        self._log: list[tuple[str, bytes]] = []
        self._ids: list[tuple[str, str, str] | str] = []
        self._dirty: set[str] = set()
        self._everyone = self._latest is None

    def _reload(self) -> None:
        self._install(self._load())

    # -- one transaction ----------------------------------------------------------------------

    def _transaction(self, work: Callable[[], list[Record]]) -> list[Record]:
        with self._lock:
            if self._broken is not None:
                raise self._broken
            commits = self.store.begin()
            try:
                if commits != self.commits:
                    self._install(self._load())  # another writer committed: see it first
                self._reset_pending()
                records = work()
                change = self._change(records)
                self.commits = self.store.write(change)
                self.store.commit()
                self._pending_scheme = None
            except BaseException as err:
                self._recover()
                if isinstance(err, sqlite3.Error):
                    raise storage_fault(self.store, err) from None
                raise
            return records

    def _recover(self) -> None:
        """Undo what a failed call did: roll the store back and reload the session from
        it, so that the failed event leaves no trace anywhere."""
        try:
            self.store.rollback()
            self._install(self._load())
        except (sqlite3.Error, StoreError) as err:
            self._broken = StoreError(
                _(
                    "the store cannot be read back after a failed write ({error}); "
                    "open it again once the storage works"
                ).format(error=err)
            )

    def _change(self, records: list[Record]) -> Change:
        state = self.state
        change = Change(
            ids=self._ids,
            records=records,
            log=self._log,
            version=self._fingerprint,
            position=self.position,
            fed=self.session.fed,
            mark=self.mark,
            scheme=self._pending_scheme,
        )
        self._dirty.update(r.member for r in records if r.member is not None)
        if self._everyone:
            candidates: Iterable[str] = list(state.members)
        else:
            new = [m for m in self._dirty if m not in self._members and m in state.members]
            candidates = [m for m in self._dirty if m in self._members]
            if new:  # in the state's own order
                wanted, ordered = set(new), []
                for name in reversed(state.members):
                    if name in wanted:
                        ordered.append(name)
                        wanted.discard(name)
                        if not wanted:
                            break
                candidates = [*candidates, *reversed(ordered)]
        for name in candidates:
            encoded = encode_member(state.members[name])
            if self._members.get(name) != encoded:
                change.members[name] = self._members[name] = encoded
        for name in FIELDS:
            if name in ("seen", "seen_on"):
                continue  # the processed table holds them
            encoded = encode_field(state, name)
            if self._fields.get(name) != encoded:
                change.fields[name] = self._fields[name] = encoded
        return change

    def _feed_one(self, item: Item) -> list[Record]:
        session, state = self.session, self.state
        if not isinstance(item, Event | BadLine):
            item = next(events_from_dicts([item], self.program.calendar, session.fed + 1))
        self.position += 1
        self.mark = mark_of(item)
        if isinstance(item, BadLine):
            self._log.append(("bad", _ENCODE(item)))
            return session.feed(item)
        quarantined = self._quarantine(item)
        if quarantined is not None:
            self._log.append(("held", quarantined.to_json_bytes()))
            return [quarantined]
        self._log.append(("event", _ENCODE(item)))
        opened = state.open_day
        known = item.id in state.seen
        day = self.program.calendar.day_of(item.at)
        if self._latest is None or day > self._latest:
            # Time may pass a day's end: closes, expiries, flags and level drops touch
            # members no record names. Look at every member once per day.
            self._everyone = True
            self._latest = day
        records = session.feed(item)
        if not known and item.id in state.seen:
            text = day.isoformat()
            self._ids.append((item.id, state.seen[item.id], text))  # and where its line was
            self._days.add(text)
        if state.open_day != opened:
            self._forget_closed_days()
        self._dirty.add(item.member)
        for invites in state.invites.values():  # a referral pays (or counts for) the inviter
            invite = invites.get(item.member)
            if invite is not None:
                self._dirty.add(invite[0])
        return records

    def _quarantine(self, event: Event) -> Record | None:
        """An event too far ahead of the session's time (a mistyped year) would move the
        clock for good, making every later real event late: hold it out instead."""
        state, calendar = self.state, self.program.calendar
        if self.horizon is None or state.clock is None:
            return None
        latest = state.clock
        if state.open_day is not None:  # advance_to moves time on without an event
            latest = max(latest, calendar.day_start(state.open_day))
        if event.at <= latest + self.horizon:
            return None
        return Record(
            kind="quarantined",
            at=local_time(calendar, event.at),
            member=event.member,
            events=(event.id,),
            code="too_far_ahead",
            reason=f"{local_time(calendar, event.at)} is more than {_span(self.horizon)} after the "
            f"latest event ({local_time(calendar, latest)}): quarantined, not evaluated",
        )

    def _forget_closed_days(self) -> None:
        for day in sorted(self._days - set(self.state.seen_on)):
            self._ids.append(day)
            self._days.discard(day)

    # -- the session interface ------------------------------------------------------------------

    def feed(self, item: Item) -> list[Record]:
        """Evaluate one event and commit it with its records; never pays an id twice."""
        return self._transaction(lambda: self._feed_one(item))

    def feed_many(self, items: Iterable[Item]) -> list[Record]:
        """Evaluate events in order and commit them together (one transaction)."""
        chosen = list(items)
        return self._transaction(lambda: [r for item in chosen for r in self._feed_one(item)])

    def redeem(
        self,
        member: str,
        points: int,
        *,
        id: str,
        at: str | datetime,
        type: str = "redeem",
        **attributes: Any,
    ) -> list[Record]:
        """Spend points: a `redeem` event (the scheme's redeem block decides). The `id`
        makes a retried request harmless: it is paid once."""
        when = at.isoformat() if isinstance(at, datetime) else at
        event = {"id": id, "type": type, "member": member, "at": when, "points": points}
        return self.feed({**event, **attributes})

    def advance_to(self, instant: datetime) -> list[Record]:
        """Time has reached `instant` (a timer, when no event comes): days before it close."""

        when = instant if instant.tzinfo is not None else self.program.calendar.to_utc(instant)

        def work() -> list[Record]:
            self._everyone = True
            self._log.append(("advance", when.astimezone(UTC).isoformat().encode()))
            opened = self.state.open_day
            records = self.session.advance_to(when)
            if self.state.open_day != opened:
                self._forget_closed_days()
            return records

        return self._transaction(work)

    def close_all(self) -> list[Record]:
        """The end of the season: close every open period and pay what it owes."""

        def work() -> list[Record]:
            self._everyone = True
            self._log.append(("close", b""))
            return self.session.close_all()

        return self._transaction(work)

    # -- queries a bot needs ----------------------------------------------------------------

    def _read(self) -> None:
        """See what other writers committed before answering (cheap when nothing did)."""
        if self._broken is not None:
            raise self._broken
        if self.store.commits() != self.commits:
            self._install(self._load())

    def balance(self, member: str, currency: str | None = None) -> int:
        with self._lock:
            self._read()
            return self.session.balance(member, currency)

    def balances(self) -> dict[str, dict[str, int]]:
        with self._lock:
            self._read()
            return self.session.balances()

    def balance_records(self) -> list[Record]:
        with self._lock:
            self._read()
            return self.session.balance_records()

    def level(self, member: str) -> str | None:
        """The member's level (None when the scheme has no levels)."""
        with self._lock:
            self._read()
            levels = self.program.levels
            if levels is None:
                return None
            state = self.state.members.get(member)
            return (state.level if state else None) or levels.level_for(0)

    def history(self, member: str, limit: int | None = None) -> list[Record]:
        """Every record that names the member, oldest first (the last `limit` of them)."""
        with self._lock:
            rows = self.store.records(member)
        records = [row.record for row in rows]
        return records[-limit:] if limit else records

    def records(self, after: int = 0, kinds: tuple[str, ...] = ()) -> list[Stored]:
        """Every stored record after number `after` (of these kinds only, if given),
        numbered, with the fingerprint of the scheme that made it: a feed to follow."""
        with self._lock:
            return self.store.records(after=after, kinds=kinds)

    def leaderboard(self, currency: str | None = None, top: int = 10) -> list[tuple[str, int]]:
        """Members by balance in a currency, highest first (ties by member id)."""
        chosen = currency or self.program.default_currency
        with self._lock:
            self._read()
            rows = [
                (name, state.balances.get(chosen, 0)) for name, state in self.state.members.items()
            ]
        rows.sort(key=lambda row: (-row[1], row[0]))
        return rows[:top]

    def explain(self, member: str) -> dict[str, Any]:
        """The member's records with their reasons, balances, level and progress toward
        the next streak tier, milestone and level (as `incentive explain --format json`)."""
        records = self.history(member)
        with self._lock:
            self._read()
            balances = self.session.balances().get(member, {})
            result = RunResult(records, {member: balances}, self.session)
            steps = progress(self.program, result, member)
            level = self.level(member)
        return {
            "member": member,
            "balances": balances,
            "level": level,
            "records": [r.to_dict() for r in records],
            "progress": [step.text() for step in steps],
        }

    def close(self) -> None:
        with self._lock:
            self.store.close()

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_live(
    scheme: Program | str | Path,
    store: Store | str | Path,
    *,
    engine: Engine | None = None,
    roster: Roster | None = None,
    on_change: OnChange = "refuse",
    horizon: timedelta | None = HORIZON,
    renames: Mapping[str, str] | None = None,
) -> LiveSession:
    """A live session on a scheme (a Program or a scheme file) and a store (a Store,
    or the path of an SQLite file, made if new). `horizon`: an event dated further
    ahead of the latest event (or `advance_to`) is quarantined; None: no limit."""
    if not isinstance(scheme, Program):
        from incentive.checker import compile_scheme

        path = Path(scheme)
        scheme = compile_scheme(path.read_text(encoding="utf-8"), str(path))
    kept: Store = SQLiteStore(store) if isinstance(store, str | Path) else store
    try:
        return LiveSession(
            scheme,
            kept,
            engine=engine,
            roster=roster,
            on_change=on_change,
            horizon=horizon,
            renames=renames,
        )
    except BaseException:
        kept.close()
        raise


# ---- `incentive run --state` ----------------------------------------------------------------


def run_stored(
    live: LiveSession,
    read: Callable[[], Iterable[Event | BadLine]],
    out: IO[bytes],
    *,
    commit_every: int = 500,
    until: datetime | None = None,
    close: bool = False,
    new_input: bool = False,
    keep: Callable[[Record], bool] | None = None,
    counts: dict[str, int] | None = None,
    torn: bool = False,
) -> bool:
    """Feed what `read()` yields to a live session, in input order, committing every
    `commit_every` items: a run stopped at any point (even killed) and started again
    on the same input carries on after the last committed item. Records are written
    to `out` once committed; then the balances. `torn`: the input's last line has no
    end yet (a file being written): if it cannot be read it is left for the next run
    (the result says whether it was)."""
    kinds = counts if counts is not None else {}

    def write(records: list[Record]) -> None:
        for record in records:
            kinds[record.kind] = kinds.get(record.kind, 0) + 1
            if keep is None or keep(record):
                out.write(record.to_json_bytes() + b"\n")
        out.flush()

    items: Iterator[Event | BadLine] = iter(read())
    if new_input:
        live.position = 0
    else:
        _skip_consumed(live, items)
    batch: list[Event | BadLine] = []
    held: Event | BadLine | None = None  # one item behind: the last may be torn
    for item in items:
        if held is not None:
            batch.append(held)
        held = item
        if len(batch) >= commit_every:
            write(live.feed_many(batch))
            batch = []
    left = torn and isinstance(held, BadLine)
    if held is not None and not left:
        batch.append(held)
    if batch:
        write(live.feed_many(batch))
    if until is not None:
        write(live.advance_to(until))
    if close:
        write(live.close_all())
    for record in live.balance_records():  # not counted: the summary counts outcomes
        if keep is None or keep(record):
            out.write(record.to_json_bytes() + b"\n")
    out.flush()
    return left


def _skip_consumed(live: LiveSession, items: Iterator[Event | BadLine]) -> None:
    """Skip the items the store has already consumed, checking that the input is the
    one it read (the last consumed item must be the same)."""
    last: Event | BadLine | None = None
    for count in range(live.position):
        last = next(items, None)
        if last is None:
            raise StoreError(
                _(
                    "the input has {count} item(s) but the store has already read "
                    "{position}: pass the same input (it may have grown), or "
                    "--new-input to read new events from their first line"
                ).format(count=count, position=live.position)
            )
    if last is not None and mark_of(last) != live.mark:
        raise StoreError(
            _(
                "the input does not continue the one the store has read (item "
                "{position} differs): pass the same input (it may have grown), or "
                "--new-input to read new events from their first line"
            ).format(position=live.position)
        )


# ---- replays: the stored input under another scheme, writing nothing ---------------------------


@dataclass(frozen=True)
class Replay:
    """What a store paid, and what the same input pays under another scheme."""

    stored: RunResult  # the store's records and balances
    replayed: RunResult  # the same input, evaluated again in memory
    changes: list[str]  # what changed in the scheme ([] when it is the same)

    def comparison(self) -> Comparison:
        return compare(self.stored, self.replayed)


def replay(
    store: str | Path,
    program: Program,
    *,
    engine: Engine | None = None,
    roster: Roster | None = None,
) -> Replay:
    """Feed the input a store has kept, in its order (with its `advance_to` and end of
    season), to a fresh session of `program`, in memory. The store is opened read-only:
    a dry run writes nothing."""
    kept = SQLiteStore(store, read_only=True)
    try:
        snapshot = kept.load()
        rows, log = kept.records(), kept.log()
    finally:
        kept.close()
    session = open_session(program, roster=roster, engine=engine)
    records: list[Record] = []
    for kind, item in log:
        if kind == "event":
            records += session.feed(_EVENT.decode(item))
        elif kind == "bad":
            records += session.feed(_BAD.decode(item))
        elif kind == "held":
            records.append(_HELD.decode(item))  # held out then: held out again
        elif kind == "advance":
            records += session.advance_to(datetime.fromisoformat(item.decode()))
        elif kind == "close":
            records += session.close_all()
    state = snapshot.state if snapshot is not None else EngineState()
    balances = {
        name: dict(sorted(member.balances.items()))
        for name, member in sorted(state.members.items())
    }
    summary = snapshot.summary if snapshot is not None else None
    same = snapshot is None or snapshot.scheme == scheme_fingerprint(program)
    return Replay(
        stored=RunResult([row.record for row in rows], balances, session),
        replayed=RunResult(records, session.balances(), session),
        changes=[] if same else describe_change(summary, scheme_summary(program)),
    )
