"""End-to-end tests of `evidence check` through the real command against the Crossref simulator."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from evidence_cli import PROJECT_URL, __version__
from evidence_cli.codes import CODES
from evidence_cli.models import Status
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

BIB = Path(__file__).parent / "fixtures" / "bib"
TOP_KEYS = {"schema", "tool", "summary", "references"}
SUMMARY_KEYS = {"references", "ok", "info", "warning", "error", "unverifiable"}
REFERENCE_KEYS = {"id", "source", "raw", "cited", "doi", "status", "registered", "findings"}
FIELD_KEYS = {"doi", "title", "authors", "year", "container", "volume", "issue", "pages", "url"}
FINDING_KEYS = {"code", "severity", "field", "cited", "registered", "message", "suggestion"}

# codes.bib: citation key -> (finding codes, status)
CODES_BIB = {
    "ok_clean": ([], "ok"),
    "malformed": (["doi-malformed"], "error"),
    "not_found": (["doi-not-found"], "error"),
    "other_agency": (["doi-other-agency"], "info"),
    "doi_mismatch": (["doi-mismatch"], "error"),
    "title_mismatch": (["title-mismatch"], "warning"),
    "author_mismatch": (["author-mismatch"], "warning"),
    "year_mismatch": (["year-mismatch"], "warning"),
    "container_mismatch": (["container-mismatch"], "warning"),
    "volume_mismatch": (["volume-mismatch"], "warning"),
    "issue_mismatch": (["issue-mismatch"], "warning"),
    "pages_mismatch": (["pages-mismatch"], "warning"),
    "retracted_publisher": (["retracted"], "error"),
    "retracted_rw": (["retracted"], "error"),
    "withdrawn": (["retracted"], "error"),
    "concern": (["expression-of-concern"], "warning"),
    "corrected": (["corrected"], "info"),
}
RETRACTED_BIB = """@article{retracted,
  author = {Marchetti, Helena},
  title = {High-dose vitamin D supplementation and fracture risk in community-dwelling older
           adults: a randomised controlled trial},
  year = {2020},
  doi = {10.5555/evidence-cli.retracted-publisher}
}
"""


def use(tmp_path: Path, *names: str) -> None:
    """Copy fixture inputs into the run's working directory (reports then show short paths)."""
    for name in names:
        shutil.copy(BIB / name, tmp_path / name)


def check_json(run_evidence: RunEvidence, *args: str, env: dict[str, str] | None = None
               ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_evidence("check", *args, "--no-urls", "--format", "json", env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ref["id"]: ref for ref in report["references"]}


def assert_contract(report: dict[str, Any]) -> None:
    """The JSON contract of issue 2, key for key."""
    assert set(report) == TOP_KEYS
    assert report["schema"] == "evidence-cli/check/v1"
    assert report["tool"] == {"name": "evidence-cli", "version": __version__}
    summary = report["summary"]
    assert set(summary) == SUMMARY_KEYS
    references = report["references"]
    assert summary["references"] == len(references)
    statuses = Counter(ref["status"] for ref in references)
    for status in Status:
        assert summary[status] == statuses[status], status
    assert sum(summary[s] for s in Status) == summary["references"]
    assert len({ref["id"] for ref in references}) == len(references)
    for ref in references:
        assert set(ref) == REFERENCE_KEYS
        assert set(ref["source"]) == {"path", "line"}
        assert isinstance(ref["source"]["line"], int) and ref["source"]["line"] >= 1
        assert ref["raw"] == ref["raw"].strip() and ref["raw"]
        assert set(ref["cited"]) == FIELD_KEYS
        assert isinstance(ref["cited"]["authors"], list)
        assert ref["registered"] is None or set(ref["registered"]) == FIELD_KEYS
        worst = "ok"
        for finding in ref["findings"]:
            assert set(finding) == FINDING_KEYS
            assert finding["severity"] == CODES[finding["code"]].severity.value
            assert finding["message"].strip()
            status = ("unverifiable" if finding["code"] == "service-unavailable"
                      else finding["severity"])
            worst = max(worst, status, key=lambda s: Status(s).rank)
        assert ref["status"] == worst, ref["id"]


def entry_location(path: Path, key: str) -> tuple[int, str]:
    """(1-based line, whole entry text) of a BibTeX entry, found in the file itself."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"@\w+\{{{key},", line))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip() == "}")
    return start + 1, "\n".join(lines[start : end + 1]).strip()


# -- the report ------------------------------------------------------------------------------


def test_every_finding_code_and_the_json_contract(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator
) -> None:
    use(tmp_path, "codes.bib")
    result, report = check_json(run_evidence, "codes.bib")
    assert result.returncode == 1
    assert_contract(report)
    refs = by_id(report)
    assert list(refs) == list(CODES_BIB)  # input order
    for key, (expected, status) in CODES_BIB.items():
        ref = refs[key]
        assert [f["code"] for f in ref["findings"]] == expected, key
        assert ref["status"] == status, key
        line, raw = entry_location(tmp_path / "codes.bib", key)
        assert ref["source"] == {"path": "codes.bib", "line": line}, key
        assert ref["raw"] == raw, key
    assert report["summary"] == {"references": 17, "ok": 1, "info": 2, "warning": 8,
                                 "error": 6, "unverifiable": 0}

    # Field by field: what was cited, what is registered.
    issue = refs["issue_mismatch"]["findings"][0]
    assert (issue["field"], issue["cited"], issue["registered"]) == ("issue", "3", "4")
    pages = refs["pages_mismatch"]["findings"][0]
    assert (pages["cited"], pages["registered"]) == ("932--938", "923-928")
    year = refs["year_mismatch"]["findings"][0]
    assert (year["cited"], year["registered"]) == (2016, 2017)
    volume = refs["volume_mismatch"]["findings"][0]
    assert (volume["cited"], volume["registered"]) == ("23", "22")
    container = refs["container_mismatch"]["findings"][0]
    assert container["registered"] == "Methods in Ecology and Evolution"
    ok = refs["ok_clean"]
    assert ok["doi"] == "10.5555/evidence-cli.clean"
    assert ok["cited"]["authors"] == ["Halvorsen", "García"]
    assert ok["cited"]["pages"] == "401--410"
    assert ok["registered"]["title"].startswith("Metformin and cognitive decline")
    assert ok["registered"]["authors"] == ["Halvorsen", "García"]
    assert ok["registered"]["year"] == 2021
    # The DOI checked is the normalised one; a malformed DOI is not checked at all.
    assert refs["container_mismatch"]["doi"] == "10.1111/2041-210x.12469"
    assert refs["malformed"]["doi"] is None
    assert refs["malformed"]["registered"] is None
    assert refs["malformed"]["findings"][0]["cited"] == "10.1371 journal.pone.0033693"
    # A DOI no agency knows, and one DataCite holds.
    assert refs["not_found"]["registered"] is None
    agency = refs["other_agency"]["findings"][0]
    assert agency["severity"] == "info"
    assert agency["registered"] == "DataCite" and "DataCite" in agency["message"]
    # The DOI of another paper: one error, never the other paper's fields as the citation's.
    mismatch = refs["doi_mismatch"]["findings"][0]
    assert mismatch["severity"] == "error"
    assert mismatch["registered"].startswith("Sleep apnea in fragile X")
    if mismatch["suggestion"] is not None:  # a suggested DOI must be the cited work's
        assert mismatch["suggestion"] == "10.1007/s12080-013-0192-6"
    # Retractions name the notice and its date; Retraction Watch is credited.
    retracted = refs["retracted_publisher"]["findings"][0]
    assert "10.5555/evidence-cli.retraction-notice-1" in retracted["message"]
    assert "2023-05-02" in retracted["message"]
    assert "Retraction Watch" in refs["retracted_rw"]["findings"][0]["message"]
    assert "withdrawal" in refs["withdrawn"]["findings"][0]["message"]
    notice = refs["corrected"]["findings"][0]["registered"]
    assert notice == "10.5555/evidence-cli.correction-notice"

    # The malformed DOI was never looked up; the not-found one was asked about its agency.
    paths = set(crossref_sim.stats.by_path)
    assert not any("journal.pone" in p for p in paths), paths
    assert "/works/10.5555%2Fevidence-cli.no-such-record/agency" in paths
    assert "/works/10.5281%2Fzenodo.1234567/agency" in paths
    # Two references cite 10.1002/ajmg.b.31237: it was asked about once.
    assert crossref_sim.stats.by_path["/works/10.1002%2Fajmg.b.31237"] == 1
    assert crossref_sim.stats.rate_limited == 0


def test_malformed_doi_is_reported_without_any_network_call(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator
) -> None:
    (tmp_path / "refs.txt").write_text("Smith J. A paper. doi:10.12/abc\n", encoding="utf-8")
    # A dead service must not slow this down: one retry is enough to prove the point.
    (tmp_path / "evidence.toml").write_text("max-retries = 1\n", encoding="utf-8")
    crossref_sim.kill()  # any request at all would fail and make the reference unverifiable
    result, report = check_json(run_evidence, "refs.txt")
    assert crossref_sim.stats.requests == 0
    [ref] = report["references"]
    assert [f["code"] for f in ref["findings"]] == ["doi-malformed"]
    assert ref["status"] == "error"
    assert ref["findings"][0]["cited"] == "10.12/abc"
    assert result.returncode == 1


def test_correct_citations_ok_in_table_json_file_and_markdown_file(
    run_evidence: RunEvidence, tmp_path: Path
) -> None:
    use(tmp_path, "clean.bib")
    result = run_evidence("check", "clean.bib", "--no-urls")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The default output is the table, one row per reference, each OK.
    for key in ("halvorsen2021", "hamlin2011", "boettiger2016", "majtanova2019", "pandey2021"):
        assert key in result.stdout
    assert result.stdout.count("OK") == 5
    assert not result.stdout.lstrip().startswith("{")
    assert "5 references: 5 ok, 0 info, 0 warning, 0 error, 0 unverifiable" in result.stderr

    # --output FILE: the suffix picks JSON; nothing on stdout; an old file is replaced whole.
    (tmp_path / "report.json").write_text("old content", encoding="utf-8")
    result = run_evidence("check", "clean.bib", "--no-urls", "--output", "report.json")
    assert result.returncode == 0
    assert result.stdout == ""
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert_contract(report)
    assert [ref["doi"] for ref in report["references"]] == [
        "10.5555/evidence-cli.clean",
        "10.1002/ajmg.b.31237",
        "10.1111/2041-210x.12469",
        "10.7717/peerj.7347",
        "10.1145/3448016.3452841",
    ]
    assert {ref["status"] for ref in report["references"]} == {"ok"}

    result = run_evidence("check", "clean.bib", "--no-urls", "-o", "report.md")
    assert result.returncode == 0
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| Status |" in markdown and "pandey2021" in markdown
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# -- exit codes ------------------------------------------------------------------------------


def test_fail_on_thresholds(
    run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str]
) -> None:
    use(tmp_path, "warnings.bib")
    (tmp_path / "retracted.bib").write_text(RETRACTED_BIB, encoding="utf-8")
    result, report = check_json(run_evidence, "warnings.bib")
    assert [ref["status"] for ref in report["references"]] == ["warning", "warning"]
    assert result.returncode == 0  # default --fail-on error
    env_fail = {**evidence_env, "EVIDENCE_FAIL_ON": "error"}  # the option wins over it
    assert check_json(run_evidence, "warnings.bib", "--fail-on", "warning",
                      env=env_fail)[0].returncode == 1
    result, report = check_json(run_evidence, "retracted.bib", "--fail-on", "never")
    assert report["references"][0]["status"] == "error"
    assert result.returncode == 0


@pytest.mark.parametrize(
    "args",
    [["check", "refs.bib", "--no-such-option"], ["check", "refs.bib", "--fail-on", "sometimes"],
     ["check"], ["no-such-command"],
     ["check", "refs.bib", "--offline", "--timeout", "0"],
     ["check", "refs.bib", "--offline", "--timeout=-1"]],
)
def test_usage_errors_exit_2(run_evidence: RunEvidence, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "refs.bib").write_text(RETRACTED_BIB, encoding="utf-8")
    result = run_evidence(*args)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2


def test_unreadable_inputs_exit_3_with_one_clear_line(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator
) -> None:
    (tmp_path / "latin1.txt").write_bytes(
        b"doi:10.5555/evidence-cli.clean\nM\xfcller J. A title. 2020.\n"
    )
    use(tmp_path, "broken.bib")
    cases = [
        (["missing.bib"], "missing.bib: no such file"),
        (["latin1.txt"], "latin1.txt:2: is not valid UTF-8"),
    ]
    for args, expected in cases:
        result = run_evidence("check", *args, "--no-urls")
        assert result.returncode == 3, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        # One line, naming the file and the line (a parser's own log lines are not shown).
        [line] = result.stderr.splitlines()
        assert line.startswith(f"evidence: error: {expected}"), result.stderr
    assert crossref_sim.stats.requests == 0
    # One broken entry is a finding on that entry (issue 12): the other entries are checked.
    result = run_evidence("check", "broken.bib", "--no-urls", "--format", "json")
    assert result.returncode == 1, result.stderr
    by_id = {ref["id"]: ref for ref in json.loads(result.stdout)["references"]}
    assert by_id["broken"]["findings"][0]["code"] == "input-error"
    assert by_id["broken"]["findings"][0]["message"].startswith(
        "broken.bib:6: cannot read this BibTeX entry")
    assert by_id["fine"]["status"] == "ok" and "after" in by_id


# -- inputs ----------------------------------------------------------------------------------


def test_plain_text_paragraphs_and_lines(run_evidence: RunEvidence, tmp_path: Path) -> None:
    use(tmp_path, "paragraphs.txt", "lines.txt")
    result, report = check_json(run_evidence, "paragraphs.txt", "lines.txt")
    assert_contract(report)
    refs = by_id(report)
    assert list(refs) == ["paragraphs.txt:1", "paragraphs.txt:5", "paragraphs.txt:7",
                          "lines.txt:1", "lines.txt:2", "lines.txt:3"]
    assert [(ref["source"]["path"], ref["source"]["line"]) for ref in refs.values()] == [
        ("paragraphs.txt", 1), ("paragraphs.txt", 5), ("paragraphs.txt", 7),
        ("lines.txt", 1), ("lines.txt", 2), ("lines.txt", 3),
    ]
    # DOIs anywhere: after "doi:", in a doi.org link (upper case), after "DOI", bare.
    assert [ref["doi"] for ref in refs.values()] == [
        "10.1371/journal.pone.0033693",
        "10.5555/evidence-cli.retracted-publisher",
        "10.5555/evidence-cli.corrected",
        "10.5555/evidence-cli.clean",
        "10.5555/evidence-cli.concern",
        "10.5281/zenodo.1234567",
    ]
    assert [ref["status"] for ref in refs.values()] == [
        "info", "error", "info", "ok", "warning", "info"
    ]
    assert "corrected" in [f["code"] for f in refs["paragraphs.txt:7"]["findings"]]
    assert refs["paragraphs.txt:5"]["findings"][0]["code"] == "retracted"
    # raw is the entry as written, whitespace-trimmed.
    text = (tmp_path / "paragraphs.txt").read_text(encoding="utf-8").splitlines()
    assert refs["paragraphs.txt:7"]["raw"] == text[6].strip()
    assert refs["paragraphs.txt:5"]["raw"] == text[4]
    assert refs["paragraphs.txt:1"]["raw"] == "\n".join(text[0:3])  # a paragraph as written
    assert refs["lines.txt:2"]["raw"] == "Expression of concern, doi: 10.5555/evidence-cli.concern."
    # Parsed fields of a Vancouver reference.
    cited = refs["paragraphs.txt:7"]["cited"]
    assert cited["authors"][:2] == ["Tanaka", "Adeyemi"]
    assert cited["year"] == 2022
    assert result.returncode == 1


def test_several_files_in_one_run(run_evidence: RunEvidence, tmp_path: Path) -> None:
    use(tmp_path, "clean.bib", "lines.txt", "warnings.bib")
    (tmp_path / "a.bib").write_text(RETRACTED_BIB, encoding="utf-8")
    (tmp_path / "b.bib").write_text(RETRACTED_BIB, encoding="utf-8")
    result, report = check_json(run_evidence, "clean.bib", "lines.txt", "warnings.bib", "a.bib",
                                "b.bib")
    assert_contract(report)
    paths = [ref["source"]["path"] for ref in report["references"]]
    assert paths == ["clean.bib"] * 5 + ["lines.txt"] * 3 + ["warnings.bib"] * 2 + ["a.bib",
                                                                                   "b.bib"]
    ids = [ref["id"] for ref in report["references"]]
    # A key seen in two files gets its location added; other ids stay as they are.
    assert ids[5:] == ["lines.txt:1", "lines.txt:2", "lines.txt:3", "concern", "year_off",
                       "retracted@a.bib:1", "retracted@b.bib:1"]
    assert [ref["status"] for ref in report["references"]][-2:] == ["error", "error"]
    assert report["summary"]["references"] == 12
    assert result.returncode == 1


# -- the Crossref requests -------------------------------------------------------------------


def test_polite_pool_mailto_in_query_and_user_agent(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator,
    evidence_env: dict[str, str],
) -> None:
    (tmp_path / "refs.txt").write_text("doi:10.1371/journal.pone.0033693\n", encoding="utf-8")
    for args, env in (
        (["--mailto", "editor@example.org"], None),
        (["--refresh"], {**evidence_env, "EVIDENCE_MAILTO": "editor@example.org"}),
    ):
        crossref_sim.reset_stats()
        _, report = check_json(run_evidence, "refs.txt", *args, env=env)
        assert report["references"][0]["status"] == "info"
        [entry] = crossref_sim.stats.log
        assert urlsplit(entry.path).path == "/works/10.1371%2Fjournal.pone.0033693"
        assert parse_qs(urlsplit(entry.path).query) == {"mailto": ["editor@example.org"]}
        assert entry.user_agent == (
            f"evidence-cli/{__version__} (+{PROJECT_URL}; mailto:editor@example.org)"
        )
        assert entry.pool == "polite"


def test_internationalised_mailto_is_sent_or_refused_cleanly(
    run_evidence: RunEvidence, tmp_path: Path
) -> None:
    (tmp_path / "refs.txt").write_text("doi:10.5555/evidence-cli.clean\n", encoding="utf-8")
    result = run_evidence("check", "refs.txt", "--no-urls", "--mailto", "josé@example.org")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2), result.stderr


def test_crossref_url_from_environment_and_option_option_wins(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator
) -> None:
    (tmp_path / "refs.txt").write_text("doi:10.1371/journal.pone.0033693\n", encoding="utf-8")
    with CrossrefSimulator(latency=0.0) as other:
        # Environment only (the fixture sets EVIDENCE_CROSSREF_URL to crossref_sim).
        result, report = check_json(run_evidence, "refs.txt")
        assert result.returncode == 0 and report["references"][0]["status"] == "info"
        assert crossref_sim.stats.requests == 1 and other.stats.requests == 0
        # Without a mailto: the public pool, the tool named, the DOI percent-encoded.
        [entry] = crossref_sim.stats.log
        assert entry.path == "/works/10.1371%2Fjournal.pone.0033693"
        assert entry.user_agent == f"evidence-cli/{__version__} (+{PROJECT_URL})"
        assert entry.pool == "public"
        # Option and environment: the option wins.
        result, report = check_json(run_evidence, "refs.txt", "--refresh", "--crossref-url",
                                    f"{other.url}/")
        assert result.returncode == 0 and report["references"][0]["status"] == "info"
        assert crossref_sim.stats.requests == 1 and other.stats.requests == 1


def _many_dois(sim: CrossrefSimulator, count: int) -> list[str]:
    dois = sorted(d for d in sim.dois() if d.startswith("10.7717/peerj."))[:count]
    assert len(dois) == count
    return dois


@pytest.mark.parametrize(
    ("args", "pool", "max_in_flight"),
    [([], "public", 1), (["--mailto", "ci@example.org"], "polite", 3)],
)
def test_advertised_rate_and_concurrency_limits_are_obeyed(
    run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str],
    args: list[str], pool: str, max_in_flight: int,
) -> None:
    # Crossref's real figures: public 5 per second, one at a time; polite 10 per second, 3.
    with CrossrefSimulator(rate_limit=5, concurrency=1, polite_rate_limit=10,
                           polite_concurrency=3, latency=0.02) as sim:
        dois = _many_dois(sim, 20)
        (tmp_path / "many.txt").write_text("\n".join(dois) + "\n", encoding="utf-8")
        env = {**evidence_env, "EVIDENCE_CROSSREF_URL": sim.url}
        result, report = check_json(run_evidence, "many.txt", *args, env=env)
        assert result.returncode == 0, result.stderr
        assert report["summary"]["references"] == 20
        assert [ref["doi"] for ref in report["references"]] == dois
        assert {ref["status"] for ref in report["references"]} <= {"ok", "info"}
        assert sim.stats.rate_limited == 0
        assert sim.stats.statuses() == Counter({200: 20})
        assert {entry.pool for entry in sim.stats.log} == {pool}
        assert sim.stats.max_in_flight_by_pool[pool] <= max_in_flight


def test_a_check_that_raises_costs_one_reference_its_verdict_not_the_run(
        tmp_path: Path, run_evidence: RunEvidence, monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect in one check rule (an IndexError in a pages rule once ended a whole run with a
    traceback, #11) makes that reference unverifiable with `check-failed`; every other reference
    keeps its verdict."""
    import evidence_cli.checks as checks

    use(tmp_path, "codes.bib")
    real = checks.check_fields
    bad_title = "volume mismatch"

    def failing(cited: Any, work: Any, *args: Any) -> Any:
        if cited.title and bad_title in cited.title.lower():
            raise IndexError("list index out of range: {cited.title}")
        return real(cited, work, *args)

    clean, clean_report = check_json(run_evidence, "codes.bib")
    titles = {ref["id"]: ref["cited"]["title"] for ref in clean_report["references"]}
    bad_title = titles["volume_mismatch"].lower()
    monkeypatch.setattr(checks, "check_fields", failing)
    result, report = check_json(run_evidence, "codes.bib")
    refs = by_id(report)
    broken = refs["volume_mismatch"]
    assert broken["status"] == "unverifiable"
    assert [f["code"] for f in broken["findings"]] == ["check-failed"]
    assert "IndexError" in broken["findings"][0]["message"]
    assert "list index" not in broken["findings"][0]["message"]  # the exception's text is not shown
    for key, (codes, status) in CODES_BIB.items():
        if key != "volume_mismatch":
            assert sorted(f["code"] for f in refs[key]["findings"]) == sorted(codes), key
            assert refs[key]["status"] == status, key
    assert report["summary"]["unverifiable"] == clean_report["summary"]["unverifiable"] + 1
    assert result.returncode == clean.returncode
