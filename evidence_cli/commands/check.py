"""`evidence check`: audit the references in files against Crossref and the web."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evidence_cli.commands import common
from evidence_cli.errors import UsageError
from evidence_cli.formats import FormatName
from evidence_cli.models import FailOn

if TYPE_CHECKING:

    pass


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
    from evidence_cli.formats import FormatOptions, build, format_for_output
    from evidence_cli.settings import resolve_settings

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

    from evidence_cli.checking import run_check

    return run_check(paths, settings, report_format, output, quiet=quiet, verbose=verbose)


def _check_regex(pattern: str) -> None:
    import re

    try:
        re.compile(pattern)
    except re.error as error:
        raise UsageError(f"--exclude {pattern!r} is not a valid regular expression: {error}") \
            from None


def register(app: typer.Typer) -> None:
    app.command("check")(check)
