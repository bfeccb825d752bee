"""Merging a build's parts into the snapshot's tables with DuckDB: the newest version of a DOI.

The works table is Parquet in `works/`, one file per DOI-hash bucket, sorted by DOI within it;
references and retraction notices keep only the rows of the versions that won. Every table is
written to a temporary name and renamed into place.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError

if TYPE_CHECKING:
    from evidence_cli.snapshot.index import IndexWriter

# Columns of the parts' works rows that only the lookup and search index uses (read by it from
# the parts themselves, so the works sort does not carry them: #18).
_INDEX_ONLY = "search_title, search_rest, packed"


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


def finalize(out: Path, *, source: str, date: str | None, memory_limit: str = "1GB",
             index: IndexWriter | None = None) -> dict[str, Any]:
    """Merge the parts: newest version of each DOI wins; works by bucket sorted by DOI; the
    lookup and search index finished meanwhile, in a thread, from the parts (`index`: the one
    the build has been writing while it read, else a new one). Returns the manifest (without
    the build's own figures)."""
    from evidence_cli.snapshot.index import IndexWriter
    from evidence_cli.snapshot.manifest import read_manifest

    parts = out / layout.PARTS
    if not any(parts.glob("w-*.parquet")):
        if index is not None:
            index.abort()
        raise InputError(str(out), "no work records were read: nothing to build")
    index = index or IndexWriter(out)
    try:
        merged = _merge(out, parts, memory_limit, index)
    except BaseException:
        index.abort()
        raise
    count, buckets, ref_count, notice_count, latest = merged
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


def _merge(out: Path, parts: Path, memory_limit: str, index: IndexWriter
           ) -> tuple[int, int, int, int, Any]:
    """The tables, and the index finished beside them; returns the counts of works, buckets,
    references and notices, and the newest deposit date."""
    def read(kind: str, numbered: bool = False) -> str:
        extra = ", filename = true, file_row_number = true" if numbered else ""
        return f"read_parquet('{parts}/{kind}-*.parquet'{extra})"

    conn = _connect(out, memory_limit)
    try:
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
        dropped: dict[str, set[int]] = {}
        for filename, row in conn.execute("SELECT * FROM losers").fetchall():
            dropped.setdefault(Path(filename).name, set()).add(int(row))
        # The index is one SQLite writer (FTS5 tokenizing on one core): what is left of it runs
        # beside DuckDB's merge, which has the other core(s), instead of after it (#18).
        indexer = _Indexer(index, sorted(parts.glob("w-*.parquet")), dropped)
        indexer.start()
        try:
            tables = _tables(conn, out, read, bool(dropped))
        except BaseException:
            indexer.cancel()
            raise
        finally:
            indexer.join()
        indexer.result()
        return tables
    finally:
        conn.close()
        _clear(parts / "duckdb-tmp")


def _tables(conn: Any, out: Path, read: Callable[..., str], dropped: bool
            ) -> tuple[int, int, int, int, Any]:
    import concurrent.futures as futures

    count = int(conn.execute(f"SELECT count(DISTINCT doi) FROM {read('w')}").fetchall()[0][0])
    buckets = buckets_for(count)
    # Every reference row belongs to a works row of its part (same DOI and seq): with no version
    # dropped, all are kept and no join is needed. Not sorted: every reader joins or groups
    # them, and sorting millions of rows was most of the merge (#18).
    kept = "SEMI JOIN works w ON r.citing_doi = w.doi AND r.seq = w.seq" if dropped else ""
    references = f"SELECT r.* EXCLUDE (seq) FROM {read('r')} r {kept}"
    # DuckDB compresses a Parquet row group on one thread: the files are written side by side,
    # each from its own cursor, the references from the start when they need no works (#18).
    with futures.ThreadPoolExecutor(2) as pool:
        refs = None if dropped else pool.submit(_copy, conn.cursor(), out / layout.REFERENCES,
                                                references)
        # Kept in the sorted order the table is written in: each bucket's rows are then copied
        # out sorted without sorting them again (DuckDB keeps the order of a filtered scan
        # while preserve_insertion_order is on).
        conn.execute("SET SESSION preserve_insertion_order = true")
        # With no version dropped (a build not resumed over changed data), every row is kept:
        # no anti join, nor the file names and row numbers it needs (half the time, #18).
        works = (f"{read('w', True)} ANTI JOIN losers USING (filename, file_row_number)"
                 if dropped else read('w'))
        numbering = "filename, file_row_number, " if dropped else ""
        conn.execute(f"""
            CREATE TABLE works AS
            SELECT (h % {buckets})::INTEGER AS bucket,
                   * EXCLUDE (h, version, {numbering}{_INDEX_ONLY})
            FROM {works}
            ORDER BY bucket, doi""")
        conn.execute("SET SESSION preserve_insertion_order = false")
        if refs is None:
            refs = pool.submit(_copy, conn.cursor(), out / layout.REFERENCES, references)
        works_dir = out / "works"
        staging = out / ".works.tmp"
        _clear(staging)
        staging.mkdir()
        copies = [pool.submit(_copy_bucket, conn.cursor(), bucket,
                              staging / f"b-{bucket:04d}.parquet") for bucket in range(buckets)]
        notice_count = _copy(conn, out / layout.RETRACTIONS, f"""
            SELECT DISTINCT x.doi, x.notice_doi, x.type, x.label, x.source, x.date,
                   x.date_precision
            FROM {read('x')} x
            SEMI JOIN works w ON x.source_doi = w.doi AND x.seq = w.seq
            ORDER BY doi, notice_doi, type""")
        latest = conn.execute("SELECT max(deposited) FROM works").fetchall()[0][0]
        for copy in copies:
            copy.result()
        ref_count = refs.result()
    _swap(staging, works_dir)
    return count, buckets, ref_count, notice_count, latest


def _copy_bucket(cursor: Any, bucket: int, target: Path) -> None:
    """One works file. DuckDB's row groups (~120,000 rows, so one a bucket): the 2,048-row
    groups once meant for DOI lookups on these files (which the SQLite index answers now) made
    them a third larger and their writing twice as slow (#18)."""
    try:
        cursor.execute("SET SESSION preserve_insertion_order = true")
        cursor.execute(f"""
            COPY (SELECT * EXCLUDE (bucket) FROM works WHERE bucket = {bucket})
            TO '{target}' (FORMAT parquet, COMPRESSION zstd)""")
    finally:
        cursor.close()


class _Indexer(threading.Thread):
    """Finishes the lookup and search index in a thread while DuckDB merges the tables: the
    works parts not in it yet go in (but for the rows of versions that lost), the losing rows
    of parts in it already come out, and the file is finished."""

    def __init__(self, index: IndexWriter, files: list[Path], dropped: dict[str, set[int]]
                 ) -> None:
        super().__init__(name="snapshot-index", daemon=True)
        self.index, self.files, self.dropped = index, files, dropped
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def cancel(self) -> None:
        self.stop.set()

    def run(self) -> None:
        try:
            for path in self.files:
                if self.stop.is_set():
                    raise _Cancelled
                rows = self.dropped.get(path.name, set())
                if path.name not in self.index.placed:
                    self.index.add_part(path, rows)
                elif rows:
                    self.index.drop(path, rows)
            if self.stop.is_set():
                raise _Cancelled
            self.index.finish()
        except BaseException as error:  # re-raised by result(), in the merging thread
            self.index.abort()
            self.error = error

    def result(self) -> None:
        if self.error is not None:
            raise self.error


class _Cancelled(Exception):
    """The merge failed: the index is abandoned (its temporary file removed)."""


def _copy(conn: Any, target: Path, query: str) -> int:
    """Write a query's rows to a Parquet file; returns how many. (COPY answers the count: the
    file's footer is not read back with pyarrow, which the build's main process then never
    imports, nor numpy with it: ~0.2 CPU-s, #18.)"""
    temp = target.with_name(f".{target.name}.tmp")
    written = conn.execute(f"COPY ({query}) TO '{temp}' (FORMAT parquet, COMPRESSION zstd)"
                           ).fetchall()
    os.replace(temp, target)
    return int(written[0][0])


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
