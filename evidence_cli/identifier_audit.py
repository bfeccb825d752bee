"""The audit beyond Crossref DOIs: PMIDs against PubMed, DataCite DOIs against DataCite, arXiv ids
as their DataCite DOIs, and "a published version exists" for cited preprints.

audit.py calls in here at three points: which DOIs to look up (arXiv ids add theirs), the
lookups after Crossref's (PubMed and DataCite), and the findings per reference.
"""

from __future__ import annotations

import asyncio
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.checks.normalize import title_key
from evidence_cli.checks.notices import check_pubmed_record
from evidence_cli.checks.versions import check_versions
from evidence_cli.codes import CODES
from evidence_cli.models import Finding, Reference, ReferenceResult
from evidence_cli.records import first_text, registered_fields
from evidence_cli.services.crossref import WorkLookup
from evidence_cli.services.pubmed import ArticleLookup
from evidence_cli.services.session import Services


def _finding(code: str, message: str, **fields: Any) -> Finding:
    return Finding(code=code, severity=CODES[code].severity, message=message, **fields)


def doi_to_look_up(ref: Reference) -> str | None:
    """The cited DOI, or the DataCite DOI of a cited arXiv id (a well-formed one)."""
    if ref.cited.doi:
        return ref.cited.doi
    if ref.cited.arxiv and identifiers.is_valid_arxiv(ref.cited.arxiv):
        return identifiers.arxiv_doi(ref.cited.arxiv)
    return None


def has_other_id(ref: Reference) -> bool:
    """The reference names its work by a PMID or an arXiv id: it is looked up by that, not
    searched for."""
    return bool(ref.cited.pmid or ref.cited.arxiv)


def _pmid(ref: Reference) -> str | None:
    pmid = ref.cited.pmid
    return pmid if pmid and identifiers.is_valid_pmid(pmid) else None


async def look_up(references: list[Reference], services: Services) -> dict[str, ArticleLookup]:
    """PubMed records for the cited PMIDs (batched)."""
    pmids = [pmid for pmid in (_pmid(ref) for ref in references) if pmid]
    if not pmids:
        return {}
    return await services.pubmed.get_articles(pmids)


async def resolve_datacite(lookups: dict[str, WorkLookup], services: Services) -> None:
    """Replace Crossref's "held by DataCite" answers with DataCite's record (in place)."""
    wanted = [doi for doi, lookup in lookups.items()
              if lookup.outcome == "other-agency" and (lookup.agency or "").lower() == "datacite"]
    if not wanted:
        return
    answers = await services.datacite.get_records(wanted)
    for doi in wanted:
        answer = answers[doi]
        if answer.outcome == "found" and answer.record is not None:
            lookups[doi] = WorkLookup(doi, "found", answer.record, agency="DataCite")
        elif answer.outcome == "not-found":
            # doi.org names DataCite, but its API holds no record (a draft or just-registered
            # DOI): the answer stays "registered elsewhere, metadata not compared".
            continue
        else:
            lookups[doi] = WorkLookup(doi, "unavailable", agency="DataCite",
                                      detail=str(answer.detail))


async def gather_lookups(references: list[Reference], lookups: dict[str, WorkLookup],
                         services: Services) -> dict[str, ArticleLookup]:
    articles, _ = await asyncio.gather(look_up(references, services),
                                       resolve_datacite(lookups, services))
    return articles


def assess(result: ReferenceResult, lookups: dict[str, WorkLookup],
           articles: dict[str, ArticleLookup]) -> None:
    """Add what the other identifiers say to a reference's findings (pure: no I/O)."""
    ref = result.reference
    cited = ref.cited
    _malformed(result)
    looked_up = doi_to_look_up(ref)
    if looked_up and result.doi is None and doi_rules.is_valid(looked_up) and not cited.doi:
        _assess_arxiv_doi(result, looked_up, lookups)
    doi_lookup = lookups.get(result.doi or "") if result.doi else None
    if doi_lookup is not None and doi_lookup.outcome == "found" and doi_lookup.record:
        result.findings.extend(check_versions(doi_lookup.record))
    pmid = _pmid(ref)
    if pmid is not None and pmid in articles:
        _assess_pmid(result, pmid, articles[pmid], doi_lookup)


def _malformed(result: ReferenceResult) -> None:
    cited = result.reference.cited
    if cited.pmid and not identifiers.is_valid_pmid(cited.pmid):
        result.findings.append(_finding(
            "pmid-malformed",
            f"{cited.pmid!r} is not a well-formed PMID (a PMID is a number, e.g. 33675048).",
            field="pmid", cited=cited.pmid,
        ))
    if cited.pmcid and not identifiers.is_valid_pmcid(cited.pmcid):
        result.findings.append(_finding(
            "pmid-malformed",
            f"{cited.pmcid!r} is not a well-formed PMCID (PMC and a number, e.g. PMC7613024).",
            field="pmcid", cited=cited.pmcid,
        ))
    if cited.arxiv and not identifiers.is_valid_arxiv(cited.arxiv):
        result.findings.append(_finding(
            "arxiv-malformed",
            f"{cited.arxiv!r} is not a well-formed arXiv id (e.g. 2101.00001 or hep-th/9901001).",
            field="arxiv", cited=cited.arxiv,
        ))


def _assess_arxiv_doi(result: ReferenceResult, doi: str, lookups: dict[str, WorkLookup]) -> None:
    """A reference citing an arXiv id (no DOI): checked as the id's DataCite DOI."""
    from evidence_cli.checks import check_record

    lookup = lookups.get(doi)
    arxiv = result.reference.cited.arxiv
    if lookup is None:
        return
    if lookup.outcome == "found" and lookup.record is not None:
        result.doi = doi
        result.registered = registered_fields(lookup.record)
        result.findings.extend(check_record(result.reference.cited, lookup.record))
    elif lookup.outcome == "not-found":
        result.findings.append(_finding(
            "doi-not-found",
            f"arXiv id {arxiv}: its DOI {doi} is not registered; the id is mistyped or "
            "does not exist.", field="arxiv", cited=arxiv,
        ))
    else:
        result.findings.append(_finding(
            "service-unavailable",
            f"arXiv id {arxiv} could not be checked ({doi}): {lookup.detail or lookup.agency}.",
            field="arxiv", cited=arxiv,
        ))


def _assess_pmid(result: ReferenceResult, pmid: str, lookup: ArticleLookup,
                 doi_lookup: WorkLookup | None) -> None:
    cited = result.reference.cited
    if lookup.outcome == "not-found":
        result.findings.append(_finding(
            "pmid-not-found",
            f"PubMed holds no record for PMID {pmid}: it is mistyped or was never assigned.",
            field="pmid", cited=pmid,
        ))
        return
    if lookup.outcome != "found" or lookup.record is None:
        result.findings.append(_finding(
            "service-unavailable",
            f"PubMed could not be asked about PMID {pmid}: {lookup.detail}.",
            field="pmid", cited=pmid,
        ))
        return
    record = lookup.record
    checked = check_pubmed_record(cited, record)
    conflict = _conflict(result, pmid, record, doi_lookup, checked)
    if conflict is not None:
        # The PMID names another work than the DOI: its fields say nothing about this citation.
        result.findings.append(conflict)
        return
    if result.registered is None:
        result.registered = registered_fields(record)
        result.registered.pmid = pmid
        result.registered.pmcid = (record.get("pubmed") or {}).get("pmcid")
        result.findings.extend(checked)
        return
    # Both the DOI and the PMID were checked: the worse verdict stands, each problem once.
    seen = {(f.code, f.field) for f in result.findings}
    result.findings.extend(f for f in checked if (f.code, f.field) not in seen)


def _title(record: dict[str, Any] | None) -> str:
    title = first_text((record or {}).get("title")) or "(untitled)"
    return title if len(title) <= 120 else title[:117] + "..."


def _conflict(result: ReferenceResult, pmid: str, record: dict[str, Any],
              doi_lookup: WorkLookup | None, checked: list[Finding]) -> Finding | None:
    cited = result.reference.cited
    pubmed = record.get("pubmed") or {}
    listed_doi = str(record.get("DOI") or "").lower() or None
    cited_doi = cited.doi if cited.doi and doi_rules.is_valid(cited.doi) else None
    agrees = not any(f.code in ("title-mismatch", "author-mismatch", "doi-mismatch")
                     for f in checked)
    if cited_doi and listed_doi and doi_rules.normalize(listed_doi) != cited_doi:
        doi_record = doi_lookup.record if doi_lookup and doi_lookup.outcome == "found" else None
        if doi_record is not None and title_key(_title(doi_record)) == title_key(_title(record)):
            return None  # one work under two DOIs (e.g. a reprint): not a conflict to report
        doi_side = (f"the DOI {cited_doi} is “{_title(doi_record)}”" if doi_record
                    else f"the DOI {cited_doi} is not the DOI PubMed lists")
        which = (" The PubMed record matches the cited title and authors."
                 if agrees else "")
        return _finding(
            "id-conflict",
            f"The cited DOI and PMID name different works: {doi_side}; PMID {pmid} is "
            f"“{_title(record)}” (DOI {listed_doi}).{which}",
            field="pmid", cited={"doi": cited_doi, "pmid": pmid},
            registered={"doi": doi_record.get("DOI") if doi_record else None,
                        "pmid_doi": listed_doi},
            suggestion=listed_doi if agrees else None,
        )
    listed_pmcid = pubmed.get("pmcid")
    if (cited.pmcid and identifiers.is_valid_pmcid(cited.pmcid) and listed_pmcid
            and listed_pmcid.upper() != cited.pmcid):
        return _finding(
            "id-conflict",
            f"The cited PMID and PMCID name different works: PMID {pmid} (“{_title(record)}”) "
            f"is {listed_pmcid} in PubMed Central, not {cited.pmcid}.",
            field="pmcid", cited={"pmid": pmid, "pmcid": cited.pmcid},
            registered={"pmcid": listed_pmcid},
        )
    return None
