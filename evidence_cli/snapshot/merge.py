"""Merging a build's parts into the snapshot's tables with DuckDB: the newest version of a DOI.

The works table is Parquet in `works/`, one file per DOI-hash bucket, sorted by DOI within it;
references and retraction notices keep only the rows of the versions that won. Every table is
written to a temporary name and renamed into place.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError

# Columns of the parts' works rows that only the build uses.
_BUILD_ONLY = "bucket, search_title, search_rest, packed"


def _connect(out: Path, memory_limit: str) -> Any:
    import duckdb

    temp = out / layout.PARTS / "duckdb-tmp"
    temp.mkdir(exist_ok=True)
    # In memory (spilling to the temporary folder past the limit): nothing merged is worth
    # writing to a database file first.
    conn = duckdb.connect(":memory:")
    conn.execute(f"SET memory_limit = '{memory_limit}'")
    conn.execute(f"SET temp_directory = '{temp}'")
    conn.execute("SET preserve_insertion_order = false")
    return conn


def buckets_for(count: int) -> int:
    """Works files: about 50,000 works each, a power of 2 (engines read them in parallel; the
    DOI -> record lookups of `check --snapshot` use the SQLite index instead)."""
    buckets = 1
    while buckets * 50_000 < count and buckets < 4096:
        buckets *= 2
    return buckets


def finalize(out: Path, *, source: str, date: str | None, memory_limit: str = "1GB"
             ) -> dict[str, Any]:
    """Merge the parts: newest version of each DOI wins; works by bucket sorted by DOI; then
    the lookup and search index. Returns the manifest (without the build's own figures)."""
    from evidence_cli.snapshot.index import build_index
    from evidence_cli.snapshot.manifest import read_manifest

    parts = out / layout.PARTS
    if not any(parts.glob("w-*.parquet")):
        raise InputError(str(out), "no work records were read: nothing to build")
    conn = _connect(out, memory_limit)
    try:
        def read(kind: str, numbered: bool = False) -> str:
            extra = ", filename = true, file_row_number = true" if numbered else ""
            return f"read_parquet('{parts}/{kind}-*.parquet'{extra})"

        # A DOI is in one data file, so once, unless a build was resumed after a change or an
        # update fetched it again: rank only the DOIs seen more than once (reading two narrow
        # columns), and drop every row but each one's newest.
        conn.execute(f"""
            CREATE TABLE losers AS
            SELECT filename, file_row_number FROM (
                SELECT filename, file_row_number, row_number() OVER (
                    PARTITION BY doi ORDER BY version DESC, seq DESC) AS rn
                FROM {read('w', True)}
                WHERE doi IN (SELECT doi FROM {read('w')} GROUP BY doi HAVING count(*) > 1))
            WHERE rn > 1""")
        count = conn.execute(f"SELECT count(DISTINCT doi) FROM {read('w')}").fetchall()[0][0]
        buckets = buckets_for(count)
        conn.execute(f"""
            CREATE TABLE works AS
            SELECT (h % {buckets})::INTEGER AS bucket,
                   * EXCLUDE (h, version, filename, file_row_number)
            FROM {read('w', True)} ANTI JOIN losers USING (filename, file_row_number)
            ORDER BY bucket, doi""")
        works_dir = out / "works"
        staging = out / ".works.tmp"
        _clear(staging)
        staging.mkdir()
        for bucket in range(buckets):
            target = staging / f"b-{bucket:04d}.parquet"
            conn.execute(f"""
                COPY (SELECT * EXCLUDE ({_BUILD_ONLY}) FROM works
                      WHERE bucket = {bucket} ORDER BY doi)
                TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)""")
        _swap(staging, works_dir)
        ref_count = _copy(conn, out / layout.REFERENCES, f"""
            SELECT r.* EXCLUDE (seq) FROM {read('r')} r
            SEMI JOIN works w ON r.citing_doi = w.doi AND r.seq = w.seq
            ORDER BY citing_doi, ordinal""")
        notice_count = _copy(conn, out / layout.RETRACTIONS, f"""
            SELECT DISTINCT x.doi, x.notice_doi, x.type, x.label, x.source, x.date,
                   x.date_precision
            FROM {read('x')} x
            SEMI JOIN works w ON x.source_doi = w.doi AND x.seq = w.seq
            ORDER BY doi, notice_doi, type""")
        latest = conn.execute("SELECT max(deposited) FROM works").fetchall()[0][0]
        build_index(conn.sql("SELECT doi, search_title, search_rest, packed FROM works"
                             ).to_arrow_reader(50_000), out)
    finally:
        conn.close()
        _clear(parts / "duckdb-tmp")
    previous = read_manifest(out) if (out / layout.MANIFEST).exists() else {}
    return {
        "format": layout.FORMAT,
        "source": previous.get("source") or source,
        "date": date or previous.get("date") or latest,
        "updated_through": previous.get("updated_through"),
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "counts": {"works": count, "references": ref_count, "retraction_notices": notice_count},
        "works_buckets": buckets,
        "bucket_hash": "crc32(doi utf-8) % works_buckets",
    }


def _copy(conn: Any, target: Path, query: str) -> int:
    import pyarrow.parquet as pq

    temp = target.with_name(f".{target.name}.tmp")
    conn.execute(f"COPY ({query}) TO '{temp}' (FORMAT parquet, COMPRESSION zstd)")
    os.replace(temp, target)
    return int(pq.ParquetFile(target).metadata.num_rows)


def _clear(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)


def _swap(staging: Path, final: Path) -> None:
    """Put the new works folder in place of the old (two renames; never a half-written one)."""
    old = final.with_name(f".{final.name}.old")
    _clear(old)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    _clear(old)
