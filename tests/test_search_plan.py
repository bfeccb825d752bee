"""No request without a purpose: which references are searched for, counted on the simulators.

A reference that is nothing but an unknown DOI has nothing to search with, so no search is sent
for it (its verdict stays doi-not-found); a reference with text is searched, and a query that
several references share is sent once per run — to Crossref and to PubMed alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunEvidence
from tests.eutils_simulator import EUtilsSimulator
from tests.simulator import CrossrefSimulator

UNKNOWN = "10.9999/evidence-cli.nobody-registered-this"
DELPHI = "10.1371/journal.pone.0020476"
DELPHI_APA = (
    "Boulkedid, R., Abdoul, H., Loustau, M., Sibony, O., & Alberti, C. (2011). Using and "
    "reporting the Delphi method for selecting healthcare quality indicators: A systematic "
    "review. PLoS ONE, 6(6), e20476."
)
# Recorded nowhere: Crossref's search and PubMed's both come back without a match.
UNHELD_APA = (
    "Mahmoudpour, A., Rayesh, N., Ghanbarian, E., & Rezaee, M. (2021). Effectiveness of "
    "acceptance and commitment therapy (ACT) on emotional regulation and loneliness of "
    "divorced women in Iran. Journal of Marital and Family Therapy, 47(4), 831–842."
)


def _searches(sim: CrossrefSimulator) -> list[str]:
    return [e.path for e in sim.stats.log if "query" in e.path]


def _codes(report: dict[str, object]) -> list[list[str]]:
    references = report["references"]
    assert isinstance(references, list)
    return [[f["code"] for f in ref["findings"]] for ref in references]


def test_a_reference_that_is_only_an_unknown_doi_is_never_searched(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
) -> None:
    # The ways a bare identifier arrives: a doi.org link in prose, a `doi:` line, and a BibTeX
    # entry or a CSL-JSON item holding nothing but its DOI (and the markup around it).
    (tmp_path / "notes.md").write_text(f"See https://doi.org/{UNKNOWN}\n", encoding="utf-8")
    (tmp_path / "list.txt").write_text(f"doi:{UNKNOWN}.2\n", encoding="utf-8")
    (tmp_path / "refs.bib").write_text(f"@article{{bare, doi = {{{UNKNOWN}.3}}}}\n",
                                       encoding="utf-8")
    (tmp_path / "items.json").write_text(json.dumps(
        [{"id": "bare-item", "type": "article-journal", "DOI": f"{UNKNOWN}.4"}]),
        encoding="utf-8")
    done = run_evidence("check", "notes.md", "list.txt", "refs.bib", "items.json", "--format",
                        "json", "--no-urls")
    report = json.loads(done.stdout)
    assert _codes(report) == [["doi-not-found"]] * 4
    assert all(f["suggestion"] is None for ref in report["references"] for f in ref["findings"])
    assert done.returncode == 1
    assert _searches(crossref_sim) == []
    # What was asked: each DOI and, when Crossref does not hold it, who registered it.
    assert crossref_sim.stats.requests == 8


def test_a_reference_with_text_and_an_unknown_doi_is_searched_and_corrected(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, tmp_path: Path,
) -> None:
    (tmp_path / "refs.txt").write_text(f"{DELPHI_APA} https://doi.org/{UNKNOWN}\n",
                                       encoding="utf-8")
    done = run_evidence("check", "refs.txt", "--format", "json", "--no-urls")
    (reference,) = json.loads(done.stdout)["references"]
    (finding,) = reference["findings"]
    assert finding["code"] == "doi-not-found" and finding["suggestion"] == DELPHI
    assert len(_searches(crossref_sim)) == 1


def test_a_query_shared_by_several_references_is_sent_once(
    run_evidence: RunEvidence, crossref_sim: CrossrefSimulator, eutils_sim: EUtilsSimulator,
    tmp_path: Path,
) -> None:
    # The same works cited in two files (a manuscript and its supplement), one of them twice.
    (tmp_path / "paper.txt").write_text(f"{DELPHI_APA}\n\n{UNHELD_APA}\n\n{UNHELD_APA}\n",
                                        encoding="utf-8")
    (tmp_path / "supplement.txt").write_text(f"{DELPHI_APA}\n", encoding="utf-8")
    done = run_evidence("check", "paper.txt", "supplement.txt", "--format", "json", "--no-urls")
    report = json.loads(done.stdout)
    # Every reference keeps its own verdict.
    assert _codes(report) == [["doi-suggested"], ["no-match"], ["no-match"], ["doi-suggested"]]
    assert [ref["doi"] for ref in report["references"]] == [DELPHI, None, None, DELPHI]
    assert len(_searches(crossref_sim)) == 2
    # The unheld work is looked for in PubMed too, once.
    esearches = [target for _, target, _ in eutils_sim.stats.log if "esearch" in target]
    assert len(esearches) == 1
