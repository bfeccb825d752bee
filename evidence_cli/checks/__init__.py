"""Checks: pure functions from a cited reference and its registered record to findings."""

from __future__ import annotations

from typing import Any

from evidence_cli.checks.fields import check_fields
from evidence_cli.checks.updates import check_updates
from evidence_cli.codes import CODES
from evidence_cli.models import CitedFields, Finding
from evidence_cli.records import family_names, first_text


def check_record(cited: CitedFields, record: dict[str, Any]) -> list[Finding]:
    """Every finding about a reference whose DOI Crossref holds."""
    if not first_text(record.get("title")) and not family_names(record):
        # Nothing to compare the citation with: confirming the DOI would be a guess, even for
        # a citation that is only a DOI (the answer may be a broken or truncated record).
        return [Finding(
            code="service-unavailable", severity=CODES["service-unavailable"].severity,
            field=None, cited=None, registered=None,
            message="Crossref's record for this DOI has no title or authors, so the citation "
                    "cannot be verified against it.",
        ), *check_updates(record)]
    return [*check_fields(cited, record), *check_updates(record)]
