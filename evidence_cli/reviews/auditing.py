"""`review audit`: check the studies of a review, and flag the claims that rest on bad ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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
from evidence_cli.reviews.schema import node_line


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
