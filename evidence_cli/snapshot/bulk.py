"""`evidence bulk`: audit every reference of a snapshot with DuckDB (default) or Spark."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from evidence_cli import snapshot as layout
from evidence_cli.errors import InputError, UsageError
from evidence_cli.snapshot import spark_job

ENGINES = ("duckdb", "spark")


def run_duckdb(snapshot: Path, out: Path, *, memory_limit: str = "1GB") -> dict[str, Any]:
    import duckdb

    conn = duckdb.connect(":memory:")
    try:
        conn.execute(f"SET memory_limit = '{memory_limit}'")
        for name, path in spark_job.inputs(snapshot).items():
            escaped = path.replace("'", "''")
            conn.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{escaped}')")
        for name, query in spark_job.VIEWS:
            conn.execute(f"CREATE VIEW {name} AS {query}")
        out.mkdir(parents=True, exist_ok=True)
        for name, query in spark_job.TABLES:
            folder = out / name
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            target = str(folder / "part-0.parquet").replace("'", "''")
            conn.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            # The report reads the written tables, as the Spark job does.
            conn.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{target}')")

        def ask(sql: str) -> list[dict[str, Any]]:
            cursor = conn.execute(sql)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

        return spark_job.write_report(out, "duckdb", str(snapshot), ask)
    finally:
        conn.close()


def run(snapshot: Path, out: Path, engine: str = "duckdb") -> dict[str, Any]:
    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}")
    for name in (layout.MANIFEST, layout.REFERENCES, layout.RETRACTIONS, "works"):
        if not (snapshot / name).exists() and not (
                name == layout.REFERENCES and (snapshot / layout.REFERENCES_V1).exists()):
            raise InputError(str(snapshot), f"not a snapshot folder (no {name}); build one with "
                             "`evidence snapshot build`")
    if engine == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise UsageError("--engine spark needs PySpark (pip install 'evidence-cli[spark]') "
                             "and Java 17") from None
        return spark_job.run_spark(snapshot, out, master="local[2]")
    return run_duckdb(snapshot, out)
