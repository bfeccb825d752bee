"""Build a snapshot folder from Crossref's public data file layout, streaming and resumable.

Inputs: folders or tar files of `*.json.gz` / `*.jsonl.gz` (each `{"items": [work, ...]}`, or one
work or `{"message": work}` a line), or plain JSONL of records. Each input file (a tar member, a
file, or a chunk of a JSONL file) is one unit: its rows go to Parquet parts in `parts/`, renamed
into place, and then its key is appended to `parts/done.txt`. A killed build starts again where it
stopped: units already in done.txt are skipped. Memory is bounded by one unit (a data-file member
is ~5,000 records) and by DuckDB's memory limit while the tables are merged and sorted.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from evidence_cli import snapshot as layout
from evidence_cli.checks.updates import RETRACTION_TYPES
from evidence_cli.errors import InputError

# A member of the data file is ~5,000 records, ~50 MB of JSON; refuse anything far beyond.
MAX_UNIT_BYTES = 1 << 30
MAX_LINE_BYTES = 64 << 20
JSONL_CHUNK = 50_000  # lines of a plain JSONL file per unit (the resume granularity)
BATCH_ROWS = 10_000  # rows buffered before a Parquet row group is written
MAX_TEXT = 2_000  # characters kept of a reference's unstructured text
DATE_KEYS = ("issued", "published-print", "published-online", "published")
SUFFIXES = (".json.gz", ".jsonl.gz", ".json", ".jsonl")


try:  # orjson (the `snapshot` extra) parses and writes JSON 3-10 times faster than json
    import orjson

    def _loads(data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)  # e.g. integers past 64 bits, which json reads

    def _dumps(value: Any) -> str:
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
except ImportError:  # pragma: no cover - the plain library works, only slower
    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- reading the inputs ---------------------------------------------------------------------


@dataclass(slots=True)
class Unit:
    """One resumable piece of input: its key, its size in input bytes, and where its bytes are:
    a file (`path`) or bytes to load now (`load`: a tar member must be read before the stream
    moves on; a JSONL chunk has been read already)."""

    key: str
    size: int
    name: str
    path: Path | None = None
    load: Callable[[], bytes] | None = None


def unit_works(name: str, path: Path | None, data: bytes | None) -> Iterator[dict[str, Any]]:
    if path is not None:
        with path.open("rb") as handle:
            yield from _member_works(handle, name)
    else:
        yield from _member_works(io.BytesIO(data or b""), name)


def _works_in(obj: Any) -> Iterator[dict[str, Any]]:
    """The work records in one JSON value: {"items": [...]}, {"message": ...} or a work."""
    if not isinstance(obj, dict):
        return
    if isinstance(obj.get("items"), list):
        items = obj["items"]
    elif isinstance(obj.get("message"), dict):
        message = obj["message"]
        items = message["items"] if isinstance(message.get("items"), list) else [message]
    else:
        items = [obj]
    for item in items:
        # An /agency answer (no type, no title) is not a work record.
        if isinstance(item, dict) and isinstance(item.get("DOI"), str) and (
                "type" in item or "title" in item):
            yield item


def _read_capped(handle: IO[bytes], name: str) -> bytes:
    data = handle.read(MAX_UNIT_BYTES + 1)
    if len(data) > MAX_UNIT_BYTES:
        raise InputError(name, f"more than {MAX_UNIT_BYTES >> 20} MB of JSON in one file")
    return data


def _lines(handle: IO[bytes], name: str) -> Iterator[bytes]:
    number = 0
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise InputError(name, f"a line longer than {MAX_LINE_BYTES >> 20} MB", number)
        if line.strip():
            yield line


def _parse(data: bytes, name: str, line: int | None = None) -> Any:
    try:
        return _loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(name, f"not valid JSON: {error}", line) from None


def _member_works(handle: IO[bytes], name: str) -> Iterator[dict[str, Any]]:
    """The works of one data file (a file or a tar member), gzip or not, JSON or JSONL."""
    if name.endswith(".gz"):
        handle = gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[assignment]
    try:
        if name.endswith((".jsonl", ".jsonl.gz")):
            for number, line in enumerate(_lines(handle, name), 1):
                yield from _works_in(_parse(line, name, number))
        else:
            yield from _works_in(_parse(_read_capped(handle, name), name))
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(name, f"cannot read (damaged gzip?): {error}") from None


def _file_unit(path: Path) -> Unit:
    return Unit(f"file:{path.resolve()}", path.stat().st_size, str(path), path=path)


def _jsonl_units(path: Path) -> Iterator[Unit]:
    """A plain JSONL file in chunks of JSONL_CHUNK lines, each its own unit."""
    with path.open("rb") as handle:
        chunk = 0
        while True:
            start = handle.tell()
            lines: list[bytes] = []
            for line in _lines(handle, str(path)):
                lines.append(line)
                if len(lines) >= JSONL_CHUNK:
                    break
            if not lines:
                return
            size = handle.tell() - start
            data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
            # Line numbers in errors count from the chunk's first line.
            name = f"{path} (lines from {chunk * JSONL_CHUNK + 1}).jsonl"
            yield Unit(f"jsonl:{path.resolve()}:{chunk}", size, name,
                       load=lambda data=data: data)  # type: ignore[misc]
            chunk += 1


def _tar_units(path: Path) -> Iterator[Unit]:
    """The data files in a tar, read in one pass (the tar is streamed, never unpacked)."""
    try:
        archive = tarfile.open(path, mode="r|*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as error:
        raise InputError(str(path), f"not a readable tar file: {error}") from None
    with archive:
        try:
            for member in archive:
                if not member.isfile() or not member.name.endswith(SUFFIXES):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                if member.size > MAX_UNIT_BYTES:
                    raise InputError(f"{path}:{member.name}", "a member larger than "
                                     f"{MAX_UNIT_BYTES >> 20} MB")
                yield Unit(f"tar:{path.resolve()}:{member.name}", member.size,
                           f"{path}:{member.name}",
                           load=lambda handle=handle: handle.read())  # type: ignore[misc]
        except tarfile.TarError as error:
            raise InputError(str(path), f"damaged tar file: {error}") from None


def iter_units(sources: Iterable[Path]) -> Iterator[Unit]:
    for source in sources:
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file()
                               and p.name.endswith(SUFFIXES)):
                yield from _path_units(path)
        elif source.is_file():
            yield from _path_units(source)
        else:
            raise InputError(str(source), "no such file or folder")


def _path_units(path: Path) -> Iterator[Unit]:
    name = path.name
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.zst")) or (
            not name.endswith(SUFFIXES) and tarfile.is_tarfile(path)):
        yield from _tar_units(path)
    elif name.endswith(".jsonl"):
        yield from _jsonl_units(path)
    else:
        yield _file_unit(path)


def input_bytes(sources: Iterable[Path]) -> int:
    total = 0
    for source in sources:
        if source.is_dir():
            total += sum(p.stat().st_size for p in source.rglob("*")
                         if p.is_file() and p.name.endswith(SUFFIXES))
        elif source.is_file():
            total += source.stat().st_size
    return total


# -- rows -----------------------------------------------------------------------------------


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def date_of(value: Any) -> tuple[str | None, int]:
    """A Crossref date as ("YYYY-MM-DD", precision): 1 year, 2 month, 3 day; (None, 0)."""
    try:
        parts = [int(p) for p in value["date-parts"][0] if p is not None][:3]
    except (KeyError, IndexError, TypeError, ValueError):
        return None, 0
    if not parts or not 0 < parts[0] < 10000:
        return None, 0
    padded = [*parts, 1, 1][:3]
    if not (1 <= padded[1] <= 12 and 1 <= padded[2] <= 31):
        return f"{parts[0]:04d}-01-01", 1
    return f"{padded[0]:04d}-{padded[1]:02d}-{padded[2]:02d}", len(parts)


def _issued(work: dict[str, Any]) -> tuple[str | None, int]:
    for key in DATE_KEYS:
        date, precision = date_of(work.get(key))
        if date:
            return date, precision
    return None, 0


def search_fields(work: dict[str, Any]) -> tuple[str, str]:
    """(title text, other text) for the search index: the fields Crossref's bibliographic query
    matches, as the simulator documents them (titles; names, container, year, volume, pages)."""
    titles = [str(v) for key in ("title", "subtitle", "short-title")
              for v in work.get(key) or [] if isinstance(v, str)]
    rest = [str(v) for key in ("container-title", "short-container-title")
            for v in work.get(key) or [] if isinstance(v, str)]
    for person in work.get("author") or []:
        if isinstance(person, dict):
            rest.append(str(person.get("family") or person.get("name") or ""))
    date, _ = _issued(work)
    if date:
        rest.append(date[:4])
    for key in ("volume", "issue", "page"):
        if isinstance(work.get(key), str | int):
            rest.append(str(work[key]))
    return " ".join(titles), " ".join(rest)


def _kind(update: dict[str, Any]) -> str:
    return str(update.get("type", "")).lower().replace("-", "_").replace(" ", "_")


def doi_hash(doi: str) -> int:
    """The hash that assigns a DOI to its works bucket (stable across runs and machines)."""
    return zlib.crc32(doi.encode("utf-8"))


@dataclass(slots=True)
class Rows:
    """Row buffers for the three tables of one unit (tuples in the schemas' column order)."""

    works: list[tuple[Any, ...]] = field(default_factory=list)
    refs: list[tuple[Any, ...]] = field(default_factory=list)
    notices: list[tuple[Any, ...]] = field(default_factory=list)


def add_work(rows: Rows, work: dict[str, Any], seq: int) -> None:
    from evidence_cli.services.crossref import slim_record

    doi = work["DOI"].strip().lower()
    issued, precision = _issued(work)
    deposited, _ = date_of(work.get("deposited"))
    indexed = work.get("indexed") or {}
    version = indexed.get("timestamp") if isinstance(indexed, dict) else None
    title, rest = search_fields(work)
    rows.works.append((
        doi, doi_hash(doi), seq, version if isinstance(version, int) else 0,
        _first(work.get("type")), _first(work.get("title")), _first(work.get("container-title")),
        doi.split("/", 1)[0], issued, precision, deposited, title, rest,
        _dumps(slim_record(work)),
    ))
    append = rows.refs.append
    for ordinal, ref in enumerate(work.get("reference") or []):
        if not isinstance(ref, dict):
            continue
        cited = ref.get("DOI")
        text = ref.get("unstructured")
        key, year = ref.get("key"), ref.get("year")
        append((
            doi, seq, ordinal, str(key)[:200] if key is not None else None,
            cited.strip().lower() if isinstance(cited, str) and cited.strip() else None,
            text[:MAX_TEXT] if isinstance(text, str) else None,
            str(year)[:20] if year is not None else None,
            _first(ref.get("journal-title")) if "journal-title" in ref else None,
            _first(ref.get("article-title")) if "article-title" in ref else None,
        ))
    # Notices both ways: a retracted work lists them in updated-by; a notice names its target in
    # update-to (the snapshot may hold the notice before the target's record shows it).
    for entries, is_notice in ((work.get("updated-by"), False), (work.get("update-to"), True)):
        for update in entries or []:
            if not isinstance(update, dict) or _kind(update) not in RETRACTION_TYPES:
                continue
            other = update.get("DOI")
            if not isinstance(other, str) or not other.strip():
                continue
            other = other.strip().lower()
            date, date_precision = date_of(update.get("updated"))
            rows.notices.append((
                doi, seq, other if is_notice else doi, doi if is_notice else other,
                _kind(update), _first(update.get("label")), _first(update.get("source")),
                date, date_precision,
            ))


# -- writing parts --------------------------------------------------------------------------


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    string, i64, i32 = pa.string(), pa.int64(), pa.int32()
    return {
        "w": pa.schema([
            ("doi", string), ("h", pa.uint32()), ("seq", i64), ("version", i64),
            ("type", string), ("title", string), ("container", string), ("prefix", string),
            ("issued", string), ("issued_precision", i32), ("deposited", string),
            ("search_title", string), ("search_rest", string), ("record", string),
        ]),
        "r": pa.schema([
            ("citing_doi", string), ("seq", i64), ("ordinal", i32), ("key", string),
            ("cited_doi", string), ("unstructured", string), ("year", string),
            ("journal", string), ("article_title", string),
        ]),
        "x": pa.schema([
            ("source_doi", string), ("seq", i64), ("doi", string), ("notice_doi", string),
            ("type", string), ("label", string), ("source", string), ("date", string),
            ("date_precision", i32),
        ]),
    }


class _PartWriter:
    """Writes one unit's three part files to temporary names; commit() renames them."""

    def __init__(self, parts: Path, key: str) -> None:
        import pyarrow.parquet as pq

        self.schemas = _schemas()
        self.stem = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
        self.final = {kind: parts / f"{kind}-{self.stem}.parquet" for kind in self.schemas}
        self.temp = {kind: parts / f".{kind}-{self.stem}.parquet.tmp" for kind in self.schemas}
        self.writers = {kind: pq.ParquetWriter(self.temp[kind], schema, compression="zstd")
                        for kind, schema in self.schemas.items()}

    def write(self, rows: Rows) -> None:
        import pyarrow as pa

        for kind, table in (("w", rows.works), ("r", rows.refs), ("x", rows.notices)):
            if table:
                schema = self.schemas[kind]
                columns = [pa.array(column, type=column_type.type)
                           for column, column_type in zip(zip(*table, strict=True), schema,
                                                          strict=True)]
                self.writers[kind].write_table(pa.Table.from_arrays(columns, schema=schema))

    def commit(self) -> None:
        for kind, writer in self.writers.items():
            writer.close()
            os.replace(self.temp[kind], self.final[kind])

    def abort(self) -> None:
        for kind, writer in self.writers.items():
            with contextlib.suppress(Exception):
                writer.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp[kind])


@dataclass(slots=True)
class BuildStats:
    units: int = 0
    skipped_units: int = 0
    records: int = 0
    seconds: float = 0.0


def write_unit(parts: Path, key: str, works: Iterable[dict[str, Any]], seq: int, *,
               mark: bool = True) -> int:
    """Write one unit's parts and (unless `mark` is false) mark it done; returns the number of
    records."""
    writer = _PartWriter(parts, key)
    count = 0
    rows = Rows()
    try:
        for work in works:
            add_work(rows, work, seq)
            count += 1
            if count % BATCH_ROWS == 0:
                writer.write(rows)
                rows = Rows()
        writer.write(rows)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    if mark:
        _mark_done(parts, key)
    return count


def _unit_job(parts: Path, key: str, name: str, path: Path | None, data: bytes | None,
              seq: int) -> int:
    """One unit in a worker process (the parent marks it done when it returns)."""
    return write_unit(parts, key, unit_works(name, path, data), seq, mark=False)


def _done_keys(parts: Path) -> set[str]:
    path = parts / "done.txt"
    if not path.exists():
        return set()
    return {line for line in path.read_text(encoding="utf-8").splitlines() if line}


def _mark_done(parts: Path, key: str) -> None:
    # One short line appended and synced: a kill can at worst tear this line, which then
    # matches no key, and the unit is redone (its parts are simply replaced).
    with (parts / "done.txt").open("a", encoding="utf-8") as handle:
        handle.write(key.replace("\n", " ") + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def build(
    sources: list[Path],
    out: Path,
    *,
    source: str | None = None,
    date: str | None = None,
    memory_limit: str = "1GB",
    jobs: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Read every unit not yet done into parts (in `jobs` processes), then merge them into the
    tables; returns the manifest."""
    parts = out / layout.PARTS
    parts.mkdir(parents=True, exist_ok=True)
    done = _done_keys(parts)
    stats = BuildStats()
    started = time.perf_counter()
    progress = on_progress or (lambda size: None)
    if jobs <= 1:
        for unit in iter_units(sources):
            if unit.key in done:
                stats.skipped_units += 1
            else:
                data = unit.load() if unit.load is not None else None
                stats.records += write_unit(parts, unit.key,
                                            unit_works(unit.name, unit.path, data),
                                            time.time_ns())
                stats.units += 1
            progress(unit.size)
    else:
        _build_parallel(sources, parts, done, stats, jobs, progress)
    label = source or ", ".join(str(s) for s in sources)
    manifest = finalize(out, source=label, date=date, memory_limit=memory_limit)
    stats.seconds = time.perf_counter() - started
    manifest["build"] = {"units_read": stats.units, "units_skipped": stats.skipped_units,
                         "records_read": stats.records, "seconds": round(stats.seconds, 2)}
    write_manifest(out, manifest)
    return manifest


def _build_parallel(sources: list[Path], parts: Path, done: set[str], stats: BuildStats,
                    jobs: int, progress: Callable[[int], None]) -> None:
    """Units in worker processes, at most 2 x jobs in flight (memory stays bounded)."""
    import concurrent.futures as futures
    import multiprocessing

    pending: dict[futures.Future[int], Unit] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB

    def settle(wait_all: bool) -> None:
        finished, _ = futures.wait(pending, return_when=(
            futures.ALL_COMPLETED if wait_all else futures.FIRST_COMPLETED))
        for future in finished:
            unit = pending.pop(future)
            stats.records += future.result()  # a failed unit raises here
            _mark_done(parts, unit.key)
            stats.units += 1
            progress(unit.size)

    with futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        try:
            for unit in iter_units(sources):
                if unit.key in done:
                    stats.skipped_units += 1
                    progress(unit.size)
                    continue
                data = unit.load() if unit.load is not None else None
                pending[pool.submit(_unit_job, parts, unit.key, unit.name, unit.path, data,
                                    time.time_ns())] = unit
                if len(pending) >= 2 * jobs:
                    settle(False)
            while pending:
                settle(False)
        except BaseException:
            for future in pending:
                future.cancel()
            raise


# -- merging --------------------------------------------------------------------------------


def _connect(out: Path, memory_limit: str) -> Any:
    import duckdb

    temp = out / layout.PARTS / "duckdb-tmp"
    temp.mkdir(exist_ok=True)
    conn = duckdb.connect(str(out / layout.PARTS / "merge.duckdb"))
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
    """Merge the parts: newest version of each DOI wins; works by bucket sorted by DOI."""
    parts = out / layout.PARTS
    if not any(parts.glob("w-*.parquet")):
        raise InputError(str(out), "no work records were read: nothing to build")
    conn = _connect(out, memory_limit)
    try:
        glob = lambda kind: f"'{parts}/{kind}-*.parquet'"  # noqa: E731
        conn.execute(f"""
            CREATE OR REPLACE TABLE winners AS
            SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY doi ORDER BY version DESC, seq DESC) AS rn
                FROM read_parquet({glob('w')}))
            WHERE rn = 1""")
        count = conn.execute("SELECT count(*) FROM winners").fetchall()[0][0]
        buckets = buckets_for(count)
        conn.execute(f"""
            CREATE OR REPLACE TABLE works AS
            SELECT (h % {buckets})::INTEGER AS bucket, * EXCLUDE (h, version)
            FROM winners ORDER BY bucket, doi""")
        works_dir = out / "works"
        staging = out / ".works.tmp"
        _clear(staging)
        staging.mkdir()
        for bucket in range(buckets):
            target = staging / f"b-{bucket:04d}.parquet"
            conn.execute(f"""
                COPY (SELECT * EXCLUDE (bucket, search_title, search_rest) FROM works
                      WHERE bucket = {bucket} ORDER BY doi)
                TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)""")
        _swap(staging, works_dir)
        ref_count = _copy(conn, out / layout.REFERENCES, f"""
            SELECT r.* EXCLUDE (seq) FROM read_parquet({glob('r')}) r
            SEMI JOIN winners w ON r.citing_doi = w.doi AND r.seq = w.seq
            ORDER BY citing_doi, ordinal""")
        notice_count = _copy(conn, out / layout.RETRACTIONS, f"""
            SELECT DISTINCT x.doi, x.notice_doi, x.type, x.label, x.source, x.date,
                   x.date_precision
            FROM read_parquet({glob('x')}) x
            SEMI JOIN winners w ON x.source_doi = w.doi AND x.seq = w.seq
            ORDER BY doi, notice_doi, type""")
        latest = conn.execute("SELECT max(deposited) FROM winners").fetchall()[0][0]
        _build_search(conn, out)
        conn.execute("DROP TABLE winners")
        conn.execute("DROP TABLE works")
    finally:
        conn.close()
        for leftover in (parts / "merge.duckdb", parts / "merge.duckdb.wal"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
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
    temp = target.with_name(f".{target.name}.tmp")
    conn.execute(f"COPY ({query}) TO '{temp}' (FORMAT parquet, COMPRESSION zstd)")
    os.replace(temp, target)
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(target).metadata.num_rows)


def _clear(path: Path) -> None:
    import shutil

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


def add_term_table(db: Any) -> None:
    """How many works hold each term, keyed by term: fts5vocab answers `term IN (...)` by
    scanning the whole vocabulary (27 ms on 200,000 works), this table in microseconds."""
    db.execute("DROP TABLE IF EXISTS terms")
    db.execute("CREATE TABLE terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("INSERT INTO terms SELECT term, doc FROM vocab")
    db.commit()


def _build_search(conn: Any, out: Path) -> None:
    """The lookup index: DOI -> compressed record, and FTS5 over titles and the other fields."""
    import sqlite3

    target = out / layout.SEARCH
    temp = target.with_name(f".{target.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    db = sqlite3.connect(temp)
    try:
        # A new file renamed into place when whole: no need to sync, but keep a rollback journal
        # (in memory): with journal_mode OFF, FTS5's internal savepoints corrupted a 200,000-work
        # index ("database disk image is malformed").
        db.execute("PRAGMA journal_mode = MEMORY")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -65536")  # 64 MB
        db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, doi TEXT NOT NULL UNIQUE, "
                   "record BLOB NOT NULL)")
        db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, rest, content='', "
                   "tokenize='unicode61 remove_diacritics 2')")
        db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row')")
        reader = conn.sql(
            "SELECT doi, search_title, search_rest, record FROM works ORDER BY doi"
        ).to_arrow_reader(50_000)
        next_id = 1
        db.execute("BEGIN")
        for batch in reader:
            dois = batch.column(0).to_pylist()
            titles = batch.column(1).to_pylist()
            rests = batch.column(2).to_pylist()
            records = [zlib.compress(r.encode("utf-8"), 1) for r in batch.column(3).to_pylist()]
            ids = range(next_id, next_id + len(dois))
            next_id += len(dois)
            db.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                           zip(ids, dois, records, strict=True))
            db.executemany("INSERT INTO fts (rowid, title, rest) VALUES (?, ?, ?)",
                           zip(ids, titles, rests, strict=True))
        db.execute("COMMIT")
        db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        add_term_table(db)
        if db.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
            raise InputError(str(target), "the index written is damaged; build again")
    finally:
        db.close()
    os.replace(temp, target)


# -- manifest -------------------------------------------------------------------------------


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / layout.MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(out), "not a snapshot folder (no manifest.json); build one with "
                         "`evidence snapshot build`") from None
    except (OSError, ValueError) as error:
        raise InputError(str(path), f"unreadable manifest: {error}") from None
    if not isinstance(data, dict) or data.get("format") != layout.FORMAT:
        raise InputError(str(path), f"not a snapshot manifest of format {layout.FORMAT}")
    return data


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    from evidence_cli.atomic import write_atomic

    write_atomic(out / layout.MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
