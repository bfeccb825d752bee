"""The bulk audit of a snapshot's references as SQL, run by DuckDB or as this PySpark job.

Submit it unchanged to a cluster (it imports nothing from evidence_cli):

    spark-submit evidence_cli/snapshot/spark_job.py SNAPSHOT_DIR OUT_DIR

Both engines run the same statements (`STATEMENTS`: plain SQL that DuckDB and Spark SQL read
alike) over three views — works, refs, retractions — and write the same tables under OUT_DIR
(each a folder of Parquet files) plus report.md and summary.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# How precisely two dates can be compared: year (1) -> 4 characters of YYYY-MM-DD, month -> 7.
_LENGTH = ("CASE least(w.issued_precision, x.date_precision) WHEN 1 THEN 4 WHEN 2 THEN 7 "
           "ELSE 10 END")

# Views built in order; every later statement may use the earlier ones.
VIEWS: tuple[tuple[str, str], ...] = (
    ("prefixes", "SELECT DISTINCT prefix FROM works"),
    ("retracted_dois", "SELECT DISTINCT doi FROM retractions"),
    ("audited", """
        SELECT r.citing_doi, r.ordinal, r.cited_doi,
               coalesce(w.container, '(no journal)') AS citing_journal,
               coalesce(substr(w.issued, 1, 4), '(no year)') AS citing_year,
               CASE WHEN r.cited_doi IS NOT NULL AND c.doi IS NULL THEN 1 ELSE 0 END AS missing,
               CASE WHEN rx.doi IS NOT NULL THEN 1 ELSE 0 END AS retracted
        FROM refs r
        JOIN works w ON w.doi = r.citing_doi
        LEFT JOIN works c ON c.doi = r.cited_doi
        LEFT JOIN retracted_dois rx ON rx.doi = r.cited_doi"""),
)



def _per(column: str, name: str) -> str:
    """The per-journal or per-year summary of the audited references."""
    return f"""
        SELECT {column} AS {name}, count(*) AS refs,
               count(cited_doi) AS refs_with_doi,
               CAST(sum(missing) AS BIGINT) AS missing,
               CAST(sum(retracted) AS BIGINT) AS retracted
        FROM audited GROUP BY {column}"""


# Output tables: name -> query.
TABLES: tuple[tuple[str, str], ...] = (
    ("missing", """
        SELECT a.citing_doi, a.ordinal, a.cited_doi, a.citing_journal, a.citing_year,
               CASE WHEN a.cited_doi NOT LIKE '10.%/%' THEN 'malformed'
                    WHEN p.prefix IS NOT NULL THEN 'not-in-snapshot-crossref-prefix'
                    ELSE 'not-in-snapshot-other-prefix' END AS status
        FROM audited a
        LEFT JOIN prefixes p ON p.prefix = split_part(a.cited_doi, '/', 1)
        WHERE a.missing = 1"""),
    ("retracted", f"""
        SELECT r.citing_doi, r.ordinal, r.cited_doi, x.notice_doi, x.type AS notice_type,
               x.label AS notice_label, x.source AS notice_source, x.date AS notice_date,
               w.issued AS citing_date, coalesce(w.container, '(no journal)') AS citing_journal,
               CASE WHEN w.issued IS NULL OR x.date IS NULL THEN 'unknown'
                    WHEN substr(w.issued, 1, {_LENGTH}) < substr(x.date, 1, {_LENGTH})
                        THEN 'before'
                    WHEN substr(w.issued, 1, {_LENGTH}) > substr(x.date, 1, {_LENGTH})
                        THEN 'after'
                    ELSE 'same-period' END AS timing
        FROM refs r
        JOIN retractions x ON x.doi = r.cited_doi
        JOIN works w ON w.doi = r.citing_doi"""),
    ("by_journal", _per("citing_journal", "journal")),
    ("by_year", _per("citing_year", "year")),
)

SUMMARY = """
    SELECT count(*) AS refs, count(cited_doi) AS refs_with_doi,
           CAST(coalesce(sum(missing), 0) AS BIGINT) AS missing,
           CAST(coalesce(sum(retracted), 0) AS BIGINT) AS retracted,
           count(DISTINCT citing_doi) AS citing_works
    FROM audited"""
TIMING = "SELECT timing, count(*) AS n FROM retracted GROUP BY timing ORDER BY timing"
STATUS = "SELECT status, count(*) AS n FROM missing GROUP BY status ORDER BY status"
TOP_JOURNALS = """
    SELECT journal, retracted, missing, refs FROM by_journal
    WHERE retracted > 0 OR missing > 0
    ORDER BY retracted DESC, missing DESC, journal LIMIT 10"""

Query = Callable[[str], list[dict[str, Any]]]


def write_report(out: Path, engine: str, snapshot: str, query: Query) -> dict[str, Any]:
    """summary.json and report.md from the written tables (the same text for both engines)."""
    summary = query(SUMMARY)[0]
    summary["retracted_by_timing"] = {row["timing"]: row["n"] for row in query(TIMING)}
    summary["missing_by_status"] = {row["status"]: row["n"] for row in query(STATUS)}
    top = query(TOP_JOURNALS)
    manifest: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((Path(snapshot) / "manifest.json").read_text(encoding="utf-8"))
    date = manifest.get("updated_through") or manifest.get("date")
    result: dict[str, Any] = {
        "engine": engine, "snapshot": {"path": snapshot, "date": date,
                                       "source": manifest.get("source")},
        "summary": summary, "top_journals": top}
    lines = [
        "# Bulk reference audit", "",
        f"Snapshot: {snapshot} (data as of {date}; source: {manifest.get('source')}). "
        f"Engine: {engine}.", "",
        f"- references: {summary['refs']:,} in {summary['citing_works']:,} citing works; "
        f"{summary['refs_with_doi']:,} give a DOI",
        f"- cited DOIs not in the snapshot: {summary['missing']:,} "
        + ", ".join(f"{k}: {v:,}" for k, v in summary["missing_by_status"].items()),
        "  (a DOI under a prefix the snapshot holds is most likely unregistered or mistyped;",
        "  one under another prefix may be DataCite's or another agency's: check it online)",
        f"- citations of retracted works: {summary['retracted']:,} "
        + ", ".join(f"{k} the notice: {v:,}" if k in ("before", "after") else f"{k}: {v:,}"
                    for k, v in summary["retracted_by_timing"].items()),
        "", "Tables (Parquet): missing/, retracted/, by_journal/, by_year/.", "",
    ]
    if top:
        lines += ["| journal | retracted cited | DOIs not in snapshot | references |",
                  "| --- | ---: | ---: | ---: |"]
        for row in top:
            name = str(row["journal"]).replace("|", "\\|")
            lines.append(f"| {name} | {row['retracted']:,} | {row['missing']:,} | "
                         f"{row['refs']:,} |")
        lines.append("")
    _write_text(out / "summary.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    _write_text(out / "report.md", "\n".join(lines))
    return result


def _write_text(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def inputs(snapshot: Path, *, folders: bool = False) -> dict[str, str]:
    works, refs = snapshot / "works", snapshot / "references"
    if not refs.is_dir() and (snapshot / "references.parquet").is_file():
        refs = snapshot / "references.parquet"  # a snapshot of format v1: one file
    elif not folders:
        refs = refs / "*.parquet"
    return {"works": str(works if folders else works / "*.parquet"),
            "refs": str(refs),
            "retractions": str(snapshot / "retractions.parquet")}


def run_spark(snapshot: Path, out: Path, *, master: str | None = None) -> dict[str, Any]:
    """Run the audit on Spark (local mode unless spark-submit or `master` says otherwise)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("evidence-bulk-audit")
    # spark-submit names the master; run from the CLI, the job runs in local mode.
    if master:
        builder = builder.master(master)
    # Local mode has a core or two: a few shuffle partitions, not Spark's default of 200.
    local = (master or "").startswith("local")
    partitions = os.environ.get("EVIDENCE_SPARK_PARTITIONS", "2" if local else "200")
    spark = (builder.config("spark.sql.shuffle.partitions", partitions)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for name, path in inputs(snapshot, folders=True).items():
            spark.read.parquet(path).createOrReplaceTempView(name)
        for name, query in VIEWS:
            frame = spark.sql(query)
            # Every output table reads `audited`: compute it once.
            (frame.cache() if name == "audited" else frame).createOrReplaceTempView(name)
        out.mkdir(parents=True, exist_ok=True)
        for name, query in TABLES:
            spark.sql(query).coalesce(1).write.mode("overwrite").parquet(str(out / name))
            spark.read.parquet(str(out / name)).createOrReplaceTempView(name)

        def ask(sql: str) -> list[dict[str, Any]]:
            return [row.asDict() for row in spark.sql(sql).collect()]

        return write_report(out, "spark", str(snapshot), ask)
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.stderr.write("usage: spark-submit spark_job.py SNAPSHOT_DIR OUT_DIR\n")
        return 2
    result = run_spark(Path(args[0]), Path(args[1]))
    sys.stdout.write(json.dumps(result["summary"]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
