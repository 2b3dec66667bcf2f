"""The HTML report: self-contained, and its charts render in a real headless browser
(Debian's chromium, which .ci/run installs; the browser test is skipped without it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from browser import BROWSER, FLAGS, assert_charts_drawn, needs_browser, rendered_dom
from click.testing import CliRunner

from incentive.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ("cost", "rules", "distribution", "leaderboard", "team-leaderboard")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "camp.html"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(ROOT / "schemes/writing_camp.incentive"),
            "--population",
            str(ROOT / "schemes/writing_camp.population.yaml"),
            "--html",
            str(path),
            "--format",
            "json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return path


def test_the_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html)
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in html
    assert "21-day writing camp" in html and "top class" in html


@needs_browser
def test_the_charts_render_in_a_headless_browser(page: Path, tmp_path: Path) -> None:
    assert_charts_drawn(rendered_dom(page, tmp_path / "profile"), CHARTS)
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            BROWSER,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--screenshot={shot}",
            "--window-size=1000,1600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    # A rendered page with charts is far from blank: a blank PNG is a few KB.
    assert shot.stat().st_size > 30_000
