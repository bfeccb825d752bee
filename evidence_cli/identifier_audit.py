"""The audit beyond Crossref DOIs: PMIDs against PubMed, DataCite DOIs against DataCite, arXiv ids
as their DataCite DOIs, and "a published version exists" for cited preprints.

audit.py calls in here at three points: which DOIs to look up (arXiv ids add theirs), the
lookups after Crossref's (PubMed and DataCite), and the findings per reference.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli import identifiers
from evidence_cli.checks.normalize import title_key
from evidence_cli.checks.notices import check_pubmed_record
from evidence_cli.checks.records import registered_fields
from evidence_cli.checks.versions import check_versions
from evidence_cli.codes import finding as _finding
from evidence_cli.models import CitedFields, Finding, Reference, ReferenceResult, first_text
from evidence_cli.search_plan import search_once
from evidence_cli.services.crossref import WorkLookup
from evidence_cli.services.interfaces import AuditServices
from evidence_cli.services.pubmed import ArticleLookup

ARXIV_PREFIX = "10.48550/"  # arXiv's DataCite DOIs


def doi_to_look_up(ref: Reference) -> str | None:
    """The cited DOI, or the DataCite DOI of a cited arXiv id (a well-formed one)."""
    if ref.cited.doi:
        return ref.cited.doi
    if ref.cited.arxiv and identifiers.is_valid_arxiv(ref.cited.arxiv):
        return identifiers.arxiv_doi(ref.cited.arxiv)
    return None


def has_other_id(ref: Reference) -> bool:
    """The reference names its work by a well-formed PMID, PMCID or arXiv id: it is looked up by
    that, not searched for (a malformed one is reported, and the work still searched for)."""
    cited = ref.cited
    return bool((cited.pmid and identifiers.is_valid_pmid(cited.pmid))
                or (cited.pmcid and identifiers.is_valid_pmcid(cited.pmcid))
                or (cited.arxiv and identifiers.is_valid_arxiv(cited.arxiv)))


def _pmid(ref: Reference) -> str | None:
    pmid = ref.cited.pmid
    return pmid if pmid and identifiers.is_valid_pmid(pmid) else None


def _pmcid_only(ref: Reference) -> str | None:
    """A well-formed PMCID cited without a PMID (it is looked up through ESearch)."""
    pmcid = ref.cited.pmcid
    if ref.cited.pmid or not pmcid or not identifiers.is_valid_pmcid(pmcid):
        return None
    return pmcid


# PMCID -> the PMID ESearch found for it ("" when it found none); filled by look_up.
PMCID_KEY = "pmcid:"


async def look_up(references: list[Reference], services: AuditServices) -> dict[str, ArticleLookup]:
    """PubMed records for the cited PMIDs (batched), and for PMCIDs cited without a PMID (each
    resolved to its PMID with ESearch first). A PMCID's answer is kept under "pmcid:PMC..."."""
    pmids = [pmid for pmid in (_pmid(ref) for ref in references) if pmid]
    pmcids = list(dict.fromkeys(p for p in (_pmcid_only(ref) for ref in references) if p))
    found = await asyncio.gather(*(services.pubmed.search(f"{p}[pmcid]", 2) for p in pmcids))
    resolved: dict[str, str | None] = {}
    for pmcid, ids in zip(pmcids, found, strict=True):
        resolved[pmcid] = None if ids is None else (ids[0] if len(ids) == 1 else "")
    wanted = [*pmids, *(p for p in resolved.values() if p)]
    articles = await services.pubmed.get_articles(wanted) if wanted else {}
    for pmcid, pmid in resolved.items():
        key = PMCID_KEY + pmcid
        if pmid is None:
            articles[key] = ArticleLookup(pmcid, "unavailable",
                                          detail="PubMed's search could not be asked")
        elif not pmid:
            articles[key] = ArticleLookup(pmcid, "not-found")
        else:
            articles[key] = articles[pmid]
    return articles


async def resolve_datacite(lookups: dict[str, WorkLookup], services: AuditServices) -> None:
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
                         services: AuditServices) -> dict[str, ArticleLookup]:
    articles, _ = await asyncio.gather(look_up(references, services),
                                       resolve_datacite(lookups, services))
    return articles


def assess(result: ReferenceResult, lookups: dict[str, WorkLookup],
           articles: dict[str, ArticleLookup],
           versions: dict[str, list[Finding]] | None = None) -> None:
    """Add what the other identifiers say to a reference's findings (pure: no I/O).
    `versions` keeps each record's version findings for the batch's other references citing
    it (check_versions reads only the record; the findings are frozen and can be shared)."""
    ref = result.reference
    cited = ref.cited
    _malformed(result)
    looked_up = doi_to_look_up(ref)
    if looked_up and result.doi is None and doi_rules.is_valid(looked_up) and not cited.doi:
        _assess_arxiv_doi(result, looked_up, lookups)
    if (result.doi or "").startswith(ARXIV_PREFIX) and cited.container and \
            re.search(r"\b(?:arxiv|corr)\b", cited.container, re.IGNORECASE):
        # "arXiv preprint arXiv:2101.00001", "ArXiv e-prints", "CoRR": how BibTeX exports name
        # arXiv as a journal; DataCite says "arXiv". Not a different container.
        result.findings = [f for f in result.findings if f.code != "container-mismatch"]
    doi_lookup = lookups.get(result.doi or "") if result.doi else None
    if doi_lookup is not None and doi_lookup.outcome == "found" and doi_lookup.record:
        if versions is None:
            result.findings.extend(check_versions(doi_lookup.record))
        else:
            key = result.doi or ""
            known = versions.get(key)
            if known is None:
                known = versions[key] = check_versions(doi_lookup.record)
            result.findings.extend(known)
    pmid = _pmid(ref)
    if pmid is not None and pmid in articles:
        _assess_pmid(result, pmid, articles[pmid], doi_lookup)
    pmcid = _pmcid_only(ref)
    if pmcid is not None and PMCID_KEY + pmcid in articles:
        lookup = articles[PMCID_KEY + pmcid]
        if lookup.outcome == "not-found":
            result.findings.append(_finding(
                "pmid-not-found",
                f"PubMed holds no record for {pmcid}: it is mistyped or was never assigned.",
                field="pmcid", cited=pmcid,
            ))
        elif lookup.outcome != "found":
            result.findings.append(_finding(
                "service-unavailable", f"PubMed could not be asked about {pmcid}: {lookup.detail}.",
                field="pmcid", cited=pmcid,
            ))
        else:
            _assess_pmid(result, lookup.pmid, lookup, doi_lookup)


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
        result.findings.extend(check_record(result.reference.cited, lookup.record,
                                            result.reference.text, result.reference.query))
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
    checked = check_pubmed_record(cited, record, result.reference.text)
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
    agrees = not any(f.code in ("title-mismatch", "author-mismatch", "pmid-mismatch")
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


# -- matching through PubMed ---------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]{3,}")
_TERM_STOP = frozenset({"the", "and", "for", "with", "from", "that", "this", "into", "between",
                        "among", "after", "before", "during", "versus", "over", "under"})
MAX_TITLE_WORDS = 8


def pubmed_term(cited: CitedFields) -> str | None:
    """An ESearch query from the parsed fields: title words, first author, year; None when the
    reference lacks any of them (a vaguer query would only invite wrong candidates)."""
    if not cited.title or not cited.authors or not cited.year:
        return None
    words = [w.lower() for w in _WORD.findall(cited.title) if w.lower() not in _TERM_STOP]
    family = _WORD.findall(cited.authors[0])
    if len(words) < 3 or not family:
        return None
    clauses = [f"{w}[ti]" for w in dict.fromkeys(words[:MAX_TITLE_WORDS])]
    clauses += [f"{family[-1].lower()}[au]", f"{cited.year}[dp]"]
    return " AND ".join(clauses)


async def match_in_pubmed(results: list[ReferenceResult], services: AuditServices,
                          threshold: float) -> None:
    """For references Crossref's search found no convincing record for: ESearch PubMed with the
    parsed fields and validate the candidates exactly as Crossref's (matching.choose). A clear
    winner replaces `no-match` with `doi-suggested` (naming the PMID) and is field-checked;
    anything less leaves the reference as it was. Never a guess."""
    from evidence_cli.checks import matching

    wanted = [(r, term) for r in results
              if (term := pubmed_term(r.reference.query or r.reference.cited))]
    if not wanted:
        return
    id_lists = await search_once(services.pubmed.search, [term for _, term in wanted])
    ids = list(dict.fromkeys(i for found in id_lists if found for i in found))
    articles = await services.pubmed.get_articles(ids) if ids else {}
    for (result, _), found in zip(wanted, id_lists, strict=True):
        candidates = [articles[i].record for i in found or []
                      if i in articles and articles[i].record is not None]
        ref = result.reference
        outcome = matching.choose(ref.cited, ref.raw, [c for c in candidates if c], threshold)
        if outcome.kind != "matched" or outcome.record is None:
            continue
        record = outcome.record
        pmid = (record.get("pubmed") or {}).get("pmid")
        doi = str(record.get("DOI") or "").lower()
        result.findings = [f for f in result.findings if f.code != "no-match"]
        result.findings.append(_finding(
            "doi-suggested",
            f"The reference gives no DOI; PubMed holds a record that matches it (PMID {pmid}, "
            f"confidence {outcome.confidence:.2f}): {doi}",
            field="doi", registered=doi, suggestion=doi,
        ))
        result.doi = doi
        result.registered = registered_fields(record)
        result.registered.pmid = pmid
        result.findings.extend(check_pubmed_record(ref.cited, record, ref.text))
