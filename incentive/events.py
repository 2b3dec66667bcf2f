"""Events in: JSON Lines, CSV with a header, YAML lists.

Readers never raise on a bad line: they yield a `BadLine` with its file, line
number and reason, and carry on, so one broken line costs nothing else.
"""

from __future__ import annotations

import codecs
import collections
import csv
import hashlib
import io
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Literal, cast

import msgspec
import orjson
import yaml

from incentive.calendar import FIRST_YEAR, LAST_YEAR, Calendar, in_range
from incentive.diagnostics import EncodingProblem, did_you_mean
from incentive.i18n import _

EventFormat = Literal["jsonl", "csv", "yaml"]
RESERVED_FIELDS = frozenset(("id", "type", "member", "at"))
MAX_LINE_BYTES = 1_000_000
MAX_YAML_BYTES = 50_000_000
MAX_YAML_ALIASES = 100
MAX_YAML_EXPANDED_NODES = 5_000_000


# A msgspec Struct rather than a frozen dataclass: one is made per event, and a frozen
# dataclass's __init__ (a setattr per field) cost more than reading the line. gc=False:
# the garbage collector neither counts nor scans Events (a session keeps the events fed
# since its last checkpoint); an Event is frozen and made from its attributes, so it
# cannot be part of a reference cycle unless a caller puts it into its own attributes.
class Event(msgspec.Struct, frozen=True, gc=False):
    """One thing a member did, with its time as a UTC instant."""

    id: str
    type: str
    member: str
    at: datetime
    attributes: Mapping[str, Any] = msgspec.field(default_factory=dict)
    fingerprint: str = ""  # hash of the content (not the id): the same id must mean the same event
    source: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read as an event."""

    reason: str
    source: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read an export that is not in the engine's own shape.

    `time_format`: a `strptime` format for `at` (`%Y/%m/%d %H:%M`), tried before
    ISO 8601. `columns`: the export's names for fields (`{"类型": "type"}`), renamed
    before anything else reads the event."""

    time_format: str | None = None
    columns: Mapping[str, str] | None = None


NO_OPTIONS = ReadOptions()


def event_model() -> Any:
    """The shape of an event on input, as a pydantic model (`incentive schema events`
    exports it as JSON Schema). Made when asked: reading events never needs pydantic,
    and importing it is a tenth of a second of every run's start."""
    from pydantic import BaseModel, ConfigDict, Field

    class EventModel(BaseModel):
        """The shape of an event on input (exported as JSON Schema)."""

        model_config = ConfigDict(extra="allow")

        type: str = Field(description="what happened: checkin, homework, message, ...")
        member: str = Field(description="who did it")
        at: str = Field(description="ISO 8601; without an offset it is read in the scheme's zone")
        id: str | None = Field(None, description="unique id; derived from the content when absent")

    return EventModel


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: Any) -> bool:
    """A value orjson writes exactly as `json.dumps` does (floats are written differently)."""
    kind = value.__class__
    return kind is str or kind is bool or (kind is int and -(2**63) <= value < 2**63)


def content_fingerprint(
    type_: str, member: str, at: datetime, attributes: Mapping[str, Any]
) -> str:
    if all(_plain(value) for value in attributes.values()):
        # The usual event: orjson gives json.dumps's exact bytes, at a fraction of the cost.
        try:
            utc = at if at.tzinfo is UTC else at.astimezone(UTC)
            fast = orjson.dumps([type_, member, utc.isoformat(), sorted(attributes.items())])
        except (orjson.JSONEncodeError, TypeError):
            pass  # a lone surrogate: the standard encoder decides, as before
        else:
            return hashlib.sha256(fast).hexdigest()[:16]
    body = json.dumps(
        [
            type_,
            member,
            at.astimezone(UTC).isoformat(),
            sorted((k, _canonical(v)) for k, v in attributes.items()),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


# (zone, "YYYY-MM-DDTHH:MM") -> the zone's offset at that local minute (fold=0): every
# naive time in one minute has the same offset (since 1973 zones change at whole minutes;
# Monrovia's 1972 change did not).
_OFFSETS: dict[tuple[str, str], timedelta] = {}


def _local_to_utc(moment: datetime, text: str, calendar: Calendar) -> datetime:
    if moment.year < 1973 or len(text) < 16 or text[13] != ":":
        return calendar.to_utc(moment)
    key = (calendar.zone_name, text[:16])
    offset = _OFFSETS.get(key)
    if offset is None:
        if len(_OFFSETS) > 100_000:
            _OFFSETS.clear()
        utc = calendar.to_utc(moment)
        offset = _OFFSETS[key] = moment - utc.replace(tzinfo=None)
        return utc
    return (moment - offset).replace(tzinfo=UTC)


def parse_time(value: Any, calendar: Calendar, time_format: str | None = None) -> datetime | None:
    """An event time as a UTC instant; naive times are local to the scheme's zone.
    `time_format` (strptime) is tried first, then ISO 8601."""
    if time_format is not None and isinstance(value, str):
        try:
            moment = datetime.strptime(value.strip(), time_format)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                return calendar.to_utc(moment)
            return moment.astimezone(UTC)
    if value.__class__ is str and 0 < len(value) <= 64:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            return _local_to_utc(moment, text, calendar)
        return moment.astimezone(UTC)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and 0 < len(value) <= 64:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        return calendar.to_utc(moment)
    return moment.astimezone(UTC)


SECONDS = tuple(timedelta(seconds=n) for n in range(60))
_dumps = orjson.dumps
_sha256 = hashlib.sha256

# (zone, "YYYY-MM-DDTHH:MM") -> that local minute's first second in UTC, and its ISO
# text up to the seconds; None when the minute is not a time the engine reads.
_Minute = tuple[datetime, str] | None
_MINUTES: dict[tuple[str, str], _Minute] = {}


def _utc_minute(text: str, calendar: Calendar) -> tuple[datetime, str] | None:
    key = (calendar.zone_name, text[:16])
    known = _MINUTES.get(key, False)
    if known is not False:
        return known  # type: ignore[return-value]
    if len(_MINUTES) > 100_000:
        _MINUTES.clear()
    found: tuple[datetime, str] | None = None
    event = _general_event({"type": "t", "member": "m", "at": text[:16] + ":00"}, calendar)
    if isinstance(event, Event) and event.at.year >= 1973:  # whole-minute offsets since
        found = (event.at, event.at.isoformat()[:17])
    _MINUTES[key] = found
    return found


# a time's seconds as _plain_event reads them: "00" to "59" and nothing else
_SECONDS_TEXT = {f"{n:02d}": n for n in range(60)}


def _plain_event(
    raw: dict[str, Any], calendar: Calendar, source: str | None, line: int | None
) -> Event | None:
    """The usual line read in a third of the general path's time: text fields that need
    no trimming, a local time to the second, plain values. The same Event the general
    path makes, or None to take that path (which also says what is wrong)."""
    get = raw.get
    type_, member, at_text = get("type"), get("member"), get("at")
    if (
        type_.__class__ is not str
        or member.__class__ is not str
        or at_text.__class__ is not str
        or not type_
        or not member
        or type_ != type_.strip()
        or member != member.strip()
        or len(at_text) != 19
        or at_text[10] != "T"
        or at_text[16] != ":"
        or not at_text.isascii()
    ):
        return None
    seconds = at_text[17:]
    second = _SECONDS_TEXT.get(seconds)  # two ASCII digits, at most 59
    known = _MINUTES.get((calendar.zone_name, at_text[:16]), False)
    minute = _utc_minute(at_text, calendar) if known is False else cast(_Minute, known)
    if minute is None or second is None:
        return None
    at = minute[0] + SECONDS[second]  # datetime.replace costs ten times an addition
    attributes = {}
    for key, value in raw.items():
        if value is None or key in RESERVED_FIELDS:
            continue
        kind = value.__class__  # _plain(value), inline: one call fewer per attribute
        if not (kind is str or kind is bool or (kind is int and -(2**63) <= value < 2**63)):
            return None  # floats, lists, big numbers: the general path's
        attributes[key] = value
    try:
        # orjson gives json.dumps's bytes: the fingerprint content_fingerprint gives
        body = _dumps([type_, member, f"{minute[1]}{seconds}+00:00", sorted(attributes.items())])
    except (orjson.JSONEncodeError, TypeError):
        return None  # a lone surrogate
    fingerprint = _sha256(body).hexdigest()[:16]
    event_id = get("id")
    if event_id is None or event_id == "":
        event_id = "h-" + fingerprint  # the same hash serves as the id: computed once
    elif event_id.__class__ is not str or not event_id.isascii():
        return None
    return Event(event_id, type_, member, at, attributes, fingerprint, source, line)


def make_event(
    raw: Any,
    calendar: Calendar,
    source: str | None = None,
    line: int | None = None,
    options: ReadOptions = NO_OPTIONS,
) -> Event | BadLine:
    """Validate one raw mapping into an Event, or say why it is not one."""
    if raw.__class__ is dict and options.time_format is None and not options.columns:
        event = _plain_event(raw, calendar, source, line)
        if event is not None:
            return event
    return _general_event(raw, calendar, source, line, options)


def _general_event(
    raw: Any,
    calendar: Calendar,
    source: str | None = None,
    line: int | None = None,
    options: ReadOptions = NO_OPTIONS,
) -> Event | BadLine:
    if not isinstance(raw, dict):
        return BadLine("an event must be an object with `type`, `member` and `at`", source, line)
    if options.columns:
        raw = {options.columns.get(key, key): value for key, value in raw.items()}
    for name in ("type", "member", "at"):
        if raw.get(name) in (None, ""):
            return BadLine(f"missing `{name}`", source, line)
    type_ = raw["type"]
    if not isinstance(type_, str):
        return BadLine("`type` must be text", source, line)
    member = raw["member"]
    if isinstance(member, bool) or not isinstance(member, str | int):
        return BadLine("`member` must be text", source, line)
    # " ana " from a hand-edited sheet is ana, not a second member
    member = str(member).strip()
    if not member:
        return BadLine("missing `member`", source, line)
    type_ = type_.strip()
    try:
        at = parse_time(raw["at"], calendar, options.time_format)
    except (OverflowError, ValueError):
        at = None  # a time next to year 1 or 9999 that its zone's offset pushes beyond
        if isinstance(raw["at"], str):
            return BadLine(_out_of_range(raw["at"]), source, line)
    if at is None:
        return BadLine(_not_a_time(raw["at"], options.time_format), source, line)
    if not in_range(at) or (
        # at the edges, the local date may be a year off the UTC one
        at.year in (FIRST_YEAR, LAST_YEAR) and not in_range(calendar.day_of(at))
    ):
        return BadLine(_out_of_range(str(raw["at"])), source, line)
    attributes = {}
    for key, value in raw.items():
        if value is None or key in RESERVED_FIELDS:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            return BadLine(f"attribute `{key}` is not a finite number", source, line)
        attributes[key] = value
    try:
        fingerprint = content_fingerprint(type_, member, at, attributes)
    except UnicodeEncodeError as err:
        return BadLine(_not_unicode(err), source, line)
    except (RecursionError, ValueError):
        # nested deeper than the encoder goes (library input), or a whole number of
        # more than 4,300 digits
        return BadLine("an attribute's value is too large or too deeply nested", source, line)
    event_id = raw.get("id")
    if event_id is None or event_id == "":
        event_id = "h-" + fingerprint
    elif isinstance(event_id, bool) or not isinstance(event_id, str | int):
        return BadLine("`id` must be text", source, line)
    elif isinstance(event_id, str) and not event_id.isascii():
        try:
            event_id.encode("utf-8")
        except UnicodeEncodeError as err:
            return BadLine(_not_unicode(err), source, line)
    return Event(str(event_id), type_, member, at, attributes, fingerprint, source, line)


# Exports' habits, and the --time-format that reads them.
_TIME_HABITS = (
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}$"), "%Y/%m/%d %H:%M:%S"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}$"), "%Y/%m/%d %H:%M"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "%Y/%m/%d"),
    (re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2} \d{1,2}:\d{2}$"), "%Y.%m.%d %H:%M"),
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 ?\d{1,2}:\d{2}$"), "%Y年%m月%d日 %H:%M"),
    (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"), "%Y年%m月%d日"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$"), "%d/%m/%Y %H:%M` or `%m/%d/%Y %H:%M"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"), "%d/%m/%Y` or `%m/%d/%Y"),
)


def _not_a_time(value: Any, time_format: str | None) -> str:
    """Why `at` is not a time, with a time that works and, for a known export habit,
    the --time-format that reads it."""
    shown = str(value)[:40]
    if time_format is not None:
        return f"`at` is neither `{time_format}` (--time-format) nor ISO 8601: {shown!r}"
    reason = f"`at` is not an ISO 8601 time: {shown!r} (write e.g. 2026-03-02T09:00:00"
    text = shown.strip()
    for pattern, habit in _TIME_HABITS:
        if pattern.match(text):
            return reason + f", or read it with `--time-format '{habit}'`)"
    return reason + ")"


def _out_of_range(text: str) -> str:
    return f"`at` {text[:40]!r} is outside the years incentive reads ({FIRST_YEAR} to {LAST_YEAR})"


def _not_unicode(err: UnicodeEncodeError) -> str:
    bad = err.object[err.start : err.end] if isinstance(err.object, str) else ""
    code = f"\\u{ord(bad[0]):04x}" if bad else "a surrogate"
    return f"the text holds {code}, half of a surrogate pair, which is not a character"


# ---- readers ------------------------------------------------------------------------


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key `{key}`")
        out[key] = value
    return out


# A key in JSON text: a closing quote, maybe spaces, a colon.
_KEY = re.compile(r'"[ \t\r\n]*:')


def _decode_line(text: str) -> Any:
    """One JSON line, duplicate keys refused; raises ValueError with the reason.

    orjson first: when the line holds one flat object and exactly as many keys as
    the object has, no key was repeated. Anything else (nested objects, a `":`
    inside a string, what orjson refuses) is decoded again by the standard module,
    which keeps the one behaviour for every line."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        raw = None
    else:
        if raw.__class__ is dict and _keys_in(text) == len(raw) and _flat(raw):
            return raw
    return json.loads(text, object_pairs_hook=_reject_duplicate_keys)


def _keys_in(text: str) -> int:
    """How many keys a JSON object's text holds (and `":` inside strings: those only
    make the count too high, which sends the line to the standard module)."""
    if '" ' in text or '"\t' in text or '"\r' in text or '"\n' in text:
        return len(_KEY.findall(text))
    return text.count('":')  # no space between a quote and a colon: the same count


def _flat(raw: dict[str, Any]) -> bool:
    """No value orjson may read otherwise than the standard module: it turns whole
    numbers beyond 64 bits into floats, and nested values are not checked here."""
    for value in raw.values():
        kind = value.__class__
        if kind is float and not -9.2e18 < value < 9.2e18:
            return False
        if kind is list or kind is dict:
            return False
    return True


def _json_reason(err: ValueError) -> str:
    """Why a line is not JSON, with the column where the decoder stopped."""
    message = str(err)
    if message.startswith("duplicate key"):
        return message
    if "integer string conversion" in message:
        return "a whole number of more than 4,300 digits"
    if isinstance(err, json.JSONDecodeError):
        if not err.doc[err.pos :].strip():
            return "not valid JSON: the line ends before the JSON value does (cut short?)"
        what = err.msg.removesuffix(" at")  # "Invalid control character at"
        return f"not valid JSON: {what[:1].lower()}{what[1:]} at column {err.colno}"
    return "not valid JSON"


def _other_format(text: str, err: ValueError | RecursionError) -> str | None:
    """The first line of a .jsonl file that is not JSON but clearly another format:
    the whole file is then that format, and one hint says so (not one per line)."""
    stripped = text.strip()
    if stripped.startswith("[") and not isinstance(err, RecursionError):
        return (
            "the file is one JSON array, not JSON Lines (one event per line): use "
            "`--events-format yaml`, which reads a JSON array, or write one event a line"
        )
    cells = {cell.strip().strip('"').lower() for cell in re.split(r"[,;\t]", stripped)}
    if {"type", "member"} <= cells or {"type", "at"} <= cells:
        return "the file looks like CSV with a header, not JSON Lines: use `--events-format csv`"
    return None


def read_jsonl(
    stream: IO[str], calendar: Calendar, source: str | None, options: ReadOptions = NO_OPTIONS
) -> Iterator[Event | BadLine]:
    first = True
    hint: str | None = None  # the first line says the file is in another format
    hinted = 0
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        if first:
            hinted = number
        if len(text) > MAX_LINE_BYTES:
            yield BadLine(f"line longer than {MAX_LINE_BYTES:,} characters", source, number)
            continue
        try:
            raw = _decode_line(text)
        except (RecursionError, ValueError) as err:
            if first:
                hint = _other_format(text, err)
                first = False
                if hint is not None:
                    # The hint on the first line; the lines after it are still read, so
                    # that a stray `[` first costs no good line below it.
                    yield BadLine(hint, source, number)
                    continue
            if hint is not None:
                yield BadLine(f"not JSON Lines either (see line {hinted})", source, number)
                continue
            if isinstance(err, RecursionError):
                yield BadLine("not valid JSON: nested too deeply", source, number)
            else:
                yield BadLine(_json_reason(err), source, number)
            first = False
            continue
        if first and isinstance(raw, list) and raw and all(isinstance(x, dict) for x in raw):
            # `[{...}, {...}]` on one line: a JSON array export
            hint = _other_format("[", ValueError())
            yield BadLine(hint or "", source, number)
            first = False
            continue
        first = False
        yield make_event(raw, calendar, source, number, options)


def _delimiter(stream: IO[str]) -> tuple[str, IO[str] | Iterator[str]]:
    """The delimiter of a CSV export, from its header line: `,`, or `;` (Excel where the
    decimal separator is a comma) or a tab, when the header has those and no comma."""
    header = stream.readline()
    rest: Iterator[str] = itertools.chain([header], stream)
    if header.count(",") == 0:
        for candidate in (";", "\t", "|"):
            if header.count(candidate) > 0:
                return candidate, rest
    return ",", rest


def read_csv(
    stream: IO[str], calendar: Calendar, source: str | None, options: ReadOptions = NO_OPTIONS
) -> Iterator[Event | BadLine]:
    delimiter, raw_lines = _delimiter(stream)
    lines = _Lines(raw_lines)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    header = [h.strip() for h in header]
    if options.columns:
        header = [options.columns.get(h, h) for h in header]
    missing = [name for name in ("type", "member", "at") if name not in header]
    if missing and len(header) > 1:
        # Every row would be "missing `type`": say it once, about the header.
        yield BadLine(_header_reason(header, missing), source, 1)
        return
    duplicates = {h for h in header if header.count(h) > 1}
    if duplicates:
        yield BadLine(f"the header repeats column `{sorted(duplicates)[0]}`", source, 1)
        return
    while True:
        lines.taken.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield BadLine(f"not valid CSV: {err}", source, lines.last)
            continue
        taken = list(lines.taken)
        if len(taken) > 1 and _swallows(row, len(header), delimiter):
            # An unclosed `"` ran on into the next lines, which are rows of their own:
            # report its line, and read the others again, each on its own.
            yield BadLine(
                f'an unclosed `"` runs on into the next {len(taken) - 1} line(s), which '
                "are read on their own",
                source,
                taken[0][0],
            )
            lines.back.extendleft(reversed(taken[1:]))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield BadLine(f"expected {len(header)} columns, found {len(row)}", source, lines.last)
            continue
        raw = {k: v for k, v in zip(header, row, strict=True) if v != ""}
        yield make_event(raw, calendar, source, lines.last, options)


class _Lines:
    """The lines a csv.reader reads, numbered, with the lines of the last row kept and
    lines to read again put back in front."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = iter(lines)
        self.back: collections.deque[tuple[int, str]] = collections.deque()
        self.taken: list[tuple[int, str]] = []
        self.count = 0  # lines read from the file, the header's included
        self.last = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.back:
            number, text = self.back.popleft()
        else:
            text = next(self.lines)
            self.count += 1
            number = self.count
        self.taken.append((number, text))
        self.last = number
        return text


def _swallows(row: list[str], columns: int, delimiter: str) -> bool:
    """A cell spanning lines whose later lines hold as many delimiters as a row: rows
    swallowed by a quote left open, not text with a line break in it."""
    for cell in row:
        if "\n" in cell or "\r" in cell:
            later = cell.replace("\r", "\n").split("\n")[1:]
            if any(part.count(delimiter) >= columns - 1 > 0 for part in later):
                return True
    return False


# What exports usually call the fields in Chinese, so that `--columns` is suggested
# by meaning (`时间=at`) rather than by position (`编号,类型,成员,时间` starts with the id).
_USUAL_NAMES = {
    "type": ("类型", "事件", "事件类型", "行为", "动作"),
    "member": ("成员", "用户", "会员", "学员", "用户名", "昵称", "姓名"),
    "at": ("时间", "日期", "发生时间", "提交时间", "时间戳"),
    "id": ("编号", "序号", "事件编号"),
}


def _header_reason(header: list[str], missing: list[str]) -> str:
    names = ", ".join(f"`{name}`" for name in missing)
    shown = ", ".join(h[:30] for h in header[:6]) + (", ..." if len(header) > 6 else "")
    near = {
        name: did_you_mean(name, header)
        or next((h for h in header if h in _USUAL_NAMES.get(name, ())), None)
        for name in missing
    }
    meant = [f"{found}={name}" for name, found in near.items() if found]
    # the fields not recognised: the other columns in turn, Chinese names first
    taken = {found for found in near.values() if found} | set(_USUAL_NAMES["id"])
    rest = [h for h in header if h not in taken]
    rest = [h for h in rest if not h.isascii()] or rest
    unfound = [name for name, found in near.items() if not found]
    guessed = [f"{h}={name}" for h, name in zip(rest, unfound, strict=False)]
    example = ",".join(meant + guessed)
    return (
        f"the header has no {names} column (it has {shown}); name the columns with "
        f"`--columns {example}`"
    )


class _StrictYamlLoader(yaml.SafeLoader):
    """safe_load that rejects duplicate keys and alias bombs, and reads YAML 1.2-style scalars.

    YAML 1.1 turns `NO` into false and `12:30` into 750; operators' files mean the text.
    """

    aliases_seen = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key `{key}`", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# A leading zero keeps the text: member `0012` is an id, not the number 12 (nor 10,
# YAML 1.1's octal reading).
_StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _check_expansion(root: Any) -> None:
    """Refuse an alias bomb: a few aliases can stand for billions of nodes once expanded."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done:
            if id(node) in visiting:
                raise ValueError("the YAML refers to itself through an alias")
            visiting.add(id(node))
        children: list[Any] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if children_done or not children:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
            if sizes[id(node)] > MAX_YAML_EXPANDED_NODES:
                raise ValueError(
                    f"the YAML expands to more than {MAX_YAML_EXPANDED_NODES:,} values "
                    "through aliases"
                )
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


_TOO_DEEP_YAML = "not valid YAML: lists or mappings nested too deeply"


def load_yaml(text: str, what: str, item_lines: list[int] | None = None) -> Any:
    """safe_load with our limits; raises yaml.YAMLError or ValueError with a readable message.

    `item_lines`, when given and the document is a list, receives the line each
    item starts on, so that an error about an item can point at it.
    """
    if len(text) > MAX_YAML_BYTES:
        raise ValueError(f"{what} is larger than {MAX_YAML_BYTES:,} bytes")
    loader = _StrictYamlLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:
            raise ValueError(_TOO_DEEP_YAML) from None
        if root is None:
            return None
        _check_expansion(root)
        if item_lines is not None and isinstance(root, yaml.SequenceNode):
            item_lines.extend(node.start_mark.line + 1 for node in root.value)
        try:
            return loader.construct_document(root)
        except RecursionError:
            raise ValueError(_TOO_DEEP_YAML) from None
    finally:
        loader.dispose()


def read_yaml(
    stream: IO[str], calendar: Calendar, source: str | None, options: ReadOptions = NO_OPTIONS
) -> Iterator[Event | BadLine]:
    text = stream.read()
    if len(text) > MAX_YAML_BYTES:
        yield BadLine(f"file larger than {MAX_YAML_BYTES:,} bytes", source, 1)
        return
    try:
        loader = _StrictYamlLoader(text)
    except yaml.YAMLError as err:  # the reader checks every character at once: `\x7f`
        mark = getattr(err, "position", 0)
        yield BadLine(
            f"not valid YAML: {err}".split("\n")[0], source, text.count("\n", 0, mark) + 1
        )
        return
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        yield BadLine(
            f"not valid YAML: {getattr(err, 'problem', None) or err}",
            source,
            mark.line + 1 if mark else 1,
        )
        loader.dispose()
        return
    except RecursionError:
        # PyYAML's composer recurses: ~1,000 nested `[` end it
        yield BadLine(_TOO_DEEP_YAML, source, loader.get_mark().line + 1)
        loader.dispose()
        return
    if root is None:
        return
    try:
        _check_expansion(root)
    except ValueError as err:
        yield BadLine(str(err), source, 1)
        loader.dispose()
        return
    items = root.value if isinstance(root, yaml.SequenceNode) else None
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "events" and isinstance(value_node, yaml.SequenceNode):
                items = value_node.value
    if items is None:
        yield BadLine(
            "a YAML events file is a list of events (or `events:` with a list)", source, 1
        )
        return
    for node in items:
        line = node.start_mark.line + 1
        try:
            raw = loader.construct_object(node, deep=True)
        except yaml.YAMLError as err:
            yield BadLine(f"not valid YAML: {getattr(err, 'problem', None) or err}", source, line)
            continue
        except RecursionError:
            yield BadLine(_TOO_DEEP_YAML, source, line)
            continue
        yield make_event(raw, calendar, source, line, options)
    loader.dispose()


def guess_format(name: str) -> EventFormat:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return "jsonl"


def read_events(
    stream: IO[str],
    calendar: Calendar,
    fmt: EventFormat = "jsonl",
    source: str | None = None,
    options: ReadOptions = NO_OPTIONS,
) -> Iterator[Event | BadLine]:
    readers = {"jsonl": read_jsonl, "csv": read_csv, "yaml": read_yaml}
    return readers[fmt](stream, calendar, source, options)


def events_from_dicts(
    items: Iterable[Mapping[str, Any] | Event | Any],
    calendar: Calendar,
    first_line: int = 1,
    options: ReadOptions = NO_OPTIONS,
) -> Iterator[Event | BadLine]:
    """Library input: dicts (as in a JSON line) or ready Events; `options` as for a file
    (a `--time-format` for `at`, `--columns` names).

    Anything else is a bad line, numbered by its position in the input.
    """
    for index, item in enumerate(items, start=first_line):
        if isinstance(item, Event):
            yield item
        else:
            raw = dict(item) if isinstance(item, Mapping) else item
            yield make_event(raw, calendar, "<input>", index, options)


def read_text(
    text: str, calendar: Calendar, fmt: EventFormat = "jsonl", source: str | None = None
) -> list[Event | BadLine]:
    return list(read_events(io.StringIO(text), calendar, fmt, source))


# ---- encodings ------------------------------------------------------------------------
#
# Input files are UTF-8 (a byte-order mark allowed) unless the operator names another
# codec. Bytes that do not decode are never replaced: GBK's 张三 and 李四 would both
# become the same `����`, merging two members. The file is refused instead, naming the
# first bad line and the encoding it most likely is in.

DEFAULT_ENCODING = "utf-8-sig"


def codec_name(encoding: str | None) -> str:
    """The codec to read inputs with: UTF-8 (a BOM allowed) unless another is named;
    an unknown name is an EncodingProblem."""
    if encoding is None:
        return DEFAULT_ENCODING
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise EncodingProblem(
            _(
                "--encoding: unknown encoding `{encoding}` (e.g. utf-8, gbk, gb18030, big5, "
                "shift_jis, cp1252, latin-1)"
            ).format(encoding=encoding)
        ) from None
    # A UTF-8 file from Windows Notepad starts with a BOM: skip it, as by default.
    return DEFAULT_ENCODING if info.name == "utf-8" else info.name


def likely_encoding(raw: bytes) -> str:
    """A guess at the encoding of bytes that are not UTF-8, worded as the option to use."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _("UTF-16 (use `--encoding utf-16`)")
    high = re.findall(rb"[\x80-\xff]+", raw)
    # Chinese and Japanese code pages write each character as two high bytes; Latin-1
    # and Windows-1252 write one (`café`): runs of one byte mean a Western code page.
    paired = all(len(run) % 2 == 0 for run in high)
    if paired:
        for codec, label in (("gb18030", "gbk"), ("big5", "big5"), ("shift_jis", "shift_jis")):
            try:
                raw.decode(codec)
            except UnicodeDecodeError:
                continue
            name = (
                _("GBK/GB18030 (what Excel on Chinese Windows writes)") if label == "gbk" else label
            )
            return _("{name}; use `--encoding {label}`").format(name=name, label=label)
    return _("Latin-1/Windows-1252; use `--encoding cp1252`")


def _refuse(source: str, line: int, raw: bytes, encoding: str) -> EncodingProblem:
    if encoding == DEFAULT_ENCODING:
        return EncodingProblem(
            _("{source}: line {line} is not UTF-8 text; it looks like {likely}").format(
                source=source, line=line, likely=likely_encoding(raw)
            )
        )
    return EncodingProblem(
        _("{source}: line {line} is not {encoding} text").format(
            source=source, line=line, encoding=encoding
        )
    )


CHECK_BLOCK = 1 << 20  # bytes `check_encoding` decodes at a time


def check_encoding(stream: IO[bytes], source: str, encoding: str = DEFAULT_ENCODING) -> None:
    """Read a whole binary stream and raise EncodingProblem at the first line that does
    not decode. UTF-8 is checked a megabyte at a time (fast); other codecs line by line."""
    if b"\n".decode(encoding, errors="replace") != "\n":
        # UTF-16 and UTF-32 write a newline in more than one byte: no cutting at b"\n"
        data = stream.read()
        try:
            data.decode(encoding)
        except UnicodeDecodeError as err:
            line = data[: err.start].decode(encoding, errors="replace").count("\n") + 1
            raise _refuse(source, line, data[err.start : err.start + 200], encoding) from None
        return
    line = 1
    pending = b""
    first = True
    while True:
        chunk = stream.read(CHECK_BLOCK)
        data = pending + chunk
        if not chunk:
            cut = len(data)
        else:
            cut = data.rfind(b"\n") + 1  # whole lines only: a character never spans a newline
            if cut == 0:
                pending = data
                continue
        block, pending = data[:cut], data[cut:]
        if first and encoding == DEFAULT_ENCODING and block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        try:
            block.decode(encoding)
        except UnicodeDecodeError:
            for number, raw in enumerate(block.split(b"\n"), start=line):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    raise _refuse(source, number, raw, encoding) from None
            # A codec that needs more than one line to decide (UTF-16): say the block.
            raise _refuse(source, line, block[:200], encoding) from None
        first = False
        line += block.count(b"\n")
        if not chunk:
            return


def decode_bytes(data: bytes, source: str, encoding: str | None = None) -> str:
    """A whole file's bytes as text, or EncodingProblem naming the first bad line."""
    codec = codec_name(encoding)
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        check_encoding(io.BytesIO(data), source, codec)
        # check_encoding found no bad line: the codec needs more than lines (rare)
        raise EncodingProblem(f"{source} is not {codec} text") from None


def read_text_file(path: str, encoding: str | None = None) -> str:
    """A roster, population or cases file as text: UTF-8 unless `encoding` names another."""
    with open(path, "rb") as file:
        return decode_bytes(file.read(), path, encoding)
