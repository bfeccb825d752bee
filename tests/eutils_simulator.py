"""A local NCBI E-utilities simulator (PubMed): EFetch and ESearch over real sockets.

Serves the recorded PubmedArticle records in tests/fixtures/pubmed/ (pubmed*.xml, from
Biopython's test data) and the constructed retraction/erratum/concern records in constructed.xml.

Routes, as eutils.ncbi.nlm.nih.gov/entrez/eutils answers them:
- GET /efetch.fcgi?db=pubmed&retmode=xml&id=1,2,3 -> 200 text/xml PubmedArticleSet holding the
  known ids (unknown ids are left out; an answer with none is an empty set); no id -> 400.
- GET /esearch.fcgi?db=pubmed&term=... -> 200 text/xml eSearchResult; terms "N[pmid]",
  "PMCn[pmcid]" and "10.x/y[doi]" are answered from the held records, anything else finds nothing.
- More than 3 requests per second (10 with an api_key parameter) -> 429 application/json
  {"error":"API rate limit exceeded",...}, the answer NCBI documents.

Test hooks: add_article(xml_bytes), add_fault(...), stats (requests, rate_limited, log of targets).
"""

from __future__ import annotations

import json
import re
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
        match = re.fullmatch(r"\s*(.+?)\s*\[(pmid|pmcid|doi)\]\s*", term, re.I)
        if not match:
            return []
        value, field = match.group(1).lower(), match.group(2).lower()
        found = []
        for pmid, xml in self.articles.items():
            text = xml.decode("utf-8", "replace").lower()
            if (field == "pmid" and pmid == value) or (
                field == "pmcid" and f'idtype="pmc">{value}<' in text) or (
                field == "doi" and f'idtype="doi">{value}<' in text):
                found.append(pmid)
        return found
