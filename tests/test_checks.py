"""Unit tests of every check as a pure function, on recorded and constructed Crossref records."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.checks import check_record
from evidence_cli.checks.compare import (
    authors_problem,
    containers_agree,
    names_agree,
    page_range,
    pages_agree,
    titles_agree,
)
from evidence_cli.checks.fields import check_fields
from evidence_cli.checks.records import registered_fields, registered_years
from evidence_cli.checks.updates import check_updates
from evidence_cli.checks.work import RegisteredWork, as_work
from evidence_cli.models import CitedFields, Severity

CROSSREF = Path(__file__).parent / "fixtures" / "crossref"


@cache
def _records() -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for name in ("works.jsonl", "constructed.jsonl"):
        for line in (CROSSREF / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                message = json.loads(line)["message"]
                records[message["DOI"].lower()] = message
    return records


def record(doi: str) -> dict[str, Any]:
    """A deep copy of a held record (tests may change it)."""
    return copy.deepcopy(_records()[doi])


PONE = "10.1371/journal.pone.0033693"  # recorded; e33693; carries a publisher correction
AJMG = "10.1002/ajmg.b.31237"  # recorded; 156(8) 923-928; short container title
VQF = "10.1145/3448016.3452841"  # recorded; title plus a separate subtitle
PLUIJM = "10.1371/journal.pbio.0050002"  # recorded; first author "van der Pluijm"
FEE = "10.1002/fee.70021"  # recorded; <scp> tag in the title; issued 2025, print 2026
RNEXML = "10.1111/2041-210x.12469"  # recorded; issued 2015, print 2016; <scp>r</scp>
KARYO = "10.7717/peerj.7347"  # recorded; Majtánová, Ráb
HER2 = "10.1200/jco.2021.39.15_suppl.4068"  # recorded; <sup> tags in the title
CLEAN = "10.5555/evidence-cli.clean"  # constructed


def work(doi: str) -> RegisteredWork:
    """A held record read as a registered work."""
    return RegisteredWork.from_record(record(doi))


def codes(cited: CitedFields, doi: str) -> list[str]:
    return [f.code for f in check_record(cited, record(doi))]


# -- title ----------------------------------------------------------------------------------

PONE_TITLE = (
    "Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the "
    "Basal Ganglia of Mice"
)


@pytest.mark.parametrize(
    "cited",
    [
        PONE_TITLE,
        PONE_TITLE.lower(),
        PONE_TITLE.upper(),
        PONE_TITLE.replace(" in the ", ", in the ") + ".",
        f"RETRACTED: {PONE_TITLE}",
        f"Retracted article: {PONE_TITLE}",
        f"{PONE_TITLE}: a randomised study in mice",  # an extra subtitle
        "Methylphenidate exposure induces dopamine neuron loss and activation of microglia in "
        "the basal ganglia of mice",
    ],
)
def test_title_variants_agree(cited: str) -> None:
    assert titles_agree(cited, work(PONE))


def test_title_ignores_html_tags_in_the_record() -> None:
    assert titles_agree("The role of AI in ecology's computational carbon footprint", work(FEE))
    assert titles_agree(
        "Imaging HER2-positive metastatic esophagogastric cancer with 89Zr-trastuzumab PET and "
        "18F-FDG PET",
        work(HER2),
    )
    assert titles_agree(
        "RNeXML: a package for reading and writing richly annotated phylogenetic, character and "
        "trait data in R",
        work(RNEXML),
    )


def test_title_ignores_mathml() -> None:
    message = record(CLEAN)
    message["title"] = [
        'Stability of <mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:msub>'
        "<mml:mi>H</mml:mi><mml:mi>&#x221E;</mml:mi></mml:msub></mml:math> controllers for "
        "delayed insulin dosing systems"
    ]
    assert titles_agree("Stability of H∞ controllers for delayed insulin dosing systems",
                        as_work(message))
    assert not titles_agree("Metformin and cognitive decline in older adults", as_work(message))


def test_title_missing_or_extra_subtitle() -> None:
    # The record holds the subtitle separately: both the short and the full form are the title.
    assert titles_agree("Vector Quotient Filters", work(VQF))
    assert titles_agree(
        "Vector quotient filters: overcoming the time/space trade-off in filter design", work(VQF)
    )
    # A cited title without the registered subtitle.
    assert titles_agree("Metformin and cognitive decline in older adults with type 2 diabetes",
                        work(CLEAN))


def test_title_of_another_work_disagrees() -> None:
    assert not titles_agree("Early warning signals: the charted and uncharted territories",
                            work(PONE))
    assert not titles_agree("Methylphenidate exposure protects dopamine neurons in rats",
                            work(PONE))


def test_title_mismatch_finding_names_both_titles() -> None:
    cited = CitedFields(title="Methylphenidate exposure protects dopamine neurons in rats",
                        authors=["Sadasivan"], year=2012)
    findings = check_fields(cited, record(PONE))
    assert [f.code for f in findings] == ["title-mismatch"]
    finding = findings[0]
    assert finding.severity is Severity.WARNING
    assert finding.field == "title"
    assert finding.cited == cited.title
    assert finding.registered == PONE_TITLE
    assert finding.suggestion == PONE_TITLE


# -- authors --------------------------------------------------------------------------------


def test_authors_family_names_first_author_first() -> None:
    registered = ["Sadasivan", "Pond", "Pani", "Qu", "Jiao", "Smeyne"]
    assert authors_problem(["Sadasivan", "Pond", "Pani", "Qu", "Jiao", "Smeyne"], registered) \
        is None
    assert authors_problem(["Sadasivan"], registered) is None  # "et al.": a shorter list is fine
    assert authors_problem(["Sadasivan", "Smeyne"], registered) is None
    assert authors_problem(["Pond", "Sadasivan"], registered) is not None  # first author wrong
    problem = authors_problem(["Sadasivan", "Boettiger"], registered)
    assert problem is not None and "Boettiger" in problem


def test_author_diacritics_and_case() -> None:
    assert codes(CitedFields(authors=["Majtanova", "Moy", "Rab"]), KARYO) == []
    assert codes(CitedFields(authors=["MAJTÁNOVÁ"]), KARYO) == []
    assert names_agree("Muller", "Müller")
    assert names_agree("García", "Garcia")


@pytest.mark.parametrize("cited", ["van der Pluijm", "Van Der Pluijm", "Pluijm", "vanderPluijm"])
def test_author_particles(cited: str) -> None:
    assert names_agree(cited, "van der Pluijm")
    assert "author-mismatch" not in codes(CitedFields(authors=[cited, "Garinis"]), PLUIJM)


def test_author_mismatch_finding() -> None:
    cited = CitedFields(title=PONE_TITLE, authors=["Boettiger"], year=2012)
    findings = check_fields(cited, record(PONE))
    assert [f.code for f in findings] == ["author-mismatch"]
    assert findings[0].field == "authors"
    assert findings[0].cited == ["Boettiger"]
    assert findings[0].registered[:2] == ["Sadasivan", "Pond"]
    assert findings[0].severity is Severity.WARNING


def test_no_author_finding_when_either_side_has_none() -> None:
    assert authors_problem([], ["Sadasivan"]) is None
    assert authors_problem(["Sadasivan"], []) is None


# -- doi-mismatch ---------------------------------------------------------------------------


def test_title_and_first_author_both_wrong_is_one_doi_mismatch() -> None:
    # The citation of Boettiger et al. 2013 with the DOI of the PLoS ONE paper.
    cited = CitedFields(
        doi=PONE, title="Early warning signals: the charted and uncharted territories",
        authors=["Boettiger", "Ross", "Hastings"], year=2013, container="Theoretical Ecology",
        volume="6", issue="3", pages="255-264",
    )
    findings = check_fields(cited, record(PONE))
    assert [f.code for f in findings] == ["doi-mismatch"]  # not a pile of field findings
    assert findings[0].severity is Severity.ERROR
    assert findings[0].field == "doi"
    assert findings[0].registered == PONE_TITLE
    assert "Sadasivan" in findings[0].message


def test_title_wrong_but_author_right_is_not_a_doi_mismatch() -> None:
    cited = CitedFields(title="Early warning signals: the charted and uncharted territories",
                        authors=["Sadasivan"])
    assert [f.code for f in check_fields(cited, record(PONE))] == ["title-mismatch"]


# -- year -----------------------------------------------------------------------------------


def test_year_matches_any_registered_date() -> None:
    assert registered_years(record(FEE)) == {2025, 2026}
    assert codes(CitedFields(year=2025), FEE) == []  # issued / online
    assert codes(CitedFields(year=2026), FEE) == []  # print
    assert codes(CitedFields(year=2016), RNEXML) == []
    findings = check_fields(CitedFields(year=2024), record(FEE))
    assert [f.code for f in findings] == ["year-mismatch"]
    assert (findings[0].cited, findings[0].registered) == (2024, 2025)


def test_year_from_published_online_only() -> None:
    message = record(CLEAN)
    for key in ("issued", "published-print", "published"):
        message.pop(key, None)
    message["published-online"] = {"date-parts": [[2019, 5, 1]]}
    assert check_fields(CitedFields(year=2019), message) == []
    assert [f.code for f in check_fields(CitedFields(year=2021), message)] == ["year-mismatch"]


# -- volume, issue --------------------------------------------------------------------------


def test_volume_and_issue() -> None:
    assert codes(CitedFields(volume="156", issue="8"), AJMG) == []
    assert codes(CitedFields(volume="0156", issue=" 8 "), AJMG) == []
    findings = check_fields(CitedFields(volume="157", issue="9"), record(AJMG))
    assert [(f.code, f.field, f.cited, f.registered) for f in findings] == [
        ("volume-mismatch", "volume", "157", "156"),
        ("issue-mismatch", "issue", "9", "8"),
    ]


def test_no_volume_finding_when_the_record_has_none() -> None:
    message = record(AJMG)
    del message["volume"]
    assert check_fields(CitedFields(volume="99"), message) == []


# -- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cited", ["923-928", "923–928", "923 — 928", "923--928", "923-28",
                                   "923-8", "923", "pp. 923-928", "p. 923"])
def test_pages_agree(cited: str) -> None:
    assert pages_agree(cited, ["923-928"])
    assert codes(CitedFields(pages=cited), AJMG) == []


@pytest.mark.parametrize("cited", ["923-929", "924-928", "932-938", "93-98", "e923"])
def test_pages_disagree(cited: str) -> None:
    findings = check_fields(CitedFields(pages=cited), record(AJMG))
    assert [(f.code, f.registered) for f in findings] == [("pages-mismatch", "923-928")]


def test_abbreviated_ranges_expand() -> None:
    assert page_range("831-42") == ("831", "842")
    assert page_range("831–842") == ("831", "842")
    assert page_range("1386-99") == ("1386", "1399")
    assert pages_agree("831-42", ["831-842"])
    assert not pages_agree("831-43", ["831-842"])


def test_article_numbers() -> None:
    assert codes(CitedFields(pages="e33693"), PONE) == ["corrected"]
    assert codes(CitedFields(pages="E33693"), PONE) == ["corrected"]
    assert codes(CitedFields(pages="e33694"), PONE) == ["pages-mismatch", "corrected"]
    # article-number instead of page
    assert codes(CitedFields(pages="e13950"), "10.1111/geb.13950") == []
    assert codes(CitedFields(pages="e13951"), "10.1111/geb.13950") == ["pages-mismatch"]


# -- container ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cited",
    [
        "American Journal of Medical Genetics Part B: Neuropsychiatric Genetics",
        "american journal of medical genetics part b neuropsychiatric genetics",
        "American J of Med Genetics Pt B",  # the registered short-container-title
    ],
)
def test_container_full_and_short(cited: str) -> None:
    assert containers_agree(cited, work(AJMG))


def test_container_abbreviation() -> None:
    message = record(CLEAN)
    message["container-title"] = ["Journal of Marital and Family Therapy"]
    message["short-container-title"] = []
    for cited in ("J Marital Fam Ther", "J. Marital Fam. Ther.",
                  "Journal of Marital & Family Therapy"):
        assert containers_agree(cited, as_work(message)), cited
    assert not containers_agree("J Fam Psychol", as_work(message))
    assert containers_agree("Methods Ecol Evol", work(RNEXML))
    assert containers_agree("Theor Ecol", work("10.1007/s12080-013-0192-6"))


@pytest.mark.parametrize(
    ("cited", "doi"),
    [("Am J Med Genet B Neuropsychiatr Genet", AJMG),
     ("Bull Chem Soc Jpn", "10.1246/bcsj.36.278")],
)
def test_container_nlm_abbreviation(cited: str, doi: str) -> None:
    assert containers_agree(cited, work(doi))


def test_container_mismatch_finding() -> None:
    findings = check_fields(CitedFields(container="Molecular Ecology Resources"), record(RNEXML))
    assert [(f.code, f.field, f.registered) for f in findings] == [
        ("container-mismatch", "container", "Methods in Ecology and Evolution")
    ]
    assert findings[0].severity is Severity.WARNING


# -- a whole correct citation, and the record without metadata -------------------------------


def test_correct_citation_has_no_field_findings() -> None:
    cited = CitedFields(
        doi=PONE, title=PONE_TITLE, authors=["Sadasivan", "Pond", "Pani"], year=2012,
        container="PLoS One", volume="7", issue="3", pages="e33693",
    )
    assert check_fields(cited, record(PONE)) == []


def test_record_without_title_or_authors_is_unverifiable_not_ok() -> None:
    cited = CitedFields(title="Metformin and cognitive decline", authors=["Halvorsen"], year=2021)
    findings = check_record(cited, record("10.5555/evidence-cli.no-metadata"))
    assert [f.code for f in findings] == ["service-unavailable"]
    assert findings[0].makes_unverifiable


# -- updates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doi", "notice", "date"),
    [
        ("10.5555/evidence-cli.retracted-publisher", "10.5555/evidence-cli.retraction-notice-1",
         "2023-05-02"),
        ("10.5555/evidence-cli.retracted-rw", "10.5555/evidence-cli.retraction-notice-2",
         "2022-11-08"),
        ("10.5555/evidence-cli.withdrawn", "10.5555/evidence-cli.withdrawal-notice",
         "2021-09-20"),
    ],
)
def test_retraction_and_withdrawal_are_errors_naming_notice_and_date(
    doi: str, notice: str, date: str
) -> None:
    findings = check_updates(record(doi))
    assert [f.code for f in findings] == ["retracted"]
    finding = findings[0]
    assert finding.severity is Severity.ERROR
    assert finding.registered == notice
    assert notice in finding.message and date in finding.message
    assert finding.suggestion == f"https://doi.org/{notice}"


@pytest.mark.parametrize("kind", ["partial_retraction", "removal", "withdrawal", "Retraction",
                                  "partial-retraction"])
def test_every_retraction_type_is_retracted(kind: str) -> None:
    message = record("10.5555/evidence-cli.retracted-publisher")
    message["updated-by"][0]["type"] = kind
    assert [f.code for f in check_updates(message)] == ["retracted"]


def test_publisher_and_retraction_watch_duplicates_are_reported_once() -> None:
    message = record("10.5555/evidence-cli.retracted-publisher")
    duplicate = dict(message["updated-by"][0], source="retraction-watch", label="Retraction")
    message["updated-by"].append(duplicate)
    findings = check_updates(message)
    assert [f.code for f in findings] == ["retracted"]


def test_two_different_notices_are_both_reported() -> None:
    message = record("10.5555/evidence-cli.retracted-publisher")
    correction = record("10.5555/evidence-cli.corrected")["updated-by"][0]
    message["updated-by"].append(correction)
    assert [f.code for f in check_updates(message)] == ["retracted", "corrected"]


def test_expression_of_concern_is_a_warning() -> None:
    findings = check_updates(record("10.5555/evidence-cli.concern"))
    assert [(f.code, f.severity) for f in findings] == [
        ("expression-of-concern", Severity.WARNING)
    ]
    assert "10.5555/evidence-cli.concern-notice" in findings[0].message


@pytest.mark.parametrize("kind", ["correction", "erratum", "corrigendum"])
def test_corrections_are_info(kind: str) -> None:
    message = record("10.5555/evidence-cli.corrected")
    message["updated-by"][0]["type"] = kind
    findings = check_updates(message)
    assert [(f.code, f.severity) for f in findings] == [("corrected", Severity.INFO)]
    assert findings[0].registered == "10.5555/evidence-cli.correction-notice"


def test_recorded_publisher_correction() -> None:
    findings = check_updates(record(PONE))
    assert [(f.code, f.registered) for f in findings] == [
        ("corrected", "10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda")
    ]
    assert "2012-05-08" in findings[0].message


def test_new_version_updates_are_not_findings() -> None:
    # Recorded PLOS records list their own new version in updated-by and update-to.
    assert check_updates(record("10.1371/journal.pgen.1011490")) == []


def test_a_notice_itself_is_an_update_notice() -> None:
    findings = check_updates(record("10.5555/evidence-cli.retraction-notice-1"))
    assert [(f.code, f.severity, f.registered) for f in findings] == [
        ("update-notice", Severity.INFO, "10.5555/evidence-cli.retracted-publisher")
    ]


def test_a_notice_titled_retraction_is_not_itself_retracted() -> None:
    findings = check_updates(record("10.5555/evidence-cli.retraction-notice-2"))
    assert [(f.code, f.registered) for f in findings] == [
        ("update-notice", "10.5555/evidence-cli.retracted-rw")
    ]


def test_retracted_title_prefix_without_notice_is_retracted() -> None:
    message = record(CLEAN)
    message["title"] = ["RETRACTED: " + message["title"][0]]
    assert [f.code for f in check_updates(message)] == ["retracted"]


@pytest.mark.parametrize(
    "title", ["RETRACTED: A trial", "Retracted article: A trial", "WITHDRAWN: A trial",
              "Retraction – A trial"],
)
def test_retraction_marks_in_titles(title: str) -> None:
    message = record(CLEAN)
    message["title"] = [title]
    assert [f.code for f in check_updates(message)] == ["retracted"]


@pytest.mark.parametrize(
    "title", ["Retraction-prone journals and citation decay in biomedicine",
              "Withdrawn-patient outcomes after intensive care discharge"],
)
def test_a_hyphenated_first_word_is_not_a_retraction_mark(title: str) -> None:
    message = record(CLEAN)
    message["title"] = [title]
    assert check_updates(message) == []


def test_clean_record_has_no_update_findings() -> None:
    assert check_updates(record(CLEAN)) == []


# -- registered fields ----------------------------------------------------------------------


def test_registered_fields_of_a_recorded_record() -> None:
    fields = registered_fields(record(AJMG)).to_dict()
    assert fields["authors"][:3] == ["Hamlin", "Liu", "Nguyen"]
    assert fields["url"]
    del fields["authors"], fields["url"]
    assert fields == {
        "doi": AJMG,
        "title": "Sleep apnea in fragile X premutation carriers with and without FXTAS",
        "year": 2011,
        "container": "American Journal of Medical Genetics Part B: Neuropsychiatric Genetics",
        "volume": "156",
        "issue": "8",
        "pages": "923-928",
    }


def test_a_works_fields_are_its_records_registered_fields() -> None:
    """RegisteredWork.to_fields builds the fields from what it read; registered_fields reads
    the record: the two agree on every held record, and on odd shapes (numbers, a bare string,
    blanks, no issued date, an article number for pages)."""
    odd = [
        {"DOI": "10.5555/ODD", "title": "  Spaced\n title ", "subtitle": [" sub "],
         "container-title": [7, "Journal"], "volume": 12, "page": [], "article-number": "e5",
         "published-online": {"date-parts": [[2001]]}, "author": [{"name": " Group "}, {}],
         "URL": ["https://example.org/x"]},
        {"DOI": 5, "title": [], "container-title": "Bare", "issue": True, "editor":
         [{"family": "Ed"}], "resource": {"primary": {"URL": "https://example.org/r"}}},
    ]
    for message in [*_records().values(), *odd]:
        assert RegisteredWork.from_record(message).to_fields() == registered_fields(message)


def test_an_unrelated_title_without_authors_is_a_doi_mismatch() -> None:
    """With no cited authors to compare, a title sharing almost nothing with the registered one
    means the DOI names another work; a close variant stays a title-mismatch."""
    huntington = record("10.1111/j.1600-0404.1986.tb03253.x")
    other = CitedFields(title="Do doctors cause or prevent cerebral edema in children with "
                              "diabetic ketoacidosis?")
    assert [f.code for f in check_fields(other, huntington)] == ["doi-mismatch"]
    variant = CitedFields(title="Quantitative analysis of morphology in Huntington disease "
                                "patients")
    assert [f.code for f in check_fields(variant, huntington)] == ["title-mismatch"]


def test_a_retraction_rule_that_raises_leaves_the_field_findings_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect in reading a record's updates costs the reference its "ok" (check-failed:
    whether it was retracted is unknown), not its other findings, nor the run."""
    import evidence_cli.checks as checks

    def failing(record: dict[str, Any]) -> list[Any]:
        raise TypeError("'int' object is not iterable")

    monkeypatch.setattr(checks, "check_updates", failing)
    findings = check_record(CitedFields(volume="157", issue="8"), record(AJMG))
    assert [f.code for f in findings] == ["volume-mismatch", "check-failed"]
    assert "retractions" in findings[1].message and "TypeError" in findings[1].message
