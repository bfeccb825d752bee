"""Link checking end to end: each scenario's verdict through the real `evidence check` command."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.webserver import LocalServer

RunEvidence = Any


@pytest.fixture
def web() -> Iterator[LocalServer]:
    with LocalServer(slow_seconds=3.0) as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check(run_evidence: RunEvidence, tmp_path: Path, lines: list[str], *args: str
           ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    (tmp_path / "links.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_evidence("check", "links.txt", "--format", "json", "--url-timeout", "1", *args)
    assert "Traceback" not in done.stderr
    return done, json.loads(done.stdout)


def _verdicts(report: dict[str, Any]) -> dict[str, list[str]]:
    """URL -> the url-* codes found for it."""
    return {ref["cited"]["url"]: [f["code"] for f in ref["findings"]
                                  if f["code"].startswith("url-")]
            for ref in report["references"]}


def test_each_link_scenario_gets_its_verdict(run_evidence: RunEvidence, tmp_path: Path,
                                             web: LocalServer) -> None:
    expected = {
        "/ok": [],
        "/head-405": [],  # HEAD refused, GET fine
        "/head-403-get-ok": [],
        "/redirect-temp": [],
        "/404": ["url-broken"],
        "/410": ["url-broken"],
        "/loop-a": ["url-broken"],
        "/too-many/12": ["url-broken"],
        "/redirect-permanent": ["url-redirected"],
        "/403": ["url-blocked"],
        "/401": ["url-blocked"],
        "/999": ["url-blocked"],
        "/always-429": ["url-blocked"],
        "/429-then-ok": [],  # a 429 with Retry-After, then fine
        "/503": ["url-server-error"],
        "/500-then-ok": [],
        "/slow": ["url-timeout"],
    }
    dead = f"http://127.0.0.1:{_closed_port()}/gone"
    urls = [web.url(path) for path in expected] + [dead]
    done, report = _check(run_evidence, tmp_path, urls, "--allow-private")
    got = _verdicts(report)
    for path, codes in expected.items():
        assert got[web.url(path)] == codes, path
    assert got[dead] == ["url-unreachable"]
    by_url = {ref["cited"]["url"]: ref for ref in report["references"]}
    moved = by_url[web.url("/redirect-permanent")]["findings"][0]
    assert moved["severity"] == "info" and moved["suggestion"] == web.url("/ok")
    assert by_url[web.url("/403")]["status"] == "unverifiable"
    assert by_url[web.url("/503")]["status"] == "unverifiable"
    assert by_url[web.url("/404")]["status"] == "error"
    assert by_url[web.url("/slow")]["status"] == "warning"
    assert by_url[web.url("/ok")]["status"] == "ok"
    assert done.returncode == 1  # errors (broken, unreachable) at the default --fail-on


def test_loopback_links_are_refused_without_allow_private(
    run_evidence: RunEvidence, tmp_path: Path, web: LocalServer
) -> None:
    urls = [web.url("/ok"), web.url("/404", host="localhost")]
    done, report = _check(run_evidence, tmp_path, urls)
    assert all(codes == ["url-refused"] for codes in _verdicts(report).values())
    assert web.log == []  # nothing was fetched
    assert {ref["status"] for ref in report["references"]} == {"unverifiable"}
    assert done.returncode == 4


def test_a_redirect_to_a_private_address_is_refused_at_the_hop(
    run_evidence: RunEvidence, tmp_path: Path, web: LocalServer
) -> None:
    hop = web.url("/redirect-to?url=http://169.254.169.254/latest/meta-data/")
    _, report = _check(run_evidence, tmp_path, [hop], "--allow-private")
    assert _verdicts(report)[hop] == ["url-refused"]


def test_doi_links_go_to_the_doi_check_not_the_web(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: Any
) -> None:
    _, report = _check(run_evidence, tmp_path,
                       ["https://doi.org/10.5555/evidence-cli.retracted-publisher"])
    (reference,) = report["references"]
    assert reference["doi"] == "10.5555/evidence-cli.retracted-publisher"
    assert [f["code"] for f in reference["findings"]] == ["retracted"]
    assert crossref_sim.stats.requests >= 1


def test_no_urls_urls_only_and_exclude(run_evidence: RunEvidence, tmp_path: Path,
                                       web: LocalServer, crossref_sim: Any) -> None:
    lines = [f"doi:10.5555/evidence-cli.clean {web.url('/404')}", web.url("/410")]
    _, report = _check(run_evidence, tmp_path, lines, "--allow-private", "--no-urls")
    assert all(not codes for codes in _verdicts(report).values())
    assert web.url("/410") not in _verdicts(report)  # a link-only reference: nothing to check
    assert web.log == []

    crossref_sim.reset_stats()
    _, report = _check(run_evidence, tmp_path, lines, "--allow-private", "--urls-only")
    assert crossref_sim.stats.requests == 0
    assert sorted(c for codes in _verdicts(report).values() for c in codes) == [
        "url-broken", "url-broken"]
    asked = len(web.requests_for("/410"))

    _, report = _check(run_evidence, tmp_path, lines, "--allow-private", "--urls-only",
                       "--exclude", "/41[0-9]", "--refresh")
    assert web.url("/410") not in _verdicts(report)  # its only link excluded: left out
    assert len(web.requests_for("/410")) == asked  # and not asked again
    assert _verdicts(report)[web.url("/404")] == ["url-broken"]


def test_usage_errors(run_evidence: RunEvidence, tmp_path: Path) -> None:
    (tmp_path / "links.txt").write_text("https://example.org/\n", encoding="utf-8")
    both = run_evidence("check", "links.txt", "--no-urls", "--urls-only")
    assert both.returncode == 2 and "Traceback" not in both.stderr
    bad = run_evidence("check", "links.txt", "--exclude", "([")
    assert bad.returncode == 2 and "--exclude" in bad.stderr


def test_link_verdicts_are_cached_but_transient_failures_are_not(
    run_evidence: RunEvidence, tmp_path: Path, web: LocalServer
) -> None:
    lines = [web.url("/404"), web.url("/503")]
    _check(run_evidence, tmp_path, lines, "--allow-private", "--urls-only")
    asked_404, asked_503 = len(web.requests_for("/404")), len(web.requests_for("/503"))
    # Offline: the 404 verdict comes from the cache; the 503 was never stored.
    _, report = _check(run_evidence, tmp_path, lines, "--allow-private", "--urls-only",
                       "--offline")
    got = _verdicts(report)
    assert got[web.url("/404")] == ["url-broken"]
    assert got[web.url("/503")] == []
    assert len(web.requests_for("/404")) == asked_404
    assert len(web.requests_for("/503")) == asked_503
    # Online again: the broken link is answered from the cache, the server error asked again.
    _check(run_evidence, tmp_path, lines, "--allow-private", "--urls-only")
    assert len(web.requests_for("/404")) == asked_404
    assert len(web.requests_for("/503")) > asked_503


def test_a_link_only_reference_is_never_ok_unchecked(run_evidence: RunEvidence, tmp_path: Path,
                                                     web: LocalServer) -> None:
    lines = [web.url("/ok"), f"doi:10.5555/evidence-cli.clean {web.url('/404')}"]
    # Offline with nothing cached: the link-only reference is unverifiable, not ok.
    done, report = _check(run_evidence, tmp_path, lines, "--allow-private", "--offline")
    by_url = {ref["cited"]["url"]: ref for ref in report["references"]}
    link_only = by_url[web.url("/ok")]
    assert link_only["status"] == "unverifiable"
    assert [f["code"] for f in link_only["findings"]] == ["service-unavailable"]
    assert done.returncode == 4
    assert web.log == []
    # --no-urls, or every link excluded: nothing about a link-only reference is checked, so it
    # is left out of the report rather than called ok.
    for args in (["--no-urls"], ["--exclude", "127\\.0\\.0\\.1"]):
        _, report = _check(run_evidence, tmp_path, lines, "--allow-private", *args)
        assert [ref["cited"]["doi"] for ref in report["references"]] == [
            "10.5555/evidence-cli.clean"], args
    assert web.log == []
