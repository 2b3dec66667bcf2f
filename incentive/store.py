"""Stores: where a live session's state survives restarts, crashes and other writers.

One small interface, `Store`, and its embedded default, `SQLiteStore`: one
file, WAL journal, `synchronous=FULL` (WAL with NORMAL can lose a commit on
power loss, and a ledger must not). A store keeps, and changes only inside
one transaction per event or per batch:

- the engine state, one row per member and one per other field of
  `EngineState` (in the codec's JSON), so a commit rewrites only what an
  event changed;
- the ids of the events processed while their day is open, with a UNIQUE
  constraint on the id (never check-then-insert: a second writer that missed
  an id fails on the constraint instead of paying it again);
- every record, numbered, the ledger of record (`history` reads it);
- the input position (items of input consumed) and a mark of the last item,
  so that `incentive run --state` continues where the last run stopped;
- the fingerprint of the scheme that wrote it, and what the scheme was.

`begin()` takes the store's write lock (SQLite's `BEGIN IMMEDIATE`): every
writer, in any thread or process, evaluates inside it, so evaluation is
serialised and each writer first sees what the others committed. A server
database (PostgreSQL with `SELECT ... FOR UPDATE` on one row) fits the same
interface.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import msgspec

from incentive.codec import FIELDS, decode_field, decode_member
from incentive.i18n import N_, _
from incentive.records import Record
from incentive.state import EngineState

FORMAT = "incentive-store"
VERSION = 1

_RECORD = msgspec.json.Decoder(Record)


class StoreError(Exception):
    """A store that cannot be used, read or written; the message says why and what to do.

    Raised for a file that is not a store (or of a later version), a scheme that
    changed since the store was written, and storage faults (a full disk, an I/O
    error): then nothing of the event or batch that was being committed is kept.
    """


@dataclass
class Snapshot:
    """What a store holds, as of its last commit."""

    state: EngineState
    commits: int  # commits so far: another writer has committed when it changes
    position: int  # items of input consumed (`incentive run --state`)
    fed: int  # items fed to the session (bad ones are numbered by it)
    mark: str  # a digest of the last item consumed: the input must continue from it
    scheme: str | None  # the fingerprint of the scheme that wrote it
    summary: dict[str, Any] | None  # what that scheme was (names, a hash per rule)


class Stored(NamedTuple):
    """A record as the store keeps it: its number, and the scheme that made it."""

    seq: int
    record: Record
    scheme: str  # the fingerprint of the scheme that evaluated it


@dataclass
class Change:
    """One commit: what an event or a batch changed."""

    members: dict[str, bytes] = field(default_factory=dict)  # member -> codec JSON
    fields: dict[str, bytes] = field(default_factory=dict)  # state field -> codec JSON
    # event ids, in order: (id, fingerprint, day) seen, or a day (str) whose ids go
    ids: list[tuple[str, str, str] | str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    # the input, in order, for replays: ("event" | "bad" | "held", codec JSON) or
    # ("advance", UTC ISO) or ("close", "")
    log: list[tuple[str, bytes]] = field(default_factory=list)
    version: str = ""  # the fingerprint of the scheme that evaluated this commit
    position: int = 0
    fed: int = 0
    mark: str = ""
    scheme: tuple[str, dict[str, Any]] | None = None  # a (new) scheme's fingerprint, summary


class Store(Protocol):
    """Where a live session keeps its state; every method but `records` and `close`
    is called by one writer at a time, between `begin()` and `commit()`/`rollback()`."""

    def begin(self) -> int:
        """Take the write lock (waits for other writers); the commits so far."""
        ...

    def load(self) -> Snapshot | None:
        """The committed state, or None for a new store."""
        ...

    def commits(self) -> int:
        """The commits so far, without the write lock (a reader's cheap check)."""
        ...

    def write(self, change: Change) -> int:
        """Apply one change inside the transaction; the commits after it."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def records(
        self,
        member: str | None = None,
        after: int = 0,
        limit: int | None = None,
        kinds: tuple[str, ...] = (),
    ) -> list[Stored]:
        """Stored records in order, optionally one member's, or of some kinds only."""
        ...

    def log(self) -> list[tuple[str, bytes]]:
        """The input as it was fed, in order (see `Change.log`)."""
        ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (member TEXT PRIMARY KEY, state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS fields (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS processed (
    id TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL, day TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS processed_day ON processed (day);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, member TEXT, kind TEXT NOT NULL, record BLOB NOT NULL,
    scheme TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_member ON records (member, seq);
CREATE INDEX IF NOT EXISTS records_kind ON records (kind, seq);
CREATE TABLE IF NOT EXISTS input (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, item BLOB NOT NULL);
"""


class SQLiteStore:
    """The embedded store: one SQLite file (WAL, synchronous=FULL).

    `connect` makes the connection (tests pass one that fails on purpose);
    `max_page_count` bounds the file, as a full disk would.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout: float = 60.0,
        max_page_count: int | None = None,
        connect: Callable[..., sqlite3.Connection] = sqlite3.connect,
        read_only: bool = False,
    ) -> None:
        self.path = str(path)
        if read_only:
            self._open_read_only(timeout)
            return
        try:
            # Autocommit mode: transactions are ours (BEGIN IMMEDIATE ... COMMIT).
            self._db = connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if max_page_count is not None:
                self._db.execute(f"PRAGMA max_page_count={int(max_page_count)}")
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            kind = self._meta("format")
            if kind is None:
                if self._db.execute("SELECT count(*) FROM records").fetchone()[0]:
                    raise StoreError(_("{path} is not an incentive store").format(path=self.path))
                self._set_meta("format", FORMAT)
                self._set_meta("version", str(VERSION))
                self._set_meta("commits", "0")
            elif kind != FORMAT:
                raise StoreError(_("{path} is not an incentive store").format(path=self.path))
            elif self._meta("version") != str(VERSION):
                raise StoreError(
                    _(
                        "{path} is a store of version {version}; this release reads version {ours}"
                    ).format(path=self.path, version=self._meta("version"), ours=VERSION)
                )
            self._db.execute("COMMIT")
        except sqlite3.Error as err:
            self._abandon()
            raise StoreError(_worded(self.path, err, "opened")) from None
        except StoreError:
            self._abandon()
            raise

    def _open_read_only(self, timeout: float) -> None:
        """For dry runs: SQLite itself refuses every write (promise 17: 0 writes)."""
        if not Path(self.path).is_file():
            raise StoreError(_("no such store: {path}").format(path=self.path))
        try:
            uri = "file:" + Path(self.path).resolve().as_posix() + "?mode=ro"
            self._db = sqlite3.connect(
                uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            if self._meta("format") != FORMAT:
                raise StoreError(_("{path} is not an incentive store").format(path=self.path))
        except sqlite3.Error as err:
            self._abandon()
            raise StoreError(_worded(self.path, err, "opened")) from None
        except StoreError:
            self._abandon()
            raise

    def _abandon(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            try:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                db.close()
            except sqlite3.Error:
                pass

    # -- meta ------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- the Store interface ------------------------------------------------------------------

    def begin(self) -> int:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            return int(self._meta("commits") or 0)
        except sqlite3.Error as err:
            raise StoreError(_worded(self.path, err, "locked for writing")) from None

    def load(self) -> Snapshot | None:
        try:
            if self._db.in_transaction:
                return self._load()
            # One read transaction: WAL gives it a snapshot, whatever writers do meanwhile.
            self._db.execute("BEGIN")
            try:
                return self._load()
            finally:
                self._db.execute("ROLLBACK")
        except (sqlite3.Error, msgspec.DecodeError) as err:
            raise StoreError(_worded(self.path, err, "read")) from None

    def commits(self) -> int:
        try:
            return int(self._meta("commits") or 0)
        except sqlite3.Error as err:
            raise StoreError(_worded(self.path, err, "read")) from None

    def _load(self) -> Snapshot | None:
        db = self._db
        commits = int(self._meta("commits") or 0)
        scheme = self._meta("scheme")
        if commits == 0 and scheme is None:
            return None
        state = EngineState()
        for name, value in db.execute("SELECT name, value FROM fields"):
            if name in FIELDS and name not in ("seen", "seen_on"):
                setattr(state, name, decode_field(name, value))
        for member, value in db.execute("SELECT member, state FROM members ORDER BY rowid"):
            state.members[member] = decode_member(value)
        # The ids of the open days, in the order they were seen (the state's own order).
        for event_id, fingerprint, day in db.execute(
            "SELECT id, fingerprint, day FROM processed ORDER BY rowid"
        ):
            state.seen[event_id] = fingerprint
            state.seen_on.setdefault(day, []).append(event_id)
        summary = self._meta("summary")
        return Snapshot(
            state=state,
            commits=commits,
            position=int(self._meta("position") or 0),
            fed=int(self._meta("fed") or 0),
            mark=self._meta("mark") or "",
            scheme=scheme,
            summary=json.loads(summary) if summary else None,
        )

    def write(self, change: Change) -> int:
        db = self._db
        if change.members:
            db.executemany(
                "INSERT INTO members (member, state) VALUES (?, ?) "
                "ON CONFLICT (member) DO UPDATE SET state = excluded.state",
                list(change.members.items()),
            )
        if change.fields:
            db.executemany(
                "INSERT INTO fields (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                list(change.fields.items()),
            )
        for item in change.ids:
            if isinstance(item, str):
                db.execute("DELETE FROM processed WHERE day = ?", (item,))
            else:
                # UNIQUE: an id already processed cannot be inserted twice.
                db.execute("INSERT INTO processed (id, fingerprint, day) VALUES (?, ?, ?)", item)
        if change.records:
            db.executemany(
                "INSERT INTO records (member, kind, record, scheme) VALUES (?, ?, ?, ?)",
                [(r.member, r.kind, r.to_json_bytes(), change.version) for r in change.records],
            )
        if change.log:
            db.executemany("INSERT INTO input (kind, item) VALUES (?, ?)", change.log)
        commits = int(self._meta("commits") or 0) + 1
        self._set_meta("commits", str(commits))
        self._set_meta("position", str(change.position))
        self._set_meta("fed", str(change.fed))
        self._set_meta("mark", change.mark)
        if change.scheme is not None:
            self._set_meta("scheme", change.scheme[0])
            self._set_meta("summary", json.dumps(change.scheme[1], sort_keys=True))
        return commits

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def records(
        self,
        member: str | None = None,
        after: int = 0,
        limit: int | None = None,
        kinds: tuple[str, ...] = (),
    ) -> list[Stored]:
        query = "SELECT seq, record, scheme FROM records WHERE seq > ?"
        params: list[Any] = [after]
        if member is not None:
            query += " AND member = ?"
            params.append(member)
        if kinds:
            query += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(kinds)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        try:
            rows = self._db.execute(query, params).fetchall()
        except sqlite3.Error as err:
            raise StoreError(_worded(self.path, err, "read")) from None
        return [Stored(seq, _RECORD.decode(data), scheme) for seq, data, scheme in rows]

    def log(self) -> list[tuple[str, bytes]]:
        try:
            return list(self._db.execute("SELECT kind, item FROM input ORDER BY seq"))
        except sqlite3.Error as err:
            raise StoreError(_worded(self.path, err, "read")) from None

    def integrity(self) -> str:
        """SQLite's own check of the file: "ok" when it is sound."""
        return "; ".join(str(row[0]) for row in self._db.execute("PRAGMA integrity_check"))

    def close(self) -> None:
        self._abandon()


_DOING = {
    "opened": N_("the store {path} could not be opened: {why}"),
    "locked for writing": N_("the store {path} could not be locked for writing: {why}"),
    "read": N_("the store {path} could not be read: {why}"),
    "written": N_("the store {path} could not be written: {why}"),
}


def _worded(path: str, err: Exception, doing: str) -> str:
    text = str(err)
    if "not a database" in text:
        return _("{path} is not an incentive store (not an SQLite file)").format(path=path)
    if "full" in text:
        why = _("the disk (or the store's size limit) is full")
    elif "locked" in text or "busy" in text:
        why = _("another process holds it locked")
    else:
        why = text
    return _(_DOING[doing]).format(path=path, why=why)


def storage_fault(store: Store, err: Exception) -> StoreError:
    """A failed write, worded for the operator: nothing of the commit was kept."""
    path = getattr(store, "path", "store")
    return StoreError(
        _worded(path, err, "written") + _("; nothing of this event or batch was kept")
    )
