"""The links part of an audit: check every wanted link, and put the verdicts on their references."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from evidence_cli import identifier_audit
from evidence_cli.codes import finding as _finding
from evidence_cli.models import Finding, Reference, ReferenceResult
from evidence_cli.search_plan import worth_searching
from evidence_cli.services.interfaces import AuditServices
from evidence_cli.services.link_verdicts import LinkVerdict

Progress = Callable[[int], None]


async def check_links(services: AuditServices, urls: list[str], on_progress: Progress | None
                       ) -> dict[str, LinkVerdict]:
    async def one(url: str) -> tuple[str, LinkVerdict | None]:
        verdict = await services.links.check(url)
        if on_progress:
            on_progress(1)
        return url, verdict

    pairs = await asyncio.gather(*(one(url) for url in urls))
    return {url: verdict for url, verdict in pairs if verdict is not None}


def without_network(verdicts: dict[str, LinkVerdict], services: AuditServices
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


def link_only(ref: Reference, check_dois: bool) -> bool:
    """A reference whose links are all there is to check (no DOI, too little text to search)."""
    if not ref.links:
        return False
    return not check_dois or (ref.cited.doi is None and not worth_searching(ref)
                                       and not identifier_audit.has_other_id(ref))


def attach_link_verdicts(results: list[ReferenceResult], verdicts: dict[str, LinkVerdict],
                         services: AuditServices, check_dois: bool) -> list[ReferenceResult]:
    """Link findings onto their references. A link-only reference whose links were all excluded
    is left out (nothing about it was checked); one whose link could not be checked (offline,
    not in the cache) is unverifiable, never ok."""
    kept: list[ReferenceResult] = []
    for result in results:
        ref = result.reference
        wanted = [url for url in dict.fromkeys(ref.links) if services.links.wants(url)]
        only_links = link_only(ref, check_dois)
        if only_links and not wanted:
            continue
        for url in wanted:
            verdict = verdicts.get(url)
            if verdict is None:
                if only_links:
                    result.findings.append(_finding(
                        "service-unavailable",
                        f"The link {url} could not be checked: it is not in the cache "
                        "(offline mode).",
                        field="url", cited=url,
                    ))
            elif verdict.finding is not None:
                result.findings.append(link_finding(url, verdict.finding))
        kept.append(result)
    return kept


def link_finding(url: str, finding: Finding) -> Finding:
    """The link's finding as one about this reference's url field."""
    return replace(finding, field=finding.field or "url", cited=finding.cited or url)
