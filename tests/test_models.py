"""The pipeline's data in-process: statuses and their rank, findings from the code table, the
exit code `check` and `review audit` share, and the one reading of a field's first text."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from evidence_cli import codes
from evidence_cli.errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNVERIFIABLE
from evidence_cli.models import (
    CitedFields,
    FailOn,
    Reference,
    ReferenceResult,
    Severity,
    SourceLocation,
    Status,
    exit_code,
    first_text,
    status_of,
    summarize,
    worst_first,
)


def _result(*finding_codes: str) -> ReferenceResult:
    reference = Reference(id="r", source=SourceLocation("refs.bib", 1), raw="r",
                          cited=CitedFields())
    findings = [codes.finding(code, f"{code} here") for code in finding_codes]
    return ReferenceResult(reference=reference, doi=None, registered=None, findings=findings)


def test_findings_take_their_severity_from_the_code_table() -> None:
    for code, info in codes.CODES.items():
        assert codes.finding(code, "m").severity is info.severity
    with pytest.raises(KeyError):
        codes.finding("no-such-code", "m")


def test_findings_are_frozen_and_changed_by_copy() -> None:
    finding = codes.finding("doi-not-found", "No agency knows it.", field="doi", cited="10.1/x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message += " More."  # type: ignore[misc]
    changed = dataclasses.replace(finding, suggestion="10.1/y")
    assert (finding.suggestion, changed.suggestion) == (None, "10.1/y")


def test_status_is_the_worst_finding_and_unverifiable_outranks_warning() -> None:
    assert status_of([]) is Status.OK
    assert _result("corrected").status is Status.INFO
    assert _result("title-mismatch", "service-unavailable").status is Status.UNVERIFIABLE
    assert _result("service-unavailable", "doi-not-found").status is Status.ERROR
    assert [status.rank for status in Status] == [0, 1, 2, 3, 4]
    statuses = ["ok", "error", "bogus", "unverifiable", "info", "warning"]
    assert sorted(statuses, key=worst_first) == [
        "error", "unverifiable", "warning", "info", "ok", "bogus"]


def test_summary_keys_keep_the_report_order() -> None:
    summary = summarize([_result(), _result("doi-not-found"), _result("no-match")])
    assert list(summary) == ["references", "ok", "info", "warning", "error", "unverifiable"]
    assert summary == {"references": 3, "ok": 1, "info": 0, "warning": 0, "error": 1,
                       "unverifiable": 1}


@pytest.mark.parametrize(("finding_codes", "fail_on", "expected"), [
    ((), FailOn.ERROR, EXIT_OK),
    (("title-mismatch",), FailOn.ERROR, EXIT_OK),
    (("title-mismatch",), FailOn.WARNING, EXIT_FINDINGS),
    (("doi-not-found",), FailOn.NEVER, EXIT_OK),
    # A finding that makes the reference unverifiable never fails the run, whatever --fail-on.
    (("service-unavailable",), FailOn.WARNING, EXIT_UNVERIFIABLE),
    (("service-unavailable", "retracted"), FailOn.ERROR, EXIT_FINDINGS),
    # Unverifiable means a reference's status: one with an error besides is in error.
    (("service-unavailable", "retracted"), FailOn.NEVER, EXIT_OK),
])
def test_exit_code(finding_codes: tuple[str, ...], fail_on: FailOn, expected: int) -> None:
    assert exit_code([_result(*finding_codes)], fail_on) == expected


def test_exit_code_counts_the_claims_of_a_review() -> None:
    clean = [_result()]
    assert exit_code(clean, FailOn.ERROR, also=[Status.ERROR]) == EXIT_FINDINGS
    assert exit_code(clean, FailOn.NEVER, also=[Status.ERROR]) == EXIT_OK
    assert exit_code(clean, FailOn.ERROR, also=[Status.UNVERIFIABLE]) == EXIT_UNVERIFIABLE
    assert exit_code(clean, FailOn.ERROR, also=[Status.OK]) == EXIT_OK


def test_fail_on_parses_any_case_and_names_the_choices() -> None:
    assert FailOn.parse("Warning") is FailOn.WARNING
    with pytest.raises(ValueError, match="expected one of error, warning, never"):
        FailOn.parse("sometimes")
    assert FailOn.WARNING.reached_by(Severity.WARNING)
    assert not FailOn.ERROR.reached_by(Severity.WARNING)
    assert not FailOn.NEVER.reached_by(Severity.ERROR)


@pytest.mark.parametrize(("value", "text"), [
    (["", "  A   title\n of it "], "A title of it"),
    ("Plain", "Plain"),
    (12, "12"),
    (1.5, "1.5"),
    ([None, 7], "7"),
    (True, None),
    ([], None),
    ("   ", None),
    ({"a": "b"}, None),
    (None, None),
])
def test_first_text(value: Any, text: str | None) -> None:
    assert first_text(value) == text
