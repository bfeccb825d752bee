"""`review audit`: check the studies of a review, and flag the claims that rest on bad ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evidence_cli import doi as doi_rules
from evidence_cli.models import (
    CitedFields,
    Reference,
    ReferenceResult,
    SourceLocation,
    Status,
    first_text,
)
from evidence_cli.reviews.shapes import node_line
from evidence_cli.reviews.store import ReviewStore, today


def reference_of(study: Mapping[str, Any], path: str, line: int) -> Reference:
    """A study's citation as a Reference, located at the study's line in the review file."""
    citation = study.get("citation") or {}
    raw_doi = first_text(citation.get("doi"))
    year = citation.get("year")
    cited = CitedFields(
        doi=doi_rules.normalize(raw_doi) if raw_doi else None,
        title=first_text(citation.get("title")),
        authors=[str(a) for a in citation.get("authors") or []],
        year=int(year) if isinstance(year, int) and not isinstance(year, bool) else None,
        container=first_text(citation.get("container")),
        volume=first_text(citation.get("volume")),
        issue=first_text(citation.get("issue")),
        pages=first_text(citation.get("pages")),
        url=first_text(citation.get("url")),
        pmid=first_text(citation.get("pmid")),
        pmcid=first_text(citation.get("pmcid")),
    )
    raw_parts = [
        "; ".join(cited.authors), f"({cited.year})" if cited.year else "", cited.title or "",
        cited.container or "", cited.volume or "", cited.pages or "",
        f"doi:{cited.doi}" if cited.doi else (cited.url or ""),
    ]
    raw = ". ".join(part for part in raw_parts if part)
    return Reference(id=str(study["id"]), source=SourceLocation(path, line), raw=raw, cited=cited)


def references_of(studies: Sequence[Any], path: str) -> list[Reference]:
    return [reference_of(study, path, node_line(study) or 1) for study in studies]


@dataclass(slots=True)
class ClaimVerdict:
    """A claim and what is wrong with the studies behind it (nothing, when `problems` is empty)."""

    claim_id: str
    statement: str
    problems: list[str] = field(default_factory=list)
    # A missing or retracted study makes it an error; an unverifiable one unverifiable.
    worst: Status = Status.OK

    @property
    def status(self) -> str:
        return "flagged" if self.problems else "ok"


def judge_claims(
    claims: Sequence[Mapping[str, Any]], statuses: Mapping[str, tuple[str, list[str]]]
) -> list[ClaimVerdict]:
    """Flag claims whose studies are missing, retracted, in error or unverifiable.

    `statuses` maps study id -> (status, finding codes) from this audit.
    """
    verdicts = []
    for claim in claims:
        verdict = ClaimVerdict(str(claim.get("id")), str(claim.get("statement", "")))
        for study_id in claim.get("studies") or []:
            if study_id not in statuses:
                verdict.problems.append(f"study '{study_id}' is not in the review")
                verdict.worst = Status.ERROR
                continue
            status, codes = statuses[study_id]
            if "retracted" in codes:
                verdict.problems.append(f"study '{study_id}' is RETRACTED")
                verdict.worst = Status.ERROR
            elif status == "error":
                # Not asked for by name, but a claim resting on a DOI nobody knows or a citation
                # naming another work is no better supported than one resting on nothing.
                verdict.problems.append(f"study '{study_id}' failed its check "
                                        f"({', '.join(codes)})")
                verdict.worst = Status.ERROR
            elif status == "unverifiable":
                verdict.problems.append(f"study '{study_id}' could not be verified")
                if verdict.worst is Status.OK:
                    verdict.worst = Status.UNVERIFIABLE
        verdicts.append(verdict)
    return verdicts


def study_audit(result: ReferenceResult, today: dt.date) -> dict[str, Any]:
    """What is stored in a study's `audit`: the date, the status and the finding codes."""
    codes = list(dict.fromkeys(finding.code for finding in result.findings))
    return {"date": today, "status": result.status.value, "findings": codes}


def claim_audit(verdict: ClaimVerdict, today: dt.date) -> dict[str, Any]:
    audit: dict[str, Any] = {"date": today, "status": verdict.status}
    if verdict.problems:
        audit["problems"] = list(verdict.problems)
    return audit


# Checks references against the registries: the caller hands it in (built on its services).
Check = Callable[[list[Reference]], list[ReferenceResult]]


@dataclass(frozen=True, slots=True)
class ReviewAudit:
    """One `review audit`: each study's result and each claim's verdict."""

    results: list[ReferenceResult]
    verdicts: list[ClaimVerdict]


def audit_review(store: ReviewStore, slug: str, check: Check) -> ReviewAudit:
    """Check every study's citation, store each study's and claim's audit in the review.

    The checks run without the lock; the results are merged under it afterwards, into whatever
    the file holds then, for the studies whose citation did not change meanwhile.
    """
    review = store.load(slug)
    references = references_of(list(review.doc.get("studies") or []), review.display_path)
    results = check(references) if references else []
    day = today()
    audited = {ref.id: (ref, result) for ref, result in zip(references, results, strict=True)}
    statuses: dict[str, tuple[str, list[str]]] = {}
    with store.edit(slug) as current:
        for study in current.doc.get("studies") or []:
            entry = audited.get(study.get("id"))
            if entry is None or reference_of(study, entry[0].source.path,
                                             entry[0].source.line).cited != entry[0].cited:
                # Added or edited while we were checking: it is in the review, but this audit
                # did not check it (its stored audit, if any, is left as it was).
                statuses[str(study.get("id"))] = ("unverifiable", [])
                continue
            study["audit"] = study_audit(entry[1], day)
            statuses[str(study["id"])] = (entry[1].status, list(study["audit"]["findings"]))
        claims = current.doc.get("claims") or []
        verdicts = judge_claims(claims, statuses)
        for claim, verdict in zip(claims, verdicts, strict=True):
            claim["audit"] = claim_audit(verdict, day)
    return ReviewAudit(results, verdicts)
