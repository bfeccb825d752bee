"""Check that cited web links still work: HEAD then GET, redirects, retries, safety, caching."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evidence_cli.doi import is_doi_url
from evidence_cli.errors import UsageError
from evidence_cli.services.interfaces import LinkCache
from evidence_cli.services.link_verdicts import (
    CACHE_VERSION,
    Answer,
    LinkVerdict,
    connect_failure,
    distrust_head,
    final_verdict,
    verdict,
)
from evidence_cli.services.netguard import (
    AddressPolicy,
    AddressRefused,
    ResolutionFailed,
    Resolver,
    checked_addresses,
    no_network_reason,
    system_resolve,
    url_host_for,
)
from evidence_cli.services.transport import parse_retry_after, user_agent

__all__ = ["LinkChecker", "LinkVerdict", "parse_retry_after"]

if TYPE_CHECKING:
    import httpx

    from evidence_cli.services.http_client import Http

USER_AGENT = user_agent(None)
# What a browser sends, so that servers answer with the page a reader would get.
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "en;q=0.9,*;q=0.5"

MAX_REDIRECTS = 10
BODY_CAP = 64 * 1024
# Retry-After beyond this is not waited for: the link is reported blocked (or failing) at once,
# so that one server cannot stretch the run.
MAX_RETRY_AFTER = 30.0

# Links with these schemes are not web pages; they get no verdict at all. Every other non-HTTP
# scheme (ftp:, gopher:, ...) is skipped too: this checker speaks only HTTP, and a skipped link
# is reported as nothing, never as "ok".
_HTTP_SCHEMES = frozenset({"http", "https"})

_PERMANENT = frozenset({301, 308})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(slots=True)
class _Budget:
    """Seconds a link may still spend on requests and waits (not on queueing for a slot)."""

    left: float

    def spend(self, seconds: float) -> None:
        self.left -= seconds


def _strip_fragment(url: httpx.URL) -> httpx.URL:
    return url.copy_with(fragment=None)


class LinkChecker:
    """Checks links concurrently, politely and safely; one instance per event loop.

    Every hop of a redirect chain is resolved here, refused if any address is not allowed by the
    policy, and then connected to by address (the URL's host becomes the checked IP, with the
    original Host header and TLS server name), so the HTTP client never resolves the name again.
    """

    def __init__(
        self,
        client: Http,
        *,
        timeout: float = 20.0,
        per_host: int = 2,
        global_limit: int = 16,
        max_retries: int = 2,
        allow_private: bool = False,
        excludes: Sequence[str] = (),
        cache: LinkCache | None = None,
        offline: bool = False,
        user_agent: str = USER_AGENT,
        allow_addresses: Sequence[str] = (),
        resolver: Resolver | None = None,
        cache_ttl: float = 7 * 86400,
        backoff_base: float = 0.5,
        max_retry_after: float = MAX_RETRY_AFTER,
        body_cap: int = BODY_CAP,
        link_budget: float | None = None,
        refresh: bool = False,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.per_host = max(1, per_host)
        self.max_retries = max(0, max_retries)
        self.policy = AddressPolicy.build(allow_private=allow_private, allowed=allow_addresses)
        self.excludes = [self._compile(p) for p in excludes]
        self.cache = cache
        self.offline = offline
        # --refresh: check again and overwrite what is cached, without reading it.
        self.refresh = refresh
        self.user_agent = user_agent
        self.resolver: Resolver = resolver or system_resolve
        self.cache_ttl = cache_ttl
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self.body_cap = body_cap
        # The most time one link may spend in requests and retry waits, redirects included, so
        # that a chain of slow hops cannot stretch the run. By default it is enough for the
        # full retry cycle of a link that times out, plus one long Retry-After.
        self.link_budget = (link_budget if link_budget is not None
                            else timeout * (self.max_retries + 3) + max_retry_after)
        self._global = asyncio.Semaphore(max(1, global_limit))
        self._hosts: dict[str, asyncio.Semaphore] = {}
        # Hosts that could not be reached (no DNS answer, connection refused) after all retries in
        # this run: further links on them get one attempt, not a full retry cycle, so a dead host
        # cannot stretch the run. Timeouts do not count: they are a page's, not a host's.
        self._dead_hosts: set[str] = set()
        self._runs: dict[str, asyncio.Future[LinkVerdict | None]] = {}
        # For telling "no network here" from "this host is down": hosts that answered anything,
        # and hosts that failed because names do not resolve or there is no route (host ->
        # reason). The audit reads both once every link is checked.
        self.answered_hosts: set[str] = set()
        self.offline_reasons: dict[str, str] = {}

    @staticmethod
    def _compile(pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"exclude pattern {pattern!r} is not a valid regular expression: "
                             f"{exc}") from exc

    # -- public API -------------------------------------------------------------------------

    def wants(self, url: str) -> bool:
        """True for a link this checker looks at: http(s), not a DOI, not excluded."""
        text = url.strip()
        if is_doi_url(text) or any(p.search(text) for p in self.excludes):
            return False
        scheme = text.split(":", 1)[0].lower() if ":" in text else ""
        return scheme in _HTTP_SCHEMES

    def cache_key(self, url: str) -> str:
        return f"link:v{CACHE_VERSION}:{self.policy.tag}:{url.strip()}"

    async def check(self, url: str) -> LinkVerdict | None:
        """The verdict for one link; None when it is not checked (excluded, not http(s), a DOI,
        or offline with nothing cached). None never means "ok".

        A link is checked once per checker: later and concurrent calls for it share the answer.
        """
        if not self.wants(url):
            return None
        text = url.strip()
        task = self._runs.get(text)
        if task is None:
            task = self._runs[text] = asyncio.ensure_future(self._check_cached(text))
        # Shielded: one caller giving up must not cancel the check for the others.
        return await asyncio.shield(task)

    async def _check_cached(self, url: str) -> LinkVerdict | None:
        key = self.cache_key(url)
        if self.cache is not None and not (self.refresh and not self.offline):
            stored = self.cache.get(key)
            if stored is not None and stored.get("v") == CACHE_VERSION:
                try:
                    return LinkVerdict.from_dict(stored)
                except (KeyError, TypeError, ValueError):
                    pass  # written by another version (e.g. a code since renamed): a miss
        if self.offline:
            return None
        verdict = await self._check(url)
        if self.cache is not None and verdict.cacheable:
            self.cache.put(key, verdict.to_dict(), self.cache_ttl)
        return verdict

    async def check_many(self, urls: Iterable[str]) -> dict[str, LinkVerdict]:
        """Verdicts for many links at once, each distinct link checked once; skipped links are
        absent from the result."""
        unique = list(dict.fromkeys(urls))
        verdicts = await asyncio.gather(*(self.check(u) for u in unique))
        return {u: v for u, v in zip(unique, verdicts, strict=True) if v is not None}

    # -- one link ---------------------------------------------------------------------------

    async def _check(self, url: str) -> LinkVerdict:
        # Here, not at the top: a run answered from the cache never imports httpx.
        import httpx

        try:
            current = _strip_fragment(httpx.URL(url))
        except (httpx.InvalidURL, UnicodeError) as exc:
            return verdict(url, "url-broken", f"{url} is not a valid URL ({exc}).",
                                 cacheable=True)
        if not current.host:
            return verdict(url, "url-broken", f"{url} is not a valid URL (no host).",
                                 cacheable=True)
        chain: list[tuple[httpx.URL, int]] = []  # (url, redirect status) for each hop followed
        visited = {str(current)}
        permanent_target: httpx.URL | None = None
        still_permanent = True
        budget = _Budget(self.link_budget)
        for _hop in range(MAX_REDIRECTS + 1):
            answer = await self._ask_with_retries(current, budget)
            status = answer.status
            if status in _REDIRECTS and answer.location is not None:
                try:
                    following = _strip_fragment(current.join(answer.location))
                except (httpx.InvalidURL, UnicodeError):
                    return verdict(
                        url, "url-broken",
                        f"{url} redirects to an invalid address ({answer.location!r}).",
                        final_url=str(current), status=status, cacheable=True)
                chain.append((current, status))
                if following.scheme not in _HTTP_SCHEMES:
                    # Not an error in the link, but nothing this checker can follow either.
                    return verdict(
                        url, "url-refused",
                        f"{url} redirects to {following}, which is not an http(s) link; the "
                        "redirect was not followed, so the link could not be checked.",
                        final_url=str(following), status=status, cacheable=False)
                if str(following) in visited:
                    hops = " → ".join(str(u) for u, _ in chain) + f" → {following}"
                    return verdict(url, "url-broken", f"{url} loops through redirects: "
                                         f"{hops}.", final_url=str(following), status=status,
                                         cacheable=True)
                if still_permanent and status in _PERMANENT:
                    permanent_target = following
                else:
                    still_permanent = False
                visited.add(str(following))
                current = following
                continue
            return final_verdict(url, current, answer, permanent_target, redirected=bool(chain),
                                 timeout=self.timeout, allow_private=self.policy.allow_private)
        return verdict(
            url, "url-broken",
            f"{url} redirects more than {MAX_REDIRECTS} times (last: {current}).",
            final_url=str(current), status=chain[-1][1], cacheable=True)

    # -- one hop ----------------------------------------------------------------------------

    async def _ask_with_retries(self, url: httpx.URL, budget: _Budget) -> Answer:
        """HEAD, then GET when HEAD is not trusted; transient failures retried with backoff."""
        host = url.host.lower()
        retries = 0 if host in self._dead_hosts else self.max_retries
        method = "HEAD"
        attempt = 0
        while True:
            answer = await self._ask(method, url, budget)
            if answer.error == "refused":
                return answer
            if method == "HEAD" and distrust_head(answer):
                # Ask with GET: an untrusted status or a garbled answer is a different question,
                # asked at once; a HEAD that timed out counts as an attempt.
                method = "GET"
                if answer.error != "timeout":
                    continue
            if not answer.transient or attempt >= retries:
                if answer.error == "unreachable" and retries:
                    self._dead_hosts.add(host)
                return answer
            delay = self._delay(attempt, answer.retry_after)
            if delay is None or delay >= budget.left:
                return answer
            attempt += 1
            budget.spend(delay)
            await asyncio.sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before the next attempt: exponential with jitter, or what Retry-After asks;
        None when the server asks for longer than we are willing to wait."""
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after
        base = self.backoff_base * (2.0**attempt)
        return min(self.max_retry_after, base * random.uniform(0.5, 1.5))

    def _host_limit(self, host: str) -> asyncio.Semaphore:
        sem = self._hosts.get(host)
        if sem is None:
            sem = self._hosts[host] = asyncio.Semaphore(self.per_host)
        return sem

    async def _ask(self, method: str, url: httpx.URL, budget: _Budget) -> Answer:
        """One request to one URL, connecting only to addresses the policy allows."""
        host = url.host.lower()
        port = url.port or (443 if url.scheme == "https" else 80)
        # The host's slot first, then a global one: a link waiting for its busy host must not
        # sit on a global slot that links to other hosts could use. Resolving inside the slots
        # keeps a large batch from queueing thousands of lookups against their own timeout.
        async with self._host_limit(host), self._global:
            if budget.left <= 0:
                return Answer(error="timeout", detail=f"gave up after {self.link_budget:g} s "
                               "spent on this link in all")
            started = time.monotonic()
            try:
                return await self._ask_now(method, url, host, port, budget.left)
            finally:
                budget.spend(time.monotonic() - started)

    async def _ask_now(self, method: str, url: httpx.URL, host: str, port: int,
                       left: float) -> Answer:
        """Resolve, check the addresses, and send; `left` is the link's remaining budget."""
        timeout = min(self.timeout, left)
        try:
            addresses = await checked_addresses(host, port, self.policy, self.resolver,
                                                timeout=timeout)
        except AddressRefused as exc:
            named = f"{exc.host} is"
            if exc.host != exc.address:
                named = f"{exc.host} resolves to {exc.address},"
            return Answer(error="refused", detail=f"{named} {exc.reason}")
        except ResolutionFailed as exc:
            self.offline_reasons.setdefault(host, f"host names do not resolve ({exc})")
            return Answer(error="unreachable", detail=str(exc))
        answer = Answer(error="unreachable", detail="no address to connect to")
        for address in addresses:
            answer = await self._send(method, url, address, timeout)
            # Try the next address only when this one refused the connection (e.g. no IPv6
            # route); any answer or timeout is the host's answer.
            if answer.error != "unreachable":
                break
        if answer.error in (None, "protocol"):  # something answered: there is a network
            self.answered_hosts.add(host)
        elif answer.error == "unreachable" and answer.no_route:
            self.offline_reasons.setdefault(host, answer.detail)
        return answer

    def _request(self, method: str, url: httpx.URL, address: str,
                 timeout: float) -> httpx.Request:
        """A request for `url` that connects to `address`, carrying only this checker's headers.

        Built directly rather than with client.build_request, so that the client's own default
        headers, cookies and credentials (an API token for Crossref, say) never go to the sites
        being checked.
        """
        import httpx

        target = url.copy_with(host=url_host_for(address))
        headers = {
            "Host": url.netloc.decode("ascii"),
            "User-Agent": self.user_agent,
            "Accept": ACCEPT,
            "Accept-Language": ACCEPT_LANGUAGE,
            "Accept-Encoding": "gzip, deflate",
        }
        extensions: dict[str, Any] = {"timeout": httpx.Timeout(timeout).as_dict()}
        if url.scheme == "https":
            # Verify the certificate against the name, not the address we connect to.
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
            # The client's pool keys connections by address: never let a TLS connection made
            # for one name carry a request for another name on the same address.
            headers["Connection"] = "close"
        return httpx.Request(method, target, headers=headers, extensions=extensions)

    async def _send(self, method: str, url: httpx.URL, address: str,
                    timeout: float) -> Answer:
        import httpx

        request = self._request(method, url, address, timeout)
        try:
            async with asyncio.timeout(timeout):
                response = await self.client.send(request, stream=True, auth=None,
                                                  follow_redirects=False)
                try:
                    if method == "GET":
                        await self._read_capped(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            return Answer(error="timeout", detail=type(exc).__name__)
        except httpx.ConnectError as exc:
            return Answer(error="unreachable", detail=connect_failure(exc),
                           no_route=no_network_reason(exc) is not None)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return Answer(error="protocol", detail=str(exc) or type(exc).__name__)
        except httpx.TransportError as exc:
            return Answer(error="unreachable", detail=str(exc) or type(exc).__name__)
        status = response.status_code
        location = response.headers.get("location")
        retry_after = None
        if status == 429 or 500 <= status <= 599:
            retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
        return Answer(status=status, location=location, retry_after=retry_after)

    async def _read_capped(self, response: httpx.Response) -> None:
        """Read at most body_cap bytes: enough to see the server answers, never a whole file."""
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received >= self.body_cap:
                break
