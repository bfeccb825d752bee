"""Writing a build's parts: each unit of input becomes three Parquet files, then is marked done.

A unit's rows go to Parquet parts in `parts/` under temporary names, renamed into place, and
then its key is appended to `parts/done.txt`. A killed build starts again where it stopped:
units already in done.txt are skipped. Memory is bounded by one unit (a data-file member is
~5,000 records).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from evidence_cli.gc_pause import gc_paused
from evidence_cli.snapshot.inputs import parse, unit_documents, works_in
from evidence_cli.snapshot.rows import Rows, add_work, schemas

BATCH_ROWS = 10_000  # works buffered before a Parquet row group is written
# The columns of a part whose values repeat within a unit (dictionary-encoded), by kind.
_REPEATING: dict[str, bool | list[str]] = {
    "w": ["seq", "type", "container", "prefix", "issued", "issued_precision", "deposited"],
    "r": ["citing_doi", "seq", "year", "journal"],
}

# A works part's columns the lookup and search index takes, and where they are in its rows:
# DOI, search title, other search text, packed record.
IndexRows = tuple[list[Any], list[Any], list[Any], list[Any]]
_INDEX_COLUMNS = (0, 11, 12, 14)

AddDocument = Callable[[Rows, bytes, int, str], "int | None"]
add_document: AddDocument | None
try:  # msgspec (the `snapshot` extra) reads only the fields the rows need: ~4x faster
    from evidence_cli.snapshot.fast import add_document
except ImportError:  # pragma: no cover - the generic path gives the same rows, only slower
    add_document = None


# A works part's column compressed already (each record for the lookup index): not again.
_COMPRESSED = "packed"
_RECORD = "record"  # a works part's column of records


# A works part is mostly records (~1.4 KB of JSON each), read back once by the merge: LZ4
# writes them in 4/5 and DuckDB reads them in half the time zstd's level 1 takes, for parts a
# fifth larger (#18). References and notices parts keep zstd (little time, more to save).
_LZ4_KINDS = ("w",)


def _compression(kind: str, schema: Any) -> dict[str, str]:
    codec = "LZ4" if kind in _LZ4_KINDS else "ZSTD"
    return {name: "NONE" if name == _COMPRESSED else codec for name in schema.names}


def _compression_level(kind: str, schema: Any) -> dict[str, int] | None:
    if kind in _LZ4_KINDS:
        return None  # (pyarrow takes no level for LZ4)
    return {name: 1 for name in schema.names if name != _COMPRESSED}


def _columns_of(table: list[tuple[Any, ...]]) -> Sequence[Sequence[Any]] | None:
    """The columns of rows, None for no rows."""
    return list(zip(*table, strict=True)) if table else None


def _array(pa: Any, column: Sequence[Any], field: Any) -> Any:
    """One column as an Arrow array. The records (UTF-8 bytes, checked when their rows were
    made) are taken as binary and viewed as strings: decoding them to str for pyarrow to
    encode them again was a twentieth of a unit's time (#18)."""
    if field.name == _RECORD:
        return pa.array(column, type=pa.binary()).view(pa.string())
    return pa.array(column, type=field.type)


def part_path(parts: Path, kind: str, key: str) -> Path:
    """Where a unit's part of one kind is written: w (works), r (references), x (notices)."""
    return parts / f"{kind}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:20]}.parquet"


class _PartWriter:
    """Writes one unit's three part files to temporary names; commit() renames them."""

    def __init__(self, parts: Path, key: str) -> None:
        import pyarrow.parquet as pq

        self.schemas = schemas()
        self.final = {kind: part_path(parts, kind, key) for kind in self.schemas}
        self.temp = {kind: path.with_name(f".{path.name}.tmp")
                     for kind, path in self.final.items()}
        # Parts are read once, by the merge: the lightest compression, and dictionaries only for
        # the columns whose values repeat (for the others, DOIs and texts, building one only to
        # give it up cost a tenth of the writing: #18), and no statistics (the merge reads
        # every row of a part: min and max of each column were a tenth of the writing, #18).
        self.writers = {kind: pq.ParquetWriter(self.temp[kind], schema,
                                               compression=_compression(kind, schema),
                                               compression_level=_compression_level(kind, schema),
                                               use_dictionary=_REPEATING.get(kind, True),
                                               write_statistics=False)
                        for kind, schema in self.schemas.items()}

    def write(self, rows: Rows, index: IndexRows | None = None) -> None:
        """Write a batch of rows; `index`: lists to extend with the works' index columns."""
        import pyarrow as pa

        # Works and notices are rows, references are columns already (Rows).
        for kind, columns in (("w", _columns_of(rows.works)),
                              ("r", rows.refs if rows.ref_count() else None),
                              ("x", _columns_of(rows.notices))):
            if columns is None:
                continue
            schema = self.schemas[kind]
            if kind == "w" and index is not None:
                for column, position in zip(index, _INDEX_COLUMNS, strict=True):
                    column.extend(columns[position])
            arrays = [_array(pa, column, column_type)
                      for column, column_type in zip(columns, schema, strict=True)]
            self.writers[kind].write_table(pa.Table.from_arrays(arrays, schema=schema))

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


def _write(parts: Path, key: str, batches: Iterable[tuple[Rows, int]], mark: bool,
           index: IndexRows | None = None) -> int:
    """Write one unit's parts from its batches of rows (each with its count of works) and
    (unless `mark` is false) mark it done; returns the number of works. `index`: lists to
    extend with the works' index columns, in the part's row order."""
    writer = _PartWriter(parts, key)
    count = 0
    try:
        # The unit's rows left alive as the pause ends go to the oldest generation unwalked:
        # else the first young collection walked them all (~7 ms a unit, #18).
        with gc_paused(promote=True):
            for rows, works in batches:
                writer.write(rows, index)
                count += works
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    if mark:
        mark_done(parts, key)
    return count


def write_unit(parts: Path, key: str, works: Iterable[dict[str, Any]], seq: int, *,
               mark: bool = True) -> int:
    """Write the parts of one unit of parsed work records (an API page, say)."""
    return _write(parts, key, _batches(works, seq), mark)


def _batches(works: Iterable[dict[str, Any]], seq: int) -> Iterator[tuple[Rows, int]]:
    rows, count = Rows(), 0
    for work in works:
        add_work(rows, work, seq)
        count += 1
        if count == BATCH_ROWS:
            yield rows, count
            rows, count = Rows(), 0
    yield rows, count


def _document_batches(name: str, path: Path | None, data: bytes | None, seq: int
                      ) -> Iterator[tuple[Rows, int]]:
    rows, count = Rows(), 0
    for document, line in unit_documents(name, path, data):
        added = add_document(rows, document, seq, name) if add_document is not None else None
        if added is None:  # not for the fast decoder (or none installed): the generic path
            added = 0
            for work in works_in(parse(document, name, line)):
                add_work(rows, work, seq)
                added += 1
        count += added
        if count >= BATCH_ROWS:
            yield rows, count
            rows, count = Rows(), 0
    yield rows, count


def write_file_unit(parts: Path, key: str, name: str, path: Path | None, data: bytes | None,
                    seq: int, *, mark: bool = True) -> int:
    """Write the parts of one unit of input: a data file (`path`) or its bytes (`data`)."""
    return _write(parts, key, _document_batches(name, path, data, seq), mark)


def read_file_unit(parts: Path, key: str, name: str, path: Path | None, data: bytes | None,
                   seq: int) -> tuple[int, IndexRows]:
    """Write the parts of one unit of input, not marked done, and return its works' index
    columns too: the build's main process indexes them straight away, without reading the
    part back (a worker process sends them with its answer: #18)."""
    index: IndexRows = ([], [], [], [])
    return _write(parts, key, _document_batches(name, path, data, seq), False, index), index


# What a build's worker never imports (see worker_start).
_NOT_IN_WORKER = ("pandas", "numpy")


class _NotInWorker:
    """An import finder for which these top-level packages are not installed."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".", 1)[0] in self.names:
            raise ModuleNotFoundError(f"not in a build's worker: {name}", name=name)


def worker_start() -> None:
    """Start a build's worker process without pandas and numpy, which pyarrow imports when
    they are there but does not need for what a worker does (lists into arrays, arrays into
    Parquet). pyarrow's first pa.array imported pandas only to ask whether the list it is given
    is a pandas object (a quarter of a CPU-second per process), and importing pyarrow imported
    numpy, whose OpenBLAS thread then spun before it slept: 0.14 CPU-s a worker (#18)."""
    names = tuple(name for name in _NOT_IN_WORKER if name not in sys.modules)
    if names:
        sys.meta_path.insert(0, _NotInWorker(names))


def done_keys(parts: Path) -> set[str]:
    path = parts / "done.txt"
    if not path.exists():
        return set()
    return {line for line in path.read_text(encoding="utf-8").splitlines() if line}


def mark_done(parts: Path, key: str) -> None:
    # One short line appended and synced: a kill can at worst tear this line, which then
    # matches no key, and the unit is redone (its parts are simply replaced).
    with (parts / "done.txt").open("a", encoding="utf-8") as handle:
        handle.write(key.replace("\n", " ") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
