"""PubMed checks: retractions, errata and expressions of concern that PubMed links to an article,
and the field checks against a PubMed record (the same codes as against Crossref).

PubMed marks a retracted article with the publication type "Retracted Publication" and a
CommentsCorrections RefType="RetractionIn" naming the notice; errata use ErratumIn, expressions
of concern ExpressionOfConcernIn; a notice itself is "Retraction of Publication" / RetractionOf.
https://www.nlm.nih.gov/bsd/policy/errata.html
"""

from __future__ import annotations

from typing import Any

from evidence_cli.checks import check_record
from evidence_cli.codes import finding as make_finding
from evidence_cli.models import Finding

_LINK = "https://pubmed.ncbi.nlm.nih.gov/{}/"


def _finding(code: str, message: str, notice: str | None, field: str = "pmid") -> Finding:
    return make_finding(code, message, field=field, registered=notice,
                        suggestion=_LINK.format(notice) if notice else None)


def _pmids(notices: list[dict[str, Any]], kind: str) -> list[str]:
    found = [str(n.get("pmid")) for n in notices if n.get("type") == kind and n.get("pmid")]
    return list(dict.fromkeys(found))


def _naming(kind: str, pmids: list[str]) -> str:
    if not pmids:
        return ""
    return f" ({kind} notice PMID {', '.join(pmids)})"


def check_pubmed_notices(record: dict[str, Any]) -> list[Finding]:
    """Findings from what PubMed links to the article (nothing for a record without them)."""
    pubmed = record.get("pubmed") or {}
    types = {str(t).lower() for t in pubmed.get("publication-types") or []}
    notices = [n for n in pubmed.get("notices") or [] if isinstance(n, dict)]
    findings: list[Finding] = []
    retractions = _pmids(notices, "retraction")
    if "retracted publication" in types or retractions:
        findings.append(_finding(
            "retracted",
            f"PubMed records this work as retracted{_naming('retraction', retractions)}. Do not "
            "cite it as evidence.",
            retractions[0] if retractions else None,
        ))
    concerns = _pmids(notices, "expression_of_concern")
    if concerns:
        findings.append(_finding(
            "expression-of-concern",
            f"PubMed links an expression of concern about this work"
            f"{_naming('expression of concern', concerns)}.",
            concerns[0],
        ))
    errata = _pmids(notices, "erratum")
    if errata:
        findings.append(_finding(
            "corrected",
            f"PubMed links a published erratum for this work{_naming('erratum', errata)}.",
            errata[0],
        ))
    targets = _pmids(notices, "retraction-of")
    if "retraction of publication" in types or targets:
        named = f" PMID {', '.join(targets)}" if targets else " another work"
        findings.append(_finding(
            "update-notice",
            f"This PMID is itself a retraction notice about{named}; cite the original work (and "
            "the notice, if it matters).",
            targets[0] if targets else None,
        ))
    return findings


def check_pubmed_record(cited: Any, record: dict[str, Any], text: str | None = None
                        ) -> list[Finding]:
    """Field checks against a PubMed record, then PubMed's notices (one "retracted" at most)."""
    notices = check_pubmed_notices(record)
    findings = [_as_pmid_mismatch(f, record) for f in check_record(cited, record, text)]
    if any(f.code == "retracted" for f in notices):
        findings = [f for f in findings if f.code != "retracted"]
    return [*findings, *notices]


def _as_pmid_mismatch(finding: Finding, record: dict[str, Any]) -> Finding:
    """The field checks say "the DOI names a different work"; against PubMed it is the PMID."""
    if finding.code != "doi-mismatch":
        return finding
    pmid = (record.get("pubmed") or {}).get("pmid")
    message = finding.message.replace("The DOI names a different work",
                                      f"PMID {pmid} names a different work", 1)
    return make_finding("pmid-mismatch", message, field="pmid", cited=finding.cited,
                        registered=finding.registered, suggestion=finding.suggestion)
