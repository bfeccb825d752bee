"""A local NCBI E-utilities simulator (PubMed): EFetch and ESearch over real sockets.

Serves the recorded PubmedArticle records in tests/fixtures/pubmed/ (pubmed*.xml, from
Biopython's test data) and the constructed retraction/erratum/concern records in constructed.xml.

Routes, as eutils.ncbi.nlm.nih.gov/entrez/eutils answers them:
- GET /efetch.fcgi?db=pubmed&retmode=xml&id=1,2,3 -> 200 text/xml PubmedArticleSet holding the
  known ids (unknown ids are left out; an answer with none is an empty set); no id -> 400.
- GET /esearch.fcgi?db=pubmed&term=... -> 200 text/xml eSearchResult (the shape of the recorded
  esearch1.xml); clauses "N[pmid]", "PMCn[pmcid]", "10.x/y[doi]", "word[ti]", "family[au]",
  "year[dp]" joined by AND are answered from the held records; any other term finds nothing.
- More than 3 requests per second (10 with an api_key parameter) -> 429 application/json
  {"error":"API rate limit exceeded",...}, the answer NCBI documents.

Test hooks: add_article(xml_bytes), add_fault(...), stats (requests, rate_limited, log of targets).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.apisim import ApiSimulator, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "pubmed"
XML_TYPE = "text/xml; charset=UTF-8"
_ARTICLE = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.S)
_PMID = re.compile(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>")
_HEAD = (b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
         b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n')


def _load() -> dict[str, bytes]:
    articles: dict[str, bytes] = {}
    for path in sorted(FIXTURES.glob("*.xml")):
        if path.name.startswith("esearch"):
            continue
        for match in _ARTICLE.finditer(path.read_bytes()):
            pmid = _PMID.search(match.group(0))
            if pmid:
                articles[pmid.group(1).decode()] = match.group(0)
    return articles


class EUtilsSimulator(ApiSimulator):
    name = "eutils-sim"

    def __init__(self, *, rate: int = 3, keyed_rate: int = 10, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rate = rate
        self.keyed_rate = keyed_rate
        self.articles = _load()
        self.api_keys_seen: list[str] = []

    def add_article(self, xml: bytes) -> None:
        pmid = _PMID.search(xml)
        assert pmid is not None
        self.articles[pmid.group(1).decode()] = xml

    def rate_for(self, params: list[tuple[str, str]]) -> tuple[str, int, Reply]:
        key = dict(params).get("api_key")
        if key:
            self.api_keys_seen.append(key)
        limit = self.keyed_rate if key else self.rate
        body = json.dumps({"error": "API rate limit exceeded", "api-key": key or "127.0.0.1",
                           "count": str(limit + 1), "limit": str(limit)}).encode()
        return (f"key:{key}" if key else "ip"), limit, Reply(429, "application/json", body)

    def answer(self, path: str, params: list[tuple[str, str]]) -> Reply:
        values = dict(params)
        endpoint = path.rstrip("/").rsplit("/", 1)[-1]
        if values.get("db", "pubmed") != "pubmed":
            return Reply(400, XML_TYPE, b"<eFetchResult><ERROR>Unknown db</ERROR></eFetchResult>")
        if endpoint == "efetch.fcgi":
            ids = [i.strip() for i in values.get("id", "").split(",") if i.strip()]
            if not ids:
                return Reply(400, XML_TYPE,
                             b"<eFetchResult><ERROR>Empty id list - nothing todo</ERROR>"
                             b"</eFetchResult>")
            found = [self.articles[i] for i in ids if i in self.articles]
            body = _HEAD + b"<PubmedArticleSet>\n" + b"\n".join(found) + b"\n</PubmedArticleSet>\n"
            return Reply(200, XML_TYPE, body)
        if endpoint == "esearch.fcgi":
            ids = self._search(values.get("term", ""))
            retmax = int(values.get("retmax", "20") or 20)
            id_list = "".join(f"<Id>{i}</Id>\n" for i in ids[:retmax])
            body = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>{len(ids)}'
                    f"</Count><RetMax>{min(len(ids), retmax)}</RetMax><RetStart>0</RetStart>"
                    f"<IdList>\n{id_list}</IdList><TranslationSet/></eSearchResult>\n").encode()
            return Reply(200, XML_TYPE, body)
        return Reply(404, "text/html", b"<html><body>Not Found</body></html>")

    def _search(self, term: str) -> list[str]:
        """Clauses "VALUE[FIELD]" joined by AND; fields pmid, pmcid, doi, ti (a title word),
        au (an author's family name), dp (the publication year)."""
        clauses = [c.strip() for c in re.split(r"\s+AND\s+", term) if c.strip()]
        parsed = [re.fullmatch(r"(.+?)\s*\[(pmid|pmcid|doi|ti|au|dp)\]", c, re.I)
                  for c in clauses]
        if not parsed or any(m is None for m in parsed):
            return []
        wanted = [(m.group(1).strip().lower(), m.group(2).lower()) for m in parsed if m]
        return [pmid for pmid, xml in self.articles.items()
                if all(_matches(pmid, xml, value, name) for value, name in wanted)]


def _matches(pmid: str, xml: bytes, value: str, field: str) -> bool:
    root = ET.fromstring(xml)
    if field == "pmid":
        return pmid == value
    if field in ("pmcid", "doi"):
        kind = "pmc" if field == "pmcid" else "doi"
        return any((e.text or "").strip().lower() == value
                   for e in root.iterfind("PubmedData/ArticleIdList/ArticleId")
                   if e.get("IdType") == kind)
    article = root.find("MedlineCitation/Article")
    if article is None:
        return False
    if field == "ti":
        title = "".join(article.find("ArticleTitle").itertext()).lower()  # type: ignore[union-attr]
        return value in re.findall(r"[^\W_]+", title)
    if field == "au":
        names = article.iterfind("AuthorList/Author/LastName")
        return any((e.text or "").lower() == value for e in names)
    return article.findtext("Journal/JournalIssue/PubDate/Year") == value
