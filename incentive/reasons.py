"""A record's reason in the operator's language, rendered where records leave the program.

The engine writes every reason in English, the canonical text: a random draw is
seeded with it (`rules.draw_for`), the compiled evaluator and the columnar plan
write it byte for byte as the interpreter does, a store keeps it, `live.mark_of`
marks bad lines by it. So points, draws, stores and replays never depend on the
language. The language is applied at the output boundary (the CLI writing
records, `explain`, `serve`'s responses, reports): `localize(reason)` reads the
canonical reason against the templates below and writes it again in the current
language (`i18n`), keeping what the scheme and the events wrote (rule, currency,
perk and member names, attribute values) as written.

Each template is an English reason with named blanks, and is the gettext msgid
of its translation (docs/development.md, "Translations"). A blank is one of:

- a name or a value, kept as written: in backticks (`rule`), quoted (`perk`), a
  number, a date, a time, a bare scheme word (a currency, an attribute), or free
  text from an event (`text`);
- a period (`day`, `week`...): its word in the current language;
- a phrase of its own family (`limit`, `why`, `where`...): rendered by the same
  rules, recursively.

A reason no template reads is shown as written (tests/test_reasons.py runs every
golden case and worked scheme in Chinese and fails on English left, so a new
reason without its template is caught). Same reason, same language: same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import IO, Any

import msgspec

from incentive import i18n
from incentive.i18n import N_, _
from incentive.records import Record

# ---- blanks ----------------------------------------------------------------------------------

_NAME = r"[^`]*"  # inside backticks
_QUOTED = r'[^"]*'  # inside double quotes
_NUMBER = r"-?\d[\d,]*(?:\.\d+)?%?"
_WORD = r"[^\s`]+"  # a bare scheme word: a currency, an attribute, a team kind
_DATE = r"\d{4}-\d{2}-\d{2}"
_KEY = r"\d{4}(?:-Q[1-4]|(?:-\d{2}){0,2})"  # a period's key: 2026, 2026-Q1, 2026-03, 2026-03-02
_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?"
_TEXT = r".*?"
_PERIOD = r"day|week|month|quarter|year|season"
_UNITS = r"(?:day|week|month|quarter|year|season)s?"
_NTH = r"\d+(?:st|nd|rd|th)"


def _kept(value: str) -> str | None:
    return value


def _period(value: str) -> str | None:
    return i18n.unit(value)


def _units(value: str) -> str | None:
    return i18n.counted(value.removesuffix("s"))


def _this(value: str) -> str | None:
    return i18n.this_period(value.removeprefix("this "))


def _end(value: str) -> str | None:
    return i18n.end_of(value.removeprefix("end of "))


# A period and its key (`week 2026-03-02`, as calendar.period_key writes it) as the
# reader writes a date: 2026年3月2日起的一周, 2026年3月, 2026年第1季度 in Chinese.
_WHEN = {
    "day": N_("{year}-{month}-{day}"),
    "week": N_("the week of {year}-{month}-{day}"),
    "month": N_("{year}-{month}"),
    "quarter": N_("{year} Q{quarter}"),
    "year": N_("the year {year}"),
}


def _when(value: str) -> str | None:
    if i18n.current() == "en":
        return value
    period, _space, key = value.partition(" ")
    year, _dash, rest = key.partition("-")
    if period == "quarter":
        return _(_WHEN[period]).format(year=year, quarter=rest.removeprefix("Q"))
    month, _dash, day = rest.partition("-")
    fields = {"year": year, "month": str(int(month or 0)), "day": str(int(day or 0))}
    return _(_WHEN[period]).format(**fields) if period in _WHEN else value


def _nth(value: str) -> str | None:
    """`2nd` as the current language writes a place: English keeps it, others the number."""
    return value if i18n.current() == "en" else value.rstrip("stndrh")


_KEEP: dict[str, str] = {
    **dict.fromkeys(
        (
            "rule", "name", "gift", "near", "member", "other", "target", "source", "attribute",
            "part", "whole", "type", "boost", "team", "value", "expr", "format", "habit",
            "example", "column",
        ),
        _NAME,
    ),
    "perk": _QUOTED,
    **dict.fromkeys(
        ("n", "m", "count", "points", "granted", "left", "length", "factor", "a", "b", "c",
         "low", "high", "line", "shown"),
        _NUMBER,
    ),
    **dict.fromkeys(("currency", "attr", "teamkind", "tier", "tier2"), _WORD),
    **dict.fromkeys(("day", "first", "last"), _DATE),
    **dict.fromkeys(("key", "key2"), _KEY),
    **dict.fromkeys(("time", "time2"), _TIME),
    **dict.fromkeys(("text", "names", "file", "code", "got"), _TEXT),
}  # fmt: skip

_SPECIAL: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "period": (_PERIOD, _period),
    "period2": (_PERIOD, _period),
    "units": (_UNITS, _units),
    "nth": (_NTH, _nth),
    "this": (rf"this (?:{_PERIOD})", _this),
    "end": (rf"end of (?:{_PERIOD})", _end),
    "when": (rf"(?:day|week|month|quarter|year) {_KEY}", _when),
    "when2": (rf"(?:day|week|month|quarter|year) {_KEY}", _when),
}

# ---- templates, by family (the first that reads a text wins) ----------------------------------

_FAMILIES: dict[str, tuple[str, ...]] = {
    # what one rule's award is for (the `why` of rules.py) and a ranking's place
    "why": (
        N_("from `{member}`"),
        N_("invitee `{member}`"),
        N_("{length} {units} in a row"),
        N_("{length} {units} in a row (every {n})"),
        N_("{n} matching events reached"),
        N_("{n} matching events reached {this}"),
        N_("{n} distinct `{attribute}` reached"),
        N_("{n} distinct `{attribute}` reached {this}"),
        N_("{n} `{attribute}` reached"),
        N_("{n} `{attribute}` reached {this}"),
        N_("this event"),
        N_("{n} matching events within {m} days"),
        N_("{nth} of the first {n}"),
        N_("{nth} of the first {n} {this}"),
        N_("{teamkind} `{team}` reached {n} by {by} ({where})"),
        N_("{teamkind} `{team}` reached {n} by {by} ({where}): drawn {a} of {b}"),
        N_("team `{team}` {place}"),
        "{place}",
    ),
    "place": (
        N_("{nth} of {count} by {by} with {shown} ({where})"),
        N_("{nth} of {count} by {by} ({where})"),
    ),
    "where": (
        "{when}",
        N_("the season"),
        N_("{when} so far, at the close of {when2}"),
        N_("the season so far, at the close of {when}"),
    ),
    "by": (
        N_("points"),
        N_("count"),
        N_("active"),
        N_("earliest"),
        N_("lottery"),
        N_("rate"),
        N_("missing"),
        N_("sum {attr}"),
        N_("max {attr}"),
        N_("reached {attr}"),
    ),
    "counted": (
        N_("{by} {shown}"),
        N_("{by} {shown} so far"),
    ),
    "kind": (N_("perk"), N_("badge"), N_("flag")),
    "owner": (N_("rule"), N_("group")),
    "boosts": (
        N_("boost `{boost}` x{factor}"),
        N_("boost `{boost}` x{factor}, {boosts}"),
    ),
    "limit": (
        N_("once"),
        N_("once for each {attr}"),
        N_("limit {n} ever"),
        N_("limit {n} ever for each {attr}"),
        N_("limit {n} per {period}"),
        N_("limit {n} per {period} for each {attr}"),
        N_("limit {n} per {period} from the member's start"),
        N_("limit {n} per {period} from the member's start for each {attr}"),
    ),
    "binding": (
        N_("cap {n} per {period} on {owner} `{name}`"),
        N_("cap {n} per {period} from the member's start on {owner} `{name}`"),
        N_("budget {n} {currency} per {period} on {owner} `{name}`"),
        N_("budget {n} {currency} per {period} for the scheme"),
    ),
    "expiry": (
        N_("expire at {end}"),
        N_("expire after {n} {units}"),
        N_("expire after {n} {units} at {end}"),
    ),
    "streak_note": (
        N_("a streak starts"),
        N_("the streak goes on"),
        N_("the streak goes on ({n} missed, forgiven)"),
        N_("the streak was broken ({n} missed); a new one starts"),
    ),
    "error": (  # an amount that cannot be computed (expressions.AmountError)
        N_("division by zero (`{expr}` is 0)"),
        N_("random({low}, {high}) needs whole numbers, low to high"),
        N_("the amount is beyond 10^15 points"),
        N_("{text} is not a number"),
    ),
    "what": (  # the event a reversal takes back
        N_("reverse `{name}`: event `{target}`"),
        N_("reverse `{name}`: event `{target}` ({refund})"),
    ),
    "refund": (
        N_("after parts refunded: the {n} of {m} {currency} left"),
        N_("{a} of its {b} `{whole}` refunded, all that was left: {n} of {m} {currency}"),
        N_("{a} of its {b} `{whole}` refunded, {c} in all: {n} of {m} {currency}"),
    ),
    "paid": (N_("{what} paid {n} {currency} from `{source}`"),),
    "seen": (N_("line {line} of {file}"),),
    "kind_of_value": (N_("a number"), N_("text"), N_("true or false")),
    "value_error": (  # why an attribute's value does not fit (intake.coerce)
        N_("not a finite number"),
        N_("a number beyond 10^15"),
        "{got}",
    ),
    "span": (N_("{n} day"), N_("{n} days"), N_("{n} hour"), N_("{n} hours")),
    "json": (  # the standard library's JSON errors, as events.py shows them
        N_("expecting value"),
        N_("expecting ',' delimiter"),
        N_("expecting ':' delimiter"),
        N_("expecting property name enclosed in double quotes"),
        N_("extra data"),
        N_("unterminated string starting"),
        N_("invalid control character"),
        N_("invalid \\escape"),
        "{text}",
    ),
    "yaml": (  # PyYAML's problems, as events.py, cases, rosters and populations show them
        N_("mapping values are not allowed here"),
        N_("expected the node content, but found {text}"),
        N_("expected <block end>, but found {text}"),
        N_("expected ',' or '}', but got {text}"),
        N_("expected ',' or ']', but got {text}"),
        N_("expected {text}, but found {got}"),
        N_("found character {text} that cannot start any token"),
        N_("found unexpected end of stream"),
        N_("found undefined alias {text}"),
        N_("found unknown escape character {text}"),
        N_("could not find expected ':'"),
        N_("did not find expected key"),
        N_("did not find expected '-' indicator"),
        N_("unacceptable character {code}: special characters are not allowed"),
        "{text}",
    ),
    "reason": (
        # paid, and what pays
        N_("rule `{rule}`"),
        N_("rule `{rule}` with {boosts}"),
        N_("rule `{rule}`: {why}"),
        N_("rule `{rule}`: {why} with {boosts}"),
        N_("rule `{rule}`: paid from {counted} ({where})"),
        N_('rule `{rule}`: {kind} "{perk}"'),
        N_('rule `{rule}`: {kind} "{perk}" for {why}'),
        N_('rule `{rule}`: {kind} "{perk}": no matching event for {n} days after {day}'),
        N_("board `{rule}`: {place}"),
        N_(
            "league `{rule}`: {nth} of {count} in {tier} cohort {n} of {m} by {by} with "
            "{shown} ({where}): promoted to {tier2}"
        ),
        N_(
            "league `{rule}`: {nth} of {count} in {tier} cohort {n} of {m} by {by} with "
            "{shown} ({where}): demoted to {tier2}"
        ),
        N_(
            "board `{rule}`: {nth} of {count} in {tier} cohort {n} of {m} by {by} with "
            "{shown} ({where})"
        ),
        N_(
            "board `{rule}`: {nth} of {count} in {tier} cohort {n} of {m} by {by} with "
            "{shown} ({where}): promoted to {tier2}"
        ),
        N_(
            "board `{rule}`: {nth} of {count} in {tier} cohort {n} of {m} by {by} with "
            "{shown} ({where}): demoted to {tier2}"
        ),
        N_("board `{rule}`: no matching event ({where})"),
        N_("board `{rule}`: no matching event ({where}) in {teamkind} `{team}`"),
        N_("{streak_note}: {length} {units} in a row"),
        N_("grant by `{member}`"),
        N_("grant by `{member}`: {text}"),
        N_("redeem `{name}`: {n} {currency} spent"),
        N_("catalogue `{name}`: `{gift}` for {n} {currency}"),
        N_("catalogue `{name}`: `{gift}` for {n} {currency}; {m} left"),
        N_("catalogue `{name}`: `{gift}` for {n} {currency}; {m} left {this}"),
        N_("transfer `{name}`: {n} {currency} to `{member}`"),
        N_("transfer `{name}`: {n} {currency} from `{member}`"),
        N_("{head}: spendable from {time} (pending {n} days)"),
        N_("{n} {currency} held since {time} are spendable"),
        N_("{n} {currency} expired ({expiry})"),
        N_("level `{name}` reached: {n} {currency} earned"),
        N_("level `{name}` reached: {n} {currency} earned in {m} days"),
        N_("dropped to level `{name}`: {n} {currency} earned in the last {m} days"),
        # reversals
        N_("{what}: the {n} {currency} `{source}` took are given back"),
        N_("{what}: nothing to take back yet"),
        N_("{what} held {n} {currency} from `{source}`: cancelled before release"),
        N_("{paid}: taken back"),
        N_("{paid}: {n} left, taken back"),
        N_("{paid}: taken back; {n} already spent or expired, now owed"),
        N_("{paid}: {n} already spent or expired, written off"),
        N_("reverse `{name}`: event `{target}` paid nothing; what it counted is given back"),
        N_(
            "reverse `{name}`: event `{target}` paid nothing; what it counted is given back "
            "when the whole is refunded"
        ),
        N_("the event has no `{attribute}`: the id of the event to reverse"),
        N_("`{attribute}` should hold event ids (text), got {text}"),
        N_(
            "a partial refund names one event, not {n}: `{part}` is a part of one event's `{whole}`"
        ),
        N_("event `{target}` was not paid in the last {n} days: nothing to reverse"),
        N_("event `{target}` was already reversed"),
        N_("event `{target}` was `{member}`'s, not `{other}`'s"),
        N_("the event has no `{part}` above zero: the part of `{target}` refunded"),
        N_("event `{target}` has no `{whole}` above zero: the part refunded cannot be told"),
        # not paid, or paid in part
        N_("{limit} reached"),
        N_("{limit} reached: {why}"),
        N_("{limit} reached for `{gift}`"),
        N_("{limit} reached for the sender"),
        N_("{binding} reached"),
        N_("{binding} reached: {granted} of {points} paid"),
        N_("budget {n} {currency} per {period} for catalogue `{name}` reached: {m} left"),
        N_("a balance cannot go below zero: {n} of {m} taken"),
        N_("the event has no `{attribute}`, which the rule's `credit` reads"),
        N_("`{attribute}` names the sender: no member is credited for their own event"),
        N_("the event has no `{attribute}`, which the rule's limit counts by"),
        N_("the event has no `{attribute}`, which the rule's `where` reads"),
        N_("the event has no `{attribute}`, which the amount needs"),
        N_("the event has no `{attribute}`, which the milestone counts"),
        N_("the event has no `{attribute}`, which the milestone sums"),
        N_(
            "the event has no `{attribute}`, which the rule's `pay` reads: it counts toward "
            "no one's measure"
        ),
        N_("the amount cannot be computed: {error}"),
        N_("rule `{rule}`: {counted} ({where}): the amount cannot be computed: {error}"),
        "{error}",
        N_("`{attribute}` names the member itself: it does not count"),
        N_(
            "the member has no `{column}` (in the roster or an event), which the rule's "
            "window counts from"
        ),
        N_(
            "the member has no `{column}` (in the roster or an event), which the rule's "
            "periods count from"
        ),
        N_(
            "the member's `{column}` is not a date: `{text}` (write it as 2026-03-02, or a "
            "time such as 2026-03-02T18:00:00)"
        ),
        N_("already one of the first {n}"),
        N_("already one of the first {n} {this}"),
        N_("the first {n} have won"),
        N_("the first {n} {this} have won"),
        N_(
            "attribute `{attribute}` names no time zone: `{value}` (an IANA name such as "
            "`Asia/Shanghai`)"
        ),
        N_(
            "the roster's `{attribute}` of `{member}` names no time zone: `{value}` (an IANA "
            "name such as `Asia/Shanghai`)"
        ),
        N_("`{attribute}` `{value}` already counted for this member"),
        N_("`{attribute}` `{value}` already counted for `{member}`"),
        N_("catalogue `{name}`: its `where` condition does not hold"),
        N_("the event has no `{attribute}`: which gift to redeem"),
        N_("no gift `{gift}` in catalogue `{name}`"),
        N_("no gift `{gift}` in catalogue `{name}` (did you mean `{near}`?)"),
        N_("`{gift}` costs {n}; the balance is {m}"),
        N_("`{gift}` is out of stock ({n})"),
        N_("`{gift}` is out of stock ({n} per {period})"),
        N_("catalogue `{name}` is out of stock: {n} gifts per {period}"),
        N_("no redeem block takes this event: the `where` of {names} does not hold"),
        N_("the event has no `{attribute}`: how many points to redeem"),
        N_("`{attribute}` must be a whole number of points above 0, not {text}"),
        N_("a redemption is at least {n}"),
        N_("a redemption is at most {n}"),
        N_("a redemption is a multiple of {n}"),
        N_("redeeming needs a balance of {n}; the balance is {m}"),
        N_("the balance is {n}"),
        N_("a grant says who gives it: `by`"),
        N_("a grant gives a whole number of `points` above 0"),
        N_("`{member}` cannot grant to themselves"),
        N_("`{member}` has no allowance in grants `{name}`"),
        N_("beyond `{member}`'s allowance: {n} of {m} per {period} left"),
        N_("the event has no `{attribute}`: who receives the points"),
        N_("`{member}` cannot transfer to themselves"),
        N_("transfer `{name}`: its `where` condition does not hold"),
        N_("a transfer is at least {n}"),
        N_("a transfer is at most {n}"),
        N_("a sender keeps {n}; the balance is {m}"),
        N_("a sender sends at most {n} per {period}; {m} left"),
        N_("`{member}` receives at most {n} per {period}; {m} left"),
        # events not evaluated
        N_("this event id was already processed: skipped"),
        N_("this event id was already used for a different event: refused"),
        N_("this event id was already used for a different event ({seen}): refused"),
        N_("day {day} had closed when this event arrived"),
        N_("the season runs from {first} to {last}"),
        N_(
            "{time} is more than {span} after the latest event ({time2}): quarantined, "
            "not evaluated"
        ),
        N_("unknown event type `{type}`"),
        N_("unknown event type `{type}` (did you mean `{near}`?)"),
        N_("attribute `{attribute}` should be {kind_of_value}, got {value_error}"),
        N_("could not be evaluated ({text}); this is a bug in incentive: please report it"),
        # lines that cannot be read as events (events.py)
        N_("an event must be an object with `type`, `member` and `at`"),
        N_("missing `{attribute}`"),
        N_("`{attribute}` must be text"),
        N_("attribute `{attribute}` is not a finite number"),
        N_("an attribute's value is too large or too deeply nested"),
        N_("`at` is neither `{format}` (--time-format) nor ISO 8601: {text}"),
        N_("`at` is not an ISO 8601 time: {text} (write e.g. 2026-03-02T09:00:00)"),
        N_(
            "`at` is not an ISO 8601 time: {text} (write e.g. 2026-03-02T09:00:00, or read "
            "it with `--time-format '{habit}'`)"
        ),
        N_("`at` {text} is outside the years incentive reads ({a} to {b})"),
        N_("the text holds {code}, half of a surrogate pair, which is not a character"),
        N_("a whole number of more than 4,300 digits"),
        N_("not valid JSON"),
        N_("not valid JSON: the line ends before the JSON value does (cut short?)"),
        N_("not valid JSON: nested too deeply"),
        N_("not valid JSON: {json} at column {n}"),
        N_("duplicate key `{name}`"),
        N_(
            "the file is one JSON array, not JSON Lines (one event per line): use "
            "`--events-format yaml`, which reads a JSON array, or write one event a line"
        ),
        N_("the file looks like CSV with a header, not JSON Lines: use `--events-format csv`"),
        N_("line longer than {n} characters"),
        N_("not JSON Lines either (see line {n})"),
        N_(
            "the header has no {names} column (it has {text}); name the columns with "
            "`--columns {example}`"
        ),
        N_("the header repeats column `{column}`"),
        N_("not valid CSV: {text}"),
        N_('an unclosed `"` runs on into the next {n} line(s), which are read on their own'),
        N_("expected {n} columns, found {m}"),
        N_("file larger than {n} bytes"),
        N_("not valid YAML: lists or mappings nested too deeply"),
        N_("not valid YAML: {yaml}"),
        N_("a YAML events file is a list of events (or `events:` with a list)"),
        # the heads of reasons (the text before the first colon), as the simulate report
        # groups refusals by them
        N_("a balance cannot go below zero"),
        N_("the amount cannot be computed"),
        N_("the event has no `{attribute}`"),
        N_("the event has no `{attribute}`, which the rule's `pay` reads"),
        N_("`{attribute}` names the member itself"),
        N_("`{attribute}` names the sender"),
        N_("event `{target}` was not paid in the last {n} days"),
        N_("beyond `{member}`'s allowance"),
        N_("no redeem block takes this event"),
        N_("a partial refund names one event, not {n}"),
        N_("a grant says who gives it"),
        N_("catalogue `{name}`"),
        N_("transfer `{name}`"),
        N_("reverse `{name}`"),
        N_("board `{rule}`"),
        N_("budget {n} {currency} per {period} for catalogue `{name}` reached"),
        # a moderator's note from the event after the award's reason (`reason note`)
        # (the note last: it reads any text after the rule)
        N_("rule `{rule}` with {boosts}: {text}"),
        N_("rule `{rule}`: {why} with {boosts}: {text}"),
        N_("rule `{rule}`: {why}: {text}"),
        N_("rule `{rule}`: {text}"),
    ),
}
# The reason an award is held for: any reason above
_PHRASE_OF_SLOT: dict[str, str] = {"head": "reason"}

# A phrase that always starts the same way: so `{why} with {boosts}` splits at the
# boosts, not at a `with` inside the why (`2nd of 3 by points with 33`)
_STARTS: dict[str, str] = {"boosts": r"boost `.+?"}

_BLANK = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Template:
    msgid: str
    pattern: re.Pattern[str]
    blanks: tuple[str, ...]


def _blank(name: str) -> str:
    if name in _KEEP:
        return _KEEP[name]
    if name in _SPECIAL:
        return _SPECIAL[name][0]
    if name in _STARTS:
        return _STARTS[name]
    if name in _FAMILIES or name in _PHRASE_OF_SLOT:
        return r".+?"
    raise ValueError(f"reasons: a template's blank `{{{name}}}` has no kind")


def _compile(msgid: str) -> _Template:
    parts: list[str] = []
    blanks: list[str] = []
    position = 0
    for found in _BLANK.finditer(msgid):
        parts.append(re.escape(msgid[position : found.start()]))
        name = found.group(1)
        blanks.append(name)
        parts.append(f"(?P<{name}>{_blank(name)})")
        position = found.end()
    parts.append(re.escape(msgid[position:]))
    return _Template(msgid, re.compile("".join(parts), re.DOTALL), tuple(blanks))


@cache
def _templates(family: str) -> tuple[_Template, ...]:
    return tuple(_compile(msgid) for msgid in _FAMILIES[family])


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _BLANK.sub(lambda found: values.get(found.group(1), found.group(0)), text)


def _value(name: str, text: str) -> str | None:
    if name in _KEEP:
        return text
    if name in _SPECIAL:
        return _SPECIAL[name][1](text)
    return _render(_PHRASE_OF_SLOT.get(name, name), text)


def _render(family: str, text: str) -> str | None:
    """`text` read as one of the family's templates and written in the current language,
    or None when none reads it."""
    for template in _templates(family):
        found = template.pattern.fullmatch(text)
        if found is None:
            continue
        values: dict[str, str] = {}
        for name in template.blanks:
            value = _value(name, found.group(name))
            if value is None:
                break
            values[name] = value
        else:
            return _fill(_(template.msgid), values)
    return None


@lru_cache(maxsize=65536)
def _localized(lang: str, reason: str) -> str:
    with i18n.language(lang):
        rendered = _render("reason", reason)
    return reason if rendered is None else rendered


def localize(reason: str) -> str:
    """A canonical (English) reason in the current language; as written when English,
    empty, or not one of the reasons the engine writes."""
    lang = i18n.current()
    if lang == "en" or not reason:
        return reason
    return _localized(lang, reason)


def yaml_problem(problem: str) -> str:
    """PyYAML's account of a problem (`mapping values are not allowed here`) in the
    current language; as written when English or not one PyYAML is known to give."""
    if i18n.current() == "en":
        return problem
    with i18n.language(i18n.current()):
        return _render("yaml", problem) or problem


def readable(reason: str) -> bool:
    """Whether a template reads the reason (tests: every reason the engine writes is)."""
    return _render("reason", reason) is not None


def localize_record(record: Record) -> Record:
    """The record with its reason in the current language (everything else as it is)."""
    if i18n.current() == "en" or not record.reason:
        return record
    return record.replace(reason=localize(record.reason))


def localize_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A record's dict (`Record.to_dict()`) with its reason in the current language."""
    reason = data.get("reason")
    if i18n.current() == "en" or not isinstance(reason, str) or not reason:
        return data
    return {**data, "reason": localize(reason)}


_DECODER = msgspec.json.Decoder(Record)


def localize_line(line: bytes) -> bytes:
    """One record's JSON line (without its newline) with the reason localized: the same
    bytes apart from the reason."""
    if i18n.current() == "en" or b'"reason"' not in line:
        return line
    return localize_record(_DECODER.decode(line)).to_json_bytes()


class LocalizedLines:
    """A binary stream of records as JSON Lines, written on with each reason in the
    current language (English: the bytes go through as they are). Writers may cut a
    line anywhere (a spool copied in chunks): a line is translated once it is whole."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.pending = b""
        self.lang = i18n.current()

    def write(self, data: bytes) -> int:
        if self.lang == "en":
            return self.target.write(data)
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        if lines:
            with i18n.language(self.lang):
                self.target.write(b"".join(localize_line(line) + b"\n" for line in lines))
        return len(data)

    # Rewinding (the columnar plan writes into a file and truncates it back when it
    # gives the run to the loop): only where bytes go through untouched.
    def seekable(self) -> bool:
        seekable = getattr(self.target, "seekable", None)
        return self.lang == "en" and seekable is not None and bool(seekable())

    def tell(self) -> int:
        return self.target.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.target.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        return self.target.truncate(size)

    def flush(self) -> None:
        if self.pending:
            with i18n.language(self.lang):
                self.target.write(localize_line(self.pending))
            self.pending = b""
        flush = getattr(self.target, "flush", None)  # a CSV sink writes as it goes
        if flush is not None:
            flush()
