"""The audit pipeline: look references up (DOIs, searches, links), check them, build the report."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from evidence_cli import __version__, identifier_audit
from evidence_cli import doi as doi_rules
from evidence_cli.checks import check_record
from evidence_cli.checks.work import RegisteredWork
from evidence_cli.codes import finding as _finding
from evidence_cli.models import (
    DOI_TO_CORRECT_CODES,
    Finding,
    Reference,
    ReferenceResult,
    summarize,
)
from evidence_cli.search_plan import has_search_text, query_for, search_once, worth_searching
from evidence_cli.search_plan import search_text as search_text  # the query, for benchmarks
from evidence_cli.services.crossref import WorkLookup
from evidence_cli.services.interfaces import AuditServices
from evidence_cli.services.link_verdicts import LinkVerdict

if TYPE_CHECKING:
    from evidence_cli.settings import Settings

SCHEMA = "evidence-cli/check/v1"
Progress = Callable[[int], None]


@dataclass(slots=True)
class AuditStats:
    """What the run cost: for -v output and benchmarks."""

    crossref_requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    pubmed_requests: int = 0
    datacite_requests: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What the audit checks: DOIs and identifiers (not with --urls-only), links (not with
    --no-urls), how sure a match must be, and whether PubMed is searched as a last resort."""

    check_dois: bool = True
    check_urls: bool = True
    match_threshold: float = 0.9
    pubmed_search: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditOptions:
        return cls(check_dois=settings.check_dois, check_urls=settings.check_urls,
                   match_threshold=settings.match_threshold,
                   pubmed_search=settings.pubmed_search)


def audit_references(
    references: list[Reference],
    settings: Settings,
    *,
    on_progress: Progress | None = None,
    stats: AuditStats | None = None,
) -> list[ReferenceResult]:
    """Check every reference with the run's real services (the CLI's and the reviews' entry
    point; Auditor is the seam: it takes its services from the caller)."""
    from evidence_cli.services.session import run_with_services

    options = AuditOptions.from_settings(settings)

    def audit(services: AuditServices) -> Awaitable[list[ReferenceResult]]:
        return Auditor(services, options, on_progress=on_progress).audit(references, stats)

    # Each DOI lookup counts a step as it is answered (the Crossref client says when).
    tick = (lambda: on_progress(1)) if on_progress else None
    return run_with_services(settings, audit, on_lookup=tick)


def _dois_to_check(references: list[Reference], options: AuditOptions) -> list[str]:
    if not options.check_dois:
        return []
    dois = (identifier_audit.doi_to_look_up(ref) for ref in references
            if not ref.is_input_problem)
    return list(dict.fromkeys(doi for doi in dois if doi and doi_rules.is_valid(doi)))


def _links_to_check(references: list[Reference], options: AuditOptions) -> list[str]:
    if not options.check_urls:
        return []
    return list(dict.fromkeys(
        url for ref in references for url in ref.links if not doi_rules.is_doi_url(url)
    ))


def planned_lookups(references: list[Reference], settings: Settings) -> int:
    """How many lookups the audit will make (the progress bar's total)."""
    options = AuditOptions.from_settings(settings)
    return (len(_dois_to_check(references, options))
            + len(_links_to_check(references, options)))


class Auditor:
    """Looks references up through the services it is given, checks them, and returns the
    results; every lookup counts one step of `on_progress`."""

    def __init__(self, services: AuditServices, options: AuditOptions | None = None, *,
                 on_progress: Progress | None = None) -> None:
        self.services = services
        self.options = options or AuditOptions()
        self.on_progress = on_progress

    async def audit(self, references: list[Reference], stats: AuditStats | None = None
                    ) -> list[ReferenceResult]:
        services, options = self.services, self.options
        if not options.check_dois:
            # --urls-only: a reference without links was not checked at all; leave it out
            # rather than call it ok (an entry that could not be read is still reported).
            references = [ref for ref in references if ref.links or ref.is_input_problem]
        if not options.check_urls:
            # --no-urls: a reference that is only a link would not be checked at all either.
            references = [ref for ref in references if not _link_only(ref, options)]
        dois = _dois_to_check(references, options)
        urls = _links_to_check(references, options)
        lookups, verdicts = await asyncio.gather(
            services.crossref.get_works(dois), _check_links(services, urls, self.on_progress)
        )
        articles = (await identifier_audit.gather_lookups(references, lookups, services)
                    if options.check_dois else {})
        # Each record is read into a RegisteredWork once, however many references cite it
        # (after the DataCite answers have replaced Crossref's "another agency" ones).
        works = {doi: work for doi, lookup in lookups.items()
                 if lookup.outcome == "found" and lookup.record is not None
                 and (work := _read_work(lookup.record)) is not None}
        results = [_assess(ref, lookups, works, options) for ref in references]
        if options.check_dois:
            for result in results:
                identifier_audit.assess(result, lookups, articles)
            await _match_missing(results, services, options)
        if options.check_urls:
            verdicts = _without_network(verdicts, services)
            results = _attach_link_verdicts(results, verdicts, services, options)
        if services.crossref.no_network is not None:
            from evidence_cli.notices import warn

            warn(services.crossref.no_network)
        if stats is not None:
            crossref = services.crossref.stats
            stats.crossref_requests = crossref.requests
            stats.rate_limited = crossref.rate_limited
            stats.retries = crossref.retries
            stats.pubmed_requests = services.pubmed.stats.requests
            stats.datacite_requests = services.datacite.stats.requests
            stats.notes = list(crossref.notes)
        return results


async def _check_links(services: AuditServices, urls: list[str], on_progress: Progress | None
                       ) -> dict[str, LinkVerdict]:
    async def one(url: str) -> tuple[str, LinkVerdict | None]:
        verdict = await services.links.check(url)
        if on_progress:
            on_progress(1)
        return url, verdict

    pairs = await asyncio.gather(*(one(url) for url in urls))
    return {url: verdict for url, verdict in pairs if verdict is not None}


def _without_network(verdicts: dict[str, LinkVerdict], services: AuditServices
                     ) -> dict[str, LinkVerdict]:
    """With no network at all, a link that "cannot be reached" was not checked: unverifiable.

    No network means: no link's host answered, and the hosts that failed did so because names do
    not resolve or there is no route — while Crossref could not be reached either, or (when it
    was not asked) at least two hosts failed that way. One misspelt host on a working network
    stays url-unreachable."""
    links = services.links
    if links.answered_hosts or not links.offline_reasons:
        return verdicts
    crossref_down = services.crossref.no_network is not None or (
        services.crossref.stats.answers == 0 and services.crossref.stats.failures > 0)
    if not crossref_down and len(links.offline_reasons) < 2:
        return verdicts
    reason = next(iter(links.offline_reasons.values()))
    changed = dict(verdicts)
    for url, verdict in verdicts.items():
        if verdict.finding is not None and verdict.finding.code == "url-unreachable":
            finding = _finding(
                "service-unavailable",
                f"The link {url} could not be checked: there seems to be no network ({reason}); "
                "rerun when online, or use --offline to answer from the cache.",
                field="url", cited=url,
            )
            changed[url] = LinkVerdict(url=url, finding=finding, final_url=verdict.final_url,
                                       status=None, cacheable=False)
    return changed


def _link_only(ref: Reference, options: AuditOptions) -> bool:
    """A reference whose links are all there is to check (no DOI, too little text to search)."""
    if not ref.links:
        return False
    return not options.check_dois or (ref.cited.doi is None and not worth_searching(ref)
                                       and not identifier_audit.has_other_id(ref))


def _attach_link_verdicts(results: list[ReferenceResult], verdicts: dict[str, LinkVerdict],
                          services: AuditServices, options: AuditOptions
                          ) -> list[ReferenceResult]:
    """Link findings onto their references. A link-only reference whose links were all excluded
    is left out (nothing about it was checked); one whose link could not be checked (offline,
    not in the cache) is unverifiable, never ok."""
    kept: list[ReferenceResult] = []
    for result in results:
        ref = result.reference
        wanted = [url for url in dict.fromkeys(ref.links) if services.links.wants(url)]
        link_only = _link_only(ref, options)
        if link_only and not wanted:
            continue
        for url in wanted:
            verdict = verdicts.get(url)
            if verdict is None:
                if link_only:
                    result.findings.append(_finding(
                        "service-unavailable",
                        f"The link {url} could not be checked: it is not in the cache "
                        "(offline mode).",
                        field="url", cited=url,
                    ))
            elif verdict.finding is not None:
                result.findings.append(_link_finding(url, verdict.finding))
        kept.append(result)
    return kept


def _link_finding(url: str, finding: Finding) -> Finding:
    """The link's finding as one about this reference's url field."""
    return replace(finding, field=finding.field or "url", cited=finding.cited or url)


_UNREADABLE = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


def _read_work(record: dict[str, Any]) -> RegisteredWork | None:
    """The record read once for the checks; None when its shape defeats the reader."""
    try:
        return RegisteredWork.from_record(record)
    except _UNREADABLE:
        return None


def _assess(ref: Reference, lookups: dict[str, WorkLookup], works: dict[str, RegisteredWork],
            options: AuditOptions) -> ReferenceResult:
    """Findings from the DOI lookup alone (pure: no I/O)."""
    # What the reader found wrong with the input comes first.
    findings = list(ref.problems)
    result = ReferenceResult(reference=ref, doi=None, registered=None, findings=findings)
    cited_doi = ref.cited.doi
    if not options.check_dois or not cited_doi or ref.is_input_problem:
        return result
    if doi_rules.is_short(cited_doi):
        result.findings.append(_finding(
            "doi-short",
            f"{cited_doi!r} is a shortDOI, an alias that resolves at https://doi.org/{cited_doi} "
            "but that Crossref cannot look up; cite the full DOI it stands for.",
            field="doi", cited=cited_doi,
        ))
        return result
    if not doi_rules.is_valid(cited_doi):
        result.findings.append(_finding(
            "doi-malformed",
            f"{cited_doi!r} is not a well-formed DOI (a DOI looks like 10.1234/abc.123).",
            field="doi", cited=cited_doi,
        ))
        return result
    lookup = lookups[cited_doi]
    result.doi = cited_doi
    work = works.get(cited_doi)
    if lookup.outcome == "found" and lookup.record is not None:
        try:
            if work is None:
                raise ValueError("the record could not be read")
            registered = work.to_fields()
            findings = check_record(ref.cited, work, ref.text, ref.query)
        except _UNREADABLE:
            # The client refuses ill-typed records; this is the last guard for a shape it did
            # not foresee: a record that cannot be read is no verdict at all.
            result.findings.append(_finding(
                "service-unavailable",
                f"Crossref's record for {cited_doi} could not be read (malformed fields).",
                field="doi", cited=cited_doi,
            ))
            return result
        result.registered = registered
        result.findings.extend(findings)
    elif lookup.outcome == "not-found":
        result.findings.append(_finding(
            "doi-not-found",
            f"No registration agency knows the DOI {cited_doi}: it is mistyped or was never "
            "registered.",
            field="doi", cited=cited_doi,
        ))
    elif lookup.outcome == "other-agency":
        result.findings.append(_finding(
            "doi-other-agency",
            f"The DOI is registered with {lookup.agency}, not Crossref; its metadata was not "
            "compared.",
            field="doi", cited=cited_doi, registered=lookup.agency,
        ))
    else:
        result.findings.append(_finding(
            "service-unavailable",
            f"{lookup.agency or 'Crossref'} could not be asked about {cited_doi}: "
            f"{lookup.detail}.",
            field="doi", cited=cited_doi,
        ))
    return result


async def _match_missing(results: list[ReferenceResult], services: AuditServices,
                         options: AuditOptions) -> None:
    """Find records for references without a DOI, and the right DOI for a wrong one."""
    from evidence_cli.checks import matching

    wanted: list[ReferenceResult] = []
    for result in results:
        codes = {f.code for f in result.findings}
        ref = result.reference
        if ref.is_input_problem:
            continue
        if ref.cited.doi is None:
            if identifier_audit.has_other_id(ref):
                continue  # looked up by its PMID or arXiv id instead
            if worth_searching(ref):
                wanted.append(result)
            elif not ref.links:
                result.findings.append(_finding(
                    "no-match",
                    "The reference has no DOI and too little text to look it up.",
                ))
        elif codes & DOI_TO_CORRECT_CODES and has_search_text(ref):
            # A reference that is only its DOI has nothing to search with: its finding stands
            # without a suggestion, and no request is spent on it.
            wanted.append(result)
    if not wanted:
        return
    threshold = options.match_threshold
    answers = await search_once(services.crossref.search, [query_for(r.reference) for r in wanted])
    unmatched: list[ReferenceResult] = []
    for result, candidates in zip(wanted, answers, strict=True):
        ref = result.reference
        if candidates is None:
            if ref.cited.doi is None:
                result.findings.append(_finding(
                    "service-unavailable",
                    "The reference has no DOI and Crossref's search could not be asked.",
                ))
            continue
        outcome = matching.choose(ref.cited, ref.raw, candidates, threshold)
        if ref.cited.doi is not None:
            # The cited DOI is wrong: name the right one only when the match is confident.
            if outcome.kind == "matched" and outcome.record is not None:
                right = str(outcome.record.get("DOI", "")).lower()
                if right and right != ref.cited.doi:
                    result.findings = [
                        replace(finding, suggestion=right,
                                message=f"{finding.message} The cited work appears to be {right}.")
                        if finding.code in DOI_TO_CORRECT_CODES else finding
                        for finding in result.findings
                    ]
            continue
        _apply_match(result, outcome)
        if outcome.kind == "none":
            unmatched.append(result)
    # Last resort for a reference without a DOI: PubMed, with the same validation.
    if options.pubmed_search:
        await identifier_audit.match_in_pubmed(unmatched, services, threshold)


def _apply_match(result: ReferenceResult, outcome: Any) -> None:
    from evidence_cli.checks import matching

    result.findings.extend(matching.outcome_findings(outcome))
    if outcome.kind == "matched" and outcome.record is not None:
        record = outcome.record
        result.doi = str(record.get("DOI", "")).lower() or None
        work = RegisteredWork.from_record(record)
        result.registered = work.to_fields()
        result.findings.extend(check_record(result.reference.cited, work, result.reference.text,
                                            result.reference.query))


def build_report(results: list[ReferenceResult], *, snapshot: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """The JSON report (schema evidence-cli/check/v1): the contract CI jobs read. `snapshot`
    (date, path, source) is added as a top-level key only when a local snapshot answered."""
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "evidence-cli", "version": __version__},
        "summary": summarize(results),
        "references": [result.to_dict() for result in results],
    }
    if snapshot is not None:
        report["snapshot"] = snapshot
    return report
