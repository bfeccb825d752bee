"""`evidence fix FILE`: show (or, with --write, apply) the corrections Crossref justifies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evidence_cli.commands import common
from evidence_cli.errors import EXIT_OK, EXIT_UNVERIFIABLE

if TYPE_CHECKING:
    from evidence_cli.fixing.plan import EntryChanges

@common.service_options()
def fix(
    path: Path = typer.Argument(..., help="A BibTeX (.bib), RIS (.ris) or CSL-JSON (.json) file."),
    write: bool = typer.Option(
        False, "--write", "-w",
        help="Apply the changes (atomically; the original is kept as FILE.bak).",
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", min=0.5, max=1.0,
        help="Confidence needed to add a DOI found by search (default 0.9, or the "
        "match-threshold setting).",
    ),
    prefer_published: bool = typer.Option(
        False, "--prefer-published",
        help="Replace a cited preprint's DOI with its published version's, when its record "
        "names one (published-version-available).",
    ),
    services: common.ServiceOptions = common.NOT_GIVEN,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the diff."),
) -> int:
    """Add confidently matched DOIs and correct fields that disagree with Crossref.

    Prints a unified diff; --write applies it. Entries whose match is ambiguous or below the
    threshold are never touched, and fields this tool does not know are kept as written.
    """
    from evidence_cli.fixing.files import plan_fix, read_source, write_fix
    from evidence_cli.settings import resolve_settings

    source = read_source(path, write=write)
    settings = resolve_settings({**services.given(), "match_threshold": threshold,
                                 "check_urls": False})
    fixed = plan_fix(source, settings, prefer_published=prefer_published)
    sys.stdout.write(fixed.diff)
    if not quiet:
        _report(fixed.changes, str(path), bool(fixed.diff), write, fixed.unchecked)
    if write and fixed.diff:
        write_fix(source, fixed)
    # Unchecked entries make the run unverifiable (exit 4, like check).
    return EXIT_UNVERIFIABLE if fixed.unchecked else EXIT_OK


def _report(changes: list[EntryChanges], path: str, changed: bool, write: bool,
            unchecked: int = 0) -> None:
    from evidence_cli.formats import count

    lines: list[str] = []
    edited = [c for c in changes if c.values]
    for change in changes:
        ref = change.result.reference
        for note in change.left:
            lines.append(f"{ref.id} ({path}:{ref.source.line}): not changed: {note}")
    if unchecked:
        lines.append(f"Could not check {count(unchecked, 'entry', 'entries')} in {path} "
                     "(Crossref could not be asked, or --offline found no answer): they were "
                     "not changed.")
    if not changed:
        among = " among the entries checked" if unchecked else ""
        lines.append(f"Nothing to change in {path}{among}.")
    elif write:
        lines.append(f"{count(len(edited), 'entry', 'entries')} changed in {path}; the original "
                     f"is in {path}.bak.")
    else:
        lines.append(f"{count(len(edited), 'entry', 'entries')} would change; run with --write "
                     "to apply.")
    sys.stderr.write("\n".join(lines) + "\n")


def register(app: typer.Typer) -> None:
    app.command("fix")(fix)
