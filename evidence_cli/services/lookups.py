"""What the API clients share above the transport: their options, and cached lookups keyed by
the service that answered (the cache first, in one query; offline, what it lacks is unavailable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from evidence_cli.services.cache import Cache
from evidence_cli.services.transport import Patience, TransportOptions
from evidence_cli.settings import DEFAULT_CROSSREF_URL

T = TypeVar("T")
NOT_IN_CACHE = "not in the cache (offline mode)"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How a client uses the cache: --refresh asks again (and overwrites), --offline only reads
    (expired answers included); found records keep longer than not-founds, which may be
    registered soon."""

    refresh: bool = False
    offline: bool = False
    record_ttl: float = 30 * 86400
    not_found_ttl: float = 86400


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """Where one API service is and how patient to be with it (see TransportOptions)."""

    patience: Patience
    base_url: str
    mailto: str | None = None
    cache: CachePolicy = field(default_factory=CachePolicy)

    def transport(self, service: str, rate: float, concurrency: int, **more: Any
                  ) -> TransportOptions:
        """The transport's options for this service (`more`: params, headers, limits)."""
        return TransportOptions(
            base_url=self.base_url, service=service, rate=rate, concurrency=concurrency,
            patience=self.patience, **more)


def cache_origin_key(base_url: str, key: str, default_url: str = DEFAULT_CROSSREF_URL) -> str:
    """Cached answers are keyed by the service that gave them: an answer from a test server or
    a proxy (another --crossref-url, --ncbi-url or --datacite-url) is never served later as the
    real service's. The real service's own keys stay bare, so existing caches keep answering."""
    origin = base_url.rstrip("/")
    return key if origin == default_url.rstrip("/") else f"{origin} {key}"


class CachedAnswers:
    """One kind of answer from one service in the shared cache, read and written as the run's
    policy says. Only definitive answers are put here: never an error."""

    def __init__(self, cache: Cache | None, kind: str, options: ServiceOptions,
                 default_url: str) -> None:
        self.cache = cache
        self.kind = kind
        self.policy = options.cache
        self.base_url = options.base_url
        self.default_url = default_url

    def key(self, key: str) -> str:
        return cache_origin_key(self.base_url, key, self.default_url)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """Stored values by the caller's own keys (none at all with --refresh)."""
        if self.cache is None or self.policy.refresh:
            return {}
        keyed = {self.key(key): key for key in keys}
        stored = self.cache.get_many(self.kind, keyed, allow_expired=self.policy.offline)
        return {keyed[stored_key]: value for stored_key, value in stored.items()}

    def get(self, key: str) -> Any | None:
        return self.get_many([key]).get(key)

    def put(self, key: str, value: Any, *, not_found: bool = False) -> None:
        if self.cache is not None:
            ttl = self.policy.not_found_ttl if not_found else self.policy.record_ttl
            self.cache.put(self.kind, self.key(key), value, ttl)

    def damaged(self, reason: str) -> None:
        if self.cache is not None:
            self.cache.damaged(reason)

    async def look_up(
        self,
        wanted: Iterable[str],
        *,
        read: Callable[[str, Any], T | None],
        offline: Callable[[str], T],
        fetch: Callable[[list[str]], Awaitable[Mapping[str, T]]],
        progress: Callable[[], None] | None = None,
    ) -> dict[str, T]:
        """Answers for many keys: cached ones first (one query), then `fetch` for the rest
        (offline, `offline` says each is unavailable). `read` turns a stored value back into
        an answer, None when its shape is wrong (the cache is then damaged and not trusted)."""
        keys = list(dict.fromkeys(wanted))
        results: dict[str, T] = {}
        for key, value in self.get_many(keys).items():
            answer = read(key, value)
            if answer is None:
                self.damaged(f"a cached answer for {key} has the wrong shape")
                continue
            results[key] = answer
            if progress is not None:
                progress()
        missing = [key for key in keys if key not in results]
        if self.policy.offline:
            for key in missing:
                results[key] = offline(key)
                if progress is not None:
                    progress()
            return results
        if missing:
            results.update(await fetch(missing))
        return {key: results[key] for key in keys if key in results}
