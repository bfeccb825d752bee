"""The audit in-process through fake services (tests/fakes.py): no server, no cache, no
subprocess; the simulators stay for the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from evidence_cli import audit as audit_module
from evidence_cli.audit import AuditOptions, Auditor, AuditStats
from evidence_cli.codes import CODES
from evidence_cli.models import CitedFields, Finding, Reference, ReferenceResult, SourceLocation
from evidence_cli.services.crossref import WorkLookup
from evidence_cli.services.links import LinkVerdict
from tests.fakes import FakeCrossref, FakeLinks, FakeServices

DOI = "10.5555/evidence-cli.unit"
RECORD: dict[str, Any] = {
    "DOI": DOI, "type": "journal-article",
    "title": ["Sleep apnea in fragile X premutation carriers with and without FXTAS"],
    "author": [{"given": "Alyssa", "family": "Hamlin"}, {"given": "Ying", "family": "Liu"}],
    "container-title": ["American Journal of Medical Genetics Part B"],
    "volume": "156", "issue": "8", "page": "923-928",
    "issued": {"date-parts": [[2011, 12]]},
}


def reference(cited: CitedFields, *, raw: str = "", links: list[str] | None = None
              ) -> Reference:
    return Reference(id="r1", source=SourceLocation("refs.bib", 1), raw=raw or cited.title or "",
                     cited=cited, links=links or [])


def cited_as_registered(**changes: Any) -> CitedFields:
    fields: dict[str, Any] = {
        "doi": DOI, "title": RECORD["title"][0], "authors": ["Hamlin, Alyssa", "Liu, Ying"],
        "year": 2011, "container": RECORD["container-title"][0], "volume": "156",
        "issue": "8", "pages": "923-928"}
    fields.update(changes)
    return CitedFields(**fields)


def audit(services: FakeServices, references: list[Reference],
          options: AuditOptions | None = None) -> list[ReferenceResult]:
    return asyncio.run(Auditor(services, options).audit(references))


def codes(result: ReferenceResult) -> set[str]:
    return {finding.code for finding in result.findings}


def test_a_correct_citation_of_a_registered_work_is_ok() -> None:
    services = FakeServices(crossref=FakeCrossref(records={DOI: RECORD}))
    [result] = audit(services, [reference(cited_as_registered())])
    assert result.status == "ok" and result.findings == []
    assert result.doi == DOI and result.registered is not None
    assert services.crossref.asked == [DOI]
    assert services.crossref.searched == []  # a DOI that is right is never searched for


def test_citations_are_checked_as_their_answer_arrives_and_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # On a cold run the checks run while the other lookups are still out, not after the last
    # answer; the audit's own pass then reuses them (the same findings, check_record not rerun).
    class Crossref(FakeCrossref):
        returned = False

        async def get_works(self, dois: Iterable[str], *,
                            on_answer: Callable[[WorkLookup], None] | None = None
                            ) -> dict[str, WorkLookup]:
            answers = await super().get_works(dois, on_answer=on_answer)
            self.returned = True
            return answers

    crossref = Crossref(records={DOI: RECORD})
    calls: list[bool] = []
    check_record = audit_module.check_record

    def recorded(*args: Any) -> list[Finding]:
        calls.append(crossref.returned)
        return check_record(*args)

    monkeypatch.setattr(audit_module, "check_record", recorded)
    wrong = reference(cited_as_registered(volume="157"))
    [first, second] = audit(FakeServices(crossref=crossref), [wrong, wrong])
    assert calls == [False]  # once, before the lookups were all back
    assert "volume-mismatch" in codes(first) and codes(first) == codes(second)
    assert first.findings is not second.findings  # each result has copies of its own


def test_a_wrong_field_is_reported_against_the_record() -> None:
    services = FakeServices(crossref=FakeCrossref(records={DOI: RECORD}))
    [result] = audit(services, [reference(cited_as_registered(volume="157"))])
    assert "volume-mismatch" in codes(result)


def test_an_unregistered_doi_is_not_found_and_searched_for() -> None:
    services = FakeServices(crossref=FakeCrossref())
    [result] = audit(services, [reference(cited_as_registered())])
    assert "doi-not-found" in codes(result)
    assert len(services.crossref.searched) == 1


def test_an_unavailable_service_is_unverifiable_never_ok() -> None:
    services = FakeServices(crossref=FakeCrossref(records={DOI: RECORD}, down="no answer"))
    [result] = audit(services, [reference(cited_as_registered())])
    assert result.status == "unverifiable"
    assert codes(result) == {"service-unavailable"}


def test_a_doi_held_elsewhere_is_not_compared() -> None:
    services = FakeServices(crossref=FakeCrossref(agencies={DOI: "mEDRA"}))
    [result] = audit(services, [reference(cited_as_registered())])
    assert codes(result) == {"doi-other-agency"}
    assert result.registered is None


def test_a_broken_link_lands_on_its_reference_and_no_urls_skips_it() -> None:
    url = "https://example.org/gone"
    broken = Finding(code="url-broken", severity=CODES["url-broken"].severity,
                     message=f"{url} answers 404 Not Found.", field="url", cited=url)
    links = FakeLinks(verdicts={url: LinkVerdict(url, broken, url, 404, cacheable=True)})
    services = FakeServices(crossref=FakeCrossref(records={DOI: RECORD}), links=links)
    ref = reference(cited_as_registered(), links=[url])
    [result] = audit(services, [ref])
    assert codes(result) == {"url-broken"}
    [result] = audit(services, [ref], AuditOptions(check_urls=False))
    assert result.findings == []


def test_the_run_cost_is_counted_from_the_services() -> None:
    services = FakeServices(crossref=FakeCrossref(records={DOI: RECORD}))
    stats = AuditStats()
    asyncio.run(Auditor(services).audit([reference(cited_as_registered())], stats))
    assert stats.crossref_requests == 1
