"""Two schemes side by side as one self-contained HTML page (`incentive compare
--html`): the same tables and SVG drawing as the dry-run report, no script and
nothing fetched, so it opens offline.

The functions take plain data (a `Comparison`, report dicts, A/B metrics), not
runs, so the CLI only runs the schemes and writes the page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from incentive.analysis import AB_ARM_MEMBERS, Comparison
from incentive.html_report import STYLE, figure, html_table, svg_bars, svg_lines

_GAIN, _LOSS = "#2e8b57", "#c0392b"


def _signed(value: int) -> str:
    return f"{value:+,}"


def _diverging(labels: list[str], values: list[int], chart: str, unit: str) -> str:
    """Horizontal bars from a zero axis: gains to the right, losses to the left, in two
    colours, so the sign reads at a glance."""
    width, left, row, room = 640, 150, 22, 60  # room: for a loss's number left of its bar
    height = row * len(labels) + 10
    half = (width - left - room - 70) / 2
    zero = left + room + half
    top = max((abs(v) for v in values), default=0) or 1
    parts = [
        f'<svg class="chart" data-chart="{chart}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row
        length = max(1.0, half * abs(value) / top) if value else 0.0
        x = zero if value >= 0 else zero - length
        kind, colour = ("gain", _GAIN) if value >= 0 else ("loss", _LOSS)
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect class="bar {kind}" x="{x:.1f}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row - 6}" fill="{colour}"><title>{escape(label)}: {_signed(value)} '
            f"{escape(unit)}</title></rect>"
        )
        if value >= 0:
            parts.append(f'<text x="{zero + length + 5:.1f}" y="{y + 14}">{_signed(value)}</text>')
        else:
            parts.append(
                f'<text x="{zero - length - 5:.1f}" y="{y + 14}" text-anchor="end">'
                f"{_signed(value)}</text>"
            )
    # The zero axis last, so it is drawn over the bars' inner ends.
    parts.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="#394050"/>')
    parts.append("</svg>")
    return "".join(parts)


def _head(title: str, names: tuple[str, str], files: tuple[str, str], what: str) -> str:
    """The page's head and title: both schemes by name and by file (two versions of one
    scheme usually share the name, so the files tell them apart)."""
    heading = f"{names[0]}: two versions" if names[0] == names[1] else f"{names[0]} vs {names[1]}"
    sides = "<br>".join(
        f"<b>{arm}</b> “{escape(name)}”, <code>{escape(file)}</code>"
        for arm, name, file in zip("AB", names, files, strict=True)
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(heading)}: {escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(heading)}</h1><p>{sides}</p>"
        f"<p class='muted'>{escape(what)}, by incentive</p>"
    )


def render_compare_html(
    diff: Comparison,
    report_a: dict[str, Any],
    report_b: dict[str, Any],
    files: tuple[str, str],
    top: int = 10,
) -> str:
    """The comparison as a page: the same numbers as `compare --format json`, and each
    scheme's cost per day from its report (incentive.report.build_report)."""
    out = [
        _head(
            "compare",
            (report_a["scheme"], report_b["scheme"]),
            files,
            "the same activity under both schemes",
        ),
        "<h2>Cost</h2>",
        html_table(
            ["currency", "A", "B", "change"],
            [[c, v["a"], v["b"], _signed(v["change"])] for c, v in diff.cost.items()],
        ),
        "<h2>Per rule</h2>",
        html_table(
            ["rule", "currency", "A", "B", "change"],
            [[r["rule"], r["currency"], r["a"], r["b"], _signed(r["change"])] for r in diff.rules],
        ),
    ]
    # One chart per currency: changes in different currencies share no scale.
    for currency in dict.fromkeys(r["currency"] for r in diff.rules):
        rules = [r for r in diff.rules if r["currency"] == currency]
        out.append(
            figure(
                _diverging(
                    [r["rule"] for r in rules],
                    [r["change"] for r in rules],
                    "rule-change",
                    currency,
                ),
                f"change in {currency} per rule, B minus A: "
                "right (green) B gives more, left (red) B gives less",
            )
        )
    currencies = dict.fromkeys([*report_a["currencies"], *report_b["currencies"]])
    for currency in currencies:
        per_day = (report_a["per_day"], report_b["per_day"])
        # A day either scheme paid nothing on is a 0 for it, not a gap.
        days = sorted({d for days in per_day for d, totals in days.items() if currency in totals})
        if not days:
            continue
        series = {
            arm: [days_paid.get(d, {}).get(currency, 0) for d in days]
            for arm, days_paid in zip("AB", per_day, strict=True)
        }
        out.append(f"<h2>Cost per day, {escape(currency)}</h2>")
        out.append(
            figure(
                svg_lines(days, series, "cost-compare", currency),
                f"{currency} paid per day: A solid, B dashed",
            )
        )
    out.append("<h2>Members</h2>")
    counts = {"gain": diff.gainers, "lose": diff.losers, "unchanged": diff.same}
    out.append(html_table(list(counts), [list(counts.values())]))
    out.append(
        figure(
            svg_bars(list(counts), list(counts.values()), "members", "members"),
            "balances (one per member and currency) that B raises, lowers or leaves as they are",
        )
    )
    movers = diff.members[:top]  # sliced as the terminal table is
    if movers:
        out.append(f"<h2>The {len(movers)} biggest changes</h2>")
        out.append(
            html_table(
                ["member", "currency", "A", "B", "change"],
                [
                    [m["member"], m["currency"], m["a"], m["b"], _signed(m["change"])]
                    for m in movers
                ],
            )
        )
    out.append("</body></html>\n")
    return "".join(out)


def render_ab_html(
    arms: dict[str, dict[str, dict[str, Any]]],
    seed: int,
    names: tuple[str, str],
    files: tuple[str, str],
) -> str:
    """An A/B test as a page: each arm's measures (incentive.analysis.ab_metrics) per
    currency, as `compare --ab --format json` gives them."""
    out = [
        _head(
            "A/B test",
            names,
            files,
            f"an A/B test: each member in one arm only, by a hash of the id (seed {seed})",
        )
    ]
    for currency in sorted(set(arms["A"]) & set(arms["B"])):
        measures = arms["A"][currency]
        out.append(f"<h2>A/B test, {escape(currency)}</h2>")
        out.append(
            html_table(
                ["measure", "A", "B"],
                [[m, measures[m], arms["B"][currency][m]] for m in measures],
            )
        )
    smaller = min(
        (metrics["members"] for arm in arms.values() for metrics in arm.values()), default=0
    )
    if smaller < AB_ARM_MEMBERS:
        out.append(
            f"<p><strong>note:</strong> an arm has {smaller:,} members; the field's rule of thumb "
            f"is at least {AB_ARM_MEMBERS:,}</p>"
        )
    out.append("</body></html>\n")
    return "".join(out)
