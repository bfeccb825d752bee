"""DataCite REST API client: a DOI's record (Zenodo, figshare, Dryad, arXiv ...), Crossref-shaped.

https://support.datacite.org/docs/api-get-doi (GET /dois/{doi}, JSON:API) and the metadata
schema's relation types (https://datacite-metadata-schema.readthedocs.io/). DataCite allows 3,000
requests per 5 minutes per address (https://support.datacite.org/docs/rate-limit), 10 a second.

The record is read into the shape of a Crossref work record, so the same field checks run on it;
a preprint's link to its published version becomes Crossref's `relation.is-preprint-of`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from evidence_cli.services.bounded import Answer
from evidence_cli.services.cache import Cache
from evidence_cli.services.lookups import NOT_IN_CACHE, CachedAnswers, ServiceOptions
from evidence_cli.services.transport import ClientStats, Transport, Unavailable
from evidence_cli.settings import DEFAULT_DATACITE_URL

if TYPE_CHECKING:
    from evidence_cli.services.http_client import Http

RATE, CONCURRENCY = 10.0, 4
MAX_BODY_BYTES = 8 * 1024 * 1024
CACHE_KIND = "datacite"
# relatedIdentifiers that point from a preprint (or earlier version) to its published version.
VERSION_RELATIONS = frozenset({"IsPreviousVersionOf", "IsVersionOf", "IsPreprintOf"})


@dataclass(frozen=True, slots=True)
class DataCiteOptions(ServiceOptions):
    """The DataCite client's options."""

    base_url: str = DEFAULT_DATACITE_URL


@dataclass(slots=True)
class DataCiteLookup:
    doi: str
    outcome: Literal["found", "not-found", "unavailable"]
    record: dict[str, Any] | None = None
    detail: str | None = None


def _cached_record(doi: str, value: Any) -> DataCiteLookup | None:
    if not isinstance(value, dict) or value.get("outcome") not in ("found", "not-found"):
        return None
    record = value.get("record")
    return DataCiteLookup(doi, value["outcome"], record if isinstance(record, dict) else None)


class DataCiteClient:
    """Looks DataCite DOIs up: paced, retried, cached (definitive answers only)."""

    def __init__(
        self,
        http: Http,
        options: DataCiteOptions,
        cache: Cache | None = None,
        *,
        on_lookup: Callable[[], None] | None = None,
    ) -> None:
        self.options = options
        self.transport = Transport(http, options.transport(
            "DataCite", RATE, CONCURRENCY,
            headers=(("Accept", "application/vnd.api+json, application/json"),)))
        # Keyed by service origin (issue #14: no answer from another server is served later
        # as the real service's).
        self.answers = CachedAnswers(cache, CACHE_KIND, options, DEFAULT_DATACITE_URL)
        self.on_lookup = on_lookup

    @property
    def stats(self) -> ClientStats:
        return self.transport.stats

    async def get_records(self, dois: Iterable[str]) -> dict[str, DataCiteLookup]:
        async def fetch(missing: list[str]) -> dict[str, DataCiteLookup]:
            found = await asyncio.gather(*(self._fetch(doi) for doi in missing))
            return {lookup.doi: lookup for lookup in found}

        return await self.answers.look_up(
            dois, read=_cached_record, fetch=fetch, progress=self.on_lookup,
            offline=lambda doi: DataCiteLookup(doi, "unavailable", detail=NOT_IN_CACHE))

    async def _fetch(self, doi: str) -> DataCiteLookup:
        try:
            answer = await self.transport.get(f"/dois/{quote(doi, safe='/')}", {}, _judge)
            if answer.status_code == 404:
                lookup = DataCiteLookup(doi, "not-found")
            else:
                record = datacite_record(answer.data)
                if record is None or str(record.get("DOI", "")).lower() != doi.lower():
                    raise Unavailable("an answer about a different DOI, or not a DOI record")
                lookup = DataCiteLookup(doi, "found", record)
        except Unavailable as error:
            lookup = DataCiteLookup(doi, "unavailable", detail=str(error))
        else:
            self.answers.put(doi, {"outcome": lookup.outcome, "record": lookup.record},
                             not_found=lookup.outcome == "not-found")
        if self.on_lookup is not None:
            self.on_lookup()
        return lookup


def _judge(answer: Answer) -> str | None:
    """A 200 with a DOI record, or DataCite's own 404; anything else definitive is no answer."""
    status = answer.status_code
    if status == 404:
        # Only DataCite's JSON:API "errors" body means it holds no such DOI; a proxy's 404
        # page says nothing about the DOI.
        if not _is_datacite_404(answer.data):
            raise Unavailable("a 404 answer that is not DataCite's")
        return None
    if status != 200:
        raise Unavailable(f"DataCite answered HTTP {status}")
    return None if _is_json_api(answer.data) else "an answer that is not DataCite JSON"


def _is_json_api(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("data"), dict)


def _is_datacite_404(data: Any) -> bool:
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
