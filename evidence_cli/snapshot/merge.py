"""Merging a build's parts into the snapshot's tables with DuckDB: the newest version of a DOI.

The works table is Parquet in `works/`, one file per DOI-hash bucket; the references table is
the units' reference parts, linked into `references/`; references and retraction notices keep
only the rows of the versions that won. Every table is written under a temporary name and
renamed into place.
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
    """Merge the parts: newest version of each DOI wins; works by DOI-hash bucket; the
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
            tables = _tables(conn, out, parts, read, dropped)
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


def _tables(conn: Any, out: Path, parts: Path, read: Callable[..., str],
            dropped: dict[str, set[int]]) -> tuple[int, int, int, int, Any]:
    count = int(conn.execute(f"SELECT count(DISTINCT doi) FROM {read('w')}").fetchall()[0][0])
    buckets = buckets_for(count)
    # With no version dropped (a build not resumed over changed data), every row is kept:
    # no anti join, nor the file names and row numbers it needs (half the time, #18).
    works = (f"{read('w', True)} ANTI JOIN losers USING (filename, file_row_number)"
             if dropped else read('w'))
    columns = f"* EXCLUDE (h, version, {'filename, file_row_number, ' if dropped else ''}" \
              f"{_INDEX_ONLY})"
    staging = out / ".works.tmp"
    _clear(staging)
    staging.mkdir()
    # Each bucket's works in one pass over the parts, written as they stream by, unsorted
    # within the bucket: a DOI lookup reads one bucket's file (of one row group, so a sort by
    # DOI within it let no lookup skip anything), and sorting the records first, then copying
    # each bucket out, was half the merge at 1M works (#18).
    by_bucket = staging / "by-bucket"
    conn.execute(f"""
        COPY (SELECT (h % {buckets})::INTEGER AS bucket, {columns} FROM {works})
        TO '{by_bucket}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (bucket))""")
    _flatten_buckets(by_bucket, staging)
    if not any(staging.glob("*.parquet")):  # no works at all: one empty file
        conn.execute(f"COPY (SELECT {columns} FROM {works} LIMIT 0) "
                     f"TO '{staging / 'b-0000.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    ref_count = _references(conn, out, parts, dropped)
    # A notice's row belongs to a works row of its part (same source DOI and seq): with no
    # version dropped, all are kept.
    kept = (f"SEMI JOIN (SELECT doi, seq FROM {works}) w ON x.source_doi = w.doi "
            "AND x.seq = w.seq" if dropped else "")
    notice_count = _copy(conn, out / layout.RETRACTIONS, f"""
        SELECT DISTINCT x.doi, x.notice_doi, x.type, x.label, x.source, x.date,
               x.date_precision
        FROM {read('x')} x {kept}
        ORDER BY doi, notice_doi, type""")
    latest = conn.execute(f"SELECT max(deposited) FROM {works}").fetchall()[0][0]
    _swap(staging, out / "works")
    return count, buckets, ref_count, notice_count, latest


def _flatten_buckets(written: Path, staging: Path) -> None:
    """DuckDB's `bucket=K/data_N.parquet` as `b-KKKK.parquet` (`b-KKKK-N` past a bucket's
    first file) in the works folder itself."""
    for folder in sorted(written.glob("bucket=*")) if written.is_dir() else ():
        bucket = int(folder.name.split("=", 1)[1])
        for number, path in enumerate(sorted(folder.glob("*.parquet"))):
            suffix = f"-{number}" if number else ""
            os.replace(path, staging / f"b-{bucket:04d}{suffix}.parquet")
    _clear(written)


def _references(conn: Any, out: Path, parts: Path, dropped: dict[str, set[int]]) -> int:
    """The references table: the units' reference parts themselves, linked into its folder
    (copying 20M references into one file was a third of the merge at 1M works, #18); a part
    whose unit lost a version to a newer unit is written again without that version's rows.
    Returns the count of rows."""
    staging = out / ".references.tmp"
    _clear(staging)
    staging.mkdir()
    for part in sorted(parts.glob("r-*.parquet")):
        works_part = part.with_name("w-" + part.name[2:])
        if dropped.get(works_part.name):
            # Every reference row belongs to a works row of its own part (same DOI and seq).
            _copy(conn, staging / part.name, f"""
                SELECT r.* FROM read_parquet('{part}') r
                SEMI JOIN (SELECT doi, seq
                           FROM read_parquet('{works_part}', filename = true,
                                             file_row_number = true)
                           ANTI JOIN losers USING (filename, file_row_number)) w
                     ON r.citing_doi = w.doi AND r.seq = w.seq""")
        else:
            _link(part, staging / part.name)
    count = 0
    if any(staging.glob("*.parquet")):
        count = int(conn.execute(  # (from the files' footers)
            f"SELECT count(*) FROM read_parquet('{staging}/*.parquet')").fetchall()[0][0])
    _swap(staging, out / layout.REFERENCES)
    (out / layout.REFERENCES_V1).unlink(missing_ok=True)  # an older snapshot's file, updated
    return count


def _link(source: Path, target: Path) -> None:
    """A hard link, so no byte is copied (the part and the table then share a file that
    neither changes: a unit read again gets new files), else a copy."""
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


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
