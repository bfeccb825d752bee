"""The Crossref client in-process against the simulator: lookups, agency, retries, limits, cache."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from evidence_cli.services import crossref as crossref_module
from evidence_cli.services import transport as transport_module
from evidence_cli.services.cache import Cache
from evidence_cli.services.crossref import NOT_IN_CACHE, CrossrefClient, WorkLookup
from evidence_cli.services.lookups import cache_origin_key
from evidence_cli.services.ratelimit import Pacer, RateLimiter, Stamp, parse_interval
from evidence_cli.services.session import crossref_options
from evidence_cli.services.transport import (
    RETRY_AFTER_CAP,
    _backoff,
    parse_retry_after,
    user_agent,
)
from evidence_cli.settings import Settings
from tests.simulator import CrossrefSimulator

T = TypeVar("T")
PONE = "10.1371/journal.pone.0033693"


def with_client(
    sim: CrossrefSimulator, tmp_path: Path, action: Callable[[CrossrefClient], Awaitable[T]],
    **settings: Any,
) -> tuple[T, CrossrefClient]:
    """Run `action` with a client on the simulator and a cache in tmp_path."""
    config = Settings(crossref_url=sim.url, cache_dir=tmp_path / "cache", timeout=5.0,
                      **settings)

    async def run() -> tuple[T, CrossrefClient]:
        headers = {"User-Agent": user_agent(config.mailto)}
        with Cache(config.cache_dir, read_only=config.offline) as cache:
            async with httpx.AsyncClient(headers=headers, timeout=config.timeout) as http:
                client = CrossrefClient(http, crossref_options(config), cache)
                return await action(client), client

    return asyncio.run(run())


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float | None]]:
    """Record the backoff the client asks for and skip the wait: no test waits on jitter."""
    calls: list[tuple[int, float | None]] = []

    def fake(attempt: int, retry_after: float | None) -> float:
        calls.append((attempt, retry_after))
        return 0.0

    monkeypatch.setattr(transport_module, "_backoff", fake)
    return calls


def cached(tmp_path: Path, doi: str, sim: CrossrefSimulator) -> Any:
    # Answers are keyed by the service that gave them (here the simulator's URL).
    with Cache(tmp_path / "cache", read_only=True) as cache:
        return cache.get("work", cache_origin_key(sim.url, doi), allow_expired=True)


# -- lookups --------------------------------------------------------------------------------


def test_found_record_is_slimmed_and_cached(crossref_sim: CrossrefSimulator, tmp_path: Path
                                            ) -> None:
    lookup, client = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE))
    assert lookup.outcome == "found"
    assert lookup.record is not None and lookup.record["DOI"] == PONE
    assert "reference" not in lookup.record  # heavy fields are not kept
    assert lookup.record["updated-by"][0]["type"] == "correction"
    assert [e.path for e in crossref_sim.stats.log] == ["/works/10.1371%2Fjournal.pone.0033693"]
    assert cached(tmp_path, PONE, crossref_sim)["outcome"] == "found"
    assert client.stats.requests == 1 and client.stats.retries == 0


def test_odd_characters_are_percent_encoded_in_the_path(
    crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    doi = "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o"
    message = dict(crossref_sim.record("10.5555/evidence-cli.clean") or {}, DOI=doi)
    crossref_sim.add_record(message)
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(doi))
    assert lookup.outcome == "found"
    [entry] = crossref_sim.stats.log
    assert entry.path == (
        "/works/10.1002%2F%28sici%291097-4571%28199806%2949%3A8%3C693%3A%3Aaid-asi4%3E3.0.co"
        "%3B2-o"
    )


def test_not_found_asks_the_agency_then_caches_briefly(
    crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    doi = "10.5555/evidence-cli.no-such-record"
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(doi))
    assert lookup.outcome == "not-found"
    assert [e.path for e in crossref_sim.stats.log] == [
        "/works/10.5555%2Fevidence-cli.no-such-record",
        "/works/10.5555%2Fevidence-cli.no-such-record/agency",
    ]
    assert cached(tmp_path, doi, crossref_sim) == {"outcome": "not-found", "record": None,
                                                   "agency": None}


@pytest.mark.parametrize(("prefix", "agency"), [("10.5281", "DataCite"), ("10.3280", "mEDRA")])
def test_other_agency_is_named(crossref_sim: CrossrefSimulator, tmp_path: Path, prefix: str,
                               agency: str) -> None:
    crossref_sim.set_agency("10.3280", "mEDRA")
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(f"{prefix}/abc.123"))
    assert (lookup.outcome, lookup.agency) == ("other-agency", agency)


def test_crossref_doi_without_a_record_is_unavailable_never_not_found(
    crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    # Recorded: the agency route says Crossref holds this DOI, but no work record is served.
    doi = "10.1126/science.169.3946.635"
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(doi), max_retries=1)
    assert lookup.outcome == "unavailable"
    assert cached(tmp_path, doi, crossref_sim) is None


def test_offline_miss_is_unavailable_without_a_request(
    crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE), offline=True)
    assert (lookup.outcome, lookup.detail) == ("unavailable", NOT_IN_CACHE)
    assert crossref_sim.stats.requests == 0
    with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE))
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE), offline=True)
    assert lookup.outcome == "found"
    assert crossref_sim.stats.requests == 1
    with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE), refresh=True)
    assert crossref_sim.stats.requests == 2


def test_expired_answers_are_asked_again_online_but_serve_offline(
    crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    with Cache(tmp_path / "cache") as cache:
        cache.put("work", cache_origin_key(crossref_sim.url, PONE),
                  {"outcome": "not-found", "record": None, "agency": None}, -1)
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE), offline=True)
    assert lookup.outcome == "not-found"  # offline, an old answer beats none
    assert crossref_sim.stats.requests == 0
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE))
    assert lookup.outcome == "found"  # online, an expired answer is asked again
    assert crossref_sim.stats.requests == 1
    assert cached(tmp_path, PONE, crossref_sim)["outcome"] == "found"


def test_a_failed_refresh_keeps_the_good_answer(
    crossref_sim: CrossrefSimulator, tmp_path: Path, no_backoff: list[tuple[int, float | None]]
) -> None:
    with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE))
    crossref_sim.add_fault("status", times=None, code=502)
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE), refresh=True,
                            max_retries=1)
    assert lookup.outcome == "unavailable"
    assert cached(tmp_path, PONE, crossref_sim)["outcome"] == "found"
    crossref_sim.clear_faults()
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE))
    assert lookup.outcome == "found"
    assert crossref_sim.stats.requests == 3  # the good answer served the last lookup


def test_agency_lookup_failure_is_unavailable_never_not_found(
    crossref_sim: CrossrefSimulator, tmp_path: Path, no_backoff: list[tuple[int, float | None]]
) -> None:
    crossref_sim.add_fault("status", times=None, match="/agency", code=503)
    doi = "10.5555/evidence-cli.no-such-record"
    lookup, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_work(doi), max_retries=2)
    assert lookup.outcome == "unavailable"
    assert cached(tmp_path, doi, crossref_sim) is None
    assert crossref_sim.stats.by_path[
        "/works/10.5555%2Fevidence-cli.no-such-record/agency"] == 3


def test_many_dois_at_once_each_asked_once(crossref_sim: CrossrefSimulator, tmp_path: Path
                                           ) -> None:
    dois = sorted(d for d in crossref_sim.dois() if d.startswith("10.7717/peerj."))[:10]
    lookups, _ = with_client(crossref_sim, tmp_path, lambda c: c.get_works([*dois, *dois]))
    assert sorted(lookups) == dois
    assert {lookup.outcome for lookup in lookups.values()} == {"found"}
    assert crossref_sim.stats.requests == 10


def test_many_dois_are_looked_up_by_a_few_workers(
        crossref_sim: CrossrefSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not a task per DOI (a thousand tasks started at once delay the first request): at most
    # WORKERS lookups are under way at any time, and every DOI is still asked once.
    monkeypatch.setattr(crossref_module, "WORKERS", 4)
    dois = sorted(crossref_sim.dois())[:30]
    busy, most = 0, 0

    async def action(client: CrossrefClient) -> dict[str, WorkLookup]:
        fetch = client._fetch_work

        async def counted(doi: str) -> WorkLookup:
            nonlocal busy, most
            busy += 1
            most = max(most, busy)
            try:
                return await fetch(doi)
            finally:
                busy -= 1

        client._fetch_work = counted  # type: ignore[method-assign]
        return await client.get_works(dois)

    lookups, _ = with_client(crossref_sim, tmp_path, action)
    assert sorted(lookups) == dois and len(dois) == 30
    assert {lookup.outcome for lookup in lookups.values()} == {"found"}
    assert crossref_sim.stats.requests == 30
    assert most == 4


# -- retries --------------------------------------------------------------------------------


def test_retries_are_bounded(crossref_sim: CrossrefSimulator, tmp_path: Path,
                             no_backoff: list[tuple[int, float | None]]) -> None:
    crossref_sim.add_fault("status", times=None, code=503)
    lookup, client = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE),
                                 max_retries=3)
    assert lookup.outcome == "unavailable"
    assert lookup.detail == "server error (HTTP 503), after 4 attempts"
    assert crossref_sim.stats.requests == 4
    assert [attempt for attempt, _ in no_backoff] == [0, 1, 2]
    assert (client.stats.retries, client.stats.failures) == (3, 1)
    assert cached(tmp_path, PONE, crossref_sim) is None


def test_retry_after_is_honoured(crossref_sim: CrossrefSimulator, tmp_path: Path,
                                 no_backoff: list[tuple[int, float | None]]) -> None:
    crossref_sim.add_fault("status", times=1, code=429, retry_after=0.3)
    crossref_sim.add_fault("status", times=1, code=503, retry_after=0.5)
    lookup, client = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE))
    assert lookup.outcome == "found"
    assert no_backoff == [(0, 0.3), (1, 0.5)]
    assert client.stats.rate_limited == 1
    # A 429 pauses every request, not only the one refused.
    assert client.limiter.pacer._paused_until > 0


def test_unreadable_bodies_are_retried(crossref_sim: CrossrefSimulator, tmp_path: Path,
                                       no_backoff: list[tuple[int, float | None]]) -> None:
    for kind in ("html-200", "truncated-json", "malformed-json", "reset-mid-body", "reset"):
        crossref_sim.add_fault(kind, times=1)
    lookup, client = with_client(crossref_sim, tmp_path, lambda c: c.get_work(PONE),
                                 max_retries=5)
    assert lookup.outcome == "found"
    assert crossref_sim.stats.requests == 6
    assert client.stats.retries == 5


def test_backoff_is_exponential_with_jitter_and_respects_retry_after() -> None:
    for attempt in range(8):
        ceiling = min(8.0, 0.5 * 2**attempt)
        for _ in range(20):
            assert ceiling / 2 <= _backoff(attempt, None) <= ceiling
    assert _backoff(0, 3.0) == 3.0
    assert _backoff(5, 0.1) >= 0.1


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))


def test_retry_after_header_forms() -> None:
    def answer(value: str | None) -> httpx.Response:
        headers = {} if value is None else {"retry-after": value}
        return httpx.Response(429, headers=headers)

    assert _retry_after(answer(None)) is None
    assert _retry_after(answer("2")) == 2.0
    assert _retry_after(answer("0.2")) == 0.2
    assert _retry_after(answer("-5")) == 0.0
    # Not capped here: a wait over RETRY_AFTER_CAP ends the retries at once (_request).
    assert _retry_after(answer("86400")) == 86400.0 > RETRY_AFTER_CAP
    assert _retry_after(answer("nan")) is None
    assert _retry_after(answer("soon")) is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 5 < (_retry_after(answer(in_ten)) or 0) <= 10


# -- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mailto", "rate", "concurrency", "list_rate"),
    [(None, 5, 1, 1.0), ("ci@example.org", 10, 3, 3.0)],
)
def test_client_adopts_the_advertised_limits(
    tmp_path: Path, mailto: str | None, rate: int, concurrency: int, list_rate: float
) -> None:
    with CrossrefSimulator(rate_limit=5, concurrency=1, polite_rate_limit=10,
                           polite_concurrency=3) as sim:
        _, client = with_client(sim, tmp_path, lambda c: c.get_work(PONE), mailto=mailto)
        [entry] = sim.stats.log
    assert entry.pool == ("polite" if mailto else "public")
    assert client.limiter.gate.capacity == concurrency
    assert (client.limiter.pacer.rate, client.limiter.pacer.interval) == (rate, 1.0)
    assert client.list_pacer.rate == list_rate


def test_limiter_starts_at_the_public_pool_limits() -> None:
    limiter = RateLimiter(crossref_module.PUBLIC_RATE, 1.0, crossref_module.PUBLIC_CONCURRENCY)
    assert limiter.gate.capacity == 1
    assert limiter.pacer.rate == 5


def test_pacer_keeps_every_window_within_the_rate() -> None:
    pacer = Pacer(5, 1.0)
    start = 1000.0
    pacer._starts = deque(Stamp(start + 0.05 * i) for i in range(5))
    # The sixth start waits for the first to leave the window (plus the margin).
    assert pacer._next_turn() >= start + 1.0
    pacer._starts = deque([Stamp(start)])
    # Two starts are never closer than most of the even spacing.
    assert pacer._next_turn() >= start + 0.2 * 0.9
    pacer.pause(30)
    assert pacer._next_turn() >= time.monotonic() + 29


def test_parse_interval() -> None:
    assert parse_interval("1s") == 1.0
    assert parse_interval("500ms") == 0.5
    assert parse_interval("1m") == 60.0
    assert parse_interval(" 2 ") == 2.0
    assert parse_interval("soon") is None


def test_user_agent_names_tool_project_and_contact() -> None:
    from evidence_cli import PROJECT_URL, __version__

    assert user_agent(None) == f"evidence-cli/{__version__} (+{PROJECT_URL})"
    assert user_agent("a@b.org") == f"evidence-cli/{__version__} (+{PROJECT_URL}; mailto:a@b.org)"


def test_work_lookup_cache_value_carries_no_detail() -> None:
    lookup = WorkLookup("10.1/x", "other-agency", agency="DataCite", detail="anything")
    assert lookup.cache_value() == {"outcome": "other-agency", "record": None,
                                    "agency": "DataCite"}
