"""Crossref REST API client: a work by DOI, the agency behind an unknown DOI, bibliographic search.

https://api.crossref.org/swagger-ui/index.html ; etiquette and limits:
https://www.crossref.org/documentation/retrieve-metadata/rest-api/tips-for-using-the-crossref-rest-api/
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from evidence_cli.services.bounded import Answer
from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref_records import slim_record, type_problem
from evidence_cli.services.lookups import NOT_IN_CACHE, CachedAnswers, ServiceOptions
from evidence_cli.services.ratelimit import Pacer, RateLimiter
from evidence_cli.services.transport import ClientStats, Transport, Unavailable
from evidence_cli.settings import DEFAULT_CROSSREF_URL

if TYPE_CHECKING:
    from evidence_cli.services.http_client import Http

__all__ = ["NOT_IN_CACHE", "ClientStats", "CrossrefClient", "CrossrefOptions", "Unavailable",
           "WorkLookup", "slim_record", "type_problem"]
# Documented limits, before any header says otherwise: the public pool allows 5 requests per
# second, one at a time; list queries (searches) are limited separately to 1/s (polite: 3/s).
# The first request goes out alone; its answer's headers set the pace of the rest.
PUBLIC_RATE, PUBLIC_CONCURRENCY = 5.0, 1
LIST_RATE = {"public": 1.0, "polite": 3.0}
# DOI lookups in flight at most: as many as the run's connection pool holds (32,
# services/session.py); the advertised concurrency (the rate limiter's gate) is lower.
WORKERS = 32


@dataclass(frozen=True, slots=True)
class CrossrefOptions(ServiceOptions):
    """The Crossref client's options. The Metadata Plus token goes only over https, to
    base_url (settings resolution withholds it from a host a repository's file chose)."""

    base_url: str = DEFAULT_CROSSREF_URL
    plus_token: str | None = field(default=None, repr=False)


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


class CrossrefClient:
    """Looks works up, politely: paced, retried, cached."""

    def __init__(
        self,
        http: Http,
        options: CrossrefOptions,
        cache: Cache | None = None,
        *,
        on_lookup: Callable[[], None] | None = None,
    ) -> None:
        self.options = options
        self.base_url = options.base_url.rstrip("/")
        headers = {"Accept": "application/json"}
        if options.plus_token and self.base_url.startswith("https://"):
            # Metadata Plus subscribers authenticate with this header; only over https.
            headers["Crossref-Plus-API-Token"] = f"Bearer {options.plus_token}"
        params = (("mailto", options.mailto),) if options.mailto else ()
        self.transport = Transport(http, options.transport(
            "Crossref", PUBLIC_RATE, PUBLIC_CONCURRENCY, params=params,
            headers=tuple(headers.items()), adopt_limits=True,
            list_rates=tuple(LIST_RATE.items())))
        self.works = CachedAnswers(cache, "work", options, DEFAULT_CROSSREF_URL)
        self.searches = CachedAnswers(cache, "search", options, DEFAULT_CROSSREF_URL)
        self.on_lookup = on_lookup

    @property
    def stats(self) -> ClientStats:
        return self.transport.stats

    @property
    def no_network(self) -> str | None:
        return self.transport.no_network

    @property
    def limiter(self) -> RateLimiter:
        return self.transport.limiter

    @property
    def list_pacer(self) -> Pacer:
        return self.transport.list_pacer

    # -- public API -------------------------------------------------------------------------

    async def get_work(self, doi: str) -> WorkLookup:
        return (await self.get_works([doi]))[doi]

    async def get_works(self, dois: Iterable[str], *,
                        on_answer: Callable[[WorkLookup], None] | None = None
                        ) -> dict[str, WorkLookup]:
        """Look up many DOIs: cached answers first (one query), the rest concurrently, each
        handed to `on_answer` as it comes."""

        async def fetch(missing: list[str]) -> dict[str, WorkLookup]:
            # A few workers taking the DOIs in order, not a task per DOI: a thousand tasks all
            # started at once delay the first request by their start-up (70 ms for 1,000) and
            # then wait on the rate limiter anyway. As many as the connection pool holds.
            fetched: dict[str, WorkLookup] = {}
            queue = iter(missing)

            async def worker() -> None:
                for doi in queue:
                    lookup = fetched[doi] = await self._fetch_work(doi)
                    if on_answer is not None:
                        on_answer(lookup)

            await asyncio.gather(*(worker() for _ in range(min(WORKERS, len(missing)))))
            return fetched

        return await self.works.look_up(
            dois, read=_cached_lookup, fetch=fetch, progress=self.on_lookup,
            offline=lambda doi: WorkLookup(doi, "unavailable", detail=NOT_IN_CACHE))

    async def search(self, bibliographic: str, rows: int = 5) -> list[dict[str, Any]] | None:
        """Candidate records for a free-text reference; None when the service is unavailable.

        Crossref's relevance score means nothing on its own: callers must validate candidates.
        """
        key = f"{rows}:{bibliographic}"
        stored = self.searches.get(key)
        if isinstance(stored, list) and all(type_problem(item) is None for item in stored):
            return list(stored)
        if stored is not None:
            self.searches.damaged("a cached search answer has the wrong shape")
        if self.options.cache.offline:
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
        self.searches.put(key, candidates)
        return candidates

    async def agency(self, doi: str) -> str | None:
        """The registration agency of a DOI Crossref holds no record of; None when no agency
        knows it. Raises Unavailable when Crossref cannot say."""
        answer = await self._request(f"/works/{quote(doi, safe='')}/agency")
        if answer.status_code == 404:
            _require_crossref_404(answer)
            return None
        if answer.status_code != 200:
            raise Unavailable(f"Crossref's agency lookup answered HTTP {answer.status_code}")
        agency = _json_message(answer).get("agency") or {}
        if not isinstance(agency, dict):
            raise Unavailable("Crossref's agency answer is malformed")
        agency_id = str(agency.get("id", "")).lower()
        if agency_id == "crossref":
            raise Unavailable("Crossref lists the DOI as its own but returned no record")
        return str(agency.get("label") or agency_id or "another agency")

    # -- lookups ----------------------------------------------------------------------------

    async def _fetch_work(self, doi: str) -> WorkLookup:
        try:
            lookup = await self._lookup_work(doi)
        except Unavailable as error:
            lookup = WorkLookup(doi, "unavailable", detail=str(error))
        if kept_in_cache(lookup):
            self.works.put(doi, lookup.cache_value(), not_found=lookup.outcome == "not-found")
        if self.on_lookup is not None:
            self.on_lookup()
        return lookup

    async def _lookup_work(self, doi: str) -> WorkLookup:
        answer = await self._request(f"/works/{quote(doi, safe='')}", expect_doi=doi)
        if answer.status_code == 200:
            record = slim_record(_json_message(answer))
            problem = type_problem(record)
            if problem is not None:
                raise Unavailable(f"Crossref's record is malformed: {problem}")
            return WorkLookup(doi, "found", record)
        if answer.status_code != 404:
            raise Unavailable(f"Crossref answered HTTP {answer.status_code}")
        _require_crossref_404(answer)
        # A 404 only says Crossref holds no record; the DOI may belong to DataCite, mEDRA...
        agency = await self.agency(doi)
        if agency is None:
            return WorkLookup(doi, "not-found")
        return WorkLookup(doi, "other-agency", agency=agency)

    async def _get_json(self, path: str, params: dict[str, str], *, list_query: bool = False
                        ) -> dict[str, Any]:
        answer = await self._request(path, params, list_query=list_query)
        if answer.status_code != 200:
            raise Unavailable(f"Crossref answered HTTP {answer.status_code}")
        return {"message": _json_message(answer)}

    async def _request(self, path: str, params: dict[str, str] | None = None, *,
                       list_query: bool = False, expect_doi: str | None = None) -> Answer:
        """A definitive answer (2xx, or 4xx but 429) that is Crossref JSON about the DOI asked
        for, when one is; or Unavailable."""

        def judge(answer: Answer) -> str | None:
            if answer.status_code != 200:
                return None
            if not _looks_like_json(answer):
                return "an answer that is not Crossref JSON"
            if expect_doi and not _answers_for(answer, expect_doi):
                return "an answer about a different DOI"
            return None

        return await self.transport.get(path, params or {}, judge, list_query=list_query)


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


def kept_in_cache(lookup: WorkLookup) -> bool:
    """Whether an answer is stored: never an error, nor an incomplete record."""
    return lookup.outcome != "unavailable" and _complete(lookup)


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


