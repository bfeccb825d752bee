"""PMIDs, PMCIDs, arXiv ids and DataCite DOIs: found in every reader, checked against the PubMed
(E-utilities) and DataCite simulators through the real `evidence` command."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from evidence_cli import identifiers
from evidence_cli.services.cache import CACHE_FILE
from evidence_cli.services.pubmed import expand_pages, parse_efetch
from evidence_cli.sources import read_one
from tests.conftest import RunEvidence
from tests.datacite_simulator import DataCiteSimulator
from tests.eutils_simulator import FIXTURES as PUBMED_FIXTURES
from tests.eutils_simulator import EUtilsSimulator
from tests.simulator import CrossrefSimulator

# A Vancouver list as clinicians write it. 1, 2: real PubMed records (recorded); 2 cites the
# wrong issue (PubMed has 2). 3: the constructed retracted article; 4: a PMID PubMed does not
# hold; 5: a malformed PMID; 6: the constructed arXiv preprint with a journal version; 7: a
# Zenodo DOI (recorded DataCite record).
VANCOUVER = """\
1. Bao Y, Prescott J, Yuan C, Zhang M, Kraft P, Babic A, et al. Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer. Gut. 2017 Jun;66(6):1116-1122. PMID: 27797938; PMCID: PMC5442267.

2. Lerro CC, Beane Freeman LE, DellaValle CT, Kibriya MG, Aschebrook-Kilfoy B, Jasmine F, et al. Occupational pesticide exposure and subclinical hypothyroidism among male pesticide applicators. Occup Environ Med. 2018 Feb;75(3):79-89. PMID: 28775130.

3. Okafor A, Lindqvist P. Hydroxychloroquine and mortality in hospitalised adults: a multicentre cohort. J Clin Evid. 2021;12(4):301-9. PMID: 39990001.

4. Nobody A. A paper that does not exist. J Nowhere. 2020;1(1):1-2. PMID: 39999999.

5. Someone B. A cohort with a mistyped identifier. J Nowhere. 2020;1(1):1-2. PMID: 3999x.

6. Sadasivan S, Pond BB, Pani AK, Qu C, Jiao Y, Smeyne RJ. Methylphenidate exposure induces dopamine neuron loss and activation of microglia in the basal ganglia of mice. arXiv:1112.0001. 2011.

7. Garza K. Analysis Tools for Crossover Experiment of UI using Choice Architecture. Zenodo. 2016. doi:10.5281/zenodo.48440
"""  # noqa: E501


def check(run_evidence: RunEvidence, tmp_path: Path, name: str, text: str, *extra: str,
          env: dict[str, str] | None = None) -> tuple[int, list[dict[str, Any]], str]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_evidence("check", name, "--no-urls", "--format", "json", *extra, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["references"], result.stderr


def codes(ref: dict[str, Any]) -> list[str]:
    return [f["code"] for f in ref["findings"]]


# -- identifiers -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Gut. 2017;66(6):1116-22. PMID: 27797938; PMCID: PMC5442267.",
     ("27797938", "PMC5442267", None)),
    ("PubMed PMID 27797938. PMC5442267", ("27797938", "PMC5442267", None)),
    ("https://pubmed.ncbi.nlm.nih.gov/27797938/ https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5442267/",
     ("27797938", "PMC5442267", None)),
    ("arXiv preprint arXiv:2101.00001v2 (2021).", (None, None, "2101.00001v2")),
    ("arXiv:hep-th/9901001.", (None, None, "hep-th/9901001")),
    ("https://arxiv.org/abs/math.GT/0309136v1", (None, None, "math.GT/0309136v1")),
    ("https://arxiv.org/pdf/2101.00001.pdf", (None, None, "2101.00001")),
    ("PMIDs were collected from the 2020 trials.", (None, None, None)),
    ("PMID: 27797938x", ("27797938x", None, None)),  # kept, to be reported as malformed
])
def test_ids_found_in_text(text: str, expected: tuple[str | None, ...]) -> None:
    found = identifiers.find_in_text(text)
    assert (found.pmid, found.pmcid, found.arxiv) == expected


def test_validation_and_arxiv_dois() -> None:
    assert identifiers.is_valid_pmid("27797938") and not identifiers.is_valid_pmid("0123")
    assert not identifiers.is_valid_pmid("٢٧٩٧")  # Arabic-Indic digits are not a PMID
    assert identifiers.is_valid_pmcid("PMC5442267") and not identifiers.is_valid_pmcid("PMC")
    assert identifiers.is_valid_arxiv("0704.0001") and not identifiers.is_valid_arxiv("2113.00001")
    assert identifiers.arxiv_doi("2101.00001v2") == "10.48550/arxiv.2101.00001"
    assert identifiers.arxiv_doi("hep-th/9901001v3") == "10.48550/arxiv.hep-th/9901001"
    assert identifiers.pmid_from_ris("WOS:000123", None) is None  # AN holds other accessions
    assert identifiers.pmid_from_ris("27797938", None) == "27797938"
    assert identifiers.pmid_from_ris(None, "PMID: 27797938") == "27797938"


def test_every_reader_carries_the_ids() -> None:
    bib = b"""@article{bao, title={Leucocyte telomere length}, pmid={27797938},
      pmcid={PMC5442267}}
    @misc{pre, title={A preprint}, eprint={2101.00001v2}, archivePrefix={arXiv}}
    @misc{other, title={Not arXiv}, eprint={hal-01234}, archivePrefix={HAL}}
    @article{noted, title={Noted}, note={PMID: 28775130}}
    """
    refs = {r.id: r.cited for r in read_one(bib, "refs.bib", "bibtex")}
    assert (refs["bao"].pmid, refs["bao"].pmcid) == ("27797938", "PMC5442267")
    assert refs["pre"].arxiv == "2101.00001v2" and refs["other"].arxiv is None
    assert refs["noted"].pmid == "28775130"
    ris = (b"TY  - JOUR\nTI  - Leucocyte telomere length\nAN  - 27797938\nC1  - PMC5442267\n"
           b"ER  - \n"
           b"TY  - JOUR\nTI  - Another\nAN  - WOS:000399\nC2  - PMID: 28775130\nER  - \n"
           b"TY  - JOUR\nTI  - Linked\nUR  - https://pubmed.ncbi.nlm.nih.gov/30108519/\nER  - \n")
    cited = [r.cited for r in read_one(ris, "refs.ris", "ris")]
    assert [(c.pmid, c.pmcid) for c in cited] == [
        ("27797938", "PMC5442267"), ("28775130", None), ("30108519", None)]
    csl = json.dumps([{"id": "a", "title": "T", "PMID": "27797938", "PMCID": "PMC5442267"},
                      {"id": "b", "type": "article", "title": "P", "number": "arXiv:2101.00001"}])
    items = [r.cited for r in read_one(csl.encode(), "refs.json", "csl-json")]
    assert (items[0].pmid, items[0].pmcid, items[1].arxiv) == (
        "27797938", "PMC5442267", "2101.00001")
    markdown = (b"# References\n\n1. Bao Y. Leucocyte telomere length. Gut. 2017;66(6):1116-22. "
                b"[PubMed](https://pubmed.ncbi.nlm.nih.gov/27797938/)\n")
    [ref] = read_one(markdown, "paper.md", "markdown")
    assert ref.cited.pmid == "27797938"


def test_pubmed_xml_read_as_a_crossref_shaped_record() -> None:
    records = parse_efetch((PUBMED_FIXTURES / "pubmed4.xml").read_bytes())
    record = records["27797938"]
    assert record["DOI"] == "10.1136/gutjnl-2016-312510"
    assert record["author"][0] == {"family": "Bao", "given": "Ying"}
    assert (record["volume"], record["issue"], record["page"]) == ("66", "6", "1116-1122")
    assert record["issued"] == {"date-parts": [[2017, 6]]}
    assert record["container-title"] == ["Gut"]
    assert record["pubmed"]["pmcid"] == "PMC5442267"
    # Only the article's own ids: the ArticleIdLists of its reference list are someone else's.
    assert record["pubmed"]["notices"] == []
    assert expand_pages("113-25") == "113-125" and expand_pages("e1034") == "e1034"


# -- PubMed, end to end --------------------------------------------------------------------------

def test_vancouver_list_checked_field_by_field_against_pubmed(
    run_evidence: RunEvidence, tmp_path: Path, eutils_sim: EUtilsSimulator,
    datacite_sim: DataCiteSimulator,
) -> None:
    code, refs, _ = check(run_evidence, tmp_path, "refs.txt", VANCOUVER)
    assert code == 1  # the retracted article fails the run
    by_line = {ref["source"]["line"]: ref for ref in refs}
    bao = by_line[1]
    assert bao["status"] == "ok" and codes(bao) == []
    assert bao["cited"]["pmid"] == "27797938" and bao["cited"]["pmcid"] == "PMC5442267"
    assert bao["registered"]["title"].startswith("Leucocyte telomere length")
    assert bao["registered"]["pmid"] == "27797938"
    lerro = by_line[3]
    assert codes(lerro) == ["issue-mismatch"]
    assert (lerro["findings"][0]["cited"], lerro["findings"][0]["registered"]) == ("3", "2")
    retracted = by_line[5]
    assert codes(retracted) == ["retracted"] and retracted["status"] == "error"
    assert "39990002" in retracted["findings"][0]["message"]  # the notice's PMID
    assert codes(by_line[7]) == ["pmid-not-found"]
    # A malformed PMID is reported; the work is still searched for (Crossref, then PubMed).
    assert codes(by_line[9])[0] == "pmid-malformed"
    assert set(codes(by_line[9])) <= {"pmid-malformed", "no-match"}
    # The four valid PMIDs went out in one EFetch, with tool and no key.
    efetches = [t for t in eutils_sim.stats.targets() if "efetch.fcgi" in t]
    assert len(efetches) == 1
    assert "id=27797938%2C28775130%2C39990001%2C39999999" in efetches[0]
    assert "tool=evidence-cli" in efetches[0] and "api_key" not in efetches[0]
    assert "3999x" not in efetches[0]
    # arXiv id -> its DataCite DOI -> the journal version is suggested.
    arxiv = by_line[11]
    assert arxiv["doi"] == "10.48550/arxiv.1112.0001"
    assert codes(arxiv) == ["published-version-available"]
    assert arxiv["findings"][0]["suggestion"] == "10.1371/journal.pone.0033693"
    assert arxiv["findings"][0]["severity"] == "warning"
    # The Zenodo DOI is checked against DataCite, not skipped as "another agency".
    zenodo = by_line[13]
    assert zenodo["status"] == "ok" and codes(zenodo) == []
    assert zenodo["registered"]["authors"] == ["Garza"]
    assert "/dois/10.5281/zenodo.48440" in datacite_sim.stats.targets()


def test_malformed_pmid_reported_without_any_network_call(
    run_evidence: RunEvidence, tmp_path: Path, eutils_sim: EUtilsSimulator,
    crossref_sim: CrossrefSimulator,
) -> None:
    text = "Someone B. A trial. J Nowhere. 2020;1(1):1-2. PMID: 12ab45; PMCID: PMCx1.\n"
    code, [ref], _ = check(run_evidence, tmp_path, "refs.txt", text)
    assert codes(ref)[:2] == ["pmid-malformed", "pmid-malformed"]
    assert [f["field"] for f in ref["findings"]][:2] == ["pmid", "pmcid"]
    # Neither id was sent anywhere (the work itself may be searched for by its fields).
    sent = [*eutils_sim.stats.targets(), *(e.path for e in crossref_sim.stats.log)]
    assert not any("12AB45" in t.upper() or "PMCX1" in t.upper() for t in sent)
    assert not any("efetch" in t for t in eutils_sim.stats.targets())
    assert code == 1


def test_other_pubmed_notices(run_evidence: RunEvidence, tmp_path: Path) -> None:
    bib = """@article{erratum, title={Early mobilisation after hip fracture surgery: a randomised
  trial}, author={Moreau, Claire}, journal={Clin Trials Q}, year={2020}, volume={40},
  pmid={39990003}}
@article{concern, title={Statin withdrawal and cardiovascular events in the elderly},
  author={Takahashi, Ken}, year={2019}, pmid={39990005}}
@article{notice, title={Retraction notice}, year={2022}, pmid={39990002}}
@misc{badarxiv, title={A preprint}, eprint={2113.99999}, archivePrefix={arXiv}}
@article{wrongpmid, title={Statin withdrawal and cardiovascular events in the elderly},
  author={Takahashi, Ken}, year={2019}, pmid={27797938}}
"""
    _, refs, _ = check(run_evidence, tmp_path, "refs.bib", bib)
    found = {ref["id"]: ref for ref in refs}
    assert codes(found["erratum"]) == ["corrected"]
    assert found["erratum"]["findings"][0]["registered"] == "39990004"
    assert codes(found["concern"]) == ["expression-of-concern"]
    assert "39990006" in found["concern"]["findings"][0]["message"]
    assert "update-notice" in codes(found["notice"])
    assert codes(found["badarxiv"])[0] == "arxiv-malformed"  # (then searched for: no-match)
    [wrong] = found["wrongpmid"]["findings"]
    assert wrong["code"] == "pmid-mismatch" and wrong["severity"] == "error"
    assert wrong["message"].startswith("PMID 27797938 names a different work")


def _crossref_copy(pmid: str, xml_name: str, **changes: Any) -> dict[str, Any]:
    """CONSTRUCTED in the test: a Crossref record made from a PubMed record's fields."""
    record = dict(parse_efetch((PUBMED_FIXTURES / xml_name).read_bytes())[pmid])
    record.pop("pubmed")
    record.update(changes)
    return record


def test_doi_and_pmid_both_checked_worse_verdict_stands(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator,
    eutils_sim: EUtilsSimulator,
) -> None:
    # Crossref knows nothing wrong with the article; PubMed records its retraction.
    crossref_sim.add_record(_crossref_copy("39990001", "constructed.xml"))
    crossref_sim.add_record(_crossref_copy("27797938", "pubmed4.xml"))
    bib = """@article{both, title={Hydroxychloroquine and mortality in hospitalised adults: a
  multicentre cohort}, author={Okafor, Adaeze and Lindqvist, Per}, journal={J Clin Evid},
  year={2021}, volume={12}, number={4}, pages={301--309},
  doi={10.5555/evidence-cli.pubmed-retracted}, pmid={39990001}}
@article{conflict, title={Leucocyte telomere length, genetic variants at the TERT gene region
  and risk of pancreatic cancer}, author={Bao, Ying}, journal={Gut}, year={2017},
  doi={10.1136/gutjnl-2016-312510}, pmid={28775130}}
@article{pmcconflict, title={Leucocyte telomere length, genetic variants at the TERT gene region
  and risk of pancreatic cancer}, author={Bao, Ying}, journal={Gut}, year={2017},
  pmid={27797938}, pmcid={PMC5771820}}
"""
    code, refs, _ = check(run_evidence, tmp_path, "refs.bib", bib)
    found = {ref["id"]: ref for ref in refs}
    assert codes(found["both"]) == ["retracted"] and found["both"]["status"] == "error"
    assert found["both"]["doi"] == "10.5555/evidence-cli.pubmed-retracted"
    [conflict] = found["conflict"]["findings"]
    assert conflict["code"] == "id-conflict" and conflict["severity"] == "error"
    # Which is which: the DOI's work, and the PMID's work with its own DOI.
    assert "10.1136/gutjnl-2016-312510" in conflict["message"]
    assert "Leucocyte telomere length" in conflict["message"]
    assert "PMID 28775130" in conflict["message"]
    assert "Occupational pesticide" in conflict["message"]
    assert "10.1136/oemed-2017-104431" in conflict["message"]
    assert codes(found["pmcconflict"]) == ["id-conflict"]
    assert "PMC5442267" in found["pmcconflict"]["findings"][0]["message"]
    assert code == 1


def test_api_key_sent_but_never_cached_reported_or_logged(
    run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str],
    eutils_sim: EUtilsSimulator,
) -> None:
    key = "0123456789abcdef-secret-ncbi-key"
    env = {**evidence_env, "EVIDENCE_NCBI_API_KEY": key, "EVIDENCE_MAILTO": "dev@example.org"}
    for output in ("json", "sarif"):
        (tmp_path / "refs.txt").write_text(VANCOUVER, encoding="utf-8")
        result = run_evidence("check", "refs.txt", "--no-urls", "-v", "--format", output,
                              "--refresh", env=env)
        assert key not in result.stdout and key not in result.stderr
    assert eutils_sim.api_keys_seen and set(eutils_sim.api_keys_seen) == {key}
    efetch = next(t for t in eutils_sim.stats.targets() if "efetch" in t)
    assert "email=dev%40example.org" in efetch and "tool=evidence-cli" in efetch
    cache = Path(evidence_env["EVIDENCE_CACHE_DIR"])
    for path in cache.iterdir():
        assert key.encode() not in path.read_bytes(), path
    database = sqlite3.connect(cache / CACHE_FILE)
    rows = database.execute("SELECT key, value FROM answers").fetchall()
    database.close()
    assert rows and not any(key in k or key in v for k, v in rows)
    # The option works too, and wins over the environment.
    result = run_evidence("check", "refs.txt", "--no-urls", "--refresh", "--ncbi-api-key",
                          "other-key", env=env)
    assert "other-key" in eutils_sim.api_keys_seen and "other-key" not in result.stdout


def test_pubmed_faults_retried_and_offline_rules(
    run_evidence: RunEvidence, tmp_path: Path, eutils_sim: EUtilsSimulator,
) -> None:
    text = VANCOUVER.split("\n\n")[0] + "\n"
    eutils_sim.add_fault("status", code=429, times=1)
    eutils_sim.add_fault("status", code=503, times=1)
    eutils_sim.add_fault("truncated", times=1)
    _, [ref], _ = check(run_evidence, tmp_path, "refs.txt", text)
    assert ref["status"] == "ok"
    assert len([t for t in eutils_sim.stats.targets() if "efetch" in t]) == 4
    # Offline: the cached answer is used; an uncached PMID is unverifiable, never ok.
    before = eutils_sim.stats.requests
    text2 = text + "\nNobody A. Uncached. J X. 2020;1:1. PMID: 11748933.\n"
    code, refs, _ = check(run_evidence, tmp_path, "refs.txt", text2, "--offline")
    assert eutils_sim.stats.requests == before
    assert refs[0]["status"] == "ok"
    assert codes(refs[1]) == ["service-unavailable"] and refs[1]["status"] == "unverifiable"
    assert code == 4


def test_pubmed_unreachable_is_unverifiable(
    run_evidence: RunEvidence, tmp_path: Path, evidence_env: dict[str, str],
) -> None:
    (tmp_path / "evidence.toml").write_text("max-retries = 1\n", encoding="utf-8")
    env = {**evidence_env, "EVIDENCE_NCBI_URL": "http://127.0.0.1:9"}
    text = VANCOUVER.split("\n\n")[0] + "\n"
    _, [ref], _ = check(run_evidence, tmp_path, "refs.txt", text, env=env)
    assert codes(ref) == ["service-unavailable"] and "PubMed" in ref["findings"][0]["message"]


def test_client_keeps_to_ncbi_rate_without_a_key(
    run_evidence: RunEvidence, tmp_path: Path, eutils_sim: EUtilsSimulator,
) -> None:
    # 450 PMIDs are three EFetch batches (200 ids each at most), paced under 3 per second.
    pmids = [str(20000000 + i) for i in range(449)] + ["27797938"]
    text = "\n".join(f"A{i} B. Trial {i}. J X. 2020;1:{i}. PMID: {p}." for i, p in enumerate(pmids))
    _, refs, _ = check(run_evidence, tmp_path, "refs.txt", text + "\n")
    efetches = [t for t in eutils_sim.stats.targets() if "efetch" in t]
    assert len(efetches) == 3 and eutils_sim.stats.rate_limited == 0
    assert max(len(t.split("id=")[1].split("&")[0].split("%2C")) for t in efetches) == 200
    assert sum(codes(r) == ["pmid-not-found"] for r in refs) == 449


# -- DataCite, arXiv, versions -------------------------------------------------------------------

def test_datacite_field_checks_and_other_agencies(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator,
    datacite_sim: DataCiteSimulator,
) -> None:
    crossref_sim.set_agency("10.3280", "mEDRA")
    bib = """@misc{zenodo_wrong, title={Analysis Tools for Crossover Experiment of UI using Choice
  Architecture}, author={Garza, Kristian}, year={2019}, doi={10.5281/zenodo.48440}}
@misc{dryad, title={Data from: A new malaria agent in African hominids}, author={Ollomo,
  Benjamin}, year={2011}, publisher={Dryad}, doi={10.5061/dryad.8515}}
@article{medra, title={Something Italian}, doi={10.3280/ecag2018-001001}}
@misc{zenodo_version, title={Pspm-Sc4B: Scr, Ecg, Emg, Psr And Respiration Measurements In A
  Delay Fear Conditioning Task With Auditory Cs And Electrical Us}, author={Staib, Matthias},
  year={2018}, doi={10.5281/zenodo.1196821}}
"""
    _, refs, _ = check(run_evidence, tmp_path, "refs.bib", bib)
    found = {ref["id"]: ref for ref in refs}
    assert codes(found["zenodo_wrong"]) == ["year-mismatch"]
    assert found["zenodo_wrong"]["findings"][0]["registered"] == 2016
    assert codes(found["dryad"]) == []
    [agency] = found["medra"]["findings"]
    assert agency["code"] == "doi-other-agency" and agency["registered"] == "mEDRA"
    assert "/dois/10.3280/ecag2018-001001" not in datacite_sim.stats.targets()
    # A Zenodo dataset's IsVersionOf points at its concept record, not a journal version.
    assert codes(found["zenodo_version"]) == []


def test_crossref_preprint_relation_and_fix_prefer_published(
    run_evidence: RunEvidence, tmp_path: Path, crossref_sim: CrossrefSimulator,
) -> None:
    # CONSTRUCTED in the test: a bioRxiv-style posted-content record linking its journal version.
    crossref_sim.add_record({
        "DOI": "10.1101/2011.12.01.000001", "type": "posted-content", "subtype": "preprint",
        "title": ["Methylphenidate exposure induces dopamine neuron loss in mice"],
        "author": [{"family": "Sadasivan", "given": "Shankar"}],
        "issued": {"date-parts": [[2011, 12, 1]]}, "publisher": "Cold Spring Harbor Laboratory",
        "relation": {"is-preprint-of": [{"id-type": "doi", "id": "10.1371/journal.pone.0033693",
                                         "asserted-by": "subject"}]},
    })
    bib = """@misc{preprint, title={Methylphenidate exposure induces dopamine neuron loss in mice},
  author={Sadasivan, Shankar}, year={2011}, doi={10.1101/2011.12.01.000001}}
@article{arxiv, title={Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of
  Microglia in the Basal Ganglia of Mice}, author={Sadasivan, Shankar}, year={2011},
  journal={arXiv preprint arXiv:1112.0001}, eprint={1112.0001}, archivePrefix={arXiv}}
"""
    _, refs, _ = check(run_evidence, tmp_path, "refs.bib", bib)
    for ref in refs:
        assert codes(ref) == ["published-version-available"], ref["id"]
        assert ref["findings"][0]["suggestion"] == "10.1371/journal.pone.0033693"
    plain = run_evidence("fix", "refs.bib")
    assert "10.1371/journal.pone.0033693" not in plain.stdout  # only with --prefer-published
    result = run_evidence("fix", "refs.bib", "--prefer-published", "--write")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "refs.bib").read_text(encoding="utf-8")
    assert "doi={10.1371/journal.pone.0033693}" in text  # the preprint's DOI replaced
    assert "doi = {10.1371/journal.pone.0033693}" in text  # added beside the arXiv eprint
    assert "10.1101/2011.12.01.000001" not in text and "eprint={1112.0001}" in text


# -- reviews ------------------------------------------------------------------------------------

def test_study_add_pmid_fills_citation_and_refuses_retracted(
    run_evidence: RunEvidence, evidence_env: dict[str, str], eutils_sim: EUtilsSimulator,
    crossref_sim: CrossrefSimulator,
) -> None:
    from ruamel.yaml import YAML

    # Crossref holds the article's DOI too (a record CONSTRUCTED from the PubMed one).
    crossref_sim.add_record(_crossref_copy("27797938", "pubmed4.xml"))

    made = run_evidence("review", "new", "act", "--title", "Telomeres", "--question", "Do they?")
    assert made.returncode == 0, made.stderr
    path = Path(evidence_env["EVIDENCE_REVIEWS_DIR"]) / "act.yaml"
    added = run_evidence("study", "add", "act", "--pmid", "PMID: 27797938", "--design", "cohort")
    assert added.returncode == 0, added.stderr
    [study] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))["studies"]
    citation = study["citation"]
    assert study["id"] == "bao2017"
    assert citation["title"].startswith("Leucocyte telomere length")
    assert citation["doi"] == "10.1136/gutjnl-2016-312510"  # from the ArticleIdList
    assert (citation["pmid"], citation["pmcid"]) == ("27797938", "PMC5442267")
    assert (citation["volume"], citation["issue"], citation["year"]) == ("66", "6", 2017)
    again = run_evidence("study", "add", "act", "--pmid", "27797938")
    assert again.returncode == 2 and "already in review" in again.stderr

    before = path.read_bytes()
    refused = run_evidence("study", "add", "act", "--pmid", "39990001")
    assert refused.returncode == 1 and "retracted" in refused.stderr
    assert "39990002" in refused.stderr and path.read_bytes() == before
    bad = run_evidence("study", "add", "act", "--pmid", "12ab")
    assert bad.returncode == 2 and "--pmid" in bad.stderr
    kept = run_evidence("study", "add", "act", "--pmid", "39990001", "--allow-retracted")
    assert kept.returncode == 0, kept.stderr
    studies = YAML(typ="safe").load(path.read_text(encoding="utf-8"))["studies"]
    assert any("Retracted" in c for c in studies[1]["caveats"])
    # review audit checks the study's PMID against PubMed too: the retraction is flagged.
    audited = run_evidence("review", "audit", "act", "--json")
    assert audited.returncode == 1, audited.stderr
    report = json.loads(audited.stdout)
    statuses = {ref["id"]: ref["status"] for ref in report["report"]["references"]}
    assert statuses["bao2017"] == "ok" and "error" in statuses.values()


def test_pmcid_alone_and_matching_through_pubmed(
    run_evidence: RunEvidence, tmp_path: Path, eutils_sim: EUtilsSimulator,
) -> None:
    text = (
        # Cited by its PMCID only: ESearch finds the PMID, then the record is checked.
        "Garcia-Tabar I, Gorostiaga EM. A \"Blood Relationship\" Between the Overlooked Minimum "
        "Lactate Equivalent and Maximal Lactate Steady State in Trained Runners. Back to the Old "
        "Days? Front Physiol. 2018;9:1034. PMCID: PMC6079548.\n\n"
        "Nobody A. Nothing at all. J X. 2020;1:1. PMCID: PMC9999999.\n\n"
        # No identifier at all: Crossref's search finds nothing, PubMed's finds the record.
        "Bao Y, Prescott J, Yuan C, et al. Leucocyte telomere length, genetic variants at the "
        "TERT gene region and risk of pancreatic cancer. Gut. 2017;66(6):1116-1122.\n"
    )
    _, refs, _ = check(run_evidence, tmp_path, "refs.txt", text)
    assert codes(refs[0]) == [] and refs[0]["registered"]["pmid"] == "30108519"
    assert codes(refs[1]) == ["pmid-not-found"] and refs[1]["findings"][0]["field"] == "pmcid"
    matched = refs[2]
    assert codes(matched) == ["doi-suggested"]
    assert matched["doi"] == "10.1136/gutjnl-2016-312510"
    assert "PMID 27797938" in matched["findings"][0]["message"]
    searches = [t for t in eutils_sim.stats.targets() if "esearch" in t]
    assert any("PMC6079548" in t for t in searches) and any("%5Bau%5D" in t for t in searches)
    # --no-pubmed-search: the unmatched reference stays unverifiable.
    before = len(eutils_sim.stats.targets())
    _, refs, _ = check(run_evidence, tmp_path, "refs.txt", text.split("\n\n")[2],
                       "--no-pubmed-search", "--refresh")
    assert codes(refs[0]) == ["no-match"]
    assert not any("esearch" in t for t in eutils_sim.stats.targets()[before:])


def test_simulators_answer_like_ncbi_and_datacite(
    eutils_sim: EUtilsSimulator, datacite_sim: DataCiteSimulator,
) -> None:
    import httpx

    with httpx.Client() as client:
        answers = [client.get(f"{eutils_sim.url}/efetch.fcgi",
                              params={"db": "pubmed", "retmode": "xml", "id": "9997"})
                   for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        assert answers[0].headers["content-type"] == "text/xml; charset=UTF-8"
        assert b"<PMID Version=\"1\">9997</PMID>" in answers[0].content
        assert answers[3].status_code == 429  # past 3 a second without a key
        assert answers[3].headers["content-type"] == "application/json"
        assert answers[3].json()["error"] == "API rate limit exceeded"
        keyed = client.get(f"{eutils_sim.url}/efetch.fcgi",
                           params={"db": "pubmed", "id": "9997", "api_key": "k"})
        assert keyed.status_code == 200  # a key has its own, higher limit
        found = client.get(f"{datacite_sim.url}/dois/10.5281/zenodo.48440?include=media,client")
        assert found.status_code == 200 and found.json()["data"]["attributes"]["publisher"]
        assert found.headers["content-type"] == "application/json; charset=utf-8"
        missing = client.get(f"{datacite_sim.url}/dois/10.5281/zenodo.0")
        assert missing.status_code == 404 and missing.json()["errors"][0]["status"] == "404"


def test_pubmed_answers_are_cached_by_service_origin(
    run_evidence: RunEvidence, tmp_path: Path, eutils_sim: EUtilsSimulator,
    evidence_env: dict[str, str],
) -> None:
    """An answer from one --ncbi-url is never served, even offline, as another server's (#14)."""
    text = VANCOUVER.split("\n\n")[0] + "\n"
    _, [ref], _ = check(run_evidence, tmp_path, "refs.txt", text)
    assert ref["status"] == "ok"
    other = {**evidence_env, "EVIDENCE_NCBI_URL": "http://127.0.0.1:9/entrez/eutils"}
    code, [ref], _ = check(run_evidence, tmp_path, "refs.txt", text, "--offline", env=other)
    assert ref["status"] == "unverifiable" and code == 4


@pytest.mark.parametrize(("text", "pmid", "pmcid", "arxiv"), [
    ("Smith J. A title. PMID: 12345678. arXiv:2101.00001. PMC1234567",
     "12345678", "PMC1234567", "2101.00001"),
    ("Smith J. A title. https://pubmed.ncbi.nlm.nih.gov/12345678/", "12345678", None, None),
    # IGNORECASE lets "ı" stand for "i": the quick test looks for "pm" and "arx", not "pmid".
    ("Smith J. A title. PMıD: 12345678. arXıv:2101.00001", "12345678", None, "2101.00001"),
    ("Müller A. Über die Dinge. Z Dinge. 2001;1:2-3.", None, None, None),
    ("Smith J. A title. Nature. 2001;1:2-3.", None, None, None),
])
def test_ids_in_text_with_and_without_the_quick_test(text: str, pmid: str | None,
                                                     pmcid: str | None, arxiv: str | None) -> None:
    """find_in_text skips its scans for an ASCII text naming no id (#12): none is lost."""
    found = identifiers.find_in_text(text)
    assert (found.pmid, found.pmcid, found.arxiv) == (pmid, pmcid, arxiv)


def test_the_quick_test_letters_have_no_other_stand_in() -> None:
    """find_in_text's quick test reads "pm", "pubmed" and "arx" in the lowered text, the
    parser's and tokenizer's "http" and "www.": no other code point matches one of their
    letters under IGNORECASE without lowering to it."""
    every = "".join(map(chr, range(128, sys.maxunicode + 1)))
    stand_ins = re.findall("[pmubedarxhtw]", every, re.IGNORECASE)
    odd = [char for char in stand_ins for letter in "pmubedarxhtw"
           if re.fullmatch(letter, char, re.IGNORECASE) and letter not in char.lower()]
    assert odd == []
    assert re.findall("[i]", every, re.IGNORECASE) == ["İ", "ı"]  # why "arx", not "arxiv"
