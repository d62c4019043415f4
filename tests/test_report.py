"""The HTML report: self-contained, complete, and rendered by a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from smartplan import load_spec, solve, spec_from_dict
from smartplan.cli import main
from smartplan.report import render_report, write_report
from smartplan.report.charts import BAND_COLOR, BEFORE_COLOR, INSIDE_COLOR

from .conftest import FORTUNE, FORTUNE_SPEC, random_accounts

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def fortune_plan():
    accounts = pd.read_csv(FORTUNE)
    return solve(accounts, load_spec(FORTUNE_SPEC), seed=7, moves=200_000)


@pytest.fixture(scope="module")
def fortune_report(fortune_plan, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(fortune_plan, path, title="Fortune 1000 rebalance")
    return path


class _References(HTMLParser):
    """Every attribute that can load a resource, every tag name, and the style text."""

    LOADING = frozenset(
        {"src", "href", "xlink:href", "srcset", "action", "poster", "data", "background"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self.LOADING and value is not None:
                self.links.append(value)
            if name == "style" and value is not None:
                self.styles.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_report_loads_nothing_external(fortune_report: Path) -> None:
    text = fortune_report.read_text(encoding="utf-8")
    parser = _References()
    parser.feed(text)
    assert parser.links, "the inline SVG charts reference their own elements"
    for link in parser.links:
        assert link.startswith(("#", "data:")), link
    assert not parser.tags & {"script", "link", "iframe", "object", "embed", "img", "base"}
    styles = "\n".join(parser.styles)
    assert "@import" not in styles
    for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", styles):
        assert target.startswith(("#", "data:")), target
    assert re.search(r"https?:", text) is None
    assert re.search(r"(src|href)\s*=\s*['\"]//", text) is None


def test_report_shows_every_part(fortune_plan, fortune_report: Path) -> None:
    text = fortune_report.read_text(encoding="utf-8")
    for heading in (
        "Criteria in priority order",
        "Territories",
        "Balance by territory",
        "Movement from home territory to new territory",
        "Map of the accounts",
        "Moved accounts",
    ):
        assert f"<h2>{heading}</h2>" in text
    balance_terms = len(fortune_plan.encoding.bal_term)
    assert text.count("<svg") == balance_terms + 1
    moved = int(fortune_plan.scorecard.summary["accounts_moved"])
    assert moved > 0
    assert f"{moved:,} accounts changed territory" in text
    moved_section = text[text.index("<h2>Moved accounts</h2>") :]
    assert moved_section.count("<tr>") == moved + 1
    assert "Best alternative" in moved_section
    matrix = text[text.index("<h3>Accounts</h3>") :]
    assert '<tr class="total"><th>total</th>' in matrix
    grand_total = re.search(r'<tr class="total">.*?<td>([\d,]+)</td></tr>', matrix)
    assert grand_total is not None
    assert grand_total.group(1) == f"{fortune_plan.encoding.n_accounts:,}"


def test_report_without_owner_or_coordinates() -> None:
    accounts = random_accounts(40, seed=3, territories=3)
    spec = spec_from_dict(
        {"plan": {"territories": 3}, "criteria": [{"kind": "balance", "metric": "revenue"}]}
    )
    plan = solve(accounts, spec, seed=1, moves=20_000)
    text = render_report(plan)
    assert text.count("<svg") == 1
    assert "Map of the accounts" not in text
    assert "no account has a home territory" in text
    assert "Moved accounts" not in text


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI; .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed; install it with: apt-get install -y chromium")
    return path


def _run_chromium(tmp_path: Path, *arguments: str) -> None:
    profile = tmp_path / "chromium-profile"
    command = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


def _near(pixels: np.ndarray, color: str, tolerance: int = 12) -> np.ndarray:
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    return (np.abs(pixels.astype(np.int16) - rgb) <= tolerance).all(axis=-1)


def test_browser_screenshot_shows_charts(fortune_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _run_chromium(
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        fortune_report.resolve().as_uri(),
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (3000, 1200)
    non_white = (pixels < 245).any(axis=-1)
    assert non_white.mean() > 0.05

    plan_bars = _near(pixels, INSIDE_COLOR)
    assert plan_bars.sum() > 20_000
    rows = np.flatnonzero(plan_bars.any(axis=1))
    region = pixels[rows.min() : rows.max() + 1]
    assert _near(region, BEFORE_COLOR).sum() > 20_000
    assert _near(region, BAND_COLOR).sum() > 2_000
    quantized = {tuple(color) for color in (region[::3, ::3] // 32).reshape(-1, 3)}
    assert len(quantized) >= 8


def test_browser_prints_report_to_pdf(fortune_report: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    _run_chromium(
        tmp_path,
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        fortune_report.resolve().as_uri(),
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 5


def test_cli_report(tmp_path: Path, fortune_plan) -> None:
    plan_path = tmp_path / "plan.csv"
    fortune_plan.assignment.to_csv(plan_path, index=False)
    out = tmp_path / "report.html"
    args = ["report", str(FORTUNE), "--spec", str(FORTUNE_SPEC), "--plan", str(plan_path)]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--title", "Q3 carve"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<title>Q3 carve</title>" in text
    assert "plan plan.csv" in text

    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "report.pdf")])
    assert result.exit_code == 2
    assert "must end in .html" in result.stderr
    assert not (tmp_path / "report.pdf").exists()

    missing = tmp_path / "missing.html"
    result = CliRunner().invoke(main, [*args, "--out", str(missing), "--latitude", "lat_deg"])
    assert result.exit_code == 2
    assert "missing column 'lat_deg'" in result.stderr
    assert not missing.exists()
