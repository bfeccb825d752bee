"""Tests of the report formats: SARIF, JUnit, GitHub annotations, Markdown, CSV and HTML.

The report dicts are CONSTRUCTED here with the real model classes (not recorded from a run); the
end-to-end tests at the bottom run `evidence check` against the Crossref simulator.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from evidence_cli import __version__
from evidence_cli.codes import CODES
from evidence_cli.formats import (
    FormatName,
    FormatOptions,
    build,
    github,
    markdown,
    spreadsheet_safe,
)
from evidence_cli.formats import csv as csv_fmt
from evidence_cli.formats import html as html_format
from evidence_cli.formats import sarif as sarif_fmt
from evidence_cli.formats.text import finding_text, summary_line
from evidence_cli.models import (
    CitedFields,
    Finding,
    Reference,
    ReferenceResult,
    Severity,
    SourceLocation,
    summarize,
)

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
HOSTILE_RAW = (
    'Evil, E. (2020). <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> '
    "| pipe [link](javascript:alert(1)) =HYPERLINK(\"http://x\") 100% done,\r\nsecond line"
)


def _result(
    ref_id: str,
    line: int,
    findings: list[Finding],
    *,
    path: str = "refs/library.bib",
    raw: str = "",
    doi: str | None = None,
    title: str | None = None,
) -> ReferenceResult:
    cited = CitedFields(doi=doi, title=title, authors=["Sadasivan, S."], year=2012,
                        container="PLoS ONE")
    registered = CitedFields(doi=doi, title=title, year=2012) if doi else None
    return ReferenceResult(
        reference=Reference(id=ref_id, source=SourceLocation(path, line),
                            raw=raw or f"{ref_id} as written", cited=cited),
        doi=doi, registered=registered, findings=findings,
    )


def sample_report() -> dict[str, Any]:
    """A constructed report with every status, a field-level finding and hostile reference text."""
    results = [
        _result("sadasivan2012", 3, [], doi="10.1371/journal.pone.0033693",
                title="Ketamine and the pitfalls of citing"),
        _result("smith2019", 14, [
            Finding("year-mismatch", Severity.WARNING, "The cited year matches no registered date.",
                    field="year", cited=2011, registered=2012, suggestion="Cite the year 2012."),
            Finding("corrected", Severity.INFO, "A correction was published.")],
            doi="10.5555/evidence-cli.corrected", title="A corrected trial"),
        _result("ghost2020", 27, [
            Finding("doi-not-found", Severity.ERROR, "No registration agency knows the DOI.",
                    field="doi", cited="10.9999/ghost", registered=None)],
            doi="10.9999/ghost"),
        _result("offline2021", 40, [
            Finding("service-unavailable", Severity.WARNING,
                    "Crossref did not answer after 4 retries.")],
            doi="10.1002/ajmg.b.31237"),
        _result("note2022", 52, [
            Finding("doi-other-agency", Severity.INFO, "The DOI is registered with DataCite.")],
            doi="10.5281/zenodo.1"),
        _result("evil,key:1", 60, [
            Finding("title-mismatch", Severity.WARNING, "Title differs:\nline two, 50% off",
                    field="title", cited="<b>x</b>", registered="X")],
            path="dir with space/odd%name,1:2.bib", raw=HOSTILE_RAW,
            title="</script><script>window.__pwned=3</script>"),
    ]
    return {
        "schema": "evidence-cli/check/v1",
        "tool": {"name": "evidence-cli", "version": __version__},
        "summary": summarize(results),
        "references": [r.to_dict() for r in results],
    }


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return sample_report()


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _by_id(report: dict[str, Any], ref_id: str) -> dict[str, Any]:
    return next(r for r in report["references"] if r["id"] == ref_id)


# --- the sample itself: guards against a fixture that stops covering what the tests assume ----

def test_sample_report_covers_every_status(report: dict[str, Any]) -> None:
    statuses = {r["status"] for r in report["references"]}
    assert statuses == {"ok", "info", "warning", "error", "unverifiable"}


# --- summary line and messages ------------------------------------------------------------------

def test_summary_line_reads_at_a_glance() -> None:
    summary = {"references": 12, "ok": 9, "info": 1, "warning": 1, "error": 1, "unverifiable": 0}
    assert summary_line(summary) == (
        "12 references: 9 ok, 1 info, 1 warning, 1 error, 0 unverifiable"
    )
    assert summary_line({"references": 1, "ok": 1}).startswith("1 reference: 1 ok")


def test_finding_text_shows_cited_registered_and_suggestion(report: dict[str, Any]) -> None:
    finding = _by_id(report, "smith2019")["findings"][0]
    text = finding_text(finding)
    assert "cited: 2011" in text and "registered: 2012" in text
    assert text.endswith("Suggestion: Cite the year 2012.")


# --- SARIF ---------------------------------------------------------------------------------------

def test_sarif_is_valid_against_the_official_schema(
    report: dict[str, Any], sarif_schema: dict[str, Any]
) -> None:
    log = json.loads(sarif_fmt.SarifFormat().render(report))
    jsonschema.validate(log, sarif_schema)


def test_sarif_schema_check_catches_an_invalid_log(
    report: dict[str, Any], sarif_schema: dict[str, Any]
) -> None:
    # The validation above only means something if the vendored schema rejects broken logs.
    log = json.loads(sarif_fmt.SarifFormat().render(report))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, sarif_schema)


def test_sarif_has_one_rule_per_code_with_help(report: dict[str, Any]) -> None:
    driver = json.loads(sarif_fmt.SarifFormat().render(report))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "evidence-cli"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == set(CODES)
    for code, info in CODES.items():
        assert rules[code]["shortDescription"]["text"] == info.summary
        assert rules[code]["help"]["text"] == info.help


def test_sarif_results_carry_rule_level_and_location(report: dict[str, Any]) -> None:
    run = json.loads(sarif_fmt.SarifFormat().render(report))["runs"][0]
    results = run["results"]
    total_findings = sum(len(r["findings"]) for r in report["references"])
    assert len(results) == total_findings
    by_rule = {r["ruleId"]: r for r in results}
    ghost = by_rule["doi-not-found"]
    assert ghost["level"] == "error"
    location = ghost["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "refs/library.bib"
    assert location["region"]["startLine"] == 27
    assert run["tool"]["driver"]["rules"][ghost["ruleIndex"]]["id"] == "doi-not-found"
    assert by_rule["corrected"]["level"] == "note"
    # The unverifiable reference is reported, not dropped.
    assert by_rule["service-unavailable"]["level"] == "warning"
    assert "offline2021" in by_rule["service-unavailable"]["message"]["text"]


def test_sarif_uri_is_percent_encoded(report: dict[str, Any]) -> None:
    results = json.loads(sarif_fmt.SarifFormat().render(report))["runs"][0]["results"]
    uri = next(r for r in results if r["ruleId"] == "title-mismatch")["locations"][0][
        "physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/odd%25name%2C1%3A2.bib"
    assert sarif_fmt.artifact_uri("/abs/path.bib") == "file:///abs/path.bib"


def test_sarif_fingerprints_are_stable_and_distinct(report: dict[str, Any]) -> None:
    first = json.loads(sarif_fmt.SarifFormat().render(report))["runs"][0]["results"]
    # Insert a reference above the others: lines shift, fingerprints must not.
    shifted = json.loads(json.dumps(report))
    for reference in shifted["references"]:
        reference["source"]["line"] += 10
    second = json.loads(sarif_fmt.SarifFormat().render(shifted))["runs"][0]["results"]
    prints = [r["partialFingerprints"][sarif_fmt.FINGERPRINT_KEY] for r in first]
    assert prints == [r["partialFingerprints"][sarif_fmt.FINGERPRINT_KEY] for r in second]
    assert len(set(prints)) == len(prints)


def test_sarif_of_an_empty_report_is_valid(sarif_schema: dict[str, Any]) -> None:
    empty = {"schema": "evidence-cli/check/v1", "tool": {"name": "evidence-cli", "version": "x"},
             "summary": summarize([]), "references": []}
    log = json.loads(sarif_fmt.SarifFormat().render(empty))
    jsonschema.validate(log, sarif_schema)
    assert log["runs"][0]["results"] == []


# --- JUnit ---------------------------------------------------------------------------------------

def test_junit_one_testcase_per_reference(report: dict[str, Any]) -> None:
    root = ET.fromstring(build("junit").render(report))
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [r["id"] for r in report["references"]]
    assert suites[0].get("tests") == str(len(cases))
    ghost = next(c for c in cases if c.get("name") == "ghost2020")
    assert ghost.get("classname") == "refs/library.bib"
    assert ghost.get("file") == "refs/library.bib"
    assert ghost.get("line") == "27"


def test_junit_failures_skips_and_output(report: dict[str, Any]) -> None:
    suite = ET.fromstring(build("junit").render(report)).find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failures = [name for name, c in cases.items() if c.find("failure") is not None]
    assert failures == ["ghost2020"]
    assert suite.get("failures") == "1"
    failure = cases["ghost2020"].find("failure")
    assert failure is not None
    assert "doi-not-found" in (failure.get("message") or "")
    skipped = [name for name, c in cases.items() if c.find("skipped") is not None]
    assert skipped == ["offline2021"]
    skip = cases["offline2021"].find("skipped")
    assert skip is not None and "unverifiable" in (skip.get("message") or "")
    assert cases["sadasivan2012"].find("*") is None  # ok: a bare passing test case
    out = cases["smith2019"].find("system-out")
    assert out is not None and "year-mismatch" in (out.text or "")


def test_junit_survives_control_characters_and_markup(report: dict[str, Any]) -> None:
    nasty = json.loads(json.dumps(report))
    nasty["references"][2]["id"] = "bad\x00id\x1b<&>\"'"
    nasty["references"][2]["findings"][0]["message"] = "bell\x07 and ]]> end"
    suite = ET.fromstring(build("junit").render(nasty)).find("testsuite")
    assert suite is not None
    names = [c.get("name") for c in suite.findall("testcase")]
    assert "bad\ufffdid\ufffd<&>\"'" in names


# --- GitHub workflow commands --------------------------------------------------------------------

def test_github_escaping_matches_the_toolkit() -> None:
    assert github.escape_data("100% a\r\nb:c,d") == "100%25 a%0D%0Ab:c,d"
    assert github.escape_property("100% a\r\nb:c,d") == "100%25 a%0D%0Ab%3Ac%2Cd"
    assert github.command("error", {"file": "a,b.bib", "line": 3, "title": "t:1"}, "m%") == (
        "::error file=a%2Cb.bib,line=3,title=t%3A1::m%25"
    )


def test_github_annotations_per_finding(report: dict[str, Any]) -> None:
    lines = github.GithubFormat().render(report).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == sum(len(r["findings"]) for r in report["references"])
    ghost = next(line for line in commands if "doi-not-found" in line)
    assert ghost.startswith("::error file=refs/library.bib,line=27,title=evidence doi-not-found")
    assert any(line.startswith("::notice ") and "corrected" in line for line in commands)
    unverifiable = next(line for line in commands if "service-unavailable" in line)
    assert unverifiable.startswith("::warning ")
    # Every line is exactly one command: newlines in messages cannot start a new command.
    hostile = next(line for line in commands if "title-mismatch" in line)
    assert "file=dir with space/odd%25name%2C1%3A2.bib,line=60," in hostile
    assert "Title differs%3A" not in hostile  # ':' is only escaped in properties
    assert "Title differs:%0Aline two, 50%25 off" in hostile
    assert lines[-1] == summary_line(report["summary"])


def test_github_step_summary_appends_markdown(report: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# earlier step\n", encoding="utf-8")
    github.write_step_summary(report, str(path))
    github.write_step_summary(report, str(path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n")
    assert text.count(summary_line(report["summary"])) == 2


# --- Markdown ------------------------------------------------------------------------------------

def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_markdown_summary_and_table(report: dict[str, Any]) -> None:
    text = markdown.MarkdownFormat().render(report)
    assert summary_line(report["summary"]) in text
    rows = _table_rows(text)
    assert len(rows) == 2 + len(report["references"])  # header, separator, one per reference
    # Worst first.
    assert "ghost2020" in rows[2] and "error" in rows[2]
    assert "sadasivan2012" in rows[-1] and "ok" in rows[-1]


def test_markdown_neutralises_untrusted_text(report: dict[str, Any]) -> None:
    text = markdown.MarkdownFormat().render(report)
    row = next(r for r in _table_rows(text) if "evil" in r)
    # Unescaped pipes would add cells: count the cell separators that are not backslash-escaped.
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "](javascript" not in text
    assert "\r" not in text
    assert all(line.count("|") == 0 or line.startswith("|") for line in text.splitlines())


def test_markdown_renders_as_a_table_without_injected_markup(report: dict[str, Any]) -> None:
    # Render with a real CommonMark parser, raw HTML allowed (as GitHub allows some), tables on.
    from markdown_it import MarkdownIt

    hostile = json.loads(json.dumps(report))
    for reference in hostile["references"]:
        reference["cited"]["title"] = None  # so the raw text (with HOSTILE_RAW) is shown
    parser = _Collector()
    parser.feed(MarkdownIt("commonmark", {"html": True}).enable("table").render(
        markdown.MarkdownFormat().render(hostile)))
    tags = [tag for tag, _ in parser.tags]
    assert tags.count("tr") == 1 + len(report["references"])
    assert tags.count("td") == 5 * len(report["references"])
    assert not {"script", "img", "a", "b"} & set(tags)


def test_step_summary_is_capped_worst_rows_first(report: dict[str, Any]) -> None:
    full = markdown.MarkdownFormat().render(report)
    capped = markdown.MarkdownFormat(max_bytes=len(full.encode()) // 2).render(report)
    assert len(capped.encode()) < len(full.encode())
    assert "ghost2020" in capped and "sadasivan2012" not in capped  # the ok row went first
    assert re.search(r"\*\d+ more references not shown here", capped)
    assert markdown.MarkdownFormat(max_bytes=10**6).render(report) == full


# --- CSV -----------------------------------------------------------------------------------------

def test_csv_one_row_per_finding(report: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_fmt.CsvFormat().render(report))))
    assert list(rows[0]) == list(csv_fmt.COLUMNS)
    expected = sum(max(1, len(r["findings"])) for r in report["references"])
    assert len(rows) == expected
    ok_row = next(r for r in rows if r["id"] == "sadasivan2012")
    assert ok_row["status"] == "ok" and ok_row["code"] == ""
    year = next(r for r in rows if r["code"] == "year-mismatch")
    assert (year["cited"], year["registered"], year["line"]) == ("2011", "2012", "14")


def test_csv_neutralises_formulas() -> None:
    assert csv_fmt.neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    for start in ("+", "-", "@", "\t", "\r"):
        assert csv_fmt.neutralise(start + "x") == "'" + start + "x"
    assert csv_fmt.neutralise("plain") == "plain"
    assert csv_fmt.neutralise(None) == ""
    assert csv_fmt.neutralise(["A", "B"]) == "A; B"


def test_csv_hostile_reference_stays_in_its_cells(report: dict[str, Any]) -> None:
    hostile = json.loads(json.dumps(report))
    hostile["references"][0]["id"] = '=cmd|" /C calc"!A0'
    hostile["references"][0]["doi"] = "@SUM(1+1)"
    rows = list(csv.reader(io.StringIO(csv_fmt.CsvFormat().render(hostile))))
    assert all(len(row) == len(csv_fmt.COLUMNS) for row in rows)
    assert rows[1][0] == "'=cmd|\" /C calc\"!A0"
    assert rows[1][4] == "'@SUM(1+1)"
    title = next(row for row in rows if row[5] == "title-mismatch")
    assert title[10] == "Title differs:\nline two, 50% off"  # the line break stays inside


# --- HTML (structure; the browser test runs it) -------------------------------------------------

class _Collector(HTMLParser):
    """Collects tags and attributes, to prove injected markup stayed text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained_and_escaped(report: dict[str, Any]) -> None:
    page = html_format.HtmlFormat().render(report)
    parser = _Collector()
    parser.feed(page)
    tags = [tag for tag, _ in parser.tags]
    assert tags.count("script") == 2  # the JSON data block and the page's own script
    assert "img" not in tags and "b" not in tags
    for tag, attrs in parser.tags:
        # Nothing is fetched: no external src/href but the doi.org links a reader may follow.
        assert not attrs.get("src")
        if tag == "link":
            pytest.fail("external stylesheet")
        if tag == "a":
            assert (attrs.get("href") or "").startswith("https://doi.org/")
    csp = next(a for t, a in parser.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in (csp.get("content") or "")


def test_html_json_block_cannot_break_out(report: dict[str, Any]) -> None:
    page = html_format.HtmlFormat().render(report)
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                      page, re.S)
    assert block is not None
    assert "<" not in block.group(1)
    assert json.loads(block.group(1)) == report


def test_html_csp_hash_matches_the_script(report: dict[str, Any]) -> None:
    page = html_format.HtmlFormat().render(report)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert script is not None
    assert html_format._script_hash(script.group(1)) in html_format.content_security_policy()


def test_html_summary_and_rows(report: dict[str, Any]) -> None:
    page = html_format.HtmlFormat().render(report)
    assert page.count('<tr data-status="') == len(report["references"])
    assert summary_line(report["summary"]) in page


def test_every_format_renders_an_empty_report() -> None:
    empty = {"schema": "evidence-cli/check/v1", "tool": {"name": "evidence-cli", "version": "x"},
             "summary": summarize([]), "references": []}
    for name in ("sarif", "junit", "github", "markdown", "csv", "html"):
        assert build(name).render(empty)



# --- the Format interface --------------------------------------------------------------------

def test_formats_take_their_options_not_the_environment(
    report: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job summary is written where the command says, after the report, and never because
    the format found $GITHUB_STEP_SUMMARY itself."""
    stray = tmp_path / "from-env.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(stray))
    plain = build("github")
    plain.after_write(report)
    assert not stray.exists()
    summary = tmp_path / "summary.md"
    given = build("github", FormatOptions(step_summary=summary))
    assert given.format(report) == plain.format(report)
    assert not summary.exists()  # rendering writes nothing
    given.after_write(report)
    assert summary.read_text(encoding="utf-8") == \
        markdown.MarkdownFormat(max_bytes=github.STEP_SUMMARY_BUDGET).render(report) + "\n"
    assert not stray.exists()
    for name in FormatName:
        if name != FormatName.github:
            build(name, FormatOptions(step_summary=summary)).after_write(report)
    assert summary.read_text(encoding="utf-8").count("## Reference check") == 1


def test_format_neutralises_as_each_format_needs(report: dict[str, Any]) -> None:
    """Every format's text has no raw terminal control; "::" starts a line only in the github
    format's own commands; the terminal table keeps its colours only when asked to."""
    hostile = json.loads(json.dumps(report))
    for reference in hostile["references"]:
        reference["id"] = "::error::x\x1b]0;t\x07\x9b"
        reference["raw"] = HOSTILE_RAW
    for name in FormatName:
        text = build(name).format(hostile)
        assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, name
        commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
        assert bool(commands) == (name == FormatName.github), name
    coloured = build("table", FormatOptions(color=True)).format(report)
    assert "\x1b[" in coloured
    assert "\x1b" not in build("table", FormatOptions(color=False)).format(report)


def test_csv_rule_is_the_evidence_tables_rule() -> None:
    """One spreadsheet rule for the check report and the evidence tables: leading spaces do not
    hide a formula, and a plain number stays a number."""
    from evidence_cli.reviews.tables import neutralise_csv

    for cell in (" =HYPERLINK(1)", "  @SUM(A1)", "-cmd", "+x", "-0.85", "+44", "plain"):
        assert csv_fmt.neutralise(cell) == neutralise_csv(cell) == spreadsheet_safe(cell)
    assert csv_fmt.neutralise(" =HYPERLINK(1)") == "' =HYPERLINK(1)"
    assert csv_fmt.neutralise("-0.85") == "-0.85"

# --- end to end: `evidence check` against the Crossref simulator --------------------------------

# A constructed bibliography: the first DOI is a real recorded record (cited with a wrong year),
# the second is unknown to the simulator, the third is a constructed retracted record.
E2E_BIB = """@article{sadasivan2012,
  title = {Methylphenidate exposure induces dopamine neuron loss: 100%, a, b},
  author = {Sadasivan, Shankar},
  doi = {10.1371/journal.pone.0033693},
  journal = {PLoS ONE},
  year = {2011}
}
@article{ghost,
  title = {A study that does not exist},
  doi = {10.5555/evidence-cli.no-such-record},
  year = {2020}
}
@article{retracted,
  title = {High-dose vitamin D supplementation and fracture risk},
  doi = {10.5555/evidence-cli.retracted-publisher},
  year = {2020}
}
"""


@pytest.fixture
def e2e_bib(tmp_path: Path) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(E2E_BIB, encoding="utf-8")
    return path


def _check(run_evidence: Any, *args: Any, env: dict[str, str] | None = None) -> Any:
    result = run_evidence("check", "refs.bib", "--no-urls", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_e2e_sarif_schema_valid_and_stable(
    run_evidence: Any, e2e_bib: Path, sarif_schema: dict[str, Any]
) -> None:
    first = _check(run_evidence, "--format", "sarif")
    assert first.returncode == 1, first.stderr  # an error finding with the default --fail-on
    log = json.loads(first.stdout)
    jsonschema.validate(log, sarif_schema)
    results = log["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["doi-not-found"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "refs.bib", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 8},
    }
    assert by_rule["retracted"]["level"] == "error"
    assert by_rule["year-mismatch"]["level"] == "warning"
    # A second run (answered from the cache) fingerprints every result the same way.
    second = json.loads(_check(run_evidence, "--format", "sarif").stdout)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in results] == [
        r["partialFingerprints"] for r in second
    ]


def test_e2e_junit_failures_match_errors(run_evidence: Any, e2e_bib: Path) -> None:
    result = _check(run_evidence, "--format", "junit")
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"sadasivan2012", "ghost", "retracted"}
    assert {name for name, c in cases.items() if c.find("failure") is not None} == {
        "ghost", "retracted"
    }
    assert cases["ghost"].get("line") == "8" and cases["ghost"].get("file") == "refs.bib"
    assert cases["sadasivan2012"].find("system-out") is not None


def test_e2e_unverifiable_is_reported_not_ok(
    run_evidence: Any, e2e_bib: Path, sarif_schema: dict[str, Any]
) -> None:
    # Offline with an empty cache: nothing can be checked.
    junit = _check(run_evidence, "--offline", "--format", "junit")
    assert junit.returncode == 4, junit.stderr
    suite = ET.fromstring(junit.stdout).find("testsuite")
    assert suite is not None
    assert suite.get("skipped") == "3" and suite.get("failures") == "0"
    sarif = _check(run_evidence, "--offline", "--format", "sarif")
    log = json.loads(sarif.stdout)
    jsonschema.validate(log, sarif_schema)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"service-unavailable"}
    assert len(log["runs"][0]["results"]) == 3
    github_out = _check(run_evidence, "--offline", "--format", "github").stdout
    assert github_out.count("::warning file=refs.bib,") == 3


def test_e2e_github_annotations_and_step_summary(
    run_evidence: Any, e2e_bib: Path, evidence_env: dict[str, str], tmp_path: Path
) -> None:
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("previous step\n", encoding="utf-8")
    env = {**evidence_env, "GITHUB_STEP_SUMMARY": str(summary_file)}
    result = _check(run_evidence, "--format", "github", env=env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("::error file=refs.bib,line=8,title=evidence doi-not-found%3A ")
               for line in lines)
    assert any(line.startswith("::error file=refs.bib,line=13,") and "retracted" in line
               for line in lines)
    assert lines[-1].startswith("3 references: ")
    written = summary_file.read_text(encoding="utf-8")
    assert written.startswith("previous step\n")
    assert "| ❌ error | **ghost**" in written


def test_e2e_output_suffix_picks_the_format(run_evidence: Any, e2e_bib: Path,
                                            tmp_path: Path) -> None:
    for name in ("report.md", "report.csv", "report.xml"):
        result = _check(run_evidence, "--output", name)
        assert result.returncode == 1, result.stderr
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("## Reference check")
    rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8", newline="")))
    assert {row["code"] for row in rows} >= {"doi-not-found", "retracted", "year-mismatch"}
    assert ET.parse(tmp_path / "report.xml").getroot().tag == "testsuites"


# --- the GitHub Action and the pre-commit hook: their scripts run for real ----------------------

REPO_ROOT = Path(__file__).resolve().parent.parent


def _yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _action_step(step_id: str) -> dict[str, Any]:
    steps = _yaml(REPO_ROOT / "action.yml")["runs"]["steps"]
    return next(step for step in steps if step.get("id") == step_id)


@pytest.fixture
def evidence_on_path(tmp_path: Path) -> Path:
    """A bin folder whose `evidence` runs this checkout with this interpreter."""
    import sys

    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "evidence"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m evidence_cli "$@"\n',
                      encoding="utf-8")
    script.chmod(0o755)
    return folder


def _run_step(step: dict[str, Any], env: dict[str, str], cwd: Path) -> Any:
    import subprocess

    # The runner's own invocation for `shell: bash`.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_action_declares_inputs_and_never_interpolates_them_into_scripts() -> None:
    action = _yaml(REPO_ROOT / "action.yml")
    inputs = action["inputs"]
    assert inputs["paths"]["required"] is True
    assert inputs["format"]["default"] == "github"
    assert {"fail-on", "mailto", "args"} <= set(inputs)
    assert action["runs"]["using"] == "composite"
    uses = [step.get("uses", "") for step in action["runs"]["steps"]]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("actions/cache@") for u in uses)
    for step in action["runs"]["steps"]:
        # ${{ }} inside a script is substituted before bash parses it: a script injection risk.
        assert "${{" not in step.get("run", "")


def test_action_cache_key_follows_the_bibliography(tmp_path: Path) -> None:
    step = _action_step("key")
    (tmp_path / "refs.bib").write_text(E2E_BIB, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path),
           "INPUT_PATHS": "refs.bib missing-folder"}

    def key() -> dict[str, str]:
        output = tmp_path / "github-output"
        output.write_text("", encoding="utf-8")
        result = _run_step(step, {**env, "GITHUB_OUTPUT": str(output)}, tmp_path)
        assert result.returncode == 0, result.stderr
        return _outputs(output)

    first = key()
    assert re.fullmatch(r"[0-9a-f]{32}", first["hash"])
    assert first["dir"] == f"{tmp_path}/evidence-cache"
    assert key()["hash"] == first["hash"]
    (tmp_path / "refs.bib").write_text(E2E_BIB + "\n% edited\n", encoding="utf-8")
    assert key()["hash"] != first["hash"]


def test_action_check_step_annotates_and_writes_a_sarif_report(
    tmp_path: Path, evidence_env: dict[str, str], evidence_on_path: Path,
    sarif_schema: dict[str, Any], e2e_bib: Path,
) -> None:
    step = _action_step("check")
    output = tmp_path / "github-output"
    summary = tmp_path / "step-summary.md"
    env = {
        **evidence_env,
        "PATH": f"{evidence_on_path}:{evidence_env.get('PATH', '/usr/bin:/bin')}",
        "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_PATHS": "refs.bib", "INPUT_FORMAT": "github", "INPUT_FAIL_ON": "",
        "INPUT_ARGS": "--no-urls", "INPUT_REPORT_FILE": "evidence.sarif",
        "EVIDENCE_MAILTO": "",
    }
    result = _run_step(step, env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert "::error file=refs.bib,line=8," in result.stdout
    assert _outputs(output)["exit-code"] == "1"
    assert "| ❌ error |" in summary.read_text(encoding="utf-8")
    log = json.loads((tmp_path / "evidence.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, sarif_schema)
    assert {"doi-not-found", "retracted"} <= {r["ruleId"] for r in log["runs"][0]["results"]}
    # fail-on never turns the same findings into a passing step.
    never = _run_step(step, {**env, "INPUT_FAIL_ON": "never", "INPUT_REPORT_FILE": ""}, tmp_path)
    assert never.returncode == 0, never.stderr
    # Extra arguments reach the tool unexpanded: '*.bib' is not replaced by refs.bib (and is then
    # rejected as a regular expression, a usage error).
    raw = _run_step(step, {**env, "INPUT_ARGS": "--no-urls --exclude *.bib",
                           "INPUT_REPORT_FILE": ""}, tmp_path)
    assert raw.returncode == 2 and "'*.bib'" in raw.stderr, raw.stderr
    assert _outputs(output)["exit-code"] == "2"


def test_pre_commit_hook_checks_offline_from_the_cache(
    tmp_path: Path, run_evidence: Any, e2e_bib: Path, crossref_sim: Any
) -> None:
    hook = _yaml(REPO_ROOT / ".pre-commit-hooks.yaml")[0]
    assert hook["id"] == "evidence-check" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert all(files.search(name) for name in ("refs.bib", "a/b.ris", "paper.md"))
    assert not any(files.search(name) for name in ("refs.bib.bak", "notes.txt"))
    entry = hook["entry"].split()
    assert entry[:2] == ["evidence", "check"] and "--offline" in entry
    # pre-commit appends the changed file names to the entry. Nothing cached yet: unverifiable,
    # so the hook fails (exit 4) rather than passing unchecked references.
    cold = run_evidence(*entry[1:], "refs.bib", "--no-urls", "--format", "json")
    assert cold.returncode == 4, cold.stderr
    assert {r["status"] for r in json.loads(cold.stdout)["references"]} == {"unverifiable"}
    # After one online run the hook answers from the cache without a single request.
    assert run_evidence("check", "refs.bib", "--no-urls", "-q").returncode == 1
    requests_before = crossref_sim.stats.requests
    warm = run_evidence(*entry[1:], "refs.bib", "--no-urls", "--format", "json")
    assert warm.returncode == 1, warm.stderr
    statuses = {r["id"]: r["status"] for r in json.loads(warm.stdout)["references"]}
    assert statuses == {"sadasivan2012": "warning", "ghost": "error", "retracted": "error"}
    assert crossref_sim.stats.requests == requests_before


# --- progress and messages ----------------------------------------------------------------------

def test_progress_enabled_only_on_a_terminal_without_quiet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_cli.output import progress_enabled

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    assert progress_enabled(False, Terminal())
    assert not progress_enabled(True, Terminal())  # -q
    assert not progress_enabled(False, io.StringIO())  # a pipe or a log
    monkeypatch.setenv("TERM", "dumb")  # cannot redraw a bar
    assert not progress_enabled(False, Terminal())


def test_make_progress_disabled_is_a_no_op(capsys: pytest.CaptureFixture[str]) -> None:
    from evidence_cli.output import make_progress

    with make_progress(5, enabled=False) as advance:
        advance()
        advance(4)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def _run_with_terminal_stderr(
    args: list[str], env: dict[str, str], cwd: Path
) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe), as in an interactive shell."""
    import os
    import pty
    import subprocess
    import sys
    import threading

    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        # Read while the child runs, so a chatty child never blocks on a full terminal buffer.
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the child side is closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    process = subprocess.Popen([sys.executable, "-m", "evidence_cli", *args], cwd=cwd,
                               env={**env, "TERM": "xterm"}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    stdout, _ = process.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(master)
    return process.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_progress_bar_only_on_a_terminal_and_never_with_quiet(
    tmp_path: Path, evidence_env: dict[str, str], e2e_bib: Path, run_evidence: Any
) -> None:
    args = ["check", "refs.bib", "--no-urls", "--format", "json"]
    code, stdout, terminal = _run_with_terminal_stderr(args, evidence_env, tmp_path)
    assert code == 1
    assert json.loads(stdout)["summary"]["references"] == 3  # the report is untouched
    assert "Checking references" in terminal
    assert "3 references: 0 ok, 0 info, 1 warning, 2 error, 0 unverifiable" in terminal
    code, stdout, terminal = _run_with_terminal_stderr([*args, "-q"], evidence_env, tmp_path)
    assert code == 1 and json.loads(stdout)["summary"]["references"] == 3
    assert terminal == ""
    # Off a terminal (a CI log): the summary line, and no bar or escape sequences.
    piped = run_evidence(*args)
    assert "Checking references" not in piped.stderr and "\x1b[" not in piped.stderr
    assert piped.stderr.strip().endswith("2 error, 0 unverifiable")


def test_json_reference_line_is_the_encoded_entry_neutralised() -> None:
    """The streamed report builds each line without to_dict: the same text as encoding the
    entry and neutralising it, for hostile text (controls, C1, bidi, "::"), every value type a
    finding may carry and the optional identifiers."""
    from evidence_cli.formats.escaping import neutral
    from evidence_cli.formats.json import _compact, reference_line

    hostile = ("\x1b[2J\x07 \x9b31m \u202eevil\u202c \u2066x\u2069 \r\n::warning::x \x7f "
               'é 日本 "q" \\')
    odd_values: list[Any] = [None, 0, -3, 2.5, True, False, ["a", 1, None], {"k": [1, "\u202e"]},
                             hostile, ("t", 2)]
    findings = [Finding("year-mismatch", Severity.WARNING, hostile, field="year", cited=value,
                        registered=odd_values[-1 - index],
                        suggestion=hostile if index % 2 else None)
                for index, value in enumerate(odd_values)]
    cited = CitedFields(doi="10.1/x", title=hostile, authors=[hostile, "Ørsted"], year=1999,
                        container=None, pages="1--2", url="https://x.org/a_b", pmid="123",
                        arxiv="2101.00001")
    results = [
        ReferenceResult(Reference(id=hostile, source=SourceLocation(hostile, 7), raw=hostile,
                                  cited=cited), doi="10.1/x", registered=cited,
                        findings=findings),
        *(_result(entry["id"], entry["source"]["line"], [])
          for entry in sample_report()["references"]),
        _result("plain", 1, []),
    ]
    for result in results:
        assert reference_line(result) == neutral(_compact(result.to_dict()))
