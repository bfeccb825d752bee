"""Hardening, second round (issue 14): a hostile server, a hostile repository, a careless user.

Every hostile server here is a real HTTP server on 127.0.0.1 (the Crossref simulator's `custom`
fault, tests/simulator.py, or tests/webserver.py); caps and deadlines are set small in an
evidence.toml for the test instead of sending hundreds of megabytes or waiting minutes. No test
bounds the machine's speed: the subprocess timeout only stops a test that would hang forever.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref import cache_origin_key
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator, _Handler

CLEAN = "10.5555/evidence-cli.clean"  # constructed record, cited correctly below: ok
CLEAN_PATH = "/works/10.5555%2Fevidence-cli.clean"
REFS_BIB = """@article{target,
  author = {Halvorsen, Ingrid and García, Mateo},
  title = {Metformin and cognitive decline in older adults with type 2 diabetes: a cohort study},
  journal = {J Constr Clin Test Rec},
  year = {2021}, volume = {42}, number = {3}, pages = {401--410},
  doi = {10.5555/evidence-cli.clean}
}
"""


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(REFS_BIB, encoding="utf-8")
    return path


def config(tmp_path: Path, text: str) -> None:
    (tmp_path / "evidence.toml").write_text(text, encoding="utf-8")


def check(run_evidence: RunEvidence, *args: str, env: dict[str, str] | None = None,
          timeout: float = 90) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_evidence("check", "refs.bib", "--no-urls", "--format", "json", *args, env=env,
                          timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


def only(report: dict[str, Any]) -> dict[str, Any]:
    (reference,) = report["references"]
    return reference


def finding_text(reference: dict[str, Any]) -> str:
    return " ".join(f["message"] for f in reference["findings"])


def cached(evidence_env: dict[str, str], doi: str = CLEAN) -> Any:
    with Cache(Path(evidence_env["EVIDENCE_CACHE_DIR"]), read_only=True) as cache:
        return cache.get("work", cache_origin_key(evidence_env["EVIDENCE_CROSSREF_URL"], doi),
                         allow_expired=True)


def unverifiable(result: subprocess.CompletedProcess[str], report: dict[str, Any],
                 reason: str) -> None:
    reference = only(report)
    assert result.returncode == 4, result.stderr
    assert reference["status"] == "unverifiable"
    assert [f["code"] for f in reference["findings"]] == ["service-unavailable"]
    assert reason in finding_text(reference), finding_text(reference)


# -- (1) a hostile or broken Crossref ----------------------------------------------------------


def _padded(body: bytes, size: int) -> bytes:
    """The record with a title padded to `size` bytes: still valid, just huge."""
    data = json.loads(body)
    data["message"]["title"] = ["A" * size]
    return json.dumps(data).encode()


def test_an_answer_over_the_byte_cap_is_unverifiable_and_never_cached(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        refs: Path, evidence_env: dict[str, str]) -> None:
    config(tmp_path, "max-response-bytes = 20000\nmax-retries = 1\n")
    crossref_sim.add_fault("custom", times=None, match=CLEAN_PATH,
                           body=lambda normal: _padded(normal, 300_000))
    result, report = check(run_evidence)
    unverifiable(result, report, "over the 20000 byte limit")
    assert cached(evidence_env) is None
    # Nothing was cached, so an offline rerun is a clean miss (the first round crashed here).
    result, report = check(run_evidence, "--offline")
    unverifiable(result, report, "not in the cache")


def test_a_gzip_bomb_stops_at_the_decompressed_cap(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        refs: Path, evidence_env: dict[str, str]) -> None:
    config(tmp_path, "max-response-bytes = 100000\nmax-retries = 1\n")
    # ~20 KB on the wire, 20 MB unpacked: only the unpacked size is over the cap.
    bomb = gzip.compress(b'{"status":"ok","message":{"DOI":"' + CLEAN.encode()
                         + b'","title":["' + b"A" * 20_000_000 + b'"]}}')
    assert len(bomb) < 100_000
    crossref_sim.add_fault("custom", times=None, match=CLEAN_PATH, body=bomb,
                           headers=[("content-encoding", "gzip")])
    result, report = check(run_evidence)
    unverifiable(result, report, "over the 100000 byte limit")
    assert cached(evidence_env) is None


def test_a_gzipped_answer_within_the_cap_is_read(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, refs: Path) -> None:
    crossref_sim.add_fault("custom", times=None, match=CLEAN_PATH, body=gzip.compress,
                           headers=[("content-encoding", "gzip")])
    result, report = check(run_evidence)
    assert (result.returncode, only(report)["status"]) == (0, "ok"), result.stderr


def test_a_trickled_answer_ends_at_the_request_deadline(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        refs: Path, evidence_env: dict[str, str]) -> None:
    # Each byte comes 0.05 s after the last: every read is quick, --timeout never fires.
    config(tmp_path, "request-timeout = 1\nmax-retries = 1\n")
    crossref_sim.add_fault("custom", times=None, match=CLEAN_PATH, body=lambda b: b,
                           trickle=0.05)
    result, report = check(run_evidence)
    unverifiable(result, report, "no complete answer within 1 s")
    assert cached(evidence_env) is None


def test_the_run_has_a_bounded_total_time(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        refs: Path) -> None:
    # Every request hangs for 600 s (longer than any per-request bound set here): only the run's
    # own limit ends it.
    config(tmp_path, "run-timeout = 1\nrequest-timeout = 600\ntimeout = 600\n")
    crossref_sim.add_fault("timeout", times=None, seconds=600)
    try:
        result, report = check(run_evidence)
    finally:
        crossref_sim.wake_sleepers()
    unverifiable(result, report, "the run's time limit for Crossref (1 s, run-timeout)")


NONSENSE_LIMITS = [
    ("1", "0s", "1"),  # ZeroDivisionError before
    ("nan", "1s", "1"),  # ValueError before
    ("inf", "1s", "1"),  # OverflowError before
    ("1", "inf", "1"),  # waited forever before
    ("1", "100000s", "1"),  # waited 100,000 s before
    ("5", "1s", "0"),
    ("-3", "1s", "1"),
    ("5", "1s", "many"),
]


@pytest.mark.parametrize(("limit", "interval", "concurrency"), NONSENSE_LIMITS)
def test_nonsense_rate_limits_are_ignored_and_said_with_v(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, refs: Path,
        limit: str, interval: str, concurrency: str) -> None:
    crossref_sim.add_fault("custom", times=None, body=lambda b: b, pool_headers=False, headers=[
        ("x-rate-limit-limit", limit), ("x-rate-limit-interval", interval),
        ("x-concurrency-limit", concurrency)])
    result, report = check(run_evidence, "-v", timeout=60)
    assert (result.returncode, only(report)["status"]) == (0, "ok"), result.stderr
    assert "ignored the rate limits Crossref advertised" in result.stderr
    assert f"x-rate-limit-interval: {interval}" in result.stderr


def test_a_huge_retry_after_is_not_waited_for(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, refs: Path,
        evidence_env: dict[str, str]) -> None:
    crossref_sim.add_fault("status", times=None, code=429, retry_after=1_000_000_000)
    result, report = check(run_evidence, timeout=60)
    unverifiable(result, report, "asked to wait 1e+09 s (Retry-After)")
    assert crossref_sim.stats.requests == 1  # given up at once, not 5 attempts of 60 s
    assert cached(evidence_env) is None


def test_retries_have_a_total_budget(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        refs: Path) -> None:
    # Retry-After 2 s, budget 3 s: one wait fits, the second would not.
    config(tmp_path, "retry-budget = 3\nmax-retries = 4\n")
    crossref_sim.add_fault("status", times=None, code=503, retry_after=2)
    result, report = check(run_evidence)
    unverifiable(result, report, "the 3 s retry budget is spent")
    assert crossref_sim.stats.requests == 2


def _deep(_: bytes) -> bytes:
    return b'{"status":"ok","message":' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def _retyped(**fields: Any) -> Any:
    def change(body: bytes) -> bytes:
        data = json.loads(body)
        data["message"].update(fields)
        return json.dumps(data).encode()
    return change


@pytest.mark.parametrize("body", [
    pytest.param(_deep, id="200000-deep"),
    pytest.param(_retyped(title=5), id="title-number"),
    pytest.param(_retyped(author="Halvorsen"), id="author-string"),
    pytest.param(_retyped(author=[{"family": ["Halvorsen"]}]), id="family-list"),
    pytest.param(_retyped(issued={"date-parts": "2021"}), id="date-string"),
    pytest.param(_retyped(**{"update-to": {"type": "retraction"}}), id="update-to-object"),
    pytest.param(_retyped(volume=42), id="volume-number"),
    pytest.param(_retyped(**{"container-title": [None]}), id="container-null"),
    pytest.param(lambda b: b'{"status":"ok","message":[1,2]}', id="message-list"),
])
def test_deep_or_ill_typed_json_is_unverifiable_with_a_reason(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        refs: Path, evidence_env: dict[str, str], body: Any) -> None:
    config(tmp_path, "max-retries = 1\n")
    crossref_sim.add_fault("custom", times=None, match=CLEAN_PATH, body=body)
    result, report = check(run_evidence)
    reference = only(report)
    assert result.returncode == 4, result.stderr
    assert reference["status"] == "unverifiable"
    assert any(word in finding_text(reference) for word in ("malformed", "not Crossref JSON"))
    assert cached(evidence_env) is None


def test_cached_answers_are_keyed_by_the_service_that_gave_them(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, refs: Path,
        evidence_env: dict[str, str]) -> None:
    # A test server (or a malicious proxy) answers first...
    result, report = check(run_evidence)
    assert only(report)["status"] == "ok"
    # ...then Crossref's answer is wanted, offline: the other server's answer is not Crossref's.
    result, report = check(run_evidence, "--offline", "--crossref-url",
                           "https://api.crossref.org")
    unverifiable(result, report, "not in the cache")
    # The same server still finds its own answers.
    result, report = check(run_evidence, "--offline")
    assert only(report)["status"] == "ok"


TOKEN = "secret-plus-token-456"


@pytest.fixture
def header_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, str]]]:
    """The headers of every request the simulator receives."""
    seen: list[dict[str, str]] = []
    original = _Handler.do_GET

    def do_get(self: Any) -> None:
        seen.append({k.lower(): v for k, v in self.headers.items()})
        original(self)

    monkeypatch.setattr(_Handler, "do_GET", do_get)
    yield seen


@pytest.fixture
def tls_sim(tmp_path: Path) -> Iterator[tuple[CrossrefSimulator, Path]]:
    """The simulator over https (a trustme CA), and the CA file for SSL_CERT_FILE."""
    import trustme

    ca = trustme.CA()
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    sim = CrossrefSimulator(rate_limit=50, concurrency=3, polite_rate_limit=50,
                            polite_concurrency=3, tls=context).start()
    try:
        yield sim, ca_file
    finally:
        sim.stop()


def test_the_token_goes_over_https_to_a_host_from_the_environment(
        run_evidence: RunEvidence, evidence_env: dict[str, str], refs: Path,
        tls_sim: tuple[CrossrefSimulator, Path], header_log: list[dict[str, str]]) -> None:
    sim, ca_file = tls_sim
    env = {**evidence_env, "EVIDENCE_CROSSREF_URL": sim.url, "SSL_CERT_FILE": str(ca_file),
           "EVIDENCE_CROSSREF_PLUS_TOKEN": TOKEN}
    result, report = check(run_evidence, env=env)
    assert only(report)["status"] == "ok", result.stderr
    assert header_log and all(h.get("crossref-plus-api-token") == f"Bearer {TOKEN}"
                              for h in header_log)


def test_the_token_never_goes_over_plain_http(
        run_evidence: RunEvidence, evidence_env: dict[str, str], refs: Path,
        crossref_sim: CrossrefSimulator, header_log: list[dict[str, str]]) -> None:
    env = {**evidence_env, "EVIDENCE_CROSSREF_PLUS_TOKEN": TOKEN}
    result, report = check(run_evidence, env=env)
    assert only(report)["status"] == "ok"
    assert header_log and not any("crossref-plus-api-token" in h for h in header_log)
    assert "the Crossref Plus token is not sent" in result.stderr and TOKEN not in result.stderr


def test_a_repository_config_cannot_redirect_the_token(
        run_evidence: RunEvidence, evidence_env: dict[str, str], refs: Path, tmp_path: Path,
        tls_sim: tuple[CrossrefSimulator, Path], header_log: list[dict[str, str]]) -> None:
    # The checked repository's pyproject.toml names the host (https, even): not the user's word.
    sim, ca_file = tls_sim
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.evidence]\ncrossref-url = "{sim.url}"\n', encoding="utf-8")
    env = {key: value for key, value in evidence_env.items() if key != "EVIDENCE_CROSSREF_URL"}
    env.update(SSL_CERT_FILE=str(ca_file), EVIDENCE_CROSSREF_PLUS_TOKEN=TOKEN)
    result, report = check(run_evidence, env=env)
    assert only(report)["status"] == "ok", result.stderr
    assert header_log and not any("crossref-plus-api-token" in h for h in header_log)
    assert "which a config file chose" in result.stderr
    # The same host given on the command line is the user's choice: the token goes.
    header_log.clear()
    result, report = check(run_evidence, "--refresh", "--crossref-url", sim.url, env=env)
    assert header_log and all(h.get("crossref-plus-api-token") == f"Bearer {TOKEN}"
                              for h in header_log)


def test_no_network_at_all_is_detected_early_with_a_hint(
        run_evidence: RunEvidence, evidence_env: dict[str, str], tmp_path: Path) -> None:
    # .invalid never resolves (RFC 6761): to this tool it looks exactly like no network.
    (tmp_path / "refs.bib").write_text("".join(
        f"@article{{r{i},\n  title = {{A study number {i} about something}},\n"
        f"  doi = {{10.5555/evidence-cli.r{i}}},\n  url = {{https://host{i}.invalid/paper}}\n}}\n"
        for i in range(6)), encoding="utf-8")
    env = {**evidence_env, "EVIDENCE_CROSSREF_URL": "http://crossref.invalid"}
    result = run_evidence("check", "refs.bib", "--format", "json", env=env)
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert result.returncode == 4, result.stderr
    codes = {f["code"] for ref in report["references"] for f in ref["findings"]}
    assert codes == {"service-unavailable"}  # links too: not url-unreachable errors
    assert "no network" in result.stderr and "--offline" in result.stderr
