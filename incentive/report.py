"""The dry-run report: what a scheme gives out, to whom, and what it costs.

`build_report` reads a finished run and returns plain data (the JSON report);
`print_report` prints it as terminal tables. Every number comes from the
run's records and final state, so it agrees with `incentive run` on the same
events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import IO, Any

from incentive.analysis import AB_ARM_MEMBERS, Comparison
from incentive.i18n import N_, _, current
from incentive.program import BudgetSpec, GrantsSpec, Program, RuleSpec
from incentive.reasons import localize
from incentive.runner import RunResult

PAID = ("award", "rank", "grant")

# ---- texts of the report in the reader's language ---------------------------------------
# The report's data (the JSON) stays in English and ISO dates; what a person reads (the
# terminal tables, the CSV's titles and headers, the HTML page) is given in the current
# language (incentive.i18n) by the functions below.

_PERIODS = {
    "day": N_("day"),
    "week": N_("week"),
    "month": N_("month"),
    "quarter": N_("quarter"),
    "year": N_("year"),
    "season": N_("season"),
    "ever": N_("ever"),
}
# A record's kind as a person reads it in a table or a summary (English: the kind as
# records write it; the JSON, the CSV and --only keep the kinds).
_KINDS = {
    "award": N_("award"),
    "cut": N_("cut"),
    "refused": N_("refused"),
    "duplicate": N_("duplicate"),
    "conflict": N_("conflict"),
    "bad_event": N_("bad event"),
    "late": N_("late"),
    "outside_season": N_("outside the season"),
    "quarantined": N_("quarantined"),
    "rank": N_("rank award"),
    "streak": N_("streak"),
    "perk": N_("perk"),
    "badge": N_("badge"),
    "board": N_("board line"),
    "grant": N_("grant"),
    "redeem": N_("redemption"),
    "reversal": N_("reversal"),
    "pending": N_("pending"),
    "release": N_("release"),
    "cancelled": N_("cancelled"),
    "transfer": N_("transfer"),
    "expiry": N_("expiry"),
    "level": N_("level"),
    "flag": N_("flag"),
    "balance": N_("balance"),
}
# The measures of an A/B test (incentive.analysis.ab_metrics): English shows the keys.
_MEASURES = {
    "members": N_("members"),
    "paid": N_("paid"),
    "paid_per_member": N_("paid_per_member"),
    "share_earning": N_("share_earning"),
    "median": N_("median"),
    "gini": N_("gini"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_name(period: str) -> str:
    """`day`, `week`, ... as the reader says it (天, 周, ... in Chinese)."""
    return _(_PERIODS[period]) if period in _PERIODS else period


def kind_name(kind: str) -> str:
    """A record kind shown to a person (a table's row, a summary): the kind itself in
    English, its name in the reader's language otherwise."""
    if current() == "en" or kind not in _KINDS:
        return kind
    return _(_KINDS[kind])


def kind_of_name(name: str) -> str:
    """The record kind a person named (`--only 拒绝`): a kind, or its name in the
    current language; as given when it is neither."""
    if current() != "en":
        for kind in _KINDS:
            if kind_name(kind) == name:
                return kind
    return name


def kinds_text(counts: dict[str, int]) -> str:
    """How many records of each kind (`6 award, 2 refused`), in the reader's language."""
    if current() == "en":
        return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    return _(", ").join(
        _("{count} {kind}").format(count=count, kind=kind_name(kind))
        for kind, count in sorted(counts.items())
    )


def measure_name(measure: str) -> str:
    return _(_MEASURES[measure]) if measure in _MEASURES else measure


def level_name(level: str) -> str:
    """A level of the report's `levels` ("none": members below every level)."""
    return _("(no level)") if level == "none" else level


def budget_owner(owner: str) -> str:
    """What a budget is on, from its owner (`scheme:coins`, `rule:homework`, `group:x`)."""
    kind, _sep, name = owner.partition(":")
    if kind == "scheme":
        return _("the scheme")
    if kind == "rule":
        return _("rule {name}").format(name=name)
    if kind == "group":
        return _("group {name}").format(name=name)
    return f"{kind} {name}"


def day_label(day: date, year: bool = False) -> str:
    """A day as a chart labels it: `Mar 2` / `3月2日`, with the year when asked."""
    if current() == "zh":
        return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"
    text = f"{_MONTHS[day.month - 1]} {day.day}"
    return f"{text}, {day.year}" if year else text


def month_label(year_: int, month: int, year: bool = False) -> str:
    """A month: `Mar` / `3月`, with the year when asked (`Mar 2026` / `2026年3月`)."""
    if current() == "zh":
        return f"{year_}年{month}月" if year else f"{month}月"
    return f"{_MONTHS[month - 1]} {year_}" if year else _MONTHS[month - 1]


def date_text(key: str) -> str:
    """An ISO date in a table: as it is in English, `2026年3月2日` in Chinese."""
    if current() != "zh":
        return key
    return day_label(date.fromisoformat(key), year=True)


def period_label(period: str, key: str) -> str:
    """A period's key (incentive.calendar.period_key) in full, for a tooltip or a table."""
    if period == "day":
        return day_label(date.fromisoformat(key), year=True)
    if period == "week":
        return _("week of {day}").format(day=day_label(date.fromisoformat(key), year=True))
    if period == "month":
        return month_label(int(key[:4]), int(key[5:7]), year=True)
    if period == "year":
        return f"{key}年" if current() == "zh" else key
    if period == "quarter":  # 2026-Q1
        return f"{key[:4]}年第{key[6:]}季度" if current() == "zh" else f"{key[:4]} Q{key[6:]}"
    return period_name(key)


def compact_number(value: int) -> str:
    """A number on an axis, short: 5,000, 25k, 1.5M / 5,000, 2.5万, 1.2亿."""
    steps = (
        ((100_000_000, "亿"), (10_000, "万"))
        if current() == "zh"
        else ((1_000_000, "M"), (10_000, "k"))
    )
    for size, suffix in steps:
        if abs(value) >= size:
            base = 1_000 if suffix == "k" else size
            return f"{value / base:,.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,}"


def _gini(values: list[int]) -> float:
    """0: everyone has the same; near 1: one member has nearly everything."""
    total = sum(values)
    if total <= 0 or not values:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return round((2 * weighted) / (n * total) - (n + 1) / n, 4)


def _histogram(ordered: list[int], buckets: int = 10) -> list[dict[str, Any]]:
    """Members by points earned, in equal ranges from 0 to the most anyone earned."""
    if not ordered or ordered[-1] <= 0:
        return []
    step = max(1, -(-ordered[-1] // buckets))  # ceiling division
    counts = Counter(min(v // step, buckets - 1) if v > 0 else -1 for v in ordered)
    rows = [{"range": "0", "members": counts.get(-1, 0)}]
    for b in range(buckets):
        low, high = b * step + (1 if b == 0 else 0), (b + 1) * step - (0 if b == buckets - 1 else 1)
        rows.append(
            {
                "range": f"{low}-{max(high, ordered[-1]) if b == buckets - 1 else high}",
                "members": counts.get(b, 0),
            }
        )
    return rows


def _percentile(ordered: list[int], share: float) -> int:
    if not ordered:
        return 0
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1) + 0.5))]


class _BudgetUse:
    """What each budget gave out per period, how often it ran out, and what it held back.

    Paid points count against every budget of the rule (or grants block) that paid
    them, in the period the engine charged: the event's day, or a ranked period's.
    """

    def __init__(self, program: Program) -> None:
        self.calendar = program.calendar
        payers: list[RuleSpec | GrantsSpec] = [*program.rules, *program.grants]
        self.of: dict[str, tuple[BudgetSpec, ...]] = {p.name: p.budgets for p in payers}
        self.budgets = sorted(
            {b for p in payers for b in p.budgets}, key=lambda b: (b.owner, b.period)
        )
        self.used: dict[BudgetSpec, Counter[str]] = {b: Counter() for b in self.budgets}
        # a cut or refusal names its binding budget: "budget 1923 points per week ... reached"
        self.by_reason = {f"{b.describe()} reached": b for b in self.budgets}
        self.cut: Counter[BudgetSpec] = Counter()
        self.refused: Counter[BudgetSpec] = Counter()

    def paid(self, payer: str, day: Any, points: int) -> None:
        for budget in self.of.get(payer, ()):
            self.used[budget][self.calendar.period_key(budget.period, day)] += points

    def stopped(self, kind: str, reason: str, points: int) -> None:
        budget = self.by_reason.get(reason)
        if budget is None:
            return
        if kind == "cut":
            self.cut[budget] += points
        else:
            self.refused[budget] += 1

    def summary(self, days: list[date]) -> list[dict[str, Any]]:
        """Each budget's use; `days`: the first and last day anything was paid, so that
        a period in between with nothing paid shows as 0, not as a gap."""
        span: list[date] = []
        if days:
            first, last = min(days), max(days)
            span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        rows = []
        for budget in self.budgets:
            used = self.used[budget]
            for day in span:
                used.setdefault(self.calendar.period_key(budget.period, day), 0)
            kind, _, name = budget.owner.partition(":")
            periods: list[dict[str, Any]] = [
                {"period": key, "used": points, "share": round(points / budget.points, 4)}
                for key, points in sorted(used.items())
            ]
            peak = max(periods, key=lambda p: (p["used"], p["period"]), default=None)
            rows.append(
                {
                    "owner": budget.owner,
                    "on": "the scheme" if kind == "scheme" else f"{kind} {name}",
                    "points": budget.points,
                    "currency": budget.currency,
                    "period": budget.period,
                    "used": sum(used.values()),
                    "periods": periods,
                    "full_periods": sum(1 for p in periods if p["used"] >= budget.points),
                    "peak": peak,
                    "cut_points": self.cut[budget],
                    "refused": self.refused[budget],
                }
            )
        return rows


def _team_boards(
    program: Program, result: RunResult, earned: dict[str, Counter[str]], everyone: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per team kind: the teams by points their members earned in the default
    currency over the whole run (every team, best first; ties by name), then
    the members in no team of that kind (`team` None), if any."""
    if not program.currencies:
        return {}
    currency = program.currencies[0]
    boards: dict[str, list[dict[str, Any]]] = {}
    for kind in program.teams:
        totals: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        placed = result.session.state.teams.get(kind, {})
        for member, team in placed.items():
            totals[team] += earned[member][currency] if member in earned else 0
            sizes[team] += 1
        ranked = sorted(sizes, key=lambda team: (-totals[team], team))
        boards[kind] = [
            {"team": team, "members": sizes[team], "earned": totals[team], "currency": currency}
            for team in ranked
        ]
        # Members in no team of this kind still earned: one last row, so the
        # board adds up to what was paid.
        loose = [m for m in everyone if m not in placed]
        if loose:
            boards[kind].append(
                {
                    "team": None,
                    "members": len(loose),
                    "earned": sum(earned[m][currency] for m in loose if m in earned),
                    "currency": currency,
                }
            )
    return boards


def build_report(
    program: Program, result: RunResult, members: list[str] | None = None
) -> dict[str, Any]:
    """The report as plain data. `members`: everyone who could have earned (a
    population or roster); by default everyone the run saw."""
    currency_list = list(program.currencies)
    paid_by_rule: Counter[tuple[str, str]] = Counter()
    paid_by_day: dict[str, Counter[str]] = defaultdict(Counter)
    paid_by_week: dict[str, Counter[str]] = defaultdict(Counter)
    earned: dict[str, Counter[str]] = defaultdict(Counter)
    spent: Counter[str] = Counter()
    expired: Counter[str] = Counter()
    refusals: Counter[tuple[str, str, str]] = Counter()  # (kind, rule, reason)
    kinds: Counter[str] = Counter()
    perks: Counter[tuple[str, str]] = Counter()
    boards: dict[str, list[dict[str, Any]]] = {}
    calendar = program.calendar
    budget_use = _BudgetUse(program)
    for record in result.records:
        kinds[record.kind] += 1
        if record.kind in PAID and record.points and record.points > 0 and record.member:
            assert record.currency is not None and record.at is not None
            moment = datetime.fromisoformat(record.at)
            if record.kind == "rank":  # dated at its period's close: it belongs to the period
                moment -= timedelta(microseconds=1)
            day = calendar.day_of(moment)
            paid_by_rule[(record.rule or record.kind, record.currency)] += record.points
            paid_by_day[day.isoformat()][record.currency] += record.points
            paid_by_week[calendar.period_key("week", day)][record.currency] += record.points
            earned[record.member][record.currency] += record.points
            budget_use.paid(record.rule or "", day, record.points)
        elif record.kind == "redeem" and record.points and record.currency:
            spent[record.currency] += -record.points
        elif record.kind == "expiry" and record.points and record.currency:
            expired[record.currency] += -record.points
        elif record.kind in ("cut", "refused"):
            reason = record.reason.split(":")[0]
            refusals[(record.kind, record.rule or "", reason)] += 1
            budget_use.stopped(record.kind, reason, record.points or 0)
        elif record.kind in ("perk", "badge", "flag") and record.perk:
            perks[(record.kind, record.perk)] += 1
        elif record.kind == "board" and record.rule:
            boards.setdefault(record.rule, [])
            if record.at != (boards[record.rule][0]["at"] if boards[record.rule] else None):
                boards[record.rule] = []  # keep the last period's board
            boards[record.rule].append(
                {
                    "at": record.at,
                    "rank": record.rank,
                    "who": record.team or record.member,
                    "value": record.value,
                }
            )
    everyone = sorted(set(members or []) | set(result.balances))
    distribution = {}
    for currency in currency_list:
        values = sorted(earned[m][currency] for m in everyone)
        earners = sum(1 for v in values if v > 0)
        top = sorted(everyone, key=lambda m: (-earned[m][currency], m))[:10]
        distribution[currency] = {
            "members": len(everyone),
            "earning": earners,
            "share_earning": round(earners / len(everyone), 4) if everyone else 0.0,
            "p50": _percentile(values, 0.5),
            "p90": _percentile(values, 0.9),
            "p99": _percentile(values, 0.99),
            "max": values[-1] if values else 0,
            "gini": _gini(values),
            "top": [
                {"member": m, "earned": earned[m][currency]} for m in top if earned[m][currency]
            ],
            "histogram": _histogram(values),
        }
    outstanding = Counter[str]()
    for balances in result.balances.values():
        for currency, points in balances.items():
            outstanding[currency] += points
    teams = _team_boards(program, result, earned, everyone)
    levels: Counter[str] = Counter()
    if program.levels is not None:
        for member in everyone:
            state = result.session.state.members.get(member)
            level = (state.level if state else None) or program.levels.level_for(0) or "none"
            levels[level] += 1
    return {
        "scheme": program.name,
        "currencies": {
            c: {
                "paid": sum(v for (_, cur), v in paid_by_rule.items() if cur == c),
                "spent": spent[c],
                "expired": expired[c],
                "outstanding": outstanding[c],
            }
            for c in currency_list
        },
        "rules": [
            {"rule": rule, "currency": currency, "paid": points}
            for (rule, currency), points in sorted(paid_by_rule.items())
        ],
        "per_day": {d: dict(sorted(v.items())) for d, v in sorted(paid_by_day.items())},
        "per_week": {w: dict(sorted(v.items())) for w, v in sorted(paid_by_week.items())},
        "budgets": budget_use.summary([date.fromisoformat(d) for d in paid_by_day]),
        "distribution": distribution,
        "teams": teams,
        "levels": dict(sorted(levels.items())),
        "perks": [
            {"kind": kind, "perk": name, "count": count}
            for (kind, name), count in sorted(perks.items())
        ],
        "boards": boards,
        "refusals": [
            {"kind": kind, "rule": rule, "reason": reason, "count": count}
            for (kind, rule, reason), count in sorted(
                refusals.items(), key=lambda kv: (-kv[1], kv[0])
            )
        ],
        "records": dict(sorted(kinds.items())),
    }


def for_reader(report: dict[str, Any]) -> dict[str, Any]:
    """The report's data (`simulate --format json`) with its texts for a person in the
    current language: a refusal's `reason` and what a budget is `on`. The keys, names,
    numbers, dates and the machine fields beside them (`kind`, `rule`, `owner`) stay as
    they are; in English the report is returned as it is."""
    if current() == "en":
        return report
    return {
        **report,
        "budgets": [{**b, "on": budget_owner(b["owner"])} for b in report["budgets"]],
        "refusals": [{**r, "reason": localize(r["reason"])} for r in report["refusals"]],
    }


def budget_summary(budget: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A budget's use in one row (the terminal and the HTML report show the same)."""
    peak = budget["peak"]
    return (
        [
            _("budget"),
            _("per"),
            _("periods"),
            _("paid"),
            _("peak"),
            _("at limit"),
            _("cut"),
            _("refused"),
        ],
        [
            [
                budget["points"],
                period_name(budget["period"]),
                len(budget["periods"]),
                budget["used"],
                f"{peak['used']:,} ({peak['share']:.0%})" if peak else "-",
                budget["full_periods"],
                budget["cut_points"],
                budget["refused"],
            ]
        ],
    )


def distribution_summary(spread: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Who earns a currency, in one row (the terminal and the HTML report show the same)."""
    return (
        [
            _("members"),
            _("earning"),
            _("share"),
            _("median"),
            _("p90"),
            _("p99"),
            _("max"),
            _("gini"),
        ],
        [
            [
                spread["members"],
                spread["earning"],
                f"{spread['share_earning']:.1%}",
                spread["p50"],
                spread["p90"],
                spread["p99"],
                spread["max"],
                f"{spread['gini']:.2f}",
            ]
        ],
    )


def console_for(stream: IO[str], width: int) -> Any:
    """A rich Console on `stream` whose reader may go away (`| head -1`): rich exits 1
    on a broken pipe; this one raises BrokenPipeError, which the command line ends
    quietly with 0, as for every other output."""
    from rich.console import Console

    class _PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _PipeConsole(file=stream, width=width)


def write_csv_tables(
    tables: list[tuple[str, list[str], list[list[Any]]]], stream: IO[bytes]
) -> None:
    """Tables as one CSV for spreadsheets: each a title row, a header row, its rows and
    a blank row; UTF-8 with a byte-order mark, which Excel needs to show Chinese."""
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    for index, (title, columns, rows) in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([title])
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    stream.write("\ufeff".encode() + text.getvalue().encode("utf-8"))
    stream.flush()


def print_tables(
    title: str | None,
    tables: list[tuple[str, list[str], list[list[Any]]]],
    stream: IO[str],
    fmt: str = "table",
) -> None:
    """Tables for people (the first column left, numbers right, with thousands
    separators), or (fmt "csv") one CSV for spreadsheets."""
    if fmt == "csv":
        stream.flush()  # then the bytes: UTF-8 with its BOM, whatever the terminal's encoding
        write_csv_tables(tables, stream.buffer)  # type: ignore[attr-defined]
        return
    from rich.table import Table

    console = console_for(stream, 110)
    if title is not None:
        console.print(f"[bold]{title}[/bold]")
    for heading, columns, rows in tables:
        console.print(f"\n[bold]{heading}[/bold]")
        grid = Table()
        for index, column in enumerate(columns):
            grid.add_column(column, justify="left" if index == 0 else "right")
        for row in rows:
            grid.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        console.print(grid)


def report_tables(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as titled tables, in the reader's language."""
    tables: list[tuple[str, list[str], list[list[Any]]]] = []

    def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
        tables.append((title, columns, rows))

    table(
        _("points by currency"),
        [_("currency"), _("paid"), _("spent"), _("expired"), _("outstanding")],
        [
            [c, v["paid"], v["spent"], v["expired"], v["outstanding"]]
            for c, v in report["currencies"].items()
        ],
    )
    table(
        _("paid per rule"),
        [_("rule"), _("currency"), _("paid")],
        [[r["rule"], r["currency"], r["paid"]] for r in report["rules"]],
    )
    weeks = report["per_week"]
    table(
        _("paid per week"),
        [_("week of"), *report["currencies"]],
        [
            [date_text(week), *(totals.get(c, 0) for c in report["currencies"])]
            for week, totals in weeks.items()
        ],
    )
    for budget in report["budgets"]:
        columns, rows = budget_summary(budget)
        table(
            _("budget on {on}, {currency}: paid against it").format(
                on=budget_owner(budget["owner"]), currency=budget["currency"]
            ),
            columns,
            rows,
        )
    for currency, d in report["distribution"].items():
        table(_("who earns {currency}").format(currency=currency), *distribution_summary(d))
        if d["top"]:
            table(
                _("top 10 by {currency} earned").format(currency=currency),
                [_("member"), _("earned")],
                [[t["member"], t["earned"]] for t in d["top"]],
            )
    for kind, rows in report.get("teams", {}).items():
        teams = [t for t in rows if t["team"] is not None]
        loose = [t for t in rows if t["team"] is None]
        shown = teams[:10]
        table(
            _("{kind} by points earned").format(kind=kind)
            + (
                _(" (top 10 of {count})").format(count=len(teams))
                if len(teams) > len(shown)
                else ""
            ),
            [_("team"), _("members"), _("earned")],
            [[t["team"], t["members"], t["earned"]] for t in shown]
            + [[_("(in no {kind})").format(kind=kind), t["members"], t["earned"]] for t in loose],
        )
    if report["levels"]:
        table(
            _("levels"),
            [_("level"), _("members")],
            [[level_name(k), v] for k, v in report["levels"].items()],
        )
    if report["perks"]:
        table(
            _("perks, badges and flags"),
            [_("kind"), _("name"), _("count")],
            [[kind_name(p["kind"]), p["perk"], p["count"]] for p in report["perks"]],
        )
    for board, lines in report["boards"].items():
        table(
            _("board {board} (last period)").format(board=board),
            [_("rank"), _("who"), _("value")],
            # a `by missing` board has neither rank nor value: blanks, not "None"
            [
                ["" if line[k] is None else line[k] for k in ("rank", "who", "value")]
                for line in lines[:10]
            ],
        )
    if report["refusals"]:
        table(
            _("refused and cut"),
            [_("kind"), _("rule"), _("reason"), _("count")],
            [
                [kind_name(r["kind"]), r["rule"], localize(r["reason"]), r["count"]]
                for r in report["refusals"][:15]
            ],
        )
    return tables


def print_report(report: dict[str, Any], stream: IO[str], fmt: str = "table") -> None:
    """The report as tables for people, or (fmt "csv") as CSV for spreadsheets."""
    tables = report_tables(report)
    if fmt == "csv":
        tables.insert(0, (_("scheme"), [_("name")], [[report["scheme"]]]))
        print_tables(None, tables, stream, fmt)
    else:
        print_tables(report["scheme"], tables, stream, fmt)


def _signed(value: int) -> str:
    return f"{value:+,}"


def print_comparison(diff: Comparison, stream: IO[str], top: int, fmt: str = "table") -> None:
    """`incentive compare`: points per rule under A and B, the cost, and the members
    who gain or lose the most (`top` of them), as tables or (fmt "csv") as CSV."""
    heads = [_("currency"), "A", "B", _("change")]
    if fmt == "csv":
        stream.flush()
        write_csv_tables(
            [
                (
                    _("points per rule"),
                    [_("rule"), *heads],
                    [list(r.values()) for r in diff.rules],
                ),
                (_("members"), [_("member"), *heads], [list(r.values()) for r in diff.members]),
            ],
            stream.buffer,  # type: ignore[attr-defined]
        )
        return
    from rich.table import Table

    console = console_for(stream, 120)
    rules = Table(title=_("points per rule"))
    for column in (_("rule"), _("currency")):
        rules.add_column(column, justify="left")
    for column in ("A", "B", _("change")):
        rules.add_column(column, justify="right")
    for row in diff.rules:
        rules.add_row(
            row["rule"],
            row["currency"],
            *(_signed(row[k]) if k == "change" else f"{row[k]:,}" for k in ("a", "b", "change")),
        )
    console.print(rules)
    for currency, cost in diff.cost.items():
        console.print(
            _("cost in {currency}: A {a}, B {b} ({change})").format(
                currency=currency,
                a=f"{cost['a']:,}",
                b=f"{cost['b']:,}",
                change=_signed(cost["change"]),
            )
        )
    console.print(
        _("members: {gain} gain, {lose} lose, {same} unchanged").format(
            gain=diff.gainers, lose=diff.losers, same=diff.same
        )
    )
    if diff.members:
        movers = Table(
            title=_("the {count} biggest changes").format(count=min(top, len(diff.members)))
        )
        for column in (_("member"), _("currency")):
            movers.add_column(column, justify="left")
        for column in ("A", "B", _("change")):
            movers.add_column(column, justify="right")
        for row in diff.members[:top]:
            movers.add_row(
                row["member"],
                row["currency"],
                f"{row['a']:,}",
                f"{row['b']:,}",
                _signed(row["change"]),
            )
        console.print(movers)


def ab_note(smaller: int, grouped: bool) -> str | None:
    """The note on an A/B test whose smaller arm is below the field's rule of thumb."""
    if smaller >= AB_ARM_MEMBERS:
        return None
    return _("an arm has {count} members; the field's rule of thumb is at least {least}").format(
        count=f"{smaller:,}" if grouped else str(smaller), least=f"{AB_ARM_MEMBERS:,}"
    )


def labelled(label: str, text: str) -> str:
    """`note: text`: a space after an English colon, none after a full-width one."""
    return label + ("" if label.endswith(("：", "，")) else " ") + text


def ab_title(currency: str, seed: int) -> str:
    return _("A/B test, {currency} (seed {seed})").format(currency=currency, seed=seed)


def print_ab(
    arms: dict[str, dict[str, dict[str, Any]]], seed: int, stream: IO[str], fmt: str = "table"
) -> None:
    """`incentive compare --ab`: each arm's measures per currency (the currencies both
    arms have), as tables or (fmt "csv") as CSV, and the note on a small arm."""
    currencies = sorted(set(arms["A"]) & set(arms["B"]))
    if fmt == "csv":
        stream.flush()
        write_csv_tables(
            [
                (
                    ab_title(currency, seed),
                    [_("measure"), "A", "B"],
                    [
                        [measure_name(m), arms["A"][currency][m], arms["B"][currency][m]]
                        for m in arms["A"][currency]
                    ],
                )
                for currency in currencies
            ],
            stream.buffer,  # type: ignore[attr-defined]
        )
        return
    from rich.table import Table

    console = console_for(stream, 120)
    for currency in currencies:
        grid = Table(title=ab_title(currency, seed))
        grid.add_column(_("measure"))
        grid.add_column("A", justify="right")
        grid.add_column("B", justify="right")
        for measure in arms["A"][currency]:
            grid.add_row(
                measure_name(measure),
                str(arms["A"][currency][measure]),
                str(arms["B"][currency][measure]),
            )
        console.print(grid)
    smaller = min(metrics["members"] for arm in arms.values() for metrics in arm.values())
    note = ab_note(smaller, grouped=False)
    if note is not None:
        console.print(labelled(_("note:"), note))
