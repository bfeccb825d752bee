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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from evidence_cli.services.bounded import Answer
from evidence_cli.services.cache import Cache
from evidence_cli.services.lookups import NOT_IN_CACHE, CachedAnswers, ServiceOptions
from evidence_cli.services.transport import ClientStats, Transport, Unavailable
from evidence_cli.settings import DEFAULT_NCBI_URL

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from evidence_cli.services.http_client import Http

TOOL = "evidence-cli"
RATE_WITHOUT_KEY, RATE_WITH_KEY = 3.0, 10.0
CONCURRENCY = 2
# EFetch takes a comma-separated id list; NCBI asks for POST beyond about 200 ids.
BATCH = 200
# A batch of 200 whole records (reference lists included) is a few MB; anything far larger is
# not an EFetch answer.
MAX_BODY_BYTES = 32 * 1024 * 1024
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


@dataclass(frozen=True, slots=True)
class PubMedOptions(ServiceOptions):
    """The PubMed client's options. The NCBI API key is sent as a query parameter to base_url
    only, and never shown, cached or logged."""

    base_url: str = DEFAULT_NCBI_URL
    api_key: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class ArticleLookup:
    """What PubMed says about one PMID."""

    pmid: str
    outcome: Literal["found", "not-found", "unavailable"]
    record: dict[str, Any] | None = None
    detail: str | None = None


def _cached_article(pmid: str, value: Any) -> ArticleLookup | None:
    if not isinstance(value, dict) or value.get("outcome") not in ("found", "not-found"):
        return None
    record = value.get("record")
    return ArticleLookup(pmid, value["outcome"], record if isinstance(record, dict) else None)


class PubMedClient:
    """Fetches PubMed records: paced to NCBI's limits, retried, cached; the API key is sent
    with each request and nowhere else (not in the cache, a report, or a message)."""

    def __init__(
        self,
        http: Http,
        options: PubMedOptions,
        cache: Cache | None = None,
        *,
        on_lookup: Callable[[], None] | None = None,
    ) -> None:
        self.options = options
        params = {"tool": TOOL}
        if options.mailto:
            params["email"] = options.mailto
        if options.api_key:
            params["api_key"] = options.api_key
        rate = RATE_WITH_KEY if options.api_key else RATE_WITHOUT_KEY
        self.transport = Transport(http, options.transport(
            "NCBI", rate, CONCURRENCY, params=tuple(params.items()),
            headers=(("Accept", "application/xml, text/xml"),)))
        # Keyed by service origin (issue #14: no answer from another server is served later
        # as the real service's).
        self.answers = CachedAnswers(cache, CACHE_KIND, options, DEFAULT_NCBI_URL)
        self.on_lookup = on_lookup

    @property
    def stats(self) -> ClientStats:
        return self.transport.stats

    # -- public API -------------------------------------------------------------------------

    async def get_articles(self, pmids: Iterable[str]) -> dict[str, ArticleLookup]:
        """Look PMIDs up: cached answers first, the rest in batches of up to 200 per EFetch."""

        async def fetch(missing: list[str]) -> dict[str, ArticleLookup]:
            batches = [missing[i : i + BATCH] for i in range(0, len(missing), BATCH)]
            results: dict[str, ArticleLookup] = {}
            for answer in await asyncio.gather(*(self._fetch_batch(b) for b in batches)):
                results.update(answer)
            return results

        return await self.answers.look_up(
            pmids, read=_cached_article, fetch=fetch, progress=self.on_lookup,
            offline=lambda pmid: ArticleLookup(pmid, "unavailable", detail=NOT_IN_CACHE))

    async def search(self, term: str, retmax: int = 5) -> list[str] | None:
        """PMIDs ESearch finds for a query (e.g. "PMC7613024[pmcid]"); None when unavailable."""
        key = f"esearch:{retmax}:{term}"
        stored = self.answers.get(key)
        if isinstance(stored, dict):
            return list(stored.get("ids") or [])
        if self.options.cache.offline:
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
        self.answers.put(key, {"ids": ids}, not_found=True)
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
            self.answers.put(pmid, {"outcome": lookup.outcome, "record": record},
                             not_found=record is None)
            self._progress()
        return results

    async def _request(self, endpoint: str, params: dict[str, str]) -> bytes:
        """The body of a 200 E-utilities answer, or Unavailable."""

        def judge(answer: Answer) -> str | None:
            if answer.status_code != 200:
                # NCBI answers 400 for a malformed request; retrying would not help.
                raise Unavailable(f"NCBI answered HTTP {answer.status_code}")
            return None if _looks_like_xml(answer.body) else "an answer that is not E-utilities XML"

        return (await self.transport.get(f"/{endpoint}", params, judge)).body


def _looks_like_xml(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _parse_xml(body: bytes) -> ET.Element:
    # E-utilities answers name an external DTD but never declare entities: an internal entity
    # declaration could only be an expansion attack.
    if b"<!ENTITY" in body:
        raise Unavailable("an answer declaring XML entities (refused)")
    # Imported here: only an answer from PubMed needs it.
    import xml.etree.ElementTree as ET

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
