"""`evidence snapshot build|update` and `evidence bulk`: a local Crossref snapshot and its audit."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path

import typer

from evidence_cli.commands import common

snapshot_app = typer.Typer(
    help="Build or update a local Crossref snapshot (Parquet + a search index) from the public "
    "data file, for audits past the API's rate limit.",
    no_args_is_help=True, rich_markup_mode=None,
)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@snapshot_app.command("build")
def build(
    sources: list[Path] = typer.Argument(
        ..., help="Folders or tar files of *.json.gz / *.jsonl.gz (Crossref's public data file), "
        "or JSONL files of work records."),
    out: Path = typer.Option(..., "--out", help="The snapshot folder (created; a build killed "
                             "half-way continues where it stopped)."),
    source: str | None = typer.Option(None, "--source", help="What the manifest calls the "
                                      "source [default: the input paths]."),
    date: str | None = typer.Option(None, "--date", help="The day the data are as of, "
                                    "YYYY-MM-DD [default: the newest deposit date seen]."),
    memory_limit: str = typer.Option("1GB", "--memory-limit",
                                     help="DuckDB's memory while merging (it spills past it)."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes "
                                    "reading input files [default: the CPU count, at most 4]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Read the data file into works, references, retractions and a search index."""
    from evidence_cli.output import make_progress, progress_enabled
    from evidence_cli.snapshot.build import build as run_build
    from evidence_cli.snapshot.build import input_bytes

    _check_date(date)
    with make_progress(input_bytes(sources), progress_enabled(quiet),
                       "Reading the data file (bytes)") as advance:
        manifest = run_build(sources, out, source=source, date=date,
                             memory_limit=memory_limit, on_progress=lambda n: advance(n),
                             jobs=jobs or min(4, os.cpu_count() or 1))
    if not quiet:
        counts = manifest["counts"]
        sys.stderr.write(
            f"Snapshot {out}: {counts['works']:,} works, {counts['references']:,} references, "
            f"{counts['retraction_notices']:,} retraction notices; data as of "
            f"{manifest['date']}; {manifest['build']['seconds']:.1f} s\n")


@snapshot_app.command("update")
@common.service_options("crossref_url", "mailto", "cache_dir", "timeout")
def update(
    folder: Path = typer.Argument(..., help="The snapshot folder."),
    since: str | None = typer.Option(None, "--since", help="Fetch works changed since this "
                                     "day [default: the snapshot's date]."),
    services: common.ServiceOptions = common.NOT_GIVEN,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary line."),
) -> None:
    """Add the works changed since the snapshot's date, through the API (from-update-date)."""
    from evidence_cli.settings import resolve_settings
    from evidence_cli.snapshot.update import update as run_update

    _check_date(since)
    settings = resolve_settings(services.given())
    manifest = run_update(folder, settings, since=since)
    if not quiet:
        last = manifest["last_update"]
        sys.stderr.write(f"Snapshot {folder}: {last['records_fetched']:,} works changed since "
                         f"{last['since']} added; {manifest['counts']['works']:,} works; "
                         f"up to date as of {manifest['updated_through']}\n")


def bulk(
    folder: Path = typer.Argument(..., help="The snapshot folder."),
    out: Path = typer.Option(..., "--out", help="Folder for the result tables and report.md."),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb (embedded) or spark "
                                  "(PySpark in local mode; the same job runs on a cluster with "
                                  "spark-submit evidence_cli/snapshot/spark_job.py)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the report."),
) -> None:
    """Audit every reference in a snapshot: unknown cited DOIs, citations of retracted works."""
    from evidence_cli.snapshot.bulk import run

    result = run(folder, out, engine.value)
    if not quiet:
        sys.stdout.write((out / "report.md").read_text(encoding="utf-8"))
        sys.stderr.write(json.dumps(result["summary"]) + "\n")


def _check_date(value: str | None) -> None:
    import re

    from evidence_cli.errors import UsageError

    if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise UsageError(f"expected a date YYYY-MM-DD, got {value!r}")


def register(app: typer.Typer) -> None:
    app.add_typer(snapshot_app, name="snapshot")
    app.command("bulk")(bulk)
