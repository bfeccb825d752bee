"""The audit pipeline: look references up (DOIs, searches, links) and check them, in batches."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from itertools import islice
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from evidence_cli import doi as doi_rules
from evidence_cli import identifier_audit, link_audit
from evidence_cli.checks import check_failed, check_record
from evidence_cli.checks.work import RegisteredWork
from evidence_cli.codes import finding as _finding
from evidence_cli.gc_pause import gc_paused
from evidence_cli.models import (
    DOI_TO_CORRECT_CODES,
    CitedFields,
    Finding,
    Reference,
    ReferenceResult,
)
from evidence_cli.search_plan import has_search_text, query_for, search_once, worth_searching
from evidence_cli.search_plan import search_text as search_text  # the query, for benchmarks
from evidence_cli.services.crossref import WorkLookup, kept_in_cache
from evidence_cli.services.interfaces import AuditServices

if TYPE_CHECKING:
    from evidence_cli.settings import Settings

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
    return [result for batch in audit_batches([references], settings, on_progress=on_progress,
                                              stats=stats) for result in batch]


# References checked together: their DOIs are looked up in one go (the cache answers most on a
# warm run), and a run holds one batch's results at a time, not every reference's.
BATCH_SIZE = 5000


def batched(references: Iterable[Iterable[Reference]], size: int | None = None
            ) -> Iterator[list[Reference]]:
    """The references of each input, in order, regrouped into batches of `size` (BATCH_SIZE)."""
    size = size or BATCH_SIZE
    flat = (reference for group in references for reference in group)
    while True:
        # Reading builds references, their fields and lists, nothing cyclic: the collector
        # waits while a batch is read, as while it is audited (audit_batches).
        with gc_paused():
            batch = list(islice(flat, size))
        if not batch:
            return
        yield batch


def audit_batches(
    batches: Iterable[list[Reference]],
    settings: Settings,
    *,
    on_progress: Progress | None = None,
    stats: AuditStats | None = None,
) -> Iterator[list[ReferenceResult]]:
    """Each batch's results as soon as it is checked, all batches through one set of services
    (one cache, one connection pool, one rate limiter): the streaming form of audit_references."""
    from evidence_cli.services.session import open_services

    options = AuditOptions.from_settings(settings)
    # Each DOI lookup counts a step as it is answered (the Crossref client says when).
    tick = (lambda: on_progress(1)) if on_progress else None
    with asyncio.Runner() as runner:
        opened = open_services(settings, on_lookup=tick)
        services = runner.run(opened.__aenter__())
        try:
            auditor = Auditor(services, options, on_progress=on_progress)
            for batch in batches:
                # A batch builds hundreds of thousands of small objects (records, fields,
                # findings) while the whole input is alive: each cyclic collection would walk
                # all of them (a third of a 50,000-reference run's CPU time). They form no
                # cycles that matter here; any that do are collected by a full collection later
                # (promote: the young collection at the pause's end would walk all that is
                # alive only to find it alive, after the last answer, in the run's tail).
                with gc_paused(promote=True):
                    results = runner.run(auditor.audit(batch, stats))
                yield results
        except BaseException as error:
            if not runner.run(opened.__aexit__(type(error), error, error.__traceback__)):
                raise
        else:
            runner.run(opened.__aexit__(None, None, None))


# Whether a DOI is well formed, asked twice a reference (which DOIs to look up, then each
# reference's own): each distinct DOI is matched against the patterns once.
_valid_doi = functools.lru_cache(maxsize=65536)(doi_rules.is_valid)


def _dois_to_check(references: list[Reference], options: AuditOptions) -> list[str]:
    if not options.check_dois:
        return []
    dois = (identifier_audit.doi_to_look_up(ref) for ref in references
            if not ref.is_input_problem)
    return list(dict.fromkeys(doi for doi in dois if doi and _valid_doi(doi)))


def _links_to_check(references: list[Reference], options: AuditOptions) -> list[str]:
    if not options.check_urls:
        return []
    return list(dict.fromkeys(
        url for ref in references for url in ref.links if not doi_rules.is_doi_url(url)
    ))


def planned_lookups(references: list[Reference], settings: Settings) -> int:
    """How many lookups the audit will make (the progress bar's total: per batch, summed)."""
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
        # Answers the cache does not keep (errors, incomplete records), for the batches after
        # the one that asked: a DOI is asked once per run, however many batches cite it.
        self._not_cached: dict[str, WorkLookup] = {}
        # The last batch's records Crossref found, each with its RegisteredWork, and its checked
        # citations: a DOI the next batch cites again is neither decoded from the cache nor
        # read or checked again (a large bibliography cites its works over and over). Only one
        # batch's are kept, so memory stays what a batch holds.
        self._last_found: Found = {}
        self._last_checked: Checked = {}

    async def _get_works(self, dois: list[str], on_answer: Callable[[WorkLookup], None],
                         reused: Found) -> tuple[dict[str, WorkLookup], dict[str, WorkLookup]]:
        """Each DOI's answer (those in `reused` taken from it), and Crossref's own found ones."""
        known = self._not_cached
        unknown = [doi for doi in dois if doi not in known and doi not in reused]
        if self.on_progress and len(unknown) < len(dois):
            self.on_progress(len(dois) - len(unknown))  # answered, as the client counts its own
        asked = await self.services.crossref.get_works(unknown, on_answer=on_answer)
        known.update((doi, lookup) for doi, lookup in asked.items() if not kept_in_cache(lookup))
        found = {doi: lookup for doi, (lookup, _) in reused.items()}
        found.update((doi, lookup) for doi, lookup in asked.items()
                     if lookup.outcome == "found" and lookup.record is not None
                     and kept_in_cache(lookup))
        lookups = {doi: known[doi] if doi in known else found[doi] if doi in found
                   else asked[doi] for doi in dois
                   if doi in known or doi in found or doi in asked}
        return lookups, found

    async def audit(self, references: list[Reference], stats: AuditStats | None = None
                    ) -> list[ReferenceResult]:
        services, options = self.services, self.options
        if not options.check_dois:
            # --urls-only: a reference without links was not checked at all; leave it out
            # rather than call it ok (an entry that could not be read is still reported).
            references = [ref for ref in references if ref.links or ref.is_input_problem]
        if not options.check_urls:
            # --no-urls: a reference that is only a link would not be checked at all either.
            references = [ref for ref in references
                          if not link_audit.link_only(ref, options.check_dois)]
        dois = _dois_to_check(references, options)
        urls = _links_to_check(references, options)
        last = self._last_found
        reused: Found = {doi: last[doi] for doi in dois if doi in last}
        # The last batch's checks of the works reused (the same objects), for this batch.
        checked: Checked = {key: known for key, known in self._last_checked.items()
                            if key[0] in reused}
        self._last_found, self._last_checked = {}, {}  # dropped before the records are read
        early = _EarlyChecks(references, options, checked, reused)
        (lookups, found), verdicts = await asyncio.gather(
            self._get_works(dois, early.answered, reused),
            link_audit.check_links(services, urls, self.on_progress)
        )
        articles = (await identifier_audit.gather_lookups(references, lookups, services)
                    if options.check_dois else {})
        # Each record is read into a RegisteredWork once, however many references cite it
        # (after the DataCite answers have replaced Crossref's "another agency" ones).
        works = {doi: work for doi, lookup in lookups.items()
                 if lookup.outcome == "found" and lookup.record is not None
                 and (work := early.work(doi, lookup.record)) is not None}
        results = [_assess(ref, lookups, works, options, checked) for ref in references]
        self._last_found = {doi: (lookup, works.get(doi)) for doi, lookup in found.items()
                            if lookups.get(doi) is lookup}
        self._last_checked = checked
        if options.check_dois:
            versions: dict[str, list[Finding]] = {}
            for result in results:
                identifier_audit.assess(result, lookups, articles, versions)
            await _match_missing(results, services, options)
        if options.check_urls:
            verdicts = link_audit.without_network(verdicts, services)
            results = link_audit.attach_link_verdicts(results, verdicts, services,
                                                         options.check_dois)
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


_UNREADABLE = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


def _read_work(record: dict[str, Any]) -> RegisteredWork | None:
    """The record read once for the checks; None when its shape defeats the reader."""
    try:
        return RegisteredWork.from_record(record)
    except _UNREADABLE:
        return None


# Crossref's found answers by DOI, each with its record read (None: the record defeats the reader).
Found = dict[str, tuple[WorkLookup, RegisteredWork | None]]

# What check_record said about one citation of one work: a batch checks each distinct citation
# once (a large bibliography cites a work many times, mostly alike); every reference gets copies.
Checked = dict[tuple[Any, ...], tuple[CitedFields, list[Finding]]]


def _checked(ref: Reference, work: RegisteredWork, checked: Checked
             ) -> tuple[CitedFields, list[Finding]]:
    """The registered fields and check_record's findings, computed once per citation of a work
    (pure: the same citation of the same work has the same findings)."""
    key = (work.doi, ref.text, _fields_key(ref.cited), ref.query and _fields_key(ref.query))
    known = checked.get(key)
    if known is None:
        known = checked[key] = (work.to_fields(),
                                check_record(ref.cited, work, ref.text, ref.query))
    return known


def _check_citation(ref: Reference, work: RegisteredWork, checked: Checked
                    ) -> tuple[CitedFields, list[Finding]]:
    """What _checked says, as copies: results are edited later, one at a time."""
    registered, findings = _checked(ref, work, checked)
    # The registered fields are edited later (a PMID added), so each result gets its own copy
    # (field by field: dataclasses.replace was a tenth of the audit); findings are frozen and
    # may be shared, the list is the result's own.
    copy = CitedFields(*_CITED_VALUES(registered))
    copy.authors = list(registered.authors)
    return copy, list(findings)


class _EarlyChecks:
    """Reads each record and checks the citations of it as its answer arrives, while the other
    lookups are still out: on a cold run the checks run behind the network instead of after
    the last answer (issue #15). The audit's own pass then finds them done: the same records
    (by identity) give the same RegisteredWork, and `Checked` is keyed by citation and work."""

    def __init__(self, references: list[Reference], options: AuditOptions,
                 checked: Checked, reused: Found | None = None) -> None:
        self.checked = checked
        self.citing: dict[str, list[Reference]] = {}
        if options.check_dois:
            for ref in references:
                if ref.cited.doi and not ref.is_input_problem:
                    self.citing.setdefault(ref.cited.doi, []).append(ref)
        # Records read, by DOI; the last batch's reused ones already are.
        self._read: dict[str, tuple[dict[str, Any], RegisteredWork | None]] = {
            doi: (lookup.record, work) for doi, (lookup, work) in (reused or {}).items()
            if lookup.record is not None}

    def answered(self, lookup: WorkLookup) -> None:
        refs = self.citing.get(lookup.doi)
        if not refs or lookup.outcome != "found" or lookup.record is None:
            return
        work = self.work(lookup.doi, lookup.record)
        if work is None:
            return
        for ref in refs:
            try:
                _checked(ref, work, self.checked)
            except _UNREADABLE:
                return  # the audit's own pass meets it again and says so

    def work(self, doi: str, record: dict[str, Any]) -> RegisteredWork | None:
        """The record read once (a DataCite answer replacing Crossref's is another record)."""
        read = self._read.get(doi)
        if read is None or read[0] is not record:
            read = self._read[doi] = (record, _read_work(record))
        return read[1]


# The cited fields in one C call; the list-valued ones (authors) made hashable after.
_CITED_VALUES = attrgetter(*(item.name for item in fields(CitedFields)))
_LIST_VALUED = tuple(index for index, item in enumerate(fields(CitedFields))
                     if item.default_factory is list)


def _fields_key(cited: CitedFields) -> tuple[Any, ...]:
    values = list(_CITED_VALUES(cited))
    for index in _LIST_VALUED:
        values[index] = tuple(values[index])
    return tuple(values)


def _assess(ref: Reference, lookups: dict[str, WorkLookup], works: dict[str, RegisteredWork],
            options: AuditOptions, checked: Checked) -> ReferenceResult:
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
    if not _valid_doi(cited_doi):
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
            registered, findings = _check_citation(ref, work, checked)
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
        try:
            outcome = matching.choose(ref.cited, ref.raw, candidates, threshold)
        except Exception as error:  # one reference's defect, not the run's
            result.findings.append(check_failed("matched with Crossref's search results", error))
            continue
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
