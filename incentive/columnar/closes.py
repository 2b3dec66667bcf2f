"""The engine's own closes: teams, ranks by points, rate and missing, posts, grants.

What a close compares is subtle (who takes part in a team's rate, a team where nobody
acted, a rank award counting toward the ranks after it, a running board's first
post), so for these the plan does not restate the interpreter: it runs it.
`_ClosingSession` is the interpreter's `Session` with its own schedule of closes and
its own writing of them (`ranks.close_rank`, `missing_list`), teams and grant
allowances; `_closed` fills its rank tables from columns a day at a time (`_fillings`:
each member's entry, the points `track_points` counts from the per-member stages'
awards and the day's grants) and lets it close what is due before each day's first
event. A close's standings are worked out in Polars (`_members_ranked`,
`_teams_ranked`); what it pays comes back as record rows (`_written`) instead of
being posted, since balances are a column.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from incentive.columnar.chunks import _Chunk, _matching, _record_schema, _row_event
from incentive.columnar.conditions import _column
from incentive.columnar.plan import _MEASURES
from incentive.columnar.ranks import _entries, _within_sum_bound
from incentive.columnar.reading import _micros, _utc
from incentive.engine import Session
from incentive.events import RESERVED_FIELDS, Event
from incentive.ledger import paid_record
from incentive.program import Program, RuleSpec
from incentive.ranks import Standing, close_rank, track_points
from incentive.records import Record
from incentive.roster import Roster
from incentive.rules import Proposal
from incentive.spending import grant
from incentive.state import MemberState, local_time, open_day

if TYPE_CHECKING:
    import polars as pl


class _ClosingSession(Session):
    """The interpreter's session for the stages that compare members, run by `_closed`:
    its own schedule of closes (`_advance`: time order, file order at one instant, a
    board's posts `each day`, a `by missing` board's every period) and its own records
    of them (`close_rank`, `missing_list`), teams and grant allowances. What the rank
    tables hold comes from columns a day at a time, kept as frames (`entries`, `earned`)
    from which a close works out the standings (`_ranked`); an empty table in the state
    says that a period is open. What it would pay is handed back
    instead of posted (balances are columns), after ranks by points have counted it."""

    def __init__(self, program: Program, roster: Roster | None) -> None:
        super().__init__(program, None, roster)
        self.granted: list[Proposal] = []  # the day's grants, counted with its awards
        # rule -> each member's entry as `track_rank` keeps it (`_entries`: key, mid,
        # value, reached, event[, moved]), and the points `track_points` counted (key,
        # mid, points, stamp); `names`: every member number's name so far (`_Carry`)
        self.entries: dict[str, pl.DataFrame] = {}
        self.earned: dict[str, pl.DataFrame] = {}
        self.names: pl.DataFrame | None = None
        self._teams: dict[str, tuple[pl.DataFrame, dict[str, tuple[str, ...]]]] = {}

    def _pay(self, proposal: Proposal) -> Iterator[Any]:
        if proposal.kind == "grant":
            self.granted.append(proposal)
        else:  # a rank award, at its close: ranks after it count it at once
            track_points(self.state, self.program, proposal, proposal.day)
        self.state.members.setdefault(proposal.member, MemberState())
        yield proposal

    def _close(
        self, rule: RuleSpec, key: str, end: datetime, so_far: str | None = None
    ) -> list[Proposal | Record]:
        ranked = self._ranked(rule, key)
        if so_far is None:  # the period is over: its rows go
            import polars as pl

            for kept in (self.entries, self.earned):
                if rule.name in kept:
                    kept[rule.name] = kept[rule.name].filter(pl.col("key") != key)
        return close_rank(self.state, self.program, rule, key, end, so_far, ranked)

    def _first_entry(self, rule: RuleSpec, key: str) -> str | None:
        """The earliest of the times the period's entries hold, as `Session._first_entry`
        finds it in its tables: a member's points take the time of the last ones, rank
        awards since included."""
        import polars as pl

        times: list[int] = []
        entries = self.entries.get(rule.name)
        if entries is not None:
            times += entries.filter(pl.col("key") == key)["reached"].to_list()
        times += self._points(rule, key)["stamp"].to_list()
        return _utc(min(times)).isoformat() if times else None

    def _points(self, rule: RuleSpec, key: str) -> pl.DataFrame:
        """Each member's points in the period so far and when they last moved (member,
        points, stamp): the frames' and those rank awards added since (the state's own
        table, which `track_points` keeps)."""
        import polars as pl

        later = self.state.rank_points.get(rule.name, {}).get(key, {})
        added = pl.DataFrame(
            {
                "member": list(later),
                "points": [int(p[0]) for p in later.values()],
                "stamp": [_micros(datetime.fromisoformat(p[1])) for p in later.values()],
            },
            schema={"member": pl.String, "points": pl.Int64, "stamp": pl.Int64},
        )
        earned = self.earned.get(rule.name)
        if earned is not None and self.names is not None:
            mine = earned.filter(pl.col("key") == key).join(self.names, on="mid")
            added = pl.concat([mine.select(added.columns), added])
        return added.group_by("member").agg(pl.col("points").sum(), pl.col("stamp").max())

    def _ranked(self, rule: RuleSpec, key: str) -> tuple[list[Standing], int]:
        """The period's standings in order (`ranks.standings_in_order`), from the frames
        and the points rank awards added since (the state's own table)."""
        import polars as pl

        rank = rule.rank
        assert rank is not None and self.names is not None
        at_key = pl.col("key") == key
        entries = self.entries.get(rule.name)
        table = (
            pl.DataFrame(
                schema={"member": pl.String, "value": pl.Int64, "reached": pl.Int64}
            ).with_columns(event=pl.lit(None, pl.String))
            if entries is None
            else entries.filter(at_key)
            .join(self.names, on="mid")
            .select("member", "value", "reached", "event")
        )
        points = self._points(rule, key) if rank.measure == "points" else None
        if rank.team is None:
            return _members_ranked(rule, table, points)
        frame, members = self._team_frame(rank.team)
        return _teams_ranked(rule, table, points, frame, members)

    def _team_frame(self, kind: str) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
        """The roster's teams of a kind (the plan takes no team from events, so they do
        not change during a run): member and team, and each team's members in order."""
        import polars as pl

        if kind not in self._teams:
            placed = self.state.teams.get(kind, {})
            members: dict[str, list[str]] = {}
            for member, team in placed.items():
                members.setdefault(team, []).append(member)
            frame = pl.DataFrame(
                {"member": list(placed), "team": list(placed.values())},
                schema={"member": pl.String, "team": pl.String},
            )
            self._teams[kind] = (frame, {t: tuple(sorted(m)) for t, m in members.items()})
        return self._teams[kind]


def _members_ranked(
    rule: RuleSpec, table: pl.DataFrame, points: pl.DataFrame | None
) -> tuple[list[Standing], int]:
    """`member_standings` in order, sorted by Polars: best first, then who reached it
    first, then member."""
    import polars as pl

    rank = rule.rank
    assert rank is not None
    sign = 1 if rank.side == "bottom" else -1
    frame = table
    if points is not None:  # entrants: who acted, or (no `on`) who earned points
        base = (
            table.select("member", "reached", "event")
            if rule.events
            else points.select("member", reached="stamp", event=pl.lit(None, pl.String))
        )
        frame = base.join(points, on="member", how="left").select(
            "member",
            "event",
            value=pl.col("points").fill_null(0),
            reached=pl.coalesce("stamp", "reached"),
        )
    elif rank.measure == "earliest":
        frame = table.with_columns(value=-pl.col("reached"))
    frame = frame.sort(pl.col("value") * sign, "reached", "member")
    shown = frame if rank.count is None else frame.head(rank.count)
    standings = [
        Standing(
            member,
            Decimal(-(reached // 10**6)) if rank.measure == "earliest" else Decimal(value),
            "",  # the order is made
            event,
        )
        for member, value, reached, event in shown.select(
            "member", "value", "reached", "event"
        ).iter_rows()
    ]
    return standings, frame.height


def _teams_ranked(
    rule: RuleSpec,
    table: pl.DataFrame,
    points: pl.DataFrame | None,
    frame: pl.DataFrame,
    members: dict[str, tuple[str, ...]],
) -> tuple[list[Standing], int]:
    """`team_standings` in order: each team's measure over its members as columns, the
    few teams sorted here as `standings_in_order` sorts them."""
    import polars as pl

    rank = rule.rank
    assert rank is not None
    measure, has_events = rank.measure, bool(rule.events)
    if has_events and not table.height:
        return [], 0  # no matching event in the period (points alone opened it)
    joined = frame.join(table.select("member", "value", "reached"), on="member", how="left")
    acted = pl.col("reached").is_not_null()
    if points is not None:
        joined = joined.join(points, on="member", how="left")
        counted = pl.col("points").is_not_null() & (acted if has_events else pl.lit(True))
        value, last = pl.col("points").filter(counted).sum(), pl.col("stamp").filter(counted).max()
        counts = counted.sum()
    else:
        times = pl.col("reached").filter(acted)
        values = pl.col("value").filter(acted)
        value = values.max() if measure == "max" else values.sum()
        last = times.min() if measure == "earliest" else times.max()
        counts = acted.sum()
    teams = joined.group_by("team").agg(
        value=value, last=last, acted=acted.sum(), counted=counts, size=pl.len()
    )
    standings: list[tuple[Standing, int | None]] = []
    for team, total, when, acting, counting, size in teams.sort("team").iter_rows():
        if measure in ("rate", "reached"):
            worth = Decimal(acting) / Decimal(size)
        elif measure == "earliest":
            worth = Decimal(-(when // 10**6)) if when is not None else Decimal("-Infinity")
        else:
            worth = Decimal(total or 0)
        took_part = counting > 0 if measure == "points" and not has_events else acting > 0
        standings.append((Standing(team, worth, "", None, members[team], took_part), when))
    if rank.side == "top" and not rule.board:
        # A team where nobody acted takes no paid top place (it may be a bottom one).
        standings = [s for s in standings if s[0].acted]
    sign = 1 if rank.side == "bottom" else -1
    standings.sort(
        key=lambda s: (sign * s[0].value, s[1] if s[1] is not None else math.inf, s[0].who)
    )
    return [s for s, _ in standings], len(standings)


def _closed(chunk: _Chunk, member_parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Every rank, board and grant of the chunk, by the engine's own closes
    (`_ClosingSession`). Before each day's first event the session closes what is due;
    then the day's grants are given in time order, and what the day's events put in the
    rank tables (per member: the entry `track_rank` keeps, the points `track_points`
    counts, from the per-member stages' awards) goes in at once: nothing reads a table
    between a day's events, only at the closes, which fall between days. The records
    come back as the engine writes them (`head`, `tail` around a balance)."""
    import polars as pl

    plan, carry, events = chunk.plan, chunk.carry, chunk.events
    program = plan.program
    session = carry.closing
    assert session is not None
    state = session.state
    by_day = events.group_by("day", maintain_order=True).agg(
        pl.col("seq").first(), pl.col("t").first()
    )
    session.names = carry.members
    filling = _fillings(chunk, member_parts)
    grants = _grant_events(chunk)
    listing = any(
        r.rank is not None and r.rank.measure == "missing" and r.rank.team is None
        for r in program.rules
    )
    out: list[tuple[int, int, Any]] = []  # (event, phase, outcome): closes 0, grants 1
    for day_number, first_seq, first_t in by_day.iter_rows():
        out += [(first_seq, 0, o) for o in session._advance(_utc(first_t))]
        day = date.fromordinal(day_number)
        open_day(state, day)
        if listing:  # who a `by missing` board knows: every member an event named
            for name in events.filter(pl.col("day") == day_number)["member"].unique():
                state.members.setdefault(name, MemberState())
        for seq, spec, event, attrs in grants.get(day_number, ()):
            given = grant(program, state, spec, event, attrs, day)
            if isinstance(given, Proposal):
                out += [(seq, 1, o) for o in session._pay(given)]
            else:
                out.append((seq, 1, given))
        for fill in filling:
            fill(day_number, day)
        session.granted.clear()
    if chunk.final:
        out += [(events.height, 0, o) for o in session._advance(None)]
    return _written(chunk, out)


def _written(chunk: _Chunk, out: list[tuple[int, int, Any]]) -> pl.DataFrame:
    """The engine's outcomes as record rows: a record's line whole, a payment's line
    (a `rank` or `grant` record, as the ledger writes it) cut at its balance."""
    import polars as pl

    program, forms, carry = chunk.plan.program, chunk.forms, chunk.carry
    calendar = program.calendar
    places = {rule.name: i for i, rule in enumerate(program.rules)}
    places.update({g.name: len(program.rules) + i for i, g in enumerate(program.grants)})
    specs: dict[str, Any] = {rule.name: rule for rule in program.rules}
    specs.update({g.name: g for g in program.grants})
    mids = dict(zip(carry.members["member"], carry.members["mid"], strict=True))
    new: dict[str, int] = {}
    made: dict[tuple[str, str, bool], int] = {}
    rows: dict[str, list[Any]] = {
        c: [] for c in ("k_event", "k_phase", "k_rule", "k_sub", "form", "points", "paid")
    }
    rows.update(r_mid=[], r_member=[], head=[], tail=[])
    for sub, (seq, phase, outcome) in enumerate(out):
        paying = isinstance(outcome, Proposal)
        if paying:
            stamp = local_time(calendar, outcome.at)
            line = paid_record(outcome, stamp, outcome.points, 0).to_json_bytes().decode()
            cut = line.index(',"balance":0') + len(',"balance":')
            head, tail = line[:cut], line[cut + 1 :]
            member = outcome.member
            mid = mids.get(member)
            if mid is None:  # paid as one of a team, without an event of their own yet
                mid = mids[member] = new[member] = carry.members.height + len(new)
        else:
            head, tail, member, mid = outcome.to_json_bytes().decode(), None, None, None
        name = outcome.source if paying else (outcome.rule or "")
        key = (outcome.kind, name, paying)
        form = made.get(key)
        if form is None:
            fields = "written balance" if paying else "written"
            form = made[key] = forms.add(outcome.kind, specs[name], fields, "")
        rows["k_event"].append(seq)
        rows["k_phase"].append(phase)
        # a grant goes after the event's rules; closes keep the engine's order (`sub`)
        rows["k_rule"].append(places[name] if phase else 0)
        rows["k_sub"].append(sub)
        rows["form"].append(form)
        rows["points"].append(outcome.points if paying else None)
        rows["paid"].append(outcome.points if paying else None)
        rows["r_mid"].append(mid)
        rows["r_member"].append(member)
        rows["head"].append(head)
        rows["tail"].append(tail)
    if new:
        carry.members = pl.concat(
            [carry.members, pl.DataFrame({"member": list(new), "mid": list(new.values())})]
        )
    frame = pl.DataFrame(rows, schema=_record_schema(list(rows)))
    # an event's place names it; a close names no event of the chunk (`seq` null)
    named = pl.when(pl.col("k_phase") == 1).then(pl.col("k_event"))
    return frame.with_columns(k_end=pl.lit(0, pl.Int64), seq=named)


def _grant_events(chunk: _Chunk) -> dict[int, list[tuple[int, Any, Event, dict[str, Any]]]]:
    """The chunk's grant events by day, in time order, as the engine reads them."""
    import polars as pl

    program, events = chunk.plan.program, chunk.events
    kinds = chunk.plan.attributes
    found: dict[int, list[tuple[int, Any, Event, dict[str, Any]]]] = {}
    for spec in program.grants:
        names = [
            n
            for types in (program.attribute_types.get(e, {}) for e in spec.events)
            for n in types
            if n not in RESERVED_FIELDS
        ]
        columns = ["seq", "id", "type", "member", "t", "day", *(_column(n) for n in names)]
        chosen = events.filter(pl.col("type").is_in(list(spec.events))).select(columns)
        for row in chosen.iter_rows(named=True):
            event, attrs = _row_event(row, names, kinds)
            found.setdefault(row["day"], []).append((row["seq"], spec, event, attrs))
    for day in found.values():
        day.sort(key=lambda item: item[0])  # several blocks: time order, then the file's
    return found


_UTC_TEXT = "%Y-%m-%dT%H:%M:%S+00:00"  # an instant as `datetime.isoformat` writes a UTC one


def _fillings(chunk: _Chunk, member_parts: list[pl.DataFrame]) -> list[Callable[[int, date], None]]:
    """For each rank the closes take, what puts a day's share in its tables: the entry
    `track_rank` keeps for each member with a matching event (`_entries`), and for a
    rank by points what `track_points` counts (the per-member stages' awards, the
    day's grants); a `by missing` board's table, which `missing_list` reads as it is."""
    program = chunk.plan.program
    fills: list[Callable[[int, date], None]] = []
    earned: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}
    for rule in program.rules:
        rank = rule.rank
        if rank is None:
            continue
        if rank.measure == "missing":
            fills.append(_missing_filling(chunk, rule))
            continue
        wanted = (rule.currency, rank.sources)
        if rank.measure == "points" and wanted not in earned:
            earned[wanted] = _earned(chunk, member_parts, *wanted)
        fills.append(
            _filling(chunk, rule, earned.get(wanted) if rank.measure == "points" else None)
        )
    return fills


def _filling(
    chunk: _Chunk, rule: RuleSpec, earned: pl.DataFrame | None
) -> Callable[[int, date], None]:
    """A rank's frames after each day: its members' entries merged as `track_rank`
    would have kept them event by event (`_entries`: a rank by points or rate keeps the
    first event, as `earliest` does), and for a rank by points the day's awards and
    grants added up with the time of the last. A period's first day puts an empty table
    in the state: the engine's schedule sees the period open."""
    import polars as pl

    rank = rule.rank
    session = chunk.carry.closing
    assert rank is not None and session is not None
    calendar = chunk.plan.program.calendar
    key = chunk.days.key(rank.period)
    merged = (
        rank if rank.measure in _MEASURES[:4] else dataclasses.replace(rank, measure="earliest")
    )
    rows = None
    if rule.events:
        chosen = _matching(rule, chunk, rank.attribute).with_columns(key=key)
        if rank.measure == "sum":
            _within_sum_bound(chosen["v"].abs().cast(pl.Float64).sum())
        rows = chosen.partition_by("day", as_dict=True)
    earned_rows = (
        None if earned is None else earned.with_columns(key=key).partition_by("day", as_dict=True)
    )
    tables = session.state.ranks.setdefault(rule.name, {})

    def opened(key: str) -> None:
        if not session.state.closed_ranks.get(f"{rule.name}|{key}"):
            tables.setdefault(key, {})

    def fill(day_number: int, day: date) -> None:
        share = None if rows is None else rows.get((day_number,))
        if share is not None:
            before = session.entries.get(rule.name)
            session.entries[rule.name] = _entries(merged, share, before)
            opened(share["key"][0])
        if earned is None:
            return
        names = session.names
        assert names is not None
        parts = [] if earned_rows is None else [earned_rows.get((day_number,))]
        given = [
            (g.member, g.points, _micros(g.at))
            for g in session.granted
            if g.currency == rule.currency and (not rank.sources or g.source in rank.sources)
        ]
        if given:
            granted = pl.DataFrame(
                given, schema={"member": pl.String, "paid": pl.Int64, "t": pl.Int64}, orient="row"
            ).join(names, on="member")
            parts.append(
                granted.select(
                    "mid",
                    "paid",
                    "t",
                    day=pl.lit(day_number, pl.Int32),
                    key=pl.lit(calendar.period_key(rank.period, day)),
                )
            )
        found = [p for p in parts if p is not None and p.height]
        if not found:
            return
        today = pl.concat([p.select("key", "mid", "paid", "t") for p in found])
        before = session.earned.get(rule.name)
        if before is not None:
            today = pl.concat([before.select("key", "mid", paid="points", t="stamp"), today])
        session.earned[rule.name] = today.group_by("key", "mid", maintain_order=True).agg(
            points=pl.col("paid").sum(), stamp=pl.col("t").max()
        )
        opened(found[0]["key"][0])

    return fill


def _missing_filling(chunk: _Chunk, rule: RuleSpec) -> Callable[[int, date], None]:
    """A `by missing` board's table, as `track_rank` fills it: a member's first matching
    event of the period (`missing_list` lists who has none)."""
    import polars as pl

    rank = rule.rank
    session = chunk.carry.closing
    assert rank is not None and session is not None
    calendar = chunk.plan.program.calendar
    entries = (
        _matching(rule, chunk)
        .group_by("day", "mid", maintain_order=True)
        .agg(pl.col("t").first(), pl.col("id").first())
        .join(chunk.carry.members, on="mid", how="left")
        .with_columns(pl.from_epoch("t", "us").dt.to_string(_UTC_TEXT))
    )
    days = {
        int(day): (part["member"].to_list(), part["t"].to_list(), part["id"].to_list())
        for (day,), part in entries.partition_by("day", as_dict=True).items()
    }
    tables = session.state.ranks.setdefault(rule.name, {})

    def fill(day_number: int, day: date) -> None:
        share = days.get(day_number)
        if share is not None:
            table = tables.setdefault(calendar.period_key(rank.period, day), {})
            for member, at, event_id in zip(*share, strict=True):
                table.setdefault(member, ["0", at, event_id])

    return fill


def _earned(
    chunk: _Chunk, member_parts: list[pl.DataFrame], currency: str, sources: tuple[str, ...]
) -> pl.DataFrame:
    """The points each member earned each day in `currency` (from `sources`, when named)
    by the per-member stages, and when the last of them was earned (day, mid, paid, t):
    what `track_points` counts for them (awards before budgets)."""
    import polars as pl

    forms = chunk.forms
    counted = [
        form
        for form, row in enumerate(forms.rows)
        if row[0] == "award"
        and row[1].currency == currency
        and (not sources or row[1].name in sources)
    ]
    paying = [
        part.select(pl.col("seq", "form", "paid").cast(pl.Int64))
        for part in member_parts
        if "paid" in part.columns and part.height
    ]
    schema = {"day": pl.Int32, "mid": pl.Int64, "paid": pl.Int64, "t": pl.Int64}
    if not paying or not counted:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat(paying)
        .filter(pl.col("paid").is_not_null() & pl.col("form").is_in(counted))
        .join(chunk.events.select("seq", "day", "mid", "t"), on="seq")
        .group_by("day", "mid", maintain_order=True)
        .agg(pl.col("paid").sum(), pl.col("t").max())
        .select([pl.col(c).cast(t) for c, t in schema.items()])
    )
