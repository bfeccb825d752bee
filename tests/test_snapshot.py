"""The local Crossref snapshot: build (layouts, resume), check --snapshot (same verdicts as the
API), snapshot update (from-update-date with cursor paging), and the bulk audit on both engines.

Snapshots here are built from the simulator's own fixture records (tests/fixtures/crossref:
recorded works.jsonl and constructed.jsonl). The citing works of the bulk-audit tests are
constructed in this file (DOIs under 10.5555/constructed-): they are not recorded data.
"""

from __future__ import annotations

import asyncio
import copy
import glob
import gzip
import io
import itertools
import json
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from evidence_cli.services.snapshot import Snapshot
from evidence_cli.snapshot import build as builder
from tests.conftest import RunEvidence
from tests.simulator import CrossrefSimulator

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "crossref" / "works.jsonl"
CONSTRUCTED = FIXTURES / "crossref" / "constructed.jsonl"
BIBLIOGRAPHY = [FIXTURES / "bib" / name for name in
                ("codes.bib", "clean.bib", "warnings.bib", "lines.txt", "paragraphs.txt")]
BIBLIOGRAPHY.append(FIXTURES / "documents" / "library-export.ris")


def _messages(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["message"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _works(path: Path) -> list[dict[str, Any]]:
    return [m for m in _messages(path) if "type" in m or "title" in m]


def _data_file_tar(path: Path, works: list[dict[str, Any]], per_file: int) -> None:
    """Works in the public data file's layout: a tar of gzipped {"items": [...]} files."""
    with tarfile.open(path, "w") as archive:
        for number, start in enumerate(range(0, len(works), per_file)):
            body = gzip.compress(json.dumps({"items": works[start:start + per_file]}).encode())
            info = tarfile.TarInfo(f"crossref/{number}.json.gz")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))


@pytest.fixture(scope="module")
def fixture_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("snap") / "snapshot"
    builder.build([RECORDED, CONSTRUCTED], out, source="test fixtures")
    return out


def test_build_reads_the_data_file_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from evidence_cli.snapshot import merge

    monkeypatch.setattr(merge, "buckets_for", lambda count: 4)  # (50,000 works a bucket)
    works = _works(RECORDED) + _works(CONSTRUCTED)
    tar = tmp_path / "data.tar"
    _data_file_tar(tar, works, per_file=100)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "0.jsonl.gz").write_bytes(gzip.compress(
        "\n".join(json.dumps(w) for w in works[:50]).encode()))
    manifest = builder.build([tar, folder], tmp_path / "snap", source="test", date="2026-07-01")
    assert manifest["counts"]["works"] == len({w["DOI"].lower() for w in works})
    assert manifest["counts"]["references"] == sum(len(w.get("reference") or [])
                                                   for w in works)
    # Notices both ways: the three retracted/withdrawn works, each named twice, count once.
    assert manifest["counts"]["retraction_notices"] == 3
    assert manifest["date"] == "2026-07-01" and manifest["source"] == "test"
    assert manifest["build"]["units_read"] == 6  # 5 members of the tar + 1 file
    snap = Snapshot(tmp_path / "snap")
    try:
        record = snap.records(["10.1371/JOURNAL.PONE.0033693"])["10.1371/journal.pone.0033693"]
        assert "reference" not in record and record["DOI"].lower() == "10.1371/journal.pone.0033693"
        hits = snap.search("Halvorsen 2021 Metformin and cognitive decline in older adults")
        assert hits[0]["DOI"] == "10.5555/evidence-cli.clean"
    finally:
        snap.close()
    import pyarrow.parquet as pq

    # Each works file holds one DOI-hash bucket, as the manifest says (#18: unsorted within).
    buckets = manifest["works_buckets"]
    assert buckets == 4
    held = []
    for part in (tmp_path / "snap" / "works").glob("*.parquet"):
        bucket = int(part.name.split("-")[1].split(".")[0])
        dois = pq.read_table(part, columns=["doi"]).column(0).to_pylist()
        assert {zlib.crc32(doi.encode("utf-8")) % buckets for doi in dois} <= {bucket}
        held += dois
    assert sorted(held) == sorted({w["DOI"].lower() for w in works})
    references = pq.read_table(tmp_path / "snap" / "references").num_rows
    assert references == manifest["counts"]["references"] > 0


def test_a_killed_build_resumes_where_it_stopped(tmp_path: Path) -> None:
    works = _works(RECORDED)
    good, bad = tmp_path / "in" / "a.json.gz", tmp_path / "in" / "b.json.gz"
    good.parent.mkdir()
    good.write_bytes(gzip.compress(json.dumps({"items": works[:200]}).encode()))
    bad.write_bytes(gzip.compress(b'{"items": [') [:-8])  # a truncated download
    with pytest.raises(builder.InputError):
        builder.build([good.parent], tmp_path / "snap")
    assert len((tmp_path / "snap" / "parts" / "done.txt").read_text().splitlines()) == 1
    bad.write_bytes(gzip.compress(json.dumps({"items": works[200:]}).encode()))
    manifest = builder.build([good.parent], tmp_path / "snap")
    assert manifest["build"]["units_skipped"] == 1 and manifest["build"]["units_read"] == 1
    assert manifest["counts"]["works"] == len({w["DOI"].lower() for w in works})


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_doi_in_two_units_is_held_once_newest_version(tmp_path: Path, jobs: int) -> None:
    """Each unit's works enter the index as the unit is read (#18): a DOI that comes again in a
    later unit, as a newer version, must leave only that version in the index and the tables,
    as in a folder where an older copy of a data file sits beside the new one."""
    import pyarrow.parquet as pq

    works = _works(RECORDED)[:40]
    folder = tmp_path / "in"
    folder.mkdir()
    old = copy.deepcopy(works[5])
    old["indexed"] = {"timestamp": 1}
    old["title"] = ["Zyxwvut quorble version that lost"]
    new = copy.deepcopy(works[5])
    new["indexed"] = {"timestamp": 2}
    new["title"] = ["Zyxwvut quorble version that won"]
    old["reference"] = [{"key": "lost", "unstructured": "A reference only the old version cites"}]
    new["reference"] = [{"key": "won", "unstructured": "A reference the new version cites"}]
    (folder / "a.json.gz").write_bytes(gzip.compress(json.dumps(
        {"items": [*works[:5], old, *works[6:20]]}).encode()))
    (folder / "b.json.gz").write_bytes(gzip.compress(json.dumps(
        {"items": [new, *works[20:]]}).encode()))
    out = tmp_path / "snap"
    manifest = builder.build([folder], out, jobs=jobs)
    assert manifest["counts"]["works"] == len({w["DOI"].lower() for w in works})
    doi = works[5]["DOI"].lower()
    snap = Snapshot(out)
    try:
        assert snap.records([doi])[doi]["title"] == new["title"]
        assert [hit["title"] for hit in snap.search("Zyxwvut quorble version")] == [new["title"]]
        db = snap._db
        assert db.execute("SELECT count(*) FROM docs").fetchone() == (len(works),)
        assert db.execute("SELECT docs FROM terms WHERE term = 'lost'").fetchall() == []
        assert db.execute("SELECT docs FROM terms WHERE term = 'won'").fetchall() == [(1,)]
    finally:
        snap.close()
    titles = [t for part in (out / "works").glob("*.parquet")
              for d, t in zip(*pq.read_table(part, columns=["doi", "title"]).to_pydict().values(),
                              strict=True) if d == doi]
    assert titles == [new["title"][0]]
    # Its references are the newest version's only; every other work's stay (the first unit's
    # part written again without the lost version's rows, the second's linked as it is).
    references = pq.read_table(out / "references").to_pylist()
    assert [r["key"] for r in references if r["citing_doi"] == doi] == ["won"]
    cited = sum(len(w.get("reference") or []) for w in [*works[:5], new, *works[6:]])
    assert len(references) == manifest["counts"]["references"] == cited


def _verdicts(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["id"], r["status"], r["doi"],
             [(f["code"], f.get("suggestion"), f["message"]) for f in r["findings"]])
            for r in report["references"]]


def test_snapshot_gives_the_same_verdicts_as_the_api(
        run_evidence: RunEvidence, fixture_snapshot: Path, tmp_path: Path,
        evidence_env: dict[str, str], crossref_sim: CrossrefSimulator) -> None:
    api = run_evidence("check", *BIBLIOGRAPHY, "--no-urls", "-f", "json")
    crossref_sim.reset_stats()
    env = {**evidence_env, "EVIDENCE_CACHE_DIR": str(tmp_path / "other-cache")}
    local = run_evidence("check", *BIBLIOGRAPHY, "--no-urls", "-f", "json",
                         "--snapshot", fixture_snapshot, env=env)
    assert api.returncode == local.returncode == 1, local.stderr
    api_report, local_report = json.loads(api.stdout), json.loads(local.stdout)
    assert _verdicts(api_report) == _verdicts(local_report)
    assert "snapshot" not in api_report
    assert local_report["snapshot"]["date"] == "2026-07-19"
    # Only the DOIs the snapshot does not hold went to the API (a 404, then /agency, each).
    searched = [e for e in crossref_sim.stats.log if e.path.startswith("/works?")]
    assert searched == [] and crossref_sim.stats.requests == 4


def test_offline_a_doi_missing_from_the_snapshot_is_unverifiable(
        run_evidence: RunEvidence, tmp_path: Path) -> None:
    builder.build([CONSTRUCTED], tmp_path / "snap")
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a, title={Methylphenidate exposure}, year={2012}, "
                   "doi={10.1371/journal.pone.0033693}}\n"
                   "@article{b, author={Nobody, Ann}, title={A trial that was never registered},"
                   " year={2020}, doi={10.5555/evidence-cli.no-such-record}}\n", encoding="utf-8")
    done = run_evidence("check", bib, "--offline", "--snapshot", tmp_path / "snap",
                        "--no-urls", "-f", "json")
    report = json.loads(done.stdout)
    codes = [[f["code"] for f in r["findings"]] for r in report["references"]]
    assert codes == [["service-unavailable"], ["service-unavailable"]]
    assert "not in the snapshot of" in report["references"][0]["findings"][0]["message"]
    table = run_evidence("check", bib, "--offline", "--snapshot", tmp_path / "snap", "--no-urls",
                         "-f", "markdown")
    assert "Answered from the Crossref snapshot of" in table.stdout


def test_config_file_names_the_snapshot(run_evidence: RunEvidence, tmp_path: Path,
                                        fixture_snapshot: Path) -> None:
    (tmp_path / "evidence.toml").write_text(f'snapshot = "{fixture_snapshot}"\n',
                                            encoding="utf-8")
    done = run_evidence("check", FIXTURES / "bib" / "clean.bib", "--no-urls", "--offline",
                        "-f", "json")
    assert json.loads(done.stdout)["snapshot"]["path"] == str(fixture_snapshot)
    missing = run_evidence("check", FIXTURES / "bib" / "clean.bib", "--snapshot",
                           tmp_path / "nothing-here")
    assert missing.returncode == 3 and "not a snapshot folder" in missing.stderr


def test_simulator_lists_changed_works_with_a_cursor(crossref_sim: CrossrefSimulator) -> None:
    import httpx

    url = f"{crossref_sim.url}/works"
    seen: list[str] = []
    cursor = "*"
    while True:
        body = httpx.get(url, params={"filter": "from-update-date:2026-01-01", "rows": "2",
                                      "cursor": cursor}).json()["message"]
        if not body["items"]:
            break
        seen += [item["DOI"].lower() for item in body["items"]]
        cursor = body["next-cursor"]
    expected = [m["DOI"].lower() for m in _works(RECORDED) + _works(CONSTRUCTED)
                if m.get("deposited", {}).get("date-parts", [[0]])[0] >= [2026, 1, 1]]
    assert seen == sorted(set(expected)) and len(seen) > 2
    bad = httpx.get(url, params={"filter": "from-update-date:2026-01-01", "cursor": "bogus"})
    assert bad.status_code == 400


def test_update_adds_works_changed_since_the_snapshot(
        tmp_path: Path, crossref_sim: CrossrefSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_cli.settings import Settings
    from evidence_cli.snapshot import update

    out = tmp_path / "snap"
    builder.build([CONSTRUCTED], out, date="2026-07-01")
    newer = copy.deepcopy(_works(CONSTRUCTED)[-2])  # the clean record, changed and a new DOI
    newer["DOI"] = "10.5555/constructed-update"
    newer["title"] = ["A record deposited after the snapshot"]
    newer["deposited"] = {"date-parts": [[2026, 8, 1]]}
    crossref_sim.add_record(newer)
    changed = copy.deepcopy(_works(CONSTRUCTED)[0])
    changed["deposited"] = {"date-parts": [[2026, 8, 2]]}
    changed["indexed"] = {"timestamp": 1880000000000}
    changed["volume"] = "99"
    crossref_sim.add_record(changed)
    monkeypatch.setattr(update, "PAGE_ROWS", 1)
    settings = Settings(crossref_url=crossref_sim.url, cache_dir=tmp_path / "cache")
    manifest = update.update(out, settings)
    assert manifest["last_update"]["records_fetched"] >= 2
    assert manifest["date"] == "2026-07-01" and manifest["updated_through"]
    assert any("cursor=" in e.path and "from-update-date" in e.path
               for e in crossref_sim.stats.log)
    snap = Snapshot(out)
    try:
        records = snap.records([newer["DOI"], changed["DOI"]])
        assert records[newer["DOI"]]["title"] == newer["title"]
        assert records[changed["DOI"].lower()]["volume"] == "99"
    finally:
        snap.close()
    # Recorded works deposited since the snapshot's date came too (the simulator holds them).
    recent = [m for m in _works(RECORDED)
              if m.get("deposited", {}).get("date-parts", [[0]])[0] >= [2026, 7, 1]]
    assert manifest["counts"]["works"] == len(_works(CONSTRUCTED)) + 1 + len(recent)


def _citing(doi: str, issued: list[int], cited: list[str | None],
            container: str = "Constructed Journal") -> dict[str, Any]:
    return {"DOI": doi, "type": "journal-article", "title": [f"Constructed citing work {doi}"],
            "container-title": [container], "issued": {"date-parts": [issued]},
            "reference": [{"key": f"r{i}", "DOI": c} if c else
                          {"key": f"r{i}", "unstructured": "Some book, 1999."}
                          for i, c in enumerate(cited)]}


@pytest.fixture(scope="module")
def bulk_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bulk")
    citing = [
        _citing("10.5555/constructed-before", [2021, 1], [
            "10.5555/evidence-cli.retracted-publisher", "10.5555/evidence-cli.clean", None]),
        _citing("10.5555/constructed-after", [2024, 6, 1], [
            "10.5555/evidence-cli.retracted-publisher", "10.5555/evidence-cli.no-such-thing",
            "10.48550/arxiv.1234.5678", "not a doi"], container="Other Journal"),
        _citing("10.5555/constructed-same", [2022], ["10.5555/evidence-cli.retracted-rw"]),
    ]
    data = folder / "constructed-citing.jsonl"
    data.write_text("\n".join(json.dumps(w) for w in citing) + "\n", encoding="utf-8")
    out = folder / "snapshot"
    builder.build([CONSTRUCTED, data], out)
    return out


def _table(out: Path, name: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(sorted(glob.glob(str(out / name / "*.parquet")))).to_pylist()
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_bulk_audit_with_duckdb(run_evidence: RunEvidence, bulk_snapshot: Path,
                                tmp_path: Path) -> None:
    done = run_evidence("bulk", bulk_snapshot, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "# Bulk reference audit" in done.stdout
    retracted = {(r["citing_doi"], r["cited_doi"]): r for r in _table(tmp_path / "out",
                                                                      "retracted")}
    before = retracted[("10.5555/constructed-before", "10.5555/evidence-cli.retracted-publisher")]
    assert before["timing"] == "before" and before["notice_date"] == "2023-05-02"
    assert before["notice_doi"] == "10.5555/evidence-cli.retraction-notice-1"
    assert retracted[("10.5555/constructed-after",
                      "10.5555/evidence-cli.retracted-publisher")]["timing"] == "after"
    # Cited in 2022, retracted in November 2022: the year alone cannot tell.
    assert retracted[("10.5555/constructed-same",
                      "10.5555/evidence-cli.retracted-rw")]["timing"] == "same-period"
    missing = {r["cited_doi"]: r["status"] for r in _table(tmp_path / "out", "missing")}
    assert missing == {"10.5555/evidence-cli.no-such-thing": "not-in-snapshot-crossref-prefix",
                       "10.48550/arxiv.1234.5678": "not-in-snapshot-other-prefix",
                       "not a doi": "malformed"}
    by_journal = {r["journal"]: r for r in _table(tmp_path / "out", "by_journal")}
    assert by_journal["Other Journal"]["missing"] == 3
    assert by_journal["Other Journal"]["retracted"] == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["summary"]
    assert summary["retracted_by_timing"] == {"after": 1, "before": 1, "same-period": 1}


def test_a_snapshot_of_format_v1_is_still_audited(bulk_snapshot: Path, tmp_path: Path) -> None:
    """Format v1 kept the references in one file, references.parquet (v2: a folder of parts'
    links, #18): a snapshot built before still reads, with the same audit."""
    import shutil

    import pyarrow.parquet as pq

    from evidence_cli.snapshot import bulk

    older = tmp_path / "v1"
    shutil.copytree(bulk_snapshot, older)
    references = pq.read_table(older / "references").drop_columns(["seq"])
    shutil.rmtree(older / "references")
    pq.write_table(references, older / "references.parquet")
    manifest = json.loads((older / "manifest.json").read_text())
    (older / "manifest.json").write_text(json.dumps({**manifest,
                                                     "format": "evidence-cli/snapshot/v1"}))
    v1, v2 = bulk.run(older, tmp_path / "a"), bulk.run(bulk_snapshot, tmp_path / "b")
    assert v1["summary"] == v2["summary"] and v1["summary"]["refs"] == references.num_rows > 0
    for name in ("missing", "retracted", "by_journal", "by_year"):
        assert _table(tmp_path / "a", name) == _table(tmp_path / "b", name), name


@pytest.mark.slow
def test_spark_gives_the_same_results_as_duckdb(bulk_snapshot: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (openjdk-17-jre-headless)")
    from evidence_cli.snapshot import bulk

    duck = bulk.run(bulk_snapshot, tmp_path / "duckdb", "duckdb")
    spark = bulk.run(bulk_snapshot, tmp_path / "spark", "spark")
    assert duck["summary"] == spark["summary"] and duck["top_journals"] == spark["top_journals"]
    for name in ("missing", "retracted", "by_journal", "by_year"):
        assert _table(tmp_path / "duckdb", name) == _table(tmp_path / "spark", name), name


def test_snapshot_client_keeps_the_client_interface(fixture_snapshot: Path,
                                                    tmp_path: Path) -> None:
    """A unit check of the service on its own: found locally, the rest through the API client
    (here offline, so unavailable), and the progress callback called once per DOI."""
    from evidence_cli.services.crossref import CrossrefClient
    from evidence_cli.services.session import crossref_options
    from evidence_cli.services.snapshot import SnapshotClient
    from evidence_cli.settings import Settings

    settings = Settings(offline=True, cache_dir=tmp_path)
    ticks: list[int] = []
    api = CrossrefClient(None, crossref_options(settings), None,  # type: ignore[arg-type]
                         on_lookup=lambda: ticks.append(1))
    client = SnapshotClient(Snapshot(fixture_snapshot), api, settings,
                            on_lookup=lambda: ticks.append(1))
    found = asyncio.run(client.get_works(["10.5555/evidence-cli.clean", "10.5555/nope"]))
    assert found["10.5555/evidence-cli.clean"].outcome == "found"
    assert found["10.5555/nope"].outcome == "unavailable" and len(ticks) == 2
    client.snapshot.close()


def test_search_ranks_whenever_more_than_one_work_matches(fixture_snapshot: Path) -> None:
    """Snapshot._best asks for the matches unranked first and skips BM25 when only one work
    (or none) matches: its answer must be the ranked query's, in its order, for words of the
    fixture titles, rare and common, and for conjunctions of them."""
    snapshot = Snapshot(fixture_snapshot)
    db = snapshot._db
    words = [term for (term,) in db.execute("SELECT term FROM terms ORDER BY docs DESC, term")]
    ranked_sql = ("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 3.0, 1.0) "
                  "LIMIT ?")
    queries = [f'"{word}"' for word in words[:30] + words[-30:]]
    queries += [f'"{a}" AND "{b}"' for a, b in itertools.pairwise(words[:31])]
    sizes = set()
    try:
        for match in queries:
            total = db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?",
                               (match,)).fetchone()[0]
            sizes.add(min(total, 2))
            for rows in (1, 5):
                ranked = [doc for (doc,) in db.execute(ranked_sql, (match, rows))]
                assert snapshot._best(match, rows) == ranked, (match, rows)
    finally:
        snapshot.close()
    assert sizes == {0, 1, 2}  # no match, one (ranking skipped), several (ranked)


def test_dates_cached_read_as_before() -> None:
    """date_parts keeps the dates it has read by their parts (#18): asked again, or with equal
    parts of another type, it gives what reading them gives; odd parts are no date."""
    from evidence_cli.snapshot.rows import date_parts

    cases = [([[2019, 5, 7]], ("2019-05-07", 3)), ([[2019.0, 5]], ("2019-05-01", 2)),
             ([[2019, 13, 40]], ("2019-01-01", 1)), ([["2019", None, "2"]], ("2019-02-01", 2)),
             ([[2019, 5, 7, 12]], ("2019-05-07", 3)), ([[[2019], 5]], (None, 0)),
             ([["x"]], (None, 0)), ([[]], (None, 0)), ([], (None, 0)), (None, (None, 0)),
             ({"a": 1}, (None, 0)), ([[0]], (None, 0))]
    for _ in range(2):
        for parts, expected in cases:
            assert date_parts(parts) == expected, parts


def test_fast_decoder_gives_the_generic_rows() -> None:
    """msgspec reads only the fields the rows need and keeps the record's raw JSON: every row
    must equal what the generic path (the whole record parsed) makes of the same bytes, odd
    records included (they fall back to the generic path)."""
    from evidence_cli.snapshot.packing import unpack

    fast = pytest.importorskip("evidence_cli.snapshot.fast")
    from evidence_cli.snapshot.rows import Rows, add_work

    works = _works(RECORDED) + _works(CONSTRUCTED)
    odd = [
        {"DOI": "10.5555/odd.1", "title": ["Odd"], "reference": [1, {"key": 7, "year": 2019}]},
        {"DOI": "10.5555/odd.2", "type": "journal-article", "volume": 12,
         "reference": {"not": "a list"}, "indexed": {"timestamp": 10 ** 30}},
        {"DOI": "10.5555/odd.3", "title": "not a list", "author": [{"family": " Né  Ho "}]},
        {"DOI": 5, "title": ["a DOI that is not a string"]},
        {"DOI": "10.5555/odd.4"},  # no type, no title: an /agency answer
        # An author or a date of another type is read from its raw JSON only when the rows
        # need it: the item then goes to the generic path, the other items stay fast.
        {"DOI": "10.5555/odd.6", "type": "journal-article", "author": ["Ann Other"]},
        {"DOI": "10.5555/odd.7", "title": ["Odd date"], "issued": "2019",
         "published-print": {"date-parts": [[2018, 3]]}},
        {"DOI": "10.5555/odd.8", "type": None, "title": None, "volume": None,
         "author": None, "issued": None},  # present as null: kept in the record
        # References all objects, but with fields that are not strings: the generic path.
        {"DOI": "10.5555/odd.5", "title": ["Odd references"],
         "reference": [{"key": 7, "year": 2019, "DOI": " 10.1/X "},
                       {"journal-title": ["A  list", "B"], "unstructured": None}]},
    ]
    documents = [json.dumps({"items": works + odd}).encode(),
                 json.dumps({"message": works[0]}).encode(), json.dumps(works[1]).encode(),
                 json.dumps({"items": works}).encode()]
    expected = [work for work in works + odd
                if isinstance(work["DOI"], str) and ("type" in work or "title" in work)]
    expected += works[:2] + works

    def comparable(rows: Rows) -> list[Any]:
        return [(*row[:13], json.loads(row[13]), json.loads(unpack(row[14])))
                for row in rows.works] + rows.ref_rows() + rows.notices

    generic, quick = Rows(), Rows()
    for work in expected:
        add_work(generic, work, 1)
    counts = [fast.add_document(quick, document, 1, "test") for document in documents]
    assert counts == [len(works) + 7, 1, 1, len(works)]
    assert comparable(quick) == comparable(generic)
    # A data file of ordinary records is read whole (both decodings at once, #18); one odd
    # record sends the file item by item.
    assert fast._add_items(Rows(), documents[3], 1) == len(works)
    assert fast._add_items(Rows(), documents[0], 1) is None
    assert fast.add_document(quick, b"[1, 2]", 1, "test") is None  # not an object: generic


def test_records_are_packed_with_the_dictionary_and_older_snapshots_still_read() -> None:
    """A record packs into a zstd frame of the shipped dictionary (half zlib's size on real
    records, #18) and unpacks to the same bytes; a record a snapshot packed before (zlib's
    format) still reads; a damaged or foreign frame is refused with a clear error, never read
    into memory unbounded."""
    import zlib

    import zstandard

    from evidence_cli.services.crossref_records import slim_record
    from evidence_cli.snapshot import packing
    from evidence_cli.snapshot.rows import dumps, pack

    for work in _works(RECORDED):
        record = dumps(slim_record(work)).encode("utf-8")
        packed = pack(record)
        assert packed.startswith(packing.ZSTD_MAGIC)
        assert zstandard.get_frame_parameters(packed).dict_id == packing.DICTIONARY_ID
        assert packing.unpack(packed) == record
        assert len(packed) < len(zlib.compress(record, 1))
        assert packing.unpack(zlib.compress(record, 1)) == record
    with pytest.raises(packing.UnreadableRecord, match="damaged"):
        packing.unpack(b"x\x01garbage")
    other = zstandard.ZstdCompressor(dict_data=zstandard.train_dictionary(
        4096, [dumps(w).encode() for w in _works(RECORDED)] * 3, dict_id=12345))
    with pytest.raises(packing.UnreadableRecord, match="another dictionary"):
        packing.unpack(other.compress(b'{"DOI": "10.1/x"}' * 50))
    bomb = zlib.compress(b" " * (packing.MAX_RECORD + 10), 9)
    with pytest.raises(packing.UnreadableRecord, match="larger"):
        packing.unpack(bomb)
    huge = zstandard.ZstdCompressor().compress(b" " * (packing.MAX_RECORD + 10))
    with pytest.raises(packing.UnreadableRecord, match="too large"):
        packing.unpack(huge)
