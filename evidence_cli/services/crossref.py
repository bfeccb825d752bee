"""Crossref REST API client: a work by DOI, the agency behind an unknown DOI, bibliographic search.

https://api.crossref.org/swagger-ui/index.html ; etiquette and limits:
https://www.crossref.org/documentation/retrieve-metadata/rest-api/tips-for-using-the-crossref-rest-api/
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from evidence_cli.services.cache import Cache
from evidence_cli.services.netguard import no_network_reason
from evidence_cli.services.ratelimit import Pacer, RateLimiter, parse_interval
from evidence_cli.settings import DEFAULT_CROSSREF_URL, Settings

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
# Advertised limits outside these bounds are nonsense (a zero or infinite interval, a NaN rate):
# they are ignored and the safe defaults kept. Crossref itself advertises 5-50 per 1 s.
MAX_ADVERTISED_INTERVAL = 60.0
MAX_ADVERTISED_LIMIT = 10_000.0
MAX_ADVERTISED_CONCURRENCY = 100
# Failures that say this machine has no network (no name resolves, no route) before any answer
# came: after this many, every other lookup is unverifiable at once instead of retried.
NO_NETWORK_AFTER = 2
# Fields of a work record and the JSON type each must have; a record with another type is not
# Crossref's (or is broken) and is unverifiable rather than checked.
_STRING_LISTS = ("title", "subtitle", "original-title", "short-title", "container-title",
                 "short-container-title")
_STRINGS = ("DOI", "type", "volume", "issue", "page", "article-number", "URL", "publisher",
            "prefix", "member")
_DATES = ("issued", "published", "published-print", "published-online", "created")
_DICT_LISTS = ("author", "editor", "updated-by", "update-to")
_DICTS = ("resource", "relation")


def slim_record(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in RECORD_KEYS if key in message}


def type_problem(record: Any) -> str | None:
    """What is ill-typed in a (slim) work record, or None when every field has its type."""
    if not isinstance(record, dict):
        return "the record is not an object"
    for key in _STRING_LISTS:
        value = record.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
            return f"'{key}' is not a list of strings"
    for key in _STRINGS:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            return f"'{key}' is not a string"
    for key in _DATES:
        value = record.get(key)
        if value is None:
            continue
        parts = value.get("date-parts") if isinstance(value, dict) else None
        if not isinstance(value, dict) or (parts is not None and not (
                isinstance(parts, list) and all(
                    isinstance(p, list) and all(isinstance(n, int | None) for n in p)
                    for p in parts))):
            return f"'{key}' is not a date"
    for key in _DICT_LISTS:
        value = record.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            return f"'{key}' is not a list of objects"
    for person in [*(record.get("author") or []), *(record.get("editor") or [])]:
        for name in ("given", "family", "name", "ORCID", "sequence"):
            if person.get(name) is not None and not isinstance(person[name], str):
                return f"an author's '{name}' is not a string"
    for notice in [*(record.get("updated-by") or []), *(record.get("update-to") or [])]:
        for name in ("type", "DOI", "label", "source"):
            if notice.get(name) is not None and not isinstance(notice[name], str):
                return f"an update notice's '{name}' is not a string"
    for key in _DICTS:
        value = record.get(key)
        if value is not None and not isinstance(value, dict):
            return f"'{key}' is not an object"
    return None


def cache_origin_key(base_url: str, key: str, default_url: str = DEFAULT_CROSSREF_URL) -> str:
    """Cached answers are keyed by the service that gave them: an answer from a test server or
    a proxy (another --crossref-url, --ncbi-url or --datacite-url) is never served later as the
    real service's. The real service's own keys stay bare, so existing caches keep answering."""
    origin = base_url.rstrip("/")
    return key if origin == default_url.rstrip("/") else f"{origin} {key}"


class _TooLarge(Exception):
    """An answer over the byte limit, on the wire or once decompressed."""


class _RequestDeadline(Exception):
    """One request took longer than its total deadline."""


@dataclass(slots=True)
class Answer:
    """A whole, bounded answer: status, headers, body and (when it parses) the JSON."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    data: Any = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(slots=True)
class WorkLookup:
    """What Crossref says about one DOI."""

    doi: str
    outcome: Literal["found", "not-found", "other-agency", "unavailable"]
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
    answers: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    # Things to say with -v (advertised limits that were ignored, say), each once.
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


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
        self.run_ends = time.monotonic() + settings.run_timeout
        self.no_network: str | None = None
        self._network_failures = 0
        self._extra_headers: dict[str, str] = {}
        if settings.crossref_plus_token and self.base_url.startswith("https://"):
            # Metadata Plus subscribers authenticate with this header; only over https, and
            # config.py has already withheld it from a host a repository's file chose.
            self._extra_headers["Crossref-Plus-API-Token"] = \
                f"Bearer {settings.crossref_plus_token}"

    def _key(self, key: str) -> str:
        return cache_origin_key(self.base_url, key)

    # -- public API -------------------------------------------------------------------------

    async def get_work(self, doi: str) -> WorkLookup:
        return (await self.get_works([doi]))[doi]

    async def get_works(self, dois: Iterable[str]) -> dict[str, WorkLookup]:
        """Look up many DOIs: cached answers first (one query), the rest concurrently."""
        wanted = list(dict.fromkeys(dois))
        results: dict[str, WorkLookup] = {}
        if self.cache is not None and not self.settings.refresh:
            keys = {self._key(doi): doi for doi in wanted}
            stored = self.cache.get_many("work", keys, allow_expired=self.settings.offline)
            for key, value in stored.items():
                cached = _cached_lookup(keys[key], value)
                if cached is None:
                    self.cache.damaged(f"a cached answer for {keys[key]} has the wrong shape")
                    continue
                results[cached.doi] = cached
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
            stored = self.cache.get("search", self._key(key), allow_expired=self.settings.offline)
            if isinstance(stored, list) and all(type_problem(item) is None for item in stored):
                return list(stored)
            if stored is not None:
                self.cache.damaged("a cached search answer has the wrong shape")
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
        # An ill-typed candidate is dropped: nothing is matched against a broken record.
        candidates = [slim for item in items if isinstance(item, dict)
                      if type_problem(slim := slim_record(item)) is None]
        if self.cache is not None:
            self.cache.put("search", self._key(key), candidates, self.settings.record_ttl)
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
            self.cache.put("work", self._key(doi), lookup.cache_value(), ttl)
        self._progress()
        return lookup

    async def _lookup_work(self, doi: str) -> WorkLookup:
        path = f"/works/{quote(doi, safe='')}"
        response = await self._request(path, {}, expect_doi=doi)
        if response.status_code == 200:
            record = slim_record(_json_message(response))
            problem = type_problem(record)
            if problem is not None:
                raise Unavailable(f"Crossref's record is malformed: {problem}")
            return WorkLookup(doi, "found", record)
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
        if not isinstance(agency, dict):
            raise Unavailable("Crossref's agency answer is malformed")
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

    def _run_left(self) -> float:
        return self.run_ends - time.monotonic()

    async def _request(self, path: str, params: dict[str, str], *, list_query: bool = False,
                       expect_doi: str | None = None) -> Answer:
        """GET with pacing and retries; returns a definitive answer (2xx/4xx but 429) or raises.

        Retries 429, 5xx, timeouts, connection errors and unreadable bodies with exponential
        backoff and jitter, honouring Retry-After within the retry budget. Every answer is read
        within a byte cap and a total deadline, and the run's time limit bounds it all.
        """
        if self.no_network is not None:
            raise Unavailable(self.no_network)
        url = f"{self.base_url}{path}"
        reason = "no answer"
        extra = (self.list_pacer,) if list_query else ()
        waited = 0.0
        attempts = 0
        for attempt in range(self.settings.max_retries + 1):
            retry_after: float | None = None
            left = self._run_left()
            if left <= 0:
                reason = self._run_limit_reason()
                break
            attempts += 1
            try:
                async with asyncio.timeout(left), self.limiter.slot(*extra) as sent:

                    async def trace(event: str, info: dict[str, Any]) -> None:
                        if event == "http11.send_request_headers.complete":
                            sent()

                    self.stats.requests += 1
                    deadline = min(self.settings.request_timeout, max(self._run_left(), 0.001))
                    response = await self._get(url, params, trace, deadline)
                    await self._adopt_limits(response)
            except TimeoutError:
                reason = self._run_limit_reason()
                break
            except _RequestDeadline:
                reason = (f"no complete answer within {self.settings.request_timeout:g} s "
                          "(the whole request's limit)")
            except _TooLarge:
                self.stats.failures += 1
                raise Unavailable(f"the answer is over the {self.settings.max_response_bytes} "
                                  "byte limit for one answer; nothing was cached") from None
            except httpx.TimeoutException:
                reason = f"no answer within {self.settings.timeout:g} s"
            except httpx.DecodingError as error:
                reason = str(error) or "an answer that cannot be decoded"
            except httpx.TransportError as error:
                reason = f"connection failed ({type(error).__name__})"
                offline = no_network_reason(error)
                if offline is not None and self.stats.answers == 0:
                    self._network_failures += 1
                    if self._network_failures >= NO_NETWORK_AFTER:
                        self.no_network = (f"no network: {offline} — nothing could be asked; "
                                           "use --offline to answer from the cache")
                        self.stats.failures += 1
                        raise Unavailable(self.no_network) from None
            else:
                self.stats.answers += 1
                status = response.status_code
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                if status == 429:
                    self.stats.rate_limited += 1
                    retry_after = _retry_after(response)
                    self.limiter.back_off(min(retry_after, RETRY_AFTER_CAP)
                                          if retry_after is not None else 1.0)
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
            if retry_after is not None and retry_after > RETRY_AFTER_CAP:
                reason += (f"; the server asked to wait {retry_after:g} s (Retry-After), more "
                           f"than the {RETRY_AFTER_CAP:g} s this tool waits")
                break
            delay = _backoff(attempt, retry_after)
            if waited + delay > self.settings.retry_budget:
                reason += f"; the {self.settings.retry_budget:g} s retry budget is spent"
                break
            waited += delay
            self.stats.retries += 1
            await asyncio.sleep(delay)
        self.stats.failures += 1
        raise Unavailable(f"{reason}, after {attempts} attempt{'' if attempts == 1 else 's'}")

    def _run_limit_reason(self) -> str:
        return (f"the run's time limit for Crossref ({self.settings.run_timeout:g} s, "
                "run-timeout) was reached")

    async def _get(self, url: str, params: dict[str, str], trace: Any, deadline: float
                   ) -> Answer:
        """One GET, read whole within `deadline` seconds and the byte cap (compressed bodies
        are inflated here, a bounded piece at a time, so a gzip bomb stops at the cap)."""
        cap = self.settings.max_response_bytes
        try:
            async with asyncio.timeout(deadline), self.http.stream(
                "GET", url, params=self._params(params), headers=self._extra_headers,
                extensions={"trace": trace},
            ) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise _TooLarge
                inflate = _inflater(response.headers.get("content-encoding", ""))
                body = bytearray()
                received = 0
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    if received > cap:
                        raise _TooLarge
                    body += inflate(chunk, cap + 1 - len(body)) if inflate else chunk
                    if len(body) > cap:
                        raise _TooLarge
                headers, status = response.headers, response.status_code
        except TimeoutError:
            raise _RequestDeadline from None
        except zlib.error:
            raise httpx.DecodingError("an answer that cannot be decompressed") from None
        return Answer(status, headers, bytes(body), _parse_json(bytes(body)))

    async def _adopt_limits(self, response: Answer) -> None:
        headers = response.headers
        if "x-rate-limit-limit" not in headers or "x-rate-limit-interval" not in headers:
            return
        raw = (f"x-rate-limit-limit: {headers['x-rate-limit-limit']}, x-rate-limit-interval: "
               f"{headers['x-rate-limit-interval']}, x-concurrency-limit: "
               f"{headers.get('x-concurrency-limit', '1')}")
        try:
            limit = float(headers["x-rate-limit-limit"])
            interval = parse_interval(headers["x-rate-limit-interval"])
            concurrency = int(headers.get("x-concurrency-limit", "1"))
        except ValueError:
            interval = None
        if (interval is None or not math.isfinite(limit) or not math.isfinite(interval)
                or not 0 < limit <= MAX_ADVERTISED_LIMIT
                or not 0 < interval <= MAX_ADVERTISED_INTERVAL
                or not 0 < concurrency <= MAX_ADVERTISED_CONCURRENCY):
            self.stats.note(f"ignored the rate limits Crossref advertised ({inert_header(raw)}):"
                            f" they make no sense; kept {self.limiter.pacer.rate:g} requests per "
                            f"{self.limiter.pacer.interval:g} s, "
                            f"{self.limiter.gate.capacity} at a time")
            return
        await self.limiter.adopt(limit, interval, concurrency)
        pool = headers.get("x-api-pool", "public").lower()
        list_rate = LIST_RATE.get(pool, LIST_RATE["public"])
        self.list_pacer.set_rate(min(list_rate, limit / interval), 1.0)


def inert_header(text: str) -> str:
    """A header value fit to print: at most 200 characters, no control characters."""
    from evidence_cli.formats import inert

    return inert(text[:200])


def _inflater(encoding: str) -> Any:
    """A function inflating one chunk into at most n bytes, or None for an identity body."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in ("gzip", "x-gzip", "deflate"):
        raise httpx.DecodingError(f"an answer in an unknown encoding ({inert_header(name)})")
    decoder = zlib.decompressobj(zlib.MAX_WBITS | (16 if "gzip" in name else 0))

    def inflate(chunk: bytes, most: int) -> bytes:
        # max_length bounds what one chunk may become; the rest stays in unconsumed_tail and
        # the caller stops, since the body is then over the cap.
        return decoder.decompress(chunk, max(most, 1))

    return inflate


def _parse_json(body: bytes) -> Any:
    """The JSON in a body, or None: also for nesting too deep to parse (a RecursionError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _cached_lookup(doi: str, value: Any) -> WorkLookup | None:
    """A cached answer back as a lookup; None when its shape is wrong (a damaged cache)."""
    if not isinstance(value, dict) or value.get("outcome") not in ("found", "not-found",
                                                                   "other-agency"):
        return None
    record, agency = value.get("record"), value.get("agency")
    if value["outcome"] == "found" and (record is None or type_problem(record) is not None):
        return None
    if agency is not None and not isinstance(agency, str):
        return None
    return WorkLookup(doi, value["outcome"], record, agency)


def _complete(lookup: WorkLookup) -> bool:
    """Whether an answer is worth keeping: a record with neither title nor authors may be a
    truncated or broken answer (seen as a fault), so it is asked again next time."""
    record = lookup.record
    if lookup.outcome != "found" or record is None:
        return True
    return bool(record.get("title") or record.get("author"))


def _answers_for(response: Answer, doi: str) -> bool:
    """The record is the one asked for (a mixed-up proxy or cache could answer another DOI)."""
    answered = response.data["message"].get("DOI")
    return isinstance(answered, str) and answered.lower() == doi.lower()


def _require_crossref_404(response: Answer) -> None:
    """Only Crossref's own 404 ("Resource not found.") means it holds no record; a proxy's or a
    gateway's 404 page says nothing about the DOI."""
    if not response.text.strip().startswith("Resource not found"):
        raise Unavailable("a 404 answer that is not Crossref's (a proxy or gateway error page?)")


def _looks_like_json(response: Answer) -> bool:
    body = response.data
    return isinstance(body, dict) and isinstance(body.get("message"), dict)


def _json_message(response: Answer) -> dict[str, Any]:
    body = response.data
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise Unavailable("an answer that is not Crossref JSON")
    message: dict[str, Any] = body["message"]
    return message


def _retry_after(response: Answer | httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:  # Retry-After may also be an HTTP date (RFC 9110, section 10.2.3)
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return None
    # Uncapped here (the caller gives up on a wait longer than RETRY_AFTER_CAP); NaN is no wait.
    return max(seconds, 0.0) if math.isfinite(seconds) or seconds > 0 else None


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (0.5 s, 1 s, 2 s ... up to 8 s), or the server's word."""
    delay = min(8.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
    return max(delay, retry_after) if retry_after is not None else delay
