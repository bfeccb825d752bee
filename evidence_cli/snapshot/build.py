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
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError
from evidence_cli.snapshot.inputs import Unit, input_bytes, iter_units
from evidence_cli.snapshot.manifest import read_manifest, write_manifest
from evidence_cli.snapshot.merge import finalize
from evidence_cli.snapshot.parts import done_keys, mark_done, write_file_unit, write_unit

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
    parts = out / layout.PARTS
    parts.mkdir(parents=True, exist_ok=True)
    done = done_keys(parts)
    stats = BuildStats()
    started = time.perf_counter()
    progress = on_progress or (lambda size: None)
    if jobs <= 1:
        for unit in iter_units(sources):
            if unit.key in done:
                stats.skipped_units += 1
            else:
                data = unit.load() if unit.load is not None else None
                stats.records += write_file_unit(parts, unit.key, unit.name, unit.path, data,
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
            mark_done(parts, unit.key)
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
                # The worker writes the parts; this process marks the unit done when it returns.
                pending[pool.submit(write_file_unit, parts, unit.key, unit.name, unit.path, data,
                                    time.time_ns(), mark=False)] = unit
                if len(pending) >= 2 * jobs:
                    settle(False)
            while pending:
                settle(False)
        except BaseException:
            for future in pending:
                future.cancel()
            raise

