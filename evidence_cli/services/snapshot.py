"""Crossref answered from a local snapshot: the Crossref client's interface, the API behind it.

A DOI the snapshot holds is answered from its record (the same slimmed record the API path
caches, so the checks see the same fields), read from the snapshot's SQLite index (a B-tree
keyed by DOI: ~0.1 ms a lookup, where a DuckDB query on the Parquet table costs ~5 ms). A DOI it
does not hold is never called missing on the snapshot's word: it goes to the API (cache first;
offline, it is unverifiable), which also tells a DataCite DOI from an unregistered one.
Bibliographic search runs on the snapshot's FTS5 index; only when that finds nothing at all is
the API asked.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError
from evidence_cli.gc_pause import gc_paused
from evidence_cli.services.crossref import NOT_IN_CACHE, ClientStats, CrossrefClient, WorkLookup
from evidence_cli.settings import Settings
from evidence_cli.snapshot.packing import UnreadableRecord, unpack

_TOKEN = re.compile(r"\w+")
# Search terms: the rarest few of the query (a term in more than this share of the works adds
# almost nothing to BM25 and makes the query scan a long posting list).
MAX_TERMS = 24
COMMON_SHARE = 0.05
MIN_TERMS = 3
_BY_DOI = ("SELECT d.doi, d.record FROM json_each(?) AS j JOIN docs AS d ON d.doi = j.value")

_fast_loads: Callable[[bytes], Any]
try:  # orjson (the `snapshot` extra) decodes a record twice as fast as json
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - the plain library works, only slower
    _fast_loads = json.loads


def _record(packed: bytes, index: Path) -> Any:
    try:
        data = unpack(packed)
    except UnreadableRecord as error:
        raise InputError(str(index), str(error)) from None
    try:
        return _fast_loads(data)
    except ValueError:  # what only json reads (integers past 64 bits, NaN)
        return json.loads(data)


def fold(text: str) -> str:
    """Lower case without accents, as FTS5's unicode61 tokenizer with remove_diacritics 2."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def query_terms(text: str) -> list[str]:
    return list(dict.fromkeys(t for t in _TOKEN.findall(fold(text)) if len(t) > 1 or t.isdigit()))


class Snapshot:
    """Read access to a snapshot folder: records by DOI and bibliographic search."""

    def __init__(self, path: Path) -> None:
        from evidence_cli.snapshot.build import read_manifest

        self.path = path
        self.manifest = read_manifest(path)
        self.works = int(self.manifest.get("counts", {}).get("works", 0))
        self._index = index = path / layout.SEARCH
        if not index.exists():
            raise InputError(str(path), f"the snapshot has no {layout.SEARCH}: build it again")
        # Read-only; the audit asks from one thread at a time (the lock), but that thread may
        # not be the one that opened it.
        self._db = sqlite3.connect(f"file:{index}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    @property
    def date(self) -> str | None:
        """The day the snapshot's data are as of (after `snapshot update`, that day)."""
        value = self.manifest.get("updated_through") or self.manifest.get("date")
        return str(value) if value else None

    def close(self) -> None:
        self._db.close()

    def records(self, dois: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The held records of these DOIs (lower-case keys), in one query however many: the
        DOIs go in as one JSON array, walked by json_each, each looked up in the DOI index."""
        wanted = json.dumps(list(dict.fromkeys(d.lower() for d in dois)))
        with self._lock:
            rows = self._db.execute(_BY_DOI, (wanted,)).fetchall()
        with gc_paused():
            return {doi: _record(record, self._index) for doi, record in rows}

    def search(self, text: str, rows: int = 5) -> list[dict[str, Any]]:
        """The best `rows` records for a free-text reference.

        Ranking every work that shares a word with the reference (BM25 over an OR query) costs
        time in proportion to the postings of its words: 11 searches a CPU-second on 200,000
        works. So the query narrows: works holding all of the reference's six rarest words,
        then all of its three rarest (an intersection, driven by the rarest word), and only
        when both find nothing, any of its rarest words; each ranked by BM25 with titles
        weighted 3:1. Matching validates the candidates as ever. A mistyped word is in no
        work, so it is never among the words asked for."""
        terms = query_terms(text)[:200]
        if not terms:
            return []
        with self._lock:
            marks = ",".join("?" * len(terms))
            frequency = dict(self._db.execute(
                f"SELECT term, docs FROM terms WHERE term IN ({marks})", terms).fetchall())
            known = sorted((t for t in terms if t in frequency), key=lambda t: frequency[t])
            if not known:
                return []
            cap = max(COMMON_SHARE * self.works, 1)
            chosen = [t for t in known if frequency[t] <= cap][:MAX_TERMS]
            if len(chosen) < MIN_TERMS:
                chosen = known[:MIN_TERMS]
            ids: list[int] = []
            for match, fallback in _narrowing(chosen):
                if fallback and ids:
                    break
                for doc_id in self._best(match, rows):
                    if doc_id not in ids:
                        ids.append(doc_id)
                if len(ids) >= rows:
                    break
            ids = ids[:rows]
            marks = ",".join("?" * len(ids))
            stored = dict(self._db.execute(
                f"SELECT id, record FROM docs WHERE id IN ({marks})", ids).fetchall())
        with gc_paused():
            return [_record(stored[i], self._index) for i in ids if i in stored]


    def _best(self, match: str, rows: int) -> list[int]:
        """The `rows` works an FTS5 query ranks first (BM25, titles weighted 3:1).

        Ranking costs more than matching: BM25 first walks every posting of every term for
        their document counts (at 1M generated works, 1.6 ms against 0.3-0.6 ms to find the
        matches). The narrowest query most often matches one work only (the one cited), which
        needs no ranking: so the matches are asked for first, unranked, two at most, and the
        ranked query runs only when there are two or more (the answer is the ranked one's)."""
        found = [doc_id for (doc_id,) in self._db.execute(
            "SELECT rowid FROM fts WHERE fts MATCH ? LIMIT 2", (match,))]
        if len(found) <= 1:
            return found[:rows]
        return [doc_id for (doc_id,) in self._db.execute(
            "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 3.0, 1.0) LIMIT ?",
            (match, rows))]


def _narrowing(terms: list[str]) -> list[tuple[str, bool]]:
    """FTS5 queries, narrowest first, each with whether it is the fallback (run only when the
    others found nothing): all of the 6 rarest terms, all of the 3 rarest, any of the 6."""
    quoted = [f'"{t}"' for t in terms]
    queries = [(" AND ".join(quoted[:6]), False), (" AND ".join(quoted[:3]), False),
               (" OR ".join(quoted[:6]), True)]
    return list(dict.fromkeys(queries))


def describe(path: Path) -> dict[str, Any]:
    """What the report says about the snapshot used: its date, folder and source."""
    from evidence_cli.snapshot.build import read_manifest

    manifest = read_manifest(path)
    return {"date": manifest.get("updated_through") or manifest.get("date"),
            "path": str(path), "source": manifest.get("source")}


class SnapshotClient:
    """The CrossrefClient interface (get_work, get_works, search, stats) over a snapshot."""

    def __init__(self, snapshot: Snapshot, api: CrossrefClient, settings: Settings, *,
                 on_lookup: Callable[[], None] | None = None) -> None:
        self.snapshot = snapshot
        self.api = api
        self.settings = settings
        self.on_lookup = on_lookup
        self.local_lookups = 0
        self.local_searches = 0

    @property
    def stats(self) -> ClientStats:
        return self.api.stats

    @property
    def no_network(self) -> str | None:
        """The API client's "no network at all" notice, when the run found none."""
        return self.api.no_network

    async def get_work(self, doi: str) -> WorkLookup:
        return (await self.get_works([doi]))[doi]

    async def get_works(self, dois: Iterable[str], *,
                        on_answer: Callable[[WorkLookup], None] | None = None
                        ) -> dict[str, WorkLookup]:
        wanted = list(dict.fromkeys(dois))
        held = self.snapshot.records(wanted)
        results: dict[str, WorkLookup] = {}
        for doi in wanted:
            record = held.get(doi.lower())
            if record is not None:
                results[doi] = WorkLookup(doi, "found", record)
                self.local_lookups += 1
                if self.on_lookup is not None:
                    self.on_lookup()
        missing = [doi for doi in wanted if doi not in results]
        if missing:
            asked = await self.api.get_works(missing, on_answer=on_answer)
            for doi, lookup in asked.items():
                if lookup.outcome == "unavailable" and lookup.detail == NOT_IN_CACHE:
                    lookup.detail = (f"not in the snapshot of {self.snapshot.date} nor in the "
                                     "cache (offline mode)")
                results[doi] = lookup
        return results

    async def search(self, bibliographic: str, rows: int = 5) -> list[dict[str, Any]] | None:
        candidates = self.snapshot.search(bibliographic, rows)
        self.local_searches += 1
        if candidates:
            return candidates
        # Nothing in the snapshot shares a word with the reference: the work may be newer.
        return await self.api.search(bibliographic, rows)


def open_snapshot_client(path: Path, api: CrossrefClient, settings: Settings,
                         on_lookup: Callable[[], None] | None) -> SnapshotClient:
    return SnapshotClient(Snapshot(path), api, settings, on_lookup=on_lookup)
