"""Build the services for one run from its settings: one HTTP client, one cache, the clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from evidence_cli import PROJECT_URL, __version__
from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref import CrossrefClient, WorkLookup
from evidence_cli.services.datacite import DataCiteClient
from evidence_cli.services.links import LinkChecker
from evidence_cli.services.pubmed import PubMedClient
from evidence_cli.settings import Settings

if TYPE_CHECKING:
    from evidence_cli.services.snapshot import SnapshotClient


def user_agent(mailto: str | None) -> str:
    """Crossref asks for a User-Agent naming the tool and a contact (the "polite pool")."""
    # HTTP headers are ASCII: an internationalised address goes in percent-encoded (it is sent
    # as is in the mailto query parameter).
    contact = f"; mailto:{quote(mailto, safe='@.+-_!~*()')}" if mailto else ""
    return f"evidence-cli/{__version__} (+{PROJECT_URL}{contact})"


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


@dataclass(slots=True)
class Services:
    http: httpx.AsyncClient
    cache: Cache
    crossref: CrossrefClient | SnapshotClient
    links: LinkChecker
    settings: Settings
    pubmed: PubMedClient
    datacite: DataCiteClient


@asynccontextmanager
async def open_services(
    settings: Settings, *, on_lookup: Callable[[], None] | None = None
) -> AsyncIterator[Services]:
    # Only encodings the Crossref client inflates itself, within its byte cap. The Metadata
    # Plus token is not a client default: the Crossref client adds it to its own requests only
    # (https, a host the user chose), so it can never go anywhere else.
    headers = {"User-Agent": user_agent(settings.mailto), "Accept": "application/json",
               "Accept-Encoding": "gzip, deflate"}
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    cache = Cache(settings.cache_dir, read_only=settings.offline)
    snapshot: SnapshotClient | None = None
    try:
        async with httpx.AsyncClient(
            headers=headers, timeout=settings.timeout, limits=limits
        ) as http:
            api = CrossrefClient(http, settings, cache, on_lookup=on_lookup)
            crossref: CrossrefClient | SnapshotClient = api
            if settings.snapshot is not None:
                from evidence_cli.services.snapshot import open_snapshot_client

                # The API client stays behind it for what the snapshot does not hold.
                crossref = snapshot = open_snapshot_client(settings.snapshot, api, settings,
                                                           on_lookup)
            links = LinkChecker(
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
            # PubMed and DataCite get no Crossref token header: their own client sends only
            # what each service needs.
            async with httpx.AsyncClient(
                headers={"User-Agent": user_agent(settings.mailto)}, timeout=settings.timeout,
                limits=limits,
            ) as other_http:
                pubmed = PubMedClient(other_http, settings, cache)
                datacite = DataCiteClient(other_http, settings, cache)
                yield Services(http, cache, crossref, links, settings, pubmed, datacite)
    finally:
        if snapshot is not None:
            snapshot.snapshot.close()
        cache.close()


def lookup_works(settings: Settings, dois: list[str]) -> dict[str, WorkLookup]:
    """Look DOIs up (cache-aware), from synchronous code."""

    async def run() -> dict[str, WorkLookup]:
        async with open_services(settings) as services:
            return await services.crossref.get_works(dois)

    return asyncio.run(run())


def lookup_articles(settings: Settings, pmids: list[str]) -> dict[str, Any]:
    """Look PMIDs up in PubMed (cache-aware), from synchronous code."""

    async def run() -> dict[str, Any]:
        async with open_services(settings) as services:
            return dict(await services.pubmed.get_articles(pmids))

    return asyncio.run(run())
