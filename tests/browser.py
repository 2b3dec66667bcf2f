"""One headless browser for every page test: Debian's chromium, which .ci/run
installs (without it, the tests that need it are skipped)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

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
