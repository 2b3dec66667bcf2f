"""The dry-run report as one self-contained HTML file: tables and SVG charts drawn
here, no script and nothing fetched, so it opens offline and prints as it looks.

The page is in the reader's language (incentive.i18n: `lang`, every text, dates on
the axes) and made for a phone as much as for a desk: operators open it in a chat
app. The charts scale to the width (an SVG viewBox), a wide table scrolls inside its
own box with its first column held in place, and the page itself never scrolls
sideways. Fonts are the system's: a CJK stack for Chinese, nothing downloaded.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape
from typing import Any

from incentive.i18n import _, current
from incentive.reasons import localize
from incentive.report import (
    budget_owner,
    budget_summary,
    compact_number,
    day_label,
    distribution_summary,
    kind_name,
    level_name,
    month_label,
    period_label,
    period_name,
)

# System fonts only (the page is opened offline): the platform's UI font for Latin
# text, then Simplified Chinese faces of macOS/iOS, Windows and Android/Linux.
FONTS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif'
)
STYLE = f"""
html {{ -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }}
body {{ font: 15px/1.5 {FONTS}; margin: 2rem auto; max-width: 60rem; color: #1d2330;
       background: #fff; padding: 0 1rem; overflow-wrap: anywhere; }}
h1 {{ font-size: 1.6rem; line-height: 1.25; margin-bottom: .2rem; }}
h2 {{ font-size: 1.15rem; margin-top: 2rem; }}
.table {{ max-width: 100%; overflow-x: auto; margin: .5rem 0; }}
table {{ border-collapse: separate; border-spacing: 0; }}
th, td {{ padding: .3rem .7rem; border-bottom: 1px solid #dde2ea; text-align: right;
         white-space: nowrap; }}
th:first-child, td:first-child {{ text-align: left; position: sticky; left: 0; z-index: 1;
         background: #fff; white-space: normal; min-width: 4em; max-width: 12em; }}
figure {{ margin: 1rem 0; }} figcaption {{ color: #596173; font-size: .9rem; }}
svg.chart {{ display: block; width: 100%; max-width: 36rem; height: auto; }}
svg text {{ font: 12px {FONTS}; fill: #394050; }}
.muted {{ color: #596173; }}
@media (max-width: 30rem) {{
  body {{ margin: 1rem auto; padding: 0 .75rem; font-size: 14px; }}
  h1 {{ font-size: 1.35rem; }}
  th, td {{ padding: .25rem .45rem; }}
}}
"""
_BAR = "#3d6fd1"
# Two series must stay apart in print and for colour-blind readers: colour and dash.
_SERIES = (("#d1603d", ""), ("#3d6fd1", "6 3"))
# The charts' own width: a phone shows it at about 360 px, a desk at 36rem.
WIDTH = 440
_MOST_TICKS = 7  # date labels along the x axis, so that they never touch


def page_start(title: str) -> str:
    """The page's head: its language, a viewport for phones, the title and the style."""
    lang = "zh-Hans" if current() == "zh" else "en"
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
    )


def text_width(text: str, size: float = 12) -> float:
    """About how wide a text is drawn: a CJK character a full em, others 0.6 em."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def fit(text: str, room: float) -> str:
    """`text`, cut with an ellipsis to fit `room` (the whole text is in the tooltip)."""
    if text_width(text) <= room:
        return text
    while text and text_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def tip(label: str, value: str, unit: str) -> str:
    return _("{label}: {value} {unit}").format(label=label, value=value, unit=unit)


def nice_ticks(top: float, most: int = 5) -> list[int]:
    """The y axis's marks: 0 up to at least `top` in whole steps of 1, 2 or 5 times a
    power of ten, at most `most` steps."""
    if top <= 0:
        return [0, 1]
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _every(count: int, steps: tuple[int, ...]) -> int:
    """The first step that labels at most _MOST_TICKS of `count` places (past the last
    step, a multiple of it)."""
    for step in steps:
        if math.ceil(count / step) <= _MOST_TICKS:
            return step
    last = steps[-1]
    return last * math.ceil(count / (_MOST_TICKS * last))


def _days(days: list[date], places: list[int]) -> list[tuple[int, str]]:
    """Days labelled at `places`, with the year where it turns, or on the first when the
    axis spans more than one year."""
    shown = []
    for k, i in enumerate(places):
        turned = days[i].year != days[places[k - 1]].year if k else days[0].year != days[-1].year
        shown.append((i, day_label(days[i], year=turned)))
    return shown


def x_ticks(period: str, keys: list[str]) -> list[tuple[int, str]]:
    """Where to label the x axis of consecutive periods, and with what: every day for
    a week, weekly for weeks, monthly for months; at most _MOST_TICKS labels."""
    n = len(keys)
    if n == 0:
        return []
    if period in ("day", "week"):
        days = [date.fromisoformat(k) for k in keys]
        if period == "week":
            return _days(days, list(range(0, n, _every(n, (1, 2, 4, 8, 13, 26, 52)))))
        if n <= _MOST_TICKS:
            return _days(days, list(range(n)))
        if n <= 14 * _MOST_TICKS:
            return _days(days, list(range(0, n, 7 if n <= 7 * _MOST_TICKS else 14)))
        firsts = [i for i, d in enumerate(days) if d.day == 1]
        chosen = firsts[:: _every(len(firsts), (1, 2, 3, 6, 12, 24, 60))]
        return [
            (i, month_label(days[i].year, days[i].month, year=k == 0 or days[i].month == 1))
            for k, i in enumerate(chosen)
        ]
    if period == "month":
        every = _every(n, (1, 2, 3, 6, 12, 24, 60))
        shown = []
        for k, i in enumerate(range(0, n, every)):
            year, month = int(keys[i][:4]), int(keys[i][5:7])
            shown.append((i, month_label(year, month, year=k == 0 or month == 1)))
        return shown
    every = _every(n, (1, 2, 5, 10, 20, 50, 100))
    return [(i, period_label(period, keys[i])) for i in range(0, n, every)]


def svg_bars(labels: list[str], values: list[int], chart: str, unit: str) -> str:
    """A horizontal bar chart: one bar per label, its number at its end."""
    left, row = 130, 22
    top = max(values, default=0) or 1
    room = text_width(f"{top:,}") + 12  # for the number right of the longest bar
    height = row * len(labels) + 10
    parts = [
        f'<svg class="chart" data-chart="{chart}" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row
        length = max(1.0, (WIDTH - left - room) * value / top) if value > 0 else 0
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(fit(label, left - 10))}</text>"
        )
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
            f'fill="{_BAR}"><title>{escape(tip(label, f"{value:,}", unit))}</title></rect>'
        )
        parts.append(f'<text x="{left + length + 5:.1f}" y="{y + 15}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_lines(
    keys: list[str], series: dict[str, list[int]], chart: str, unit: str, period: str = "day"
) -> str:
    """Lines over the same consecutive periods (`keys`, as the calendar names them), a
    dot for each; the y axis marked in round steps with grid lines, the x axis with
    dates at even intervals; with more than one series, a legend, and a colour and a
    dash for each."""
    height, left, right, above, below = 230, 52, 28, 28, 34
    bottom, plot = height - below, WIDTH - left - right
    ticks = nice_ticks(max((v for values in series.values() for v in values), default=0))
    top = ticks[-1]
    count = max(1, len(keys) - 1)

    def y_of(value: float) -> float:
        return bottom - (bottom - above) * value / top

    parts = [
        f'<svg class="chart" data-chart="{chart}" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">'
    ]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{"#9aa3b5" if tick == 0 else "#e3e7ee"}"/>'
        )
        parts.append(
            f'<text class="tick y" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{compact_number(tick)}</text>"
        )
    for index, label in x_ticks(period, keys):
        x = left + plot * index / count
        parts.append(
            f'<line class="grid" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" '
            'stroke="#9aa3b5"/>'
        )
        parts.append(
            f'<text class="tick x" x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    several = len(series) > 1
    for index, (name, values) in enumerate(series.items()):
        colour, dash = _SERIES[index % len(_SERIES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        if several:  # the legend, along the top edge
            x = left + 120 * index
            parts.append(
                f'<line class="legend" x1="{x}" y1="12" x2="{x + 22}" y2="12" '
                f'stroke="{colour}" stroke-width="2"{dashed}/>'
            )
            parts.append(f'<text x="{x + 27}" y="16">{escape(fit(name, 85))}</text>')
        points = [(left + plot * i / count, y_of(v)) for i, v in enumerate(values)]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dashed}/>'
        )
        for (px, py), key, value in zip(points, keys, values, strict=True):
            label = period_label(period, key)
            if several:
                label = _("{series}, {label}").format(series=name, label=label)
            parts.append(
                f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(tip(label, f'{value:,}', unit))}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def html_table(columns: list[str], rows: list[list[Any]]) -> str:
    """A table in its own box: on a narrow screen it scrolls sideways there, its first
    column (what each row is about) held in place, and the page does not."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{v:,}</td>" if isinstance(v, int) else f"<td>{escape(str(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<div class='table'>{table}</div>"


def h2(text: str) -> str:
    return f"<h2>{escape(text)}</h2>"


def note(text: str) -> str:
    """A line under the page's title, in grey."""
    return f"<p class='muted'>{escape(text)}</p>"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def every_day(days: list[str]) -> list[str]:
    """Each day from the first to the last of `days` (ISO dates): a day with nothing
    paid is a 0 on the chart, not a gap its neighbours close over."""
    if not days:
        return []
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    return [date.fromordinal(n).isoformat() for n in range(first.toordinal(), last.toordinal() + 1)]


def render_html(report: dict[str, Any]) -> str:
    """The report as a page; the same numbers as the JSON report."""
    out = [
        page_start(_("{scheme}: dry run").format(scheme=report["scheme"])),
        f"<h1>{escape(report['scheme'])}</h1>",
        note(_("a dry run by incentive")),
        h2(_("Points")),
        html_table(
            [_("currency"), _("paid"), _("spent"), _("expired"), _("outstanding")],
            [
                [c, v["paid"], v["spent"], v["expired"], v["outstanding"]]
                for c, v in report["currencies"].items()
            ],
        ),
    ]
    for currency in report["currencies"]:
        paid_days = [d for d, totals in report["per_day"].items() if currency in totals]
        if paid_days:
            days = every_day(paid_days)
            values = [report["per_day"].get(d, {}).get(currency, 0) for d in days]
            out.append(h2(_("Cost over time, {currency}").format(currency=currency)))
            chart = svg_lines(days, {_("paid"): values}, "cost", currency)
            out.append(figure(chart, _("{currency} paid per day").format(currency=currency)))
        rules = [r for r in report["rules"] if r["currency"] == currency]
        if rules:
            out.append(h2(_("Per rule, {currency}").format(currency=currency)))
            out.append(
                figure(
                    svg_bars(
                        [r["rule"] for r in rules], [r["paid"] for r in rules], "rules", currency
                    ),
                    _("{currency} paid by each rule").format(currency=currency),
                )
            )
        spread = report["distribution"][currency]
        out.append(h2(_("Who earns {currency}").format(currency=currency)))
        out.append(html_table(*distribution_summary(spread)))
        buckets = spread.get("histogram", [])
        if buckets:
            out.append(
                figure(
                    svg_bars(
                        [b["range"] for b in buckets],
                        [b["members"] for b in buckets],
                        "distribution",
                        _("member(s)"),
                    ),
                    _("members by {currency} earned").format(currency=currency),
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
                    _("the top 10 by {currency} earned").format(currency=currency),
                )
            )
    for budget in report["budgets"]:
        heading = _("Budget on {on}, {currency}").format(
            on=budget_owner(budget["owner"]), currency=budget["currency"]
        )
        out.append(h2(heading))
        out.append(html_table(*budget_summary(budget)))
        periods = budget["periods"]
        if periods:
            labels = [p["period"] for p in periods]
            lines = {
                _("paid"): [p["used"] for p in periods],
                _("budget"): [budget["points"]] * len(periods),
            }
            out.append(
                figure(
                    svg_lines(labels, lines, "budget", budget["currency"], budget["period"]),
                    _(
                        "{currency} paid per {period} against the budget of {budget} (dashed)"
                    ).format(
                        currency=budget["currency"],
                        period=period_name(budget["period"]),
                        budget=f"{budget['points']:,}",
                    ),
                )
            )
    for kind, rows in report.get("teams", {}).items():
        teams = [t for t in rows if t["team"] is not None]
        shown = teams[:10]
        if not shown:
            continue
        currency = shown[0]["currency"]
        out.append(h2(_("Teams: {kind}").format(kind=kind)))
        out.append(
            figure(
                svg_bars(
                    [t["team"] for t in shown],
                    [t["earned"] for t in shown],
                    "team-leaderboard",
                    currency,
                ),
                _("{kind} by {currency} their members earned").format(kind=kind, currency=currency)
                + (
                    _(" (the top 10 of {count})").format(count=len(teams))
                    if len(teams) > len(shown)
                    else ""
                ),
            )
        )
    if report["levels"]:
        out.append(h2(_("Levels")))
        out.append(
            html_table(
                [_("level"), _("members")],
                [[level_name(k), v] for k, v in report["levels"].items()],
            )
        )
    if report["perks"]:
        out.append(h2(_("Perks, badges and flags")))
        out.append(
            html_table(
                [_("kind"), _("name"), _("count")],
                [[kind_name(p["kind"]), p["perk"], p["count"]] for p in report["perks"]],
            )
        )
    for board, lines in report["boards"].items():
        out.append(h2(_("Board {board} (its last period)").format(board=board)))
        # a `by missing` board has neither rank nor value: show blanks, not "None"
        places = [[_shown(ln["rank"]), ln["who"], _shown(ln["value"])] for ln in lines]
        out.append(html_table([_("rank"), _("who"), _("value")], places))
    if report["refusals"]:
        out.append(h2(_("Refused and cut")))
        out.append(
            html_table(
                [_("kind"), _("rule"), _("reason"), _("count")],
                [
                    [kind_name(r["kind"]), r["rule"], localize(r["reason"]), r["count"]]
                    for r in report["refusals"]
                ],
            )
        )
    out.append("</body></html>\n")
    return "".join(out)


def _shown(value: Any) -> Any:
    return "" if value is None else value
