"""Crossref REST API client: a work by DOI, the agency behind an unknown DOI, bibliographic search.

https://api.crossref.org/swagger-ui/index.html ; etiquette and limits:
https://www.crossref.org/documentation/retrieve-metadata/rest-api/tips-for-using-the-crossref-rest-api/
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from evidence_cli.services.cache import Cache
from evidence_cli.services.ratelimit import Pacer, RateLimiter, parse_interval
from evidence_cli.settings import Settings

# The parts of a work record the checks use. Whole records carry reference lists and licences
# that can be 100 KB; caching only these keeps a warm run of 50,000 references fast and small.
RECORD_KEYS = (
    "DOI", "type", "title", "subtitle", "original-title", "short-title", "author", "editor",
    "container-title", "short-container-title", "volume", "issue", "page", "article-number",
    "issued", "published", "published-print", "published-online", "created", "updated-by",
    "update-to", "URL", "resource", "publisher", "prefix", "member", "relation",
)
# Documented limits, before any header says otherwise: the public pool allows 5 requests per
# second, one at a time; list queries (searches) are limited separately to 1/s (polite: 3/s).
PUBLIC_RATE, PUBLIC_CONCURRENCY = 5.0, 1
LIST_RATE = {"public": 1.0, "polite": 3.0}
RETRY_AFTER_CAP = 60.0
NOT_IN_CACHE = "not in the cache (offline mode)"


def slim_record(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in RECORD_KEYS if key in message}


@dataclass(slots=True)
class WorkLookup:
    """What Crossref says about one DOI."""

    doi: str
    outcome: str  # "found" | "not-found" | "other-agency" | "unavailable"
    record: dict[str, Any] | None = None
    agency: str | None = None
    detail: str | None = None

    def cache_value(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "record": self.record, "agency": self.agency}


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    failures: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class Unavailable(Exception):
    """A request failed after every retry; the message says why."""


class CrossrefClient:
    """Looks works up, politely: paced, retried, cached."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        cache: Cache | None = None,
        *,
        on_lookup: Callable[[], None] | None = None,
    ) -> None:
        self.http = http
        self.settings = settings
        self.base_url = settings.crossref_url.rstrip("/")
        self.cache = cache
        self.limiter = RateLimiter(PUBLIC_RATE, 1.0, PUBLIC_CONCURRENCY)
        self.list_pacer = Pacer(LIST_RATE["public"], 1.0)
        self.stats = ClientStats()
        self.on_lookup = on_lookup

    # -- public API -------------------------------------------------------------------------

    async def get_work(self, doi: str) -> WorkLookup:
        return (await self.get_works([doi]))[doi]

    async def get_works(self, dois: Iterable[str]) -> dict[str, WorkLookup]:
        """Look up many DOIs: cached answers first (one query), the rest concurrently."""
        wanted = list(dict.fromkeys(dois))
        results: dict[str, WorkLookup] = {}
        if self.cache is not None and not self.settings.refresh:
            stored = self.cache.get_many("work", wanted, allow_expired=self.settings.offline)
            for doi, value in stored.items():
                results[doi] = WorkLookup(doi, value["outcome"], value.get("record"),
                                          value.get("agency"))
                self._progress()
        missing = [doi for doi in wanted if doi not in results]
        if self.settings.offline:
            for doi in missing:
                results[doi] = WorkLookup(doi, "unavailable", detail=NOT_IN_CACHE)
                self._progress()
            return results
        fetched = await asyncio.gather(*(self._fetch_work(doi) for doi in missing))
        for lookup in fetched:
            results[lookup.doi] = lookup
        return results

    async def search(self, bibliographic: str, rows: int = 5) -> list[dict[str, Any]] | None:
        """Candidate records for a free-text reference; None when the service is unavailable.

        Crossref's relevance score means nothing on its own: callers must validate candidates.
        """
        key = f"{rows}:{bibliographic}"
        if self.cache is not None and not self.settings.refresh:
            stored = self.cache.get("search", key, allow_expired=self.settings.offline)
            if stored is not None:
                return list(stored)
        if self.settings.offline:
            return None
        try:
            body = await self._get_json(
                "/works", {"query.bibliographic": bibliographic, "rows": str(rows)},
                list_query=True,
            )
        except Unavailable:
            return None
        message = body.get("message")
        items = message.get("items") if isinstance(message, dict) else None
        if not isinstance(items, list):
            return None
        candidates = [slim_record(item) for item in items if isinstance(item, dict)]
        if self.cache is not None:
            self.cache.put("search", key, candidates, self.settings.record_ttl)
        return candidates

    # -- lookups ----------------------------------------------------------------------------

    def _progress(self) -> None:
        if self.on_lookup is not None:
            self.on_lookup()

    async def _fetch_work(self, doi: str) -> WorkLookup:
        try:
            lookup = await self._lookup_work(doi)
        except Unavailable as error:
            lookup = WorkLookup(doi, "unavailable", detail=str(error))
        if self.cache is not None and lookup.outcome != "unavailable" and _complete(lookup):
            ttl = (self.settings.not_found_ttl if lookup.outcome == "not-found"
                   else self.settings.record_ttl)
            self.cache.put("work", doi, lookup.cache_value(), ttl)
        self._progress()
        return lookup

    async def _lookup_work(self, doi: str) -> WorkLookup:
        path = f"/works/{quote(doi, safe='')}"
        response = await self._request(path, {}, expect_doi=doi)
        if response.status_code == 200:
            message = _json_message(response)
            return WorkLookup(doi, "found", slim_record(message))
        if response.status_code != 404:
            raise Unavailable(f"Crossref answered HTTP {response.status_code}")
        _require_crossref_404(response)
        # A 404 only says Crossref holds no record; the DOI may belong to DataCite, mEDRA...
        agency_response = await self._request(f"{path}/agency", {})
        if agency_response.status_code == 404:
            _require_crossref_404(agency_response)
            return WorkLookup(doi, "not-found")
        if agency_response.status_code != 200:
            raise Unavailable(f"Crossref's agency lookup answered HTTP "
                              f"{agency_response.status_code}")
        agency = _json_message(agency_response).get("agency") or {}
        agency_id = str(agency.get("id", "")).lower()
        label = str(agency.get("label") or agency_id or "another agency")
        if agency_id == "crossref":
            raise Unavailable("Crossref lists the DOI as its own but returned no record")
        return WorkLookup(doi, "other-agency", agency=label)

    async def _get_json(self, path: str, params: dict[str, str], *, list_query: bool = False
                        ) -> dict[str, Any]:
        response = await self._request(path, params, list_query=list_query)
        if response.status_code != 200:
            raise Unavailable(f"Crossref answered HTTP {response.status_code}")
        return {"message": _json_message(response)}

    # -- transport --------------------------------------------------------------------------

    def _params(self, params: dict[str, str]) -> dict[str, str]:
        if self.settings.mailto:
            return {**params, "mailto": self.settings.mailto}
        return params

    async def _request(self, path: str, params: dict[str, str], *, list_query: bool = False,
                       expect_doi: str | None = None) -> httpx.Response:
        """GET with pacing and retries; returns a definitive answer (2xx/4xx but 429) or raises.

        Retries 429, 5xx, timeouts, connection errors and unreadable bodies with exponential
        backoff and jitter, honouring Retry-After.
        """
        url = f"{self.base_url}{path}"
        reason = "no answer"
        extra = (self.list_pacer,) if list_query else ()
        for attempt in range(self.settings.max_retries + 1):
            retry_after: float | None = None
            try:
                async with self.limiter.slot(*extra) as sent:

                    async def trace(event: str, info: dict[str, Any]) -> None:
                        if event == "http11.send_request_headers.complete":
                            sent()

                    self.stats.requests += 1
                    response = await self.http.get(
                        url, params=self._params(params), extensions={"trace": trace}
                    )
                    await self._adopt_limits(response)
            except httpx.TimeoutException:
                reason = f"no answer within {self.settings.timeout:g} s"
            except httpx.TransportError as error:
                reason = f"connection failed ({type(error).__name__})"
            else:
                status = response.status_code
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                if status == 429:
                    self.stats.rate_limited += 1
                    retry_after = _retry_after(response)
                    self.limiter.back_off(retry_after if retry_after is not None else 1.0)
                    reason = "rate limited (HTTP 429)"
                elif status >= 500:
                    retry_after = _retry_after(response)
                    reason = f"server error (HTTP {status})"
                elif status == 200 and not _looks_like_json(response):
                    reason = "an answer that is not Crossref JSON"
                elif status == 200 and expect_doi and not _answers_for(response, expect_doi):
                    reason = "an answer about a different DOI"
                else:
                    return response
            if attempt == self.settings.max_retries:
                break
            self.stats.retries += 1
            await asyncio.sleep(_backoff(attempt, retry_after))
        self.stats.failures += 1
        raise Unavailable(f"{reason}, after {self.settings.max_retries + 1} attempts")

    async def _adopt_limits(self, response: httpx.Response) -> None:
        headers = response.headers
        try:
            limit = float(headers["x-rate-limit-limit"])
            interval = parse_interval(headers["x-rate-limit-interval"])
            concurrency = int(headers.get("x-concurrency-limit", "1"))
        except (KeyError, ValueError):
            return
        if interval is None or limit <= 0 or concurrency <= 0:
            return
        await self.limiter.adopt(limit, interval, concurrency)
        pool = headers.get("x-api-pool", "public").lower()
        list_rate = LIST_RATE.get(pool, LIST_RATE["public"])
        self.list_pacer.set_rate(min(list_rate, limit / interval), 1.0)


def _complete(lookup: WorkLookup) -> bool:
    """Whether an answer is worth keeping: a record with neither title nor authors may be a
    truncated or broken answer (seen as a fault), so it is asked again next time."""
    record = lookup.record
    if lookup.outcome != "found" or record is None:
        return True
    return bool(record.get("title") or record.get("author"))


def _answers_for(response: httpx.Response, doi: str) -> bool:
    """The record is the one asked for (a mixed-up proxy or cache could answer another DOI)."""
    answered = response.json()["message"].get("DOI")
    return isinstance(answered, str) and answered.lower() == doi.lower()


def _require_crossref_404(response: httpx.Response) -> None:
    """Only Crossref's own 404 ("Resource not found.") means it holds no record; a proxy's or a
    gateway's 404 page says nothing about the DOI."""
    if not response.text.strip().startswith("Resource not found"):
        raise Unavailable("a 404 answer that is not Crossref's (a proxy or gateway error page?)")


def _looks_like_json(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("message"), dict)


def _json_message(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    message: dict[str, Any] = body["message"]
    return message


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:  # Retry-After may also be an HTTP date (RFC 9110, section 10.2.3)
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (0.5 s, 1 s, 2 s ... up to 8 s), or the server's word."""
    delay = min(8.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
    return max(delay, retry_after) if retry_after is not None else delay
