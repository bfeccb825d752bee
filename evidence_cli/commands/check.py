"""`evidence check`: audit the references in files against Crossref and the web."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from evidence_cli.commands import common
from evidence_cli.errors import UsageError
from evidence_cli.formats import FormatName
from evidence_cli.models import FailOn

if TYPE_CHECKING:
    from evidence_cli.formats.report import Report


@common.service_options()
def check(
    paths: list[str] = typer.Argument(
        ..., help="Bibliography files or folders (.bib .ris .json .md .html .docx .txt); "
        "- reads standard input."
    ),
    output_format: FormatName | None = typer.Option(
        None, "--format", "-f", help="Report format (default: table, or from --output's suffix)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report to this file (atomically)."
    ),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help="Exit 1 when findings reach this severity [default: error]."
    ),
    services: common.ServiceOptions = common.NOT_GIVEN,
    no_pubmed_search: bool = typer.Option(
        False, "--no-pubmed-search",
        help="Do not search PubMed for references Crossref's search could not match.",
    ),
    snapshot: Path | None = typer.Option(
        None, "--snapshot", help="A local Crossref snapshot folder (evidence snapshot build) to "
        "answer from first [env: EVIDENCE_SNAPSHOT]."),
    no_urls: bool = typer.Option(False, "--no-urls", help="Skip link checks."),
    urls_only: bool = typer.Option(False, "--urls-only", help="Check links only, not DOIs."),
    exclude: list[str] = typer.Option(
        [], "--exclude", help="Skip links matching this regular expression (repeatable)."
    ),
    exclude_path: list[str] = typer.Option(
        [], "--exclude-path", metavar="GLOB",
        help="In folders, skip files matching this glob, e.g. 'vendor/*' (repeatable)."
    ),
    url_timeout: float | None = typer.Option(
        None, "--url-timeout", help="Seconds to wait for a link [default: 20]."
    ),
    allow_private: bool | None = typer.Option(
        None, "--allow-private", help="Allow links to loopback and private addresses."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the report."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also list skipped files and print request figures."
    ),
) -> int:
    """Check references: DOI exists, cited fields match the registered record, not retracted."""
    from evidence_cli.audit import AuditStats, audit_references, build_report, planned_lookups
    from evidence_cli.formats import FormatOptions, build, format_for_output
    from evidence_cli.settings import resolve_settings
    from evidence_cli.sources import read_all

    if no_urls and urls_only:
        raise UsageError("--no-urls and --urls-only cannot be used together")
    for pattern in exclude:
        _check_regex(pattern)
    settings = resolve_settings({
        **services.given(), "snapshot": snapshot,
        "fail_on": fail_on, "url_timeout": url_timeout,
        "url_excludes": exclude or None, "allow_private": allow_private,
        "exclude_paths": exclude_path or None,
        "check_urls": False if no_urls else None, "check_dois": False if urls_only else None,
        "pubmed_search": False if no_pubmed_search else None,
    })
    for pattern in settings.url_excludes:
        _check_regex(pattern)
    if output_format is not None:
        chosen = output_format
    elif output is not None:
        implied = format_for_output(output)
        if implied is None:
            from evidence_cli.formats import SUFFIX_FORMATS

            known = " ".join(sorted(SUFFIX_FORMATS))
            raise UsageError(f"--output {output}: the suffix {output.suffix or '(none)'!s} names "
                             f"no report format; use one of {known}, or say which with --format")
        chosen = implied
    else:
        chosen = FormatName.table
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    report_format = build(chosen, FormatOptions(
        color=output is None and sys.stdout.isatty(),
        step_summary=Path(summary_file) if summary_file else None,
    ))

    snapshot_info = None
    if settings.snapshot is not None:
        from evidence_cli.services.snapshot import describe

        snapshot_info = describe(settings.snapshot)  # a bad folder fails here, before any work
    inputs = read_all(paths, settings.exclude_paths)
    references = inputs.references
    if not quiet and inputs.skipped:
        _print_skipped(inputs.skipped, verbose)
    stats = AuditStats()
    from evidence_cli.output import make_progress, progress_enabled

    show_progress = progress_enabled(quiet)
    with make_progress(planned_lookups(references, settings), show_progress) as advance:
        results = audit_references(references, settings, on_progress=lambda n: advance(n),
                                   stats=stats)
    # build_report writes the schema Report describes (its parts are built as plain dicts).
    report = cast("Report", build_report(results, snapshot=snapshot_info))
    text = report_format.format(report)
    if output is not None:
        from evidence_cli.atomic import write_atomic
        from evidence_cli.errors import InputError

        try:
            write_atomic(output, text)
        except OSError as error:
            raise InputError(str(output), f"cannot write the report: {error.strerror}; check "
                             "that the folder exists and is writable") from None
    else:
        from evidence_cli.output import write_trusted

        write_trusted(sys.stdout, text)
        sys.stdout.flush()
    report_format.after_write(report)
    if not quiet:
        from evidence_cli.formats.text import summary_line

        sys.stderr.write(summary_line(report["summary"]) + "\n")
        if verbose:
            sys.stderr.write(
                f"Crossref: {stats.crossref_requests} requests, {stats.rate_limited} rate-limited "
                f"(429), {stats.retries} retries; PubMed: {stats.pubmed_requests} "
                f"requests; DataCite: {stats.datacite_requests} requests; "
                f"cache: {settings.cache_dir}\n"
            )
            for note in stats.notes:
                sys.stderr.write(f"Crossref: {note}\n")
    from evidence_cli.models import exit_code

    return exit_code(results, settings.fail_on)


def _print_skipped(skipped: list[tuple[str, str]], verbose: bool) -> None:
    """One line saying what a folder run left out and why; -v lists every file."""
    from collections import Counter

    from evidence_cli.formats import inert

    reasons = Counter(reason for _, reason in skipped)
    counts = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    hint = "" if verbose else " (-v lists them)"
    noun = "file" if len(skipped) == 1 else "files"
    sys.stderr.write(inert(f"Skipped {len(skipped)} {noun}: {counts}{hint}") + "\n")
    if verbose:
        for path, reason in skipped:
            sys.stderr.write(inert(f"  skipped {path}: {reason}") + "\n")


def _check_regex(pattern: str) -> None:
    import re

    try:
        re.compile(pattern)
    except re.error as error:
        raise UsageError(f"--exclude {pattern!r} is not a valid regular expression: {error}") \
            from None


def register(app: typer.Typer) -> None:
    app.command("check")(check)
