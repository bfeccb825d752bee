"""`evidence fix FILE`: show (or, with --write, apply) the corrections Crossref justifies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evidence_cli.commands import common
from evidence_cli.errors import EXIT_OK, InputError, UsageError

if TYPE_CHECKING:
    from evidence_cli.fix import EntryChanges

FIXABLE_KINDS = ("bibtex", "ris", "csl-json")


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
    crossref_url: str | None = common.CROSSREF_URL,
    mailto: str | None = common.MAILTO,
    ncbi_url: str | None = common.NCBI_URL,
    ncbi_api_key: str | None = common.NCBI_API_KEY,
    datacite_url: str | None = common.DATACITE_URL,
    cache_dir: Path | None = common.CACHE_DIR,
    offline: bool | None = common.OFFLINE,
    refresh: bool | None = common.REFRESH,
    timeout: float | None = common.TIMEOUT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the diff."),
) -> int:
    """Add confidently matched DOIs and correct fields that disagree with Crossref.

    Prints a unified diff; --write applies it. Entries whose match is ambiguous or below the
    threshold are never touched, and fields this tool does not know are kept as written.
    """
    from evidence_cli.audit import audit_references
    from evidence_cli.config import resolve_settings
    from evidence_cli.fix import EDITORS, EditError, plan, unified_diff
    from evidence_cli.sources import SUFFIX_READERS, _read_bytes, decode_text, read_one, sniff

    data = _read_bytes(path)
    kind = SUFFIX_READERS.get(path.suffix.lower()) or sniff(data)
    if kind not in FIXABLE_KINDS:
        raise UsageError(f"{path}: fix edits BibTeX, RIS and CSL-JSON files, not {kind}")
    settings = resolve_settings({
        "crossref_url": crossref_url, "mailto": mailto, "cache_dir": cache_dir,
        "offline": offline, "refresh": refresh, "timeout": timeout,
        "match_threshold": threshold, "check_urls": False,
        "ncbi_url": ncbi_url, "ncbi_api_key": ncbi_api_key, "datacite_url": datacite_url,
    })
    text = decode_text(data, str(path))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Readable for checking, but the edits and the backup are written as UTF-8.
        raise UsageError(f"{path}: fix edits UTF-8 files; this one is UTF-16 (save it as UTF-8)")
    references = read_one(data, str(path), kind)
    results = audit_references(references, settings)
    changes = plan(results, prefer_published=prefer_published)
    try:
        new_text = EDITORS[kind](text, changes)
    except EditError as error:
        raise InputError(str(path), f"cannot be edited safely: {error}") from None
    diff = unified_diff(text, new_text, str(path))
    sys.stdout.write(diff)
    if not quiet:
        _report(changes, str(path), bool(diff), write)
    if write and diff:
        from evidence_cli.atomic import write_atomic

        bom = "\ufeff" if data.startswith(b"\xef\xbb\xbf") else ""
        backup = path.with_name(path.name + ".bak")
        # The backup (the original bytes: decode_text proved them UTF-8) is written first: if
        # anything fails after it, the original is still there.
        write_atomic(backup, data.decode("utf-8"))
        write_atomic(path, bom + new_text)
    return EXIT_OK


def _report(changes: list[EntryChanges], path: str, changed: bool, write: bool) -> None:
    lines: list[str] = []
    edited = [c for c in changes if c.values]
    for change in changes:
        ref = change.result.reference
        for note in change.left:
            lines.append(f"{ref.id} ({path}:{ref.source.line}): not changed: {note}")
    if not changed:
        lines.append(f"Nothing to change in {path}.")
    elif write:
        lines.append(f"{len(edited)} entries changed in {path}; the original is in {path}.bak.")
    else:
        lines.append(f"{len(edited)} entries would change; run with --write to apply.")
    sys.stderr.write("\n".join(lines) + "\n")


def register(app: typer.Typer) -> None:
    app.command("fix")(fix)
