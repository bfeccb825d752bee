"""Build the services for one run from its settings: the HTTP clients, one cache, the clients.

This is the one place that reads Settings for the services: each client gets its own explicit
options, and the audit gets the clients (through the interfaces in services/interfaces.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from evidence_cli.services import datacite, pubmed
from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref import CrossrefClient, CrossrefOptions, WorkLookup
from evidence_cli.services.datacite import DataCiteClient, DataCiteOptions
from evidence_cli.services.http_client import LazyClient
from evidence_cli.services.links import LinkChecker
from evidence_cli.services.lookups import CachePolicy
from evidence_cli.services.pubmed import PubMedClient, PubMedOptions
from evidence_cli.services.transport import Patience, user_agent
from evidence_cli.settings import Settings

if TYPE_CHECKING:
    import httpx

    from evidence_cli.services.snapshot import SnapshotClient

T = TypeVar("T")


def _http_client(settings: Settings) -> httpx.AsyncClient:
    """The run's client, made when its first request goes out (services/http_client.py): an
    offline or warm run never imports httpx."""
    import httpx

    # One pool per run: the API clients' connections stay open between requests (a cold run
    # never waits on a new connection after its first few).
    pool = httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=30.0)
    return httpx.AsyncClient(headers={"User-Agent": user_agent(settings.mailto)},
                             timeout=settings.timeout, limits=pool)


class KindCache:
    """One kind of entry in the shared cache, behind the small get/put interface a service uses."""

    def __init__(self, cache: Cache, kind: str, *, allow_expired: bool) -> None:
        self.cache = cache
        self.kind = kind
        self.allow_expired = allow_expired

    def get(self, key: str) -> dict[str, Any] | None:
        value = self.cache.get(self.kind, key, allow_expired=self.allow_expired)
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        self.cache.put(self.kind, key, value, ttl)


@dataclass(frozen=True, slots=True)
class Services:
    http: LazyClient
    cache: Cache
    crossref: CrossrefClient | SnapshotClient
    links: LinkChecker
    pubmed: PubMedClient
    datacite: DataCiteClient


def _service(settings: Settings, max_response_bytes: int) -> dict[str, Any]:
    """The options every API client takes, from the run's settings (max-response-bytes is
    Crossref's; PubMed's and DataCite's answers have caps of their own)."""
    patience = Patience(
        timeout=settings.timeout, max_retries=settings.max_retries,
        max_response_bytes=max_response_bytes, request_timeout=settings.request_timeout,
        retry_budget=settings.retry_budget, run_timeout=settings.run_timeout)
    return {
        "patience": patience, "mailto": settings.mailto,
        "cache": CachePolicy(refresh=settings.refresh, offline=settings.offline,
                             record_ttl=settings.record_ttl,
                             not_found_ttl=settings.not_found_ttl),
    }


def crossref_options(settings: Settings) -> CrossrefOptions:
    return CrossrefOptions(base_url=settings.crossref_url, plus_token=settings.crossref_plus_token,
                           **_service(settings, settings.max_response_bytes))


def pubmed_options(settings: Settings) -> PubMedOptions:
    return PubMedOptions(base_url=settings.ncbi_url, api_key=settings.ncbi_api_key,
                         **_service(settings, pubmed.MAX_BODY_BYTES))


def datacite_options(settings: Settings) -> DataCiteOptions:
    return DataCiteOptions(base_url=settings.datacite_url,
                           **_service(settings, datacite.MAX_BODY_BYTES))


def _links(http: LazyClient, settings: Settings, cache: Cache) -> LinkChecker:
    return LinkChecker(
        http,
        timeout=settings.url_timeout,
        per_host=settings.per_host_concurrency,
        global_limit=settings.url_concurrency,
        allow_private=settings.allow_private,
        excludes=settings.url_excludes,
        cache=KindCache(cache, "url", allow_expired=settings.offline),
        refresh=settings.refresh,
        offline=settings.offline,
        cache_ttl=settings.url_ttl,
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, on_lookup: Callable[[], None] | None = None
) -> AsyncIterator[Services]:
    # The client carries no credentials: each API client sends its own token or key to its
    # own service only, and the link checker builds its requests without client defaults.
    cache = Cache(settings.cache_dir, read_only=settings.offline)
    snapshot: SnapshotClient | None = None
    try:
        async with LazyClient(lambda: _http_client(settings)) as http:
            api = CrossrefClient(http, crossref_options(settings), cache, on_lookup=on_lookup)
            crossref: CrossrefClient | SnapshotClient = api
            if settings.snapshot is not None:
                from evidence_cli.services.snapshot import open_snapshot_client

                # The API client stays behind it for what the snapshot does not hold.
                crossref = snapshot = open_snapshot_client(settings.snapshot, api, settings,
                                                           on_lookup)
            yield Services(http, cache, crossref, _links(http, settings, cache),
                           PubMedClient(http, pubmed_options(settings), cache),
                           DataCiteClient(http, datacite_options(settings), cache))
    finally:
        if snapshot is not None:
            snapshot.snapshot.close()
        cache.close()


def run_with_services(settings: Settings, operation: Callable[[Services], Awaitable[T]], *,
                      on_lookup: Callable[[], None] | None = None) -> T:
    """Run one operation with the run's services open, from synchronous code."""

    async def run() -> T:
        async with open_services(settings, on_lookup=on_lookup) as services:
            return await operation(services)

    return asyncio.run(run())


def lookup_works(settings: Settings, dois: list[str]) -> dict[str, WorkLookup]:
    """Look DOIs up (cache-aware), from synchronous code."""
    return run_with_services(settings, lambda services: services.crossref.get_works(dois))


def lookup_articles(settings: Settings, pmids: list[str]) -> dict[str, Any]:
    """Look PMIDs up in PubMed (cache-aware), from synchronous code."""

    async def articles(services: Services) -> dict[str, Any]:
        return dict(await services.pubmed.get_articles(pmids))

    return run_with_services(settings, articles)

