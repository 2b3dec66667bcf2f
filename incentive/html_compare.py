"""Two schemes side by side as one self-contained HTML page (`incentive compare
--html`): the same tables and SVG drawing as the dry-run report, no script and
nothing fetched, so it opens offline; in the reader's language and made for a phone
as the dry-run report is (incentive.html_report).

The functions take plain data (a `Comparison`, report dicts, A/B metrics), not
runs, so the CLI only runs the schemes and writes the page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from incentive.analysis import Comparison
from incentive.html_report import (
    WIDTH,
    every_day,
    figure,
    fit,
    h2,
    html_table,
    note,
    page_start,
    svg_bars,
    svg_lines,
    text_width,
    tip,
)
from incentive.i18n import _
from incentive.report import ab_note, ab_title, labelled, measure_name

_GAIN, _LOSS = "#2e8b57", "#c0392b"


def _signed(value: int) -> str:
    return f"{value:+,}"


def _diverging(labels: list[str], values: list[int], chart: str, unit: str) -> str:
    """Horizontal bars from a zero axis: gains to the right, losses to the left, in two
    colours, so the sign reads at a glance."""
    left, row = 110, 22
    top = max((abs(v) for v in values), default=0) or 1
    room = text_width(_signed(-top)) + 12  # for a number beyond a bar, on either side
    height = row * len(labels) + 10
    half = (WIDTH - left - 2 * room) / 2
    zero = left + room + half
    parts = [
        f'<svg class="chart" data-chart="{chart}" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row
        length = max(1.0, half * abs(value) / top) if value else 0.0
        x = zero if value >= 0 else zero - length
        kind, colour = ("gain", _GAIN) if value >= 0 else ("loss", _LOSS)
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(fit(label, left - 10))}</text>"
        )
        parts.append(
            f'<rect class="bar {kind}" x="{x:.1f}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row - 6}" fill="{colour}"><title>'
            f"{escape(tip(label, _signed(value), unit))}</title></rect>"
        )
        if value >= 0:
            parts.append(f'<text x="{zero + length + 5:.1f}" y="{y + 15}">{_signed(value)}</text>')
        else:
            parts.append(
                f'<text x="{zero - length - 5:.1f}" y="{y + 15}" text-anchor="end">'
                f"{_signed(value)}</text>"
            )
    # The zero axis last, so it is drawn over the bars' inner ends.
    parts.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="#394050"/>')
    parts.append("</svg>")
    return "".join(parts)


def _head(title: str, names: tuple[str, str], files: tuple[str, str], what: str) -> str:
    """The page's head and title: both schemes by name and by file (two versions of one
    scheme usually share the name, so the files tell them apart)."""
    heading = (
        _("{name}: two versions").format(name=names[0])
        if names[0] == names[1]
        else _("{a} vs {b}").format(a=names[0], b=names[1])
    )
    side = escape(_("“{name}”, {file}"))
    sides = "<br>".join(
        f"<b>{arm}</b> " + side.format(name=escape(name), file=f"<code>{escape(file)}</code>")
        for arm, name, file in zip("AB", names, files, strict=True)
    )
    return (
        page_start(_("{heading}: {title}").format(heading=heading, title=title))
        + f"<h1>{escape(heading)}</h1><p>{sides}</p>"
        + note(_("{what}, by incentive").format(what=what))
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
            _("compare"),
            (report_a["scheme"], report_b["scheme"]),
            files,
            _("the same activity under both schemes"),
        ),
        h2(_("Cost")),
        html_table(
            [_("currency"), "A", "B", _("change")],
            [[c, v["a"], v["b"], _signed(v["change"])] for c, v in diff.cost.items()],
        ),
        h2(_("Per rule")),
        html_table(
            [_("rule"), _("currency"), "A", "B", _("change")],
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
                _(
                    "change in {currency} per rule, B minus A: "
                    "right (green) B gives more, left (red) B gives less"
                ).format(currency=currency),
            )
        )
    currencies = dict.fromkeys([*report_a["currencies"], *report_b["currencies"]])
    for currency in currencies:
        per_day = (report_a["per_day"], report_b["per_day"])
        # A day either scheme paid nothing on is a 0 for it, not a gap.
        days = every_day(
            [d for days in per_day for d, totals in days.items() if currency in totals]
        )
        if not days:
            continue
        series = {
            arm: [days_paid.get(d, {}).get(currency, 0) for d in days]
            for arm, days_paid in zip("AB", per_day, strict=True)
        }
        heading = _("Cost per day, {currency}").format(currency=currency)
        out.append(h2(heading))
        out.append(
            figure(
                svg_lines(days, series, "cost-compare", currency),
                _("{currency} paid per day: A solid, B dashed").format(currency=currency),
            )
        )
    out.append(h2(_("Members")))
    counts = {_("gain"): diff.gainers, _("lose"): diff.losers, _("unchanged"): diff.same}
    out.append(html_table(list(counts), [list(counts.values())]))
    out.append(
        figure(
            svg_bars(list(counts), list(counts.values()), "members", _("balance(s)")),
            _("balances (one per member and currency) that B raises, lowers or leaves as they are"),
        )
    )
    movers = diff.members[:top]  # sliced as the terminal table is
    if movers:
        heading = _("The {count} biggest changes").format(count=len(movers))
        out.append(h2(heading))
        out.append(
            html_table(
                [_("member"), _("currency"), "A", "B", _("change")],
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
            _("A/B test"),
            names,
            files,
            _("an A/B test: each member in one arm only, by a hash of the id (seed {seed})").format(
                seed=seed
            ),
        )
    ]
    for currency in sorted(set(arms["A"]) & set(arms["B"])):
        measures = arms["A"][currency]
        title = ab_title(currency, seed)
        out.append(h2(title))
        out.append(
            html_table(
                [_("measure"), "A", "B"],
                [[measure_name(m), measures[m], arms["B"][currency][m]] for m in measures],
            )
        )
    smaller = min(
        (metrics["members"] for arm in arms.values() for metrics in arm.values()), default=0
    )
    small = ab_note(smaller, grouped=True)
    if small is not None:
        label = _("note:")
        text = labelled(label, small)[len(label) :]  # the space, or none, and the note
        out.append(f"<p><strong>{escape(label)}</strong>{escape(text)}</p>")
    out.append("</body></html>\n")
    return "".join(out)
