"""The shared machinery of the PubMed (E-utilities) and DataCite simulators: a real HTTP/1.1
server on 127.0.0.1 with a sliding-window rate limit, injectable faults and a request log.

Subclasses implement `answer(path, params) -> Reply` and `rate_for(params) -> (limit, body)`.
Faults (add_fault(kind, times=1, match=None)): "status" (code=503 ...), "timeout" (seconds=...),
"reset" (TCP reset, no answer), "truncated" (half the body, then the connection closes),
"garbage" (a 200 with an HTML error page).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>Bad Gateway</h1></body></html>\n"
)


class Reply(NamedTuple):
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _Fault:
    kind: str
    times: int
    match: str | None
    params: dict[str, Any]


@dataclass
class Stats:
    requests: int = 0
    rate_limited: int = 0
    log: list[tuple[float, str, int]] = field(default_factory=list)  # (time, target, status)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def targets(self) -> list[str]:
        with self.lock:
            return [target for _, target, _ in self.log]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: ApiSimulator


class ApiSimulator:
    """Start with .start() (or as a context manager); .url is the base URL."""

    name = "api-sim"

    def __init__(self, *, interval: float = 1.0, enforce: bool = True) -> None:
        self.interval = interval
        self.enforce = enforce
        self.stats = Stats()
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._faults: list[_Fault] = []
        self._server: _Server | None = None
        self._port = 0

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> ApiSimulator:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.simulator = self
        self._port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"{self.name}:{self._port}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ApiSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- hooks ------------------------------------------------------------------------------

    def add_fault(self, kind: str, times: int = 1, match: str | None = None, **params: Any) -> None:
        assert kind in {"status", "timeout", "reset", "truncated", "garbage"}, kind
        with self._lock:
            self._faults.append(_Fault(kind, times, match, params))

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and (fault.match is None or fault.match in target):
                    fault.times -= 1
                    return fault
        return None

    def _admit(self, pool: str, limit: int, now: float) -> bool:
        if not self.enforce:
            return True
        with self._lock:
            window = self._windows.setdefault(pool, deque())
            while window and window[0] <= now - self.interval:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    # -- to implement -----------------------------------------------------------------------

    def answer(self, path: str, params: list[tuple[str, str]]) -> Reply:
        raise NotImplementedError

    def rate_for(self, params: list[tuple[str, str]]) -> tuple[str, int, Reply]:
        """(pool, requests per interval, the answer past the limit)."""
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        sim = self.server.simulator
        target = self.path
        path, _, query = target.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        with sim.stats.lock:
            sim.stats.requests += 1
        pool, limit, refusal = sim.rate_for(params)
        if not sim._admit(pool, limit, time.monotonic()):
            with sim.stats.lock:
                sim.stats.rate_limited += 1
            self._send(target, refusal)
            return
        fault = sim._take_fault(target)
        if fault is not None and fault.kind == "timeout":
            time.sleep(float(fault.params.get("seconds", 5)))
        if fault is not None and fault.kind == "reset":
            self._log(target, 0)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.rfile.close()
            return
        reply = sim.answer(path, params)
        if fault is not None and fault.kind == "status":
            code = int(fault.params.get("code", 503))
            reply = Reply(code, "text/html", HTML_ERROR_PAGE)
        if fault is not None and fault.kind == "garbage":
            reply = Reply(200, "text/html", HTML_ERROR_PAGE)
        self._send(target, reply, cut=fault is not None and fault.kind == "truncated")

    def _log(self, target: str, status: int) -> None:
        sim = self.server.simulator
        with sim.stats.lock:
            sim.stats.log.append((time.monotonic(), target, status))

    def _send(self, target: str, reply: Reply, *, cut: bool = False) -> None:
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Error"
        lines = [f"HTTP/1.1 {reply.status} {phrase}", f"date: {self.date_time_string()}",
                 f"content-type: {reply.content_type}", f"content-length: {len(reply.body)}"]
        lines.extend(f"{name}: {value}" for name, value in reply.headers)
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = reply.body[: len(reply.body) // 2] if cut else reply.body
        self._log(target, reply.status)
        try:
            self.wfile.write(head + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        if cut:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
