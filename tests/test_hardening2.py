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

from evidence_cli.services.cache import CACHE_FILE, Cache
from evidence_cli.services.lookups import cache_origin_key
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


# -- (2) files and repositories ----------------------------------------------------------------

WRONG_TITLE_BIB = REFS_BIB.replace("volume = {42}", "volume = {41}")  # volume-mismatch: fixable


def _fix_env(evidence_env: dict[str, str]) -> dict[str, str]:
    return evidence_env


def test_bibtex_quoted_field_cannot_be_broken_out_of() -> None:
    import bibtexparser

    from evidence_cli.fixing.edit import edit_bibtex_entry

    hostile = 'Real title" , url = "http://evil.example/phish'
    for entry in ('@article{a,\n  title = "Old title",\n  year = 2020\n}',
                  '@article{a,\n  title = {Old title},\n  year = 2020\n}'):
        edited = edit_bibtex_entry(entry, {"title": hostile})
        (parsed,) = bibtexparser.parse_string(edited).entries
        assert set(parsed.fields_dict) == {"title", "year"}, edited  # no url field injected
        assert "evil.example" in parsed["title"]
    # An ordinary title with quotes stays valid BibTeX in a quoted field.
    edited = edit_bibtex_entry('@article{a,\n  title = "Old"\n}', {"title": 'The "best" trial'})
    (parsed,) = bibtexparser.parse_string(edited).entries
    assert parsed["title"] == 'The {"}best{"} trial'


def test_fix_write_on_a_cr_only_ris_keeps_every_tag(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    ris = ("TY  - JOUR\rTI  - Metformin and cognitive decline in older adults with type 2 "
           "diabetes: a cohort study\rAU  - Halvorsen, Ingrid\rAU  - García, Mateo\rPY  - 2021\r"
           "T2  - J Constr Clin Test Rec\rVL  - 41\rIS  - 3\rSP  - 401\rEP  - 410\r"
           f"DO  - {CLEAN}\rER  - \r")
    path = tmp_path / "refs.ris"
    path.write_bytes(ris.encode())
    done = run_evidence("fix", "refs.ris", "--write")
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    text = path.read_bytes().decode()
    assert "\n" not in text  # still CR-only
    lines = text.split("\r")
    assert "VL  - 42" in lines, lines
    assert "IS  - 3" in lines  # the next tag was not swallowed


def test_fix_write_through_a_symlink_fixes_the_target(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    real = tmp_path / "library" / "refs.bib"
    real.parent.mkdir()
    real.write_text(WRONG_TITLE_BIB, encoding="utf-8")
    (tmp_path / "refs.bib").symlink_to(real)
    done = run_evidence("fix", "refs.bib", "--write")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "refs.bib").is_symlink()  # the link is still a link...
    assert "volume = {42}" in real.read_text(encoding="utf-8")  # ...and its target is fixed
    assert (real.parent / "refs.bib.bak").read_text(encoding="utf-8") == WRONG_TITLE_BIB


@pytest.mark.parametrize("case", ["read-only", "another-user"])
def test_fix_write_refuses_a_file_the_user_could_not_write(
        run_evidence: RunEvidence, tmp_path: Path, case: str) -> None:
    import os

    path = tmp_path / "refs.bib"
    path.write_text(WRONG_TITLE_BIB, encoding="utf-8")
    if case == "read-only":
        path.chmod(0o444)
    else:
        if os.geteuid() != 0:
            pytest.skip("giving a file to another user needs root")
        os.chown(path, 54321, 54321)
    before = path.stat()
    done = run_evidence("fix", "refs.bib", "--write")
    assert "Traceback" not in done.stderr
    assert done.returncode == 3, done.stderr
    assert ("read-only" if case == "read-only" else "another user") in done.stderr
    after = path.stat()
    assert (after.st_ino, after.st_uid, after.st_mode) == (before.st_ino, before.st_uid,
                                                            before.st_mode)
    assert path.read_text(encoding="utf-8") == WRONG_TITLE_BIB
    assert not (tmp_path / "refs.bib.bak").exists()


@pytest.mark.parametrize("case", ["dev-zero", "link-to-dev-zero", "fifo-without-writer"])
def test_non_regular_inputs_are_refused_without_reading_or_hanging(
        run_evidence: RunEvidence, tmp_path: Path, case: str) -> None:
    import os

    if case == "dev-zero":
        name = "/dev/zero"
    elif case == "link-to-dev-zero":
        (tmp_path / "refs.txt").symlink_to("/dev/zero")
        name = "refs.txt"
    else:
        os.mkfifo(tmp_path / "refs.bib")
        name = "refs.bib"
    for command in (("check", name, "--offline"), ("fix", name, "--offline")):
        done = run_evidence(*command, timeout=60)
        assert "Traceback" not in done.stderr
        assert done.returncode == 3, (command, done.stderr)
        assert "not a regular file" in done.stderr
        assert "standard input with -" in done.stderr


def test_every_input_read_is_capped_whatever_size_is_reported(tmp_path: Path) -> None:
    from evidence_cli.errors import InputError
    from evidence_cli.sources.safe_read import read_capped

    # /proc files report a size of 0 and are regular: the cap holds on the bytes actually read.
    with pytest.raises(InputError, match="over the 10 byte input limit"):
        read_capped("/proc/self/maps", 10)
    (tmp_path / "small.txt").write_bytes(b"0123456789")
    assert read_capped(tmp_path / "small.txt", 10) == b"0123456789"


def test_a_folder_run_does_not_follow_links_out_of_the_folder(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    secret = tmp_path / "secret-config"
    secret.write_text("[credential]\n  token = hunter2-credential doi:10.5555/evidence-cli.x\n",
                      encoding="utf-8")
    tree = tmp_path / "paper"
    tree.mkdir()
    (tree / "refs.txt").write_text(f"doi:{CLEAN}\n", encoding="utf-8")
    (tree / "notes.txt").symlink_to(secret)
    (tree / "inside.txt").symlink_to(tree / "refs.txt")  # a link within the folder is fine
    for fmt in ("json", "markdown", "html", "github", "table"):
        done = run_evidence("check", "paper", "--offline", "--format", fmt)
        assert "Traceback" not in done.stderr
        assert "hunter2" not in done.stdout + done.stderr, fmt
        assert "skipped: a symbolic link to a file outside paper" in done.stderr
    report = json.loads(run_evidence("check", "paper", "--offline", "--format", "json").stdout)
    assert sorted(Path(r["source"]["path"]).name for r in report["references"]) == [
        "inside.txt", "refs.txt"]


def _docx_with_entity(tmp_path: Path) -> Path:
    import io
    import zipfile

    import docx

    document = docx.Document()
    document.add_heading("References", 1)
    document.add_paragraph("Smith J (2020) Alpha study. doi:10.1234/abc.1")
    document.add_paragraph("Jones K (2021) Beta study. doi:10.1234/abc.2")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY x "ex">]>', 1)
                data = data.replace(b"Smith J", b"&x; Smith J", 1)
            target.writestr(item.filename, data)
    path = tmp_path / "paper.docx"
    path.write_bytes(out.getvalue())
    return path


def test_a_word_entity_reference_is_refused_not_read_as_nothing(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    _docx_with_entity(tmp_path)
    done = run_evidence("check", "paper.docx", "--offline", "--format", "json")
    assert "Traceback" not in done.stderr
    # Before: everything after &x; was dropped silently (0 references, exit 0).
    assert done.returncode == 3, done.stdout
    assert "declares XML entities" in done.stderr


def _damage(cache_file: Path, how: str) -> None:
    import sqlite3

    if how == "garbage":
        cache_file.write_bytes(b"\x89garbage, not SQLite\x00" * 400)
        return
    if how == "truncated":
        data = cache_file.read_bytes()
        cache_file.write_bytes(data[: len(data) // 2 + 7])
        return
    database = sqlite3.connect(cache_file)
    database.execute("PRAGMA journal_mode = DELETE")
    if how == "wrong-schema":
        database.execute("DROP TABLE answers")
        database.execute("CREATE TABLE answers (kind TEXT, other TEXT)")
    else:
        value = {"invalid-json": "{not json", "list-value": "[1, 2]",
                 "wrong-record": json.dumps({"outcome": "found", "record": {"title": 5}})}[how]
        database.execute("UPDATE answers SET value = ?", (value,))
    database.commit()
    database.close()


@pytest.mark.parametrize("how", ["garbage", "truncated", "wrong-schema", "invalid-json",
                                 "list-value", "wrong-record"])
def test_a_corrupted_cache_is_a_miss_with_a_hint(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, refs: Path,
        evidence_env: dict[str, str], how: str) -> None:
    result, report = check(run_evidence)
    assert only(report)["status"] == "ok"
    cache_file = Path(evidence_env["EVIDENCE_CACHE_DIR"]) / CACHE_FILE
    _damage(cache_file, how)
    result, report = check(run_evidence, "--offline")  # a miss, never a traceback or a wrong ok
    assert result.returncode == 4 and only(report)["status"] == "unverifiable"
    assert "evidence cache clear" in result.stderr
    info = run_evidence("cache", "info")
    assert "Traceback" not in info.stderr and info.returncode == 0, info.stderr
    result, report = check(run_evidence)  # online: asked again
    assert only(report)["status"] == "ok", result.stderr
    cleared = run_evidence("cache", "clear")
    assert "Traceback" not in cleared.stderr and cleared.returncode == 0, cleared.stderr
    result, report = check(run_evidence)
    assert only(report)["status"] == "ok" and "damaged" not in result.stderr


def test_a_cache_folder_that_cannot_be_written_is_one_line_exit_3(
        run_evidence: RunEvidence, refs: Path, evidence_env: dict[str, str]) -> None:
    env = {**evidence_env, "EVIDENCE_CACHE_DIR": "/proc/self/evidence-cache"}  # read-only fs
    result = run_evidence("check", "refs.bib", "--no-urls", env=env)
    assert "Traceback" not in result.stderr
    assert result.returncode == 3
    assert result.stderr.startswith("evidence: error: /proc/self/evidence-cache: cannot")


def _review(run_evidence: RunEvidence) -> None:
    done = run_evidence("review", "new", "r1", "--title", "A review", "--question", "Does it?")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("case", ["symlinked-lock", "lock-is-a-folder"])
def test_a_lock_that_cannot_be_taken_is_one_line_exit_3(
        run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str],
        case: str) -> None:
    _review(run_evidence)
    reviews = Path(evidence_env["EVIDENCE_REVIEWS_DIR"])
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    lock = reviews / "r1.yaml.lock"
    if lock.exists():
        lock.unlink()
    if case == "symlinked-lock":
        lock.symlink_to(victim)
    else:
        lock.mkdir()
    before = (reviews / "r1.yaml").read_bytes()
    done = run_evidence("study", "add", "r1", "--title", "A study", "--year", "2020")
    assert "Traceback" not in done.stderr
    assert done.returncode == 3, done.stderr
    assert "lock" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert (reviews / "r1.yaml").read_bytes() == before


def test_cache_info_leaves_the_database_untouched(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, refs: Path,
        evidence_env: dict[str, str]) -> None:
    import sqlite3

    check(run_evidence)
    cache_file = Path(evidence_env["EVIDENCE_CACHE_DIR"]) / CACHE_FILE
    database = sqlite3.connect(cache_file)
    database.execute("PRAGMA journal_mode = DELETE")  # as a committed example cache is
    database.close()
    before = cache_file.read_bytes()
    info = run_evidence("cache", "info")
    assert info.returncode == 0 and "work: 1 live" in info.stdout, info.stderr
    assert cache_file.read_bytes() == before  # not switched to WAL
    assert sorted(p.name for p in cache_file.parent.iterdir()) == [CACHE_FILE]
    # And with no cache at all, looking creates nothing.
    env = {**evidence_env, "EVIDENCE_CACHE_DIR": str(refs.parent / "no-cache-here")}
    assert run_evidence("cache", "info", env=env).returncode == 0
    assert not (refs.parent / "no-cache-here").exists()


def test_filelock_is_a_version_without_cve_2025_68146() -> None:
    import importlib.metadata
    import re
    import tomllib

    def parts(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version)[:3])

    assert parts(importlib.metadata.version("filelock")) >= (3, 20, 1)
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    (pin,) = [d for d in project["project"]["dependencies"] if d.startswith("filelock")]
    assert parts(pin.split(">=")[1]) >= (3, 20, 1)


# -- (3) output that a terminal or a CI runner executes -----------------------------------------

HOSTILE = ("Title\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07 with\x9b2J a \u202eevil\u202c "
           "override\x07")
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")


def _no_raw_controls(text: str, what: str) -> None:
    for char in RAW:
        assert char not in text, (what, repr(char))


def test_review_commands_print_no_raw_terminal_controls(
        run_evidence: RunEvidence) -> None:
    _review(run_evidence)
    added = run_evidence("study", "add", "r1", "--id", "s1", "--title", HOSTILE,
                         "--author", "Evil\x1b]0;title\x07, A", "--year", "2020",
                         "--container", "J\x9b31m", "--note", "n\u202eote")
    assert added.returncode == 0, added.stderr
    outputs = {"study add": added}
    outputs["study list"] = run_evidence("study", "list", "r1")
    outputs["study list --json"] = run_evidence("study", "list", "r1", "--json")
    outputs["review show"] = run_evidence("review", "show", "r1")
    outputs["review show --json"] = run_evidence("review", "show", "r1", "--json")
    for fmt in ("markdown", "csv", "html", "latex", "json"):
        outputs[f"table {fmt}"] = run_evidence("table", "r1", "--format", fmt)
    run_evidence("table", "r1", "--format", "markdown", "--output", "table.md")
    for what, result in outputs.items():
        assert result.returncode == 0, (what, result.stderr)
        _no_raw_controls(result.stdout + result.stderr, what)
        assert "\\x1b" in result.stdout or "\\u001b" in result.stdout, what
    # JSON stays valid JSON, with the same data.
    shown = json.loads(outputs["review show --json"].stdout)
    assert shown["studies"][0]["citation"]["title"] == HOSTILE
    assert json.loads(outputs["table json"].stdout)


def test_check_reports_print_no_raw_controls_in_any_format(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(
        f"@article{{a,\n  title = {{{HOSTILE}}},\n  year = {{2020}},\n"
        f"  doi = {{{CLEAN}}}\n}}\n", encoding="utf-8")
    for fmt in ("junit", "json", "sarif", "markdown", "html", "csv", "github", "table"):
        result = run_evidence("check", "refs.bib", "--offline", "--format", fmt)
        assert "Traceback" not in result.stderr
        _no_raw_controls(result.stdout + result.stderr, fmt)
    report = json.loads(run_evidence("check", "refs.bib", "--offline", "--format",
                                     "json").stdout)
    assert "\u202e" in report["references"][0]["raw"]  # the data is kept, only escaped


def _workflow_commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("::")]


def test_no_output_line_starts_a_workflow_command_but_ours(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    injected = "::error file=.github/workflows/x.yml,line=1::pwned"
    (tmp_path / "refs.bib").write_text(
        "@article{a,\n  title = {A real title},\n  year = {2020},\n"
        f"  note = {{see\n{injected}\n  ::add-mask::x}},\n  doi = {{{CLEAN}}}\n}}\n",
        encoding="utf-8")
    for fmt in ("html", "csv", "markdown", "table", "json", "junit", "sarif"):
        result = run_evidence("check", "refs.bib", "--offline", "--format", fmt)
        assert _workflow_commands(result.stdout + result.stderr) == [], fmt
    github = run_evidence("check", "refs.bib", "--offline", "--format", "github").stdout
    assert _workflow_commands(github)  # our own annotations are still there
    assert not any("pwned" in line.split("::", 2)[1] for line in _workflow_commands(github))
    _review(run_evidence)
    assert run_evidence("study", "add", "r1", "--title", f"A study\n{injected}",
                        "--year", "2020").returncode == 0
    for fmt in ("csv", "markdown", "html", "latex"):
        table = run_evidence("table", "r1", "--format", fmt, "--columns", "id,title")
        assert table.returncode == 0 and "pwned" in table.stdout, table.stderr
        assert _workflow_commands(table.stdout) == [], fmt
    assert _workflow_commands(run_evidence("review", "show", "r1").stdout) == []


def test_review_audit_merges_under_the_lock_against_the_current_file(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator,
        evidence_env: dict[str, str], tmp_path: Path) -> None:
    import sys
    import time

    _review(run_evidence)
    assert run_evidence("study", "add", "r1", "--doi", CLEAN, "--id", "s1").returncode == 0
    assert run_evidence("claim", "add", "r1", "It works", "--study", "s1").returncode == 0
    # The audit's lookup of s1 hangs until released; meanwhile another process adds s2 and a
    # claim resting on it.
    crossref_sim.add_fault("timeout", times=1, match=CLEAN_PATH, seconds=120)
    env = {**evidence_env, "EVIDENCE_CACHE_DIR": str(tmp_path / "fresh-cache")}
    audit = subprocess.Popen(
        [sys.executable, "-m", "evidence_cli", "review", "audit", "r1", "--json"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while crossref_sim.stats.by_path[CLEAN_PATH] < 2:  # 1: study add's; 2: the audit's
            assert audit.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert run_evidence("study", "add", "r1", "--id", "s2", "--title", "Another study",
                            "--year", "2021").returncode == 0
        assert run_evidence("claim", "add", "r1", "It works too", "--study", "s2",
                            "--study", "s1").returncode == 0
        crossref_sim.wake_sleepers()
        stdout, stderr = audit.communicate(timeout=60)
    finally:
        if audit.poll() is None:
            audit.kill()
            audit.communicate()
    assert "Traceback" not in stderr
    result = json.loads(stdout)
    problems = [p for claim in result["claims"] for p in claim["problems"]]
    assert not any("is not in the review" in p for p in problems), problems
    shown = json.loads(run_evidence("review", "show", "r1", "--json").stdout)
    stored = [p for c in shown["claims"] for p in (c.get("audit") or {}).get("problems", [])]
    assert not any("is not in the review" in p for p in stored), stored
    assert {s["id"] for s in shown["studies"]} == {"s1", "s2"}


# -- (4) what a user meets first ----------------------------------------------------------------


@pytest.mark.parametrize(("doi", "code"), [("10.5555/evidence-cli.retracted-publisher",
                                            "retracted"),
                                           ("10.5555/evidence-cli.concern",
                                            "expression-of-concern")])
def test_study_add_refuses_retracted_or_concerned_dois_unless_allowed(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator,
        evidence_env: dict[str, str], doi: str, code: str) -> None:
    _review(run_evidence)
    review = Path(evidence_env["EVIDENCE_REVIEWS_DIR"]) / "r1.yaml"
    before = review.read_bytes()
    refused = run_evidence("study", "add", "r1", "--doi", doi)
    assert refused.returncode == 1, refused.stderr
    assert "--allow-retracted" in refused.stderr
    assert review.read_bytes() == before
    allowed = run_evidence("study", "add", "r1", "--doi", doi, "--allow-retracted")
    assert allowed.returncode == 0, allowed.stderr
    (study,) = json.loads(run_evidence("review", "show", "r1", "--json").stdout)["studies"]
    assert code in study["audit"]["findings"]
    assert any("--allow-retracted" in caveat for caveat in study["caveats"])
    if code == "retracted":
        assert "RETRACTED" in run_evidence("study", "list", "r1").stdout


def test_fix_says_it_could_not_check_and_exits_4(
        run_evidence: RunEvidence, refs: Path, evidence_env: dict[str, str]) -> None:
    env = {**evidence_env, "EVIDENCE_CROSSREF_URL": "http://127.0.0.1:9"}  # nothing listens
    (refs.parent / "evidence.toml").write_text("max-retries = 1\n", encoding="utf-8")
    done = run_evidence("fix", "refs.bib", env=env)
    assert "Traceback" not in done.stderr
    assert done.returncode == 4, done.stderr
    assert "Could not check 1 entry" in done.stderr


def test_config_paths_resolve_against_the_config_file(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator,
        evidence_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "chapters").mkdir(parents=True)
    (project / "evidence.toml").write_text('cache-dir = "build/cache"\nreviews-dir = "revs"\n',
                                           encoding="utf-8")
    (project / "chapters" / "refs.bib").write_text(REFS_BIB, encoding="utf-8")
    env = {k: v for k, v in evidence_env.items()
           if k not in ("EVIDENCE_CACHE_DIR", "EVIDENCE_REVIEWS_DIR")}
    done = run_evidence("check", "refs.bib", "--no-urls", cwd=project / "chapters", env=env)
    assert done.returncode == 0, done.stderr
    assert (project / "build" / "cache" / CACHE_FILE).is_file()
    assert not (project / "chapters" / "build").exists()
    made = run_evidence("review", "new", "r1", "--title", "T", cwd=project / "chapters", env=env)
    assert made.returncode == 0, made.stderr
    assert (project / "revs" / "r1.yaml").is_file()


def test_without_a_config_the_cache_goes_to_the_user_cache_folder(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator,
        evidence_env: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "anywhere"
    work.mkdir()
    (work / "refs.bib").write_text(REFS_BIB, encoding="utf-8")
    env = {k: v for k, v in evidence_env.items() if k != "EVIDENCE_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")  # platformdirs' folder on Linux
    done = run_evidence("check", "refs.bib", "--no-urls", cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["refs.bib"]  # no ./cache littered
    assert (tmp_path / "user-cache" / "evidence-cli" / CACHE_FILE).is_file()


def test_json_sarif_and_readme_agree_on_the_unverifiable_codes(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    import re

    from evidence_cli.codes import CODES
    from evidence_cli.models import UNVERIFIABLE_CODES

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    (tmp_path / "refs.bib").write_text(REFS_BIB, encoding="utf-8")
    report = json.loads(run_evidence("check", "refs.bib", "--offline", "--no-urls",
                                     "--format", "json").stdout)
    sarif = json.loads(run_evidence("check", "refs.bib", "--offline", "--no-urls",
                                    "--format", "sarif").stdout)
    (finding,) = only(report)["findings"]
    assert (finding["code"], finding["severity"]) == ("service-unavailable", "warning")
    assert only(report)["status"] == "unverifiable"
    assert sarif["runs"][0]["results"][0]["level"] == "warning"
    for code in UNVERIFIABLE_CODES:
        row = re.search(rf"^\| `{re.escape(code)}` \| (\w+) \|", readme, flags=re.M)
        assert row and row.group(1) == CODES[code].severity.value == "warning", code


@pytest.mark.parametrize("name", ["report.txt", "report.yaml", "report.pdf", "report"])
def test_unknown_output_suffixes_are_usage_errors(
        run_evidence: RunEvidence, refs: Path, evidence_env: dict[str, str], name: str) -> None:
    done = run_evidence("check", "refs.bib", "--offline", "--output", name)
    assert done.returncode == 2, done.stderr
    assert "names no report format" in done.stderr
    assert not (refs.parent / name).exists()
    _review(run_evidence)
    table = run_evidence("table", "r1", "-o", name.replace("report", "table"))
    assert table.returncode == 2 and "names no table format" in table.stderr
    # Said explicitly, any name is fine; .markdown is Markdown.
    assert run_evidence("check", "refs.bib", "--offline", "-f", "json", "-o", name
                        ).returncode == 4
    assert run_evidence("check", "refs.bib", "--offline", "-o", "r.markdown").returncode == 4
    assert (refs.parent / "r.markdown").read_text(encoding="utf-8").startswith("#")


def test_help_shows_no_python_internals(run_evidence: RunEvidence) -> None:
    for command in (("check",), ("fix",), ("study", "add"), ("table",), ("review", "audit"),
                    ("cache", "info")):
        shown = run_evidence(*command, "--help")
        assert shown.returncode == 0, shown.stderr
        for internal in ("<list[", "<str>", "<float>", "<int>", "<path>", "{paths}", "{path}",
                         "{slug}"):
            assert internal not in shown.stdout, (command, internal)
    bad = run_evidence("check", "refs.bib", "--format", "pdf")
    assert bad.returncode == 2 and "Value error" not in bad.stderr
    assert "'pdf' is not one of" in bad.stderr


def test_counts_are_said_with_the_right_plural(
        run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
        evidence_env: dict[str, str]) -> None:
    (tmp_path / "refs.bib").write_text(REFS_BIB.replace("volume = {42}", "volume = {41}"),
                                       encoding="utf-8")
    assert "1 entry would change" in run_evidence("fix", "refs.bib").stderr
    _review(run_evidence)
    assert run_evidence("study", "add", "r1", "--doi", CLEAN, "--id", "s1").returncode == 0
    assert run_evidence("claim", "add", "r1", "It works", "--study", "s1").returncode == 0
    assert "1 study  1 claim " in run_evidence("review", "list").stdout
    audit = run_evidence("review", "audit", "r1")
    assert "1 study: " in audit.stderr and "0 of 1 claim flagged" in audit.stderr
