"""Tests of the Crossref simulator itself, over real sockets with httpx."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.simulator import CrossrefSimulator, strip_metadata

PLOS = "10.1371/journal.pone.0033693"
RECORDED = Path(__file__).parent / "fixtures" / "crossref"
# A long interval makes "past the rate" deterministic: nothing leaves the window during a test.
LONG = 60.0


def recorded_exchange(request_suffix: str) -> dict[str, Any]:
    exchanges = json.loads((RECORDED / "exchanges.json").read_text())
    return next(e for e in exchanges if e["request"].endswith(request_suffix))


@pytest.fixture
def client(crossref_sim: CrossrefSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=crossref_sim.url, timeout=10) as http:
        yield http


MakeSim = Callable[..., CrossrefSimulator]


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    """Build simulators with custom limits; all are stopped afterwards."""
    made: list[CrossrefSimulator] = []

    def make(**kwargs: object) -> CrossrefSimulator:
        sim = CrossrefSimulator(**kwargs).start()  # type: ignore[arg-type]  # test-chosen limits
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.stop()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded) for a server-side state; not a timing assertion, just synchronisation."""
    done = threading.Event()
    for _ in range(500):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError(f"never happened: {what}")


# -- the work route -----------------------------------------------------------------------------


def test_work_found_with_crossref_shape_and_headers(client: httpx.Client) -> None:
    response = client.get(f"/works/{PLOS}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-api-pool"] == "public"
    assert response.headers["x-rate-limit-limit"] == "50"
    assert response.headers["x-rate-limit-interval"] == "1s"
    assert response.headers["x-concurrency-limit"] == "3"
    body = response.json()
    recorded = recorded_exchange(f"/works/{PLOS}")["body"]
    assert {k: body[k] for k in ("status", "message-type", "message-version")} == {
        k: recorded[k] for k in ("status", "message-type", "message-version")
    }
    assert body["message"]["DOI"] == PLOS
    assert body["message"]["title"] == recorded["message"]["title"]


@pytest.mark.parametrize(
    "path",
    [
        "/works/10.1371/JOURNAL.PONE.0033693",
        "/works/10.1371%2Fjournal.pone.0033693",
        "/works/10.1371%2FJournal.Pone.0033693",
    ],
)
def test_doi_is_percent_decoded_and_case_insensitive(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["message"]["DOI"] == PLOS


def test_unknown_doi_is_404_plain_text(client: httpx.Client) -> None:
    response = client.get("/works/10.1371/notarealdoi")
    recorded = recorded_exchange("/works/10.1371/notarealdoi")
    assert response.status_code == recorded["status"] == 404
    assert response.headers["content-type"] == "text/plain"
    assert response.text == recorded["body"] == "Resource not found."
    assert response.headers["x-api-pool"] == "public"


def test_datacite_doi_is_not_a_crossref_work(client: httpx.Client) -> None:
    assert client.get("/works/10.5281/zenodo.1234567").status_code == 404


def test_field_query_on_work_route_is_400(client: httpx.Client) -> None:
    response = client.get(f"/works/{PLOS}", params={"query.author": "carl boettiger"})
    assert response.status_code == 400
    recorded = recorded_exchange("?query.author=carl+boettiger")
    assert response.json() == recorded["body"]


def test_mailto_is_allowed_on_work_route(client: httpx.Client) -> None:
    response = client.get(f"/works/{PLOS}", params={"mailto": "editor@example.org"})
    assert response.status_code == 200
    assert response.headers["x-api-pool"] == "polite"


def test_constructed_retraction_records(client: httpx.Client) -> None:
    retracted = client.get("/works/10.5555/evidence-cli.retracted-publisher").json()["message"]
    (update,) = retracted["updated-by"]
    assert update["type"] == "retraction"
    assert update["source"] == "publisher"
    notice = client.get(f"/works/{update['DOI']}").json()["message"]
    assert notice["title"][0].startswith("Retraction notice to:")
    assert notice["update-to"][0]["DOI"] == "10.5555/evidence-cli.retracted-publisher"
    rw = client.get("/works/10.5555/evidence-cli.retracted-rw").json()["message"]
    assert rw["updated-by"][0]["source"] == "retraction-watch"
    for key, kind in [
        ("withdrawn", "withdrawal"),
        ("concern", "expression_of_concern"),
        ("corrected", "correction"),
    ]:
        message = client.get(f"/works/10.5555/evidence-cli.{key}").json()["message"]
        assert message["updated-by"][0]["type"] == kind
    bare = client.get("/works/10.5555/evidence-cli.no-metadata").json()["message"]
    assert not {"title", "author", "issued", "published", "created"} & bare.keys()


def test_add_record_serves_and_indexes_it(crossref_sim: CrossrefSimulator) -> None:
    crossref_sim.add_record(
        {
            "DOI": "10.5555/Added-In-Test",
            "type": "journal-article",
            "title": ["Zanzibar quokka telemetry"],
        }
    )
    with httpx.Client(base_url=crossref_sim.url) as http:
        assert http.get("/works/10.5555/added-in-test").json()["message"]["type"] == (
            "journal-article"
        )
        found = http.get("/works", params={"query.bibliographic": "quokka telemetry", "rows": 1})
    assert found.json()["message"]["items"][0]["DOI"] == "10.5555/Added-In-Test"


# -- the agency route ---------------------------------------------------------------------------


def test_agency_crossref_for_held_doi(client: httpx.Client) -> None:
    response = client.get(f"/works/{PLOS}/agency")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body = response.json()
    assert body["message-type"] == "work-agency"
    assert body["message"] == {"DOI": PLOS, "agency": {"id": "crossref", "label": "Crossref"}}


def test_agency_for_doi_recorded_only_as_agency_answer(client: httpx.Client) -> None:
    recorded = recorded_exchange("/works/10.1126/science.169.3946.635/agency")
    response = client.get("/works/10.1126/science.169.3946.635/agency")
    assert response.json() == recorded["body"]


def test_agency_datacite_by_prefix(client: httpx.Client) -> None:
    response = client.get("/works/10.48550/arXiv.2101.00001/agency")
    assert response.status_code == 200
    assert response.json()["message"]["agency"] == {"id": "datacite", "label": "DataCite"}


def test_agency_configured_medra(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    crossref_sim.set_agency("10.3280", "mEDRA")
    response = client.get("/works/10.3280/example-1/agency")
    assert response.json()["message"]["agency"] == {"id": "medra", "label": "mEDRA"}


@pytest.mark.parametrize("doi", ["5", "10.1371/notarealdoi", "10.99999/unknown"])
def test_agency_unknown_is_404(client: httpx.Client, doi: str) -> None:
    response = client.get(f"/works/{doi}/agency")
    assert response.status_code == 404
    assert response.text == "Resource not found."


# -- search -------------------------------------------------------------------------------------


def test_search_shape(client: httpx.Client) -> None:
    response = client.get("/works", params={"query": "ecology", "rows": 2})
    assert response.status_code == 200
    body = response.json()
    recorded = recorded_exchange("/works?query=ecology&rows=2")["body"]
    assert body.keys() == recorded.keys()
    assert body["message-type"] == "work-list"
    message = body["message"]
    assert message.keys() == recorded["message"].keys()
    assert message["items-per-page"] == 2
    assert message["query"] == {"start-index": 0, "search-terms": "ecology"}
    assert len(message["items"]) == 2
    assert all(isinstance(item["score"], float) for item in message["items"])
    assert message["total-results"] >= 2
    scores = [item["score"] for item in message["items"]]
    assert scores == sorted(scores, reverse=True)


def test_search_ranks_each_record_first_for_its_own_title(
    crossref_sim: CrossrefSimulator, client: httpx.Client
) -> None:
    held = [crossref_sim.record(doi) for doi in crossref_sim.dois()]
    titled = [record for record in held if record and record.get("title")]
    assert len(titled) > 300
    crossref_sim.enforce = False  # hundreds of list queries: far past the list rate
    for record in titled:
        title = record["title"][0]
        response = client.get("/works", params={"query.bibliographic": title, "rows": 5})
        top = response.json()["message"]["items"][0]
        # Records can share a title (the recorded set has a few, some differing only in case):
        # then any of them.
        same_title = (top.get("title") or [""])[0].casefold() == title.casefold()
        assert top["DOI"] == record["DOI"] or same_title, title


def test_search_full_citation_finds_article_not_its_retraction_notice(
    client: httpx.Client,
) -> None:
    citation = (
        "Marchetti H, Lindqvist T, Okonkwo A. High-dose vitamin D supplementation and fracture "
        "risk in community-dwelling older adults: a randomised controlled trial. "
        "J Constr Clin Test Rec. 2020;41(2):112-121."
    )
    response = client.get("/works", params={"query.bibliographic": citation, "rows": 3})
    items = response.json()["message"]["items"]
    assert items[0]["DOI"] == "10.5555/evidence-cli.retracted-publisher"
    assert items[1]["DOI"] == "10.5555/evidence-cli.retraction-notice-1"


def test_search_returns_poor_matches_too(client: httpx.Client) -> None:
    # Shares a single common word with the held records: Crossref still answers with its best.
    response = client.get(
        "/works", params={"query.bibliographic": "zyxwv qwertz ecology", "rows": 3}
    )
    items = response.json()["message"]["items"]
    assert len(items) == 3
    assert all("ecology" in item["title"][0].lower() for item in items)


def test_search_rows_and_bad_rows(client: httpx.Client) -> None:
    many = client.get("/works", params={"query.bibliographic": "the of and", "rows": 7})
    assert len(many.json()["message"]["items"]) == 7
    bad = client.get("/works", params={"query.bibliographic": "x", "rows": "many"})
    assert bad.status_code == 400
    assert bad.json()["message-type"] == "validation-failure"


# -- pools and limits ---------------------------------------------------------------------------


def test_429_past_the_rate(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=3, concurrency=3, interval=LONG, retry_after=7)
    with httpx.Client(base_url=sim.url) as http:
        statuses = [http.get(f"/works/{PLOS}").status_code for _ in range(5)]
        refused = http.get("/works/10.1371/notarealdoi")
    assert statuses == [200, 200, 200, 429, 429]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "7"
    assert refused.headers["x-rate-limit-limit"] == "3"
    assert refused.headers["x-rate-limit-interval"] == "60s"
    assert refused.headers["content-type"] == "text/plain"
    assert sim.stats.rate_limited == 3
    assert sim.stats.requests == 6


def test_no_retry_after_unless_configured(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=1, interval=LONG)
    with httpx.Client(base_url=sim.url) as http:
        http.get(f"/works/{PLOS}")
        refused = http.get(f"/works/{PLOS}")
    assert refused.status_code == 429
    assert "retry-after" not in refused.headers


def test_not_enforced_only_advertises(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=1, interval=LONG, enforce=False)
    with httpx.Client(base_url=sim.url) as http:
        statuses = {http.get(f"/works/{PLOS}").status_code for _ in range(4)}
    assert statuses == {200}
    assert sim.stats.rate_limited == 0


def test_reset_limits_empties_the_window(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=1, interval=LONG)
    with httpx.Client(base_url=sim.url) as http:
        assert http.get(f"/works/{PLOS}").status_code == 200
        assert http.get(f"/works/{PLOS}").status_code == 429
        sim.reset_limits()
        assert http.get(f"/works/{PLOS}").status_code == 200


def test_429_past_the_concurrency(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=100, concurrency=1)
    sim.add_fault("timeout", seconds=30)  # holds the only slot until woken
    results: list[int | str] = []

    def slow() -> None:
        try:
            results.append(httpx.get(f"{sim.url}/works/{PLOS}", timeout=60).status_code)
        except httpx.HTTPError as error:
            results.append(type(error).__name__)

    worker = threading.Thread(target=slow)
    worker.start()
    wait_until(lambda: sim.in_flight("public") == 1, "the slow request holds the slot")
    refused = httpx.get(f"{sim.url}/works/{PLOS}")
    assert refused.status_code == 429
    assert refused.headers["x-concurrency-limit"] == "1"
    assert sim.stats.rate_limited == 1
    # A refused request holds no slot, and the other pool has its own slots.
    assert sim.in_flight("public") == 1
    polite = httpx.get(f"{sim.url}/works/{PLOS}", params={"mailto": "a@example.org"})
    assert polite.status_code == 200
    sim.wake_sleepers()
    worker.join(timeout=10)
    assert results == [200]
    assert sim.stats.max_in_flight == 2
    assert sim.stats.max_in_flight_by_pool == {"public": 1, "polite": 1}
    assert httpx.get(f"{sim.url}/works/{PLOS}").status_code == 200


def test_sequential_client_is_never_refused_for_concurrency(make_sim: MakeSim) -> None:
    # The slot is released before the answer is written, so a client that waits for each
    # answer can never find its previous request still counted in flight.
    sim = make_sim(rate_limit=10_000, concurrency=1)
    with httpx.Client(base_url=sim.url) as http:
        statuses = {http.get(f"/works/{PLOS}").status_code for _ in range(100)}
    assert statuses == {200}


def test_parallel_requests_never_exceed_concurrency(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=10_000, concurrency=2, latency=0.02)
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        with httpx.Client(base_url=sim.url) as http:
            for _ in range(5):
                code = http.get(f"/works/{PLOS}").status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 30
    assert set(statuses) <= {200, 429}
    assert sim.stats.max_in_flight <= 2
    assert sim.stats.rate_limited == statuses.count(429)


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"mailto": "editor@example.org"}, {}),
        ({}, {"user-agent": "evidence-cli/0.1 (mailto:editor@example.org)"}),
    ],
)
def test_polite_pool(make_sim: MakeSim, params: dict[str, str], headers: dict[str, str]) -> None:
    sim = make_sim(rate_limit=1, polite_rate_limit=2, polite_concurrency=4, interval=LONG)
    with httpx.Client(base_url=sim.url, headers=headers) as http:
        first = http.get(f"/works/{PLOS}", params=params)
        second = http.get(f"/works/{PLOS}", params=params)
        third = http.get(f"/works/{PLOS}", params=params)
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["x-api-pool"] == "polite"
    assert first.headers["x-rate-limit-limit"] == "2"
    assert first.headers["x-concurrency-limit"] == "4"
    # The public pool has its own window.
    public = httpx.get(f"{sim.url}/works/{PLOS}")
    assert public.status_code == 200
    assert public.headers["x-api-pool"] == "public"
    assert [entry.pool for entry in sim.stats.log] == ["polite"] * 3 + ["public"]


def test_list_queries_have_their_own_lower_rate(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit=10, list_rate_limit=1, interval=LONG)
    with httpx.Client(base_url=sim.url) as http:
        first = http.get("/works", params={"query.bibliographic": "ecology", "rows": 1})
        second = http.get("/works", params={"query.bibliographic": "ecology", "rows": 1})
        work = http.get(f"/works/{PLOS}")
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["x-rate-limit-limit"] == "10"  # the same headers as other routes
    assert work.status_code == 200


# -- faults -------------------------------------------------------------------------------------


def test_status_fault_hits_times_then_stops(
    crossref_sim: CrossrefSimulator, client: httpx.Client
) -> None:
    crossref_sim.add_fault("status", times=2, code=503, retry_after=2)
    first = client.get(f"/works/{PLOS}")
    second = client.get(f"/works/{PLOS}")
    third = client.get(f"/works/{PLOS}")
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["retry-after"] == "2"
    assert first.headers["x-api-pool"] == "public"
    assert crossref_sim.stats.rate_limited == 0  # injected, not a limit


def test_fault_match_and_forever(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    crossref_sim.add_fault("status", times=None, match="/agency", code=502)
    for _ in range(3):
        assert client.get(f"/works/{PLOS}/agency").status_code == 502
        assert client.get(f"/works/{PLOS}").status_code == 200
    crossref_sim.clear_faults()
    assert client.get(f"/works/{PLOS}/agency").status_code == 200


def test_injected_429(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    crossref_sim.add_fault("status", code=429, retry_after=1)
    response = client.get(f"/works/{PLOS}")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert "rate limit" in response.text.lower()


def test_timeout_fault(crossref_sim: CrossrefSimulator) -> None:
    crossref_sim.add_fault("timeout", seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{crossref_sim.url}/works/{PLOS}", timeout=0.3)
    crossref_sim.wake_sleepers()
    assert httpx.get(f"{crossref_sim.url}/works/{PLOS}").status_code == 200


def test_reset_fault(crossref_sim: CrossrefSimulator) -> None:
    crossref_sim.add_fault("reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(f"{crossref_sim.url}/works/{PLOS}")
    assert crossref_sim.stats.log[-1].status == 0
    assert httpx.get(f"{crossref_sim.url}/works/{PLOS}").status_code == 200


def raw_get(sim: CrossrefSimulator, path: str) -> tuple[dict[str, str], bytes, bytes]:
    """GET over a bare socket, reading until the server closes: (headers, body, status line)."""
    with socket.create_connection((sim.host, sim.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return headers, body, status.encode()


def test_reset_mid_body_fault(crossref_sim: CrossrefSimulator) -> None:
    crossref_sim.add_fault("reset-mid-body")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{crossref_sim.url}/works/{PLOS}")
    crossref_sim.add_fault("reset-mid-body")
    headers, body, status = raw_get(crossref_sim, f"/works/{PLOS}")
    assert status.startswith(b"HTTP/1.1 200")
    full = int(headers["content-length"])
    assert len(body) == full // 2


def test_malformed_json_fault(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    crossref_sim.add_fault("malformed-json")
    response = client.get(f"/works/{PLOS}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_truncated_json_fault(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    whole = client.get(f"/works/{PLOS}").content
    crossref_sim.add_fault("truncated-json")
    response = client.get(f"/works/{PLOS}")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_html_200_fault(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    crossref_sim.add_fault("html-200")
    response = client.get(f"/works/{PLOS}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


def test_missing_fields_fault(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    crossref_sim.add_fault("missing-fields", times=2)
    message = client.get(f"/works/{PLOS}").json()["message"]
    assert message["DOI"] == PLOS
    assert "title" not in message
    assert "author" not in message
    assert not [k for k, v in message.items() if isinstance(v, dict) and "date-parts" in v]
    items = client.get("/works", params={"query": "ecology", "rows": 3}).json()["message"]["items"]
    assert all("title" not in item and "published" not in item for item in items)
    # The held record itself is untouched.
    assert client.get(f"/works/{PLOS}").json()["message"]["title"]


def test_strip_metadata_leaves_original_alone(crossref_sim: CrossrefSimulator) -> None:
    record = crossref_sim.record("10.5555/evidence-cli.corrected")
    assert record is not None
    stripped = strip_metadata(record)
    assert "issued" in record and "issued" not in stripped
    assert "published-print" not in stripped["journal-issue"]


def test_unknown_fault_kind_is_rejected(crossref_sim: CrossrefSimulator) -> None:
    with pytest.raises(ValueError):
        crossref_sim.add_fault("meteor")


# -- lifecycle and stats ------------------------------------------------------------------------


def test_kill_then_start_rebinds_same_port(crossref_sim: CrossrefSimulator) -> None:
    url = crossref_sim.url
    crossref_sim.add_fault("timeout", seconds=30)
    errors: list[Exception] = []

    def in_flight_request() -> None:
        try:
            httpx.get(f"{url}/works/{PLOS}", timeout=30)
        except httpx.HTTPError as error:
            errors.append(error)

    worker = threading.Thread(target=in_flight_request)
    worker.start()
    wait_until(lambda: crossref_sim.in_flight() == 1, "request in flight")
    crossref_sim.kill()
    worker.join(timeout=10)
    assert len(errors) == 1  # the request under way got no answer
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/works/{PLOS}")
    crossref_sim.start()
    assert crossref_sim.url == url
    assert httpx.get(f"{url}/works/{PLOS}").status_code == 200


def test_stats_and_reset(crossref_sim: CrossrefSimulator, client: httpx.Client) -> None:
    client.get(f"/works/{PLOS}", headers={"user-agent": "probe/1"})
    client.get(f"/works/{PLOS}")
    client.get("/works/10.1371/notarealdoi")
    stats = crossref_sim.stats
    assert stats.requests == 3
    assert stats.by_path[f"/works/{PLOS}"] == 2
    first = stats.log[0]
    assert first.method == "GET"
    assert first.path == f"/works/{PLOS}"
    assert first.pool == "public"
    assert first.status == 200
    assert first.user_agent == "probe/1"
    assert stats.log[2].status == 404
    assert stats.log[0].start <= stats.log[1].start <= stats.log[2].start
    assert stats.statuses() == {200: 2, 404: 1}
    crossref_sim.reset_stats()
    assert (stats.requests, stats.rate_limited, len(stats.log), stats.max_in_flight) == (0, 0, 0, 0)


def test_evidence_env(
    evidence_env: dict[str, str], crossref_sim: CrossrefSimulator, tmp_path: Path
) -> None:
    assert evidence_env["EVIDENCE_CROSSREF_URL"] == crossref_sim.url
    assert Path(evidence_env["EVIDENCE_CACHE_DIR"]).is_dir()
    assert Path(evidence_env["EVIDENCE_REVIEWS_DIR"]).is_relative_to(tmp_path)
    assert not {"EVIDENCE_MAILTO", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"} & evidence_env.keys()


def test_standalone_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.simulator", "--port", "0", "--rate", "50"],
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first_line)
        assert url, first_line
        response = httpx.get(f"{url.group(0)}/works/{PLOS}")
        assert response.status_code == 200
        assert response.headers["x-rate-limit-limit"] == "50"
    finally:
        # Whatever failed above, the simulator never outlives the test (issue 14: a failure
        # here used to leave it running).
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            if process.stdout is not None:
                process.stdout.close()
    assert code == 0


def test_requested_port_in_use_is_an_error_not_another_port(
    crossref_sim: CrossrefSimulator,
) -> None:
    # A benchmark asking for a port must not silently get a different one.
    with pytest.raises(OSError):
        CrossrefSimulator(port=crossref_sim.port).start()
