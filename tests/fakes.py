"""In-memory services for unit tests of the audit: each implements its interface in
evidence_cli/services/interfaces.py from a dict, and records what it was asked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from evidence_cli.services.crossref import WorkLookup
from evidence_cli.services.datacite import DataCiteLookup
from evidence_cli.services.link_verdicts import LinkVerdict
from evidence_cli.services.pubmed import ArticleLookup
from evidence_cli.services.transport import ClientStats


@dataclass
class FakeCrossref:
    """Records by DOI; `agencies` for DOIs another agency holds; `down` answers every lookup
    as unavailable; `searches` maps a query to its candidates (None: search unavailable)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    agencies: dict[str, str] = field(default_factory=dict)
    searches: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)
    down: str | None = None
    stats: ClientStats = field(default_factory=ClientStats)
    no_network: str | None = None
    asked: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)

    async def get_works(self, dois: Iterable[str], *,
                        on_answer: Callable[[WorkLookup], None] | None = None
                        ) -> dict[str, WorkLookup]:
        answers: dict[str, WorkLookup] = {}
        for doi in dict.fromkeys(dois):
            self.asked.append(doi)
            self.stats.requests += 1
            if self.down is not None:
                answers[doi] = WorkLookup(doi, "unavailable", detail=self.down)
            elif doi in self.records:
                answers[doi] = WorkLookup(doi, "found", self.records[doi])
            elif doi in self.agencies:
                answers[doi] = WorkLookup(doi, "other-agency", agency=self.agencies[doi])
            else:
                answers[doi] = WorkLookup(doi, "not-found")
            if on_answer is not None:
                on_answer(answers[doi])
        return answers

    async def search(self, bibliographic: str, rows: int = 5) -> list[dict[str, Any]] | None:
        self.searched.append(bibliographic)
        if self.down is not None:
            return None
        return self.searches.get(bibliographic, [])


@dataclass
class FakeLinks:
    """Verdicts by URL; a URL without one is not checked (None, as offline with no cache)."""

    verdicts: dict[str, LinkVerdict] = field(default_factory=dict)
    answered_hosts: set[str] = field(default_factory=set)
    offline_reasons: dict[str, str] = field(default_factory=dict)

    def wants(self, url: str) -> bool:
        return url.startswith(("http://", "https://"))

    async def check(self, url: str) -> LinkVerdict | None:
        return self.verdicts.get(url)


@dataclass
class FakePubMed:
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: ClientStats = field(default_factory=ClientStats)

    async def get_articles(self, pmids: Iterable[str]) -> dict[str, ArticleLookup]:
        return {pmid: (ArticleLookup(pmid, "found", self.articles[pmid])
                       if pmid in self.articles else ArticleLookup(pmid, "not-found"))
                for pmid in pmids}

    async def search(self, term: str, retmax: int = 5) -> list[str] | None:
        return []


@dataclass
class FakeDataCite:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: ClientStats = field(default_factory=ClientStats)

    async def get_records(self, dois: Iterable[str]) -> dict[str, DataCiteLookup]:
        return {doi: (DataCiteLookup(doi, "found", self.records[doi])
                      if doi in self.records else DataCiteLookup(doi, "not-found"))
                for doi in dois}


@dataclass
class FakeServices:
    """The AuditServices an Auditor is handed."""

    crossref: FakeCrossref = field(default_factory=FakeCrossref)
    links: FakeLinks = field(default_factory=FakeLinks)
    pubmed: FakePubMed = field(default_factory=FakePubMed)
    datacite: FakeDataCite = field(default_factory=FakeDataCite)
