"""The one HTTP transport under the API clients (Crossref, PubMed, DataCite): bounded reads,
pacing within the server's limits (adopted from its headers), retries with Retry-After, a
polite identification, and credentials sent only to the configured service.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from evidence_cli import PROJECT_URL, __version__
from evidence_cli.services.bounded import (
    Answer,
    RequestDeadline,
    TooLarge,
    inert_header,
    read_bounded,
)
from evidence_cli.services.netguard import no_network_reason
from evidence_cli.services.ratelimit import Pacer, RateLimiter, parse_interval

if TYPE_CHECKING:
    import httpx

    from evidence_cli.services.http_client import Http

RETRY_AFTER_CAP = 60.0
# Advertised limits outside these bounds are nonsense (a zero or infinite interval, a NaN rate):
# they are ignored and the safe defaults kept. Crossref itself advertises 5-50 per 1 s.
MAX_ADVERTISED_INTERVAL = 60.0
MAX_ADVERTISED_LIMIT = 10_000.0
MAX_ADVERTISED_CONCURRENCY = 100
# Failures that say this machine has no network (no name resolves, no route) before any answer
# came: after this many, every other request fails at once instead of being retried.
NO_NETWORK_AFTER = 2
# Only encodings read_bounded inflates itself, within its byte cap.
ACCEPT_ENCODING = "gzip, deflate"

# Decides about a definitive (not 429, not 5xx) answer: None to return it, a reason to ask
# again; it raises Unavailable for an answer no retry can change.
Judge = Callable[[Answer], "str | None"]


def user_agent(mailto: str | None) -> str:
    """Crossref asks for a User-Agent naming the tool and a contact (the "polite pool")."""
    # HTTP headers are ASCII: an internationalised address goes in percent-encoded (it is sent
    # as is in the mailto query parameter).
    contact = f"; mailto:{quote(mailto, safe='@.+-_!~*()')}" if mailto else ""
    return f"evidence-cli/{__version__} (+{PROJECT_URL}{contact})"


class Unavailable(Exception):
    """A request failed after every retry; the message says why (never the URL: it may hold a
    key)."""


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    failures: int = 0
    answers: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    # Things to say with -v (advertised limits that were ignored, say), each once.
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


@dataclass(frozen=True, slots=True)
class Patience:
    """Bounds a hostile or broken server cannot stretch: seconds to wait for an answer, how
    many times to ask again, bytes read for one answer (on the wire and once decompressed),
    seconds for one whole request (a trickled body never ends otherwise), seconds of waiting
    between the attempts of one request, and the whole run's time with the service."""

    timeout: float
    max_retries: int
    max_response_bytes: int
    request_timeout: float
    retry_budget: float
    run_timeout: float


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """How one service is asked. `params` and `headers` go with every request to `base_url`
    and nowhere else (a mailto, an API key, a token); only paths below it are ever asked."""

    base_url: str
    service: str  # the service's name in messages: "Crossref", "NCBI", "DataCite"
    rate: float
    concurrency: int
    patience: Patience
    interval: float = 1.0
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # Follow the x-rate-limit-* and x-concurrency-limit headers (never above them).
    adopt_limits: bool = False
    # List queries' own rate per API pool (x-api-pool); empty: no separate list pacing.
    list_rates: tuple[tuple[str, float], ...] = ()


class Transport:
    """GETs below one base URL: paced, retried, bounded; one per service and run."""

    def __init__(self, http: Http, options: TransportOptions) -> None:
        self.http = http
        self.options = options
        self.base_url = options.base_url.rstrip("/")
        self.limiter = RateLimiter(options.rate, options.interval, options.concurrency)
        list_rates = dict(options.list_rates)
        self.list_pacer = Pacer(list_rates.get("public", options.rate), 1.0)
        self.stats = ClientStats()
        self.run_ends = time.monotonic() + options.patience.run_timeout
        self.no_network: str | None = None
        self._network_failures = 0
        self._params = dict(options.params)
        self._headers = {"Accept-Encoding": ACCEPT_ENCODING, **dict(options.headers)}

    def _run_left(self) -> float:
        return self.run_ends - time.monotonic()

    def _run_limit_reason(self) -> str:
        return (f"the run's time limit for {self.options.service} "
                f"({self.options.patience.run_timeout:g} s, run-timeout) was reached")

    async def get(self, path: str, params: dict[str, str], judge: Judge, *,
                  list_query: bool = False, accept: str | None = None) -> Answer:
        """GET base_url + path with pacing and retries: the answer `judge` accepts, or raises.

        Retries 429, 5xx, timeouts, connection errors and unreadable bodies with exponential
        backoff and jitter, honouring Retry-After within the retry budget. Every answer is read
        within a byte cap and a total deadline, and the run's time limit bounds it all.
        """
        if self.no_network is not None:
            raise Unavailable(self.no_network)
        # Here, not at the top: a run answered from the cache never imports httpx.
        import httpx

        options = self.options.patience
        url = f"{self.base_url}{path}"
        query = {**params, **self._params}
        headers = self._headers if accept is None else {**self._headers, "Accept": accept}
        extra = (self.list_pacer,) if list_query and self.options.list_rates else ()
        reason = "no answer"
        waited = 0.0
        attempts = 0
        for attempt in range(options.max_retries + 1):
            retry_after: float | None = None
            left = self._run_left()
            if left <= 0:
                reason = self._run_limit_reason()
                break
            attempts += 1
            try:
                async with asyncio.timeout(left), self.limiter.slot(*extra) as sent:

                    async def trace(event: str, info: dict[str, Any]) -> None:
                        if event == "http11.send_request_headers.complete":
                            sent()

                    self.stats.requests += 1
                    deadline = min(options.request_timeout, max(self._run_left(), 0.001))
                    answer = await read_bounded(self.http, url, params=query, headers=headers,
                                                cap=options.max_response_bytes,
                                                deadline=deadline, trace=trace)
                    if self.options.adopt_limits:
                        await self._adopt_limits(answer)
            except TimeoutError:
                reason = self._run_limit_reason()
                break
            except RequestDeadline:
                reason = (f"no complete answer within {options.request_timeout:g} s "
                          "(the whole request's limit)")
            except TooLarge:
                self.stats.failures += 1
                raise Unavailable(f"the answer is over the {options.max_response_bytes} "
                                  "byte limit for one answer; nothing was cached") from None
            except httpx.TimeoutException:
                reason = f"no answer within {options.timeout:g} s"
            except httpx.DecodingError as error:
                reason = str(error) or "an answer that cannot be decoded"
            except httpx.TransportError as error:
                reason = f"connection failed ({type(error).__name__})"
                self._count_network_failure(error)
            else:
                self.stats.answers += 1
                status = answer.status_code
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                if status == 429:
                    self.stats.rate_limited += 1
                    retry_after = parse_retry_after(answer.headers.get("retry-after"))
                    self.limiter.back_off(min(retry_after, RETRY_AFTER_CAP)
                                          if retry_after is not None else 1.0)
                    reason = "rate limited (HTTP 429)"
                elif status >= 500:
                    retry_after = parse_retry_after(answer.headers.get("retry-after"))
                    reason = f"server error (HTTP {status})"
                else:
                    try:
                        problem = judge(answer)
                    except Unavailable:
                        self.stats.failures += 1
                        raise
                    if problem is None:
                        return answer
                    reason = problem
            if attempt == options.max_retries:
                break
            if retry_after is not None and retry_after > RETRY_AFTER_CAP:
                reason += (f"; the server asked to wait {retry_after:g} s (Retry-After), more "
                           f"than the {RETRY_AFTER_CAP:g} s this tool waits")
                break
            delay = _backoff(attempt, retry_after)
            if waited + delay > options.retry_budget:
                reason += f"; the {options.retry_budget:g} s retry budget is spent"
                break
            waited += delay
            self.stats.retries += 1
            await asyncio.sleep(delay)
        self.stats.failures += 1
        raise Unavailable(f"{reason}, after {attempts} attempt{'' if attempts == 1 else 's'}")

    def _count_network_failure(self, error: httpx.TransportError) -> None:
        """After a few failures saying this machine has no network (before any answer came),
        every other request fails at once: nothing could be asked."""
        offline = no_network_reason(error)
        if offline is None or self.stats.answers:
            return
        self._network_failures += 1
        if self._network_failures >= NO_NETWORK_AFTER:
            self.no_network = (f"no network: {offline} — nothing could be asked; "
                               "use --offline to answer from the cache")
            self.stats.failures += 1
            raise Unavailable(self.no_network)

    async def _adopt_limits(self, answer: Answer) -> None:
        headers = answer.headers
        if "x-rate-limit-limit" not in headers or "x-rate-limit-interval" not in headers:
            return
        raw = (f"x-rate-limit-limit: {headers['x-rate-limit-limit']}, x-rate-limit-interval: "
               f"{headers['x-rate-limit-interval']}, x-concurrency-limit: "
               f"{headers.get('x-concurrency-limit', '1')}")
        try:
            limit = float(headers["x-rate-limit-limit"])
            interval = parse_interval(headers["x-rate-limit-interval"])
            concurrency = int(headers.get("x-concurrency-limit", "1"))
        except ValueError:
            interval = None
        if (interval is None or not math.isfinite(limit) or not math.isfinite(interval)
                or not 0 < limit <= MAX_ADVERTISED_LIMIT
                or not 0 < interval <= MAX_ADVERTISED_INTERVAL
                or not 0 < concurrency <= MAX_ADVERTISED_CONCURRENCY):
            pacer = self.limiter.pacer
            self.stats.note(f"ignored the rate limits {self.options.service} advertised "
                            f"({inert_header(raw)}): they make no sense; kept {pacer.rate:g} "
                            f"requests per {pacer.interval:g} s, "
                            f"{self.limiter.gate.capacity} at a time")
            return
        await self.limiter.adopt(limit, interval, concurrency)
        if self.options.list_rates:
            rates = dict(self.options.list_rates)
            pool = headers.get("x-api-pool", "public").lower()
            list_rate = rates.get(pool, rates.get("public", limit / interval))
            self.list_pacer.set_rate(min(list_rate, limit / interval), 1.0)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), None if unusable.

    Uncapped here: the caller gives up on a wait longer than it is willing to wait."""
    if not value:
        return None
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # rare: not worth its import in every run

        try:  # Retry-After may also be an HTTP date (RFC 9110, section 10.2.3)
            when = email.utils.parsedate_to_datetime(value.strip())
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = float(when.timestamp()) - (time.time() if now is None else now)
        except (TypeError, ValueError, OverflowError):
            return None
    # NaN is no wait; a date in the past is no wait.
    return max(seconds, 0.0) if math.isfinite(seconds) or seconds > 0 else None


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (0.5 s, 1 s, 2 s ... up to 8 s), or the server's word."""
    delay = min(8.0, 0.5 * 2.0**attempt) * random.uniform(0.5, 1.0)
    return max(delay, retry_after) if retry_after is not None else delay
