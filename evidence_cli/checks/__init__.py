"""Checks: pure functions from a cited reference and its registered work to findings."""

from __future__ import annotations

from typing import Any

from evidence_cli.checks.fields import check_fields
from evidence_cli.checks.updates import check_updates
from evidence_cli.checks.work import RegisteredWork, as_work
from evidence_cli.codes import finding
from evidence_cli.models import CitedFields, Finding


def check_record(cited: CitedFields, record: dict[str, Any] | RegisteredWork,
                 text: str | None = None, guess: CitedFields | None = None) -> list[Finding]:
    """Every finding about a reference whose DOI Crossref holds; `text` is the reference as
    written when its fields were parsed from free text (the checks then locate the registered
    values in it), `guess` the parser's best reading of every field (Reference.query)."""
    work = as_work(record)
    if not work.has_identity:
        # Nothing to compare the citation with: confirming the DOI would be a guess, even for
        # a citation that is only a DOI (the answer may be a broken or truncated record).
        return [finding(
            "service-unavailable",
            "Crossref's record for this DOI has no title or authors, so the citation cannot be "
            "verified against it.",
        ), *check_updates(work.record)]
    return [*check_fields(cited, work, text, guess), *check_updates(work.record)]
