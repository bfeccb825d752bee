"""DataCite REST API client: a DOI's record (Zenodo, figshare, Dryad, arXiv ...), Crossref-shaped.

https://support.datacite.org/docs/api-get-doi (GET /dois/{doi}, JSON:API) and the metadata
schema's relation types (https://datacite-metadata-schema.readthedocs.io/). DataCite allows 3,000
requests per 5 minutes per address (https://support.datacite.org/docs/rate-limit), 10 a second.

The record is read into the shape of a Crossref work record, so the same field checks run on it;
a preprint's link to its published version becomes Crossref's `relation.is-preprint-of`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref import (
    ClientStats,
    Unavailable,
    _backoff,
    _retry_after,
    cache_origin_key,
)
from evidence_cli.services.ratelimit import RateLimiter
from evidence_cli.settings import DEFAULT_DATACITE_URL, Settings

RATE, CONCURRENCY = 10.0, 4
MAX_BODY_BYTES = 8 * 1024 * 1024
NOT_IN_CACHE = "not in the cache (offline mode)"
CACHE_KIND = "datacite"
# relatedIdentifiers that point from a preprint (or earlier version) to its published version.
VERSION_RELATIONS = frozenset({"IsPreviousVersionOf", "IsVersionOf", "IsPreprintOf"})


@dataclass(slots=True)
class DataCiteLookup:
    doi: str
    outcome: Literal["found", "not-found", "unavailable"]
    record: dict[str, Any] | None = None
    detail: str | None = None


class DataCiteClient:
    """Looks DataCite DOIs up: paced, retried, cached (definitive answers only)."""

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
        self.base_url = settings.datacite_url.rstrip("/")
        self.cache = cache
        self.limiter = RateLimiter(RATE, 1.0, CONCURRENCY)
        self.stats = ClientStats()
        self.on_lookup = on_lookup

    def _key(self, key: str) -> str:
        """The cache key, by service origin (issue #14: no answer from another server is
        served later as the real service's)."""
        return cache_origin_key(self.settings.datacite_url, key, DEFAULT_DATACITE_URL)

    async def get_records(self, dois: Iterable[str]) -> dict[str, DataCiteLookup]:
        wanted = list(dict.fromkeys(dois))
        results: dict[str, DataCiteLookup] = {}
        if self.cache is not None and not self.settings.refresh:
            keyed = {self._key(item): item for item in wanted}
            stored = self.cache.get_many(CACHE_KIND, list(keyed),
                                         allow_expired=self.settings.offline)
            for stored_key, value in stored.items():
                doi = keyed[stored_key]
                results[doi] = DataCiteLookup(doi, value["outcome"], value.get("record"))
        missing = [doi for doi in wanted if doi not in results]
        if self.settings.offline:
            for doi in missing:
                results[doi] = DataCiteLookup(doi, "unavailable", detail=NOT_IN_CACHE)
            return results
        for lookup in await asyncio.gather(*(self._fetch(doi) for doi in missing)):
            results[lookup.doi] = lookup
        return results

    async def _fetch(self, doi: str) -> DataCiteLookup:
        try:
            status, body = await self._request(f"/dois/{quote(doi, safe='/')}")
            if status == 404:
                lookup = DataCiteLookup(doi, "not-found")
            else:
                record = datacite_record(_json(body))
                if record is None or str(record.get("DOI", "")).lower() != doi.lower():
                    raise Unavailable("an answer about a different DOI, or not a DOI record")
                lookup = DataCiteLookup(doi, "found", record)
        except Unavailable as error:
            return DataCiteLookup(doi, "unavailable", detail=str(error))
        if self.cache is not None:
            ttl = (self.settings.not_found_ttl if lookup.outcome == "not-found"
                   else self.settings.record_ttl)
            self.cache.put(CACHE_KIND, self._key(doi),
                           {"outcome": lookup.outcome, "record": lookup.record}, ttl)
        return lookup

    async def _request(self, path: str) -> tuple[int, bytes]:
        """(200 or 404, body) after pacing and retries, or Unavailable."""
        url = f"{self.base_url}{path}"
        reason = "no answer"
        for attempt in range(self.settings.max_retries + 1):
            retry_after: float | None = None
            try:
                async with self.limiter.slot() as sent:
                    self.stats.requests += 1
                    response, body = await self._get(url)
                    sent()
            except httpx.TimeoutException:
                reason = f"no answer within {self.settings.timeout:g} s"
            except httpx.HTTPError as error:  # transport, decoding, protocol errors
                reason = f"connection failed ({type(error).__name__})"
            except _TooLarge:
                reason = f"an answer over {MAX_BODY_BYTES} bytes"
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
                elif status == 404:
                    # Only DataCite's JSON:API "errors" body means it holds no such DOI; a
                    # proxy's 404 page says nothing about the DOI.
                    if not _is_datacite_404(body):
                        raise Unavailable("a 404 answer that is not DataCite's")
                    return status, body
                elif status != 200:
                    raise Unavailable(f"DataCite answered HTTP {status}")
                elif not _is_json_api(body):
                    reason = "an answer that is not DataCite JSON"
                else:
                    return status, body
            if attempt == self.settings.max_retries:
                break
            self.stats.retries += 1
            await asyncio.sleep(_backoff(attempt, retry_after))
        self.stats.failures += 1
        raise Unavailable(f"{reason}, after {self.settings.max_retries + 1} attempts")

    async def _get(self, url: str) -> tuple[httpx.Response, bytes]:
        headers = {"Accept": "application/vnd.api+json, application/json"}
        async with self.http.stream("GET", url, headers=headers) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _TooLarge
                chunks.append(chunk)
            return response, b"".join(chunks)


class _TooLarge(Exception):
    pass


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _is_json_api(body: bytes) -> bool:
    data = _json(body)
    return isinstance(data, dict) and isinstance(data.get("data"), dict)


def _is_datacite_404(body: bytes) -> bool:
    data = _json(body)
    return isinstance(data, dict) and isinstance(data.get("errors"), list)


def _string(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _doi_of(related: dict[str, Any]) -> str | None:
    if str(related.get("relatedIdentifierType", "")).upper() != "DOI":
        return None
    value = _string(related.get("relatedIdentifier"))
    if not value:
        return None
    from evidence_cli import doi as doi_rules

    doi = doi_rules.normalize(value)
    return doi if doi_rules.is_valid(doi) else None


def datacite_record(document: Any) -> dict[str, Any] | None:
    """A DataCite JSON:API document as a Crossref-shaped record (None if it is not one)."""
    data = document.get("data") if isinstance(document, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        return None
    doi = _string(attributes.get("doi"))
    if not doi:
        return None
    record: dict[str, Any] = {"DOI": doi.lower()}
    titles = [t for t in attributes.get("titles") or [] if isinstance(t, dict)]
    main = [_string(t.get("title")) for t in titles if not t.get("titleType")]
    subtitles = [_string(t.get("title")) for t in titles if t.get("titleType") == "Subtitle"]
    others = [_string(t.get("title")) for t in titles if t.get("titleType") in
              ("AlternativeTitle", "TranslatedTitle")]
    if any(main):
        record["title"] = [t for t in main if t]
    if any(subtitles):
        record["subtitle"] = [t for t in subtitles if t]
    if any(others):
        record["original-title"] = [t for t in others if t]
    authors: list[dict[str, str]] = []
    for creator in attributes.get("creators") or []:
        if not isinstance(creator, dict):
            continue
        family, given = _string(creator.get("familyName")), _string(creator.get("givenName"))
        if family:
            authors.append({"family": family, **({"given": given} if given else {})})
        elif (name := _string(creator.get("name"))) is not None:
            if creator.get("nameType") == "Personal" and "," in name:
                last, first = (part.strip() for part in name.split(",", 1))
                authors.append({"family": last, **({"given": first} if first else {})})
            else:
                authors.append({"name": name})
    if authors:
        record["author"] = authors
    found_container = attributes.get("container")
    container: dict[str, Any] = found_container if isinstance(found_container, dict) else {}
    publisher = attributes.get("publisher")
    publisher_name = _string(publisher.get("name")) if isinstance(publisher, dict) \
        else _string(publisher)
    container_title = _string(container.get("title"))
    # A dataset or preprint is "published in" its repository: a citation naming Zenodo or arXiv
    # as the container agrees with the record.
    names = [n for n in (container_title, publisher_name) if n]
    if names:
        record["container-title"] = names[:1]
        record["short-container-title"] = names[1:]
    for key, source in (("volume", "volume"), ("issue", "issue")):
        value = _string(container.get(source))
        if value:
            record[key] = value
    first_page = _string(container.get("firstPage"))
    last_page = _string(container.get("lastPage"))
    if first_page:
        record["page"] = (f"{first_page}-{last_page}" if last_page and last_page != first_page
                          else first_page)
    year = _string(attributes.get("publicationYear"))
    if year and year.isdigit():
        record["issued"] = {"date-parts": [[int(year)]]}
    found_types = attributes.get("types")
    types: dict[str, Any] = found_types if isinstance(found_types, dict) else {}
    general = _string(types.get("resourceTypeGeneral")) or ""
    record["type"] = general.lower() or "other"
    published = _published_versions(attributes, record["DOI"], general)
    if published:
        record["relation"] = {"is-preprint-of": [
            {"id-type": "doi", "id": doi_value, "asserted-by": "subject"} for doi_value in published
        ]}
    record["datacite"] = {"resource-type-general": general or None}
    return record


def _published_versions(attributes: dict[str, Any], doi: str, general: str) -> list[str]:
    """DOIs of the published version of a preprint: only for a preprint (a dataset's
    IsVersionOf points at its Zenodo concept record, which is not a journal version), and only a
    DOI under another prefix (another version on the same repository is not "published")."""
    is_preprint = general.lower() == "preprint" or doi.startswith("10.48550/")
    if not is_preprint:
        return []
    prefix = doi.split("/", 1)[0]
    found: list[str] = []
    for related in attributes.get("relatedIdentifiers") or []:
        if not isinstance(related, dict) or related.get("relationType") not in VERSION_RELATIONS:
            continue
        target = _doi_of(related)
        if target and target.split("/", 1)[0] != prefix and target not in found:
            found.append(target)
    return found
