"""Reading plain input: event files as frames of time-ordered, dated events.

The plan takes an input only when it is plain: every line one flat JSON object in
the strict form of `_PLAIN` (strings without escapes, numbers without exponents),
ids unique, times whole, every attribute a rule reads present and of its type. One
regular expression and one JSON decode decide it for a whole block of lines
(`_decode`); anything else returns None and the loop reads the input (and reports
what it finds). Files are read in blocks of whole lines (`BLOCK_BYTES`, about
170,000 events), so that memory grows with the members and the open periods, not
with the events. `_instants` gives each event its UTC instant, and `_dated` its day
as the scheme's `Calendar` says (asked once per distinct day, never per event), its
place in the input, its member's number in the block and its local time as records
write it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incentive.columnar.conditions import _column
from incentive.columnar.plan import ColumnarPlan
from incentive.events import MAX_LINE_BYTES, RESERVED_FIELDS
from incentive.program import Program, ValueType

if TYPE_CHECKING:
    import polars as pl


_WS = r"[ \t]*"


_TEXT = r'"[^"\\\x00-\x1f]*"'


_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})?$"


# A plain line: one flat JSON object, `"key":` with nothing between the quote and the
# colon (as JSON writers put it), strings without escapes. Then each `":` in a line
# ends a key, and counting them counts the keys. Numbers without an exponent and
# below 10^300: every one is finite (the loop refuses a line with an infinite one).
_PAIR = (
    rf'"[^"\\\x00-\x1f]+":{_WS}(?:{_TEXT}|-?(?:0|[1-9][0-9]{{0,299}})(?:\.[0-9]+)?'
    r"|true|false|null)"
)


_PLAIN = rf"^\{{{_WS}{_PAIR}(?:{_WS},{_WS}{_PAIR})*{_WS}\}}{_WS}\r?$"


def _mistyped_pattern(attributes: dict[str, ValueType]) -> str:
    """A value the plan would read otherwise than the loop: a reserved field that is
    not filled text; a number attribute that is not whole or beyond 15 digits (the
    loop's limit is 10^15), text or a bool that is not one."""
    starts = {"number": r"(?:[^-0-9n \t]|-?[0-9]+[.eE]|-?[0-9]{16})", "text": r'[^"n \t]'}
    starts["bool"] = r"[^tfn \t]"
    bad = [rf'"(?:id|type|member|at)":{_WS}(?:[^" \t]|"")']
    for kind, start in starts.items():
        names = sorted(n for n, k in attributes.items() if k == kind)
        if names:
            bad.append(rf'"(?:{"|".join(re.escape(n) for n in names)})":{_WS}{start}')
    return "|".join(bad)


# A chunk of the input: about 170,000 events at a time, so that memory grows with the
# members and the open periods, not with the events (state is carried between chunks).
BLOCK_BYTES = 16 << 20


def _blocks(paths: Sequence[Path]) -> Iterator[bytes]:
    """The files' bytes, a block of whole lines at a time (`_lines_of` reads one)."""
    for path in paths:
        with path.open("rb") as file:
            rest = b""
            while data := file.read(BLOCK_BYTES):
                data = rest + data
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                if cut:
                    yield data[:cut]
            if rest:
                yield rest


def _lines_of(data: bytes) -> pl.DataFrame:
    import polars as pl

    return pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator="\x01",  # never in a plain line: a line is one field
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
        encoding="utf8",  # strict: a file in another encoding is the loop's to refuse
    )


def _decode(plan: ColumnarPlan, lines: pl.DataFrame) -> pl.DataFrame | None:
    """A block's events as columns, or None when a line is not plain."""
    import polars as pl

    program = plan.program
    attributes = {n: k for n, k in plan.attributes.items() if n not in RESERVED_FIELDS}
    fields: dict[str, Any] = {name: pl.String for name in ("id", "type", "member", "at")}
    dtypes = {"number": pl.Int64, "text": pl.String, "bool": pl.Boolean}
    for name, kind in attributes.items():
        fields[name] = dtypes[kind]
    if lines.height == 0 or lines["line"].null_count():
        return None
    line = pl.col("line")
    if program.teams:  # a team named by the event itself is the loop's to place
        named = "|".join(re.escape(kind) for kind in program.teams)
        if lines.select(line.str.contains(f'"(?:{named})":').any()).item():
            return None
    checked = lines.select(
        plain=line.str.contains(_PLAIN).all(),
        short=(line.str.len_bytes() < MAX_LINE_BYTES).all(),
        typed=~line.str.contains(_mistyped_pattern(attributes)).any(),
    ).row(0)
    if not all(checked):
        return None
    # As many keys as fields read (null values counted apart): no other key, and none
    # repeated. Lines with other keys are looked at again, key by key.
    nulls = (
        line.str.count_matches(rf":{_WS}null")
        if lines.select(line.str.contains("null", literal=True).any()).item()
        else pl.lit(0, pl.UInt32)
    )
    events = lines.select(
        "line",
        keys=line.str.count_matches('":', literal=True),
        nulls=nulls,
        event=line.str.json_decode(pl.Struct(fields)),
    ).unnest("event")
    read = pl.sum_horizontal([pl.col(n).is_not_null().cast(pl.UInt32) for n in fields])
    others = events.filter(read + pl.col("nulls") != pl.col("keys"))
    if others.height:
        names = pl.col("line").str.extract_all(r'"[^"]*":')
        if not others.select((names.list.n_unique() == names.list.len()).all()).item():
            return None  # a repeated key: the loop refuses the line
    # Every attribute a rule reads must be there: a missing one is the loop's to report.
    lacking = [
        (pl.col("type") == event_type) & pl.col(name).is_null()
        for event_type, types in program.attribute_types.items()
        for name in types
        if name not in RESERVED_FIELDS
    ]
    ok = events.select(
        named=pl.col("id").is_not_null().all(),
        unique=pl.col("id").n_unique() == pl.len(),
        present=~pl.any_horizontal(lacking).any() if lacking else pl.lit(True),
        timed=pl.col("at").str.contains(_AT).all(),
        # " ana " is read as ana: names that need trimming are the loop's to read
        trimmed=pl.all_horizontal(
            (pl.col(n) == pl.col(n).str.strip_chars()).all() for n in ("member", "type")
        ),
    ).row(0)
    if not all(ok):
        return None
    events = events.drop("line", "keys", "nulls").rename({n: _column(n) for n in attributes})
    known = program.known_events
    if known is not None and not events["type"].is_in(sorted(known)).all():
        return None  # an unknown type is refused by the loop with its own record
    return events


def _instants(program: Program, events: pl.DataFrame) -> pl.DataFrame | None:
    """Each event's instant `t` (microseconds, UTC); None when a local time is one that
    daylight saving skips (the loop's rule answers it)."""
    import polars as pl

    calendar = program.calendar
    at = pl.col("at")
    naive = (
        at.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
        .dt.replace_time_zone(calendar.zone_name, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    instant = naive
    plain = at.str.len_bytes() == len("2026-03-01T09:00:00")
    if not events.select(plain.all()).item():
        offset = (
            at.str.replace(r"Z$", "+00:00")
            .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%:z", strict=False)
            .dt.convert_time_zone("UTC")
        )
        instant = pl.when(plain).then(naive).otherwise(offset)
    events = events.with_columns(t=instant.dt.epoch("us"))
    return None if events["t"].null_count() else events


def _dated(program: Program, events: pl.DataFrame) -> pl.DataFrame | None:
    """Days, positions, member numbers and record times of time-ordered events; None
    when a day is outside what the plan takes (far years, outside the season)."""
    import polars as pl

    calendar = program.calendar
    t = events["t"]
    first, last = _utc(int(t[0])), _utc(int(t[-1]))
    if first.year < 1973 or last.year > 2999:
        return None  # old zone offsets had seconds; far years are the loop's
    d0, d1 = calendar.day_of(first), calendar.day_of(last)
    days = [d0 + timedelta(days=n) for n in range((d1 - d0).days + 2)]
    starts = pl.Series([_micros(calendar.day_start(d)) for d in days], dtype=pl.Int64)
    index = starts.search_sorted(t, side="right") - 1
    events = events.with_columns(
        day=pl.lit(d0.toordinal(), pl.Int32) + index.cast(pl.Int32),
        seq=pl.int_range(pl.len(), dtype=pl.Int64),
        local=pl.col("member").cast(pl.Categorical).to_physical().cast(pl.Int64),
        stamp=pl.from_epoch("t", "us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(calendar.zone_name)
        .dt.to_string("%Y-%m-%dT%H:%M:%S%:z"),
    )
    if calendar.season is not None:
        first_day, last_day = calendar.season
        lo, hi = events.select(lo=pl.col("day").min(), hi=pl.col("day").max()).row(0)
        if lo < first_day.toordinal() or hi > last_day.toordinal():
            return None  # outside the season: the loop writes those records
    return events


def _utc(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _micros(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
