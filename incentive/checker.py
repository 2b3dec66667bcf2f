"""AST -> Program, collecting every error and warning in one pass.

`check(scheme)` never stops at the first problem: it returns all diagnostics
(sorted by position) and, when there is no error, the resolved `Program`.
`compile_scheme(text)` is the API boundary that raises `SchemeError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date, time
from decimal import Decimal
from functools import cache
from typing import TypeVar
from zoneinfo import available_timezones

from incentive import ast
from incentive.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_DAYS,
    WEEKDAYS,
    Calendar,
    in_range,
    zone_exists,
)
from incentive.checker_ledger import LedgerChecker
from incentive.diagnostics import (
    Diagnostic,
    DiagnosticBag,
    SchemeError,
    Span,
    did_you_mean,
    line_starts,
    suggestion_hints,
)
from incentive.expressions import AmountError, evaluate, to_points, uses_random
from incentive.formatter import format_clause, format_expr, name_text
from incentive.i18n import N_, _, unit
from incentive.lints import lint
from incentive.parser import no_cyclic_gc, parse
from incentive.program import (
    BUILTIN_ATTRIBUTES,
    CLOCK_ATTRIBUTES,
    HEADING_FIELDS,
    LEAGUE_LINE_FIELDS,
    LINE_FIELDS,
    MISSING_LINE_FIELDS,
    VALUE_TYPES,
    BoostSpec,
    CapSpec,
    CatalogueSpec,
    GoalSpec,
    GrantsSpec,
    LeagueSpec,
    LimitSpec,
    MilestoneSpec,
    Payment,
    PaySpec,
    PostSpec,
    Program,
    RankSpec,
    RedeemSpec,
    ReversalSpec,
    RuleSpec,
    StartSpec,
    StreakSpec,
    TransferSpec,
    ValueType,
    WindowSpec,
    template_problem,
)

# name -> (min args, max args); random(a, b): a whole number from a to b, drawn from the seed
FUNCTIONS = {"min": (2, None), "max": (2, None), "random": (2, 2)}
DEFAULT_CURRENCY = "points"
# (shorter, longer): every shorter period lies inside one longer period. A week
# does not lie inside a month (it may straddle two); `None` is `ever`.
# What a payment from a measure may be measured by (`pay ... per week by active`).
_PAY_MEASURES = ("count", "active", "sum", "max")
_GOAL_MEASURES = ("count", "sum", "active")  # what a team's events add up to
_NESTED_PERIODS = {
    ("day", "week"),
    ("day", "month"),
    ("day", "year"),
    ("day", "season"),
    ("week", "season"),
    ("month", "year"),
    ("month", "season"),
    ("day", "quarter"),
    ("month", "quarter"),
    ("quarter", "year"),
    ("quarter", "season"),
    *((period, None) for period in ("day", "week", "month", "quarter", "year", "season")),
}


@dataclass
class CheckResult:
    diagnostics: list[Diagnostic]
    program: Program | None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def compile_scheme(text: str, file: str = "<scheme>") -> Program:
    """Parse and check scheme text; raise SchemeError listing every error."""
    result = check(parse(text, file), file, text)
    if result.program is None:
        raise SchemeError(result.errors, text)
    return result.program


def check(scheme: ast.Scheme, file: str = "<scheme>", source: str = "") -> CheckResult:
    with no_cyclic_gc():
        result = _Checker(scheme, file, source).run()
    if result.program is None and source and not source.isascii():
        result = CheckResult(_mixed_spelling_hints(result.diagnostics, source), None)
    if result.diagnostics and source and not source.isascii():
        result = replace(result, diagnostics=_in_the_files_spelling(result.diagnostics, source))
    return result


def _in_the_files_spelling(diagnostics: list[Diagnostic], source: str) -> list[Diagnostic]:
    """In a scheme written in Chinese keywords, the code a message or a hint quotes is
    written in Chinese keywords too: `limit 1 per day` becomes `每天限1次`, `cap` becomes
    `上限`. An English word the file itself holds is one of its names: kept."""
    from incentive.spelling import spelling_of

    if spelling_of(source) != "zh":
        return diagnostics
    names = frozenset(re.findall(r"[A-Za-z_]\w*", source))

    def convert(text: str) -> str:
        return _QUOTED_CODE.sub(lambda found: f"`{_code_zh(found.group(1), names)}`", text)

    return [
        replace(d, message=convert(d.message), hints=tuple(convert(h) for h in d.hints))
        for d in diagnostics
    ]


_QUOTED_CODE = re.compile(r"`([^`\n]+)`")
# Keywords whose Chinese form does not depend on what surrounds them (`per`, `by`,
# `each`, `day` do: they are read in phrases below, or kept).
_PLAIN_KEYWORDS = frozenset(
    "scheme currency timezone season events team group rule board boost expire budget "
    "redeem grants reverse transfer catalogue levels seed on where award limit once cap "
    "uncapped streak grace milestone distinct post pay every perk badge flag inactive "
    "inviter pending reason credit amount minimum maximum multiple threshold allowance reaching "
    "debt item stock gift price league cohort tiers promote demote goal draw".split()
)
_PHRASES_ZH = re.compile(
    r"\b(?:streak per (day|week|month|quarter|year)|per (day|week|month|quarter|year|season)"
    r"|by (\w+)|so far|(top|bottom) (\d+|N)|(every time)|(timezone from))\b"
)


def _phrase_zh(found: re.Match[str]) -> str:
    from incentive.spelling import MEASURES_ZH, PERIODS_ZH, SIDES_ZH

    streak, period, measure, side, count, every, zone = found.groups()
    if streak:
        return f"{PERIODS_ZH[streak]}连续"
    if every:
        return "每次"
    if zone:
        return "时区 来自"
    if period:
        return PERIODS_ZH[period]
    if measure:
        return MEASURES_ZH.get(measure, found.group(0))
    if side:
        return f"{SIDES_ZH[side]}{count}名"
    return "至今"


def _code_zh(code: str, names: frozenset[str]) -> str:
    """A piece of English-spelled code in the Chinese spelling, as far as it can be told;
    a name of the file, or code this cannot read, as it is."""
    words = re.findall(r"[A-Za-z_]\w*", code)
    if not words or (len(words) == 1 and words[0] in names):
        return code
    if code == "each":  # the keyword alone: `each day` posts, 公布
        from incentive.spelling import KEYWORDS_EN_TO_ZH

        return KEYWORDS_EN_TO_ZH["each"]
    clause = _clause_zh(code)
    if clause is not None:
        return clause
    block = re.fullmatch(r"([^{}]+?)\{\s*([^{}]*?)\s*\}", code)  # not a template's {name}
    if block is not None:  # `group chat { cap 20 per day }`: its head, then its clause
        head, body = block.groups()
        return f"{_code_zh(head.strip(), names)} {{ {_code_zh(body, names)} }}"
    from incentive.spelling import KEYWORDS_EN_TO_ZH

    text = _PHRASES_ZH.sub(_phrase_zh, code)
    text = re.sub(
        r"[A-Za-z_]\w*",
        lambda w: (
            KEYWORDS_EN_TO_ZH[w.group()]
            if w.group() in _PLAIN_KEYWORDS and w.group() not in names
            else w.group()
        ),
        text,
    )
    return text


@cache
def _clause_zh(code: str) -> str | None:
    """One rule clause (`limit 1 per day`) in the Chinese spelling, or None."""
    try:
        scheme = parse(f'scheme "x" {{ rule r {{ {code} }} }}', "<hint>")
    except SchemeError:
        return None
    clauses = [c for item in scheme.items for c in getattr(item, "clauses", ())]
    return format_clause(clauses[0], "zh") if len(clauses) == 1 else None


def _mixed_spelling_hints(diagnostics: list[Diagnostic], source: str) -> list[Diagnostic]:
    """In an English scheme, a Chinese keyword where a name may stand is read as a name
    (`award 5 每天上限20` names a currency `每天上限20`): the checker then finds no such
    currency, event or attribute. Say that the name begins with a keyword of the other
    spelling (the parser's E0111 says it where no name may stand)."""
    from incentive.spelling import KEYWORDS_EN_TO_ZH, spelling_of, zh_keyword_prefix

    if spelling_of(source) != "en":
        return diagnostics
    english = {zh: en for en, zh in reversed(KEYWORDS_EN_TO_ZH.items())}
    out = []
    starts = line_starts(source)
    for diagnostic in diagnostics:
        span = diagnostic.span
        keyword = None
        if diagnostic.is_error and 0 < span.line <= len(starts) and span.end_line == span.line:
            begin = starts[span.line - 1] + span.column - 1
            written = source[begin : starts[span.line - 1] + span.end_column - 1]
            keyword = zh_keyword_prefix(written) or ("当" if written[:1] == "当" else None)
        if keyword is None:
            out.append(diagnostic)
            continue
        meaning = (
            _(" (`{keyword}` is `{english}`)").format(keyword=keyword, english=english[keyword])
            if keyword in english
            else ""
        )
        hint = _(
            "`{keyword}` is a keyword of the Chinese spelling, but this scheme is written in "
            "English keywords: write the English keyword{meaning}, or convert the whole "
            "scheme with `incentive fmt --lang zh`"
        ).format(keyword=keyword, meaning=meaning)
        out.append(replace(diagnostic, hints=(*diagnostic.hints, hint)))
    return out


_TYPE_WORDS = {"number": N_("a number"), "text": N_("text"), "bool": N_("true or false")}


def _describe_type(t: ValueType) -> str:
    return _(_TYPE_WORDS[t])


@dataclass
class _Header:
    currencies: list[str] = field(default_factory=list)
    zone: str = "UTC"
    day_ends: time = time(0, 0)
    week_start: int = 0
    season: tuple[date, date] | None = None


class _Checker:
    def __init__(self, scheme: ast.Scheme, file: str, source: str) -> None:
        self.scheme = scheme
        self.file = file
        self.source = source
        self.bag = DiagnosticBag(file)
        self.header = _Header()
        self.declared_events: dict[str, dict[str, ValueType]] | None = None
        self.groups: dict[str, ast.GroupDecl] = {}
        self.group_caps: dict[str, tuple[CapSpec, ...]] = {}
        self.group_budgets: dict[str, list[ast.Budget]] = {}
        self.rule_names: dict[str, ast.RuleDecl] = {}
        self.boards: set[str] = set()  # names in rule_names that are boards
        self.teams: dict[str, ast.Name] = {}  # team kinds: `team class, group`
        self.leagues: dict[str, ast.LeagueDecl] = {}  # a member's tier reads as the name
        self.used_groups: set[str] = set()
        self.meant_groups: set[str] = set()  # suggested for a misspelt `group NAME`
        self.ledger = LedgerChecker(self)
        self.ledger_names: set[str] = set()  # redeem and grants blocks
        levels = [i for i in scheme.items if isinstance(i, ast.LevelsDecl)]
        self.levels_decl: ast.LevelsDecl | None = levels[0] if levels else None
        self.redeems: list[RedeemSpec] = []
        self.grant_specs: list[GrantsSpec] = []
        self.reversal_specs: list[ReversalSpec] = []
        self.transfer_specs: list[TransferSpec] = []
        self.catalogue_specs: list[CatalogueSpec] = []
        # event type -> attribute -> type (declared or inferred from use)
        self.attribute_types: dict[str, dict[str, ValueType]] = {}
        self.read_attributes: dict[str, dict[str, ValueType]] = {}
        self.clock_reads: set[str] = set()  # `weekday`, `hour`: computed per event
        # Comparisons between attributes of unknown type, with the rule's event types:
        # a later rule may still fix a type, so they are looked at after every rule.
        self.untyped: list[tuple[list[str], ast.Binary | ast.Membership]] = []

    # ---- helpers ----------------------------------------------------------------

    def _items(self, kind: type[ast.Node]) -> Iterator[ast.Node]:
        return (item for item in self.scheme.items if isinstance(item, kind))

    def _single(self, kind: type[ast.Node], what: str) -> ast.Node | None:
        found = list(self._items(kind))
        for extra in found[1:]:
            self.bag.error(
                "E0202",
                _("`{what}` is declared more than once").format(what=what),
                extra.span,
                _("the first is on line {line}").format(line=found[0].span.line),
            )
        return found[0] if found else None

    def _date(self, text: str, span: Span) -> date | None:
        try:
            value = date.fromisoformat(text)
        except ValueError:
            self.bag.error(
                "E0206",
                _("`{text}` is not a calendar date").format(text=text),
                span,
                _("write dates as YYYY-MM-DD, e.g. 2026-03-01"),
            )
            return None
        if not in_range(value):
            self.bag.error(
                "E0242",
                _(
                    "`{text}` is outside the years the engine counts in ({FIRST_YEAR} to "
                    "{LAST_YEAR})"
                ).format(text=text, FIRST_YEAR=FIRST_YEAR, LAST_YEAR=LAST_YEAR),
                span,
            )
            return None
        return value

    # ---- passes -----------------------------------------------------------------

    def run(self) -> CheckResult:
        self._check_header()
        self._check_events()
        self._collect_teams()
        self._collect_leagues()
        self.ledger.scheme_budgets()
        self._collect_groups()
        rules = self._check_rules()
        leagues = [self._check_league(decl) for decl in self.leagues.values()]
        self._check_untyped_comparisons()
        self._check_rank_sources()
        boosts = self._check_boosts()
        self._type_boost_conditions(boosts)
        member_zone = self._member_zone()
        for group_name, group in self.groups.items():
            if group_name not in self.used_groups | self.meant_groups:
                self.bag.warning(
                    "W0303",
                    _("group `{group_name}` has no rules").format(group_name=group_name),
                    group.name.span,
                    _("add `group {group_name}` to the rules it should cap").format(
                        group_name=group_name
                    ),
                )
        expiry, levels, seed = self.ledger.expiry(), self.ledger.levels(), self.ledger.seed()
        if self.bag.has_errors:
            return CheckResult(self.bag.sorted(), None)
        specs = tuple(self._rule_spec(rule, boosts) for rule in rules)
        for spec in specs:
            self._warn_unbounded(spec, self.rule_names[spec.name])
        self.bag.items.extend(lint(specs, self.file))
        specs += tuple(league for league in leagues if league is not None)  # after the rules
        by_event: dict[str, list[RuleSpec]] = {}
        for spec in specs:
            for event in spec.events:
                by_event.setdefault(event, []).append(spec)
        calendar = Calendar(
            self.header.zone, self.header.day_ends, self.header.week_start, self.header.season
        )
        program = Program(
            name=self.scheme.name,
            currencies=tuple(self.header.currencies),
            calendar=calendar,
            rules=specs,
            rules_by_event={k: tuple(v) for k, v in sorted(by_event.items())},
            attribute_types={
                k: dict(sorted(v.items())) for k, v in sorted(self.read_attributes.items())
            },
            known_events=frozenset(self.declared_events)
            if self.declared_events is not None
            else None,
            teams=tuple(self.teams),
            expiry=expiry,
            levels=levels,
            seed=seed,
            clock=tuple(sorted(self.clock_reads)),
            member_zone=member_zone,
            redeems=tuple(self.redeems),
            grants=tuple(self.grant_specs),
            reversals=tuple(self.reversal_specs),
            transfers=tuple(self.transfer_specs),
            catalogues=tuple(self.catalogue_specs),
            warnings=tuple(d for d in self.bag.sorted() if not d.is_error),
            source=self.source,
            file=self.file,
        )
        return CheckResult(self.bag.sorted(), program)

    def _check_header(self) -> None:
        currency_decls = [c for c in self.scheme.items if isinstance(c, ast.CurrencyDecl)]
        seen: dict[str, ast.Name] = {}
        for decl in currency_decls:
            for name in decl.names:
                if name.value in seen:
                    self.bag.error(
                        "E0209",
                        _("currency `{name}` is declared twice").format(name=name.value),
                        name.span,
                    )
                seen[name.value] = name
        self.header.currencies = list(seen) or [DEFAULT_CURRENCY]

        tz = self._single(ast.TimezoneDecl, "timezone")
        if isinstance(tz, ast.TimezoneDecl):
            if zone_exists(tz.zone):
                self.header.zone = tz.zone
            else:
                hints = zone_hints(tz.zone) or (
                    'use an IANA zone name such as "Asia/Shanghai" or "Europe/Berlin"',
                )
                self.bag.error(
                    "E0203", _("unknown time zone `{zone}`").format(zone=tz.zone), tz.span, *hints
                )

        day = self._single(ast.DayDecl, "day ends")
        if isinstance(day, ast.DayDecl):
            hour, _sep, minute = day.ends.partition(":")
            if int(hour) <= 23 and int(minute) <= 59:
                self.header.day_ends = time(int(hour), int(minute))
            else:
                self.bag.error(
                    "E0204",
                    _("`{ends}` is not a time of day").format(ends=day.ends),
                    day.span,
                    _("write times as HH:MM between 00:00 and 23:59"),
                )

        week = self._single(ast.WeekDecl, "week starts")
        if isinstance(week, ast.WeekDecl):
            weekday = week.starts.value.lower()
            if weekday in WEEKDAYS:
                self.header.week_start = WEEKDAYS.index(weekday)
            else:
                self.bag.error(
                    "E0205",
                    _("unknown weekday `{starts}`").format(starts=week.starts.value),
                    week.starts.span,
                    *suggestion_hints(weekday, WEEKDAYS),
                )

        season = self._single(ast.SeasonDecl, "season")
        if isinstance(season, ast.SeasonDecl):
            first = self._date(season.first, season.span)
            last = self._date(season.last, season.span)
            if first and last:
                if last < first:
                    self.bag.error(
                        "E0206",
                        _("the season ends ({last}) before it starts ({first})").format(
                            last=last, first=first
                        ),
                        season.span,
                    )
                else:
                    self.header.season = (first, last)

    def _check_events(self) -> None:
        decls = [d for d in self._items(ast.EventsDecl) if isinstance(d, ast.EventsDecl)]
        if not decls:
            return
        self.declared_events = {}
        for decl in decls:
            for event in decl.events:
                if event.name.value in self.declared_events:
                    self.bag.error(
                        "E0209",
                        _("event type `{event}` is declared twice").format(event=event.name.value),
                        event.name.span,
                    )
                attrs: dict[str, ValueType] = {}
                for attr in event.attributes:
                    type_name = attr.type.value
                    if attr.name.value in attrs:
                        self.bag.error(
                            "E0209",
                            _("attribute `{attr}` is declared twice").format(attr=attr.name.value),
                            attr.name.span,
                        )
                    if attr.name.value in CLOCK_ATTRIBUTES:
                        # the engines compute it from the event's time: it would hide this
                        self.bag.error(
                            "E0209",
                            _("`{attr}` is already an attribute of every event").format(
                                attr=attr.name.value
                            ),
                            attr.name.span,
                            _(
                                "it is read from the event's time in the scheme's zone; name the "
                                "attribute differently"
                            ),
                        )
                        continue
                    if type_name not in VALUE_TYPES:
                        self.bag.error(
                            "E0218",
                            _("unknown attribute type `{type_name}`").format(type_name=type_name),
                            attr.type.span,
                            *(
                                suggestion_hints(type_name, VALUE_TYPES)
                                or (_("the types are `number`, `text` and `bool`"),)
                            ),
                        )
                        continue
                    attrs[attr.name.value] = type_name
                self.declared_events[event.name.value] = attrs
                self.attribute_types[event.name.value] = dict(attrs)

    def _check_limit_like(self, count: int, what: str, span: Span) -> bool:
        if count <= 0:
            self.bag.error(
                "E0213",
                _("{what} must be at least 1").format(what=what),
                span,
                _("to switch a rule off, remove it or comment it out with `#`"),
            )
            return False
        return True

    def _check_days(self, days: int, what: str, span: Span) -> bool:
        """A number of days the engine can count: at least 1, at most MAX_DAYS (a window
        of 3,000,000 days ends after the year 9999, which no date can name)."""
        if not self._check_limit_like(days, what, span):
            return False
        if days > MAX_DAYS:
            self.bag.error(
                "E0242",
                _(
                    "{what} of {days:,} days is longer than the engine counts ({MAX_DAYS:,} "
                    "days, about a hundred years)"
                ).format(what=what, days=days, MAX_DAYS=MAX_DAYS),
                span,
                _("for points that never expire, leave out `expire`")
                if what == _("an expiry")
                else _("write at most {MAX_DAYS:,} days").format(MAX_DAYS=MAX_DAYS),
            )
            return False
        return True

    def _check_period(self, period: ast.PeriodName | None, span: Span) -> bool:
        if period == "season" and self.header.season is None:
            self.bag.error(
                "E0215",
                _("`per season` needs a season"),
                span,
                _("declare one in the header: `season 2026-03-01 to 2026-03-21`"),
            )
            return False
        return True

    def _check_caps(self, caps: list[ast.Cap], owner: str) -> tuple[CapSpec, ...]:
        specs: list[CapSpec] = []
        by_period: dict[str, ast.Cap] = {}
        for cap in caps:
            ok = self._check_limit_like(cap.points, _("a cap"), cap.span)
            ok = self._check_period(cap.period, cap.span) and ok
            if cap.period in by_period:
                self.bag.error(
                    "E0214",
                    _("two caps per {period} ({points} and {points2})").format(
                        period=unit(cap.period),
                        points=by_period[cap.period].points,
                        points2=cap.points,
                    ),
                    cap.span,
                    _("keep one of them"),
                )
                ok = False
            by_period[cap.period] = cap
            if ok:
                specs.append(CapSpec(owner, cap.points, cap.period))
        self._warn_never_binds(
            [
                (c.points, c.period, c.span, f"cap {c.points} per {c.period}")
                for c in caps
                if c.points > 0
            ]
        )
        return tuple(specs)

    def _warn_never_binds(self, items: list[tuple[int, ast.PeriodName | None, Span, str]]) -> None:
        """A bound over a period at or above a bound over a period it lies in never binds."""
        for count, period, span, text in items:
            for other_count, other_period, _other, other_text in items:
                if (period, other_period) in _NESTED_PERIODS and other_count <= count:
                    self.bag.warning(
                        "W0302",
                        _("`{text}` can never bind under `{other_text}`").format(
                            text=text, other_text=other_text
                        ),
                        span,
                        _("remove it, or raise the longer period's bound"),
                    )
                    break

    def _collect_teams(self) -> None:
        for decl in self._items(ast.TeamDecl):
            assert isinstance(decl, ast.TeamDecl)
            for name in decl.names:
                if (
                    name.value in BUILTIN_ATTRIBUTES
                    or name.value in CLOCK_ATTRIBUTES
                    or (name.value == "level" and self.levels_decl is not None)
                ):
                    self.bag.error(
                        "E0209",
                        _("`{name}` is already an attribute of every event").format(
                            name=name.value
                        ),
                        name.span,
                        _("name the team kind differently, e.g. `team cohort`"),
                    )
                    continue
                if name.value in self.teams:
                    self.bag.error(
                        "E0209",
                        _("team `{name}` is declared twice").format(name=name.value),
                        name.span,
                    )
                    continue
                self.teams[name.value] = name

    def _collect_groups(self) -> None:
        for group in self._items(ast.GroupDecl):
            assert isinstance(group, ast.GroupDecl)
            name = group.name.value
            if name in self.groups:
                self.bag.error(
                    "E0209",
                    _("group `{name}` is declared twice").format(name=name),
                    group.name.span,
                )
                continue
            self.groups[name] = group
            caps = [c for c in group.caps if isinstance(c, ast.Cap)]
            self.group_caps[name] = self._check_caps(caps, f"group:{name}")
            self.group_budgets[name] = [c for c in group.caps if isinstance(c, ast.Budget)]

    def _check_rules(self) -> list[ast.RuleDecl]:
        rules: list[ast.RuleDecl] = []
        group_currency: dict[str, tuple[str, ast.RuleDecl]] = {}
        for item in self.scheme.items:
            if isinstance(item, ast.BoardDecl):
                # A board is checked as a rule that pays nothing; names are shared.
                rule = ast.RuleDecl(item.name, item.clauses, span=item.span)
                self.boards.add(item.name.value)
            elif isinstance(item, ast.RuleDecl):
                rule = item
            else:
                continue
            name = rule.name.value
            if name in self.rule_names:
                self.bag.error(
                    "E0201",
                    _("rule `{name}` is declared twice").format(name=name),
                    rule.name.span,
                    _("the first is on line {line}").format(line=self.rule_names[name].span.line),
                )
                continue
            if name in self.groups:
                self.bag.error(
                    "E0209",
                    _("`{name}` is already the name of a group").format(name=name),
                    rule.name.span,
                )
            self.rule_names[name] = rule
            rules.append(rule)
            self._check_rule(rule)
            currency = self._rule_currency(_payments(rule))
            for budget in (c for c in rule.clauses if isinstance(c, ast.Budget)):
                self.ledger.budget(budget, f"rule:{name}", currency)
            for ref in (c for c in rule.clauses if isinstance(c, ast.GroupRef)):
                group = ref.name.value
                if group not in self.groups:
                    meant = did_you_mean(group, self.groups)
                    self.bag.error(
                        "E0208",
                        _("unknown group `{group}`").format(group=group),
                        ref.name.span,
                        _("did you mean `{meant}`?").format(meant=meant)
                        if meant
                        else _("declare it: `group {group} {{ cap 20 per day }}`").format(
                            group=group
                        ),
                    )
                    if meant is not None:
                        self.meant_groups.add(meant)  # no W0303 for it on top of E0208
                    continue
                self.used_groups.add(group)
                if group in group_currency and group_currency[group][0] != currency:
                    other = group_currency[group][1].name.value
                    self.bag.error(
                        "E0226",
                        _(
                            "group `{group}` mixes currencies: rule "
                            "`{name}` pays `{currency}`, rule "
                            "`{other}` pays `{value}`"
                        ).format(
                            group=group,
                            name=name,
                            currency=currency,
                            other=other,
                            value=group_currency[group][0],
                        ),
                        ref.span,
                        _("a cap counts one currency; use one group per currency"),
                    )
                group_currency.setdefault(group, (currency, rule))
        for group, budgets in self.group_budgets.items():
            paid = group_currency.get(group, (self.header.currencies[0], None))[0]
            for budget in budgets:
                self.ledger.budget(budget, f"group:{group}", paid)
        for item in self.scheme.items:
            if isinstance(
                item,
                ast.RedeemDecl
                | ast.GrantsDecl
                | ast.ReverseDecl
                | ast.TransferDecl
                | ast.CatalogueDecl,
            ):
                name = item.name.value
                if name in self.rule_names or name in self.ledger_names:
                    self.bag.error(
                        "E0201",
                        _(
                            "`{name}` is already the name of a rule, redeem, grants, reverse, "
                            "transfer or catalogue"
                        ).format(name=name),
                        item.name.span,
                    )
                    continue
                self.ledger_names.add(name)
                if isinstance(item, ast.CatalogueDecl):
                    catalogue = self.ledger.catalogue(item)
                    if catalogue is not None:
                        self.catalogue_specs.append(catalogue)
                elif isinstance(item, ast.TransferDecl):
                    transfer = self.ledger.transfer(item)
                    if transfer is not None:
                        self.transfer_specs.append(transfer)
                elif isinstance(item, ast.ReverseDecl):
                    reversal = self.ledger.reversal(item)
                    if reversal is not None:
                        self.reversal_specs.append(reversal)
                elif isinstance(item, ast.RedeemDecl):
                    redeem = self.ledger.redeem(item)
                    if redeem is not None:
                        self.redeems.append(redeem)
                else:
                    grants = self.ledger.grants(item)
                    if grants is not None:
                        shared = self.ledger.budgets.get(f"scheme:{grants.currency}", [])
                        self.grant_specs.append(replace(grants, budgets=tuple(shared)))
        return rules

    def _rule_currency(self, payments: list[ast.Award]) -> str:
        if not payments or payments[0].currency is None:
            return self.header.currencies[0]
        return payments[0].currency.value

    def _check_rule(self, rule: ast.RuleDecl) -> None:
        name = rule.name.value
        counts: dict[type, list[ast.Node]] = {}
        for clause in rule.clauses:
            counts.setdefault(type(clause), []).append(clause)
        for kind, word, hint in (
            (ast.On, "on", N_("combine them: `on a, b`")),
            (ast.Where, "where", N_("combine them: `where x and y`")),
            (
                ast.Award,
                "award",
                N_(
                    "a rule pays one amount per event: add them up (`award 5 + 3`), "
                    "or write a second rule for a second award"
                ),
            ),
            (ast.Once, "once", N_("remove it: one `once` already pays at most once ever")),
            (ast.Uncapped, "uncapped", N_("remove it: one `uncapped` is enough")),
            (ast.Streak, "streak", N_("a rule counts one streak: write one rule per period")),
            (
                ast.Milestone,
                "milestone",
                N_("a rule counts one milestone: write one rule per measure"),
            ),
            (
                ast.Grace,
                "grace",
                N_("keep one: `grace 2` lets a streak survive two missed periods"),
            ),
            (ast.Every, "every", N_("keep one `every`; pay other lengths with `at N award X`")),
            (ast.Pending, "pending", N_("keep one: `pending 7 days`")),
            (ast.Reason, "reason", N_("keep one: `reason note`")),
            (ast.Credit, "credit", N_("an award goes to one member: keep one `credit`")),
        ):
            for extra in counts.get(kind, [])[1:]:
                self.bag.error(
                    "E0212",
                    _("rule `{name}` has more than one `{word}` clause").format(
                        name=name, word=word
                    ),
                    extra.span,
                    _(hint),
                )
        on = _first(rule, ast.On)
        rank = _first(rule, ast.Rank)
        by_points = rank is not None and rank.measure in ("points", "reached")
        earning = any(isinstance(c, ast.Reaching) and c.earned for c in rule.clauses)
        league_board = _first(rule, ast.LeagueBoard)
        if on is None and not by_points and not earning and league_board is None:
            self.bag.error(
                "E0210",
                _("rule `{name}` does not say which events it reacts to").format(name=name),
                rule.name.span,
                _("add an `on` clause: `on checkin`"),
            )
        award = _first(rule, ast.Award)
        tiered = self._check_tiered(rule)
        self._check_start_window(rule)
        self._check_own_periods(rule)
        self._check_rank(rule, award)
        perk = self._check_perk(rule, award, tiered)
        self._check_every_time(rule, perk, tiered)
        self._check_window(rule, tiered)
        self._check_first(rule, tiered)
        self._check_flags_and_referrals(rule, award, perk)
        self._check_posts(rule, rank, name in self.boards)
        if name in self.boards and league_board is not None:
            self._check_league_board(rule, league_board)
        elif name in self.boards:
            if rank is None:
                self.bag.error(
                    "E0235",
                    _("board `{name}` does not say how to rank").format(name=name),
                    rule.name.span,
                    _("add a ranking: `per day by points`, or `class per day by points`"),
                )
        elif award is None and not tiered and perk is None:
            self.bag.error(
                "E0211",
                _("rule `{name}` does not award anything").format(name=name),
                rule.name.span,
                _("add an `award` clause: `award 5`"),
            )
        payments = _payments(rule)
        for payment in payments:
            if (
                payment.currency is not None
                and payment.currency.value not in self.header.currencies
            ):
                self.bag.error(
                    "E0207",
                    _("unknown currency `{currency}`").format(currency=payment.currency.value),
                    payment.currency.span,
                    *(
                        suggestion_hints(payment.currency.value, self.header.currencies)
                        or (
                            _("declare it: {code}").format(
                                code=f"`currency {', '.join(self.header.currencies)}, "
                                f"{payment.currency.value}`"
                            ),
                        )
                    ),
                )
        if len({self._rule_currency([p]) for p in payments}) > 1:
            self.bag.error(
                "E0226",
                _("rule `{name}` pays in more than one currency").format(name=name),
                rule.name.span,
                _("a rule pays one currency; write one rule per currency"),
            )

        # limits
        # A repeated `once` is already E0212: it is not a second limit as well.
        first_once = _first(rule, ast.Once)
        limits = [
            c
            for c in rule.clauses
            if isinstance(c, ast.Limit) or (isinstance(c, ast.Once) and c is first_once)
        ]
        # a limit `for each` attribute counts apart from the limits of its period
        by_period: dict[tuple[str | None, str | None], ast.Limit | ast.Once] = {}
        bounds: list[tuple[int, ast.PeriodName | None, Span, str]] = []
        for clause in limits:
            count, period = (
                (1, None) if isinstance(clause, ast.Once) else (clause.count, clause.period)
            )
            if not self._check_limit_like(count, _("a limit"), clause.span):
                continue
            self._check_period(period, clause.span)
            key = clause.key.value if clause.key else None
            if (period, key) in by_period:
                # Each limit counts every award under the same counter, so two limits
                # for one period count each award twice (even when they are equal).
                first = by_period[(period, key)]
                label = (
                    _("ever") if period is None else _("per {period}").format(period=unit(period))
                )
                label += _(" for each {key}").format(key=key) if key else ""
                self.bag.error(
                    "E0214",
                    _("rule `{name}` has two limits {label}").format(name=name, label=label),
                    clause.span,
                    _(
                        "the first is `{value}` on line {line}; keep one of them: together they "
                        "would count each award twice"
                    ).format(value=format_clause(first), line=first.span.line),
                )
                continue
            by_period[(period, key)] = clause
            if key is None:  # a limit per value never binds under one over all values
                bounds.append((count, period, clause.span, LimitSpec(count, period).describe()))
        self._warn_never_binds(bounds)
        self._check_caps([c for c in rule.clauses if isinstance(c, ast.Cap)], f"rule:{name}")

        events = self._rule_events(on) if on is not None else []
        typer = _Typer(self, events)
        where = _first(rule, ast.Where)
        if where is not None and uses_random(where.condition):
            self.bag.error(
                "E0241",
                _("`random(...)` draws an amount; a condition cannot use it"),
                where.condition.span,
                _("for a lottery, rank by it: `top 3 per week by lottery`"),
            )
        if where is not None:
            typer.condition(where.condition, _("compare it, e.g. `words > 0`"))
        rank = _first(rule, ast.Rank)
        for payment in payments:
            if rank is not None and rank.pay is not None:
                break  # its amount reads the measure, not the events (_check_pay)
            got = typer.infer(payment.amount, "number")
            if got is not None and got != "number":
                self.bag.error(
                    "E0221",
                    _("an award must be a number, not {value}").format(value=_describe_type(got)),
                    payment.amount.span,
                )
        rank = _first(rule, ast.Rank)
        if rank is not None and rank.attribute is not None and rank.measure != "reached":
            typer.expect(
                ast.Attribute(rank.attribute.value, span=rank.attribute.span),
                "number",
                f"`by {rank.measure}`",
            )
        milestone = _first(rule, ast.Milestone)
        if milestone is not None and milestone.attribute is not None:
            read = ast.Attribute(milestone.attribute.value, span=milestone.attribute.span)
            if milestone.measure == "distinct":
                typer.infer(read, "text")  # member ids, names: text unless declared
            else:
                typer.expect(read, "number", "`milestone sum`")
        for clause in limits:
            if clause.key is not None:
                # text unless declared: ids and names (a number needs `album: number`)
                typer.infer(ast.Attribute(clause.key.value, span=clause.key.span), "text")
        self._check_credit(rule, typer)
        self._check_reaching(rule, typer)
        if events:
            self.untyped.extend((events, node) for node in typer.untyped)

    def _check_posts(self, rule: ast.RuleDecl, rank: ast.Rank | None, board: bool) -> None:
        """`each day` posts a board's standings so far: only a board, and only a period
        that lies inside the board's own (a day inside the season, not a week in a month)."""
        posts = _first(rule, ast.Posts)
        for extra in [c for c in rule.clauses if isinstance(c, ast.Posts)][1:]:
            self.bag.error(
                "E0212",
                _("rule `{rule}` has more than one `each` clause").format(rule=rule.name.value),
                extra.span,
            )
        self._check_post(rule, rank)
        # (the grammar has `each` in boards only)
        if posts is None or not board:
            return
        if rank is not None and (posts.period, rank.period) not in _NESTED_PERIODS:
            self.bag.error(
                "E0248",
                _("a board ranked per {period} cannot be posted each {period2}").format(
                    period=unit(rank.period), period2=unit(posts.period)
                ),
                posts.span,
                _("post it each shorter period inside a {period}: `each day`").format(
                    period=unit(rank.period)
                ),
            )

    def _check_league_board(self, rule: ast.RuleDecl, clause: ast.LeagueBoard) -> None:
        """`board tiers { league weekly }`: the league's cohorts are the board (E0266)."""
        self._one_clause(
            rule,
            ast.LeagueBoard,
            "league",
            _("a board lists one league: write one board per league"),
        )
        league = clause.league.value
        if league not in self.leagues:
            self.bag.error(
                "E0266",
                _("`{league}` is not a league of the scheme").format(league=league),
                clause.league.span,
                *(
                    suggestion_hints(league, sorted(self.leagues))
                    or (_("declare it: `league {league} {{ ... }}`").format(league=league),)
                ),
            )
        for other in rule.clauses:
            if not isinstance(other, (ast.LeagueBoard, ast.Post)):
                self.bag.error(
                    "E0266",
                    _(
                        "a league's board lists the league's cohorts as the league ranks them: "
                        "it takes no `on`, `where`, ranking or `each`"
                    ),
                    other.span,
                    _(
                        "the league says who takes part and by what; keep `league {league}` "
                        "and a `post`"
                    ).format(league=league),
                )

    def _check_post(self, rule: ast.RuleDecl, rank: ast.Rank | None) -> None:
        """A board's `post`: templates with known placeholders, a time of day."""
        clauses = [c for c in rule.clauses if isinstance(c, ast.Post)]
        for extra in clauses[1:]:
            self.bag.error(
                "E0212",
                _("rule `{rule}` has more than one `post` clause").format(rule=rule.name.value),
                extra.span,
            )
        if not clauses:
            return
        post = clauses[0]
        missing = rank is not None and rank.measure == "missing"
        templates = [(N_("heading"), post.heading, HEADING_FIELDS)]
        if post.line is not None:
            fields = MISSING_LINE_FIELDS if missing else LINE_FIELDS
            if _first(rule, ast.LeagueBoard) is not None:
                fields = LEAGUE_LINE_FIELDS
            templates.append((N_("line"), post.line, fields))
        for what, text, allowed in templates:
            problem = template_problem(text, allowed)
            if problem is not None:
                self.bag.error(
                    "E0249",
                    _("the post's {what} cannot be written: {problem}").format(
                        what=_(what), problem=problem
                    ),
                    post.span,
                    _("placeholders are names in braces: `{rank}. {name} {value}`"),
                )
        if post.join is not None and not missing:
            self.bag.error(
                "E0249",
                _(
                    "`join` goes between the members of a team: only a `by missing` board "
                    "lists them"
                ),
                post.span,
            )
        if post.at is not None and _time_of_day(post.at) is None:
            self.bag.error(
                "E0204",
                _("`{text}` is not a time of day").format(text=post.at),
                post.span,
                _("write times as HH:MM between 00:00 and 23:59"),
            )

    def _check_credit(self, rule: ast.RuleDecl, typer: _Typer) -> None:
        credit = _first(rule, ast.Credit)
        if credit is None:
            return
        typer.expect(
            ast.Attribute(credit.attribute.value, span=credit.attribute.span),
            "text",
            "`credit`",
        )
        kinds = (ast.Rank, ast.Streak, ast.Milestone, ast.Inactive, ast.Inviter)
        if any(_first(rule, kind) for kind in kinds) or _first(rule, ast.Award) is None:
            self.bag.error(
                "E0229",
                _("`credit` belongs to a rule that pays an `award` per event"),
                credit.span,
                _("write `award 1  credit candidate`: the candidate an event names is paid"),
            )

    def _check_untyped_comparisons(self) -> None:
        """Warn about comparisons whose sides no declaration or use has typed.

        The interpreter converts only the attributes whose type it knows
        (`Program.attribute_types`); an attribute it does not know is missing from
        the event, and a comparison that reads a missing attribute is false.
        """
        for events, node in self.untyped:
            typer = _Typer(self, events)
            typer.infer(node, "bool")
            if not typer.untyped:
                continue  # another rule fixed the types (or a type error was reported)
            names = [f"`{n}`" for n in dict.fromkeys(a.name for a in _attributes(node))]
            if len(names) == 1:
                what = _("the type of {name} is unknown, so the rule never reads it").format(
                    name=names[0]
                )
            else:
                shown = _("{some} and {last}").format(some=_(", ").join(names[:-1]), last=names[-1])
                what = _("the types of {names} are unknown, so the rule never reads them").format(
                    names=shown
                )
            attributes = ", ".join(f"{n.strip('`')}: text" for n in names)
            declaration = " ".join(f"{name_text(e)}({attributes})" for e in events)
            self.bag.warning(
                "W0307",
                _("{value} is always false: {what}").format(
                    value=_describe_comparison(node), what=what
                ),
                node.span,
                _(
                    "declare the types in `events {{ ... }}`, e.g. `events {{ {declaration} }}`"
                ).format(declaration=declaration),
            )

    def _check_perk(
        self, rule: ast.RuleDecl, award: ast.Award | None, tiered: bool
    ) -> ast.Perk | None:
        perk = _first(rule, ast.Perk)
        if perk is None:
            return None
        if award is not None:
            self.bag.error(
                "E0236",
                _("rule `{rule}` awards both points and a {kind}").format(
                    rule=rule.name.value, kind=perk.kind
                ),
                perk.span,
                _("write one rule for the points and one for the perk"),
            )
        elif (
            _first(rule, ast.Rank) is None
            and _first(rule, ast.Inactive) is None
            and (_first(rule, ast.EveryTime) is None or tiered)
            and (_first(rule, ast.Window) is None or tiered)
            and (_first(rule, ast.First) is None or tiered)
        ):
            self.bag.error(
                "E0236",
                _(
                    "a {kind} is awarded by a rank rule, an `inactive` rule, or a streak or "
                    "milestone tier"
                ).format(kind=perk.kind),
                perk.span,
                _('e.g. `top 1 class per season by points  {kind} "{perk}"`').format(
                    kind=perk.kind, perk=perk.name
                )
                if not tiered
                else _('e.g. `at 10 {kind} "{perk}"`').format(kind=perk.kind, perk=perk.name),
            )
        return perk

    def _member_zone(self) -> str | None:
        """`timezone from tz`: once; the attribute holds zone names (text)."""
        found = self._single(ast.MemberZoneDecl, "timezone from")
        if not isinstance(found, ast.MemberZoneDecl):
            return None
        name = found.attribute.value
        for event in self.scheme.items:
            if not isinstance(event, ast.EventsDecl):
                continue
            for declared in event.events:
                for attr in declared.attributes:
                    if attr.name.value == name and attr.type.value != "text":
                        self.bag.error(
                            "E0264",
                            _(
                                "`timezone from {name}` reads zone names, but `{name}` is "
                                "declared {kind}"
                            ).format(name=name, kind=attr.type.value),
                            attr.span,
                            _('declare it `{name}: text` (a zone such as "Asia/Shanghai")').format(
                                name=name
                            ),
                        )
        if not self.clock_reads:
            self.bag.error(
                "E0264",
                _(
                    "`timezone from {name}` sets the zone of `hour` and `weekday`, but no "
                    "condition reads them"
                ).format(name=name),
                found.span,
                _("e.g. `where hour between 20 and 22`; or remove `timezone from`"),
            )
        return name

    def _check_every_time(self, rule: ast.RuleDecl, perk: ast.Perk | None, tiered: bool) -> None:
        """`badge "helper" every time`: a per-event rule that gives its perk on each
        matching event. Only a perk is given so (an award already pays per event), and
        not by a rule that gives it when something is reached."""
        every = self._one_clause(
            rule,
            ast.EveryTime,
            "every time",
            _("remove it: one `every time` already gives the perk on each event"),
        )
        if every is None:
            return
        if perk is None:
            self.bag.error(
                "E0260",
                _(
                    "`every time` gives a rule's perk on every matching event; rule `{rule}` "
                    "has no perk"
                ).format(rule=rule.name.value),
                every.span,
                _(
                    "an `award` already pays on every matching event: remove `every time`, "
                    'or give a perk: `badge "helper" every time`'
                ),
            )
            return
        others = (ast.Rank, ast.Inactive, ast.Inviter, ast.Credit)
        if tiered or any(isinstance(c, others) for c in rule.clauses):
            self.bag.error(
                "E0260",
                _(
                    "`every time` belongs to a plain per-event rule, not a streak, milestone, "
                    "rank, `inactive`, `inviter` or `credit` rule"
                ),
                every.span,
                _(
                    'remove `every time`, or write a second rule: `on ...  {kind} "{perk}" '
                    "every time`"
                ).format(kind=perk.kind, perk=perk.name),
            )

    def _check_reaching(self, rule: ast.RuleDecl, typer: _Typer) -> None:
        """`reaching 3 [words]`: a streak's periods count only when they reach it."""
        reaching = self._one_clause(
            rule,
            ast.Reaching,
            "reaching",
            _("keep one: `reaching 3` counts a period with 3 matching events"),
        )
        if reaching is None:
            return
        self._check_limit_like(reaching.count, _("a streak's threshold"), reaching.span)
        if _first(rule, ast.Streak) is None:
            self.bag.error(
                "E0262",
                _("`reaching` belongs to a `streak` rule: it says when a period counts"),
                reaching.span,
                _("e.g. `streak per week  reaching 100 points  at 3 award 50`"),
            )
        if reaching.earned:
            self._check_earned(rule, reaching)
        elif reaching.attribute is not None:
            read = ast.Attribute(reaching.attribute.value, span=reaching.attribute.span)
            typer.expect(read, "number", "`reaching`")

    def _check_earned(self, rule: ast.RuleDecl, reaching: ast.Reaching) -> None:
        """`reaching 100 coins earned`: the points paid to the member, in a currency of
        the scheme; counted from every other rule, not from events (E0262)."""
        currency = reaching.attribute
        if currency is not None and currency.value not in self.header.currencies:
            self.bag.error(
                "E0207",
                _("unknown currency `{currency}`").format(currency=currency.value),
                currency.span,
                *suggestion_hints(currency.value, self.header.currencies),
            )
        kinds = (ast.On, ast.Where, ast.StartWindow, ast.OwnPeriods)
        for clause in rule.clauses:
            if isinstance(clause, kinds):
                self.bag.error(
                    "E0262",
                    _(
                        "a streak of points earned counts what the scheme pays the member, "
                        "not events: it takes no `on`, `where`, `within` or `periods from`"
                    ),
                    clause.span,
                    _(
                        "remove it; to count events, drop `earned` (`reaching 3` counts "
                        "matching events, `reaching 100 points` sums their `points`)"
                    ),
                )

    def _check_first(self, rule: ast.RuleDecl, tiered: bool) -> None:
        """`first 3 per week`: a challenge the first K members of each period win, at
        their event. A per-event rule of its own kind, paying an award or a perk."""
        first = self._one_clause(
            rule,
            ast.First,
            "first",
            _("a challenge has one number of winners: keep one `first`"),
        )
        if first is None:
            return
        self._check_limit_like(first.count, _("a number of winners"), first.span)
        self._check_period(first.period, first.span)
        others = (ast.Rank, ast.Inactive, ast.Inviter, ast.Credit, ast.EveryTime, ast.Window)
        if tiered or any(isinstance(c, others) for c in rule.clauses):
            self.bag.error(
                "E0263",
                _(
                    "a `first` rule pays the first members at their event; it is not a "
                    "streak, milestone, rank, `inactive`, `inviter`, `credit`, `every time` "
                    "or `window` rule"
                ),
                first.span,
                _("write one rule for the challenge and another for the rest"),
            )

    def _check_window(self, rule: ast.RuleDecl, tiered: bool) -> None:
        """`window 3 within 7 days`: N matching events within any D days pay the rule's
        award or perk, once per N events. A rule of its own kind: not a streak,
        milestone, rank, `inactive`, `inviter`, `credit` or `every time` rule."""
        window = self._one_clause(
            rule, ast.Window, "window", _("a rule counts one window: write one rule per window")
        )
        if window is None:
            return
        self._check_limit_like(window.count, _("a window's count"), window.span)
        self._check_days(window.days, _("a window"), window.span)
        others = (ast.Rank, ast.Inactive, ast.Inviter, ast.Credit, ast.EveryTime)
        if tiered or any(isinstance(c, others) for c in rule.clauses):
            self.bag.error(
                "E0261",
                _(
                    "a `window` rule pays when its events are reached; it is not a streak, "
                    "milestone, rank, `inactive`, `inviter`, `credit` or `every time` rule"
                ),
                window.span,
                _("write one rule for the window and another for the rest"),
            )

    def _check_flags_and_referrals(
        self, rule: ast.RuleDecl, award: ast.Award | None, perk: ast.Perk | None
    ) -> None:
        why = _first(rule, ast.Reason)
        if why is not None:
            on = _first(rule, ast.On)
            events = self._rule_events(on) if on is not None else []
            self._typer(events).expect(
                ast.Attribute(why.attribute.value, span=why.attribute.span), "text", "`reason`"
            )
            if award is None or _first(rule, ast.Rank) is not None:
                self.bag.error(
                    "E0247",
                    _("rule `{rule}` has a `reason` but no per-event award").format(
                        rule=rule.name.value
                    ),
                    why.span,
                    _(
                        "`reason note` puts the event's note into the record of what it pays; "
                        "use it on a rule with `award`"
                    ),
                )
        pending = _first(rule, ast.Pending)
        if pending is not None:
            self._check_limit_like(pending.days, _("a pending window"), pending.span)
            if not _payments(rule) or rule.name.value in self.boards:
                self.bag.error(
                    "E0244",
                    _("rule `{rule}` pays no points to hold: `pending` has no effect").format(
                        rule=rule.name.value
                    ),
                    pending.span,
                    _("`pending 7 days` holds the points a rule awards; remove it here"),
                )
        inactive = _first(rule, ast.Inactive)
        if inactive is not None:
            self._check_days(inactive.days, "`inactive`", inactive.span)
            if award is not None or perk is None:
                self.bag.error(
                    "E0240",
                    _("an `inactive` rule flags a member; it pays no points"),
                    (award or inactive).span,
                    _('write `flag "inactive"` (or a perk or badge)'),
                )
        inviter = _first(rule, ast.Inviter)
        if inviter is None:
            return
        self._check_days(inviter.days, _("a referral window"), inviter.span)
        event = inviter.event.value
        if self.declared_events is not None and event not in self.declared_events:
            self.bag.error(
                "E0216",
                _("unknown event type `{event}`").format(event=event),
                inviter.event.span,
                *suggestion_hints(event, self.declared_events),
            )
            return
        self._typer([event]).expect(
            ast.Attribute(inviter.attribute.value, span=inviter.attribute.span),
            "text",
            "`inviter from`",
        )
        if _first(rule, ast.Rank) or _first(rule, ast.Streak) or _first(rule, ast.Milestone):
            self.bag.error(
                "E0240",
                _("a referral pays the inviter per event; it is not a rank, streak or milestone"),
                inviter.span,
            )

    def _check_reached(self, rule: ast.RuleDecl, rank: ast.Rank) -> None:
        """`by reached full`: `full` is a streak or milestone rule; the rank takes no `on`
        or `where` (its members are those the rule paid a tier)."""
        assert rank.attribute is not None
        target = rank.attribute.value
        tiered = {
            r.name.value
            for r in self.scheme.items
            if isinstance(r, ast.RuleDecl)
            and (_first(r, ast.Streak) is not None or _first(r, ast.Milestone) is not None)
        }
        if target not in tiered:
            self.bag.error(
                "E0229",
                _("`by reached` names a streak or milestone rule; `{target}` is not one").format(
                    target=target
                ),
                rank.attribute.span,
                *(suggestion_hints(target, tiered) or (_("e.g. `by reached full_attendance`"),)),
            )
        for clause in rule.clauses:
            if isinstance(clause, ast.On | ast.Where):
                self.bag.error(
                    "E0229",
                    _(
                        "`by reached` counts who the rule it names paid a tier: it takes no "
                        "`on` or `where`"
                    ),
                    clause.span,
                    _("put the condition on the streak or milestone rule"),
                )

    def _rule_events(self, on: ast.On) -> list[str]:
        """The event types an `on` clause names, checked against the declared list."""
        events: list[str] = []
        for event in on.events:
            if self.declared_events is not None and event.value not in self.declared_events:
                self.bag.error(
                    "E0216",
                    _("unknown event type `{event}`").format(event=event.value),
                    event.span,
                    *(
                        suggestion_hints(event.value, self.declared_events)
                        or (_("add it to the `events { ... }` list"),)
                    ),
                )
                continue
            if event.value in events:
                self.bag.error(
                    "E0209",
                    _("event type `{event}` is listed twice").format(event=event.value),
                    event.span,
                )
                continue
            events.append(event.value)
        return events

    def _typer(self, events: list[str]) -> _Typer:
        return _Typer(self, events)

    def _check_rank(self, rule: ast.RuleDecl, award: ast.Award | None) -> None:
        rank = _first(rule, ast.Rank)
        if rank is None:
            if award is not None and award.rest:
                self.bag.error(
                    "E0229",
                    _("a list of amounts belongs to a rank rule (`top 3 per day by ...`)"),
                    award.rest[0].span,
                    _("pay one amount per event: `award 5`"),
                )
            return
        name = rule.name.value
        for other in (_first(rule, ast.Streak), _first(rule, ast.Milestone)):
            if other is not None:
                self.bag.error(
                    "E0228",
                    _("rule `{name}` is both a rank and a streak or milestone").format(name=name),
                    other.span,
                )
        for clause in rule.clauses:
            if isinstance(clause, ast.Limit | ast.Once | ast.Cap | ast.GroupRef):
                self.bag.error(
                    "E0230",
                    _(
                        "a rank rule is bounded by its N and its amounts: it takes no `limit`, "
                        "`once`, `cap` or `group`"
                    )
                    if rank.pay is None
                    else _(
                        "a payment from a measure is bounded by its amount and budgets: "
                        "it takes no `limit`, `once`, `cap` or `group`"
                    ),
                    clause.span,
                    _("rank awards do not count toward member caps")
                    if rank.pay is None
                    else _("bound it in the amount (`min(active * 20, 1154)`) or a `budget`"),
                )
        if rank.pay is not None:
            self._check_pay(rule, rank, rank.pay, award)
            return
        if rank.count is not None:  # None (everyone) parses only in a board
            self._check_limit_like(rank.count, _("a rank's N"), rank.span)
        self._check_period(rank.period, rank.span)
        if rank.team is not None and rank.team.value not in self.teams:
            self.bag.error(
                "E0233",
                _("unknown team `{team}`").format(team=rank.team.value),
                rank.team.span,
                *(
                    suggestion_hints(rank.team.value, self.teams)
                    or (_("declare it: {code}").format(code=f"`team {rank.team.value}`"),)
                ),
            )
        if rank.measure == "missing" and (
            name not in self.boards or rank.count is not None or _first(rule, ast.Posts)
        ):
            self.bag.error(
                "E0229",
                _(
                    "`by missing` lists everyone without a matching event: it belongs to a "
                    "board with no `top N` and no `each`"
                ),
                rank.span,
                _("write `board not_yet { on homework  group per day by missing }`"),
            )
        if rank.measure == "reached":
            self._check_reached(rule, rank)
        if rank.team is None and rank.measure in ("active", "rate", "reached"):
            self.bag.error(
                "E0234",
                _("`by {measure}` ranks teams: say which kind of team").format(
                    measure=rank.measure
                ),
                rank.span,
                _("e.g. `top 3 class per {period} by {measure}`").format(
                    period=rank.period, measure=rank.measure
                )
                + ("" if self.teams else _(" with `team class` declared")),
            )
        if award is None:
            return
        if rank.count is not None and len(award.amounts) > rank.count > 0:
            self.bag.error(
                "E0232",
                _("{value} amounts for {side} {count}").format(
                    value=len(award.amounts), side=rank.side, count=rank.count
                ),
                award.span,
                _("give at most {count}; the last amount repeats for the remaining places").format(
                    count=rank.count
                ),
            )
        for amount in award.amounts:
            attribute = _first_attribute(amount)
            if uses_random(amount):
                self.bag.error(
                    "E0231",
                    _("a rank award is a fixed amount per place; it cannot draw `random(...)`"),
                    amount.span,
                    _("use a number, or a list of numbers per position: `award 10, 5, 3`"),
                )
            elif attribute is not None:
                self.bag.error(
                    "E0231",
                    _(
                        "a rank award is paid at the period's close, so its amount cannot read "
                        "the event attribute `{attribute}`"
                    ).format(attribute=attribute.name),
                    attribute.span,
                    _("use a number, or a list of numbers per position: `award 10, 5, 3`"),
                )

    def _check_pay(
        self, rule: ast.RuleDecl, rank: ast.Rank, to: ast.PayTo, award: ast.Award | None
    ) -> None:
        """`pay moderator per week by active  award min(active * 20, 1154)`."""
        self._check_period(rank.period, rank.span)
        if rank.measure not in _PAY_MEASURES:
            self.bag.error(
                "E0250",
                _("a payment from a measure cannot be measured `by {measure}`").format(
                    measure=rank.measure
                ),
                rank.span,
                _(
                    "measure by `count`, `active` (members with a matching event), "
                    "`sum ATTRIBUTE` or `max ATTRIBUTE`"
                ),
            )
            return
        if to.so_far and rank.period == "season":
            self.bag.error(
                "E0250",
                _("`so far` measures from the first event on: per season it is the season's own"),
                to.span,
                _("remove `so far`, or pay per week (or day, month)"),
            )
        if to.attribute is not None:
            on = _first(rule, ast.On)
            self._typer(self._rule_events(on) if on is not None else []).expect(
                ast.Attribute(to.attribute.value, span=to.attribute.span), "text", "`pay`"
            )
        perk = _first(rule, ast.Perk)
        if perk is not None:
            self.bag.error(
                "E0250",
                _("a payment from a measure pays points, not a {kind}").format(kind=perk.kind),
                perk.span,
                _("a {kind} goes to the best: `top 1 per {period} by {measure}`").format(
                    kind=perk.kind, period=rank.period, measure=rank.measure
                ),
            )
        if award is None:
            return
        word = rank.measure
        if award.rest:
            self.bag.error(
                "E0250",
                _("a payment from a measure has one amount, an expression of the measure"),
                award.rest[0].span,
                _("write `award {word} * 20`").format(word=word),
            )
        if uses_random(award.amount):
            self.bag.error(
                "E0250",
                _("a payment from a measure cannot draw `random(...)`"),
                award.amount.span,
            )
        if all(a.name == word for a in _attributes(award.amount)):
            try:
                sample = evaluate(award.amount, {word: Decimal(1)})
            except (AmountError, ArithmeticError, ValueError, TypeError):  # the run refuses it
                sample = Decimal(0)
            if not isinstance(sample, Decimal):
                self.bag.error(
                    "E0221",
                    _("an award must be a number, not {value}").format(
                        value=_describe_type("bool" if isinstance(sample, bool) else "text")
                    ),
                    award.amount.span,
                )
        for attribute in _attributes(award.amount):
            if attribute.name != word:
                self.bag.error(
                    "E0250",
                    _(
                        "a payment from a measure is paid at the period's close: its amount "
                        "reads the measure `{word}`, not `{attribute}`"
                    ).format(word=word, attribute=attribute.name),
                    attribute.span,
                    _("e.g. `award min({word} * 20, 1154)`").format(word=word),
                )

    def _type_boost_conditions(self, boosts: dict[str, list[BoostSpec]]) -> None:
        """A boost's condition reads the events of the rules it boosts: type it with
        them, so that the attributes it reads are read from those events."""
        for name, rule in self.rule_names.items():
            on = _first(rule, ast.On)
            if on is None:
                continue
            groups = [c.name.value for c in rule.clauses if isinstance(c, ast.GroupRef)]
            for target in ("*", name, *groups):
                for boost in boosts.get(target, []):
                    if boost.condition is not None:
                        events = [e.value for e in on.events]
                        self._typer(events).infer(boost.condition, "bool")

    def _check_rank_sources(self) -> None:
        """`by points from a, b` names rules anywhere in the file."""
        for rule in self.rule_names.values():
            rank = _first(rule, ast.Rank)
            if rank is None:
                continue
            for source in rank.sources:
                target = self.rule_names.get(source.value)
                if target is None:
                    self.bag.error(
                        "E0208",
                        _("unknown rule `{source}`").format(source=source.value),
                        source.span,
                        *suggestion_hints(source.value, self.rule_names),
                    )
                elif _first(target, ast.Rank) is not None:
                    self.bag.error(
                        "E0231",
                        _(
                            "rank rule `{source}` pays at a close: its "
                            "points cannot rank members in "
                            "the same period"
                        ).format(source=source.value),
                        source.span,
                    )

    def _check_tiered(self, rule: ast.RuleDecl) -> bool:
        """Check a streak or milestone rule's clauses; True if the rule is one."""
        if self._check_goal(rule):
            return True
        name = rule.name.value
        streak = _first(rule, ast.Streak)
        milestone = _first(rule, ast.Milestone)
        tiers = [c for c in rule.clauses if isinstance(c, ast.Tier)]
        every = _first(rule, ast.Every)
        grace = _first(rule, ast.Grace)
        kind = streak or milestone
        if streak is not None and milestone is not None:
            self.bag.error(
                "E0228",
                _("rule `{name}` is both a streak and a milestone").format(name=name),
                milestone.span,
                _("write two rules"),
            )
        if kind is None:
            for stray in [*tiers, every, grace]:
                if stray is not None:
                    self.bag.error(
                        "E0229",
                        _("`at`, `every` and `grace` belong to a `streak` or `milestone` rule"),
                        stray.span,
                        _("add `streak per day` or `milestone count`"),
                    )
            return False
        plain = _first(rule, ast.Award)
        if plain is not None:
            self.bag.error(
                "E0228",
                _("a {value} rule pays with `at N award X`, not a plain `award`").format(
                    value="streak" if streak else "milestone"
                ),
                plain.span,
                _("write `at 7 {value}`").format(value=format_clause(plain)),
            )
        if not tiers and every is None and plain is None:  # a plain award is E0228 above
            self.bag.error(
                "E0229",
                _("rule `{name}` does not say what it pays").format(name=name),
                kind.span,
                _("add a tier: `at 7 award 20`"),
            )
        if milestone is not None:
            for misplaced in (every, grace):
                if misplaced is not None:
                    word = "every" if isinstance(misplaced, ast.Every) else "grace"
                    self.bag.error(
                        "E0229",
                        _("`{word}` belongs to a streak, not a milestone").format(word=word),
                        misplaced.span,
                    )
            self._check_period(milestone.period, milestone.span)
        if streak is not None and streak.period == "season":
            self.bag.error(
                "E0215",
                _("a streak per season has only one period"),
                streak.span,
                _("count streaks per day, week or month"),
            )
        for clause in rule.clauses:
            if isinstance(clause, ast.Limit | ast.Once):
                self.bag.error(
                    "E0230",
                    _(
                        "a streak or milestone rule pays once per tier by itself: it takes no "
                        "`limit` or `once`"
                    ),
                    clause.span,
                )
        seen: set[int] = set()
        # `grace 0` is allowed: no missed period, the same as no `grace`.
        for number, clause_span in [
            *((t.threshold, t.span) for t in tiers),
            *(((every.interval, every.span),) if every else ()),
        ]:
            self._check_limit_like(number, _("a streak length or threshold"), clause_span)
        for tier in tiers:
            if tier.threshold in seen:
                self.bag.error(
                    "E0214",
                    _("two tiers at {threshold}").format(threshold=tier.threshold),
                    tier.span,
                )
            seen.add(tier.threshold)
        return True

    def _check_boosts(self) -> dict[str, list[BoostSpec]]:
        """Boosts by target: a rule name, a group name, or "*" for every rule."""
        targets: dict[str, list[BoostSpec]] = {}
        seen: set[str] = set()
        for boost in self._items(ast.BoostDecl):
            assert isinstance(boost, ast.BoostDecl)
            name = boost.name.value
            if name in seen:
                self.bag.error(
                    "E0209",
                    _("boost `{name}` is declared twice").format(name=name),
                    boost.name.span,
                )
            seen.add(name)
            kinds: dict[type, list[ast.Node]] = {}
            for clause in boost.clauses:
                kinds.setdefault(type(clause), []).append(clause)
            for kind, word in (
                (ast.Times, "times"),
                (ast.Weekdays, "on"),
                (ast.Dates, "from"),
                (ast.For, "for"),
                (ast.Where, "where"),
            ):
                for extra in kinds.get(kind, [])[1:]:
                    self.bag.error(
                        "E0225",
                        _("boost `{name}` has more than one `{word}` clause").format(
                            name=name, word=word
                        ),
                        extra.span,
                    )
            times = kinds.get(ast.Times)
            if not times:
                self.bag.error(
                    "E0225",
                    _("boost `{name}` does not say by how much").format(name=name),
                    boost.name.span,
                    _("add `times 2` (double points)"),
                )
                continue
            factor = times[0].factor  # type: ignore[attr-defined]
            if factor <= 0:
                self.bag.error("E0224", _("a boost must multiply by more than 0"), times[0].span)
            weekdays: frozenset[int] | None = None
            if ast.Weekdays in kinds:
                days: set[int] = set()
                for day in kinds[ast.Weekdays][0].days:  # type: ignore[attr-defined]
                    if day.value.lower() in WEEKDAYS:
                        days.add(WEEKDAYS.index(day.value.lower()))
                    else:
                        self.bag.error(
                            "E0205",
                            _("unknown weekday `{day}`").format(day=day.value),
                            day.span,
                            *suggestion_hints(day.value.lower(), WEEKDAYS),
                        )
                weekdays = frozenset(days)
            first = last = None
            if ast.Dates in kinds:
                dates = kinds[ast.Dates][0]
                assert isinstance(dates, ast.Dates)
                first, last = (
                    self._date(dates.first, dates.span),
                    self._date(dates.last, dates.span),
                )
                if first and last and last < first:
                    self.bag.error(
                        "E0206",
                        _("boost `{name}` ends ({last}) before it starts ({first})").format(
                            name=name, last=last, first=first
                        ),
                        dates.span,
                    )
                season = self.header.season
                if first and last and season and (last < season[0] or first > season[1]):
                    self.bag.warning(
                        "W0305",
                        _("boost `{name}` falls outside the season").format(name=name),
                        dates.span,
                    )
            where = kinds.get(ast.Where)
            condition = None
            if where:
                assert isinstance(where[0], ast.Where)
                condition = where[0].condition
                self._typer([]).expect(condition, "bool", _("a boost's condition"))
            spec = BoostSpec(name, factor, weekdays, first, last, condition)
            if ast.For in kinds:
                for target in kinds[ast.For][0].targets:  # type: ignore[attr-defined]
                    if target.value not in self.rule_names and target.value not in self.groups:
                        self.bag.error(
                            "E0208",
                            _("unknown rule or group `{target}`").format(target=target.value),
                            target.span,
                            *suggestion_hints(target.value, [*self.rule_names, *self.groups]),
                        )
                        continue
                    targets.setdefault(target.value, []).append(spec)
            else:
                targets.setdefault("*", []).append(spec)
        return targets

    def _collect_leagues(self) -> None:
        for decl in self._items(ast.LeagueDecl):
            assert isinstance(decl, ast.LeagueDecl)
            name = decl.name.value
            if name in self.leagues:
                self.bag.error(
                    "E0201",
                    _("league `{name}` is declared twice").format(name=name),
                    decl.name.span,
                )
                continue
            taken = (
                name in BUILTIN_ATTRIBUTES
                or name in CLOCK_ATTRIBUTES
                or name in self.teams
                or (name == "level" and self.levels_decl is not None)
            )
            if taken:
                self.bag.error(
                    "E0209",
                    _("`{name}` is already an attribute of every event").format(name=name),
                    decl.name.span,
                    _("a member's tier reads as the league's name: name it differently"),
                )
                continue
            self.leagues[name] = decl

    def _check_league(self, decl: ast.LeagueDecl) -> RuleSpec | None:
        """A league's clauses (E0253), and the rank rule it runs as (leagues.py)."""
        name = decl.name.value
        if name in self.rule_names:
            self.bag.error(
                "E0201",
                _("`{name}` is already the name of a rule").format(name=name),
                decl.name.span,
            )
        counts: dict[type, list[ast.Node]] = {}
        for clause in decl.clauses:
            counts.setdefault(type(clause), []).append(clause)
        for kind, word in (
            (ast.On, "on"), (ast.Where, "where"), (ast.Rank, "per"), (ast.Cohort, "cohort"),
            (ast.Tiers, "tiers"), (ast.Promote, "promote"), (ast.Demote, "demote"),
        ):  # fmt: skip
            for extra in counts.get(kind, [])[1:]:
                self.bag.error(
                    "E0212",
                    _("league `{name}` has more than one `{word}` clause").format(
                        name=name, word=word
                    ),
                    extra.span,
                )
        on = next((c for c in decl.clauses if isinstance(c, ast.On)), None)
        where = next((c for c in decl.clauses if isinstance(c, ast.Where)), None)
        rank = next((c for c in decl.clauses if isinstance(c, ast.Rank)), None)
        cohort = next((c for c in decl.clauses if isinstance(c, ast.Cohort)), None)
        tiers = next((c for c in decl.clauses if isinstance(c, ast.Tiers)), None)
        promote = next((c for c in decl.clauses if isinstance(c, ast.Promote)), None)
        demote = next((c for c in decl.clauses if isinstance(c, ast.Demote)), None)
        ok = True
        for missing, word, example in (
            (on, "on", "on lesson"),
            (rank, "per", "per week by sum xp"),
            (cohort, "cohort", "cohort 30"),
            (tiers, "tiers", "tiers bronze, silver, gold"),
        ):
            if missing is None:
                ok = False
                self.bag.error(
                    "E0253",
                    _("league `{name}` does not say `{word}`").format(name=name, word=word),
                    decl.name.span,
                    _("e.g. `{example}`").format(example=example),
                )
        if promote is None and demote is None:
            ok = False
            self.bag.error(
                "E0253",
                _("league `{name}` moves nobody: say `promote N`, `demote N` or both").format(
                    name=name
                ),
                decl.name.span,
            )
        events = self._rule_events(on) if on is not None else []
        typer = self._typer(events)
        if where is not None:
            typer.condition(where.condition)
        if rank is not None:
            if rank.team is not None or rank.measure not in ("count", "sum", "max"):
                ok = False
                self.bag.error(
                    "E0253",
                    _(
                        "a league ranks its members by what their events add up to "
                        "(`count`, `sum ATTRIBUTE` or `max ATTRIBUTE`), each member alone"
                    ),
                    rank.span,
                    _("e.g. `per week by sum xp`"),
                )
            if rank.period == "season":
                ok = False
                self.bag.error(
                    "E0253",
                    _("a league moves members at each period's close: the season has one"),
                    rank.span,
                    _("e.g. `per week by sum xp`"),
                )
            if rank.attribute is not None:
                typer.expect(
                    ast.Attribute(rank.attribute.value, span=rank.attribute.span),
                    "number",
                    f"`by {rank.measure}`",
                )
        if cohort is not None and cohort.count < 2:
            ok = False
            self.bag.error(
                "E0253",
                _("a cohort of {count} moves nobody: cohorts hold at least 2 members").format(
                    count=cohort.count
                ),
                cohort.span,
                _("e.g. `cohort 30`"),
            )
        names = [t.value for t in tiers.names] if tiers is not None else []
        if tiers is not None and (len(set(names)) < 2 or len(set(names)) != len(names)):
            ok = False
            self.bag.error(
                "E0253",
                _("a league's tiers are two or more different names, lowest first"),
                tiers.span,
                _("e.g. `tiers bronze, silver, gold`"),
            )
        for mover in (promote, demote):
            if mover is not None and not self._check_limit_like(
                mover.count, _("a number of members to move"), mover.span
            ):
                ok = False
        if not ok or rank is None or cohort is None:
            return None
        return RuleSpec(
            name=name,
            events=tuple(dict.fromkeys(e.value for e in on.events)) if on else (),
            condition=where.condition if where else None,
            amount=None,
            currency=self.header.currencies[0],
            rounding="down",
            limits=(),
            caps=(),
            groups=(),
            boosts=(),
            span=decl.span,
            rank=RankSpec(
                side="top",
                count=None,
                period=rank.period,
                measure=rank.measure,
                attribute=rank.attribute.value if rank.attribute else None,
                sources=(),
                amounts=(),
            ),
            league=LeagueSpec(
                name=name,
                tiers=tuple(names),
                cohort=cohort.count,
                promote=promote.count if promote is not None else 0,
                demote=demote.count if demote is not None else 0,
            ),
        )

    def _check_start_window(self, rule: ast.RuleDecl) -> None:
        """`within N days of first signup` / `of joined` (E0252)."""
        window = self._one_clause(
            rule, ast.StartWindow, "within", _("a rule counts from one start: keep one window")
        )
        if window is None:
            return
        kinds = (ast.Rank, ast.Goal, ast.Inactive, ast.Inviter)
        if rule.name.value in self.boards or any(_first(rule, k) for k in kinds):
            self.bag.error(
                "E0252",
                _(
                    "a window from a member's start belongs to a rule that pays a member "
                    "for their events (an award, a streak or a milestone)"
                ),
                window.span,
                _("rank, goal, flag and referral rules count every matching event"),
            )
        if window.days > MAX_DAYS:
            self.bag.error(
                "E0242",
                _("a window of {days:,} days is longer than the engine counts").format(
                    days=window.days
                ),
                window.span,
                _("write at most {MAX_DAYS:,} days").format(MAX_DAYS=MAX_DAYS),
            )
        self._check_member_start(
            window,
            "E0252",
            _("`{column}` is not a date: a window counts from a date column"),
            _(
                "name the roster column of each member's date (`within 3 days of "
                "joined`), or count from an event (`within 3 days of first signup`)"
            ),
        )

    def _check_own_periods(self, rule: ast.RuleDecl) -> None:
        """`periods from first signup` / `periods from joined` (E0265): a rule that pays a
        member for their own events, with a week, month, quarter or year to count."""
        clause = self._one_clause(
            rule,
            ast.OwnPeriods,
            "periods from",
            _("a rule counts its periods from one start: keep one"),
        )
        if clause is None:
            return
        kinds = (ast.Rank, ast.Goal, ast.Inactive, ast.Inviter, ast.First, ast.Credit)
        if rule.name.value in self.boards or any(_first(rule, k) for k in kinds):
            self.bag.error(
                "E0265",
                _(
                    "periods from a member's start belong to a rule that counts one member's "
                    "own events (an award, a streak, a milestone)"
                ),
                clause.span,
                _(
                    "ranks, boards, challenges (`first`) and team goals compare members in the "
                    "same calendar period; flags, referrals and `credit` count for another "
                    "member than the one who started"
                ),
            )
            return
        own = ("week", "month", "quarter", "year")
        periods = [c.period for c in rule.clauses if isinstance(c, (ast.Limit, ast.Cap))]
        periods += [c.period for c in rule.clauses if isinstance(c, (ast.Streak, ast.Milestone))]
        if not any(period in own for period in periods):
            self.bag.error(
                "E0265",
                _(
                    "rule `{name}` counts nothing per week, month, quarter or year: "
                    "`periods from` changes nothing"
                ).format(name=rule.name.value),
                clause.span,
                _(
                    "a day is the scheme's day for every member; give the rule a period to "
                    "count from the member's start (`limit 3 per week`), or remove `periods from`"
                ),
            )
        self._check_member_start(
            clause,
            "E0265",
            _("`{column}` is not a date: a rule's periods count from a date column"),
            _(
                "name the roster column of each member's date (`periods from joined`), or "
                "count from an event (`periods from first signup`)"
            ),
        )

    def _one_clause(
        self, rule: ast.RuleDecl, kind: type[_ClauseT], word: str, *hints: str
    ) -> _ClauseT | None:
        """The rule's first clause of `kind`; each further one is an error (E0212)."""
        found = [c for c in rule.clauses if isinstance(c, kind)]
        for extra in found[1:]:
            self.bag.error(
                "E0212",
                _("rule `{name}` has more than one `{word}` clause").format(
                    name=rule.name.value, word=word
                ),
                extra.span,
                *hints,
            )
        return found[0] if found else None

    def _check_member_start(
        self, start: ast.StartWindow | ast.OwnPeriods, code: str, not_a_date: str, hint: str
    ) -> None:
        """The member's start that a window or own periods count from: a declared event
        (E0216), or a roster column that can hold a date (`not_a_date`, under `code`):
        not a built-in, clock, team or level attribute."""
        if start.event is not None:
            event = start.event.value
            if self.declared_events is not None and event not in self.declared_events:
                self.bag.error(
                    "E0216",
                    _("unknown event type `{event}`").format(event=event),
                    start.event.span,
                    *suggestion_hints(event, self.declared_events),
                )
            return
        assert start.column is not None
        column = start.column.value
        taken = (
            column in BUILTIN_ATTRIBUTES
            or column in CLOCK_ATTRIBUTES
            or column in self.teams
            or (column == "level" and self.levels_decl is not None)
        )
        if taken:
            self.bag.error(code, not_a_date.format(column=column), start.column.span, hint)

    def _check_goal(self, rule: ast.RuleDecl) -> bool:
        """A team goal's clauses (E0251); True if the rule is one. `draw` belongs to one."""
        goal = self._one_clause(rule, ast.Goal, "goal")
        draw = self._one_clause(rule, ast.Draw, "draw")
        if goal is None:
            if draw is not None:
                self.bag.error(
                    "E0251",
                    _("`draw` belongs to a team goal: it draws the members a goal pays"),
                    draw.span,
                    _("e.g. `goal class per week by count  draw 3  at 500 award 100`"),
                )
            return False
        if goal.team.value not in self.teams:
            self.bag.error(
                "E0233",
                _("unknown team `{team}`").format(team=goal.team.value),
                goal.team.span,
                *(
                    suggestion_hints(goal.team.value, self.teams)
                    or (_("declare it: {code}").format(code=f"`team {goal.team.value}`"),)
                ),
            )
        if goal.measure not in _GOAL_MEASURES:
            self.bag.error(
                "E0251",
                _(
                    "a team goal counts what the team's events add up to (`count`, "
                    "`sum ATTRIBUTE` or `active`), not `by {measure}`"
                ).format(measure=goal.measure),
                goal.span,
                _("e.g. `goal class per week by count  at 500 award 10`"),
            )
        self._check_period(goal.period, goal.span)
        if goal.attribute is not None and goal.measure == "sum":
            on = _first(rule, ast.On)
            self._typer(self._rule_events(on) if on is not None else []).expect(
                ast.Attribute(goal.attribute.value, span=goal.attribute.span),
                "number",
                "`by sum`",
            )
        if draw is not None:
            self._check_limit_like(draw.count, _("a draw"), draw.span)
        strays = (
            ast.Award, ast.Limit, ast.Once, ast.Cap, ast.GroupRef, ast.Uncapped, ast.Streak,
            ast.Grace, ast.Milestone, ast.Every, ast.Rank, ast.Inactive, ast.Inviter,
            ast.Pending, ast.Reason, ast.Credit, ast.EveryTime, ast.Window, ast.Reaching,
            ast.First,
        )  # fmt: skip
        for clause in rule.clauses:
            if isinstance(clause, strays):
                self.bag.error(
                    "E0251",
                    _(
                        "a team goal pays at its tiers, once per team and period: it takes "
                        "no `{word}`"
                    ).format(word=format_clause(clause).split()[0]),
                    clause.span,
                    _("write what it pays as a tier: `at 500 award 10`")
                    if isinstance(clause, ast.Award)
                    else _("write another rule for it"),
                )
        tiers = [c for c in rule.clauses if isinstance(c, ast.Tier)]
        if not tiers:
            self.bag.error(
                "E0251",
                _("rule `{name}` does not say what its goal pays").format(name=rule.name.value),
                goal.span,
                _("add a tier: `at 500 award 10`"),
            )
        seen: set[int] = set()
        for tier in tiers:
            self._check_limit_like(tier.threshold, _("a goal's threshold"), tier.span)
            if tier.threshold in seen:
                self.bag.error(
                    "E0214",
                    _("two tiers at {threshold}").format(threshold=tier.threshold),
                    tier.span,
                )
            seen.add(tier.threshold)
            if isinstance(tier.award, ast.Award) and (
                tier.award.rest or _constant(tier.award.amount) is None
            ):
                self.bag.error(
                    "E0251",
                    _(
                        "a team goal pays every member it pays the same: its award is a "
                        "number, not read from an event"
                    ),
                    tier.award.span,
                    _("e.g. `at 500 award 10`"),
                )
        return True

    def _rule_spec(self, rule: ast.RuleDecl, boosts: dict[str, list[BoostSpec]]) -> RuleSpec:
        name = rule.name.value
        on = _first(rule, ast.On)
        award = _first(rule, ast.Award)
        where = _first(rule, ast.Where)
        limits: list[LimitSpec] = []
        periods_from = _start_spec(_first(rule, ast.OwnPeriods))
        own = ("week", "month", "quarter", "year") if periods_from is not None else ()
        for clause in rule.clauses:
            if isinstance(clause, ast.Once):
                limits.append(LimitSpec(1, None, clause.key.value if clause.key else None))
            elif isinstance(clause, ast.Limit):
                key = clause.key.value if clause.key else None
                limits.append(LimitSpec(clause.count, clause.period, key, clause.period in own))
        groups = tuple(
            dict.fromkeys(c.name.value for c in rule.clauses if isinstance(c, ast.GroupRef))
        )
        caps = [
            CapSpec(f"rule:{name}", c.points, c.period, c.period in own)
            for c in rule.clauses
            if isinstance(c, ast.Cap)
        ]
        for group in groups:
            caps.extend(self.group_caps.get(group, ()))
        applied: list[BoostSpec] = []
        for target in ("*", name, *groups):
            for boost in boosts.get(target, []):
                if boost not in applied:
                    applied.append(boost)
        return RuleSpec(
            name=name,
            events=tuple(dict.fromkeys(e.value for e in on.events)) if on else (),
            condition=where.condition if where else None,
            amount=award.amount if award else None,
            currency=self._rule_currency(_payments(rule)),
            rounding=(award.rounding if award else None) or "down",
            limits=tuple(limits),
            caps=tuple(caps),
            groups=groups,
            boosts=tuple(applied),
            span=rule.span,
            streak=self._streak_spec(rule),
            milestone=self._milestone_spec(rule),
            rank=self._rank_spec(rule, award),
            perk=_perk_spec(_first(rule, ast.Perk)),
            board=name in self.boards,
            inactive=inactive.days if (inactive := _first(rule, ast.Inactive)) else None,
            inviter=(inviter.event.value, inviter.attribute.value, inviter.days)
            if (inviter := _first(rule, ast.Inviter))
            else None,
            budgets=self.ledger.budgets_of(name, groups, self._rule_currency(_payments(rule))),
            pending=pending.days if (pending := _first(rule, ast.Pending)) else None,
            reason=why.attribute.value if (why := _first(rule, ast.Reason)) else None,
            credit=credit.attribute.value if (credit := _first(rule, ast.Credit)) else None,
            posts=posts.period if (posts := _first(rule, ast.Posts)) else None,
            post=_post_spec(_first(rule, ast.Post)),
            goal=self._goal_spec(rule),
            since=_start_window_spec(_first(rule, ast.StartWindow)),
            periods_from=periods_from,
            league_board=board.league.value if (board := _first(rule, ast.LeagueBoard)) else None,
            every_time=_first(rule, ast.EveryTime) is not None,
            window=(window.count, window.days) if (window := _first(rule, ast.Window)) else None,
            first=(first.count, first.period) if (first := _first(rule, ast.First)) else None,
        )

    def _goal_spec(self, rule: ast.RuleDecl) -> GoalSpec | None:
        goal = _first(rule, ast.Goal)
        if goal is None:
            return None
        assert goal.measure in _GOAL_MEASURES  # the checker said so
        draw = _first(rule, ast.Draw)
        return GoalSpec(
            team=goal.team.value,
            period=goal.period,
            measure=goal.measure,  # type: ignore[arg-type]
            attribute=goal.attribute.value if goal.attribute else None,
            tiers=self._tiers(rule),
            draw=draw.count if draw is not None else None,
        )

    @staticmethod
    def _rank_spec(rule: ast.RuleDecl, award: ast.Award | None) -> RankSpec | None:
        rank = _first(rule, ast.Rank)
        if rank is None:
            return None
        if rank.pay is not None:
            assert award is not None and rank.measure in _PAY_MEASURES
            to = rank.pay
            return RankSpec(
                side="top",
                count=None,
                period=rank.period,
                measure=rank.measure,
                attribute=rank.attribute.value if rank.attribute else None,
                sources=(),
                amounts=(),
                pay=PaySpec(
                    member=to.member,
                    attribute=to.attribute.value if to.attribute is not None else None,
                    so_far=to.so_far,
                    amount=award.amount,
                    rounding=award.rounding or "down",
                    word=rank.measure,
                ),
            )
        amounts = []
        for amount in award.amounts if award is not None else ():
            value = evaluate(amount, {})
            assert isinstance(value, Decimal)
            amounts.append(to_points(value, award.rounding or "down"))  # type: ignore[union-attr]
        return RankSpec(
            side=rank.side,
            count=rank.count,
            period=rank.period,
            measure=rank.measure,
            attribute=rank.attribute.value if rank.attribute else None,
            sources=tuple(s.value for s in rank.sources),
            amounts=tuple(amounts),
            team=rank.team.value if rank.team else None,
        )

    @staticmethod
    def _tiers(rule: ast.RuleDecl) -> tuple[tuple[int, Payment], ...]:
        tiers = [(t.threshold, _payment(t.award)) for t in rule.clauses if isinstance(t, ast.Tier)]
        return tuple(sorted(tiers, key=lambda tier: tier[0]))

    def _streak_spec(self, rule: ast.RuleDecl) -> StreakSpec | None:
        streak = _first(rule, ast.Streak)
        if streak is None:
            return None
        grace = _first(rule, ast.Grace)
        every = _first(rule, ast.Every)
        return StreakSpec(
            period=streak.period,
            grace=grace.count if grace else 0,
            tiers=self._tiers(rule),
            every=(every.interval, _payment(every.award)) if every else None,
            need=reaching.count if (reaching := _first(rule, ast.Reaching)) else None,
            attribute=reaching.attribute.value
            if reaching and reaching.attribute and not reaching.earned
            else None,
            earned=(reaching.attribute.value if reaching.attribute else self.header.currencies[0])
            if reaching and reaching.earned
            else None,
        )

    def _milestone_spec(self, rule: ast.RuleDecl) -> MilestoneSpec | None:
        milestone = _first(rule, ast.Milestone)
        if milestone is None:
            return None
        attribute = milestone.attribute.value if milestone.attribute else None
        distinct = milestone.measure == "distinct"
        return MilestoneSpec(attribute, milestone.period, self._tiers(rule), distinct)

    def _warn_unbounded(self, spec: RuleSpec, rule: ast.RuleDecl) -> None:
        uncapped = _first(rule, ast.Uncapped)
        if uncapped is not None and spec.caps:
            cap = spec.caps[0]
            kind, _sep, owner = cap.owner.partition(":")
            bound = f"`cap {cap.points} per {cap.period}`"
            if kind == "group":
                message = _("rule `{rule}` is in group `{group}`, which has {bound}").format(
                    rule=spec.name, group=owner, bound=bound
                )
                hint = _("remove `uncapped`, or take the rule out of the capped group")
            else:
                message = _("rule `{rule}` has {bound}").format(rule=spec.name, bound=bound)
                hint = _(
                    "remove `uncapped`, or remove the cap if the rule should pay without bound"
                )
            self.bag.warning(
                "W0306",
                _("`uncapped` has no effect: {message}").format(message=message),
                uncapped.span,
                hint,
            )
        # a limit `for each album` bounds nothing: every new value pays again
        bounded = any(limit.key is None for limit in spec.limits)
        if bounded or spec.caps or _first(rule, ast.Uncapped) is not None:
            return
        if spec.streak is not None or spec.milestone is not None or spec.rank is not None:
            return  # bounded by construction: one payment per tier or per place
        if spec.goal is not None:
            return  # once per team, tier and period
        if spec.first is not None:
            return  # bounded by construction: K winners per period
        if spec.amount is None:
            return  # pays no points (a flag)
        if _never_positive(spec.amount):
            return  # penalties and zero awards cannot run away
        keyed = [limit.key for limit in spec.limits if limit.key]
        self.bag.warning(
            "W0301",
            _("rule `{spec}` can pay without limit").format(spec=spec.name)
            + (_(": each new `{value}` pays again").format(value=keyed[0]) if keyed else ""),
            rule.name.span,
            _("add `limit 1 per day`, a `cap`, or `uncapped` if that is intended"),
        )


# Names operators write for a zone that IANA spells otherwise. China has one zone,
# Asia/Shanghai; `CST` is also US Central time, so the hint names both.
_ZONE_ALIASES = {
    "asia/beijing": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "beijing time": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "china standard time": "Asia/Shanghai",
    "prc": "Asia/Shanghai",
    "cst": "Asia/Shanghai",
    "asia/chongqing": "Asia/Shanghai",
    "shanghai": "Asia/Shanghai",
    "hong kong": "Asia/Hong_Kong",
    "hongkong": "Asia/Hong_Kong",
    "taipei": "Asia/Taipei",
    "tokyo": "Asia/Tokyo",
    "jst": "Asia/Tokyo",
    "singapore": "Asia/Singapore",
}
# A city for a fixed offset: `UTC+8` must never become `UTC` (8 hours off).
_OFFSET_ZONES = {
    8: "Asia/Shanghai",
    9: "Asia/Tokyo",
    7: "Asia/Bangkok",
    0: "UTC",
    1: "Europe/Berlin",
    -5: "America/New_York",
}
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?$", re.IGNORECASE)


def zone_hints(zone: str) -> tuple[str, ...]:
    """What to write for an unknown zone: a known alias, a zone for a fixed offset,
    else the nearest IANA names."""
    alias = _ZONE_ALIASES.get(zone.strip().lower())
    if alias is not None:
        also = (
            _(" (`CST` is also US Central time: `America/Chicago`)")
            if zone.upper() == "CST"
            else ""
        )
        return (_('did you mean "{alias}"?{also}').format(alias=alias, also=also),)
    offset = _OFFSET.match(zone.strip())
    if offset is not None:
        hours = int(offset.group(2)) * (1 if offset.group(1) == "+" else -1)
        city = _OFFSET_ZONES.get(hours)
        fixed = f"Etc/GMT{-hours:+d}" if hours else "UTC"
        where = _('a city\'s zone such as "{city}", or ').format(city=city) if city else ""
        return (
            _(
                'a fixed offset of {hours:+d} hours: write {where}"{fixed}" '
                "(IANA's Etc/GMT signs are inverted: Etc/GMT-8 is 8 hours ahead of UTC)"
            ).format(hours=hours, where=where, fixed=fixed),
        )
    return suggestion_hints(zone, available_timezones())


def _constant(node: ast.Expr) -> Decimal | None:
    """The value of an amount that reads no attribute and draws nothing, else None."""
    if uses_random(node) or any(isinstance(n, ast.Attribute) for n in _walk(node)):
        return None
    try:
        value = evaluate(node, {})
    except (AmountError, ArithmeticError, TypeError, ValueError):
        return None
    return value if isinstance(value, Decimal) else None


def _walk(node: ast.Node) -> Iterator[ast.Node]:
    stack: list[ast.Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        for f in fields(current):
            value = getattr(current, f.name)
            if isinstance(value, ast.Node):
                stack.append(value)
            elif isinstance(value, tuple):
                stack.extend(v for v in value if isinstance(v, ast.Node))


class _Typer:
    """Infers and checks the types of a rule's expressions.

    An attribute's type comes from the `events` declaration, or from its first
    use (`words >= 500` makes `words` a number for the rule's event types); a
    later use that disagrees is an error.
    """

    def __init__(self, checker: _Checker, events: list[str]) -> None:
        self.checker = checker
        self.events = events
        # Comparisons met whose sides both have no type yet (see _check_untyped_comparisons).
        self.untyped: list[ast.Binary | ast.Membership] = []
        # Attributes with two types among the rule's event types (reported once).
        self.mixed: set[str] = set()

    def _declared(self, event: str) -> dict[str, ValueType] | None:
        declared = self.checker.declared_events
        if declared is None or not declared.get(event):
            return None
        return declared[event]

    def attribute_type(self, node: ast.Attribute, want: ValueType | None) -> ValueType | None:
        name = node.name
        if name in BUILTIN_ATTRIBUTES:
            return BUILTIN_ATTRIBUTES[name]
        if name in CLOCK_ATTRIBUTES:
            self.checker.clock_reads.add(name)  # the engines compute it from the event's time
            return CLOCK_ATTRIBUTES[name]
        if name in self.checker.teams:
            return "text"  # a team is a name: from the roster or the event
        if name == "level" and self.checker.levels_decl is not None:
            return "text"  # the member's level, by name
        if name in self.checker.leagues:
            return "text"  # the member's tier in the league
        known: ValueType | None = None
        for event in self.events:
            declared = self._declared(event)
            if declared is not None and name not in declared:
                self.checker.bag.error(
                    "E0217",
                    _("event `{event}` has no attribute `{name}`").format(event=event, name=name),
                    node.span,
                    *(
                        suggestion_hints(name, declared)
                        or (_("declare it: {code}").format(code=f"`{event}({name}: number)`"),)
                    ),
                )
                return None
            seen = self.checker.attribute_types.get(event, {}).get(name)
            if seen is not None:
                known = known or seen
                if seen != known:
                    if name not in self.mixed:  # one error per attribute, not per use
                        self.mixed.add(name)
                        self.checker.bag.error(
                            "E0219",
                            _(
                                "attribute `{name}` is {value} for `{event}` "
                                "but {value2} for another "
                                "event of this rule"
                            ).format(
                                name=name,
                                value=_describe_type(seen),
                                event=event,
                                value2=_describe_type(known),
                            ),
                            node.span,
                        )
                    return None
        result = known or want
        if result is not None:
            for event in self.events:
                self.checker.attribute_types.setdefault(event, {}).setdefault(name, result)
                self.checker.read_attributes.setdefault(event, {})[name] = result
        return result

    def _check_random_bounds(self, node: ast.Call, args: tuple[ast.Expr, ...]) -> None:
        """`random(10, 1)` refuses every award at run time: when both bounds are known
        now, they must be whole numbers, low to high."""
        low, high = _constant(args[0]), _constant(args[1])
        if low is None or high is None:
            return
        if low != low.to_integral_value():
            problem = _("the low bound {low} is not a whole number").format(low=low)
        elif low > high:
            problem = _("the low bound {low} is above the high bound {high}").format(
                low=low, high=high
            )
        else:
            return
        self.checker.bag.error(
            "E0222",
            _("`random` draws a whole number from low to high: {problem}").format(problem=problem),
            node.span,
            *((_("write {code}").format(code=f"`random({high}, {low})`"),) if low > high else ()),
        )

    def expect(self, node: ast.Expr, want: ValueType, context: str) -> None:
        got = self.infer(node, want)
        if got is not None and got != want:
            self.checker.bag.error(
                "E0219",
                _("{context} needs {value}, but {value2} is {value3}").format(
                    context=context,
                    value=_describe_type(want),
                    value2=_show(node),
                    value3=_describe_type(got),
                ),
                node.span,
            )

    def condition(self, node: ast.Expr, *hints: str) -> None:
        """A `where` condition is true or false (E0220), in a rule as in a league."""
        got = self.infer(node, "bool")
        if got is not None and got != "bool":
            self.checker.bag.error(
                "E0220",
                _("a condition must be true or false, not {value}").format(
                    value=_describe_type(got)
                ),
                node.span,
                *hints,
            )

    def infer(self, node: ast.Expr, want: ValueType | None) -> ValueType | None:
        match node:
            case ast.Number():
                return "number"
            case ast.String():
                return "text"
            case ast.Boolean():
                return "bool"
            case ast.Attribute():
                return self.attribute_type(node, want)
            case ast.Negate(operand=operand):
                self.expect(operand, "number", "`-`")
                return "number"
            case ast.Not(operand=operand):
                self.expect(operand, "bool", "`not`")
                return "bool"
            case ast.Call(function=function, args=args):
                if function not in FUNCTIONS:
                    self.checker.bag.error(
                        "E0222",
                        _("unknown function `{function}`").format(function=function),
                        node.span,
                        *(
                            suggestion_hints(function, FUNCTIONS)
                            or (_("the functions are `min`, `max` and `random`"),)
                        ),
                    )
                    return None
                low, _high = FUNCTIONS[function]
                if len(args) < low:
                    self.checker.bag.error(
                        "E0222",
                        _("`{function}` needs at least {low} values").format(
                            function=function, low=low
                        ),
                        node.span,
                    )
                for arg in args:
                    self.expect(arg, "number", f"`{function}`")
                if function == "random" and len(args) == 2:
                    self._check_random_bounds(node, args)
                return "number"
            case ast.Binary(op=op, left=left, right=right) if op in ("and", "or"):
                self.expect(left, "bool", f"`{op}`")
                self.expect(right, "bool", f"`{op}`")
                return "bool"
            case ast.Binary(op=op, left=left, right=right) if op in ("+", "-", "*", "/"):
                self.expect(left, "number", f"`{op}`")
                self.expect(right, "number", f"`{op}`")
                if op == "/" and isinstance(right, ast.Number) and right.value == 0:
                    self.checker.bag.error("E0223", _("division by zero"), right.span)
                elif op == "/" and _constant(right) == 0:
                    # `10 / (2 - 2)`: refused on every event at run time; say it now.
                    self.checker.bag.error(
                        "E0223", _("division by zero: this divisor is always 0"), right.span
                    )
                return "number"
            case ast.Binary(op=op, left=left, right=right):
                if op in ("<", "<=", ">", ">="):
                    self.expect(left, "number", f"`{op}`")
                    self.expect(right, "number", f"`{op}`")
                    return "bool"
                self._same_type(node, left, right, op)
                self._check_weekdays(left, (right,))
                return "bool"
            case ast.Membership(operand=operand, items=items):
                before = len(self.checker.bag.items)
                item_type: ValueType | None = None
                for item in items:
                    item_type = item_type or self.infer(item, None)
                got = self.infer(operand, item_type)
                if got is not None:
                    for item in items:
                        self.expect(item, got, _("a list after `in`"))
                elif items and len(self.checker.bag.items) == before:
                    self.untyped.append(node)
                self._check_weekdays(operand, items)
                return "bool"
        raise AssertionError(f"unknown expression {node!r}")  # pragma: no cover

    def _check_weekdays(self, subject: ast.Expr, values: tuple[ast.Expr, ...]) -> None:
        """`weekday is satruday` would never be true: name the weekday it meant."""
        if not (isinstance(subject, ast.Attribute) and subject.name == "weekday"):
            return
        for value in values:
            if isinstance(value, ast.String) and value.value not in WEEKDAYS:
                self.checker.bag.error(
                    "E0205",
                    _("unknown weekday `{value}`").format(value=value.value),
                    value.span,
                    *(
                        suggestion_hints(value.value.lower(), WEEKDAYS)
                        or (_("weekdays are `monday` ... `sunday`, in lower case"),)
                    ),
                )

    def _same_type(self, node: ast.Binary, left: ast.Expr, right: ast.Expr, op: str) -> None:
        before = len(self.checker.bag.items)
        lt = self.infer(left, None)
        reported = len(self.checker.bag.items) > before
        rt = self.infer(right, lt)
        if lt is None and rt is not None and not reported:
            # `x == 5`: the right side gives an untyped attribute its type. Inferring
            # the left side again after it reported a problem would report it twice.
            lt = self.infer(left, rt)
        if lt is None and rt is None and len(self.checker.bag.items) == before:
            self.untyped.append(node)
        if lt is not None and rt is not None and lt != rt:
            self.checker.bag.error(
                "E0219",
                _("cannot compare {value} ({value2}) with {value3} ({value4}) using `{op}`").format(
                    value=_show(left),
                    value2=_describe_type(lt),
                    value3=_show(right),
                    value4=_describe_type(rt),
                    op=op,
                ),
                right.span,
            )


def _show(node: ast.Expr) -> str:
    match node:
        case ast.Attribute(name=name):
            return f"`{name}`"
        case ast.Number(value=value):
            return f"`{value}`"
        case ast.String(value=value):
            return f'`"{value}"`'
        case ast.Boolean(value=value):
            return "`true`" if value else "`false`"
    return _("this expression")


def _never_positive(node: ast.Expr) -> bool:
    """True if an amount can never be above zero, whatever the event (a penalty)."""
    if _first_attribute(node) is None:  # a constant: work it out
        try:
            value = evaluate(node, {})
        except AmountError:
            return False  # division by zero: an error of its own (E0223)
        return isinstance(value, Decimal) and value <= 0
    return _signs(node)[0]


def _signs(node: ast.Expr) -> tuple[bool, bool]:
    """(never positive, never negative) for an amount; (False, False) when unknown."""
    match node:
        case ast.Number(value=value):
            return value <= 0, value >= 0
        case ast.Negate(operand=operand):
            not_positive, not_negative = _signs(operand)
            return not_negative, not_positive
        case ast.Binary(op=op, left=left, right=right) if op in ("+", "-", "*", "/"):
            left_np, left_nn = _signs(left)
            right_np, right_nn = _signs(right)
            if op == "+":
                return left_np and right_np, left_nn and right_nn
            if op == "-":
                return left_np and right_nn, left_nn and right_np
            zero = (left_np and left_nn) or (op == "*" and right_np and right_nn)
            return (
                zero or (left_np and right_nn) or (left_nn and right_np),
                zero or (left_nn and right_nn) or (left_np and right_np),
            )
        case ast.Call(function=function, args=args) if function in FUNCTIONS and args:
            signs = [_signs(arg) for arg in args]
            if function == "min":
                return any(np for np, _ in signs), all(nn for _, nn in signs)
            return all(np for np, _ in signs), any(nn for _, nn in signs)
    return False, False


def _describe_comparison(node: ast.Binary | ast.Membership) -> str:
    if isinstance(node, ast.Binary):
        return f"`{format_expr(node)}`"
    return f"`{format_expr(node.operand)} {'not in' if node.negated else 'in'} [...]`"


def _attributes(node: ast.Expr) -> list[ast.Attribute]:
    """The attributes an expression reads, left to right."""
    found: list[ast.Attribute] = []
    stack: list[ast.Expr] = [node]
    while stack:
        current = stack.pop()
        match current:
            case ast.Attribute():
                found.append(current)
            case ast.Negate(operand=operand) | ast.Not(operand=operand):
                stack.append(operand)
            case ast.Binary(left=left, right=right):
                stack.extend((right, left))
            case ast.Call(args=args):
                stack.extend(reversed(args))
            case ast.Membership(operand=operand, items=items):
                stack.extend((*reversed(items), operand))
    return found


_ClauseT = TypeVar("_ClauseT", bound=ast.Node)


def _first_attribute(node: ast.Expr) -> ast.Attribute | None:
    stack: list[ast.Expr] = [node]
    while stack:
        current = stack.pop()
        match current:
            case ast.Attribute():
                return current
            case ast.Negate(operand=operand) | ast.Not(operand=operand):
                stack.append(operand)
            case ast.Binary(left=left, right=right):
                stack.extend((left, right))
            case ast.Call(args=args):
                stack.extend(args)
            case ast.Membership(operand=operand, items=items):
                stack.extend((operand, *items))
    return None


def _payment(outcome: ast.Award | ast.Perk) -> Payment:
    if isinstance(outcome, ast.Perk):
        return Payment(None, "down", (outcome.kind, outcome.name))
    return Payment(outcome.amount, outcome.rounding or "down")


def _start_window_spec(window: ast.StartWindow | None) -> WindowSpec | None:
    if window is None:
        return None
    return WindowSpec(
        window.days,
        window.event.value if window.event is not None else None,
        window.column.value if window.column is not None else None,
    )


def _start_spec(clause: ast.OwnPeriods | None) -> StartSpec | None:
    if clause is None:
        return None
    return StartSpec(
        clause.event.value if clause.event is not None else None,
        clause.column.value if clause.column is not None else None,
    )


def _perk_spec(perk: ast.Perk | None) -> tuple[str, str] | None:
    return None if perk is None else (perk.kind, perk.name)


def _payments(rule: ast.RuleDecl) -> list[ast.Award]:
    """Every award a rule can make: its `award`, or its streak and milestone tiers."""
    found: list[ast.Award] = []
    for clause in rule.clauses:
        if isinstance(clause, ast.Award):
            found.append(clause)
        elif isinstance(clause, ast.Tier | ast.Every) and isinstance(clause.award, ast.Award):
            found.append(clause.award)
    return found


def _first(rule: ast.RuleDecl, kind: type[_ClauseT]) -> _ClauseT | None:
    for clause in rule.clauses:
        if isinstance(clause, kind):
            return clause
    return None


def _time_of_day(text: str) -> time | None:
    hour, _, minute = text.partition(":")
    return time(int(hour), int(minute)) if int(hour) <= 23 and int(minute) <= 59 else None


def _post_spec(post: ast.Post | None) -> PostSpec | None:
    if post is None:
        return None
    at = None if post.at is None else _time_of_day(post.at)
    return PostSpec(post.heading, post.line, post.join, at)
