"""A real HTTP server on loopback, one route per link-checking scenario (tests, benchmarks)."""

from __future__ import annotations

import contextlib
import ssl
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

BIG_BODY = 64 * 1024 * 1024
_CHUNK = b"x" * 65536


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str  # with the query string
    host: str | None  # the Host header as received
    user_agent: str | None
    accept: str | None
    headers: tuple[tuple[str, str], ...] = ()  # every header, lower-cased names

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: LocalServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up between requests (a checker closing a kept-alive connection) is
        # normal here; anything else is still reported.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the request log below is what tests look at

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")

    # -- helpers ----------------------------------------------------------------------------

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                method: str = "GET") -> None:
        # The request stops counting as in flight as soon as its answer starts: the client can
        # finish reading it and send the next request before this thread's `finally` runs, which
        # on a loaded machine made one-at-a-time clients look like two at once.
        self._stop_counting()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD" and body:
            self.wfile.write(body)

    def _stop_counting(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            self.server.owner._leave()

    def _redirect(self, status: int, location: str, method: str) -> None:
        self._answer(status, b"moved", {"Location": location}, method)

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        owner._record(LoggedRequest(
            method, self.path, self.headers.get("Host"), self.headers.get("User-Agent"),
            self.headers.get("Accept"), tuple((k.lower(), v) for k, v in self.headers.items())))
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        # How many times this exact path and query was asked for, this one included: tests use
        # distinct query strings to get fresh "fails, then works" routes.
        seen = owner._count(self.path)
        page = b"<html><body>ok</body></html>"
        owner._enter()
        self._counted = True
        try:
            if owner.latency:
                time.sleep(owner.latency)
            # The client may hang up early, which is what /big and /slow expect.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route(method, path, query, seen, page)
        finally:
            self._stop_counting()

    def _route(self, method: str, path: str, query: dict[str, list[str]], seen: int,
               page: bytes) -> None:
        owner = self.server.owner
        if path == "/ok":
            self._answer(200, page, method=method)
        elif path == "/head-405":
            self._answer(405 if method == "HEAD" else 200, page, method=method)
        elif path == "/head-403-get-ok":
            self._answer(403 if method == "HEAD" else 200, page, method=method)
        elif path == "/head-hangup":
            if method == "HEAD":
                self.close_connection = True  # no answer at all to HEAD
                return
            self._answer(200, page, method=method)
        elif path in ("/404", "/410", "/403", "/401", "/999", "/503", "/500"):
            self._answer(int(path[1:]), b"no", method=method)
        elif path == "/redirect-permanent":
            self._redirect(301, "/ok", method)
        elif path == "/redirect-permanent-twice":
            self._redirect(308, "/redirect-permanent", method)
        elif path == "/redirect-temp":
            self._redirect(302, "/ok", method)
        elif path == "/redirect-permanent-to-404":
            self._redirect(301, "/404", method)
        elif path == "/loop-a":
            self._redirect(302, "/loop-b", method)
        elif path == "/loop-b":
            self._redirect(302, "/loop-a", method)
        elif path.startswith("/too-many/"):
            left = int(path.rsplit("/", 1)[1])
            if left > 0:
                self._redirect(302, f"/too-many/{left - 1}", method)
            else:
                self._answer(200, page, method=method)
        elif path == "/redirect-to":
            status = int(query.get("status", ["302"])[0])
            self._redirect(status, query["url"][0], method)
        elif path == "/delay":
            # Slow but within any sensible timeout: ?s=SECONDS.
            time.sleep(float(query.get("s", ["0.5"])[0]))
            self._answer(200, page, method=method)
        elif path == "/slow":
            time.sleep(owner.slow_seconds)
            self._answer(200, page, method=method)
        elif path == "/429-then-ok":
            if seen == 1:
                self._answer(429, b"slow down", {"Retry-After": "1"}, method)
            else:
                self._answer(200, page, method=method)
        elif path == "/always-429":
            self._answer(429, b"slow down", {"Retry-After": "1"}, method)
        elif path == "/429-long":
            self._answer(429, b"slow down", {"Retry-After": "3600"}, method)
        elif path == "/500-then-ok":
            self._answer(500 if seen == 1 else 200, page, method=method)
        elif path == "/big":
            self._big(method)
        else:
            self._answer(404, b"no such route", method=method)

    def _big(self, method: str) -> None:
        owner = self.server.owner
        if method == "HEAD":
            # Refuse HEAD so that the checker has to GET the huge body (and must stop early).
            self._answer(405, b"", method=method)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(BIG_BODY))
        self.end_headers()
        self.close_connection = True
        sent = 0
        try:
            while sent < BIG_BODY:
                self.wfile.write(_CHUNK)
                sent += len(_CHUNK)
        finally:
            owner._add_big(sent)


class LocalServer:
    """A threaded HTTP/1.1 server on a free port; use as a context manager.

    `log` lists every request received (method, path, Host header); `latency` delays every answer
    (for benchmarks); `max_in_flight` is the most requests it was answering at once;
    `slow_seconds` is how long /slow takes; `big_sent` counts the bytes of /big the server managed
    to write before the client hung up.
    """

    def __init__(self, host: str = "127.0.0.1", *, latency: float = 0.0,
                 slow_seconds: float = 3.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.log: list[LoggedRequest] = []
        self.big_sent = 0
        # Requests being answered right now, and the most there ever were at once (to check
        # the client's concurrency limits).
        self.in_flight = 0
        self.max_in_flight = 0
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.scheme = "http"
        if ssl_context is not None:
            # HTTPS: the TLS handshake happens on accept, in the serving thread.
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def requests_for(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.path == path]

    def _record(self, request: LoggedRequest) -> None:
        with self._lock:
            self.log.append(request)

    def _count(self, path: str) -> int:
        with self._lock:
            self._counts[path] += 1
            return self._counts[path]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _add_big(self, sent: int) -> None:
        with self._lock:
            self.big_sent += sent

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
