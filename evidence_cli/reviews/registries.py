"""What the registries hold for a study's DOI or PMID: its citation, caveats, and refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from evidence_cli.errors import RefusedError, ServiceError
from evidence_cli.models import CitedFields

if TYPE_CHECKING:
    from evidence_cli.services.crossref import WorkLookup
    from evidence_cli.services.pubmed import ArticleLookup

Warn = Callable[[str], None]


class Registries(Protocol):
    """The lookups `study add` needs, handed in by the caller (real services or a fake)."""

    def works(self, dois: list[str]) -> Mapping[str, WorkLookup]:
        """Crossref's answers for DOIs."""
        ...

    def articles(self, pmids: list[str]) -> Mapping[str, ArticleLookup]:
        """PubMed's answers for PMIDs."""
        ...


@dataclass(frozen=True, slots=True)
class Registered:
    """A study's citation as a registry holds it, the caveats to record, and the audit the
    retraction notices call for (None when there are none)."""

    citation: dict[str, Any]
    caveats: list[str] = field(default_factory=list)
    audit: dict[str, Any] | None = None


def citation_from_fields(fields: CitedFields) -> dict[str, Any]:
    """A study citation from Crossref's registered fields; empty fields are left out."""
    data = fields.to_dict()
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def retraction_in(findings: Iterable[Any]) -> Any | None:
    """The `retracted` finding among a record's findings (Crossref's updates or PubMed's
    notices), or None: a retracted work is not added to a review as evidence unless asked."""
    return next((f for f in findings if getattr(f, "code", None) == "retracted"), None)


def citation_for_doi(registries: Registries, doi: str, *, unverified: bool,
                     allow_retracted: bool, today: dt.date, warn: Warn) -> Registered:
    """The citation Crossref registers for a DOI; a caveat when it could not be confirmed.

    A DOI no agency knows, or a Crossref outage, is refused unless `unverified`; a retraction
    or expression of concern unless `allow_retracted`, which marks the study as `review audit`
    would (tables and lists show RETRACTED).
    """
    from evidence_cli.checks.updates import check_updates
    from evidence_cli.checks.records import registered_fields

    lookup = registries.works([doi])[doi]
    if lookup.outcome == "found" and lookup.record is not None:
        citation = citation_from_fields(registered_fields(lookup.record))
        citation["doi"] = doi
        notices = [f for f in check_updates(lookup.record)
                   if f.code in ("retracted", "expression-of-concern")]
        if not notices:
            return Registered(citation)
        codes = list(dict.fromkeys(f.code for f in notices))
        said = " ".join(f.message for f in notices)
        if not allow_retracted:
            raise RefusedError(f"{doi}: {said} Not added; add it anyway with "
                               "--allow-retracted (it is then marked in the review)")
        audit = {"date": today, "findings": codes,
                 "status": "error" if "retracted" in codes else "warning"}
        return Registered(citation, [f"Added with --allow-retracted ({today}): {said}"], audit)
    if lookup.outcome == "other-agency":
        warn(f"note: {doi} is registered with {lookup.agency or 'another agency'}, not "
             "Crossref: describe the citation with --title, --author, --year ...")
        return Registered({"doi": doi})
    if lookup.outcome == "not-found":
        if not unverified:
            raise RefusedError(f"no registration agency knows the DOI {doi}: check it, "
                               "or add the study anyway with --unverified")
        return Registered({"doi": doi}, [f"Unverified: no registration agency knew the DOI "
                                         f"{doi} when the study was added ({today})."])
    if not unverified:
        raise ServiceError(f"Crossref could not be asked about {doi} "
                           f"({lookup.detail or 'unavailable'}); try again later, or add the "
                           "study with --unverified")
    return Registered({"doi": doi}, [f"Unverified: Crossref could not be asked about the DOI "
                                     f"when the study was added ({today})."])


def citation_for_pmid(registries: Registries, pmid: str, *, unverified: bool,
                      allow_retracted: bool, today: dt.date) -> Registered:
    """The citation PubMed holds for a PMID (its DOI from the ArticleIdList), and caveats.

    A work PubMed (or Crossref, for its DOI) records as retracted is refused unless
    `allow_retracted`, which records the retraction as a caveat.
    """
    from evidence_cli.checks.notices import check_pubmed_notices
    from evidence_cli.checks.updates import check_updates
    from evidence_cli.checks.records import registered_fields

    lookup = registries.articles([pmid])[pmid]
    if lookup.outcome != "found" or lookup.record is None:
        known = lookup.outcome == "not-found"
        if not unverified:
            if known:
                raise RefusedError(f"PubMed holds no record for PMID {pmid}: check it, or add "
                                   "the study anyway with --unverified")
            raise ServiceError(f"PubMed could not be asked about PMID {pmid} "
                               f"({lookup.detail or 'unavailable'}); try again later, or add "
                               "the study with --unverified")
        said = (f"PubMed held no record for PMID {pmid}" if known
                else "PubMed could not be asked about the PMID")
        return Registered({"pmid": pmid, "title": f"PMID {pmid}"},
                          [f"Unverified: {said} when the study was added ({today})."])
    record = lookup.record
    findings = check_pubmed_notices(record)
    doi = str(record.get("DOI") or "").lower() or None
    if doi:
        # The same refusal as --doi: Crossref may know of a retraction PubMed does not show yet.
        crossref = registries.works([doi]).get(doi)
        if crossref is not None and crossref.outcome == "found" and crossref.record:
            findings.extend(check_updates(crossref.record))
    retraction = retraction_in(findings)
    caveats: list[str] = []
    if retraction is not None:
        if not allow_retracted:
            raise RefusedError(f"PMID {pmid} is retracted: {retraction.message} Add it anyway "
                               "with --allow-retracted.")
        caveats.append(f"Retracted: {retraction.message} (added with --allow-retracted, "
                       f"{today}).")
    citation = citation_from_fields(registered_fields(record))
    citation.pop("url", None)
    citation["pmid"] = pmid
    pmcid = (record.get("pubmed") or {}).get("pmcid")
    if pmcid:
        citation["pmcid"] = pmcid
    if doi:
        citation["doi"] = doi
    return Registered(citation, caveats)
