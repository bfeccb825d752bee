"""What the audit needs from each service, as interfaces: the real clients implement them, and
unit tests hand the audit fakes (tests/fakes.py) instead of a simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from evidence_cli.services.crossref import WorkLookup
    from evidence_cli.services.datacite import DataCiteLookup
    from evidence_cli.services.link_verdicts import LinkVerdict
    from evidence_cli.services.pubmed import ArticleLookup
    from evidence_cli.services.transport import ClientStats


class CountsRequests(Protocol):
    @property
    def stats(self) -> ClientStats: ...


class WorkLookupService(CountsRequests, Protocol):
    """Registered works by DOI (Crossref's, or "another agency holds it")."""

    @property
    def no_network(self) -> str | None:
        """Set when the run found no network at all (every lookup was then unavailable)."""

    async def get_works(self, dois: Iterable[str], *,
                        on_answer: Callable[[WorkLookup], None] | None = None
                        ) -> dict[str, WorkLookup]:
        """The lookups by DOI; `on_answer` is called with each answer the service sends, as it
        comes (not with the cache's), so the caller can work while the others are out."""


class BibliographicSearch(Protocol):
    """Candidate records for a free-text reference; None when the service is unavailable."""

    async def search(self, bibliographic: str, rows: int = 5) -> list[dict[str, Any]] | None: ...


class CrossrefService(WorkLookupService, BibliographicSearch, Protocol):
    """What the audit asks Crossref (or a snapshot in front of it)."""


class AgencyLookup(Protocol):
    """The registration agency of a DOI without a Crossref record (None: no agency knows it)."""

    async def agency(self, doi: str) -> str | None: ...


class LinkCache(Protocol):
    """Where verdicts are kept between runs; values are JSON-serialisable dicts."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None: ...


class LinkService(Protocol):
    """Verdicts on web links, and what the run learnt about the network."""

    answered_hosts: set[str]
    offline_reasons: dict[str, str]

    def wants(self, url: str) -> bool: ...

    async def check(self, url: str) -> LinkVerdict | None: ...


class PubMedService(CountsRequests, Protocol):
    async def get_articles(self, pmids: Iterable[str]) -> dict[str, ArticleLookup]: ...

    async def search(self, term: str, retmax: int = 5) -> list[str] | None: ...


class DataCiteService(CountsRequests, Protocol):
    async def get_records(self, dois: Iterable[str]) -> dict[str, DataCiteLookup]: ...


class AuditServices(Protocol):
    """The services one audit runs on, handed in by its caller."""

    @property
    def crossref(self) -> CrossrefService: ...

    @property
    def links(self) -> LinkService: ...

    @property
    def pubmed(self) -> PubMedService: ...

    @property
    def datacite(self) -> DataCiteService: ...
