"""Build a snapshot folder from Crossref's public data file layout, streaming and resumable.

The steps, each its own module: reading the inputs into units (inputs.py), each unit's rows
(rows.py; fast.py decodes with msgspec) written to Parquet parts and marked done (parts.py),
the parts merged into the tables (merge.py) and the lookup and search index (index.py), and
the manifest (manifest.py). A killed build starts again where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError
from evidence_cli.snapshot.inputs import Unit, input_bytes, iter_units
from evidence_cli.snapshot.manifest import read_manifest, write_manifest
from evidence_cli.snapshot.merge import finalize
from evidence_cli.snapshot.parts import (
    IndexRows,
    done_keys,
    mark_done,
    part_path,
    read_file_unit,
    worker_start,
    write_unit,
)

if TYPE_CHECKING:
    from evidence_cli.snapshot.index import IndexWriter

__all__ = ["InputError", "build", "finalize", "input_bytes", "read_manifest", "write_manifest",
           "write_unit"]


@dataclass(slots=True)
class BuildStats:
    units: int = 0
    skipped_units: int = 0
    records: int = 0
    seconds: float = 0.0


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
    from evidence_cli.snapshot.index import IndexWriter

    parts = out / layout.PARTS
    parts.mkdir(parents=True, exist_ok=True)
    done = done_keys(parts)
    stats = BuildStats()
    started = time.perf_counter()
    progress = on_progress or (lambda size: None)
    # The lookup and search index takes each unit's works as soon as they are written, while
    # the workers read on (#18): the merge at the end then only finishes it.
    index = IndexWriter(out)
    try:
        if jobs <= 1:
            for unit in iter_units(sources):
                if unit.key in done:
                    stats.skipped_units += 1
                else:
                    data = unit.load() if unit.load is not None else None
                    count, rows = read_file_unit(parts, unit.key, unit.name, unit.path, data,
                                                 time.time_ns())
                    mark_done(parts, unit.key)
                    stats.records += count
                    stats.units += 1
                    index.add_rows(part_path(parts, "w", unit.key), rows)
                progress(unit.size)
        else:
            _build_parallel(sources, parts, done, stats, jobs, progress, index)
    except BaseException:
        index.abort()
        raise
    label = source or ", ".join(str(s) for s in sources)
    manifest = finalize(out, source=label, date=date, memory_limit=memory_limit, index=index)
    stats.seconds = time.perf_counter() - started
    manifest["build"] = {"units_read": stats.units, "units_skipped": stats.skipped_units,
                         "records_read": stats.records, "seconds": round(stats.seconds, 2)}
    write_manifest(out, manifest)
    return manifest


def _build_parallel(sources: list[Path], parts: Path, done: set[str], stats: BuildStats,
                    jobs: int, progress: Callable[[int], None], index: IndexWriter) -> None:
    """Units in worker processes, at most 2 x jobs in flight (memory stays bounded); each
    unit's works go into the index as it is done, in the order the units were given."""
    import collections
    import concurrent.futures as futures
    import multiprocessing

    pending: dict[futures.Future[tuple[int, IndexRows]], Unit] = {}
    # Units done, in the order submitted, for the index: the oldest first, so that it numbers
    # its rows the same whichever worker finishes first (a unit done early waits its turn).
    to_index: collections.deque[tuple[futures.Future[tuple[int, IndexRows]], Unit]] = (
        collections.deque())
    context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB

    def settle() -> None:
        finished, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
        for future in finished:
            unit = pending.pop(future)
            stats.records += future.result()[0]  # a failed unit raises here
            mark_done(parts, unit.key)
            stats.units += 1
            progress(unit.size)
        while to_index and to_index[0][0] not in pending:
            done_future, unit = to_index.popleft()
            index.add_rows(part_path(parts, "w", unit.key), done_future.result()[1])

    with futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                    initializer=worker_start) as pool:
        try:
            for unit in iter_units(sources):
                if unit.key in done:
                    stats.skipped_units += 1
                    progress(unit.size)
                    continue
                data = unit.load() if unit.load is not None else None
                # The worker writes the parts; this process marks the unit done when it returns.
                future = pool.submit(read_file_unit, parts, unit.key, unit.name, unit.path, data,
                                     time.time_ns())
                pending[future] = unit
                to_index.append((future, unit))
                if len(pending) >= 2 * jobs:
                    settle()
            while pending:
                settle()
        except BaseException:
            for future in pending:
                future.cancel()
            raise

