"""Build the services for one run from its settings: one HTTP client, one cache, the clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from evidence_cli import PROJECT_URL, __version__
from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref import CrossrefClient, WorkLookup
from evidence_cli.settings import Settings


def user_agent(mailto: str | None) -> str:
    """Crossref asks for a User-Agent naming the tool and a contact (the "polite pool")."""
    contact = f"; mailto:{mailto}" if mailto else ""
    return f"evidence-cli/{__version__} (+{PROJECT_URL}{contact})"


@dataclass(slots=True)
class Services:
    http: httpx.AsyncClient
    cache: Cache
    crossref: CrossrefClient
    settings: Settings


@asynccontextmanager
async def open_services(
    settings: Settings, *, on_lookup: Callable[[], None] | None = None
) -> AsyncIterator[Services]:
    headers = {"User-Agent": user_agent(settings.mailto), "Accept": "application/json"}
    if settings.crossref_plus_token:
        # Metadata Plus subscribers authenticate with this header; it is never logged or cached.
        headers["Crossref-Plus-API-Token"] = f"Bearer {settings.crossref_plus_token}"
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    cache = Cache(settings.cache_dir, read_only=settings.offline)
    try:
        async with httpx.AsyncClient(
            headers=headers, timeout=settings.timeout, limits=limits
        ) as http:
            crossref = CrossrefClient(http, settings, cache, on_lookup=on_lookup)
            yield Services(http, cache, crossref, settings)
    finally:
        cache.close()


def lookup_works(settings: Settings, dois: list[str]) -> dict[str, WorkLookup]:
    """Look DOIs up (cache-aware), from synchronous code."""

    async def run() -> dict[str, WorkLookup]:
        async with open_services(settings) as services:
            return await services.crossref.get_works(dois)

    return asyncio.run(run())


def search_works(settings: Settings, queries: list[str]) -> list[list[dict[str, Any]] | None]:
    """Bibliographic searches (cache-aware), from synchronous code; None where unavailable."""

    async def run() -> list[list[dict[str, Any]] | None]:
        async with open_services(settings) as services:
            return list(await asyncio.gather(*(services.crossref.search(q) for q in queries)))

    return asyncio.run(run())
