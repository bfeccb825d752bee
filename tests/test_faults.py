"""Service faults end to end (issue 8, item 1): `evidence check` against a failing simulator."""

# For each fault: the run ends (the subprocess timeout bounds it), the reference it hits is
# unverifiable with service-unavailable (never ok), exit code 4, nothing is cached for it, and a
# rerun once the fault is gone gives the right verdict. Transient faults within the retry budget
# end with the right verdict.

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.services.cache import Cache
from evidence_cli.services.lookups import cache_origin_key
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

TARGET = "10.5555/evidence-cli.clean"  # cited correctly: ok when Crossref answers
CONTROL = "10.5555/evidence-cli.corrected"  # cited correctly: info (a correction was published)
# Faults are matched against the request path, where the DOI is percent-encoded.
TARGET_PATH = "/works/10.5555%2Fevidence-cli.clean"

REFS_BIB = """@article{target,
  author = {Halvorsen, Ingrid and García, Mateo},
  title = {Metformin and cognitive decline in older adults with type 2 diabetes: a cohort study},
  journal = {J Constr Clin Test Rec},
  year = {2021}, volume = {42}, number = {3}, pages = {401--410},
  doi = {10.5555/evidence-cli.clean}
}

@article{control,
  author = {Tanaka, Yuki and Adeyemi, Oluwaseun},
  title = {Tranexamic acid and postpartum haemorrhage in caesarean delivery: a double-blind trial},
  journal = {J Constr Clin Test Rec},
  year = {2022}, volume = {43}, number = {2}, pages = {210--219},
  doi = {10.5555/evidence-cli.corrected}
}
"""
RIGHT = {"target": ("ok", []), "control": ("info", ["corrected"])}


def run_check(run_evidence: RunEvidence, *args: str, timeout: float = 60
              ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_evidence("check", "refs.bib", "--no-urls", "--format", "json", *args,
                          timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


def verdicts(report: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {ref["id"]: (ref["status"], [f["code"] for f in ref["findings"]])
            for ref in report["references"]}


def cached_dois(evidence_env: dict[str, str], *dois: str) -> set[str]:
    # Answers are keyed by the service that gave them (here the simulator's URL).
    origin = evidence_env["EVIDENCE_CROSSREF_URL"]
    with Cache(Path(evidence_env["EVIDENCE_CACHE_DIR"]), read_only=True) as cache:
        found = cache.get_many("work", [cache_origin_key(origin, d) for d in dois],
                               allow_expired=True)
    return {doi for doi in dois if cache_origin_key(origin, doi) in found}


def requests_for(sim: CrossrefSimulator, path: str) -> int:
    """Requests that arrived for a path (counted on arrival, also those never answered)."""
    with sim.stats.lock:
        return sim.stats.by_path[path]


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(REFS_BIB, encoding="utf-8")
    return path


@pytest.fixture
def short_budget(tmp_path: Path) -> None:
    """One retry instead of four: the give-up path is the same, the test is seconds faster."""
    (tmp_path / "evidence.toml").write_text("max-retries = 1\n", encoding="utf-8")


PERSISTENT_FAULTS = [
    pytest.param("status", {"code": 429}, id="429-no-retry-after"),
    pytest.param("status", {"code": 429, "retry_after": 0.2}, id="429-retry-after"),
    pytest.param("status", {"code": 500}, id="500"),
    pytest.param("status", {"code": 502}, id="502"),
    pytest.param("status", {"code": 503, "retry_after": 0.2}, id="503"),
    pytest.param("timeout", {"seconds": 2}, id="timeout"),
    pytest.param("reset", {}, id="connection-reset"),
    pytest.param("reset-mid-body", {}, id="reset-mid-body"),
    pytest.param("malformed-json", {}, id="malformed-json"),
    pytest.param("truncated-json", {}, id="truncated-json"),
    pytest.param("html-200", {}, id="html-error-page-200"),
    pytest.param(
        "missing-fields", {}, id="record-missing-fields",
    ),
]


@pytest.mark.usefixtures("refs", "short_budget")
@pytest.mark.parametrize(("kind", "params"), PERSISTENT_FAULTS)
def test_persistent_fault_is_unverifiable_uncached_and_clears(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, evidence_env: dict[str, str],
    kind: str, params: dict[str, Any],
) -> None:
    crossref_sim.add_fault(kind, times=None, match=TARGET_PATH, **params)
    result, report = run_check(run_evidence, "--timeout", "0.5", timeout=60)
    assert result.returncode == 4, result.stderr
    assert verdicts(report) == {"target": ("unverifiable", ["service-unavailable"]),
                                "control": RIGHT["control"]}
    target = report["references"][0]
    assert target["doi"] == TARGET
    assert target["findings"][0]["severity"] == "warning"
    if kind != "missing-fields":  # that message is about the record, not the service
        assert TARGET in target["findings"][0]["message"]
    assert report["summary"]["unverifiable"] == 1 and report["summary"]["ok"] == 0
    assert "1 unverifiable" in result.stderr
    # It was retried, within the budget (two attempts with max-retries = 1), never more.
    assert requests_for(crossref_sim, TARGET_PATH) == (1 if kind == "missing-fields" else 2)
    # Nothing wrong is cached: only the control's answer is.
    assert cached_dois(evidence_env, TARGET, CONTROL) == {CONTROL}

    crossref_sim.clear_faults()
    crossref_sim.wake_sleepers()  # timed-out requests still held by the simulator end now
    crossref_sim.reset_stats()
    result, report = run_check(run_evidence)
    assert verdicts(report) == RIGHT
    assert result.returncode == 0
    assert requests_for(crossref_sim, TARGET_PATH) == 1  # asked again, not served from the cache
    assert crossref_sim.stats.requests == 1  # the control came from the cache


@pytest.mark.usefixtures("refs", "short_budget")
def test_offline_after_a_fault_still_has_nothing_for_the_failed_doi(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator
) -> None:
    crossref_sim.add_fault("status", times=None, match=TARGET_PATH, code=503)
    assert run_check(run_evidence)[0].returncode == 4
    crossref_sim.clear_faults()
    result, report = run_check(run_evidence, "--offline")
    assert verdicts(report) == {"target": ("unverifiable", ["service-unavailable"]),
                                "control": RIGHT["control"]}
    assert "offline" in report["references"][0]["findings"][0]["message"]
    assert result.returncode == 4


@pytest.mark.usefixtures("refs")
def test_transient_faults_within_the_retry_budget_end_with_the_right_verdict(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, evidence_env: dict[str, str]
) -> None:
    # Default budget (four retries). Each DOI fails twice, differently, then is answered.
    crossref_sim.add_fault("status", times=2, match=TARGET_PATH, code=503)
    crossref_sim.add_fault("status", times=1, match="evidence-cli.corrected", code=429,
                           retry_after=0.2)
    crossref_sim.add_fault("reset", times=1, match="evidence-cli.corrected")
    result, report = run_check(run_evidence)
    assert verdicts(report) == RIGHT
    assert result.returncode == 0
    assert requests_for(crossref_sim, TARGET_PATH) == 3
    assert requests_for(crossref_sim, "/works/10.5555%2Fevidence-cli.corrected") == 3
    assert cached_dois(evidence_env, TARGET, CONTROL) == {TARGET, CONTROL}


@pytest.mark.usefixtures("refs")
@pytest.mark.parametrize("retry_after", [None, 0.2], ids=["no-retry-after", "retry-after"])
def test_429_storm_on_every_request_then_recovery(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, retry_after: float | None
) -> None:
    # Every request is refused until three 429s have been sent (the first attempts of both DOIs
    # among them): with five attempts each, both must come through with the right verdicts.
    crossref_sim.add_fault("status", times=3, code=429, retry_after=retry_after)
    result, report = run_check(run_evidence)
    assert verdicts(report) == RIGHT
    assert result.returncode == 0
    assert crossref_sim.stats.statuses()[429] == 3
    assert crossref_sim.stats.statuses()[200] == 2


@pytest.mark.usefixtures("short_budget")
def test_simulator_killed_mid_run(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, evidence_env: dict[str, str],
    tmp_path: Path,
) -> None:
    dois = sorted(d for d in crossref_sim.dois() if d.startswith("10.7717/peerj."))[:6]
    (tmp_path / "refs.txt").write_text("\n".join(dois) + "\n", encoding="utf-8")
    crossref_sim.latency = 0.2
    held = "/works/" + dois[2].replace("/", "%2F")
    # The third request is held until the kill: the run is certainly mid-way then.
    crossref_sim.add_fault("timeout", times=None, match=held, seconds=30)
    killed = threading.Event()

    def kill_when_the_third_request_waits() -> None:
        while not killed.is_set():
            if requests_for(crossref_sim, held):
                crossref_sim.kill()
                killed.set()
                return
            killed.wait(0.01)

    watcher = threading.Thread(target=kill_when_the_third_request_waits, daemon=True)
    watcher.start()
    result = run_evidence("check", "refs.txt", "--no-urls", "--format", "json", timeout=60)
    killed.set()
    watcher.join(timeout=5)
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert result.returncode == 4
    statuses = {ref["doi"]: ref["status"] for ref in report["references"]}
    assert statuses[dois[2]] == "unverifiable"
    for ref in report["references"]:
        if ref["status"] == "unverifiable":
            assert [f["code"] for f in ref["findings"]] == ["service-unavailable"]
        else:
            assert ref["status"] == "ok" and ref["registered"]["doi"] == ref["doi"]
    answered = {doi for doi, status in statuses.items() if status != "unverifiable"}
    assert cached_dois(evidence_env, *dois) == answered

    crossref_sim.clear_faults()
    crossref_sim.latency = 0.0
    crossref_sim.start()  # same port if still free; else read .url again
    result = run_evidence("check", "refs.txt", "--no-urls", "--format", "json", "--crossref-url",
                          crossref_sim.url, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [ref["status"] for ref in report["references"]] == ["ok"] * 6
    assert cached_dois(evidence_env, *dois) == set(dois)


@pytest.mark.usefixtures("short_budget")
def test_bare_doi_with_a_record_missing_its_metadata_is_never_ok(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    (tmp_path / "refs.txt").write_text(f"doi:{TARGET}\n", encoding="utf-8")
    crossref_sim.add_fault("missing-fields", times=None, match=TARGET_PATH)
    result = run_evidence("check", "refs.txt", "--no-urls", "--format", "json")
    [ref] = json.loads(result.stdout)["references"]
    assert ref["status"] == "unverifiable"
    assert result.returncode == 4


PROXY_404 = "<!DOCTYPE html><html><body><h1>404 Not Found</h1><hr>nginx</body></html>"


@pytest.mark.usefixtures("refs", "short_budget")
def test_a_404_that_is_not_crossrefs_answer_is_not_doi_not_found(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, evidence_env: dict[str, str]
) -> None:
    # Matches the work route and its /agency route alike.
    crossref_sim.add_fault("status", times=None, match="evidence-cli.clean", code=404,
                           body=PROXY_404)
    result, report = run_check(run_evidence)
    assert verdicts(report)["target"] == ("unverifiable", ["service-unavailable"])
    assert result.returncode == 4
    assert cached_dois(evidence_env, TARGET, CONTROL) == {CONTROL}


@pytest.mark.usefixtures("refs", "short_budget")
def test_a_record_for_another_doi_is_not_taken_as_the_answer(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, evidence_env: dict[str, str]
) -> None:
    other = crossref_sim.record("10.1371/journal.pone.0033693")
    body = json.dumps({"status": "ok", "message-type": "work", "message-version": "1.0.0",
                       "message": other})
    crossref_sim.add_fault("status", times=None, match=TARGET_PATH, code=200, body=body)
    result, report = run_check(run_evidence)
    target = report["references"][0]
    assert target["registered"] is None or target["registered"]["doi"] == TARGET
    assert verdicts(report)["target"] == ("unverifiable", ["service-unavailable"])
    assert result.returncode == 4
    assert cached_dois(evidence_env, TARGET, CONTROL) == {CONTROL}
