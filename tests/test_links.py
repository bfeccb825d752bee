"""Link checker tests: every verdict through LinkChecker against a real local HTTP server."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from evidence_cli import PROJECT_URL, __version__
from evidence_cli.errors import UsageError
from evidence_cli.models import Finding, Severity, status_of
from evidence_cli.services.links import LinkChecker, LinkVerdict, parse_retry_after
from evidence_cli.services.netguard import AddressPolicy, ResolutionFailed, non_public_reason
from tests.webserver import BIG_BODY, LocalServer

pytestmark = pytest.mark.anyio

TIMEOUT = 0.3  # the checker's timeout in these tests; /slow takes much longer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(slow_seconds=3.0) as srv:
        yield srv


@pytest.fixture
def fresh_server() -> Iterator[LocalServer]:
    """A server of its own, so that an empty request log means nothing reached it at all."""
    with LocalServer() as srv:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as c:
        yield c


def checker(client: httpx.AsyncClient, **options: Any) -> LinkChecker:
    """A checker for loopback tests: private addresses allowed, short timeout and backoff."""
    settings: dict[str, Any] = {"timeout": TIMEOUT, "allow_private": True, "backoff_base": 0.01}
    settings.update(options)
    return LinkChecker(client, **settings)


def fresh(path: str) -> str:
    """The path with a unique query string: stateful routes start over for each test."""
    return f"{path}{'&' if '?' in path else '?'}t={uuid.uuid4().hex}"


class MemoryCache:
    """The LinkCache protocol in memory, recording what was stored and for how long."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.ttls: dict[str, float] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        # What a real cache would do: store JSON. Fails if the value is not serialisable.
        self.data[key] = json.loads(json.dumps(value))
        self.ttls[key] = ttl


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def methods(server: LocalServer, path: str) -> list[str]:
    return [r.method for r in server.requests_for(path)]


# -- links that work ----------------------------------------------------------------------------


async def test_ok_link_works_with_one_honest_head(server: LocalServer,
                                                   client: httpx.AsyncClient) -> None:
    path = fresh("/ok")
    verdict = await checker(client).check(server.url(path))
    assert verdict is not None
    assert verdict.works and verdict.finding is None
    assert verdict.status == 200
    assert verdict.final_url == server.url(path)
    assert verdict.cacheable
    [request] = server.requests_for(path)
    assert request.method == "HEAD"
    assert request.user_agent == f"evidence-cli/{__version__} (+{PROJECT_URL})"
    assert request.accept is not None and request.accept.startswith("text/html")
    assert request.host == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize("route", ["/head-405", "/head-403-get-ok", "/head-hangup"])
async def test_head_refused_then_get_works(server: LocalServer, client: httpx.AsyncClient,
                                           route: str) -> None:
    path = fresh(route)
    verdict = await checker(client).check(server.url(path))
    assert verdict is not None and verdict.works, verdict
    assert verdict.status == 200
    assert methods(server, path) == ["HEAD", "GET"]


async def test_big_body_is_not_read(server: LocalServer, client: httpx.AsyncClient) -> None:
    before = server.big_sent
    verdict = await checker(client, timeout=5.0).check(server.url(fresh("/big")))
    assert verdict is not None and verdict.works and verdict.status == 200
    # The server could push at most the socket buffers' worth before the client hung up.
    assert server.big_sent - before < BIG_BODY // 4


async def test_temporary_redirect_is_followed_silently(server: LocalServer,
                                                       client: httpx.AsyncClient) -> None:
    verdict = await checker(client).check(server.url("/redirect-temp"))
    assert verdict is not None and verdict.works
    assert verdict.final_url == server.url("/ok")


async def test_ten_redirects_are_followed(server: LocalServer, client: httpx.AsyncClient) -> None:
    verdict = await checker(client).check(server.url("/too-many/10"))
    assert verdict is not None and verdict.works
    assert verdict.final_url == server.url("/too-many/0")


@pytest.mark.parametrize("route", ["/429-then-ok", "/500-then-ok"])
async def test_transient_failure_is_retried(server: LocalServer, client: httpx.AsyncClient,
                                            route: str) -> None:
    path = fresh(route)
    verdict = await checker(client).check(server.url(path))
    assert verdict is not None and verdict.works, verdict
    assert len(server.requests_for(path)) == 2


# -- verdicts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route,status", [("/404", 404), ("/410", 410)])
async def test_gone_is_broken(server: LocalServer, client: httpx.AsyncClient, route: str,
                              status: int) -> None:
    url = server.url(route)
    verdict = await checker(client).check(url)
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-broken"
    assert verdict.finding.severity is Severity.ERROR
    assert str(status) in verdict.finding.message and url in verdict.finding.message
    assert verdict.status == status and verdict.cacheable


async def test_permanent_redirect_suggests_final_url(server: LocalServer,
                                                     client: httpx.AsyncClient) -> None:
    for route in ("/redirect-permanent", "/redirect-permanent-twice"):
        verdict = await checker(client).check(server.url(route))
        assert verdict is not None and verdict.finding is not None
        assert verdict.finding.code == "url-redirected"
        assert verdict.finding.severity is Severity.INFO
        assert verdict.finding.suggestion == server.url("/ok")
        assert verdict.final_url == server.url("/ok") and verdict.status == 200


async def test_permanent_redirect_to_missing_page_is_broken(server: LocalServer,
                                                            client: httpx.AsyncClient) -> None:
    verdict = await checker(client).check(server.url("/redirect-permanent-to-404"))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-broken"
    assert verdict.final_url == server.url("/404")


async def test_redirect_loop_is_broken(server: LocalServer, client: httpx.AsyncClient) -> None:
    verdict = await checker(client).check(server.url("/loop-a"))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-broken"
    assert "loop" in verdict.finding.message


async def test_too_many_redirects_is_broken(server: LocalServer,
                                            client: httpx.AsyncClient) -> None:
    verdict = await checker(client).check(server.url("/too-many/11"))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-broken"
    assert "more than 10" in verdict.finding.message


async def test_slow_link_times_out_after_retries(server: LocalServer,
                                                 client: httpx.AsyncClient) -> None:
    path = fresh("/slow")
    verdict = await checker(client, max_retries=1).check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-timeout"
    assert verdict.finding.severity is Severity.WARNING
    assert not verdict.cacheable
    # The timed-out HEAD counts as the first attempt; the retry asks with GET.
    assert methods(server, path) == ["HEAD", "GET"]


async def test_rate_limited_link_is_blocked_after_retries(server: LocalServer,
                                                          client: httpx.AsyncClient) -> None:
    path = fresh("/always-429")
    verdict = await checker(client, max_retries=1).check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-blocked" and verdict.status == 429
    assert not verdict.cacheable
    assert len(server.requests_for(path)) == 2
    assert status_of([verdict.finding]) == "unverifiable"


async def test_retry_after_beyond_cap_is_not_waited_for(server: LocalServer,
                                                        client: httpx.AsyncClient) -> None:
    path = fresh("/429-long")  # asks for an hour
    verdict = await checker(client, max_retries=3).check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-blocked"
    assert len(server.requests_for(path)) == 1


async def test_server_error_after_retries(server: LocalServer, client: httpx.AsyncClient) -> None:
    path = fresh("/503")
    verdict = await checker(client, max_retries=2).check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-server-error" and verdict.status == 503
    assert not verdict.cacheable
    assert status_of([verdict.finding]) == "unverifiable"
    # HEAD, then GET and its two retries.
    assert methods(server, path) == ["HEAD", "GET", "GET", "GET"]


@pytest.mark.parametrize("route,status", [("/401", 401), ("/403", 403), ("/999", 999)])
async def test_refusing_servers_are_blocked_not_broken(server: LocalServer,
                                                       client: httpx.AsyncClient, route: str,
                                                       status: int) -> None:
    path = fresh(route)
    verdict = await checker(client).check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-blocked" and verdict.status == status
    assert str(status) in verdict.finding.message
    assert status_of([verdict.finding]) == "unverifiable"
    if status == 403:
        assert methods(server, path) == ["HEAD", "GET"]  # a 403 to HEAD is confirmed with GET


async def test_closed_port_is_unreachable(client: httpx.AsyncClient) -> None:
    verdict = await checker(client, max_retries=1).check(f"http://127.0.0.1:{closed_port()}/x")
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-unreachable"
    assert verdict.finding.severity is Severity.ERROR
    assert "refused" in verdict.finding.message
    assert not verdict.cacheable


async def test_name_that_does_not_resolve_is_unreachable(client: httpx.AsyncClient) -> None:
    # An injected resolver answers for the name: tests send no traffic beyond loopback, so the
    # system resolver (which may ask a DNS server elsewhere) is not used.
    async def nxdomain(host: str, port: int) -> list[str]:
        raise ResolutionFailed(f"{host} does not resolve (Name or service not known)")

    verdict = await checker(client, resolver=nxdomain).check("http://no-such-host.invalid/")
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-unreachable"
    assert "no-such-host.invalid does not resolve" in verdict.finding.message
    assert not verdict.cacheable


async def test_resolver_that_never_answers_is_unreachable(client: httpx.AsyncClient) -> None:
    async def hangs(host: str, port: int) -> list[str]:
        await asyncio.sleep(60)
        return []

    verdict = await checker(client, resolver=hangs, max_retries=0).check("http://hang.invalid/")
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-unreachable"
    assert "did not resolve" in verdict.finding.message


# -- safety ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "0.0.0.0"])
async def test_loopback_is_refused_without_allow_private(fresh_server: LocalServer,
                                                         client: httpx.AsyncClient,
                                                         host: str) -> None:
    url = fresh_server.url("/ok", host=host)
    verdict = await LinkChecker(client, timeout=TIMEOUT).check(url)
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-refused"
    assert status_of([verdict.finding]) == "unverifiable"
    assert "--allow-private" in verdict.finding.message
    assert not verdict.cacheable
    assert fresh_server.log == []


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/",
                                    "http://10.0.0.1/", "http://[fd00:ec2::254]/"])
async def test_redirect_hop_to_private_address_is_refused(server: LocalServer,
                                                          client: httpx.AsyncClient,
                                                          target: str) -> None:
    # Only the test server's own address is allowed: every other hop is checked as usual.
    lc = LinkChecker(client, timeout=TIMEOUT, allow_addresses=["127.0.0.1/32"])
    path = fresh(f"/redirect-to?url={quote(target, safe='')}")
    verdict = await lc.check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-refused", verdict.finding.message
    assert verdict.final_url == target
    assert verdict.status is None  # nothing answered from the target
    assert len(server.requests_for(path)) == 1  # the first hop was fetched


async def test_redirect_hop_refusal_sends_nothing(server: LocalServer,
                                                  client: httpx.AsyncClient) -> None:
    """A hop to another loopback address (a second server) is refused and never requested;
    allowing that address too makes the same chain reach it."""
    with LocalServer(host="127.0.0.2") as other:
        target = other.url("/ok")
        path = f"/redirect-to?url={quote(target, safe='')}"
        lc = LinkChecker(client, timeout=TIMEOUT, allow_addresses=["127.0.0.1"])
        verdict = await lc.check(server.url(fresh(path)))
        assert verdict is not None and verdict.finding is not None
        assert verdict.finding.code == "url-refused"
        assert other.log == []

        both = LinkChecker(client, timeout=TIMEOUT, allow_addresses=["127.0.0.1", "127.0.0.2"])
        verdict = await both.check(server.url(fresh(path)))
        assert verdict is not None and verdict.works
        assert [r.path for r in other.log] == ["/ok"]


async def test_metadata_address_stays_refused_with_allow_private(
        server: LocalServer, client: httpx.AsyncClient) -> None:
    target = "http://169.254.169.254/latest/meta-data/"
    path = fresh(f"/redirect-to?url={quote(target, safe='')}")
    verdict = await checker(client).check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-refused"
    assert "metadata" in verdict.finding.message


async def test_any_private_address_of_a_name_refuses_it(fresh_server: LocalServer,
                                                        client: httpx.AsyncClient) -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]  # a public answer alongside a loopback one

    lc = LinkChecker(client, timeout=TIMEOUT, resolver=mixed)
    verdict = await lc.check(f"http://mixed.example:{fresh_server.port}/ok")
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-refused"
    assert "127.0.0.1" in verdict.finding.message
    assert fresh_server.log == []


async def test_connection_goes_to_the_checked_address(server: LocalServer,
                                                      client: httpx.AsyncClient) -> None:
    """The name is resolved once, by the checker; the request goes to that address with the
    original Host header. The system resolver does not know this name, so the check can only
    work if the client never resolves it again."""
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    path = fresh("/ok")
    lc = checker(client, resolver=resolver)
    verdict = await lc.check(f"http://pinned.invalid:{server.port}{path}")
    assert verdict is not None and verdict.works, verdict
    assert calls == ["pinned.invalid"]
    [request] = server.requests_for(path)
    assert request.host == f"pinned.invalid:{server.port}"


async def test_https_goes_to_checked_address_and_verifies_the_name() -> None:
    """Over TLS the connection goes to the checked address while the server name (SNI) and the
    certificate check use the link's host name; a certificate for another name is not ok."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("pinned.test").configure_cert(server_ctx)
    names: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: names.append(name)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    with LocalServer(ssl_context=server_ctx) as tls:
        async with httpx.AsyncClient(verify=client_ctx, trust_env=False) as c:
            lc = checker(c, resolver=resolver, max_retries=0, timeout=5.0)
            good = await lc.check(f"https://pinned.test:{tls.port}/ok")
            bad = await lc.check(f"https://impostor.test:{tls.port}/ok")
    assert good is not None and good.works, good
    assert [r.host for r in tls.log] == [f"pinned.test:{tls.port}"]
    assert names[:1] == ["pinned.test"]
    assert bad is not None and bad.finding is not None
    assert bad.finding.code == "url-unreachable"
    assert "certificate" in bad.finding.message.lower()


async def test_unreachable_ipv6_address_falls_back_to_ipv4(server: LocalServer,
                                                           client: httpx.AsyncClient) -> None:
    # localhost is ::1 and 127.0.0.1; the server listens on IPv4 only.
    async def both(host: str, port: int) -> list[str]:
        return ["::1", "127.0.0.1"]

    verdict = await checker(client, resolver=both).check(f"http://dual.invalid:{server.port}/ok")
    assert verdict is not None and verdict.works, verdict


async def test_client_credentials_are_not_sent_to_checked_sites(server: LocalServer) -> None:
    """The pipeline may share one client with the Crossref lookups; its token, cookies and
    credentials must not go to every site a reference links to."""
    async with httpx.AsyncClient(
        headers={"Crossref-Plus-API-Token": "Bearer secret", "X-Debug": "1"},
        cookies={"session": "secret"}, auth=("user", "secret"), trust_env=False,
    ) as shared:
        path = fresh("/head-405")
        verdict = await checker(shared).check(server.url(path))
    assert verdict is not None and verdict.works
    requests = server.requests_for(path)
    assert [r.method for r in requests] == ["HEAD", "GET"]
    for request in requests:
        sent = dict(request.headers)
        assert "secret" not in json.dumps(sent)
        assert not {"crossref-plus-api-token", "x-debug", "cookie", "authorization"} & set(sent)


# -- what is skipped, cached, limited ----------------------------------------------------------


@pytest.mark.parametrize("url", ["https://doi.org/10.1000/xyz123", "http://dx.doi.org/10.1/x",
                                 "mailto:editor@example.org", "ftp://ftp.example.org/file.txt"])
async def test_doi_and_non_http_links_are_skipped(client: httpx.AsyncClient, url: str) -> None:
    assert await checker(client).check(url) is None


async def test_excluded_links_are_not_requested(server: LocalServer,
                                                client: httpx.AsyncClient) -> None:
    path = fresh("/ok")
    lc = checker(client, excludes=[r"/ok\?t="])
    assert await lc.check(server.url(path)) is None
    assert server.requests_for(path) == []
    with pytest.raises(UsageError, match="not a valid regular expression"):
        checker(client, excludes=["(unclosed"])


async def test_cache_keeps_lasting_verdicts_only(server: LocalServer,
                                                 client: httpx.AsyncClient) -> None:
    cache = MemoryCache()
    lasting = [server.url(p) for p in ("/ok", "/404", "/redirect-permanent", "/403")]
    transient = [server.url(fresh("/503")), server.url(fresh("/always-429")),
                 server.url(fresh("/slow")), f"http://127.0.0.1:{closed_port()}/"]
    lc = checker(client, cache=cache, max_retries=0, cache_ttl=123.0)
    first = await lc.check_many(lasting + transient)
    assert set(first) == set(lasting + transient)
    assert len(cache.data) == len(lasting)
    assert set(cache.ttls.values()) == {123.0}

    # Offline: cached verdicts come back unchanged, without a request; the rest is not answered.
    log_size = len(server.log)
    offline = checker(client, cache=cache, offline=True)
    again = await offline.check_many(lasting + transient)
    assert set(again) == set(lasting)
    for url in lasting:
        assert again[url] == first[url]
    assert len(server.log) == log_size

    # Verdicts made with private addresses allowed are not reused under the default policy.
    strict = LinkChecker(client, cache=cache, offline=True)
    assert await strict.check(lasting[0]) is None


async def test_verdicts_round_trip_through_the_real_cache(server: LocalServer,
                                                          client: httpx.AsyncClient,
                                                          tmp_path: Path) -> None:
    """The same, with the SQLite cache the pipeline uses (through its get/put adapter)."""
    from evidence_cli.services.cache import Cache
    from evidence_cli.services.session import KindCache

    urls = [server.url(fresh("/redirect-permanent")), server.url(fresh("/404")),
            server.url(fresh("/503"))]
    with Cache(tmp_path) as store:
        lc = checker(client, cache=KindCache(store, "url", allow_expired=False), max_retries=0)
        first = await lc.check_many(urls)
    with Cache(tmp_path, read_only=True) as store:
        offline = checker(client, cache=KindCache(store, "url", allow_expired=True),
                          offline=True)
        again = await offline.check_many(urls)
    assert again == {url: first[url] for url in urls[:2]}  # the 503 was not stored
    redirected = again[urls[0]].finding
    assert redirected is not None and redirected.suggestion == server.url("/ok")


async def test_refresh_checks_again_and_overwrites(server: LocalServer,
                                                   client: httpx.AsyncClient) -> None:
    cache = MemoryCache()
    path = fresh("/ok")
    url = server.url(path)
    await checker(client, cache=cache).check(url)
    stale = LinkVerdict(url, None, "http://stale.example/", 200, True)
    key = checker(client).cache_key(url)
    cache.data[key] = stale.to_dict()
    assert await checker(client, cache=cache).check(url) == stale
    fresh_verdict = await checker(client, cache=cache, refresh=True).check(url)
    assert fresh_verdict is not None and fresh_verdict.final_url == url
    assert LinkVerdict.from_dict(cache.data[key]) == fresh_verdict
    assert len(server.requests_for(path)) == 2


async def test_unreadable_cache_entry_is_a_miss(server: LocalServer,
                                                client: httpx.AsyncClient) -> None:
    cache = MemoryCache()
    url = server.url(fresh("/404"))
    lc = checker(client, cache=cache)
    cache.data[lc.cache_key(url)] = {"v": 1, "url": url, "finding": {"code": "no-such-code"}}
    verdict = await lc.check(url)
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-broken"
    assert LinkVerdict.from_dict(cache.data[lc.cache_key(url)]) == verdict


async def test_refusals_are_not_cached(client: httpx.AsyncClient) -> None:
    cache = MemoryCache()
    verdict = await LinkChecker(client, cache=cache).check("http://10.1.2.3/")
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-refused"
    assert cache.data == {}


def test_verdict_round_trips_through_json() -> None:
    finding = Finding("url-redirected", Severity.INFO, "moved", field="url", cited="http://a/",
                      suggestion="https://a/")
    verdict = LinkVerdict("http://a/", finding, "https://a/", 200, True)
    back = LinkVerdict.from_dict(json.loads(json.dumps(verdict.to_dict())))
    assert back == verdict
    ok = LinkVerdict("http://b/", None, "http://b/", 200, True)
    assert LinkVerdict.from_dict(json.loads(json.dumps(ok.to_dict()))) == ok


async def test_check_many_deduplicates(server: LocalServer, client: httpx.AsyncClient) -> None:
    path = fresh("/ok")
    url = server.url(path)
    result = await checker(client).check_many([url, url, "mailto:x@example.org", url])
    assert list(result) == [url]
    assert len(server.requests_for(path)) == 1


async def test_concurrent_checks_of_one_link_share_one_request(
        server: LocalServer, client: httpx.AsyncClient) -> None:
    path = fresh("/ok")
    lc = checker(client)
    first, second = await asyncio.gather(lc.check(server.url(path)), lc.check(server.url(path)))
    assert first is second is not None
    assert await lc.check(server.url(path)) is first
    assert len(server.requests_for(path)) == 1


async def test_link_budget_bounds_a_link_with_many_retries(server: LocalServer,
                                                           client: httpx.AsyncClient) -> None:
    path = fresh("/slow")
    lc = checker(client, max_retries=10, link_budget=2 * TIMEOUT)
    verdict = await lc.check(server.url(path))
    assert verdict is not None and verdict.finding is not None
    assert verdict.finding.code == "url-timeout"
    # Two timed-out attempts use up the budget; the other nine retries never happen.
    assert len(server.requests_for(path)) <= 2


async def test_per_host_limit(client: httpx.AsyncClient) -> None:
    with LocalServer(latency=0.2) as slow:
        urls = [slow.url(fresh("/ok")) for _ in range(6)]
        result = await checker(client, timeout=5.0, per_host=2).check_many(urls)
        assert all(v.works for v in result.values())
        assert slow.max_in_flight == 2


async def test_global_limit_across_hosts(client: httpx.AsyncClient) -> None:
    with LocalServer(latency=0.1) as slow:
        # Two host names for the same server: the per-host limit would allow 4 at once.
        urls = [slow.url(fresh("/ok"), host=h) for h in ("127.0.0.1", "localhost")
                for _ in range(3)]
        result = await checker(client, timeout=5.0, per_host=2,
                               global_limit=1).check_many(urls)
        assert len(result) == 6 and all(v.works for v in result.values())
        assert slow.max_in_flight == 1


# -- pieces ------------------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("address,public", [
    ("93.184.216.34", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("169.254.1.1", False), ("100.64.0.1", False),
    ("0.0.0.0", False), ("224.0.0.1", False), ("240.0.0.1", False), ("::1", False), ("::", False),
    ("fe80::1", False), ("fc00::1", False), ("fd00:ec2::254", False),
    ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False), ("::ffff:93.184.216.34", True),
    ("64:ff9b::7f00:1", False), ("2002:7f00:1::", False), ("2002:5db8:d822::", True),
])
def test_non_public_addresses(address: str, public: bool) -> None:
    assert (non_public_reason(ipaddress.ip_address(address)) is None) is public


def test_address_policy() -> None:
    ip = ipaddress.ip_address
    default = AddressPolicy.build()
    assert default.refusal(ip("10.0.0.1")) is not None
    private = AddressPolicy.build(allow_private=True)
    assert private.refusal(ip("10.0.0.1")) is None
    assert private.refusal(ip("127.0.0.1")) is None
    assert private.refusal(ip("169.254.169.254")) is not None
    assert private.refusal(ip("::ffff:169.254.169.254")) is not None
    one = AddressPolicy.build(allowed=["127.0.0.1"])
    assert one.refusal(ip("127.0.0.1")) is None
    assert one.refusal(ip("::ffff:127.0.0.1")) is None
    assert one.refusal(ip("127.0.0.2")) is not None
    assert len({default.tag, private.tag, one.tag}) == 3
