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
        ), *_updates(work)]
    try:
        found = check_fields(cited, work, text, guess)
    except Exception as error:  # a defect of one rule: see check_failed
        found = [check_failed("compared with its registered work", error)]
    return [*found, *_updates(work)]


def _updates(work: RegisteredWork) -> list[Finding]:
    """check_updates, guarded as the field checks are: a retraction the tool cannot read is
    a reference it cannot vouch for."""
    try:
        return check_updates(work.record)
    except Exception as error:  # a defect of one rule: see check_failed
        return [check_failed("checked for retractions and corrections", error)]


def check_failed(what: str, error: Exception) -> Finding:
    """The finding for a check that raised: a defect in one rule must cost one reference its
    verdict (unverifiable, never ok), not end the audit of all the others with a traceback, as
    an IndexError in a pages rule once did (#11, stop 25). Only the exception's type is shown:
    its message may quote the reference, and a report carries no text the tool did not vet."""
    return finding(
        "check-failed",
        f"The reference could not be {what}: an internal error of evidence-cli "
        f"({type(error).__name__}). It is unverifiable, not ok; please report it with the "
        "reference as written.",
    )
