"""The forest plot's SVG in a real browser (headless Chromium): drawn, laid out, screenshotted.

The plot is drawn by `evidence meta --forest` from the example review (the real dat.bcg
counts); the screenshot is kept as a test artifact (test-artifacts/forest-chromium.png, and in
pytest's tmp folder) so people can look at it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunEvidence
from tests.test_html_browser import ARTIFACTS, browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent


def _rect(driver: Any, selector: str) -> dict[str, float]:
    rect: dict[str, float] = driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,"
        "        width: r.width, height: r.height};", selector)
    return rect


def test_forest_plot_svg_in_chromium(browser: Any, run_evidence: RunEvidence,  # noqa: F811
                                     evidence_env: dict[str, str], tmp_path: Path) -> None:
    reviews = Path(evidence_env["EVIDENCE_REVIEWS_DIR"])
    shutil.copy(REPO / "reviews" / "bcg-vaccine.yaml", reviews / "bcg-vaccine.yaml")
    forest = tmp_path / "forest.svg"
    done = run_evidence("meta", "bcg-vaccine", "--outcome", "Tuberculosis", "--forest", forest)
    assert done.returncode == 0, done.stderr
    browser.set_window_size(1100, 900)
    browser.get(forest.as_uri())

    count = browser.execute_script(
        "return document.querySelectorAll('g[id^=\"study-point-\"]').length")
    assert count == 13
    # Every row's label sits left of every CI bar, every weight right of them, rows in order.
    bars = [_rect(browser, f"#study-ci-{i}") for i in range(13)]
    plot_left = min(bar["left"] for bar in bars)
    plot_right = max(bar["right"] for bar in bars)
    tops = []
    for i in range(13):
        label = _rect(browser, f"#study-label-{i}")
        weight = _rect(browser, f"#study-weight-{i}")
        effect = _rect(browser, f"#study-effect-{i}")
        assert label["width"] > 0 and label["right"] < plot_left, i
        assert weight["left"] > plot_right and effect["left"] > weight["right"], i
        tops.append(label["top"])
    assert tops == sorted(tops)
    diamond = _rect(browser, "#pooled-diamond")
    interval = _rect(browser, "#prediction-interval")
    heterogeneity = _rect(browser, "#heterogeneity")
    assert diamond["width"] > 10 and diamond["height"] > 5
    assert diamond["top"] > max(tops)  # the pooled row comes after the studies
    assert interval["width"] > diamond["width"]  # the prediction interval is the wider one
    assert heterogeneity["top"] > interval["bottom"]
    assert "I² = 92.2%" in browser.find_element("id", "heterogeneity").text

    shot = tmp_path / "artifacts" / "forest-chromium.png"
    shot.parent.mkdir()
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "forest-chromium.png")
