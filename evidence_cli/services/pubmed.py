"""PubMed client (NCBI E-utilities): articles by PMID, batched, read into Crossref-shaped records.

https://www.ncbi.nlm.nih.gov/books/NBK25497/ (usage rules: 3 requests/s without an API key, 10
with one; `tool` and `email` on every request) and NBK25499 (EFetch, ESearch parameters).
Retractions, errata and expressions of concern: the PubMed publication types and
CommentsCorrections (https://www.nlm.nih.gov/bsd/licensee/elements_descriptions.html).

A PubMed article is read into the same shape as a Crossref work record (title, author
family/given, container-title, volume, issue, page, issued date-parts, DOI), so the field checks
compare it with a citation unchanged; what only PubMed says (PMCID, publication types, linked
notices) goes under the record's "pubmed" key.
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

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
from evidence_cli.settings import DEFAULT_NCBI_URL, Settings

TOOL = "evidence-cli"
RATE_WITHOUT_KEY, RATE_WITH_KEY = 3.0, 10.0
CONCURRENCY = 2
# EFetch takes a comma-separated id list; NCBI asks for POST beyond about 200 ids.
BATCH = 200
# A batch of 200 whole records (reference lists included) is a few MB; anything far larger is
# not an EFetch answer.
MAX_BODY_BYTES = 32 * 1024 * 1024
NOT_IN_CACHE = "not in the cache (offline mode)"
CACHE_KIND = "pubmed"
# CommentsCorrections RefType -> what the linked notice is.
NOTICE_TYPES = {
    "RetractionIn": "retraction",
    "ExpressionOfConcernIn": "expression_of_concern",
    "ErratumIn": "erratum",
    "RetractionOf": "retraction-of",
    "ErratumFor": "erratum-for",
    "ExpressionOfConcernFor": "expression-of-concern-for",
}
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


@dataclass(slots=True)
class ArticleLookup:
    """What PubMed says about one PMID."""

    pmid: str
    outcome: Literal["found", "not-found", "unavailable"]
    record: dict[str, Any] | None = None
    detail: str | None = None


class PubMedClient:
    """Fetches PubMed records: paced to NCBI's limits, retried, cached; the API key is sent
    with each request and nowhere else (not in the cache, a report, or a message)."""

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
        self.base_url = settings.ncbi_url.rstrip("/")
        self.cache = cache
        rate = RATE_WITH_KEY if settings.ncbi_api_key else RATE_WITHOUT_KEY
        self.limiter = RateLimiter(rate, 1.0, CONCURRENCY)
        self.stats = ClientStats()
        self.on_lookup = on_lookup

    def _key(self, key: str) -> str:
        """The cache key, by service origin (issue #14: no answer from another server is
        served later as the real service's)."""
        return cache_origin_key(self.settings.ncbi_url, key, DEFAULT_NCBI_URL)

    # -- public API -------------------------------------------------------------------------

    async def get_articles(self, pmids: Iterable[str]) -> dict[str, ArticleLookup]:
        """Look PMIDs up: cached answers first, the rest in batches of up to 200 per EFetch."""
        wanted = list(dict.fromkeys(pmids))
        results: dict[str, ArticleLookup] = {}
        if self.cache is not None and not self.settings.refresh:
            keyed = {self._key(item): item for item in wanted}
            stored = self.cache.get_many(CACHE_KIND, list(keyed),
                                         allow_expired=self.settings.offline)
            for stored_key, value in stored.items():
                pmid = keyed[stored_key]
                results[pmid] = ArticleLookup(pmid, value["outcome"], value.get("record"))
                self._progress()
        missing = [pmid for pmid in wanted if pmid not in results]
        if self.settings.offline:
            for pmid in missing:
                results[pmid] = ArticleLookup(pmid, "unavailable", detail=NOT_IN_CACHE)
                self._progress()
            return results
        batches = [missing[i : i + BATCH] for i in range(0, len(missing), BATCH)]
        for answer in await asyncio.gather(*(self._fetch_batch(batch) for batch in batches)):
            results.update(answer)
        return results

    async def search(self, term: str, retmax: int = 5) -> list[str] | None:
        """PMIDs ESearch finds for a query (e.g. "PMC7613024[pmcid]"); None when unavailable."""
        key = f"esearch:{retmax}:{term}"
        if self.cache is not None and not self.settings.refresh:
            stored = self.cache.get(CACHE_KIND, self._key(key), allow_expired=self.settings.offline)
            if isinstance(stored, dict):
                return list(stored.get("ids") or [])
        if self.settings.offline:
            return None
        try:
            body = await self._request("esearch.fcgi",
                                       {"db": "pubmed", "term": term, "retmax": str(retmax)})
            root = _parse_xml(body)
        except Unavailable:
            return None
        if root.tag != "eSearchResult" or root.find("IdList") is None:
            return None
        ids = [(e.text or "").strip() for e in root.iterfind("IdList/Id")]
        ids = [i for i in ids if i.isdigit()]
        if self.cache is not None:
            self.cache.put(CACHE_KIND, self._key(key), {"ids": ids}, self.settings.not_found_ttl)
        return ids

    # -- lookups ----------------------------------------------------------------------------

    def _progress(self) -> None:
        if self.on_lookup is not None:
            self.on_lookup()

    async def _fetch_batch(self, pmids: list[str]) -> dict[str, ArticleLookup]:
        results: dict[str, ArticleLookup] = {}
        try:
            body = await self._request("efetch.fcgi", {
                "db": "pubmed", "retmode": "xml", "id": ",".join(pmids)})
            records = parse_efetch(body)
        except Unavailable as error:
            for pmid in pmids:
                results[pmid] = ArticleLookup(pmid, "unavailable", detail=str(error))
                self._progress()
            return results
        for pmid in pmids:
            record = records.get(pmid)
            lookup = (ArticleLookup(pmid, "found", record) if record is not None
                      else ArticleLookup(pmid, "not-found"))
            results[pmid] = lookup
            if self.cache is not None:
                ttl = (self.settings.record_ttl if record is not None
                       else self.settings.not_found_ttl)
                self.cache.put(CACHE_KIND, self._key(pmid),
                               {"outcome": lookup.outcome, "record": record}, ttl)
            self._progress()
        return results

    # -- transport --------------------------------------------------------------------------

    def _params(self, params: dict[str, str]) -> dict[str, str]:
        extra = {"tool": TOOL}
        if self.settings.mailto:
            extra["email"] = self.settings.mailto
        if self.settings.ncbi_api_key:
            extra["api_key"] = self.settings.ncbi_api_key
        return {**params, **extra}

    async def _request(self, endpoint: str, params: dict[str, str]) -> bytes:
        """GET with pacing and retries (429, 5xx, timeouts, resets, unreadable bodies); the body
        of a 200 answer, or Unavailable. Messages never carry the URL: it holds the API key."""
        url = f"{self.base_url}/{endpoint}"
        reason = "no answer"
        for attempt in range(self.settings.max_retries + 1):
            retry_after: float | None = None
            try:
                async with self.limiter.slot() as sent:
                    self.stats.requests += 1
                    status, response, body = await self._get(url, self._params(params))
                    sent()
            except httpx.TimeoutException:
                reason = f"no answer within {self.settings.timeout:g} s"
            except httpx.HTTPError as error:  # transport, decoding, protocol errors
                reason = f"connection failed ({type(error).__name__})"
            except _TooLarge:
                reason = f"an answer over {MAX_BODY_BYTES} bytes"
            else:
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                if status == 429:
                    self.stats.rate_limited += 1
                    retry_after = _retry_after(response)
                    self.limiter.back_off(retry_after if retry_after is not None else 1.0)
                    reason = "rate limited (HTTP 429)"
                elif status >= 500:
                    retry_after = _retry_after(response)
                    reason = f"server error (HTTP {status})"
                elif status != 200:
                    # NCBI answers 400 for a malformed request; retrying would not help.
                    self.stats.failures += 1
                    raise Unavailable(f"NCBI answered HTTP {status}")
                elif not _looks_like_xml(body):
                    reason = "an answer that is not E-utilities XML"
                else:
                    return body
            if attempt == self.settings.max_retries:
                break
            self.stats.retries += 1
            await asyncio.sleep(_backoff(attempt, retry_after))
        self.stats.failures += 1
        raise Unavailable(f"{reason}, after {self.settings.max_retries + 1} attempts")

    async def _get(self, url: str, params: dict[str, str]) -> tuple[int, httpx.Response, bytes]:
        async with self.http.stream("GET", url, params=params,
                                    headers={"Accept": "application/xml, text/xml"}) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _TooLarge
                chunks.append(chunk)
            return response.status_code, response, b"".join(chunks)


class _TooLarge(Exception):
    pass


def _looks_like_xml(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _parse_xml(body: bytes) -> ET.Element:
    # E-utilities answers name an external DTD but never declare entities: an internal entity
    # declaration could only be an expansion attack.
    if b"<!ENTITY" in body:
        raise Unavailable("an answer declaring XML entities (refused)")
    try:
        return ET.fromstring(body)
    except ET.ParseError as error:
        raise Unavailable(f"an unreadable XML answer ({error})") from None


# -- PubMed XML -> record --------------------------------------------------------------------------

def parse_efetch(body: bytes) -> dict[str, dict[str, Any]]:
    """PMID -> record for each article of an EFetch answer (a PubmedArticleSet)."""
    root = _parse_xml(body)
    if root.tag != "PubmedArticleSet":
        raise Unavailable(f"an answer that is not a PubmedArticleSet (<{root.tag}>)")
    records: dict[str, dict[str, Any]] = {}
    for article in root.iterfind("PubmedArticle"):
        record = article_record(article)
        if record is not None:
            records[record["pubmed"]["pmid"]] = record
    return records


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _year(date: ET.Element | None) -> list[int] | None:
    if date is None:
        return None
    year = _text(date.find("Year"))
    if year is None:
        medline = _text(date.find("MedlineDate"))  # "1998 Dec-1999 Jan"
        found = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", medline or "")
        return [int(found.group(1))] if found else None
    if not year.isdigit():
        return None
    parts = [int(year)]
    month = (_text(date.find("Month")) or "").lower()[:3]
    number = int(month) if month.isdigit() else _MONTHS.get(month)
    if number:
        parts.append(number)
        day = _text(date.find("Day"))
        if day and day.isdigit():
            parts.append(int(day))
    return parts


def expand_pages(pages: str) -> str:
    """MEDLINE abbreviates page ranges ("113-25"): the full form ("113-125") compares cleanly."""
    match = re.fullmatch(r"([A-Za-z]*)(\d+)-([A-Za-z]*)(\d+)", pages.strip())
    if not match:
        return pages
    prefix, start, end_prefix, end = match.groups()
    if len(end) < len(start) and not end_prefix:
        end = start[: len(start) - len(end)] + end
    return f"{prefix}{start}-{end_prefix or prefix}{end}"


def article_record(article: ET.Element) -> dict[str, Any] | None:
    """One PubmedArticle as a Crossref-shaped record, or None without a PMID."""
    citation = article.find("MedlineCitation")
    if citation is None:
        return None
    pmid = _text(citation.find("PMID"))
    item = citation.find("Article")
    if not pmid or not pmid.isdigit() or item is None:
        return None
    record: dict[str, Any] = {"type": "journal-article"}
    title = _text(item.find("ArticleTitle")) or _text(item.find("VernacularTitle"))
    if title:
        record["title"] = [title]
    authors: list[dict[str, str]] = []
    for author in item.iterfind("AuthorList/Author"):
        if author.get("ValidYN", "Y") != "Y":
            continue
        family = _text(author.find("LastName"))
        if family:
            person = {"family": family}
            given = _text(author.find("ForeName")) or _text(author.find("Initials"))
            if given:
                person["given"] = given
            authors.append(person)
        elif (collective := _text(author.find("CollectiveName"))) is not None:
            authors.append({"name": collective})
    if authors:
        record["author"] = authors
    journal = item.find("Journal")
    if journal is not None:
        full = _text(journal.find("Title"))
        short = [t for t in (_text(journal.find("ISOAbbreviation")),
                             _text(citation.find("MedlineJournalInfo/MedlineTA"))) if t]
        if full:
            record["container-title"] = [full]
        if short:
            record["short-container-title"] = list(dict.fromkeys(short))
        issue = journal.find("JournalIssue")
        if issue is not None:
            for key, tag in (("volume", "Volume"), ("issue", "Issue")):
                value = _text(issue.find(tag))
                if value:
                    record[key] = value
            issued = _year(issue.find("PubDate"))
            if issued:
                record["issued"] = {"date-parts": [issued]}
    online = _year(item.find("ArticleDate[@DateType='Electronic']"))
    if online:
        record["published-online"] = {"date-parts": [online]}
    pages = _text(item.find("Pagination/MedlinePgn"))
    if pages:
        record["page"] = expand_pages(pages)
    ids = {(e.get("IdType") or "").lower(): (e.text or "").strip()
           for e in article.iterfind("PubmedData/ArticleIdList/ArticleId")}
    doi = ids.get("doi") or next(
        (e.text.strip() for e in item.iterfind("ELocationID")
         if e.get("EIdType") == "doi" and e.text), None)
    if doi:
        record["DOI"] = doi.lower()
    types = [t for t in (_text(e) for e in item.iterfind("PublicationTypeList/PublicationType"))
             if t]
    notices = []
    for link in citation.iterfind("CommentsCorrectionsList/CommentsCorrections"):
        kind = NOTICE_TYPES.get(link.get("RefType") or "")
        if kind is None:
            continue
        notices.append({"type": kind, "pmid": _text(link.find("PMID")),
                        "source": _text(link.find("RefSource"))})
    record["pubmed"] = {"pmid": pmid, "pmcid": ids.get("pmc") or None,
                        "publication-types": types, "notices": notices}
    return record
