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

from incentive.program import BudgetSpec, GrantsSpec, Program, RuleSpec
from incentive.runner import RunResult

PAID = ("award", "rank", "grant")


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


def budget_summary(budget: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A budget's use in one row (the terminal and the HTML report show the same)."""
    peak = budget["peak"]
    return (
        ["budget", "per", "periods", "paid", "peak", "at limit", "cut", "refused"],
        [
            [
                budget["points"],
                budget["period"],
                len(budget["periods"]),
                budget["used"],
                f"{peak['used']:,} ({peak['share']:.0%})" if peak else "-",
                budget["full_periods"],
                budget["cut_points"],
                budget["refused"],
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


def print_report(report: dict[str, Any], stream: IO[str], fmt: str = "table") -> None:
    """The report as tables for people, or (fmt "csv") as CSV for spreadsheets."""
    from rich.table import Table

    console = console_for(stream, 110)
    collected: list[tuple[str, list[str], list[list[Any]]]] = []
    if fmt == "csv":
        collected.append(("scheme", ["name"], [[report["scheme"]]]))
    else:
        console.print(f"[bold]{report['scheme']}[/bold]")

    def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
        if fmt == "csv":
            collected.append((title, columns, rows))
            return
        console.print(f"\n[bold]{title}[/bold]")
        grid = Table()
        for index, column in enumerate(columns):
            grid.add_column(column, justify="left" if index == 0 else "right")
        for row in rows:
            grid.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        console.print(grid)

    table(
        "points by currency",
        ["currency", "paid", "spent", "expired", "outstanding"],
        [
            [c, v["paid"], v["spent"], v["expired"], v["outstanding"]]
            for c, v in report["currencies"].items()
        ],
    )
    table(
        "paid per rule",
        ["rule", "currency", "paid"],
        [[r["rule"], r["currency"], r["paid"]] for r in report["rules"]],
    )
    weeks = report["per_week"]
    table(
        "paid per week",
        ["week of", *report["currencies"]],
        [
            [week, *(totals.get(c, 0) for c in report["currencies"])]
            for week, totals in weeks.items()
        ],
    )
    for budget in report["budgets"]:
        columns, rows = budget_summary(budget)
        table(f"budget on {budget['on']}, {budget['currency']}: paid against it", columns, rows)
    for currency, d in report["distribution"].items():
        table(
            f"who earns {currency}",
            ["members", "earning", "share", "median", "p90", "p99", "max", "gini"],
            [
                [
                    d["members"],
                    d["earning"],
                    f"{d['share_earning']:.1%}",
                    d["p50"],
                    d["p90"],
                    d["p99"],
                    d["max"],
                    f"{d['gini']:.2f}",
                ]
            ],
        )
        if d["top"]:
            table(
                f"top 10 by {currency} earned",
                ["member", "earned"],
                [[t["member"], t["earned"]] for t in d["top"]],
            )
    for kind, rows in report.get("teams", {}).items():
        teams = [t for t in rows if t["team"] is not None]
        loose = [t for t in rows if t["team"] is None]
        shown = teams[:10]
        table(
            f"{kind} by points earned"
            + (f" (top 10 of {len(teams)})" if len(teams) > len(shown) else ""),
            ["team", "members", "earned"],
            [[t["team"], t["members"], t["earned"]] for t in shown]
            + [[f"(in no {kind})", t["members"], t["earned"]] for t in loose],
        )
    if report["levels"]:
        table("levels", ["level", "members"], [[k, v] for k, v in report["levels"].items()])
    if report["perks"]:
        table(
            "perks, badges and flags",
            ["kind", "name", "count"],
            [[p["kind"], p["perk"], p["count"]] for p in report["perks"]],
        )
    for board, lines in report["boards"].items():
        table(
            f"board {board} (last period)",
            ["rank", "who", "value"],
            # a `by missing` board has neither rank nor value: blanks, not "None"
            [
                ["" if line[k] is None else line[k] for k in ("rank", "who", "value")]
                for line in lines[:10]
            ],
        )
    if report["refusals"]:
        table(
            "refused and cut",
            ["kind", "rule", "reason", "count"],
            [[r["kind"], r["rule"], r["reason"], r["count"]] for r in report["refusals"][:15]],
        )
    if fmt == "csv":
        stream.flush()  # then the bytes: UTF-8 with its BOM, whatever the terminal's encoding
        write_csv_tables(collected, stream.buffer)  # type: ignore[attr-defined]
