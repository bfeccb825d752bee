"""The `check` operation: read the inputs, audit them in batches, write the report, exit code.

A JSON report is streamed (references written as their batch is checked, memory flat in their
number, issue #15); a format that needs the whole report, or a progress bar that needs the total
first, reads everything before the audit.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from evidence_cli.errors import EXIT_OK
from evidence_cli.models import FailOn, worse_exit

if TYPE_CHECKING:
    from evidence_cli.formats.interface import Format, Rename, ReportStream
    from evidence_cli.formats.report import ReferenceEntry, SnapshotEntry, Summary
    from evidence_cli.models import Reference, ReferenceResult
    from evidence_cli.settings import Settings


def run_check(paths: list[str], settings: Settings, report_format: Format, output: Path | None,
              *, quiet: bool, verbose: bool) -> int:
    """Check every reference in `paths` and write the report; the run's exit code."""
    from evidence_cli.audit import AuditStats, audit_batches, batched, planned_lookups
    from evidence_cli.formats.report import build_report, report_head
    from evidence_cli.output import make_progress, progress_enabled
    from evidence_cli.report_output import write_report, write_streamed
    from evidence_cli.sources import InputStream

    snapshot_info: SnapshotEntry | None = None
    if settings.snapshot is not None:
        from evidence_cli.services.snapshot import describe

        # A bad folder fails here, before any work.
        snapshot_info = cast("SnapshotEntry", describe(settings.snapshot))
    inputs = InputStream(paths, settings.exclude_paths)
    files: Iterable[list[Reference]] = inputs.files()
    streamed = report_format.stream()
    show_progress = progress_enabled(quiet)
    total = 0
    if show_progress or streamed is None:
        # Read whole: the progress bar's total counts every lookup, and a report built whole
        # holds every reference anyway.
        references = [ref for file in files for ref in file]
        inputs.make_ids_unique(references)
        files = [references]
        total = sum(planned_lookups(batch, settings) for batch in batched(files))
        if not quiet and inputs.skipped:
            _print_skipped(inputs.skipped, verbose)
    stats = AuditStats()
    try:
        with make_progress(total, show_progress) as advance:
            batches = audit_batches(batched(files), settings, on_progress=lambda n: advance(n),
                                    stats=stats)
            if streamed is None:
                results = [result for batch in batches for result in batch]
            else:
                counted = _stream_into(streamed, batches, settings.fail_on)
        if not quiet and inputs.skipped and not (show_progress or streamed is None):
            _print_skipped(inputs.skipped, verbose)
        if streamed is None:
            report = build_report(results, snapshot=snapshot_info)
            write_report(output, report_format.format(report))
            report_format.after_write(report)
            from evidence_cli.models import exit_code

            summary, code = report["summary"], exit_code(results, settings.fail_on)
        else:
            summary, code = counted
            head = report_head(summary, snapshot_info)
            write_streamed(output, streamed, head, _renamer(inputs.duplicates()))
    finally:
        if streamed is not None:
            streamed.close()
    if not quiet:
        from evidence_cli.formats.text import summary_line

        sys.stderr.write(summary_line(summary) + "\n")
        if verbose:
            sys.stderr.write(
                f"Crossref: {stats.crossref_requests} requests, {stats.rate_limited} rate-limited "
                f"(429), {stats.retries} retries; PubMed: {stats.pubmed_requests} "
                f"requests; DataCite: {stats.datacite_requests} requests; "
                f"cache: {settings.cache_dir}\n"
            )
            for note in stats.notes:
                sys.stderr.write(f"Crossref: {note}\n")
    return code


def _stream_into(stream: ReportStream, batches: Iterable[list[ReferenceResult]],
                 fail_on: FailOn) -> tuple[Summary, int]:
    """Each batch's references into the stream; the summary and the exit code, counted."""
    from evidence_cli.models import exit_code, summarize

    summary = summarize([])
    code = EXIT_OK
    from evidence_cli.gc_pause import gc_paused

    for batch in batches:
        with gc_paused():  # as the audit of the batch: many small objects, no cycles
            entries = cast("list[ReferenceEntry]", [result.to_dict() for result in batch])
            stream.add(entries)
        for key, number in summarize(batch).items():
            summary[key] += number
        code = worse_exit(code, exit_code(batch, fail_on))
    return cast("Summary", summary), code


def _renamer(duplicates: frozenset[str]) -> Rename | None:
    """Gives a repeated key its location, as read_all does (None when no key repeats)."""
    if not duplicates:
        return None
    from evidence_cli.sources import unique_id

    def rename(entry: ReferenceEntry) -> None:
        if entry["id"] in duplicates:
            source = entry["source"]
            entry["id"] = unique_id(entry["id"], source["path"], source["line"])

    return rename


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
