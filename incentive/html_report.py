"""The dry-run report as one self-contained HTML file: tables and SVG charts drawn
here, no script and nothing fetched, so it opens offline and prints as it looks.
"""

from __future__ import annotations

from html import escape
from typing import Any

from incentive.report import budget_summary

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #dde2ea; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1rem 0; } figcaption { color: #596173; font-size: .9rem; }
svg text { font: 11px system-ui, sans-serif; fill: #394050; }
.muted { color: #596173; }
"""
_BAR = "#3d6fd1"
# Two series must stay apart in print and for colour-blind readers: colour and dash.
_SERIES = (("#d1603d", ""), ("#3d6fd1", "6 3"))


def svg_bars(labels: list[str], values: list[int], chart: str, unit: str) -> str:
    """A horizontal bar chart: one bar per label."""
    width, left, row = 640, 150, 22
    height = row * len(labels) + 10
    top = max(values, default=0) or 1
    parts = [
        f'<svg class="chart" data-chart="{chart}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row
        length = max(1.0, (width - left - 70) * value / top) if value > 0 else 0
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
            f'fill="{_BAR}"><title>{escape(label)}: {value:,} {unit}</title></rect>'
        )
        parts.append(f'<text x="{left + length + 5:.1f}" y="{y + 14}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_lines(labels: list[str], series: dict[str, list[int]], chart: str, unit: str) -> str:
    """Lines over the same days, a dot per day, the first and last dates below; with
    more than one series, a legend, and a colour and a dash for each."""
    width, height, pad, left = 640, 220, 40, 70  # left: room for the scale's numbers
    top = max((v for values in series.values() for v in values), default=0) or 1
    count = max(1, len(labels) - 1)
    parts = [
        f'<svg class="chart" data-chart="{chart}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f'<line x1="{left}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#9aa3b5"/>',
        f'<text x="{left - 6}" y="{pad + 4}" text-anchor="end">{top:,}</text>',
        f'<text x="{left - 6}" y="{height - pad + 4}" text-anchor="end">0</text>',
    ]
    several = len(series) > 1
    for index, (name, values) in enumerate(series.items()):
        colour, dash = _SERIES[index % len(_SERIES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        if several:  # the legend, along the top edge
            x = left + 110 * index
            parts.append(
                f'<line class="legend" x1="{x}" y1="14" x2="{x + 22}" y2="14" '
                f'stroke="{colour}" stroke-width="2"{dashed}/>'
            )
            parts.append(f'<text x="{x + 27}" y="18">{escape(name)}</text>')
        points = [
            (left + (width - left - pad) * i / count, height - pad - (height - 2 * pad) * v / top)
            for i, v in enumerate(values)
        ]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dashed}/>'
        )
        series_name = f"{name}, " if several else ""
        for (px, py), label, value in zip(points, labels, values, strict=True):
            parts.append(
                f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(series_name + label)}: {value:,} {escape(unit)}</title></circle>"
            )
    if labels:
        parts.append(f'<text x="{left}" y="{height - pad + 18}">{escape(labels[0])}</text>')
        parts.append(
            f'<text x="{width - pad}" y="{height - pad + 18}" text-anchor="end">'
            f"{escape(labels[-1])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_table(columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{v:,}</td>" if isinstance(v, int) else f"<td>{escape(str(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def render_html(report: dict[str, Any]) -> str:
    """The report as a page; the same numbers as the JSON report."""
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(report['scheme'])}: dry run</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(report['scheme'])}</h1><p class='muted'>a dry run by incentive</p>",
        "<h2>Points</h2>",
        html_table(
            ["currency", "paid", "spent", "expired", "outstanding"],
            [
                [c, v["paid"], v["spent"], v["expired"], v["outstanding"]]
                for c, v in report["currencies"].items()
            ],
        ),
    ]
    for currency in report["currencies"]:
        days = [d for d, totals in report["per_day"].items() if currency in totals]
        if days:
            values = [report["per_day"][d][currency] for d in days]
            out.append(f"<h2>Cost over time, {escape(currency)}</h2>")
            chart = svg_lines(days, {"paid": values}, "cost", currency)
            out.append(figure(chart, f"{currency} paid per day"))
        rules = [r for r in report["rules"] if r["currency"] == currency]
        if rules:
            out.append(f"<h2>Per rule, {escape(currency)}</h2>")
            out.append(
                figure(
                    svg_bars(
                        [r["rule"] for r in rules], [r["paid"] for r in rules], "rules", currency
                    ),
                    f"{currency} paid by each rule",
                )
            )
        spread = report["distribution"][currency]
        out.append(f"<h2>Who earns {escape(currency)}</h2>")
        out.append(
            html_table(
                ["members", "earning", "share", "median", "p90", "p99", "max", "gini"],
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
        )
        buckets = spread.get("histogram", [])
        if buckets:
            out.append(
                figure(
                    svg_bars(
                        [b["range"] for b in buckets],
                        [b["members"] for b in buckets],
                        "distribution",
                        "members",
                    ),
                    f"members by {currency} earned",
                )
            )
        if spread["top"]:
            out.append(
                figure(
                    svg_bars(
                        [t["member"] for t in spread["top"]],
                        [t["earned"] for t in spread["top"]],
                        "leaderboard",
                        currency,
                    ),
                    f"the top 10 by {currency} earned",
                )
            )
    for budget in report["budgets"]:
        out.append(f"<h2>Budget on {escape(budget['on'])}, {escape(budget['currency'])}</h2>")
        out.append(html_table(*budget_summary(budget)))
        periods = budget["periods"]
        if periods:
            labels = [p["period"] for p in periods]
            lines = {
                "paid": [p["used"] for p in periods],
                "budget": [budget["points"]] * len(periods),
            }
            out.append(
                figure(
                    svg_lines(labels, lines, "budget", budget["currency"]),
                    f"{budget['currency']} paid per {budget['period']} against the budget of "
                    f"{budget['points']:,} (dashed)",
                )
            )
    for kind, rows in report.get("teams", {}).items():
        teams = [t for t in rows if t["team"] is not None]
        shown = teams[:10]
        if not shown:
            continue
        currency = shown[0]["currency"]
        out.append(f"<h2>Teams: {escape(kind)}</h2>")
        out.append(
            figure(
                svg_bars(
                    [t["team"] for t in shown],
                    [t["earned"] for t in shown],
                    "team-leaderboard",
                    currency,
                ),
                f"{kind} by {currency} their members earned"
                + (f" (the top 10 of {len(teams)})" if len(teams) > len(shown) else ""),
            )
        )
    if report["levels"]:
        out.append("<h2>Levels</h2>")
        out.append(html_table(["level", "members"], [[k, v] for k, v in report["levels"].items()]))
    if report["perks"]:
        out.append("<h2>Perks, badges and flags</h2>")
        out.append(
            html_table(
                ["kind", "name", "count"],
                [[p["kind"], p["perk"], p["count"]] for p in report["perks"]],
            )
        )
    for board, lines in report["boards"].items():
        out.append(f"<h2>Board {escape(board)} (its last period)</h2>")
        # a `by missing` board has neither rank nor value: show blanks, not "None"
        places = [[_shown(ln["rank"]), ln["who"], _shown(ln["value"])] for ln in lines]
        out.append(html_table(["rank", "who", "value"], places))
    if report["refusals"]:
        out.append("<h2>Refused and cut</h2>")
        out.append(
            html_table(
                ["kind", "rule", "reason", "count"],
                [[r["kind"], r["rule"], r["reason"], r["count"]] for r in report["refusals"]],
            )
        )
    out.append("</body></html>\n")
    return "".join(out)


def _shown(value: Any) -> Any:
    return "" if value is None else value
