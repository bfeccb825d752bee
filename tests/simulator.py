"""A local Crossref REST API simulator: a real HTTP server with Crossref routes, limits and faults.

Serves the recorded records in tests/fixtures/crossref/works.jsonl and the constructed ones in
constructed.jsonl over real sockets, with the response shapes and headers of api.crossref.org (see
exchanges.json), the public/polite rate and concurrency pools, and injectable faults.

    with CrossrefSimulator(rate_limit=50, concurrency=3) as sim:
        httpx.get(f"{sim.url}/works/10.1371/journal.pone.0033693")

Routes: GET /works/{doi} (work or 404 "Resource not found."), GET /works/{doi}/agency, and
GET /works?query.bibliographic=...&rows=N (also query=, query.<field>=; offset=), and
GET /works?filter=from-update-date:YYYY-MM-DD&rows=N&cursor=* (records deposited on or after the
day, by DOI, paged with Crossref's deep-paging cursor: each page carries `next-cursor`, the page
after the last is empty). Other filters are ignored.

Test hooks: add_record(message), set_agency(prefix, name), add_fault(kind, times=1, match=None,
**params) / clear_faults(), wake_sleepers(), in_flight(pool), reset_stats(), reset_limits(),
kill() / stop() / start(). `stats` counts requests, 429s, paths, peak concurrency and logs every
request (LogEntry) before its answer is sent.

Run standalone for manual checks and benchmarks:

    python -m tests.simulator --port 8765 --rate 50 --concurrency 3 --latency 0.04
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import math
import re
import socket
import ssl
import struct
import threading
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

FIXTURES = Path(__file__).parent / "fixtures" / "crossref"
DEFAULT_FILES = (FIXTURES / "works.jsonl", FIXTURES / "constructed.jsonl")

NOT_FOUND_BODY = b"Resource not found."
RATE_LIMITED_BODY = (
    b"Too many requests. Rate limit exceeded for this API pool; see the x-rate-limit-limit, "
    b"x-rate-limit-interval and x-concurrency-limit headers. "
    b"https://www.crossref.org/documentation/retrieve-metadata/rest-api/"
)
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response from an "
    b"upstream server.</p></body></html>\n"
)
# Content types as recorded in exchanges.json: the work route says plain application/json, the
# agency route and error bodies carry a charset.
JSON_TYPE = "application/json"
JSON_UTF8_TYPE = "application/json;charset=utf-8"

# Registration agency names from doi.org/ra -> the ids Crossref's agency route uses.
AGENCY_IDS = {
    "crossref": "crossref",
    "datacite": "datacite",
    "medra": "medra",
    "jalc": "jalc",
    "kisti": "kisti",
    "cnki": "cnki",
    "airiti": "airiti",
    "istic": "istic",
    "op": "op",
}
FAULT_KINDS = frozenset(
    {
        "status",
        "timeout",
        "reset",
        "reset-mid-body",
        "malformed-json",
        "truncated-json",
        "html-200",
        "missing-fields",
        "custom",
    }
)
# Parameters the single-work routes accept; Crossref rejects anything else with a 400.
WORK_ROUTE_PARAMS = frozenset({"mailto"})
MAX_ROWS = 1000
DEFAULT_ROWS = 20

# BM25 constants: the usual defaults. Length normalisation matters here: it is what ranks an
# article above its own "Retraction notice to: <same title>" for a query of the article's title.
_K1 = 1.2
_B = 0.75
_TOKEN = re.compile(r"[^\W_]+")


# --------------------------------------------------------------------------------------------
# Records and the search index
# --------------------------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-folded word tokens: "Müller, 923-928" -> ["muller", "923", "928"]."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _TOKEN.findall(folded)


def _record_year(message: dict[str, Any]) -> int | None:
    for key in ("issued", "published", "published-print", "published-online"):
        parts = (message.get(key) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and parts[0][0]:
            return int(parts[0][0])
    return None


def _search_text(message: dict[str, Any]) -> list[str]:
    """The fields a bibliographic query is matched against, as Crossref describes it: titles,
    contributors' names, container, year, volume, issue and pages."""
    parts: list[str] = []
    for key in ("title", "subtitle", "short-title", "container-title", "short-container-title"):
        parts.extend(str(v) for v in message.get(key) or [])
    for person in message.get("author") or []:
        parts.append(str(person.get("family") or person.get("name") or ""))
    year = _record_year(message)
    if year:
        parts.append(str(year))
    for key in ("volume", "issue", "page"):
        if message.get(key):
            parts.append(str(message[key]))
    return parts


@dataclass(frozen=True, slots=True)
class _Entry:
    """One held record, with what serving and searching it needs precomputed."""

    doi: str  # lower case: the lookup key
    message: dict[str, Any]
    body: bytes  # the serialized message, reused for every answer
    terms: dict[str, int]  # token -> count in the searchable fields
    length: int
    title_terms: frozenset[str]  # the main title's tokens, for the title-coverage boost


def _entry(message: dict[str, Any]) -> _Entry:
    if not isinstance(message.get("DOI"), str) or not message["DOI"]:
        raise ValueError("a Crossref work record needs a DOI")
    tokens = [t for part in _search_text(message) for t in tokenize(part)]
    return _Entry(
        doi=message["DOI"].lower(),
        message=message,
        body=json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode(),
        terms=dict(Counter(tokens)),
        length=len(tokens),
        title_terms=frozenset(tokenize(" ".join(map(str, message.get("title") or [])))),
    )


def _is_agency_message(message: dict[str, Any]) -> bool:
    # works.jsonl holds one recorded /agency answer (10.1126/science.169.3946.635) among the works;
    # serving it as a work would be wrong, so it only marks its DOI as registered with Crossref.
    return "agency" in message and "type" not in message and "title" not in message


@lru_cache(maxsize=8)
def _load_file(path: Path) -> tuple[tuple[_Entry, ...], frozenset[str]]:
    """Parse and preprocess a fixture file once per process (entries are never mutated)."""
    entries: list[_Entry] = []
    agency_only: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            message = json.loads(line)["message"]
            if _is_agency_message(message):
                agency_only.add(message["DOI"].lower())
            else:
                entries.append(_entry(message))
    return tuple(entries), frozenset(agency_only)


@lru_cache(maxsize=1)
def _load_agencies() -> dict[str, str]:
    """Prefix -> agency name from the recorded doi.org/ra answers."""
    data = json.loads((FIXTURES / "registration-agencies.json").read_text(encoding="utf-8"))
    return {answer[0]["DOI"].lower(): answer[0]["RA"] for answer in data["doi_org_ra"].values()}


class _Index:
    """A BM25 inverted index over the held records; not thread-safe (the simulator locks)."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.order: dict[str, int] = {}
        self.postings: dict[str, dict[str, int]] = {}
        self.total_length = 0
        self._next = 0
        # Derived from document frequencies; emptied whenever a record is added or removed.
        self._idf_cache: dict[str, float] = {}
        self._title_weight: dict[str, float] = {}

    def add(self, entry: _Entry) -> None:
        self._idf_cache.clear()
        self._title_weight.clear()
        if entry.doi in self.entries:
            self.remove(entry.doi)
        self.entries[entry.doi] = entry
        self.order[entry.doi] = self._next
        self._next += 1
        self.total_length += entry.length
        for term, count in entry.terms.items():
            self.postings.setdefault(term, {})[entry.doi] = count

    def remove(self, doi: str) -> None:
        self._idf_cache.clear()
        self._title_weight.clear()
        entry = self.entries.pop(doi)
        del self.order[doi]
        self.total_length -= entry.length
        for term in entry.terms:
            docs = self.postings[term]
            del docs[doi]
            if not docs:
                del self.postings[term]

    def _idf(self, term: str) -> float:
        idf = self._idf_cache.get(term)
        if idf is None:
            n, df = len(self.entries), len(self.postings.get(term, ()))
            idf = self._idf_cache[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf

    def _title_total(self, doi: str) -> float:
        total = self._title_weight.get(doi)
        if total is None:
            terms = self.entries[doi].title_terms
            total = self._title_weight[doi] = sum(self._idf(t) for t in terms)
        return total

    def search(
        self, text: str, rows: int, offset: int = 0
    ) -> tuple[int, list[tuple[_Entry, float]]]:
        """(number of records sharing a token with the query, the best `rows` after `offset`)."""
        n = len(self.entries)
        if n == 0:
            return 0, []
        avg = max(self.total_length / n, 1.0)
        scores: dict[str, float] = {}
        query = set(tokenize(text))
        entries = self.entries
        for term in query:
            docs = self.postings.get(term)
            if not docs:
                continue
            idf = self._idf(term)
            for doi, tf in docs.items():
                norm = tf + _K1 * (1 - _B + _B * entries[doi].length / avg)
                scores[doi] = scores.get(doi, 0.0) + idf * tf * (_K1 + 1) / norm
        # BM25 alone lets a short record that shares one rare word beat a record whose whole
        # (short) title is the query: boost by how much of the record's title the query covers.
        for doi in scores:
            title = entries[doi].title_terms
            if title:
                covered = sum(self._idf(t) for t in title & query)
                scores[doi] *= 1 + covered / self._title_total(doi)
        order = self.order
        best = heapq.nlargest(
            offset + rows, scores.items(), key=lambda item: (item[1], -order[item[0]])
        )[offset:]
        return len(scores), [(self.entries[doi], score) for doi, score in best]


# --------------------------------------------------------------------------------------------
# Stats and faults
# --------------------------------------------------------------------------------------------


class LogEntry(NamedTuple):
    """One request as the simulator saw it. status 0: the connection was closed with no answer."""

    start: float  # time.monotonic() when the request line arrived
    method: str
    path: str  # path and query, as sent
    pool: str  # "public" or "polite"
    status: int
    user_agent: str


@dataclass
class SimulatorStats:
    """Counters updated by the handler threads under `lock`; read them freely in tests."""

    requests: int = 0
    rate_limited: int = 0  # 429s sent because a limit was exceeded (not injected 429 faults)
    by_path: Counter[str] = field(default_factory=Counter)  # URL path without the query
    max_in_flight: int = 0  # most requests served at once, all pools together
    max_in_flight_by_pool: Counter[str] = field(default_factory=Counter)
    log: list[LogEntry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.rate_limited = 0
            self.by_path.clear()
            self.max_in_flight = 0
            self.max_in_flight_by_pool.clear()
            self.log.clear()

    def statuses(self) -> Counter[int]:
        """How many answers of each status were sent (0 = closed without one)."""
        with self.lock:
            return Counter(entry.status for entry in self.log)


@dataclass
class _Fault:
    kind: str
    times: int | None
    match: str | None
    params: dict[str, Any]


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _Response(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Rebinding the same port after kill()/stop() must not fail on TIME_WAIT sockets.
    allow_reuse_address = True
    request_queue_size = 64
    simulator: CrossrefSimulator


class CrossrefSimulator:
    """A Crossref REST API on 127.0.0.1, for tests and benchmarks.

    Limits are per pool ("public", or "polite" when the request has a mailto parameter or
    "mailto:" in its User-Agent). Every admitted request counts against its pool's sliding window
    when it arrives; a request refused with 429 neither counts nor holds a concurrency slot.
    List queries (/works?query...) are also counted against a separate, lower list window.
    Attributes named like the constructor arguments may be changed while serving.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int = 5,
        concurrency: int = 1,
        polite_rate_limit: int = 10,
        polite_concurrency: int = 3,
        list_rate_limit: int = 1,
        polite_list_rate_limit: int = 3,
        interval: float = 1.0,
        enforce: bool = True,
        latency: float = 0.0,
        retry_after: float | None = None,
        load_fixtures: bool = True,
        records: Iterable[dict[str, Any]] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        # A server-side TLS context (tests make one with trustme): the simulator serves https.
        self.tls = tls
        self.rate_limit = rate_limit
        self.concurrency = concurrency
        self.polite_rate_limit = polite_rate_limit
        self.polite_concurrency = polite_concurrency
        self.list_rate_limit = list_rate_limit
        self.polite_list_rate_limit = polite_list_rate_limit
        self.interval = interval
        self.enforce = enforce
        self.latency = latency
        self.retry_after = retry_after
        self.stats = SimulatorStats()

        self._port = port
        self._requested_port = port
        self._lock = threading.Lock()
        self._index = _Index()
        self._known_crossref: set[str] = set()
        self._agencies: dict[str, str] = dict(_load_agencies())
        self._faults: list[_Fault] = []
        self._windows: dict[str, deque[float]] = {}
        self._in_flight: Counter[str] = Counter()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Handlers sleeping in latency or a timeout fault wait on this event; wake_sleepers()
        # sets it (and puts a fresh one in place for later sleeps).
        self._wake = threading.Event()

        if load_fixtures:
            for path in DEFAULT_FILES:
                entries, agency_only = _load_file(path)
                for entry in entries:
                    self._index.add(entry)
                self._known_crossref |= agency_only
        for message in records:
            self.add_record(message)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:40123 (no trailing slash)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> CrossrefSimulator:
        """Start serving in a daemon thread. After stop()/kill() the same port is rebound; if it
        was picked by the simulator (port=0) and has been taken since, a new one is (read .url
        again). An explicitly requested port that is busy raises OSError."""
        if self._server is not None:
            return self
        try:
            server = _Server((self.host, self._port), _Handler)
        except OSError:
            # Only a port the simulator picked itself may change; a port asked for is kept or
            # the start fails, so a benchmark never talks to some other server on that port.
            if self._port == 0 or self._requested_port != 0:
                raise
            server = _Server((self.host, 0), _Handler)
        server.simulator = self
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"crossref-sim:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: no new connections; open connections are closed (FIN)."""
        self._shutdown(abrupt=False)

    def kill(self) -> None:
        """Stop abruptly: the listening socket and every open connection are closed at once,
        with a TCP reset, even mid-request."""
        self._shutdown(abrupt=True)

    def _shutdown(self, *, abrupt: bool) -> None:
        server = self._server
        if server is None:
            return
        self._server = None
        if abrupt:
            # Connections first: a handler woken from a sleep must find its socket dead.
            self._close_connections(abrupt=True)
        self.wake_sleepers()
        server.shutdown()
        server.server_close()
        self._close_connections(abrupt=abrupt)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        # In-flight counts are not reset: the woken handlers release their own slots.

    def _close_connections(self, *, abrupt: bool) -> None:
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                if abrupt:
                    # Linger 0: the eventual close sends RST instead of FIN.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # shutdown() wakes a handler thread blocked reading the socket; the handler
                # thread then closes it itself, so no file descriptor is closed under its feet.
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> CrossrefSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data --------------------------------------------------------------------------------

    def add_record(self, message: dict[str, Any]) -> None:
        """Hold one more work (the "message" of GET /works/{doi}); replaces one with that DOI."""
        entry = _entry(message)
        with self._lock:
            self._index.add(entry)

    def remove_record(self, doi: str) -> None:
        with self._lock:
            self._index.remove(doi.lower())

    def record(self, doi: str) -> dict[str, Any] | None:
        """The held message for a DOI (case-insensitive), or None. Do not mutate it."""
        with self._lock:
            entry = self._index.entries.get(doi.lower())
        return entry.message if entry else None

    def dois(self) -> list[str]:
        with self._lock:
            return list(self._index.entries)

    def set_agency(self, prefix: str, agency: str) -> None:
        """Say which agency registers a prefix, e.g. set_agency("10.3280", "mEDRA")."""
        with self._lock:
            self._agencies[prefix.lower()] = agency

    # -- faults and stats --------------------------------------------------------------------

    def add_fault(
        self, kind: str, times: int | None = 1, match: str | None = None, **params: Any
    ) -> None:
        """Make the next `times` requests whose path+query contains `match` (None: any request)
        fail as `kind`; times=None: until clear_faults(). Faults apply in the order added, after
        the rate/concurrency check. Kinds and params:
          status (code, retry_after=None, body=None), timeout (seconds: sleep, then answer),
          reset, reset-mid-body, malformed-json, truncated-json, html-200, missing-fields,
          custom (hostile answers: code=200, body=b"" or a callable (normal body -> body),
          headers=[(name, value)...] added, pool_headers=True to keep the x-rate-limit-*
          headers, trickle=None or seconds to wait before each `chunk` bytes (chunk=1))."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if kind == "status" and "code" not in params:
            raise ValueError("a status fault needs code=")
        if kind == "timeout" and "seconds" not in params:
            raise ValueError("a timeout fault needs seconds=")
        with self._lock:
            self._faults.append(_Fault(kind, times, match, params))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_stats(self) -> None:
        self.stats.reset()

    def reset_limits(self) -> None:
        """Forget the requests counted in the rate windows (in-flight counts are kept)."""
        with self._lock:
            self._windows.clear()

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match is None or fault.match in target:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- pools and limits --------------------------------------------------------------------

    def limits(self, pool: str) -> tuple[int, int, int]:
        """(rate limit, concurrency, list rate limit) of a pool."""
        if pool == "polite":
            return self.polite_rate_limit, self.polite_concurrency, self.polite_list_rate_limit
        return self.rate_limit, self.concurrency, self.list_rate_limit

    def pool_headers(self, pool: str) -> list[tuple[str, str]]:
        rate, concurrency, _ = self.limits(pool)
        return [
            ("x-api-pool", pool),
            ("x-rate-limit-limit", str(rate)),
            ("x-rate-limit-interval", f"{self.interval:g}s"),
            ("x-concurrency-limit", str(concurrency)),
        ]

    def _admit(self, pool: str, is_list: bool, now: float) -> bool:
        """Count the request and take a concurrency slot, or refuse it (False) past a limit."""
        rate, concurrency, list_rate = self.limits(pool)
        with self._lock:
            windows = [(pool, rate)]
            if is_list:
                windows.append((f"{pool}:list", list_rate))
            if self.enforce:
                if self._in_flight[pool] >= concurrency:
                    return False
                for key, limit in windows:
                    window = self._windows.setdefault(key, deque())
                    while window and window[0] <= now - self.interval:
                        window.popleft()
                    if len(window) >= limit:
                        return False
            for key, _ in windows:
                self._windows.setdefault(key, deque()).append(now)
            self._in_flight[pool] += 1
            total = sum(self._in_flight.values())
            in_pool = self._in_flight[pool]
        with self.stats.lock:
            self.stats.max_in_flight = max(self.stats.max_in_flight, total)
            if in_pool > self.stats.max_in_flight_by_pool[pool]:
                self.stats.max_in_flight_by_pool[pool] = in_pool
        return True

    def _release(self, pool: str) -> None:
        with self._lock:
            if self._in_flight[pool] > 0:
                self._in_flight[pool] -= 1

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._wake.wait(seconds)

    def wake_sleepers(self) -> None:
        """End every sleep now under way (latency, timeout faults): they answer at once."""
        with self._lock:
            woken, self._wake = self._wake, threading.Event()
        woken.set()

    def in_flight(self, pool: str | None = None) -> int:
        """Requests being served now (holding a concurrency slot), in one pool or all."""
        with self._lock:
            return sum(self._in_flight.values()) if pool is None else self._in_flight[pool]

    # -- routes ------------------------------------------------------------------------------

    def _answer(
        self, path: str, params: list[tuple[str, str]], pool: str
    ) -> tuple[_Response, list[_Entry] | None]:
        """The normal answer to a request, and the records it carries (for missing-fields)."""
        headers = self.pool_headers(pool)
        decoded = unquote(path)
        if path.rstrip("/") == "/works":
            return self._search(params, headers)
        if not decoded.startswith("/works/"):
            return _not_found(headers), None
        names = {name for name, _ in params}
        unknown = sorted(names - WORK_ROUTE_PARAMS)
        if unknown:
            return _validation_failure(headers, unknown[0]), None
        doi = decoded[len("/works/") :]
        if doi.endswith("/agency"):
            return self._agency(doi[: -len("/agency")], headers), None
        with self._lock:
            entry = self._index.entries.get(doi.lower())
        if entry is None:
            return _not_found(headers), None
        body = _envelope("work", entry.body)
        return _Response(200, [("content-type", JSON_TYPE), *headers], body), [entry]

    def _agency(self, doi: str, headers: list[tuple[str, str]]) -> _Response:
        key = doi.lower()
        with self._lock:
            held = key in self._index.entries or key in self._known_crossref
            agency = "Crossref" if held else self._agencies.get(key.split("/", 1)[0])
        # An unregistered DOI under a Crossref prefix is unknown: only held DOIs are Crossref's.
        if agency is None or (agency.lower() == "crossref" and not held):
            return _not_found(headers)
        agency_id = AGENCY_IDS.get(agency.lower(), agency.lower())
        message = {"DOI": key, "agency": {"id": agency_id, "label": agency}}
        body = _envelope("work-agency", json.dumps(message).encode())
        return _Response(200, [("content-type", JSON_UTF8_TYPE), *headers], body)

    def _search(
        self, params: list[tuple[str, str]], headers: list[tuple[str, str]]
    ) -> tuple[_Response, list[_Entry] | None]:
        values = dict(params)
        rows_text = values.get("rows", str(DEFAULT_ROWS))
        offset_text = values.get("offset", "0")
        for name, text in (("rows", rows_text), ("offset", offset_text)):
            if not text.isdigit() or (name == "rows" and int(text) > MAX_ROWS):
                failure = {
                    "type": "integer-not-valid",
                    "value": text,
                    "message": f"Integer specified as {text} but must be a positive integer "
                    f"less than or equal to {MAX_ROWS}.",
                }
                return _failure(headers, failure), None
        rows, offset = int(rows_text), int(offset_text)
        since = _from_update_date(values.get("filter", ""))
        if "filter" in values and since is None and "from-update-date" in values["filter"]:
            failure = {"type": "date-not-valid", "value": values["filter"],
                       "message": "Filter from-update-date must be a date (YYYY, YYYY-MM or "
                       "YYYY-MM-DD)."}
            return _failure(headers, failure), None
        cursor = values.get("cursor")
        if cursor is not None:
            offset = _cursor_offset(cursor)
            if offset is None:
                failure = {"type": "cursor-not-valid", "value": cursor,
                           "message": "Cursor is not valid or has expired."}
                return _failure(headers, failure), None
        # query= and every query.<field>= are searched together, like a bibliographic query.
        terms = " ".join(v for k, v in params if k == "query" or k.startswith("query."))
        with self._lock:
            if since is not None:
                changed = sorted((e for e in self._index.entries.values()
                                  if _deposited(e.message) >= since), key=lambda e: e.doi)
                total = len(changed)
                hits = [(entry, 1.0) for entry in changed[offset : offset + rows]]
            elif terms.strip():
                total, hits = self._index.search(terms, rows, offset)
            else:
                everything = list(self._index.entries.values())
                total = len(everything)
                hits = [(entry, 1.0) for entry in everything[offset : offset + rows]]
        items = b",".join(_with_score(entry.body, score) for entry, score in hits)
        head = {
            "facets": {},
            "total-results": total,
            "items-per-page": rows,
            "query": {"start-index": offset, "search-terms": terms or None},
        }
        if cursor is not None:
            head["next-cursor"] = _make_cursor(offset + len(hits))
        message = json.dumps(head, ensure_ascii=False)[:-1].encode() + b',"items":[' + items + b"]}"
        body = _envelope("work-list", message)
        return _Response(200, [("content-type", JSON_TYPE), *headers], body), [
            entry for entry, _ in hits
        ]


def _from_update_date(filters: str) -> tuple[int, ...] | None:
    """The day of a from-update-date filter as (y, m, d), or None when there is none."""
    for part in filters.split(","):
        name, _, value = part.partition(":")
        if name.strip() == "from-update-date":
            match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
            if match is None:
                return None
            return tuple(int(g) if g else 1 for g in match.groups())
    return None


def _deposited(message: dict[str, Any]) -> tuple[int, ...]:
    """When a record's metadata last changed (Crossref's update date is the deposit date)."""
    try:
        parts = [int(p) for p in message["deposited"]["date-parts"][0]]
    except (KeyError, IndexError, TypeError, ValueError):
        return (0, 0, 0)
    return tuple([*parts, 1, 1][:3])


def _make_cursor(offset: int) -> str:
    # Crossref's cursors are opaque tokens; this one just carries the next offset.
    return f"sim-cursor-{offset}"


def _cursor_offset(cursor: str) -> int | None:
    if cursor == "*":
        return 0
    text = cursor.removeprefix("sim-cursor-")
    return int(text) if text != cursor and text.isdigit() else None


def _envelope(message_type: str, message: bytes) -> bytes:
    return (
        b'{"status":"ok","message-type":"'
        + message_type.encode()
        + b'","message-version":"1.0.0","message":'
        + message
        + b"}"
    )


def _with_score(body: bytes, score: float) -> bytes:
    # Splice the score into the pre-serialized record instead of re-serializing it per query.
    return body[:-1] + b',"score":' + json.dumps(round(score, 6)).encode() + b"}"


def _not_found(headers: list[tuple[str, str]]) -> _Response:
    return _Response(404, [("content-type", "text/plain"), *headers], NOT_FOUND_BODY)


def _failure(headers: list[tuple[str, str]], failure: dict[str, str]) -> _Response:
    body = {"status": "failed", "message-type": "validation-failure", "message": [failure]}
    return _Response(400, [("content-type", JSON_UTF8_TYPE), *headers], json.dumps(body).encode())


def _validation_failure(headers: list[tuple[str, str]], name: str) -> _Response:
    if name.startswith("query"):
        failure = {
            "type": "parameter-not-allowed",
            "value": "query.*",
            "message": "This route does not support field query parameters",
        }
    else:
        failure = {
            "type": "parameter-not-allowed",
            "value": name,
            "message": f"This route does not support {name}",
        }
    return _failure(headers, failure)


_DATE_KEYS_INSIDE = ("journal-issue",)


def strip_metadata(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of a record without title, author and any date (the missing-fields fault)."""
    stripped = {
        key: value
        for key, value in message.items()
        if key not in ("title", "author")
        and not (isinstance(value, dict) and "date-parts" in value)
    }
    for key in _DATE_KEYS_INSIDE:
        inner = stripped.get(key)
        if isinstance(inner, dict):
            stripped[key] = {
                k: v for k, v in inner.items() if not (isinstance(v, dict) and "date-parts" in v)
            }
    return stripped


def _fault_response(
    fault: _Fault, normal: _Response, entries: list[_Entry] | None, headers: list[tuple[str, str]]
) -> _Response:
    """The answer a body-changing fault sends instead of the normal one."""
    kind = fault.kind
    if kind == "status":
        code = int(fault.params["code"])
        extra = []
        if fault.params.get("retry_after") is not None:
            extra.append(("retry-after", _seconds(fault.params["retry_after"])))
        body = fault.params.get("body")
        if body is None:
            body = RATE_LIMITED_BODY if code == 429 else _reason(code).encode()
        elif isinstance(body, str):
            body = body.encode()
        return _Response(code, [("content-type", "text/plain"), *headers, *extra], body)
    if kind == "malformed-json":
        body = b'{"status":"ok","message-type":"work","message":{"DOI":"10.5555/x",,"title":[}'
        return _Response(200, [("content-type", JSON_TYPE), *headers], body)
    if kind == "truncated-json":
        return normal._replace(body=normal.body[: len(normal.body) // 2])
    if kind == "html-200":
        return _Response(
            200, [("content-type", "text/html; charset=utf-8"), *headers], HTML_ERROR_PAGE
        )
    if kind == "missing-fields" and entries:
        if len(entries) == 1 and b'"message-type":"work"' in normal.body[:40]:
            message = json.dumps(strip_metadata(entries[0].message), ensure_ascii=False).encode()
            return normal._replace(body=_envelope("work", message))
        data = json.loads(normal.body)
        data["message"]["items"] = [strip_metadata(item) for item in data["message"]["items"]]
        return normal._replace(body=json.dumps(data, ensure_ascii=False).encode())
    return normal


def _custom_response(fault: _Fault, normal: _Response, headers: list[tuple[str, str]]
                     ) -> _Response:
    """A hostile answer built from the fault's params (see add_fault)."""
    params = fault.params
    body = params.get("body", b"")
    if callable(body):
        body = body(normal.body)
    elif isinstance(body, str):
        body = body.encode()
    head = [("content-type", params.get("content_type", JSON_TYPE))]
    if params.get("pool_headers", True):
        head.extend(headers)
    head.extend(params.get("headers", []))
    return _Response(int(params.get("code", 200)), head, body)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


class _Handler(BaseHTTPRequestHandler):
    """Answers one connection's requests (HTTP/1.1 keep-alive, like api.crossref.org)."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        sim = self.server.simulator
        with sim._lock:
            sim._connections.add(self.connection)

    def handle(self) -> None:
        # Between kill()/stop() and the accept loop's exit, a connection may still be accepted:
        # it is dropped unanswered, as it would be by a server that is gone.
        if self.server.simulator._server is not self.server:
            self.close_connection = True
            return
        super().handle()

    def finish(self) -> None:
        sim = self.server.simulator
        with sim._lock:
            sim._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; the stats log records every request

    def do_GET(self) -> None:
        sim = self.server.simulator
        start = time.monotonic()
        target = self.path
        path, _, query = target.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        user_agent = self.headers.get("user-agent", "")
        polite = any(k == "mailto" and v for k, v in params) or "mailto:" in user_agent.lower()
        pool = "polite" if polite else "public"
        is_list = path.rstrip("/") == "/works"
        with sim.stats.lock:
            sim.stats.requests += 1
            sim.stats.by_path[path] += 1
        self._pending_log: LogEntry | None = LogEntry(start, "GET", target, pool, 0, user_agent)
        try:
            self._serve(sim, target, path, params, pool, is_list, start)
        finally:
            self._log(0)  # only if nothing was logged: the handler failed before answering

    def _log(self, status: int) -> None:
        """Append this request to the stats log, once, before the client can see the answer:
        a client that has its answer must find its request in the log."""
        entry, self._pending_log = self._pending_log, None
        if entry is not None:
            sim = self.server.simulator
            with sim.stats.lock:
                sim.stats.log.append(entry._replace(status=status))

    def _serve(
        self,
        sim: CrossrefSimulator,
        target: str,
        path: str,
        params: list[tuple[str, str]],
        pool: str,
        is_list: bool,
        start: float,
    ) -> int:
        headers = sim.pool_headers(pool)
        if not sim._admit(pool, is_list, start):
            with sim.stats.lock:
                sim.stats.rate_limited += 1
            extra = [] if sim.retry_after is None else [("retry-after", _seconds(sim.retry_after))]
            sim._sleep(sim.latency)
            response = _Response(
                429, [("content-type", "text/plain"), *headers, *extra], RATE_LIMITED_BODY
            )
            return self._write(response)
        released = False
        try:
            fault = sim._take_fault(target)
            sim._sleep(sim.latency)
            if fault is not None and fault.kind == "timeout":
                sim._sleep(float(fault.params["seconds"]))
            if fault is not None and fault.kind == "reset":
                sim._release(pool)
                released = True
                self._reset()
                return 0
            response, entries = sim._answer(path, params, pool)
            if fault is not None and fault.kind == "custom":
                sim._release(pool)
                released = True
                return self._write(_custom_response(fault, response, headers),
                                   trickle=fault.params.get("trickle"),
                                   chunk=int(fault.params.get("chunk", 1)))
            if fault is not None:
                response = _fault_response(fault, response, entries, headers)
            # Release the slot before the client can see the answer: a client that waits for
            # each answer before sending the next request must never be refused for concurrency.
            sim._release(pool)
            released = True
            if fault is not None and fault.kind == "reset-mid-body":
                return self._write(response, cut=True)
            return self._write(response)
        finally:
            if not released:
                sim._release(pool)

    def _write(self, response: _Response, *, cut: bool = False, trickle: float | None = None,
               chunk: int = 1) -> int:
        lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
        lines.append(f"date: {self.date_time_string()}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        # Content-Length is always the full body's, also when `cut` sends only half of it.
        lines.append(f"content-length: {len(response.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = response.body[: len(response.body) // 2] if cut else response.body
        self._log(response.status)
        try:
            if trickle is not None:
                # A few bytes at a time, each after a pause: every read is quick, the answer
                # never ends in any useful time. Stops when the client goes or the server stops.
                self.wfile.write(head)
                sim = self.server.simulator
                for start in range(0, len(body), chunk):
                    if sim._server is not self.server:
                        break
                    sim._sleep(trickle)
                    self.wfile.write(body[start : start + chunk])
                    self.wfile.flush()
            else:
                self.wfile.write(head + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return response.status
        if cut:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        return response.status

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no answer at all."""
        self._log(0)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # No shutdown() first: that would send a FIN. The socket really closes only when
            # its file object (rfile) lets go of it, hence both closes.
            self.connection.close()
            self.rfile.close()


def _iter_lines(sim: CrossrefSimulator) -> Iterator[str]:
    yield f"Crossref simulator serving {len(sim.dois())} records at {sim.url}"
    for pool in ("public", "polite"):
        rate, concurrency, list_rate = sim.limits(pool)
        yield (
            f"  {pool}: {rate} req/{sim.interval:g}s, {concurrency} concurrent, "
            f"list queries {list_rate} req/{sim.interval:g}s"
            + ("" if sim.enforce else " (not enforced)")
        )
    yield f"  latency {sim.latency:g}s; Ctrl-C to stop"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate", type=int, default=5, help="public pool requests per interval")
    parser.add_argument("--concurrency", type=int, default=1, help="public pool concurrency")
    parser.add_argument("--polite-rate", type=int, default=None, help="default: --rate")
    parser.add_argument(
        "--polite-concurrency", type=int, default=None, help="default: --concurrency"
    )
    parser.add_argument("--list-rate", type=int, default=1)
    parser.add_argument("--polite-list-rate", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    parser.add_argument("--retry-after", type=float, default=None)
    parser.add_argument("--no-enforce", action="store_true", help="advertise limits only")
    args = parser.parse_args(argv)
    sim = CrossrefSimulator(
        host=args.host,
        port=args.port,
        rate_limit=args.rate,
        concurrency=args.concurrency,
        polite_rate_limit=args.rate if args.polite_rate is None else args.polite_rate,
        polite_concurrency=(
            args.concurrency if args.polite_concurrency is None else args.polite_concurrency
        ),
        list_rate_limit=args.list_rate,
        polite_list_rate_limit=args.polite_list_rate,
        interval=args.interval,
        enforce=not args.no_enforce,
        latency=args.latency,
        retry_after=args.retry_after,
    )
    try:
        sim.start()
    except OSError as error:
        # Typically another simulator already on that port: say so instead of a traceback.
        raise SystemExit(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    for line in _iter_lines(sim):
        print(line, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
