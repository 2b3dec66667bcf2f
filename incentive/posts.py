"""Chat-ready posts: boards written as the text an officer pastes into a group.

A board's `post` clause gives a heading and a line in the operators' own words:

    board groups {
      group per season by points
      each day
      post "【写作营】{day} 各组累计金币" line "{rank}. {name} {value} 币"
    }

`incentive run --post groups,not_yet` (or `render_posts`) writes, for every
time the named boards close, one post: each board's heading, then a line per
place (a `by missing` board: a line per team, its members joined by `join`),
boards in the order named. A post is read from the board records alone, so it
never changes what the engine pays or lists. `at 9:00` sends a board's part at
the first 09:00 (local) after its close: the 9:00 post of the night's results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from incentive.program import (
    DEFAULT_JOIN,
    DEFAULT_LEAGUE_LINE,
    DEFAULT_LINE,
    DEFAULT_MISSING_LINE,
    PostSpec,
    Program,
    RuleSpec,
)
from incentive.records import Record

_MOVES = {"promoted": "↑", "demoted": "↓"}  # a league board's `{move}`
_COHORT = re.compile(r" cohort (\d+) of \d+ by ")  # a league board line's cohort, from its reason


@dataclass(frozen=True)
class Post:
    """One message: when it goes out (local ISO time), the boards in it, its text."""

    at: str
    boards: tuple[str, ...]
    text: str


class UnknownBoard(ValueError):
    """A name given to `--post` that is not one of the scheme's boards."""


def render_posts(
    program: Program, records: Iterable[Record], boards: Sequence[str], day: date | None = None
) -> list[Post]:
    """The posts of the named boards, in time order; with `day`, only those sent that
    local date. Raises UnknownBoard for a name that is not a board of the scheme."""
    specs = {rule.name: rule for rule in program.rules if rule.board}
    for name in boards:
        if name not in specs:
            known = ", ".join(f"`{b}`" for b in specs) or "none"
            raise UnknownBoard(f"`{name}` is not a board of the scheme (boards: {known})")
    wanted = list(dict.fromkeys(boards))
    # board -> close time (the records' `at`) -> its records, in record order
    closes: dict[str, dict[str, list[Record]]] = {name: {} for name in wanted}
    for record in records:
        if record.kind == "board" and record.rule in closes and record.at is not None:
            closes[record.rule].setdefault(record.at, []).append(record)
    # post time (local ISO) -> board -> (close, records)
    sending: dict[str, dict[str, tuple[datetime, list[Record]]]] = {}
    for name in wanted:
        spec = specs[name].post
        for stamp, rows in closes[name].items():
            closed = datetime.fromisoformat(stamp)
            sent = _send_time(program, closed, spec)
            sending.setdefault(sent.isoformat(), {})[name] = (closed, rows)
    posts = []
    for sent_at in sorted(sending, key=datetime.fromisoformat):
        sent = datetime.fromisoformat(sent_at)
        if day is not None and sent.date() != day:
            continue
        parts, names = [], []
        for name in wanted:
            if name in sending[sent_at]:
                closed, rows = sending[sent_at][name]
            elif _nobody_missing(program, specs[name], sent):
                closed, rows = _last_close(program, sent), []
            else:
                continue
            parts.append(_section(program, specs[name], sent, closed, rows))
            names.append(name)
        posts.append(Post(sent_at, tuple(names), "\n\n".join(parts)))
    return posts


def _send_time(program: Program, closed: datetime, spec: PostSpec | None) -> datetime:
    """When a board's part goes out: at its close, or at the first `at` time after it."""
    zone = program.calendar.zone
    local = closed.astimezone(zone)
    if spec is None or spec.at is None:
        return local
    candidate = _at(program, local.date(), spec.at)
    if candidate < local:
        candidate = _at(program, local.date() + timedelta(days=1), spec.at)
    return candidate


def _at(program: Program, day: date, moment: time) -> datetime:
    calendar = program.calendar
    return calendar.to_utc(datetime.combine(day, moment)).astimezone(calendar.zone)


def _last_close(program: Program, sent: datetime) -> datetime:
    """The latest day's close at or before `sent`."""
    calendar = program.calendar
    return calendar.day_start(calendar.day_of(sent)).astimezone(calendar.zone)


def _nobody_missing(program: Program, rule: RuleSpec, sent: datetime) -> bool:
    """A daily `by missing` board with nobody to list has no records; it still has its
    part (its heading, {count} 0) in a post sent at the time of day it goes out."""
    rank = rule.rank
    if rank is None or rank.measure != "missing" or rank.period != "day":
        return False
    spec = rule.post
    due = program.calendar.day_ends if spec is None or spec.at is None else spec.at
    return sent.timetz().replace(tzinfo=None) == due


def _section(
    program: Program, rule: RuleSpec, sent: datetime, closed: datetime, rows: list[Record]
) -> str:
    spec = rule.post
    rank = rule.rank
    assert rank is not None or rule.league_board is not None
    missing = rank is not None and rank.measure == "missing"
    lines: list[str] = []
    if rule.league_board is not None:  # a league's cohorts, the top tier first
        template = spec.line if spec is not None and spec.line else DEFAULT_LEAGUE_LINE
        for record in rows:
            cohort = _COHORT.search(record.reason or "")
            fields = {
                "rank": "" if record.rank is None else str(record.rank),
                "name": record.member or "",
                "member": record.member or "",
                "value": record.value or "",
                "tier": record.team or "",
                "now": record.level or "",
                "move": _MOVES.get(record.code or "", ""),
                "cohort": cohort.group(1) if cohort else "",
            }
            lines.append(" ".join(template.format(**fields).split()))
        count = len(rows)
    elif missing:
        template = spec.line if spec is not None and spec.line else DEFAULT_MISSING_LINE
        join = spec.join if spec is not None and spec.join is not None else DEFAULT_JOIN
        by_team: dict[str, list[str]] = {}
        for record in rows:
            by_team.setdefault(record.team or "", []).append(record.member or "")
        for team, members in by_team.items():
            fields = {"team": team, "members": join.join(members), "count": str(len(members))}
            lines.append(template.format(**fields).strip())
        count = len(rows)
    else:
        template = spec.line if spec is not None and spec.line else DEFAULT_LINE
        for record in rows:
            name = record.team if record.team is not None else record.member or ""
            fields = {
                "rank": "" if record.rank is None else str(record.rank),
                "name": name,
                "team": record.team or "",
                "member": record.member or "",
                "value": record.value or "",
                "percent": _percent(record.value),
            }
            lines.append(template.format(**fields).rstrip())
        count = len(rows)
    calendar = program.calendar
    day = calendar.day_of(closed - timedelta(microseconds=1))
    heading = spec.heading if spec is not None else "{board} {day}"
    head = heading.format(
        board=rule.name,
        day=day.isoformat(),
        date=sent.date().isoformat(),
        time=sent.strftime("%H:%M"),
        count=str(count),
    )
    return "\n".join([head, *lines])


def _percent(value: str | None) -> str:
    """A rate (0.95) as a percentage (95.0%); empty for no value."""
    if not value:
        return ""
    try:
        share = Decimal(value)
    except ArithmeticError:
        return ""
    if not share.is_finite():
        return ""
    return f"{(share * 100).quantize(Decimal('0.1'))}%"
