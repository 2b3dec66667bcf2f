"""One headless browser for every page test: Debian's chromium, which .ci/run
installs (without it, the tests that need it are skipped)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a closed network and no state between runs.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="needs Debian's chromium (installed by .ci/run)"
)


def rendered_dom(page: Path, profile: Path) -> str:
    """The page's DOM after the browser has laid it out."""
    assert BROWSER is not None
    return subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def assert_charts_drawn(dom: str, charts: Iterable[str], least: int = 3) -> None:
    """Each chart is in the rendered page and drew at least `least` shapes."""
    for chart in charts:
        svg = re.search(rf'<svg class="chart" data-chart="{chart}".*?</svg>', dom, re.S)
        assert svg is not None, f"chart {chart} is not in the rendered page"
        shapes = re.findall(r"<(rect|line|polyline|circle)\b", svg.group())
        assert len(shapes) >= least, f"chart {chart} drew {len(shapes)} shapes"


# Laid out in a frame of a phone's width (a headless window is at least 500 px wide,
# a frame is as wide as it is told), then measured by a script of the harness page;
# the page under test keeps no script of its own. The numbers go back through the DOM.
_MEASURE = """
const frame = document.createElement("iframe");
frame.style.cssText = "width: WIDTHpx; height: 844px; border: 0";
frame.srcdoc = PAGE;
frame.addEventListener("load", () => {
  const doc = frame.contentDocument, root = doc.documentElement, view = root.clientWidth;
  const outside = [...doc.body.querySelectorAll("*")].filter(
    (e) => !e.closest(".table") && e.getBoundingClientRect().right > view + 0.5
  ).map((e) => e.tagName.toLowerCase() + "." + (e.getAttribute("class") || ""));
  const charts = [...doc.querySelectorAll("svg.chart")].map((svg) => {
    const box = svg.getBoundingClientRect();
    return {chart: svg.dataset.chart, left: box.left, right: box.right};
  });
  const tables = [...doc.querySelectorAll(".table")].map((box) => {
    const wide = box.scrollWidth > box.clientWidth;
    box.scrollLeft = box.scrollWidth;
    const first = box.querySelector("th").getBoundingClientRect().left;
    const last = [...box.querySelectorAll("th")].at(-1).getBoundingClientRect().right;
    return {
      wide, scrolled: box.scrollLeft,
      first_column_moved: first - box.getBoundingClientRect().left,
      last_column_right: last - box.getBoundingClientRect().right,
    };
  });
  const texts = [...doc.querySelectorAll("svg.chart text")].map(
    (t) => t.getBoundingClientRect().height
  );
  document.body.dataset.measured = JSON.stringify({
    view, scroll: root.scrollWidth, outside, charts, tables,
    smallest_chart_text: texts.length ? Math.min(...texts) : null,
  });
});
document.body.append(frame);
"""


def measured_at_width(page: Path, profile: Path, width: int = 390) -> dict[str, Any]:
    """The page laid out `width` CSS px wide: `view` (the width inside any scroll bar),
    `scroll` (the page's own scrolling width: more than `view` means it scrolls
    sideways), `outside` (elements that reach past the view, tables' boxes aside),
    each chart's edges, each table box (whether it is wider than its box, how far
    its first column moved when the box was scrolled to its end, its last column's
    right edge against the box's) and the smallest text drawn in a chart (px; None
    without charts)."""
    harness = profile.with_name(profile.name + "-harness.html")
    text = json.dumps(page.read_text(encoding="utf-8")).replace("</", "<\\/")  # in a script
    script = _MEASURE.replace("WIDTH", str(width)).replace("PAGE", text)
    harness.write_text(
        "<!doctype html><html><head><meta charset='utf-8'></head><body style='margin:0'>"
        f"<script>{script}</script></body></html>",
        encoding="utf-8",
    )
    dom = rendered_dom(harness, profile)
    found = re.search(r'data-measured="([^"]*)"', dom)
    assert found is not None, "the harness measured nothing (did the page load?)"
    return json.loads(html.unescape(found.group(1)))
