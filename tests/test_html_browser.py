"""The HTML report in a real browser (headless Chromium): rows, filter, sort, no injected script.

The report rendered here is CONSTRUCTED (tests.test_formats.sample_report plus a hostile
reference), not recorded; the end-to-end variant renders what `evidence check --format html`
wrote for a bibliography checked against the Crossref simulator.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.formats import html as html_format
from tests.test_formats import HOSTILE_RAW, sample_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _browser_paths() -> tuple[str, str] | None:
    chromium = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    driver = CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    paths = _browser_paths()
    if paths is None:
        message = "headless Chromium needs the Debian packages chromium and chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, which CI must install (apt-get install chromium "
                        "chromium-driver)")
        pytest.skip(f"{message}; not installed here (CI installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = paths
    profile = tempfile.mkdtemp(prefix="evidence-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _report() -> dict[str, Any]:
    report = sample_report()
    # A reference with no parsed title, so its raw text is shown directly in the table cell.
    hostile = json.loads(json.dumps(report["references"][0]))
    hostile.update(id="zz-hostile", raw=HOSTILE_RAW + " </script><script>window.__pwned=4</script>",
                   status="ok", findings=[])
    hostile["cited"]["title"] = None
    hostile["source"]["line"] = 99
    report["references"].append(hostile)
    report["summary"]["references"] += 1
    report["summary"]["ok"] += 1
    return report


def _visible_ids(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        row.find_element(By.CSS_SELECTOR, ".ref-id").text
        for row in driver.find_elements(By.CSS_SELECTOR, "#refs tbody tr")
        if row.is_displayed()
    ]


def _open(driver: Any, page: Path) -> None:
    driver.get(page.as_uri())


def test_html_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    report = _report()
    page = tmp_path / "report.html"
    page.write_text(html_format.HtmlFormat().render(report), encoding="utf-8")
    _open(browser, page)
    ids = [r["id"] for r in report["references"]]

    # Every reference is a visible row, and the script ran (it fills in the count).
    assert _visible_ids(browser) == ids
    shown = browser.find_element(By.ID, "shown")
    assert shown.text == f"Showing {len(ids)} of {len(ids)}"
    summary = browser.find_element(By.CSS_SELECTOR, ".sentence").text
    assert summary.startswith(f"{len(ids)} references:")

    # Nothing from the reference text ran, and it is shown as text.
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.find_elements(By.CSS_SELECTOR, "#refs img") == []
    hostile_row = browser.find_element(By.CSS_SELECTOR, "#refs tbody tr:last-child")
    assert "<script>window.__pwned=1</script>" in hostile_row.text
    # Nothing was fetched: no resource entries at all (no fonts, no CDN, no images).
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

    # Typing in the filter hides rows that do not match; all terms must match.
    box = browser.find_element(By.ID, "filter")
    box.send_keys("ghost")
    assert _visible_ids(browser) == ["ghost2020"]
    assert shown.text == f"Showing 1 of {len(ids)}"
    box.clear()
    box.send_keys("year-mismatch 2011")
    assert _visible_ids(browser) == ["smith2019"]
    box.clear()
    box.send_keys("no such reference anywhere")
    assert _visible_ids(browser) == []
    assert browser.find_element(By.ID, "empty").is_displayed()
    box.clear()
    box.send_keys(" ")  # an 'input' event with an empty filter shows everything again
    assert _visible_ids(browser) == ids

    # Status checkboxes hide a status.
    ok_box = browser.find_element(By.ID, "show-ok")
    ok_box.click()
    assert "sadasivan2012" not in _visible_ids(browser)
    assert "zz-hostile" not in _visible_ids(browser)
    assert len(_visible_ids(browser)) == len(ids) - 2
    ok_box.click()
    assert _visible_ids(browser) == ids

    # Clicking a header sorts; clicking again reverses.
    headers = browser.find_elements(By.CSS_SELECTOR, "#refs thead th")
    reference_header = next(h for h in headers if h.text.startswith("REFERENCE")
                            or h.text.startswith("Reference"))
    reference_header.click()
    ascending = _visible_ids(browser)
    assert ascending == sorted(ids, key=str.lower)
    assert reference_header.get_attribute("aria-sort") == "ascending"
    reference_header.click()
    assert _visible_ids(browser) == list(reversed(ascending))
    status_header = headers[0]
    status_header.click()
    statuses = [
        row.get_attribute("data-status")
        for row in browser.find_elements(By.CSS_SELECTOR, "#refs tbody tr")
    ]
    assert statuses[0] == "error" and statuses[1] == "unverifiable" and statuses[-1] == "ok"

    # The page's own script was allowed by the CSP; nothing was blocked or thrown.
    problems = [entry["message"] for entry in browser.get_log("browser")
                if entry["level"] == "SEVERE"]
    assert problems == []

    ARTIFACTS.mkdir(exist_ok=True)
    # Tall enough to hold the whole page, so the screenshot shows every row.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(int(height) + 140, 4000))
    assert browser.save_screenshot(str(ARTIFACTS / "html-report.png"))


def test_html_report_from_evidence_check(
    browser: Any, tmp_path: Path, run_evidence: Any
) -> None:
    """End to end: `evidence check --output report.html` on a bibliography, opened in Chromium."""
    from selenium.webdriver.common.by import By

    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{sadasivan2012,\n"
        "  title = {Ketamine <script>window.__pwned=1</script> study},\n"
        "  doi = {10.1371/journal.pone.0033693},\n"
        "  year = {2012}\n"
        "}\n"
        "@article{ghost,\n  title = {A study that does not exist},\n"
        "  doi = {10.5555/evidence-cli.no-such-record},\n  year = {2020}\n}\n",
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    result = run_evidence("check", bib, "--no-urls", "--output", out)
    assert result.returncode in (0, 1, 4), result.stderr
    assert out.exists(), result.stderr
    _open(browser, out)
    rows = browser.find_elements(By.CSS_SELECTOR, "#refs tbody tr")
    assert len(rows) == 2
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.find_element(By.ID, "shown").text == "Showing 2 of 2"
